/*
 * unwind_eh.h - the DWARF unwind info of a uretprobe return trampoline
 * (unwind_eh.c), whose return address is found on registered shadow stacks.
 */
#ifndef BPFVM_EVENTS_UNWIND_EH_H
#define BPFVM_EVENTS_UNWIND_EH_H

#include <stddef.h>
#include <stdint.h>

/* A shadow stack: the address of its depth (a u32, 0 when the slot is free), of its frames. */
struct unwind_eh_slot {
	uint64_t depth;
	uint64_t frames;
	uint64_t claimed;
};

/* What the expression searches, in the traced process's memory: slots n of them. */
struct unwind_eh_registry {
	uint64_t n;
	struct unwind_eh_slot slot[];
};

/*
 * The .eh_frame of the trampoline at tramp into out (room bytes), for
 * __register_frame_info: its size, or 0 if it does not fit.  registry:
 * the address of a struct unwind_eh_registry, whose shadow stacks hold
 * frames of frame_size bytes, the real return address at offset 0 and the
 * address of its stack slot at 8 (a slot address of 0 matches nothing).
 */
size_t unwind_eh_build(uint8_t *out, size_t room, uint64_t tramp, uint64_t registry,
		       unsigned frame_size);

#endif
