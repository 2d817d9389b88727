/*
 * test_kernel_trace.c - the same object (tests/data/trace/compare.bpf.c)
 * loaded into the kernel with libbpf, attached to the real tracepoints
 * (openat's enter and exit, clone's and clone3's exits in parent and
 * child, sched_process_fork/exec/exit, raw_tp/sys_enter reading the user's
 * pt_regs, raw_syscalls/sys_exit; each with the cgroup id) and filtered to the workload's
 * processes, and run under `bpfvm trace` on the same workload
 * (tests/data/trace/workload.c), started by bpfvm and taken running with
 * -p: the records are compared field by field, with pids mapped (the
 * workload is 1, its children 2, 3, ... in the order it creates them) and
 * file descriptors left out (their numbers depend on what each parent
 * leaves open).  The kernel run starts the workload paused to learn its
 * pid; the records before its first open of /etc/hostname (the program's
 * start-up, which the kernel run does not see) are left out of both.
 * Skips with the reason where bpf() or a tracepoint attach is refused.
 *
 * The same comparison runs on the workload linked statically, and built
 * with musl (static too), where musl-gcc is installed.
 *
 * Unlinks: this kernel has no kprobes, so examples/unlink_log.bpf.c
 * (ksyscall/unlinkat) runs under bpfvm and its tracepoint twin
 * (tests/data/trace/unlink_twin.bpf.c, sys_enter_unlinkat, the same
 * record) in the kernel, on tests/data/trace/unlinks.c.
 */
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kernel_cgroup.h"
#include "test.h"

enum { R_OPEN = 1, R_FORK, R_EXEC, R_EXIT, R_CLONE_RET, R_RAW_ENTER, R_RAW_EXIT };

struct rec {
	uint32_t type, pid, tid;
	int32_t a;
	uint32_t b, uid;
	char comm[16];
	char str[64];
	uint64_t cgid;
};

#define MAX_RECS 256

struct list {
	struct rec r[MAX_RECS];
	int n;
};

static char dir[64];
static char skip_why[256];
/* A cgroup v2 of its own for the workloads (when one can be made), and its id */
static char cg_dir[1100], cg_home[1024];
static uint64_t cg_id;

static int on_rec(void *ctx, void *data, size_t size)
{
	struct list *l = ctx;

	if (size >= sizeof(struct rec) && l->n < MAX_RECS)
		memcpy(&l->r[l->n++], data, sizeof(struct rec));
	return 0;
}

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level, (void)fmt, (void)ap;
	return 0;
}

static int set_filter(struct bpf_object *obj)
{
	struct bpf_map *m;

	bpf_object__for_each_map(m, obj) {
		size_t size;
		uint32_t *v;

		if (!strstr(bpf_map__name(m), ".rodata"))
			continue;
		v = (uint32_t *)bpf_map__initial_value(m, &size);
		if (!v || size < 4)
			return -1;
		*v = 1;
		return 0;
	}
	return -1;
}

/* Attach and run; 0, or 1 with skip_why set (the kernel refused), or -1. */
#define MAX_LINKS 12

static int kernel_attach_run(struct bpf_object *obj, pid_t child, int go, struct list *out,
			     struct bpf_link **links)
{
	struct bpf_program *p;
	struct ring_buffer *rb;
	uint64_t one = 1;
	uint32_t key = (uint32_t)child;
	int err, status, n = 0;

	err = bpf_object__load(obj);
	if (err) {
		snprintf(skip_why, sizeof(skip_why), "the kernel refuses to load the object: %s",
			 strerror(-err));
		return 1;
	}
	bpf_object__for_each_program(p, obj)
		if (n == MAX_LINKS || !(links[n++] = bpf_program__attach(p))) {
			snprintf(skip_why, sizeof(skip_why), "the kernel refuses to attach %s: %s",
				 bpf_program__name(p), strerror(errno));
			return 1;
		}
	if (bpf_map__update_elem(bpf_object__find_map_by_name(obj, "pids"), &key, 4, &one, 8, 0))
		return -1;
	rb = ring_buffer__new(bpf_map__fd(bpf_object__find_map_by_name(obj, "recs")), on_rec, out,
			      NULL);
	if (!rb || write(go, "g", 1) != 1)
		return -1;
	if (waitpid(child, &status, 0) != child)
		return -1;
	for (int i = 0; i < 5; i++)
		ring_buffer__poll(rb, 50);
	ring_buffer__free(rb);
	return 0;
}

