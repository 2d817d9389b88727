/*
 * precise.c - precision tracking.  A scalar is "precise" when some check
 * depended on its exact range (a decided branch, a memory offset, a
 * helper's size argument, a return value).  Only precise scalars must
 * match exactly for a checkpoint to cover a state; the others may differ.
 * When a check starts depending on a register, its precision is traced
 * back along the path taken: through moves, arithmetic, spills and fills
 * to where the value came from, marking it precise in every checkpoint it
 * passes.  The walk follows the kernel's backtracking; where it cannot
 * follow (an instruction it does not model), every scalar of the path
 * becomes precise, which is always safe.
 */
#include "verifier.h"

#include "helper_protos.h"

#define REGMASK_ARGS 0x3e /* r1-r5 */

static void bt_set_reg(struct vbacktrack *bt, uint32_t r) { bt->regs[bt->frame] |= (uint16_t)(1u << r); }
static void bt_clear_reg(struct vbacktrack *bt, uint32_t r) { bt->regs[bt->frame] &= (uint16_t)~(1u << r); }
static bool bt_is_reg(const struct vbacktrack *bt, uint32_t r) { return bt->regs[bt->frame] & (1u << r); }

static bool bt_empty(const struct vbacktrack *bt)
{
	for (int i = 0; i < V_MAX_FRAMES; i++)
		if (bt->regs[i] || bt->slots[i])
			return false;
	return true;
}

static void bt_reset(struct vbacktrack *bt)
{
	memset(bt, 0, sizeof(*bt));
}

static void log_masks(struct venv *env, const struct vbacktrack *bt, uint32_t fr)
{
	const char *sep = "";

	vlog(env, "regs=");
	for (uint32_t r = 0; r < V_NREGS; r++)
		if (bt->regs[fr] & (1u << r)) {
			vlog(env, "%sr%u", sep, r);
			sep = ",";
		}
	vlog(env, " stack=");
	sep = "";
	for (uint32_t s = 0; s < 64; s++)
		if (bt->slots[fr] & (1ull << s)) {
			vlog(env, "%s%d", sep, -(int)(s + 1) * 8);
			sep = ",";
		}
}

/* Scalars linked at a jump: if one needs precision, all do. */
static void bt_sync_linked(struct vbacktrack *bt, const struct vhist *h)
{
	uint32_t n;
	bool any = false;

	if (!h || !h->linked)
		return;
	n = h->linked & 7;
	if (n > 6)
		n = 6;
	for (int pass = 0; pass < 2; pass++) {
		for (uint32_t i = 0; i < n; i++) {
			uint32_t e = (uint32_t)(h->linked >> (3 + 10 * i)) & 0x3ff;
			uint32_t fr = e & 7, is_reg = (e >> 3) & 1, idx = e >> 4;

			if (!pass)
				any |= is_reg ? !!(bt->regs[fr] & (1u << idx)) : !!(bt->slots[fr] & (1ull << idx));
			else if (is_reg)
				bt->regs[fr] |= (uint16_t)(1u << idx);
			else
				bt->slots[fr] |= 1ull << idx;
		}
		if (!any)
			return;
	}
}

static bool is_callback_helper(int32_t id)
{
	return helper_has(id, HF_SYNC_CALLBACK);
}

/* Calls and exits move the walk between frames. */
static int bt_jump(struct venv *env, uint32_t idx, int64_t subseq, const struct vhist *h,
		   struct vbacktrack *bt)
{
	const struct bpfvm_insn *insn = &env->insns[idx];
	enum isa_op op = env->ops[idx];

