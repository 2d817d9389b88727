/*
 * loop.c - iterations of a loop summarized instead of walked one by one.
 *
 * The kernel proves a bounded loop by walking every iteration: a loop of
 * 100,000 iterations costs 100,000 walks of its body.  Most such loops
 * are counters: each iteration computes only with registers that hold
 * known constants, and every branch in it is decided by them.  Walking
 * such an iteration abstractly is then the same as running it
 * concretely, so this file runs it concretely, thousands of times faster,
 * and puts the state the walk would have reached into the current path.
 *
 * An iteration qualifies when, from the loop's head back to it:
 *   - every instruction is an ALU operation whose abstract result on
 *     constants is exactly the concrete one (add, sub, mul, and, or,
 *     xor, mov, neg, shifts by less than the width), or a jump whose
 *     operands are constants (so the walk decides it and pushes no other
 *     path): nothing reads memory, calls or touches a pointer;
 *   - the state on arrival differs from the previous arrival only in the
 *     values of constant scalars (types, precision, ids, the stack and
 *     everything else equal), so every later iteration behaves alike;
 *   - some register advances by the same non-zero step each iteration,
 *     so no iteration repeats an earlier one (the kernel would call that
 *     an infinite loop: those loops are left to the walk, which finds it);
 *   - no finished checkpoint sits on the iteration's instructions (the
 *     kernel could stop the path there; checkpoints of the path itself
 *     cannot stop it).
 * The concrete run checks each further iteration against the first one
 * (the same instructions, the same branch outcomes, the same step) and
 * stops before the first that differs (usually the exit), which the walk
 * then does as usual.  The summarized instructions count as processed, so
 * the 1,000,000 limit falls where the kernel's falls.  For precision
 * backtracking the path's history gets one entry standing for the
 * iterations; precise.c walks the recorded body as often as it needs.
 */
#include "verifier.h"

#include <stdlib.h>
#include <string.h>

#include "../isa/semantics.h"

#define TRACE_CAP 4096
/* A step this small cannot wrap a 64-bit counter within the insn limit. */
#define MAX_STEP (1ull << 40)

/* A register that is a constant and nothing else: all ranges exact, no links. */
static bool exact_const(const struct vreg *reg)
{
	struct vrange c;

	if (reg->type != VT_SCALAR || !tnum_is_const(reg->r.var) || reg->id || reg->off ||
	    reg->flags)
		return false;
	c = range_const(reg->r.var.value);
	return !memcmp(&c, &reg->r, sizeof(c));
}

void loop_forget(struct venv *env)
{
	env->lw.head = UINT32_MAX;
}

static void watch(struct venv *env, uint32_t idx)
{
	struct vframe *f = cur_frame(env->cur);

	env->lw.head = idx;
	env->lw.frame = env->cur->curframe;
	env->lw.pure = true;
	env->lw.ntrace = 0;
	memcpy(env->lw.snap, f->regs, sizeof(env->lw.snap));
}

/* Can the walk of this instruction, in the current state, be replaced by a concrete run? */
static bool insn_pure(struct venv *env, const struct bpfvm_insn *insn, enum isa_op op)
{
	const struct vreg *regs = cur_frame(env->cur)->regs;
	unsigned form = isa_ops[op].form, alu = BPFVM_OP(insn->code);

	switch (form) {
	case F_JA:
	case F_JA32:
		return true;
	case F_JCOND_K:
	case F_JCOND_X:
		return exact_const(&regs[insn->dst_reg]) &&
		       (form == F_JCOND_K || exact_const(&regs[insn->src_reg]));
	case F_NEG:
		return exact_const(&regs[insn->dst_reg]);
	case F_ALU_K:
	case F_ALU_X:
		/* all but division and modulo, which the verifier does not follow */
		if (insn->off || isa_alu_kind(alu) == ISA_ALU_DIV)
			return false;
		if (alu != BPFVM_MOV && !exact_const(&regs[insn->dst_reg]))
			return false;
		return form == F_ALU_K || exact_const(&regs[insn->src_reg]);
	default:
		return false;
	}
}

