/*
 * late_bad.bpf.c - probes in libm.so.6, which "uworkload late" loads after
 * start-up: a function libm does not have (refused, named, when libm comes)
 * and cbrt (its three calls printed), in test_uprobe.sh.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include "../../../examples/kprobe_regs.h"

SEC("uprobe/libm.so.6:no_such_function")
int missing_late(struct pt_regs *ctx)
{
	return 0;
}

SEC("uprobe/libm.so.6:cbrt")
int cbrt_late(struct pt_regs *ctx)
{
	bpf_printk("cbrt");
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