	if (op == ISA_OP_CALL_LOCAL || (op == ISA_OP_CALL_HELPER && is_callback_helper(insn->imm) &&
					(int64_t)idx != subseq - 1)) {
		/* back out of the callee: its arguments are the caller's registers */
		if ((bt->regs[bt->frame] & ~REGMASK_ARGS) || bt->slots[bt->frame] || !bt->frame)
			return -ENOTSUP;
		for (uint32_t r = 1; r <= 5; r++)
			if (bt_is_reg(bt, r)) {
				bt_clear_reg(bt, r);
				if (op == ISA_OP_CALL_LOCAL)
					bt->regs[bt->frame - 1] |= (uint16_t)(1u << r);
			}
		bt->frame--;
		return 0;
	}
	if (op == ISA_OP_CALL_HELPER || op == ISA_OP_CALL_KFUNC || op == ISA_OP_CALLX) {
		bt_clear_reg(bt, 0);
		return (bt->regs[bt->frame] & REGMASK_ARGS) ? -ENOTSUP : 0;
	}
	if (op == ISA_OP_EXIT) {
		bool from_call = subseq >= 1 && env->ops[subseq - 1] == ISA_OP_CALL_LOCAL;
		bool r0 = from_call && bt_is_reg(bt, 0);

		if (from_call && (bt->regs[bt->frame] & REGMASK_ARGS))
			return -ENOTSUP;
		bt_clear_reg(bt, 0);
		if (bt->frame + 1 >= V_MAX_FRAMES)
			return -ENOTSUP;
		bt->frame++;
		if (r0)
			bt_set_reg(bt, 0);
		return 0;
	}
	if (isa_ops[op].form == F_JCOND_X && (bt_is_reg(bt, insn->dst_reg) || bt_is_reg(bt, insn->src_reg))) {
		bt_set_reg(bt, insn->src_reg);
		bt_set_reg(bt, insn->dst_reg);
	}
	(void)h;
	return 0;
}

/* One instruction, backwards: whose values made the registers we look for. */
static int backtrack_insn(struct venv *env, uint32_t idx, int64_t subseq, const struct vhist *h,
			  struct vbacktrack *bt)
{
	const struct bpfvm_insn *insn = &env->insns[idx];
	enum isa_op op = env->ops[idx];
	uint32_t d = insn->dst_reg, s = insn->src_reg, form;
	int err = 0;

	if (op == ISA_OP_INVALID)
		return 0; /* lddw's second slot */
	if (env->log_level >= 3) {
		vlog(env, "mark_precise: frame%u: ", bt->frame);
		log_masks(env, bt, bt->frame);
		vlog(env, " before ");
		vlog_insn_line(env, idx);
	}
	bt_sync_linked(bt, h);
	form = isa_ops[op].form;
	switch (form) {
	case F_ALU_K: case F_ALU_X: case F_NEG: case F_END:
		if (!bt_is_reg(bt, d) || form == F_NEG || form == F_END)
			break;
		if (BPFVM_OP(insn->code) == BPFVM_MOV) {
			bt_clear_reg(bt, d);
			if (form == F_ALU_X && s != V_FP)
				bt_set_reg(bt, s);
		} else if (form == F_ALU_X && s != V_FP) {
			bt_set_reg(bt, s);
		}
		break;
	case F_LDX:
	case F_ATOMIC:
		if (form == F_LDX || (insn->imm & BPFVM_FETCH) || insn->imm == BPFVM_LOAD_ACQ) {
			uint32_t load = form == F_LDX || insn->imm == BPFVM_LOAD_ACQ ? d
				      : insn->imm == BPFVM_CMPXCHG ? 0 : s;

			if (!bt_is_reg(bt, load))
				break;
			bt_clear_reg(bt, load);
			if (h && (h->flags & HIST_STACK_ACCESS))
				bt->slots[HIST_FRAME(h->flags)] |= 1ull << HIST_SPI(h->flags);
			break;
		}
		/* a store */
		__attribute__((fallthrough));
	case F_ST: case F_STX: {
		uint32_t fr, spi;

		if (bt_is_reg(bt, d))
			return -ENOTSUP;
		if (!h || !(h->flags & HIST_STACK_ACCESS))
			break;
		fr = HIST_FRAME(h->flags), spi = HIST_SPI(h->flags);
		if (!(bt->slots[fr] & (1ull << spi)))
			break;
		bt->slots[fr] &= ~(1ull << spi);
		if (form != F_ST)
			bt_set_reg(bt, s);
		break;
	}
	case F_LDDW:
		bt_clear_reg(bt, d);
		return 0;
	case F_LDABS: case F_LDIND:
		if (bt_is_reg(bt, 0))
			return -ENOTSUP;
		if (subseq != (int64_t)idx + 1) { /* the hidden exit of a subprogram */
			if (bt->frame + 1 >= V_MAX_FRAMES)
				return -ENOTSUP;
			bt->frame++;
		}
		return 0;
	default:
		err = bt_jump(env, idx, subseq, h, bt);
		break;
	}
	bt_sync_linked(bt, h);
	return err;
}

