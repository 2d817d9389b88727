/*
 * proc_maps.h - a process's mappings, line by line from /proc/PID/maps
 * (proc_maps.c), for those that read them: build ids of stack frames,
 * uprobe targets, room for a scratch page.
 */
#ifndef BPFVM_UTIL_PROC_MAPS_H
#define BPFVM_UTIL_PROC_MAPS_H

#include <stdint.h>

struct util_mapping {
	uint64_t start, end;      /* [start, end) */
	uint64_t offset;          /* in the file */
	char perms[5];            /* "r-xp" */
	unsigned dev_major, dev_minor;
	uint64_t ino;             /* 0: no file */
	const char *path;         /* "" when none; "[heap]" and the like for the kernel's */
};

/*
 * Call fn on each mapping of pid in address order until it returns
 * non-zero: that value, 0 after the last, or a negative errno when the
 * file cannot be read.
 */
int util_proc_maps(int32_t pid, int (*fn)(void *ctx, const struct util_mapping *m), void *ctx);

#endif
