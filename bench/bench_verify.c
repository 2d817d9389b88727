/*
 * bench_verify.c - `make bench`: how long bpfvm's verifier takes against
 * the Linux kernel's, on the same programs.
 *
 *   bench_verify [BENCH_DIR]
 *
 * The programs: the kernel's verifier selftests bpfvm runs
 * ($SHARED/verifier-cases/kernel-selftests.jsonl, default ../shared), each
 * with the maps its fixups name; bounded loops (a counter to 100,000, the
 * same beyond the kernel's 1,000,000-instruction limit, nested loops); and
 * bpfvm's own benchmark programs as XDP programs (BENCH_DIR/xdp/NAME.o,
 * bench/xdp_entry.c around bench/progs/NAME.c): bpfvm opens and loads the
 * object as `bpfvm verify` does, the kernel through libbpf (kernel_xdp.c);
 * their lines name both verdicts and instructions processed.
 *
 * bpfvm's time is the thread's CPU time around bpfvm_prog__verify; the
 * kernel's is the "verification time" its own log reports (log level
 * BPF_LOG_STATS) when the program is loaded with bpf(BPF_PROG_LOAD), which
 * needs root (or CAP_BPF); without it the kernel's column says n/a.  Each
 * figure is the smallest of REPS runs.  The program's verdict and the
 * instructions processed are compared too: a mismatch is printed (the
 * selftest runner is where verdicts are judged), it does not stop the
 * benchmark.  Nothing here asserts on speed, except that the loop of
 * 100,000 iterations is to take under 20 ms: its line says "(goal: < 20 ms)".
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <bpfvm/object.h>

#include "../tests/kernel/kernel_bpf.h"
#include "kernel_xdp.h"
#include "verifier_cases.h"

#define REPS 5
#define MAX_INSNS (1 << 17)

struct measure {
	int err;              /* 0: accepted */
	uint64_t insns;       /* processed */
	double us;            /* smallest of REPS */
};

static double thread_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* ---- bpfvm ------------------------------------------------------------------------ */

/* A selftest case (line) or, with line NULL, the program insns as a socket filter. */
static int bpfvm_measure(const char *line, const struct bpfvm_insn *in, size_t cnt, uint32_t vflags,
			 uint64_t mem_size, struct measure *m)
{
	static struct bpfvm_insn insns[MAX_INSNS];
	struct bpfvm_map *maps[MAX_MAPS];
	struct bpfvm *vm = bpfvm__new(NULL);
	size_t nmaps = 0;
	char why[256];
	uint32_t type = line ? (uint32_t)json_num(line, "prog_type", 0) : 0;
	struct bpfvm_prog *prog;

	memcpy(insns, in, cnt * sizeof(*insns));
	stub_missing_helpers(vm);
	if (line)
		vflags |= verify_flags(json_num(line, "flags", 0));
	if (line && fix_maps(line, vm, insns, cnt, maps, &nmaps, why, sizeof(why))) {
		bpfvm__destroy(vm);
		return -1;
	}
	BPFVM_OPTS(bpfvm_prog_opts, popts, .name = "bench", .maps = maps, .nmaps = nmaps,
		   .prog_type = type ? type : BPF_PROG_TYPE_SOCKET_FILTER, .license = "GPL",
		   .expected_attach_type = line ? (uint32_t)json_num(line, "expected_attach_type", 0) : 0);
	m->us = thread_us();
	prog = bpfvm_prog__new(vm, insns, cnt, &popts);
	/* refused before the walk (structure, references): that is the time */
	m->us = prog ? 1e18 : thread_us() - m->us;
	m->err = prog ? 0 : -EINVAL;
	m->insns = 0;
	for (int r = 0; prog && r < REPS; r++) {
		struct bpfvm_verify_stats st = { 0 };
		BPFVM_OPTS(bpfvm_verify_opts, vo, .stats = &st, .flags = vflags, .mem_size = mem_size);
		double t = thread_us();

		m->err = bpfvm_prog__verify(prog, &vo);
		t = thread_us() - t;
		m->insns = st.insns_processed;
		if (t < m->us)
			m->us = t;
	}
	bpfvm__destroy(vm);
	return m->err == -ENOTSUP ? -1 : 0;
}

