/*
 * ptrace.c - the supervisor: an event source built on ptrace(2) and a
 * seccomp filter.  It starts a command under PTRACE_SEIZE with
 * PTRACE_O_TRACESECCOMP (the filter of seccomp_filter.c stops only the
 * system calls some program is attached to), TRACEFORK/VFORK/CLONE (every
 * process and thread of the tree is followed from its first instruction),
 * TRACEEXEC, TRACEEXIT and EXITKILL (bpfvm dying takes the processes it
 * started with it rather than leaving them stopped).  A call whose result
 * a program wants is resumed with PTRACE_SYSCALL after its seccomp stop,
 * so its exit stops too; every other stop resumes with PTRACE_CONT.
 *
 * Events are handed out one at a time while their thread waits (see
 * events.h).  A new child is reported by its creator's fork event before
 * anything of its own: if its first stop arrives first, it is held until
 * then.  A child returning from fork/clone gets its own sys_exit (ret 0)
 * when one is attached, as in the kernel.
 *
 * A held call is made to return a value (bpf_override_return) by setting
 * its registers: at its seccomp or syscall-enter stop orig_rax -1 skips
 * it and rax is what it returns (the kernel leaves rax alone for -1); at
 * its exit stop rax is the result.
 *
 * Signals (when a program needs signal_generate or signal_deliver): the
 * calls that send one (kill, tkill, tgkill) and rt_sigaction stop too; a
 * successful send is a generate event at the call's exit (before its
 * sys_exit), with the result the kernel would have given a target it
 * does not trace, decided at the call's entry (signals.c); a process's
 * last exit is its SIGCHLD's generate event, to its parent; a
 * signal-delivery-stop is a deliver event, with the action signals.c
 * followed, unless the action ignores it (the kernel would not have
 * queued it: only a traced task gets ignored signals), and the signal
 * goes on to the thread when it resumes.
 *
 * Reading a traced thread's memory behaves as the kernel's non-faulting
 * probe_read_user: a page not in its page tables is -EFAULT (pagemap),
 * and nothing is faulted in; then process_vm_readv, or /proc/PID/mem.
 *
 * Detaching (stop, destroy) interrupts every thread and detaches each,
 * bounded in time; the filter stays in the processes (seccomp filters
 * cannot be removed), so after a detach their attached calls fail with
 * ENOSYS, as the kernel answers SECCOMP_RET_TRACE without a tracer.
 */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <limits.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../util/log.h"
#include "../util/procfs.h"
#include "argsnap.h"
#include "events.h"
#include "handover.h"
#include "seccomp_policy.h"
#include "signals.h"
#include "ubp.h"

#define NR_EXECVE 59
#define NR_EXECVEAT 322
#define NR_RT_SIGACTION 13
#define NR_KILL 62
#define NR_TKILL 200
#define NR_TGKILL 234
#define NR_EXIT_GROUP 231
#define NR_MMAP 9
#define NR_MUNMAP 11
#define PROT_EXEC_BIT 4
#define MAP_FIXED_BIT 0x10
#define SI_TKILL_CODE (-6)
#define MAX_THREADS 65536
#define PT_OPTS (PTRACE_O_TRACESECCOMP | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | \
		 PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC | PTRACE_O_TRACEEXIT |     \
		 PTRACE_O_TRACESYSGOOD)
#define MAX_GROUP 32     /* processes of a group kill (kill(0), kill(-pgid)) reported */
#define QUEUE (MAX_GROUP + 8)
#define DETACH_WAIT_MS 2000

struct pt_thread {
	int32_t tid, tgid;
	bool attached;          /* its first stop has been seen */
	bool announced;         /* its creator's fork event was handed out (or it is the root) */
	bool want_exit;         /* resumed with PTRACE_SYSCALL: the next syscall stop is the exit */
	bool exiting;
	bool held;              /* stopped, waiting for us */
	bool in_sys;            /* seized processes: between a syscall's enter and exit stops */
	/*
	 * in_sys asked of the kernel at its first syscall stop: a thread seized
	 * inside a call (stopped first at its clone event, say) would take the
	 * call's exit stop for an entry, and the enter and exit of every call
	 * after it the wrong way round
	 */
	bool in_sys_known;
	long nr;                /* the call whose exit is wanted */
	long child_exit_nr;     /* a new child: its creator's call, for its own sys_exit */
	char *exec_file;        /* the path of the last execve it started */
	int32_t parent_tid;     /* the thread that created it (0: not seen) */
	int deliver_sig;        /* a signal to deliver when it resumes */
	bool zapped;            /* another thread's exit_group or exec kills it */
	bool kill_reported;     /* its fatal signal was a deliver event already */
	bool ubp_mmap;          /* an mmap of code: uprobes look at what it mapped */
	bool ubp_unmap;         /* munmap, mmap MAP_FIXED: uprobes there are gone */
	bool swapped;           /* its call's path arguments are copies (argsnap.c) until its exit */
	bool pending;           /* adopted: its agent serves it until it execs (pt_adopt) */
	struct hv_thread hv;    /* adopted: its calls the agent's filter traps (handover.c) */
	struct {                /* a signal call between its entry and exit */
		long nr;
		int sig, result;
		int32_t target;
		bool group, act;
		uint64_t handler, flags;
		unsigned nmembers;        /* a group kill: its processes, each with its result */
		int32_t members[MAX_GROUP];
		int results[MAX_GROUP];
	} sc;
	struct ev_trap trap;    /* --seccomp: a TRAP whose SIGSYS is on its way */
};

struct queued {
	struct ev_event ev;
	int32_t resume[2];      /* threads to resume once the event is handled (0: none) */
};

struct pt_source {
	struct ev_source base;
	struct ev_interest want;
	struct pt_thread *th;
	size_t nth, cap;
	volatile sig_atomic_t stopping;
	struct queued q[QUEUE];
	unsigned qhead, qlen;
	int32_t pending[2];     /* the handed-out event's threads, resumed at the next call */
	char filename[PATH_MAX];
	int err_pipe;           /* the child's exec errno, if exec failed */
	char *argv0;
	struct bpfvm_log *log;
	/*
	 * Processes taken with seize have no filter of ours: every system
	 * call stops (PTRACE_SYSCALL) when some program needs one.
	 */
	bool nofilter;
	bool nofilter_syscalls;  /* ...and some program needs system calls */
	uint64_t stub;           /* adopted processes: the agent's stub page (pt_adopt), or 0 */
	int mem_fd;
	int32_t mem_tid;
	int pagemap_fd;
	int32_t pagemap_tid;
	struct ev_sigtab *sigs;  /* signal actions, when signal events are wanted */
	struct ubp *ubp;         /* uprobes (ubp.c), when some are attached */
	struct ev_argsnap *snap; /* path arguments copied (argsnap.c), when a program checks some */
};

static struct pt_thread *find(struct pt_source *s, int32_t tid)
{
	for (size_t i = 0; i < s->nth; i++)
		if (s->th[i].tid == tid)
			return &s->th[i];
	return NULL;
}