/* ---- the concrete run ---------------------------------------------------------- */

/* One instruction on concrete values; false where the walk would not get a constant. */
static bool run_alu(const struct bpfvm_insn *insn, enum isa_op op, uint64_t *v)
{
	bool is32 = BPFVM_CLASS(insn->code) == BPFVM_ALU;
	uint64_t b = isa_ops[op].form == F_ALU_X ? v[insn->src_reg] : (uint64_t)(int64_t)insn->imm;

	if (isa_alu_kind(BPFVM_OP(insn->code)) == ISA_ALU_DIV)
		return false;
	/* a shift by the width or more: the verifier makes the result unknown */
	if (isa_alu_is_shift(BPFVM_OP(insn->code)) && (is32 ? (uint32_t)b : b) >= (is32 ? 32u : 64u))
		return false;
	return isa_alu_eval(op, v[insn->dst_reg], b, &v[insn->dst_reg]);
}

/* The instruction after trace[i] on concrete values: -1 if unknown. */
static int64_t run_insn(struct venv *env, uint32_t idx, uint64_t *v)
{
	const struct bpfvm_insn *insn = &env->insns[idx];
	unsigned form = isa_ops[env->ops[idx]].form;
	uint64_t b;

	switch (form) {
	case F_JA:
		return (int64_t)idx + 1 + insn->off;
	case F_JA32:
		return (int64_t)idx + 1 + insn->imm;
	case F_JCOND_K:
	case F_JCOND_X:
		b = form == F_JCOND_X ? v[insn->src_reg] : (uint64_t)(int64_t)insn->imm;
		if (isa_jmp_eval(env->ops[idx], v[insn->dst_reg], b) == 1)
			return (int64_t)idx + 1 + insn->off;
		return (int64_t)idx + 1;
	default:
		return run_alu(insn, env->ops[idx], v) ? (int64_t)idx + 1 : -1;
	}
}

/* One more iteration like the first; false where it would go elsewhere. */
static bool run_iteration(struct venv *env, uint64_t *v)
{
	const uint32_t *t = env->lw.trace;
	uint32_t n = env->lw.ntrace;

	for (uint32_t i = 0; i < n; i++) {
		int64_t next = run_insn(env, t[i], v);

		if (next != (i + 1 < n ? (int64_t)t[i + 1] : (int64_t)env->lw.head))
			return false;
	}
	return true;
}

/* ---- when a summary applies ----------------------------------------------------- */

/*
 * Registers as on the previous arrival, but for constants' values?  Which
 * of those changed, and by how much (step[r])?  The set of them, or -1.
 * Every changed constant is a candidate: the first one need not be the
 * counter (r0 += r1 changes r0 by a different amount every iteration).
 */
static int64_t find_steps(struct venv *env, const struct vframe *f, uint64_t *step)
{
	int64_t steppers = 0;

	for (uint32_t r = 0; r < V_NREGS; r++) {
		const struct vreg *a = &env->lw.snap[r], *b = &f->regs[r];
		struct vreg x = *a, y = *b;

		x.live = y.live = 0;
		x.parent = y.parent = NULL;
		if (exact_const(a) && exact_const(b)) {
			uint64_t d = b->r.var.value - a->r.var.value;

			if (x.precise != y.precise)
				return -1;
			if (d && (d < MAX_STEP || -d < MAX_STEP)) {
				steppers |= 1ll << r;
				step[r] = d;
			}
			continue;
		}
		if (memcmp(&x, &y, sizeof(x)))
			return -1;
	}
	return steppers;
}

static bool in_trace(const struct venv *env, uint32_t idx)
{
	for (uint32_t i = 0; i < env->lw.ntrace; i++)
		if (env->lw.trace[i] == idx)
			return true;
	return false;
}

