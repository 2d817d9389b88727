/*
 * test_kernel_diff.c - a differential test of the interpreter against the
 * Linux kernel.  Random programs (every ALU operation in 32 and 64 bits
 * with immediate and register operands, lddw, loads and stores of every
 * size and the sign-extending loads, atomics, conditional jumps of every
 * kind, ja, gotol and may_goto, all forward) run as XDP programs through
 * BPF_PROG_TEST_RUN and in bpfvm, checked and unchecked; the results must
 * agree to the bit.  The kernel is the reference: where it and bpfvm
 * differ, bpfvm is wrong, or the kernel has a bug.  Two kernel bugs this
 * test found are steered around (see gen_atomic) and shown by tests of
 * their own.
 *
 * One program is laid out so that the part that matters is byte-identical
 * in both runtimes:
 *
 *   kernel prologue  r2 = data, r3 = data_end, give up unless the packet
 *                    holds PKT_CHECKED bytes (so the verifier allows the
 *                    epilogue's stores), then rP = r2
 *   bpfvm prologue   rP = r1 (bpfvm runs with r1 = the memory)
 *   common part:
 *     init           every body register (r0..r9 but rP) gets a value and
 *                    the stack area [fp-64, fp) is filled, so that the
 *                    verifier lets the body read anything there
 *     body           the random instructions, on body registers and r10
 *     epilogue       body register ri goes to packet[8*i], the stack area
 *                    to packet[80, 144); return r0
 *
 * rP, the packet pointer, rotates over r1..r9 from program to program, so
 * every register is a body register in most programs.  r0 is always one:
 * it is the return value and cmpxchg's implicit operand.
 *
 * Environment: BPFVM_DIFF_SEED (default: from the clock; printed),
 * BPFVM_DIFF_COUNT (programs), BPFVM_DIFF_FIRST (index of the first one).
 * Program i depends only on the seed and i, so a failing program reruns
 * alone with BPFVM_DIFF_FIRST=i BPFVM_DIFF_COUNT=1.  A report names the
 * registers and stack slots that differ, the shortest cut of the body on
 * which they still differ, and the program as hex and text.
 *
 * Skips (exit 0) unless running as root with a working bpf() syscall, and
 * where the host kernel lacks an instruction the generator emits (each is
 * probed alone first: cpu v4's, may_goto), with the kernel's reason.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <linux/bpf.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <bpfvm/bpfvm.h>

#include "kernel_host.h"
#include "isa/opcode.h"
#include "test.h"

/*
 * About 0.2 ms a program where this was written (loading, which is mostly
 * the verifier, one test run, two bpfvm runs): 200000 programs take ~40 s.
 */
#define DEFAULT_COUNT 200000

#define STACK_BYTES 64                       /* the body's stack area: [fp-64, fp) */
#define PKT_STACK_OFF (8 * 10)               /* where the epilogue copies it */
#define PKT_CHECKED (PKT_STACK_OFF + STACK_BYTES)
#define PKT_LEN (PKT_CHECKED + 16)           /* a tail nothing may write */
#define MAX_ITEMS 96                         /* body items */
#define MAX_INSNS 512
#define MAX_REPORTS 3                        /* mismatches reported in full */
#define MAX_REJECT_LOGS 3                    /* verifier logs printed in full */
#define VLOG_SIZE (256 * 1024)

/* ---- random numbers ------------------------------------------------------ */

/* splitmix64: tiny, and every seed gives a good stream. */
struct rng {
	uint64_t s;
};

