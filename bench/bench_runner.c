/*
 * bench_runner.c - `make bench`: how much slower than native C the
 * interpreter and the JIT run the programs in bench/progs/.
 *
 *   bench_runner DIR [PROGRAM...]
 *
 * DIR holds NAME.bin (the program's .text, built by clang -target bpf and
 * extract_text) and NAME.so (the same C built by gcc -O2).  Every NAME.bin
 * is measured, or only the PROGRAMs named.  Each program is first run once
 * per mode and its result compared with the native one: a mismatch is a
 * bug in bpfvm (or in the program) and stops the benchmark with status 1.
 * Then each mode is timed and the table printed.  Nothing here asserts on
 * speed: the numbers are for people.
 *
 * The kernel is not in that first table: NAME.bin follows bpfvm_prog__run's
 * convention, which no kernel program type has.  Its figures are in the
 * second table, where DIR/xdp/NAME.o (the same C as an XDP program) runs
 * through the kernel's BPF_PROG_TEST_RUN and bpfvm_prog__test_run (JIT),
 * with the kernel verifier's instruction count and verdict; see xdp_table.
 *
 * The third table is programs with maps (bench/maps_progs/): DIR/maps/NAME.o,
 * an XDP object with its maps, run by bpfvm's interpreter and JIT and by the
 * kernel, each runtime with maps of its own, against DIR/maps/NAME_native.so
 * (its entry NAME_native, a C table kept across calls); results are checked
 * after one warm-up run, the maps' state then being the same in all; see
 * maps_table.  PROGRAMs name these too.
 *
 * Environment:
 *   BENCH_TIME   seconds one measurement should take (default 0.3); each
 *                figure is the median of 5 measurements (9 in the XDP tables).
 *   BENCH_MODES  comma-separated subset of native,interp,checked,jit to
 *                time (default all); e.g. BENCH_MODES=interp under `perf record`.
 *                With jit on, the last line is the JIT's compile time for a
 *                10,000-instruction program.
 *
 * The native code sits in a shared object the runner dlopens, and the
 * input is built at run time, so gcc cannot fold the work away; every
 * run's result is checked, so none can be skipped either.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpfvm/bpfvm.h>
#include <bpfvm/hooks.h>
#include <bpfvm/object.h>

#include "kernel_xdp.h"

#define MEM_LEN 1500 /* must match progs/bench_prog.h's BENCH_MEM_LEN */
#define REPS 5
/*
 * The XDP tables' measurements (and the kernel's loads): more than REPS,
 * for where a load's code falls moves a branchy program by up to 20% in
 * either JIT (parser), and the median of the paired ratios needs that
 * many draws of the kernel's placement to settle.
 */
#define XDP_REPS 9
#define MAX_PROGS 64

typedef uint64_t (*native_fn)(uint8_t *mem, uint64_t len);

enum mode { M_NATIVE, M_INTERP, M_CHECKED, M_JIT, M_COUNT };
static const char *const mode_names[M_COUNT] = { "native", "interp", "checked", "jit" };

struct bench {
	char name[64];
	struct bpfvm_prog *prog;
	native_fn native;
	uint64_t expect;    /* the native result */
	uint64_t insns;     /* instructions one run executes (from a checked run) */
	double ns[M_COUNT]; /* per run; 0 when not measured */
};

