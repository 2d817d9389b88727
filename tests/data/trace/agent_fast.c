/*
 * agent_fast.c - the workload of test_trace_agent.sh's fast-path test:
 * getppid() made from many places at once while the agent patches their
 * sites, each process saying how many it made ("calls PID N", see report):
 *   - the main thread, in a loop, while another thread sends it SIGRTMIN
 *     300 times; SIGRTMIN's handler calls getppid and raises SIGRTMIN + 1, whose
 *     handler (nested in the first) calls it too;
 *   - four threads started at once, 500 calls each (the same sites trap
 *     on several threads at the same moment);
 *   - a forked child (100 calls), a clone3 child sharing the memory on a
 *     stack of its own (10 calls), a posix_spawn child (clone with
 *     CLONE_VM|CLONE_VFORK) and a vfork child that run this program again
 *     ("spawned": 10 each).
 * Exit status 0 when every step went as planned.
 */
#define _GNU_SOURCE
#include <linux/sched.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SIGNALS 300
#define THREADS 4

static volatile sig_atomic_t in_handlers;
static volatile int sent_all;
static pthread_t main_thread;
static long thread_calls[THREADS];

static void on_rt2(int sig)
{
	(void)sig;
	syscall(SYS_getppid);
	in_handlers++;
}

static void on_rt1(int sig)
{
	(void)sig;
	syscall(SYS_getppid);
	in_handlers++;
	raise(SIGRTMIN + 1);
}

static void *sender(void *arg)
{
	struct timespec gap = { 0, 20000 };

	(void)arg;
	for (int i = 0; i < SIGNALS; i++) {
		pthread_kill(main_thread, SIGRTMIN);
		nanosleep(&gap, NULL);
	}
	sent_all = 1;
	return NULL;
}

static void *caller(void *arg)
{
	long *n = arg;

	for (int i = 0; i < 500; i++, (*n)++)
		getppid();
	return NULL;
}

/*
 * "calls PID N" appended, one write, to $AGENT_FAST_OUT (else stdout): a
 * file of its own, so that no line lands inside one bpfvm trace is
 * writing to the same stdout.
 */
static void report(long pid, long n)
{
	const char *path = getenv("AGENT_FAST_OUT");
	int fd = path ? open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600) : 1;

	dprintf(fd, "calls %ld %ld\n", pid, n);
	if (fd != 1)
		close(fd);
}

static void calls(int n)
{
	for (int i = 0; i < n; i++)
		syscall(SYS_getppid);
	report(getpid(), n);
}

/* The clone3 child, on its own stack, sharing our memory (and TLS): never returns. */
static void on_own_stack(void)
{
	for (int i = 0; i < 10; i++)
		syscall(SYS_getppid);
	syscall(SYS_exit, 0);
}

static int clone3_child(void)
{
	static char stack[64 << 10] __attribute__((aligned(16)));
	struct clone_args ca = { .flags = CLONE_VM, .exit_signal = SIGCHLD,
				 .stack = (unsigned long)stack, .stack_size = sizeof(stack) };
	long pid;
	int status;

	/* the child returns from the syscall instruction on the new stack: it calls on at once */
	__asm__ volatile("syscall\n test %%rax, %%rax\n jnz 1f\n call *%%rdx\n ud2\n 1:"
			 : "=a"(pid)
			 : "a"((long)SYS_clone3), "D"(&ca), "S"(sizeof(ca)), "d"(on_own_stack)
			 : "rcx", "r11", "memory");
	if (pid < 0 || waitpid((pid_t)pid, &status, 0) != pid || status)
		return 1;
	report(pid, 10);
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction s1 = { .sa_handler = on_rt1, .sa_flags = SA_RESTART };
	struct sigaction s2 = { .sa_handler = on_rt2, .sa_flags = SA_RESTART };
	char *child_argv[] = { argv[0], "spawned", NULL };
	pthread_t th[THREADS], snd;
	long loops = 0, total = 0;
	pid_t pid;
	int status;

	if (argc == 2 && !strcmp(argv[1], "spawned")) {
		calls(10);
		return 0;
	}
	main_thread = pthread_self();
	sigaction(SIGRTMIN, &s1, NULL);
	sigaction(SIGRTMIN + 1, &s2, NULL);
	if (pthread_create(&snd, NULL, sender, NULL))
		return 1;
	while (!sent_all && loops < 10000000) {
		syscall(SYS_getppid);
		loops++;
	}
	pthread_join(snd, NULL);
	for (int i = 0; i < THREADS; i++)
		if (pthread_create(&th[i], NULL, caller, &thread_calls[i]))
			return 1;
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < THREADS; i++)
		total += thread_calls[i];
	report(getpid(), loops + in_handlers + total);
	if (in_handlers != 2 * SIGNALS)
		fprintf(stderr, "agent_fast: %d handler calls, not %d\n", (int)in_handlers, 2 * SIGNALS);
	pid = fork();
	if (pid == 0) {
		calls(100);
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || status || clone3_child())
		return 1;
	if (posix_spawn(&pid, "/proc/self/exe", NULL, NULL, child_argv, environ) ||
	    waitpid(pid, &status, 0) != pid || status)
		return 1;
	pid = vfork();
	if (pid == 0) {
		execv("/proc/self/exe", child_argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || status)
		return 1;
	return in_handlers == 2 * SIGNALS ? 0 : 1;
}
