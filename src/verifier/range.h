/*
 * range.h - what the verifier knows about a scalar: a tnum for its bits,
 * and intervals for its value read as unsigned and as signed, both for the
 * whole register and for its low half (the 32-bit subregister that 32-bit
 * operations and comparisons see).  The five views constrain each other;
 * range_sync() carries what one knows into the others.
 *
 * The code is written for a register of `bits` bits whose subregister has
 * bits / 2: the verifier uses 64 (the RANGE_BITS wrappers below), the
 * tests use 8 so that they can check every case against brute force.  An
 * interval of a width narrower than 64 keeps its unsigned bounds
 * zero-extended and its signed bounds sign-extended in the 64-bit fields.
 */
#ifndef BPFVM_VERIFIER_RANGE_H
#define BPFVM_VERIFIER_RANGE_H

#include <stdbool.h>
#include <stdint.h>

#include "tnum.h"

#define RANGE_BITS 64

/* The values of one width, as an unsigned and as a signed interval. */
struct ival {
	uint64_t umin, umax;
	int64_t smin, smax;
};

struct vrange {
	struct tnum var;
	struct ival b64; /* the whole register */
	struct ival b32; /* its low half */
};

/* ---- arithmetic of a width ---------------------------------------------- */

static inline uint64_t w_umax(unsigned bits)
{
	return bits >= 64 ? UINT64_MAX : (1ull << bits) - 1;
}
static inline int64_t w_smax(unsigned bits) { return (int64_t)(w_umax(bits) >> 1); }
static inline int64_t w_smin(unsigned bits) { return -w_smax(bits) - 1; }
/* The low `bits` bits of v, read as signed / as unsigned. */
static inline int64_t w_sx(uint64_t v, unsigned bits)
{
	return bits >= 64 ? (int64_t)v : (int64_t)(v << (64 - bits)) >> (64 - bits);
}
static inline uint64_t w_zx(uint64_t v, unsigned bits) { return v & w_umax(bits); }

/* ---- construction -------------------------------------------------------- */

/* Every value of the width. */
struct vrange range_unknown_w(unsigned bits);
/* Exactly v (truncated to the width). */
struct vrange range_const_w(uint64_t v, unsigned bits);
/* Every value of an interval, the tnum and other views derived. */
struct vrange range_from_u_w(uint64_t umin, uint64_t umax, unsigned bits);
struct vrange range_from_s_w(int64_t smin, int64_t smax, unsigned bits);

/* ---- keeping the views in sync ------------------------------------------- */

/*
 * Carry what each view knows into the others: tnum to intervals, signed to
 * unsigned and back within each width, whole register to subregister and
 * back, intervals to tnum.  Call after anything narrowed one view.
 */
void range_sync_w(struct vrange *r, unsigned bits);
/* Is the range self-consistent (non-empty in every view)? */
bool range_valid_w(const struct vrange *r, unsigned bits);
/* Does the value v satisfy every view? (for tests and assertions) */
bool range_contains_w(const struct vrange *r, uint64_t v, unsigned bits);

/*
 * The result of a 32-bit operation: the subregister's knowledge, zero-
 * extended into the whole register.
 */
void range_zext_w(struct vrange *r, unsigned bits);
/* Drop what is known about the whole register / the subregister. */
void range_forget_b64_w(struct vrange *r, unsigned bits);
void range_forget_b32_w(struct vrange *r, unsigned bits);

/* Keep the low `size` bits, zero-extended (a narrow load); then sync. */
void range_trunc_w(struct vrange *r, unsigned size, unsigned bits);
/* Sign-extend from the low `size` bits (movsx, ldxs); then sync. */
void range_sext_w(struct vrange *r, unsigned size, unsigned bits);
/* The same, on the subregister only: the high half ends up zero. */
void range_sext32_w(struct vrange *r, unsigned size, unsigned bits);

/* Is every value of cur also a value of old, in each view? */
bool range_within(const struct vrange *old, const struct vrange *cur);

/* The tightest range holding both (for widening). */
struct vrange range_join_w(const struct vrange *a, const struct vrange *b, unsigned bits);

/* ---- the verifier's width ---------------------------------------------- */

static inline struct vrange range_unknown(void) { return range_unknown_w(RANGE_BITS); }
static inline struct vrange range_const(uint64_t v) { return range_const_w(v, RANGE_BITS); }
static inline void range_sync(struct vrange *r) { range_sync_w(r, RANGE_BITS); }
static inline void range_zext(struct vrange *r) { range_zext_w(r, RANGE_BITS); }
static inline bool range_is_const(const struct vrange *r) { return tnum_is_const(r->var); }
static inline bool range_is_const32(const struct vrange *r) { return tnum_subreg_is_const(r->var); }

#endif
