/*
 * test_tnum.c - every tnum operation against brute force, exhaustively for
 * all tnums of W bits: a result must contain every concrete result
 * (soundness), and for the operations that are optimal it must be exactly
 * the tightest tnum holding them.  Operations work on 64 bits; truncating
 * their result to W bits gives the W-bit operation, as the arithmetic is
 * modular.
 */
#include "test.h"

#include "verifier/tnum.h"

#define W 5
#define NVAL (1u << W)
#define WMASK ((uint64_t)NVAL - 1)

/* All 3^W tnums of W bits. */
static struct tnum all[243];
static unsigned nall;

static void make_all(void)
{
	if (nall)
		return;
	for (uint64_t mask = 0; mask < NVAL; mask++)
		for (uint64_t value = 0; value < NVAL; value++)
			if (!(value & mask))
				all[nall++] = TNUM(value, mask);
}

/* The tightest tnum holding the values set in the bitmap (NULL if empty). */
static bool abstract(const uint8_t *set, unsigned n, struct tnum *out)
{
	uint64_t and_all = UINT64_MAX, or_all = 0;
	bool any = false;

	for (unsigned v = 0; v < n; v++) {
		if (!set[v])
			continue;
		and_all &= v;
		or_all |= v;
		any = true;
	}
	*out = TNUM(and_all & or_all, or_all & ~and_all);
	return any;
}

typedef uint64_t (*binop_fn)(uint64_t a, uint64_t b);
typedef struct tnum (*tbinop_fn)(struct tnum a, struct tnum b);

static uint64_t c_add(uint64_t a, uint64_t b) { return a + b; }
static uint64_t c_sub(uint64_t a, uint64_t b) { return a - b; }
static uint64_t c_mul(uint64_t a, uint64_t b) { return a * b; }
static uint64_t c_and(uint64_t a, uint64_t b) { return a & b; }
static uint64_t c_or(uint64_t a, uint64_t b) { return a | b; }
static uint64_t c_xor(uint64_t a, uint64_t b) { return a ^ b; }

/* Check op on every pair; exact: also demand optimality. Returns failures. */
static int check_binop(const char *name, tbinop_fn top, binop_fn cop, bool exact)
{
	int bad = 0;

	make_all();
	for (unsigned i = 0; i < nall; i++) {
		for (unsigned j = 0; j < nall; j++) {
			struct tnum a = all[i], b = all[j];
			struct tnum r = tnum_trunc(top(a, b), W), best;
			uint8_t seen[NVAL] = { 0 };

			for (uint64_t x = 0; x < NVAL; x++) {
				if (!tnum_contains(a, x))
					continue;
				for (uint64_t y = 0; y < NVAL; y++)
					if (tnum_contains(b, y))
						seen[cop(x, y) & WMASK] = 1;
			}
			abstract(seen, NVAL, &best);
			if (!tnum_in(r, best) || (exact && !tnum_equal(r, best))) {
				if (bad++ < 3)
					TEST_FAIL("%s (%#llx;%#llx) (%#llx;%#llx) = (%#llx;%#llx), best (%#llx;%#llx)",
						  name, (unsigned long long)a.value, (unsigned long long)a.mask,
						  (unsigned long long)b.value, (unsigned long long)b.mask,
						  (unsigned long long)r.value, (unsigned long long)r.mask,
						  (unsigned long long)best.value, (unsigned long long)best.mask);
			}
		}
	}
	return bad;
}

TEST(add_exact) { CHECK(!check_binop("add", tnum_add, c_add, true)); }
TEST(sub_exact) { CHECK(!check_binop("sub", tnum_sub, c_sub, true)); }
TEST(mul_sound) { CHECK(!check_binop("mul", tnum_mul, c_mul, false)); }
TEST(and_exact) { CHECK(!check_binop("and", tnum_and, c_and, true)); }
TEST(or_exact) { CHECK(!check_binop("or", tnum_or, c_or, true)); }
TEST(xor_exact) { CHECK(!check_binop("xor", tnum_xor, c_xor, true)); }