static uint64_t rng_next(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint32_t rng_below(struct rng *r, uint32_t n)
{
	return (uint32_t)(rng_next(r) % n);
}

static bool rng_pct(struct rng *r, unsigned pct)
{
	return rng_below(r, 100) < pct;
}

/* A 64-bit value, biased to the edges where arithmetic goes wrong. */
static uint64_t gen_value(struct rng *r)
{
	static const uint64_t edges[] = {
		0, ~0ull, 1ull << 63, ~0ull >> 1, 0xffffffff80000000ull, 0x80000000ull,
		0xffffffffull, 0x7fffffffull, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff,
		0x100000000ull, 0xffffffff00000000ull,
	};

	switch (rng_below(r, 8)) {
	case 0:
	case 1:
		return edges[rng_below(r, sizeof(edges) / sizeof(edges[0]))];
	case 2:
		return (uint64_t)((int64_t)rng_below(r, 33) - 16);
	case 3:
		return (1ull << rng_below(r, 64)) - rng_below(r, 2);
	case 4:
		return (uint32_t)rng_next(r);
	default:
		return rng_next(r);
	}
}

/* A 32-bit immediate, likewise biased. */
static int32_t gen_imm(struct rng *r)
{
	static const int32_t edges[] = {
		0, -1, 1, INT32_MIN, INT32_MAX, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, -0x8000,
	};

	switch (rng_below(r, 6)) {
	case 0:
	case 1:
		return edges[rng_below(r, sizeof(edges) / sizeof(edges[0]))];
	case 2:
		return (int32_t)rng_below(r, 33) - 16;
	case 3:
		return (int32_t)(1u << rng_below(r, 32));
	default:
		return (int32_t)(uint32_t)rng_next(r);
	}
}

/* ---- the generator ------------------------------------------------------- */

#define INSN(CODE, DST, SRC, OFF, IMM) BPFVM_RAW_INSN(CODE, DST, SRC, OFF, IMM)

enum jump_kind { J_NONE, J_OFF, J_IMM /* gotol: the offset is in imm */ };

/*
 * One body item: an instruction, an lddw, or a short sequence that no jump
 * may split.  A jump names its target as an item index.
 */
struct item {
	struct bpfvm_insn insn[4];
	uint8_t slots;
	uint8_t jump; /* enum jump_kind */
	int target;
};

struct gen {
	struct rng r;
	int ptr;            /* the register holding the packet pointer */
	int nregs;
	uint8_t regs[9];    /* the body registers: r0..r9 but ptr */
	int len;            /* body items */
	int ja_at, ja_to;   /* the pending `ja` that closes an if/else */
	struct item items[MAX_ITEMS];
};

static uint8_t body_reg(struct gen *g)
{
	return g->regs[rng_below(&g->r, (uint32_t)g->nregs)];
}

static void gen_init(struct gen *g, uint64_t seed, uint64_t idx)
{
	memset(g, 0, sizeof(*g));
	/* An odd multiplier, not splitmix's increment, so that the streams of
	 * neighbouring programs do not overlap. */
	g->r.s = seed ^ (idx * 0xd1342543de82ef95ull);
	rng_next(&g->r);
	g->ptr = 1 + (int)(idx % 9);
	for (int i = 0; i < 10; i++)
		if (i != g->ptr)
			g->regs[g->nregs++] = (uint8_t)i;
	g->ja_at = -1;
}

/*
 * What an operation needs beyond its opcode and registers: off 1 for the
 * signed division and modulo, a divisor immediate that is not zero (the
 * kernel refuses those), immediate shifts within the width (likewise),
 * the width of movsx and of the byte swaps.
 */
static void fix_alu_operands(struct gen *g, struct bpfvm_insn *in, bool is64, bool x)
{
	uint8_t op = BPFVM_OP(in->code);
	static const int16_t sx64[] = { 8, 16, 32 }, sx32[] = { 8, 16 };
	static const int32_t widths[] = { 16, 32, 64 };

	switch (op) {
	case BPFVM_DIV:
	case BPFVM_MOD:
		in->off = (int16_t)rng_below(&g->r, 2);
		while (!x && in->imm == 0)
			in->imm = gen_imm(&g->r);
		break;
	case BPFVM_LSH:
	case BPFVM_RSH:
	case BPFVM_ARSH:
		if (!x) /* the kernel refuses immediate shifts by the width or more */
			in->imm = (int32_t)rng_below(&g->r, is64 ? 64 : 32);
		break;
	case BPFVM_MOV:
		if (x && rng_pct(&g->r, 40))
			in->off = is64 ? sx64[rng_below(&g->r, 3)] : sx32[rng_below(&g->r, 2)];
		break;
	case BPFVM_NEG:
		in->code = (uint8_t)((in->code & ~BPFVM_X) | BPFVM_K);
		in->src_reg = 0;
		in->imm = 0;
		break;
	case BPFVM_END:
		/* ALU64 holds only the unconditional bswap; ALU has le and be. */
		in->code = (uint8_t)(BPFVM_CLASS(in->code) | BPFVM_END |
				     (!is64 && rng_pct(&g->r, 50) ? BPFVM_TO_BE : BPFVM_TO_LE));
		in->src_reg = 0;
		in->imm = widths[rng_below(&g->r, 3)];
		break;
	}
}

static struct bpfvm_insn gen_alu(struct gen *g)
{
	static const uint8_t ops[] = {
		BPFVM_ADD, BPFVM_SUB, BPFVM_MUL, BPFVM_DIV, BPFVM_MOD, BPFVM_OR, BPFVM_AND,
		BPFVM_XOR, BPFVM_LSH, BPFVM_RSH, BPFVM_ARSH, BPFVM_MOV, BPFVM_NEG, BPFVM_END,
	};
	bool is64 = rng_pct(&g->r, 50), x = rng_pct(&g->r, 50);
	uint8_t op = ops[rng_below(&g->r, sizeof(ops))];
	struct bpfvm_insn in = INSN((is64 ? BPFVM_ALU64 : BPFVM_ALU) | op | (x ? BPFVM_X : BPFVM_K),
				    body_reg(g), x ? body_reg(g) : 0, 0, x ? 0 : gen_imm(&g->r));

	fix_alu_operands(g, &in, is64, x);
	return in;
}

static const uint8_t size_code[4] = { BPFVM_B, BPFVM_H, BPFVM_W, BPFVM_DW };

/* An offset in the stack area aligned to the access size. */
static int16_t stack_off(struct gen *g, unsigned bytes)
{
	return (int16_t)(-STACK_BYTES + (int)(bytes * rng_below(&g->r, STACK_BYTES / bytes)));
}

/*
 * A sign-extending load never reads a slot's first bytes: there it can be
 * the fill of a spilled register, which Linux 6.18 links to the register
 * (kernel_ldsx_fill_id below), unsoundly.
 */
static struct bpfvm_insn gen_load(struct gen *g)
{
	unsigned s = rng_below(&g->r, 4);
	bool sx = s < 3 && rng_pct(&g->r, 40); /* there is no sign-extending 64-bit load */
	int16_t off = stack_off(g, 1u << s);

	if (sx && off % 8 == 0)
		off = (int16_t)(off + (1 << s));
	return INSN(BPFVM_LDX | (sx ? BPFVM_MEMSX : BPFVM_MEM) | size_code[s], body_reg(g),
		    BPFVM_REG_FP, off, 0);
}

static struct bpfvm_insn gen_store(struct gen *g)
{
	unsigned s = rng_below(&g->r, 4);
	int16_t off = stack_off(g, 1u << s);

	if (rng_pct(&g->r, 50))
		return INSN(BPFVM_STX | BPFVM_MEM | size_code[s], BPFVM_REG_FP, body_reg(g), off, 0);
	return INSN(BPFVM_ST | BPFVM_MEM | size_code[s], BPFVM_REG_FP, 0, off, gen_imm(&g->r));
}

/*
 * Two bugs of Linux 6.18's verifier shape the atomics.  Both make the
 * kernel compute something other than what the ISA says, so the generator
 * steers around them; the tests kernel_cmpxchg32_zext and
 * kernel_fetch_precision below show them.
 *
 * 1. After a 32-bit cmpxchg, the zero-extension of r0 is added only if the
 *    verifier walks a 64-bit read of r0 on the path; when it prunes that
 *    path, x86-64's cmpxchg, which leaves RAX's upper half alone when it
 *    succeeds, keeps the old upper half.  Hence a 64-bit read of r0 right
 *    after the cmpxchg, in the same item so that no jump lands between.
 *
 * 2. Precision tracking does not follow the value an atomic fetch (fetch_*,
 *    xchg, cmpxchg) loads back to the stack slot it came from, so the
 *    verifier prunes a path on which the slot held another value and
 *    hard-wires branches it decided from the first path's value (fixed
 *    upstream in 2026: "bpf: Fix incorrect pruning due to atomic fetch
 *    precision tracking").  Hence the register that receives the old value
 *    is first loaded from the same slot and mixed with another register:
 *    backtracking through that load marks the slot precise.
 */
static struct bpfvm_insn r0_reader(struct gen *g)
{
	static const uint8_t ops[] = { BPFVM_MOV, BPFVM_ADD, BPFVM_XOR, BPFVM_SUB };
	uint8_t dst = g->regs[1 + rng_below(&g->r, (uint32_t)g->nregs - 1)]; /* not r0 */

	if (rng_pct(&g->r, 50))
		return BPFVM_STX_MEM(BPFVM_DW, BPFVM_REG_FP, 0, stack_off(g, 8));
	return BPFVM_ALU64_REG(ops[rng_below(&g->r, sizeof(ops))], dst, 0);
}

/* reg = *(slot) op another register: the slot's value, made precise (2. above). */
static void load_slot_first(struct gen *g, struct item *it, unsigned s, uint8_t reg, int16_t off)
{
	static const uint8_t ops[] = { BPFVM_ADD, BPFVM_SUB, BPFVM_XOR, BPFVM_AND, BPFVM_OR };

	it->insn[it->slots++] = BPFVM_LDX_MEM(size_code[s], reg, BPFVM_REG_FP, off);
	it->insn[it->slots++] = BPFVM_ALU64_REG(ops[rng_below(&g->r, sizeof(ops))], reg, body_reg(g));
}

static void gen_atomic(struct gen *g, struct item *it)
{
	static const int32_t ops[] = {
		BPFVM_ADD, BPFVM_OR, BPFVM_AND, BPFVM_XOR,
		BPFVM_ADD | BPFVM_FETCH, BPFVM_OR | BPFVM_FETCH, BPFVM_AND | BPFVM_FETCH,
		BPFVM_XOR | BPFVM_FETCH, BPFVM_XCHG, BPFVM_CMPXCHG,
		BPFVM_LOAD_ACQ, BPFVM_STORE_REL,
	};
	int32_t op = ops[rng_below(&g->r, sizeof(ops) / sizeof(ops[0]))];
	bool acq_rel = op == BPFVM_LOAD_ACQ || op == BPFVM_STORE_REL;
	/* Read-modify-write exists in 32 and 64 bits; acquire/release in all four. */
	unsigned s = acq_rel ? rng_below(&g->r, 4) : 2 + rng_below(&g->r, 2);
	int16_t off = stack_off(g, 1u << s);
	uint8_t code = BPFVM_STX | BPFVM_ATOMIC | size_code[s], src = body_reg(g);

	it->slots = 0;
	if (op == BPFVM_CMPXCHG)
		load_slot_first(g, it, s, 0, off);
	else if (!acq_rel && (op & BPFVM_FETCH))
		load_slot_first(g, it, s, src, off);
	if (op == BPFVM_LOAD_ACQ) /* dst = *(src + off) */
		it->insn[it->slots++] = INSN(code, src, BPFVM_REG_FP, off, op);
	else
		it->insn[it->slots++] = INSN(code, BPFVM_REG_FP, src, off, op);
	if (op == BPFVM_CMPXCHG && s == 2)
		it->insn[it->slots++] = r0_reader(g);
}

/* A conditional jump; the caller sets its target. */
static struct bpfvm_insn gen_jcond(struct gen *g)
{
	static const uint8_t conds[] = {
		BPFVM_JEQ, BPFVM_JGT, BPFVM_JGE, BPFVM_JSET, BPFVM_JNE, BPFVM_JSGT,
		BPFVM_JSGE, BPFVM_JLT, BPFVM_JLE, BPFVM_JSLT, BPFVM_JSLE,
	};
	uint8_t cls = rng_pct(&g->r, 50) ? BPFVM_JMP : BPFVM_JMP32;
	bool x = rng_pct(&g->r, 50);

	return INSN(cls | conds[rng_below(&g->r, sizeof(conds))] | (x ? BPFVM_X : BPFVM_K),
		    body_reg(g), x ? body_reg(g) : 0, 0, x ? 0 : gen_imm(&g->r));
}

static void set_lddw(struct item *it, uint8_t dst, uint64_t v)
{
	struct bpfvm_insn two[2] = { BPFVM_LD_IMM64_RAW(dst, 0, v) };

	memcpy(it->insn, two, sizeof(two));
	it->slots = 2;
}

/*
 * Start `if cond goto ELSE; THEN (a items); ja END; ELSE (b items); END:`
 * at item i, or return false when it does not fit.  `ja` only ever closes
 * such a diamond: the kernel refuses code that no edge reaches, and the
 * else branch is reached by the conditional jump.
 */
static bool gen_diamond(struct gen *g, int i)
{
	int a = (int)rng_below(&g->r, 5), b = (int)rng_below(&g->r, 5);

	if (g->ja_at >= 0 || i + a + b + 2 > g->len)
		return false;
	g->items[i].insn[0] = gen_jcond(g);
	g->items[i].jump = J_OFF;
	g->items[i].target = i + a + 2;
	g->ja_at = i + a + 1;
	g->ja_to = i + a + 2 + b;
	return true;
}

static void gen_item(struct gen *g, int i)
{
	struct item *it = &g->items[i];
	unsigned k = rng_below(&g->r, 100);

	it->slots = 1;
	if (i == g->ja_at) {
		bool gotol = rng_pct(&g->r, 30);

		it->insn[0] = INSN((gotol ? BPFVM_JMP32 : BPFVM_JMP) | BPFVM_JA, 0, 0, 0, 0);
		it->jump = gotol ? J_IMM : J_OFF;
		it->target = g->ja_to;
		g->ja_at = -1;
	} else if (k < 45) {
		it->insn[0] = gen_alu(g);
	} else if (k < 49) {
		set_lddw(it, body_reg(g), gen_value(&g->r));
	} else if (k < 59) {
		it->insn[0] = gen_load(g);
	} else if (k < 69) {
		it->insn[0] = gen_store(g);
	} else if (k < 78) {
		gen_atomic(g, it);
	} else if (k < 93 || !gen_diamond(g, i)) {
		/* Mostly near targets; now and then one to anywhere up to the epilogue. */
		int span = g->len - i;

		if (!rng_pct(&g->r, 20) && span > 8)
			span = 8;
		/* may_goto jumps once its loop budget is spent: forward, never here */
		it->insn[0] = rng_pct(&g->r, 5) ? INSN(BPFVM_JMP | BPFVM_JCOND, 0, BPFVM_MAY_GOTO, 0, 0)
						 : gen_jcond(g);
		it->jump = J_OFF;
		it->target = i + 1 + (int)rng_below(&g->r, (uint32_t)span);
	}
}

static void gen_body(struct gen *g)
{
	g->len = 4 + (int)rng_below(&g->r, MAX_ITEMS - 4 + 1);
	for (int i = 0; i < g->len; i++)
		gen_item(g, i);
}

/* ---- assembling the two programs ----------------------------------------- */

struct code {
	struct bpfvm_insn v[MAX_INSNS];
	size_t n;
};

static void emit(struct code *c, struct bpfvm_insn in)
{
	if (c->n < MAX_INSNS)
		c->v[c->n++] = in;
}

static void emit_lddw(struct code *c, uint8_t dst, uint64_t v)
{
	struct bpfvm_insn two[2] = { BPFVM_LD_IMM64_RAW(dst, 0, v) };

	emit(c, two[0]);
	emit(c, two[1]);
}

/* A value for every body register, and the whole stack area written. */
static void emit_init(struct gen *g, struct code *c)
{
	for (int i = 0; i < g->nregs; i++) {
		uint8_t r = g->regs[i];
		uint64_t v = gen_value(&g->r);

		if ((uint64_t)(int64_t)(int32_t)v == v && rng_pct(&g->r, 70))
			emit(c, BPFVM_MOV64_IMM(r, (int32_t)v));
		else if (v >> 32 == 0 && rng_pct(&g->r, 70))
			emit(c, BPFVM_ALU32_IMM(BPFVM_MOV, r, (int32_t)(uint32_t)v));
		else
			emit_lddw(c, r, v);
	}
	for (int16_t off = -STACK_BYTES; off < 0; off += 8) {
		unsigned k = rng_below(&g->r, 4);

		if (k < 2) {
			emit(c, BPFVM_STX_MEM(BPFVM_DW, BPFVM_REG_FP, body_reg(g), off));
		} else if (k == 2) {
			emit(c, BPFVM_ST_MEM(BPFVM_DW, BPFVM_REG_FP, off, gen_imm(&g->r)));
		} else {
			emit(c, BPFVM_ST_MEM(BPFVM_W, BPFVM_REG_FP, off, gen_imm(&g->r)));
			emit(c, BPFVM_ST_MEM(BPFVM_W, BPFVM_REG_FP, off + 4, gen_imm(&g->r)));
		}
	}
}

/* The body, with jump offsets computed from the items' slot positions. */
static void emit_body(const struct gen *g, struct code *c)
{
	int pos[MAX_ITEMS + 1];

	pos[0] = 0;
	for (int i = 0; i < g->len; i++)
		pos[i + 1] = pos[i] + g->items[i].slots;
	for (int i = 0; i < g->len; i++) {
		const struct item *it = &g->items[i];
		struct bpfvm_insn in = it->insn[0];
		int delta = pos[it->target] - pos[i] - 1;

		if (it->jump == J_OFF)
			in.off = (int16_t)delta;
		else if (it->jump == J_IMM)
			in.imm = delta;
		emit(c, in);
		for (int k = 1; k < it->slots; k++)
			emit(c, it->insn[k]);
	}
}

/* Every body register, then the stack area, into the packet; return r0. */
static void emit_epilogue(const struct gen *g, struct code *c)
{
	uint8_t tmp = g->regs[1]; /* a body register other than r0 */

	for (int i = 0; i < g->nregs; i++)
		emit(c, BPFVM_STX_MEM(BPFVM_DW, g->ptr, g->regs[i], 8 * g->regs[i]));
	for (int off = 0; off < STACK_BYTES; off += 8) {
		emit(c, BPFVM_LDX_MEM(BPFVM_DW, tmp, BPFVM_REG_FP, -STACK_BYTES + off));
		emit(c, BPFVM_STX_MEM(BPFVM_DW, g->ptr, tmp, PKT_STACK_OFF + off));
	}
	emit(c, BPFVM_EXIT_INSN());
}

/* XDP: load data and data_end from struct xdp_md, check the length. */
static void emit_kernel_prologue(int ptr, struct code *c)
{
	emit(c, BPFVM_LDX_MEM(BPFVM_W, 2, 1, offsetof(struct xdp_md, data)));
	emit(c, BPFVM_LDX_MEM(BPFVM_W, 3, 1, offsetof(struct xdp_md, data_end)));
	emit(c, BPFVM_MOV64_REG(4, 2));
	emit(c, BPFVM_ALU64_IMM(BPFVM_ADD, 4, PKT_CHECKED));
	emit(c, BPFVM_JMP_REG(BPFVM_JLE, 4, 3, 2));
	emit(c, BPFVM_MOV64_IMM(0, 0));
	emit(c, BPFVM_EXIT_INSN());
	if (ptr != 2)
		emit(c, BPFVM_MOV64_REG(ptr, 2));
}

static void emit_bpfvm_prologue(int ptr, struct code *c)
{
	if (ptr != 1)
		emit(c, BPFVM_MOV64_REG(ptr, 1));
}

static void append(struct code *dst, const struct code *src)
{
	for (size_t i = 0; i < src->n; i++)
		emit(dst, src->v[i]);
}

/* ---- the kernel side ----------------------------------------------------- */


/* Load an XDP program: a file descriptor, or -errno with the verifier's words in vlog. */
static int kern_load(const struct code *c, char *vlog, size_t vlog_size)
{
	return kernel_prog_load(BPF_PROG_TYPE_XDP, c->v, c->n, 0, 1, vlog, vlog_size);
}

/* One run on a copy of in; the packet it leaves in out, its return value in retval. */
static int kern_run(int fd, const uint8_t *in, uint8_t *out, uint32_t *retval)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.test.prog_fd = (uint32_t)fd;
	a.test.data_in = (uintptr_t)in;
	a.test.data_size_in = PKT_LEN;
	a.test.data_out = (uintptr_t)out;
	a.test.data_size_out = PKT_LEN;
	a.test.repeat = 1;
	if (sys_bpf(BPF_PROG_TEST_RUN, &a))
		return -errno;
	if (a.test.data_size_out != PKT_LEN)
		return -EMSGSIZE;
	*retval = a.test.retval;
	return 0;
}

