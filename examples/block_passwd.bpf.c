/*
 * block_passwd.bpf.c - enforcement, the way Tetragon and Falco use eBPF:
 * an openat() of /etc/passwd by a traced process fails with EPERM
 * without being performed.  A kprobe on the system call's wrapper
 * (SEC("ksyscall/openat")) calls bpf_override_return, which the kernel
 * allows on every system call (they are error-injectable functions).
 *
 *   bpfvm trace block_passwd.bpf.o -- cat /etc/passwd    (cat: Permission denied)
 */
#include <linux/types.h>
#include <linux/bpf.h>

#include "kprobe_regs.h"   /* struct pt_regs, BPF_KSYSCALL */

#define EPERM 1

static const char blocked[] = "/etc/passwd";

static __always_inline int is_blocked(const char *path)
{
	char buf[sizeof(blocked)];

	if (bpf_probe_read_user_str(buf, sizeof(buf), path) != sizeof(blocked))
		return 0;
	for (int i = 0; i < (int)sizeof(blocked); i++)
		if (buf[i] != blocked[i])
			return 0;
	return 1;
}

SEC("ksyscall/openat")
int BPF_KSYSCALL(block_open, int dfd, const char *pathname)
{
	if (!is_blocked(pathname))
		return 0;
	bpf_printk("blocked open of %s by pid %u", blocked,
		   (__u32)(bpf_get_current_pid_tgid() >> 32));
	bpf_override_return(ctx, -EPERM);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