TEST(neg_exact)
{
	make_all();
	for (unsigned i = 0; i < nall; i++) {
		uint8_t seen[NVAL] = { 0 };
		struct tnum best, r = tnum_trunc(tnum_neg(all[i]), W);

		for (uint64_t x = 0; x < NVAL; x++)
			if (tnum_contains(all[i], x))
				seen[-x & WMASK] = 1;
		abstract(seen, NVAL, &best);
		CHECK(tnum_equal(r, best));
	}
}

TEST(shifts_exact)
{
	make_all();
	for (unsigned i = 0; i < nall; i++) {
		for (unsigned s = 0; s < W; s++) {
			uint8_t l[NVAL] = { 0 }, r[NVAL] = { 0 }, ar[NVAL] = { 0 };
			struct tnum bl, br, bar, a = all[i];

			for (uint64_t x = 0; x < NVAL; x++) {
				if (!tnum_contains(a, x))
					continue;
				l[(x << s) & WMASK] = 1;
				r[x >> s] = 1;
				/* arithmetic shift of a W-bit value */
				ar[(uint64_t)(((int64_t)(x << (64 - W)) >> (64 - W)) >> s) & WMASK] = 1;
			}
			abstract(l, NVAL, &bl);
			abstract(r, NVAL, &br);
			abstract(ar, NVAL, &bar);
			CHECK(tnum_equal(tnum_trunc(tnum_lshift(a, s), W), bl));
			CHECK(tnum_equal(tnum_rshift(a, s), br));
			CHECK(tnum_equal(tnum_arshift(a, s, W), bar));
		}
	}
}

TEST(intersect_union_in)
{
	make_all();
	for (unsigned i = 0; i < nall; i++) {
		for (unsigned j = 0; j < nall; j++) {
			struct tnum a = all[i], b = all[j], best;
			uint8_t both[NVAL] = { 0 }, either[NVAL] = { 0 };
			bool subset = true, overlap;

			for (uint64_t x = 0; x < NVAL; x++) {
				bool in_a = tnum_contains(a, x), in_b = tnum_contains(b, x);

				both[x] = in_a && in_b;
				either[x] = in_a || in_b;
				if (in_b && !in_a)
					subset = false;
			}
			overlap = abstract(both, NVAL, &best);
			if (overlap)
				CHECK(tnum_equal(tnum_intersect(a, b), best));
			abstract(either, NVAL, &best);
			CHECK(tnum_equal(tnum_union(a, b), best));
			CHECK(tnum_in(a, b) == subset);
		}
	}
}

TEST(range_exact)
{
	for (uint64_t lo = 0; lo < 256; lo++) {
		for (uint64_t hi = lo; hi < 256; hi++) {
			uint8_t seen[256] = { 0 };
			struct tnum best;

			for (uint64_t x = lo; x <= hi; x++)
				seen[x] = 1;
			abstract(seen, 256, &best);
			CHECK(tnum_equal(tnum_range(lo, hi), best));
		}
	}
	CHECK(tnum_is_unknown(tnum_range(0, UINT64_MAX)));
	CHECK(tnum_equal(tnum_range(7, 7), tnum_const(7)));
}

TEST(cast_sext_aligned)
{
	make_all();
	for (unsigned i = 0; i < nall; i++) {
		struct tnum a = all[i];
		struct tnum sx = tnum_sext(a, W);

		for (uint64_t x = 0; x < NVAL; x++) {
			uint64_t ext = (uint64_t)((int64_t)(x << (64 - W)) >> (64 - W));

			if (tnum_contains(a, x)) {
				CHECK(tnum_contains(sx, ext));
				CHECK(tnum_contains(tnum_trunc(a, 3), x & 7));
			}
		}
		for (uint64_t size = 1; size <= 8; size <<= 1) {
			bool aligned = true;

			for (uint64_t x = 0; x < NVAL; x++)
				if (tnum_contains(a, x) && x % size)
					aligned = false;
			CHECK(tnum_is_aligned(a, size) == aligned);
		}
	}
}

TEST(str)
{
	char buf[64];

	tnum_str(buf, sizeof(buf), tnum_const(5));
	CHECK_STR(buf, "5");
	tnum_str(buf, sizeof(buf), tnum_const(0x10000));
	CHECK_STR(buf, "0x10000");
	tnum_str(buf, sizeof(buf), TNUM(0, 0xff));
	CHECK_STR(buf, "(0x0; 0xff)");
}

TEST_MAIN()
