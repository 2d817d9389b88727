/*
 * seccomp_policy.c - a seccomp filter enforced by the supervisor instead
 * of the kernel (`bpfvm trace --seccomp`), with the kernel's effects.
 *
 * The supervisor's own filter (installed in the started command) then
 * holds a copy of the policy whose every return but ALLOW is
 * SECCOMP_RET_TRACE (seccomp_filter.c), so the kernel stops just the calls
 * the policy does not allow (all of them, of every architecture, when it
 * returns a computed A); at the stop the policy is judged on the seccomp_data the kernel would give
 * it (PTRACE_GET_SYSCALL_INFO: nr, arch, instruction pointer, arguments)
 * and its action applied as __seccomp_filter applies it:
 *
 *  - ALLOW, LOG: the call goes on;
 *  - ERRNO(n): skipped, returns -n (n capped at MAX_ERRNO);
 *  - TRACE (the policy's tracer is not there), USER_NOTIF (no listener):
 *    skipped, -ENOSYS;
 *  - KILL_PROCESS, KILL_THREAD, an unknown action, TRAP: the kernel itself
 *    is made to act.  The call's number is changed to one of ours (with
 *    a cookie in its first argument) which the supervisor's filter maps to
 *    that action; the kernel re-runs the filters after a tracer's seccomp
 *    stop, and so kills (SIGSYS, a core as it decides: last thread, or
 *    KILL_PROCESS) or forces SIGSYS (unblocked, SIG_IGN reset) exactly as
 *    for the real filter.  For TRAP the siginfo names our number: at the
 *    SIGSYS signal-delivery-stop that follows, si_syscall and si_errno
 *    (the action's data) are put back, and the registers are the
 *    original ones with rax the call's number (syscall_rollback).
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>

#include "events.h"
#include "seccomp_policy.h"

#define MAX_ERRNO 4095
#define SYS_SECCOMP_CODE 1          /* si_code of a seccomp SIGSYS */
#define OUR_NR 0x5ec00000u          /* + 0 kill process, 1 kill thread, 2 trap */
#define OUR_COOKIE 0x5ec0c0deu      /* in args[0]'s low half */
#define ARG0_LO offsetof(struct seccomp_data, args)

unsigned ev_seccomp_policy_filter(const struct ev_interest *want, struct sock_filter *f)
{
	static const uint32_t act[3] = { SECCOMP_RET_KILL_PROCESS, SECCOMP_RET_KILL_THREAD,
					 SECCOMP_RET_TRAP };
	unsigned n = 0;

	(void)want;
	for (unsigned i = 0; i < 3; i++) {
		f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
						      offsetof(struct seccomp_data, nr));
		f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, OUR_NR + i, 0, 3);
		f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG0_LO);
		f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, OUR_COOKIE, 0, 1);
		f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, act[i]);
	}
	return n;
}

bool ev_seccomp_policy_append(const struct ev_interest *want, struct sock_filter *f, unsigned *n,
			      unsigned max)
{
	if (!want->policy || !want->policy_len || *n + want->policy_len > max)
		return false;
	for (unsigned i = 0; i < want->policy_len; i++)
		if (want->policy[i].code == (BPF_RET | BPF_A))
			return false;   /* a computed action: every call must stop */
	for (unsigned i = 0; i < want->policy_len; i++) {
		struct sock_filter *t = &f[*n + i];

		memcpy(t, &want->policy[i], sizeof(*t));
		/* seccomp_check_filter's mark for a seccomp_data load, back to the load */
		if (t->code == (BPF_LDX | BPF_W | BPF_ABS))
			t->code = BPF_LD | BPF_W | BPF_ABS;
		if (t->code == (BPF_RET | BPF_K) &&
		    (t->k & SECCOMP_RET_ACTION_FULL) != SECCOMP_RET_ALLOW)
			t->k = SECCOMP_RET_TRACE;
	}
	*n += want->policy_len;
	return true;
}

/* The seccomp_data of the call tid is stopped in, as populate_seccomp_data fills it. */
static void seccomp_data_of(int32_t tid, const struct user_regs_struct *r,
			    struct bpfvm_seccomp_data *sd)
{
	struct __ptrace_syscall_info info;

