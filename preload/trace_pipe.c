/*
 * trace_pipe.c - where bpf_printk lines go: to a tool that reads
 * /sys/kernel/tracing/trace_pipe itself (open, openat and fopen of that
 * path, or of debugfs's, give it the read end of a socket pair the
 * library writes the lines to; reading it consumes them, as the kernel's
 * does), else to `bpfvm exec --trace-pipe FILE`'s file, else to standard
 * error, in trace_pipe's format.  Opening trace_pipe, and poll(), are
 * waits for records: the session starts, as at epoll_wait.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/sockios.h>
#include <unistd.h>

#include "preload.h"

#define API __attribute__((visibility("default")))

static bool is_trace_pipe(const char *path)
{
	return path && (!strcmp(path, "/sys/kernel/tracing/trace_pipe") ||
			!strcmp(path, "/sys/kernel/debug/tracing/trace_pipe"));
}

/* The read end of a new socket pair for the tool, or -errno; the write end is the library's. */
static int open_pipe(int flags)
{
	struct pl *s = pl_state();
	int sv[2];

	if ((flags & O_ACCMODE) != O_RDONLY)
		return -EACCES;   /* trace_pipe is 0444 */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return -errno;
	shutdown(sv[0], SHUT_WR);
	shutdown(sv[1], SHUT_RD);
	if (!(flags & O_CLOEXEC))
		fcntl(sv[0], F_SETFD, 0);
	if (flags & O_NONBLOCK)
		fcntl(sv[0], F_SETFL, O_NONBLOCK);
	pthread_mutex_lock(&s->lock);
	if (s->tp_write >= 0)
		close(s->tp_write);   /* lines go to the newest reader, as the kernel's go to one */
	s->tp_write = sv[1];
	pthread_mutex_unlock(&s->lock);
	pl_session_maybe_start();
	return sv[0];
}

void pl_printk_out(const char *text, size_t len)
{
	struct pl *s = pl_state();
	int fd;

	pthread_mutex_lock(&s->lock);
	fd = s->tp_write;
	if (fd >= 0 && send(fd, text, len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 && errno == EPIPE) {
		close(fd);   /* the tool closed its trace_pipe: back to the file or stderr */
		s->tp_write = fd = -1;
	}
	pthread_mutex_unlock(&s->lock);
	if (fd < 0 && write(s->printk_fd, text, len) < 0)
		return;
}

bool pl_trace_pipe_pending(void)
{
	struct pl *s = pl_state();
	int n = 0;

	pthread_mutex_lock(&s->lock);
	if (s->tp_write >= 0 && ioctl(s->tp_write, SIOCOUTQ, &n))
		n = 0;
	pthread_mutex_unlock(&s->lock);
	return n > 0;
}

static int mode_flags(const char *mode)
{
	return (strchr(mode, '+') ? O_RDWR : mode[0] == 'r' ? O_RDONLY : O_WRONLY) |
	       (strchr(mode, 'e') ? O_CLOEXEC : 0);
}

typedef int (*open_fn)(const char *, int, ...);
typedef int (*openat_fn)(int, const char *, int, ...);
typedef FILE *(*fopen_fn)(const char *, const char *);

enum { F_OPEN, F_OPEN64, F_OPENAT, F_OPENAT64 };

/*
 * open and openat, all four: trace_pipe is the library's, and so is
 * tracefs's kprobe_events opened to write (perf.c); every other path is
 * glibc's.
 */
static int any_open(int which, int dirfd, const char *path, int flags, mode_t mode)
{
	static const char *const names[] = { "open", "open64", "openat", "openat64" };
	static void *fns[4];
	int fd;

	if ((fd = pl_probe_events_open(path, flags)) >= 0)
		return fd;
	if (pl_state()->vm && is_trace_pipe(path)) {
		fd = open_pipe(flags);
		return fd < 0 ? (errno = -fd, -1) : fd;
	}
	if (!fns[which])
		fns[which] = dlsym(RTLD_NEXT, names[which]);
	if (which == F_OPEN || which == F_OPEN64)
		return ((open_fn)fns[which])(path, flags, mode);
	return ((openat_fn)fns[which])(dirfd, path, flags, mode);
}

/* The mode argument, there only with O_CREAT or O_TMPFILE. */
#define MODE_ARG(flags, mode)                                                   \
	do {                                                                    \
		va_list ap;                                                     \
		va_start(ap, flags);                                            \
		mode = (flags) & (O_CREAT | O_TMPFILE) ? va_arg(ap, mode_t) : 0; \
		va_end(ap);                                                     \
	} while (0)

API int open(const char *path, int flags, ...)
{
	mode_t mode;

	MODE_ARG(flags, mode);
	return any_open(F_OPEN, AT_FDCWD, path, flags, mode);
}

API int open64(const char *path, int flags, ...)
{
	mode_t mode;

	MODE_ARG(flags, mode);
	return any_open(F_OPEN64, AT_FDCWD, path, flags, mode);
}

API int openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode;

	MODE_ARG(flags, mode);
	return any_open(F_OPENAT, dirfd, path, flags, mode);
}

API int openat64(int dirfd, const char *path, int flags, ...)
{
	mode_t mode;

	MODE_ARG(flags, mode);
	return any_open(F_OPENAT64, dirfd, path, flags, mode);
}

#define FOPEN_LIKE(NAME)                                                                 \
	API FILE *NAME(const char *path, const char *mode)                               \
	{                                                                                \
		static fopen_fn fn;                                                      \
		FILE *f;                                                                 \
		int fd;                                                                  \
                                                                                         \
		if (pl_state()->vm && is_trace_pipe(path)) {                             \
			if ((fd = open_pipe(mode_flags(mode))) < 0) {                    \
				errno = -fd;                                             \
				return NULL;                                             \
			}                                                                \
			if (!(f = fdopen(fd, mode)))                                     \
				close(fd);                                               \
			return f;                                                        \
		}                                                                        \
		if (!fn)                                                                 \
			fn = (fopen_fn)dlsym(RTLD_NEXT, #NAME);                          \
		return fn(path, mode);                                                   \
	}

FOPEN_LIKE(fopen)
FOPEN_LIKE(fopen64)

API int poll(struct pollfd *fds, nfds_t n, int timeout)
{
	static int (*fn)(struct pollfd *, nfds_t, int);

	if (!fn)
		fn = (int (*)(struct pollfd *, nfds_t, int))dlsym(RTLD_NEXT, "poll");
	if (pl_state()->vm)
		pl_session_maybe_start();
	return fn(fds, n, timeout);
}
