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
 * bpfvm's own benchmark programs in BENCH_DIR (NAME.bin, verified for
 * bpfvm_prog__run's convention, which the kernel has no program type for:
 * bpfvm's figures only).
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

static long sys_bpf(int cmd, union bpf_attr *attr)
{
	return syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

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

/* bpfvm's benchmark programs, for bpfvm_prog__run's convention: bpfvm only. */
static void bench_progs(const char *dir)
{
	static struct bpfvm_insn insns[MAX_INSNS];
	struct dirent *de;
	DIR *d = dir ? opendir(dir) : NULL;

	while (d && (de = readdir(d))) {
		size_t len = strlen(de->d_name), cnt;
		char path[4096], name[80];
		struct measure b;
		struct row r = { name, 0, 0, 0, 0, 0, 0, 0 };
		FILE *f;

		if (len < 5 || strcmp(de->d_name + len - 4, ".bin"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (!(f = fopen(path, "rb")))
			continue;
		cnt = fread(insns, sizeof(*insns), MAX_INSNS, f);
		fclose(f);
		bpfvm_measure(NULL, insns, cnt, BPFVM_VERIFY_MEM, 1500, &b);
		snprintf(name, sizeof(name), "progs/%.*s: %s, %" PRIu64 " insns", (int)(len - 4),
			 de->d_name, b.err ? "refused" : "accepted", b.insns);
		add(&r, &b, NULL, false);
		print_row(&r, NULL);
	}
	if (d)
		closedir(d);
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
