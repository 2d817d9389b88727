/*
 * alu.c - arithmetic instructions on the abstract state: moves (which
 * copy a register's whole state, and link copies of a scalar by an id so
 * that what a later comparison learns about one applies to all), the
 * sign-extending moves, negation and byte swaps, and the binary operations.
 * On two scalars the result's range comes from scalar.c; on a pointer and
 * a scalar, the kernel's rules of pointer arithmetic: which pointer kinds
 * allow it, a known offset joins the pointer's fixed part, an unknown one
 * its variable part, packet pointers lose their checked range.
 */
#include "verifier.h"

#include "scalar.h"
#include "../isa/semantics.h"

static const char *const alu_names[16] = {
	"+=", "-=", "*=", "/=", "|=", "&=", "<<=", ">>=", "neg", "%=", "^=", "=", "s>>=", "endian",
};

/* dst takes src's state; liveness stays with the slot. */
void reg_copy(struct vreg *dst, const struct vreg *src)
{
	struct vreg *parent = dst->parent;
	uint8_t live = dst->live;

	*dst = *src;
	dst->parent = parent;
	dst->live = live;
}

static void clear_scalar_id(struct vreg *reg)
{
	reg->id = 0;
	reg->off = 0;
	reg->flags &= (uint8_t)~VF_ADD_CONST;
}

/* Before rX = rY: give rY an id so that rX and rY stay linked. */
void assign_scalar_id_before_mov(struct venv *env, struct vreg *src)
{
	if (src->type != VT_SCALAR)
		return;
	if (src->flags & VF_ADD_CONST)
		clear_scalar_id(src); /* rX += c twice cannot be followed */
	if (!src->id && !tnum_is_const(src->r.var))
		src->id = new_id(env);
}

static bool is_pointer_value(const struct vreg *reg)
{
	(void)reg;
	return false; /* a privileged program may leak pointers, as root may in the kernel */
}

static int check_end_neg(struct venv *env, const struct bpfvm_insn *insn, enum isa_op op)
{
	struct vreg *dst = &cur_frame(env->cur)->regs[insn->dst_reg];
	int err = check_reg_arg(env, insn->dst_reg, SRC_OP);

	if (err)
		return err;
	if (dst->type != VT_SCALAR && is_pointer_value(dst))
		return verr_regs(env, -EACCES, (uint16_t)(1u << insn->dst_reg),
				 "R%u pointer arithmetic prohibited\n", insn->dst_reg);
	/* a pointer's bits, to a privileged program, are an unknown number */
	err = check_reg_arg(env, insn->dst_reg, dst->type == VT_SCALAR ? DST_OP_NO_MARK : DST_OP);
	if (err)
		return err;
	if (op == ISA_OP_NEG64 || op == ISA_OP_NEG32) {
		scalar_neg_w(&dst->r, op == ISA_OP_NEG32, RANGE_BITS);
	} else {
		bool swap = op >= ISA_OP_BSWAP16 && op <= ISA_OP_BSWAP64;

		/* the host is little-endian: to_le truncates, to_be swaps */
		if (op >= ISA_OP_BE16 && op <= ISA_OP_BE64)
			swap = true;
		scalar_bswap_w(&dst->r, (unsigned)insn->imm, swap, RANGE_BITS);
	}
	clear_scalar_id(dst);
	return 0;
}

/* rX = (s8/s16/s32) rY, and the 32-bit forms wX = (s8/s16) wY. */
static void mov_sext(struct venv *env, struct vreg *dst, struct vreg *src, int bits, bool alu32)
{
	bool no_sext = src->r.b64.umax < (1ull << (bits - 1));

	if (no_sext)
		assign_scalar_id_before_mov(env, src);
	reg_copy(dst, src);
	if (!no_sext)
		clear_scalar_id(dst);
	if (alu32)
		range_sext32_w(&dst->r, (unsigned)bits, RANGE_BITS);
	else
		range_sext_w(&dst->r, (unsigned)bits, RANGE_BITS);
}

