/*
 * Sockets from sockmap and sockhash: a lookup holds a reference until
 * bpf_sk_release; which program types may update or delete entries
 * (tests/scripts/test_verdict_objects.sh).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_SOCKMAP);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} sockmap SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} sockhash SEC(".maps");

SEC("sk_skb") int lookup_release(struct __sk_buff *skb)
{
	__u32 key = 0;
	struct bpf_sock *sk = bpf_map_lookup_elem(&sockmap, &key);

	if (!sk)
		return 0;
	key = sk->type;
	bpf_sk_release(sk);
	return key;
}

SEC("sk_skb") int lookup_leak(struct __sk_buff *skb)
{
	__u32 key = 0;
	struct bpf_sock *sk = bpf_map_lookup_elem(&sockhash, &key);

	return sk ? sk->type : 0;
}

SEC("sk_skb") int lookup_no_null_check(struct __sk_buff *skb)
{
	__u32 key = 0;
	struct bpf_sock *sk = bpf_map_lookup_elem(&sockmap, &key);

	return sk->type;
}

SEC("tc") int tc_update(struct __sk_buff *skb)
{
	struct bpf_sock_tuple tuple = {};
	__u32 key = 0;
	struct bpf_sock *sk = bpf_sk_lookup_tcp(skb, &tuple, sizeof(tuple.ipv4), -1, 0);

	if (!sk)
		return 0;
	bpf_map_update_elem(&sockmap, &key, sk, 0);
	bpf_sk_release(sk);
	return 0;
}

SEC("sockops") int sockops_delete(struct bpf_sock_ops *ctx)
{
	__u32 key = 0;

	bpf_map_delete_elem(&sockmap, &key);
	return 1;
}

SEC("tracepoint") int tracepoint_delete(void *ctx)
{
	__u32 key = 0;

	return bpf_map_delete_elem(&sockhash, &key);
}

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} xskmap SEC(".maps");

SEC("xdp") int xsk_no_null_check(struct xdp_md *ctx)
{
	__u32 key = 0;
	struct bpf_xdp_sock *xsk = bpf_map_lookup_elem(&xskmap, &key);

	return xsk->queue_id;
}

SEC("xdp") int xsk_queue_id(struct xdp_md *ctx)
{
	__u32 key = 0;
	struct bpf_xdp_sock *xsk = bpf_map_lookup_elem(&xskmap, &key);

	return xsk ? xsk->queue_id : 0;
}

char LICENSE[] SEC("license") = "GPL";
