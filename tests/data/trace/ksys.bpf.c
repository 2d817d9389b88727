/*
 * ksys.bpf.c - kprobes on system call wrappers under every name libbpf
 * gives them, with the order the kernel runs them in at a call's exit
 * (kretprobes, then the sys_exit tracepoint) and the enforcement helpers:
 * kretsyscall/unlinkat replaces unlinkat's result with -EACCES (the
 * tracepoint after it and the process see that), ksyscall/getppid sends
 * SIGUSR1 to the calling thread (test_trace.sh, on tests/data/trace/unlinks.c).
 */
#include <linux/types.h>
#include <linux/bpf.h>

#include "../../../examples/kprobe_regs.h"

#define EACCES 13
#define SIGUSR1 10

SEC("kprobe/__x64_sys_unlinkat")
int BPF_KPROBE(wrapper_entry, struct pt_regs *regs)
{
	char path[64];

	bpf_probe_read_user_str(path, sizeof(path), (void *)PT_REGS_PARM2_CORE_SYSCALL(regs));
	bpf_printk("enter dfd %d flag %d path %s", (int)PT_REGS_PARM1_CORE_SYSCALL(regs),
		   (int)PT_REGS_PARM3_CORE_SYSCALL(regs), path);
	return 0;
}

SEC("kretprobe/__x64_sys_unlinkat")
int BPF_KRETPROBE(wrapper_return, long ret)
{
	bpf_printk("kretprobe %ld", ret);
	return 0;
}

SEC("kretsyscall/unlinkat")
int BPF_KRETPROBE(kretsyscall_return, long ret)
{
	bpf_printk("kretsyscall %ld", ret);
	bpf_override_return(ctx, -EACCES);
	return 0;
}

struct exit_rec { __u64 common; __s32 nr; __u32 pad; __s64 ret; };

SEC("tracepoint/syscalls/sys_exit_unlinkat")
int tracepoint_exit(struct exit_rec *ctx)
{
	bpf_printk("sys_exit %ld", ctx->ret);
	return 0;
}

SEC("ksyscall/getppid")
int BPF_KSYSCALL(signal_thread)
{
	bpf_printk("send_signal_thread %ld", bpf_send_signal_thread(SIGUSR1));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