/* ---- the kernel --------------------------------------------------------------------- */

static int kernel_map(const struct map_kind *k)
{
	union bpf_attr a;
	int inner = -1, fd;

	memset(&a, 0, sizeof(a));
	if (k->type == BPF_MAP_TYPE_ARRAY_OF_MAPS) {
		a.map_type = BPF_MAP_TYPE_ARRAY;
		a.key_size = a.value_size = 4;
		a.max_entries = 1;
		if ((inner = (int)sys_bpf(BPF_MAP_CREATE, &a)) < 0)
			return -1;
		memset(&a, 0, sizeof(a));
		a.inner_map_fd = (uint32_t)inner;
	}
	a.map_type = k->type;
	a.key_size = k->key_size;
	a.value_size = k->value_size;
	a.max_entries = k->type == BPF_MAP_TYPE_PERF_EVENT_ARRAY ? (uint32_t)sysconf(_SC_NPROCESSORS_CONF)
								  : k->max_entries;
	a.map_flags = k->flags;
	fd = (int)sys_bpf(BPF_MAP_CREATE, &a);
	if (inner >= 0)
		close(inner);
	return fd;
}

/* The case's maps in the kernel, their fds in the instructions; -1 if one cannot be made. */
static int kernel_maps(const char *line, struct bpfvm_insn *insns, size_t cnt, int *fds, int *nfds)
{
	*nfds = 0;
	for (size_t k = 0; line && k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		int idx[32];
		size_t n = json_ints(json_find(line, kinds[k].key), idx, 32);

		if (!n)
			continue;
		if (kinds[k].skip || (fds[*nfds] = kernel_map(&kinds[k])) < 0)
			return -1;
		for (size_t i = 0; i < n; i++)
			if ((size_t)idx[i] < cnt)
				insns[idx[i]].imm = fds[*nfds];
		(*nfds)++;
	}
	return 0;
}

static void kernel_load(const char *line, const struct bpfvm_insn *insns, size_t cnt, char *log,
			size_t logsz, struct measure *m)
{
	union bpf_attr a;
	const char *p;
	int fd;

	memset(&a, 0, sizeof(a));
	a.prog_type = line && json_num(line, "prog_type", 0) ? (uint32_t)json_num(line, "prog_type", 0)
							      : BPF_PROG_TYPE_SOCKET_FILTER;
	a.expected_attach_type = line ? (uint32_t)json_num(line, "expected_attach_type", 0) : 0;
	a.insns = (uint64_t)(uintptr_t)insns;
	a.insn_cnt = (uint32_t)cnt;
	a.license = (uint64_t)(uintptr_t)"GPL";
	a.log_level = 4; /* BPF_LOG_STATS: the statistics line only */
	a.log_buf = (uint64_t)(uintptr_t)log;
	a.log_size = (uint32_t)logsz;
	if (line) {
		long f = json_num(line, "flags", 0);

		a.prog_flags = (f & 2 ? BPF_F_STRICT_ALIGNMENT : 0) | (f & 8 ? BPF_F_TEST_STATE_FREQ : 0) |
			       (f & 16 ? BPF_F_SLEEPABLE : 0);
	}
	log[0] = '\0';
	fd = (int)sys_bpf(BPF_PROG_LOAD, &a);
	m->err = fd < 0 ? -errno : 0;
	if (fd >= 0)
		close(fd);
	if ((p = strstr(log, "processed ")))
		m->insns = strtoull(p + 10, NULL, 10);
	if ((p = strstr(log, "verification time ")))
		m->us = strtod(p + 18, NULL);
	else
		m->us = -1;
}

