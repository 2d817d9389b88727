/*
 * jit_x86_64_fuse.c - sequences the x86-64 back-end emits as one: what the
 * instruction set splits and x86 does in one instruction (extensions,
 * address arithmetic, an operation and a test of its result), sequences
 * around a register no path reads again (jit_live.c), and small joins
 * copied to the jumps that reach them.
 */
#include "jit.h"

#if VM_JIT_HAVE_ARCH

#include "../helpers/helper_ids.h"
#include "jit_x86_64_emit.h"

/* ---- fusing what the instruction set splits ---------------------------------------- */

/* Slot i continues a straight line: in the function, and no jump lands on it. */
static bool fusable(const struct jit_ctx *c, uint32_t i, uint32_t end)
{
	return i < end && !c->is_target[i] && c->prog->ops[i] != ISA_OP_INVALID && !jit_probes(c, i);
}

/*
 * Does register reg hold a zero-extended 32-bit value when slot i starts,
 * because the instruction before it, which every path to i runs last,
 * wrote it so (a 32-bit operation, a load narrower than 64 bits)?  Then
 * clang's <<32 >>32 has nothing to clear.
 */
static bool upper_half_zero(const struct jit_ctx *c, uint32_t i, uint8_t reg)
{
	const struct bpfvm_prog *prog = c->prog;
	const struct bpfvm_insn *prev;
	enum isa_op op;

	if (i == 0 || c->is_target[i] || prog->ops[i - 1] == ISA_OP_INVALID)
		return false;
	prev = &prog->insns[i - 1];
	op = (enum isa_op)prog->ops[i - 1];
	if (prev->dst_reg != reg)
		return false;
	switch (isa_ops[op].form) {
	case F_ALU_K: case F_ALU_X: case F_NEG:
		return BPFVM_CLASS(prev->code) == BPFVM_ALU;
	case F_END: /* le/be 16 and 32 clear the rest; bswap (ALU64) and 64-bit ones do not */
		return BPFVM_CLASS(prev->code) == BPFVM_ALU && prev->imm < 64;
	case F_LDX:
		return BPFVM_MODE(prev->code) == BPFVM_MEM && BPFVM_SIZE(prev->code) != BPFVM_DW;
	default:
		return false;
	}
}

/*
 * An ALU operation with a constant, then == 0 or != 0 of its result at
 * the same width: x86's operation sets the flags the test needs (a loop
 * counting down, a mask tested).  Its group-1 code, or -1.
 */
static int flags_for_zero_test(enum isa_op alu, enum isa_op jmp, int32_t jmp_imm)
{
	static const struct { enum isa_op op64, op32; int g1; } ops[] = {
		{ ISA_OP_ADD64_K, ISA_OP_ADD32_K, G1_ADD }, { ISA_OP_SUB64_K, ISA_OP_SUB32_K, G1_SUB },
		{ ISA_OP_AND64_K, ISA_OP_AND32_K, G1_AND }, { ISA_OP_OR64_K, ISA_OP_OR32_K, G1_OR },
		{ ISA_OP_XOR64_K, ISA_OP_XOR32_K, G1_XOR },
	};

	if (jmp_imm != 0)
		return -1;
	for (size_t k = 0; k < sizeof(ops) / sizeof(ops[0]); k++) {
		if (alu == ops[k].op64 && (jmp == ISA_OP_JEQ64_K || jmp == ISA_OP_JNE64_K))
			return ops[k].g1;
		if (alu == ops[k].op32 && (jmp == ISA_OP_JEQ32_K || jmp == ISA_OP_JNE32_K))
			return ops[k].g1;
	}
	return -1;
}

/*
 * Sequences clang emits where x86 needs one instruction: zero- and
 * sign-extension as a pair of shifts or a move and a mask, address (and
 * 32-bit) arithmetic as a move and additions, an operation and a test of
 * its result.  Returns the slots the code covers, 0 when none applies.
 * Blinded programs keep their immediates out of lea displacements.
 */
