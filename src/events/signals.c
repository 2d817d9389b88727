/*
 * signals.c - what the signal tracepoints report that ptrace does not
 * say by itself:
 *
 *   - each traced process's signal actions (handler and flags, which
 *     signal_deliver reports), learnt from its rt_sigaction calls, copied
 *     at fork, reset at exec as the kernel resets them (caught -> SIG_DFL,
 *     flags 0; ignored stay ignored, read from /proc then);
 *   - signal_generate's result for a signal sent to a task, decided as the
 *     kernel's __send_signal_locked decides it for a task that is not
 *     traced (a traced one never ignores): ignored (SIG_IGN, or SIG_DFL of
 *     a signal whose default is to ignore it, and not blocked), already
 *     pending (a signal below SIGRTMIN pending where it would be queued),
 *     else delivered.  The target's masks are read from /proc;
 *   - which signals of the tree's own calls are on their way (a generate
 *     event out already), so that a delivery-stop of any other signal --
 *     from outside the tree, from the kernel (a fault, SIGPIPE), from a
 *     call bpfvm does not follow -- makes the generate event the kernel
 *     would have made when it was sent, with the sender (or the task
 *     itself) as the current task, as trace_signal_generate's call sites
 *     have it.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/procfs.h"
#include "signals.h"

#define NSIG_KERNEL 64
#define SIGRTMIN_KERNEL 32
#define MAX_SENT 64

struct sent {
	int32_t tid, tgid;
	int sig;
	bool group;
};

struct sigproc {
	int32_t tgid;
	uint64_t handler[NSIG_KERNEL];
	uint64_t flags[NSIG_KERNEL];
};

struct ev_sigtab {
	struct sigproc *p;
	size_t n, cap;
	struct sent sent[MAX_SENT];   /* oldest first */
	size_t nsent;
};

struct ev_sigtab *ev_sigtab_new(void)
{
	return calloc(1, sizeof(struct ev_sigtab));
}

void ev_sigtab_free(struct ev_sigtab *t)
{
	if (t)
		free(t->p);
	free(t);
}

static struct sigproc *find(struct ev_sigtab *t, int32_t tgid)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->p[i].tgid == tgid)
			return &t->p[i];
	return NULL;
}

/* tgid's entry, made (everything SIG_DFL) if it has none; NULL without memory. */
static struct sigproc *get(struct ev_sigtab *t, int32_t tgid)
{
	struct sigproc *p = find(t, tgid);

	if (p)
		return p;
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 8;
		struct sigproc *grown = realloc(t->p, cap * sizeof(*grown));

		if (!grown)
			return NULL;
		t->p = grown;
		t->cap = cap;
	}
	p = &t->p[t->n++];
	memset(p, 0, sizeof(*p));
	p->tgid = tgid;
	return p;
}

static bool has(uint64_t mask, int sig)
{
	return sig > 0 && sig <= NSIG_KERNEL && (mask >> (sig - 1) & 1);
}

void ev_sigtab_exec(struct ev_sigtab *t, int32_t tgid)
{
	struct sigproc *p = get(t, tgid);
	uint64_t ign = util_proc_status(tgid, "SigIgn:", 16);

	if (!p)
		return;
	for (int sig = 1; sig <= NSIG_KERNEL; sig++) {
		p->handler[sig - 1] = has(ign, sig) ? (uint64_t)(uintptr_t)SIG_IGN : 0;
		p->flags[sig - 1] = 0;
	}
}

void ev_sigtab_fork(struct ev_sigtab *t, int32_t parent, int32_t child)
{
	struct sigproc *c = get(t, child), *p = find(t, parent);

	if (c && p && c != p) {
		memcpy(c->handler, p->handler, sizeof(c->handler));
		memcpy(c->flags, p->flags, sizeof(c->flags));
	}
}

static void sent_drop(struct ev_sigtab *t, size_t i)
{
	memmove(&t->sent[i], &t->sent[i + 1], (t->nsent - i - 1) * sizeof(t->sent[0]));
	t->nsent--;
}

void ev_sigtab_gone(struct ev_sigtab *t, int32_t tgid)
{
	struct sigproc *p = find(t, tgid);

	if (p)
		*p = t->p[--t->n];
	for (size_t i = t->nsent; i-- > 0;)
		if (t->sent[i].tgid == tgid)
			sent_drop(t, i);
}

