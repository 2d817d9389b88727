/*
 * test_verifier_loops.c - the verifier's loop summaries (src/verifier/
 * loop.c).  A summary must change nothing but the time: the verdict, the
 * message and every figure of the statistics line (instructions
 * processed, states) stay what walking every iteration gives, which is
 * what the kernel gives.  The fixed programs carry the kernel 6.18's own
 * figures; the random ones compare a summarizing run with a
 * BPFVM_VERIFY_WALK_LOOPS run.
 */
#include <errno.h>
#include <time.h>

#include <bpfvm/bpfvm.h>

#include "test.h"

#define I(code, dst, src, off, imm) ((struct bpfvm_insn){ code, dst, src, off, imm })
#define MAX_INSNS 64

struct outcome {
	int err;
	struct bpfvm_verify_stats stats;
	char msg[160];
	uint64_t usec;
};

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static struct outcome verify(const struct bpfvm_insn *insns, size_t cnt, uint32_t flags)
{
	static char logbuf[1 << 16];
	struct bpfvm_log log = { logbuf, sizeof(logbuf), 0 };
	BPFVM_OPTS(bpfvm_prog_opts, popts, .name = "loop", .log = &log,
		   .prog_type = 1 /* socket filter */, .license = "GPL");
	struct outcome o = { 0 };
	struct bpfvm *vm = bpfvm__new(NULL);
	struct bpfvm_prog *prog = bpfvm_prog__new(vm, insns, cnt, &popts);
	uint64_t t;

	if (!prog) {
		o.err = -errno;
		snprintf(o.msg, sizeof(o.msg), "%.*s", (int)strcspn(logbuf, "\n") % 150, logbuf);
		bpfvm__destroy(vm);
		return o;
	}
	BPFVM_OPTS(bpfvm_verify_opts, vopts, .log = &log, .stats = &o.stats, .flags = flags);
	bpfvm_log__reset(&log);
	t = now_us();
	o.err = bpfvm_prog__verify(prog, &vopts);
	o.usec = now_us() - t;
	snprintf(o.msg, sizeof(o.msg), "%.*s", (int)strcspn(logbuf, "\n") % 150, logbuf);
	bpfvm__destroy(vm);
	return o;
}

/* r0 = 0; r1 = 0; loop: r0 += r1; r1 += 1; if r1 < n goto loop; exit */
static size_t counter_loop(struct bpfvm_insn *p, int32_t n)
{
	p[0] = I(0xb7, 0, 0, 0, 0);
	p[1] = I(0xb7, 1, 0, 0, 0);
	p[2] = I(0x0f, 0, 1, 0, 0);
	p[3] = I(0x07, 1, 0, 0, 1);
	p[4] = I(0xa5, 1, 0, -3, n);
	p[5] = I(0x95, 0, 0, 0, 0);
	return 6;
}

TEST(counter_loop_100k_as_the_kernel)
{
	struct bpfvm_insn p[8];
	size_t n = counter_loop(p, 100000);
	struct outcome o = verify(p, n, 0);

	CHECK_EQ_INT(o.err, 0);
	/* the kernel 6.18: processed 300003 insns ... total_states 5001 */
	CHECK_EQ_U64(o.stats.insns_processed, 300003);
	CHECK_EQ_U64(o.stats.total_states, 5001);
	CHECK_EQ_U64(o.stats.max_states_per_insn, 4);
	printf("     100,000-iteration loop verified in %" PRIu64 " us\n", o.usec);
	/* the goal is 20 ms; a loaded machine gets slack */
	CHECK(o.usec < 200000);
}

TEST(counter_loop_over_the_limit_as_the_kernel)
{
	struct bpfvm_insn p[8];
	size_t n = counter_loop(p, 400000);
	struct outcome o = verify(p, n, 0);

	CHECK_EQ_INT(o.err, -E2BIG);
	CHECK_STR(o.msg, "BPF program is too large. Processed 1000001 insn");
	CHECK_EQ_U64(o.stats.insns_processed, 1000001);
	CHECK_EQ_U64(o.stats.total_states, 16668);
}