static int run_kernel(const char *obj_path, const char *workload, struct list *out)
{
	struct bpf_object *obj = bpf_object__open_file(obj_path, NULL);
	struct bpf_link *links[MAX_LINKS] = { 0 };
	int go[2], rc;
	char fd[16];
	pid_t child;

	if (!obj || set_filter(obj) || pipe(go))
		return -1;
	child = fork();
	if (child == 0) {
		close(go[1]);
		snprintf(fd, sizeof(fd), "%d", go[0]);
		execl(workload, "workload", "wait", fd, (char *)NULL);
		_exit(127);
	}
	close(go[0]);
	rc = kernel_attach_run(obj, child, go[1], out, links);
	close(go[1]);
	if (rc) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
	for (int i = 0; i < MAX_LINKS; i++)
		bpf_link__destroy(links[i]);
	bpf_object__close(obj);
	return rc;
}

static int hexval(char c)
{
	return c >= 'a' ? c - 'a' + 10 : c - '0';
}

/* Is pid traced yet?  (TracerPid in its status) */
static bool traced(pid_t pid)
{
	char path[64], line[128];
	bool yes = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "TracerPid:", 10))
			yes = atoi(line + 10) != 0;
	if (f)
		fclose(f);
	return yes;
}

/* The workload started paused (as for the kernel), then taken with bpfvm trace -p. */
static FILE *start_seized(const char *cmd_base, const char *workload, pid_t *child)
{
	char cmd[600], fd[16];
	int go[2];
	FILE *f;

	if (pipe(go))
		return NULL;
	*child = fork();
	if (*child == 0) {
		close(go[1]);
		snprintf(fd, sizeof(fd), "%d", go[0]);
		execl(workload, "workload", "wait", fd, (char *)NULL);
		_exit(127);
	}
	close(go[0]);
	snprintf(cmd, sizeof(cmd), "%s -p %d", cmd_base, (int)*child);
	f = popen(cmd, "r");
	for (int i = 0; f && i < 500 && !traced(*child); i++)
		usleep(10000);
	if (!f || write(go[1], "g", 1) != 1) {
		kill(*child, SIGKILL);
		if (f)
			pclose(f);
		f = NULL;
	}
	close(go[1]);
	return f;
}

/* More options for bpfvm trace ("" or " --jit"). */
static const char *trace_flags = "";

/* bpfvm trace --json on workload: each ring buffer record's bytes to on(ctx, ...) */
static int run_bpfvm(const char *obj_path, const char *workload, bool seize,
		     int (*on)(void *ctx, void *data, size_t size), void *ctx)
{
	char cmd[512], line[4096];
	pid_t child = 0;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "%s/bpfvm trace --json%s %s%s%s",
		 getenv("BUILD") ? getenv("BUILD") : "build", trace_flags, obj_path, seize ? "" : " -- ",
		 seize ? "" : workload);
	f = seize ? start_seized(cmd, workload, &child) : popen(cmd, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *d = strstr(line, "\"data\":\"");
		uint8_t buf[512];
		size_t n = 0;

		if (!d)
			continue;
		for (d += 8; d[0] != '"' && d[1] && n < sizeof(buf); d += 2)
			buf[n++] = (uint8_t)(hexval(d[0]) << 4 | hexval(d[1]));
		on(ctx, buf, n);
	}
	if (child > 0)
		waitpid(child, NULL, 0);
	return pclose(f) == 0 ? 0 : -1;
}

/* 1 for the workload, 2... for its children in creation order, 99 for others. */
static uint32_t pid_index(const uint32_t *pids, int npids, uint32_t pid)
{
	for (int k = 0; k < npids; k++)
		if (pids[k] == pid)
			return (uint32_t)k + 1;
	return 99;
}

