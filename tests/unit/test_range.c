/*
 * test_range.c - the scalar range domain against brute force on 8-bit
 * registers with 4-bit subregisters (range.c is written for any width; the
 * verifier uses 64/32).  Abstract values are built from every unsigned and
 * every signed interval, every tnum, and random combinations of them; for
 * each, the values it stands for are found by trying all 256, and every
 * operation must keep every one of them (soundness), and never lose what
 * an input view already knew (sync only narrows).
 */
#include "test.h"

#include "verifier/range.h"

#define W 8
#define NV 256

/* The members of r, by brute force. */
static unsigned members(const struct vrange *r, uint8_t *in)
{
	unsigned n = 0;

	for (unsigned v = 0; v < NV; v++)
		n += in[v] = range_contains_w(r, v, W);
	return n;
}

static void print_range(const char *what, const struct vrange *r)
{
	printf("     ... %s: var=(%#llx;%#llx) u=[%llu,%llu] s=[%lld,%lld] u32=[%llu,%llu] s32=[%lld,%lld]\n",
	       what, (unsigned long long)r->var.value, (unsigned long long)r->var.mask,
	       (unsigned long long)r->b64.umin, (unsigned long long)r->b64.umax,
	       (long long)r->b64.smin, (long long)r->b64.smax, (unsigned long long)r->b32.umin,
	       (unsigned long long)r->b32.umax, (long long)r->b32.smin, (long long)r->b32.smax);
}

/* Sync keeps every member, stays valid, and only narrows. */
static int check_sync(struct vrange r)
{
	uint8_t before[NV], after[NV];
	struct vrange s = r;

	members(&r, before);
	range_sync_w(&s, W);
	members(&s, after);
	for (unsigned v = 0; v < NV; v++) {
		if (before[v] && !after[v]) {
			TEST_FAIL("sync lost %u", v);
			print_range("before", &r);
			print_range("after", &s);
			return 1;
		}
	}
	if (!range_within(&r, &s) && range_valid_w(&r, W)) {
		/* a consistent input must only narrow */
		unsigned n = 0;
		for (unsigned v = 0; v < NV; v++)
			n += before[v];
		if (n) {
			TEST_FAIL("sync widened a view");
			print_range("before", &r);
			print_range("after", &s);
			return 1;
		}
	}
	return 0;
}