void mark_all_scalars_precise(struct venv *env, struct vstate *st)
{
	if (env->log_level >= 3)
		vlog(env, "mark_precise: frame%u: falling back to forcing all scalars precise\n",
		     st->curframe);
	for (st = st->parent; st; st = st->parent) {
		for_each_reg_in_state(st, fr, reg, {
			if (reg->type == VT_SCALAR)
				reg->precise = 1;
		});
	}
}

void mark_all_scalars_imprecise(struct venv *env, struct vstate *st)
{
	(void)env;
	for_each_reg_in_state(st, fr, reg, {
		if (reg->type == VT_SCALAR)
			reg->precise = 0;
	});
}

/* The instruction before idx on the path within st, or -1 at st's start. */
static int64_t prev_insn(const struct venv *env, const struct vstate *st, uint32_t idx,
			 uint32_t hist_start, uint32_t *hist_end)
{
	uint32_t cnt = *hist_end - hist_start;

	if (idx == st->first_insn &&
	    (cnt == 0 || (cnt == 1 && env->hist[hist_start].idx == idx)))
		return -1;
	if (cnt && env->hist[*hist_end - 1].idx == idx)
		return env->hist[--*hist_end].prev_idx;
	return (int64_t)idx - 1;
}

/* In a checkpoint the walk reaches: mark what it looks for precise there. */
static void mark_in_parent(struct venv *env, struct vstate *st, struct vbacktrack *bt)
{
	for (int fr = (int)bt->frame; fr >= 0; fr--) {
		struct vframe *f = st->frames[fr];

		for (uint32_t r = 0; r < V_NREGS; r++) {
			struct vreg *reg = &f->regs[r];

			if (!(bt->regs[fr] & (1u << r)))
				continue;
			if (reg->type != VT_SCALAR || reg->precise)
				bt->regs[fr] &= (uint16_t)~(1u << r);
			else
				reg->precise = 1;
		}
		for (uint32_t s = 0; s < 64; s++) {
			if (!(bt->slots[fr] & (1ull << s)))
				continue;
			/* a spill narrower than 8 bytes too: its value decides fills of it */
			if (s >= f->nslots || !slot_is_spilled_reg(&f->stack[s]) ||
			    f->stack[s].spilled.type != VT_SCALAR || f->stack[s].spilled.precise)
				bt->slots[fr] &= ~(1ull << s);
			else
				f->stack[s].spilled.precise = 1;
		}
		if (env->log_level >= 3) {
			vlog(env, "mark_precise: frame%d: parent state ", fr);
			log_masks(env, bt, (uint32_t)fr);
			vlog(env, ":");
			vlog_frame(env, f, true);
		}
	}
}

static bool bt_same(const struct vbacktrack *a, const struct vbacktrack *b)
{
	return a->frame == b->frame && !memcmp(a->regs, b->regs, sizeof(a->regs)) &&
	       !memcmp(a->slots, b->slots, sizeof(a->slots));
}

/*
 * Back through iterations loop.c summarized: the recorded body, count
 * times.  The walk is the same function of what it looks for in every
 * iteration, so what it looks for soon repeats; whole periods are skipped.
 */