uint32_t jit_x86_fused(struct jit_ctx *c, uint32_t i, uint32_t end)
{
	const struct bpfvm_insn *in = &c->prog->insns[i];
	const uint16_t *ops = c->prog->ops;
	int dst = regmap[in->dst_reg], src = regmap[in->src_reg], g1;

	if (c->blind || !fusable(c, i + 1, end))
		return 0;
	/* r0 = bpf_map_lookup_elem(array, key); if r0 == 0 (or != 0) goto target */
	if (ops[i] == ISA_OP_CALL_HELPER && in->imm == HELPER_ID_map_lookup_elem &&
	    (ops[i + 1] == ISA_OP_JEQ64_K || ops[i + 1] == ISA_OP_JNE64_K) && in[1].dst_reg == 0 &&
	    in[1].imm == 0 &&
	    jit_x86_lookup_tested(c, i, (uint32_t)((int64_t)i + 2 + in[1].off),
				  ops[i + 1] == ISA_OP_JEQ64_K))
		return 2;
	if (in[1].dst_reg != in->dst_reg)
		return 0;
	if (ops[i] == ISA_OP_LSH64_K && in->imm == 32 && in[1].imm == 32 &&
	    (ops[i + 1] == ISA_OP_RSH64_K || ops[i + 1] == ISA_OP_ARSH64_K)) {
		if (ops[i + 1] == ISA_OP_ARSH64_K)
			op_rr(c, X_W, 0x63, dst, dst); /* movsxd */
		else if (!upper_half_zero(c, i, in->dst_reg))
			mov_rr(c, false, dst, dst);
		return 2;
	}
	/* r = s; r <<= 32; r >>= 32: one 32-bit move */
	if (ops[i] == ISA_OP_MOV64_X && ops[i + 1] == ISA_OP_LSH64_K && in[1].imm == 32 &&
	    fusable(c, i + 2, end) && ops[i + 2] == ISA_OP_RSH64_K && in[2].imm == 32 &&
	    in[2].dst_reg == in->dst_reg) {
		mov_rr(c, false, dst, src);
		return 3;
	}
	if ((g1 = flags_for_zero_test(ops[i], ops[i + 1], in[1].imm)) >= 0) {
		uint32_t target = (uint32_t)((int64_t)i + 2 + in[1].off);

		alu_ri(c, BPFVM_CLASS(in->code) == BPFVM_ALU64, g1, dst, in->imm);
		if (target != i + 2)
			jump(c, jcc_of[BPFVM_OP(in[1].code) >> 4], target);
		return 2;
	}
	/* w = s; w += k or w += x: a 32-bit lea, whose sum wraps at 2^32 and zero-extends as BPF's */
	if (ops[i] == ISA_OP_MOV32_X && ops[i + 1] == ISA_OP_ADD32_K) {
		op_rm(c, 0, 0x8d, dst, src, in[1].imm);
		return 2;
	}
	if (ops[i] == ISA_OP_MOV32_X && ops[i + 1] == ISA_OP_ADD32_X && in[1].src_reg != in->dst_reg) {
		op_rm_index(c, 0, 0x8d, dst, src, regmap[in[1].src_reg], 0);
		return 2;
	}
	/* r = s; r &= 0xff or 0xffff, at either width: one zero-extending move */
	if ((ops[i] == ISA_OP_MOV32_X || ops[i] == ISA_OP_MOV64_X) &&
	    (ops[i + 1] == ISA_OP_AND32_K || ops[i + 1] == ISA_OP_AND64_K) &&
	    (in[1].imm == 0xff || in[1].imm == 0xffff)) {
		if (in[1].imm == 0xff)
			op_rr(c, X_BRM, 0x0fb6, dst, src);
		else
			op_rr(c, 0, 0x0fb7, dst, src);
		return 2;
	}
	if (ops[i] != ISA_OP_MOV64_X)
		return 0;
	if (ops[i + 1] == ISA_OP_ADD64_K) {
		if (fusable(c, i + 2, end) && ops[i + 2] == ISA_OP_ADD64_X &&
		    in[2].dst_reg == in->dst_reg && in[2].src_reg != in->dst_reg) {
			op_rm_index(c, X_W, 0x8d, dst, src, regmap[in[2].src_reg], in[1].imm);
			return 3;
		}
		op_rm(c, X_W, 0x8d, dst, src, in[1].imm);
		return 2;
	}
	if (ops[i + 1] == ISA_OP_ADD64_X && in[1].src_reg != in->dst_reg) {
		op_rm_index(c, X_W, 0x8d, dst, src, regmap[in[1].src_reg], 0);
		return 2;
	}
	return 0;
}

/* ---- what dies: sequences around a register no path reads again (jit_live.c) ------- */

