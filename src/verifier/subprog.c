/*
 * subprog.c - functions of the program: a bpf-to-bpf call opens a frame
 * for the callee (arguments r1-r5 passed, r6-r9 unreadable, its own stack)
 * and explores it in the caller's context, so every call site is checked
 * with what it passes; exit returns r0 and the references to the caller.
 * Callbacks (bpf_loop, bpf_for_each_map_elem) are entered the same way
 * from their helper call, and come back to it: the verifier explores the
 * callback again until its states converge, as the kernel does.  Also the
 * checks of a program's exit: the return value each program type allows.
 */
#include "verifier.h"

#include <linux/bpf.h>
#include <stdlib.h>

#include "ctx.h"
#include "helper_protos.h"

void init_func_state(struct venv *env, struct vframe *f)
{
	(void)env;
	for (int i = 0; i < V_NREGS; i++) {
		reg_not_init(&f->regs[i]);
		f->regs[i].parent = NULL;
		f->regs[i].live = 0;
	}
	reg_ptr(&f->regs[V_FP], VT_STACK);
	f->regs[V_FP].frameno = (uint8_t)f->frameno;
}

/* A new frame for subprog in st, called from callsite; the caller's r1-r5 are its arguments. */
static int setup_func_entry(struct venv *env, struct vstate *st, uint32_t subprog, uint32_t callsite,
			    struct vframe **out)
{
	struct vframe *caller = cur_frame(st), *callee;

	if (st->curframe + 1 >= V_MAX_FRAMES)
		return verr(env, -E2BIG, "the call stack of %u frames is too deep\n", st->curframe + 2);
	callee = frame_new(callsite, st->curframe + 1, subprog);
	if (!callee)
		return -ENOMEM;
	init_func_state(env, callee);
	for (int i = 1; i <= 5; i++)
		callee->regs[i] = caller->regs[i]; /* with their liveness parents */
	st->frames[++st->curframe] = callee;
	*out = callee;
	return 0;
}

/*
 * After the call the caller's r0-r5 hold nothing: written, so that reads
 * after the call do not reach back past it.  (Not check_reg_arg: the
 * current frame is already the callee's, whose arguments are read.)
 */
static void clear_caller_saved_regs(struct venv *env, struct vreg *regs)
{
	for (uint32_t r = 0; r <= 5; r++) {
		reg_not_init(&regs[r]);
		regs[r].live |= LIVE_WRITTEN;
		mark_scratched(env, r);
	}
}

int check_func_call(struct venv *env, const struct bpfvm_insn *insn, uint32_t *insn_idx)
{
	uint32_t target = *insn_idx + 1 + (uint32_t)insn->imm;
	const struct prog_func *fn = prog_func_at(env->prog, target);
	struct vframe *caller = cur_frame(env->cur), *callee;
	int err;

	if (fn->start != target)
		return verr(env, -EFAULT, "verifier bug. No program starts at insn %u\n", target);
	if ((err = setup_func_entry(env, env->cur, (uint32_t)(fn - env->prog->funcs), *insn_idx, &callee)))
		return err;
	clear_caller_saved_regs(env, caller->regs);
	*insn_idx = target - 1;
	if (env->log_level >= 1) {
		vlog(env, "caller:\n");
		vlog_frame(env, caller, true);
		vlog(env, "callee:\n");
		vlog_frame(env, callee, true);
	}
	return 0;
}

/* ---- callbacks -------------------------------------------------------------------- */

/* The callee's registers, as the helper calling it sets them up. */
static int set_callback_state(struct venv *env, struct vframe *caller, struct vframe *callee,
			      uint32_t helper)
{
	switch (helper) {
	case HELPER_ID_loop: /* cb(u32 index, void *ctx) */
		reg_unknown(env, &callee->regs[1]);
		callee->regs[2] = caller->regs[3];
		for (int i = 3; i <= 5; i++)
			reg_not_init(&callee->regs[i]);
		break;
	case HELPER_ID_for_each_map_elem: { /* cb(map, key, value, ctx) */
		uint32_t map = caller->regs[1].map;

		callee->regs[1] = caller->regs[1];
		reg_ptr(&callee->regs[2], VT_MAP_KEY);
		callee->regs[2].map = map;
		reg_ptr(&callee->regs[3], VT_MAP_VALUE);
		callee->regs[3].map = map;
		callee->regs[4] = caller->regs[3];
		reg_not_init(&callee->regs[5]);
		break;
	}
	default:
		return verr(env, -EINVAL, "callbacks of helper #%u are not supported: they run in "
					  "kernel contexts user space does not have\n", helper);
	}
	callee->in_callback = 1;
	callee->cb_ret_min = 0;
	callee->cb_ret_max = 1;
	return 0;
}