TEST(nested_loops_as_the_kernel)
{
	const struct bpfvm_insn p[] = {
		I(0xb7, 0, 0, 0, 0), I(0xb7, 2, 0, 0, 0),  /* r0 = 0; r2 = 0 */
		I(0xb7, 1, 0, 0, 0),                        /* outer: r1 = 0 */
		I(0x0f, 0, 1, 0, 0), I(0x07, 1, 0, 0, 1),   /* inner: r0 += r1; r1++ */
		I(0xa5, 1, 0, -3, 1000),                    /* if r1 < 1000 goto inner */
		I(0x07, 2, 0, 0, 1), I(0xa5, 2, 0, -6, 100), /* r2++; if r2 < 100 goto outer */
		I(0x95, 0, 0, 0, 0),
	};
	struct outcome o = verify(p, sizeof(p) / sizeof(p[0]), 0);

	CHECK_EQ_INT(o.err, 0);
	CHECK_EQ_U64(o.stats.insns_processed, 300303);
	CHECK_EQ_U64(o.stats.total_states, 5007);
}

TEST(endless_loop_still_detected)
{
	/* r1 ^= 1 flips forever: no counter advances, the walk finds the repeat */
	const struct bpfvm_insn p[] = {
		I(0xb7, 0, 0, 0, 0), I(0xb7, 1, 0, 0, 0), I(0xa7, 1, 0, 0, 1),
		I(0x07, 0, 0, 0, 1), I(0x05, 0, 0, -3, 0), I(0x95, 0, 0, 0, 0),
	};
	struct outcome a = verify(p, sizeof(p) / sizeof(p[0]), 0);
	struct outcome b = verify(p, sizeof(p) / sizeof(p[0]), BPFVM_VERIFY_WALK_LOOPS);

	CHECK(a.err < 0);
	CHECK_STR(a.msg, b.msg);
	CHECK_EQ_U64(a.stats.insns_processed, b.stats.insns_processed);
}

/* ---- where a summary must not change the verdict --------------------------------- */

/*
 * Socket filters checked by hand against the kernel 6.18: each was loaded
 * with bpf(BPF_PROG_LOAD, log_level 1|4); the verdict, the error line and
 * the figures of its statistics line are the ones asserted.  Each is also
 * verified with every iteration walked (BPFVM_VERIFY_WALK_LOOPS), which must
 * give the same outcome: a summary is only a shortcut of the walk.
 */
