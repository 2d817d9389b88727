/*
 * strings.c - helpers over bytes the program passes: bpf_strncmp,
 * bpf_strtol, bpf_strtoul (the kernel's number parsing: leading
 * whitespace, a '-', base 0/8/10/16 with 0 and 0x prefixes, at most 63
 * characters looked at, -ERANGE on overflow, the count of characters
 * consumed), and bpf_csum_diff (the kernel's 16-bit result, to the bit).
 */
#include <errno.h>

#include "../core/run.h"
#include "helpers.h"

#define STRTOX_BASE_MASK 0x1fu
#define STRTOX_OVERFLOW (1u << 31)

/* The kernel's strncmp: -1, 0 or 1. */
BPF_HELPER(strncmp)
{
	const unsigned char *a = (const void *)(uintptr_t)r1, *b = (const void *)(uintptr_t)r3;

	for (uint32_t n = (uint32_t)r2; n; n--, a++, b++) {
		if (*a != *b)
			return HELPER_ERR(*a < *b ? -1 : 1);
		if (!*a)
			break;
	}
	return 0;
}

/* The kernel's isspace(), whose ctype table counts 0xa0 too. */
static bool k_isspace(unsigned char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r') || c == 0xa0;
}

static int digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : 99;
}

/* _parse_integer_fixup_radix + _parse_integer: characters used, | OVERFLOW. */
static uint32_t parse_integer(const char **s, unsigned base, uint64_t *res)
{
	const char *p = *s;
	uint32_t n = 0;

	if (!base)
		base = p[0] != '0' ? 10 : ((p[1] | 0x20) == 'x' && digit_value(p[2]) < 16) ? 16 : 8;
	if (base == 16 && p[0] == '0' && (p[1] | 0x20) == 'x')
		p += 2;
	uint32_t overflow = 0;

	*res = 0;
	for (;; n++) {
		int v = digit_value(p[n]);

		if (v >= (int)base)
			break;
		if ((*res >> 60) && *res > (UINT64_MAX - (uint64_t)v) / base)
			overflow = STRTOX_OVERFLOW;
		*res = *res * base + (uint64_t)v;
	}
	*s = p;
	return n | overflow;
}

/* __bpf_strtoull: characters consumed, or a negative errno. */
static long strtoull_k(const char *buf, uint64_t len, uint64_t flags, uint64_t *res, bool *neg)
{
	unsigned base = (unsigned)(flags & STRTOX_BASE_MASK);
	uint64_t i = 0, consumed;
	char str[64];
	const char *p;
	uint32_t n;

	if (!buf || !len || (base && base != 8 && base != 10 && base != 16) ||
	    (flags & ~(uint64_t)STRTOX_BASE_MASK))
		return -EINVAL;
	while (i < len && k_isspace((unsigned char)buf[i]))
		i++;
	*neg = i < len && buf[i] == '-';
	i += *neg;
	if (i == len)
		return -EINVAL;
	consumed = len - i < sizeof(str) - 1 ? len - i : sizeof(str) - 1;
	memcpy(str, buf + i, consumed);
	str[consumed] = '\0';
	p = str;
	n = parse_integer(&p, base, res);
	if (n & STRTOX_OVERFLOW)
		return -ERANGE;
	if (!n)
		return -EINVAL;
	return (long)(i + (uint64_t)(p - str) + n);
}

BPF_HELPER(strtol)
{
	int64_t *res = (int64_t *)(uintptr_t)r4;
	uint64_t v;
	bool neg;
	long n = strtoull_k((const char *)(uintptr_t)r1, r2, r3, &v, &neg);

	*res = 0;
	if (n < 0)
		return HELPER_ERR(n);
	if (neg ? (int64_t)-v > 0 : (int64_t)v < 0)
		return HELPER_ERR(-ERANGE);
	*res = neg ? (int64_t)-v : (int64_t)v;
	return (uint64_t)n;
}

BPF_HELPER(strtoul)
{
	uint64_t *res = (uint64_t *)(uintptr_t)r4, v;
	bool neg;
	long n = strtoull_k((const char *)(uintptr_t)r1, r2, r3, &v, &neg);

	*res = 0;
	if (n < 0)
		return HELPER_ERR(n);
	if (neg)
		return HELPER_ERR(-EINVAL);
	*res = v;
	return (uint64_t)n;
}

/* Ones' complement addition with the carry wrapped around. */
static inline uint64_t add_carry64(uint64_t a, uint64_t b)
{
	uint64_t s = a + b;

	return s + (s < a);
}

static inline uint32_t add_carry32(uint32_t a, uint32_t b)
{
	uint32_t s = a + b;

	return s + (s < b);
}

/*
 * x86-64's csum_partial(): little-endian 64-bit words summed with the
 * carry wrapped around (the tail zero-extended), folded to 32 bits.  The
 * order of the additions does not change the result, so this plain loop
 * gives the kernel's unrolled one's answer.
 */
static uint32_t csum_partial(const uint8_t *p, uint32_t len, uint32_t seed)
{
	uint64_t sum = seed, w;

	for (; len >= 8; len -= 8, p += 8) {
		memcpy(&w, p, 8);
		sum = add_carry64(sum, w);
	}
	if (len) {
		w = 0;
		memcpy(&w, p, len);
		sum = add_carry64(sum, w);
	}
	return (uint32_t)((sum + ((sum << 32) | (sum >> 32))) >> 32);
}

/*
 * bpf_csum_diff(from, from_size, to, to_size, seed) as Linux computes it
 * since 6.13 ("homogenize for all archs"): csum(to) - csum(from) from the
 * seed, folded to 16 bits, any sizes.  (Linux 6.12 and before returned
 * the unfolded 32-bit sum of its architecture and refused sizes that are
 * not a multiple of 4 or add up to more than 512.)
 */
BPF_HELPER(csum_diff)
{
	const uint8_t *from = (const void *)(uintptr_t)r1, *to = (const void *)(uintptr_t)r3;
	uint32_t from_size = (uint32_t)r2, to_size = (uint32_t)r4, ret = (uint32_t)r5;

	if (from_size && to_size)
		ret = add_carry32(csum_partial(to, to_size, ret), ~csum_partial(from, from_size, 0));
	else if (to_size)
		ret = csum_partial(to, to_size, ret);
	else if (from_size)
		ret = ~csum_partial(from, from_size, ~ret);
	ret += (ret >> 16) | (ret << 16);
	return (uint16_t)(ret >> 16);
}