/* Could a finished checkpoint on the way stop the path, as it would stop the kernel's? */
static bool checkpoints_allow(struct venv *env)
{
	for (uint32_t i = 0; i < env->lw.ntrace; i++) {
		uint32_t idx = env->lw.trace[i];

		if (!env->aux[idx].prune_point)
			continue;
		for (struct vcheckpoint *cp = env->explored[idx]; cp; cp = cp->next)
			if (!cp->st.branches)
				return false;
	}
	/* the kernel's finished checkpoints of earlier summaries, which it would compare */
	for (uint32_t i = 0; i < env->nvirt; i++)
		if (env->virt[i].owner && !env->virt[i].owner->branches &&
		    env->aux[env->virt[i].idx].prune_point && in_trace(env, env->virt[i].idx))
			return false;
	return true;
}

/*
 * How many iterations go as the last one did; v ends as the state after
 * them.  Each counted iteration keeps at least one of the steppers on the
 * same step as on every iteration before it: that register runs through
 * an arithmetic progression, so no arrival repeats an earlier one.
 * *steppers ends as the registers that kept their step throughout.
 */
static uint64_t count_iterations(struct venv *env, uint64_t *v, int64_t *steppers,
				 const uint64_t *step)
{
	uint64_t budget = V_INSN_LIMIT - env->insn_processed, n = 0, w[V_NREGS];

	/* stop short of the limit: the walk then fails at the very instruction the kernel does */
	while ((n + 1) * env->lw.ntrace <= budget) {
		int64_t still = 0;

		memcpy(w, v, sizeof(w));
		if (!run_iteration(env, w))
			break;
		for (uint32_t r = 0; r < V_NREGS; r++)
			if ((*steppers >> r & 1) && w[r] - v[r] == step[r])
				still |= 1ll << r;
		if (!still)
			break;
		*steppers = still;
		memcpy(v, w, sizeof(w));
		n++;
	}
	return n;
}

/* ---- what the kernel's walk would have left behind -------------------------------- */

