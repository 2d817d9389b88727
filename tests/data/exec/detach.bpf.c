/*
 * detach.bpf.c - four counters of the openat() calls of processes named
 * sesscat (a name of its own: test_exec.sh's tools watch bpfvmcat), for
 * tests/data/exec/detach.c: "keep" stays attached, "early"
 * is detached before the workload starts, "late" (a perf link) and
 * "ioctl" (PERF_EVENT_IOC_SET_BPF) halfway through it.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

static __always_inline int count(__u32 slot)
{
	char comm[16];
	__u64 *n;

	bpf_get_current_comm(comm, sizeof(comm));
	if (comm[0] != 's' || comm[1] != 'e' || comm[2] != 's' || comm[3] != 's' ||
	    comm[4] != 'c' || comm[5] != 'a' || comm[6] != 't' || comm[7])
		return 0;
	n = bpf_map_lookup_elem(&counts, &slot);
	if (n)
		__sync_fetch_and_add(n, 1);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_openat")
int keep(void *ctx) { return count(0); }

SEC("tracepoint/syscalls/sys_enter_openat")
int early(void *ctx) { return count(1); }

SEC("tracepoint/syscalls/sys_enter_openat")
int late(void *ctx) { return count(2); }

SEC("tracepoint/syscalls/sys_enter_openat")
int ioctl(void *ctx) { return count(3); }

char LICENSE[] SEC("license") = "GPL";
