/*
 * text_poke.h - writing code this process may be running (text_poke.c):
 * the one way the in-process agent's patches are made, uprobes
 * (inproc.c) and system call sites (syscall_site.c) alike; and the code
 * space their trampolines are written to, near the code that jumps there.
 */
#ifndef BPFVM_EVENTS_TEXT_POKE_H
#define BPFVM_EVENTS_TEXT_POKE_H

#include <stddef.h>
#include <stdint.h>

/*
 * How the writes make their system calls: a signal handler's own that the
 * process's seccomp filter lets through (the agent's stub), or NULL for
 * libc's syscall().
 */
typedef long (*text_call_fn)(long nr, long a, long b, long c, long d, long e, long f);

/* len bytes at addr, through /proc/self/mem (r-x pages stay so): 0 or a negative errno. */
int text_write(text_call_fn call, uint64_t addr, const void *buf, size_t len);
/* Every CPU running this process sees the code written so far (membarrier SYNC_CORE). */
void text_sync(text_call_fn call);
/* Once, before text_sync is first needed: the process registers for SYNC_CORE. */
void text_sync_register(text_call_fn call);
/*
 * The len bytes at addr, which other threads may be running, become code,
 * in text_poke_bp's order: an int3 on the first byte, the tail, the first
 * byte, every CPU synchronised after each step.  A thread meeting the
 * int3 meanwhile gets a SIGTRAP, which the caller's handler must send on
 * (to where the new code would).  0, or a negative errno (nothing written
 * when the int3 could not be).
 */
int text_replace(text_call_fn call, uint64_t addr, const uint8_t *code, size_t len);

#define TEXT_POOL_CHUNKS 64

/*
 * Code space: r-x mappings of chunk bytes each, handed out in pieces (16
 * bytes aligned) and never unmapped (a thread may be in a trampoline, or
 * return through one).  Zero it, then set call and chunk.
 */
struct text_pool {
	text_call_fn call;
	uint64_t chunk;
	uint64_t base[TEXT_POOL_CHUNKS];
	uint64_t used[TEXT_POOL_CHUNKS];
	unsigned n;
};

/*
 * len bytes of code space within a rel32 jump (2 GiB) of each of the
 * nnear addresses near (anywhere for none): its address, or 0.
 */
uint64_t text_alloc(struct text_pool *p, const uint64_t *near, unsigned nnear, uint64_t len);

#endif
