/*
 * bench_maps.c - `make bench`, maps: nanoseconds per map operation in
 * bpfvm and in the kernel, each running the same eBPF program.
 *
 * A program is a bounded loop of N iterations, each doing one operation
 * (array lookup, hash lookup, hash update, ...) on a key that moves with
 * the loop counter.  The kernel runs it as an XDP program through
 * BPF_PROG_TEST_RUN with repeat (its JIT, its verifier's inlining of
 * array and hash lookups); bpfvm runs it in the interpreter, unchecked
 * (trusted) and checked, and in its JIT.  A figure is the run's time divided by N, so it
 * includes the loop's few instructions, in both; the "loop only" row is
 * that loop without the operation.  Each figure is the median of 5.
 *
 * The kernel column needs bpf() (root); without it, it says "-".
 * Environment: BENCH_TIME (seconds a measurement should take, default 0.3).
 */
#include <errno.h>
#include <inttypes.h>
#include <linux/bpf.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <bpfvm/bpfvm.h>
#include <bpfvm/maps.h>

#include "../tests/kernel/kernel_bpf.h"

#define N_OPS 1000      /* operations a run */
#define ENTRIES 1024    /* keys 0..1023, all present */
#define RB_SIZE (1u << 26)
/* Runs a ring buffer measurement may make: never more records than fit (24 bytes each). */
#define RB_MAX_RUNS (RB_SIZE / 24 / N_OPS / 2)
#define REPS 5
#define MAX_INSNS 64

static double target_sec = 0.3;
static int ncpus;

struct prog {
	struct bpfvm_insn v[MAX_INSNS];
	size_t n;
	int map_slot;   /* the lddw that names the map, patched per side */
};

static void emit(struct prog *p, struct bpfvm_insn insn)
{
	p->v[p->n++] = insn;
}

/* lddw r1 = the map (src and imm set per side). */
static void emit_map(struct prog *p)
{
	p->map_slot = (int)p->n;
	emit(p, BPFVM_RAW_INSN(BPFVM_LD | BPFVM_DW | BPFVM_IMM, 1, 0, 0, 0));
	emit(p, BPFVM_RAW_INSN(0, 0, 0, 0, 0));
}

enum op { OP_NONE, OP_LOOKUP, OP_UPDATE, OP_RINGBUF };

/*
 *   r6 = 0; r7 = 0
 * loop:
 *   *(u32 *)(r10 - 4) = r6 & (ENTRIES - 1)
 *   [the operation on key r10 - 4 (value r10 - 16)]
 *   r6 += 1; if r6 < N_OPS goto loop
 *   r0 = XDP_PASS
 */
static struct prog build(enum op op)
{
	struct prog p = { .n = 0, .map_slot = -1 };
	size_t loop;

