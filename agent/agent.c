/*
 * agent.c - libbpfvm-agent.so, the in-process agent of `bpfvm trace
 * --mode agent`: preloaded (LD_PRELOAD) into the traced command, it joins
 * the trace process's shared maps (bpfvm_opts.shared_maps_addr), loads the
 * same objects onto them (reuse_maps), verifies and attaches the programs
 * (all on system-call tracepoints), and catches exactly the attached
 * calls: a seccomp filter returns SECCOMP_RET_TRAP for them, except when
 * the call is made from the agent's own stub, and the SIGSYS handler runs
 * the sys_enter programs, makes the call from the stub, runs the sys_exit
 * programs and returns the result in the interrupted context.  Unattached
 * calls never trap.  After its first trap a call site is patched to jump
 * to the agent without a signal (<bpfvm/syscall_sites.h>: some 1 us an event
 * where the signal cost 8-14 on this machine).  Ring buffer records land
 * in the shared ring buffers, which `bpfvm trace` drains; bpf_printk lines
 * and each process entered (a pidfd, for its exit) go to it over a socket.
 * Uses the public API alone, as tools/.
 *
 * What bpfvm trace passes (environment, inherited by children):
 *   BPFVM_AGENT="FD ADDR STUB JIT CHAN"  the arena's memfd (not close-on-exec)
 *                                   and address, where the stub goes, 1: JIT,
 *                                   the socket to bpfvm trace (-1: none)
 *   BPFVM_AGENT_OBJECTS             object paths, one a line
 *   BPFVM_AGENT_PROGS               --prog names, one a line (none: all)
 *   BPFVM_AGENT_PRELOAD             what of LD_PRELOAD bpfvm trace put there
 *   BPFVM_AGENT_TRACER              bpfvm trace's pid (its supervisor's)
 * and for tests and measurements: BPFVM_AGENT_PATCH=0 (no patching: every
 * attached call traps), BPFVM_AGENT_STATS (traps and patched sites on
 * stderr at each process's exit).
 *
 * Why seccomp and not Syscall User Dispatch: dispatch traps every call
 * made outside the allowed range, so unattached calls would pay a signal
 * too (and an attached one pays the same signal: measured 7.4-10.4 us a
 * trapped getppid either way here), and it is neither inherited by new
 * threads nor kept by fork; a
 * filter traps only the attached calls, in every thread (TSYNC) and every
 * child.  Its one cost: a filter survives execve but the handler does not,
 * and the dynamic linker of the new program runs before the agent is
 * loaded again.  So execve is trapped too and followed only when the new
 * program will load the agent before any attached call can trap: it is
 * dynamically linked, not set-user/group-id, not Go (a script: its
 * interpreter; bpfvm_exec_target__problem, which bpfvm trace asks of the
 * command too), its environment still names
 * the agent, and no attached call is one the dynamic linker makes at
 * start.  Otherwise the process is handed over to bpfvm trace's
 * supervisor (hand_over): the execve waits until it is seized, then goes
 * on without the agent in LD_PRELOAD, and the supervisor follows the
 * program and its descendants, making the calls this filter traps as if
 * from the stub page (src/events/handover.c); only when bpfvm trace cannot
 * take it does the execve fail with EPERM and a message.  The stub sits
 * at a fixed address (beside the arena) so that the filter, made once,
 * lets every later program's agent (and the supervisor) through.
 *
 * Signals: SIGSYS's handler blocks nothing (SA_NODEFER, an empty mask), so
 * a signal arriving during the re-issued call interrupts it as the kernel
 * would (restarted from the stub with SA_RESTART, else EINTR; the sys_exit
 * programs then see the -EINTR the caller sees, where the kernel's see its
 * internal -ERESTART* code, and the signal's handler runs before them),
 * and the signal's handler may make attached calls itself: the handler
 * nests (records are on the stack).  While the programs run, signals are
 * blocked if the program has handlers (see programs()), so no handler
 * finds the thread inside them; should one still (a program's own
 * helper calls trapping), its call runs but its programs do not, as the
 * kernel skips a program that would recurse on its CPU (bpf_prog_active):
 * a program never nests in itself, so its map locks cannot deadlock.  fork re-issued from the handler returns in the child through
 * the same frame.  clone, clone3 and vfork (a new stack, or a shared one)
 * cannot be re-issued from a handler and are refused at attach time.
 */
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <poll.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include <bpfvm/exec_target.h>
#include <bpfvm/maps.h>
#include <bpfvm/object.h>
#include <bpfvm/syscall_sites.h>
#include <bpfvm/trace.h>

#include "../tools/cli.h"
#include "../tools/trace_agent.h"
#include "uprobe.h"

#define MAX_OBJECTS 16
#define MAX_NR 512
#ifndef SYS_SECCOMP
#define SYS_SECCOMP 1   /* si_code of a seccomp SIGSYS */
#endif
#ifndef SA_RESTORER
#define SA_RESTORER 0x04000000   /* the kernel's: sa_restorer is set */
#endif

struct ksigaction {     /* a signal's action, as the kernel takes it */
	void *handler;
	unsigned long flags;
	void *restorer;
	uint64_t mask;
};

