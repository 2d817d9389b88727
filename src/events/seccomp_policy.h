/*
 * seccomp_policy.h - a seccomp filter enforced by the supervisor with the
 * kernel's effects (seccomp_policy.c).
 */
#ifndef BPFVM_EVENTS_SECCOMP_POLICY_H
#define BPFVM_EVENTS_SECCOMP_POLICY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/user.h>

#include "events.h"

/* A TRAP the kernel was made to raise: what its SIGSYS must say. */
struct ev_trap {
	bool pending;
	int32_t nr;
	uint16_t data;
	struct user_regs_struct regs;   /* the call's, at its seccomp stop */
};

/* The start of the supervisor's filter with a policy, at f: our numbers' actions; its length. */
struct sock_filter;
unsigned ev_seccomp_policy_filter(const struct ev_interest *want, struct sock_filter *f);
/*
 * Append the policy at f[*n] with each return but ALLOW made TRACE, so
 * that the kernel stops only the calls it does not allow; false (nothing
 * appended) when it returns A, or would pass max instructions.
 */
bool ev_seccomp_policy_append(const struct ev_interest *want, struct sock_filter *f, unsigned *n,
			      unsigned max);

/* A call the policy did not let run, whose sys_exit tracepoints the kernel still fires. */
struct ev_denied {
	bool exit_fires;
	long nr;
	int64_t ret;                    /* what the call returns (rax) */
	struct user_regs_struct regs;   /* the call's registers, with that rax */
};

/*
 * At tid's seccomp stop: judge the call with want->judge and apply the
 * action.  True when the call goes on (ALLOW, LOG); false when it was
 * dealt with (resume the thread without waiting for its exit).  *native:
 * an x86-64 call (not i386, not x32).  last_thread: tid is the last live
 * thread of its process.  A denied call fills *denied: the kernel returns
 * from its seccomp check to the exit work, which fires sys_exit, for
 * every action but the KILL_THREAD of a thread with others left (do_exit).
 */
bool ev_seccomp_enforce(const struct ev_interest *want, int32_t tid, int32_t tgid,
			bool last_thread, struct ev_trap *trap, bool *native,
			struct ev_denied *denied);

/* At a signal-delivery-stop: a pending TRAP's SIGSYS made right; true when it was one. */
bool ev_seccomp_trap_fix(int32_t tid, struct ev_trap *trap);

#endif