/* 1: the bound is unknown (skb->len & 0xff): no summary, walk 255 */
static const struct bpfvm_insn p_unknown_bound[] = {
	I(0x61, 2, 1, 0, 0), I(0x57, 2, 0, 0, 0xff), /* r2 = skb->len & 0xff */
	I(0xb7, 0, 0, 0, 0), I(0xb7, 1, 0, 0, 0),
	I(0x07, 1, 0, 0, 1), I(0x0f, 0, 1, 0, 0),   /* loop: r1++; r0 += r1 */
	I(0x2d, 2, 1, -3, 0),                        /* if r2 > r1 goto loop */
	I(0x95, 0, 0, 0, 0),
};
/* 2: the bound flips between 40 and 10 (r2 = 50 - r2) while r1 counts up: exits at r1 == 10 */
static const struct bpfvm_insn p_flipping_bound[] = {
	I(0xb7, 0, 0, 0, 0), I(0xb7, 1, 0, 0, 0), I(0xb7, 2, 0, 0, 40),
	I(0x87, 2, 0, 0, 0), I(0x07, 2, 0, 0, 50),   /* loop: r2 = -r2 + 50 */
	I(0x07, 1, 0, 0, 1), I(0x0f, 0, 2, 0, 0),    /* r1++; r0 += r2 */
	I(0xad, 1, 2, -5, 0),                         /* if r1 < r2 goto loop */
	I(0x95, 0, 0, 0, 0),
};
/* 3: a store at fp-64 + r1, r1 += 8 up to 72: the last iteration writes fp+0 */
static const struct bpfvm_insn p_store_overrun[] = {
	I(0xb7, 0, 0, 0, 0), I(0xb7, 1, 0, 0, 0),
	I(0xbf, 2, 10, 0, 0), I(0x07, 2, 0, 0, -64), I(0x0f, 2, 1, 0, 0), /* loop: r2 = fp-64+r1 */
	I(0x7a, 2, 0, 0, 7),                           /* *(u64 *)(r2 + 0) = 7 */
	I(0x07, 1, 0, 0, 8), I(0xa5, 1, 0, -6, 72),   /* r1 += 8; if r1 < 72 goto loop */
	I(0x95, 0, 0, 0, 0),
};
/* 4: the same loop to 64 only: all stores inside the frame */
static const struct bpfvm_insn p_store_inside[] = {
	I(0xb7, 0, 0, 0, 0), I(0xb7, 1, 0, 0, 0),
	I(0xbf, 2, 10, 0, 0), I(0x07, 2, 0, 0, -64), I(0x0f, 2, 1, 0, 0),
	I(0x7a, 2, 0, 0, 7),
	I(0x07, 1, 0, 0, 8), I(0xa5, 1, 0, -6, 64),
	I(0x95, 0, 0, 0, 0),
};
/* 5: a summarized pure loop (r1 += 8 up to 512, r3 counts its 64 iterations) whose results index
 * the stack after it: fp-512 + r1 - 8 is fp-8 (fine), fp-504 + r3 * 8 is fp+8 (refused) */
static const struct bpfvm_insn p_summary_then_overrun[] = {
	I(0xb7, 0, 0, 0, 0), I(0xb7, 1, 0, 0, 0), I(0xb7, 3, 0, 0, 0),
	I(0x07, 1, 0, 0, 8), I(0x07, 3, 0, 0, 1),    /* loop: r1 += 8; r3++ */
	I(0xa5, 1, 0, -3, 512),                      /* if r1 < 512 goto loop: r1 = 512, r3 = 64 */
	I(0xbf, 2, 10, 0, 0), I(0x07, 2, 0, 0, -512), I(0x0f, 2, 1, 0, 0), /* r2 = fp-512+512 */
	I(0x7a, 2, 0, -8, 1),                         /* *(u64 *)(r2 - 8) = 1: fp-8, fine */
	I(0x67, 3, 0, 0, 3), I(0xbf, 4, 10, 0, 0), I(0x07, 4, 0, 0, -504), I(0x0f, 4, 3, 0, 0),
	I(0x7a, 4, 0, 0, 1),                          /* *(u64 *)(fp-504 + 64*8) = fp+8: refused */
	I(0x95, 0, 0, 0, 0),
};
/* 6: triangular nested loops: the inner bound is the outer counter */
static const struct bpfvm_insn p_nested_triangle[] = {
	I(0xb7, 0, 0, 0, 0), I(0xb7, 2, 0, 0, 1),     /* r0 = 0; r2 = 1 */
	I(0xb7, 1, 0, 0, 0),                          /* outer: r1 = 0 */
	I(0x0f, 0, 1, 0, 0), I(0x07, 1, 0, 0, 1),    /* inner: r0 += r1; r1++ */
	I(0xad, 1, 2, -3, 0),                         /* if r1 < r2 goto inner */
	I(0x07, 2, 0, 0, 1), I(0xa5, 2, 0, -6, 300),  /* r2++; if r2 < 300 goto outer */
	I(0x95, 0, 0, 0, 0),
};
/* 7: a loop with a break: r1 == 777 leaves before the bound of 1000 */
static const struct bpfvm_insn p_break[] = {
	I(0xb7, 0, 0, 0, 0), I(0xb7, 1, 0, 0, 0),
	I(0x07, 1, 0, 0, 1), I(0x15, 1, 0, 2, 777),   /* loop: r1++; if r1 == 777 goto out */
	I(0x0f, 0, 1, 0, 0), I(0xa5, 1, 0, -4, 1000), /* r0 += r1; if r1 < 1000 goto loop */
	I(0x95, 0, 0, 0, 0),                          /* out: */
};
/* 8: the value at the break indexes the stack: r3 = (1000 - r1) * 8 is 1784 there
 * (fp+1776: refused); a walk that missed the break would reach r1 = 1000, r3 = 0 (fp-8: fine) */