static uint8_t mem[MEM_LEN];
static uint8_t mem_copy[MEM_LEN];
static double target_sec = 0.3;
static struct bpfvm *bench_vm; /* for programs made outside an object */
static bool mode_on[M_COUNT] = { true, true, true, true };

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("bench_runner: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

/* ---- the input: one Ethernet frame carrying an HTTP request ---------------- */

static uint64_t rng_state = 0x243f6a8885a308d3ull;

static uint32_t rng(void)
{
	/* xorshift64*: any deterministic generator will do, the point is run-time data */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1dull) >> 32);
}

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static size_t append(size_t at, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* snprintf at mem + at, stopping short of the end; returns the new end. */
static size_t append(size_t at, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf((char *)mem + at, MEM_LEN - at, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= MEM_LEN - at)
		die("the generated request does not fit the frame");
	return at + (size_t)n;
}

static void build_frame(void)
{
	static const char *const names[] = {
		"Host", "User-Agent", "Accept", "Accept-Encoding", "Accept-Language",
		"Cookie", "X-Request-Id", "Cache-Control", "Content-Length", "Referer",
	};
	static const char *const words[] = {
		"alpha", "bravo", "gzip", "deflate", "keep-alive", "text/html", "en-US",
		"max-age", "session", "token", "charlie", "delta",
	};
	uint8_t *ip = mem + 14, *tcp = mem + 34;
	uint32_t sum = 0;
	size_t at;

	memset(mem, 0, sizeof(mem));
	/* Ethernet: locally administered addresses, IPv4. */
	memcpy(mem, "\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02\x08\x00", 14);
	/* IPv4: no options, DF, TTL 64, TCP, 10.0.0.1 -> 10.0.0.2, checksum below. */
	ip[0] = 0x45;
	put16(ip + 2, MEM_LEN - 14);
	put16(ip + 4, rng() & 0xffff);
	put16(ip + 6, 0x4000);
	ip[8] = 64;
	ip[9] = 6;
	memcpy(ip + 12, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
	for (int i = 0; i < 20; i += 2)
		sum += (uint32_t)ip[i] << 8 | ip[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	put16(ip + 10, ~sum & 0xffff);
	/* TCP: an ephemeral port to 80, PSH|ACK, no options; checksum left 0. */
	put16(tcp, 40000 + (rng() & 0x3ff));
	put16(tcp + 2, 80);
	put16(tcp + 4, rng() >> 16);
	put16(tcp + 6, rng() & 0xffff);
	put16(tcp + 8, rng() >> 16);
	put16(tcp + 10, rng() & 0xffff);
	tcp[12] = 5 << 4;
	tcp[13] = 0x18;
	put16(tcp + 14, 0xffff);

	/* The payload: request line, headers up to ~1250 bytes, empty line, body. */
	at = append(54, "GET /bench/items/%u/view?id=%u&page=%u HTTP/1.1\r\n", rng() % 1000,
		    rng() % 100000, rng() % 50);
	while (at < 1250) {
		const char *n = names[rng() % (sizeof(names) / sizeof(names[0]))];
		const char *w = words[rng() % (sizeof(words) / sizeof(words[0]))];

		at = append(at, "%s: %s %u; %s=%u\r\n", n, w, rng() % 100000, w, rng() % 1000);
	}
	at = append(at, "\r\n");
	while (at < MEM_LEN) {
		const char *w = words[rng() % (sizeof(words) / sizeof(words[0]))];
		size_t n = strlen(w);

		if (n + 1 > MEM_LEN - at)
			n = MEM_LEN - at - 1;
		memcpy(mem + at, w, n);
		at += n;
		if (at < MEM_LEN)
			mem[at++] = ' ';
	}
	memcpy(mem_copy, mem, sizeof(mem));
}

/* ---- loading ------------------------------------------------------------ */

static void *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	void *buf = NULL;
	long n;

	if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET))
		die("%s: %s", path, strerror(errno));
	buf = malloc(n ? (size_t)n : 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n)
		die("%s: cannot read", path);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static void load(struct bpfvm *vm, const char *dir, struct bench *b)
{
	char path[4096], logbuf[4096] = "";
	struct bpfvm_log log = { .buf = logbuf, .size = sizeof(logbuf) };
	struct bpfvm_insn *insns;
	size_t len;
	void *so;

	snprintf(path, sizeof(path), "%s/%s.bin", dir, b->name);
	insns = read_file(path, &len);
	if (!len || len % sizeof(struct bpfvm_insn))
		die("%s: %zu bytes is not whole instructions", path, len);
	BPFVM_OPTS(bpfvm_prog_opts, popts, .name = b->name, .flags = BPFVM_PROG_TRUSTED,
		   .log = &log);
	b->prog = bpfvm_prog__new(vm, insns, len / sizeof(struct bpfvm_insn), &popts);
	if (!b->prog)
		die("%s: bpfvm_prog__new: %s\n%s", path, strerror(errno), logbuf);
	free(insns);

	snprintf(path, sizeof(path), "%s/%s.so", dir, b->name);
	so = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!so)
		die("%s", dlerror());
	b->native = (native_fn)dlsym(so, "bench_main");
	if (!b->native)
		die("%s: no bench_main: %s", path, dlerror());
}

/* ---- running ------------------------------------------------------------ */

/* One run in a bpfvm mode; dies on an error or a result other than the native one. */
static inline void run_vm(struct bench *b, enum bpfvm_exec exec, struct bpfvm_run_opts *o)
{
	int err;

	o->mode = exec;
	err = bpfvm_prog__run(b->prog, mem, MEM_LEN, o);
	if (err || o->retval != b->expect)
		die("%s (%s): %s: returned 0x%" PRIx64 ", native returned 0x%" PRIx64 "\n%s",
		    b->name, exec == BPFVM_EXEC_CHECKED ? "checked" : exec == BPFVM_EXEC_JIT ? "jit" : "unchecked",
		    err ? strerror(-err) : "wrong result", o->retval, b->expect,
		    o->log && o->log->buf ? o->log->buf : "");
}

static void verify(struct bench *b)
{
	char logbuf[4096] = "";
	struct bpfvm_log log = { .buf = logbuf, .size = sizeof(logbuf) };
	BPFVM_OPTS(bpfvm_run_opts, o, .log = &log);

	b->expect = b->native(mem, MEM_LEN);
	run_vm(b, BPFVM_EXEC_UNCHECKED, &o);
	run_vm(b, BPFVM_EXEC_JIT, &o);
	run_vm(b, BPFVM_EXEC_CHECKED, &o);
	b->insns = o.insns_executed;
	if (memcmp(mem, mem_copy, sizeof(mem)))
		die("%s: the program changed its input, which the benchmark shares", b->name);
}

/*
 * The thread's CPU time, not the wall clock: the machine is shared (builds,
 * tests, other benchmarks), and time spent descheduled is not the
 * program's.  Read twice per measurement, so its cost does not matter.
 */