/* Records from the workload's first open of /etc/hostname, pids mapped, as sorted text. */
static int canonical(const struct list *l, char out[][192])
{
	uint32_t pids[16] = { 0 };
	int npids = 0, n = 0, first = -1;

	for (int i = 0; i < l->n && first < 0; i++)
		if (l->r[i].type == R_OPEN && !strcmp(l->r[i].str, "/etc/hostname"))
			first = i;
	if (first < 0)
		return 0;
	pids[npids++] = l->r[first].pid;
	for (int i = first; i < l->n; i++)
		if (l->r[i].type == R_FORK && npids < 16)
			pids[npids++] = (uint32_t)l->r[i].a;
#define MAP(V) pid_index(pids, npids, (uint32_t)(V))
	for (int i = first; i < l->n; i++) {
		const struct rec *r = &l->r[i];
		int32_t a = r->type == R_OPEN || r->type == R_RAW_EXIT ? (r->a >= 0 ? 0 : r->a)  /* fds */
			  : r->type == R_EXIT || r->type == R_RAW_ENTER ||
			    (r->type == R_CLONE_RET && r->a <= 0) ? r->a
			  : (int32_t)MAP(r->a);
		uint32_t b = r->type == R_OPEN || r->type >= R_CLONE_RET ? r->b : MAP(r->b);

		snprintf(out[n++], 192, "type %u pid %u tid %u a %d b %#x uid %u comm %.16s str %.64s "
			 "cgroup %llu", r->type, MAP(r->pid), MAP(r->tid), a, b, r->uid, r->comm, r->str,
			 (unsigned long long)r->cgid);
	}
#undef MAP
	qsort(out, (size_t)n, 192, (int (*)(const void *, const void *))strcmp);
	return n;
}

typedef int (*canonical_fn)(const struct list *l, char out[][192]);

/*
 * Run kobject on workload in the kernel (into *k) and object under bpfvm
 * (seize: taken with -p), and compare their records as canon writes them:
 * false when the kernel refused (a SKIP printed).
 */
static bool compare_twins(const char *kobject, const char *object, const char *workload_name,
			  bool seize, canonical_fn canon, int min_records, struct list *k)
{
	static struct list v;
	static char ck[MAX_RECS][192], cv[MAX_RECS][192];
	char obj[128], workload[128];
	int rc, nk, nv;

	memset(k, 0, sizeof(*k));
	memset(&v, 0, sizeof(v));
	snprintf(obj, sizeof(obj), "%s/%s", dir, kobject);
	snprintf(workload, sizeof(workload), "%s/%s", dir, workload_name);
	rc = run_kernel(obj, workload, k);
	snprintf(obj, sizeof(obj), "%s/%s", dir, object);
	if (rc == 1) {
		printf("SKIP %s: %s\n", test_current_name(), skip_why);
		return false;
	}
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_INT(run_bpfvm(obj, workload, seize, on_rec, &v), 0);
	nk = canon(k, ck);
	nv = canon(&v, cv);
	CHECK(nk >= min_records);
	for (int i = 0; i < nk || i < nv; i++)
		if (i >= nk || i >= nv || strcmp(ck[i], cv[i]))
			TEST_FAIL("record %d: kernel '%s', bpfvm '%s'", i, i < nk ? ck[i] : "(none)",
				  i < nv ? cv[i] : "(none)");
	printf("# %d records agree\n", nk == nv ? nk : -1);
	if (getenv("TRACE_SHOW"))
		for (int i = 0; i < nk; i++)
			printf("#   %s\n", ck[i]);
	return true;
}

/* The same object in the kernel and under bpfvm. */
static bool compare_runs(const char *object, const char *workload_name, bool seize,
			 canonical_fn canon, int min_records, struct list *k)
{
	return compare_twins(object, object, workload_name, seize, canon, min_records, k);
}

static void compare_workload(const char *workload, bool seize)
{
	static struct list k;

	/* opens, a fork, a thread, an exec, exits: 20 at least */
	if (compare_runs("compare.bpf.o", workload, seize, canonical, 20, &k) && cg_id && k.n)
		CHECK_EQ_U64(k.r[k.n - 1].cgid, cg_id);   /* the test's own cgroup, in every record */
}