struct agent {
	struct bpfvm *vm;
	struct bpfvm_object *objs[MAX_OBJECTS];
	int nobjs;
	struct bpfvm_trace *t;
	long (*call)(long nr, long a, long b, long c, long d, long e, long f);
	uintptr_t stub;
	uint8_t want[MAX_NR];   /* 1 enter, 2 exit */
	uint8_t trap[MAX_NR];   /* what the filter traps: for the patched sites' trampolines */
	bool exec_ok;           /* no attached call is one ld.so makes at start */
	bool dormant;           /* bpfvm trace's supervisor traces this process (agent_init) */
	struct bpfvm_syscall_sites *sites;   /* trapping sites rewritten (NULL: not) */
	unsigned long traps;    /* SIGSYS handled (BPFVM_AGENT_STATS) */
	bool handlers;          /* the program has set a signal handler (programs()) */
	uintptr_t text[2];      /* the agent's own code: its handlers are not the program's */
	int chan;               /* to bpfvm trace: printk lines, this process (-1: none) */
	int32_t announced;      /* the last process announce() named */
	int32_t *pid;           /* the process's pid, 0 after a fork (current_ids) */
};

static struct agent agent;   /* the process's one agent, as its one SIGSYS handler */
/* Programs running on this thread (the recursion guard); static TLS: safe in a handler. */
static __thread int in_programs __attribute__((tls_model("initial-exec")));

/* The stub: the 7 arguments as a C call, then syscall; ret.  Position independent. */
static const uint8_t stub_code[] = {
	0x48, 0x89, 0xf8,             /* mov %rdi,%rax */
	0x48, 0x89, 0xf7,             /* mov %rsi,%rdi */
	0x48, 0x89, 0xd6,             /* mov %rdx,%rsi */
	0x48, 0x89, 0xca,             /* mov %rcx,%rdx */
	0x4d, 0x89, 0xc2,             /* mov %r8,%r10 */
	0x4d, 0x89, 0xc8,             /* mov %r9,%r8 */
	0x4c, 0x8b, 0x4c, 0x24, 0x08, /* mov 8(%rsp),%r9 */
	0x0f, 0x05,                   /* syscall */
	0xc3,                         /* ret */
	/* STUB_RESTORER: SIGSYS's return (the filter traps libc's sigaction of SIGSYS) */
	0x48, 0xc7, 0xc0, 0x0f, 0x00, 0x00, 0x00,   /* mov $SYS_rt_sigreturn,%rax */
	0x0f, 0x05,                   /* syscall */
	/* STUB_GADGET: a patched site's call (syscall_sites.h) */
	0x0f, 0x05,                   /* syscall */
	0xff, 0xe3,                   /* jmp *%rbx */
};
#define STUB_RESTORER 26
#define STUB_GADGET 35

static void say(const char *msg)
{
	agent.call ? agent.call(SYS_write, 2, (long)msg, (long)strlen(msg), 0, 0, 0)
		   : write(2, msg, strlen(msg));
}

/* The stub's page at addr: the same address in every program the command runs. */
static int map_stub(uintptr_t addr)
{
	long page = sysconf(_SC_PAGESIZE);
	void *p = mmap((void *)addr, (size_t)page, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);

	if (p == MAP_FAILED || (uintptr_t)p != addr)
		return -1;
	memcpy(p, stub_code, sizeof(stub_code));
	if (mprotect(p, (size_t)page, PROT_READ | PROT_EXEC))
		return -1;
	agent.stub = addr;
	agent.call = (long (*)(long, long, long, long, long, long, long))p;
	return 0;
}

/* ---- the channel to bpfvm trace (tools/trace_agent.c) ---------------------- */

/* A bpf_printk line (trace_pipe's, with the traced task's comm and pid): bpfvm trace prints it. */
static void send_printk(void *ctx, const char *text, size_t len)
{
	char msg[4096];

	(void)ctx;
	if (agent.chan < 0 || !agent.call)
		return;
	len = len < sizeof(msg) - 1 ? len : sizeof(msg) - 1;
	msg[0] = 'p';
	memcpy(msg + 1, text, len);
	agent.call(SYS_sendto, agent.chan, (long)msg, (long)len + 1, MSG_NOSIGNAL, 0, 0);
}

/* A message of len bytes and descriptor fd to bpfvm trace: what sendmsg returned. */
static long send_with_fd(const char *msg, size_t len, int fd)
{
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov = { (void *)msg, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &ctl,
			     .msg_controllen = sizeof(ctl) };

	memset(&ctl, 0, sizeof(ctl));
	ctl.h.cmsg_level = SOL_SOCKET;
	ctl.h.cmsg_type = SCM_RIGHTS;
	ctl.h.cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(&ctl.h), &fd, sizeof(fd));
	return agent.call(SYS_sendmsg, agent.chan, (long)&mh, MSG_NOSIGNAL, 0, 0, 0);
}

/*
 * This process, by a pidfd: bpfvm trace reports its end, as the supervisor
 * does.  Said at start, in a fork child (atfork), and by a process that
 * shares the memory (a raw clone) at its first event (current_ids).
 */
