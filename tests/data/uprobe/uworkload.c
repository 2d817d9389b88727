/*
 * uworkload.c - what tests/scripts/test_uprobe.sh probes: THREADS threads
 * each calling upr_target(i) CALLS times (i its thread number) and
 * malloc MALLOCS times, a recursive upr_fact(5) (uretprobes nest), a
 * function whose first instruction reads a global RIP-relatively
 * (upr_global: run out of line), a fork whose child calls upr_target once,
 * cbrt() from libm.so.6 loaded with dlopen (a library that comes late),
 * then unloaded with dlclose and loaded again, cbrt called twice more,
 * a USDT probe upr:tick with arguments (an int, a long, a pointer), and
 * upr:guarded, which fires only while a tracer holds its semaphore.
 * It prints what it did, for the test to compare.  "uworkload loop MS":
 * calls upr_target and upr_fact every millisecond for MS milliseconds
 * (bpfvm attaches and detaches meanwhile), then exits 0.  "uworkload
 * leap": upr_leap(3) three times, each left by a longjmp from its
 * deepest call (no return), then upr_leap(-1) returns 7 (leap.bpf.c).
 * "uworkload late": only the dlopen, dlclose, dlopen of libm and its three
 * cbrt calls, while a second thread waits (probes placed with threads).
 * "uworkload forkloop MS": forks, then parent and child both loop as
 * "loop MS" does (the detach in a forked child).  "uworkload mapped
 * PATH OFF": maps libm's file PATH executable by hand (no dynamic linker),
 * calls cbrt at file offset OFF, unmaps it, maps it again at the same
 * address and calls cbrt again: 2 calls.
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#define _SDT_HAS_SEMAPHORES 1
#include <sys/sdt.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define THREADS 4
#define CALLS 1000
#define MALLOCS 500

volatile long upr_sink;
unsigned short upr_tick_semaphore __attribute__((section(".probes")));
unsigned short upr_guarded_semaphore __attribute__((section(".probes")));
long upr_value = 42;

__attribute__((noinline, used)) void upr_target(long i)
{
	upr_sink += i;
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline, used)) long upr_fact(long n)
{
	long (*volatile self)(long) = upr_fact;   /* a real call each time: returns nest */

	return n <= 1 ? 1 : n * self(n - 1);
}

__attribute__((noinline, used)) long upr_global(void)
{
	return upr_value;
}

static void *worker(void *arg)
{
	long i = (long)arg;

	for (int k = 0; k < CALLS; k++)
		upr_target(i);
	for (int k = 0; k < MALLOCS; k++) {
		void *volatile p = malloc(64 + (size_t)k);

		free(p);
	}
	return NULL;
}

static jmp_buf upr_jb;

__attribute__((noinline, used)) long upr_leap(long n)
{
	long (*volatile self)(long) = upr_leap;   /* a real call each time: returns nest */

	if (n == 0)
		longjmp(upr_jb, 1);
	if (n < 0)
		return 7;
	return self(n - 1) + 1;
}

static int leap(void)
{
	for (volatile int i = 0; i < 3; i++)
		if (!setjmp(upr_jb))
			upr_leap(3);
	printf("leap %ld\n", upr_leap(-1));
	return 0;
}

/* cbrt from libm.so.6 loaded late (dlopen), unloaded and loaded again: 3 calls. */
static int late_library(void)
{
	double (*cube_root)(double);
	void *lib = dlopen("libm.so.6", RTLD_NOW);

	if (!lib || !(cube_root = (double (*)(double))dlsym(lib, "cbrt")) || cube_root(8.0) != 2.0)
		return 1;
	/* unmapped while probed, then mapped again: its probe fires again */
	if (dlclose(lib) || !(lib = dlopen("libm.so.6", RTLD_NOW)) ||
	    !(cube_root = (double (*)(double))dlsym(lib, "cbrt")) || cube_root(64.0) != 4.0 ||
	    cube_root(125.0) < 4.99)
		return 1;
	return 0;
}

static void *waiter(void *arg)
{
	char c;

	return read(*(int *)arg, &c, 1) < 0 ? arg : NULL;
}

/* late_library while another thread exists (it waits on a pipe meanwhile) */
static int late_threaded(void)
{
	int p[2], rc;
	pthread_t th;

	if (pipe(p) || pthread_create(&th, NULL, waiter, &p[0]))
		return 1;
	rc = late_library();
	close(p[1]);
	pthread_join(th, NULL);
	printf("late %d\n", rc);
	return rc;
}

/* unrelocated, its data segment not where it expects it: cbrt's last bit may differ */
static int near(double x, double want)
{
	return x > want - 0.01 && x < want + 0.01;
}

static int mapped_library(const char *path, long off)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	double (*cube_root)(double);
	struct stat st;
	void *p, *q;

	if (fd < 0 || fstat(fd, &st))
		return 1;
	p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED || !(cube_root = (double (*)(double))((char *)p + off)) ||
	    !near(cube_root(27.0), 3.0) || munmap(p, (size_t)st.st_size))
		return 1;
	q = mmap(p, (size_t)st.st_size, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_FIXED_NOREPLACE, fd, 0);
	if (q != p || !near(cube_root(64.0), 4.0))
		return 1;
	printf("mapped 0\n");
	return 0;
}

static int loop(long ms)
{
	for (long i = 0; i < ms; i++) {
		upr_target(1);
		if (upr_fact(4) != 24)
			return 1;
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	}
	printf("loop done\n");
	return 0;
}

int main(int argc, char **argv)
{
	pthread_t th[THREADS];
	long f, g;
	pid_t pid;
	int st;

	if (argc == 3 && !strcmp(argv[1], "loop"))
		return loop(atol(argv[2]));
	if (argc == 3 && !strcmp(argv[1], "forkloop")) {
		pid = fork();
		if (pid < 0 || loop(atol(argv[2])))
			return 1;
		return pid ? waitpid(pid, &st, 0) != pid || st : 0;
	}
	if (argc == 2 && !strcmp(argv[1], "late"))
		return late_threaded();
	if (argc == 4 && !strcmp(argv[1], "mapped"))
		return mapped_library(argv[2], strtol(argv[3], NULL, 0));
	if (argc == 2 && !strcmp(argv[1], "leap"))
		return leap();
	for (long i = 0; i < THREADS; i++)
		pthread_create(&th[i], NULL, worker, (void *)(i + 1));
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	f = upr_fact(5);
	g = upr_global();
	if (late_library())
		return 1;
	for (int i = 0; i < 3; i++)
		DTRACE_PROBE3(upr, tick, i + 7, (long)i * 1000 - 1, &upr_value);
	if (upr_guarded_semaphore)
		DTRACE_PROBE1(upr, guarded, 99);
	pid = fork();
	if (pid == 0) {
		upr_target(100);
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	printf("calls %d per thread, fact %ld, global %ld\n", CALLS, f, g);
	return 0;
}
