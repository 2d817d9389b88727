/*
 * handover.h - the processes the in-process agent hands over to the
 * supervisor (handover.c, for ptrace.c's adopted processes): they carry
 * the agent's seccomp filter, which traps their attached calls unless
 * made from the agent's stub page.
 */
#ifndef BPFVM_EVENTS_HANDOVER_H
#define BPFVM_EVENTS_HANDOVER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/user.h>

#include "events.h"

enum hv_inject { HV_NONE, HV_MMAP_DUE, HV_MMAP, HV_SIGACTION_DUE, HV_SIGACTION };

/* One thread's state. */
struct hv_thread {
	bool due;              /* its call is to be made from the stub page when it resumes */
	bool sp_moved;         /* ...and was: its stack pointer moved (the return address below) */
	uint64_t ip;           /* ...and its own address, put back at its exit stop (0: none) */
	enum hv_inject inject; /* the stub page and SIGSYS handler being put into a new program */
	struct user_regs_struct saved;   /* the call they stand in for */
};

/* Does the call at this syscall-enter-stop trap in the agent's filter (so: redirect it)? */
bool hv_wanted(uint64_t stub, const struct ev_interest *want, const struct user_regs_struct *r);
/* Make the call stopped at its entry as if from the stub page (when h->due). */
void hv_redirect(uint64_t stub, int32_t tid, struct hv_thread *h);
/* Its own address and stack back (its exit stop; a fork child's first stop). */
void hv_undo(int32_t tid, struct hv_thread *h);
/*
 * The page and handler of a program just exec'd (h->inject HV_MMAP_DUE),
 * made at its first call's entry and exit stops in its place, then that
 * call from its entry again: true when the stop was one of these (resume
 * it, nothing else).
 */
bool hv_inject_enter(uint64_t stub, int32_t tid, struct hv_thread *h);
bool hv_inject_exit(uint64_t stub, int32_t tid, struct hv_thread *h);

#endif