/*
 * A helper that calls a callback: push a path that enters it (with the
 * callee frame set up), and let the current path go on past the call.
 */
int setup_callback(struct venv *env, uint32_t callsite, uint32_t subprog, uint32_t helper,
		   uint32_t *insn_idx)
{
	struct vframe *caller = cur_frame(env->cur), *callee;
	struct vstate *cb;
	int err;

	(void)insn_idx;
	env->aux[callsite].calls_callback = 1;
	if ((err = push_branch(env, env->prog->funcs[subprog].start, callsite, &cb)))
		return err;
	if ((err = setup_func_entry(env, cb, subprog, callsite, &callee)) ||
	    (err = set_callback_state(env, cur_frame(cb) == callee ? cb->frames[cb->curframe - 1] : caller,
				      callee, helper)))
		return err;
	cb->callback_unroll_depth++;
	cb->frames[cb->curframe - 1]->callback_depth++;
	caller->callback_depth = 0;
	return 0;
}

/* ---- returns -------------------------------------------------------------------- */

static void log_invalid_scalar(struct venv *env, const struct vreg *reg, int64_t min, int64_t max,
			       const char *ctx, const char *name)
{
	bool unknown = true;

	verr_regs(env, -EINVAL, 1, "%s the register %s has", ctx, name);
	if (reg->r.b64.smin > INT64_MIN) {
		vlog(env, " smin=%lld", (long long)reg->r.b64.smin);
		unknown = false;
	}
	if (reg->r.b64.smax < INT64_MAX) {
		vlog(env, " smax=%lld", (long long)reg->r.b64.smax);
		unknown = false;
	}
	if (unknown)
		vlog(env, " unknown scalar value");
	vlog(env, " should have been in [%lld, %lld]\n", (long long)min, (long long)max);
}

int prepare_func_exit(struct venv *env, uint32_t *insn_idx)
{
	struct vstate *st = env->cur;
	struct vframe *callee = cur_frame(st), *caller = st->frames[st->curframe - 1];
	struct vreg *r0 = &callee->regs[0];
	bool in_cb = callee->in_callback;
	int err;

	if (r0->type == VT_STACK)
		return verr(env, -EINVAL, "cannot return stack pointer to the caller\n");
	if (in_cb) {
		if (r0->type != VT_SCALAR)
			return verr(env, -EACCES, "R0 not a scalar value\n");
		if ((err = mark_reg_read(env, r0, r0->parent)) || (err = mark_chain_precision(env, 0)))
			return err;
		if (r0->r.b64.smin < callee->cb_ret_min || r0->r.b64.smax > callee->cb_ret_max) {
			log_invalid_scalar(env, r0, callee->cb_ret_min, callee->cb_ret_max,
					   "At callback return", "R0");
			return -EINVAL;
		}
		*insn_idx = (uint32_t)callee->callsite - 1; /* back to the helper call, again */
	} else {
		caller->regs[0] = *r0;
		*insn_idx = (uint32_t)callee->callsite;
	}
	if (env->log_level >= 1) {
		vlog(env, "returning from callee:\n");
		vlog_frame(env, callee, true);
		vlog(env, "to caller at %u:\n", *insn_idx + 1);
		vlog_frame(env, caller, true);
	}
	free(callee->stack);
	free(callee);
	st->frames[st->curframe--] = NULL;
	if (in_cb)
		widen_after_callback(env, *insn_idx + 1);
	return 0;
}

/* ---- the program's exit ----------------------------------------------------------------- */

int check_return_code(struct venv *env, uint32_t regno, const char *reg_name)
{
	struct vreg *reg;
	bool checked = false;
	int32_t min = 0, max = 0;
	int err;

	if ((err = check_reg_arg(env, regno, SRC_OP)))
		return err;
	reg = &cur_frame(env->cur)->regs[regno];
	if (env->ctx->retval)
		env->ctx->retval(env, &checked, &min, &max);
	if (!checked)
		return 0;
	if (reg->type != VT_SCALAR) {
		char tb[48];

		return verr(env, -EINVAL, "At program exit the register R%u is not a known value (%s)\n",
			    regno, vtype_str(reg, tb, sizeof(tb)));
	}
	if ((err = mark_chain_precision(env, regno)))
		return err;
	if (reg->r.b64.smin < min || reg->r.b64.smax > max) {
		vhint(env, "a %s program returns a value in [%d, %d]", ctx_name(env->ctx), min, max);
		log_invalid_scalar(env, reg, min, max, "At program exit", reg_name);
		return -EINVAL;
	}
	return 0;
}
