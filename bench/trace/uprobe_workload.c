/*
 * uprobe_workload.c - what bench_uprobe times, from inside the traced
 * process: N calls of bench_empty(), an empty function (its one
 * instruction a ret, padding after it), on which the uprobe or uretprobe
 * is placed.
 *
 *   uprobe_workload N     prints "ns T": the loop's wall time
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

__attribute__((noinline, used)) void bench_empty(void)
{
	__asm__ volatile("" ::: "memory");
}

/*
 * The next function, aligned as functions are: bench_empty is followed by
 * its alignment padding, as a function in the middle of a program's text
 * is (last in .text it would meet .fini at once), which the agent's 5-byte
 * jmp may cover (bpfvm trace --mode agent; without room, an int3).
 */
__attribute__((noinline, used, aligned(16))) void bench_after(void)
{
	__asm__ volatile("" ::: "memory");
}

static unsigned long long now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	long n = argc == 2 ? atol(argv[1]) : 0;
	unsigned long long t0;

	if (n <= 0)
		return 2;
	t0 = now();
	for (long i = 0; i < n; i++)
		bench_empty();
	printf("ns %llu\n", now() - t0);
	return 0;
}
