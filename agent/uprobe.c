/*
 * uprobe.c - the agent's uprobes, uretprobes and USDT probes: placed in
 * the process by the library (bpfvm_trace__place_uprobes: jmps to
 * trampolines, int3s where a jmp is not safe) from the agent's
 * constructor, while the process has one thread.  The int3s' SIGTRAP
 * comes here (SA_NODEFER: a probed function called while a program runs
 * traps again, and runs no program, as in the kernel).
 *
 * Detaching: bpfvm trace keeps the write end of a pipe whose read end the
 * command inherits (BPFVM_AGENT_DETACH, its number); when bpfvm trace ends
 * in any way, SIGKILL included, the pipe's end is signalled to this
 * process as a SIGTRAP with its si_fd (F_SETSIG), and every patched
 * byte is put back: the command goes on untraced.  The first process that
 * loads the agent owns the pipe; the variable is taken out of its
 * environment so that programs it starts do not take the pipe's signal
 * from it.  A process forked from it (glibc's fork) opens the pipe anew
 * (/proc/self/fd: an open file description of its own, which F_SETOWN
 * can give to the child) and restores its own copy of the patches when
 * the pipe's end comes: the writer's close signals every reader's
 * description.
 *
 * Libraries: the library follows the dynamic linker itself (dlopen,
 * dlclose); the program's own munmap, mremap and mmap over code, and an
 * executable file it maps itself, go through the interposed functions
 * below (a raw system call does not).
 */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "uprobe.h"

/* What the SIGTRAP handler needs: the process's one agent, as its one handler. */
static struct {
	struct bpfvm_trace *t;
	struct bpfvm_syscall_sites *sites;
	int detach_fd;
	char msg[8192];
	struct bpfvm_log log;
} up = { .detach_fd = -1 };

struct bpfvm_log *agent_uprobe_log(void)
{
	up.log = (struct bpfvm_log){ up.msg, sizeof(up.msg), 0 };
	return &up.log;
}

/* What the log says, a line at a time after "bpfvm agent: ", then emptied. */
void agent_uprobe_said(void *ctx)
{
	static const char prefix[] = "bpfvm agent: ";
	size_t len = up.log.len < sizeof(up.msg) ? up.log.len : sizeof(up.msg) - 1;

	(void)ctx;
	for (size_t at = 0, end; at < len; at = end) {
		const char *nl = memchr(up.msg + at, '\n', len - at);

		end = nl ? (size_t)(nl - up.msg) + 1 : len;
		if (write(2, prefix, sizeof(prefix) - 1) < 0 || write(2, up.msg + at, end - at) < 0)
			break;
	}
	up.msg[0] = '\0';
	up.log.len = 0;
}

static void on_sigtrap(int sig, siginfo_t *si, void *uc)
{
	/* the pipe's end: SI_SIGIO here (the kernel may also say POLL_IN or POLL_HUP) */
	if ((si->si_code == SI_SIGIO || si->si_code == POLL_IN || si->si_code == POLL_HUP) &&
	    si->si_fd == up.detach_fd && up.detach_fd >= 0) {
		bpfvm_trace__remove_uprobes(up.t);
		return;
	}
	if (bpfvm_syscall_sites__trap(up.sites, uc) || bpfvm_trace__uprobe_trap(up.t, uc))
		return;
	signal(sig, SIG_DFL);    /* the program's own trap, with no handler of its own */
	raise(sig);
}

/*
 * The pipe's end signals this process (fd: its read end, of this
 * process's own description).  Its end already come (bpfvm trace gone
 * before): detached now.
 */
static int own_pipe(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (fcntl(fd, F_SETFD, FD_CLOEXEC) || fcntl(fd, F_SETSIG, SIGTRAP) ||
	    fcntl(fd, F_SETOWN, getpid()) || fcntl(fd, F_SETFL, O_ASYNC | O_NONBLOCK))
		return -1;
	up.detach_fd = fd;
	if (poll(&p, 1, 0) == 1 && (p.revents & POLLHUP))
		bpfvm_trace__remove_uprobes(up.t);
	return 0;
}

