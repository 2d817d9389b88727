/*
 * workload.c - the deterministic workload of the trace tests: an open that
 * succeeds and one that fails, a fork whose child opens a file and exits
 * with 3, a thread that opens a file, then an exec of /bin/true.
 * `workload wait FD`: first read one byte from FD (a test that loads
 * programs into the kernel starts it paused, to learn its pid first).
 * It calls openat itself: glibc's open() does, musl's calls open, and the
 * tests build it with both.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void *thread_main(void *arg)
{
	int fd = openat(AT_FDCWD, "/etc/passwd", O_RDONLY | O_CLOEXEC);

	(void)arg;
	if (fd >= 0)
		close(fd);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t th;
	pid_t pid;
	char c;
	int fd;

	if (argc == 3 && !strcmp(argv[1], "wait")) {   /* then the same descriptors as unpaused */
		if (read(atoi(argv[2]), &c, 1) != 1)
			return 1;
		close(atoi(argv[2]));
	}
	fd = openat(AT_FDCWD, "/etc/hostname", O_RDONLY);
	if (fd >= 0)
		close(fd);
	if (openat(AT_FDCWD, "/nonexistent/bpfvm-trace", O_RDONLY) >= 0)
		return 1;
	pid = fork();
	if (pid == 0) {
		fd = openat(AT_FDCWD, "/etc/hostname", O_RDONLY | O_CLOEXEC);
		_exit(3);
	}
	if (pid < 0 || waitpid(pid, NULL, 0) != pid)
		return 1;
	if (pthread_create(&th, NULL, thread_main, NULL) || pthread_join(th, NULL))
		return 1;
	execl("/bin/true", "true", (char *)NULL);
	return 1;
}
