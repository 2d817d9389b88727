/*
 * checksum - memory-heavy: the IPv4 header checksum from byte loads, the
 * TCP checksum (pseudo-header and segment) from 16-bit loads, Adler-32 of
 * the frame from byte loads, and a 32-bit word sum as Linux's csum_partial
 * accumulates it.
 */
#include "bench_prog.h"

static inline __attribute__((always_inline)) uint32_t fold16(uint64_t sum)
{
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint32_t)sum;
}

BENCH_MAIN uint64_t bench_main(uint8_t *mem, uint64_t len)
{
	uint64_t sum = 0, words = 0;
	uint32_t ip = 0, a = 1, b = 0;

	if (len < BENCH_MEM_LEN)
		return 0;

	/* IPv4 header: ten big-endian words, a byte at a time. */
	for (uint32_t i = 14; i < 34; i += 2)
		ip += (uint32_t)mem[i] << 8 | mem[i + 1];
	ip = ~fold16(ip) & 0xffff;

	/* TCP: addresses, protocol and length, then the segment (even offsets). */
	for (uint32_t i = 26; i < 34; i += 2)
		sum += load16(mem + i);
	sum += (uint32_t)6 << 8;
	sum += (uint32_t)(((BENCH_MEM_LEN - 34) & 0xff) << 8 | (BENCH_MEM_LEN - 34) >> 8);
	for (uint32_t i = 34; i < BENCH_MEM_LEN; i += 2)
		sum += load16(mem + i);

	/* Adler-32, reducing every 500 bytes so the sums stay in 32 bits. */
	for (uint32_t blk = 0; blk < BENCH_MEM_LEN; blk += 500) {
		for (uint32_t i = 0; i < 500; i++) {
			a += mem[blk + i];
			b += a;
		}
		a %= 65521;
		b %= 65521;
	}

	/* 32-bit words into a 64-bit sum. */
	for (uint32_t i = 0; i < BENCH_MEM_LEN; i += 4)
		words += load32(mem + i);

	return ((uint64_t)ip << 48 | (uint64_t)(~fold16(sum) & 0xffff) << 32 | (b << 16 | a)) ^
	       words;
}