/*
 * The instructions the generator emits that not every kernel has, each
 * in a program of its own (r0 = 2 first, the stack slot at fp-8 zeroed):
 * a kernel that refuses one cannot run the programs that mix them in.
 */
static const struct feature_probe {
	const char *what;
	struct bpfvm_insn insn;
} feature_probes[] = {
	{ "32-bit jumps (Linux 5.1)", INSN(BPFVM_JMP32 | BPFVM_JEQ | BPFVM_K, 0, 0, 0, 0) },
	{ "atomic fetch-and-add (Linux 5.12)",
	  INSN(BPFVM_STX | BPFVM_ATOMIC | BPFVM_DW, BPFVM_REG_FP, 0, -8, BPFVM_ADD | BPFVM_FETCH) },
	{ "atomic compare-and-exchange (Linux 5.12)",
	  INSN(BPFVM_STX | BPFVM_ATOMIC | BPFVM_DW, BPFVM_REG_FP, 1, -8, BPFVM_CMPXCHG) },
	{ "sign-extending loads (cpu v4, Linux 6.6)",
	  INSN(BPFVM_LDX | BPFVM_MEMSX | BPFVM_B, 1, BPFVM_REG_FP, -8, 0) },
	{ "sign-extending moves (cpu v4, Linux 6.6)",
	  INSN(BPFVM_ALU64 | BPFVM_MOV | BPFVM_X, 1, 0, 8, 0) },
	{ "signed division (cpu v4, Linux 6.6)", INSN(BPFVM_ALU64 | BPFVM_DIV | BPFVM_K, 0, 0, 1, 1) },
	{ "unconditional byte swaps (cpu v4, Linux 6.6)",
	  INSN(BPFVM_ALU64 | BPFVM_END | BPFVM_K, 0, 0, 0, 16) },
	{ "gotol (cpu v4, Linux 6.6)", INSN(BPFVM_JMP32 | BPFVM_JA, 0, 0, 0, 0) },
	{ "may_goto (Linux 6.9)", INSN(BPFVM_JMP | BPFVM_JCOND, 0, BPFVM_MAY_GOTO, 0, 0) },
};

