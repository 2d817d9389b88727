/*
 * test_scalar.c - ALU on scalar ranges against brute force, on 8-bit
 * registers (4-bit subregisters): for random pairs of ranges, every
 * concrete result of every member pair must be a member of the computed
 * range.  Byte swaps, 64-bit only, are checked on sampled members.
 */
#include "test.h"

#include <bpfvm/isa.h>

#include "verifier/scalar.h"

#define W 8
#define NV 256

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* A random synced range with members; fills its member list. */
static struct vrange random_range(uint8_t *list, unsigned *n)
{
	for (;;) {
		struct vrange r = range_unknown_w(W);
		uint64_t a = next() & 0xff, b = next() & 0xff;
		unsigned views = (unsigned)next();

		if (views & 1)
			r = range_const_w(a, W);
		if (views & 2) {
			r.b64.umin = a < b ? a : b;
			r.b64.umax = a < b ? b : a;
		}
		if (views & 4) {
			int64_t x = (int8_t)a, y = (int8_t)b;
			r.b64.smin = x < y ? x : y;
			r.b64.smax = x < y ? y : x;
		}
		if (views & 8) {
			uint64_t mask = next() & 0xff & (views & 16 ? 0xf : 0xff);
			r.var = TNUM(next() & 0xff & ~mask, mask);
		}
		range_sync_w(&r, W);
		*n = 0;
		for (unsigned v = 0; v < NV; v++)
			if (range_contains_w(&r, v, W))
				list[(*n)++] = (uint8_t)v;
		if (*n)
			return r;
	}
}

/* The concrete operation on W-bit values (alu32: on their low halves). */
static uint64_t concrete(unsigned op, uint64_t a, uint64_t b, bool alu32)
{
	unsigned w = alu32 ? W / 2 : W;
	uint64_t m = w_umax(w), r;

	a &= m, b &= m;
	switch (op) {
	case BPFVM_ADD: r = a + b; break;
	case BPFVM_SUB: r = a - b; break;
	case BPFVM_MUL: r = a * b; break;
	case BPFVM_AND: r = a & b; break;
	case BPFVM_OR: r = a | b; break;
	case BPFVM_XOR: r = a ^ b; break;
	case BPFVM_LSH: r = b < w ? a << b : 0; break;
	case BPFVM_RSH: r = b < w ? a >> b : 0; break;
	case BPFVM_ARSH: r = b < w ? (uint64_t)(w_sx(a, w) >> b) : 0; break;
	case BPFVM_DIV: r = b ? a / b : 0; break;
	default: r = b ? a % b : a; break;
	}
	return r & m;
}

static const char *const names[16] = { "add", "sub", "mul", "div", "or", "and", "lsh", "rsh",
				       "neg", "mod", "xor", "mov", "arsh" };

static int check_op(unsigned op, bool alu32)
{
	for (int i = 0; i < 20000; i++) {
		uint8_t la[NV], lb[NV];
		unsigned na, nb;
		struct vrange a = random_range(la, &na), b = random_range(lb, &nb);
		struct vrange r = a;

		if ((op == BPFVM_LSH || op == BPFVM_RSH || op == BPFVM_ARSH) && (next() & 1)) {
			/* make shifts by a known amount common */
			lb[0] = (uint8_t)(next() % (alu32 ? W / 2 : W));
			b = range_const_w(lb[0], W);
			nb = 1;
		}
		scalar_alu_w(&r, &b, op, alu32, W);
		for (unsigned x = 0; x < na; x++) {
			for (unsigned y = 0; y < nb; y++) {
				uint64_t c = concrete(op, la[x], lb[y], alu32);

				if (range_contains_w(&r, c, W))
					continue;
				TEST_FAIL("%s%s: %u op %u = %llu not in result (var=(%#llx;%#llx) "
					  "u=[%llu,%llu] s=[%lld,%lld] u32=[%llu,%llu] s32=[%lld,%lld])",
					  names[op >> 4], alu32 ? "32" : "", la[x], lb[y],
					  (unsigned long long)c, (unsigned long long)r.var.value,
					  (unsigned long long)r.var.mask, (unsigned long long)r.b64.umin,
					  (unsigned long long)r.b64.umax, (long long)r.b64.smin,
					  (long long)r.b64.smax, (unsigned long long)r.b32.umin,
					  (unsigned long long)r.b32.umax, (long long)r.b32.smin,
					  (long long)r.b32.smax);
				return 1;
			}
		}
	}
	return 0;
}

