/*
 * bad.bpf.c - uprobes that cannot attach, beside one that can: a function
 * that does not exist, an offset inside an instruction, a function of a
 * stripped copy of the workload (STRIPPED), a uretprobe with an offset.
 * The good one (upr_global) must still count.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include "../../../examples/kprobe_regs.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps");

static int hit(void)
{
	__u32 k = 0;
	__u64 *n = bpf_map_lookup_elem(&hits, &k);

	if (n)
		__sync_fetch_and_add(n, 1);
	return 0;
}

SEC("uprobe/" WORKLOAD ":no_such_function")
int missing(struct pt_regs *ctx) { return hit(); }

SEC("uprobe/" WORKLOAD ":upr_target+1")
int inside(struct pt_regs *ctx) { return hit(); }

SEC("uprobe/" STRIPPED ":upr_target")
int stripped(struct pt_regs *ctx) { return hit(); }

SEC("uretprobe/" WORKLOAD ":upr_target+4")
int ret_offset(struct pt_regs *ctx) { return hit(); }

SEC("uprobe/" WORKLOAD ":upr_global")
int good(struct pt_regs *ctx) { return hit(); }

char LICENSE[] SEC("license") = "GPL";
