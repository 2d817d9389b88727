/*
 * histogram - stack loads and stores: a 64-bin histogram of the frame's
 * bytes on the stack, then each bin weighted by its index and squared.
 */
#include "bench_prog.h"

BENCH_MAIN uint64_t bench_main(uint8_t *mem, uint64_t len)
{
	uint32_t bins[64];
	uint64_t acc = 0;

	if (len < BENCH_MEM_LEN)
		return 0;
	for (uint32_t i = 0; i < 64; i++)
		bins[i] = 0;
	for (uint32_t i = 0; i < BENCH_MEM_LEN; i++) {
		uint8_t c = mem[i];

		bins[(c ^ c >> 6) & 63]++;
	}
	for (uint32_t i = 0; i < 64; i++)
		acc += (uint64_t)bins[i] * bins[i] * (i + 1);
	return acc;
}
