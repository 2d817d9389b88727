/*
 * bpfvm/trace.h - programs of BPF objects run on the events of real
 * processes, as `bpfvm trace` does: attach programs by their sections
 * (libbpf's SEC() names: "tracepoint/syscalls/sys_enter_openat",
 * "raw_tp/sys_exit", "tracepoint/sched/sched_process_exec",
 * "ksyscall/unlinkat", "kretprobe/__x64_sys_openat"), start a
 * command, and run each attached program at each event of the command's
 * whole process tree, every thread included, with the kernel's record as
 * its context and the traced thread as "current" (pid, uid, comm, its
 * memory for bpf_probe_read_user).  No kernel eBPF, no root: the events
 * come from a ptrace supervisor with a seccomp filter that stops only the
 * system calls some program is attached to.
 *
 *   struct bpfvm_trace *t = bpfvm_trace__new(&opts);
 *   bpfvm_trace__attach(t, program);          -- each program; -EOPNOTSUPP: why in log
 *   bpfvm_trace__start(t, argv);              -- fork + exec under the supervisor
 *   bpfvm_trace__run(t, &status);             -- until everything traced has exited
 *   bpfvm_trace__destroy(t);
 *
 * bpf_printk lines go to the instance's trace callback (bpfvm_opts),
 * with the traced thread's comm and pid; ring buffers are read by the
 * caller (bpfvm_map__ringbuf_consume) from on_event.
 */
#ifndef BPFVM_TRACE_H
#define BPFVM_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bpfvm/bpfvm.h>
#include <bpfvm/cbpf.h>
#include <bpfvm/object.h>

