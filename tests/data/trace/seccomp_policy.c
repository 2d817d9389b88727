/*
 * seccomp_policy.c - the workload and filters of test_trace_seccomp.sh:
 * the same classic seccomp filters enforced by the kernel and by
 * `bpfvm trace --seccomp`, compared on what the workload sees.
 *
 *   seccomp_policy write NAME FILE raw|c   a filter, raw (as seccomp_export_bpf
 *                                          writes) or as tcpdump -dd's C array
 *   seccomp_policy kernel FILE SELF [MODE] install FILE (raw) under
 *                                          NO_NEW_PRIVS, then exec SELF MODE (run)
 *   seccomp_policy run                     the workload: calls, each result on fd 3
 *   seccomp_policy threads                 a thread makes getegid (KILL_THREAD kills
 *                                          it alone), the main thread then getuid
 *   seccomp_policy status CMD ARGS...      run CMD, print its wait status
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#define LD(off) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (off))
#define NR offsetof(struct seccomp_data, nr)
#define ARCH offsetof(struct seccomp_data, arch)
#define ARG0 offsetof(struct seccomp_data, args[0])
#define RET(v) BPF_STMT(BPF_RET | BPF_K, (v))
/* nr == n: return v */
#define ON(n, v) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (n), 0, 1), RET(v)
#define ARCH_CHECK LD(ARCH), BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0), \
	RET(SECCOMP_RET_KILL_PROCESS), LD(NR)

static const struct sock_filter f_errno[] = {
	ARCH_CHECK,
	ON(SYS_getuid, SECCOMP_RET_ERRNO | 13), ON(SYS_getgid, SECCOMP_RET_TRACE | 7),
	ON(SYS_geteuid, SECCOMP_RET_USER_NOTIF), ON(SYS_uname, SECCOMP_RET_ERRNO | 5000),
	ON(SYS_dup, SECCOMP_RET_ERRNO | 0),
	/* getpriority(PRIO_PROCESS = 0, ...): EPERM; other arguments allowed */
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getpriority, 0, 3), LD(ARG0),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1), RET(SECCOMP_RET_ERRNO | EPERM),
	RET(SECCOMP_RET_ALLOW),
};

/* A computed action (RET A): bpfvm cannot leave such a filter's allowed calls to the kernel. */
static const struct sock_filter f_computed[] = {
	ARCH_CHECK, BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getuid, 0, 2),
	BPF_STMT(BPF_LD | BPF_IMM, SECCOMP_RET_ERRNO | 21), BPF_STMT(BPF_RET | BPF_A, 0),
	RET(SECCOMP_RET_ALLOW),
};

static const struct sock_filter f_kill[] = {
	ARCH_CHECK, ON(SYS_getegid, SECCOMP_RET_KILL_PROCESS), RET(SECCOMP_RET_ALLOW),
};

static const struct sock_filter f_kill_thread[] = {
	ARCH_CHECK, ON(SYS_getegid, SECCOMP_RET_KILL_THREAD), RET(SECCOMP_RET_ALLOW),
};

static const struct sock_filter f_trap[] = {
	ARCH_CHECK, ON(SYS_getuid, SECCOMP_RET_TRAP | 42), ON(SYS_uname, SECCOMP_RET_TRAP),
	RET(SECCOMP_RET_ALLOW),
};

static const struct sock_filter f_log[] = {
	ARCH_CHECK, ON(SYS_getuid, SECCOMP_RET_LOG), ON(SYS_getgid, SECCOMP_RET_LOG),
	RET(SECCOMP_RET_ALLOW),
};

/* What a dynamically linked program needs up to the workload's uname, which kills. */
static const struct sock_filter f_allow[] = {
	ARCH_CHECK,
#define A(n) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (n), 0, 1), RET(SECCOMP_RET_ALLOW)
	A(SYS_execve), A(SYS_brk), A(SYS_arch_prctl), A(SYS_mmap), A(SYS_access), A(SYS_openat),
	A(SYS_newfstatat), A(SYS_fstat), A(SYS_read), A(SYS_pread64), A(SYS_close), A(SYS_mprotect),
	A(SYS_munmap), A(SYS_set_tid_address), A(SYS_set_robust_list), A(SYS_rseq), A(SYS_prlimit64),
	A(SYS_getrandom), A(SYS_write), A(SYS_exit_group), A(SYS_rt_sigaction), A(SYS_rt_sigprocmask),
	A(SYS_getuid), A(SYS_getgid), A(SYS_geteuid), A(SYS_getegid), A(SYS_dup), A(SYS_futex),
	RET(SECCOMP_RET_KILL_PROCESS),
#undef A
};

static const struct {
	const char *name;
	const struct sock_filter *f;
	size_t n;
} filters[] = {
#define F(name, a) { name, a, sizeof(a) / sizeof(a[0]) }
	F("errno", f_errno), F("computed", f_computed), F("kill", f_kill), F("kill_thread", f_kill_thread), F("trap", f_trap),
	F("log", f_log), F("allow", f_allow),
#undef F
};

