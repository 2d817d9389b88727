/*
 * xdp_live.bpf.c - the programs of bench_xdp_live.c, for bpfvm's xdp
 * attach and the kernel's generic XDP alike: drop (count every frame, drop
 * it) and parse (Ethernet, IPv4, UDP/TCP headers parsed, frames and bytes
 * counted per destination port in a hash map, then passed on).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} frames SEC(".maps");

struct port_count {
	__u64 frames, bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct port_count);
} ports SEC(".maps");

static void count_frame(void)
{
	__u32 k = 0;
	__u64 *v = bpf_map_lookup_elem(&frames, &k);

	if (v)
		__sync_fetch_and_add(v, 1);
}

SEC("xdp")
int drop(struct xdp_md *ctx)
{
	(void)ctx;
	count_frame();
	return XDP_DROP;
}

SEC("xdp")
int parse(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *l4;
	struct port_count *pc, zero = { 0, 0 };
	__u32 port;

	count_frame();
	if ((void *)(ip + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	l4 = (void *)ip + ip->ihl * 4;
	if ((void *)(l4 + 1) > end || (ip->protocol != IPPROTO_UDP && ip->protocol != IPPROTO_TCP))
		return XDP_PASS;
	port = bpf_ntohs(l4->dest);
	pc = bpf_map_lookup_elem(&ports, &port);
	if (!pc) {
		bpf_map_update_elem(&ports, &port, &zero, BPF_NOEXIST);
		pc = bpf_map_lookup_elem(&ports, &port);
		if (!pc)
			return XDP_PASS;
	}
	__sync_fetch_and_add(&pc->frames, 1);
	__sync_fetch_and_add(&pc->bytes, (__u64)(end - data));
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
