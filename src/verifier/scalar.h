/*
 * scalar.h - arithmetic on what is known about scalars: for each ALU
 * operation, the range (tnum and bounds, see range.h) of its result from
 * the ranges of its operands.  The verifier's register code (alu.c) calls
 * these once it knows both operands are scalars.
 *
 * As range.c, written for a register of `bits` bits (64 for the verifier,
 * 8 in the tests, which check every function against brute force).
 */
#ifndef BPFVM_VERIFIER_SCALAR_H
#define BPFVM_VERIFIER_SCALAR_H

#include <stdbool.h>

#include "range.h"

/*
 * dst = dst OP src, OP a BPFVM_ALU operation (BPFVM_ADD ... BPFVM_ARSH;
 * signed division and modulo are BPFVM_DIV / BPFVM_MOD with sdiv set),
 * 64-bit or, with alu32, on the subregisters with the result zero-extended.
 * Like the kernel, it gives up (unknown result) on division and modulo and
 * on shifts by anything but a constant smaller than the operation's width.
 */
void scalar_alu_w(struct vrange *dst, const struct vrange *src, unsigned op, bool alu32,
		  unsigned bits);

/* dst = -dst. */
void scalar_neg_w(struct vrange *dst, bool alu32, unsigned bits);

/* dst = a byte swap (BPFVM_END, or bswap when unconditional) of `width` bits. */
void scalar_bswap_w(struct vrange *dst, unsigned width, bool swap, unsigned bits);

/* Is the shift amount in src one the bounds can follow? */
bool scalar_shift_known_w(const struct vrange *src, bool alu32, unsigned bits);

static inline void scalar_alu(struct vrange *dst, const struct vrange *src, unsigned op, bool alu32)
{
	scalar_alu_w(dst, src, op, alu32, RANGE_BITS);
}

#endif
