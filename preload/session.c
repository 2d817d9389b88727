/*
 * session.c - the events: once the tool waits for records, a thread of the
 * library attaches every enabled program to the bpfvm trace point its perf
 * event or link names, starts the --trace command under bpfvm's ptrace
 * supervisor (or seizes the -p pids: the thread is their tracer, so it
 * starts them, runs them and waits for them itself), wakes the tool's
 * epoll when records arrive and, once everything traced has exited and
 * the tool has read every record, sends the tool SIGINT, as a user's
 * Ctrl-C at the end of the workload would.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "preload.h"

#define DRAIN_WAIT_MS 10000   /* how long the tool may take to read what is left */

static void on_event(void *ctx)
{
	(void)ctx;
	pl_wake_readers();
}

static void print_log(struct bpfvm_log *log)
{
	if (log->len)
		fprintf(stderr, "bpfvm exec: %.*s", (int)(log->len < log->size ? log->len : log->size - 1),
			log->buf);
	bpfvm_log__reset(log);
}

/*
 * The kernel would have attached it, so the tool would wait for records
 * that never come: it ends, the reason (the first line of the log) said.
 */
static void cannot_attach(struct bpfvm_log *log)
{
	size_t len = log->len < log->size ? log->len : log->size - 1;
	const char *nl = memchr(log->buf, '\n', len);

	fprintf(stderr, "bpfvm exec: %s cannot run: %.*s\n", program_invocation_short_name,
		(int)(nl ? (size_t)(nl - log->buf) : len), log->buf);
	_exit(1);
}

/*
 * Attach each program where it was put: on an enabled perf event (by
 * PERF_EVENT_IOC_SET_BPF or a perf link), or by a raw tracepoint link.
 */
static size_t attach_all(struct pl *s, struct bpfvm_log *log)
{
	size_t n = 0;

	for (size_t i = 0; i < s->nobjs; i++) {
		struct pl_obj *o = s->objs[i], *prog = NULL;

		if (o->kind == PL_LINK && !o->link_perf)
			prog = o->link_prog;
		else if (o->kind == PL_PERF && o->attached && o->enabled)
			prog = o->attached;
		if (!prog || o->detached)
			continue;
		o->attach_idx = (long)bpfvm_trace__attached(s->trace);
		if (bpfvm_trace__attach_prog(s->trace, prog->prog, prog->prog_type, o->where))
			cannot_attach(log);   /* ends the tool */
		n++;
	}
	return n;
}

static int start(struct pl *s, struct bpfvm_log *log)
{
	char *argv[] = { "/bin/sh", "-c", s->trace_cmd, NULL };
	int err = 0;

	if (s->trace_cmd)
		err = bpfvm_trace__start(s->trace, argv);
	for (char *p = s->pids, *end; !err && p && *p; p = *end ? end + 1 : end) {
		err = bpfvm_trace__attach_pid(s->trace, (int)strtol(p, &end, 10));
		if (end == p)
			break;
	}
	if (err)
		print_log(log);
	return err;
}

/*
 * A session with nothing of its own to trace: what `bpfvm attach` brings,
 * as it comes, for as long as the tool runs (a user ends it with Ctrl-C).
 */
static void serve_attached(struct pl *s, struct bpfvm_log *log)
{
	int status;

	for (;;) {
		if (!pl_attach_wait(1000))
			continue;
		pl_attach_serve(s);
		print_log(log);
		if (bpfvm_trace__pid(s->trace) > 0) {
			bpfvm_trace__run(s->trace, &status);
			print_log(log);
		}
	}
}

static void *session_main(void *arg)
{
	struct pl *s = arg;
	static char buf[8192];
	struct bpfvm_log log = { .buf = buf, .size = sizeof(buf) };
	BPFVM_OPTS(bpfvm_trace_opts, to, .mode = BPFVM_EXEC_JIT, .log = &log, .on_event = on_event,
		   .ctx = s, .on_wake = pl_attach_serve);
	struct timespec pause = { 0, 10 * 1000 * 1000 };
	sigset_t mask;
	int status;

	/* the tool's threads take its SIGINT, as they would a Ctrl-C: a waiting one wakes */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);

	if (!(s->trace = bpfvm_trace__new(&to))) {
		fprintf(stderr, "bpfvm exec: cannot start tracing: %s\n", strerror(errno));
		return NULL;
	}
	pthread_mutex_lock(&s->lock);
	size_t n = attach_all(s, &log);
	pthread_mutex_unlock(&s->lock);
	pl_debug("session: %zu programs attached\n", n);
	if (!pl_attach_listen() && !s->trace_cmd && !s->pids)
		fprintf(stderr, "bpfvm exec: session %d: ready; in another terminal, bpfvm attach "
				"[--session %d] -- COMMAND (or -p PID); Ctrl-C ends it\n",
			(int)getpid(), (int)getpid());
	if (!s->trace_cmd && !s->pids) {
		serve_attached(s, &log);   /* until the tool exits */
		return NULL;
	}
	if (!start(s, &log)) {
		bpfvm_trace__run(s->trace, &status);
		print_log(&log);
	}
	for (int waited = 0; waited < DRAIN_WAIT_MS && (pl_wake_readers() | pl_trace_pipe_pending());
	     waited += 10)
		nanosleep(&pause, NULL);
	kill(getpid(), SIGINT);
	return NULL;
}

void pl_session_maybe_start(void)
{
	struct pl *s = pl_state();
	bool any = false;

	if (__atomic_load_n(&s->started, __ATOMIC_ACQUIRE))
		return;
	pthread_mutex_lock(&s->lock);
	/* a tool whose programs all stayed unloaded (statsnoop here) waits all the same */
	for (size_t i = 0; i < s->nobjs && !any; i++)
		any = s->objs[i]->kind == PL_MAP || s->objs[i]->kind == PL_PROG;
	if (any && !s->started) {
		__atomic_store_n(&s->started, true, __ATOMIC_RELEASE);
		if (pthread_create(&s->thread, NULL, session_main, s)) {
			fprintf(stderr, "bpfvm exec: cannot start the session thread\n");
			s->started = false;
		}
	}
	pthread_mutex_unlock(&s->lock);
}
