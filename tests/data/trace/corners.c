/*
 * corners.c - the process-tree corners a tracer must follow: a signal
 * with a handler, posix_spawn (clone with CLONE_VM | CLONE_VFORK), a child
 * that stops itself (a group stop) and is continued, then exec from a
 * thread that is not the leader (it takes the leader's pid; old_pid says
 * which thread it was).
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static void *exec_from_thread(void *arg)
{
	(void)arg;
	execl("/bin/true", "true", (char *)NULL);
	return NULL;
}

static void on_usr1(int sig)
{
	(void)sig;
}

int main(void)
{
	char *av[] = { "true", NULL };
	pthread_t t;
	pid_t p;
	int st;

	signal(SIGUSR1, on_usr1);
	raise(SIGUSR1);
	if (posix_spawn(&p, "/bin/true", NULL, NULL, av, environ) || waitpid(p, &st, 0) != p)
		return 1;
	p = fork();
	if (p == 0) {
		raise(SIGSTOP);
		_exit(open("/etc/hostname", O_RDONLY) < 0);
	}
	if (waitpid(p, &st, WUNTRACED) != p || !WIFSTOPPED(st) || kill(p, SIGCONT) ||
	    waitpid(p, &st, 0) != p || !WIFEXITED(st) || WEXITSTATUS(st))
		return 1;
	if (pthread_create(&t, NULL, exec_from_thread, NULL))
		return 1;
	pause();
	return 1;
}
