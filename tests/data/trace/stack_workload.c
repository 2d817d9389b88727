/*
 * stack_workload.c - a user stack of known frames for test_kernel_stacks:
 * main -> a -> b -> c -> sys (its own `syscall` instruction, so no libc
 * frame without a frame pointer sits in the chain), getppid from two
 * call sites of c, and once through libc's getppid (no frame pointer of
 * its own), twice over from one call site of main.  Built -O0 -fno-omit-frame-pointer -no-pie
 * and run with ASLR off, so both runs see the same addresses.
 */
#include <sys/syscall.h>
#include <unistd.h>

__attribute__((noinline)) static long sys(long nr)
{
	long ret;

	__asm__ volatile("syscall" : "=a"(ret) : "a"(nr) : "rcx", "r11", "memory");
	return ret;
}

__attribute__((noinline)) static void c(void)
{
	sys(SYS_getppid);
	sys(SYS_getppid);
	getppid();   /* libc's wrapper, no frame of its own: the walk skips c */
}

__attribute__((noinline)) static void b(void)
{
	c();
}

__attribute__((noinline)) static void a(void)
{
	b();
}

int main(void)
{
	for (int i = 0; i < 2; i++)   /* one call site: the same stacks twice */
		a();
	return 0;
}