/* Why the kernel cannot take part, or NULL when it can. */
static const char *kernel_unusable(char *why, size_t size)
{
	char version[KERNEL_VERSION_SIZE], log[4096], line[256];
	struct code c = { .n = 0 };
	int fd;

	kernel_version(version, sizeof(version));
	if (geteuid() != 0) {
		snprintf(why, size, "not root (%s)", version);
		return why;
	}
	emit(&c, BPFVM_MOV64_IMM(0, 2));
	emit(&c, BPFVM_EXIT_INSN());
	fd = kern_load(&c, NULL, 0);
	if (fd < 0) {
		snprintf(why, size, "the kernel refuses a two-instruction XDP program: %s (%s)",
			 strerror(-fd), version);
		return why;
	}
	close(fd);
	for (size_t i = 0; i < sizeof(feature_probes) / sizeof(feature_probes[0]); i++) {
		c.n = 0;
		emit(&c, BPFVM_MOV64_IMM(0, 2));
		emit(&c, BPFVM_MOV64_IMM(1, 0));
		emit(&c, BPFVM_ST_MEM(BPFVM_DW, BPFVM_REG_FP, -8, 0));
		emit(&c, feature_probes[i].insn);
		emit(&c, BPFVM_MOV64_IMM(0, 2));
		emit(&c, BPFVM_EXIT_INSN());
		fd = kern_load(&c, log, sizeof(log));
		if (fd >= 0) {
			close(fd);
			continue;
		}
		kernel_log_reason(log, line, sizeof(line));
		snprintf(why, size, "the host kernel cannot: %s: %s (%s)", feature_probes[i].what,
			 line[0] ? line : strerror(-fd), version);
		return why;
	}
	return NULL;
}

/* ---- one program, three runs --------------------------------------------- */

struct diff_stats {
	uint64_t programs, rejected, compared, mismatches, errors;
	uint64_t verified, unverified; /* bpfvm's verifier on the bpfvm side (BPFVM_VERIFY_MEM) */
	uint64_t body_insns, executed;
	uint64_t ptr_uses[10];
	uint8_t covered[ISA_OP_COUNT];
};

struct diff {
	struct bpfvm *vm;
	uint64_t seed;
	struct diff_stats st;
	char vlog[VLOG_SIZE];
	char runlog[4096];
};

/* Both programs of index idx, and the packet they start with. */
struct pair {
	struct gen g;
	struct code common, kern, vm;
	size_t common_at_kern, common_at_vm;
	size_t init_n;   /* slots of the init part, at the start of common */
	uint8_t in[PKT_LEN];
};

/* Each runtime's prologue in front of the common part. */
static void assemble(struct pair *p)
{
	emit_kernel_prologue(p->g.ptr, &p->kern);
	p->common_at_kern = p->kern.n;
	append(&p->kern, &p->common);
	emit_bpfvm_prologue(p->g.ptr, &p->vm);
	p->common_at_vm = p->vm.n;
	append(&p->vm, &p->common);
}

static void build_pair(struct pair *p, uint64_t seed, uint64_t idx)
{
	memset(p, 0, sizeof(*p));
	gen_init(&p->g, seed, idx);
	emit_init(&p->g, &p->common);
	p->init_n = p->common.n;
	gen_body(&p->g);
	emit_body(&p->g, &p->common);
	emit_epilogue(&p->g, &p->common);
	assemble(p);
	for (size_t i = 0; i < PKT_LEN; i++)
		p->in[i] = (uint8_t)rng_next(&p->g.r);
}

static void mark_coverage(struct diff_stats *st, const struct code *c)
{
	for (size_t i = 0; i < c->n; i++) {
		enum isa_op op = isa_op_of(&c->v[i]);

		if (op < ISA_OP_COUNT)
			st->covered[op] = 1;
		if (op == ISA_OP_LDDW)
			i++;
	}
}

