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
 * from it.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "uprobe.h"

/* What the SIGTRAP handler needs: the process's one agent, as its one handler. */
static struct {
	struct bpfvm_trace *t;
	int detach_fd;
	char msg[8192];
	struct bpfvm_log log;
} up = { .detach_fd = -1 };

struct bpfvm_log *agent_uprobe_log(void)
{
	up.log = (struct bpfvm_log){ up.msg, sizeof(up.msg), 0 };
	return &up.log;
}

static void on_sigtrap(int sig, siginfo_t *si, void *uc)
{
	/* the pipe's end: SI_SIGIO here (the kernel may also say POLL_IN or POLL_HUP) */
	if ((si->si_code == SI_SIGIO || si->si_code == POLL_IN || si->si_code == POLL_HUP) &&
	    si->si_fd == up.detach_fd && up.detach_fd >= 0) {
		bpfvm_trace__remove_uprobes(up.t);
		return;
	}
	if (bpfvm_trace__uprobe_trap(up.t, uc))
		return;
	signal(sig, SIG_DFL);    /* the program's own trap, with no handler of its own */
	raise(sig);
}

/* Own the pipe bpfvm trace keeps open: its end signals this process. */
static void watch_detach(void)
{
	const char *v = getenv("BPFVM_AGENT_DETACH");
	int fd = v ? atoi(v) : -1;

	unsetenv("BPFVM_AGENT_DETACH");
	if (fd < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) || fcntl(fd, F_SETSIG, SIGTRAP) ||
	    fcntl(fd, F_SETOWN, getpid()) || fcntl(fd, F_SETFL, O_ASYNC | O_NONBLOCK))
		return;
	up.detach_fd = fd;
}

int agent_uprobes_start(struct bpfvm_trace *t)
{
	struct sigaction sa = { .sa_sigaction = on_sigtrap, .sa_flags = SA_SIGINFO | SA_NODEFER };
	int n;

	up.t = t;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTRAP, &sa, NULL))
		return -1;
	up.msg[0] = '\0';
	up.log.len = 0;
	n = bpfvm_trace__place_uprobes(t);
	if (up.msg[0])
		fprintf(stderr, "bpfvm agent: %s", up.msg);
	if (n < 0) {
		fprintf(stderr, "bpfvm agent: cannot place the uprobes: %s\n", strerror(-n));
		return -1;
	}
	if (n > 0)
		watch_detach();
	return 0;
}
