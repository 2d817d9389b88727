/*
 * compare_maps.h - what the objects test_kernel_trace runs in the kernel
 * and under bpfvm share: the ring buffer of records (recs), the processes
 * the kernel run follows (pids: the test adds the workload, fork programs
 * its children), what a call's entry leaves for its exit (names), and filter, which the test sets in the kernel run only
 * (bpfvm traces nothing but the workload).
 */
#ifndef BPFVM_TESTS_COMPARE_MAPS_H
#define BPFVM_TESTS_COMPARE_MAPS_H

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} recs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} pids SEC(".maps");

/* per thread, what a call's entry leaves for its exit (openat's filename pointer, ...) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} names SEC(".maps");

const volatile __u32 filter = 0;

/* Is the current process one the test follows? */
static __always_inline int traced(void)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	return !filter || bpf_map_lookup_elem(&pids, &tgid);
}

#endif