static struct pt_thread *add(struct pt_source *s, int32_t tid, int32_t tgid)
{
	if (s->nth == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;
		struct pt_thread *grown = cap > MAX_THREADS ? NULL : realloc(s->th, cap * sizeof(*grown));

		if (!grown)
			return NULL;
		s->th = grown;
		s->cap = cap;
	}
	s->th[s->nth] = (struct pt_thread){ .tid = tid, .tgid = tgid, .nr = -1, .child_exit_nr = -1,
					    .sc.nr = -1 };
	return &s->th[s->nth++];
}

static void drop(struct pt_source *s, struct pt_thread *t)
{
	free(t->exec_file);
	*t = s->th[--s->nth];
}

/* A thread's process, from /proc (a new clone may be a thread or a process). */
static int32_t read_tgid(int32_t tid)
{
	int32_t tgid = (int32_t)util_proc_status(tid, "Tgid:", 10);

	return tgid > 0 ? tgid : tid;
}

static void resume(struct pt_source *s, int32_t tid, int sig)
{
	struct pt_thread *t = find(s, tid);

	if (!t)
		return;
	t->held = false;
	if (t->hv.due)
		hv_redirect(s->stub, tid, &t->hv);
	if (s->ubp && ubp_resume(s->ubp, tid, &sig))
		return;    /* stepping the probed instruction out of line */
	if (!sig && t->deliver_sig) {
		sig = t->deliver_sig;
		t->deliver_sig = 0;
	}
	ptrace(t->want_exit || s->nofilter_syscalls ? PTRACE_SYSCALL : PTRACE_CONT, tid, 0,
	       (void *)(long)sig);
}

static struct ev_event *queue(struct pt_source *s, enum ev_kind kind, struct pt_thread *t,
			      int32_t also)
{
	struct queued *q = &s->q[(s->qhead + s->qlen++) % QUEUE];

	memset(q, 0, sizeof(*q));
	q->ev.kind = kind;
	q->ev.tid = t->tid;
	q->ev.tgid = t->tgid;
	q->resume[0] = t->tid;
	q->resume[1] = also;
	t->held = true;
	return &q->ev;
}

/* The last queued event leaves its thread held: another event of that thread follows. */
static void hold_after_last(struct pt_source *s)
{
	s->q[(s->qhead + s->qlen - 1) % QUEUE].resume[0] = 0;
}

/* An fd of /proc/TID/NAME, kept for the last tid asked about. */
static int proc_fd(int *fd, int32_t *fd_tid, int32_t tid, const char *name)
{
	char path[64];

	if (*fd_tid != tid) {
		if (*fd >= 0)
			close(*fd);
		snprintf(path, sizeof(path), "/proc/%d/%s", tid, name);
		*fd = open(path, O_RDONLY | O_CLOEXEC);
		*fd_tid = tid;
	}
	return *fd;
}

/*
 * Are the pages of [addr, addr + size) in tid's page tables?  The kernel's
 * probe_read_user does not fault: a page not present (a file page a new
 * child has not touched yet, a string the call has not read yet) makes it
 * fail with -EFAULT, where process_vm_readv would fault the page in.
 * /proc/PID/pagemap's present bit tells; where it cannot be read, yes.
 */
static bool pages_present(struct pt_source *s, int32_t tid, uint64_t addr, uint64_t size)
{
	int fd = proc_fd(&s->pagemap_fd, &s->pagemap_tid, tid, "pagemap");
	uint64_t first = addr / 4096, last = (addr + size - 1) / 4096;
	uint64_t e[64];

	if (fd < 0)
		return true;
	for (uint64_t page = first; page <= last;) {
		size_t n = last - page + 1 < 64 ? (size_t)(last - page + 1) : 64;

		if (page > (uint64_t)INT64_MAX / 8 ||
		    pread(fd, e, n * 8, (off_t)(page * 8)) != (ssize_t)(n * 8))
			return false;
		for (size_t i = 0; i < n; i++)
			if (!(e[i] >> 63))
				return false;
		page += n;
	}
	return true;
}

/* The kernel's own copy_from_user: pages not present are faulted in. */
static int copy_live(struct ev_source *src, int32_t tid, void *dst, uint64_t addr, uint64_t size)
{
	struct pt_source *s = (struct pt_source *)src;
	struct iovec local = { dst, (size_t)size }, remote = { (void *)(uintptr_t)addr, (size_t)size };
	ssize_t n;
	int fd;

	if (!size)
		return 0;
	if (addr + size < addr)
		return -EFAULT;
	n = process_vm_readv(tid, &local, 1, &remote, 1, 0);
	if (n == (ssize_t)size)
		return 0;
	if (n >= 0 || errno == EFAULT || errno == ESRCH)
		return -EFAULT;
	/* process_vm_readv refused (seccomp, a kernel without it): /proc/PID/mem */
	fd = proc_fd(&s->mem_fd, &s->mem_tid, tid, "mem");
	if (fd < 0 || addr > (uint64_t)INT64_MAX)
		return -EFAULT;
	return pread(fd, dst, size, (off_t)addr) == (ssize_t)size ? 0 : -EFAULT;
}

static int read_live(struct ev_source *src, int32_t tid, void *dst, uint64_t addr, uint64_t size)
{
	if (size && (addr + size < addr || !pages_present((struct pt_source *)src, tid, addr, size)))
		return -EFAULT;
	return copy_live(src, tid, dst, addr, size);
}

/* What programs read: a path argument checked at a call's entry is its copy (argsnap.c). */
static int pt_read_mem(struct ev_source *src, int32_t tid, void *dst, uint64_t addr, uint64_t size)
{
	struct pt_source *s = (struct pt_source *)src;

	if (size && addr + size < addr)
		return -EFAULT;
	return s->snap ? ev_argsnap_read(s->snap, tid, dst, addr, size, true)
		       : read_live(src, tid, dst, addr, size);
}

static int pt_copy_user(struct ev_source *src, int32_t tid, void *dst, uint64_t addr,
			uint64_t size)
{
	struct pt_source *s = (struct pt_source *)src;

	if (size && addr + size < addr)
		return -EFAULT;
	return s->snap ? ev_argsnap_read(s->snap, tid, dst, addr, size, false)
		       : copy_live(src, tid, dst, addr, size);
}

/* A NUL-terminated string of tid's into buf (size bytes): 0 or -EFAULT. */
static int read_str(struct pt_source *s, int32_t tid, uint64_t addr, char *buf, size_t size)
{
	for (size_t done = 0; done + 1 < size;) {
		size_t page_left = 4096 - (addr + done) % 4096;
		size_t n = size - 1 - done < page_left ? size - 1 - done : page_left;

		if (pt_read_mem(&s->base, tid, buf + done, addr + done, n))
			return -EFAULT;
		if (memchr(buf + done, 0, n))
			return 0;
		done += n;
	}
	buf[size - 1] = '\0';
	return 0;
}

/* What sched_process_exec will name: bprm->filename of the execve being started. */
static void remember_exec(struct pt_source *s, struct pt_thread *t, const struct user_regs_struct *r)
{
	char path[PATH_MAX], full[PATH_MAX + 32];
	long dfd = (long)(int)r->rdi;

	free(t->exec_file);
	t->exec_file = NULL;
	if (read_str(s, t->tid, r->orig_rax == NR_EXECVE ? r->rdi : r->rsi, path, sizeof(path)))
		return;
	if (r->orig_rax == NR_EXECVE || path[0] == '/' || dfd == AT_FDCWD)
		snprintf(full, sizeof(full), "%s", path);
	else if (!path[0])
		snprintf(full, sizeof(full), "/dev/fd/%ld", dfd);
	else
		snprintf(full, sizeof(full), "/dev/fd/%ld/%s", dfd, path);
	t->exec_file = strdup(full);
}