static int mov_reg(struct venv *env, const struct bpfvm_insn *insn, enum isa_op op)
{
	struct vreg *regs = cur_frame(env->cur)->regs;
	struct vreg *dst = &regs[insn->dst_reg], *src = &regs[insn->src_reg];
	bool alu32 = op == ISA_OP_MOV32_X || op == ISA_OP_MOVSX8_32 || op == ISA_OP_MOVSX16_32;

	if (op == ISA_OP_MOV64_X) {
		assign_scalar_id_before_mov(env, src);
		reg_copy(dst, src);
		dst->live |= LIVE_WRITTEN;
		return 0;
	}
	if (src->type != VT_SCALAR) {
		if (is_pointer_value(src))
			return verr(env, -EACCES, alu32 ? "R%u partial copy of pointer\n"
							: "R%u sign-extension part of pointer\n",
				    insn->src_reg);
		reg_unknown(env, dst);
		if (alu32) {
			range_zext(&dst->r);
			range_sync(&dst->r);
		}
		dst->live |= LIVE_WRITTEN;
		return 0;
	}
	if (op == ISA_OP_MOV32_X) {
		bool fits = src->r.b64.umax <= UINT32_MAX;

		if (fits)
			assign_scalar_id_before_mov(env, src);
		reg_copy(dst, src);
		if (!fits)
			clear_scalar_id(dst);
		range_zext(&dst->r);
		range_sync(&dst->r);
	} else {
		int bits = op == ISA_OP_MOVSX8_64 || op == ISA_OP_MOVSX8_32 ? 8
			 : op == ISA_OP_MOVSX16_64 || op == ISA_OP_MOVSX16_32 ? 16 : 32;
		mov_sext(env, dst, src, bits, alu32);
	}
	dst->live |= LIVE_WRITTEN;
	return 0;
}

static int check_mov(struct venv *env, const struct bpfvm_insn *insn, enum isa_op op)
{
	struct vreg *dst;
	int err;

	if (isa_ops[op].form == F_ALU_X && (err = check_reg_arg(env, insn->src_reg, SRC_OP)))
		return err;
	if ((err = check_reg_arg(env, insn->dst_reg, DST_OP_NO_MARK)))
		return err;
	if (isa_ops[op].form == F_ALU_X)
		return mov_reg(env, insn, op);
	dst = &cur_frame(env->cur)->regs[insn->dst_reg];
	reg_unknown(env, dst);
	reg_const(dst, op == ISA_OP_MOV64_K ? (uint64_t)(int64_t)insn->imm : (uint32_t)insn->imm);
	return 0;
}

/* ---- pointer arithmetic ---------------------------------------------------------- */

static bool check_reg_sane_offset(struct venv *env, const struct vreg *reg, const struct vreg *ptr)
{
	char tb[48];
	int64_t val = (int64_t)reg->r.var.value, smin = reg->r.b64.smin;

	vtype_str(ptr, tb, sizeof(tb));
	if (tnum_is_const(reg->r.var) && (val >= V_MAX_VAR_OFF || val <= -V_MAX_VAR_OFF)) {
		verr(env, -EINVAL, "math between %s pointer and %lld is not allowed\n", tb, (long long)val);
		return false;
	}
	if (reg->off >= V_MAX_VAR_OFF || reg->off <= -V_MAX_VAR_OFF) {
		verr(env, -EINVAL, "%s pointer offset %d is not allowed\n", tb, reg->off);
		return false;
	}
	if (smin == INT64_MIN) {
		verr(env, -EINVAL, "math between %s pointer and register with unbounded min value is "
				   "not allowed\n", tb);
		vhint(env, "bound the scalar's signed minimum first, e.g. with `if rX s< 0 goto ...`");
		return false;
	}
	if (smin >= V_MAX_VAR_OFF || smin <= -V_MAX_VAR_OFF) {
		verr(env, -EINVAL, "value %lld makes %s pointer be out of bounds\n", (long long)smin, tb);
		return false;
	}
	return true;
}