/* The program as hex and text, one slot a line, each line after prefix. */
static void print_program(const char *prefix, const struct code *c, size_t mark_from)
{
	for (size_t i = 0; i < c->n; i++) {
		const uint8_t *b = (const uint8_t *)&c->v[i];
		char text[128] = "";
		int slots = bpfvm_disasm_insn(c->v, c->n, i, BPFVM_SYNTAX_LLVM, text, sizeof(text));

		printf("%s%c%4zu: %02x %02x %02x %02x %02x %02x %02x %02x  %s\n", prefix,
		       i == mark_from ? '>' : ' ', i, b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
		       text);
		if (slots == 2 && i + 1 < c->n) {
			b = (const uint8_t *)&c->v[++i];
			printf("%s %4zu: %02x %02x %02x %02x %02x %02x %02x %02x\n", prefix, i, b[0],
			       b[1], b[2], b[3], b[4], b[5], b[6], b[7]);
		}
	}
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* What differs between the kernel's packet and bpfvm's, named as registers and stack slots. */
static void print_differences(const struct pair *p, const uint8_t *kout, const uint8_t *vout)
{
	for (int i = 0; i < p->g.nregs; i++) {
		int r = p->g.regs[i];
		uint64_t k = get64(kout + 8 * r), v = get64(vout + 8 * r);

		if (k != v)
			printf("     ...   r%d: kernel 0x%016" PRIx64 ", bpfvm 0x%016" PRIx64 "\n", r, k, v);
	}
	for (int off = 0; off < STACK_BYTES; off += 8) {
		uint64_t k = get64(kout + PKT_STACK_OFF + off), v = get64(vout + PKT_STACK_OFF + off);

		if (k != v)
			printf("     ...   *(u64 *)(r10 %d): kernel 0x%016" PRIx64 ", bpfvm 0x%016" PRIx64
			       "\n", -STACK_BYTES + off, k, v);
	}
	for (size_t i = 0; i < PKT_LEN; i++) {
		bool reg = i < 8 * 10 && (int)(i / 8) != p->g.ptr;

		if (kout[i] != vout[i] && !reg && i < PKT_STACK_OFF)
			printf("     ...   packet byte %zu (the pointer's slot): kernel 0x%02x, bpfvm 0x%02x\n",
			       i, kout[i], vout[i]);
		else if (kout[i] != vout[i] && i >= PKT_CHECKED)
			printf("     ...   packet byte %zu (the tail): kernel 0x%02x, bpfvm 0x%02x\n", i,
			       kout[i], vout[i]);
	}
}

/* The last lines of the verifier's log, which say why it refused. */
static void print_log_tail(const char *log, int lines)
{
	const char *p = log + strlen(log);

	while (p > log && p[-1] == '\n')
		p--;
	while (p > log && lines > 0)
		if (*--p == '\n')
			lines--;
	while (*p) {
		const char *nl = strchr(p, '\n');
		int len = nl ? (int)(nl - p) : (int)strlen(p);

		if (len)
			printf("#   | %.*s\n", len, p);
		p += len + (nl ? 1 : 0);
	}
}

static void note_rejected(struct diff *d, const struct pair *p, uint64_t idx, int err)
{
	int fd;

	d->st.rejected++;
	if (d->st.rejected > MAX_REJECT_LOGS) {
		if (d->st.rejected == MAX_REJECT_LOGS + 1)
			printf("# further programs the kernel rejects are only counted\n");
		return;
	}
	/* Loaded again with a log: the first load went without, for speed. */
	fd = kern_load(&p->kern, d->vlog, sizeof(d->vlog));
	if (fd >= 0)
		close(fd);
	printf("# program %" PRIu64 " (BPFVM_DIFF_SEED=0x%" PRIx64 " BPFVM_DIFF_FIRST=%" PRIu64
	       " BPFVM_DIFF_COUNT=1): the kernel rejects it: %s; the verifier says:\n",
	       idx, d->seed, idx, strerror(-err));
	print_log_tail(d->vlog, 8);
	printf("# the kernel's program:\n");
	print_program("#   ", &p->kern, p->common_at_kern);
}

static bool compare_bpfvm(struct diff *d, const struct pair *p, uint64_t idx, uint32_t kret,
			  const uint8_t *kout, bool report);

/* p with the body cut to its first k items; jumps past the cut go to the epilogue. */
static void cut_pair(struct pair *cut, const struct pair *p, int k)
{
	*cut = *p;
	cut->common.n = p->init_n;
	cut->kern.n = 0;
	cut->vm.n = 0;
	cut->g.len = k;
	for (int i = 0; i < k; i++)
		if (cut->g.items[i].target > k)
			cut->g.items[i].target = k;
	emit_body(&cut->g, &cut->common);
	emit_epilogue(&cut->g, &cut->common);
	assemble(cut);
}

/* 1 when the kernel and bpfvm agree on p, 0 when not, -1 when the kernel will not run it. */
static int agree(struct diff *d, const struct pair *p)
{
	uint8_t kout[PKT_LEN];
	uint32_t kret = 0;
	int fd = kern_load(&p->kern, NULL, 0), err;

	if (fd < 0)
		return -1;
	err = kern_run(fd, p->in, kout, &kret);
	close(fd);
	if (err)
		return -1;
	return compare_bpfvm(d, p, 0, kret, kout, false);
}

/* Where the difference appears: the shortest cut of the body on which they disagree. */
static void print_first_divergence(struct diff *d, const struct pair *p)
{
	struct pair *cut = malloc(sizeof(*cut));
	size_t slot = p->common_at_vm + p->init_n;

	for (int k = 0; cut && k <= p->g.len; k++) {
		int same;

		if (k > 1)
			slot += p->g.items[k - 2].slots;
		cut_pair(cut, p, k);
		same = agree(d, cut);
		if (same < 0) {
			printf("     ...   (cut after %d body items, the kernel refuses the program)\n", k);
			break;
		}
		if (same)
			continue;
		if (k == 0)
			printf("     ...   they differ even with no body at all\n");
		else
			printf("     ...   cut after %d body items they still differ, after %d not:"
			       " look at slot %zu\n", k, k - 1, slot);
		break;
	}
	free(cut);
}

static void report_mismatch(struct diff *d, const struct pair *p, uint64_t idx, const char *what,
			    int err, uint32_t kret, uint64_t vret, const uint8_t *kout,
			    const uint8_t *vout)
{
	TEST_FAIL("program %" PRIu64 " (BPFVM_DIFF_SEED=0x%" PRIx64 " BPFVM_DIFF_FIRST=%" PRIu64
		  " BPFVM_DIFF_COUNT=1): %s differs from the kernel", idx, d->seed, idx, what);
	if (err) {
		printf("     ...   bpfvm fails (%s) where the kernel returns 0x%08" PRIx32 ": %s\n",
		       strerror(-err), kret, d->runlog);
	} else {
		if ((uint32_t)vret != kret)
			printf("     ...   return value (low 32 bits of r0): kernel 0x%08" PRIx32
			       ", bpfvm 0x%08" PRIx32 "\n", kret, (uint32_t)vret);
		print_differences(p, kout, vout);
	}
	print_first_divergence(d, p);
	printf("     ...   the program as bpfvm ran it (r%d holds the packet pointer; from '>'"
	       " on, the kernel ran the same after its own %zu-slot prologue):\n",
	       p->g.ptr, p->common_at_kern);
	print_program("     ... ", &p->vm, p->common_at_vm);
}

/* Run prog on a copy of in; the packet left in out. */
static int vm_run(struct diff *d, struct bpfvm_prog *prog, enum bpfvm_exec mode,
		  const uint8_t *in, uint8_t *out, uint64_t *r0)
{
	struct bpfvm_log log = { d->runlog, sizeof(d->runlog), 0 };
	BPFVM_OPTS(bpfvm_run_opts, o, .mode = mode, .log = &log);
	int err;

	d->runlog[0] = 0;
	memcpy(out, in, PKT_LEN);
	err = bpfvm_prog__run(prog, out, PKT_LEN, &o);
	*r0 = o.retval;
	d->st.executed += o.insns_executed; /* counted by the checked mode only */
	return err;
}

/* bpfvm in all three modes against the kernel's answer; true when all agree. */
/* Run prog in each of n modes: the kernel's r0 and packet each time? */
static bool same_as_kernel(struct diff *d, const struct pair *p, uint64_t idx,
			   struct bpfvm_prog *prog, const enum bpfvm_exec *modes,
			   const char *const *names, int n, uint32_t kret, const uint8_t *kout,
			   bool report)
{
	uint8_t vout[PKT_LEN];
	bool same = true;

	for (int m = 0; m < n; m++) {
		uint64_t vret = 0;
		int err = vm_run(d, prog, modes[m], p->in, vout, &vret);

		if (!err && (uint32_t)vret == kret && !memcmp(kout, vout, PKT_LEN))
			continue;
		same = false;
		if (report)
			report_mismatch(d, p, idx, names[m], err, kret, vret, kout, vout);
	}
	return same;
}

/*
 * The same program verified by bpfvm (for bpfvm_prog__run's convention,
 * r1 -> PKT_LEN bytes), then run unchecked and by the JIT on what the
 * verifier proved (constants, dead code): the kernel's answer still.
 * A program bpfvm's verifier refuses is counted, not compared.
 */
static bool compare_verified(struct diff *d, const struct pair *p, uint64_t idx, uint32_t kret,
			     const uint8_t *kout, bool report)
{
	static const enum bpfvm_exec modes[2] = { BPFVM_EXEC_UNCHECKED, BPFVM_EXEC_JIT };
	static const char *const names[2] = { "the unchecked interpreter, verified",
					      "the JIT, verified" };
	BPFVM_OPTS(bpfvm_prog_opts, popts, .name = "diff");
	BPFVM_OPTS(bpfvm_verify_opts, vopts, .flags = BPFVM_VERIFY_MEM, .mem_size = PKT_LEN);
	struct bpfvm_prog *prog = bpfvm_prog__new(d->vm, p->vm.v, p->vm.n, &popts);
	bool same;

	if (!prog || bpfvm_prog__verify(prog, &vopts)) {
		d->st.unverified++;
		bpfvm_prog__destroy(prog);
		return true;
	}
	d->st.verified++;
	same = same_as_kernel(d, p, idx, prog, modes, names, 2, kret, kout, report);
	bpfvm_prog__destroy(prog);
	return same;
}

static bool compare_bpfvm(struct diff *d, const struct pair *p, uint64_t idx, uint32_t kret,
			  const uint8_t *kout, bool report)
{
	struct bpfvm_log log = { d->runlog, sizeof(d->runlog), 0 };
	BPFVM_OPTS(bpfvm_prog_opts, popts, .name = "diff", .flags = BPFVM_PROG_TRUSTED, .log = &log);
	static const enum bpfvm_exec modes[3] = { BPFVM_EXEC_CHECKED, BPFVM_EXEC_UNCHECKED,
						  BPFVM_EXEC_JIT };
	static const char *const names[3] = { "the checked interpreter", "the unchecked interpreter",
					      "the JIT" };
	struct bpfvm_prog *prog;
	bool same;

	d->runlog[0] = 0;
	prog = bpfvm_prog__new(d->vm, p->vm.v, p->vm.n, &popts);
	if (!prog) {
		if (report)
			report_mismatch(d, p, idx, "bpfvm_prog__new", -errno, kret, 0, kout, kout);
		return false;
	}
	same = same_as_kernel(d, p, idx, prog, modes, names, 3, kret, kout, report);
	bpfvm_prog__destroy(prog);
	return compare_verified(d, p, idx, kret, kout, report) && same;
}

/* The program being compared, for a crash report (the handler below). */
static volatile sig_atomic_t crash_seed_hi, crash_seed_lo, crash_idx_hi, crash_idx_lo;

static struct sigaction crash_prev[NSIG];

/*
 * A crash (a verifier or JIT bug taken for a fact, say) names the program,
 * so that BPFVM_DIFF_SEED and BPFVM_DIFF_FIRST reproduce it; then the
 * handler before this one (AddressSanitizer's, or the default) takes the
 * fault again when the instruction re-executes.
 */
static void report_crash(int sig)
{
	char msg[160];
	int n = snprintf(msg, sizeof(msg),
			 "FAIL kernel_diff: signal %d on program %" PRIu64 " of BPFVM_DIFF_SEED=0x%016"
			 PRIx64 "\n", sig,
			 (uint64_t)(uint32_t)crash_idx_hi << 32 | (uint32_t)crash_idx_lo,
			 (uint64_t)(uint32_t)crash_seed_hi << 32 | (uint32_t)crash_seed_lo);

	if (n > 0 && write(STDOUT_FILENO, msg, (size_t)n) < 0)
		_exit(128 + sig);
	sigaction(sig, &crash_prev[sig], NULL);
}

static void catch_crashes(void)
{
	static const int sigs[] = { SIGSEGV, SIGILL, SIGBUS, SIGFPE };
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = report_crash;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, &crash_prev[sigs[i]]);
}