/* exit_group and exec kill a process's other threads (zap_other_threads). */
static void zap_others(struct pt_source *s, const struct pt_thread *t, bool zap)
{
	for (size_t i = 0; i < s->nth; i++)
		if (s->th[i].tgid == t->tgid && s->th[i].tid != t->tid)
			s->th[i].zapped = zap;
}

/*
 * kill(0, sig) or kill(-pgid, sig): the kernel sends it to each process of
 * the group in turn, a generate event each: their results, decided now.
 */
static bool group_kill_enter(struct pt_thread *t)
{
	int32_t pgid = t->sc.target ? -t->sc.target : (int32_t)util_proc_stat(t->tgid, 5);

	t->sc.nmembers = pgid > 0 ? (unsigned)util_proc_pgrp(pgid, t->sc.members, MAX_GROUP) : 0;
	for (unsigned i = 0; i < t->sc.nmembers; i++)
		t->sc.results[i] = ev_signal_result(t->sc.members[i], t->sc.sig, true);
	return t->sc.nmembers > 0;
}

/*
 * A call that sends a signal (its target, and the result the kernel would
 * report, decided before it is sent) or sets an action (what it sets), or
 * kills the other threads of its process: true when its exit is to be
 * seen.
 */
static bool signal_call_enter(struct pt_source *s, struct pt_thread *t,
			      const struct user_regs_struct *r)
{
	long nr = (long)r->orig_rax;
	uint64_t act[2];

	t->sc.nr = -1;
	t->sc.act = false;
	if (nr == NR_RT_SIGACTION) {
		t->sc.sig = (int)r->rdi;
		t->sc.act = r->rsi && !pt_read_mem(&s->base, t->tid, act, r->rsi, sizeof(act));
		t->sc.handler = act[0];
		t->sc.flags = act[1];
	} else if (nr == NR_KILL || nr == NR_TKILL || nr == NR_TGKILL) {
		t->sc.sig = (int)(nr == NR_TGKILL ? r->rdx : r->rsi);
		t->sc.target = (int32_t)(nr == NR_TGKILL ? r->rsi : r->rdi);
		t->sc.group = nr == NR_KILL;
		t->sc.nmembers = 0;
		if (t->sc.sig <= 0 || t->sc.sig > 64 || t->sc.target == -1 ||
		    (t->sc.target <= 0 && nr != NR_KILL))
			return false;    /* no signal, or to every process (not followed) */
		if (t->sc.target <= 0 && !group_kill_enter(t))
			return false;
		if (t->sc.target > 0)
			t->sc.result = ev_signal_result(t->sc.target, t->sc.sig, t->sc.group);
	} else if (nr == NR_EXIT_GROUP || nr == NR_EXECVE || nr == NR_EXECVEAT) {
		zap_others(s, t, true);   /* undone if the exec fails */
		if (nr == NR_EXIT_GROUP)
			return false;
	} else {
		return false;
	}
	t->sc.nr = nr;
	return true;
}

/*
 * A generate event for t's signal call that sent t->sc.sig to target;
 * a traced target's delivery-stop is then not to make another.
 */
static void generated(struct pt_source *s, struct pt_thread *t, int32_t target, bool group,
		      int result)
{
	struct ev_event *ev = queue(s, EV_SIGNAL_GENERATE, t, 0);
	struct pt_thread *to = find(s, target);

	ev->sig = t->sc.sig;
	ev->si_code = t->sc.nr == NR_KILL ? SI_USER : SI_TKILL_CODE;
	ev->target = target;
	ev->group = group;
	ev->result = result;
	if (to && result != EV_SIG_ALREADY_PENDING && ev->sig != SIGKILL)
		ev_sigtab_sent(s->sigs, target, to->tgid, ev->sig, group);
}

/* Its exit (result ret): true when a generate event was queued. */
static bool signal_call_exit(struct pt_source *s, struct pt_thread *t, int64_t ret)
{
	if (t->sc.nr == NR_EXECVE || t->sc.nr == NR_EXECVEAT) {
		if (ret)
			zap_others(s, t, false);
		return false;
	}
	if (ret)
		return false;
	if (t->sc.nr == NR_RT_SIGACTION) {
		if (t->sc.act)
			ev_sigtab_set(s->sigs, t->tgid, t->sc.sig, t->sc.handler, t->sc.flags);
		return false;
	}
	if (t->sc.nmembers) {
		for (unsigned i = 0; i < t->sc.nmembers; i++) {
			generated(s, t, t->sc.members[i], true, t->sc.results[i]);
			hold_after_last(s);
		}
		return true;
	}
	generated(s, t, t->sc.target, t->sc.group, t->sc.result);
	return true;
}

