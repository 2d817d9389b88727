/*
 * jit_known.c - which registers hold 0 or 1 when an instruction starts, on
 * every path that reaches it: a forward data-flow that meets by
 * intersection.  A move of 0 or 1, a mask with 1 or a shift that leaves
 * one bit makes a register a truth value, a move copies that, any other
 * write ends it; a function knows nothing on entry.
 *
 * BPF has no conditional move, so branch-free code multiplies by such a
 * value (k * (c & 1)), and clang makes `x = a < b` a move of 1, a jump and
 * a move of 0.  A truth value times a constant is a negation and a mask,
 * a cycle shorter than imul on a dependency chain.
 */

#include "../isa/opcode.h"
#include "jit.h"

#define R(n) (1u << (n))
#define ALL 0xffffu

/* What instruction in leaves known to be 0 or 1, from what was before. */
static uint16_t after(const struct bpfvm_insn *in, enum isa_op op, uint16_t written,
		      uint16_t known)
{
	uint16_t dst = (uint16_t)R(in->dst_reg);

	if (isa_ops[op].form != F_ALU_K && isa_ops[op].form != F_ALU_X)
		return (uint16_t)(known & ~written); /* most instructions: no switch */
	switch (op) {
	case ISA_OP_MOV64_K: case ISA_OP_MOV32_K:
		return in->imm == 0 || in->imm == 1 ? known | dst : known & ~dst;
	case ISA_OP_AND64_K: case ISA_OP_AND32_K:
		return in->imm == 1 ? known | dst : known & ~dst;
	case ISA_OP_RSH64_K:
		return in->imm == 63 ? known | dst : known & ~dst;
	case ISA_OP_RSH32_K:
		return in->imm == 31 ? known | dst : known & ~dst;
	case ISA_OP_MOV64_X: case ISA_OP_MOV32_X:
		return known >> in->src_reg & 1 ? known | dst : known & ~dst;
	default:
		return (uint16_t)(known & ~written);
	}
}

/* Meet what slot i leaves into slot to; true when that changed it. */
static bool meet(uint16_t *known_in, int64_t to, uint32_t cnt, uint16_t out)
{
	uint16_t v;

	if (to < 0 || to >= cnt)
		return false;
	v = known_in[to] & out;
	if (v == known_in[to])
		return false;
	known_in[to] = v;
	return true;
}

uint16_t *jit_known_bool(const struct bpfvm_prog *prog, struct jit_arena *a,
			 const uint16_t *writes)
{
	uint16_t *known = jit_arena_alloc(a, (prog->cnt + 1) * sizeof(*known));
	bool changed = true, back = false;

	if (!known)
		return NULL;
	for (uint32_t i = 0; i <= prog->cnt; i++)
		known[i] = ALL; /* not reached yet: the meet's identity */
	for (uint32_t f = 0; f < prog->nfuncs; f++)
		known[prog->funcs[f].start] = 0;
	/* Without a jump back, one pass from the start is the fixed point. */
	while (changed) {
		changed = false;
		for (uint32_t i = 0; i < prog->cnt; i++) {
			enum isa_op op = (enum isa_op)prog->ops[i];
			uint16_t out;

			if (op == ISA_OP_INVALID)
				continue;
			out = after(&prog->insns[i], op, writes[i], known[i]);
			if (isa_op_falls_through(op))
				changed |= meet(known, i + isa_op_slots(op), prog->cnt, out);
			if (isa_op_is_jump(op)) {
				int64_t to = isa_jump_target(&prog->insns[i], i);

				back |= to <= i;
				changed |= meet(known, to, prog->cnt, out);
			}
		}
		changed &= back;
	}
	return known;
}
