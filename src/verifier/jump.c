/*
 * jump.c - conditional jumps.  If what is known decides the outcome, only
 * that edge is followed (and the compared scalars become precise: the
 * path depends on their values).  Otherwise the jump edge is pushed and
 * both edges narrow what they know: scalar ranges (branch.c), every copy
 * linked to a compared scalar, null checks of pointers that may be NULL
 * (every register sharing the pointer's id becomes valid, or a plain 0),
 * and comparisons of packet pointers with the packet's end, which give
 * every pointer derived from the same packet offset a checked range.
 */
#include "verifier.h"

#include <string.h>

#include "branch.h"
#include "scalar.h"

/* ---- linked scalars ------------------------------------------------------------- */

/* Registers and spilled slots holding copies of scalar id (for sync and precision). */
struct linked {
	uint32_t n;
	struct { uint8_t frame, is_reg, idx; } e[8];
};

static void collect_linked(struct vstate *st, uint32_t id, struct linked *set)
{
	for (int f = (int)st->curframe; f >= 0; f--) {
		struct vframe *fr = st->frames[f];

		for (uint32_t r = 0; r < V_FP; r++) {
			struct vreg *reg = &fr->regs[r];

			if (reg->type != VT_SCALAR || reg->id != id)
				continue;
			if (set->n < 8)
				set->e[set->n++] = (typeof(set->e[0])){ (uint8_t)f, 1, (uint8_t)r };
			else
				reg->id = 0, reg->off = 0, reg->flags &= (uint8_t)~VF_ADD_CONST;
		}
		for (uint32_t s = 0; s < fr->nslots; s++) {
			struct vreg *reg = &fr->stack[s].spilled;

			if (fr->stack[s].kind[7] != SLOT_SPILL || reg->type != VT_SCALAR || reg->id != id)
				continue;
			if (set->n < 8)
				set->e[set->n++] = (typeof(set->e[0])){ (uint8_t)f, 0, (uint8_t)s };
			else
				reg->id = 0, reg->off = 0, reg->flags &= (uint8_t)~VF_ADD_CONST;
		}
	}
}

static uint64_t pack_linked(const struct linked *set)
{
	uint64_t v = set->n > 6 ? 6 : set->n;

	for (uint32_t i = 0; i < set->n && i < 6; i++)
		v |= (uint64_t)((uint32_t)set->e[i].frame | (uint32_t)set->e[i].is_reg << 3 |
				(uint32_t)set->e[i].idx << 4) << (3 + 10 * i);
	return v;
}

/* Give every copy of known's id the range known has (shifted by their constant deltas). */
void sync_linked_regs(struct vstate *st, struct vreg *known)
{
	for_each_reg_in_state(st, fr, reg, {
		if (reg->type != VT_SCALAR || reg == known || reg->id != known->id)
			continue;
		if ((!(reg->flags & VF_ADD_CONST) && !(known->flags & VF_ADD_CONST)) ||
		    reg->off == known->off) {
			reg_copy(reg, known);
			continue;
		}
		{
			int32_t off = reg->off;
			uint8_t flags = reg->flags;
			struct vrange delta = range_const((uint64_t)(int64_t)(off - known->off));

			reg_copy(reg, known);
			reg->off = off;
			reg->flags = flags;
			scalar_alu(&reg->r, &delta, BPFVM_ADD, false);
		}
		(void)fr;
	});
}

/* ---- pointers ------------------------------------------------------------------ */

static bool reg_not_null(const struct vreg *reg)
{
	if (reg->flags & VF_NULL)
		return false;
	/* a non-NULL base plus an unbounded offset may wrap to zero */
	if (reg->r.b64.smin <= -V_MAX_VAR_OFF || reg->r.b64.smax >= V_MAX_VAR_OFF)
		return false;
	/* the kernel vouches only for these (its reg_not_null) */
	switch (reg->type) {
	case VT_SOCKET: case VT_TCP_SOCK: case VT_XDP_SOCK: case VT_BUF: case VT_MAP_VALUE:
	case VT_MAP_KEY: case VT_SOCK_COMMON: case VT_MEM: case VT_MAP_PTR:
		return true;
	case VT_BTF_ID:
		return btf_reg_trusted(reg);
	default:
		return false;
	}
}

static void mark_not_null(struct vreg *reg)
{
	reg->flags &= (uint8_t)~VF_NULL;
}

