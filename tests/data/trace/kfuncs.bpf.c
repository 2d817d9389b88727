/*
 * kfuncs.bpf.c - for `bpfvm trace`'s tests: kprobes on the kernel
 * functions a system call enters, printing what their arguments hold:
 * do_sys_openat2's dfd, path (user memory) and struct open_how (CO-RE),
 * and its result; do_execveat_common's fd and struct filename's path;
 * do_exit's code.  override_unlink is refused: do_unlinkat is not an
 * error-injection point, so the kernel refuses bpf_override_return there.
 */
#include <linux/types.h>
#include <linux/bpf.h>

#include "kprobe_regs.h"
#include "kernel_types.h"

SEC("kprobe/do_sys_openat2")
int BPF_KPROBE(openat2_entry, int dfd, const char *filename, struct open_how *how)
{
	char path[32];

	bpf_probe_read_user_str(path, sizeof(path), filename);
	bpf_printk("openat2 dfd %d flags %llx mode %llx path %s", dfd, BPF_CORE_READ(how, flags),
		   BPF_CORE_READ(how, mode), path);
	return 0;
}

SEC("kretprobe/do_sys_openat2")
int BPF_KRETPROBE(openat2_return, long ret)
{
	bpf_printk("openat2 returned %ld", ret);
	return 0;
}

SEC("kprobe/do_execveat_common")
int BPF_KPROBE(exec_entry, int fd, struct filename *name)
{
	char path[32];

	bpf_probe_read_kernel_str(path, sizeof(path), BPF_CORE_READ(name, name));
	bpf_printk("execveat fd %d path %s", fd, path);
	return 0;
}

SEC("kprobe/do_exit")
int BPF_KPROBE(exit_entry, long code)
{
	bpf_printk("do_exit code %lx", code);
	return 0;
}

SEC("kprobe/do_unlinkat")
int override_unlink(struct pt_regs *ctx)
{
	bpf_override_return(ctx, -1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
