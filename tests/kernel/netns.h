/*
 * netns.h - the two steps of the tests and benches that use network
 * namespaces of their own (test_kernel_xdp_live, bench_xdp_live): a
 * command run bounded in time with its output dropped, and entering a
 * namespace `ip netns add` made.
 */
#ifndef BPFVM_TESTS_NETNS_H
#define BPFVM_TESTS_NETNS_H

#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* system() of the formatted command, under `timeout 20`, quiet: its status. */
static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2), unused));
static int sh(const char *fmt, ...)
{
	char cmd[1024], full[1100];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	snprintf(full, sizeof(full), "timeout 20 %s >/dev/null 2>&1", cmd);
	return system(full);
}

/* Move the calling thread into network namespace ns (/run/netns/ns): 0 or -1. */
static inline int netns_enter(const char *ns)
{
	char path[64];
	int fd, err;

	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	err = setns(fd, CLONE_NEWNET);
	close(fd);
	return err;
}

#endif