/* The kernel's sig_kernel_stop() and sig_kernel_coredump() sets. */
static bool stop_signal(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

static bool coredump_signal(int sig)
{
	return sig == SIGQUIT || sig == SIGILL || sig == SIGTRAP || sig == SIGABRT || sig == SIGBUS ||
	       sig == SIGFPE || sig == SIGSEGV || sig == SIGXCPU || sig == SIGXFSZ || sig == SIGSYS;
}

/* A thread killed with its process: the kernel's deliver of SIGKILL (no siginfo: SI_USER). */
static void deliver_kill(struct pt_source *s, struct pt_thread *t)
{
	struct ev_event *ev = queue(s, EV_SIGNAL_DELIVER, t, 0);

	ev->sig = SIGKILL;
	t->kill_reported = true;
}

/*
 * The generate event of a signal no call of the tree was seen send (from
 * outside the tree, from the kernel), made at its delivery-stop, with the
 * current task the kernel's call site has (signals.c).
 */
static void generate_unseen(struct pt_source *s, struct pt_thread *t, int sig,
			    const siginfo_t *info, bool ignored)
{
	struct ev_sig_origin o;
	struct ev_event *ev;

	ev_signal_origin(sig, info->si_code, info->si_pid, t->tid, t->tgid, (int32_t)getpid(), &o);
	ev = queue(s, EV_SIGNAL_GENERATE, t, 0);
	ev->tid = o.tid;
	ev->tgid = o.tgid;
	ev->sig = sig;
	ev->si_errno = info->si_errno;
	ev->si_code = o.code;
	ev->target = o.target;
	ev->group = o.group;
	ev->result = ignored ? EV_SIG_IGNORED : EV_SIG_DELIVERED;
}

/*
 * A signal-delivery-stop: true when it is an event (the signal goes on at
 * resume): the generate event of a signal not seen sent, and the deliver
 * event, unless the action ignores it (the kernel would not have queued
 * it: only a traced task gets ignored signals).  A fatal signal of
 * default action that dumps no core is SIGKILL to every thread in the
 * kernel, which turns it into a group exit when it is sent to a task
 * nobody traces (complete_signal).
 */
static bool on_signal_stop(struct pt_source *s, struct pt_thread *t, int sig)
{
	siginfo_t info;
	uint64_t handler, flags;
	struct ev_event *ev;
	bool fatal, ignored, unseen;

	if (ptrace(PTRACE_GETSIGINFO, t->tid, 0, &info))
		return false;
	ev_sigtab_get(s->sigs, t->tgid, sig, &handler, &flags);
	ignored = handler == (uint64_t)(uintptr_t)SIG_IGN || (!handler && ev_signal_default_ignored(sig));
	unseen = !ev_sigtab_take_sent(s->sigs, t->tid, t->tgid, sig);
	if (unseen)
		generate_unseen(s, t, sig, &info, ignored);
	if (ignored) {
		if (unseen)
			t->deliver_sig = sig;   /* passed on when the generate event resumes it */
		return unseen;
	}
	if (unseen)
		hold_after_last(s);
	fatal = !handler && !stop_signal(sig);
	if (fatal && !coredump_signal(sig)) {
		deliver_kill(s, t);
	} else {
		ev = queue(s, EV_SIGNAL_DELIVER, t, 0);
		ev->sig = sig;
		ev->si_errno = info.si_errno;
		ev->si_code = info.si_code;
		ev->act_handler = handler;
		ev->act_flags = flags;
		t->kill_reported = fatal;
	}
	t->deliver_sig = sig;
	return true;
}

/*
 * The last thread of process t->tgid exits (wait status status): its
 * parent's SIGCHLD (the leader's exit signal), sent in this thread's
 * context as exit_notify sends it; none when the parent ignores SIGCHLD
 * (SIG_IGN: the child is reaped at once).  True when queued.
 */
static bool exit_signal(struct pt_source *s, struct pt_thread *t, int status)
{
	struct pt_thread *leader = find(s, t->tgid);
	int32_t parent = leader && leader->parent_tid > 0 ? leader->parent_tid : 0;
	int sig = (int)util_proc_stat(t->tgid, 38);
	char path[64];
	struct ev_event *ev;

	snprintf(path, sizeof(path), "/proc/%d", parent);
	if (!parent || access(path, F_OK))
		parent = (int32_t)util_proc_stat(t->tgid, 4);   /* ppid */
	if (sig <= 0 || sig > 64 || parent <= 0 ||
	    (sig == SIGCHLD && ev_signal_result(parent, SIGCHLD, true) == EV_SIG_IGNORED &&
	     ev_signal_explicitly_ignored(parent, SIGCHLD)))
		return false;
	ev = queue(s, EV_SIGNAL_GENERATE, t, 0);
	ev->sig = sig;
	ev->si_code = WIFSIGNALED(status) ? (WCOREDUMP(status) ? CLD_DUMPED : CLD_KILLED) : CLD_EXITED;
	ev->target = parent;
	ev->group = true;
	ev->result = ev_signal_result(parent, sig, true);
	if ((leader = find(s, parent)))
		ev_sigtab_sent(s->sigs, parent, leader->tgid, sig, true);
	return true;
}

/*
 * --seccomp: judge the call; true when it goes on.  A denied one still
 * fires its sys_exit in the kernel (not its sys_enter, nor kprobes on a
 * function that never ran): an exit event of its own, marked skipped.
 */
static bool policy_lets(struct pt_source *s, struct pt_thread *t)
{
	struct ev_denied d;
	struct ev_event *ev;
	bool native = true, go;
	unsigned live = 0;

	for (size_t i = 0; i < s->nth; i++)
		live += s->th[i].tgid == t->tgid && !s->th[i].exiting;
	go = ev_seccomp_enforce(&s->want, t->tid, t->tgid, live <= 1, &t->trap, &native, &d);
	if (go && native)
		return true;
	if (native && d.exit_fires && (s->want.all_exit || ev_interest_has(s->want.exit, d.nr))) {
		ev = queue(s, EV_SYS_EXIT, t, 0);
		ev->nr = d.nr;
		ev->ret = d.ret;
		ev->regs = d.regs;
		ev->skipped = true;
	} else {
		resume(s, t->tid, 0);   /* dealt with, or a call no program sees */
	}
	return false;
}

/*
 * Copy the path arguments of a call some program runs at the entry of,
 * and give the call the copies (argsnap.c): false when the call became
 * the mmap of the process's first slots (it comes back to its entry).
 */
static bool swap_paths(struct pt_source *s, struct pt_thread *t, const struct user_regs_struct *r)
{
	switch (ev_argsnap_enter(s->snap, t->tid, t->tgid, r)) {
	case EV_ARGSNAP_MAPPING:
		t->want_exit = true;
		t->nr = NR_MMAP;
		resume(s, t->tid, 0);
		return false;
	case EV_ARGSNAP_TAKEN:   /* the registers are put back at its exit */
		t->want_exit = true;
		t->nr = (long)r->orig_rax;
		t->swapped = true;
		return true;
	case EV_ARGSNAP_NONE:
		break;
	}
	return true;
}

static void on_seccomp(struct pt_source *s, struct pt_thread *t)
{
	struct user_regs_struct regs;
	bool got = !ptrace(PTRACE_GETREGS, t->tid, 0, &regs);
	long nr;

	/* a call that reran after its slots' mmap was judged at its first entry */
	if (s->want.judge && !(got && s->snap && ev_argsnap_rerun(s->snap, t->tid, &regs)) &&
	    !policy_lets(s, t))
		return;
	if (!got) {
		resume(s, t->tid, 0);
		return;
	}
	t->hv.due = hv_wanted(s->stub, &s->want, &regs);
	nr = (long)regs.orig_rax;
	if (s->snap && (s->want.all_enter || ev_interest_has(s->want.enter, nr)) &&
	    !swap_paths(s, t, &regs))
		return;
	if (s->want.exec_filename && (nr == NR_EXECVE || nr == NR_EXECVEAT))
		remember_exec(s, t, &regs);
	if (s->sigs && signal_call_enter(s, t, &regs)) {
		t->want_exit = true;
		t->nr = nr;
	}
	if (s->want.all_exit || ev_interest_has(s->want.exit, nr)) {
		t->want_exit = true;
		t->nr = nr;
	}
	if (s->ubp && nr == NR_MMAP && (regs.rdx & PROT_EXEC_BIT))
		t->ubp_mmap = true;
	if (s->ubp && (nr == NR_MUNMAP || (nr == NR_MMAP && (regs.r10 & MAP_FIXED_BIT))))
		t->ubp_unmap = true;
	if (t->ubp_mmap || t->ubp_unmap) {
		if (!t->want_exit)
			t->nr = nr;
		t->want_exit = true;
	}
	if (s->want.all_enter || ev_interest_has(s->want.enter, nr)) {
		struct ev_event *ev = queue(s, EV_SYS_ENTER, t, 0);

		ev->nr = nr;
		ev->regs = regs;
		return;
	}
	resume(s, t->tid, 0);
}

/* An adopted thread before its exec (its agent's): only an execve's exit is wanted. */
static void pending_enter(struct pt_source *s, struct pt_thread *t)
{
	struct user_regs_struct r;
	long nr;

	if (!ptrace(PTRACE_GETREGS, t->tid, 0, &r) &&
	    ((nr = (long)r.orig_rax) == NR_EXECVE || nr == NR_EXECVEAT)) {
		if (s->want.exec_filename)
			remember_exec(s, t, &r);
		t->want_exit = s->want.all_exit || ev_interest_has(s->want.exit, nr);
		t->nr = nr;
	}
	resume(s, t->tid, 0);
}

static void on_syscall_exit(struct pt_source *s, struct pt_thread *t)
{
	struct user_regs_struct regs;
	struct ev_event *ev;
	bool swapped = t->swapped;

	hv_undo(t->tid, &t->hv);
	if (t->pending) {   /* the agent ran its programs (a failed execve included) */
		t->want_exit = false;
		resume(s, t->tid, 0);
		return;
	}
	t->swapped = false;
	if (t->want_exit && s->snap && ev_argsnap_exit(s->snap, t->tid) == EV_ARGSNAP_RERUN)
		t->want_exit = false;     /* the slots are mapped: the call runs again from its entry */
	if (!t->want_exit || ptrace(PTRACE_GETREGS, t->tid, 0, &regs)) {
		t->want_exit = false;
		resume(s, t->tid, 0);
		return;
	}
	t->want_exit = false;
	if (swapped && !s->want.all_exit && !ev_interest_has(s->want.exit, t->nr) &&
	    t->sc.nr != t->nr && !t->ubp_mmap && !t->ubp_unmap) {
		resume(s, t->tid, 0);     /* its exit was stopped at for the registers alone */
		return;
	}
	if (t->ubp_unmap && regs.rax < (uint64_t)-4095)   /* rdi, rsi survive the call */
		ubp_unmapped(s->ubp, t->tgid, t->nr == NR_MUNMAP ? regs.rdi : regs.rax, regs.rsi);
	if (t->ubp_mmap || t->ubp_unmap) {   /* code mapped: a library some uprobe waits for? */
		t->ubp_unmap = false;
		if (t->ubp_mmap)
			ubp_rescan(s->ubp, t->tgid);
		t->ubp_mmap = false;
		if (!s->want.all_exit && !ev_interest_has(s->want.exit, t->nr)) {
			resume(s, t->tid, 0);
			return;
		}
	}
	if (t->sc.nr == t->nr && signal_call_exit(s, t, (int64_t)regs.rax))
		hold_after_last(s);   /* its generate event, then its sys_exit */
	t->sc.nr = -1;
	ev = queue(s, EV_SYS_EXIT, t, 0);
	ev->nr = t->nr;
	ev->ret = (int64_t)regs.rax;
	ev->regs = regs;
}

/* A child's first stop, once its creator's fork event is out: its own sys_exit, or go. */
static void first_stop(struct pt_source *s, struct pt_thread *c, struct ev_event **ev_out)
{
	struct user_regs_struct regs;

	c->announced = true;
	hv_undo(c->tid, &c->hv);   /* a fork made from the stub page returns there in the child too */
	if (c->child_exit_nr >= 0 && !ptrace(PTRACE_GETREGS, c->tid, 0, &regs)) {
		struct ev_event *ev = queue(s, EV_SYS_EXIT, c, 0);

		ev->nr = c->child_exit_nr;
		ev->ret = (int64_t)regs.rax;
		ev->regs = regs;
		if (ev_out)
			*ev_out = ev;
		return;
	}
	resume(s, c->tid, 0);
}

/*
 * New children held for their creator's fork event (handle) when no
 * thread that could have created them is left to report it: every thread
 * of their process (of the parent process, for a new process) that ran
 * has passed its exit or is gone, so the event will never come.  Let them
 * go.  (Seen in a Go program whose thread ended as a new one started.)
 */
static void release_orphans(struct pt_source *s)
{
	for (size_t i = 0; i < s->nth; i++) {
		struct pt_thread *c = &s->th[i];
		int32_t from = c->tgid;
		bool creator = false;

		if (!c->attached || c->announced || !c->held)
			continue;
		if (c->tid == c->tgid)
			from = (int32_t)util_proc_status(c->tid, "PPid:", 10);
		for (size_t k = 0; k < s->nth && !creator; k++)
			creator = k != i && s->th[k].tgid == from && s->th[k].announced &&
				  !s->th[k].exiting;
		if (!creator)
			first_stop(s, c, NULL);
	}
}

/*
 * The process of creator t's new child: a thread of t's own when the
 * clone's flags (in t's registers and memory, at its clone event) hold
 * CLONE_THREAD.  /proc only where they cannot be read: a new thread that
 * is killed at once (another thread's exit_group) may already be gone
 * from it, and would pass for a process of its own.
 */
static int32_t child_tgid(struct pt_source *s, struct pt_thread *t, int event, int32_t child)
{
	struct user_regs_struct r;
	uint64_t flags;

	if (event != PTRACE_EVENT_CLONE)
		return child;
	if (ptrace(PTRACE_GETREGS, t->tid, 0, &r))
		return read_tgid(child);
	if (r.orig_rax == SYS_clone)
		flags = r.rdi;
	else if (r.orig_rax != SYS_clone3 || copy_live(&s->base, t->tid, &flags, r.rdi, 8))
		return read_tgid(child);
	return flags & CLONE_THREAD ? t->tgid : child;
}

static void on_fork(struct pt_source *s, struct pt_thread *t, int event)
{
	unsigned long msg = 0;
	struct pt_thread *c;
	struct ev_event *ev;
	int32_t child, tgid, tid = t->tid;

	ptrace(PTRACE_GETEVENTMSG, tid, 0, &msg);
	child = (int32_t)msg;
	tgid = child_tgid(s, t, event, child);
	c = find(s, child);
	if (!c && !(c = add(s, child, tgid))) {
		resume(s, tid, 0);
		return;
	}
	c->tgid = tgid;   /* a child held before this event took its process from /proc */
	t = find(s, tid);   /* add may have moved the table */
	c->child_exit_nr = t->want_exit ? t->nr : -1;
	c->parent_tid = tid;
	c->pending = t->pending;
	c->hv.ip = t->hv.ip;
	c->hv.sp_moved = t->hv.sp_moved;
	if (s->sigs && c->tgid == child)
		ev_sigtab_fork(s->sigs, t->tgid, child);
	ubp_fork(s->ubp, tid, t->tgid, child, c->tgid != child, event == PTRACE_EVENT_VFORK);
	ev = queue(s, EV_FORK, t, 0);
	ev->child = child;
	if (c->attached)   /* its first stop came first and is held */
		first_stop(s, c, NULL);
}

/* Forget the /proc files kept open: after an exec or an exit they are another mm's. */
static void forget_proc_fds(struct pt_source *s)
{
	if (s->mem_fd >= 0)
		close(s->mem_fd);
	if (s->pagemap_fd >= 0)
		close(s->pagemap_fd);
	s->mem_fd = s->pagemap_fd = -1;
	s->mem_tid = s->pagemap_tid = -1;
}

static void on_exec(struct pt_source *s, struct pt_thread *t)
{
	unsigned long msg = 0;
	struct pt_thread *old;
	struct ev_event *ev;
	char path[64];
	int32_t tid = t->tid;
	ssize_t n;

	ptrace(PTRACE_GETEVENTMSG, tid, 0, &msg);
	forget_proc_fds(s);
	old = (int32_t)msg != t->tid ? find(s, (int32_t)msg) : NULL;
	if (old) {   /* a thread exec'd: it took its leader's id, and its state comes along */
		free(t->exec_file);
		t->exec_file = old->exec_file;
		old->exec_file = NULL;
		t->want_exit = old->want_exit;
		t->nr = old->nr;
		drop(s, old);
		t = find(s, tid);   /* drop moved the table's last entry */
	}
	if (t->exec_file) {
		snprintf(s->filename, sizeof(s->filename), "%s", t->exec_file);
	} else {
		snprintf(path, sizeof(path), "/proc/%d/exe", t->tid);
		n = readlink(path, s->filename, sizeof(s->filename) - 1);
		s->filename[n > 0 ? n : 0] = '\0';
	}
	if (s->sigs)
		ev_sigtab_exec(s->sigs, t->tgid);
	ev_argsnap_exec(s->snap, t->tgid);   /* an execve's path copy was of the old memory */
	t->swapped = false;
	t->pending = false;   /* the supervisor's from here on: a new program, given a SIGSYS handler */
	t->hv = (struct hv_thread){ .inject = s->stub ? HV_MMAP_DUE : HV_NONE };
	ubp_image(s->ubp, t->tgid, true);
	ev = queue(s, EV_EXEC, t, 0);
	ev->old_tid = (int32_t)msg;
	ev->filename = s->filename;
}

static void on_exit_stop(struct pt_source *s, struct pt_thread *t)
{
	unsigned long msg = 0;
	struct ev_event *ev;
	unsigned live = 0;

	ptrace(PTRACE_GETEVENTMSG, t->tid, 0, &msg);
	for (size_t i = 0; i < s->nth; i++)
		live += s->th[i].tgid == t->tgid && !s->th[i].exiting;
	t->exiting = true;
	t->want_exit = false;
	if (s->sigs && (t->zapped || WIFSIGNALED((int)msg)) && !t->kill_reported) {
		deliver_kill(s, t);   /* then its exit */
		hold_after_last(s);
	}
	ev = queue(s, EV_EXIT, t, 0);
	ev->status = (int)msg;
	ev->group_dead = live <= 1;
	release_orphans(s);
	if (s->sigs && ev->group_dead) {
		hold_after_last(s);
		if (!exit_signal(s, t, (int)msg))   /* none after all: EV_EXIT resumes */
			s->q[(s->qhead + s->qlen - 1) % QUEUE].resume[0] = t->tid;
	}
}

/* The child's errno if its exec failed (it then exits 127). */
static void report_exec_failure(struct pt_source *s)
{
	int e = 0;

	if (s->err_pipe >= 0 && read(s->err_pipe, &e, sizeof(e)) == (ssize_t)sizeof(e))
		log_printf(s->log, "%s: %s\n", s->argv0, strerror(e));
}

static void on_gone(struct pt_source *s, int32_t tid, int status)
{
	struct pt_thread *t = find(s, tid);
	int32_t tgid = t ? t->tgid : tid;
	struct ev_event *ev;
	struct pt_thread gone = { .tid = tid, .tgid = tgid };

	if (t)
		drop(s, t);
	release_orphans(s);
	forget_proc_fds(s);
	ev_argsnap_gone(s->snap, tid);
	ubp_gone(s->ubp, tid, tid == tgid);
	if (tid != tgid)
		return;
	if (s->sigs)
		ev_sigtab_gone(s->sigs, tgid);
	if (tid == s->base.root)
		report_exec_failure(s);
	ev = queue(s, EV_GONE, &gone, 0);
	ev->status = status;
	s->q[(s->qhead + s->qlen - 1) % QUEUE].resume[0] = 0;
}

/*
 * Without our filter, which checks it, is a syscall-enter-stop an x86-64
 * call?  A 32-bit one (int 0x80, a 32-bit program) numbers its calls
 * differently, x32 ones have bit 30 set: neither is an x86-64 tracepoint.
 */
static bool x86_64_call(int32_t tid)
{
	struct __ptrace_syscall_info info;

	if (ptrace(PTRACE_GET_SYSCALL_INFO, tid, sizeof(info), &info) <= 0)
		return true;    /* a kernel before 5.3: trust the registers */
	return info.arch == AUDIT_ARCH_X86_64 && !(info.entry.nr & 0x40000000u);
}

/* A SIGTRAP that is a uprobe's (ubp.c): true when handled. */
static bool on_uprobe_trap(struct pt_source *s, struct pt_thread *t)
{
	struct ev_event hit;

	switch (ubp_trap(s->ubp, t->tid, t->tgid, &hit)) {
	case UBP_EVENT:
		*queue(s, EV_UPROBE, t, 0) = hit;
		return true;
	case UBP_DONE:
		resume(s, t->tid, 0);
		return true;
	case UBP_NOT_OURS:
		break;
	}
	return false;
}

static void on_stop(struct pt_source *s, struct pt_thread *t, int status)
{
	int sig = WSTOPSIG(status), event = status >> 16;

	if (s->ubp && !event && sig == SIGTRAP && on_uprobe_trap(s, t))
		return;
	if (s->ubp && !event && sig != SIGTRAP && sig != (SIGTRAP | 0x80)) {
		siginfo_t si;

		if (!ptrace(PTRACE_GETSIGINFO, t->tid, 0, &si))
			ubp_signal(s->ubp, t->tid, &si);   /* a step's fault undoes it */
	}
	if (sig == (SIGTRAP | 0x80) && s->nofilter && !t->in_sys_known) {
		struct __ptrace_syscall_info info;

		t->in_sys_known = true;
		if (ptrace(PTRACE_GET_SYSCALL_INFO, t->tid, sizeof(info), &info) > 0)
			t->in_sys = info.op == 2;   /* PTRACE_SYSCALL_INFO_EXIT */
	}
	if (sig == (SIGTRAP | 0x80) && s->nofilter && !t->in_sys) {
		t->in_sys = true;    /* a syscall-enter-stop stands for the filter's stop */
		if (t->hv.inject && hv_inject_enter(s->stub, t->tid, &t->hv))
			resume(s, t->tid, 0);
		else if (t->pending)
			pending_enter(s, t);
		else if (x86_64_call(t->tid))
			on_seccomp(s, t);
		else
			resume(s, t->tid, 0);
	} else if (sig == (SIGTRAP | 0x80)) {
		t->in_sys = false;
		if (t->hv.inject && hv_inject_exit(s->stub, t->tid, &t->hv))
			resume(s, t->tid, 0);
		else
			on_syscall_exit(s, t);
	}
	else if (sig == SIGTRAP && event == PTRACE_EVENT_SECCOMP)
		on_seccomp(s, t);
	else if (sig == SIGTRAP && (event == PTRACE_EVENT_FORK || event == PTRACE_EVENT_VFORK ||
				    event == PTRACE_EVENT_CLONE))
		on_fork(s, t, event);
	else if (sig == SIGTRAP && event == PTRACE_EVENT_EXEC)
		on_exec(s, t);
	else if (sig == SIGTRAP && event == PTRACE_EVENT_EXIT)
		on_exit_stop(s, t);
	else if (event == PTRACE_EVENT_STOP && (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN ||
						 sig == SIGTTOU))
		ptrace(PTRACE_LISTEN, t->tid, 0, 0);    /* group stop: stay stopped until SIGCONT */
	else if (!event && sig == SIGSYS && t->trap.pending && ev_seccomp_trap_fix(t->tid, &t->trap) &&
		 !s->sigs)
		resume(s, t->tid, sig);   /* the policy's TRAP, as the kernel raises it */
	else if (event || !s->sigs || !on_signal_stop(s, t, sig))
		resume(s, t->tid, event == PTRACE_EVENT_STOP ? 0 : sig);  /* a signal: deliver it */
}

static void handle(struct pt_source *s, int32_t pid, int status)
{
	struct pt_thread *t = find(s, pid);

	if (WIFEXITED(status) || WIFSIGNALED(status)) {
		on_gone(s, pid, status);
		return;
	}
	if (!WIFSTOPPED(status))
		return;
	if (!t) {   /* a new child before its creator's fork event: hold it until then */
		t = add(s, pid, read_tgid(pid));
		if (t) {
			t->attached = true;
			t->held = true;
		}
		return;
	}
	if (!t->attached) {
		t->attached = true;
		first_stop(s, t, NULL);
		return;
	}
	on_stop(s, t, status);
}

static int elapsed_ms(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int)((now.tv_sec - since->tv_sec) * 1000 + (now.tv_nsec - since->tv_nsec) / 1000000);
}