static void compare(bool seize)
{
	compare_workload("workload", seize);
}

/* bpfvm starts the workload (seccomp filter + ptrace) */
TEST(kernel_and_bpfvm_trace_the_same_events)
{
	compare(false);
}

/* bpfvm takes the running workload with -p (PTRACE_SEIZE, every call stopped) */
TEST(kernel_and_bpfvm_trace_p_the_same_events)
{
	compare(true);
}

/* The same workload linked statically: no dynamic loader, glibc's own start-up. */
TEST(kernel_and_bpfvm_trace_a_static_program)
{
	compare_workload("workload.static", false);
}

/* ...and built with musl (its own fork, threads and start-up), where musl-gcc is installed. */
TEST(kernel_and_bpfvm_trace_a_musl_program)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/workload.musl", dir);
	if (access(path, X_OK)) {
		printf("SKIP %s: musl-gcc (musl-tools) is not installed\n", test_current_name());
		return;
	}
	compare_workload("workload.musl", false);
}

/* ---- unlinks: ksyscall under bpfvm, its sys_enter_unlinkat twin in the kernel ---------------- */

struct unlink_rec {
	uint32_t pid, tid;
	int32_t dfd;
	uint32_t flag;
	char comm[16];
	char path[128];
};

struct unlink_list {
	struct unlink_rec r[16];
	int n;
};

static int on_unlink(void *ctx, void *data, size_t size)
{
	struct unlink_list *l = ctx;

	if (size >= sizeof(struct unlink_rec) && l->n < 16)
		memcpy(&l->r[l->n++], data, sizeof(struct unlink_rec));
	return 0;
}

/* The twin in the kernel, on the paused workload child: 0, 1 (skip_why), -1. */
static int kernel_unlinks(struct bpf_object *obj, pid_t child, int go, struct unlink_list *out)
{
	struct bpf_program *p = bpf_object__next_program(obj, NULL);
	struct bpf_link *link;
	struct ring_buffer *rb;
	struct bpf_map *m;
	int err, status;

	bpf_object__for_each_map(m, obj) {
		size_t size;
		uint32_t *v = strstr(bpf_map__name(m), ".rodata") ?
			      (uint32_t *)bpf_map__initial_value(m, &size) : NULL;

		if (v && size >= 4)
			*v = (uint32_t)child;
	}
	err = bpf_object__load(obj);
	if (err) {
		snprintf(skip_why, sizeof(skip_why), "the kernel refuses to load the object: %s",
			 strerror(-err));
		return 1;
	}
	link = bpf_program__attach(p);
	if (!link) {
		snprintf(skip_why, sizeof(skip_why), "the kernel refuses to attach %s: %s",
			 bpf_program__name(p), strerror(errno));
		return 1;
	}
	rb = ring_buffer__new(bpf_map__fd(bpf_object__find_map_by_name(obj, "events")), on_unlink,
			      out, NULL);
	err = !rb || write(go, "g", 1) != 1 || waitpid(child, &status, 0) != child ? -1 : 0;
	for (int i = 0; rb && i < 5; i++)
		ring_buffer__poll(rb, 50);
	ring_buffer__free(rb);
	bpf_link__destroy(link);
	return err;
}

static int run_kernel_unlinks(const char *obj_path, const char *workload, struct unlink_list *out)
{
	struct bpf_object *obj = bpf_object__open_file(obj_path, NULL);
	int go[2], rc;
	char fd[16];
	pid_t child;

	if (!obj || pipe(go))
		return -1;
	child = fork();
	if (child == 0) {
		close(go[1]);
		snprintf(fd, sizeof(fd), "%d", go[0]);
		/* its results are not this test's lines (dup2: this stdio buffer is not to be flushed) */
		int null = open("/dev/null", O_WRONLY);

		if (null < 0 || dup2(null, 1) < 0)
			_exit(127);
		execl(workload, "unlinks", "wait", fd, (char *)NULL);
		_exit(127);
	}
	close(go[0]);
	rc = kernel_unlinks(obj, child, go[1], out);
	close(go[1]);
	if (rc) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
	bpf_object__close(obj);
	return rc;
}

