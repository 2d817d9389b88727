/*
 * test_branch.c - deciding and refining conditional jumps against brute
 * force on 8-bit registers (4-bit subregisters): a decided outcome must
 * hold for every member pair, and refinement must keep every member pair
 * for which the condition holds.
 */
#include "test.h"

#include <bpfvm/isa.h>

#include "verifier/branch.h"

#define W 8
#define NV 256

static uint64_t rng = 0x1234567887654321ull;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static struct vrange random_range(uint8_t *list, unsigned *n)
{
	for (;;) {
		struct vrange r = range_unknown_w(W);
		uint64_t a = next() & 0xff, b = next() & 0xff;
		unsigned views = (unsigned)next();

		if ((views & 3) == 0)
			r = range_const_w(a, W);
		if (views & 4) {
			r.b64.umin = a < b ? a : b;
			r.b64.umax = a < b ? b : a;
		}
		if (views & 8) {
			int64_t x = (int8_t)a, y = (int8_t)b;
			r.b64.smin = x < y ? x : y;
			r.b64.smax = x < y ? y : x;
		}
		if (views & 16) {
			uint64_t mask = next() & 0xff;
			r.var = TNUM(next() & 0xff & ~mask, mask);
		}
		if (views & 32) {
			r.b32.umin = next() & 7;
			r.b32.umax = r.b32.umin + (next() & 7);
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

static bool holds(unsigned op, uint64_t a, uint64_t b, bool jmp32)
{
	unsigned w = jmp32 ? W / 2 : W;
	uint64_t ua = w_zx(a, w), ub = w_zx(b, w);
	int64_t sa = w_sx(a, w), sb = w_sx(b, w);

	switch (op) {
	case BPFVM_JEQ: return ua == ub;
	case BPFVM_JNE: return ua != ub;
	case BPFVM_JSET: return ua & ub;
	case BRANCH_JNSET: return !(ua & ub);
	case BPFVM_JGT: return ua > ub;
	case BPFVM_JGE: return ua >= ub;
	case BPFVM_JLT: return ua < ub;
	case BPFVM_JLE: return ua <= ub;
	case BPFVM_JSGT: return sa > sb;
	case BPFVM_JSGE: return sa >= sb;
	case BPFVM_JSLT: return sa < sb;
	default: return sa <= sb;
	}
}

static const unsigned ops[] = { BPFVM_JEQ, BPFVM_JNE, BPFVM_JSET, BRANCH_JNSET, BPFVM_JGT,
				BPFVM_JGE, BPFVM_JLT, BPFVM_JLE, BPFVM_JSGT, BPFVM_JSGE,
				BPFVM_JSLT, BPFVM_JSLE };

static int check(unsigned op, bool jmp32)
{
	for (int i = 0; i < 8000; i++) {
		uint8_t la[NV], lb[NV];
		unsigned na, nb, sat = 0, unsat = 0;
		struct vrange a = random_range(la, &na), b = random_range(lb, &nb);
		struct vrange ra = a, rb = b;
		int taken = branch_taken_w(&a, &b, op, jmp32, W);
		bool ok = branch_refine_w(&ra, &rb, op, jmp32, W);

		for (unsigned x = 0; x < na; x++) {
			for (unsigned y = 0; y < nb; y++) {
				bool h = holds(op, la[x], lb[y], jmp32);

				sat += h, unsat += !h;
				if (h && !(ok && range_contains_w(&ra, la[x], W) &&
					   range_contains_w(&rb, lb[y], W))) {
					TEST_FAIL("op %#x%s: refine lost %u, %u", op, jmp32 ? " (32)" : "",
						  la[x], lb[y]);
					return 1;
				}
			}
		}
		if ((taken == 1 && unsat) || (taken == 0 && sat)) {
			TEST_FAIL("op %#x%s: taken=%d but %u pairs hold, %u do not", op,
				  jmp32 ? " (32)" : "", taken, sat, unsat);
			return 1;
		}
	}
	return 0;
}

TEST(all_conditions)
{
	for (unsigned i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (check(ops[i], false) || check(ops[i], true))
			return;
}

TEST(negate_and_swap)
{
	for (unsigned i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		for (uint64_t a = 0; a < NV; a += 7) {
			for (uint64_t b = 0; b < NV; b += 5) {
				CHECK(holds(ops[i], a, b, false) != holds(branch_negate(ops[i]), a, b, false));
				CHECK(holds(ops[i], a, b, false) == holds(branch_swap(ops[i]), b, a, false));
			}
		}
	}
}

TEST_MAIN()
