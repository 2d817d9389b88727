/*
 * tnum.h - tristate numbers: what the verifier knows about the bits of a
 * value.  A tnum is a pair (value, mask): a bit set in mask is unknown, a
 * bit clear in mask is known and equal to that bit of value (value has no
 * bit set where mask has one).  The set of numbers a tnum stands for is
 * every way of filling in its unknown bits.
 *
 * Every operation is sound: the result stands for at least every result of
 * the concrete operation on members of the operands.  Values are passed and
 * returned by value; nothing here knows about registers or the verifier.
 * tests/unit/test_tnum.c checks each operation against brute force.
 */
#ifndef BPFVM_VERIFIER_TNUM_H
#define BPFVM_VERIFIER_TNUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tnum {
	uint64_t value;
	uint64_t mask;
};

#define TNUM(V, M) ((struct tnum){ .value = (V), .mask = (M) })
#define TNUM_UNKNOWN TNUM(0, UINT64_MAX)

static inline struct tnum tnum_const(uint64_t v) { return TNUM(v, 0); }
static inline bool tnum_is_const(struct tnum a) { return !a.mask; }
static inline bool tnum_is_unknown(struct tnum a) { return !~a.mask; }
static inline bool tnum_equals_const(struct tnum a, uint64_t v) { return !a.mask && a.value == v; }
static inline bool tnum_equal(struct tnum a, struct tnum b)
{
	return a.value == b.value && a.mask == b.mask;
}
/* The smallest and largest unsigned members. */
static inline uint64_t tnum_umin(struct tnum a) { return a.value; }
static inline uint64_t tnum_umax(struct tnum a) { return a.value | a.mask; }

/* The tightest tnum holding every number in [min, max] (unsigned). */
struct tnum tnum_range(uint64_t min, uint64_t max);

struct tnum tnum_lshift(struct tnum a, unsigned shift);
struct tnum tnum_rshift(struct tnum a, unsigned shift);
/* Arithmetic shift of the low `bits` bits (32 or 64; 1..64 in tests). */
struct tnum tnum_arshift(struct tnum a, unsigned shift, unsigned bits);

struct tnum tnum_add(struct tnum a, struct tnum b);
struct tnum tnum_sub(struct tnum a, struct tnum b);
struct tnum tnum_neg(struct tnum a);
struct tnum tnum_mul(struct tnum a, struct tnum b);
struct tnum tnum_and(struct tnum a, struct tnum b);
struct tnum tnum_or(struct tnum a, struct tnum b);
struct tnum tnum_xor(struct tnum a, struct tnum b);

/* Members of both (the caller knows the two overlap). */
struct tnum tnum_intersect(struct tnum a, struct tnum b);
/* The tightest tnum holding the members of either. */
struct tnum tnum_union(struct tnum a, struct tnum b);

/* Keep the low `bits` bits (1..64); the rest become known zeros. */
struct tnum tnum_trunc(struct tnum a, unsigned bits);
/* The low `bytes` bytes, as a load or a 32-bit operation keeps them. */
static inline struct tnum tnum_cast(struct tnum a, unsigned bytes)
{
	return tnum_trunc(a, bytes * 8);
}
/* Sign-extend from bit `bits` - 1 (1..64). */
struct tnum tnum_sext(struct tnum a, unsigned bits);

/* Is every member a multiple of size (a power of two)? */
static inline bool tnum_is_aligned(struct tnum a, uint64_t size)
{
	return !size || !((a.value | a.mask) & (size - 1));
}

/* Is every member of b a member of a? */
static inline bool tnum_in(struct tnum a, struct tnum b)
{
	return !(b.mask & ~a.mask) && (b.value & ~a.mask) == a.value;
}

/* Does v belong to a? */
static inline bool tnum_contains(struct tnum a, uint64_t v)
{
	return (v & ~a.mask) == a.value;
}

/* The low 32 bits (the subregister), the high 32 bits cleared. */
static inline struct tnum tnum_subreg(struct tnum a) { return tnum_trunc(a, 32); }
static inline struct tnum tnum_clear_subreg(struct tnum a)
{
	return TNUM(a.value & ~0xffffffffull, a.mask & ~0xffffffffull);
}
/* a's high half with sub's low half. */
static inline struct tnum tnum_with_subreg(struct tnum a, struct tnum sub)
{
	return tnum_or(tnum_clear_subreg(a), tnum_subreg(sub));
}
static inline bool tnum_subreg_is_const(struct tnum a) { return !(uint32_t)a.mask; }

/* "(0x5; 0xa)" into buf, as the kernel's log prints a tnum; returns the length. */
int tnum_str(char *buf, size_t size, struct tnum a);

#endif
