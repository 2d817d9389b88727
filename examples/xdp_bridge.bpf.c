/*
 * xdp_bridge.bpf.c - a two-port (or more) bridge for `bpfvm xdp attach`:
 * every frame goes out of every other port of the devmap `ports` (filled
 * with --ports ports), except UDP and TCP to port `blocked_port` (--set
 * blocked_port=N; 9999 by default), which are dropped.  Frames per
 * verdict are counted in `verdicts`, dropped ones printed.
 *
 *   bpfvm xdp attach xdp_bridge.bpf.o --prog xdp_bridge --dev veth0 --dev veth1 \
 *         --ports ports --dump-maps
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

const volatile __u16 blocked_port = 9999;

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u32);
} ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 5);
	__type(key, __u32);
	__type(value, __u64);
} verdicts SEC(".maps");

static int count(int verdict)
{
	__u32 key = verdict;
	__u64 *n = bpf_map_lookup_elem(&verdicts, &key);

	if (n)
		__sync_fetch_and_add(n, 1);
	return verdict;
}

SEC("xdp")
int xdp_bridge(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip;
	struct udphdr *l4;   /* the ports are where UDP and TCP both have them */

	if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		goto forward;
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end ||
	    (ip->protocol != IPPROTO_UDP && ip->protocol != IPPROTO_TCP))
		goto forward;
	l4 = (void *)ip + ip->ihl * 4;
	if ((void *)(l4 + 1) > data_end)
		goto forward;
	if (l4->dest == bpf_htons(blocked_port)) {
		bpf_printk("drop %s to port %d", ip->protocol == IPPROTO_TCP ? "tcp" : "udp",
			   blocked_port);
		return count(XDP_DROP);
	}
forward:
	count(XDP_REDIRECT);
	return bpf_redirect_map(&ports, 0, BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS);
}

char LICENSE[] SEC("license") = "GPL";
