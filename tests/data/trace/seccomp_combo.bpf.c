/*
 * seccomp_combo.bpf.c - for test_trace_seccomp.sh: programs next to a
 * seccomp policy.  A call the policy denies runs no sys_enter program and
 * no kprobe (its function never runs), but its sys_exit tracepoint fires
 * with what the policy made it return, as the kernel's entry code does
 * (kernel/entry/common.c: seccomp's -1 skips trace_sys_enter, and the exit
 * work runs trace_sys_exit for every call).
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct sys_exit_args {
	__u64 common;
	long id;
	long ret;
};

SEC("tracepoint/syscalls/sys_enter_getuid")
int enter_getuid(void *ctx)
{
	bpf_printk("enter getuid");
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_getuid")
int exit_getuid(struct sys_exit_args *ctx)
{
	bpf_printk("exit getuid %ld", ctx->ret);
	return 0;
}

SEC("kretsyscall/getuid")
int kret_getuid(void *ctx)
{
	bpf_printk("kretsyscall getuid");
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
