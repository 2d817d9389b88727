/*
 * explore.c - the walk: from the entry, one instruction at a time, each
 * checked against the current abstract state and applied to it; at a
 * conditional jump whose outcome is unknown, one edge is pushed for later
 * and the other followed (the fall-through first, as the kernel does, so
 * that the first error found is the kernel's).  A path ends at the main
 * function's exit or where a checkpoint already covers its state; then
 * the most recent pending edge is taken up.  The kernel's limits apply:
 * 1,000,000 instructions processed, 8,192 pending edges.
 */
#include "verifier.h"

#include <stdlib.h>

#include "../helpers/helper_ids.h"
#include "../util/log.h"
#include "ctx.h"

/* Record that the path reached insn from prev_insn non-sequentially, or a stack access. */
int push_hist(struct venv *env, struct vstate *st, uint32_t flags)
{
	struct vhist *h;

	/* a stack access at the instruction just recorded as a jump target shares its entry */
	if (flags && st->hist_end > st->hist_start &&
	    env->hist[st->hist_end - 1].idx == env->insn_idx && env->hist_fresh) {
		env->hist[st->hist_end - 1].flags |= flags;
		return 0;
	}
	if (st->hist_end == env->hist_cap) {
		uint32_t cap = env->hist_cap ? env->hist_cap * 2 : 256;
		struct vhist *n = realloc(env->hist, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		env->hist = n;
		env->hist_cap = cap;
	}
	h = &env->hist[st->hist_end++];
	h->idx = env->insn_idx;
	h->prev_idx = env->prev_insn_idx;
	h->flags = flags;
	h->linked = 0;
	env->hist_fresh = true;
	return 0;
}

static int path_add(struct venv *env, uint32_t idx)
{
	if (env->npath && env->path[env->npath - 1].start != PATH_LOOP &&
	    env->path[env->npath - 1].end + 1 == idx) {
		env->path[env->npath - 1].end = idx;
		return 0;
	}
	return path_add_seg(env, idx, idx);
}

int path_add_seg(struct venv *env, uint32_t start, uint32_t end)
{
	if (env->npath == env->path_cap) {
		uint32_t cap = env->path_cap ? env->path_cap * 2 : 64;
		struct vseg *n = realloc(env->path, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		env->path = n;
		env->path_cap = cap;
	}
	env->path[env->npath++] = (struct vseg){ start, end };
	return 0;
}

/* The checks of the main function's exit: locks, references, return value. */
static int check_main_exit(struct venv *env)
{
	int err;

	if (env->cur->lock_id) /* Linux 6.13+'s check_resource_leak wording */
		return verr(env, -EINVAL, "BPF_EXIT instruction in main prog cannot be used inside "
					  "bpf_spin_lock-ed region\n");
	err = check_reference_leak(env, false);
	if (err) /* Linux 6.13+'s check_resource_leak says where */
		return verr(env, err, "BPF_EXIT instruction in main prog would lead to reference leak\n");
	return check_return_code(env, 0, "R0");
}

/* One call instruction: a helper, a function of the program, or what the kernel lacks. */
static int do_call(struct venv *env, const struct bpfvm_insn *insn, enum isa_op op)
{
	int err;

	if (env->cur->lock_id &&
	    (op != ISA_OP_CALL_HELPER || insn->imm != HELPER_ID_spin_unlock))
		return verr(env, -EINVAL, "function calls are not allowed while holding a lock\n");
	if (op == ISA_OP_CALL_LOCAL)
		err = check_func_call(env, insn, &env->insn_idx);
	else if (op == ISA_OP_CALL_KFUNC && !insn->imm)
		err = 0; /* a placeholder: it changes nothing, see check_placeholder_calls */
	else if (op == ISA_OP_CALL_KFUNC)
		err = verr(env, -EINVAL, "calling kernel function %d is not supported: "
					 "kernel functions exist only inside the kernel\n", insn->imm);
	else
		err = check_helper_call(env, insn, &env->insn_idx);
	mark_scratched(env, 0);
	return err;
}

/* What one instruction does to the state; 1 when the path ends here. */
static int step(struct venv *env, const struct bpfvm_insn *insn, enum isa_op op)
{
	int err;

	switch (isa_ops[op].form) {
	case F_ALU_K:
	case F_ALU_X:
	case F_NEG:
	case F_END:
		return check_alu(env, insn, op);
	case F_LDX:
		return check_ldx(env, insn, op);
	case F_STX:
		return check_stx(env, insn);
	case F_ST:
		return check_st(env, insn);
	case F_ATOMIC:
		return check_atomic(env, insn, op);
	case F_LDDW:
		err = check_ld_imm(env, insn);
		env->insn_idx++;
		return err;
	case F_LDABS:
	case F_LDIND:
		return check_ld_abs(env, insn, op);
	case F_JA:
		env->jmps_processed++;
		env->insn_idx += insn->off;
		return 0;
	case F_JA32:
		env->jmps_processed++;
		env->insn_idx += insn->imm;
		return 0;
	case F_JCOND_K:
	case F_JCOND_X:
	case F_MAY_GOTO:
		env->jmps_processed++;
		return check_cond_jmp(env, insn, op, &env->insn_idx);
	case F_CALL:
	case F_CALLX:
		env->jmps_processed++;
		err = do_call(env, insn, op);
		/* a call that transferred control has set insn_idx to the target - 1 */
		return err;
	case F_EXIT:
		env->jmps_processed++;
		if (env->cur->curframe) {
			/* a lock may be held across a function's return; references not */
			err = check_reference_leak(env, false);
			return err ? err : prepare_func_exit(env, &env->insn_idx);
		}
		err = check_main_exit(env);
		return err ? err : 1;
	default:
		return verr(env, -EINVAL, "unknown opcode %02x\n", insn->code);
	}
}

static void log_before_insn(struct venv *env, bool *print_state)
{
	if (env->log_level >= 2 && *print_state) {
		vlog(env, "\nfrom %u to %u:", env->prev_insn_idx, env->insn_idx);
		vlog_frame(env, cur_frame(env->cur), true);
		*print_state = false;
	}
	if (env->log_level >= 1)
		vlog_insn(env, env->insn_idx);
}

/* The path ended: finish its branch counts and continue with a pending edge. */
static int next_path(struct venv *env, bool *print_state)
{
	int err;

	update_branch_counts(env, env->cur);
	loop_forget(env);
	err = pop_branch(env, &env->insn_idx, &env->prev_insn_idx);
	if (err)
		return err; /* -ENOENT: every path is done */
	*print_state = true;
	return 0;
}

/* A checkpoint covers the path at idx: say so and continue with a pending one. */
static int path_covered(struct venv *env, uint32_t idx, bool *print_state)
{
	if (env->log_level >= 1) {
		if (*print_state)
			vlog(env, "\nfrom %u to %u: safe\n", env->prev_insn_idx, idx);
		else
			vlog(env, "%u: safe\n", idx);
	}
	return next_path(env, print_state);
}

/*
 * A kernel-function call with imm 0 is a placeholder the kernel lets pass
 * the walk, to be removed with dead code; one that a path reaches is still
 * there when the kernel fixes up calls, after the walk, and refused then.
 */
int check_placeholder_calls(struct venv *env)
{
	for (uint32_t i = 0; i < env->cnt; i++) {
		if (env->ops[i] == ISA_OP_CALL_KFUNC && !env->insns[i].imm && env->aux[i].seen) {
			env->err_insn = (int)i;
			return verr(env, -EINVAL,
				    "invalid kernel function call not eliminated in verifier pass\n");
		}
	}
	return 0;
}

int explore(struct venv *env)
{
	bool print_state = false;
	int err;

	env->prev_insn_idx = UINT32_MAX;
	loop_forget(env);
	if (env->log_level >= 2) {
		vlog(env, "%u:", env->insn_idx);
		vlog_frame(env, cur_frame(env->cur), true);
	}
	for (;;) {
		uint32_t idx = env->insn_idx;
		const struct bpfvm_insn *insn;
		enum isa_op op;

		if (idx >= env->cnt)
			return verr(env, -EFAULT, "invalid insn idx %u insn_cnt %u\n", idx, env->cnt);
		insn = &env->insns[idx];
		op = env->ops[idx];
		if (++env->insn_processed > V_INSN_LIMIT)
			return verr(env, -E2BIG, "BPF program is too large. Processed %llu insn\n",
				    (unsigned long long)env->insn_processed);
		env->cur->last_insn = env->prev_insn_idx;
		env->hist_fresh = false;
		err = env->aux[idx].prune_point ? is_state_visited(env, idx) : 0;
		if (!err && env->aux[idx].jmp_point)
			err = push_hist(env, env->cur, 0);
		if (!err)
			err = loop_before_insn(env, idx);
		if (err == 1) {
			env->aux[idx].pruned = 1;
			err = path_covered(env, idx, &print_state);
			if (err)
				return err == -ENOENT ? 0 : err;
			continue;
		}
		if (err)
			return err;
		log_before_insn(env, &print_state);
		env->aux[idx].seen = 1;
		if ((err = path_add(env, idx)))
			return err;
		env->prev_insn_idx = idx;
		err = step(env, insn, op);
		if (err < 0)
			return err;
		if (env->log_level >= 2 && err != 1)
			vlog_insn_state(env); /* not after an exit, as the kernel */
		if (err == 1) {
			err = next_path(env, &print_state);
			if (err)
				return err == -ENOENT ? 0 : err;
			continue;
		}
		env->insn_idx++;
	}
}
