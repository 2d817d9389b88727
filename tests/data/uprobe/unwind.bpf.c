/*
 * unwind.bpf.c - uretprobes on tests/data/uprobe/unwind.cc's uw_*
 * functions (WORKLOAD is its path, given at compile time): the returns of
 * each counted in rets (0 uw_probed, 1 uw_catcher, 2 uw_rethrow, 3 uw_nest,
 * 4 uw_block, 5 uw_bt), and uw_catcher's return values summed in rets[6].
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include "../../../examples/kprobe_regs.h"

#ifndef WORKLOAD
#error "WORKLOAD: the path of the unwind workload"
#endif

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} rets SEC(".maps");

static void add(__u32 k, __u64 v)
{
	__u64 *n = bpf_map_lookup_elem(&rets, &k);

	if (n)
		__sync_fetch_and_add(n, v);
}

SEC("uretprobe/" WORKLOAD ":uw_probed")
int BPF_KRETPROBE(probed_ret) { add(0, 1); return 0; }

SEC("uretprobe/" WORKLOAD ":uw_catcher")
int BPF_KRETPROBE(catcher_ret, long rc) { add(1, 1); add(6, rc); return 0; }

SEC("uretprobe/" WORKLOAD ":uw_rethrow")
int BPF_KRETPROBE(rethrow_ret) { add(2, 1); return 0; }

SEC("uretprobe/" WORKLOAD ":uw_nest")
int BPF_KRETPROBE(nest_ret) { add(3, 1); return 0; }

SEC("uretprobe/" WORKLOAD ":uw_block")
int BPF_KRETPROBE(block_ret) { add(4, 1); return 0; }

SEC("uretprobe/" WORKLOAD ":uw_bt")
int BPF_KRETPROBE(bt_ret) { add(5, 1); return 0; }

char LICENSE[] SEC("license") = "GPL";
