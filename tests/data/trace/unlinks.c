/*
 * unlinks.c - the workload of the ksyscall and enforcement tests: an
 * unlinkat of a path that does not exist, and a thread that removes a
 * directory that does not exist (AT_REMOVEDIR) and then calls getppid;
 * each result is printed, and the thread says whether a SIGUSR1 arrived
 * on it (a program may send one with bpf_send_signal_thread).
 * `unlinks wait FD`: first read one byte from FD (as workload.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile pid_t usr1_tid;

static void on_usr1(int sig)
{
	(void)sig;
	usr1_tid = gettid();
}

static void *thread_main(void *arg)
{
	char path[] = "/nonexistent/bpfvm-rmdir";   /* on the stack: in memory when probes read it */
	int rc = unlinkat(AT_FDCWD, path, AT_REMOVEDIR);

	printf("rmdir %d errno %d\n", rc, rc ? errno : 0);
	(void)getppid();
	printf("SIGUSR1 %s\n", !usr1_tid ? "not received" :
	       usr1_tid == gettid() ? "on the thread" : "on another thread");
	(void)arg;
	return NULL;
}

int main(int argc, char **argv)
{
	char path[] = "/nonexistent/bpfvm-unlink";
	pthread_t th;
	char c;
	int rc;

	if (argc == 3 && !strcmp(argv[1], "wait")) {
		if (read(atoi(argv[2]), &c, 1) != 1)
			return 1;
		close(atoi(argv[2]));
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	signal(SIGUSR1, on_usr1);
	rc = unlinkat(AT_FDCWD, path, 0);
	printf("unlink %d errno %d\n", rc, rc ? errno : 0);
	if (pthread_create(&th, NULL, thread_main, NULL) || pthread_join(th, NULL))
		return 1;
	return 0;
}
