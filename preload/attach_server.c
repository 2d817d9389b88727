/*
 * attach_server.c - two-terminal use: `bpfvm attach -- COMMAND` or
 * `bpfvm attach -p PID` in another terminal joins the tool's session.
 * The session listens on a unix socket, $XDG_RUNTIME_DIR/bpfvm (or
 * /run/bpfvm) /session-ID.sock, ID being the tool's pid; a request is a
 * line "pid N", from a process of the tool's own user (or root), and the
 * answer "ok" once N is traced, or "error WHY".  Only the session's thread
 * may trace (it is the tracer): a listener thread queues each request and
 * interrupts the session's wait for events with a signal, and the
 * session's on_wake (or its idle loop) seizes the pid.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "preload.h"

#define MAX_REQS 16
#define RESIGNAL_MS 50   /* a signal that came just before the wait began is sent again */

struct req {
	int pid, conn;
};

struct attach_server {
	int listen_fd, efd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	pthread_t listener, session;
	pthread_mutex_t lock;
	struct req q[MAX_REQS];
	int n;
};

static void on_wake_signal(int sig)
{
	(void)sig;   /* only interrupts the session's waitpid */
}

static void reply(int conn, const char *msg)
{
	if (write(conn, msg, strlen(msg)) < 0)
		msg = NULL;
	close(conn);
}

/* Read "pid N\n" from conn: N, or 0. */
static int read_request(int conn)
{
	char line[64] = "";
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct pollfd p = { .fd = conn, .events = POLLIN };
	ssize_t got = 0;

	if (getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cred, &len) ||
	    (cred.uid != 0 && cred.uid != getuid())) {
		reply(conn, "error not the session's user\n");
		return -1;
	}
	if (poll(&p, 1, 2000) == 1)
		got = read(conn, line, sizeof(line) - 1);
	if (got <= 4 || strncmp(line, "pid ", 4) || atoi(line + 4) <= 0) {
		reply(conn, "error malformed request (want: pid N)\n");
		return -1;
	}
	return atoi(line + 4);
}

static bool queued(struct attach_server *a)
{
	bool any;

	pthread_mutex_lock(&a->lock);
	any = a->n > 0;
	pthread_mutex_unlock(&a->lock);
	return any;
}

static void *listener_main(void *arg)
{
	struct attach_server *a = arg;
	sigset_t all;
	uint64_t one = 1;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);   /* the tool's signals are not ours */
	for (;;) {
		int conn = accept4(a->listen_fd, NULL, NULL, SOCK_CLOEXEC), pid;

		if (conn < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return NULL;
		}
		if ((pid = read_request(conn)) <= 0)
			continue;
		pthread_mutex_lock(&a->lock);
		if (a->n < MAX_REQS)
			a->q[a->n++] = (struct req){ pid, conn };
		else
			reply(conn, "error too many requests at once\n");
		pthread_mutex_unlock(&a->lock);
		if (write(a->efd, &one, sizeof(one)) < 0)
			continue;
		for (int waited = 0; queued(a) && waited < 10000; waited += RESIGNAL_MS) {
			struct timespec t = { 0, RESIGNAL_MS * 1000000L };

			pthread_kill(a->session, PL_WAKE_SIG);
			nanosleep(&t, NULL);
		}
	}
}

static void remove_socket(void)
{
	struct attach_server *a = pl_state()->attach;

	if (a && a->path[0])
		unlink(a->path);
}

int pl_attach_listen(void)
{
	struct pl *s = pl_state();
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct sigaction sa = { .sa_handler = on_wake_signal };   /* no SA_RESTART */
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	struct attach_server *a = calloc(1, sizeof(*a));
	char dir[sizeof(addr.sun_path) - 32];

	if (!a)
		return -ENOMEM;
	snprintf(dir, sizeof(dir), "%s", xdg && *xdg ? xdg : "/run");
	strcat(dir, "/bpfvm");
	mkdir(dir, 0700);
	snprintf(a->path, sizeof(a->path), "%s/session-%d.sock", dir, (int)getpid());
	memcpy(addr.sun_path, a->path, sizeof(a->path));
	pthread_mutex_init(&a->lock, NULL);
	a->session = pthread_self();
	a->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	a->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	unlink(a->path);
	if (a->listen_fd < 0 || a->efd < 0 || bind(a->listen_fd, (void *)&addr, sizeof(addr)) ||
	    chmod(a->path, 0600) || listen(a->listen_fd, 8) ||
	    pthread_create(&a->listener, NULL, listener_main, a)) {
		int err = errno;

		fprintf(stderr, "bpfvm exec: no session socket %s: %s (bpfvm attach cannot join)\n",
			a->path, strerror(err));
		unlink(a->path);
		close(a->listen_fd);
		close(a->efd);
		free(a);
		return -err;
	}
	sigaction(PL_WAKE_SIG, &sa, NULL);
	s->attach = a;
	atexit(remove_socket);
	pl_debug("session socket %s\n", a->path);
	return 0;
}

/* On the session's thread: trace each queued pid and answer. */
void pl_attach_serve(void *ctx)
{
	struct pl *s = ctx;
	struct attach_server *a = s->attach;
	struct req q[MAX_REQS];
	uint64_t v;
	int n;

	if (!a)
		return;
	if (read(a->efd, &v, sizeof(v)) < 0)
		v = 0;
	pthread_mutex_lock(&a->lock);
	n = a->n;
	memcpy(q, a->q, sizeof(q));
	a->n = 0;
	pthread_mutex_unlock(&a->lock);
	for (int i = 0; i < n; i++) {
		char msg[300];
		int err = s->trace ? bpfvm_trace__attach_pid(s->trace, q[i].pid) : -EINVAL;

		if (!err) {
			pl_debug("session: pid %d attached\n", q[i].pid);
			reply(q[i].conn, "ok\n");
			continue;
		}
		snprintf(msg, sizeof(msg), "error pid %d: %s\n", q[i].pid,
			 err == -EINVAL && s->trace_cmd
				 ? "this session traces its --trace command, whose filter takes "
				   "no other process: start bpfvm exec without --trace to attach"
				 : strerror(-err));
		reply(q[i].conn, msg);
	}
}

/* Idle: until a request comes (true), or timeout_ms pass. */
bool pl_attach_wait(int timeout_ms)
{
	struct attach_server *a = pl_state()->attach;
	struct pollfd p = { .fd = a ? a->efd : -1, .events = POLLIN };

	return a && poll(&p, 1, timeout_ms) == 1;
}
