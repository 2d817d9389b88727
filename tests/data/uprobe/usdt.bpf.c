/*
 * usdt.bpf.c - USDT probes of tests/data/uprobe/uworkload.c read with
 * libbpf's usdt.bpf.h (BPF_USDT), unmodified: upr:tick's three arguments
 * (an int in a register or on the stack, a long, a pointer read through)
 * at each of its 3 hits, and upr:guarded, whose semaphore the tracer must
 * raise for it to fire.  out[0..2] the ints, [3..5] the longs, [6] what the
 * pointer points to, [7] the argument count, [8] guarded's argument.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include "../../../examples/kprobe_regs.h"
#include <stdbool.h>
#include <bpf/usdt.bpf.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 10);
	__type(key, __u32);
	__type(value, __s64);
} out SEC(".maps");

static void put(__u32 k, __s64 v)
{
	bpf_map_update_elem(&out, &k, &v, BPF_ANY);
}

SEC("usdt/" WORKLOAD ":upr:tick")
int BPF_USDT(tick, int a, long b, long *p)
{
	__u32 k = 9;
	__s64 *n = bpf_map_lookup_elem(&out, &k), i, v = 0;

	if (!n || *n >= 3)
		return 0;
	i = *n;
	*n += 1;
	put((__u32)i, a);
	put((__u32)i + 3, b);
	bpf_probe_read_user(&v, sizeof(v), p);
	put(6, v);
	put(7, bpf_usdt_arg_cnt(ctx));
	return 0;
}

SEC("usdt/" WORKLOAD ":upr:guarded")
int BPF_USDT(guarded, int v)
{
	put(8, v);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
