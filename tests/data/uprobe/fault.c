/*
 * fault.c - a probed instruction that faults (test_kernel_uprobe.c): load's
 * first instruction reads through its argument, NULL every other call.
 * The program's SIGSEGV handler must see the fault at load's own first
 * byte, as without the probe (where the instruction ran out of line is
 * not the program's business).  Exit status 0 only when both faults were
 * seen there.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <ucontext.h>

static sigjmp_buf env;
static volatile long where;

__attribute__((naked, noinline)) long load(long *p)
{
	__asm__("movq (%rdi), %rax\n\tret\n");
}

static void on_segv(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;

	(void)sig, (void)si;
	where = (long)uc->uc_mcontext.gregs[REG_RIP] - (long)load;
	siglongjmp(env, 1);
}

int main(void)
{
	struct sigaction sa = { .sa_sigaction = on_segv, .sa_flags = SA_SIGINFO };
	long v = 7, sum = 0;
	int at_load = 0;

	sigaction(SIGSEGV, &sa, NULL);
	for (volatile int i = 0; i < 4; i++) {
		if (sigsetjmp(env, 1)) {
			at_load += where == 0;
			printf("fault at load%+ld\n", where);
			continue;
		}
		sum += load(i % 2 ? &v : NULL);
	}
	return at_load == 2 && sum == 14 ? 0 : 1;
}
