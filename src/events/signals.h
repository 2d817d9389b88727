/*
 * signals.h - signal actions of traced processes and signal_generate's
 * result, as the kernel decides them (signals.c).
 */
#ifndef BPFVM_EVENTS_SIGNALS_H
#define BPFVM_EVENTS_SIGNALS_H

#include <stdbool.h>
#include <stdint.h>

/* signal_generate's result (the kernel's enum trace_signal_action_type) */
enum { EV_SIG_DELIVERED, EV_SIG_IGNORED, EV_SIG_ALREADY_PENDING };

struct ev_sigtab;

/* NULL without memory. */
struct ev_sigtab *ev_sigtab_new(void);
void ev_sigtab_free(struct ev_sigtab *t);
/* child (a new process) starts with parent's actions. */
void ev_sigtab_fork(struct ev_sigtab *t, int32_t parent, int32_t child);
/* tgid exec'd: caught signals back to SIG_DFL, flags 0; SIG_IGN from /proc. */
void ev_sigtab_exec(struct ev_sigtab *t, int32_t tgid);
void ev_sigtab_gone(struct ev_sigtab *t, int32_t tgid);
/* rt_sigaction(sig, {handler, flags}) of tgid succeeded. */
void ev_sigtab_set(struct ev_sigtab *t, int32_t tgid, int sig, uint64_t handler, uint64_t flags);
/* tgid's action for sig (SIG_DFL, 0 flags where unknown). */
void ev_sigtab_get(struct ev_sigtab *t, int32_t tgid, int sig, uint64_t *handler,
		   uint64_t *flags);
/* Is sig's default action to ignore it (SIGCHLD, SIGCONT, SIGURG, SIGWINCH)? */
bool ev_signal_default_ignored(int sig);
/* Is sig's action SIG_IGN in tid's process? */
bool ev_signal_explicitly_ignored(int32_t tid, int sig);
/* signal_generate's result for sig sent now to tid (to its process when group). */
int ev_signal_result(int32_t tid, int sig, bool group);

/*
 * sig was sent to thread tid of tgid (to the process: group) by a call
 * bpfvm follows, and its generate event is out: its delivery-stop is not
 * to make another.
 */
void ev_sigtab_sent(struct ev_sigtab *t, int32_t tid, int32_t tgid, int sig, bool group);
/* Thread tid of tgid stopped to take sig: was it one of those?  (Then it is forgotten.) */
bool ev_sigtab_take_sent(struct ev_sigtab *t, int32_t tid, int32_t tgid, int sig);

/* signal_generate's current task, target and code for a signal nobody in the tree was seen send */
struct ev_sig_origin {
	int32_t tid, tgid;   /* the current task of the event */
	int32_t target;      /* the task it was sent to (its process's leader when group) */
	bool group;
	int code;
};

/*
 * From the siginfo (code, sender: si_code, si_pid) of sig stopped for
 * delivery in thread tid of tgid; self: bpfvm's pid (what it sends is
 * bpf_send_signal's).
 */
void ev_signal_origin(int sig, int code, int32_t sender, int32_t tid, int32_t tgid, int32_t self,
		      struct ev_sig_origin *o);

#endif