static void mark_ptr_or_null_reg(struct vreg *reg, uint32_t id, bool is_null, bool keep_id)
{
	if (!(reg->flags & VF_NULL) || reg->id != id)
		return;
	if (is_null) {
		/* NULL is a number, and the id has done its job */
		reg_const(reg, 0);
		return;
	}
	mark_not_null(reg);
	if (!keep_id)
		reg->id = 0;
}

/* Every register sharing regno's id is NULL (is_null) or valid. */
void mark_ptr_or_null_regs(struct venv *env, struct vstate *st, uint32_t regno, bool is_null)
{
	struct vreg *r = &cur_frame(st)->regs[regno];
	uint32_t id = r->id, ref = r->ref_obj_id;
	/* a pointer that may hold a bpf_spin_lock keeps its id: the lock is named by it */
	bool keep = r->type == VT_MAP_VALUE && env->maps[r->map].spin_lock_off >= 0;

	if (ref && ref == id && is_null) {
		/* the NULL branch holds no reference to release */
		for (uint32_t i = 0; i < st->nrefs; i++)
			if (st->refs[i].id == id) {
				st->refs[i] = st->refs[--st->nrefs];
				break;
			}
	}
	for_each_reg_in_state(st, fr, reg, { mark_ptr_or_null_reg(reg, id, is_null, keep); });
}

/* ---- packet ranges -------------------------------------------------------------- */

/* dst (a packet pointer) is within the packet: so is everything up to it. */
static void find_good_pkt_pointers(struct vstate *st, const struct vreg *dst, bool range_open)
{
	int32_t new_range;

	if (dst->off < 0 || (dst->off == 0 && range_open))
		return;
	if (dst->r.b64.umax > V_MAX_PACKET_OFF || dst->r.b64.umax + (uint64_t)dst->off > V_MAX_PACKET_OFF)
		return; /* pkt + (1 << 63) may be below pkt_end only by wrapping */
	new_range = dst->off + (range_open ? 1 : 0);
	for_each_reg_in_state(st, fr, reg, {
		if (reg->type == dst->type && reg->id == dst->id && reg->range < new_range)
			reg->range = new_range;
	});
}

void mark_pkt_end(struct vstate *st, uint32_t regno, bool range_open)
{
	struct vreg *reg = &cur_frame(st)->regs[regno];

	if (reg->type != VT_PACKET)
		return;
	reg->range = range_open ? BEYOND_PKT_END : AT_PKT_END;
}

static bool init_pkt(const struct vreg *r, uint8_t type)
{
	return r->type == type && r->id == 0 && r->off == 0 && tnum_equals_const(r->r.var, 0);
}

/*
 * pkt' > pkt_end and its relatives: the edge where the pointer is not past
 * the end gives its bytes a range; the other marks it beyond the end.
 */
static bool try_match_pkt_pointers(struct venv *env, const struct bpfvm_insn *insn,
				   struct vreg *dst, struct vreg *src, struct vstate *this_b,
				   struct vstate *other_b)
{
	unsigned op = BPFVM_OP(insn->code);
	bool fwd, rev;

	(void)env;
	if (BPFVM_SRC(insn->code) != BPFVM_X || BPFVM_CLASS(insn->code) == BPFVM_JMP32)
		return false;
	/* fwd: dst is the checked pointer; rev: src is */
	fwd = (dst->type == VT_PACKET && src->type == VT_PACKET_END) ||
	      (dst->type == VT_PACKET_META && init_pkt(src, VT_PACKET));
	rev = (dst->type == VT_PACKET_END && src->type == VT_PACKET) ||
	      (init_pkt(dst, VT_PACKET) && src->type == VT_PACKET_META);
	if (!fwd && !rev)
		return false;
	switch (op) {
	case BPFVM_JGT: /* fwd: ptr > end: the fall-through has the range */
		if (fwd) { find_good_pkt_pointers(this_b, dst, false); mark_pkt_end(other_b, insn->dst_reg, true); }
		else { find_good_pkt_pointers(other_b, src, true); mark_pkt_end(this_b, insn->src_reg, false); }
		return true;
	case BPFVM_JLT:
		if (fwd) { find_good_pkt_pointers(other_b, dst, true); mark_pkt_end(this_b, insn->dst_reg, false); }
		else { find_good_pkt_pointers(this_b, src, false); mark_pkt_end(other_b, insn->src_reg, true); }
		return true;
	case BPFVM_JGE:
		if (fwd) { find_good_pkt_pointers(this_b, dst, true); mark_pkt_end(other_b, insn->dst_reg, false); }
		else { find_good_pkt_pointers(other_b, src, false); mark_pkt_end(this_b, insn->src_reg, true); }
		return true;
	case BPFVM_JLE:
		if (fwd) { find_good_pkt_pointers(other_b, dst, false); mark_pkt_end(this_b, insn->dst_reg, true); }
		else { find_good_pkt_pointers(this_b, src, true); mark_pkt_end(other_b, insn->src_reg, false); }
		return true;
	default:
		return false;
	}
}