/* -1 when the kernel cannot be asked (no permission) or the program not loaded with its maps. */
static int kernel_measure(const char *line, const struct bpfvm_insn *in, size_t cnt, struct measure *m)
{
	static struct bpfvm_insn insns[MAX_INSNS];
	static char log[4096];
	int fds[MAX_MAPS], nfds;
	double best = 1e18;

	memcpy(insns, in, cnt * sizeof(*insns));
	if (kernel_maps(line, insns, cnt, fds, &nfds))
		return -1;
	for (int r = 0; r < REPS; r++) {
		kernel_load(line, insns, cnt, log, sizeof(log), m);
		if (m->us < 0 || m->err == -EPERM)
			break;
		if (m->us < best)
			best = m->us;
	}
	while (nfds--)
		close(fds[nfds]);
	if (m->us < 0 || m->err == -EPERM)
		return -1;
	m->us = best;
	return 0;
}

/* ---- the table ---------------------------------------------------------------------- */

struct row {
	const char *name;
	unsigned n, nk, verdict_diff, insn_diff;
	double us, kus, us_k;   /* bpfvm; kernel; bpfvm on what the kernel measured */
};

static void add(struct row *r, const struct measure *b, const struct measure *k, bool have_k)
{
	r->n++;
	r->us += b->us;
	if (!have_k)
		return;
	r->nk++;
	r->kus += k->us;
	r->us_k += b->us;
	r->verdict_diff += !b->err != !k->err;
	r->insn_diff += b->insns != k->insns;
}

static void print_row(const struct row *r, const char *note)
{
	printf("  %-44s %5u %10.2f", r->name, r->n, r->us / 1e3);
	if (r->nk)
		printf(" %10.2f %8.3fx", r->kus / 1e3, r->kus > 0 ? r->us_k / r->kus : 0);
	else
		printf(" %10s %9s", "n/a", "");
	printf("%s\n", note ? note : "");
	if (r->verdict_diff || r->insn_diff)
		printf("  %-44s verdicts differ on %u, instructions processed on %u\n", "", r->verdict_diff,
		       r->insn_diff);
}

