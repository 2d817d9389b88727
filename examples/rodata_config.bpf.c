/*
 * rodata_config.bpf.c - an XDP program configured through .rodata
 * globals, set before load as a skeleton would (`bpfvm run --set`):
 * packets of at least min_len bytes get the verdict `verdict`.
 *
 *   bpfvm run --data packet.bin rodata_config.bpf.o                 XDP_PASS
 *   bpfvm run --set min_len=32 --data packet.bin rodata_config.bpf.o XDP_DROP
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

const volatile __u32 min_len = 1500;
const volatile __u32 verdict = XDP_DROP;

SEC("xdp")
int size_filter(struct xdp_md *ctx)
{
	__u64 len = ctx->data_end - ctx->data;

	return len >= min_len ? verdict : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
