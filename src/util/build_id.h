/*
 * build_id.h - where a user address of a process lies in its files, as
 * the kernel's stack map gives it with BPF_F_USER_BUILD_ID (build_id.c).
 */
#ifndef BPFVM_UTIL_BUILD_ID_H
#define BPFVM_UTIL_BUILD_ID_H

#include <stdint.h>

#define UTIL_BUILD_ID_SIZE 20   /* BUILD_ID_SIZE_MAX */

/*
 * The build id of the file mapped at ip in process pid and ip's offset in
 * that file: 0, or -1 where ip is in no mapping, an anonymous one, or a
 * file without an ELF build id note (the kernel then keeps the ip).
 * Consecutive calls for one mapping reuse the last answer (cache).
 */
struct util_build_id_cache {
	int32_t pid;
	uint64_t start, end, pgoff;
	int found;                       /* -1: nothing cached */
	uint8_t id[UTIL_BUILD_ID_SIZE];
};

int util_build_id_at(struct util_build_id_cache *c, int32_t pid, uint64_t ip,
		     uint8_t id[UTIL_BUILD_ID_SIZE], uint64_t *offset);

/* The build id of the ELF file open at fd as the kernel's build_id_parse reads it: 0 or -1. */
int util_elf_build_id(int fd, uint8_t id[UTIL_BUILD_ID_SIZE]);

#endif
