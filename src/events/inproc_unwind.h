/*
 * inproc_unwind.h - unwind info for the in-process agent's return
 * trampoline (inproc_unwind.c), so that an exception, a thread's
 * cancellation or a backtrace unwinds through a uretprobe'd frame.
 */
#ifndef BPFVM_EVENTS_INPROC_UNWIND_H
#define BPFVM_EVENTS_INPROC_UNWIND_H

#include <stdbool.h>
#include <stdint.h>

struct inproc_unwind;

/*
 * The unwind info of the return trampoline at tramp: NULL if out of
 * memory.  The shadow stacks it reads hold frames of frame_size bytes,
 * the real return address at offset 0 and the address of its stack slot
 * at 8.  Never freed: the unwinder keeps it.
 */
struct inproc_unwind *inproc_unwind_new(uint64_t tramp, unsigned frame_size);

/* Registered with the process's unwinder (libgcc_s), if it has one loaded yet: true once it is. */
bool inproc_unwind_register(struct inproc_unwind *uw);

/* The calling thread's shadow stack (its depth, its frames), known to the unwinder until it exits. */
void inproc_unwind_thread(struct inproc_unwind *uw, const unsigned *depth, const void *frames);

/* In a forked child: the calling thread's shadow stack (depth) alone stays known. */
void inproc_unwind_forked(struct inproc_unwind *uw, const unsigned *depth);

#endif