static void announce(void)
{
	char msg[32];
	long pidfd, pid;

	if (agent.chan < 0 || !agent.call)
		return;
	pid = agent.call(SYS_getpid, 0, 0, 0, 0, 0, 0);
	agent.announced = (int32_t)pid;
	if ((pidfd = agent.call(SYS_pidfd_open, pid, 0, 0, 0, 0, 0)) < 0)
		return;
	send_with_fd(msg, (size_t)snprintf(msg, sizeof(msg), "x%ld", pid) + 1, (int)pidfd);
	agent.call(SYS_close, pidfd, 0, 0, 0, 0, 0);
}

/* ---- execve: follow only into a program that loads the agent first ------ */

/* The calls the dynamic linker makes before preloaded constructors run (x86-64). */
static const long ldso_calls[] = TRACE_AGENT_LDSO_CALLS;

static bool env_names_agent(char *const *envp)
{
	bool agent_var = false, preload = false;

	for (int i = 0; envp && envp[i] && i < 100000; i++) {
		agent_var |= !strncmp(envp[i], "BPFVM_AGENT=", 12);
		preload |= !strncmp(envp[i], "LD_PRELOAD=", 11) && strstr(envp[i], "libbpfvm-agent");
	}
	return agent_var && preload;
}

/* What bpfvm_exec_target__problem reads the program with: the stub, which the filter lets through */
static long exec_open(void *flags, int dirfd, const char *path)
{
	char self[32];

	if (!*path && !(*(const long *)flags & AT_EMPTY_PATH))
		return -ENOENT;
	if (!*path) {   /* execveat(fd, "", AT_EMPTY_PATH): the program is fd itself */
		snprintf(self, sizeof(self), "/proc/self/fd/%d", dirfd);
		return agent.call(SYS_openat, AT_FDCWD, (long)self, O_RDONLY | O_CLOEXEC, 0, 0, 0);
	}
	return agent.call(SYS_openat, dirfd, (long)path, O_RDONLY | O_CLOEXEC, 0, 0, 0);
}

static long exec_pread(void *ctx, long fd, void *buf, size_t len, uint64_t off)
{
	(void)ctx;
	return agent.call(SYS_pread64, fd, (long)buf, (long)len, (long)off, 0, 0);
}

static long exec_fstat(void *ctx, long fd, struct stat *st)
{
	(void)ctx;
	return agent.call(SYS_fstat, fd, (long)st, 0, 0, 0, 0);
}

static void exec_close(void *ctx, long fd)
{
	(void)ctx;
	agent.call(SYS_close, fd, 0, 0, 0, 0, 0);
}

static long exec_getxattr(void *ctx, long fd, const char *name, void *buf, size_t size)
{
	(void)ctx;
	return agent.call(SYS_fgetxattr, fd, (long)name, (long)buf, (long)size, 0, 0);
}

/* Can the agent enter the program execve(at) runs (flags: execveat's)?  NULL, or why not. */
static const char *exec_target_problem(int dirfd, const char *path, long flags, char *why,
				       size_t size)
{
	uint32_t ids[6];
	BPFVM_OPTS(bpfvm_exec_target_opts, o, .ctx = &flags, .open = exec_open, .pread = exec_pread,
		   .fstat = exec_fstat, .close = exec_close, .getxattr = exec_getxattr);

	if (agent.call(SYS_getresuid, (long)&ids[0], (long)&ids[1], (long)&ids[2], 0, 0, 0) ||
	    agent.call(SYS_getresgid, (long)&ids[3], (long)&ids[4], (long)&ids[5], 0, 0, 0))
		return "the process's ids cannot be read";
	o.uid = ids[0], o.euid = ids[1], o.gid = ids[3], o.egid = ids[4];
	o.no_new_privs = agent.call(SYS_prctl, PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0, 0) == 1;
	return bpfvm_exec_target__problem(dirfd, path ? path : "", &o, why, size);
}

/*
 * Ask bpfvm trace to take this process over before it execs path, which
 * the agent cannot enter (why): its supervisor seizes it, and answers on
 * a pipe whose write end goes with the request, so the exec waits until
 * the seize is in place (EOF: bpfvm trace is gone).  0 once taken.
 */
static int hand_over(const char *path, const char *why)
{
	char msg[4096], ok = 0;
	int p[2] = { -1, -1 };
	struct pollfd pf;
	size_t len;
	long sent;

	if (agent.chan < 0 || agent.call(SYS_pipe2, (long)p, O_CLOEXEC, 0, 0, 0, 0))
		return -1;
	len = (size_t)snprintf(msg, sizeof(msg), "h%ld\n%s\n%s",
			       agent.call(SYS_getpid, 0, 0, 0, 0, 0, 0), why, path) + 1;
	sent = send_with_fd(msg, len < sizeof(msg) ? len : sizeof(msg), p[1]);
	agent.call(SYS_close, p[1], 0, 0, 0, 0, 0);
	pf = (struct pollfd){ p[0], POLLIN, 0 };
	/* restarted from the stub if the seize interrupts it; bounded should bpfvm trace hang */
	if (sent > 0 && agent.call(SYS_poll, (long)&pf, 1, 10000, 0, 0, 0) == 1)
		agent.call(SYS_read, p[0], (long)&ok, 1, 0, 0, 0);
	agent.call(SYS_close, p[0], 0, 0, 0, 0, 0);
	return ok == '1' ? 0 : -1;
}

