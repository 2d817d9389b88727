/*
 * handover.c - the processes the in-process agent hands over to the
 * supervisor as they exec a program it cannot enter (a static or
 * set-user-ID one, any when a call the dynamic linker makes is attached).
 * The agent's seccomp filter stays in them (filters cannot be removed):
 * it answers SECCOMP_RET_TRAP to the attached calls, execve and
 * rt_sigaction(SIGSYS, act) unless they are made from the agent's stub
 * page, and nothing in the new program catches that SIGSYS.  (Syscall
 * User Dispatch, which the agent does not use, the kernel clears at exec.)
 *
 * Traced, each such call is made as if from the stub page: seccomp reads
 * the instruction pointer after the syscall-enter-stop, so rip is set
 * into the page there and put back at the exit stop, before a restart
 * steps back onto the call's own syscall instruction.  The return address
 * also goes onto the stack, below the red zone, with the stack pointer
 * moved over it.
 *
 * Should bpfvm trace end (SIGKILL) the process runs on untraced: at its
 * first call after the exec the supervisor maps the stub page into it
 * (MAP_FIXED_NOREPLACE) with a SIGSYS handler that makes the trapped call
 * from the page and a landing for a call under way, and makes the
 * handler SIGSYS's (rt_sigaction, from the page).  A call under way
 * returns to the landing, which restarts it from the page if the kernel
 * asks, then returns to the address on the stack.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>

#include "handover.h"
#include "remote.h"

#define NR_RT_SIGACTION 13
#define NR_RT_SIGRETURN 15
#define NR_CLONE 56
#define NR_VFORK 58
#define NR_EXECVE 59
#define NR_EXECVEAT 322
#define NR_CLONE3 435
#define PAGE 4096
#define LANDING 0x37           /* syscall; ret $128: where a redirected call returns */
#define REDZONE 128
#define ACT_OFF 0x80           /* the kernel's sigaction for SIGSYS */
#define SA_RESTORER_FLAG 0x04000000

/* The SIGSYS handler (0), its restorer (0x30), the landing (0x37). */
static const uint8_t code[] = {
	0x83, 0x7e, 0x08, 0x01,       /* cmpl $SYS_SECCOMP,si_code(%rsi) */
	0x75, 0x29,                   /* jne ret */
	0x48, 0x63, 0x46, 0x18,       /* movslq si_syscall(%rsi),%rax */
	0x4c, 0x8d, 0x5a, 0x28,       /* lea uc_mcontext.gregs(%rdx),%r11 */
	0x41, 0x53,                   /* push %r11 */
	0x49, 0x8b, 0x7b, 0x40,       /* mov REG_RDI(%r11),%rdi */
	0x49, 0x8b, 0x73, 0x48,       /* mov REG_RSI(%r11),%rsi */
	0x49, 0x8b, 0x53, 0x60,       /* mov REG_RDX(%r11),%rdx */
	0x4d, 0x8b, 0x53, 0x10,       /* mov REG_R10(%r11),%r10 */
	0x4d, 0x8b, 0x03,             /* mov REG_R8(%r11),%r8 */
	0x4d, 0x8b, 0x4b, 0x08,       /* mov REG_R9(%r11),%r9 */
	0x0f, 0x05,                   /* syscall */
	0x41, 0x5b,                   /* pop %r11 */
	0x49, 0x89, 0x43, 0x68,       /* mov %rax,REG_RAX(%r11) */
	0xc3,                         /* ret */
	0xb8, 0x0f, 0x00, 0x00, 0x00, /* restorer: mov $SYS_rt_sigreturn,%eax */
	0x0f, 0x05,                   /* syscall */
	0x0f, 0x05,                   /* landing: syscall (a restart) */
	0xc2, 0x80, 0x00,             /* ret $REDZONE */
};

bool hv_wanted(uint64_t stub, const struct ev_interest *want, const struct user_regs_struct *r)
{
	long nr = (long)r->orig_rax;

	/* not moved: what a handler cannot re-issue either, which the filter lets through */
	if (!stub || r->rip - stub < PAGE || nr == NR_CLONE || nr == NR_VFORK || nr == NR_CLONE3 ||
	    nr == NR_RT_SIGRETURN)
		return false;
	if (nr == NR_EXECVE || nr == NR_EXECVEAT)
		return true;
	if (nr == NR_RT_SIGACTION)
		return r->rdi == SIGSYS && r->rsi;
	return want->all_enter || want->all_exit || ev_interest_has(want->enter, nr) ||
	       ev_interest_has(want->exit, nr);
}