/* An operation whose result no path reads: it needs no code. */
bool jit_x86_result_unread(const struct jit_ctx *c, uint32_t i)
{
	const struct bpfvm_insn *in = &c->prog->insns[i];

	return isa_op_form_in(c->prog->ops[i], ISA_FORM(F_ALU_K) | ISA_FORM(F_ALU_X) | ISA_FORM(F_NEG) |
						      ISA_FORM(F_END) | ISA_FORM(F_LDDW)) &&
	       in->dst_reg != 10 && !jit_live_after(c, i, in->dst_reg);
}

/* dst = ~src1 & rm, 64 bits (BMI1). */
static void andn(struct jit_ctx *c, int dst, int src1, int rm)
{
	b1(c, 0xc4);
	b1(c, (uint8_t)((dst & 8 ? 0 : 0x80) | 0x40 | (rm & 8 ? 0 : 0x20) | 0x02));
	b1(c, (uint8_t)(0x80 | (~src1 & 15) << 3));
	b1(c, 0xf2);
	b1(c, (uint8_t)(0xc0 | (dst & 7) << 3 | (rm & 7)));
}

/* A plain load or store (not atomic, not acquiring or releasing): its base register, else -1. */
static int access_base(const struct bpfvm_insn *in, enum isa_op op)
{
	switch (op) {
	case ISA_OP_LDX_B: case ISA_OP_LDX_H: case ISA_OP_LDX_W: case ISA_OP_LDX_DW:
	case ISA_OP_LDXS_B: case ISA_OP_LDXS_H: case ISA_OP_LDXS_W:
		return in->src_reg;
	case ISA_OP_ST_B: case ISA_OP_ST_H: case ISA_OP_ST_W: case ISA_OP_ST_DW:
	case ISA_OP_STX_B: case ISA_OP_STX_H: case ISA_OP_STX_W: case ISA_OP_STX_DW:
		return in->dst_reg;
	default:
		return -1;
	}
}

/*
 * Sequences whose intermediate register dies: an address computed into a
 * register only to load or store through it is the access's own address
 * mode; the mask below the lowest set bit, ~s & (s - 1), is an andn; and
 * the store of a value just loaded from the same stack slot changes
 * nothing.  Returns the slots the code covers, 0 when none applies.
 */
uint32_t jit_x86_fused_live(struct x86 *x, uint32_t i, uint32_t end)
{
	struct jit_ctx *c = x->c;
	const struct bpfvm_insn *in = &c->prog->insns[i];
	const uint16_t *ops = c->prog->ops;
	unsigned a = in->dst_reg, b = in->src_reg;

	if (c->blind || !fusable(c, i + 1, end))
		return 0;
	if ((ops[i] == ISA_OP_LDX_B || ops[i] == ISA_OP_LDX_H || ops[i] == ISA_OP_LDX_W ||
	     ops[i] == ISA_OP_LDX_DW) && b == 10 && a != 10 &&
	    (ops[i + 1] == ISA_OP_STX_B || ops[i + 1] == ISA_OP_STX_H || ops[i + 1] == ISA_OP_STX_W ||
	     ops[i + 1] == ISA_OP_STX_DW) && BPFVM_SIZE(in[1].code) == BPFVM_SIZE(in->code) &&
	    in[1].dst_reg == 10 && in[1].src_reg == a && in[1].off == in->off) {
		jit_x86_insn(x, i); /* a load cannot be refused */
		return 2;
	}
	if (ops[i] != ISA_OP_MOV64_X || in[1].dst_reg != a || !fusable(c, i + 2, end))
		return 0;
	if (ops[i + 1] == ISA_OP_XOR64_K && in[1].imm == -1 && a != b && fusable(c, i + 3, end) &&
	    ops[i + 2] == ISA_OP_ADD64_K && in[2].dst_reg == b && in[2].imm == -1 &&
	    ops[i + 3] == ISA_OP_AND64_X && in[3].dst_reg == b && in[3].src_reg == a &&
	    !jit_live_after(c, i + 3, a)) {
		op_rm(c, X_W, 0x8d, R11, regmap[b], -1);
		if (c->features & VM_JIT_BMI1) {
			andn(c, regmap[b], regmap[b], R11);
		} else {
			op_rr(c, X_W, 0xf7, 2, regmap[b]); /* not */
			alu_rr(c, true, G1_AND, regmap[b], R11);
		}
		return 4;
	}
	if ((ops[i + 1] == ISA_OP_ADD64_K || (ops[i + 1] == ISA_OP_ADD64_X && in[1].src_reg != a)) &&
	    access_base(&in[2], (enum isa_op)ops[i + 2]) == (int)a) {
		uint8_t form = isa_ops[ops[i + 2]].form;
		int64_t disp = in[2].off + (ops[i + 1] == ISA_OP_ADD64_K ? (int64_t)in[1].imm : 0);
		bool dies = form == F_LDX ? in[2].dst_reg == a || !jit_live_after(c, i + 2, a)
					  : !jit_live_after(c, i + 2, a) &&
						    (form == F_ST || in[2].src_reg != a);

		if (dies && disp == (int32_t)disp) {
			struct x86_mem m = { regmap[b],
					     ops[i + 1] == ISA_OP_ADD64_X ? regmap[in[1].src_reg] : NO_REG,
					     (int32_t)disp };

			jit_x86_access(c, &in[2], (enum isa_op)ops[i + 2], m);
			return 3;
		}
	}
	return 0;
}