TEST(sync_intervals_and_tnums)
{
	int bad = 0;

	for (unsigned lo = 0; lo < NV && !bad; lo++) {
		for (unsigned hi = lo; hi < NV && !bad; hi++) {
			struct vrange r = range_unknown_w(W);

			r.b64.umin = lo, r.b64.umax = hi;
			bad |= check_sync(r);
			r = range_unknown_w(W);
			r.b64.smin = (int8_t)lo <= (int8_t)hi ? (int8_t)lo : (int8_t)hi;
			r.b64.smax = (int8_t)lo <= (int8_t)hi ? (int8_t)hi : (int8_t)lo;
			bad |= check_sync(r);
		}
	}
	for (unsigned mask = 0; mask < NV && !bad; mask++) {
		for (unsigned value = 0; value < NV && !bad; value++) {
			struct vrange r = range_unknown_w(W);

			if (value & mask)
				continue;
			r.var = TNUM(value, mask);
			bad |= check_sync(r);
		}
	}
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* A random abstract value: each view narrowed at random around a few seeds. */
static struct vrange random_range(void)
{
	struct vrange r = range_unknown_w(W);
	uint64_t a = next() & 0xff, b = next() & 0xff;
	unsigned views = (unsigned)next();

	if (views & 1) {
		r.b64.umin = a < b ? a : b;
		r.b64.umax = a < b ? b : a;
	}
	if (views & 2) {
		int64_t x = (int8_t)(next() & 0xff), y = (int8_t)(next() & 0xff);
		r.b64.smin = x < y ? x : y;
		r.b64.smax = x < y ? y : x;
	}
	if (views & 4) {
		uint64_t x = next() & 0xf, y = next() & 0xf;
		r.b32.umin = x < y ? x : y;
		r.b32.umax = x < y ? y : x;
	}
	if (views & 8) {
		int64_t x = (int64_t)((next() & 0xf) << 60) >> 60, y = (int64_t)((next() & 0xf) << 60) >> 60;
		r.b32.smin = x < y ? x : y;
		r.b32.smax = x < y ? y : x;
	}
	if (views & 16) {
		uint64_t mask = next() & 0xff;
		r.var = TNUM(next() & 0xff & ~mask, mask);
	}
	return r;
}

TEST(sync_random_combinations)
{
	for (int i = 0; i < 300000; i++)
		if (check_sync(random_range()))
			break;
}

/* A synced random range with at least one member. */
static struct vrange random_member_range(uint8_t *in)
{
	for (;;) {
		struct vrange r = random_range();

		range_sync_w(&r, W);
		if (members(&r, in))
			return r;
	}
}

typedef uint64_t (*conc_fn)(uint64_t v);
typedef void (*abs_fn)(struct vrange *r);

static int check_unary(const char *name, abs_fn op, conc_fn cop)
{
	for (int i = 0; i < 100000; i++) {
		uint8_t in[NV];
		struct vrange r = random_member_range(in), out = r;

		op(&out);
		for (unsigned v = 0; v < NV; v++) {
			if (in[v] && !range_contains_w(&out, cop(v), W)) {
				TEST_FAIL("%s lost %u -> %llu", name, v, (unsigned long long)cop(v));
				print_range("in", &r);
				print_range("out", &out);
				return 1;
			}
		}
	}
	return 0;
}

static void a_zext(struct vrange *r) { range_zext_w(r, W); range_sync_w(r, W); }
static uint64_t c_zext(uint64_t v) { return v & 0xf; }
static void a_trunc2(struct vrange *r) { range_trunc_w(r, 2, W); }
static uint64_t c_trunc2(uint64_t v) { return v & 3; }
static void a_trunc4(struct vrange *r) { range_trunc_w(r, 4, W); }
static void a_sext2(struct vrange *r) { range_sext_w(r, 2, W); }
static uint64_t c_sext2(uint64_t v) { return (uint64_t)((int64_t)(v << 62) >> 62) & 0xff; }
static void a_sext4(struct vrange *r) { range_sext_w(r, 4, W); }
static uint64_t c_sext4(uint64_t v) { return (uint64_t)((int64_t)(v << 60) >> 60) & 0xff; }
static void a_sext32_2(struct vrange *r) { range_sext32_w(r, 2, W); }
static uint64_t c_sext32_2(uint64_t v) { return (uint64_t)((int64_t)(v << 62) >> 62) & 0xf; }

TEST(zext) { check_unary("zext", a_zext, c_zext); }
TEST(trunc) { if (!check_unary("trunc2", a_trunc2, c_trunc2)) check_unary("trunc4", a_trunc4, c_zext); }
TEST(sext) { if (!check_unary("sext2", a_sext2, c_sext2)) check_unary("sext4", a_sext4, c_sext4); }
TEST(sext32) { check_unary("sext32_2", a_sext32_2, c_sext32_2); }

TEST(join_and_within)
{
	for (int i = 0; i < 100000; i++) {
		uint8_t ina[NV], inb[NV], inj[NV];
		struct vrange a = random_member_range(ina), b = random_member_range(inb);
		struct vrange j = range_join_w(&a, &b, W);
		bool sub = true;

		members(&j, inj);
		for (unsigned v = 0; v < NV; v++) {
			if ((ina[v] || inb[v]) && !inj[v]) {
				TEST_FAIL("join lost %u", v);
				return;
			}
			if (inb[v] && !ina[v])
				sub = false;
		}
		/* within is a sufficient test for inclusion */
		if (range_within(&a, &b) && !sub) {
			TEST_FAIL("within but not a subset");
			return;
		}
	}
}

TEST(constants)
{
	for (unsigned v = 0; v < NV; v++) {
		struct vrange r = range_const_w(v, W);
		uint8_t in[NV];

		CHECK(members(&r, in) == 1 && in[v]);
		range_sync_w(&r, W);
		CHECK(members(&r, in) == 1 && in[v]);
	}
	struct vrange r = range_const(0xfffffffffffffff0ull);
	CHECK(r.b64.smin == -16 && r.b32.umin == 0xfffffff0u && r.b32.smin == -16);
	r = range_from_u_w(0, 10, 64);
	CHECK(r.b64.smin == 0 && r.b64.smax == 10 && r.b32.umax == 10 && r.var.mask == 15);
}

TEST_MAIN()