/* LD_PRELOAD's value v without what bpfvm trace put first (ours: the agent, sanitizers) */
static void strip_ours(const char *v, const char *ours, char *out, size_t size)
{
	size_t len = 0;

	if (ours && *ours && !strncmp(v, ours, strlen(ours)) &&
	    (!v[strlen(ours)] || strchr(": ", v[strlen(ours)]))) {
		v += strlen(ours);
		v += *v != 0;
	}
	for (const char *e; *v; v = *e ? e + 1 : e) {   /* and the agent wherever it is */
		size_t l = strcspn(v, ": ");

		e = v + l;
		if (!l || memmem(v, l, "libbpfvm-agent", 14) || len + l + 2 > size)
			continue;
		if (len)
			out[len++] = ':';
		memcpy(out + len, v, l);
		len += l;
	}
	out[len] = '\0';
}

/*
 * execve(at) nr with args a, its environment without the agent (and what
 * bpfvm trace preloaded with it) in LD_PRELOAD, for a program the
 * supervisor takes: it and what it runs then run as under the supervisor
 * alone (no agent loading its libraries, which attached calls would see).
 * The copy is on the stack (a vfork or posix_spawn child shares the
 * memory, and never returns from a successful exec), so it is bounded: a
 * larger environment goes as it is (an agent loaded under the supervisor
 * stays dormant: agent_init).
 */