/* ---- deciding the outcome ------------------------------------------------------------ */

/* pkt vs pkt_end, when one is known to be beyond (or at) the end. */
static int pkt_ptr_branch_taken(const struct vreg *dst, const struct vreg *src, unsigned op)
{
	const struct vreg *pkt;

	if (src->type == VT_PACKET_END) {
		pkt = dst;
	} else if (dst->type == VT_PACKET_END) {
		pkt = src;
		op = branch_swap(op);
	} else {
		return -1;
	}
	if (pkt->range >= 0)
		return -1;
	switch (op) {
	case BPFVM_JLE:
	case BPFVM_JGT:
		if (pkt->range == BEYOND_PKT_END)
			return op == BPFVM_JGT;
		break;
	case BPFVM_JLT:
	case BPFVM_JGE:
		if (pkt->range == BEYOND_PKT_END || pkt->range == AT_PKT_END)
			return op == BPFVM_JGE;
		break;
	}
	return -1;
}

static int branch_outcome(const struct vreg *dst, const struct vreg *src, unsigned op, bool jmp32)
{
	if ((reg_is_pkt(dst) || dst->type == VT_PACKET_END) &&
	    (reg_is_pkt(src) || src->type == VT_PACKET_END) && !jmp32)
		return pkt_ptr_branch_taken(dst, src, op);
	if (reg_is_pointer(dst) || reg_is_pointer(src)) {
		const struct vreg *ptr = dst, *val = src;

		if (jmp32)
			return -1; /* a valid pointer's low half may be 0 */
		if (!reg_is_const(val, false)) {
			ptr = src, val = dst;
			op = branch_swap(op);
		}
		if (!reg_is_const(val, false) || !reg_not_null(ptr) || reg_const_value(val, false))
			return -1;
		return op == BPFVM_JEQ ? 0 : op == BPFVM_JNE ? 1 : -1;
	}
	return branch_taken(&dst->r, &src->r, op, jmp32);
}

/* ---- the jump ------------------------------------------------------------------------- */

static int may_goto(struct venv *env, const struct bpfvm_insn *insn, uint32_t *insn_idx)
{
	struct vstate *queued;
	int err = push_branch(env, *insn_idx + 1, *insn_idx, &queued);

	if (err)
		return err;
	queued->may_goto_depth++;
	*insn_idx += (uint32_t)(int32_t)insn->off;
	return 0;
}

/*
 * A contradiction (an edge no value takes) leaves the bounds unbounded and
 * the known bits as they came out, as the kernel's reg_bounds_sanity_check
 * does (it also logs "REG INVARIANTS VIOLATION").
 */
static void unbound_if_invalid(struct vreg *reg)
{
	struct tnum var = reg->r.var;

	if (range_valid_w(&reg->r, RANGE_BITS))
		return;
	/* known bits that leave one value: the kernel's next sync makes it that constant
	 * (any state is sound here: no value takes this edge) */
	if (tnum_is_const(var)) {
		reg->r = range_const(var.value);
		return;
	}
	reg->r = range_unknown();
	reg->r.var = var;
}

/* Narrow both edges' scalars. */
static int refine_edges(struct venv *env, struct vreg *t1, struct vreg *t2, struct vreg *f1,
			struct vreg *f2, unsigned op, bool jmp32)
{
	if (f1->type != VT_SCALAR || f2->type != VT_SCALAR)
		return 0;
	branch_refine(&f1->r, &f2->r, branch_negate(op), jmp32);
	unbound_if_invalid(f1);
	unbound_if_invalid(f2);
	branch_refine(&t1->r, &t2->r, op, jmp32);
	unbound_if_invalid(t1);
	unbound_if_invalid(t2);
	(void)env;
	return 0;
}

static void sync_after_refine(struct vstate *this_b, struct vstate *other_b, struct vreg *reg,
			      uint32_t regno)
{
	if (reg->type != VT_SCALAR || !reg->id)
		return;
	sync_linked_regs(this_b, reg);
	sync_linked_regs(other_b, &cur_frame(other_b)->regs[regno]);
}

