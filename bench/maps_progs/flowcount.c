/*
 * flowcount.c - a hash-map-heavy flow counter as an XDP program: the
 * frame's pseudo flows (flowcount.h) counted in a BPF_MAP_TYPE_HASH, one
 * lookup per derived packet and an insert per new flow.  Built by clang
 * -target bpf into build/bench/maps/flowcount.o; bench_runner runs it in
 * bpfvm (interpreter, JIT) and in the kernel, each with its own map.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "flowcount.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FC_MAX_ENTRIES);
	__type(key, struct fc_key);
	__type(value, struct fc_value);
} flows SEC(".maps");

SEC("xdp") int flowcount(struct xdp_md *ctx)
{
	__u8 *data = (__u8 *)(unsigned long)ctx->data;
	__u8 *data_end = (__u8 *)(unsigned long)ctx->data_end;
	__u32 found = 0, hsum = 0;

	if (data + FC_LEN > data_end)
		return 0;
	for (__u32 i = FC_FIRST; i < FC_FIRST + FC_FLOWS; i++) {
		struct fc_key key;
		struct fc_value *v;
		__u32 h = fc_flow(data, i);
		__u64 len = data[i + 2];

		fc_make_key(&key, h);
		v = bpf_map_lookup_elem(&flows, &key);
		if (v) {
			v->packets++;
			v->bytes += len;
			found++;
			hsum += h;
		} else {
			struct fc_value nv = { .packets = 1, .bytes = len };

			bpf_map_update_elem(&flows, &key, &nv, BPF_NOEXIST);
		}
	}
	return (int)(found | (hsum & 0xffff) << 16);
}

char _license[] SEC("license") = "GPL";