void hv_redirect(uint64_t stub, int32_t tid, struct hv_thread *h)
{
	struct user_regs_struct r;
	uint64_t sp, ip;

	h->due = false;
	if (ptrace(PTRACE_GETREGS, tid, 0, &r) || (long)r.orig_rax < 0)
		return;    /* gone, or skipped (bpf_override_return): nothing for the filter */
	ip = r.rip;
	sp = r.rsp - REDZONE - 8;
	h->sp_moved = !remote_mem_io(tid, &ip, sp, sizeof(ip), true);
	if (h->sp_moved)
		r.rsp = sp;
	r.rip = stub + LANDING + 2;
	h->ip = ptrace(PTRACE_SETREGS, tid, 0, &r) ? 0 : ip;
}

void hv_undo(int32_t tid, struct hv_thread *h)
{
	struct user_regs_struct r;

	if (h->ip && !ptrace(PTRACE_GETREGS, tid, 0, &r)) {
		r.rip = h->ip;
		if (h->sp_moved)
			r.rsp += REDZONE + 8;
		ptrace(PTRACE_SETREGS, tid, 0, &r);
	}
	h->ip = 0;
	h->sp_moved = false;
}

bool hv_inject_enter(uint64_t stub, int32_t tid, struct hv_thread *h)
{
	struct user_regs_struct r;

	if ((h->inject != HV_MMAP_DUE && h->inject != HV_SIGACTION_DUE) ||
	    ptrace(PTRACE_GETREGS, tid, 0, &r)) {
		return false;
	}
	if (h->inject == HV_MMAP_DUE) {
		h->saved = r;
		remote_mmap_args(&r, stub, PAGE, PROT_READ | PROT_EXEC);
	} else if (r.rip != h->saved.rip || r.orig_rax != NR_RT_SIGACTION || r.rdi != SIGSYS ||
		   r.rsi != stub + ACT_OFF) {
		return false;   /* a signal's handler came first: the rt_sigaction waits for its return */
	}
	r.rip = stub + LANDING + 2;   /* from the page, where the filter lets it through */
	h->inject = h->inject == HV_MMAP_DUE ? HV_MMAP : HV_SIGACTION;
	if (ptrace(PTRACE_SETREGS, tid, 0, &r))
		h->inject = HV_NONE;
	return true;
}

bool hv_inject_exit(uint64_t stub, int32_t tid, struct hv_thread *h)
{
	struct user_regs_struct r;
	struct {
		uint64_t handler, flags, restorer, mask;
	} act = { stub, SA_SIGINFO | SA_NODEFER | SA_RESTORER_FLAG, stub + 0x30, 0 };
	uint8_t page[ACT_OFF + sizeof(act)] = { 0 };

	if (h->inject != HV_MMAP && h->inject != HV_SIGACTION)
		return false;
	r = h->saved;   /* then the call itself, from its entry */
	r.rip -= 2;
	r.rax = r.orig_rax;
	memcpy(page, code, sizeof(code));
	memcpy(page + ACT_OFF, &act, sizeof(act));
	if (h->inject == HV_MMAP && !ptrace(PTRACE_GETREGS, tid, 0, &r) && r.rax == stub &&
	    !remote_mem_io(tid, page, stub, sizeof(page), true)) {
		r = h->saved;   /* rt_sigaction(SIGSYS, the page's, NULL, 8) from the call's entry */
		r.rip -= 2;
		r.rax = NR_RT_SIGACTION;
		r.rdi = SIGSYS;
		r.rsi = stub + ACT_OFF;
		r.rdx = 0;
		r.r10 = 8;
		h->inject = HV_SIGACTION_DUE;
	} else {
		if (h->inject == HV_MMAP) {   /* no page (the address is taken): the call alone */
			r = h->saved;
			r.rip -= 2;
			r.rax = r.orig_rax;
		}
		h->inject = HV_NONE;
	}
	ptrace(PTRACE_SETREGS, tid, 0, &r);
	return true;
}