void ev_sigtab_sent(struct ev_sigtab *t, int32_t tid, int32_t tgid, int sig, bool group)
{
	if (t->nsent == MAX_SENT)
		sent_drop(t, 0);    /* one never delivered (still blocked, say): the oldest goes */
	t->sent[t->nsent++] = (struct sent){ tid, tgid, sig, group };
}

bool ev_sigtab_take_sent(struct ev_sigtab *t, int32_t tid, int32_t tgid, int sig)
{
	for (size_t i = 0; i < t->nsent; i++)
		if (t->sent[i].sig == sig &&
		    (t->sent[i].group ? t->sent[i].tgid == tgid : t->sent[i].tid == tid)) {
			sent_drop(t, i);
			return true;
		}
	return false;
}

/* Signals a fault raises in the faulting thread (force_sig_fault, force_sig_seccomp). */
static bool synchronous(int sig)
{
	return sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE || sig == SIGTRAP ||
	       sig == SIGSYS;
}

void ev_signal_origin(int sig, int code, int32_t sender, int32_t tid, int32_t tgid, int32_t self,
		      struct ev_sig_origin *o)
{
	bool from_user = code == SI_USER || code == SI_QUEUE || code == SI_TKILL;

	*o = (struct ev_sig_origin){ .tid = tid, .tgid = tgid, .target = tgid, .group = true,
				     .code = code };
	if (sender == self && (code == SI_USER || code == SI_TKILL)) {
		/* bpf_send_signal(_thread): SEND_SIG_PRIV, in the task's own context */
		o->code = SI_KERNEL;
		o->group = code == SI_USER;
	} else if (from_user && sender > 0 && sender != tgid) {
		o->tid = o->tgid = sender;    /* kill, sigqueue, tgkill by another process */
		o->group = code != SI_TKILL;
	} else if (sig == SIGCHLD && code > 0 && sender > 0) {
		o->tid = o->tgid = sender;    /* a child's stop or continue, sent in its context */
	} else if (code == SI_TKILL || code == SI_USER || ((code > 0 || code == SI_KERNEL) &&
							   synchronous(sig))) {
		o->group = false;    /* send_sig to current (SIGPIPE, SIGXFSZ), or a fault */
	}
	if (!o->group)
		o->target = tid;
}

void ev_sigtab_set(struct ev_sigtab *t, int32_t tgid, int sig, uint64_t handler, uint64_t flags)
{
	struct sigproc *p = sig > 0 && sig <= NSIG_KERNEL ? get(t, tgid) : NULL;

	if (p) {
		p->handler[sig - 1] = handler;
		p->flags[sig - 1] = flags;
	}
}

void ev_sigtab_get(struct ev_sigtab *t, int32_t tgid, int sig, uint64_t *handler,
		   uint64_t *flags)
{
	struct sigproc *p = find(t, tgid);

	*handler = *flags = 0;
	if (p && sig > 0 && sig <= NSIG_KERNEL) {
		*handler = p->handler[sig - 1];
		*flags = p->flags[sig - 1];
	}
}

/* The kernel's sig_kernel_ignore(): signals whose default action is to ignore them. */
bool ev_signal_default_ignored(int sig)
{
	return sig == SIGCONT || sig == SIGCHLD || sig == SIGWINCH || sig == SIGURG;
}

bool ev_signal_explicitly_ignored(int32_t tid, int sig)
{
	return has(util_proc_status(tid, "SigIgn:", 16), sig);
}

int ev_signal_result(int32_t tid, int sig, bool group)
{
	uint64_t ign = util_proc_status(tid, "SigIgn:", 16), cgt = util_proc_status(tid, "SigCgt:", 16);
	uint64_t blk = util_proc_status(tid, "SigBlk:", 16);
	bool dfl = !has(ign, sig) && !has(cgt, sig);

	if (sig != SIGKILL && !has(blk, sig) &&
	    (has(ign, sig) || (dfl && ev_signal_default_ignored(sig))))
		return EV_SIG_IGNORED;
	if (sig < SIGRTMIN_KERNEL && has(util_proc_status(tid, group ? "ShdPnd:" : "SigPnd:", 16), sig))
		return EV_SIG_ALREADY_PENDING;
	return EV_SIG_DELIVERED;
}
