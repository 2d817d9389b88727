/*
 * strsearch - string work on the payload: counting CRLFs, a naive search
 * for the first header line's first 6 bytes (the needle comes from the
 * data, not from .rodata), and the common prefix of each line with the
 * line before it, strncmp-style.
 *
 * Written for the kernel's verifier as well as for speed: every loop walks
 * the positions without a branch on the data.  The verifier follows both
 * sides of such a branch, and the paths it would then have to merge differ
 * by the position they are at, which it cannot merge; it would walk each
 * side at every position (a loop comparing each line with the previous one
 * at all 1,408 positions was over its 1,000,000 instructions).  Without
 * such branches each loop is one path, walked once per iteration.
 */
#include "bench_prog.h"

#define TEXT_LEN (BENCH_MEM_LEN - BENCH_PAYLOAD)
#define NEEDLE 6
#define PREFIX 32

/* The 8 bytes at p as a little-endian word, a byte at a time: p has any alignment. */
static inline __attribute__((always_inline)) uint64_t bench_load64le(const uint8_t *p)
{
	uint64_t w = 0;

	for (uint32_t k = 0; k < 8; k++)
		w |= (uint64_t)p[k] << 8 * k;
	return w;
}

/* The NEEDLE bytes at p, the same way. */
static inline __attribute__((always_inline)) uint64_t bench_load48le(const uint8_t *p)
{
	uint64_t w = 0;

	for (uint32_t k = 0; k < NEEDLE; k++)
		w |= (uint64_t)p[k] << 8 * k;
	return w;
}

/*
 * How many of x's bytes, from the lowest, are 0 before one that is not (8
 * when x is 0), without a branch: m has the top bit of each byte that is
 * not 0; below m's lowest set bit are the top bits of the bytes before it,
 * which the multiplication adds up into the top byte.
 */
static inline __attribute__((always_inline)) uint64_t bench_ctz_bytes(uint64_t x)
{
	const uint64_t low7 = 0x7f7f7f7f7f7f7f7full, top = 0x8080808080808080ull;
	uint64_t m = (((x & low7) + low7) | x) & top;

	bench_opaque(m);
	m &= -m;
	return ((((m - 1) & top) >> 7) * 0x0101010101010101ull) >> 56;
}

BENCH_MAIN uint64_t bench_main(uint8_t *mem, uint64_t len)
{
	const uint8_t *text = mem + BENCH_PAYLOAD;
	uint8_t needle[NEEDLE];
	uint64_t window, found_nl, line[PREFIX / 8], prev_line[PREFIX / 8];
	uint32_t seen_nl = 0, crlf = 0, found = 0, first = TEXT_LEN, common = 0;

	if (len < BENCH_MEM_LEN)
		return 0;
	/*
	 * The two scans over every position are branch-free (bench_eq8): a
	 * branch on the data in each of 1,400 iterations is more paths than
	 * the kernel's verifier takes ("the sequence of 8193 jumps is too
	 * complex").  They compute what the obvious loops would.
	 */
	for (uint32_t i = 0; i + 1 < TEXT_LEN; i++)
		crlf += bench_eq8(text[i], '\r') & bench_eq8(text[i + 1], '\n');

	/*
	 * The needle: the NEEDLE bytes after the first '\n' among the first
	 * 256 bytes, or the first NEEDLE bytes when there is none.  Rather than
	 * stop at the '\n' (a branch on the data), the scan goes on to 256 with
	 * the bytes after each position in a rolling window, and keeps the
	 * window at the first '\n' only; the needle is then at the same offsets
	 * on every path.
	 */
	window = bench_load48le(text); /* the NEEDLE bytes at 0 */
	found_nl = window;
	for (uint32_t i = 0; i < 256; i++) {
		uint64_t take;

		window = window >> 8 | (uint64_t)text[i + NEEDLE] << 8 * (NEEDLE - 1); /* at i + 1 */
		take = bench_eq8(text[i], '\n') & (seen_nl ^ 1);
		seen_nl |= (uint32_t)take;
		found_nl ^= (found_nl ^ window) & -take;
	}
	for (uint32_t j = 0; j < NEEDLE; j++)
		needle[j] = (uint8_t)(found_nl >> 8 * j);
	for (uint32_t i = 0; i + NEEDLE <= TEXT_LEN; i++) {
		uint32_t match = 1, unset, take;

		for (uint32_t j = 0; j < NEEDLE; j++)
			match &= bench_eq8(text[i + j], needle[j]);
		found += match;
		/* first = i at the first match: first is TEXT_LEN until then. */
		unset = first ^ TEXT_LEN; /* 0 while unset, else 1..2047 */
		bench_opaque(unset);
		take = match & (unset - 1) >> 31;
		bench_opaque(take); /* else clang branches on its sign bit */
		first ^= (first ^ i) * take;
	}

	/*
	 * The common prefix of each line with the one before it: the PREFIX
	 * bytes at every position i (a line starts where text[i - 1] is
	 * '\n') are in a rolling window of four little-endian words, one new
	 * byte a word per position; the previous line's are in a copy of it.
	 * The prefix the byte loop would count (stopping at the first
	 * difference) is the first differing byte of the first differing word
	 * (bench_ctz_bytes).  At a line start, that is added and the window
	 * copied; elsewhere both are masked out.
	 */
	for (uint32_t w = 0; w < PREFIX / 8; w++)
		prev_line[w] = line[w] = bench_load64le(text + 8 * w); /* the bytes at 0 */
	for (uint32_t i = 1; i + PREFIX <= TEXT_LEN; i++) {
		uint64_t c[PREFIX / 8], start = bench_eq8(text[i - 1], '\n'), mask;

		for (uint32_t w = 0; w < PREFIX / 8; w++) {
			line[w] = line[w] >> 8 | (uint64_t)text[i + 8 * w + 7] << 56; /* at i */
			c[w] = bench_ctz_bytes(line[w] ^ prev_line[w]); /* 8: the words are equal */
		}
		mask = -start;
		bench_opaque(mask);
		/* c0, or 8 + c1 when the first words are equal, ...: c[w] >> 3 is 1 for equal */
		common += (uint32_t)((c[0] + (c[0] >> 3) * (c[1] + (c[1] >> 3) * (c[2] + (c[2] >> 3) * c[3]))) & mask);
		for (uint32_t w = 0; w < PREFIX / 8; w++)
			prev_line[w] ^= (prev_line[w] ^ line[w]) & mask;
	}
	return (uint64_t)crlf << 48 | (uint64_t)found << 32 | (uint64_t)first << 16 | common;
}
