/*
 * records.h - the records tracepoints and kprobes hand their programs for
 * a real event (records.c), by attach point.  The names are the event
 * sources' (events/attach.h parses sections into a struct ev_attach), so
 * that every source lays out its contexts here.
 */
#ifndef BPFVM_HOOKS_RECORDS_H
#define BPFVM_HOOKS_RECORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ev_syscall_arg {
	const char *type;   /* as the kernel's format file gives it: "const char *" */
	const char *name;
};

struct ev_syscall {
	long nr;
	const char *name;   /* syscall_64.tbl's: "stat" */
	const char *event;  /* the tracepoint's: sys_enter_newstat */
	int nargs;          /* -1: no definition, no tracepoint */
	struct ev_syscall_arg args[6];
};

enum ev_point {
	EV_SYS_ENTER_TP,     /* tracepoint/syscalls/sys_enter_NAME */
	EV_SYS_EXIT_TP,      /* tracepoint/syscalls/sys_exit_NAME */
	EV_RAW_SYS_ENTER,    /* tracepoint/raw_syscalls/sys_enter */
	EV_RAW_SYS_EXIT,
	EV_RAWTP_SYS_ENTER,  /* raw_tracepoint/sys_enter */
	EV_RAWTP_SYS_EXIT,
	EV_SCHED_FORK,       /* tracepoint/sched/sched_process_fork */
	EV_SCHED_EXEC,
	EV_SCHED_EXIT,
	EV_KSYSCALL,         /* ksyscall/NAME, kprobe/__x64_sys_NAME: the wrapper's entry */
	EV_KRETSYSCALL,      /* kretsyscall/NAME, kretprobe/__x64_sys_NAME: its return */
	EV_SIG_GENERATE,     /* tracepoint/signal/signal_generate */
	EV_SIG_DELIVER,      /* tracepoint/signal/signal_deliver */
	EV_KFUNC,            /* kprobe/FUNC: a kernel function a system call enters (enum ev_kfunc) */
	EV_KRETFUNC,         /* kretprobe/FUNC: its return */
	EV_USER_PROBE,       /* uprobe, uretprobe, uprobe.multi, usdt (events/usym.c parses the target) */
};

/* The kernel functions a system call (or an exit) enters directly, whose kprobes bpfvm serves. */
enum ev_kfunc {
	EV_KF_NONE,
	EV_KF_UNLINKAT,      /* do_unlinkat(int dfd, struct filename *name) */
	EV_KF_OPENAT2,       /* do_sys_openat2(int dfd, const char __user *filename, struct open_how *how) */
	EV_KF_EXECVEAT,      /* do_execveat_common(int fd, struct filename *filename, argv, envp, flags) */
	EV_KF_EXIT,          /* do_exit(long code) */
};

struct ev_attach {
	enum ev_point point;
	long nr;                      /* EV_SYS_*_TP, EV_K*SYSCALL: the call; else -1 */
	const struct ev_syscall *sc;  /* EV_SYS_*_TP, EV_K*SYSCALL */
	uint16_t event_id;            /* common_type */
	enum ev_kfunc kfunc;          /* EV_KFUNC, EV_KRETFUNC */
	int uprobe;                   /* EV_USER_PROBE: its index among the traced uprobes */
};

/* Is a a kprobe on a system call's wrapper (where bpf_override_return may act)? */
static inline bool ev_attach_is_kprobe(const struct ev_attach *a)
{
	return a->point == EV_KSYSCALL || a->point == EV_KRETSYSCALL;
}
/* The context of a kprobe: x86-64's struct pt_regs, 21 registers. */
#define EV_PT_REGS_SIZE 168

/* What a record is made of. */
struct ev_record_in {
	int32_t tid;
	long nr;
	uint64_t args[6];
	int64_t ret;
	const void *regs;       /* raw tracepoints, ksyscall: the user's pt_regs (pointed to);
				 * uprobes: the thread's, which are the context */
	const char *comm;       /* sched: the thread's */
	int32_t child;          /* fork */
	int32_t old_tid;        /* exec */
	const char *filename;   /* exec */
	int32_t prio;           /* exit */
	bool group_dead;        /* exit */
	int32_t sig, si_errno, si_code;   /* signals */
	const char *target_comm;          /* signal_generate: the task signalled */
	int32_t target, group, result;
	uint64_t act_handler, act_flags;  /* signal_deliver */
	uint64_t kargs[6];                /* EV_KFUNC: the function's arguments (di, si, dx, cx, r8, r9) */
};

/*
 * Lay out a's record into rec (room bytes, of which the first clear are
 * zeroed first: ev_record_clear's); returns its size.
 */
size_t ev_record(const struct ev_attach *a, const struct ev_record_in *in, uint8_t *rec,
		 size_t room, size_t clear);
/*
 * What of a's record room ev_record must clear for a program that may read
 * its first readable bytes directly: the fields whole (a helper may copy
 * one) and those.  The rest it cannot reach, and clearing it (2 KiB) would
 * cost each event of a hot path.
 */
size_t ev_record_clear(const struct ev_attach *a, size_t readable, size_t room);
/*
 * Where a tracepoint's fields end (the kernel's trace_event_get_offsets:
 * the last field's offset plus its size), or a raw tracepoint's arguments
 * (8 bytes each): the furthest a program attached there may read of its
 * context, or the kernel refuses the attach.  0: no such bound (pt_regs).
 */
size_t ev_record_fields(const struct ev_attach *a);

#endif