/* Interrupt every thread and detach each at its next stop; give up after DETACH_WAIT_MS. */
static void detach_all(struct pt_source *s)
{
	struct timespec start;

	ubp_remove_all(s->ubp);
	for (size_t i = 0; i < s->nth; i++) {
		struct pt_thread *t = &s->th[i];

		if (t->held) {
			ubp_release_thread(s->ubp, t->tid);
			ev_argsnap_undo(s->snap, t->tid);
		}
		if (t->held && !ptrace(PTRACE_DETACH, t->tid, 0, 0))
			t->tid = -t->tid;    /* detached */
		else
			ptrace(PTRACE_INTERRUPT, t->tid, 0, 0);
	}
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (elapsed_ms(&start) < DETACH_WAIT_MS) {
		size_t left = 0;
		int status;
		int32_t pid;
		struct pt_thread *t;

		for (size_t i = 0; i < s->nth; i++)
			left += s->th[i].tid > 0;
		if (!left)
			break;
		pid = waitpid(-1, &status, __WALL | WNOHANG);
		if (pid < 0 && errno == ECHILD)
			break;
		if (pid <= 0) {
			nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
			continue;
		}
		t = find(s, pid);
		if (!t || !WIFSTOPPED(status)) {
			if (t)
				t->tid = -t->tid;
			continue;
		}
		if (s->ubp && (status >> 16) == PTRACE_EVENT_STOP &&
		    (util_proc_status(pid, "SigPnd:", 16) >> (SIGTRAP - 1) & 1)) {
			ptrace(PTRACE_CONT, pid, 0, 0);   /* a breakpoint's SIGTRAP comes next: take it */
			continue;
		}
		/* a signal caught on its way stays the process's; our own stops do not */
		int sig = WSTOPSIG(status);
		bool ours = sig == SIGTRAP || sig == (SIGTRAP | 0x80) || (status >> 16) == PTRACE_EVENT_STOP;

		ubp_release_thread(s->ubp, pid);
		ev_argsnap_undo(s->snap, pid);
		ptrace(PTRACE_DETACH, pid, 0, (void *)(long)(ours ? 0 : sig));
		t->tid = -t->tid;
	}
	while (s->nth)
		drop(s, &s->th[0]);
}

