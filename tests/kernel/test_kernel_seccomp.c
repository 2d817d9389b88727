/*
 * test_kernel_seccomp.c - seccomp filters in bpfvm against the kernel.
 * Random policies built with libseccomp (default and rule actions ALLOW,
 * ERRNO(n) with n distinct per rule (1000 up) or 4000-4094, above any errno a call returns by
 * itself, TRAP, KILL_PROCESS, KILL_THREAD; rules with random 64-bit
 * argument comparisons) are exported with seccomp_export_bpf, and random
 * system calls with random arguments (drawn near the rules' constants too)
 * go through bpfvm (read, checked as the kernel checks seccomp filters,
 * converted, verified, run on seccomp_data) and through the kernel (the
 * same exported program installed in a forked child under
 * PR_SET_NO_NEW_PRIVS, which then makes the call).  The child reports
 * through shared memory what it saw: an errno of the filter's, the call
 * going through, a SIGSYS of TRAP, or its death by SIGSYS (KILL); the
 * child's alarm bounds each call to two seconds.  Only calls without effects
 * outside the child are made.
 */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpfvm/cbpf.h>
#include <bpfvm/syscalls.h>

#include "test.h"

/* Calls that touch nothing outside the child, whatever their arguments; and numbers no call has. */
static const int calls[] = { 39, 110, 102, 104, 107, 108, 186, 111, 24, 63, 140, 95, 79, 99, 100, 98,
			     8, 32, 124, 121, 145, 500, 1000, 0x40000000 + 39 };
#define NCALLS (sizeof(calls) / sizeof(calls[0]))

enum seen { SEEN_ALLOW, SEEN_ERRNO, SEEN_TRAP, SEEN_KILL };
static const char *const seen_name[] = { "allowed", "ERRNO", "TRAP", "killed by SIGSYS" };

struct shared {
	volatile int phase; /* 1: about to call, 2: the call returned, 3: SIGSYS caught */
	volatile long ret;
	volatile int err;
};

static struct shared *shm;
static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* exit_group itself: a sanitizer's _exit would make calls of its own under the filter first */
static void child_exit(void)
{
	syscall(SYS_exit_group, 0);
}

static void on_sigsys(int sig)
{
	(void)sig;
	if (shm->phase == 1) /* the call under test, not a later one */
		shm->phase = 3;
	child_exit();
}

/* The kernel's answer: install prog in a child, make the call. */
static enum seen kernel_run(const struct sock_fprog *prog, int nr, const uint64_t a[6], int *err)
{
	pid_t pid;
	int status = 0;

	shm->phase = 0;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		struct sigaction sa = { .sa_handler = on_sigsys };
		struct rlimit no_core = { 0, 0 };

		setrlimit(RLIMIT_CORE, &no_core); /* a KILL dumps core otherwise */
		sigaction(SIGSYS, &sa, NULL);
		alarm(2);
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, prog))
			_exit(99);
		shm->phase = 1;
		errno = 0;
		shm->ret = syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
		shm->err = errno;
		shm->phase = 2;
		child_exit(); /* every policy here allows exit_group */
	}
	if (pid < 0)
		return SEEN_KILL + 1;
	waitpid(pid, &status, 0); /* bounded: the child's alarm */
	*err = shm->err;
	if (shm->phase == 3)
		return SEEN_TRAP;
	if (shm->phase == 2)
		return shm->ret == -1 && shm->err >= 1000 ? SEEN_ERRNO : SEEN_ALLOW;
	if (shm->phase == 1 && WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS)
		return SEEN_KILL;
	*err = -1 - (WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status));
	return SEEN_KILL + 1;
}

/* What bpfvm's action means to the calling process. */
static enum seen expected(uint32_t ret, int *err)
{
	uint32_t data = ret & BPFVM_SECCOMP_RET_DATA;

	switch (ret & BPFVM_SECCOMP_RET_ACTION_FULL) {
	case BPFVM_SECCOMP_RET_ALLOW:
	case BPFVM_SECCOMP_RET_LOG:
		return SEEN_ALLOW;
	case BPFVM_SECCOMP_RET_ERRNO:
		*err = data > 4095 ? 4095 : (int)data;
		return SEEN_ERRNO;
	case BPFVM_SECCOMP_RET_TRAP:
		return SEEN_TRAP;
	}
	return SEEN_KILL;
}