static void diff_one(struct diff *d, struct pair *p, uint64_t idx)
{
	uint8_t kout[PKT_LEN];
	uint32_t kret = 0;
	int fd, err;

	crash_seed_hi = (sig_atomic_t)(uint32_t)(d->seed >> 32);
	crash_seed_lo = (sig_atomic_t)(uint32_t)d->seed;
	crash_idx_hi = (sig_atomic_t)(uint32_t)(idx >> 32);
	crash_idx_lo = (sig_atomic_t)(uint32_t)idx;
	build_pair(p, d->seed, idx);
	d->st.programs++;
	d->st.ptr_uses[p->g.ptr]++;
	d->st.body_insns += (uint64_t)p->g.len;
	fd = kern_load(&p->kern, NULL, 0);
	if (fd == -EAGAIN) /* the verifier was interrupted: once more */
		fd = kern_load(&p->kern, NULL, 0);
	if (fd < 0) {
		note_rejected(d, p, idx, fd);
		return;
	}
	err = kern_run(fd, p->in, kout, &kret);
	close(fd);
	if (err) {
		d->st.errors++;
		TEST_FAIL("program %" PRIu64 ": BPF_PROG_TEST_RUN fails: %s", idx, strerror(-err));
		return;
	}
	mark_coverage(&d->st, &p->common);
	d->st.compared++;
	if (!compare_bpfvm(d, p, idx, kret, kout, d->st.mismatches < MAX_REPORTS)) {
		if (++d->st.mismatches == MAX_REPORTS + 1)
			printf("     ... further mismatches are only counted\n");
	}
}

/* ---- the tests ------------------------------------------------------------ */

static uint64_t env_u64(const char *name, uint64_t def)
{
	const char *s = getenv(name);
	char *end;
	uint64_t v;

	if (!s || !*s)
		return def;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end) {
		printf("# %s=%s is not a number: using %" PRIu64 "\n", name, s, def);
		return def;
	}
	return v;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The table's operations no program used: those the generator leaves out by design. */