/* pid 1 (the workload), tid 1 (its main thread) or 2 (another), as sorted text */
static int canonical_unlinks(const struct unlink_list *l, char out[][256])
{
	for (int i = 0; i < l->n; i++) {
		const struct unlink_rec *r = &l->r[i];

		snprintf(out[i], 256, "pid %d tid %d dfd %d flag %#x comm %.16s path %.128s",
			 r->pid == l->r[0].pid ? 1 : 99, r->tid == r->pid ? 1 : 2, r->dfd, r->flag,
			 r->comm, r->path);
	}
	qsort(out, (size_t)l->n, 256, (int (*)(const void *, const void *))strcmp);
	return l->n;
}

TEST(kernel_tracepoint_and_bpfvm_ksyscall_see_the_same_unlinks)
{
	static struct unlink_list k, v;
	static char ck[16][256], cv[16][256];
	char twin[128], example[128], workload[128];
	int rc, nk, nv;

	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	snprintf(twin, sizeof(twin), "%s/unlink_twin.bpf.o", dir);
	snprintf(example, sizeof(example), "%s/unlink_log.bpf.o", dir);
	snprintf(workload, sizeof(workload), "%s/unlinks", dir);
	rc = run_kernel_unlinks(twin, workload, &k);
	if (rc == 1) {
		printf("SKIP %s: %s\n", test_current_name(), skip_why);
		return;
	}
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_INT(run_bpfvm(example, workload, false, on_unlink, &v), 0);
	nk = canonical_unlinks(&k, ck);
	nv = canonical_unlinks(&v, cv);
	CHECK_EQ_INT(nk, 2);   /* the unlink and the thread's rmdir */
	for (int i = 0; i < nk || i < nv; i++)
		if (i >= nk || i >= nv || strcmp(ck[i], cv[i]))
			TEST_FAIL("record %d: kernel '%s', bpfvm '%s'", i, i < nk ? ck[i] : "(none)",
				  i < nv ? cv[i] : "(none)");
	if (getenv("TRACE_SHOW"))
		for (int i = 0; i < nk; i++)
			printf("#   %s\n", ck[i]);
}

/* ---- signal_generate and signal_deliver (tests/data/trace/signals.bpf.c) -------------------- */

struct sigrec {
	uint32_t type, pid, tid;
	int32_t sig, code, err, target, group, result, pad;
	char comm[16], tcomm[16];
	uint64_t handler, flags;
	char rest[24];
};

_Static_assert(sizeof(struct sigrec) == sizeof(struct rec), "signal records ride in struct rec");

/* ids: the workload 1, its children 2..., its other threads 50...; others 99 */
static uint32_t sig_index(uint32_t *ids, int *n, uint32_t id, bool add)
{
	for (int k = 0; k < *n; k++)
		if (ids[k] == id)
			return k < 16 ? (uint32_t)k + 1 : (uint32_t)k + 34;
	if (!add || *n >= 32)
		return 99;
	if (*n < 16)
		*n = 16;    /* threads after the processes' slots */
	ids[(*n)++] = id;
	return (uint32_t)*n + 33;
}

