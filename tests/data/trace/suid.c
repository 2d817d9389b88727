/*
 * suid.c - for `bpfvm trace`'s test of a traced process that execs a
 * setuid program and is killed: installed setuid to another user, it
 * opens /etc/hostname, prints its effective uid and kills itself with
 * SIGKILL.  What was recorded before must all be there, and bpfvm's exit
 * status is the kill's.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

int main(void)
{
	int fd = openat(AT_FDCWD, "/etc/hostname", O_RDONLY);

	printf("euid %d\n", (int)geteuid());
	fflush(stdout);
	if (fd >= 0)
		close(fd);
	kill(getpid(), SIGKILL);
	return 1;
}
