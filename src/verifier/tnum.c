/*
 * tnum.c - the operations on tristate numbers (see tnum.h).  The carry
 * tricks for add and sub come from "Sound, Precise, and Fast Abstract
 * Interpretation with Tristate Numbers" (Vishwanathan et al., CGO 2022),
 * which proves them sound and optimal; the kernel's verifier uses the same
 * domain, so programs see the same precision here as there.
 */
#include "tnum.h"

#include <inttypes.h>
#include <stdio.h>

static uint64_t low_bits(unsigned bits)
{
	return bits >= 64 ? UINT64_MAX : (1ull << bits) - 1;
}

struct tnum tnum_range(uint64_t min, uint64_t max)
{
	uint64_t differ = min ^ max;
	unsigned width;

	if (min > max)
		return TNUM_UNKNOWN;
	/* Below the highest bit where min and max differ, anything goes. */
	width = differ ? 64 - (unsigned)__builtin_clzll(differ) : 0;
	return TNUM(min & ~low_bits(width), low_bits(width));
}

struct tnum tnum_lshift(struct tnum a, unsigned shift)
{
	shift &= 63;
	return TNUM(a.value << shift, a.mask << shift);
}

struct tnum tnum_rshift(struct tnum a, unsigned shift)
{
	shift &= 63;
	return TNUM(a.value >> shift, a.mask >> shift);
}

struct tnum tnum_arshift(struct tnum a, unsigned shift, unsigned bits)
{
	/* An unknown sign bit smears unknown bits down, a known one its value. */
	struct tnum s = tnum_sext(a, bits);

	shift %= bits;
	s = TNUM((uint64_t)((int64_t)s.value >> shift), (uint64_t)((int64_t)s.mask >> shift));
	return tnum_trunc(s, bits);
}

struct tnum tnum_add(struct tnum a, struct tnum b)
{
	uint64_t sum_min = a.value + b.value;             /* every unknown bit 0 */
	uint64_t sum_max = sum_min + a.mask + b.mask;     /* every unknown bit 1 */
	/* Bits where the extreme carries differ, plus the unknown inputs. */
	uint64_t unknown = (sum_min ^ sum_max) | a.mask | b.mask;

	return TNUM(sum_min & ~unknown, unknown);
}

struct tnum tnum_sub(struct tnum a, struct tnum b)
{
	uint64_t diff = a.value - b.value;
	uint64_t hi = diff + a.mask;                      /* largest minuend */
	uint64_t lo = diff - b.mask;                      /* largest subtrahend */
	uint64_t unknown = (hi ^ lo) | a.mask | b.mask;

	return TNUM(diff & ~unknown, unknown);
}

struct tnum tnum_neg(struct tnum a)
{
	return tnum_sub(tnum_const(0), a);
}

/*
 * Long multiplication: the known parts multiply exactly; each bit of a
 * that is 1 or unknown adds a shifted copy of b's uncertainty (or of all of
 * b, for an unknown bit) to what is uncertain.
 */
struct tnum tnum_mul(struct tnum a, struct tnum b)
{
	uint64_t known_product = a.value * b.value;
	struct tnum uncertain = tnum_const(0);

	for (; a.value | a.mask; a = tnum_rshift(a, 1), b = tnum_lshift(b, 1)) {
		if (a.value & 1)
			uncertain = tnum_add(uncertain, TNUM(0, b.mask));
		else if (a.mask & 1)
			uncertain = tnum_add(uncertain, TNUM(0, b.value | b.mask));
	}
	return tnum_add(tnum_const(known_product), uncertain);
}

struct tnum tnum_and(struct tnum a, struct tnum b)
{
	uint64_t ones = a.value & b.value;
	uint64_t maybe = (a.value | a.mask) & (b.value | b.mask);

	return TNUM(ones, maybe & ~ones);
}

struct tnum tnum_or(struct tnum a, struct tnum b)
{
	uint64_t ones = a.value | b.value;

	return TNUM(ones, (a.mask | b.mask) & ~ones);
}

struct tnum tnum_xor(struct tnum a, struct tnum b)
{
	uint64_t unknown = a.mask | b.mask;

	return TNUM((a.value ^ b.value) & ~unknown, unknown);
}

struct tnum tnum_intersect(struct tnum a, struct tnum b)
{
	/* A bit known in either is known; the caller vouches they agree. */
	uint64_t unknown = a.mask & b.mask;

	return TNUM((a.value | b.value) & ~unknown, unknown);
}

struct tnum tnum_union(struct tnum a, struct tnum b)
{
	uint64_t unknown = a.mask | b.mask | (a.value ^ b.value);

	return TNUM(a.value & ~unknown, unknown);
}

struct tnum tnum_trunc(struct tnum a, unsigned bits)
{
	uint64_t keep = low_bits(bits);

	return TNUM(a.value & keep, a.mask & keep);
}

struct tnum tnum_sext(struct tnum a, unsigned bits)
{
	unsigned up = 64 - bits;

	if (bits >= 64)
		return a;
	return TNUM((uint64_t)((int64_t)(a.value << up) >> up),
		    (uint64_t)((int64_t)(a.mask << up) >> up));
}

int tnum_str(char *buf, size_t size, struct tnum a)
{
	if (!a.mask)
		return snprintf(buf, size, a.value <= UINT16_MAX ? "%" PRIu64 : "0x%" PRIx64,
				a.value);
	/* 0x even for 0, as the kernel's printf does */
	return snprintf(buf, size, "(0x%" PRIx64 "; 0x%" PRIx64 ")", a.value, a.mask);
}
