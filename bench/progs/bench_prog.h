/*
 * bench_prog.h - what the benchmark programs share.  Each program is one
 * file compiled twice: by clang -target bpf into bytecode for bpfvm, and by
 * gcc -O2 into native code it is compared with; so only freestanding C
 * here, and nothing that would need an ELF loader (globals, strings,
 * constant tables in .rodata).
 *
 * The runner passes r1 = a 1500-byte Ethernet frame it builds at run time
 * (IPv4, TCP, an HTTP request as payload) and r2 = 1500.  Programs read it
 * only: the runner checks that it is unchanged after it verifies each one.
 * Loops have constant trip counts so that a verifier could bound them.
 */
#ifndef BENCH_PROG_H
#define BENCH_PROG_H

#include <stdint.h>

#define BENCH_MEM_LEN 1500 /* the frame */
#define BENCH_PAYLOAD 54   /* Ethernet 14 + IPv4 20 + TCP 20 */

/*
 * Loads of wider words from the byte buffer.  may_alias keeps them
 * defined C; callers use offsets aligned to the width, so clang -target bpf
 * emits one ldxh/ldxw instead of a byte-by-byte load.
 */
typedef uint16_t __attribute__((may_alias)) bench_u16a;
typedef uint32_t __attribute__((may_alias)) bench_u32a;

static inline __attribute__((always_inline)) uint32_t load16(const uint8_t *p)
{
	return *(const bench_u16a *)p;
}

static inline __attribute__((always_inline)) uint32_t load32(const uint8_t *p)
{
	return *(const bench_u32a *)p;
}

/*
 * bench_main's linkage.  Built alone (NAME.bin, NAME.so) it is the exported
 * entry point; built into bench/xdp_entry.c (BENCH_XDP defined) it is
 * inlined into the XDP program's entry, so that the kernel and bpfvm run
 * one function over the packet, with no call in between.
 */
#ifdef BENCH_XDP
#define BENCH_MAIN static inline __attribute__((always_inline))
#else
#define BENCH_MAIN
BENCH_MAIN uint64_t bench_main(uint8_t *mem, uint64_t len);
#endif

/*
 * Hide x's value from the compiler (libbpf's barrier_var): it must assume
 * the empty asm changed it, so it cannot rewrite the code around x into a
 * pattern the kernel's verifier explores badly.  No instruction emitted.
 */
#define bench_opaque(x) __asm__ volatile("" : "+r"(x))

/*
 * 1 when two bytes are equal, else 0, without a branch: the kernel's
 * verifier follows both sides of every branch it cannot decide, and in a
 * loop of hundreds of iterations that is more paths than it takes.  (A
 * comparison in C is a branch in BPF, which has no set-on-condition.)
 */
static inline __attribute__((always_inline)) uint32_t bench_eq8(uint8_t a, uint8_t b)
{
	uint32_t diff = (uint32_t)(a ^ b); /* 0..255 */

	bench_opaque(diff); /* else clang makes it a comparison again */
	return (diff - 1) >> 31;
}

#endif