static long exec_without_agent(long nr, const long *a)
{
	char *const *envp = (char *const *)a[nr == SYS_execve ? 2 : 3];
	char *copy[256], preload[4096] = "LD_PRELOAD=";
	const char *ours = NULL;
	int n = 0, out = 0;

	while (envp && envp[n] && n < 255)
		if (!strncmp(envp[n++], "BPFVM_AGENT_PRELOAD=", 20))
			ours = envp[n - 1] + 20;
	if (!envp || envp[n])
		return agent.call(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
	for (int i = 0; i < n; i++) {
		if (strncmp(envp[i], "LD_PRELOAD=", 11)) {
			copy[out++] = envp[i];
			continue;
		}
		strip_ours(envp[i] + 11, ours, preload + 11, sizeof(preload) - 11);
		if (preload[11])
			copy[out++] = preload;
	}
	copy[out] = NULL;
	return nr == SYS_execve ? agent.call(nr, a[0], a[1], (long)copy, 0, 0, 0)
				: agent.call(nr, a[0], a[1], a[2], (long)copy, a[4], 0);
}

/*
 * 0 to let execve(at) go on (into a program that loads the agent, or, 1,
 * handed over to bpfvm trace's supervisor), or -EPERM with the reason.
 */
static long check_exec(long nr, const long *a)
{
	const char *path = (const char *)(nr == SYS_execve ? a[0] : a[1]);
	char *const *envp = (char *const *)(nr == SYS_execve ? a[2] : a[3]);
	char msg[512], buf[512];
	const char *why = !agent.exec_ok ? "an attached system call is one the dynamic linker "
					   "makes before the agent is loaded"
			  : !env_names_agent(envp) ? "its environment no longer preloads the agent"
			  : nr == SYS_execve ? exec_target_problem(AT_FDCWD, path, 0, buf, sizeof(buf))
			  : exec_target_problem((int)a[0], path, a[4], buf, sizeof(buf));

	if (!why)
		return 0;
	if (!hand_over(path ? path : "?", why))
		return 1;
	snprintf(msg, sizeof(msg), "bpfvm agent: cannot follow execve of %s: %s, and bpfvm trace "
		 "did not take it over (trace it with bpfvm trace --mode supervisor)\n",
		 path ? path : "?", why);
	say(msg);
	return -EPERM;
}

/* ---- the handler -------------------------------------------------------- */

/*
 * The calling thread's ids (tgid << 32 | tid) without two system calls an
 * event: the process's pid lives in a page fork wipes (MADV_WIPEONFORK),
 * so a child asks again; the thread's in its TLS, with the stack pointer
 * they were asked at, so a new thread (fresh TLS) asks, and so does a
 * child that shares the memory and TLS but runs on a stack of its own
 * (posix_spawn's clone(CLONE_VM|CLONE_VFORK)).  One such child is missed:
 * a vfork() child on its parent's stack is reported with its parent's ids
 * until it execs.
 */
#define IDS_STACK_WINDOW (256 << 10)
static __thread struct {
	uint64_t pid_tgid;
	uintptr_t sp;
} ids __attribute__((tls_model("initial-exec")));

__attribute__((hot)) static uint64_t current_ids(void)
{
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
	int32_t pid = agent.pid ? *agent.pid : 0;

	if (!pid && (pid = (int32_t)agent.call(SYS_getpid, 0, 0, 0, 0, 0, 0)) && agent.pid)
		*agent.pid = pid;
	if ((int32_t)(ids.pid_tgid >> 32) == pid && sp - ids.sp + IDS_STACK_WINDOW < 2 * IDS_STACK_WINDOW)
		return ids.pid_tgid;
	if (ids.pid_tgid)   /* another stack: maybe another process, on this memory */
		pid = (int32_t)agent.call(SYS_getpid, 0, 0, 0, 0, 0, 0);
	if (pid != agent.announced)
		announce();
	ids.pid_tgid = (uint64_t)(uint32_t)pid << 32 |
		       (uint32_t)agent.call(SYS_gettid, 0, 0, 0, 0, 0, 0);
	ids.sp = sp;
	return ids.pid_tgid;
}

/*
 * SIGSYS stays the agent's: a trap while SIGSYS is blocked or not handled
 * kills the process (the kernel makes the forced signal fatal), and
 * posix_spawn's child resets every handler before its execve (trapped).
 * So the filter answers rt_sigaction(SIGSYS, act) made outside the stub
 * with success and nothing done (the program's own SIGSYS handler is never
 * set: a SIGSYS not of the filter takes the default action), and the
 * program's sigaction() and signal() (interposed: the agent is preloaded)
 * keep SIGSYS out of a handler's mask and note that the program has
 * handlers (see programs()).  Not covered: SIGSYS blocked by sigprocmask,
 * and glibc's own windows with every signal blocked (posix_spawn's child
 * before its execve, a new thread's first steps): an attached call made
 * there from a site not patched yet kills the process.  Trapping
 * rt_sigprocmask and rt_sigaction whole would cover these, but what runs
 * before the agent in a program the command execs (ASan's runtime setting
 * its handlers) would die of the trap.
 */
#define SIGSYS_BIT (1ull << (SIGSYS - 1))

static int (*next_sigaction)(int, const struct sigaction *, struct sigaction *);
static sighandler_t (*next_signal)(int, sighandler_t);

static void note_handler(void (*h)(int))
{
	if (h != SIG_DFL && h != SIG_IGN && h != SIG_ERR &&
	    !((uintptr_t)h >= agent.text[0] && (uintptr_t)h < agent.text[1]))
		__atomic_store_n(&agent.handlers, true, __ATOMIC_RELAXED);   /* never cleared */
}

__attribute__((visibility("default"))) int sigaction(int sig, const struct sigaction *act,
						      struct sigaction *old)
{
	struct sigaction copy;

	if (!next_sigaction && !(next_sigaction = dlsym(RTLD_NEXT, "sigaction")))
		return -1;
	if (act && sig != SIGSYS) {
		copy = *act;
		sigdelset(&copy.sa_mask, SIGSYS);
		note_handler(copy.sa_handler);
		act = &copy;
	}
	return next_sigaction(sig, act, old);
}

__attribute__((visibility("default"))) sighandler_t signal(int sig, sighandler_t h)
{
	if (!next_signal && !(next_signal = (sighandler_t (*)(int, sighandler_t))dlsym(RTLD_NEXT, "signal")))
		return SIG_ERR;
	if (sig != SIGSYS)
		note_handler(h);
	return next_signal(sig, h);
}

/* A SIGSYS not of the filter: its default action, as without the agent. */
static void forward_sigsys(void)
{
	struct ksigaction dfl = { 0 };

	agent.call(SYS_rt_sigaction, SIGSYS, (long)&dfl, 0, sizeof(uint64_t), 0, 0);
	agent.call(SYS_tgkill, agent.call(SYS_getpid, 0, 0, 0, 0, 0, 0),
		   agent.call(SYS_gettid, 0, 0, 0, 0, 0, 0), SIGSYS, 0, 0, 0);
}

/*
 * The programs at one end of call nr.  In the kernel no signal handler
 * runs while they do; here one could, and its own attached calls would
 * find the thread inside the programs and skip theirs.  So once the
 * program has installed a handler, every signal but SIGSYS is blocked
 * around them (two calls an event; none for a program without handlers),
 * and what came meanwhile is delivered as they return.
 */
__attribute__((hot)) static void programs(bool enter, long nr, const long *a, long ret)
{
	uint64_t all = ~SIGSYS_BIT, old;
	bool block = __atomic_load_n(&agent.handlers, __ATOMIC_RELAXED);
	int saved = errno;   /* the site's: a helper's libc call may set it */

	if (block)
		agent.call(SYS_rt_sigprocmask, SIG_BLOCK, (long)&all, (long)&old, sizeof(all), 0, 0);
	in_programs++;
	bpfvm_trace__syscall(agent.t, enter, nr, (const uint64_t *)a, enter ? 0 : ret, current_ids());
	in_programs--;
	if (block)
		agent.call(SYS_rt_sigprocmask, SIG_SETMASK, (long)&old, 0, sizeof(old), 0, 0);
	errno = saved;
}

/*
 * Before trapped call nr with args a (syscall_sites.h's enter): the
 * programs at its entry, and 0 for the caller to make it; an execve, made
 * here whole (1, its result in *ret).
 */
__attribute__((hot)) static int call_enter(void *ctx, long nr, long a[6], long *ret)
{
	int want = nr >= 0 && nr < MAX_NR ? agent.want[nr] : 0, saved;
	long how;   /* execve(at): 1 the supervisor's (handed over, or dormant already) */

	(void)ctx;
	if (nr == SYS_execve || nr == SYS_execveat) {
		saved = errno;
		how = agent.dormant ? 1 : check_exec(nr, a);
		if (how >= 0 && (want & 1) && agent.t && !in_programs)
			programs(true, nr, a, 0);
		if (how < 0)
			*ret = how;
		else
			*ret = how == 1 ? exec_without_agent(nr, a)
					: agent.call(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
		if (how >= 0 && (want & 2) && agent.t && !in_programs)
			programs(false, nr, a, *ret);
		errno = saved;
		return 1;
	}
	if ((want & 1) && agent.t && !in_programs)
		programs(true, nr, a, 0);
	return 0;
}

/* After it (syscall_sites.h's exit): the programs at its exit; its result. */
__attribute__((hot)) static long call_exit(void *ctx, long nr, long a[6], long ret)
{
	int want = nr >= 0 && nr < MAX_NR ? agent.want[nr] : 0;

	(void)ctx;
	if ((want & 2) && agent.t && !in_programs)
		programs(false, nr, a, ret);
	return ret;
}

/* Trapped call nr with args a, made for the program from the SIGSYS handler: its result. */
static long run_call(long nr, long a[6])
{
	long ret;

	if (call_enter(NULL, nr, a, &ret))
		return ret;
	return call_exit(NULL, nr, a, agent.call(nr, a[0], a[1], a[2], a[3], a[4], a[5]));
}

static void on_sigsys(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	greg_t *g = uc->uc_mcontext.gregs;
	long a[6] = { g[REG_RDI], g[REG_RSI], g[REG_RDX], g[REG_R10], g[REG_R8], g[REG_R9] };
	long ret;

	(void)sig;
	if (si->si_code != SYS_SECCOMP) {
		forward_sigsys();
		return;
	}
	__atomic_fetch_add(&agent.traps, 1, __ATOMIC_RELAXED);
	ret = run_call(si->si_syscall, a);
	/* the next call from this syscall instruction goes the fast way, if it can */
	bpfvm_syscall_sites__patch(agent.sites, (uint64_t)g[REG_RIP] - 2);
	g[REG_RAX] = ret;
}

/* ---- the filter --------------------------------------------------------- */

#define STMT(c, k) ((struct sock_filter)BPF_STMT(c, k))
#define JUMP(c, k, t, f) ((struct sock_filter)BPF_JUMP(c, k, t, f))

/*
 * The number first, the stub's address only for the calls caught: a path
 * that reads no more than the arch and the number is one the kernel's
 * seccomp cache evaluates once per number (seccomp_cache_prepare), so a
 * call never caught skips the filter entirely, as if none were installed.
 */
static int install_filter(void)
{
	static struct sock_filter f[2 * MAX_NR + 40];
	uint32_t lo = (uint32_t)agent.stub, hi = (uint32_t)(agent.stub >> 32);
	unsigned n = 0, to_caught;
	struct sock_fprog prog;

	f[n++] = STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
	f[n++] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
	f[n++] = STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	f[n++] = STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
	f[n++] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_rt_sigaction, 0, 3);
	f[n++] = STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0]));
	f[n++] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, SIGSYS, 0, 0);   /* jt: to caught, below */
	to_caught = n - 1;
	f[n++] = STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
	for (long nr = 0; nr < MAX_NR; nr++) {
		if (!agent.trap[nr])
			continue;
		f[n++] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)nr, 0, 1);
		f[n++] = JUMP(BPF_JMP | BPF_JA, 0, 0, 0);               /* k: to caught, below */
	}
	f[n++] = STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	/* caught: the stub's page (the agent's own calls, those it makes for the program) goes */
	f[to_caught].jt = (uint8_t)(n - to_caught - 1);
	for (unsigned i = to_caught + 1; i < n; i++)
		if (f[i].code == (BPF_JMP | BPF_JA))
			f[i].k = n - i - 1;
	f[n++] = STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, instruction_pointer) + 4);
	f[n++] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, hi, 0, 4);
	f[n++] = STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, instruction_pointer));
	f[n++] = JUMP(BPF_JMP | BPF_JGE | BPF_K, lo, 0, 2);
	f[n++] = JUMP(BPF_JMP | BPF_JGE | BPF_K, lo + 4096, 1, 0);
	f[n++] = STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	/* rt_sigaction(SIGSYS, act) elsewhere: done, and nothing done (see note_handler's comment) */
	f[n++] = STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
	f[n++] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_rt_sigaction, 0, 8);
	f[n++] = STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0]));
	f[n++] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, SIGSYS, 0, 6);
	f[n++] = STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1]));
	f[n++] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 3);
	f[n++] = STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1]) + 4);
	f[n++] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1);
	/* act NULL: asks, changes nothing */
	f[n++] = STMT(BPF_RET | BPF_K, agent.trap[SYS_rt_sigaction] ? SECCOMP_RET_TRAP : SECCOMP_RET_ALLOW);
	f[n++] = STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 0);
	f[n++] = STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP);
	prog = (struct sock_fprog){ (unsigned short)n, f };
	/*
	 * no_new_privs only where the kernel requires it (without CAP_SYS_ADMIN): it would make
	 * a set-user-ID program the command execs run as its caller, not as it would untraced
	 */
	if (!syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog))
		return 0;
	if (errno != EACCES || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -errno;
	return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog)
		       ? -errno : 0;
}