/* A comparison of two pointers, one possibly NULL: equality lifts NULL on one edge. */
static void ptr_eq_not_null(struct vreg *dst, struct vreg *src, struct vreg *eq_regs,
			    const struct bpfvm_insn *insn)
{
	if (reg_not_null(dst) && (src->flags & VF_NULL))
		mark_not_null(&eq_regs[insn->src_reg]);
	if (reg_not_null(src) && (dst->flags & VF_NULL))
		mark_not_null(&eq_regs[insn->dst_reg]);
}

static int decided(struct venv *env, const struct bpfvm_insn *insn, const struct vreg *dst,
		   const struct vreg *src, int pred, uint32_t *insn_idx)
{
	int err = 0;

	if (!reg_is_pointer(dst))
		err = mark_chain_precision(env, insn->dst_reg);
	if (BPFVM_SRC(insn->code) == BPFVM_X && !err && !reg_is_pointer(src))
		err = mark_chain_precision(env, insn->src_reg);
	if (err)
		return err;
	if (pred == 1)
		*insn_idx += (uint32_t)(int32_t)insn->off;
	return 0;
}

int check_cond_jmp(struct venv *env, const struct bpfvm_insn *insn, enum isa_op op,
		   uint32_t *insn_idx)
{
	struct vstate *this_b = env->cur, *other_b;
	struct vreg *regs = cur_frame(this_b)->regs, *other_regs, *dst, *src, imm, imm2;
	bool jmp32 = BPFVM_CLASS(insn->code) == BPFVM_JMP32, x = isa_ops[op].form == F_JCOND_X;
	unsigned bop = BPFVM_OP(insn->code);
	struct linked linked = { 0 };
	int err, pred;

	if (op == ISA_OP_MAY_GOTO)
		return may_goto(env, insn, insn_idx);
	if ((err = check_reg_arg(env, insn->dst_reg, SRC_OP)))
		return err;
	dst = &regs[insn->dst_reg];
	if (x) {
		if ((err = check_reg_arg(env, insn->src_reg, SRC_OP)))
			return err;
		src = &regs[insn->src_reg];
	} else {
		memset(&imm, 0, sizeof(imm));
		reg_const(&imm, (uint64_t)(int64_t)insn->imm);
		src = &imm;
	}
	pred = branch_outcome(dst, src, bop, jmp32);
	if (pred >= 0)
		return decided(env, insn, dst, src, pred, insn_idx);

	if (x && src->type == VT_SCALAR && src->id)
		collect_linked(this_b, src->id, &linked);
	if (dst->type == VT_SCALAR && dst->id)
		collect_linked(this_b, dst->id, &linked);
	if (linked.n > 1 && (err = push_hist(env, this_b, 0)))
		return err;
	if (linked.n > 1)
		env->hist[this_b->hist_end - 1].linked = pack_linked(&linked);

	if ((err = push_branch(env, *insn_idx + 1 + (uint32_t)(int32_t)insn->off, *insn_idx, &other_b)))
		return err;
	other_regs = cur_frame(other_b)->regs;
	if (x) {
		err = refine_edges(env, &other_regs[insn->dst_reg], &other_regs[insn->src_reg], dst, src,
				   bop, jmp32);
	} else {
		imm2 = imm;
		err = refine_edges(env, &other_regs[insn->dst_reg], &imm, dst, &imm2, bop, jmp32);
	}
	if (err)
		return err;
	if (x)
		sync_after_refine(this_b, other_b, src, insn->src_reg);
	sync_after_refine(this_b, other_b, dst, insn->dst_reg);

	if (!jmp32 && x && reg_is_pointer(src) && reg_is_pointer(dst) &&
	    src->type != VT_BTF_ID && dst->type != VT_BTF_ID &&
	    (bop == BPFVM_JEQ || bop == BPFVM_JNE))
		ptr_eq_not_null(dst, src, bop == BPFVM_JEQ ? other_regs : regs, insn);

	if (!jmp32 && !x && insn->imm == 0 && (bop == BPFVM_JEQ || bop == BPFVM_JNE) &&
	    (dst->flags & VF_NULL)) {
		mark_ptr_or_null_regs(env, this_b, insn->dst_reg, bop == BPFVM_JNE);
		mark_ptr_or_null_regs(env, other_b, insn->dst_reg, bop == BPFVM_JEQ);
	} else {
		try_match_pkt_pointers(env, insn, dst, x ? src : &regs[insn->src_reg], this_b, other_b);
	}
	return 0;
}