static uint32_t random_action(int *next_errno)
{
	switch (rnd() % 6) {
	case 0: return SCMP_ACT_ALLOW;
	case 1: return SCMP_ACT_TRAP;
	case 2: return SCMP_ACT_KILL_PROCESS;
	case 3: return SCMP_ACT_KILL;
	case 4: return SCMP_ACT_ERRNO(4000 + (uint32_t)(rnd() % 95)); /* libseccomp takes up to 4094 */
	}
	return SCMP_ACT_ERRNO((uint32_t)(*next_errno)++);
}

/* A random policy; its constants go into pool for the calls' arguments. */
static scmp_filter_ctx random_policy(uint64_t *pool, size_t *npool)
{
	static const enum scmp_compare ops[] = { SCMP_CMP_EQ, SCMP_CMP_NE, SCMP_CMP_LT, SCMP_CMP_LE,
						 SCMP_CMP_GT, SCMP_CMP_GE, SCMP_CMP_MASKED_EQ };
	int next_errno = 1000;
	uint32_t def = random_action(&next_errno);
	scmp_filter_ctx ctx = seccomp_init(def == SCMP_ACT_KILL ? SCMP_ACT_KILL_PROCESS : def);
	int nrules = 1 + (int)(rnd() % 8);

	if (!ctx)
		return NULL;
	seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(exit_group), 0);
	for (int r = 0; r < nrules; r++) {
		struct scmp_arg_cmp cmp[3];
		unsigned n = (unsigned)(rnd() % 4);
		int nr = calls[rnd() % (NCALLS - 3)];

		for (unsigned c = 0; c < n; c++) {
			uint64_t v = rnd() % 3 ? rnd() % 16 : rnd() >> (rnd() % 64);
			cmp[c] = (struct scmp_arg_cmp){ c * 2 % 6 + (unsigned)(rnd() % 2), ops[rnd() % 7], v,
							rnd() % 2 ? v : rnd() };
			if (cmp[c].op == SCMP_CMP_MASKED_EQ)
				cmp[c].datum_a = rnd() >> (rnd() % 64), cmp[c].datum_b &= cmp[c].datum_a;
			if (*npool < 64)
				pool[(*npool)++] = cmp[c].datum_b;
		}
		/* conflicting or redundant rules are refused by libseccomp; the policy goes without */
		seccomp_rule_add_array(ctx, random_action(&next_errno), nr, n, cmp);
	}
	return ctx;
}

/* The exported program, as bytes. */
static uint8_t *export_bpf(scmp_filter_ctx ctx, size_t *len)
{
	FILE *f = tmpfile();
	uint8_t *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (!seccomp_export_bpf(ctx, fileno(f)) && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_END) == 0 &&
	    (n = ftell(f)) > 0) {
		buf = malloc((size_t)n);
		rewind(f);
		if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		}
		*len = (size_t)n;
	}
	fclose(f);
	return buf;
}

/* bpfvm's side: read, check, convert, verify; NULL after a FAIL. */
static struct bpfvm_prog *bpfvm_load(struct bpfvm *vm, const uint8_t *bytes, size_t len)
{
	char msg[1024] = "";
	struct bpfvm_log log = { msg, sizeof(msg), 0 };
	struct bpfvm_sock_filter *f = NULL;
	struct bpfvm_insn *insns = NULL;
	struct bpfvm_prog *prog = NULL;
	size_t cnt, n;

	if (bpfvm_cbpf_parse(bytes, len, &f, &cnt, &(struct bpfvm_cbpf_opts){ .sz = sizeof(struct bpfvm_cbpf_opts), .log = &log }) || bpfvm_cbpf_check(f, cnt, &(struct bpfvm_cbpf_opts){ .sz = sizeof(struct bpfvm_cbpf_opts), .log = &log }) ||
	    bpfvm_cbpf_seccomp_check(f, cnt, &(struct bpfvm_cbpf_opts){ .sz = sizeof(struct bpfvm_cbpf_opts), .log = &log }) || bpfvm_cbpf_convert(f, cnt, NULL, &insns, &n, NULL, &(struct bpfvm_cbpf_opts){ .sz = sizeof(struct bpfvm_cbpf_opts), .log = &log })) {
		TEST_FAIL("bpfvm refuses libseccomp's filter: %s", msg);
		goto out;
	}
	bpfvm_cbpf_prepare(insns, n);
	BPFVM_OPTS(bpfvm_prog_opts, po, .log = &log);
	prog = bpfvm_prog__new(vm, insns, n, &po);
	BPFVM_OPTS(bpfvm_verify_opts, vo, .log = &log, .flags = BPFVM_VERIFY_MEM,
		   .mem_size = sizeof(struct bpfvm_seccomp_data));
	if (!prog || bpfvm_prog__verify(prog, &vo)) {
		TEST_FAIL("the converted seccomp filter does not verify: %s", msg);
		prog = NULL;
	}
out:
	free(f);
	free(insns);
	return prog;
}

