/*
 * prune.c - checkpoints and state equivalence.  At instructions where
 * paths meet (jump targets, calls, ...) the walk keeps copies of states it
 * is exploring; a later path arriving in a state that a fully explored
 * checkpoint covers needs no further exploration: every register and stack
 * slot the checkpoint's continuation read must be at least as constrained
 * now as then (liveness says which were read, precision which scalars must
 * match exactly).  The read marks and precision that made the old
 * continuation safe then flow into the current path, as in the kernel.
 *
 * A checkpoint whose exploration is still going on (an ancestor of the
 * current path) cannot cover it, but an exact match with one means the
 * path loops without progress: "infinite loop detected".
 */
#include "verifier.h"

#include <stdlib.h>
#include <string.h>

enum exact_level { NOT_EXACT, EXACT, RANGE_WITHIN };

/* ---- ids --------------------------------------------------------------------------- */

static void reset_idmap(struct venv *env)
{
	env->idmap.n = 0;
	env->idmap.tmp_gen = env->id_gen;
}

/* Ids related in old must be related the same way in cur. */
static bool check_ids(struct venv *env, uint32_t old, uint32_t cur)
{
	struct vidmap *m = &env->idmap;

	if (!!old != !!cur)
		return false;
	if (!old)
		return true;
	for (uint32_t i = 0; i < m->n; i++) {
		if (m->old_id[i] == old)
			return m->cur_id[i] == cur;
		if (m->cur_id[i] == cur)
			return false;
	}
	if (m->n == sizeof(m->old_id) / sizeof(m->old_id[0]))
		return false;
	m->old_id[m->n] = old;
	m->cur_id[m->n++] = cur;
	return true;
}

static bool check_scalar_ids(struct venv *env, uint32_t old, uint32_t cur)
{
	if (!old)
		return true;
	if (!cur)
		cur = ++env->idmap.tmp_gen; /* distinct unlinked registers stay distinct */
	return check_ids(env, old, cur);
}

/* ---- registers --------------------------------------------------------------------- */

static bool vrange_equal(const struct vrange *a, const struct vrange *b)
{
	return tnum_equal(a->var, b->var) && !memcmp(&a->b64, &b->b64, sizeof(a->b64)) &&
	       !memcmp(&a->b32, &b->b32, sizeof(a->b32));
}

/* Everything but ids, liveness and precision. */
static bool same_shape(const struct vreg *a, const struct vreg *b)
{
	return a->type == b->type && a->flags == b->flags && a->off == b->off && a->range == b->range &&
	       a->map == b->map && vrange_equal(&a->r, &b->r);
}

static bool regs_exact(struct venv *env, const struct vreg *old, const struct vreg *cur)
{
	return same_shape(old, cur) && check_ids(env, old->id, cur->id) &&
	       check_ids(env, old->ref_obj_id, cur->ref_obj_id);
}

static bool scalar_safe(struct venv *env, const struct vreg *old, const struct vreg *cur,
			enum exact_level exact)
{
	bool old_add = old->flags & VF_ADD_CONST, cur_add = cur->flags & VF_ADD_CONST;

	if (!old->precise && exact == NOT_EXACT)
		return true;
	if (old_add && !cur_add)
		return false;
	if (old->id && !old_add && cur_add)
		return false;
	if (old_add && old->off != cur->off)
		return false;
	if (!check_scalar_ids(env, old->id, cur->id))
		return false;
	return range_within(&old->r, &cur->r);
}

/*
 * Is every continuation safe from old also safe from cur, for this
 * register (a spilled one: spill)?  A spill no path from old read does
 * not matter; a register that no path can read is NOT_INIT in a finished
 * checkpoint already (clean_state).
 */
static bool regsafe(struct venv *env, const struct vreg *old, const struct vreg *cur,
		    enum exact_level exact, bool spill)
{
	if (exact == EXACT)
		return regs_exact(env, old, cur);
	if (spill && !(old->live & LIVE_READ) && exact == NOT_EXACT)
		return true;
	if (old->type == VT_NOT_INIT && (exact == NOT_EXACT || cur->type == VT_NOT_INIT))
		return true;
	if (old->type != cur->type || old->flags != cur->flags)
		return false;
	switch (old->type) {
	case VT_SCALAR:
		return scalar_safe(env, old, cur, exact);
	case VT_MAP_KEY: case VT_MAP_VALUE: case VT_MEM: case VT_BUF: case VT_TP_BUFFER:
		return old->off == cur->off && old->range == cur->range && old->map == cur->map &&
		       range_within(&old->r, &cur->r) && check_ids(env, old->id, cur->id) &&
		       check_ids(env, old->ref_obj_id, cur->ref_obj_id);
	case VT_PACKET_META: case VT_PACKET:
		if (old->range < 0 || cur->range < 0) {
			if (old->range != cur->range)
				return false;
		} else if (old->range > cur->range) {
			return false;
		}
		return old->off == cur->off && check_ids(env, old->id, cur->id) &&
		       range_within(&old->r, &cur->r);
	case VT_STACK:
		return regs_exact(env, old, cur) && old->frameno == cur->frameno;
	default:
		return regs_exact(env, old, cur);
	}
}

