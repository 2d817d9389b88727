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
 * calls never trap.  Ring buffer records land in the shared ring buffers,
 * which `bpfvm trace` drains.  Uses the public API alone, as tools/.
 *
 * What bpfvm trace passes (environment, inherited by children):
 *   BPFVM_AGENT="FD ADDR STUB JIT"  the arena's memfd (not close-on-exec)
 *                                   and address, where the stub goes, 1: JIT
 *   BPFVM_AGENT_OBJECTS             object paths, one a line
 *   BPFVM_AGENT_PROGS               --prog names, one a line (none: all)
 *
 * Why seccomp and not Syscall User Dispatch: dispatch traps every call
 * made outside the allowed range, so unattached calls would pay a signal
 * too, and it is neither inherited by new threads nor kept by fork; a
 * filter traps only the attached calls, in every thread (TSYNC) and every
 * child.  Its one cost: a filter survives execve but the handler does not,
 * and the dynamic linker of the new program runs before the agent is
 * loaded again.  So execve is trapped too and followed only when the new
 * program will load the agent before any attached call can trap: it is
 * dynamically linked, not set-user/group-id, its environment still names
 * the agent, and no attached call is one the dynamic linker makes at
 * start.  Otherwise the execve fails with EPERM and a message (trace such
 * a command with --mode supervisor).  The stub sits at a fixed address
 * (beside the arena) so that the filter, made once, lets every later
 * program's agent through.
 *
 * Signals: SIGSYS's handler blocks nothing (SA_NODEFER, an empty mask), so
 * a signal arriving during the re-issued call interrupts it as the kernel
 * would (restarted from the stub with SA_RESTART, else EINTR; the sys_exit
 * programs then see the -EINTR the caller sees, where the kernel's see its
 * internal -ERESTART* code, and the signal's handler runs before them),
 * and the signal's handler may make attached calls itself: the handler
 * nests (records are on the stack).  Blocking signals instead would cost
 * two rt_sigprocmask calls per event.  A call made by a handler that
 * interrupted a program run on the same thread runs, but its programs do
 * not, as the kernel skips a program that would recurse on its CPU
 * (bpf_prog_active): a program never nests in itself, so its map locks
 * cannot deadlock.  fork re-issued from the handler returns in the child through
 * the same frame.  clone, clone3 and vfork (a new stack, or a shared one)
 * cannot be re-issued from a handler and are refused at attach time.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include <bpfvm/maps.h>
#include <bpfvm/object.h>
#include <bpfvm/trace.h>

#include "../tools/cli.h"
#include "../tools/trace_agent.h"
#include "uprobe.h"

#define MAX_OBJECTS 16
#define MAX_NR 512
#ifndef SYS_SECCOMP
#define SYS_SECCOMP 1   /* si_code of a seccomp SIGSYS */
#endif

struct agent {
	struct bpfvm *vm;
	struct bpfvm_object *objs[MAX_OBJECTS];
	int nobjs;
	struct bpfvm_trace *t;
	long (*call)(long nr, long a, long b, long c, long d, long e, long f);
	uintptr_t stub;
	uint8_t want[MAX_NR];   /* 1 enter, 2 exit */
	bool exec_ok;           /* no attached call is one ld.so makes at start */
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
};

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

/* Dynamically linked (a PT_INTERP) and not set-user/group-id: NULL, or why not. */
static const char *exec_target_problem(int dirfd, const char *path)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	struct stat st;
	long fd = agent.call(SYS_openat, dirfd, (long)path, O_RDONLY | O_CLOEXEC, 0, 0, 0);
	const char *why = "it is statically linked";

	if (fd < 0)
		return NULL;   /* execve itself will say what is wrong */
	if (agent.call(SYS_fstat, fd, (long)&st, 0, 0, 0, 0) == 0 && (st.st_mode & (S_ISUID | S_ISGID)))
		why = "it is set-user-ID or set-group-ID";
	else if (agent.call(SYS_pread64, fd, (long)&eh, sizeof(eh), 0, 0, 0) != sizeof(eh) ||
		 memcmp(eh.e_ident, ELFMAG, SELFMAG))
		why = NULL;    /* a script: its interpreter is what runs (checked at its execve) */
	else
		for (int i = 0; i < eh.e_phnum && i < 256; i++)
			if (agent.call(SYS_pread64, fd, (long)&ph, sizeof(ph),
				       (long)(eh.e_phoff + (uint64_t)i * eh.e_phentsize), 0, 0) ==
				    sizeof(ph) && ph.p_type == PT_INTERP)
				why = NULL;
	agent.call(SYS_close, fd, 0, 0, 0, 0, 0);
	return why;
}

/* 0 to let execve(at) go on, or -EPERM with the reason on stderr. */
static long check_exec(long nr, const long *a)
{
	const char *path = (const char *)(nr == SYS_execve ? a[0] : a[1]);
	char *const *envp = (char *const *)(nr == SYS_execve ? a[2] : a[3]);
	const char *why = !agent.exec_ok ? "an attached system call is one the dynamic linker "
					   "makes before the agent is loaded"
			  : !env_names_agent(envp) ? "its environment no longer preloads the agent"
			  : exec_target_problem(nr == SYS_execve ? AT_FDCWD : (int)a[0], path);
	char msg[512];

	if (!why)
		return 0;
	snprintf(msg, sizeof(msg), "bpfvm agent: cannot follow execve of %s: %s (trace it with "
		 "bpfvm trace --mode supervisor)\n", path ? path : "?", why);
	say(msg);
	return -EPERM;
}

/* ---- the handler -------------------------------------------------------- */