	emit(&p, BPFVM_MOV64_IMM(6, 0));
	emit(&p, BPFVM_MOV64_IMM(7, 0));
	emit(&p, BPFVM_ST_MEM(BPFVM_DW, BPFVM_REG_FP, -16, 1));
	loop = p.n;
	emit(&p, BPFVM_MOV64_REG(1, 6));
	emit(&p, BPFVM_ALU64_IMM(BPFVM_AND, 1, ENTRIES - 1));
	emit(&p, BPFVM_STX_MEM(BPFVM_W, BPFVM_REG_FP, 1, -4));
	if (op == OP_LOOKUP || op == OP_UPDATE) {
		emit_map(&p);
		emit(&p, BPFVM_MOV64_REG(2, BPFVM_REG_FP));
		emit(&p, BPFVM_ALU64_IMM(BPFVM_ADD, 2, -4));
	}
	if (op == OP_LOOKUP) {
		emit(&p, BPFVM_CALL_HELPER(1));
		emit(&p, BPFVM_JMP_IMM(BPFVM_JEQ, 0, 0, 2));
		emit(&p, BPFVM_LDX_MEM(BPFVM_DW, 1, 0, 0));
		emit(&p, BPFVM_ALU64_REG(BPFVM_ADD, 7, 1));
	} else if (op == OP_UPDATE) {
		emit(&p, BPFVM_MOV64_REG(3, BPFVM_REG_FP));
		emit(&p, BPFVM_ALU64_IMM(BPFVM_ADD, 3, -16));
		emit(&p, BPFVM_MOV64_IMM(4, 0));
		emit(&p, BPFVM_CALL_HELPER(2));
	} else if (op == OP_RINGBUF) {
		emit_map(&p);
		emit(&p, BPFVM_MOV64_IMM(2, 16));
		emit(&p, BPFVM_MOV64_IMM(3, 0));
		emit(&p, BPFVM_CALL_HELPER(131));            /* ringbuf_reserve */
		emit(&p, BPFVM_JMP_IMM(BPFVM_JEQ, 0, 0, 4));
		emit(&p, BPFVM_STX_MEM(BPFVM_DW, 0, 6, 0));
		emit(&p, BPFVM_MOV64_REG(1, 0));
		emit(&p, BPFVM_MOV64_IMM(2, 0));
		emit(&p, BPFVM_CALL_HELPER(132));            /* ringbuf_submit */
	}
	emit(&p, BPFVM_ALU64_IMM(BPFVM_ADD, 6, 1));
	emit(&p, BPFVM_JMP_IMM(BPFVM_JLT, 6, N_OPS, (int16_t)(loop - p.n - 1)));
	emit(&p, BPFVM_MOV64_IMM(0, 2));
	emit(&p, BPFVM_EXIT_INSN());
	return p;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v)
{
	qsort(v, REPS, sizeof(*v), cmp_double);
	return v[REPS / 2];
}

/* ---- the kernel ------------------------------------------------------------------------ */

static int kmap(uint32_t type, uint32_t ks, uint32_t vs, uint32_t max)
{
	union bpf_attr a;
	uint8_t value[8 * 512] = { 1 };
	int fd = kernel_map_create(type, ks, vs, max, 0, 0);

	if (fd < 0 || type == BPF_MAP_TYPE_RINGBUF)
		return (int)fd;
	for (uint32_t k = 0; k < ENTRIES; k++) {
		memset(&a, 0, sizeof(a));
		a.map_fd = (uint32_t)fd;
		a.key = (uintptr_t)&k;
		a.value = (uintptr_t)value;
		sys_bpf(BPF_MAP_UPDATE_ELEM, &a);
	}
	return (int)fd;
}

/* Empty a kernel ring buffer: the consumer position catches up with the producer's. */
static void kernel_rb_drain(int fd)
{
	long page = sysconf(_SC_PAGESIZE);
	unsigned long *cons = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	unsigned long *prod = mmap(NULL, (size_t)page, PROT_READ, MAP_SHARED, fd, page);

	if (cons != MAP_FAILED && prod != MAP_FAILED)
		__atomic_store_n(cons, __atomic_load_n(prod, __ATOMIC_ACQUIRE), __ATOMIC_RELEASE);
	if (cons != MAP_FAILED)
		munmap(cons, (size_t)page);
	if (prod != MAP_FAILED)
		munmap(prod, (size_t)page);
}

