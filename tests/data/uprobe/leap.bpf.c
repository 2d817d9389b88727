/*
 * leap.bpf.c - a uretprobe on upr_leap of tests/data/uprobe/uworkload.c
 * run as "uworkload leap": frames a longjmp left never return, so the one
 * return is upr_leap(-1)'s: out[0] counts returns, out[1] the last value.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include "../../../examples/kprobe_regs.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} out SEC(".maps");

SEC("uretprobe/" WORKLOAD ":upr_leap")
int leap_ret(struct pt_regs *ctx)
{
	__u32 k = 0;
	__u64 *n = bpf_map_lookup_elem(&out, &k), v = PT_REGS_RC(ctx);

	if (n)
		__sync_fetch_and_add(n, 1);
	k = 1;
	bpf_map_update_elem(&out, &k, &v, BPF_ANY);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
