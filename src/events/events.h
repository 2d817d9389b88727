/*
 * events.h - event sources: where real events come from, behind one
 * interface (struct ev_source_ops), so that a second back-end (an
 * in-process agent) plugs in without changing the attach points or the
 * command line.  A source starts a command (or takes running processes),
 * and hands out its events one at a time: the thread an event is about is
 * held where it is (a system call not yet run, a fork not yet returned)
 * until the consumer asks for the next event, so programs see the
 * arguments the call will get.  Every source leaves each process it
 * touched running when it is destroyed.
 *
 * The first back-end is the ptrace supervisor (ptrace.c).
 */
#ifndef BPFVM_EVENTS_EVENTS_H
#define BPFVM_EVENTS_EVENTS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/user.h>

#include <bpfvm/bpfvm.h>
#include <bpfvm/cbpf.h>

#include "usym.h"

#define EV_MAX_SYSCALL 512
#define EV_MAX_UPROBES 64

/* A uprobe, uretprobe or USDT probe a program is attached to (ubp.c places it). */
struct ev_uprobe {
	struct usym_target target;
	const char *prog;      /* the program's name, for messages */
	const char *sec;       /* its section */
};

/* Which system calls a source must stop at, from what programs are attached. */
struct ev_interest {
	uint8_t enter[EV_MAX_SYSCALL / 8];   /* run programs before the call */
	uint8_t exit[EV_MAX_SYSCALL / 8];    /* ...and after it */
	bool all_enter, all_exit;           /* raw_syscalls, raw_tracepoint sys_enter/exit */
	bool exec_filename;                 /* sched_process_exec: remember execve's path */
	bool signals;                       /* signal_generate/deliver: follow kill, sigaction */
	/*
	 * A seccomp policy (seccomp_policy.c): the calls of a started command
	 * stop and judge gives the filter's return value for each.
	 */
	uint32_t (*judge)(void *ctx, int32_t tid, int32_t tgid, const struct bpfvm_seccomp_data *sd);
	void *judge_ctx;
	/* ...and the policy's classic program, so that only calls it does not allow stop (or NULL) */
	const struct bpfvm_sock_filter *policy;
	unsigned policy_len;
	const struct ev_uprobe *uprobes;    /* uprobes to place, at most EV_MAX_UPROBES */
	size_t nuprobes;
};

static inline void ev_interest_set(uint8_t *set, long nr)
{
	if (nr >= 0 && nr < EV_MAX_SYSCALL)
		set[nr / 8] |= (uint8_t)(1u << (nr % 8));
}

static inline bool ev_interest_has(const uint8_t *set, long nr)
{
	return nr >= 0 && nr < EV_MAX_SYSCALL && (set[nr / 8] >> (nr % 8) & 1);
}

enum ev_kind {
	EV_SYS_ENTER,    /* a system call about to run: nr, regs */
	EV_SYS_EXIT,     /* ...and its result: nr, ret, regs */
	EV_FORK,         /* tid created child (a process or a thread) */
	EV_EXEC,         /* tid (now its process's leader) ran filename; old_tid was its tid */
	EV_EXIT,         /* tid is exiting (still there: its memory and comm can be read) */
	EV_GONE,         /* process tgid is gone: status is its wait status (no programs) */
	EV_SIGNAL_GENERATE, /* tid sent sig to target (its process when group): result */
	EV_SIGNAL_DELIVER,  /* sig is being delivered to tid, whose action is act_handler, act_flags */
	EV_UPROBE,       /* tid hit uprobes (mask probes) at func_ip, or returned (uret): regs */
};