static int pt_next(struct ev_source *src, struct ev_event *ev)
{
	struct pt_source *s = (struct pt_source *)src;

	for (int i = 0; i < 2; i++)
		if (s->pending[i])
			resume(s, s->pending[i], 0);
	s->pending[0] = s->pending[1] = 0;
	for (;;) {
		int status;
		int32_t pid;

		if (s->stopping) {
			s->qlen = 0;
			detach_all(s);
			return 0;
		}
		if (s->qlen) {
			struct queued *q = &s->q[s->qhead];

			*ev = q->ev;
			s->pending[0] = q->resume[0];
			s->pending[1] = q->resume[1];
			s->qhead = (s->qhead + 1) % QUEUE;
			s->qlen--;
			return 1;
		}
		if (!s->nth)
			return 0;
		pid = waitpid(-1, &status, __WALL);
		if (pid < 0 && errno == EINTR) {
			if (src->on_wake)
				src->on_wake(src->wake_ctx);
			continue;
		}
		if (pid < 0) {
			int err = errno == ECHILD ? 0 : -errno;

			while (s->nth)
				drop(s, &s->th[0]);
			return err;
		}
		handle(s, pid, status);
	}
}

static void pt_stop(struct ev_source *src)
{
	struct pt_source *s = (struct pt_source *)src;

	s->stopping = 1;
	if (s->base.root > 0)   /* wake a waitpid that is already blocked */
		ptrace(PTRACE_INTERRUPT, s->base.root, 0, 0);
}