/* ncalls random calls through the exported program bytes, in bpfvm and in the kernel. */
static void compare_calls(const uint8_t *bytes, size_t len, int ncalls, const uint64_t *pool, size_t npool,
			  size_t *calls_done, size_t *kinds)
{
	struct bpfvm *vm = bpfvm__new(NULL);
	struct bpfvm_prog *prog = vm && !bpfvm_cbpf__register_fns(vm) ? bpfvm_load(vm, bytes, len) : NULL;
	struct sock_fprog fprog = { (unsigned short)(len / 8), (struct sock_filter *)(uintptr_t)bytes };

	for (int c = 0; prog && c < ncalls && !test_failed_now; c++) {
		struct bpfvm_seccomp_data sd = { .nr = calls[rnd() % NCALLS], .arch = BPFVM_AUDIT_ARCH_X86_64 };
		char msg[256] = "", act[64];
		struct bpfvm_log log = { msg, sizeof(msg), 0 };
		uint32_t ret;
		int kerr = 0, berr = 0;
		enum seen ks, bs;

		for (int i = 0; i < 6; i++) {
			uint64_t v = npool && rnd() % 2 ? pool[rnd() % npool] : rnd() >> (rnd() % 64);
			sd.args[i] = rnd() % 4 ? v : v + (rnd() % 3) - 1;
		}
		if (bpfvm_cbpf_run_seccomp(prog, &sd, rnd() % 2 ? BPFVM_EXEC_JIT : BPFVM_EXEC_UNCHECKED, &ret, &(struct bpfvm_cbpf_opts){ .sz = sizeof(struct bpfvm_cbpf_opts), .log = &log })) {
			TEST_FAIL("run: %s", msg);
			break;
		}
		bs = expected(ret, &berr);
		ks = kernel_run(&fprog, sd.nr, sd.args, &kerr);
		bpfvm_seccomp_action_str(ret, act, sizeof(act));
		if (ks > SEEN_KILL)
			TEST_FAIL("nr %d: the child failed (%d)", sd.nr, kerr);
		else if (ks != bs || (ks == SEEN_ERRNO && kerr != berr))
			TEST_FAIL("nr %d (%s) args %#llx %#llx %#llx %#llx %#llx %#llx: bpfvm %s, the kernel: %s%s%d",
				  sd.nr, bpfvm_syscall_x86_64_name(sd.nr & 0xffff) ?: "?",
				  (unsigned long long)sd.args[0], (unsigned long long)sd.args[1],
				  (unsigned long long)sd.args[2], (unsigned long long)sd.args[3],
				  (unsigned long long)sd.args[4], (unsigned long long)sd.args[5], act, seen_name[ks],
				  ks == SEEN_ERRNO ? " " : " errno ", kerr);
		kinds[ks]++;
		(*calls_done)++;
	}
	bpfvm__destroy(vm);
}

static void one_policy(size_t *calls_done, size_t *kinds)
{
	uint64_t pool[64];
	size_t npool = 0, len = 0;
	scmp_filter_ctx ctx = random_policy(pool, &npool);
	uint8_t *bytes = ctx ? export_bpf(ctx, &len) : NULL;

	if (!bytes)
		TEST_FAIL("libseccomp could not build or export a policy (%s)", ctx ? "export" : "init");
	else
		compare_calls(bytes, len, 12, pool, npool, calls_done, kinds);
	free(bytes);
	if (ctx)
		seccomp_release(ctx);
}