/* ---- jumps to a small join: its code copied (tail duplication) ----------------------- */

#define JOIN_MAX 4 /* slots of a join worth copying, its last a jump or exit */

/*
 * The slots of the block at t, when it is short enough to copy to the
 * jumps that reach it: simple ALU operations, then a jump or an exit.
 * A loop's latch (i++; if i != n goto head) is the block this is for: the
 * `continue`s of a loop body jump to it, and then it jumps to the head;
 * with the latch copied, each takes one taken branch instead of two.
 */
static uint32_t small_join(const struct jit_ctx *c, uint32_t t, uint32_t start, uint32_t end)
{
	const uint16_t *ops = c->prog->ops;

	if (c->blind || t < start)
		return 0;
	for (uint32_t k = 0; k < JOIN_MAX && t + k < end; k++) {
		const struct bpfvm_insn *in = &c->prog->insns[t + k];
		uint8_t form = isa_ops[ops[t + k]].form, aop = BPFVM_OP(in->code);

		if (ops[t + k] == ISA_OP_INVALID || c->promo.at[t + k])
			return 0;
		if (form == F_JA || form == F_JA32 || form == F_JCOND_K || form == F_JCOND_X ||
		    form == F_EXIT)
			return k + 1;
		if ((form != F_ALU_K && form != F_ALU_X) || aop == BPFVM_DIV || aop == BPFVM_MOD)
			return 0;
	}
	return 0;
}

/* The n slots of the join at t, here: then on to where falling off its end goes. */
static void emit_join_copy(struct x86 *x, uint32_t t, uint32_t n)
{
	struct jit_ctx *c = x->c;
	uint32_t last = t + n - 1;
	enum isa_op op = (enum isa_op)c->prog->ops[last];

	x->copying = true; /* its own jumps are not copies: a loop would copy itself */
	for (uint32_t k = t; k <= last; k++)
		if (!jit_x86_result_unread(c, k))
			jit_x86_insn(x, k); /* ALU operations and jumps: never refused */
	x->copying = false;
	/* falling off the copy's end is going where the original falls: after it */
	if (isa_op_falls_through(op) || (isa_ops[op].form != F_EXIT &&
					 isa_jump_target(&c->prog->insns[last], last) == last + 1))
		jump(c, CC_JMP, last + 1);
}

/*
 * A jump to target: its join's code copied here when it is small
 * (small_join).  For a conditional jump the copy turns the jump's
 * fall-through into a taken branch, which pays only when the jump is
 * mostly taken: of the conditions, "not equal" is the one that usually
 * holds (an equality with one value is the rarer case, as compilers'
 * static branch predictions take it).
 */
void jit_x86_jump_to(struct x86 *x, const struct bpfvm_insn *in, uint32_t i, uint32_t target)
{
	struct jit_ctx *c = x->c;
	const struct prog_func *fn = x->fn;
	uint8_t form = isa_ops[c->prog->ops[i]].form;
	bool uncond = form == F_JA || form == F_JA32, likely = uncond || BPFVM_OP(in->code) == BPFVM_JNE;
	uint32_t n = target != i + 1 && likely && !x->copying
			     ? small_join(c, target, fn->start, fn->end)
			     : 0;
	size_t skip;

	if (uncond) {
		if (n)
			emit_join_copy(x, target, n);
		else if (target != i + 1)
			jump(c, CC_JMP, target);
		return;
	}
	if (target == i + 1)
		return;
	if (!n) {
		jump(c, jit_x86_test(c, in), target);
		return;
	}
	skip = jcc8(c, jit_x86_test(c, in) ^ 1); /* not taken: past the copy */
	emit_join_copy(x, target, n);
	land8(c, skip);
}

#endif /* VM_JIT_HAVE_ARCH */
