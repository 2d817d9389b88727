/*
 * unlink_kinds.c - the workload of the do_unlinkat comparison: in a new
 * directory it made its working directory, unlink() of a file (0) and of
 * a missing one (-ENOENT), unlinkat() of a file through a directory
 * descriptor (0), of an empty path (-ENOENT: getname refuses it), with an
 * invalid flag (-EINVAL, before do_unlinkat) and with AT_REMOVEDIR (the
 * directory: do_rmdir, not do_unlinkat).  Paths are relative, so that
 * every run names the same.  `unlink_kinds wait FD`: first read one byte
 * from FD (as workload.c).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int touch(const char *path)
{
	int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);

	return fd < 0 ? -1 : close(fd);
}

int main(int argc, char **argv)
{
	char dir[] = "/tmp/bpfvm_kunlink_XXXXXX";
	int dfd, ok = 1;
	char c;

	if (argc == 3 && !strcmp(argv[1], "wait")) {
		if (read(atoi(argv[2]), &c, 1) != 1)
			return 1;
		close(atoi(argv[2]));
	}
	if (!mkdtemp(dir) || chdir(dir) || touch("a") || touch("b") ||
	    (dfd = open(".", O_DIRECTORY | O_RDONLY | O_CLOEXEC)) < 0)
		return 1;
	ok &= syscall(SYS_unlink, "a") == 0;
	ok &= syscall(SYS_unlink, "missing") == -1;
	ok &= unlinkat(dfd, "b", 0) == 0;
	ok &= unlinkat(AT_FDCWD, "", 0) == -1;
	ok &= unlinkat(AT_FDCWD, "b", 0x1) == -1;
	ok &= chdir("/") == 0 && unlinkat(AT_FDCWD, dir, AT_REMOVEDIR) == 0;
	return ok ? 0 : 2;
}