/* libseccomp's export: ERRNO(EACCES) for getuid, EPERM for dup(0), TRAP for getegid. */
static int write_libseccomp(int fd)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	int err = !ctx || seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(getuid), 0) ||
		  seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(dup), 1,
				   SCMP_A0(SCMP_CMP_EQ, 0)) ||
		  seccomp_rule_add(ctx, SCMP_ACT_TRAP, SCMP_SYS(getegid), 0) ||
		  seccomp_export_bpf(ctx, fd);

	seccomp_release(ctx);
	return err ? 1 : 0;
}

static int write_filter(const char *name, const char *path, const char *form)
{
	FILE *out = fopen(path, "w");
	int rc = 1;

	if (!out)
		return 1;
	if (!strcmp(name, "libseccomp")) {
		fflush(out);
		rc = write_libseccomp(fileno(out));
	}
	for (size_t i = 0; i < sizeof(filters) / sizeof(filters[0]); i++) {
		if (strcmp(filters[i].name, name))
			continue;
		for (size_t j = 0; j < filters[i].n; j++) {
			const struct sock_filter *t = &filters[i].f[j];

			if (!strcmp(form, "c"))
				fprintf(out, "{ 0x%x, %u, %u, 0x%08x },\n", t->code, t->jt, t->jf, t->k);
			else
				fwrite(t, sizeof(*t), 1, out);
		}
		rc = 0;
	}
	return fclose(out) || rc;
}

static int install_and_exec(const char *path, char *self, char *mode)
{
	static struct sock_filter f[4096];
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, f, sizeof(f));
	struct sock_fprog prog = { (unsigned short)(n / 8), f };

	if (n <= 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog)) {
		perror("seccomp_policy: install");
		return 126;
	}
	close(fd);
	execv(self, (char *[]){ self, mode, NULL });
	return 127;
}

static void out(const char *s)
{
	if (write(3, s, strlen(s)) < 0)
		_exit(120);
}

static void on_sigsys(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	char line[256];

	snprintf(line, sizeof(line), "SIGSYS sig %d code %d errno %d syscall %d arch 0x%x rax %lld "
		 "call_addr_is_ip %d\n", sig, si->si_code, si->si_errno, si->si_syscall, si->si_arch,
		 (long long)uc->uc_mcontext.gregs[REG_RAX],
		 si->si_call_addr == (void *)uc->uc_mcontext.gregs[REG_RIP]);
	out(line);
}

static void result(const char *what, long ret)
{
	char line[128];

	snprintf(line, sizeof(line), "%s ret %ld errno %d\n", what, ret, ret < 0 ? errno : 0);
	out(line);
	errno = 0;
}

static int run(void)
{
	struct sigaction sa = { .sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO };
	struct utsname u;

	sigaction(SIGSYS, &sa, NULL);
	result("getuid", syscall(SYS_getuid));
	result("getgid", syscall(SYS_getgid));
	result("geteuid", syscall(SYS_geteuid));
	result("dup(0)", syscall(SYS_dup, 0));
	result("getpriority(0,0)", syscall(SYS_getpriority, 0, 0));
	result("getpriority(1,0)", syscall(SYS_getpriority, 1, 0));
	result("syscall 500", syscall(500));
	result("getegid", syscall(SYS_getegid));
	result("uname", syscall(SYS_uname, &u));
	result("getppid>0", syscall(SYS_getppid) > 0);
	return 7;
}

static void *thread_main(void *arg)
{
	(void)arg;
	result("thread getegid", syscall(SYS_getegid));
	return NULL;
}

/* KILL_THREAD of a thread with its process's main thread left: that thread alone dies. */
static int threads(void)
{
	pthread_t th;

	if (pthread_create(&th, NULL, thread_main, NULL))
		return 1;
	pthread_join(th, NULL);   /* the kernel's do_exit of the thread ends it as a normal exit */
	result("main getuid", syscall(SYS_getuid));
	return 5;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "write"))
		return write_filter(argv[2], argv[3], argv[4]);
	if ((argc == 4 || argc == 5) && !strcmp(argv[1], "kernel"))
		return install_and_exec(argv[2], argv[3], argc == 5 ? argv[4] : "run");
	if (argc == 2 && !strcmp(argv[1], "run"))
		return run();
	if (argc == 2 && !strcmp(argv[1], "threads"))
		return threads();
	if (argc >= 3 && !strcmp(argv[1], "status")) {
		int status;
		pid_t pid = fork();

		if (pid == 0) {
			execvp(argv[2], argv + 2);
			_exit(127);
		}
		if (pid < 0 || waitpid(pid, &status, 0) != pid)
			return 1;
		if (WIFSIGNALED(status))
			printf("signal %d core %d\n", WTERMSIG(status), !!WCOREDUMP(status));
		else
			printf("exit %d\n", WEXITSTATUS(status));
		return 0;
	}
	fprintf(stderr, "usage: see the comment at the top of seccomp_policy.c\n");
	return 2;
}
