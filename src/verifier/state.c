/*
 * state.c - abstract states: making, copying and freeing them, the stack
 * of branches still to explore, and what registers can be marked as
 * (unknown scalar, constant, pointer).  Also reading and writing registers
 * as instruction operands, which records liveness: a read marks the
 * register read in every checkpoint up the path until one where it was
 * written, so a checkpoint knows which of its registers later code used.
 */
#include "verifier.h"

#include <stdlib.h>
#include <string.h>

#include "../util/log.h"

uint32_t new_id(struct venv *env)
{
	return ++env->id_gen;
}

/* ---- registers ------------------------------------------------------------- */

void reg_unknown(struct venv *env, struct vreg *reg)
{
	struct vreg *parent = reg->parent;
	uint8_t live = reg->live;

	(void)env;
	memset(reg, 0, sizeof(*reg));
	reg->type = VT_SCALAR;
	reg->r = range_unknown();
	/* a privileged program's scalars start imprecise, as in the kernel */
	reg->parent = parent;
	reg->live = live;
}

void reg_not_init(struct vreg *reg)
{
	struct vreg *parent = reg->parent;
	uint8_t live = reg->live;

	memset(reg, 0, sizeof(*reg));
	reg->type = VT_NOT_INIT;
	reg->r = range_unknown();
	reg->parent = parent;
	reg->live = live;
}

void reg_const(struct vreg *reg, uint64_t v)
{
	reg->type = VT_SCALAR;
	reg->flags = 0;
	reg->off = 0;
	reg->id = 0;
	reg->ref_obj_id = 0;
	reg->range = 0;
	reg->map = 0;
	reg->frameno = 0;
	reg->r = range_const(v);
}

/* The subregister is v; the upper half is left as it was (then zext'd by callers). */
void reg_const32(struct vreg *reg, uint32_t v)
{
	struct vrange c = range_const(v);

	reg->r.var = tnum_with_subreg(reg->r.var, c.var);
	reg->r.b32 = c.b32;
}

/* A pointer of type, offset 0, no id. */
void reg_ptr(struct vreg *reg, uint8_t type)
{
	reg_const(reg, 0);
	reg->type = type;
}

bool reg_is_pointer(const struct vreg *reg)
{
	return reg->type != VT_SCALAR && reg->type != VT_NOT_INIT;
}

bool reg_is_pkt(const struct vreg *reg)
{
	return reg->type == VT_PACKET || reg->type == VT_PACKET_META;
}

bool reg_is_const(const struct vreg *reg, bool is32)
{
	return reg->type == VT_SCALAR &&
	       (is32 ? tnum_subreg_is_const(reg->r.var) : tnum_is_const(reg->r.var));
}

uint64_t reg_const_value(const struct vreg *reg, bool is32)
{
	return is32 ? (uint32_t)reg->r.var.value : reg->r.var.value;
}

bool reg_may_be_null(const struct vreg *reg)
{
	return reg->flags & VF_NULL;
}

struct vframe *reg_frame(struct venv *env, const struct vreg *reg)
{
	return env->cur->frames[reg->frameno];
}

/* ---- frames and states ---------------------------------------------------------- */

struct vframe *frame_new(uint32_t callsite, uint32_t frameno, uint32_t subprog)
{
	struct vframe *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->callsite = (int32_t)callsite;
	f->frameno = frameno;
	f->subprog = subprog;
	for (int i = 0; i < V_NREGS; i++)
		reg_not_init(&f->regs[i]);
	return f;
}

int frame_grow_stack(struct vframe *f, uint32_t nslots)
{
	struct vslot *s;

	if (nslots <= f->nslots)
		return 0;
	s = realloc(f->stack, nslots * sizeof(*s));
	if (!s)
		return -ENOMEM;
	for (uint32_t i = f->nslots; i < nslots; i++) {
		memset(&s[i], 0, sizeof(s[i]));
		reg_not_init(&s[i].spilled);
	}
	f->stack = s;
	f->nslots = nslots;
	return 0;
}

static int frame_copy(struct vframe **dstp, const struct vframe *src)
{
	struct vframe *dst = *dstp;
	struct vslot *stack;

	if (!dst && !(dst = *dstp = calloc(1, sizeof(*dst))))
		return -ENOMEM;
	stack = dst->stack;
	if (src->nslots > dst->nslots || !stack) {
		stack = realloc(stack, (src->nslots ? src->nslots : 1) * sizeof(*stack));
		if (!stack)
			return -ENOMEM;
	}
	memcpy(dst, src, offsetof(struct vframe, stack));
	memcpy(&dst->nslots, &src->nslots, sizeof(*dst) - offsetof(struct vframe, nslots));
	dst->stack = stack;
	if (src->nslots)
		memcpy(stack, src->stack, src->nslots * sizeof(*stack));
	return 0;
}

static void frame_free(struct vframe *f)
{
	if (!f)
		return;
	free(f->stack);
	free(f);
}

struct vstate *state_new(struct venv *env)
{
	struct vstate *st = calloc(1, sizeof(*st));

	(void)env;
	return st;
}

void state_free(struct vstate *st, bool free_self)
{
	if (!st)
		return;
	for (uint32_t i = 0; i < V_MAX_FRAMES; i++) {
		frame_free(st->frames[i]);
		st->frames[i] = NULL;
	}
	free(st->refs);
	st->refs = NULL;
	if (free_self)
		free(st);
}