static const struct bpfvm_insn p_break_then_overrun[] = {
	I(0xb7, 0, 0, 0, 0), I(0xb7, 1, 0, 0, 0),
	I(0x07, 1, 0, 0, 1), I(0x15, 1, 0, 2, 777),
	I(0x0f, 0, 1, 0, 0), I(0xa5, 1, 0, -4, 1000),
	/* out: r3 = (1000 - r1) * 8 */
	I(0xbf, 3, 1, 0, 0), I(0x87, 3, 0, 0, 0), I(0x07, 3, 0, 0, 1000), I(0x67, 3, 0, 0, 3),
	I(0xbf, 2, 10, 0, 0), I(0x07, 2, 0, 0, -8), I(0x0f, 2, 3, 0, 0),  /* r2 = fp-8 + r3 */
	I(0x7a, 2, 0, 0, 1),                          /* *(u64 *)(r2 + 0) = 1 */
	I(0x95, 0, 0, 0, 0),
};

struct kernel_outcome {
	int err;             /* 0 or the errno the kernel returned */
	const char *msg;     /* the kernel's error line, NULL when accepted */
	uint64_t insns;      /* processed */
	uint32_t states;     /* total_states */
	uint32_t max_states; /* max_states_per_insn */
};

#define CHECK_AS_KERNEL(P, ...) check_as_kernel(#P, P, sizeof(P) / sizeof(P[0]), \
						(struct kernel_outcome){ __VA_ARGS__ })

static void check_as_kernel(const char *name, const struct bpfvm_insn *p, size_t n,
			    struct kernel_outcome k)
{
	struct outcome sum = verify(p, n, 0), walk = verify(p, n, BPFVM_VERIFY_WALK_LOOPS);
	const struct outcome *o[2] = { &sum, &walk };

	for (int i = 0; i < 2; i++) {
		const char *how = i ? "walked" : "summarized";

		if (o[i]->err != k.err || (k.msg && strcmp(o[i]->msg, k.msg)) ||
		    o[i]->stats.insns_processed != k.insns || o[i]->stats.total_states != k.states ||
		    o[i]->stats.max_states_per_insn != k.max_states)
			TEST_FAIL("%s %s: %d \"%s\" %" PRIu64 " insns %u states %u per insn; the kernel: "
				  "%d \"%s\" %" PRIu64 " insns %u states %u per insn", name, how,
				  o[i]->err, o[i]->msg, o[i]->stats.insns_processed,
				  o[i]->stats.total_states, o[i]->stats.max_states_per_insn, k.err,
				  k.msg ? k.msg : "", k.insns, k.states, k.max_states);
	}
}

TEST(unknown_bound_is_walked_as_the_kernel)
{
	/* the kernel: processed 1024 insns ... max_states_per_insn 4 total_states 27 */
	CHECK_AS_KERNEL(p_unknown_bound, 0, NULL, 1024, 27, 4);
}

TEST(flipping_bound_as_the_kernel)
{
	/* the kernel: processed 59 insns ... max_states_per_insn 1 total_states 2 */
	CHECK_AS_KERNEL(p_flipping_bound, 0, NULL, 59, 2, 1);
}

TEST(store_overrunning_at_the_last_iteration_refused)
{
	CHECK_AS_KERNEL(p_store_overrun, -EACCES, "invalid write to stack R2 off=0 size=8", 54, 2, 1);
	/* the same loop stopping one iteration earlier is fine */
	CHECK_AS_KERNEL(p_store_inside, 0, NULL, 51, 2, 1);
}