static void pt_destroy(struct ev_source *src)
{
	struct pt_source *s = (struct pt_source *)src;

	if (!s)
		return;
	if (s->nth)
		detach_all(s);
	free(s->th);
	free(s->argv0);
	if (s->err_pipe >= 0)
		close(s->err_pipe);
	forget_proc_fds(s);
	ev_sigtab_free(s->sigs);
	ev_argsnap_free(s->snap);
	ubp_free(s->ubp);
	free(s);
}

/* In the child, before exec: wait until seized, install the filter, run argv. */
static __attribute__((noreturn)) void child_main(int go, int err, const struct sock_fprog *prog,
						 char *const argv[])
{
	char c;
	int e;

	if (read(go, &c, 1) != 1)
		_exit(127);
	/* without CAP_SYS_ADMIN the kernel requires no_new_privs first */
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, prog) &&
	    (errno != EACCES || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	     syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, prog))) {
		e = errno;
	} else {
		execvp(argv[0], argv);
		e = errno;
	}
	if (write(err, &e, sizeof(e)) < 0)
		_exit(127);
	_exit(127);
}

/* The path copies, when some program checks a call with paths at its entry: 0 or -ENOMEM. */
static int snap_init(struct pt_source *s)
{
	const struct ev_argsnap_mem mem = { read_live, copy_live, &s->base };

	errno = 0;
	if (!s->snap && !(s->snap = ev_argsnap_new(&s->want, &mem, s->log)) && errno)
		return -errno;
	return 0;
}

