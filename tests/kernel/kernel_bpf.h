/*
 * kernel_bpf.h - the bpf() system call, for the tests and benchmarks that
 * compare bpfvm with the running kernel (tests/kernel/, bench/): the call
 * itself, and the map creation and program loading they all need.
 */
#ifndef BPFVM_TESTS_KERNEL_BPF_H
#define BPFVM_TESTS_KERNEL_BPF_H

#include <errno.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static inline long sys_bpf(int cmd, union bpf_attr *attr)
{
	return syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

/* A kernel map: its file descriptor, or -errno. */
static inline int kernel_map_create(uint32_t type, uint32_t key_size, uint32_t value_size,
				    uint32_t max_entries, uint32_t flags, uint64_t extra)
{
	union bpf_attr a;
	long fd;

	memset(&a, 0, sizeof(a));
	a.map_type = type;
	a.key_size = key_size;
	a.value_size = value_size;
	a.max_entries = max_entries;
	a.map_flags = flags;
	a.map_extra = extra;
	fd = sys_bpf(BPF_MAP_CREATE, &a);
	return fd < 0 ? -errno : (int)fd;
}

/*
 * Load cnt instructions (struct bpfvm_insn is struct bpf_insn, bit for
 * bit) as a GPL program of type; with log, the verifier's log at
 * log_level into it.  The program's file descriptor, or -errno.
 */
static inline int kernel_prog_load(uint32_t type, const void *insns, size_t cnt,
				   uint32_t prog_flags, uint32_t log_level, char *log,
				   size_t log_size)
{
	union bpf_attr a;
	long fd;

	memset(&a, 0, sizeof(a));
	a.prog_type = type;
	a.insns = (uint64_t)(uintptr_t)insns;
	a.insn_cnt = (uint32_t)cnt;
	a.license = (uint64_t)(uintptr_t)"GPL";
	a.prog_flags = prog_flags;
	if (log) {
		log[0] = '\0';
		a.log_buf = (uint64_t)(uintptr_t)log;
		a.log_size = (uint32_t)log_size;
		a.log_level = log_level;
	}
	fd = sys_bpf(BPF_PROG_LOAD, &a);
	return fd < 0 ? -errno : (int)fd;
}

#endif
