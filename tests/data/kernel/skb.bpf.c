/*
 * skb.bpf.c - programs over struct __sk_buff for the differential test
 * against the kernel (tests/kernel/test_kernel_objects.c): a tc program
 * that reads the context, rewrites the packet through direct access and
 * bpf_skb_store_bytes, and picks a verdict by protocol; a socket filter
 * that reads with legacy packet loads and bpf_skb_load_bytes; XDP
 * programs that move the packet's head and tail, and add meta data.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");
unsigned long long load_half(void *skb, unsigned long long off) asm("llvm.bpf.load.half");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} lens SEC(".maps");

SEC("tc")
int tc_rewrite(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	__u32 key = skb->protocol;
	__u64 len = skb->len;
	__u8 ttl = 7;

	bpf_map_update_elem(&lens, &key, &len, BPF_ANY);
	__u8 proto;

	if ((void *)(ip + 1) > end)
		return TC_ACT_OK;
	eth->h_dest[0] = 0xaa;
	proto = ip->protocol;
	/* (packet pointers are invalid after this, as in the kernel) */
	bpf_skb_store_bytes(skb, ETH_HLEN + 8, &ttl, 1, 0);
	skb->mark = 42;
	return proto == IPPROTO_UDP ? TC_ACT_SHOT : TC_ACT_OK;
}

SEC("socket")
int sock_filter(struct __sk_buff *skb)
{
	__u8 proto = load_byte(skb, 9);
	__u16 tot = load_half(skb, 2);
	__u32 addr = 0;

	bpf_skb_load_bytes(skb, 16, &addr, 4);
	return proto == IPPROTO_TCP ? tot + (addr >> 24) : 0;
}

SEC("xdp")
int xdp_trim(struct xdp_md *ctx)
{
	void *data, *end;

	if (bpf_xdp_adjust_head(ctx, 4))
		return XDP_ABORTED;
	if (bpf_xdp_adjust_tail(ctx, -2))
		return XDP_ABORTED;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (data + 1 > end)
		return XDP_ABORTED;
	*(__u8 *)data = 0x55;
	return XDP_TX;
}

SEC("xdp")
int xdp_meta(struct xdp_md *ctx)
{
	__u32 *meta;

	if (bpf_xdp_adjust_meta(ctx, -4))
		return XDP_ABORTED;
	meta = (void *)(long)ctx->data_meta;
	if ((void *)(meta + 1) > (void *)(long)ctx->data)
		return XDP_ABORTED;
	*meta = 0xdeadbeef;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
