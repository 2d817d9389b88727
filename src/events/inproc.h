/*
 * inproc.h - uprobes, uretprobes and USDT probes in the calling process
 * (inproc.c, the in-process agent's; trampolines in inproc_tramp.c): each
 * probed function's entry patched with a jmp to a trampoline that runs the
 * programs and then a relocated copy of what the jmp overwrote; where that
 * is not safe, an int3 whose SIGTRAP the agent hands to inproc_trap.
 */
#ifndef BPFVM_EVENTS_INPROC_H
#define BPFVM_EVENTS_INPROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "events.h"

struct bpfvm_log;
struct inproc;

/* How the vector registers are saved around the C code: the area's size, the two functions. */
struct inproc_cpu {
	uint32_t size;
	uint64_t save, restore;
};

void inproc_cpu_state(struct inproc_cpu *c);
/* The code of a trampoline into out (room bytes): its length, 0 if it does not fit. */
size_t inproc_tramp_entry(uint8_t *out, size_t room, const struct inproc_cpu *c, uint64_t rip,
			  uint64_t fn, uint64_t arg);
size_t inproc_tramp_return(uint8_t *out, size_t room, const struct inproc_cpu *c, uint64_t fn,
			   uint64_t arg);

/* A hit: what an EV_UPROBE event says, the registers where the trampoline saved them. */
struct inproc_hit {
	/*
	 * tgid << 32 | tid, as bpf_get_current_pid_tgid gives them: one 8-byte
	 * store and load (two 4-byte stores read as one 8-byte load stall the
	 * store forwarding, some 5 ns a hit here)
	 */
	uint64_t ids;
	uint64_t probes, func_ip;
	int32_t usdt_spec;
	const char *usdt_args;
	const uint64_t *regs;     /* a struct pt_regs */
};

/* Runs the attached programs of a hit (trace.c). */
typedef void (*inproc_run_fn)(void *ctx, const struct inproc_hit *h);

struct inproc *inproc_new(const struct ev_uprobe *probes, size_t n, struct bpfvm_log *log,
			  inproc_run_fn run, void *ctx);
/*
 * Place the probes in this process: how many sites, or a negative errno;
 * refusals in the log.  The first call also probes the dynamic linker's
 * r_brk, where the probes are placed in each library loaded later and
 * forgotten in each one unloaded.
 */
int inproc_place(struct inproc *ip);
/*
 * Forget the sites in [addr, addr + len), unmapped (munmap, an mmap over
 * them): nothing is written there.  Their probes are placed again when
 * their file is mapped again.
 */
void inproc_unmapped(struct inproc *ip, uint64_t addr, uint64_t len);
/* said(ctx) when a rescan (a library loaded later) wrote to the log. */
void inproc_on_log(struct inproc *ip, void (*said)(void *ctx), void *ctx);
/* A SIGTRAP's ucontext_t: true when it was a probe's (handled: the thread goes on from uc). */
bool inproc_trap(struct inproc *ip, void *uc);
/* Put back every byte placed (threads in a trampoline finish through it).  Async-signal-safe. */
void inproc_remove(struct inproc *ip);
/* The source the events of ip read memory through (this process). */
struct ev_source *inproc_source(struct inproc *ip);
/* Removed, and freed when no code of it can still run (else kept: a thread may return through it). */
void inproc_free(struct inproc *ip);

#endif
