/*
 * branch.h - what a conditional jump between two scalars tells: whether
 * its outcome is already decided by what is known, and, on each edge, the
 * narrower ranges of both operands.  Jump operations are the ISA's
 * (BPFVM_JEQ ... BPFVM_JSLE); BRANCH_JNSET is the negation of JSET, which
 * the ISA lacks, so that every condition has an opposite.
 *
 * As range.c, written for a register of `bits` bits (64 for the verifier,
 * 8 in tests/unit/test_branch.c, which checks against brute force).
 */
#ifndef BPFVM_VERIFIER_BRANCH_H
#define BPFVM_VERIFIER_BRANCH_H

#include <stdbool.h>

#include "range.h"

#define BRANCH_JNSET 0xf0

/* The condition that holds on the other edge: JLT for JGE, ... */
unsigned branch_negate(unsigned op);
/* The condition with its operands swapped: JLT for JGT, ... */
unsigned branch_swap(unsigned op);

/*
 * 1 if `a op b` holds for every member pair, 0 if for none, -1 if it
 * depends; jmp32 compares the subregisters.
 */
int branch_taken_w(const struct vrange *a, const struct vrange *b, unsigned op, bool jmp32,
		   unsigned bits);

/*
 * Narrow a and b to the members that can satisfy `a op b`, and sync them.
 * Returns false when what is left is contradictory (the edge cannot be
 * taken, though branch_taken could not tell).
 */
bool branch_refine_w(struct vrange *a, struct vrange *b, unsigned op, bool jmp32, unsigned bits);

static inline int branch_taken(const struct vrange *a, const struct vrange *b, unsigned op,
			       bool jmp32)
{
	return branch_taken_w(a, b, op, jmp32, RANGE_BITS);
}

static inline bool branch_refine(struct vrange *a, struct vrange *b, unsigned op, bool jmp32)
{
	return branch_refine_w(a, b, op, jmp32, RANGE_BITS);
}

#endif