static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Seconds n runs in mode m take. */
static double time_runs(struct bench *b, enum mode m, uint64_t n)
{
	BPFVM_OPTS(bpfvm_run_opts, o, .log = NULL);
	double t0 = now();

	switch (m) {
	case M_NATIVE:
		for (uint64_t i = 0; i < n; i++)
			if (b->native(mem, MEM_LEN) != b->expect)
				die("%s: the native result changed between runs", b->name);
		break;
	case M_INTERP:
		for (uint64_t i = 0; i < n; i++)
			run_vm(b, BPFVM_EXEC_UNCHECKED, &o);
		break;
	case M_JIT:
		for (uint64_t i = 0; i < n; i++)
			run_vm(b, BPFVM_EXEC_JIT, &o);
		break;
	default:
		for (uint64_t i = 0; i < n; i++)
			run_vm(b, BPFVM_EXEC_CHECKED, &o);
		break;
	}
	return now() - t0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Median ns per run of REPS measurements of about target_sec each. */
static double measure(struct bench *b, enum mode m)
{
	double t, samples[REPS];
	uint64_t n = 1;

	/* Calibrate on batches of at least 1/10 of a measurement (and warm up). */
	while ((t = time_runs(b, m, n)) < target_sec / 10)
		n *= t > 0 && target_sec / 10 / t < 8 ? 2 : 8;
	n = (uint64_t)((double)n * target_sec / t) + 1;
	for (int r = 0; r < REPS; r++)
		samples[r] = time_runs(b, m, n) * 1e9 / (double)n;
	qsort(samples, REPS, sizeof(samples[0]), cmp_double);
	return samples[REPS / 2];
}

/*
 * How long the JIT takes to compile a 10,000-instruction program (ALU
 * operations, loads, stores and forward branches, as compilers emit them):
 * the median of 21 compilations, each of a fresh program.
 */
static void jit_compile_time(struct bpfvm *vm)
{
	enum { N = 10000, TIMES = 21 };
	static struct bpfvm_insn insns[N];
	double t[TIMES];

	for (int i = 0; i < N - 1; i++) {
		int r = 1 + i % 8, k = i % 6;

		insns[i] = k == 0 ? BPFVM_ALU64_IMM(BPFVM_ADD, r, i)
			 : k == 1 ? BPFVM_ALU64_REG(BPFVM_XOR, r, 1 + (i + 3) % 8)
			 : k == 2 ? BPFVM_STX_MEM(BPFVM_DW, 10, r, (int16_t)(-8 - 8 * (i % 32)))
			 : k == 3 ? BPFVM_LDX_MEM(BPFVM_DW, r, 10, (int16_t)(-8 - 8 * (i % 32)))
			 : k == 4 && i < N - 16 ? BPFVM_JMP_IMM(BPFVM_JGT, r, i, (int16_t)(i % 7 + 1))
				  : BPFVM_ALU32_IMM(BPFVM_MUL, r, 7);
	}
	insns[0] = BPFVM_MOV64_IMM(0, 0);
	for (int r = 1; r <= 8; r++)
		insns[r] = BPFVM_MOV64_IMM(r, r);
	insns[N - 1] = BPFVM_EXIT_INSN();
	for (int k = 0; k < TIMES; k++) {
		char logbuf[512] = "";
		struct bpfvm_log log = { .buf = logbuf, .size = sizeof(logbuf) };
		BPFVM_OPTS(bpfvm_prog_opts, popts, .name = "compile", .flags = BPFVM_PROG_TRUSTED,
			   .log = &log);
		struct bpfvm_prog *p = bpfvm_prog__new(vm, insns, N, &popts);
		double t0;

		if (!p)
			die("jit compile time: bpfvm_prog__new: %s: %s", strerror(errno), logbuf);
		t0 = now();
		if (bpfvm_prog__jit(p, &(struct bpfvm_jit_opts){ .sz = sizeof(struct bpfvm_jit_opts),
								 .log = &log }))
			die("jit compile time: %s", logbuf);
		t[k] = now() - t0;
		bpfvm_prog__destroy(p);
	}
	qsort(t, TIMES, sizeof(t[0]), cmp_double);
	printf("jit compile: %d instructions in %.0f us (median of %d)\n", N, t[TIMES / 2] * 1e6,
	       TIMES);
}

/* ---- reporting ------------------------------------------------------------ */

static void put_ns(double ns)
{
	if (ns > 0)
		printf(" %11.1f", ns);
	else
		printf(" %11s", "-");
}

static void put_ratio(double ns, double native)
{
	if (ns > 0 && native > 0)
		printf(" %7.1fx", ns / native);
	else
		printf(" %8s", "-");
}

static void print_means(const char *label, const struct bench *bs, size_t n, enum mode m)
{
	double logsum = 0, sum = 0;

	for (size_t i = 0; i < n; i++) {
		double r = bs[i].ns[m] / bs[i].ns[M_NATIVE];

		logsum += log(r);
		sum += r;
	}
	printf("%-8s ratio to native: geometric mean %.1fx, arithmetic mean %.1fx\n", label,
	       exp(logsum / (double)n), sum / (double)n);
}

/* ---- the same XDP bytecode in the kernel and in bpfvm -------------------------- */

/*
 * DIR/xdp/NAME.o (xdp_entry.c around progs/NAME.c) run by BPF_PROG_TEST_RUN
 * in the kernel and by bpfvm_prog__test_run (JIT) in bpfvm: one bytecode,
 * one kind of loop around it (repeat runs, the loop's own figure of ns per
 * run).  The XDP program returns the 64-bit result folded into 32 bits.
 */
struct xdp_bench {
	/* XDP_REPS loads: the kernel's JIT puts each at a random offset, and where a
	 * program's code falls moves its time by as much as 20%; one load per
	 * measurement samples that, as bpfvm's fixed placement cannot be. */
	struct kernel_xdp kernel[XDP_REPS];
	bool kernel_ok;           /* loaded and its result checked */
	struct bpfvm_object *obj; /* bpfvm's copy */
	struct bpfvm_prog *prog;
	bool trusted;             /* bpfvm's verifier refused it: run unverified */
	char refused[256];        /* then its first line of reason */
	double kernel_ns, bpfvm_ns;
	double ratio;             /* bpfvm over the kernel: median of paired measurements */
	/* The object's log (its open options): it must live as long as the object. */
	char logbuf[8192];
	struct bpfvm_log log;
};

static uint32_t fold(uint64_t r)
{
	return (uint32_t)(r ^ r >> 32);
}

/* The first line of text, for one-line messages. */
static void first_line(char *out, size_t size, const char *text)
{
	snprintf(out, size, "%.*s", (int)strcspn(text, "\n"), text);
}

/* The object's only program, loaded in bpfvm; NULL with the reason in logbuf. */
static struct bpfvm_prog *bpfvm_xdp_open(const char *path, uint32_t flags, struct bpfvm_object **obj,
					 struct bpfvm_log *log)
{
	BPFVM_OPTS(bpfvm_object_open_opts, oo, .log = log, .prog_flags = flags);
	struct bpfvm_obj_prog *p;

	*obj = bpfvm_object__open_file(path, &oo);
	if (!*obj)
		return NULL;
	if (bpfvm_object__load(*obj) || !(p = bpfvm_object__next_program(*obj, NULL)) ||
	    !bpfvm_obj_prog__prog(p)) {
		bpfvm_object__destroy(*obj);
		*obj = NULL;
		return NULL;
	}
	return bpfvm_obj_prog__prog(p);
}

/* bpfvm's copy of DIR/xdp/NAME.o, verified by bpfvm if its verifier takes it, else trusted. */
static void bpfvm_xdp_load(const char *path, struct xdp_bench *x)
{
	char *logbuf = x->logbuf;
	struct bpfvm_log *log = &x->log;
	BPFVM_OPTS(bpfvm_verify_opts, vo, .log = log);
	int err;

	logbuf[0] = '\0';
	*log = (struct bpfvm_log){ .buf = logbuf, .size = sizeof(x->logbuf) };
	x->prog = bpfvm_xdp_open(path, 0, &x->obj, log);
	if (!x->prog)
		die("%s: bpfvm cannot load it: %s", path, logbuf);
	logbuf[0] = '\0';
	log->len = 0;
	err = bpfvm_prog__verify(x->prog, &vo);
	if (!err)
		return;
	first_line(x->refused, sizeof(x->refused), logbuf[0] ? logbuf : strerror(-err));
	bpfvm_object__destroy(x->obj);
	x->trusted = true;
	logbuf[0] = '\0';
	log->len = 0;
	x->prog = bpfvm_xdp_open(path, BPFVM_PROG_TRUSTED, &x->obj, log);
	if (!x->prog)
		die("%s: bpfvm cannot load it trusted: %s", path, logbuf);
}

/* One test run in mode: 0 with *retval, or the error with the reason in why. */
static int bpfvm_xdp_try(struct bpfvm_prog *prog, enum bpfvm_exec mode, uint64_t *retval,
			 char *why, size_t size)
{
	char logbuf[4096] = "";
	struct bpfvm_log log = { .buf = logbuf, .size = sizeof(logbuf) };
	BPFVM_OPTS(bpfvm_test_run_opts, o, .data_in = mem, .data_size_in = MEM_LEN, .mode = mode,
		   .log = &log);
	int err = bpfvm_prog__test_run(prog, &o);

	*retval = o.retval;
	if (err)
		first_line(why, size, logbuf[0] ? logbuf : strerror(-err));
	return err;
}

/*
 * Does bpfvm's copy return the native result in each mode?  NULL, or what
 * is wrong, in why: a bug to fix in bpfvm, printed on the program's line.
 */
static const char *bpfvm_xdp_check(struct bpfvm_prog *prog, uint32_t expect, char *why,
				   size_t size)
{
	static const struct {
		enum bpfvm_exec mode;
		const char *name;
	} modes[] = { { BPFVM_EXEC_CHECKED, "checked" },
		      { BPFVM_EXEC_UNCHECKED, "interp" },
		      { BPFVM_EXEC_JIT, "jit" } };
	size_t used = 0;

	why[0] = '\0';
	for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		char err_text[256];
		uint64_t retval;
		int err = bpfvm_xdp_try(prog, modes[m].mode, &retval, err_text, sizeof(err_text));

		if (!err && retval == expect)
			continue;
		if (err)
			used += (size_t)snprintf(why + used, used < size ? size - used : 0, "%s%s: %s",
						 used ? "; " : "", modes[m].name, err_text);
		else
			used += (size_t)snprintf(why + used, used < size ? size - used : 0,
						 "%s%s returns 0x%" PRIx64 ", native (folded) 0x%" PRIx32,
						 used ? "; " : "", modes[m].name, retval, expect);
	}
	return why[0] ? why : NULL;
}

