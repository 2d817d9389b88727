/*
 * alu_hash - ALU-heavy: splitmix64 (64-bit multiplies, shifts, xors) of a
 * counter seeded from the frame, fed through murmur3's 32-bit finalizer
 * (32-bit ALU) and rotated into two accumulators.
 */
#include "bench_prog.h"

BENCH_MAIN uint64_t bench_main(uint8_t *mem, uint64_t len)
{
	uint64_t seed = len, acc = 0;
	uint32_t h32 = 0x811c9dc5;

	if (len < BENCH_MEM_LEN)
		return 0;
	for (uint32_t i = 0; i < 8; i++)
		seed = seed << 8 | mem[i];
	for (uint32_t i = 0; i < 1024; i++) {
		uint64_t x = seed + (uint64_t)i * 0x9e3779b97f4a7c15ull;
		uint32_t y;

		x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
		x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
		x ^= x >> 31;
		y = (uint32_t)x ^ h32;
		y ^= y >> 16;
		y *= 0x85ebca6bu;
		y ^= y >> 13;
		y *= 0xc2b2ae35u;
		y ^= y >> 16;
		h32 = (h32 << 5 | h32 >> 27) + y;
		acc = (acc << 7 | acc >> 57) ^ x ^ ((uint64_t)y << 17);
	}
	return acc ^ h32;
}
