/*
 * multi.bpf.c - uprobe.multi with a glob (upr_[gf]*: upr_fact, called 5
 * times, and upr_global, once) and a uprobe at a raw file offset (OFFSET,
 * upr_global's, given at compile time).  Apart from uprobe.bpf.c because
 * the host's libbpf predates uprobe.multi.
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

SEC("uprobe.multi/" WORKLOAD ":upr_[gf]*")
int multi_entry(void *ctx) { return hit(0); }

SEC("uprobe/" WORKLOAD ":" OFFSET)
int raw_offset(void *ctx) { return hit(1); }

char LICENSE[] SEC("license") = "GPL";
