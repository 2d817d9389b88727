/*
 * uprobe.bpf.c - bench_uprobe's programs: a uprobe and a uretprobe on
 * bench_empty() of WORKLOAD (its path, given at compile time), each
 * counting its hits in an array.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps");

static int hit(__u32 k)
{
	__u64 *n = bpf_map_lookup_elem(&hits, &k);

	if (n)
		__sync_fetch_and_add(n, 1);
	return 0;
}

SEC("uprobe/" WORKLOAD ":bench_empty")
int entry(void *ctx __attribute__((unused))) { return hit(0); }

SEC("uretprobe/" WORKLOAD ":bench_empty")
int ret(void *ctx __attribute__((unused))) { return hit(1); }

char LICENSE[] SEC("license") = "GPL";
