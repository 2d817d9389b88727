/*
 * liveness.c - backward data-flow over instruction slots (liveness.h),
 * shared by the JIT's analyses and the verifier's.
 */
#include "liveness.h"

#include <stdbool.h>

#include "opcode.h"

uint16_t isa_union_after(const struct bpfvm_insn *insns, const uint16_t *ops, uint32_t start,
			 uint32_t end, uint32_t i, const uint16_t *in, uint16_t outside)
{
	enum isa_op op = (enum isa_op)ops[i];
	uint32_t next = i + isa_op_slots(op);
	uint16_t out = 0;

	if (isa_op_falls_through(op))
		out |= next < end ? in[next] : outside;
	if (isa_op_is_jump(op)) {
		int64_t to = isa_jump_target(&insns[i], i);

		out |= to >= start && to < end ? in[to] : outside;
	}
	return out;
}

void isa_liveness(const struct bpfvm_insn *insns, const uint16_t *ops, uint32_t start,
		  uint32_t end, const uint16_t *use, const uint16_t *def, uint16_t outside,
		  uint16_t *live_in, uint16_t *live_out)
{
	bool changed = true, back = false;

	/* Without a jump back, one pass from the end is the fixed point. */
	while (changed) {
		changed = false;
		for (uint32_t i = end; i-- > start;) {
			enum isa_op op = (enum isa_op)ops[i];
			uint16_t out, in;

			if (op == ISA_OP_INVALID)
				continue; /* an lddw's second half: nothing lands there */
			back |= isa_op_is_jump(op) && isa_jump_target(&insns[i], i) <= i;
			out = isa_union_after(insns, ops, start, end, i, live_in, outside);
			if (live_out)
				live_out[i] = out;
			in = (uint16_t)(use[i] | (out & ~def[i]));
			if (in != live_in[i]) {
				live_in[i] = in;
				changed = true;
			}
		}
		changed &= back; /* the last pass changed nothing: its live_out stands */
	}
}
