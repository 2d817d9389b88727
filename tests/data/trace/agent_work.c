/*
 * agent_work.c - the workload of test_trace_agent.sh: getppid in the main
 * thread, in a thread, in a forked child and after an exec of itself; a
 * clock_nanosleep that SIGALRM interrupts (no SA_RESTART: EINTR) while the
 * signal's handler calls getppid itself.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void on_alarm(int sig)
{
	(void)sig;
	syscall(SYS_getppid);
}

static void *thread_main(void *arg)
{
	(void)arg;
	syscall(SYS_getppid);
	return NULL;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_alarm };   /* no SA_RESTART */
	struct timespec two = { 2, 0 };
	pthread_t th;
	pid_t pid;

	syscall(SYS_getppid);
	if (argc == 2 && !strcmp(argv[1], "execd"))
		return 0;
	pid = fork();
	if (pid == 0) {
		syscall(SYS_getppid);
		syscall(SYS_getppid);
		_exit(3);
	}
	if (pid < 0 || waitpid(pid, NULL, 0) != pid)
		return 1;
	if (pthread_create(&th, NULL, thread_main, NULL) || pthread_join(th, NULL))
		return 1;
	sigaction(SIGALRM, &sa, NULL);
	alarm(1);
	if (clock_nanosleep(CLOCK_MONOTONIC, 0, &two, NULL) != EINTR)
		return 1;
	execl("/proc/self/exe", argv[0], "execd", (char *)NULL);
	return 1;
}
