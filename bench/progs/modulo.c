/*
 * modulo - division-heavy: for 32 pairs of words from the frame, Euclid's
 * gcd (modulo by a register), a modular exponentiation with a 64-bit
 * modulus, and a decimal digit sum (division and modulo by a constant).
 */
#include "bench_prog.h"

BENCH_MAIN uint64_t bench_main(uint8_t *mem, uint64_t len)
{
	uint64_t acc = 0;

	if (len < BENCH_MEM_LEN)
		return 0;
	for (uint32_t i = 0; i < 32; i++) {
		uint32_t a = load32(mem + BENCH_PAYLOAD + 2 + 4 * i);
		uint32_t b = load32(mem + 800 + 4 * i) | 1;
		uint32_t x = a, y = b, d = a ^ b, e = b & 0xffff;
		uint64_t p = (b >> 4) | 3, base = a % p, r = 1;

		/* Euclid on 32-bit numbers ends within 47 steps. */
		for (uint32_t k = 0; k < 48 && y; k++) {
			uint32_t t = x % y;

			x = y;
			y = t;
		}
		acc += x;

		for (uint32_t k = 0; k < 16; k++) {
			if (e & 1)
				r = r * base % p;
			base = base * base % p;
			e >>= 1;
		}
		acc = acc * 7 + r;

		for (uint32_t k = 0; k < 10; k++) {
			acc += d % 10;
			d /= 10;
		}
	}
	return acc;
}
