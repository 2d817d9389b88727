/*
 * cfg.c - the program as a graph, before and after the walk.  Before: a
 * depth-first search from the entry, following jumps, calls into
 * functions and references to callbacks, finds instructions no path
 * reaches ("unreachable insn"), and marks where the walk should consider
 * checkpoints: jump targets, instructions after calls, conditional jumps
 * and calls of callbacks (the kernel's prune and jump points).  Loops are
 * allowed, as for a privileged program in the kernel; the walk proves them
 * bounded.  After: the stack of every call chain, with each function's
 * exact depth, within the kernel's 512 bytes and 8 frames.
 */
#include "verifier.h"

#include <stdlib.h>

#include "helper_protos.h"

enum { DISCOVERED = 0x10, EXPLORED = 0x20, FALLTHROUGH = 1, BRANCH = 2 };
enum { DONE, KEEP };

struct cfg_walk {
	uint32_t *state;
	uint32_t *stack;
	uint32_t sp;
};

static void mark_jump_target(struct venv *env, uint32_t w)
{
	env->aux[w].prune_point = 1;
	env->aux[w].jmp_point = 1;
}

static int push_insn(struct venv *env, struct cfg_walk *c, uint32_t t, int64_t w, int e)
{
	if (e == FALLTHROUGH && c->state[t] >= (DISCOVERED | FALLTHROUGH))
		return DONE;
	if (e == BRANCH && c->state[t] >= (DISCOVERED | BRANCH))
		return DONE;
	if (w < 0 || w >= env->cnt)
		return verr(env, -EINVAL, "jump out of range from insn %u to %lld\n", t, (long long)w);
	if (e == BRANCH)
		mark_jump_target(env, (uint32_t)w);
	if (c->state[w] == 0) {
		c->state[t] = DISCOVERED | (uint32_t)e;
		c->state[w] = DISCOVERED;
		c->stack[c->sp++] = (uint32_t)w;
		return KEEP;
	}
	if ((c->state[w] & 0xf0) == DISCOVERED) {
		env->aux[w].loop_head = 1; /* a loop: allowed, the walk bounds it */
		return DONE;
	}
	c->state[t] = DISCOVERED | (uint32_t)e;
	return DONE;
}

static int visit_call(struct venv *env, struct cfg_walk *c, uint32_t t, bool visit_callee)
{
	uint32_t sz = env->ops[t] == ISA_OP_LDDW ? 2 : 1;
	int ret = push_insn(env, c, t, t + sz, FALLTHROUGH);

	if (ret)
		return ret;
	env->aux[t + sz].prune_point = 1;
	env->aux[t + sz].jmp_point = 1; /* a return from a function lands here */
	if (!visit_callee)
		return 0;
	env->aux[t].prune_point = 1;
	return push_insn(env, c, t, (int64_t)t + env->insns[t].imm + 1, BRANCH);
}

static bool calls_sync_callback(const struct bpfvm_insn *insn, enum isa_op op)
{
	return op == ISA_OP_CALL_HELPER && helper_has(insn->imm, HF_SYNC_CALLBACK);
}

static int visit_insn(struct venv *env, struct cfg_walk *c, uint32_t t)
{
	const struct bpfvm_insn *insn = &env->insns[t];
	enum isa_op op = env->ops[t];
	int64_t target;
	int ret;

	if (op == ISA_OP_LDDW && insn->src_reg == BPFVM_PSEUDO_FUNC)
		return visit_call(env, c, t, true);
	switch (isa_ops[op].form) {
	case F_EXIT:
		return DONE;
	case F_CALL:
	case F_CALLX:
		if (calls_sync_callback(insn, op)) {
			env->aux[t].calls_callback = 1;
			env->aux[t].force_checkpoint = 1;
			env->aux[t].prune_point = 1;
			env->aux[t].jmp_point = 1;
		}
		if (op == ISA_OP_CALL_HELPER && helper_has(insn->imm, HF_ASYNC_CALLBACK))
			env->aux[t].prune_point = 1;
		return visit_call(env, c, t, op == ISA_OP_CALL_LOCAL);
	case F_JA:
	case F_JA32:
		target = isa_jump_target(insn, t);
		ret = push_insn(env, c, t, target, FALLTHROUGH);
		if (ret)
			return ret;
		mark_jump_target(env, (uint32_t)target);
		return ret;
	case F_JCOND_K:
	case F_JCOND_X:
	case F_MAY_GOTO:
		env->aux[t].prune_point = 1;
		if (op == ISA_OP_MAY_GOTO)
			env->aux[t].force_checkpoint = 1;
		ret = push_insn(env, c, t, t + 1, FALLTHROUGH);
		if (ret)
			return ret;
		return push_insn(env, c, t, isa_jump_target(insn, t), BRANCH);
	default:
		return push_insn(env, c, t, t + (op == ISA_OP_LDDW ? 2 : 1), FALLTHROUGH);
	}
}

/*
 * LD_ABS and tail calls leave a sub-program with an int: the kernel
 * refuses them in sub-programs without BTF function info, and in those
 * whose BTF says they return something else.
 */