static int canonical_signals(const struct list *l, char out[][192])
{
	uint32_t ids[32] = { 0 };
	int nproc = 0, nall = 16, n = 0;

	for (int i = 0; i < l->n; i++) {
		struct sigrec r;

		memcpy(&r, &l->r[i], sizeof(r));
		if (!nproc)
			ids[nproc++] = r.pid;
		if (r.type == 2 && nproc < 16)
			ids[nproc++] = (uint32_t)r.sig;   /* a fork: its child */
	}
	for (int i = 0; i < l->n; i++) {
		struct sigrec r;
		uint32_t pid, tid, target;

		memcpy(&r, &l->r[i], sizeof(r));
		/*
		 * A timer's signal to a process outside the tree (SI_KERNEL, sent from the
		 * interrupt): the kernel runs signal_generate with whatever task the interrupt
		 * came in, here one of the tree's on a busy machine.  Not the tree's signal.
		 */
		if (r.type == 8 && r.code == 0x80 && r.group &&
		    sig_index(ids, &nall, (uint32_t)r.target, false) == 99)
			continue;
		pid = sig_index(ids, &nall, r.pid, false);
		tid = r.tid == r.pid ? pid : sig_index(ids, &nall, r.tid, true);
		if (r.type == 2) {
			snprintf(out[n++], 192, "fork by %u/%u: child %u", pid, tid,
				 sig_index(ids, &nall, (uint32_t)r.sig, false));
			continue;
		}
		target = r.type == 8 ? sig_index(ids, &nall, (uint32_t)r.target, !r.group) : 0;
		snprintf(out[n++], 192, "%s %u/%u comm %.16s: sig %d errno %d code %d "
			 "target %u %.16s group %d result %d handler %#llx flags %#llx",
			 r.type == 8 ? "generate" : "deliver", pid, tid, r.comm, r.sig, r.err, r.code,
			 target, target == 99 ? "" : r.tcomm, r.group, r.result,
			 (unsigned long long)r.handler, (unsigned long long)r.flags);
	}
	qsort(out, (size_t)n, 192, (int (*)(const void *, const void *))strcmp);
	return n;
}

/*
 * Signals sent and received by the tree, and sent to it by the kernel:
 * the kernel's tracepoints and bpfvm's, record for record
 */
TEST(kernel_and_bpfvm_see_the_same_signals)
{
	static struct list k;

	/*
	 * 12 generate (2 of them the kernel's own: a fault's SIGSEGV and
	 * SIGPIPE; 2 from one kill(0, ...)), 9 deliver, 3 forks (2 threads,
	 * a child)
	 */
	compare_runs("signals.bpf.o", "signals", false, canonical_signals, 24, &k);
}

/* ---- do_unlinkat: a kprobe under bpfvm, its tracepoint twin in the kernel ------------------- */

struct krec {
	uint32_t type, pid, tid;
	int32_t dfd;
	int64_t ret;
	char comm[16], path[72];   /* the records' first 112 bytes */
};

_Static_assert(sizeof(struct krec) == sizeof(struct rec), "unlink records ride in struct rec");

/* In order (one thread); the workload 1, others 99; dfd AT_FDCWD or "fd" (numbers differ) */
static int canonical_kunlinks(const struct list *l, char out[][192])
{
	struct krec r, first;

	memcpy(&first, &l->r[0], sizeof(first));
	for (int i = 0; i < l->n; i++) {
		memcpy(&r, &l->r[i], sizeof(r));
		snprintf(out[i], 192, "type %u pid %u tid %u dfd %s ret %lld comm %.16s path %.72s",
			 r.type, r.pid == first.pid ? 1 : 99, r.tid == first.pid ? 1 : 99,
			 r.type == 2 ? "-" : r.dfd == -100 ? "AT_FDCWD" : r.dfd >= 0 ? "fd" : "bad",
			 (long long)r.ret,
			 r.comm, r.path);
	}
	return l->n;
}

/*
 * examples/unlink_kprobe.bpf.c (kprobe and kretprobe on do_unlinkat, the
 * path from struct filename with CO-RE) under bpfvm, and its tracepoint
 * twin in the kernel, which has no kprobes, on unlink_kinds: unlink() of a
 * file and a missing one, unlinkat() through a directory fd, of an empty
 * path (getname fails: the kprobe's name is an ERR_PTR, its path empty);
 * with a bad flag and AT_REMOVEDIR do_unlinkat is not entered.
 */
TEST(kernel_twin_and_bpfvm_do_unlinkat_kprobe_agree)
{
	static struct list k;

	compare_twins("unlink_kprobe_twin.bpf.o", "unlink_kprobe.bpf.o", "unlink_kinds", false,
		      canonical_kunlinks, 8, &k);
}

/* ---- the current task_struct (tests/data/trace/task.bpf.c) -------------------------------- */

struct taskrec {
	uint32_t type, pid, tid, t_pid, t_tgid, ppid, parent, leader, uid, gid, euid, level;
	uint32_t flags, exiting;
	int32_t exit_code;
	uint32_t has_mm, times_ok, child;
	char comm[16], pcomm[16], path[8];
};