/* ns per operation in the kernel, or -1. */
static double kernel_ns(struct prog p, int map_fd, bool ringbuf)
{
	static char vlog[1 << 20];
	uint8_t pkt[64] = { 0 };
	union bpf_attr a;
	double v[REPS];
	uint32_t repeat = 1;
	long fd;

	if (p.map_slot >= 0) {
		p.v[p.map_slot].src_reg = BPF_PSEUDO_MAP_FD;
		p.v[p.map_slot].imm = map_fd;
	}
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_XDP;
	a.insns = (uintptr_t)p.v;
	a.insn_cnt = (uint32_t)p.n;
	a.license = (uintptr_t)"GPL";
	if (getenv("BENCH_VERBOSE")) {   /* a log too small for the whole run fails the load */
		a.log_buf = (uintptr_t)vlog;
		a.log_size = sizeof(vlog);
		a.log_level = 1;
	}
	vlog[0] = 0;
	fd = sys_bpf(BPF_PROG_LOAD, &a);
	if (fd < 0) {
		if (getenv("BENCH_VERBOSE"))
			fprintf(stderr, "kernel: %s\n%s\n", strerror(errno), vlog);
		return -1;
	}
	for (int r = -1; r < REPS; r++) {
		double t0 = now(), t;

		if (ringbuf) {
			kernel_rb_drain(map_fd);
			repeat = repeat > RB_MAX_RUNS ? RB_MAX_RUNS : repeat;
		}
		memset(&a, 0, sizeof(a));
		a.test.prog_fd = (uint32_t)fd;
		a.test.data_in = (uintptr_t)pkt;
		a.test.data_size_in = sizeof(pkt);
		a.test.repeat = repeat;
		if (sys_bpf(BPF_PROG_TEST_RUN, &a)) {
			close((int)fd);
			return -1;
		}
		t = now() - t0;
		if (r < 0) {   /* calibrate: how many runs take target_sec */
			repeat = (uint32_t)(target_sec / (t > 1e-6 ? t : 1e-6));
			repeat = repeat < 1 ? 1 : repeat > 1000000 ? 1000000 : repeat;
			continue;
		}
		v[r] = (double)a.test.duration / N_OPS;
	}
	close((int)fd);
	return median(v);
}

/* ---- bpfvm --------------------------------------------------------------------------- */

static struct bpfvm_map *vmap(struct bpfvm *vm, uint32_t type, uint32_t ks, uint32_t vs,
			      uint32_t max)
{
	struct bpfvm_map *m = bpfvm_map__new(vm, type, ks, vs, max, NULL);
	uint8_t value[8 * 512] = { 1 };

	if (!m || type == BPFVM_MAP_TYPE_RINGBUF)
		return m;
	for (uint32_t k = 0; k < ENTRIES; k++)
		bpfvm_map__update_elem(m, &k, value, 0);
	return m;
}

static int drop(void *ctx, const void *data, size_t size)
{
	(void)ctx, (void)data, (void)size;
	return 0;
}

/* Runs of prog; 0, or the first failure. */
static int bpfvm_runs(struct bpfvm_prog *prog, uint64_t repeat, struct bpfvm_run_opts *ro)
{
	uint8_t pkt[64] = { 0 };

	for (uint64_t i = 0; i < repeat; i++) {
		int err = bpfvm_prog__run(prog, pkt, sizeof(pkt), ro);

		if (err)
			return err;
	}
	return 0;
}

/* ns per operation in bpfvm's mode, or -1. */
static double bpfvm_ns(struct bpfvm *vm, struct prog p, struct bpfvm_map *m, enum bpfvm_exec mode)
{
	BPFVM_OPTS(bpfvm_prog_opts, po, .flags = BPFVM_PROG_TRUSTED, .maps = &m, .nmaps = 1,
		   .license = "GPL");
	BPFVM_OPTS(bpfvm_run_opts, ro, .mode = mode);
	bool ringbuf = m && bpfvm_map__type(m) == BPFVM_MAP_TYPE_RINGBUF;
	struct bpfvm_prog *prog;
	double v[REPS];
	uint64_t repeat = 1;

	if (p.map_slot >= 0) {
		p.v[p.map_slot].src_reg = BPFVM_PSEUDO_MAP_IDX;
		p.v[p.map_slot].imm = 0;
	}
	prog = bpfvm_prog__new(vm, p.v, p.n, &po);
	if (!prog)
		return -1;
	for (int r = -1; r < REPS; r++) {
		double t0, t;

		if (ringbuf) {   /* untimed, as the kernel's side */
			bpfvm_map__ringbuf_consume(m, drop, NULL);
			repeat = repeat > RB_MAX_RUNS ? RB_MAX_RUNS : repeat;
		}
		t0 = now();
		if (bpfvm_runs(prog, repeat, &ro)) {
			bpfvm_prog__destroy(prog);
			return -1;
		}
		t = now() - t0;
		if (r < 0) {
			repeat = (uint64_t)(target_sec / (t > 1e-6 ? t : 1e-6));
			repeat = repeat < 1 ? 1 : repeat;
			continue;
		}
		v[r] = t * 1e9 / (double)repeat / N_OPS;
	}
	bpfvm_prog__destroy(prog);
	return median(v);
}