#ifdef __cplusplus
extern "C" {
#endif

struct bpfvm_trace;

/* A seccomp policy's action other than ALLOW, at a traced call (bpfvm_trace__set_seccomp). */
struct bpfvm_trace_seccomp {
	int pid, tid;
	struct bpfvm_seccomp_data data;   /* as the kernel gives it to the filter */
	uint32_t ret;                     /* the filter's return value */
};

struct bpfvm_trace_opts {
	size_t sz;
	enum bpfvm_exec mode;     /* how programs run; checked unless verified */
	struct bpfvm_log *log;    /* why a program cannot attach, run errors */
	/* After each event's programs ran (consume ring buffers here); may be NULL. */
	void (*on_event)(void *ctx);
	/* A traced process exited: its pid and wait status; may be NULL. */
	void (*on_exit)(void *ctx, int pid, int status);
	void *ctx;
	/* A seccomp policy acted (not ALLOW), before its action is applied; may be NULL. */
	void (*on_seccomp)(void *ctx, const struct bpfvm_trace_seccomp *rec);
	/* The kernel's BTF, whose layouts the task_struct of bpf_get_current_task and
	 * the objects kprobes point to follow (as CO-RE's btf_custom_path); NULL:
	 * /sys/kernel/btf/vmlinux.  Read at the first need: it must stay valid until
	 * bpfvm_trace__destroy. */
	const char *btf_custom_path;
	/*
	 * A signal interrupted bpfvm_trace__run's wait for events (a handler
	 * installed without SA_RESTART, on the thread in run): called there,
	 * where bpfvm_trace__attach_pid may add a process to a running trace
	 * (of -p pids or attach_pid only, not a started command).  May be NULL.
	 */
	void (*on_wake)(void *ctx);
	/*
	 * The log was written outside a call of the caller's: in process, a
	 * uprobe that cannot be placed in a library loaded later.  May be NULL.
	 */
	void (*on_log)(void *ctx);
};

/* NULL with errno. */
BPFVM_API struct bpfvm_trace *bpfvm_trace__new(const struct bpfvm_trace_opts *opts);
/*
 * Attach a loaded program where its section says.  Before start.  Returns
 * 0, -EOPNOTSUPP when bpfvm has no such attach point (the reason, naming
 * the program, in the log), -EACCES (-EINVAL for a raw tracepoint) when a
 * verified program reads its context past the tracepoint's fields, as the
 * kernel refuses it, -EINVAL (not loaded, already started), -E2BIG (too
 * many), -ENOMEM.  Verify first: an unverified program is given its whole
 * record room, zeroed, at every event.
 */
BPFVM_API int bpfvm_trace__attach(struct bpfvm_trace *t, struct bpfvm_obj_prog *program);
/*
 * Enforce a classic seccomp filter (filter: bpfvm_cbpf_convert'ed and
 * verified; insns, cnt: its classic program as bpfvm_cbpf_seccomp_check
 * left it, or NULL, 0; both kept by the caller until destroy) on the
 * started command and its whole tree, from its exec on, instead of the
 * kernel.  The calls the filter does not allow stop (with insns: the
 * kernel runs a copy whose every other return is SECCOMP_RET_TRACE, so
 * allowed calls run at full speed; without, or when it returns A, every
 * call stops), and bpfvm runs filter on them and applies its action as
 * the kernel would (ALLOW;
 * LOG: allowed; ERRNO(n): not run, -n; TRACE, USER_NOTIF: -ENOSYS, as
 * without a tracer or listener; TRAP: SIGSYS with the kernel's siginfo;
 * KILL_THREAD, KILL_PROCESS: killed by the kernel with SIGSYS).  Calls it
 * does not allow run no programs.  Before start; not with attach_pid.
 * 0 or -EINVAL.
 */
BPFVM_API int bpfvm_trace__set_seccomp(struct bpfvm_trace *t, struct bpfvm_prog *filter,
				       const struct bpfvm_sock_filter *insns, size_t cnt);
/*
 * Attach a program made without an object (bpfvm_prog__new, as a bpf()
 * PROG_LOAD gives one) of prog_type (BPF_PROG_TYPE_*) at the point where
 * names as a section would: "tracepoint/syscalls/sys_enter_openat",
 * "raw_tracepoint/sys_enter", "ksyscall/kill", "uprobe/PATH:FUNC" or
 * "uretprobe/PATH:0xOFF" (a file offset, as the uprobe PMU's config2; not
 * uprobe.multi or usdt, whose specs come with an object).  Before start;
 * the same returns as bpfvm_trace__attach.
 */
BPFVM_API int bpfvm_trace__attach_prog(struct bpfvm_trace *t, struct bpfvm_prog *prog,
				       uint32_t prog_type, const char *where);
/* How many programs are attached. */
BPFVM_API size_t bpfvm_trace__attached(const struct bpfvm_trace *t);
/*
 * Detach the index-th attachment (in attach order: bpfvm_trace__attached()
 * before it was attached), as closing the last descriptor of a link does
 * in the kernel: from the next event on it runs no more (the events its
 * point stops stay stopped).  Any time, from any thread.  0 or -EINVAL.
 */
BPFVM_API int bpfvm_trace__detach(struct bpfvm_trace *t, size_t index);
/* Start argv[0] (searched in PATH) with argv traced.  0 or a negative errno. */
BPFVM_API int bpfvm_trace__start(struct bpfvm_trace *t, char *const argv[]);
/*
 * Trace running process pid instead (every thread, and what it starts
 * from now on); may be called for several pids, not with start, and
 * while bpfvm_trace__run runs only from its on_wake.  No
 * filter can be put into a running process, so when programs need system
 * calls, every call of these processes stops (PTRACE_SYSCALL): slower
 * than a started command.  Detaching leaves them as they were.  Returns
 * 0, or -ESRCH (no such process), -EPERM (traced already, Yama's
 * ptrace_scope, another user's), with a message naming pid in the log.
 */
BPFVM_API int bpfvm_trace__attach_pid(struct bpfvm_trace *t, int pid);
/*
 * Take process pid over from the in-process agent (`bpfvm trace --mode
 * agent`, whose seccomp filter it carries) as it is about to exec a
 * program the agent cannot enter: seized as attach_pid does, its events
 * left to its agent until it execs, then traced with every call stopping;
 * the calls the agent's filter traps (attached ones, execve,
 * rt_sigaction of SIGSYS) are made as if from stub, the agent's page that
 * filter lets through.  Its descendants follow.  The same calling rules
 * and returns as attach_pid; -EINVAL for a stub other than an earlier
 * call's.
 */
BPFVM_API int bpfvm_trace__adopt_pid(struct bpfvm_trace *t, int pid, uint64_t stub);
/*
 * Run programs at events until every traced process has exited, or
 * bpfvm_trace__stop.  Returns 0 with the started command's wait status in
 * *status (-1 when it was not seen to exit: stopped and detached), or a
 * negative errno.  The first failing program run is logged and counted
 * (bpfvm_trace__errors), and tracing goes on.
 */
BPFVM_API int bpfvm_trace__run(struct bpfvm_trace *t, int *status);
/* The started command's pid (or the first -p pid), 0 before. */
BPFVM_API int bpfvm_trace__pid(const struct bpfvm_trace *t);
/*
 * Detach from everything (processes keep running): bpfvm_trace__run
 * returns.  A started command keeps its seccomp filter, so its attached
 * calls then fail with ENOSYS: bpfvm trace stops only for -p processes,
 * and passes SIGINT/SIGTERM on to a command it started instead.  Async-signal-safe.  Called from a signal handler on the thread
 * in bpfvm_trace__run (installed without SA_RESTART, as bpfvm trace's
 * SIGINT handler is), it takes effect at once; from another thread, at the
 * traced processes' next event.
 */
BPFVM_API void bpfvm_trace__stop(struct bpfvm_trace *t);
/* Program runs that failed so far. */
BPFVM_API uint64_t bpfvm_trace__errors(const struct bpfvm_trace *t);
/* Detaches (if running) and frees.  NULL is allowed. */
BPFVM_API void bpfvm_trace__destroy(struct bpfvm_trace *t);
/*
 * In process, without a source (the agent, libbpfvm-agent.so): the calling
 * thread's own system call nr with args, before it runs (enter) or after,
 * with its result ret: the attached programs run on the kernel's record
 * with this thread as the current task, whose ids are pid_tgid (tgid << 32
 * | tid, as bpf_get_current_pid_tgid gives them; 0: asked of the kernel).
 * Safe on several threads at once and in a signal handler (the record is
 * on the caller's stack).
 */
BPFVM_API void bpfvm_trace__syscall(struct bpfvm_trace *t, bool enter, long nr,
				    const uint64_t args[6], int64_t ret, uint64_t pid_tgid);
/*
 * In process (the agent): place the attached uprobes, uretprobes and USDT
 * probes in the calling process, whose memory and registers they read:
 * each probed function's entry patched with a jmp to a trampoline that
 * runs the programs, or, where that is not safe, an int3 whose SIGTRAP
 * the caller hands to bpfvm_trace__uprobe_trap (install that handler
 * first).  USDT semaphores are raised.  After the attaches, before other
 * threads exist if the jmps are wanted.  Returns how many addresses are
 * probed, or a negative errno; a probe that cannot be placed is said in
 * the log (the others are placed).  The first call also probes the dynamic
 * linker, so that probes land in each library it loads later (from the
 * moment it is mapped, in every thread) and are forgotten in each one it
 * unloads; calling again places what the mappings now allow.
 */
BPFVM_API int bpfvm_trace__place_uprobes(struct bpfvm_trace *t);
/*
 * A SIGTRAP of the calling process (the handler's ucontext_t): true when
 * it was a probe's, handled (the thread goes on from the context); false:
 * the program's own.
 */
BPFVM_API bool bpfvm_trace__uprobe_trap(struct bpfvm_trace *t, void *ucontext);
/*
 * Put back every byte bpfvm_trace__place_uprobes changed; no program runs
 * any more.  The process goes on (threads inside a trampoline, or
 * returning through one, finish through it).  Async-signal-safe.
 */
BPFVM_API void bpfvm_trace__remove_uprobes(struct bpfvm_trace *t);
/*
 * In process: [addr, addr + len) was unmapped (munmap, an mmap over it):
 * the probes placed there are forgotten, nothing written there, and
 * placed again when their file is mapped again.  Libraries the dynamic
 * linker loads and unloads are followed without it.  Async-signal-safe.
 */
BPFVM_API void bpfvm_trace__uprobes_unmapped(struct bpfvm_trace *t, uint64_t addr, uint64_t len);
/* What the attached programs need of system call nr: 1 its entry, 2 its exit (or both). */
BPFVM_API int bpfvm_trace__wants_syscall(const struct bpfvm_trace *t, long nr);

#ifdef __cplusplus
}
#endif

#endif