TEST(summarized_counter_then_overrun_refused)
{
	CHECK_AS_KERNEL(p_summary_then_overrun, -EACCES, "invalid write to stack R4 off=8 size=8",
			204, 4, 3);
}

TEST(nested_loops_inner_bound_from_outer_as_the_kernel)
{
	/* the kernel: processed 135450 insns ... max_states_per_insn 4 total_states 2260 */
	CHECK_AS_KERNEL(p_nested_triangle, 0, NULL, 135450, 2260, 4);
}

TEST(loop_with_break_as_the_kernel)
{
	/* the kernel: processed 3109 insns ... max_states_per_insn 4 total_states 80 */
	CHECK_AS_KERNEL(p_break, 0, NULL, 3109, 80, 4);
	CHECK_AS_KERNEL(p_break_then_overrun, -EACCES, "invalid write to stack R2 off=1776 size=8",
			3116, 80, 4);
}

/* ---- random loops: summarized and walked agree ---------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state % n);
}

static void gen_body_insn(struct bpfvm_insn *p, size_t *n, int counter)
{
	static const uint8_t alu[] = { 0x00, 0x10, 0x20, 0x40, 0x50, 0x60, 0x70, 0xa0, 0xb0, 0xc0 };
	static const int32_t imms[] = { 1, 2, 3, 7, 31, 63, 64, 0xff, -1, 1000 };
	uint8_t dst = (uint8_t)rnd(6), cls = rnd(3) ? 0x07 : 0x04;
	uint32_t k = rnd(10);

	if (dst == counter)
		dst = 0;
	if (k < 6) {
		uint8_t op = alu[rnd(10)];

		if (rnd(2))
			p[(*n)++] = I(cls | op, dst, 0, 0, imms[rnd(10)]);
		else
			p[(*n)++] = I(cls | op | 0x08, dst, (uint8_t)rnd(6), 0, 0);
	} else if (k == 6) {
		p[(*n)++] = I(cls | 0x80, dst, 0, 0, 0); /* neg */
	} else if (k == 7) {
		/* a spill and fill: the iteration is then walked */
		p[(*n)++] = I(0x7b, 10, dst, -8, 0);
		p[(*n)++] = I(0x79, dst, 10, -8, 0);
	} else {
		/* a branch over one instruction, decided or not */
		static const uint8_t jops[] = { 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0xa0, 0xb0, 0xd0 };

		p[(*n)++] = I(0x05 | jops[rnd(9)], (uint8_t)rnd(6), 0, 1, imms[rnd(10)]);
		p[(*n)++] = I(0x07, dst, 0, 0, 1);
	}
}

static size_t gen_loop(struct bpfvm_insn *p)
{
	static const int32_t iters[] = { 10, 100, 1000, 5000, 30000, 60000 };
	int counter = 1 + (int)rnd(5), step = 1 + (int)rnd(3);
	size_t n = 0, head, body = rnd(7);

	/* r3 or r4 may be unknown (the packet length) */
	if (rnd(4) == 0)
		p[n++] = I(0x61, 3 + (uint8_t)rnd(2), 1, 0, 0);
	for (uint8_t r = 0; r < 6; r++)
		if (n == 0 || p[0].dst_reg != r || p[0].code != 0x61)
			p[n++] = I(0xb7, r, 0, 0, (int32_t)rnd(200) - 100);
	p[n++] = I(0xb7, (uint8_t)counter, 0, 0, 0);
	head = n;
	while (body--)
		gen_body_insn(p, &n, counter);
	p[n++] = I(0x07, (uint8_t)counter, 0, 0, step);
	p[n] = I(0xa5, (uint8_t)counter, 0, (int16_t)(head - n - 1), iters[rnd(6)] * step);
	n++;
	p[n++] = I(0xbf, 0, (uint8_t)rnd(6), 0, 0);
	p[n++] = I(0x57, 0, 0, 0, 1);
	p[n++] = I(0x95, 0, 0, 0, 0);
	return n;
}