static void selftests(struct row *acc, struct row *rej)
{
	static char line[1 << 20];
	static struct bpfvm_insn insns[MAX_INSNS];
	const char *shared = getenv("SHARED") ? getenv("SHARED") : "../shared";
	char path[4096], verdict[16];
	FILE *f;

	snprintf(path, sizeof(path), "%s/verifier-cases/kernel-selftests.jsonl", shared);
	if (!(f = fopen(path, "r"))) {
		printf("  (no selftests: %s: %s)\n", path, strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		const char *v = json_find(line, "kernel_6_18");
		size_t cnt = json_insns(line, insns, MAX_INSNS);
		struct measure b, k;
		bool have_k;

		if (!v || *v != '"' || skip_reason(line, (json_str(v, verdict, sizeof(verdict)), verdict)))
			continue;
		if (bpfvm_measure(line, insns, cnt, (uint32_t)0, 0, &b))
			continue;
		have_k = !kernel_measure(line, insns, cnt, &k);
		add(strcmp(verdict, "REJECT") ? acc : rej, &b, &k, have_k);
		if (getenv("BENCH_VERBOSE") && have_k && (b.insns != k.insns || !b.err != !k.err))
			printf("    case %ld: bpfvm %s %" PRIu64 " insns, kernel %s %" PRIu64 " insns\n",
			       json_num(line, "id", -1), b.err ? "refuses" : "accepts", b.insns,
			       k.err ? "refuses" : "accepts", k.insns);
	}
	fclose(f);
}

static size_t counter_loop(struct bpfvm_insn *p, int32_t n)
{
	p[0] = (struct bpfvm_insn){ 0xb7, 0, 0, 0, 0 };   /* r0 = 0 */
	p[1] = (struct bpfvm_insn){ 0xb7, 1, 0, 0, 0 };   /* r1 = 0 */
	p[2] = (struct bpfvm_insn){ 0x0f, 0, 1, 0, 0 };   /* r0 += r1 */
	p[3] = (struct bpfvm_insn){ 0x07, 1, 0, 0, 1 };   /* r1 += 1 */
	p[4] = (struct bpfvm_insn){ 0xa5, 1, 0, -3, n };  /* if r1 < n goto -3 */
	p[5] = (struct bpfvm_insn){ 0x95, 0, 0, 0, 0 };
	return 6;
}

static void one_program(const char *name, const struct bpfvm_insn *p, size_t n, uint32_t vflags,
			const char *note)
{
	struct row r = { name, 0, 0, 0, 0, 0, 0, 0 };
	struct measure b, k;
	bool have_k;

	bpfvm_measure(NULL, p, n, vflags, 0, &b);
	have_k = !kernel_measure(NULL, p, n, &k);
	add(&r, &b, &k, have_k);
	print_row(&r, note);
}

static void loops(void)
{
	struct bpfvm_insn p[16];
	const struct bpfvm_insn nested[] = {
		{ 0xb7, 0, 0, 0, 0 }, { 0xb7, 2, 0, 0, 0 }, { 0xb7, 1, 0, 0, 0 },
		{ 0x0f, 0, 1, 0, 0 }, { 0x07, 1, 0, 0, 1 }, { 0xa5, 1, 0, -3, 1000 },
		{ 0x07, 2, 0, 0, 1 }, { 0xa5, 2, 0, -6, 100 }, { 0x95, 0, 0, 0, 0 },
	};
	size_t n = counter_loop(p, 100000);

	one_program("loop of 100,000 iterations", p, n, 0, "   (goal: < 20 ms)");
	one_program("  the same, every iteration walked", p, n, BPFVM_VERIFY_WALK_LOOPS, NULL);
	n = counter_loop(p, 400000);
	one_program("loop of 400,000: past the limit, refused", p, n, 0, NULL);
	one_program("nested loops, 100 x 1,000", nested, sizeof(nested) / sizeof(nested[0]), 0, NULL);
}

/*
 * One benchmark program's XDP build (BENCH_DIR/xdp/NAME.o) in bpfvm, as
 * `bpfvm verify` does it: the object opened and loaded (kernel_only, its
 * programs as their sections' types), then its program verified REPS times.
 */
static void bpfvm_measure_object(const char *path, struct measure *m, char *why, size_t size)
{
	static char logbuf[1 << 16];
	struct bpfvm_log log = { logbuf, sizeof(logbuf), 0 };
	BPFVM_OPTS(bpfvm_object_open_opts, oo, .log = &log, .kernel_only = true);
	struct bpfvm_object *obj;
	struct bpfvm_obj_prog *p = NULL;
	struct bpfvm_prog *prog = NULL;

	logbuf[0] = '\0';
	m->err = -EINVAL;
	m->insns = 0;
	m->us = 0;
	obj = bpfvm_object__open_file(path, &oo);
	if (!obj || bpfvm_object__load(obj) || !(p = bpfvm_object__next_program(obj, NULL)) ||
	    !(prog = bpfvm_obj_prog__prog(p))) {
		snprintf(why, size, "bpfvm cannot load it: %.*s", (int)strcspn(logbuf, "\n"),
			 logbuf[0] ? logbuf : strerror(errno));
		bpfvm_object__destroy(obj);
		return;
	}
	m->us = 1e18;
	for (int r = 0; r < REPS; r++) {
		struct bpfvm_verify_stats st = { 0 };
		const char *file, *text;
		uint32_t line, col;
		/* clang -g: BTF function info, as verify_util.c's cli_verify tells it */
		uint32_t flags = bpfvm_obj_prog__source_line(p, 0, &file, &line, &col, &text)
					 ? 0 : BPFVM_VERIFY_FUNC_INFO;
		BPFVM_OPTS(bpfvm_verify_opts, vo, .stats = &st, .flags = flags, .log = &log);
		double t;

		logbuf[0] = '\0';
		log.len = 0;
		t = thread_us();
		m->err = bpfvm_prog__verify(prog, &vo);
		t = thread_us() - t;
		m->insns = st.insns_processed;
		if (t < m->us)
			m->us = t;
	}
	if (m->err)
		snprintf(why, size, "%.*s", (int)strcspn(logbuf, "\n"), logbuf[0] ? logbuf : strerror(-m->err));
	bpfvm_object__destroy(obj);
}

/* The same object in the kernel (kernel_xdp.c): -1 when the kernel cannot be asked. */
static int kernel_measure_object(const char *path, struct measure *m, char *why, size_t size)
{
	struct kernel_xdp k;
	double best = 1e18;

	for (int r = 0; r < REPS; r++) {
		kernel_xdp_load(path, &k);
		kernel_xdp_unload(&k);
		if (k.err == -EPERM || !k.verify_us)
			return -1;
		if ((double)k.verify_us < best)
			best = (double)k.verify_us;
	}
	m->err = k.err;
	m->insns = k.insns;
	m->us = best;
	if (k.err)
		snprintf(why, size, "%s", k.reason);
	return 0;
}

/*
 * bpfvm's benchmark programs (bench/progs), each as the XDP program
 * BENCH_DIR/xdp/NAME.o: the same object verified by bpfvm and the kernel.
 */
static void bench_progs(const char *dir)
{
	struct dirent **names = NULL;
	char xdp[4096];
	int n;

	if (!dir)
		return;
	snprintf(xdp, sizeof(xdp), "%s/xdp", dir);
	if ((n = scandir(xdp, &names, NULL, alphasort)) < 0) {
		printf("  (no benchmark programs: %s: %s)\n", xdp, strerror(errno));
		return;
	}
	for (int i = 0; i < n; i++) {
		const char *f = names[i]->d_name;
		size_t len = strlen(f);
		char path[4096 + 256], name[128], note[128], bwhy[256] = "", kwhy[256] = "";
		struct measure b, k;
		struct row r = { name, 0, 0, 0, 0, 0, 0, 0 };
		bool have_k;

		if (len < 3 || strcmp(f + len - 2, ".o"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", xdp, f);
		bpfvm_measure_object(path, &b, bwhy, sizeof(bwhy));
		have_k = !kernel_measure_object(path, &k, kwhy, sizeof(kwhy));
		snprintf(name, sizeof(name), "progs/%.*s", (int)(len - 2), f);
		if (have_k)
			snprintf(note, sizeof(note), "   bpfvm %s %" PRIu64 " insns, kernel %s %" PRIu64,
				 b.err ? "refuses" : "accepts", b.insns, k.err ? "refuses" : "accepts", k.insns);
		else
			snprintf(note, sizeof(note), "   bpfvm %s %" PRIu64 " insns", b.err ? "refuses" : "accepts",
				 b.insns);
		add(&r, &b, &k, have_k);
		print_row(&r, note);
		if (bwhy[0])
			printf("  %-44s bpfvm: %s\n", "", bwhy);
		if (have_k && kwhy[0])
			printf("  %-44s kernel: %s\n", "", kwhy);
	}
	while (n--)
		free(names[n]);
	free(names);
}

int main(int argc, char **argv)
{
	struct row acc = { "kernel selftests the kernel accepts", 0, 0, 0, 0, 0, 0, 0 };
	struct row rej = { "kernel selftests the kernel refuses", 0, 0, 0, 0, 0, 0, 0 };

	printf("\nverifier: time to verify, bpfvm against the Linux kernel's own figure "
	       "(smallest of %d runs)\n", REPS);
	printf("  %-44s %5s %10s %10s %9s\n", "programs", "count", "bpfvm ms", "kernel ms", "ratio");
	selftests(&acc, &rej);
	print_row(&acc, NULL);
	print_row(&rej, NULL);
	loops();
	bench_progs(argc > 1 ? argv[1] : NULL);
	return 0;
}
