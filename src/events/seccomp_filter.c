/*
 * seccomp_filter.c - the filter the supervisor installs in a process it
 * starts: SECCOMP_RET_TRACE (a ptrace stop) for the system calls some
 * attached program needs, SECCOMP_RET_ALLOW for every other, so that
 * unattached calls run at full speed.  Classic BPF over struct
 * seccomp_data, built here: check the architecture (calls made through
 * the 32-bit entry, int 0x80, and x32 numbers are let through: the
 * tracepoints bpfvm serves are the x86-64 ones), then one comparison per
 * attached call.
 *
 * With a seccomp policy to enforce (seccomp_policy.c), first our own
 * numbers' actions, then the attached calls of x86-64 (the other arches go
 * on), then the policy itself with every return but ALLOW made TRACE: the
 * kernel runs it on each call and stops only those it does not allow, for
 * bpfvm to judge and act on.  A policy that returns A (a computed value),
 * or that would not fit with the rest, makes every call stop instead.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "seccomp_policy.h"

#define X32_SYSCALL_BIT 0x40000000u
#define MAX_INSNS 4096   /* BPF_MAXINSNS */

static bool traced(const struct ev_interest *want, long nr)
{
	return ev_interest_has(want->enter, nr) || ev_interest_has(want->exit, nr) ||
	       (want->exec_filename && (nr == 59 || nr == 322)) ||  /* execve, execveat */
	       /* rt_sigaction, kill, tkill, tgkill; exit_group, execve(at) kill threads */
	       (want->signals && (nr == 13 || nr == 62 || nr == 200 || nr == 234 || nr == 231 ||
				  nr == 59 || nr == 322));
}

/* The attached calls (nr loaded): TRACE for each, or for all; then on, at f[n]. */
static unsigned interest_checks(const struct ev_interest *want, struct sock_filter *f, unsigned n)
{
	if (want->all_enter || want->all_exit)
		return n + (f[n] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE), 1);
	for (long nr = 0; nr < EV_MAX_SYSCALL; nr++) {
		if (!traced(want, nr))
			continue;
		/* equal: fall into the TRACE just after; else skip it */
		f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)nr, 0, 1);
		f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE);
	}
	return n;
}

/* The x86-64 calls' checks, the others jumping over them to f[end]; returns end. */
static unsigned x86_64_part(const struct ev_interest *want, struct sock_filter *f, unsigned n)
{
	unsigned start = n, end;

	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_JMP | BPF_JA, 0);   /* to the end: below */
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, X32_SYSCALL_BIT, 0, 1);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_JMP | BPF_JA, 0);   /* to the end: below */
	end = interest_checks(want, f, n);
	f[start + 2].k = end - (start + 3);
	f[start + 5].k = end - (start + 6);
	return end;
}

struct sock_filter *ev_seccomp_filter(const struct ev_interest *want, unsigned short *len)
{
	struct sock_filter *f = calloc(2 * EV_MAX_SYSCALL + 16 + MAX_INSNS, sizeof(*f));
	unsigned n = 0;

	if (!f)
		return NULL;
	if (want->judge) {
		n = ev_seccomp_policy_filter(want, f);
		n = x86_64_part(want, f, n);
		if (!ev_seccomp_policy_append(want, f, &n, MAX_INSNS))
			f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE);
		*len = (unsigned short)n;
		return f;
	}
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, X32_SYSCALL_BIT, 0, 1);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	n = interest_checks(want, f, n);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	*len = (unsigned short)n;
	return f;
}