/* ---- the stack ----------------------------------------------------------------------- */

static const struct vreg *unbound_reg(void)
{
	static const struct vreg r = {
		.r = { { 0, UINT64_MAX }, { 0, UINT64_MAX, INT64_MIN, INT64_MAX },
		       { 0, UINT32_MAX, INT32_MIN, INT32_MAX } },
		.type = VT_SCALAR,
		.live = LIVE_READ,
	};
	return &r;
}

/* A slot that reads as a scalar: a spilled 64-bit scalar, or all data. */
static const struct vreg *scalar_reg_for_stack(const struct vslot *s)
{
	if (slot_is_spilled_scalar64(s))
		return &s->spilled;
	for (int i = 0; i < 8; i++)
		if (s->kind[i] != SLOT_MISC && s->kind[i] != SLOT_INVALID)
			return NULL;
	return unbound_reg();
}

static bool stacksafe(struct venv *env, const struct vframe *old, const struct vframe *cur,
		      enum exact_level exact)
{
	for (uint32_t i = 0; i < old->nslots * 8; i++) {
		uint32_t spi = i / 8;
		const struct vslot *os = &old->stack[spi], *cs = spi < cur->nslots ? &cur->stack[spi] : NULL;
		uint8_t ok = os->kind[i % 8];
		const struct vreg *oreg, *creg;

		if (exact != NOT_EXACT && (!cs || ok != cs->kind[i % 8]))
			return false;
		if (!(os->spilled.live & LIVE_READ) && exact == NOT_EXACT) {
			i += 7;
			continue;
		}
		if (ok == SLOT_INVALID || ok == SLOT_MISC)
			continue; /* a privileged program may read it uninitialized anyway */
		if (!cs)
			return false;
		oreg = scalar_reg_for_stack(os);
		creg = scalar_reg_for_stack(cs);
		if (oreg && creg) {
			if (!regsafe(env, oreg, creg, exact, true))
				return false;
			i += 7;
			continue;
		}
		if (ok != cs->kind[i % 8])
			return false;
		if (i % 8 == 7 && ok == SLOT_SPILL && !regsafe(env, &os->spilled, &cs->spilled, exact, true))
			return false;
	}
	return true;
}

static bool refsafe(struct venv *env, const struct vstate *old, const struct vstate *cur)
{
	if (old->nrefs != cur->nrefs)
		return false;
	for (uint32_t i = 0; i < old->nrefs; i++)
		if (!check_ids(env, old->refs[i].id, cur->refs[i].id))
			return false;
	return true;
}

static bool frames_equal(struct venv *env, const struct vframe *old, const struct vframe *cur,
			 enum exact_level exact)
{
	if (old->callback_depth > cur->callback_depth)
		return false;
	for (uint32_t i = 0; i < V_NREGS; i++)
		if (!regsafe(env, &old->regs[i], &cur->regs[i], exact, false))
			return false;
	return stacksafe(env, old, cur, exact);
}

static bool states_equal(struct venv *env, const struct vstate *old, const struct vstate *cur,
			 enum exact_level exact)
{
	if (old->curframe != cur->curframe)
		return false;
	reset_idmap(env);
	if (old->lock_map != cur->lock_map || !!old->lock_id != !!cur->lock_id ||
	    (old->lock_id && !check_ids(env, old->lock_id, cur->lock_id)) ||
	    old->in_sleepable != cur->in_sleepable)
		return false;
	for (uint32_t i = 0; i <= old->curframe; i++) {
		if (old->frames[i]->callsite != cur->frames[i]->callsite ||
		    !frames_equal(env, old->frames[i], cur->frames[i], exact))
			return false;
	}
	return refsafe(env, old, cur);
}

static bool same_callsites(const struct vstate *a, const struct vstate *b)
{
	if (a->curframe != b->curframe)
		return false;
	for (uint32_t i = 0; i <= a->curframe; i++)
		if (a->frames[i]->callsite != b->frames[i]->callsite)
			return false;
	return true;
}