#define OP_TEST(NAME, OP)                                 \
	TEST(NAME)                                        \
	{                                                 \
		if (!check_op(OP, false))                 \
			check_op(OP, true);               \
	}
OP_TEST(add, BPFVM_ADD)
OP_TEST(sub, BPFVM_SUB)
OP_TEST(mul, BPFVM_MUL)
OP_TEST(and, BPFVM_AND)
OP_TEST(or, BPFVM_OR)
OP_TEST(xor, BPFVM_XOR)
OP_TEST(lsh, BPFVM_LSH)
OP_TEST(rsh, BPFVM_RSH)
OP_TEST(arsh, BPFVM_ARSH)
OP_TEST(div, BPFVM_DIV)
OP_TEST(mod, BPFVM_MOD)

TEST(neg)
{
	for (int alu32 = 0; alu32 < 2; alu32++) {
		for (int i = 0; i < 20000; i++) {
			uint8_t l[NV];
			unsigned n;
			struct vrange a = random_range(l, &n), r = a;

			scalar_neg_w(&r, alu32, W);
			for (unsigned x = 0; x < n; x++) {
				uint64_t c = concrete(BPFVM_SUB, 0, l[x], alu32);
				if (!range_contains_w(&r, c, W)) {
					TEST_FAIL("neg%s %u", alu32 ? "32" : "", l[x]);
					return;
				}
			}
		}
	}
}

/* Kernel 6.18 bounds for a few cases, read from its verifier log. */
TEST(kernel_examples)
{
	struct vrange r = range_from_u_w(0, 15, 64), c = range_const(20);

	scalar_alu(&r, &c, BPFVM_SUB, false);   /* [0,15] - 20 wraps at both ends */
	CHECK_EQ_U64(r.b64.umin, 0xffffffffffffffecull);
	CHECK_EQ_U64(r.b64.umax, 0xfffffffffffffffbull);
	CHECK_EQ_INT(r.b64.smin, -20);
	r = range_from_s_w(-5, 10, 64);
	c = range_const(3);
	scalar_alu(&r, &c, BPFVM_MUL, false);
	CHECK_EQ_INT(r.b64.smin, -15);
	CHECK_EQ_INT(r.b64.smax, 30);
	r = range_from_u_w(0, 15, 64);
	scalar_bswap_w(&r, 16, true, 64);
	CHECK_EQ_U64(r.b64.umax, 3840);
	CHECK_EQ_U64(r.var.mask, 0xf00);
}

TEST(bswap_sampled)
{
	for (int i = 0; i < 20000; i++) {
		uint64_t mask = next() & next(), value = next() & ~mask;
		struct vrange r = range_unknown();
		unsigned width = 16u << (next() % 3);

		r.var = TNUM(value, mask);
		range_sync(&r);
		struct vrange s = r;
		scalar_bswap_w(&s, width, true, 64);
		for (int k = 0; k < 16; k++) {
			uint64_t v = value | (next() & mask);
			uint64_t sw = width == 16 ? __builtin_bswap16((uint16_t)v)
				    : width == 32 ? __builtin_bswap32((uint32_t)v) : __builtin_bswap64(v);
			if (!range_contains_w(&s, sw, 64)) {
				TEST_FAIL("bswap%u of %#llx", width, (unsigned long long)v);
				return;
			}
		}
	}
}

TEST_MAIN()