static int pt_start(struct ev_source *src, char *const argv[], struct bpfvm_log *log)
{
	struct pt_source *s = (struct pt_source *)src;
	unsigned short len;
	struct ev_interest stops = s->want;
	struct sock_filter *f;
	struct sock_fprog prog;
	int go[2], err[2], e;
	pid_t pid;

	s->log = log;
	if (s->want.nuprobes && !s->ubp && !(s->ubp = ubp_new(s->want.uprobes, s->want.nuprobes, log)))
		return -ENOMEM;
	if (snap_init(s))
		return -ENOMEM;
	if (s->ubp) {
		ev_interest_set(stops.enter, NR_MMAP);   /* for libraries loaded later */
		ev_interest_set(stops.enter, NR_MUNMAP); /* ...and unloaded */
	}
	f = ev_seccomp_filter(&stops, &len);
	prog = (struct sock_fprog){ len, f };
	if (!f || !argv || !argv[0] || s->base.root || pipe2(go, O_CLOEXEC)) {
		free(f);
		return -EINVAL;
	}
	if (pipe2(err, O_CLOEXEC)) {
		e = -errno;
		close(go[0]);
		close(go[1]);
		free(f);
		return e;
	}
	pid = fork();
	if (pid == 0)
		child_main(go[0], err[1], &prog, argv);
	e = pid < 0 ? -errno : 0;
	free(f);
	close(go[0]);
	close(err[1]);
	s->err_pipe = err[0];
	if (!e && ptrace(PTRACE_SEIZE, pid, 0, (void *)(long)(PT_OPTS | PTRACE_O_EXITKILL))) {
		e = -errno;
		log_printf(log, "cannot trace %s (pid %d): %s\n", argv[0], pid, strerror(errno));
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	if (!e && !add(s, pid, pid))
		e = -ENOMEM;
	if (!e) {
		s->th[0].attached = s->th[0].announced = true;
		s->base.root = pid;
		s->argv0 = strdup(argv[0]);
	}
	if (write(go[1], "g", 1) != 1 && !e)
		e = -EIO;
	close(go[1]);
	return e;
}

/* Seize every thread of pid (the task list read until it stops growing). */
static int seize_threads(struct pt_source *s, int32_t pid)
{
	for (int round = 0; round < 3; round++) {
		char path[64];
		struct dirent *d;
		bool added = false;
		DIR *dir;

		snprintf(path, sizeof(path), "/proc/%d/task", pid);
		dir = opendir(path);
		if (!dir)
			return round ? 0 : -ESRCH;
		while ((d = readdir(dir))) {
			int32_t tid = (int32_t)atoi(d->d_name);
			struct pt_thread *t;

			if (tid <= 0 || find(s, tid))
				continue;
			if (ptrace(PTRACE_SEIZE, tid, 0, (void *)(long)PT_OPTS)) {
				int e = -errno;

				if (e == -ESRCH && tid != pid)
					continue;    /* a thread that ended meanwhile */
				/*
				 * A thread started since an earlier round by one seized then:
				 * already ours (PTRACE_O_TRACECLONE), its clone event on the way
				 */
				if (e == -EPERM && tid != pid &&
				    util_proc_status(tid, "TracerPid:", 10) == (uint64_t)getpid())
					continue;
				closedir(dir);
				return e;
			}
			t = add(s, tid, pid);
			if (!t) {
				closedir(dir);
				return -ENOMEM;
			}
			t->attached = t->announced = true;
			ptrace(PTRACE_INTERRUPT, tid, 0, 0);  /* stop once, to resume in our mode */
			added = true;
		}
		closedir(dir);
		if (!added)
			break;
	}
	return 0;
}

static int pt_seize(struct ev_source *src, int32_t pid, struct bpfvm_log *log)
{
	struct pt_source *s = (struct pt_source *)src;
	int e;

	s->log = log;
	if (pid <= 0 || (s->base.root && !s->nofilter))
		return -EINVAL;
	if (s->want.judge) {
		log_printf(log, "pid %d: a seccomp policy needs a command bpfvm starts (no filter can "
				"be put into a running process)\n", pid);
		return -EINVAL;
	}
	if (s->want.nuprobes && !s->ubp && !(s->ubp = ubp_new(s->want.uprobes, s->want.nuprobes, log)))
		return -ENOMEM;
	if (snap_init(s))
		return -ENOMEM;
	s->nofilter = true;
	s->nofilter_syscalls = s->want.all_enter || s->want.all_exit || s->want.exec_filename ||
			       s->want.signals || s->ubp;
	for (long nr = 0; nr < EV_MAX_SYSCALL; nr++)
		s->nofilter_syscalls |= ev_interest_has(s->want.enter, nr) ||
					ev_interest_has(s->want.exit, nr);
	e = seize_threads(s, pid);
	if (!e && !s->stub)
		ubp_image(s->ubp, pid, false);
	if (!e && s->sigs)
		ev_sigtab_exec(s->sigs, pid);   /* what /proc says: ignored ones; handlers are unknown */
	if (e == -ESRCH)
		log_printf(log, "pid %d: no such process\n", pid);
	else if (e == -EPERM)
		log_printf(log, "pid %d: cannot be traced (another tracer has it, Yama's "
				"ptrace_scope forbids it, or it is not ours): %s\n", pid, strerror(-e));
	else if (e)
		log_printf(log, "pid %d: cannot be traced: %s\n", pid, strerror(-e));
	if (!e && !s->base.root)
		s->base.root = pid;
	return e;
}

/*
 * A process of the in-process agent about to exec a program the agent
 * cannot enter (its thread waits until this returns): seized, but its
 * agent serves it until the exec (pending), then this supervisor, with
 * every call stopping (no filter of ours can be put in) and the agent's
 * filter's trapped calls made from its stub page (handover.c).
 */
static int pt_adopt(struct ev_source *src, int32_t pid, uint64_t stub, struct bpfvm_log *log)
{
	struct pt_source *s = (struct pt_source *)src;
	int e;

	if (!stub || (s->stub && s->stub != stub))
		return -EINVAL;
	if (find(s, pid))
		return 0;      /* ours since an exec that failed: still its agent's until one succeeds */
	s->stub = stub;
	if ((e = pt_seize(src, pid, log)))
		return e;
	s->nofilter_syscalls = true;   /* its execve, at least, must stop */
	for (size_t i = 0; i < s->nth; i++)
		if (s->th[i].tgid == pid)
			s->th[i].pending = true;
	return 0;
}

static int pt_set_return(struct ev_source *src, int32_t tid, int64_t rc, bool skip)
{
	struct user_regs_struct regs;

	(void)src;
	if (ptrace(PTRACE_GETREGS, tid, 0, &regs))
		return -errno;
	if (skip)
		regs.orig_rax = (unsigned long long)-1;
	regs.rax = (unsigned long long)rc;
	return ptrace(PTRACE_SETREGS, tid, 0, &regs) ? -errno : 0;
}

static int pt_get_regs(struct ev_source *src, int32_t tid, struct user_regs_struct *regs)
{
	(void)src;
	return ptrace(PTRACE_GETREGS, tid, 0, regs) ? -errno : 0;
}

static const struct ev_source_ops ptrace_ops = {
	.name = "ptrace",
	.start = pt_start,
	.seize = pt_seize,
	.adopt = pt_adopt,
	.next = pt_next,
	.stop = pt_stop,
	.set_return = pt_set_return,
	.read_mem = pt_read_mem,
	.copy_user = pt_copy_user,
	.get_regs = pt_get_regs,
	.destroy = pt_destroy,
};

struct ev_source *ev_ptrace_new(const struct ev_interest *want)
{
	struct pt_source *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->base.ops = &ptrace_ops;
	s->want = *want;
	s->err_pipe = -1;
	s->mem_fd = s->pagemap_fd = -1;
	s->mem_tid = s->pagemap_tid = -1;
	if (want->signals && !(s->sigs = ev_sigtab_new())) {
		free(s);
		return NULL;
	}
	return &s->base;
}