/* ---- start-up ------------------------------------------------------------ */

static bool listed(const char *list, const char *name)
{
	size_t len = strlen(name);

	for (const char *p = list; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : "")
		if (!strncmp(p, name, len) && (p[len] == '\n' || !p[len]))
			return true;
	return false;
}

static int load_one(const char *path, const char *progs, bool jit)
{
	static char msg[16384];
	struct bpfvm_log log = { msg, sizeof(msg), 0 };
	BPFVM_OPTS(bpfvm_object_open_opts, oo, .log = &log, .vm = agent.vm, .kernel_only = true,
		   .reuse_maps = true);
	struct bpfvm_object *obj = bpfvm_object__open_file(path, &oo);
	struct bpfvm_obj_prog *p;

	msg[0] = '\0';
	if (!obj || bpfvm_object__load(obj) || cli_verify_object_for_run(obj, path)) {
		fprintf(stderr, "bpfvm agent: %s: %s", path, msg[0] ? msg : "cannot load\n");
		bpfvm_object__destroy(obj);
		return -1;
	}
	agent.objs[agent.nobjs++] = obj;
	bpfvm_object__for_each_program(p, obj)
		if (bpfvm_obj_prog__prog(p) && (!progs || !*progs || listed(progs, bpfvm_obj_prog__name(p)))) {
			bpfvm_trace__attach(agent.t, p);   /* bpfvm trace said why not already */
			/* compiled at load, as the kernel's are (a failure is the first run's to say) */
			if (jit)
				bpfvm_prog__jit(bpfvm_obj_prog__prog(p), NULL);
		}
	return 0;
}

