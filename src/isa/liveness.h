/*
 * liveness.h - backward data-flow over a range of instruction slots (one
 * function, or a whole program): which registers some path reads after
 * each slot.  What an instruction reads and writes is the caller's to
 * say (calls differ: the JIT's code and the kernel's verifier count them
 * differently), the successors are the instruction set's.
 */
#ifndef BPFVM_ISA_LIVENESS_H
#define BPFVM_ISA_LIVENESS_H

#include <stdint.h>

#include <bpfvm/isa.h>

/*
 * The union of in[] over slot i's successors in [start, end), outside for
 * one that leaves the range (a jump out, a fall off its end).
 */
uint16_t isa_union_after(const struct bpfvm_insn *insns, const uint16_t *ops, uint32_t start,
			 uint32_t end, uint32_t i, const uint16_t *in, uint16_t outside);

/*
 * live_in[i] = use[i] | (what is live after i, less def[i]) for every slot
 * of [start, end), to the fixed point; live_out[i] (when not NULL) what is
 * live after it.  Both arrays hold 0 for the range on entry.
 */
void isa_liveness(const struct bpfvm_insn *insns, const uint16_t *ops, uint32_t start,
		  uint32_t end, const uint16_t *use, const uint16_t *def, uint16_t outside,
		  uint16_t *live_in, uint16_t *live_out);

#endif