/* One test run of repeat runs in bpfvm's mode: its ns per run; dies on a wrong result. */
static double bpfvm_xdp_run(const char *name, struct bpfvm_prog *prog, enum bpfvm_exec mode,
			    uint32_t repeat, uint32_t expect)
{
	char logbuf[4096] = "";
	struct bpfvm_log log = { .buf = logbuf, .size = sizeof(logbuf) };
	BPFVM_OPTS(bpfvm_test_run_opts, o, .data_in = mem, .data_size_in = MEM_LEN,
		   .repeat = repeat, .mode = mode, .log = &log);
	int err = bpfvm_prog__test_run(prog, &o);

	if (err || o.retval != expect)
		die("%s (bpfvm XDP, %s): %s: returned 0x%" PRIx64 ", native (folded) 0x%" PRIx32 "\n%s",
		    name, mode == BPFVM_EXEC_JIT ? "jit" : mode == BPFVM_EXEC_CHECKED ? "checked" : "interp",
		    err ? strerror(-err) : "wrong result", o.retval, expect, logbuf);
	return (double)o.duration_ns;
}

/* One BPF_PROG_TEST_RUN of repeat runs: the kernel's ns per run; dies on a wrong result. */
static double kernel_xdp_run(const char *name, const struct kernel_xdp *k, uint32_t repeat,
			     uint32_t expect)
{
	uint32_t retval, ns;
	int err = kernel_xdp_test_run(k, mem, MEM_LEN, repeat, &retval, &ns);

	if (err)
		die("%s (kernel): BPF_PROG_TEST_RUN: %s", name, strerror(-err));
	if (retval != expect)
		die("%s (kernel): returned 0x%" PRIx32 ", native (folded) 0x%" PRIx32, name, retval,
		    expect);
	return (double)ns;
}