	memset(sd, 0, sizeof(*sd));
	if (ptrace(PTRACE_GET_SYSCALL_INFO, tid, sizeof(info), &info) > 0 &&
	    info.op == PTRACE_SYSCALL_INFO_SECCOMP) {
		sd->nr = (int32_t)info.seccomp.nr;
		sd->arch = info.arch;
		sd->instruction_pointer = info.instruction_pointer;
		memcpy(sd->args, info.seccomp.args, sizeof(sd->args));
		return;
	}
	/* a kernel before 5.3: an x86-64 call, from the registers */
	sd->nr = (int32_t)r->orig_rax;
	sd->arch = AUDIT_ARCH_X86_64;
	sd->instruction_pointer = r->rip;
	ev_syscall_args(r, sd->args);
}

/* The call does not run and returns rc. */
static void skip(int32_t tid, struct user_regs_struct *r, int64_t rc)
{
	r->orig_rax = (unsigned long long)-1;
	r->rax = (unsigned long long)rc;
	ptrace(PTRACE_SETREGS, tid, 0, r);
}

/* The kernel applies one of the actions of our numbers when the thread resumes. */
static void kernel_acts(int32_t tid, struct user_regs_struct *r, unsigned which)
{
	r->orig_rax = OUR_NR + which;
	r->rdi = OUR_COOKIE;
	ptrace(PTRACE_SETREGS, tid, 0, r);
}

/* What the denied call returns to sys_exit: rc, or its number (syscall_rollback). */
static void denied_with(struct ev_denied *d, const struct user_regs_struct *r, int64_t rc)
{
	d->exit_fires = true;
	d->nr = (long)(int32_t)r->orig_rax;
	d->ret = rc;
	d->regs = *r;
	d->regs.rax = (unsigned long long)rc;
}

bool ev_seccomp_enforce(const struct ev_interest *want, int32_t tid, int32_t tgid,
			bool last_thread, struct ev_trap *trap, bool *native,
			struct ev_denied *denied)
{
	struct user_regs_struct r;
	struct bpfvm_seccomp_data sd;
	uint32_t ret, data;
	int64_t rc;

	*native = false;
	denied->exit_fires = false;
	if (ptrace(PTRACE_GETREGS, tid, 0, &r))
		return false;
	seccomp_data_of(tid, &r, &sd);
	*native = sd.arch == AUDIT_ARCH_X86_64 && !((uint32_t)sd.nr & 0x40000000u);
	ret = want->judge(want->judge_ctx, tid, tgid, &sd);
	data = ret & SECCOMP_RET_DATA;
	switch (ret & SECCOMP_RET_ACTION_FULL) {
	case SECCOMP_RET_ALLOW:
	case SECCOMP_RET_LOG:
		if ((uint32_t)sd.nr - OUR_NR < 3)   /* one of ours from the program itself */
			skip(tid, &r, -ENOSYS);
		return (uint32_t)sd.nr - OUR_NR >= 3;
	case SECCOMP_RET_ERRNO:
	case SECCOMP_RET_TRACE:
	case SECCOMP_RET_USER_NOTIF:
		rc = (ret & SECCOMP_RET_ACTION_FULL) != SECCOMP_RET_ERRNO ? -ENOSYS :
		     -(int64_t)(data > MAX_ERRNO ? MAX_ERRNO : data);
		denied_with(denied, &r, rc);
		skip(tid, &r, rc);
		return false;
	}
	/* the kernel acts: its sys_exit sees the number in rax (syscall_rollback) */
	if ((ret & SECCOMP_RET_ACTION_FULL) != SECCOMP_RET_KILL_THREAD || last_thread)
		denied_with(denied, &r, (int64_t)r.orig_rax);
	switch (ret & SECCOMP_RET_ACTION_FULL) {
	case SECCOMP_RET_TRAP:
		*trap = (struct ev_trap){ .pending = true, .nr = sd.nr, .data = (uint16_t)data, .regs = r };
		kernel_acts(tid, &r, 2);
		return false;
	case SECCOMP_RET_KILL_THREAD:
		kernel_acts(tid, &r, 1);
		return false;
	default:   /* KILL_PROCESS, and what the kernel does for an unknown action */
		kernel_acts(tid, &r, 0);
		return false;
	}
}

bool ev_seccomp_trap_fix(int32_t tid, struct ev_trap *trap)
{
	siginfo_t info;

	if (!trap->pending || ptrace(PTRACE_GETSIGINFO, tid, 0, &info) ||
	    info.si_signo != SIGSYS || info.si_code != SYS_SECCOMP_CODE)
		return false;
	trap->pending = false;
	info.si_syscall = trap->nr;
	info.si_errno = trap->data;
	ptrace(PTRACE_SETSIGINFO, tid, 0, &info);
	trap->regs.rax = trap->regs.orig_rax;
	ptrace(PTRACE_SETREGS, tid, 0, &trap->regs);
	return true;
}