int state_copy(struct venv *env, struct vstate *dst, const struct vstate *src)
{
	struct vframe *frames[V_MAX_FRAMES];
	struct vref *refs = dst->refs;
	int err;

	(void)env;
	memcpy(frames, dst->frames, sizeof(frames));
	if (src->nrefs > dst->nrefs || !refs) {
		refs = realloc(refs, (src->nrefs ? src->nrefs : 1) * sizeof(*refs));
		if (!refs)
			return -ENOMEM;
	}
	/* frames deeper than the source's go */
	for (uint32_t i = src->curframe + 1; i < V_MAX_FRAMES; i++) {
		frame_free(frames[i]);
		frames[i] = NULL;
	}
	*dst = *src;
	dst->refs = refs;
	if (src->nrefs)
		memcpy(refs, src->refs, src->nrefs * sizeof(*refs));
	memcpy(dst->frames, frames, sizeof(frames));
	for (uint32_t i = 0; i <= src->curframe; i++) {
		err = frame_copy(&dst->frames[i], src->frames[i]);
		if (err)
			return err;
	}
	return 0;
}

/* ---- the branch stack ------------------------------------------------------------- */

int push_branch(struct venv *env, uint32_t insn, uint32_t prev_insn, struct vstate **out)
{
	struct vbranch *b;
	struct vstate *st;
	int err;

	if (env->nbranches == env->branches_cap) {
		uint32_t cap = env->branches_cap ? env->branches_cap * 2 : 64;
		struct vbranch *nb = realloc(env->branches, cap * sizeof(*nb));

		if (!nb)
			return -ENOMEM;
		env->branches = nb;
		env->branches_cap = cap;
	}
	st = state_new(env);
	if (!st)
		return -ENOMEM;
	err = state_copy(env, st, env->cur);
	if (err) {
		state_free(st, true);
		return err;
	}
	b = &env->branches[env->nbranches++];
	*b = (struct vbranch){ st, insn, prev_insn, env->log ? env->log->len : 0, env->npath,
			       env->npath ? env->path[env->npath - 1].end : 0 };
	if (env->nbranches > V_JMP_SEQ_LIMIT)
		return verr(env, -E2BIG, "The sequence of %u jumps is too complex.\n", env->nbranches);
	if (st->parent)
		st->parent->branches++;
	*out = st;
	return 0;
}

/* Continue with the most recently pushed branch: 0, or -ENOENT when none is left. */
int pop_branch(struct venv *env, uint32_t *insn, uint32_t *prev_insn)
{
	struct vbranch *b;
	int err;

	if (!env->nbranches)
		return -ENOENT;
	b = &env->branches[--env->nbranches];
	err = state_copy(env, env->cur, b->st);
	/* below level 2 the log forgets the path just finished, as the kernel's */
	if (env->log_level && env->log_level < 2 && env->log && b->log_pos < env->log->len) {
		env->log->len = b->log_pos;
		if (env->log->buf && b->log_pos < env->log->size)
			env->log->buf[b->log_pos] = '\0';
	}
	*insn = b->insn;
	*prev_insn = b->prev_insn;
	env->npath = b->path_len;
	if (env->npath)
		env->path[env->npath - 1].end = b->path_end;
	state_free(b->st, true);
	return err;
}

/* A path ended: its state and every checkpoint it was the last path of are done. */
void update_branch_counts(struct venv *env, struct vstate *st)
{
	(void)env;
	while (st) {
		if (--st->branches)
			break;
		st = st->parent;
	}
}

/* ---- registers as operands ---------------------------------------------------------- */

/*
 * The register state read depends on its value in each checkpoint up the
 * path, until a checkpoint after which it was written.
 */
int mark_reg_read(struct venv *env, const struct vreg *state, struct vreg *parent)
{
	bool writes = parent == state->parent;

	while (parent) {
		if (writes && (state->live & LIVE_WRITTEN))
			break;
		if (parent->live & LIVE_DONE)
			return verr(env, -EFAULT, "verifier bug: read mark on a finished state\n");
		if (parent->live & LIVE_READ)
			break; /* marked before: the rest of the chain is too */
		parent->live |= LIVE_READ;
		state = parent;
		parent = state->parent;
		writes = true;
	}
	return 0;
}

int check_reg_arg(struct venv *env, uint32_t regno, enum reg_arg t)
{
	struct vreg *reg;

	if (regno >= V_NREGS)
		return verr(env, -EINVAL, "R%u is invalid\n", regno);
	mark_scratched(env, regno);
	reg = &cur_frame(env->cur)->regs[regno];
	if (t == SRC_OP) {
		if (reg->type == VT_NOT_INIT)
			return verr_regs(env, -EACCES, (uint16_t)(1u << regno), "R%u !read_ok\n", regno);
		if (regno == V_FP)
			return 0;
		return mark_reg_read(env, reg, reg->parent);
	}
	if (regno == V_FP)
		return verr(env, -EACCES, "frame pointer is read only\n");
	reg->live |= LIVE_WRITTEN;
	if (t == DST_OP)
		reg_unknown(env, reg);
	return 0;
}
