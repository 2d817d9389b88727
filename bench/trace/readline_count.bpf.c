/*
 * readline_count.bpf.c - bench_workload's second program: a uretprobe on
 * bash's readline counting the lines it returned, as bashreadline does
 * before it sends them.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} lines SEC(".maps");

SEC("uretprobe//bin/bash:readline")
int count_line(void *ctx __attribute__((unused)))
{
	__u32 k = 0;
	__u64 *n = bpf_map_lookup_elem(&lines, &k);

	if (n)
		__sync_fetch_and_add(n, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
