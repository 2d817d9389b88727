/*
 * sort - stack-array work: ten rounds of insertion sort of 32 u32 copied
 * from the payload into a stack array, each round folded into a hash.
 *
 * The insertion is by compare-exchange of neighbours, branch-free, down to
 * the start of the array rather than stopping at the first element in
 * order (once in place, the rest of the exchanges swap nothing): a loop
 * that stops on the data is two paths per step for the kernel's verifier,
 * and with the array's values differing on each, it cannot merge them and
 * gives up at 1,000,000 instructions.  The sorted array is the same.
 */
#include "bench_prog.h"

BENCH_MAIN uint64_t bench_main(uint8_t *mem, uint64_t len)
{
	uint32_t a[32];
	uint64_t acc = 0;

	if (len < BENCH_MEM_LEN)
		return 0;
	for (uint32_t r = 0; r < 10; r++) {
		/* 56 + r * 128 keeps the 32-bit loads aligned and inside the frame. */
		const uint8_t *p = mem + BENCH_PAYLOAD + 2 + r * 128;

		for (uint32_t i = 0; i < 32; i++)
			a[i] = load32(p + 4 * i) * 0x9e3779b1u + r;
		for (uint32_t i = 1; i < 32; i++) {
			for (uint32_t j = i; j > 0; j--) {
				uint32_t lo = a[j - 1], hi = a[j];
				/* 1 when lo > hi: the sign of hi - lo in 64 bits. */
				uint64_t out_of_order = ((uint64_t)hi - lo) >> 63;
				uint32_t swap;

				bench_opaque(out_of_order); /* else clang branches on it */
				swap = (lo ^ hi) * (uint32_t)out_of_order;
				a[j - 1] = lo ^ swap;
				a[j] = hi ^ swap;
			}
		}
		for (uint32_t i = 0; i < 32; i++)
			acc = acc * 31 + a[i];
	}
	return acc;
}