static void on_sigsys(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	greg_t *g = uc->uc_mcontext.gregs;
	long nr = si->si_syscall, ret = 0;
	long a[6] = { g[REG_RDI], g[REG_RSI], g[REG_RDX], g[REG_R10], g[REG_R8], g[REG_R9] };
	int want = nr >= 0 && nr < MAX_NR ? agent.want[nr] : 0, saved = errno;

	(void)sig;
	if (si->si_code != SYS_SECCOMP)
		return;
	if ((nr == SYS_execve || nr == SYS_execveat) && (ret = check_exec(nr, a)))
		goto out;
	if (!agent.t || in_programs)
		want = 0;
	if (want & 1) {
		in_programs++;
		bpfvm_trace__syscall(agent.t, true, nr, (const uint64_t *)a, 0);
		in_programs--;
	}
	ret = agent.call(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
	if (want & 2) {
		in_programs++;
		bpfvm_trace__syscall(agent.t, false, nr, (const uint64_t *)a, ret);
		in_programs--;
	}
out:
	g[REG_RAX] = ret;
	errno = saved;
}

/* ---- the filter --------------------------------------------------------- */

#define STMT(c, k) ((struct sock_filter)BPF_STMT(c, k))
#define JUMP(c, k, t, f) ((struct sock_filter)BPF_JUMP(c, k, t, f))

static int install_filter(void)
{
	static struct sock_filter f[2 * MAX_NR + 32];
	uint32_t lo = (uint32_t)agent.stub, hi = (uint32_t)(agent.stub >> 32);
	unsigned n = 0;
	struct sock_fprog prog;

	f[n++] = STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
	f[n++] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
	f[n++] = STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	/* the stub's page: the agent's own calls and the calls it makes for the program */
	f[n++] = STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, instruction_pointer) + 4);
	f[n++] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, hi, 0, 4);
	f[n++] = STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, instruction_pointer));
	f[n++] = JUMP(BPF_JMP | BPF_JGE | BPF_K, lo, 0, 2);
	f[n++] = JUMP(BPF_JMP | BPF_JGE | BPF_K, lo + 4096, 1, 0);
	f[n++] = STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	f[n++] = STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
	for (long nr = 0; nr < MAX_NR; nr++) {
		if (!agent.want[nr] && nr != SYS_execve && nr != SYS_execveat)
			continue;
		f[n++] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)nr, 0, 1);
		f[n++] = STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP);
	}
	f[n++] = STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	prog = (struct sock_fprog){ (unsigned short)n, f };
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
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

static int load_one(const char *path, const char *progs)
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
		if (bpfvm_obj_prog__prog(p) && (!progs || !*progs || listed(progs, bpfvm_obj_prog__name(p))))
			bpfvm_trace__attach(agent.t, p);   /* bpfvm trace said why not already */
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
}

static int agent_start(const char *spec)
{
	unsigned long long addr, stub;
	int fd, jit, err = 0;
	char *objects, *save = NULL;

	if (sscanf(spec, "%d %llx %llx %d", &fd, &addr, &stub, &jit) != 4 || map_stub(stub)) {
		fprintf(stderr, "bpfvm agent: bad BPFVM_AGENT '%s', or its stub address is taken\n", spec);
		return -1;
	}
	{
		static char msg[1024];
		struct bpfvm_log log = { msg, sizeof(msg), 0 };
		BPFVM_OPTS(bpfvm_opts, vo, .shared_maps_fd = fd, .shared_maps_addr = addr, .log = &log);

		if (!(agent.vm = bpfvm__new(&vo))) {
			fprintf(stderr, "bpfvm agent: %s", msg[0] ? msg : "cannot join the maps\n");
			return -1;
		}
	}
	{
		BPFVM_OPTS(bpfvm_trace_opts, to, .mode = jit ? BPFVM_EXEC_JIT : BPFVM_EXEC_UNCHECKED,
			   .log = agent_uprobe_log());

		if (!(agent.t = bpfvm_trace__new(&to)))
			return -1;
	}
	objects = getenv("BPFVM_AGENT_OBJECTS") ? strdup(getenv("BPFVM_AGENT_OBJECTS")) : NULL;
	for (char *p = objects ? strtok_r(objects, "\n", &save) : NULL; p && agent.nobjs < MAX_OBJECTS;
	     p = strtok_r(NULL, "\n", &save))
		if ((err = load_one(p, getenv("BPFVM_AGENT_PROGS"))))
			break;
	free(objects);
	if (err)
		return -1;
	compute_wants();
	return 0;
}

__attribute__((constructor)) static void agent_init(void)
{
	const char *spec = getenv("BPFVM_AGENT");
	bool filtered = getenv("BPFVM_AGENT_FILTERED") != NULL;
	struct sigaction sa = { .sa_sigaction = on_sigsys,
				.sa_flags = SA_SIGINFO | SA_RESTART | SA_NODEFER };
	int err;

	if (!spec)
		return;
	if (agent_start(spec)) {
		if (!filtered)
			_exit(126);   /* never run the command untraced without a word */
		agent.t = NULL;  /* filtered already: trapped calls still go through */
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSYS, &sa, NULL);
	if (!filtered && (err = install_filter())) {
		fprintf(stderr, "bpfvm agent: cannot install the seccomp filter: %s\n", strerror(-err));
		_exit(126);
	}
	if (!filtered)
		setenv("BPFVM_AGENT_FILTERED", "1", 1);
	/* last: the agent's own calls of a probed function (malloc) are not the program's */
	if (agent.t && agent_uprobes_start(agent.t))
		_exit(126);
}
