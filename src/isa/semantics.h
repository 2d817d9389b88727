/*
 * semantics.h - the arithmetic of the instruction set, written down once.
 * The interpreter executes these, the JIT folds constants with them and
 * the verifier reasons about them.  Each is what Linux does (kernel/bpf/
 * core.c and the verifier's rewrites), which RFC 9669 also defines:
 *
 * - division by zero gives 0; modulo by zero leaves the dividend (for 32-bit
 *   operations, its low half, zero-extended);
 * - signed division of the minimum value by -1 gives the minimum value, and
 *   signed modulo gives 0 (no trap, unlike the CPU);
 * - signed modulo truncates toward zero, as C's %: -13 s% 3 == -1;
 * - shift counts are masked to the operand width (63 or 31);
 * - 32-bit operations zero the upper half of the destination.
 */
#ifndef BPFVM_ISA_SEMANTICS_H
#define BPFVM_ISA_SEMANTICS_H

#include <stdint.h>

static inline uint64_t bpf_udiv64(uint64_t a, uint64_t b) { return b ? a / b : 0; }
static inline uint32_t bpf_udiv32(uint32_t a, uint32_t b) { return b ? a / b : 0; }
static inline uint64_t bpf_umod64(uint64_t a, uint64_t b) { return b ? a % b : a; }
static inline uint32_t bpf_umod32(uint32_t a, uint32_t b) { return b ? a % b : a; }

static inline uint64_t bpf_sdiv64(uint64_t a, uint64_t b)
{
	if (!b)
		return 0;
	if ((int64_t)b == -1)
		return -a; /* INT64_MIN / -1 == INT64_MIN, without C's overflow */
	return (uint64_t)((int64_t)a / (int64_t)b);
}

static inline uint32_t bpf_sdiv32(uint32_t a, uint32_t b)
{
	if (!b)
		return 0;
	if ((int32_t)b == -1)
		return -a;
	return (uint32_t)((int32_t)a / (int32_t)b);
}

static inline uint64_t bpf_smod64(uint64_t a, uint64_t b)
{
	if (!b)
		return a;
	if ((int64_t)b == -1)
		return 0;
	return (uint64_t)((int64_t)a % (int64_t)b);
}

static inline uint32_t bpf_smod32(uint32_t a, uint32_t b)
{
	if (!b)
		return a;
	if ((int32_t)b == -1)
		return 0;
	return (uint32_t)((int32_t)a % (int32_t)b);
}

static inline uint64_t bpf_lsh64(uint64_t a, uint64_t n) { return a << (n & 63); }
static inline uint32_t bpf_lsh32(uint32_t a, uint64_t n) { return a << (n & 31); }
static inline uint64_t bpf_rsh64(uint64_t a, uint64_t n) { return a >> (n & 63); }
static inline uint32_t bpf_rsh32(uint32_t a, uint64_t n) { return a >> (n & 31); }

/* Arithmetic right shift; C leaves >> of a negative value to the compiler. */
static inline uint64_t bpf_arsh64(uint64_t a, uint64_t n)
{
	n &= 63;
	return (int64_t)a < 0 ? ~(~a >> n) : a >> n;
}

static inline uint32_t bpf_arsh32(uint32_t a, uint64_t n)
{
	n &= 31;
	return (int32_t)a < 0 ? ~(~a >> n) : a >> n;
}

/* Byte order conversions: to_le/to_be truncate to the width, then swap if the host differs. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define BPF_HOST_IS_BE 0
#else
#define BPF_HOST_IS_BE 1
#endif

static inline uint64_t bpf_bswap(uint64_t v, int32_t bits)
{
	switch (bits) {
	case 16: return __builtin_bswap16((uint16_t)v);
	case 32: return __builtin_bswap32((uint32_t)v);
	default: return __builtin_bswap64(v);
	}
}

static inline uint64_t bpf_truncate(uint64_t v, int32_t bits)
{
	return bits == 64 ? v : v & ((1ull << bits) - 1);
}

static inline uint64_t bpf_to_le(uint64_t v, int32_t bits)
{
	return BPF_HOST_IS_BE ? bpf_bswap(v, bits) : bpf_truncate(v, bits);
}

static inline uint64_t bpf_to_be(uint64_t v, int32_t bits)
{
	return BPF_HOST_IS_BE ? bpf_truncate(v, bits) : bpf_bswap(v, bits);
}

#endif