/* A fork child (atfork): the pipe opened anew, its description the child's alone. */
static void forked_child(void)
{
	char path[64];
	int fd;

	if (up.detach_fd < 0)
		return;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", up.detach_fd);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	close(up.detach_fd);
	up.detach_fd = -1;
	if (fd < 0 || own_pipe(fd)) {
		/* no way to learn of the detach: untraced from here, rather than forever */
		bpfvm_trace__remove_uprobes(up.t);
		if (fd >= 0)
			close(fd);
	}
}

/* Own the pipe bpfvm trace keeps open: its end signals this process, and each fork child. */
static void watch_detach(void)
{
	const char *v = getenv("BPFVM_AGENT_DETACH");
	int fd = v ? atoi(v) : -1;

	unsetenv("BPFVM_AGENT_DETACH");
	if (fd < 0 || own_pipe(fd))
		return;
	pthread_atfork(NULL, NULL, forked_child);
}

/* ---- the program's own unmappings and mappings of code ---------------------- */

__attribute__((visibility("default"))) int munmap(void *addr, size_t len)
{
	long r = syscall(SYS_munmap, addr, len);

	if (!r && up.t)
		bpfvm_trace__uprobes_unmapped(up.t, (uintptr_t)addr, len);
	return (int)r;
}

__attribute__((visibility("default"))) void *mmap(void *addr, size_t len, int prot, int flags,
						  int fd, off_t off)
{
	void *p = (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);

	if (p == MAP_FAILED || !up.t)
		return p;
	if ((flags & MAP_FIXED) && !(flags & MAP_FIXED_NOREPLACE))
		bpfvm_trace__uprobes_unmapped(up.t, (uintptr_t)p, len);
	if ((prot & PROT_EXEC) && fd >= 0)   /* a library mapped by hand: probed as dlopen's */
		bpfvm_trace__place_uprobes(up.t);
	return p;
}

__attribute__((visibility("default"), alias("mmap"))) void *mmap64(void *addr, size_t len,
								   int prot, int flags, int fd,
								   off_t off);

__attribute__((visibility("default"))) void *mremap(void *old, size_t old_len, size_t len,
						    int flags, ...)
{
	va_list ap;
	void *to, *p;

	va_start(ap, flags);
	to = flags & MREMAP_FIXED ? va_arg(ap, void *) : NULL;
	va_end(ap);
	p = (void *)syscall(SYS_mremap, old, old_len, len, flags, to);
	if (p != MAP_FAILED && up.t) {
		if (p != old)    /* moved: what was there is gone (sites in what moved too) */
			bpfvm_trace__uprobes_unmapped(up.t, (uintptr_t)old, old_len);
		else if (len < old_len)
			bpfvm_trace__uprobes_unmapped(up.t, (uintptr_t)old + len, old_len - len);
		if (flags & MREMAP_FIXED)
			bpfvm_trace__uprobes_unmapped(up.t, (uintptr_t)p, len);
	}
	return p;
}

int agent_uprobes_start(struct bpfvm_trace *t, struct bpfvm_syscall_sites *sites)
{
	struct sigaction sa = { .sa_sigaction = on_sigtrap, .sa_flags = SA_SIGINFO | SA_NODEFER };
	int n;

	up.t = t;
	up.sites = sites;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTRAP, &sa, NULL))
		return -1;
	up.msg[0] = '\0';
	up.log.len = 0;
	n = bpfvm_trace__place_uprobes(t);
	agent_uprobe_said(NULL);
	if (n < 0) {
		fprintf(stderr, "bpfvm agent: cannot place the uprobes: %s\n", strerror(-n));
		return -1;
	}
	if (n > 0)
		watch_detach();
	return 0;
}