_Static_assert(sizeof(struct taskrec) == sizeof(struct rec), "task records ride in struct rec");

/* From the workload's first open of /etc/hostname, pids mapped as canonical does, sorted. */
static int canonical_task(const struct list *l, char out[][192])
{
	uint32_t pids[16] = { 0 };
	int npids = 0, n = 0, first = -1;
	struct taskrec r;
	char line[512];

	for (int i = 0; i < l->n && first < 0; i++) {
		memcpy(&r, &l->r[i], sizeof(r));
		if (r.type == 1 && !strncmp(r.path, "/etc/hos", 8))
			first = i;
	}
	if (first < 0)
		return 0;
	pids[npids++] = r.pid;
	for (int i = first; i < l->n; i++) {
		memcpy(&r, &l->r[i], sizeof(r));
		if (r.type == 2 && npids < 16)
			pids[npids++] = r.child;
	}
#define MAP(V) pid_index(pids, npids, (uint32_t)(V))
	for (int i = first; i < l->n; i++) {
		memcpy(&r, &l->r[i], sizeof(r));
		snprintf(line, sizeof(line), "type %u pid %u tid %u task %u/%u parent %u/%u leader %u "
			 "ids %u/%u/%u level %u flags %#x exiting %#x code %#x mm %u times %u "
			 "child %u comm %.16s pcomm %.16s", r.type, MAP(r.pid),
			 r.tid == r.pid ? MAP(r.tid) : 50, r.t_pid == r.pid ? MAP(r.t_pid) : 50,
			 MAP(r.t_tgid), MAP(r.ppid), MAP(r.parent), MAP(r.leader), r.uid, r.gid, r.euid,
			 r.level, r.flags, r.exiting, (unsigned)r.exit_code, r.has_mm, r.times_ok,
			 MAP(r.child), r.comm, MAP(r.ppid) == 99 ? "-" : r.pcomm);
		snprintf(out[n++], 192, "%.191s", line);
	}
#undef MAP
	qsort(out, (size_t)n, 192, (int (*)(const void *, const void *))strcmp);
	return n;
}

/*
 * bpf_get_current_task's task_struct read with BPF_CORE_READ: the kernel's
 * and the one bpfvm lays out per the same BTF say the same at each open,
 * fork, exec and exit of the workload (its parent is the test in the kernel
 * run and bpfvm in bpfvm's: both unmapped, 99, with their comm left out).
 */
TEST(kernel_and_bpfvm_current_task_struct_agree)
{
	static struct list k;

	/* 5 opens, a fork, the child's open and exit, the thread's open and exit, an exec */
	compare_runs("task.bpf.o", "workload", false, canonical_task, 10, &k);
}

/*
 * The same record read through bpf_get_current_task_btf with direct loads
 * (tests/data/trace/task_btf.bpf.c): bpfvm's verifier types them by the
 * kernel's BTF and runs them as probing loads on its task_struct, in the
 * interpreter and in the JIT.
 */
TEST(kernel_and_bpfvm_current_task_btf_agree)
{
	static struct list k;

	compare_runs("task_btf.bpf.o", "workload", false, canonical_task, 10, &k);
	trace_flags = " --jit";
	compare_runs("task_btf.bpf.o", "workload", false, canonical_task, 10, &k);
	trace_flags = "";
}

/*
 * Move this test into a new cgroup v2 under its own, so that the cgroup ids
 * the programs report are not the root's (1); where that cannot be done
 * the records still compare, with whatever id the test has.
 */
static void enter_own_cgroup(void)
{
	char mnt[512], rel[512];
	struct stat st;

	if (kernel_own_cgroup(mnt, rel))
		return;
	snprintf(cg_home, sizeof(cg_home), "%s%s", mnt, strcmp(rel, "/") ? rel : "");
	snprintf(cg_dir, sizeof(cg_dir), "%s/bpfvm_ktrace_%d", cg_home, (int)getpid());
	if (mkdir(cg_dir, 0755) || stat(cg_dir, &st) || cgroup_move(cg_dir, getpid())) {
		rmdir(cg_dir);
		cg_dir[0] = '\0';
		return;
	}
	cg_id = (uint64_t)st.st_ino;
	printf("# the workloads run in cgroup %s (id %llu)\n", cg_dir, (unsigned long long)cg_id);
}

