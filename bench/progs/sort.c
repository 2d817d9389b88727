/*
 * sort - stack-array work: ten rounds of insertion sort of 32 u32 copied
 * from the payload into a stack array, each round folded into a hash.
 */
#include "bench_prog.h"

uint64_t bench_main(uint8_t *mem, uint64_t len)
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
			uint32_t v = a[i], j = i;

			while (j > 0 && a[j - 1] > v) {
				a[j] = a[j - 1];
				j--;
			}
			a[j] = v;
		}
		for (uint32_t i = 0; i < 32; i++)
			acc = acc * 31 + a[i];
	}
	return acc;
}