/* ---- liveness and precision flowing into the current path --------------------------------- */

static int propagate_reg(struct venv *env, const struct vreg *old, struct vreg *cur)
{
	if (!(old->live & LIVE_READ) || (cur->live & LIVE_READ))
		return 0;
	return mark_reg_read(env, old, cur);
}

/* What old's continuation read, the current path's checkpoints must keep. */
static int propagate_liveness(struct venv *env, const struct vstate *old, struct vstate *cur)
{
	int err;

	for (uint32_t fr = 0; fr <= cur->curframe; fr++) {
		const struct vframe *of = old->frames[fr];
		struct vframe *cf = cur->frames[fr];

		for (uint32_t r = fr < cur->curframe ? 6 : 0; r < V_FP; r++)
			if ((err = propagate_reg(env, &of->regs[r], &cf->regs[r])))
				return err;
		for (uint32_t s = 0; s < of->nslots && s < cf->nslots; s++)
			if ((err = propagate_reg(env, &of->stack[s].spilled, &cf->stack[s].spilled)))
				return err;
	}
	return 0;
}

/* The scalars old needed precise must be precise along the current path too. */
static int propagate_precision(struct venv *env, const struct vstate *old)
{
	memset(&env->bt, 0, sizeof(env->bt));
	for (int fr = (int)old->curframe; fr >= 0; fr--) {
		const struct vframe *f = old->frames[fr];

		for (uint32_t r = 0; r < V_FP; r++) /* what no path reads is NOT_INIT already */
			if (f->regs[r].type == VT_SCALAR && f->regs[r].precise)
				env->bt.regs[fr] |= (uint16_t)(1u << r);
		for (uint32_t s = 0; s < f->nslots; s++)
			if (slot_is_spilled_reg(&f->stack[s]) && f->stack[s].spilled.type == VT_SCALAR &&
			    f->stack[s].spilled.precise && (f->stack[s].spilled.live & LIVE_READ))
				env->bt.slots[fr] |= 1ull << s;
	}
	return mark_chain_precision_batch(env);
}

/*
 * A finished checkpoint: what will never be read does not matter; forget
 * it.  For registers, as Linux 6.18 does, that is what no path of the
 * program may read (live_regs.c) from where each frame stands: the
 * checkpoint's instruction, or for a caller the call it made.  For stack
 * slots, what no path from the checkpoint read.
 */
static void clean_state(struct venv *env, struct vstate *st)
{
	if (st->frames[0]->regs[0].live & LIVE_DONE)
		return;
	for (uint32_t fr = 0; fr <= st->curframe; fr++) {
		struct vframe *f = st->frames[fr];
		uint32_t ip = fr == st->curframe ? st->insn_idx : (uint32_t)st->frames[fr + 1]->callsite;
		uint16_t live_regs = env->aux[ip].live_regs;

		for (uint32_t r = 0; r < V_FP; r++) {
			uint8_t live = f->regs[r].live;

			if (!(live_regs >> r & 1))
				reg_not_init(&f->regs[r]);
			f->regs[r].live = live | LIVE_DONE;
		}
		for (uint32_t s = 0; s < f->nslots; s++) {
			uint8_t live = f->stack[s].spilled.live;

			if (!(live & LIVE_READ)) {
				reg_not_init(&f->stack[s].spilled);
				memset(f->stack[s].kind, SLOT_INVALID, sizeof(f->stack[s].kind));
			}
			f->stack[s].spilled.live = live | LIVE_DONE;
		}
	}
}

static void clean_live_states(struct venv *env, uint32_t insn, const struct vstate *cur)
{
	for (struct vcheckpoint *cp = env->explored[insn]; cp; cp = cp->next)
		if (!cp->st.branches && same_callsites(&cp->st, cur))
			clean_state(env, &cp->st);
}

/* ---- callbacks: widening ---------------------------------------------------------------- */

static struct vstate *find_prev_entry(struct venv *env, const struct vstate *cur, uint32_t insn)
{
	for (struct vcheckpoint *cp = env->explored[insn]; cp; cp = cp->next)
		if (cp->st.insn_idx == insn && cp->st.branches && same_callsites(&cp->st, cur) &&
		    cp->st.dfs_depth < cur->dfs_depth)
			return &cp->st;
	return NULL;
}