/* One test run of repeat runs, bpfvm's (prog, in mode) or the kernel's (k): ns per run. */
static double xdp_run(const char *name, struct bpfvm_prog *prog, enum bpfvm_exec mode,
		      const struct kernel_xdp *k, uint32_t repeat, uint32_t expect)
{
	return prog ? bpfvm_xdp_run(name, prog, mode, repeat, expect)
		    : kernel_xdp_run(name, k, repeat, expect);
}

/* The repeat count that makes one test run take about target_sec (thread CPU time, syscall included). */
static uint32_t calibrate_xdp(const char *name, struct bpfvm_prog *prog, enum bpfvm_exec mode,
			      const struct kernel_xdp *k, uint32_t expect)
{
	uint64_t n = 1;
	double t;

	for (;;) {
		double t0 = now();

		xdp_run(name, prog, mode, k, (uint32_t)n, expect);
		t = now() - t0;
		if (t >= target_sec / 10 || n >= UINT32_MAX / 8)
			break;
		n *= t > 0 && target_sec / 10 / t < 8 ? 2 : 8;
	}
	n = (uint64_t)((double)n * target_sec / t) + 1;
	return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

/*
 * Median ns per run of bpfvm's prog (in mode) and, with k, the kernel's, each figure
 * the loop's own (bpfvm's duration_ns, the kernel's "duration").  The two
 * are measured in turn, XDP_REPS times, so that a change in the machine's load
 * during the measurement weighs on both alike; the kernel's measurement r
 * runs its load k[r % nk].  *ratio is the median of the XDP_REPS paired ratios
 * (bpfvm's measurement r over the kernel's r, taken side by side): a drift
 * of the machine's speed over the measurement cancels in each pair, where
 * in the ratio of the two medians it need not.
 */
static void measure_xdp(const char *name, struct bpfvm_prog *prog, enum bpfvm_exec mode,
			const struct kernel_xdp *k, int nk, uint32_t expect, double *bpfvm_ns,
			double *kernel_ns, double *ratio)
{
	double vs[XDP_REPS], ks[XDP_REPS], rs[XDP_REPS];
	uint32_t vn = prog ? calibrate_xdp(name, prog, mode, NULL, expect) : 0;
	uint32_t kn = k ? calibrate_xdp(name, NULL, mode, k, expect) : 0;

	for (int r = 0; r < XDP_REPS; r++) {
		if (prog)
			vs[r] = xdp_run(name, prog, mode, NULL, vn, expect);
		if (k)
			ks[r] = xdp_run(name, NULL, mode, &k[r % nk], kn, expect);
		rs[r] = prog && k && ks[r] > 0 ? vs[r] / ks[r] : 0;
	}
	qsort(vs, XDP_REPS, sizeof(vs[0]), cmp_double);
	qsort(ks, XDP_REPS, sizeof(ks[0]), cmp_double);
	qsort(rs, XDP_REPS, sizeof(rs[0]), cmp_double);
	*bpfvm_ns = prog ? vs[XDP_REPS / 2] : 0;
	*kernel_ns = k ? ks[XDP_REPS / 2] : 0;
	if (ratio)
		*ratio = rs[XDP_REPS / 2];
}

/*
 * What a test run costs around the program: each loop timing the XDP
 * program that returns XDP_PASS at once.  Printed, not subtracted.
 */
static void xdp_overhead(bool have_kernel)
{
	static const struct bpfvm_insn pass[] = { BPFVM_MOV64_IMM(0, 2), BPFVM_EXIT_INSN() };
	char logbuf[4096] = "";
	struct bpfvm_log log = { .buf = logbuf, .size = sizeof(logbuf) };
	BPFVM_OPTS(bpfvm_prog_opts, popts, .name = "pass", .prog_type = 6 /* BPF_PROG_TYPE_XDP */,
		   .license = "GPL", .log = &log);
	BPFVM_OPTS(bpfvm_verify_opts, vo, .log = &log);
	struct bpfvm_prog *prog = bpfvm_prog__new(bench_vm, pass, 2, &popts);
	struct kernel_xdp k;
	double kernel_ns = 0, bpfvm_ns = 0;

	if (!prog || bpfvm_prog__verify(prog, &vo))
		die("the XDP_PASS program: %s", logbuf);
	if (have_kernel) {
		kernel_xdp_load_pass(&k);
		if (k.err)
			die("the XDP_PASS program: the kernel refuses it: %s", k.reason);
	}
	measure_xdp("pass", prog, BPFVM_EXEC_JIT, have_kernel ? &k : NULL, 1, 2, &bpfvm_ns,
		    &kernel_ns, NULL);
	bpfvm_prog__destroy(prog);
	if (have_kernel)
		kernel_xdp_unload(&k);
	printf("test-run overhead (an XDP program returning XDP_PASS, not subtracted above): "
	       "kernel ");
	if (have_kernel)
		printf("%.1f ns", kernel_ns);
	else
		printf("-");
	printf(", bpfvm JIT %.1f ns per run\n", bpfvm_ns);
}

/* Returns 1 when bpfvm got a program's result wrong (a bug), else 0. */
static int xdp_table(const char *dir, struct bench *bs, size_t n)
{
	int status = 0;
	char why[256] = "", path[4096];
	bool have_kernel = !kernel_xdp_available(why, sizeof(why));
	double log_ratio = 0;
	size_t ratios = 0;

	printf("\nthe same XDP bytecode (%s/xdp/NAME.o): kernel BPF_PROG_TEST_RUN against "
	       "bpfvm_prog__test_run (JIT), ns per run as each loop reports it, median of %d;\n"
	       "the kernel's measurements each on a load of its own (its JIT places a load's code "
	       "at random); jit/kern is the median of the %d ratios of measurements taken side by side\n",
	       dir, XDP_REPS, XDP_REPS);
	if (!have_kernel)
		printf("kernel: skipped (%s)\n", why);
	printf("%-12s %9s %11s %11s %8s  %s\n", "program", "k insns", "kernel ns", "bpfvm ns",
	       "jit/kern", "bpfvm verifier");
	for (size_t i = 0; i < n; i++) {
		struct bench *b = &bs[i];
		struct xdp_bench x;
		uint32_t expect = fold(b->expect);
		char wrong_buf[512];
		const char *wrong;
		int loaded = 0;

		memset(&x, 0, sizeof(x));
		if (snprintf(path, sizeof(path), "%s/xdp/%s.o", dir, b->name) >= (int)sizeof(path))
			die("%s: path too long", dir);
		bpfvm_xdp_load(path, &x);
		wrong = bpfvm_xdp_check(x.prog, expect, wrong_buf, sizeof(wrong_buf));
		for (loaded = 0; have_kernel && loaded < XDP_REPS; loaded++) {
			kernel_xdp_load(path, &x.kernel[loaded]);
			if (x.kernel[loaded].err)
				break;
			kernel_xdp_run(b->name, &x.kernel[loaded], 1, expect);
		}
		x.kernel_ok = have_kernel && loaded == XDP_REPS;
		if (wrong)
			status = 1;
		measure_xdp(b->name, wrong ? NULL : x.prog, BPFVM_EXEC_JIT,
			    x.kernel_ok ? x.kernel : NULL, XDP_REPS, expect, &x.bpfvm_ns, &x.kernel_ns,
			    &x.ratio);
		printf("%-12s", b->name);
		if (have_kernel && x.kernel[0].insns)
			printf(" %9" PRIu64, x.kernel[0].insns);
		else
			printf(" %9s", "-");
		put_ns(x.kernel_ns);
		put_ns(x.bpfvm_ns);
		if (x.ratio > 0) {
			printf(" %8.3f", x.ratio);
			log_ratio += log(x.ratio);
			ratios++;
		} else {
			printf(" %8s", "-");
		}
		printf("  %s", x.trusted ? "refuses, run trusted" : "verified");
		if (have_kernel && !x.kernel_ok)
			printf("; the kernel refuses it (%s): %s", strerror(-x.kernel[loaded].err),
			       x.kernel[loaded].reason);
		if (x.trusted)
			printf("; bpfvm's verifier refuses: %s", x.refused);
		if (wrong)
			printf("; WRONG RESULT, not timed: %s", wrong);
		printf("\n");
		fflush(stdout);
		while (loaded--)
			kernel_xdp_unload(&x.kernel[loaded]);
		bpfvm_object__destroy(x.obj);
	}
	xdp_overhead(have_kernel);
	if (ratios)
		printf("jit/kernel: geometric mean %.2f over %zu programs (<= 1.0: bpfvm's JIT no slower)\n",
		       exp(log_ratio / (double)ratios), ratios);
	return status;
}

/* ---- programs with maps: DIR/maps/NAME.o against DIR/maps/NAME_native.so ------------- */

/*
 * The programs of maps_progs/: XDP programs whose state is in maps, so a
 * run's result depends on the runs before it.  Each runtime creates its own
 * maps (bpfvm's object one map shared by its modes, the kernel's object
 * another, the native .so a static table): each is run once, the first
 * run's result checked against the native first run, and from then on
 * every result is checked against the native steady one.
 */
static const char *const maps_progs[] = { "flowcount" };

struct maps_bench {
	const char *name;
	void *so;
	native_fn native;
	uint32_t first, expect;  /* native results: the first run, every later one */
	struct xdp_bench x;      /* bpfvm's object and the kernel's */
	double native_ns, interp_ns;
};

/* The first run of each bpfvm mode sharing one map: the first must return first, the others expect. */
static void maps_bpfvm_check(struct maps_bench *m)
{
	char why[512];
	uint64_t retval;
	const char *wrong;

	if (bpfvm_xdp_try(m->x.prog, BPFVM_EXEC_UNCHECKED, &retval, why, sizeof(why)))
		die("%s (bpfvm, interp, first run): %s", m->name, why);
	if (retval != m->first)
		die("%s (bpfvm, interp, first run): returned 0x%" PRIx64 ", native 0x%" PRIx32,
		    m->name, retval, m->first);
	wrong = bpfvm_xdp_check(m->x.prog, m->expect, why, sizeof(why));
	if (wrong)
		die("%s (bpfvm, after warm-up): %s", m->name, wrong);
}

/* The kernel's copy: loaded, first run and the next checked; false (with the reason printed) if refused. */
static bool maps_kernel_load(const char *path, struct maps_bench *m)
{
	uint32_t retval, ns;
	int err;

	kernel_xdp_load(path, &m->x.kernel[0]);
	if (m->x.kernel[0].err) {
		printf("%s: kernel skipped, the kernel refuses it (%s): %s\n", m->name,
		       strerror(-m->x.kernel[0].err), m->x.kernel[0].reason);
		return false;
	}
	err = kernel_xdp_test_run(&m->x.kernel[0], mem, MEM_LEN, 1, &retval, &ns);
	if (err)
		die("%s (kernel, first run): BPF_PROG_TEST_RUN: %s", m->name, strerror(-err));
	if (retval != m->first)
		die("%s (kernel, first run): returned 0x%" PRIx32 ", native 0x%" PRIx32, m->name,
		    retval, m->first);
	kernel_xdp_run(m->name, &m->x.kernel[0], 1, m->expect);
	return true;
}

static void maps_bench_one(const char *dir, const char *name, bool have_kernel)
{
	char path[4096], sym[128];
	struct maps_bench m;
	struct bench nb;
	uint64_t r;

	memset(&m, 0, sizeof(m));
	memset(&nb, 0, sizeof(nb));
	m.name = name;
	if (snprintf(path, sizeof(path), "%s/maps/%s_native.so", dir, name) >= (int)sizeof(path))
		die("%s: path too long", dir);
	if (!(m.so = dlopen(path, RTLD_NOW | RTLD_LOCAL)))
		die("%s", dlerror());
	snprintf(sym, sizeof(sym), "%s_native", name);
	if (!(m.native = (native_fn)dlsym(m.so, sym)))
		die("%s: no %s: %s", path, sym, dlerror());
	r = m.native(mem, MEM_LEN);
	m.first = fold(r);
	r = m.native(mem, MEM_LEN);
	m.expect = fold(r);
	if (r != m.expect)
		die("%s: the native result 0x%" PRIx64 " does not fit 32 bits", name, r);

	if (snprintf(path, sizeof(path), "%s/maps/%s.o", dir, name) >= (int)sizeof(path))
		die("%s: path too long", dir);
	bpfvm_xdp_load(path, &m.x);
	maps_bpfvm_check(&m);
	m.x.kernel_ok = have_kernel && maps_kernel_load(path, &m);

	/* native: measure()'s loop, every result checked against the steady one */
	snprintf(nb.name, sizeof(nb.name), "%s (native)", name);
	nb.native = m.native;
	nb.expect = m.expect;
	m.native_ns = measure(&nb, M_NATIVE);
	measure_xdp(name, m.x.prog, BPFVM_EXEC_UNCHECKED, NULL, 1, m.expect, &m.interp_ns,
		    &m.x.kernel_ns, NULL);
	measure_xdp(name, m.x.prog, BPFVM_EXEC_JIT, m.x.kernel_ok ? m.x.kernel : NULL, 1, m.expect,
		    &m.x.bpfvm_ns, &m.x.kernel_ns, &m.x.ratio);
	if (memcmp(mem, mem_copy, sizeof(mem)))
		die("%s: a run changed the input, which the benchmark shares", name);

	printf("%-12s", name);
	put_ns(m.native_ns);
	put_ns(m.interp_ns);
	put_ns(m.x.bpfvm_ns);
	put_ns(m.x.kernel_ns);
	put_ratio(m.x.bpfvm_ns, m.native_ns);
	if (m.x.ratio > 0)
		printf(" %8.3f", m.x.ratio);
	else
		printf(" %8s", "-");
	printf("  %s", m.x.trusted ? "refuses, run trusted" : "verified");
	if (m.x.trusted)
		printf(": %s", m.x.refused);
	printf("; result 0x%" PRIx32 " (first run 0x%" PRIx32 ")\n", m.expect, m.first);
	fflush(stdout);

	if (m.x.kernel_ok)
		kernel_xdp_unload(&m.x.kernel[0]);
	bpfvm_object__destroy(m.x.obj);
	dlclose(m.so);
}

/* The third table: the maps_progs named on the command line (all without names). */
static void maps_table(const char *dir, int nnames, char **names)
{
	char why[256] = "";
	bool have_kernel = !kernel_xdp_available(why, sizeof(why)), header = false;

	for (size_t i = 0; i < sizeof(maps_progs) / sizeof(maps_progs[0]); i++) {
		bool wanted = nnames == 0;

		for (int j = 0; j < nnames; j++)
			wanted |= !strcmp(names[j], maps_progs[i]);
		if (!wanted)
			continue;
		if (!header) {
			printf("\nprograms with maps (XDP objects %s/maps/NAME.o, maps created by each "
			       "runtime), ns per run, median of %d (jit/kern: of the paired ratios); results "
			       "checked after one warm-up run\n", dir, XDP_REPS);
			if (!have_kernel)
				printf("kernel: skipped (%s)\n", why);
			printf("%-12s %11s %11s %11s %11s %8s %8s  %s\n", "program", "native ns",
			       "interp ns", "jit ns", "kernel ns", "jit/nat", "jit/kern", "bpfvm verifier");
			header = true;
		}
		maps_bench_one(dir, maps_progs[i], have_kernel);
	}
}

static int cmp_bench(const void *a, const void *b)
{
	return strcmp(((const struct bench *)a)->name, ((const struct bench *)b)->name);
}

static void parse_env(void)
{
	const char *t = getenv("BENCH_TIME"), *modes = getenv("BENCH_MODES");

	if (t && (target_sec = atof(t)) <= 0)
		die("BENCH_TIME=%s: not a positive number of seconds", t);
	if (modes) {
		for (int m = 0; m < M_COUNT; m++)
			mode_on[m] = false;
		for (const char *p = modes; *p;) {
			size_t len = strcspn(p, ",");
			int m;

			for (m = 0; m < M_COUNT; m++)
				if (strlen(mode_names[m]) == len && !strncmp(p, mode_names[m], len))
					break;
			if (m == M_COUNT)
				die("BENCH_MODES=%s: modes are native, interp, checked, jit", modes);
			mode_on[m] = true;
			p += len + (p[len] == ',');
		}
	}
}

int main(int argc, char **argv)
{
	static struct bench bs[MAX_PROGS];
	size_t n = 0;
	int status;
	struct bpfvm *vm;
	cpu_set_t one;
	DIR *d;

	if (argc < 2) {
		fprintf(stderr, "usage: bench_runner DIR [PROGRAM...]\n");
		return 2;
	}
	parse_env();

	/* Stay on one CPU: a migration in the middle of a measurement is noise. */
	CPU_ZERO(&one);
	CPU_SET(sched_getcpu() < 0 ? 0 : sched_getcpu(), &one);
	sched_setaffinity(0, sizeof(one), &one);

	if (!(d = opendir(argv[1])))
		die("%s: %s", argv[1], strerror(errno));
	for (struct dirent *e; (e = readdir(d));) {
		size_t len = strlen(e->d_name);
		bool wanted = argc == 2;

		if (len < 5 || strcmp(e->d_name + len - 4, ".bin") || len - 4 >= sizeof(bs[0].name))
			continue;
		for (int i = 2; i < argc; i++)
			if (strlen(argv[i]) == len - 4 && !strncmp(argv[i], e->d_name, len - 4))
				wanted = true;
		if (!wanted)
			continue;
		if (n == MAX_PROGS)
			die("more than %d programs", MAX_PROGS);
		memcpy(bs[n].name, e->d_name, len - 4);
		bs[n++].name[len - 4] = '\0';
	}
	closedir(d);
	if (!n)
		die("%s: no programs (NAME.bin)", argv[1]);
	qsort(bs, n, sizeof(bs[0]), cmp_bench);

	if (!(vm = bpfvm__new(NULL)))
		die("bpfvm__new: %s", strerror(errno));
	build_frame();
	for (size_t i = 0; i < n; i++) {
		load(vm, argv[1], &bs[i]);
		verify(&bs[i]);
	}
	printf("bpfvm benchmark: %zu programs, %d-byte input; ns per run in thread CPU time, "
	       "median of %d measurements of ~%.2g s; every result checked against native\n\n",
	       n, MEM_LEN, REPS, target_sec);
	printf("%-12s %8s %11s %11s %8s %7s %11s %8s %11s %8s\n", "program", "insns",
	       "native ns", "interp ns", "ratio", "ns/insn", "checked ns", "ratio", "jit ns", "ratio");
	for (size_t i = 0; i < n; i++) {
		struct bench *b = &bs[i];

		for (int m = 0; m < M_COUNT; m++)
			b->ns[m] = mode_on[m] ? measure(b, (enum mode)m) : 0;
		printf("%-12s %8" PRIu64, b->name, b->insns);
		put_ns(b->ns[M_NATIVE]);
		put_ns(b->ns[M_INTERP]);
		put_ratio(b->ns[M_INTERP], b->ns[M_NATIVE]);
		if (b->ns[M_INTERP] > 0)
			printf(" %7.2f", b->ns[M_INTERP] / (double)b->insns);
		else
			printf(" %7s", "-");
		put_ns(b->ns[M_CHECKED]);
		put_ratio(b->ns[M_CHECKED], b->ns[M_NATIVE]);
		put_ns(b->ns[M_JIT]);
		put_ratio(b->ns[M_JIT], b->ns[M_NATIVE]);
		printf("\n");
		fflush(stdout);
	}
	printf("\n");
	if (mode_on[M_NATIVE] && mode_on[M_INTERP])
		print_means("interp", bs, n, M_INTERP);
	if (mode_on[M_NATIVE] && mode_on[M_CHECKED])
		print_means("checked", bs, n, M_CHECKED);
	if (mode_on[M_NATIVE] && mode_on[M_JIT])
		print_means("jit", bs, n, M_JIT);
	if (mode_on[M_JIT])
		jit_compile_time(vm);
	bench_vm = vm;
	status = xdp_table(argv[1], bs, n);
	maps_table(argv[1], argc - 2, argv + 2);
	bpfvm__destroy(vm);
	return status;
}
