/*
 * jhash.h - the hash the kernel's hash tables and bloom filters use
 * (<linux/jhash.h>): Bob Jenkins' lookup3, hashword() for keys whose size
 * is a multiple of 4 and hashlittle() otherwise, with the kernel's initial
 * value.  With BPF_F_ZERO_SEED the seed is 0 and bpfvm's buckets, and so
 * the order get_next_key walks, are the kernel's.  Inline: a lookup's
 * hash of a 4- or 8-byte key is a few instructions.
 */
#ifndef BPFVM_MAPS_JHASH_H
#define BPFVM_MAPS_JHASH_H

#include <stdint.h>
#include <string.h>

#define JHASH_INITVAL 0xdeadbeefu

static inline uint32_t rol32(uint32_t x, unsigned r)
{
	return (x << r) | (x >> (32 - r));
}

#define MIX(a, b, c)                                 \
	do {                                         \
		a -= c; a ^= rol32(c, 4);  c += b;   \
		b -= a; b ^= rol32(a, 6);  a += c;   \
		c -= b; c ^= rol32(b, 8);  b += a;   \
		a -= c; a ^= rol32(c, 16); c += b;   \
		b -= a; b ^= rol32(a, 19); a += c;   \
		c -= b; c ^= rol32(b, 4);  b += a;   \
	} while (0)

#define FINAL(a, b, c)                               \
	do {                                         \
		c ^= b; c -= rol32(b, 14);           \
		a ^= c; a -= rol32(c, 11);           \
		b ^= a; b -= rol32(a, 25);           \
		c ^= b; c -= rol32(b, 16);           \
		a ^= c; a -= rol32(c, 4);            \
		b ^= a; b -= rol32(a, 14);           \
		c ^= b; c -= rol32(b, 24);           \
	} while (0)

static inline uint32_t load32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;   /* little-endian hosts: the kernel's get_unaligned_cpu32 too */
}

/* hashword(): len is a count of 32-bit words. */
static inline uint32_t jhash_words(const uint8_t *k, uint32_t len, uint32_t seed)
{
	uint32_t a, b, c;

	a = b = c = JHASH_INITVAL + (len << 2) + seed;
	for (; len > 3; len -= 3, k += 12) {
		a += load32(k);
		b += load32(k + 4);
		c += load32(k + 8);
		MIX(a, b, c);
	}
	switch (len) {
	case 3: c += load32(k + 8); /* fall through */
	case 2: b += load32(k + 4); /* fall through */
	case 1:
		a += load32(k);
		FINAL(a, b, c);
		break;
	default:
		break;
	}
	return c;
}

/* hashlittle(): any length in bytes. */
static inline uint32_t jhash_bytes(const uint8_t *k, uint32_t len, uint32_t seed)
{
	uint32_t a, b, c;

	a = b = c = JHASH_INITVAL + len + seed;
	for (; len > 12; len -= 12, k += 12) {
		a += load32(k);
		b += load32(k + 4);
		c += load32(k + 8);
		MIX(a, b, c);
	}
	if (!len)
		return c;
	/* The last 1..12 bytes, little-endian into a, b, c. */
	for (uint32_t i = 0; i < len; i++) {
		uint32_t byte = (uint32_t)k[i] << (8 * (i % 4));

		if (i < 4)
			a += byte;
		else if (i < 8)
			b += byte;
		else
			c += byte;
	}
	FINAL(a, b, c);
	return c;
}

static inline uint32_t map_jhash(const void *key, uint32_t len, uint32_t seed)
{
	if (len % 4 == 0)
		return jhash_words(key, len / 4, seed);
	return jhash_bytes(key, len, seed);
}

#endif