static int bt_repeat(struct venv *env, const struct vloop_rec *rec, struct vbacktrack *bt)
{
	struct vbacktrack seen[16];
	uint64_t left = rec->count;
	uint32_t nseen = 0;
	bool periodic = false;

	if (env->log_level >= 3)
		vlog(env, "mark_precise: frame%u: back through %llu summarized iterations\n", bt->frame,
		     (unsigned long long)rec->count);
	while (left) {
		for (uint32_t k = 0; !periodic && k < nseen; k++)
			if (bt_same(&seen[k], bt)) {
				left %= nseen - k;
				periodic = true;
			}
		if (!left)
			break;
		if (!periodic && nseen < 16)
			seen[nseen++] = *bt;
		for (int64_t j = (int64_t)rec->len - 1; j >= 0; j--) {
			int64_t subseq = j + 1 < rec->len ? rec->body[j + 1] : rec->body[0];
			int err = backtrack_insn(env, rec->body[j], subseq, NULL, bt);

			if (err)
				return err;
		}
		left--;
		if (bt_empty(bt))
			break;
	}
	return 0;
}

/* The history entry of instruction i, if any; NULL for a loop summary's marker. */
static const struct vhist *hist_of(const struct venv *env, int64_t i, uint32_t hist_start,
				   uint32_t hist_end)
{
	const struct vhist *h = hist_end > hist_start ? &env->hist[hist_end - 1] : NULL;

	return h && h->idx == i && !(h->flags & HIST_REPEAT) ? h : NULL;
}

/* Iterations loop.c summarized, ending with instruction i: the record, or NULL. */
static const struct vloop_rec *summary_at(const struct venv *env, int64_t i, uint32_t hist_start,
					  uint32_t hist_end)
{
	const struct vhist *h = hist_end > hist_start ? &env->hist[hist_end - 1] : NULL;

	if (!h || h->idx != i || !(h->flags & HIST_REPEAT))
		return NULL;
	return &env->loops[h->flags & HIST_REC_MASK];
}

/* Walk back from the current instruction with what env->bt holds. */
static int backtrack(struct venv *env)
{
	struct vbacktrack *bt = &env->bt;
	struct vstate *st = env->cur;
	int64_t last = env->insn_idx, subseq = -1;
	uint32_t first = st->first_insn;
	bool skip_first = true;

	while (!bt_empty(bt)) {
		uint32_t hist_start = st->hist_start, hist_end = st->hist_end;

		if (last < 0) {
			mark_all_scalars_precise(env, env->cur);
			break;
		}
		for (int64_t i = last;;) {
			const struct vloop_rec *rec = skip_first ? NULL
						     : summary_at(env, i, hist_start, hist_end);
			int err;

			if (rec) {
				/* back through the iterations to the first one's head */
				hist_end--;
				err = bt_repeat(env, rec, bt);
				i = rec->body[0];
			} else {
				const struct vhist *h = hist_of(env, i, hist_start, hist_end);

				err = skip_first ? 0 : backtrack_insn(env, (uint32_t)i, subseq, h, bt);
			}
			skip_first = false;
			if (err) {
				/* an instruction the walk cannot see through: be safe */
				mark_all_scalars_precise(env, env->cur);
				bt_reset(bt);
				return 0;
			}
			if (bt_empty(bt))
				return 0;
			subseq = i;
			i = prev_insn(env, st, (uint32_t)i, hist_start, &hist_end);
			if (i < 0)
				break;
		}
		st = st->parent;
		if (!st)
			break;
		mark_in_parent(env, st, bt);
		subseq = first;
		last = st->last_insn == UINT32_MAX ? -1 : (int64_t)st->last_insn;
		first = st->first_insn;
	}
	if (!bt_empty(bt)) {
		mark_all_scalars_precise(env, env->cur);
		bt_reset(bt);
	}
	return 0;
}

int mark_chain_precision(struct venv *env, uint32_t regno)
{
	struct vreg *reg;

	if (regno >= V_NREGS)
		return 0; /* no register (a store of an immediate) */
	reg = &cur_frame(env->cur)->regs[regno];
	if (reg->type != VT_SCALAR)
		return 0;
	bt_reset(&env->bt);
	env->bt.frame = env->cur->curframe;
	bt_set_reg(&env->bt, regno);
	return backtrack(env);
}

/* With env->bt set up by the caller (prune.c's precision propagation). */
int mark_chain_precision_batch(struct venv *env)
{
	env->bt.frame = env->cur->curframe;
	return backtrack(env);
}
