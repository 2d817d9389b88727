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

TEST(random_loops_summarized_as_walked)
{
	struct bpfvm_insn p[MAX_INSNS];
	uint64_t t_sum = 0, t_walk = 0;

	for (int i = 0; i < 60; i++) {
		size_t n = gen_loop(p);
		struct outcome a = verify(p, n, 0);
		struct outcome b = verify(p, n, BPFVM_VERIFY_WALK_LOOPS);

		t_sum += a.usec;
		t_walk += b.usec;
		if (a.err != b.err || (a.err && strcmp(a.msg, b.msg)) ||
		    a.stats.insns_processed != b.stats.insns_processed ||
		    a.stats.total_states != b.stats.total_states ||
		    a.stats.max_states_per_insn != b.stats.max_states_per_insn ||
		    a.stats.peak_states != b.stats.peak_states) {
			TEST_FAIL("program %d: summarized %d \"%s\" %" PRIu64 " insns %u states, walked "
				  "%d \"%s\" %" PRIu64 " insns %u states", i, a.err, a.msg,
				  a.stats.insns_processed, a.stats.total_states, b.err, b.msg,
				  b.stats.insns_processed, b.stats.total_states);
		}
	}
	printf("     60 random loops: %" PRIu64 " us summarized, %" PRIu64 " us walked\n", t_sum,
	       t_walk);
}

TEST_MAIN()