static int check_abnormal_return(struct venv *env)
{
	for (uint32_t f = 1; f < env->prog->nfuncs; f++) {
		const struct prog_func *fn = &env->prog->funcs[f];
		bool btf = env->func_info;

		if (btf && (!env->func_returns_scalar ||
			    env->func_returns_scalar(env->source_ctx, fn->start) != 0))
			continue;

		for (uint32_t i = fn->start; i < fn->end; i++) {
			enum isa_op op = env->ops[i];

			if (op == ISA_OP_INVALID)
				continue;
			if ((isa_ops[op].form == F_LDABS || isa_ops[op].form == F_LDIND) && btf)
				return verr(env, -EINVAL, "LD_ABS is only allowed in functions that return "
							  "'int'.\n");
			if (isa_ops[op].form == F_LDABS || isa_ops[op].form == F_LDIND)
				return verr(env, -EINVAL, "LD_ABS is not allowed in subprogs without BTF\n");
			if (op == ISA_OP_CALL_HELPER && env->insns[i].imm == HELPER_ID_tail_call && btf)
				return verr(env, -EINVAL, "tail_call is only allowed in functions that "
							  "return 'int'.\n");
			if (op == ISA_OP_CALL_HELPER && env->insns[i].imm == HELPER_ID_tail_call)
				return verr(env, -EINVAL, "tail_call is not allowed in subprogs without BTF\n");
		}
	}
	return 0;
}

/*
 * callx is RFC 9669's, not Linux's: the kernel's opcode table refuses it
 * while it resolves the program's lddw instructions, before any walk (so
 * the statistics line says 0 instructions processed).
 */
static int check_kernel_opcodes(struct venv *env)
{
	for (uint32_t i = 0; i < env->cnt; i++) {
		if (env->ops[i] == ISA_OP_CALLX) {
			env->err_insn = (int)i;
			return verr(env, -EINVAL, "unknown opcode %02x\n", env->insns[i].code);
		}
	}
	return 0;
}

int cfg_check(struct venv *env)
{
	struct cfg_walk c = { calloc(env->cnt, sizeof(uint32_t)), calloc(env->cnt, sizeof(uint32_t)), 0 };
	int err = 0;

	if (!c.state || !c.stack) {
		err = -ENOMEM;
		goto out;
	}
	if ((err = check_kernel_opcodes(env)) || (err = check_abnormal_return(env)))
		goto out;
	c.state[0] = DISCOVERED;
	c.stack[c.sp++] = 0;
	while (c.sp && !err) {
		uint32_t t = c.stack[c.sp - 1];
		int ret = visit_insn(env, &c, t);

		if (ret < 0)
			err = ret;
		else if (ret == DONE)
			c.state[t] = EXPLORED, c.sp--;
	}
	for (uint32_t i = 0; !err && i < env->cnt; i++) {
		if (c.state[i] != EXPLORED) {
			env->err_insn = (int)i;
			vhint(env, "no path from the entry reaches instruction %u: remove it, or the "
				   "function it is in if nothing calls it", i);
			err = verr(env, -EINVAL, "unreachable insn %u\n", i);
		} else if (env->ops[i] == ISA_OP_LDDW) {
			if (c.state[i + 1])
				err = verr(env, -EINVAL, "jump into the middle of ldimm64 insn %u\n", i);
			i++;
		}
	}
out:
	free(c.state);
	free(c.stack);
	return err;
}

uint32_t subprog_of(const struct venv *env, uint32_t insn)
{
	return (uint32_t)(prog_func_at(env->prog, insn) - env->prog->funcs);
}

/* ---- stack depth along call chains --------------------------------------------------- */

/*
 * The kernel's round_up_stack_depth with its JIT on (x86-64 kernels
 * always JIT: bpf_jit_enable 1 or CONFIG_BPF_JIT_ALWAYS_ON): each frame
 * rounded up to 16 bytes, an empty one 0 (the interpreter's 32 applies
 * only without the JIT).
 */
static uint32_t frame_bytes(const struct venv *env, uint32_t f)
{
	return (env->stack_depth[f] + 15) & ~15u;
}

static bool has_tail_call(const struct venv *env, uint32_t f)
{
	const struct prog_func *fn = &env->prog->funcs[f];

	for (uint32_t i = fn->start; i < fn->end; i++)
		if (env->ops[i] == ISA_OP_CALL_HELPER && env->insns[i].imm == HELPER_ID_tail_call)
			return true;
	return false;
}

static int chain_depth(struct venv *env, uint32_t f, uint32_t frames, uint32_t stack,
		       uint32_t caller_stack)
{
	const struct prog_func *fn = &env->prog->funcs[f];

	stack += frame_bytes(env, f);
	if (frames > V_MAX_FRAMES)
		return verr(env, -E2BIG, "the call stack of %u frames is too deep !\n", frames);
	if (stack > V_STACK)
		return verr(env, -EACCES, "combined stack size of %u calls is %u. Too large\n", frames,
			    stack);
	if (frames > 1 && has_tail_call(env, f) && caller_stack > 256)
		return verr(env, -EINVAL, "tail_calls are not allowed when call stack of previous frames "
					  "is %u bytes. Too large\n", caller_stack);
	for (uint32_t i = fn->start; i < fn->end; i++) {
		int err;

		if (env->ops[i] != ISA_OP_CALL_LOCAL || !env->aux[i].seen)
			continue;
		err = chain_depth(env, subprog_of(env, i + 1 + (uint32_t)env->insns[i].imm), frames + 1,
				  stack, stack);
		if (err)
			return err;
	}
	return 0;
}

int cfg_check_stack_depth(struct venv *env)
{
	return chain_depth(env, 0, 1, 0, 0);
}
