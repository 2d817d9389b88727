/*
 * ubp_unwind.h - the ptrace supervisor's uretprobe frames made known to
 * the traced process's unwinder (ubp_unwind.c): a table of them in a
 * mapping of the process, which unwind_eh.c's FDE for the trampoline reads.
 */
#ifndef BPFVM_EVENTS_UBP_UNWIND_H
#define BPFVM_EVENTS_UBP_UNWIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UBP_UNWIND_ENTRIES 1024

struct ubp_unwind {
	uint64_t at;                          /* the mapping in the process */
	bool registered;                      /* with its libgcc_s */
	uint64_t sp[UBP_UNWIND_ENTRIES];      /* the slot each entry names (0: none yet) */
	uint8_t used[UBP_UNWIND_ENTRIES];
};

/* The bytes of the mapping (a multiple of the page size). */
size_t ubp_unwind_size(void);

/*
 * The mapping's contents (size bytes) for trampoline tramp, the mapping
 * at at: the registry, an empty table, the FDE, libgcc's object for it.
 * 0, or -1 if the FDE does not fit.
 */
int ubp_unwind_image(uint8_t *buf, size_t size, uint64_t at, uint64_t tramp);

/* Where __register_frame_info's two arguments are in the mapping at at. */
uint64_t ubp_unwind_eh(uint64_t at);
uint64_t ubp_unwind_object(uint64_t at);

/* The entry for a frame whose return address is at sp: its index, or -1 if the table is full. */
int ubp_unwind_claim(struct ubp_unwind *uw, uint64_t sp);

/* Entry k's address in the process ({real return address, sp}). */
uint64_t ubp_unwind_entry(const struct ubp_unwind *uw, int k);

/* Entry k's frame is gone (returned, or left by a longjmp or an exception). */
void ubp_unwind_release(struct ubp_unwind *uw, int k);

#endif