static void leave_own_cgroup(void)
{
	if (cg_dir[0] && (cgroup_move(cg_home, getpid()) || rmdir(cg_dir)))
		fprintf(stderr, "cannot remove cgroup %s\n", cg_dir);
}

int main(void)
{
	char cmd[2800];
	int rc;

	snprintf(dir, sizeof(dir), "/tmp/bpfvm_ktrace_XXXXXX");
	if (system("command -v clang-19 >/dev/null 2>&1") || !mkdtemp(dir)) {
		printf("SKIP kernel_trace: clang-19 is missing\n");
		return 0;
	}
	snprintf(cmd, sizeof(cmd), "clang-19 -O2 -g -target bpf -D__TARGET_ARCH_x86 "
		 "-I/usr/include/$(uname -m)-linux-gnu -c tests/data/trace/compare.bpf.c -o %s/compare.bpf.o"
		 " && cc -O2 -pthread -o %s/workload tests/data/trace/workload.c"
		 " && clang-19 -O2 -g -target bpf -D__TARGET_ARCH_x86 -I/usr/include/$(uname -m)-linux-gnu"
		 " -c tests/data/trace/unlink_twin.bpf.c -o %s/unlink_twin.bpf.o"
		 " && clang-19 -O2 -g -target bpf -D__TARGET_ARCH_x86 -I/usr/include/$(uname -m)-linux-gnu"
		 " -c examples/unlink_log.bpf.c -o %s/unlink_log.bpf.o"
		 " && cc -O2 -pthread -o %s/unlinks tests/data/trace/unlinks.c"
		 " && clang-19 -O2 -g -target bpf -I/usr/include/$(uname -m)-linux-gnu"
		 " -c tests/data/trace/signals.bpf.c -o %s/signals.bpf.o"
		 /* not position-independent: its handlers' addresses are the same in both runs */
		 " && cc -O2 -no-pie -pthread -o %s/signals tests/data/trace/signals.c"
		 " && cc -O2 -static -pthread -o %s/workload.static tests/data/trace/workload.c"
		 " && { ! command -v musl-gcc >/dev/null ||"
		 " musl-gcc -O2 -static -pthread -o %s/workload.musl tests/data/trace/workload.c; }"
		 " && clang-19 -O2 -g -target bpf -D__TARGET_ARCH_x86 -I/usr/include/$(uname -m)-linux-gnu"
		 " -Iexamples -c tests/data/trace/task.bpf.c -o %s/task.bpf.o"
		 " && clang-19 -O2 -g -target bpf -D__TARGET_ARCH_x86 -I/usr/include/$(uname -m)-linux-gnu"
		 " -Iexamples -c tests/data/trace/task_btf.bpf.c -o %s/task_btf.bpf.o"
		 " && clang-19 -O2 -g -target bpf -D__TARGET_ARCH_x86 -I/usr/include/$(uname -m)-linux-gnu"
		 " -c tests/data/trace/unlink_kprobe_twin.bpf.c -o %s/unlink_kprobe_twin.bpf.o"
		 " && clang-19 -O2 -g -target bpf -D__TARGET_ARCH_x86 -I/usr/include/$(uname -m)-linux-gnu"
		 " -c examples/unlink_kprobe.bpf.c -o %s/unlink_kprobe.bpf.o"
		 " && cc -O2 -o %s/unlink_kinds tests/data/trace/unlink_kinds.c",
		 dir, dir, dir, dir, dir, dir, dir, dir, dir, dir, dir, dir, dir, dir);
	if (system(cmd)) {
		printf("FAIL kernel_trace: the object or the workload does not build\n");
		return 1;
	}
	libbpf_set_print(quiet);
	alarm(60);   /* bound the whole test */
	enter_own_cgroup();
	rc = test_main();
	leave_own_cgroup();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		fprintf(stderr, "cannot remove %s\n", dir);
	return rc;
}
