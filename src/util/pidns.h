/*
 * pidns.h - a thread's pid namespace as bpf_get_ns_current_pid_tgid sees
 * it (pidns.c).
 */
#ifndef BPFVM_UTIL_PIDNS_H
#define BPFVM_UTIL_PIDNS_H

#include <stdint.h>

struct util_pid_ns {
	uint64_t dev;       /* nsfs's device, in the kernel's dev_t encoding (major << 20 | minor) */
	uint64_t ino;       /* the namespace's inode number */
	uint32_t pid, tgid; /* the thread's ids inside it */
};

/* tid's active pid namespace (0: bpfvm's own thread): 0, or -ENOENT where it is gone. */
int util_pid_ns(int32_t tid, struct util_pid_ns *ns);

#endif