static int ptr_kind_allows_math(struct venv *env, const struct vreg *ptr, const struct vreg *off,
				unsigned op, uint32_t dst)
{
	bool known = tnum_is_const(off->r.var);
	char tb[48];

	switch (ptr->type) {
	case VT_CTX: case VT_MAP_VALUE: case VT_MAP_KEY: case VT_STACK: case VT_PACKET_META:
	case VT_PACKET: case VT_TP_BUFFER: case VT_BTF_ID: case VT_MEM: case VT_BUF: case VT_FUNC:
		return 0;
	case VT_FLOW_KEYS:
		if (known)
			return 0;
		break;
	case VT_MAP_PTR:
		if (known && off->r.b64.smin == 0 && op == BPFVM_ADD)
			return 0;
		break;
	default:
		break;
	}
	return verr_regs(env, -EACCES, (uint16_t)(1u << dst), "R%u pointer arithmetic on %s prohibited\n",
			 dst, vtype_str(ptr, tb, sizeof(tb)));
}

/* ptr + off, ptr - off: the variable part's bounds (the kernel's adjust_ptr_min_max_vals). */
static void ptr_var_math(struct vreg *dst, const struct vreg *ptr, const struct vreg *off, bool add)
{
	const struct ival *p = &ptr->r.b64, *o = &off->r.b64;
	struct ival *d = &dst->r.b64;

	if (add) {
		if (__builtin_add_overflow(p->smin, o->smin, &d->smin) ||
		    __builtin_add_overflow(p->smax, o->smax, &d->smax))
			d->smin = INT64_MIN, d->smax = INT64_MAX;
		if (__builtin_add_overflow(p->umin, o->umin, &d->umin) ||
		    __builtin_add_overflow(p->umax, o->umax, &d->umax))
			d->umin = 0, d->umax = UINT64_MAX;
		dst->r.var = tnum_add(ptr->r.var, off->r.var);
		return;
	}
	if (__builtin_sub_overflow(p->smin, o->smax, &d->smin) ||
	    __builtin_sub_overflow(p->smax, o->smin, &d->smax))
		d->smin = INT64_MIN, d->smax = INT64_MAX;
	if (p->umin < o->umax) {
		d->umin = 0, d->umax = UINT64_MAX;
	} else {
		d->umin = p->umin - o->umax;
		d->umax = p->umax - o->umin;
	}
	dst->r.var = tnum_sub(ptr->r.var, off->r.var);
}