struct ev_event {
	enum ev_kind kind;
	int32_t tid, tgid;
	long nr;
	int64_t ret;
	struct user_regs_struct regs;  /* EV_SYS_ENTER/EXIT (all zero where an event has none) */
	int32_t child;                 /* EV_FORK */
	int32_t old_tid;               /* EV_EXEC */
	const char *filename;          /* EV_EXEC; valid until the next event */
	int status;                    /* EV_EXIT: the exit code (wait status form); EV_GONE */
	bool group_dead;               /* EV_EXIT: the last thread of its process */
	int sig, si_errno, si_code;    /* EV_SIGNAL_* */
	int32_t target;                /* EV_SIGNAL_GENERATE */
	bool group;
	int result;
	uint64_t act_handler, act_flags; /* EV_SIGNAL_DELIVER: sa_handler, sa_flags */
	bool skipped;                  /* EV_SYS_EXIT of a call a seccomp policy did not let run */
	uint64_t probes;               /* EV_UPROBE: bit i for ev_interest.uprobes[i] */
	uint64_t func_ip;              /* ...the probed address (uretprobes: the function's) */
	bool uret;
	int32_t usdt_spec;             /* a USDT site: its spec id (the cookie), else -1 */
	const char *usdt_args;         /* ...and its note's argument string */
};

/* An x86-64 system call's six arguments, from its registers. */
static inline void ev_syscall_args(const struct user_regs_struct *r, uint64_t args[6])
{
	args[0] = r->rdi;
	args[1] = r->rsi;
	args[2] = r->rdx;
	args[3] = r->r10;
	args[4] = r->r8;
	args[5] = r->r9;
}

struct ev_source;

struct ev_source_ops {
	const char *name;
	/* The event's thread is the calling one (in process): its ids, comm and CPU are its own to ask. */
	bool in_process;
	/* Start argv[0] (PATH searched) under the source: 0 or a negative errno. */
	int (*start)(struct ev_source *src, char *const argv[], struct bpfvm_log *log);
	/*
	 * Take running process pid (every thread) under the source; may be
	 * called for several.  Not with start.  0, or -ESRCH / -EPERM / ...
	 * with a message naming pid.
	 */
	int (*seize)(struct ev_source *src, int32_t pid, struct bpfvm_log *log);
	/* Seize pid as it leaves the in-process agent (bpfvm_trace__adopt_pid); may be NULL. */
	int (*adopt)(struct ev_source *src, int32_t pid, uint64_t stub, struct bpfvm_log *log);
	/*
	 * The next event: 1 with *ev filled (its thread held until the next
	 * call), 0 when nothing is traced any more, a negative errno.
	 */
	int (*next)(struct ev_source *src, struct ev_event *ev);
	/* Make next() return 0 soon, everything detached.  Async-signal-safe. */
	void (*stop)(struct ev_source *src);
	/*
	 * The held thread tid's system call returns rc: at its enter event
	 * without running (skip), at its exit event instead of what it
	 * returned.  0, or a negative errno (the thread is gone).
	 */
	int (*set_return)(struct ev_source *src, int32_t tid, int64_t rc, bool skip);
	/* Copy size bytes at addr of tid's memory: 0 or -EFAULT. */
	int (*read_mem)(struct ev_source *src, int32_t tid, void *dst, uint64_t addr, uint64_t size);
	/* The same as the kernel's copy_from_user does it (read_mem is the helpers'
	 * nofault copy, which fails on a page not yet touched): 0 or -EFAULT. */
	int (*copy_user)(struct ev_source *src, int32_t tid, void *dst, uint64_t addr,
			 uint64_t size);
	/* The held thread tid's user registers, for events that carry none: 0 or a negative errno. */
	int (*get_regs)(struct ev_source *src, int32_t tid, struct user_regs_struct *regs);
	/* Detach from everything (processes keep running) and free. */
	void (*destroy)(struct ev_source *src);
};

struct ev_source {
	const struct ev_source_ops *ops;
	volatile int32_t root;   /* the process start began, 0 before */
	/* A signal interrupted the wait for events: called on the waiting thread (may seize). */
	void (*on_wake)(void *ctx);
	void *wake_ctx;
};

/* The ptrace supervisor (ptrace.c): NULL with errno. */
struct ev_source *ev_ptrace_new(const struct ev_interest *want);

/* The classic BPF seccomp filter for want (seccomp_filter.c): count instructions in *len. */
struct sock_filter;
struct sock_filter *ev_seccomp_filter(const struct ev_interest *want, unsigned short *len);

#endif
