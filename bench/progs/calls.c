/*
 * calls - bpf-to-bpf calls: a chain four deep below bench_main (five
 * frames), the middle one passing a pointer to its stack down, called for
 * each 8-byte block of the payload.
 */
#include "bench_prog.h"

#define NOINLINE __attribute__((noinline))

static NOINLINE uint64_t leaf(uint64_t x, uint64_t k)
{
	x ^= k;
	x *= 0x100000001b3ull;
	return x ^ x >> 29;
}

static NOINLINE uint64_t sum_words(const uint64_t *w, uint64_t seed)
{
	return leaf(seed, w[0] + w[1]) + leaf(seed >> 1, w[2] ^ w[3]);
}

static NOINLINE uint64_t spread(const uint8_t *p, uint64_t seed)
{
	uint64_t w[4];

	w[0] = load32(p);
	w[1] = load32(p + 4);
	w[2] = (uint64_t)p[0] << 32 | p[7];
	w[3] = seed;
	return sum_words(w, seed);
}

static NOINLINE uint64_t block(const uint8_t *p, uint64_t acc)
{
	return spread(p, acc) ^ acc >> 3;
}

BENCH_MAIN uint64_t bench_main(uint8_t *mem, uint64_t len)
{
	uint64_t acc = len;

	if (len < BENCH_MEM_LEN)
		return 0;
	/* 56 + 8 * i: aligned, and the last block ends at byte 1448. */
	for (uint32_t i = 0; i < 174; i++)
		acc = block(mem + BENCH_PAYLOAD + 2 + 8 * i, acc);
	return acc;
}