static int adjust_ptr(struct venv *env, const struct bpfvm_insn *insn, const struct vreg *ptr,
		      const struct vreg *off, unsigned op)
{
	struct vreg *dst = &cur_frame(env->cur)->regs[insn->dst_reg];
	bool known = tnum_is_const(off->r.var);
	int64_t k = off->r.b64.smin;
	uint32_t d = insn->dst_reg;
	struct vreg p = *ptr;
	char tb[48];
	int err;

	if ((known && (off->r.b64.smin != off->r.b64.smax || off->r.b64.umin != off->r.b64.umax)) ||
	    off->r.b64.smin > off->r.b64.smax || off->r.b64.umin > off->r.b64.umax) {
		reg_unknown(env, dst); /* bounds from a dead branch */
		return 0;
	}
	if (p.type == VT_MEM && (p.flags & VF_UNTRUSTED)) {
		/* probed memory (Linux 6.18): no offsets to track */
		if (dst != ptr)
			reg_copy(dst, &p);
		return 0;
	}
	if (BPFVM_CLASS(insn->code) != BPFVM_ALU64) {
		if (op == BPFVM_SUB) {
			reg_unknown(env, dst);
			return 0;
		}
		return verr_regs(env, -EACCES, (uint16_t)(1u << d), "R%u 32-bit pointer arithmetic prohibited\n", d);
	}
	if (p.flags & VF_NULL) {
		vhint(env, "compare R%u with 0 first: on the branch where it is not 0 it is a valid pointer", d);
		return verr_regs(env, -EACCES, (uint16_t)(1u << d),
				 "R%u pointer arithmetic on %s prohibited, null-check it first\n", d,
				 vtype_str(&p, tb, sizeof(tb)));
	}
	if ((err = ptr_kind_allows_math(env, &p, off, op, d)))
		return err;
	/* the offsets' sanity first, then what the operation may do: the kernel's order */
	if (!check_reg_sane_offset(env, off, &p) || !check_reg_sane_offset(env, &p, &p))
		return -EINVAL;
	if (op != BPFVM_ADD && op != BPFVM_SUB)
		return verr_regs(env, -EACCES, (uint16_t)(1u << d),
				 op == BPFVM_AND || op == BPFVM_OR || op == BPFVM_XOR
					 ? "R%u bitwise operator %s on pointer prohibited\n"
					 : "R%u pointer arithmetic with %s operator prohibited\n",
				 d, alu_names[op >> 4]);
	if (op == BPFVM_SUB && dst != ptr)
		return verr(env, -EACCES, "R%u tried to subtract pointer from scalar\n", d);
	if (op == BPFVM_SUB && p.type == VT_STACK)
		return verr(env, -EACCES, "R%u subtraction from stack pointer prohibited\n", d);
	reg_copy(dst, &p);
	dst->r.b32 = range_unknown().b32;
	if (known) {
		int64_t noff = op == BPFVM_ADD ? (int64_t)p.off + k : (int64_t)p.off - k;

		if (noff == (int32_t)noff) {
			dst->off = (int32_t)noff;
			goto out;
		}
	}
	ptr_var_math(dst, &p, off, op == BPFVM_ADD);
	if (reg_is_pkt(&p)) {
		dst->id = new_id(env);
		/* what was added may leave the checked range */
		if (op == BPFVM_ADD || off->r.b64.smin < 0)
			dst->range = 0;
	}
out:
	if (!check_reg_sane_offset(env, dst, &p))
		return -EINVAL;
	range_sync(&dst->r);
	return 0;
}

/* ---- the binary operations -------------------------------------------------------- */

/* rX += c after rX = rY: remember the constant so a later bound on rY applies to rX. */
static void track_add_const(struct vreg *dst, const struct vreg *src, const struct bpfvm_insn *insn,
			    unsigned op, bool alu32)
{
	uint64_t val;

	if (op != BPFVM_ADD || alu32 || !dst->id || !reg_is_const(src, false) ||
	    (BPFVM_SRC(insn->code) == BPFVM_X && insn->src_reg == insn->dst_reg)) {
		clear_scalar_id(dst);
		return;
	}
	val = reg_const_value(src, false);
	if ((dst->flags & VF_ADD_CONST) || val > INT32_MAX) {
		clear_scalar_id(dst);
		return;
	}
	dst->flags |= VF_ADD_CONST;
	dst->off = (int32_t)val;
}

/* AND/OR with a constant of a register in [-1, 0]: explore both values apart. */
static int maybe_fork_scalars(struct venv *env, const struct bpfvm_insn *insn, struct vreg *dst)
{
	struct vstate *branch;
	struct vreg *other;
	bool alu32;
	int err;

	if (dst->r.b64.smin == -1 && dst->r.b64.smax == 0)
		alu32 = false;
	else if (dst->r.b32.smin == -1 && dst->r.b32.smax == 0)
		alu32 = true;
	else
		return 0;
	err = push_branch(env, env->insn_idx, env->insn_idx, &branch);
	if (err)
		return err;
	other = &cur_frame(branch)->regs[insn->dst_reg];
	if (alu32) {
		reg_const32(other, 0);
		range_sync(&other->r);
		reg_const32(dst, UINT32_MAX);
		range_sync(&dst->r);
	} else {
		other->r = range_const(0);
		dst->r = range_const(UINT64_MAX);
	}
	return 0;
}

