/*
 * kill_passwd.bpf.c - enforcement by signal: a traced process that opens
 * /etc/passwd is killed (SIGKILL) before the call runs.  A kprobe on the
 * wrapper of openat, named as the kernel names it, calls bpf_send_signal,
 * which signals the current process.
 *
 *   bpfvm trace kill_passwd.bpf.o -- cat /etc/passwd    (exit status 137)
 */
#include <linux/types.h>
#include <linux/bpf.h>

#include "kprobe_regs.h"   /* struct pt_regs, BPF_KSYSCALL */

#define SIGKILL 9

static const char watched[] = "/etc/passwd";

SEC("kprobe/__x64_sys_openat")
int BPF_KPROBE(kill_open, struct pt_regs *regs)
{
	const char *path = (const char *)PT_REGS_PARM2_CORE_SYSCALL(regs);
	char buf[sizeof(watched)];

	if (bpf_probe_read_user_str(buf, sizeof(buf), path) != sizeof(watched))
		return 0;
	for (int i = 0; i < (int)sizeof(watched); i++)
		if (buf[i] != watched[i])
			return 0;
	bpf_printk("killing pid %u: it opens %s", (__u32)(bpf_get_current_pid_tgid() >> 32),
		   watched);
	bpf_send_signal(SIGKILL);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
