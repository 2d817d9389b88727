/*
 * tail_calls.bpf.c - a chain of tail calls through a program array filled
 * at load from its initializer: entry -> stage1 -> stage2, each counting
 * its visit; stage2 returns XDP_TX.
 *
 *   bpfvm run --prog entry --data packet.bin --dump-maps tail_calls.bpf.o
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, __u64);
} visits SEC(".maps");

static void visit(__u32 stage)
{
	__u64 *n = bpf_map_lookup_elem(&visits, &stage);

	if (n)
		__sync_fetch_and_add(n, 1);
}

int stage1(struct xdp_md *ctx);
int stage2(struct xdp_md *ctx);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__array(values, int (void *));
} chain SEC(".maps") = {
	.values = { [1] = (void *)&stage1, [2] = (void *)&stage2 },
};

SEC("xdp")
int entry(struct xdp_md *ctx)
{
	visit(0);
	bpf_tail_call(ctx, &chain, 1);
	return XDP_ABORTED;
}

SEC("xdp")
int stage1(struct xdp_md *ctx)
{
	visit(1);
	bpf_tail_call(ctx, &chain, 2);
	return XDP_ABORTED;
}

SEC("xdp")
int stage2(struct xdp_md *ctx)
{
	visit(2);
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