/* Imprecise scalars that changed from one iteration to the next become unknown. */
void widen_after_callback(struct venv *env, uint32_t insn)
{
	struct vstate *old = find_prev_entry(env, env->cur, insn), *cur = env->cur;

	if (!old)
		return;
	reset_idmap(env);
	for (int fr = (int)old->curframe; fr >= 0; fr--) {
		struct vframe *of = old->frames[fr], *cf = cur->frames[fr];

		for (uint32_t r = 0; r < V_NREGS; r++) {
			struct vreg *o = &of->regs[r], *c = &cf->regs[r];

			if (o->type == VT_SCALAR && c->type == VT_SCALAR && !o->precise && !c->precise &&
			    !regs_exact(env, o, c))
				reg_unknown(env, c);
		}
		for (uint32_t s = 0; s < of->nslots && s < cf->nslots; s++) {
			struct vreg *o = &of->stack[s].spilled, *c = &cf->stack[s].spilled;

			if (slot_is_spilled_reg(&of->stack[s]) && slot_is_spilled_reg(&cf->stack[s]) &&
			    o->type == VT_SCALAR && c->type == VT_SCALAR && !o->precise && !c->precise &&
			    !regs_exact(env, o, c))
				reg_unknown(env, c);
		}
	}
}

/* ---- checkpoints ---------------------------------------------------------------------- */

/* Copy the current state into cp; the path continues from the copy, as its child. */
static int split_state(struct venv *env, uint32_t insn_idx, struct vcheckpoint *cp)
{
	struct vstate *cur = env->cur, *st = &cp->st;
	int err;

	if ((err = state_copy(env, st, cur)))
		return err;
	st->insn_idx = insn_idx;
	cur->parent = st;
	cur->first_insn = insn_idx;
	cur->hist_start = cur->hist_end;
	cur->hist_adj = 0;
	cur->dfs_depth = st->dfs_depth + 1;
	/* from here on, reads in the current path are reads of the copy's values */
	for (uint32_t j = 0; j <= cur->curframe; j++) {
		struct vframe *f = cur->frames[j], *nf = st->frames[j];

		for (uint32_t i = j < cur->curframe ? 6 : 0; i < V_FP; i++)
			f->regs[i].parent = &nf->regs[i];
		for (uint32_t i = 0; i < V_FP; i++)
			f->regs[i].live = 0;
		for (uint32_t i = 0; i < f->nslots; i++) {
			f->stack[i].spilled.live = 0;
			f->stack[i].spilled.parent = &nf->stack[i].spilled;
		}
	}
	return 0;
}

static int new_checkpoint(struct venv *env, uint32_t insn_idx)
{
	struct vcheckpoint *cp = env->adopt;
	int err;

	env->total_states++;
	env->peak_states++;
	env->prev_jmps_processed = env->jmps_processed;
	env->prev_insn_processed = env->insn_processed;
	mark_all_scalars_imprecise(env, env->cur);
	if (cp) {
		/* loop.c's copy of this very state becomes the checkpoint */
		env->adopt = NULL;
		env->hidden = cp->next;
		mark_all_scalars_imprecise(env, &cp->st);
		env->cur->hist_adj = 0;
	} else {
		if (!(cp = calloc(1, sizeof(*cp))))
			return -ENOMEM;
		if ((err = split_state(env, insn_idx, cp))) {
			state_free(&cp->st, false);
			free(cp);
			return err;
		}
	}
	cp->next = env->explored[insn_idx];
	env->explored[insn_idx] = cp;
	return 0;
}

/*
 * loop.c: a copy of the current state that the path continues from but no
 * check compares against (it stands for checkpoints of summarized
 * iterations).  It is freed with the rest; a checkpoint taken right after
 * at the same instruction adopts it (env->adopt).
 */
int hidden_checkpoint(struct venv *env, uint32_t insn_idx, struct vcheckpoint **out)
{
	struct vcheckpoint *cp = calloc(1, sizeof(*cp));
	int err;

	if (!cp)
		return -ENOMEM;
	if ((err = split_state(env, insn_idx, cp))) {
		state_free(&cp->st, false);
		free(cp);
		return err;
	}
	cp->next = env->hidden;
	env->hidden = cp;
	*out = cp;
	return 0;
}

/* A checkpoint that keeps missing is not worth comparing against: unlink *pprev. */
static bool evict_if_useless(struct venv *env, uint32_t insn_idx, struct vcheckpoint **pprev)
{
	struct vcheckpoint *cp = *pprev;
	uint32_t n = checkpoint_miss_limit(env, insn_idx, cp->st.branches != 0);

	if (cp->miss <= cp->hit * n + n)
		return false;
	*pprev = cp->next;
	cp->next = env->free_list;
	env->free_list = cp;
	env->peak_states--;
	return true;
}

