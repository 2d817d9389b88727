/*
 * tc_live.bpf.c - the tc programs of test_tc_live.sh, run by the kernel's
 * tc (clsact, direct action) and by `bpfvm tc attach` on the same frames.
 * count: frames per protocol and what __sk_buff says of them; redirect:
 * a bridge between the interfaces RA and RB (their ifindexes, given when
 * the object is built), dropping UDP to port 9999.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#ifndef RA
#define RA 0
#define RB 0
#endif

/* 0 frames, 1 IPv4, 2 ARP, 3 IPv6, 4 other, 5 ICMP, 6 UDP, 7 TCP, 8 bytes (len),
 * 9 pkt_type PACKET_HOST, 10 ifindex == ingress_ifindex, 11 last ifindex, 12 data_end - data == len */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 13);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

static void bump(__u32 k, __u64 by)
{
	__u64 *v = bpf_map_lookup_elem(&counts, &k);

	if (v)
		__sync_fetch_and_add(v, by);
}

SEC("classifier/count")
int count(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct iphdr *ip = data + sizeof(struct ethhdr);
	__u32 k = 11;
	__u64 ifx = skb->ifindex;

	bump(0, 1);
	bump(skb->protocol == bpf_htons(ETH_P_IP) ? 1 : skb->protocol == bpf_htons(ETH_P_ARP) ? 2 :
	     skb->protocol == bpf_htons(ETH_P_IPV6) ? 3 : 4, 1);
	bump(8, skb->len);
	bump(9, skb->pkt_type == 0);
	bump(10, skb->ifindex == skb->ingress_ifindex);
	bump(12, (__u64)(end - data) == skb->len);
	bpf_map_update_elem(&counts, &k, &ifx, BPF_ANY);
	if (skb->protocol == bpf_htons(ETH_P_IP) && (void *)(ip + 1) <= end)
		bump(ip->protocol == IPPROTO_ICMP ? 5 : ip->protocol == IPPROTO_UDP ? 6 :
		     ip->protocol == IPPROTO_TCP ? 7 : 4, 1);
	return TC_ACT_OK;
}

SEC("classifier/redirect")
int redirect(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct iphdr *ip = data + sizeof(struct ethhdr);
	struct udphdr *udp = (void *)(ip + 1);

	if (skb->protocol == bpf_htons(ETH_P_IP) && (void *)(udp + 1) <= end && ip->ihl == 5 &&
	    ip->protocol == IPPROTO_UDP && udp->dest == bpf_htons(9999))
		return TC_ACT_SHOT;
	return bpf_redirect(skb->ingress_ifindex == RA ? RB : RA, 0);
}

char LICENSE[] SEC("license") = "GPL";