/* count programs from gen, each verified summarized and walked: the same verdict and figures. */
static void summarized_as_walked(size_t (*gen)(struct bpfvm_insn *), int count, const char *what)
{
	struct bpfvm_insn p[MAX_INSNS];
	uint64_t t_sum = 0, t_walk = 0;

	for (int i = 0; i < count; i++) {
		size_t n = gen(p);
		struct outcome a = verify(p, n, 0);
		struct outcome b = verify(p, n, BPFVM_VERIFY_WALK_LOOPS);

		t_sum += a.usec;
		t_walk += b.usec;
		if (a.err != b.err || (a.err && strcmp(a.msg, b.msg)) ||
		    a.stats.insns_processed != b.stats.insns_processed ||
		    a.stats.total_states != b.stats.total_states ||
		    a.stats.max_states_per_insn != b.stats.max_states_per_insn ||
		    a.stats.peak_states != b.stats.peak_states) {
			TEST_FAIL("%s %d: summarized %d \"%s\" %" PRIu64 " insns %u states, walked "
				  "%d \"%s\" %" PRIu64 " insns %u states", what, i, a.err, a.msg,
				  a.stats.insns_processed, a.stats.total_states, b.err, b.msg,
				  b.stats.insns_processed, b.stats.total_states);
		}
	}
	printf("     %d %s: %" PRIu64 " us summarized, %" PRIu64 " us walked\n", count, what, t_sum,
	       t_walk);
}

TEST(random_loops_summarized_as_walked)
{
	summarized_as_walked(gen_loop, 60, "random loops");
}

/*
 * Two loops, one inside the other: r6 counts the outer one, r7 the inner
 * one, whose bound is a constant or the outer counter (then each outer
 * iteration has another trip count, and only the inner loop's iterations
 * are alike).  The bodies are random as above.
 */
static size_t gen_nested(struct bpfvm_insn *p)
{
	static const int32_t outer_iters[] = { 3, 10, 40 }, inner_iters[] = { 10, 100, 1000 };
	size_t n = 0, outer, inner, body;

	if (rnd(4) == 0)
		p[n++] = I(0x61, 3 + (uint8_t)rnd(2), 1, 0, 0);
	for (uint8_t r = 0; r < 6; r++)
		if (n == 0 || p[0].dst_reg != r || p[0].code != 0x61)
			p[n++] = I(0xb7, r, 0, 0, (int32_t)rnd(200) - 100);
	p[n++] = I(0xb7, 6, 0, 0, 0);
	outer = n;
	for (body = rnd(3); body--;)
		gen_body_insn(p, &n, -1);
	p[n++] = I(0xb7, 7, 0, 0, 0);
	inner = n;
	for (body = rnd(5); body--;)
		gen_body_insn(p, &n, -1);
	p[n++] = I(0x07, 7, 0, 0, 1);
	if (rnd(2))
		p[n] = I(0xad, 7, 6, (int16_t)(inner - n - 1), 0); /* if r7 < r6 */
	else
		p[n] = I(0xa5, 7, 0, (int16_t)(inner - n - 1), inner_iters[rnd(3)]);
	n++;
	for (body = rnd(3); body--;)
		gen_body_insn(p, &n, -1);
	p[n++] = I(0x07, 6, 0, 0, 1);
	p[n] = I(0xa5, 6, 0, (int16_t)(outer - n - 1), outer_iters[rnd(3)]);
	n++;
	p[n++] = I(0xbf, 0, (uint8_t)rnd(6), 0, 0);
	p[n++] = I(0x57, 0, 0, 0, 1);
	p[n++] = I(0x95, 0, 0, 0, 0);
	return n;
}

TEST(random_nested_loops_summarized_as_walked)
{
	summarized_as_walked(gen_nested, 40, "random nested loops");
}

TEST_MAIN()