/* ---- the table -------------------------------------------------------------------------- */

struct row {
	const char *name;
	enum op op;
	uint32_t type, ks, vs, max;
};

static void print_cell(double ns)
{
	if (ns < 0)
		printf(" %10s", "-");
	else
		printf(" %10.2f", ns);
}

int main(void)
{
	static const struct row rows[] = {
		{ "loop only", OP_NONE, 0, 0, 0, 0 },
		{ "array lookup", OP_LOOKUP, BPF_MAP_TYPE_ARRAY, 4, 8, ENTRIES },
		{ "percpu array lookup", OP_LOOKUP, BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, ENTRIES },
		{ "hash lookup", OP_LOOKUP, BPF_MAP_TYPE_HASH, 4, 8, ENTRIES },
		{ "hash update", OP_UPDATE, BPF_MAP_TYPE_HASH, 4, 8, ENTRIES },
		{ "percpu hash lookup", OP_LOOKUP, BPF_MAP_TYPE_PERCPU_HASH, 4, 8, ENTRIES },
		{ "percpu hash update", OP_UPDATE, BPF_MAP_TYPE_PERCPU_HASH, 4, 8, ENTRIES },
		{ "lru hash lookup", OP_LOOKUP, BPF_MAP_TYPE_LRU_HASH, 4, 8, ENTRIES },
		{ "lru hash update", OP_UPDATE, BPF_MAP_TYPE_LRU_HASH, 4, 8, ENTRIES },
		{ "ringbuf reserve+submit", OP_RINGBUF, BPF_MAP_TYPE_RINGBUF, 0, 0, RB_SIZE },
	};
	struct bpfvm *vm = bpfvm__new(NULL);
	const char *env = getenv("BENCH_TIME");
	cpu_set_t set;

	if (env)
		target_sec = atof(env);
	/* One CPU, as the kernel's test run: per-CPU slots and caches stay put. */
	CPU_ZERO(&set);
	CPU_SET(sched_getcpu() < 0 ? 0 : sched_getcpu(), &set);
	sched_setaffinity(0, sizeof(set), &set);
	ncpus = bpfvm__num_possible_cpus(vm);
	printf("maps: ns per operation (a loop of %d operations a run; median of %d)\n", N_OPS, REPS);
	printf("%-24s %10s %10s %10s %10s %10s %10s\n", "operation", "kernel", "bpfvm", "checked", "jit",
	       "bpfvm/kern", "jit/kern");
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		struct prog p = build(r->op);
		struct bpfvm_map *m = r->type ? vmap(vm, r->type, r->ks, r->vs, r->max) : NULL;
		int fd = r->type ? kmap(r->type, r->ks, r->vs, r->max) : -1;
		double k = (fd >= 0 || !r->type) ? kernel_ns(p, fd, r->op == OP_RINGBUF) : -1;
		double u = bpfvm_ns(vm, p, m, BPFVM_EXEC_UNCHECKED);
		double c = bpfvm_ns(vm, p, m, BPFVM_EXEC_CHECKED);
		double j = bpfvm_ns(vm, p, m, BPFVM_EXEC_JIT);

		printf("%-24s", r->name);
		print_cell(k);
		print_cell(u);
		print_cell(c);
		print_cell(j);
		print_cell(k > 0 && u > 0 ? u / k : -1);
		print_cell(k > 0 && j > 0 ? j / k : -1);
		printf("\n");
		if (fd >= 0)
			close(fd);
		bpfvm_map__destroy(m);
	}
	bpfvm__destroy(vm);
	return 0;
}