static void print_coverage(const struct diff_stats *st)
{
	int n = 0;

	for (int op = 0; op < ISA_OP_COUNT; op++)
		n += st->covered[op];
	printf("# operations of the table run in the kernel and bpfvm: %d of %d; never:", n,
	       ISA_OP_COUNT);
	for (int op = 0; op < ISA_OP_COUNT; op++)
		if (!st->covered[op])
			printf(" %s", isa_ops[op].id);
	printf("\n# packet pointer register (r1..r9):");
	for (int r = 1; r < 10; r++)
		printf(" %" PRIu64, st->ptr_uses[r]);
	printf("\n");
}

/* The harness itself: known values must come out where the epilogue puts them. */
TEST(kernel_diff_harness)
{
	struct diff *d = calloc(1, sizeof(*d));
	struct pair *p = calloc(1, sizeof(*p));
	uint8_t want[PKT_LEN], kout[PKT_LEN];
	uint32_t kret = 0;
	int fd, err;

	if (!d || !p || !(d->vm = bpfvm__new(NULL))) {
		TEST_FAIL("out of memory");
		goto out;
	}
	gen_init(&p->g, 0, 4); /* the packet pointer in r5 */
	for (size_t i = 0; i < PKT_LEN; i++)
		p->in[i] = want[i] = (uint8_t)i;
	for (int i = 0; i < p->g.nregs; i++) {
		int r = p->g.regs[i];
		uint64_t v = 0x0101010101010101ull * (uint64_t)(r + 1) ^ 1ull << 63;

		emit_lddw(&p->common, (uint8_t)r, v);
		memcpy(want + 8 * r, &v, sizeof(v));
	}
	for (int k = 0; k < STACK_BYTES / 8; k++) {
		int64_t v = -1000 - k;

		emit(&p->common, BPFVM_ST_MEM(BPFVM_DW, BPFVM_REG_FP, -STACK_BYTES + 8 * k, (int32_t)v));
		memcpy(want + PKT_STACK_OFF + 8 * k, &v, sizeof(v));
	}
	emit_epilogue(&p->g, &p->common);
	assemble(p);
	fd = kern_load(&p->kern, d->vlog, sizeof(d->vlog));
	if (fd < 0) {
		TEST_FAIL("the kernel rejects the harness's program (%s): %s", strerror(-fd), d->vlog);
		goto out;
	}
	err = kern_run(fd, p->in, kout, &kret);
	close(fd);
	if (err) {
		TEST_FAIL("BPF_PROG_TEST_RUN fails: %s", strerror(-err));
		goto out;
	}
	CHECK_EQ_U64(kret, (uint32_t)get64(want));
	CHECK(!memcmp(kout, want, PKT_LEN));
	CHECK(compare_bpfvm(d, p, 0, kret, kout, true));
out:
	if (d)
		bpfvm__destroy(d->vm);
	free(d);
	free(p);
}

/*
 * A program that shows a kernel bug: bpfvm, in every mode, must return want,
 * the ISA's answer; what the kernel returns is only reported.  The
 * programs read xdp_md.rx_queue_index (offset 16), which the verifier does
 * not know and a test run sets to 0; for bpfvm it is bytes 16..19 of the
 * zeroed memory.
 */
/* A probe's end: return 1, and 2 from where a jump over these two lands. */
#define RETURN_1_ELSE_2 \
	BPFVM_MOV64_IMM(0, 1), BPFVM_EXIT_INSN(), BPFVM_MOV64_IMM(0, 2), BPFVM_EXIT_INSN()

static void probe_kernel_bug(const char *name, const struct bpfvm_insn *insns, size_t cnt,
			     uint64_t want, const char *bug)
{
	static const enum bpfvm_exec modes[3] = { BPFVM_EXEC_CHECKED, BPFVM_EXEC_UNCHECKED,
						  BPFVM_EXEC_JIT };
	BPFVM_OPTS(bpfvm_prog_opts, popts, .flags = BPFVM_PROG_TRUSTED);
	struct bpfvm *vm = bpfvm__new(NULL);
	uint8_t in[PKT_LEN] = { 0 }, out[PKT_LEN];
	struct code c = { .n = 0 };
	struct bpfvm_prog *prog;
	uint32_t kret = 0;
	int fd;

	for (size_t i = 0; i < cnt; i++)
		emit(&c, insns[i]);
	prog = vm ? bpfvm_prog__new(vm, c.v, c.n, &popts) : NULL;
	CHECK(prog != NULL);
	for (int m = 0; prog && m < 3; m++) {
		BPFVM_OPTS(bpfvm_run_opts, o, .mode = modes[m]);

		CHECK_EQ_INT(bpfvm_prog__run(prog, in, 24, &o), 0);
		CHECK_EQ_U64(o.retval, want);
	}
	bpfvm__destroy(vm);
	fd = kern_load(&c, NULL, 0);
	if (fd >= 0 && !kern_run(fd, in, out, &kret))
		printf("# %s: the kernel returns 0x%" PRIx32 "%s%s\n", name, kret,
		       kret == (uint32_t)want ? ", as the ISA says" : ", not the ISA's answer: ",
		       kret == (uint32_t)want ? "" : bug);
	if (fd >= 0)
		close(fd);
}

/*
 * r0 = -12, then a 32-bit cmpxchg that succeeds, then r0 >> 32: 0, as the
 * ISA zero-extends what cmpxchg loads into r0.  The cmpxchg sits behind a
 * branch whose other side the verifier walks first, then prunes at the join.
 */
TEST(kernel_cmpxchg32_zext)
{
	const struct bpfvm_insn insns[] = {
		BPFVM_LDX_MEM(BPFVM_W, 6, 1, 16),
		BPFVM_MOV64_IMM(0, -12),
		BPFVM_STX_MEM(BPFVM_DW, BPFVM_REG_FP, 0, -8),
		BPFVM_MOV64_IMM(2, 5),
		/* enough instructions for the verifier to keep a state at the join */
		BPFVM_MOV64_IMM(3, 0),
		BPFVM_MOV64_IMM(4, 0),
		BPFVM_MOV64_IMM(5, 0),
		BPFVM_JMP_IMM(BPFVM_JEQ, 6, 0, 1), /* taken */
		INSN(BPFVM_JMP | BPFVM_JA, 0, 0, 1, 0),
		INSN(BPFVM_STX | BPFVM_ATOMIC | BPFVM_W, BPFVM_REG_FP, 2, -8, BPFVM_CMPXCHG),
		BPFVM_ALU64_IMM(BPFVM_RSH, 0, 32),
		BPFVM_EXIT_INSN(),
	};

	probe_kernel_bug("kernel_cmpxchg32_zext", insns, sizeof(insns) / sizeof(insns[0]), 0,
			 "the verifier drops the zero-extension after cmpxchg32 on a pruned path");
}

/*
 * The stack slot holds 5 on the path taken and 7 on the other, which the
 * verifier walks first; an atomic fetch reads it and a branch tests for 7.
 * Returns 1; a kernel that does not make the slot precise prunes the
 * second path and hard-wires the branch, and returns 2.
 */
TEST(kernel_fetch_precision)
{
	const struct bpfvm_insn insns[] = {
		BPFVM_LDX_MEM(BPFVM_W, 6, 1, 16),
		BPFVM_MOV64_IMM(1, 5),
		BPFVM_STX_MEM(BPFVM_DW, BPFVM_REG_FP, 1, -8),
		BPFVM_MOV64_IMM(3, 0),
		BPFVM_MOV64_IMM(3, 1),
		BPFVM_MOV64_IMM(3, 2),
		BPFVM_MOV64_IMM(3, 3),
		INSN(BPFVM_JMP | BPFVM_JA, 0, 0, 0, 0),
		BPFVM_JMP_IMM(BPFVM_JEQ, 6, 0, 2), /* taken: the slot keeps 5 */
		BPFVM_MOV64_IMM(1, 7),
		BPFVM_STX_MEM(BPFVM_DW, BPFVM_REG_FP, 1, -8),
		BPFVM_MOV64_IMM(2, 0),
		INSN(BPFVM_STX | BPFVM_ATOMIC | BPFVM_DW, BPFVM_REG_FP, 2, -8, BPFVM_ADD | BPFVM_FETCH),
		BPFVM_JMP_IMM(BPFVM_JEQ, 2, 7, 2),
		RETURN_1_ELSE_2,
	};

	probe_kernel_bug("kernel_fetch_precision", insns, sizeof(insns) / sizeof(insns[0]), 1,
			 "the verifier does not mark the stack slot an atomic fetch reads precise "
			 "and prunes wrongly");
}