static int shared_init(void)
{
	if (!shm)
		shm = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shm == MAP_FAILED) {
		shm = NULL;
		TEST_FAIL("mmap: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Programs libseccomp does not write: errno capping, division by X, M[], len, the instruction pointer. */
#define ALLOW_EXIT { 0x20, 0, 0, 0 }, { 0x15, 0, 1, 231 }, { 0x06, 0, 0, 0x7fff0000 }
static const struct bpfvm_sock_filter hand[][12] = {
	{ ALLOW_EXIT, { 0x06, 0, 0, 0x50000 | 5000 } },
	{ ALLOW_EXIT, { 0x20, 0, 0, 16 }, { 0x07, 0, 0, 0 }, { 0x00, 0, 0, 1000 }, { 0x3c, 0, 0, 0 },
	  { 0x04, 0, 0, 1000 }, { 0x44, 0, 0, 0x50000 }, { 0x16, 0, 0, 0 } },
	{ ALLOW_EXIT, { 0x80, 0, 0, 0 }, { 0x02, 0, 0, 5 }, { 0x20, 0, 0, 8 }, { 0x54, 0, 0, 0 },
	  { 0x61, 0, 0, 5 }, { 0x0c, 0, 0, 0 }, { 0x04, 0, 0, 1000 }, { 0x44, 0, 0, 0x50000 }, { 0x16, 0, 0, 0 } },
	{ ALLOW_EXIT, { 0x20, 0, 0, 24 }, { 0x45, 0, 1, 0x80 }, { 0x06, 0, 0, 0x30000 }, { 0x25, 0, 1, 0x1000 },
	  { 0x06, 0, 0, 0x50000 | 2000 }, { 0x06, 0, 0, 0x7fff0000 } },
};
static const size_t hand_len[] = { 4, 10, 12, 9 };

TEST(hand_written_filters_against_kernel)
{
	static const uint64_t pool[] = { 0, 1, 2, 0x80, 0x81, 0x1000, 0x1001, 7, 1000, 0xffffffff00000000ull };
	size_t done = 0, kinds[4] = { 0 };

	if (shared_init())
		return;
	for (size_t h = 0; h < sizeof(hand_len) / sizeof(hand_len[0]) && !test_failed_now; h++)
		compare_calls((const uint8_t *)hand[h], hand_len[h] * 8, 20, pool, 10, &done, kinds);
	printf("# %zu calls through %zu hand-written filters: %zu allowed, %zu ERRNO, %zu TRAP, %zu killed\n",
	       done, sizeof(hand_len) / sizeof(hand_len[0]), kinds[0], kinds[1], kinds[2], kinds[3]);
}

TEST(libseccomp_policies_against_kernel)
{
	size_t done = 0, kinds[4] = { 0 };
	int policies = 0;

	if (shared_init())
		return;
	for (; policies < 100 && !test_failed_now; policies++)
		one_policy(&done, kinds);
	printf("# %d policies, %zu calls: %zu allowed, %zu ERRNO, %zu TRAP, %zu killed, each as the kernel\n",
	       policies, done, kinds[0], kinds[1], kinds[2], kinds[3]);
	if (!test_failed_now && (!kinds[0] || !kinds[1] || !kinds[2] || !kinds[3]))
		TEST_FAIL("some action never came up: the random policies test too little");
}

TEST(seccomp_action_names)
{
	char b[64];

	bpfvm_seccomp_action_str(BPFVM_SECCOMP_RET_ALLOW, b, sizeof(b));
	CHECK_STR(b, "ALLOW");
	bpfvm_seccomp_action_str(BPFVM_SECCOMP_RET_ERRNO | 13, b, sizeof(b));
	CHECK_STR(b, "ERRNO(13)");
	bpfvm_seccomp_action_str(BPFVM_SECCOMP_RET_ERRNO | 5000, b, sizeof(b));
	CHECK_STR(b, "ERRNO(4095)");
	bpfvm_seccomp_action_str(BPFVM_SECCOMP_RET_TRACE | 7, b, sizeof(b));
	CHECK_STR(b, "TRACE(7)");
	bpfvm_seccomp_action_str(BPFVM_SECCOMP_RET_KILL_PROCESS, b, sizeof(b));
	CHECK_STR(b, "KILL_PROCESS");
	bpfvm_seccomp_action_str(0, b, sizeof(b));
	CHECK_STR(b, "KILL_THREAD");
	bpfvm_seccomp_action_str(BPFVM_SECCOMP_RET_USER_NOTIF, b, sizeof(b));
	CHECK_STR(b, "USER_NOTIF");
	bpfvm_seccomp_action_str(BPFVM_SECCOMP_RET_LOG, b, sizeof(b));
	CHECK_STR(b, "LOG");
	bpfvm_seccomp_action_str(BPFVM_SECCOMP_RET_TRAP, b, sizeof(b));
	CHECK_STR(b, "TRAP");
	CHECK_EQ_INT(bpfvm_syscall_x86_64_nr("openat"), 257);
	CHECK_STR(bpfvm_syscall_x86_64_name(0), "read");
	CHECK(bpfvm_syscall_x86_64_name(400) == NULL);
}

TEST_MAIN()