/* An ancestor checkpoint (still being explored): a loop, maybe an endless one. */
static int ancestor_match(struct venv *env, struct vcheckpoint *cp, uint32_t insn_idx,
			  bool force_new, bool *add_new)
{
	struct vstate *cur = env->cur, *old = &cp->st;

	if (env->ops[insn_idx] == ISA_OP_MAY_GOTO && old->may_goto_depth != cur->may_goto_depth &&
	    states_equal(env, old, cur, RANGE_WITHIN))
		return 1;
	if (env->aux[insn_idx].calls_callback) {
		if (states_equal(env, old, cur, RANGE_WITHIN))
			return 1;
	} else if (old->may_goto_depth == cur->may_goto_depth &&
		   old->callback_unroll_depth == cur->callback_unroll_depth &&
		   states_equal(env, old, cur, EXACT)) {
		vhint(env, "nothing the loop changes brings it closer to its exit; bound it by a "
			   "counter the verifier can follow");
		verr(env, -EINVAL, "infinite loop detected at insn %u\n", insn_idx);
		vlog(env, "cur state:");
		vlog_frame(env, cur_frame(cur), true);
		vlog(env, "old state:");
		vlog_frame(env, cur_frame(old), true);
		return -EINVAL;
	}
	if (!force_new && env->jmps_processed - env->prev_jmps_processed < V_LOOP_CP_JMPS &&
	    env->insn_processed - env->prev_insn_processed < V_LOOP_CP_INSNS)
		*add_new = false;
	return 0;
}

static int hit(struct venv *env, struct vcheckpoint *cp)
{
	int err;

	cp->hit++;
	if ((err = propagate_liveness(env, &cp->st, env->cur)))
		return err;
	if (env->aux[env->insn_idx].jmp_point && (err = push_hist(env, env->cur, 0)))
		return err;
	if ((err = propagate_precision(env, &cp->st)))
		return err;
	return 1;
}

int is_state_visited(struct venv *env, uint32_t insn_idx)
{
	struct vstate *cur = env->cur;
	struct vcheckpoint **pprev = &env->explored[insn_idx], *cp;
	bool force_new = env->test_state_freq || env->aux[insn_idx].force_checkpoint ||
			 (int64_t)(cur->hist_end - cur->hist_start) + cur->hist_adj > V_CP_FORCE_HIST;
	bool add_new = force_new || (env->jmps_processed - env->prev_jmps_processed >= V_CP_JMPS &&
				     env->insn_processed - env->prev_insn_processed >= V_CP_INSNS);
	uint32_t states_cnt = loop_virtual_checkpoints(env, insn_idx, force_new, &add_new);
	int r;

	clean_live_states(env, insn_idx, cur);
	while ((cp = *pprev)) {
		states_cnt++;
		if (cp->st.branches) {
			r = ancestor_match(env, cp, insn_idx, force_new, &add_new);
			if (r)
				return r < 0 ? r : hit(env, cp);
		} else if (states_equal(env, &cp->st, cur, NOT_EXACT)) {
			return hit(env, cp);
		}
		if (add_new)
			cp->miss++;
		if (!evict_if_useless(env, insn_idx, pprev))
			pprev = &cp->next;
	}
	if (env->max_states_per_insn < states_cnt)
		env->max_states_per_insn = states_cnt;
	return add_new ? new_checkpoint(env, insn_idx) : 0;
}

/*
 * loop.c: the kernel would have taken a checkpoint at insn_idx during
 * summarized iterations; the checkpoints there (all of the path, still
 * being explored) missed once more.
 */
void checkpoints_missed(struct venv *env, uint32_t insn_idx)
{
	struct vcheckpoint **pprev = &env->explored[insn_idx], *cp;

	while ((cp = *pprev)) {
		cp->miss++;
		if (!evict_if_useless(env, insn_idx, pprev))
			pprev = &cp->next;
	}
}

void free_explored(struct venv *env)
{
	for (uint32_t i = 0; env->explored && i < env->cnt; i++) {
		while (env->explored[i]) {
			struct vcheckpoint *cp = env->explored[i];

			env->explored[i] = cp->next;
			state_free(&cp->st, false);
			free(cp);
		}
	}
	while (env->hidden) {
		struct vcheckpoint *cp = env->hidden;

		env->hidden = cp->next;
		state_free(&cp->st, false);
		free(cp);
	}
	while (env->free_list) {
		struct vcheckpoint *cp = env->free_list;

		env->free_list = cp->next;
		state_free(&cp->st, false);
		free(cp);
	}
}
