/*
 * ubp_unwind.c - the ptrace supervisor's uretprobe frames in a table of
 * the traced process, for its unwinder.  The supervisor keeps each
 * thread's shadow stack in its own memory, out of the process's reach; a
 * C++ exception, a cancellation or a backtrace in the process must find
 * the real return address of a frame whose return address is the
 * trampoline.  So each such frame also has an entry {real return address,
 * slot address} in a table mapped in the process (written with the
 * trampoline's address, in one system call), which the FDE of
 * unwind_eh.c reads as one shadow stack of UBP_UNWIND_ENTRIES frames.  A
 * slot names at most one entry: an entry given back keeps its slot, and a
 * later frame at that slot takes that entry again, so a stale one can
 * never be found before the live one.  ubp.c maps it and registers the
 * FDE with the process's libgcc_s (a call it makes the process make).
 *
 * The mapping: the registry (one slot), the table's size, the table, the
 * FDE, libgcc's struct object for it.
 */
#include <string.h>

#include "ubp_unwind.h"
#include "unwind_eh.h"

#define PAGE 4096
#define OFF_COUNT 64
#define OFF_TABLE 128
#define ENTRY 16
#define OFF_EH (OFF_TABLE + UBP_UNWIND_ENTRIES * ENTRY)
#define EH_ROOM 512
#define OFF_OBJECT (OFF_EH + EH_ROOM)
#define OBJECT_ROOM 128

size_t ubp_unwind_size(void)
{
	return (OFF_OBJECT + OBJECT_ROOM + PAGE - 1) / PAGE * PAGE;
}

int ubp_unwind_image(uint8_t *buf, size_t size, uint64_t at, uint64_t tramp)
{
	struct unwind_eh_registry reg = { 1 };
	struct unwind_eh_slot slot = { at + OFF_COUNT, at + OFF_TABLE, 1 };
	uint32_t count = UBP_UNWIND_ENTRIES;

	if (size < ubp_unwind_size())
		return -1;
	memset(buf, 0, size);
	memcpy(buf, &reg, sizeof(reg));
	memcpy(buf + offsetof(struct unwind_eh_registry, slot), &slot, sizeof(slot));
	memcpy(buf + OFF_COUNT, &count, sizeof(count));
	return unwind_eh_build(buf + OFF_EH, EH_ROOM, tramp, at, ENTRY) ? 0 : -1;
}

uint64_t ubp_unwind_eh(uint64_t at)
{
	return at + OFF_EH;
}

uint64_t ubp_unwind_object(uint64_t at)
{
	return at + OFF_OBJECT;
}

int ubp_unwind_claim(struct ubp_unwind *uw, uint64_t sp)
{
	int k, free_k = -1;

	for (k = 0; k < UBP_UNWIND_ENTRIES; k++) {
		if (uw->sp[k] == sp)
			break;
		if (free_k < 0 && !uw->used[k])
			free_k = k;
	}
	if (k == UBP_UNWIND_ENTRIES && (k = free_k) < 0)
		return -1;
	uw->sp[k] = sp;
	uw->used[k] = 1;
	return k;
}

uint64_t ubp_unwind_entry(const struct ubp_unwind *uw, int k)
{
	return uw->at + OFF_TABLE + (uint64_t)k * ENTRY;
}

void ubp_unwind_release(struct ubp_unwind *uw, int k)
{
	if (uw && k >= 0 && k < UBP_UNWIND_ENTRIES)
		uw->used[k] = 0;
}
