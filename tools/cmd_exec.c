/*
 * cmd_exec.c - `bpfvm exec [--trace COMMAND]... [-p PID]... [--trace-pipe FILE] -- TOOL [ARGS...]`:
 * run an unmodified libbpf tool (Debian's opensnoop, execsnoop, ...) on
 * bpfvm instead of the kernel's eBPF.  TOOL starts with
 * libbpfvm-preload.so (found beside the command's libbpfvm.so) in
 * LD_PRELOAD and the --trace command or -p pids in its environment; the
 * library answers the tool's bpf() and perf_event_open() calls, and runs
 * its programs on what --trace starts once the tool waits for records.
 * Without --trace or -p, the session waits for `bpfvm attach` (another
 * terminal) to bring commands or processes, until the user's Ctrl-C.
 *
 * Never silent: a TOOL the library cannot enter (statically linked, no
 * ELF interpreter; set-user-ID to another user, where the loader ignores
 * LD_PRELOAD; a Go program, whose bpf() calls bypass libc: see
 * <bpfvm/exec_target.h>) is refused before it runs, and a TOOL whose library does
 * not confirm it loaded (a line on a pipe, within HANDSHAKE_MS) is killed,
 * so that it never reaches the kernel's bpf().
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpfvm/exec_target.h>

#include "cli.h"
#include "preload_target.h"

#define PRELOAD_NAME "libbpfvm-preload.so"
#define HANDSHAKE_MS 10000
#define MAX_PIDS 64

#define MAX_TRACES 16

struct exec_args {
	const char *traces[MAX_TRACES];
	int ntraces;
	char *trace;   /* one --trace as given; several run side by side under one sh -c */
	const char *trace_pipe;   /* --trace-pipe FILE: bpf_printk's lines */
	char pids[MAX_PIDS * 12];
	char **tool;
};

static volatile sig_atomic_t child_pid;

static void forward(int sig)
{
	if (child_pid > 0)
		kill(child_pid, sig);
}

/*
 * Several --trace commands run at once, each in a subshell of one traced
 * sh -c, which waits for them all: the session ends when every one has.
 * Each stands on lines of its own, so a comment in one ends with it.
 */
static int join_traces(struct exec_args *a)
{
	size_t len = 8;

	if (a->ntraces <= 1) {
		a->trace = a->ntraces ? strdup(a->traces[0]) : NULL;
		return a->ntraces && !a->trace ? 1 : 0;
	}
	for (int i = 0; i < a->ntraces; i++)
		len += strlen(a->traces[i]) + 8;
	if (!(a->trace = malloc(len)))
		return 1;
	a->trace[0] = '\0';
	for (int i = 0; i < a->ntraces; i++)
		strcat(strcat(strcat(a->trace, "(\n"), a->traces[i]), "\n) &\n");
	strcat(a->trace, "wait");
	return 0;
}

static int parse_args(int argc, char **argv, struct exec_args *a)
{
	static const struct option opts[] = {
		{ "trace", required_argument, NULL, 't' },
		{ "trace-pipe", required_argument, NULL, 'T' }, { NULL, 0, NULL, 0 },
	};
	int c, end = cli_split_command(argc, argv, &a->tool), n = 0;

	optind = 1;
	while ((c = getopt_long(end, argv, "p:", opts, NULL)) != -1) {
		char *e;
		long pid;

		switch (c) {
		case 't':
			if (a->ntraces == MAX_TRACES) {
				fprintf(stderr, "bpfvm exec: at most %d --trace commands\n", MAX_TRACES);
				return EXIT_USAGE;
			}
			a->traces[a->ntraces++] = optarg;
			break;
		case 'T':
			a->trace_pipe = optarg;
			break;
		case 'p':
			pid = strtol(optarg, &e, 10);
			if (*e || pid <= 0 || pid > INT32_MAX || n == MAX_PIDS) {
				fprintf(stderr, "bpfvm exec: -p takes a process id, not '%s'\n", optarg);
				return EXIT_USAGE;
			}
			snprintf(a->pids + strlen(a->pids), sizeof(a->pids) - strlen(a->pids), "%s%ld",
				 n++ ? "," : "", pid);
			break;
		default: return cli_usage("exec");
		}
	}
	if (optind != end || !a->tool || !a->tool[0])
		return cli_usage("exec");
	return join_traces(a);
}

