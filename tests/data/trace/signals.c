/*
 * signals.c - the workload of the signal tracepoint tests: SIGUSR1 to
 * itself, caught (SA_RESTART); SIGUSR2 to its thread (tgkill), caught
 * there; SIGURG to itself, ignored by default; SIGUSR1 twice while
 * blocked (the second already pending), then unblocked; signals the
 * kernel sends: SIGSEGV from a fault and SIGPIPE from a write to a pipe
 * nobody reads, both caught; a child that waits, gets SIGUSR2 from
 * kill(0, ...) with its parent (the two make a process group of their
 * own), and is killed with SIGTERM (its SIGCHLD to the parent); exit 0
 * with a thread still waiting (exit_group kills it: SIGKILL there).
 * `signals wait FD`: first read one byte from FD (as workload.c).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t usr1, usr2, pipes;
static int go[2];
static sigjmp_buf back;

static void on_usr1(int sig) { (void)sig; usr1++; }
static void on_usr2(int sig) { (void)sig; usr2++; }
static void on_pipe(int sig) { (void)sig; pipes++; }
static void on_segv(int sig) { (void)sig; siglongjmp(back, 1); }

/* A fault (SIGSEGV, SEGV_MAPERR, to the thread) and a write nobody reads (SIGPIPE, from the kernel). */
static int kernel_signals(void)
{
	static int *volatile nowhere = (int *)8;
	struct sigaction sa = { .sa_handler = on_segv };
	int p[2];

	if (sigaction(SIGSEGV, &sa, NULL))
		return -1;
	if (!sigsetjmp(back, 1))
		*nowhere = 1;
	sa.sa_handler = on_pipe;
	if (sigaction(SIGPIPE, &sa, NULL) || pipe(p))
		return -1;
	close(p[0]);
	if (write(p[1], "x", 1) != -1 || !pipes)
		return -1;
	close(p[1]);
	return 0;
}

static void *idle_main(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

static void *thread_main(void *arg)
{
	char c;

	(void)arg;
	return read(go[0], &c, 1) == 1 ? NULL : (void *)1;   /* until SIGUSR2 has come */
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = SA_RESTART };
	sigset_t set;
	pthread_t th;
	pid_t child;
	char c;

	if (argc == 3 && !strcmp(argv[1], "wait")) {
		if (read(atoi(argv[2]), &c, 1) != 1)
			return 1;
		close(atoi(argv[2]));
	}
	if (setpgid(0, 0) || sigaction(SIGUSR1, &sa, NULL) || pipe(go) || kernel_signals())
		return 1;
	sa.sa_handler = on_usr2;
	sa.sa_flags = 0;
	if (sigaction(SIGUSR2, &sa, NULL))
		return 1;
	kill(getpid(), SIGUSR1);
	if (pthread_create(&th, NULL, thread_main, NULL))
		return 1;
	pthread_kill(th, SIGUSR2);
	while (!usr2)
		usleep(1000);
	if (write(go[1], "x", 1) != 1 || pthread_join(th, NULL))
		return 1;
	kill(getpid(), SIGURG);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	kill(getpid(), SIGUSR1);
	kill(getpid(), SIGUSR1);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	child = fork();
	if (child == 0) {
		for (;;)
			pause();
	}
	usleep(100000);
	kill(0, SIGUSR2);    /* to the group: the child and this process */
	usleep(50000);
	kill(child, SIGTERM);
	waitpid(child, NULL, 0);
	if (pthread_create(&th, NULL, idle_main, NULL))
		return 1;
	usleep(50000);
	return usr1 == 2 ? 0 : 1;
}