/* What to trap: the attached calls, less those a handler cannot re-issue. */
static void compute_wants(void)
{
	static const long no_reissue[] = { SYS_clone, SYS_clone3, SYS_vfork, SYS_rt_sigreturn };

	agent.exec_ok = true;
	for (long nr = 0; nr < MAX_NR; nr++)
		agent.want[nr] = (uint8_t)bpfvm_trace__wants_syscall(agent.t, nr);
	for (size_t i = 0; i < sizeof(no_reissue) / sizeof(no_reissue[0]); i++)
		if (agent.want[no_reissue[i]]) {
			fprintf(stderr, "bpfvm agent: system call %ld cannot be caught in process (a "
					"new stack or a shared one): not traced\n", no_reissue[i]);
			agent.want[no_reissue[i]] = 0;
		}
	for (size_t i = 0; i < sizeof(ldso_calls) / sizeof(ldso_calls[0]); i++)
		agent.exec_ok &= !agent.want[ldso_calls[i]];
	for (long nr = 0; nr < MAX_NR; nr++)
		agent.trap[nr] = agent.want[nr] || nr == SYS_execve || nr == SYS_execveat;
}

static void pid_page(void)
{
	void *p = mmap(NULL, (size_t)sysconf(_SC_PAGESIZE), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p != MAP_FAILED && !madvise(p, (size_t)sysconf(_SC_PAGESIZE), MADV_WIPEONFORK))
		agent.pid = p;
	else if (p != MAP_FAILED)
		munmap(p, (size_t)sysconf(_SC_PAGESIZE));   /* an old kernel: getpid every event */
}

/* The agent's own executable segment, where its own signal handlers are. */
static int find_text(struct dl_phdr_info *info, size_t size, void *data)
{
	uintptr_t self = (uintptr_t)data;

	(void)size;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) && self >= lo && self < lo + ph->p_memsz) {
			agent.text[0] = lo;
			agent.text[1] = lo + ph->p_memsz;
			return 1;
		}
	}
	return 0;
}

/* The fast path, unless BPFVM_AGENT_PATCH=0 (every attached call then traps). */
static void start_patching(void)
{
	const char *env = getenv("BPFVM_AGENT_PATCH");
	BPFVM_OPTS(bpfvm_syscall_sites_opts, so, .trap = agent.trap, .nr_max = MAX_NR, .call = agent.call,
		   .gadget = (const void *)(agent.stub + STUB_GADGET), .enter = call_enter,
		   .exit = call_exit);

	if (!(env && !strcmp(env, "0")))
		agent.sites = bpfvm_syscall_sites__new(&so);
}