static int scalar_op(struct venv *env, const struct bpfvm_insn *insn, struct vreg *dst,
		     const struct vreg *src, unsigned op, bool alu32)
{
	int err;

	if ((op == BPFVM_AND || op == BPFVM_OR) && tnum_is_const(src->r.var) &&
	    (err = maybe_fork_scalars(env, insn, dst)))
		return err;
	scalar_alu(&dst->r, &src->r, op, alu32);
	if (op == BPFVM_DIV || op == BPFVM_MOD ||
	    (isa_alu_is_shift(op) && !scalar_shift_known_w(&src->r, alu32, RANGE_BITS))) {
		/* a result the bounds cannot follow: the kernel forgets the register entirely */
		clear_scalar_id(dst);
		dst->precise = 0;
		return 0;
	}
	track_add_const(dst, src, insn, op, alu32);
	return 0;
}

static int check_binop(struct venv *env, const struct bpfvm_insn *insn, enum isa_op op)
{
	struct vreg *regs = cur_frame(env->cur)->regs;
	unsigned bop = BPFVM_OP(insn->code);
	bool alu32 = BPFVM_CLASS(insn->code) == BPFVM_ALU;
	struct vreg *dst = &regs[insn->dst_reg], imm, *src;
	int err;

	if (isa_ops[op].form == F_ALU_X && (err = check_reg_arg(env, insn->src_reg, SRC_OP)))
		return err;
	if ((err = check_reg_arg(env, insn->dst_reg, SRC_OP)))
		return err;
	if ((bop == BPFVM_MOD || bop == BPFVM_DIV) && isa_ops[op].form == F_ALU_K && !insn->imm)
		return verr(env, -EINVAL, "div by zero\n");
	if (isa_alu_is_shift(bop) && isa_ops[op].form == F_ALU_K && (insn->imm < 0 || insn->imm >= (alu32 ? 32 : 64)))
		return verr(env, -EINVAL, "invalid shift %d\n", insn->imm);
	if ((err = check_reg_arg(env, insn->dst_reg, DST_OP_NO_MARK)))
		return err;
	if (isa_ops[op].form == F_ALU_X) {
		src = &regs[insn->src_reg];
	} else {
		memset(&imm, 0, sizeof(imm));
		reg_const(&imm, (uint64_t)(int64_t)insn->imm);
		src = &imm;
	}
	if (dst->type != VT_SCALAR || src->type != VT_SCALAR) {
		if (dst->type != VT_SCALAR && src->type != VT_SCALAR) {
			if (bop == BPFVM_SUB) { /* pointer - pointer: a number */
				reg_unknown(env, dst);
				return 0;
			}
			return verr_regs(env, -EACCES, (uint16_t)(1u << insn->dst_reg | 1u << insn->src_reg),
					 "R%u pointer %s pointer prohibited\n", insn->dst_reg,
					 alu_names[bop >> 4]);
		}
		if (dst->type == VT_SCALAR) { /* scalar += pointer */
			struct vreg off = *dst;

			if ((err = mark_chain_precision(env, insn->dst_reg)))
				return err;
			return adjust_ptr(env, insn, src, &off, bop);
		}
		if (src != &imm && (err = mark_chain_precision(env, insn->src_reg)))
			return err;
		return adjust_ptr(env, insn, dst, src, bop);
	}
	if (src != &imm && dst->precise && (err = mark_chain_precision(env, insn->src_reg)))
		return err;
	return scalar_op(env, insn, dst, src, bop, alu32);
}

int check_alu(struct venv *env, const struct bpfvm_insn *insn, enum isa_op op)
{
	unsigned bop = BPFVM_OP(insn->code);
	int err;

	if (bop == BPFVM_NEG || bop == BPFVM_END)
		err = check_end_neg(env, insn, op);
	else if (bop == BPFVM_MOV)
		err = check_mov(env, insn, op);
	else
		err = check_binop(env, insn, op);
	if (!err)
		facts_note_result(env, env->insn_idx);
	return err;
}
