/*
 * cmd_attach.c - `bpfvm attach [--session ID] (-p PID | -- COMMAND [ARGS...])`:
 * join a running `bpfvm exec -- TOOL` session from another terminal, so
 * that the tool's programs see COMMAND (started here, traced from its
 * exec on) or the running process PID.  The session is found by its
 * socket, $XDG_RUNTIME_DIR/bpfvm/session-ID.sock (else /run/bpfvm/), ID
 * being the tool's pid; with several sessions, --session says which.
 * The request is "pid N"; the session traces N and answers "ok", or
 * "error WHY".  COMMAND waits, forked, until it is traced, then execs;
 * bpfvm attach exits with its status.  With -p, bpfvm attach returns
 * when PID has exited.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"

#define REPLY_MS 10000
#define MAX_SESSIONS 16

struct attach_args {
	long session;   /* 0: the only one */
	long pid;
	char **command;
};

static void session_dir(char *buf, size_t size)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");

	snprintf(buf, size, "%s/bpfvm", xdg && *xdg ? xdg : "/run");
}

/* A connection to session id's socket, or -1 (a stale one, of a tool gone, is removed). */
static int connect_session(const char *dir, long id)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/session-%ld.sock", dir, id);
	if (fd >= 0 && !connect(fd, (struct sockaddr *)&addr, sizeof(addr)))
		return fd;
	if (errno == ECONNREFUSED)
		unlink(addr.sun_path);
	if (fd >= 0)
		close(fd);
	return -1;
}

/* The live sessions in dir: how many, their ids in ids. */
static int list_sessions(const char *dir, long *ids, int max)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)) && n < max) {
		long id;
		char tail[8];
		int fd;

		if (sscanf(e->d_name, "session-%ld%7s", &id, tail) != 2 || strcmp(tail, ".sock"))
			continue;
		if ((fd = connect_session(dir, id)) >= 0) {
			close(fd);
			ids[n++] = id;
		}
	}
	if (d)
		closedir(d);
	return n;
}

/* Connect to the session asked for, or the only one; -1 with a message. */
static int find_session(long want)
{
	char dir[PATH_MAX - 32], list[MAX_SESSIONS * 12] = "";
	long ids[MAX_SESSIONS];
	int n, fd;

	session_dir(dir, sizeof(dir));
	if (want) {
		if ((fd = connect_session(dir, want)) < 0)
			fprintf(stderr, "bpfvm attach: no session %ld in %s (is its bpfvm exec "
					"running?)\n", want, dir);
		return fd;
	}
	n = list_sessions(dir, ids, MAX_SESSIONS);
	if (n == 1)
		return connect_session(dir, ids[0]);
	if (!n) {
		fprintf(stderr, "bpfvm attach: no bpfvm exec session is running (none in %s): "
				"start one with bpfvm exec -- TOOL\n", dir);
		return -1;
	}
	for (int i = 0; i < n; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), " %ld", ids[i]);
	fprintf(stderr, "bpfvm attach: %d sessions are running (%s): choose one with "
			"--session ID\n", n, list + 1);
	return -1;
}

/* Ask the session to trace pid: 0, or 1 with its reason printed. */
static int ask(int fd, long pid)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char req[32], buf[512] = "";
	ssize_t got = 0;

	snprintf(req, sizeof(req), "pid %ld\n", pid);
	if (write(fd, req, strlen(req)) < 0 || poll(&p, 1, REPLY_MS) != 1 ||
	    (got = read(fd, buf, sizeof(buf) - 1)) <= 0) {
		fprintf(stderr, "bpfvm attach: the session did not answer\n");
		return 1;
	}
	buf[strcspn(buf, "\n")] = '\0';
	if (!strcmp(buf, "ok"))
		return 0;
	fprintf(stderr, "bpfvm attach: %s\n", !strncmp(buf, "error ", 6) ? buf + 6 : buf);
	return 1;
}

static int parse_args(int argc, char **argv, struct attach_args *a)
{
	static const struct option opts[] = {
		{ "session", required_argument, NULL, 's' }, { NULL, 0, NULL, 0 },
	};
	int c, end = cli_split_command(argc, argv, &a->command);

	optind = 1;
	while ((c = getopt_long(end, argv, "p:", opts, NULL)) != -1) {
		char *e;
		long v;

		if (c != 'p' && c != 's')
			return cli_usage("attach");
		v = strtol(optarg, &e, 10);
		if (*e || v <= 0 || v > INT32_MAX) {
			fprintf(stderr, "bpfvm attach: %s takes a process id, not '%s'\n",
				c == 'p' ? "-p" : "--session", optarg);
			return EXIT_USAGE;
		}
		*(c == 'p' ? &a->pid : &a->session) = v;
	}
	if (optind != end || (!a->pid == !(a->command && a->command[0])))
		return cli_usage("attach");
	return 0;
}

/* -p: once traced, until the process is gone. */
static int attach_pid(int fd, long pid)
{
	int pidfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
	struct pollfd p = { .fd = pidfd, .events = POLLIN };

	if (pidfd < 0) {
		fprintf(stderr, "bpfvm attach: pid %ld: %s\n", pid, strerror(errno));
		return 1;
	}
	if (ask(fd, pid))
		return 1;
	while (poll(&p, 1, -1) < 0 && errno == EINTR)
		;
	return 0;
}

/* -- COMMAND: forked, held on a pipe until traced, then exec'd; its exit status. */
static int attach_command(int fd, char **command)
{
	int gate[2], status;
	char go = 0;
	pid_t pid;

	if (pipe2(gate, O_CLOEXEC) || (pid = fork()) < 0) {
		fprintf(stderr, "bpfvm attach: %s\n", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		close(gate[1]);
		if (read(gate[0], &go, 1) != 1 || go != 'g')
			_exit(127);   /* not traced: never run untraced */
		execvp(command[0], command);
		fprintf(stderr, "bpfvm attach: cannot run %s: %s\n", command[0], strerror(errno));
		_exit(127);
	}
	close(gate[0]);
	signal(SIGINT, SIG_IGN);   /* Ctrl-C is the command's to take */
	if (ask(fd, pid) || write(gate[1], "g", 1) != 1) {
		close(gate[1]);
		waitpid(pid, NULL, 0);
		return 1;
	}
	close(gate[1]);
	close(fd);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return 1;
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

int cmd_attach(int argc, char **argv)
{
	struct attach_args a = { 0 };
	int err, fd;

	if ((err = parse_args(argc, argv, &a)))
		return err;
	if ((fd = find_session(a.session)) < 0)
		return 1;
	err = a.pid ? attach_pid(fd, a.pid) : attach_command(fd, a.command);
	close(fd);
	return err;
}