static int agent_start(const char *spec)
{
	unsigned long long addr, stub;
	int fd, jit, err = 0;
	char *objects, *save = NULL;

	if (sscanf(spec, "%d %llx %llx %d %d", &fd, &addr, &stub, &jit, &agent.chan) != 5 ||
	    map_stub(stub)) {
		fprintf(stderr, "bpfvm agent: bad BPFVM_AGENT '%s', or its stub address is taken\n", spec);
		return -1;
	}
	{
		static char msg[1024];
		struct bpfvm_log log = { msg, sizeof(msg), 0 };
		BPFVM_OPTS(bpfvm_opts, vo, .shared_maps_fd = fd, .shared_maps_addr = addr, .log = &log,
			   .trace = send_printk);

		if (!(agent.vm = bpfvm__new(&vo))) {
			fprintf(stderr, "bpfvm agent: %s", msg[0] ? msg : "cannot join the maps\n");
			return -1;
		}
	}
	{
		BPFVM_OPTS(bpfvm_trace_opts, to, .mode = jit ? BPFVM_EXEC_JIT : BPFVM_EXEC_UNCHECKED,
			   .log = agent_uprobe_log(), .on_log = agent_uprobe_said);

		if (!(agent.t = bpfvm_trace__new(&to)))
			return -1;
	}
	objects = getenv("BPFVM_AGENT_OBJECTS") ? strdup(getenv("BPFVM_AGENT_OBJECTS")) : NULL;
	for (char *p = objects ? strtok_r(objects, "\n", &save) : NULL; p && agent.nobjs < MAX_OBJECTS;
	     p = strtok_r(NULL, "\n", &save))
		if ((err = load_one(p, getenv("BPFVM_AGENT_PROGS"), jit)))
			break;
	free(objects);
	if (err)
		return -1;
	compute_wants();
	dl_iterate_phdr(find_text, (void *)(uintptr_t)find_text);
	start_patching();
	pid_page();
	return 0;
}

/*
 * SIGSYS's handler, blocking nothing (see the top): set from the stub, with
 * its restorer, since the filter (inherited, or from a program before the
 * exec) traps rt_sigaction(SIGSYS) made elsewhere.
 */
static void install_handler(void)
{
	struct ksigaction ka = { (void *)on_sigsys, SA_SIGINFO | SA_RESTART | SA_NODEFER | SA_RESTORER,
				 (void *)(agent.stub + STUB_RESTORER), 0 };
	struct sigaction sa = { .sa_sigaction = on_sigsys,
				.sa_flags = SA_SIGINFO | SA_RESTART | SA_NODEFER };

	if (agent.call) {
		agent.call(SYS_rt_sigaction, SIGSYS, (long)&ka, 0, sizeof(uint64_t), 0, 0);
		return;
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSYS, &sa, NULL);
}

/*
 * A program exec'd by a process bpfvm trace's supervisor took over (or by
 * its descendants), which found the agent preloaded anyway: the
 * supervisor serves it, making the calls the filter traps as from the
 * stub page, so the agent stays out of it.
 */
static bool traced_by_bpfvm(void)
{
	const char *tracer = getenv("BPFVM_AGENT_TRACER");
	char buf[2048], *p;
	int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	if (fd >= 0)
		close(fd);
	if (n <= 0 || !tracer)
		return false;
	buf[n] = '\0';
	p = strstr(buf, "TracerPid:");
	return p && atoi(p + 10) == atoi(tracer) && atoi(tracer) > 0;
}

static void go_dormant(const char *spec)
{
	unsigned long long addr, stub;
	int fd, jit, chan;

	agent.dormant = true;
	/* taken: the supervisor's page, with its own SIGSYS handler (src/events/handover.c) */
	if (sscanf(spec, "%d %llx %llx %d %d", &fd, &addr, &stub, &jit, &chan) == 5 && !map_stub(stub))
		install_handler();
}

__attribute__((constructor)) static void agent_init(void)
{
	const char *spec = getenv("BPFVM_AGENT");
	bool filtered = getenv("BPFVM_AGENT_FILTERED") != NULL;
	int err;

	agent.chan = -1;
	if (!spec)
		return;
	if (filtered && traced_by_bpfvm()) {
		go_dormant(spec);
		return;
	}
	if (agent_start(spec)) {
		if (!filtered)
			_exit(126);   /* never run the command untraced without a word */
		agent.t = NULL;  /* filtered already: trapped calls still go through */
	}
	install_handler();
	announce();
	pthread_atfork(NULL, NULL, announce);   /* a fork child (glibc's fork) is a process too */
	if (!filtered && (err = install_filter())) {
		fprintf(stderr, "bpfvm agent: cannot install the seccomp filter: %s\n", strerror(-err));
		_exit(126);
	}
	if (!filtered)
		setenv("BPFVM_AGENT_FILTERED", "1", 1);
	/* last: the agent's own calls of a probed function (malloc) are not the program's */
	if (agent.t && agent_uprobes_start(agent.t, agent.sites))
		_exit(126);
}

/* BPFVM_AGENT_STATS set: what the fast path did, at the process's exit (tests read it). */
__attribute__((destructor)) static void agent_fini(void)
{
	char msg[128];

	if (!agent.call || !getenv("BPFVM_AGENT_STATS"))
		return;
	snprintf(msg, sizeof(msg), "bpfvm agent: pid %d: %lu traps, %u sites patched\n",
		 (int)getpid(), __atomic_load_n(&agent.traps, __ATOMIC_RELAXED),
		 bpfvm_syscall_sites__patched(agent.sites));
	say(msg);
}
