/*
 * cgroup.h - a process's cgroup id as the kernel's bpf_get_current_cgroup_id
 * gives it (cgroup.c).
 */
#ifndef BPFVM_UTIL_CGROUP_H
#define BPFVM_UTIL_CGROUP_H

#include <stdint.h>

/* The id of tid's cgroup v2 (0: bpfvm's own thread); 0 where it cannot be found. */
uint64_t util_cgroup_id(int32_t tid);
/* Is tid's cgroup v2 the one whose id is ancestor, or below it?  1 or 0. */
int util_cgroup_under(int32_t tid, uint64_t ancestor);

#endif