static void child(const struct exec_args *a, const char *tool, const char *preload, int hs,
		  int tp)
{
	const char *before = getenv("LD_PRELOAD");
	char num[16], list[2 * PATH_MAX];
	int fd = fcntl(hs, F_DUPFD, 10);   /* without O_CLOEXEC: the library writes it */

	/* what the user preloads already comes first (a sanitizer's runtime must) */
	snprintf(list, sizeof(list), "%s%s%s", before && *before ? before : "",
		 before && *before ? ":" : "", preload);
	snprintf(num, sizeof(num), "%d", fd);
	setenv("LD_PRELOAD", list, 1);
	setenv("BPFVM_EXEC_HANDSHAKE", num, 1);
	if (a->trace)
		setenv("BPFVM_EXEC_TRACE", a->trace, 1);
	if (a->pids[0])
		setenv("BPFVM_EXEC_PIDS", a->pids, 1);
	if (tp >= 0 && (tp = fcntl(tp, F_DUPFD, 10)) >= 0) {   /* the library writes it */
		snprintf(num, sizeof(num), "%d", tp);
		setenv("BPFVM_EXEC_TRACE_PIPE", num, 1);
	}
	execv(tool, a->tool);
	fprintf(stderr, "bpfvm exec: cannot run %s: %s\n", tool, strerror(errno));
	_exit(127);
}

/* Did the library say "ok" within HANDSHAKE_MS? */
static bool handshake(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char buf[32] = "";
	ssize_t n = 0;

	if (poll(&p, 1, HANDSHAKE_MS) == 1)
		n = read(fd, buf, sizeof(buf) - 1);
	return n >= 3 && !strncmp(buf, "ok\n", 3);
}

static int wait_tool(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return 1;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

static int run_tool(struct exec_args *a)
{
	char tool[PATH_MAX], preload[PATH_MAX], why_buf[512];
	const char *why;
	int hs[2], tp = -1;
	pid_t pid;

	if (preload_find_command(a->tool[0], tool, sizeof(tool))) {
		fprintf(stderr, "bpfvm exec: %s: no such program\n", a->tool[0]);
		return 1;
	}
	if ((why = bpfvm_exec_target__problem(AT_FDCWD, tool, NULL, why_buf, sizeof(why_buf)))) {
		fprintf(stderr, "bpfvm exec: %s cannot run on bpfvm: %s; not run (it would use the "
				"kernel's eBPF)\n", tool, why);
		return 1;
	}
	if (preload_find_library(PRELOAD_NAME, preload, sizeof(preload))) {
		fprintf(stderr, "bpfvm exec: " PRELOAD_NAME " is not beside the bpfvm command nor "
				"in ../lib: reinstall bpfvm\n");
		return 1;
	}
	if (a->trace_pipe &&
	    (tp = open(a->trace_pipe, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0) {
		fprintf(stderr, "bpfvm exec: --trace-pipe %s: %s\n", a->trace_pipe, strerror(errno));
		return 1;
	}
	if (pipe2(hs, O_CLOEXEC) || (pid = fork()) < 0) {
		fprintf(stderr, "bpfvm exec: %s\n", strerror(errno));
		return 1;
	}
	if (pid == 0)
		child(a, tool, preload, hs[1], tp);
	close(hs[1]);
	if (tp >= 0)
		close(tp);
	child_pid = pid;
	signal(SIGINT, forward);
	signal(SIGTERM, forward);
	if (!handshake(hs[0])) {
		kill(pid, SIGKILL);
		wait_tool(pid);
		fprintf(stderr, "bpfvm exec: " PRELOAD_NAME " did not load into %s: stopped it, so "
				"that it cannot reach the kernel's eBPF\n", tool);
		return 1;
	}
	close(hs[0]);
	if (!a->ntraces && !a->pids[0])   /* the library says when the session is ready */
		fprintf(stderr, "bpfvm exec: nothing traced yet: the session waits for bpfvm attach "
				"from another terminal\n");
	return wait_tool(pid);
}

int cmd_exec(int argc, char **argv)
{
	struct exec_args a = { 0 };
	int err;

	if ((err = parse_args(argc, argv, &a)))
		return err;
	err = run_tool(&a);
	free(a.trace);
	return err;
}
