/*
 * interpose.c - the glibc functions the library defines in the tool, and
 * its start: syscall (SYS_bpf and SYS_perf_event_open are answered here
 * and never reach the kernel; every other call passes through), ioctl on
 * the library's perf events, mmap of maps and perf buffers, epoll_ctl
 * (the object's eventfd is watched in its place, edge-triggered, as the
 * kernel wakes a perf buffer per record) and epoll_wait, sleep, usleep,
 * nanosleep, pause (the tool waits for records: the session starts).
 * open (trace_pipe.c: trace_pipe, and tracefs's kprobe_events for
 * libbpf's legacy kprobes) and close (detach.c) are defined beside what
 * they serve.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "preload.h"

#define API __attribute__((visibility("default")))

/*
 * Recursive: the library's own close() (detach.c) looks objects up, at
 * times under the lock, and the session attaches uprobes under it, whose
 * resolution reads ELF files through libelf, whose mmap comes back here.
 */
static struct pl state = { .lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP };

struct pl *pl_state(void)
{
	return &state;
}

typedef long (*syscall_fn)(long, ...);

long pl_real_syscall(long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
	static syscall_fn fn;

	if (!fn)
		fn = (syscall_fn)dlsym(RTLD_NEXT, "syscall");
	return fn(nr, a1, a2, a3, a4, a5, a6);
}

static long result(long r)
{
	if (r < 0) {
		errno = (int)-r;
		return -1;
	}
	return r;
}

API long syscall(long nr, ...)
{
	long a[6];
	va_list ap;

	va_start(ap, nr);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (nr == SYS_bpf) {
		if (!state.vm)
			return result(-ENOSYS);
		return result(pl_bpf((int)a[0], (void *)a[1], (unsigned int)a[2]));
	}
	if (nr == SYS_perf_event_open) {
		if (!state.vm)
			return result(-ENOSYS);
		return result(pl_perf_event_open((void *)a[0], (int)a[1], (int)a[2], (int)a[3],
						 (unsigned long)a[4]));
	}
	return pl_real_syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

typedef int (*ioctl_fn)(int, unsigned long, ...);

API int ioctl(int fd, unsigned long req, ...)
{
	static ioctl_fn fn;
	unsigned long arg;
	va_list ap;
	int ret;

	va_start(ap, req);
	arg = va_arg(ap, unsigned long);
	va_end(ap);
	if (pl_perf_ioctl(fd, req, arg, &ret))
		return (int)result(ret);
	if (!fn)
		fn = (ioctl_fn)dlsym(RTLD_NEXT, "ioctl");
	return fn(fd, req, arg);
}

API void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	int handled;

	return pl_mmap(addr, len, prot, flags, fd, off, &handled);
}

API void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return mmap(addr, len, prot, flags, fd, off);
}

typedef int (*epoll_ctl_fn)(int, int, int, struct epoll_event *);

API int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	static epoll_ctl_fn fn;
	struct pl_obj *o = pl_obj_get(fd, PL_PERF);
	struct epoll_event et;

	if (!fn)
		fn = (epoll_ctl_fn)dlsym(RTLD_NEXT, "epoll_ctl");
	if (!o && (o = pl_obj_get(fd, PL_MAP)) &&
	    bpfvm_map__type(o->map) != BPFVM_MAP_TYPE_RINGBUF)
		o = NULL;
	if (!o)
		return fn(epfd, op, fd, ev);
	if (ev) {
		et = *ev;
		et.events |= EPOLLET;
		ev = &et;
	}
	return fn(epfd, op, o->efd, ev);
}

typedef int (*epoll_wait_fn)(int, struct epoll_event *, int, int);

API int epoll_wait(int epfd, struct epoll_event *evs, int max, int timeout)
{
	static epoll_wait_fn fn;

	if (!fn)
		fn = (epoll_wait_fn)dlsym(RTLD_NEXT, "epoll_wait");
	pl_session_maybe_start();
	return fn(epfd, evs, max, timeout);
}

/*
 * Tools that read their maps on a timer (syscount, runqlat) never wait on
 * epoll: their first sleep starts the session instead.
 */
typedef unsigned (*sleep_fn)(unsigned);
typedef int (*nanosleep_fn)(const struct timespec *, struct timespec *);

API unsigned sleep(unsigned seconds)
{
	static sleep_fn fn;

	if (!fn)
		fn = (sleep_fn)dlsym(RTLD_NEXT, "sleep");
	pl_session_maybe_start();
	return fn(seconds);
}

API int nanosleep(const struct timespec *req, struct timespec *rem)
{
	static nanosleep_fn fn;

	if (!fn)
		fn = (nanosleep_fn)dlsym(RTLD_NEXT, "nanosleep");
	pl_session_maybe_start();
	return fn(req, rem);
}

API int usleep(useconds_t usec)
{
	static int (*fn)(useconds_t);

	if (!fn)
		fn = (int (*)(useconds_t))dlsym(RTLD_NEXT, "usleep");
	pl_session_maybe_start();
	return fn(usec);
}

API int pause(void)
{
	static int (*fn)(void);

	if (!fn)
		fn = (int (*)(void))dlsym(RTLD_NEXT, "pause");
	pl_session_maybe_start();
	return fn();
}

static void on_printk(void *ctx, const char *text, size_t len)
{
	(void)ctx;
	pl_printk_out(text, len);
}

/* Tell `bpfvm exec` the library is in effect (or why not), then hide it from what the tool starts. */
static void handshake(const char *msg)
{
	const char *hs = getenv(PL_ENV_HANDSHAKE);
	int fd = hs ? atoi(hs) : -1;

	if (fd > 2) {
		if (write(fd, msg, strlen(msg)) < 0)
			fd = fd + 0;
		close(fd);
	}
}

__attribute__((constructor)) static void pl_init(void)
{
	const char *cmd = getenv(PL_ENV_TRACE), *pids = getenv(PL_ENV_PIDS);
	const char *tp = getenv(PL_ENV_TRACE_PIPE);
	BPFVM_OPTS(bpfvm_opts, vo, .trace = on_printk);

	state.debug = getenv(PL_ENV_DEBUG) && *getenv(PL_ENV_DEBUG);
	state.tp_write = -1;
	state.printk_fd = tp && atoi(tp) > 2 ? atoi(tp) : 2;
	state.trace_cmd = cmd ? strdup(cmd) : NULL;
	state.pids = pids ? strdup(pids) : NULL;
	state.vm = bpfvm__new(&vo);
	handshake(state.vm ? "ok\n" : "no instance\n");
	unsetenv("LD_PRELOAD");
	unsetenv(PL_ENV_TRACE);
	unsetenv(PL_ENV_PIDS);
	unsetenv(PL_ENV_HANDSHAKE);
	unsetenv(PL_ENV_TRACE_PIPE);
}
