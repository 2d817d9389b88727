/*
 * malloc_count.bpf.c - bench_workload's program: a uprobe on libc's
 * malloc counting calls per thread in a hash map (the thread id its key),
 * as a user's "who allocates" probe does.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} calls SEC(".maps");

SEC("uprobe/libc.so.6:malloc")
int count_malloc(void *ctx __attribute__((unused)))
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 one = 1, *n = bpf_map_lookup_elem(&calls, &tid);

	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&calls, &tid, &one, BPF_NOEXIST);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