/* Virtual checkpoints: counted, compared against, dropped as the kernel's would be. */
static int virt_add(struct venv *env, uint32_t idx)
{
	if (env->nvirt == env->virt_cap) {
		uint32_t cap = env->virt_cap ? env->virt_cap * 2 : 16;
		struct vvirtual *n = realloc(env->virt, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		env->virt = n;
		env->virt_cap = cap;
	}
	env->virt[env->nvirt++] = (struct vvirtual){ idx, 0, NULL }; /* owner: set by summarize */
	return 0;
}

static bool virt_in_progress(const struct vvirtual *v)
{
	return !v->owner || v->owner->branches;
}

/* A checkpoint at idx was taken: every older one there missed. */
static void virt_missed(struct venv *env, uint32_t idx)
{
	uint32_t j = 0;

	for (uint32_t i = 0; i < env->nvirt; i++) {
		struct vvirtual *v = &env->virt[i];

		if (v->idx == idx &&
		    ++v->miss > checkpoint_miss_limit(env, idx, virt_in_progress(v))) {
			env->peak_states--;
			continue;
		}
		env->virt[j++] = *v;
	}
	env->nvirt = j;
}

uint32_t loop_virtual_checkpoints(struct venv *env, uint32_t idx, bool force, bool *add_new)
{
	uint32_t n = 0, running = 0;

	for (uint32_t i = 0; i < env->nvirt; i++)
		if (env->virt[i].idx == idx) {
			n++;
			running += virt_in_progress(&env->virt[i]);
		}
	if (!n)
		return 0;
	/* ones still being explored are loops to ancestor_match; finished ones the kernel
	 * would compare, and maybe stop the path at: bpfvm lacks their contents */
	if (running && !force && env->jmps_processed - env->prev_jmps_processed < V_LOOP_CP_JMPS &&
	    env->insn_processed - env->prev_insn_processed < V_LOOP_CP_INSNS)
		*add_new = false;
	if (*add_new)
		virt_missed(env, idx);
	return n;
}

/* The counters is_state_visited decides by, as the kernel's walk would have them. */
struct cadence {
	uint64_t insn, jmps, prev_insn, prev_jmps;
	int64_t hist;    /* history entries since the last checkpoint */
	bool taken;      /* a checkpoint was taken */
};

/* A checkpoint at idx still being explored (summarize made sure none there is finished). */
static bool has_checkpoint(const struct venv *env, uint32_t idx)
{
	if (env->explored[idx])
		return true;
	for (uint32_t i = 0; i < env->nvirt; i++)
		if (env->virt[i].idx == idx && virt_in_progress(&env->virt[i]))
			return true;
	return false;
}

/* The checkpoints is_state_visited would go through at idx, for the statistics. */
static void count_states(struct venv *env, uint32_t idx)
{
	uint32_t n = 0;

	for (struct vcheckpoint *cp = env->explored[idx]; cp; cp = cp->next)
		n++;
	for (uint32_t i = 0; i < env->nvirt; i++)
		n += env->virt[i].idx == idx;
	if (env->max_states_per_insn < n)
		env->max_states_per_insn = n;
}

/* is_state_visited at a prune point of a summarized iteration. */
static int emulate_prune_point(struct venv *env, struct cadence *c, uint32_t idx)
{
	bool force = env->test_state_freq || env->aux[idx].force_checkpoint ||
		     c->hist > V_CP_FORCE_HIST;
	bool add_new = force || (c->jmps - c->prev_jmps >= V_CP_JMPS &&
				 c->insn - c->prev_insn >= V_CP_INSNS);

	count_states(env, idx);
	/* every checkpoint here is the path's own: a loop being explored */
	if (has_checkpoint(env, idx) && !force && c->jmps - c->prev_jmps < V_LOOP_CP_JMPS &&
	    c->insn - c->prev_insn < V_LOOP_CP_INSNS)
		add_new = false;
	if (!add_new)
		return 0;
	virt_missed(env, idx);
	checkpoints_missed(env, idx);
	env->total_states++;
	env->peak_states++;
	c->prev_insn = c->insn;
	c->prev_jmps = c->jmps;
	c->hist = 0;
	c->taken = true;
	return virt_add(env, idx);
}

/* The n iterations from the one starting at the loop's head, already counted. */
static int emulate_walk(struct venv *env, uint64_t n, struct cadence *c)
{
	const uint32_t *t = env->lw.trace;
	int err;

	for (uint64_t j = 0; j < n; j++) {
		for (uint32_t i = 0; i < env->lw.ntrace; i++) {
			uint32_t idx = t[i];

			if (j || i) {
				c->insn++;
				if (env->aux[idx].prune_point && (err = emulate_prune_point(env, c, idx)))
					return err;
				c->hist += env->aux[idx].jmp_point;
			}
			c->jmps += isa_op_is_jump(env->ops[idx]);
		}
	}
	return 0;
}

/* Read and write marks of the first summarized iteration (liveness, prune.c). */
static int emulate_liveness(struct venv *env)
{
	struct vframe *f = cur_frame(env->cur);

	for (uint32_t i = 0; i < env->lw.ntrace; i++) {
		uint32_t idx = env->lw.trace[i];
		uint16_t rd = isa_regs_read(&env->insns[idx], env->ops[idx]);
		uint16_t wr = isa_regs_written(&env->insns[idx], env->ops[idx]);

		for (uint32_t r = 0; r < V_FP; r++) {
			struct vreg *reg = &f->regs[r];
			int err;

			if ((rd & (1u << r)) && (err = mark_reg_read(env, reg, reg->parent)))
				return err;
		}
		for (uint32_t r = 0; r < V_FP; r++)
			if (wr & (1u << r))
				f->regs[r].live |= LIVE_WRITTEN;
	}
	return 0;
}

/* ---- the summary ------------------------------------------------------------------ */

static int record(struct venv *env, uint64_t n)
{
	struct vloop_rec *rec;
	uint32_t *body;

	if (env->nloops == env->loops_cap) {
		uint32_t cap = env->loops_cap ? env->loops_cap * 2 : 8;
		struct vloop_rec *nr = realloc(env->loops, cap * sizeof(*nr));

		if (!nr)
			return -ENOMEM;
		env->loops = nr;
		env->loops_cap = cap;
	}
	body = malloc(env->lw.ntrace * sizeof(*body));
	if (!body)
		return -ENOMEM;
	memcpy(body, env->lw.trace, env->lw.ntrace * sizeof(*body));
	rec = &env->loops[env->nloops++];
	rec->body = body;
	rec->len = env->lw.ntrace;
	rec->count = n;
	return 0;
}

/*
 * The history entry precise.c walks the iterations by: at the last one's
 * back edge, so that a checkpoint taken on the next arrival at the head
 * finds it at the end of its own part of the history, as the kernel's
 * would find the iterations.
 */
static int push_marker(struct venv *env, uint32_t rec, uint32_t back_edge)
{
	struct vstate *st = env->cur;
	uint32_t idx = env->insn_idx, prev = env->prev_insn_idx;
	int err;

	env->insn_idx = back_edge;
	err = push_hist(env, st, 0); /* without flags, always a new entry */
	env->insn_idx = idx;
	if (err)
		return err;
	env->hist[st->hist_end - 1].prev_idx = prev;
	env->hist[st->hist_end - 1].flags = HIST_REPEAT | rec;
	env->hist_fresh = false;
	return 0;
}

/* The registers after the iterations; values varied, so no instruction keeps a constant. */
static void apply(struct venv *env, const uint64_t *v, uint64_t n, bool imprecise)
{
	struct vframe *f = cur_frame(env->cur);
	uint32_t jumps = 0;

	for (uint32_t r = 0; r < V_NREGS; r++) {
		struct vreg *reg = &f->regs[r];
		uint8_t precise = reg->precise, live = reg->live;
		struct vreg *parent = reg->parent;

		if (!exact_const(reg))
			continue;
		reg_const(reg, v[r]);
		reg->precise = precise;
		reg->live = live;
		reg->parent = parent;
	}
	/* a checkpoint the kernel took made the path's scalars imprecise */
	if (imprecise)
		mark_all_scalars_imprecise(env, env->cur);
	for (uint32_t i = 0; i < env->lw.ntrace; i++) {
		uint32_t idx = env->lw.trace[i];

		jumps += isa_op_is_jump(env->ops[idx]);
		env->aux[idx].const_state = 2;
	}
	env->jmps_processed += n * jumps;
	env->loop_iterations += n;
}

/*
 * The next arrival at the head, as the walk would check it; 1 if the path
 * ends.  The path continues from a hidden copy of the state that stands
 * for the kernel's checkpoints in the iterations: it keeps them "being
 * explored" for as long as the kernel's would be, and ends the part of the
 * history that holds the summary.
 */
static int arrive_again(struct venv *env, const struct cadence *c, uint32_t first_virt)
{
	uint32_t head = env->lw.head, back_edge = env->lw.trace[env->lw.ntrace - 1];
	struct vstate *cur = env->cur;
	struct vcheckpoint *proxy;
	int err;

	env->insn_processed = c->insn + 1;
	env->prev_insn_processed = c->prev_insn;
	env->prev_jmps_processed = c->prev_jmps;
	env->prev_insn_idx = back_edge;
	cur->last_insn = back_edge;
	if (env->insn_processed > V_INSN_LIMIT)
		return verr(env, -E2BIG, "BPF program is too large. Processed %llu insn\n",
			    (unsigned long long)env->insn_processed);
	if ((err = hidden_checkpoint(env, head, &proxy)))
		return err;
	cur->hist_adj = (int32_t)c->hist;
	for (uint32_t i = first_virt; i < env->nvirt; i++)
		if (!env->virt[i].owner)
			env->virt[i].owner = &proxy->st;
	env->adopt = proxy;
	err = is_state_visited(env, head);
	env->adopt = NULL;
	if (err)
		return err;
	return push_hist(env, env->cur, 0);
}

static int summarize(struct venv *env)
{
	struct vframe *f = cur_frame(env->cur);
	struct cadence c = { 0 };
	uint64_t v[V_NREGS], step[V_NREGS] = { 0 }, n;
	uint32_t back_edge, first_virt = env->nvirt;
	int64_t steppers;
	int stepper, err;

	if (env->walk_loops || !env->lw.pure || !env->lw.ntrace ||
	    env->cur->curframe != env->lw.frame)
		return 0;
	steppers = find_steps(env, f, step);
	if (steppers <= 0 || !checkpoints_allow(env))
		return 0;
	for (uint32_t r = 0; r < V_NREGS; r++)
		v[r] = exact_const(&f->regs[r]) ? f->regs[r].r.var.value : 0;
	n = count_iterations(env, v, &steppers, step);
	if (n < 2)
		return 0;
	stepper = __builtin_ctzll((unsigned long long)steppers);
	back_edge = env->lw.trace[env->lw.ntrace - 1];
	if ((err = record(env, n)) || (err = emulate_liveness(env)) ||
	    (err = push_marker(env, env->nloops - 1, back_edge)) ||
	    (err = path_add_seg(env, PATH_LOOP, env->nloops - 1)))
		return err;
	c = (struct cadence){ env->insn_processed, env->jmps_processed, env->prev_insn_processed,
			      env->prev_jmps_processed,
			      (int64_t)(env->cur->hist_end - env->cur->hist_start) - 1 +
				      env->cur->hist_adj, false };
	if ((err = emulate_walk(env, n, &c)))
		return err;
	apply(env, v, n, c.taken);
	if (env->log_level >= 1)
		vlog(env, "%u: loop of %u insns: %llu iterations summarized (r%d steps by %lld)\n",
		     env->lw.head, env->lw.ntrace, (unsigned long long)n, stepper,
		     (long long)step[stepper]);
	return arrive_again(env, &c, first_virt);
}

/* Before the walk checks instruction idx (explore.c); 1 when the path ends here. */
int loop_before_insn(struct venv *env, uint32_t idx)
{
	const struct bpfvm_insn *insn = &env->insns[idx];
	int err;

	if (env->aux[idx].loop_head) {
		if (idx == env->lw.head) {
			if ((err = summarize(env)))
				return err; /* or 1: a checkpoint covers the path */
			watch(env, idx);
		} else if (env->lw.head == UINT32_MAX || !env->lw.pure) {
			watch(env, idx); /* a loop inside the watched one, or the first */
		} else if (in_trace(env, idx)) {
			/* A loop inside the watched one, come round a second time: its
			 * iterations may be alike where the outer ones are not (an inner
			 * bound that is the outer counter), so it is the one watched. */
			watch(env, idx);
		}
	}
	if (env->lw.head == UINT32_MAX || !env->lw.pure)
		return 0;
	if (env->lw.ntrace == env->lw.trace_cap) {
		uint32_t cap = env->lw.trace_cap ? env->lw.trace_cap * 2 : 64;
		uint32_t *t;

		if (cap > TRACE_CAP) {
			env->lw.pure = false;
			return 0;
		}
		if (!(t = realloc(env->lw.trace, cap * sizeof(*t))))
			return -ENOMEM;
		env->lw.trace = t;
		env->lw.trace_cap = cap;
	}
	env->lw.trace[env->lw.ntrace++] = idx;
	if (!insn_pure(env, insn, env->ops[idx]))
		env->lw.pure = false;
	return 0;
}

void loop_free(struct venv *env)
{
	for (uint32_t i = 0; i < env->nloops; i++)
		free(env->loops[i].body);
	free(env->loops);
	free(env->lw.trace);
	free(env->virt);
}
