/*
 * agent_work.c - the workload of test_trace_agent.sh: getppid in the main
 * thread, in a thread, in a forked child and after an exec of itself; a
 * clock_nanosleep that SIGALRM interrupts (no SA_RESTART: EINTR) while the
 * signal's handler calls getppid itself.
 *
 * `agent_work handover STATIC` (the agent's hand-over to the supervisor):
 * getppid, then a forked child execs STATIC (this program linked
 * statically, which the agent cannot enter), then the process itself;
 * `STATIC static DYN`: getppid in the main thread, a thread and a forked
 * child, then an exec of DYN (dynamic again: the supervisor keeps it);
 * a set-user-ID STATIC says "secure" on stderr when the kernel ran it as
 * one (AT_SECURE: the dynamic linker ignores LD_PRELOAD then).
 * `agent_work survive STATIC` execs `STATIC spin`: 20 getppid calls, each
 * after a 15 ms clock_nanosleep, then "survived" on stdout (bpfvm trace
 * is killed meanwhile: the process must go on untraced).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/auxv.h>
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

static int handover(char **argv)
{
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	pthread_t th;
	pid_t pid;

	if (n <= 0)
		return 1;
	self[n] = '\0';
	if (!strcmp(argv[1], "static")) {   /* the static program: argv[2] is the dynamic one */
		if (getauxval(AT_SECURE) && write(2, "secure\n", 7) != 7)
			return 1;
		pid = fork();
		if (pid == 0) {
			syscall(SYS_getppid);
			_exit(4);
		}
		if (pid < 0 || waitpid(pid, NULL, 0) != pid ||
		    pthread_create(&th, NULL, thread_main, NULL) || pthread_join(th, NULL))
			return 1;
		execl(argv[2], argv[2], "execd", (char *)NULL);
		return 1;
	}
	pid = fork();
	if (pid == 0) {
		execl(argv[2], argv[2], "static", self, (char *)NULL);
		_exit(1);
	}
	if (pid < 0 || waitpid(pid, NULL, 0) != pid)
		return 1;
	execl(argv[2], argv[2], "static", self, (char *)NULL);
	return 1;
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
	if (argc == 3 && (!strcmp(argv[1], "handover") || !strcmp(argv[1], "static")))
		return handover(argv);
	if (argc == 3 && !strcmp(argv[1], "survive")) {
		execl(argv[2], argv[2], "spin", (char *)NULL);
		return 1;
	}
	if (argc == 2 && !strcmp(argv[1], "spin")) {
		struct timespec ms15 = { 0, 15000000 };

		for (int i = 0; i < 20; i++)
			if (clock_nanosleep(CLOCK_MONOTONIC, 0, &ms15, NULL) || syscall(SYS_getppid) < 0)
				return 1;
		return write(1, "survived\n", 9) == 9 ? 0 : 1;
	}
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