/*
 * A sign-extending fill of a spilled u32 with its top bit set keeps the
 * spill's id, so the branch on the (negative) loaded value narrows the
 * slot to negative values; the slot's 8 bytes are positive, but the
 * verifier decides the branch on them.  Returns 1; the kernel returns 2.
 */
TEST(kernel_ldsx_fill_id)
{
	const struct bpfvm_insn insns[] = {
		BPFVM_LDX_MEM(BPFVM_W, 6, 1, 16),
		BPFVM_ALU32_IMM(BPFVM_OR, 6, (int32_t)0x80000000),
		BPFVM_STX_MEM(BPFVM_DW, BPFVM_REG_FP, 6, -8),
		INSN(BPFVM_LDX | BPFVM_MEMSX | BPFVM_W, 7, BPFVM_REG_FP, -8, 0),
		BPFVM_JMP_IMM(BPFVM_JSGT, 7, -5, 4),
		BPFVM_LDX_MEM(BPFVM_DW, 8, BPFVM_REG_FP, -8),
		BPFVM_JMP_IMM(BPFVM_JSLT, 8, 0, 2), /* the slot's 8 bytes negative: not so */
		RETURN_1_ELSE_2,
	};

	probe_kernel_bug("kernel_ldsx_fill_id", insns, sizeof(insns) / sizeof(insns[0]), 1,
			 "a sign-extending fill keeps the spilled register's id, and a branch on "
			 "it narrows the slot wrongly");
}

/*
 * bpfvm's kernel syntax against the kernel's own log: every instruction
 * line the verifier prints at log level 2 ("12: (07) r3 += 10  ; R3=...")
 * must read as bpfvm_disasm_insn prints that instruction.
 */
TEST(kernel_log_text)
{
	enum { PROGRAMS = 300, LOG_SIZE = 4 << 20 };
	struct pair *p = calloc(1, sizeof(*p));
	char *log = malloc(LOG_SIZE);
	bool seen[ISA_OP_COUNT] = { false };
	uint64_t lines = 0, mismatches = 0;
	unsigned ops = 0;

	for (uint64_t i = 0; p && log && i < PROGRAMS; i++) {
		int fd;

		build_pair(p, 0x6c6f67ull, i);
		fd = kernel_prog_load(BPF_PROG_TYPE_XDP, p->kern.v, p->kern.n, 0, 2, log, LOG_SIZE);
		if (fd >= 0)
			close(fd);
		for (char *line = log, *end; *line; line = end) {
			char mine[256], *text, *cut;
			unsigned idx, code;
			int at = 0, r;

			end = line + strcspn(line, "\n");
			if (*end)
				*end++ = '\0';
			if (sscanf(line, "%u: (%2x) %n", &idx, &code, &at) != 2 || !at ||
			    idx >= p->kern.n)
				continue;
			text = line + at;
			/* the state the kernel appends: "  ; R1=..." */
			if ((cut = strstr(text, " ;")))
				*cut = '\0';
			for (cut = text + strlen(text); cut > text && cut[-1] == ' ';)
				*--cut = '\0';
			r = bpfvm_disasm_insn(p->kern.v, p->kern.n, idx, BPFVM_SYNTAX_KERNEL, mine,
					      sizeof(mine));
			lines++;
			if (r < 0 || strcmp(mine, text) || code != p->kern.v[idx].code) {
				if (mismatches++ < 10)
					printf("# program %" PRIu64 ", insn %u: the kernel prints "
					       "\"(%02x) %s\", bpfvm \"(%02x) %s\"\n", i, idx, code, text,
					       p->kern.v[idx].code, mine);
			} else {
				enum isa_op op = isa_op_of(&p->kern.v[idx]);

				if (op != ISA_OP_INVALID && !seen[op]) {
					seen[op] = true;
					ops++;
				}
			}
		}
	}
	printf("# kernel_log_text: %" PRIu64 " instruction lines of %d programs, %u operations, "
	       "%" PRIu64 " differ\n", lines, PROGRAMS, ops, mismatches);
	CHECK(lines > 10000);
	CHECK_EQ_U64(mismatches, 0);
	free(log);
	free(p);
}

TEST(kernel_diff)
{
	struct diff *d = calloc(1, sizeof(*d));
	struct pair *p = calloc(1, sizeof(*p));
	struct timespec ts;
	uint64_t first, count;
	double t0;

	clock_gettime(CLOCK_REALTIME, &ts);
	d->seed = env_u64("BPFVM_DIFF_SEED",
			  (uint64_t)ts.tv_sec * 1000000007ull ^ (uint64_t)ts.tv_nsec ^ (uint64_t)getpid() << 40);
	first = env_u64("BPFVM_DIFF_FIRST", 0);
	count = env_u64("BPFVM_DIFF_COUNT", DEFAULT_COUNT);
	if (!d || !p || !(d->vm = bpfvm__new(NULL))) {
		TEST_FAIL("out of memory");
		goto out;
	}
	printf("# kernel_diff: BPFVM_DIFF_SEED=0x%016" PRIx64 ", programs %" PRIu64 "..%" PRIu64 "\n",
	       d->seed, first, first + count - 1);
	fflush(stdout);
	t0 = now_s();
	catch_crashes();
	/* A kernel that cannot run programs at all fails once, not 200000 times. */
	for (uint64_t i = first; i < first + count && d->st.errors < 10; i++)
		diff_one(d, p, i);
	printf("# kernel_diff: %" PRIu64 " programs, %" PRIu64 " compared, %" PRIu64
	       " kernel-rejected, %" PRIu64 " mismatches, %" PRIu64 " errors, %.1f s, seed 0x%016"
	       PRIx64 "\n", d->st.programs, d->st.compared, d->st.rejected, d->st.mismatches,
	       d->st.errors, now_s() - t0, d->seed);
	printf("# kernel_diff: bpfvm's verifier (r1 -> %d bytes) accepted %" PRIu64 " of them, "
	       "refused %" PRIu64 "; the accepted ones ran unchecked and in the JIT on its facts too\n",
	       PKT_LEN, d->st.verified, d->st.unverified);
	if (d->st.compared)
		printf("# on average %.1f body instructions a program, %.1f instructions run in all\n",
		       (double)d->st.body_insns / (double)d->st.programs,
		       (double)d->st.executed / (double)d->st.compared);
	print_coverage(&d->st);
	/* A generator the verifier keeps refusing would test little. */
	if (d->st.programs >= 200 && d->st.rejected * 100 > d->st.programs)
		TEST_FAIL("the kernel rejects %" PRIu64 " of %" PRIu64 " programs: more than 1%%",
			  d->st.rejected, d->st.programs);
	if (count && !d->st.compared)
		TEST_FAIL("no program was compared");
out:
	if (d)
		bpfvm__destroy(d->vm);
	free(d);
	free(p);
}

int main(void)
{
	char why[1024];
	const char *skip = kernel_unusable(why, sizeof(why));

	if (skip) {
		printf("SKIP kernel_diff: %s\n", skip);
		return 0;
	}
	return test_main();
}
