/*
 * seccomp_filter.c - the filter the supervisor installs in a process it
 * starts: SECCOMP_RET_TRACE (a ptrace stop) for the system calls some
 * attached program needs, SECCOMP_RET_ALLOW for every other, so that
 * unattached calls run at full speed.  Classic BPF over struct
 * seccomp_data, built here: check the architecture (calls made through
 * the 32-bit entry, int 0x80, and x32 numbers are let through: the
 * tracepoints bpfvm serves are the x86-64 ones), then one comparison per
 * attached call.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdlib.h>

#include "events.h"
#include "seccomp_policy.h"

#define X32_SYSCALL_BIT 0x40000000u

struct sock_filter *ev_seccomp_filter(const struct ev_interest *want, unsigned short *len)
{
	struct sock_filter *f;
	unsigned n = 0;

	if (want->judge)
		return ev_seccomp_policy_filter(len);
	f = calloc(2 * EV_MAX_SYSCALL + 8, sizeof(*f));
	if (!f)
		return NULL;
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, X32_SYSCALL_BIT, 0, 1);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	for (long nr = 0; nr < EV_MAX_SYSCALL; nr++) {
		bool traced = want->all_enter || want->all_exit || ev_interest_has(want->enter, nr) ||
			      ev_interest_has(want->exit, nr) ||
			      (want->exec_filename && (nr == 59 || nr == 322)) ||  /* execve, execveat */
			      /* rt_sigaction, kill, tkill, tgkill; exit_group, execve(at) kill threads */
			      (want->signals && (nr == 13 || nr == 62 || nr == 200 || nr == 234 ||
						 nr == 231 || nr == 59 || nr == 322));

		if (!traced)
			continue;
		if (want->all_enter || want->all_exit) {
			f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE);
			break;
		}
		/* equal: fall into the TRACE just after; else skip it */
		f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)nr, 0, 1);
		f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE);
	}
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	*len = (unsigned short)n;
	return f;
}
