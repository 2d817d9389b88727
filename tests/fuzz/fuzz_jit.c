/*
 * fuzz_jit.c - the JIT against the unchecked interpreter on random
 * programs that are safe by construction: ALU operations of every kind on
 * every register, loads, stores and atomics within a data buffer or the
 * top 64 bytes of the stack, forward jumps, loops bounded by a counter,
 * helper calls, bpf-to-bpf calls and callx.  Both must agree on the
 * outcome, r0 and every byte of memory, the stack's top 64 bytes included.
 * Half the programs keep to the stack slots the JIT may hold in registers
 * (src/vm/jit_promote.c): 4- and 8-byte accesses at 8 offsets, now and then
 * a narrower one or one at a slot's upper half, and no calls or packet
 * loads, which would keep them in memory.
 *
 *   make fuzz                    libFuzzer: the input bytes drive the generator
 *   cc -DFUZZ_JIT_MAIN ...       standalone: ./fuzz_jit [COUNT [SEED]] runs COUNT
 *                                programs from a seeded generator and reports
 *
 * Safe by construction: r6 holds the buffer's address and r9 the loop
 * counter, and no random instruction writes either; r10 is only a base;
 * the stack is written before it is read; after a call, r1-r5 are set
 * again (the interpreter keeps them, the JIT does not: both are allowed,
 * as the kernel's verifier forbids reading them).
 *
 * tests/unit/test_jit_rows.c includes this file (with FUZZ_JIT_NO_ENTRY) to run
 * a few thousand programs in every `make test`.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpfvm/bpfvm.h>

#define FJ_MEM 576    /* the buffer r1 points to */
#define FJ_DATA 256   /* its part loads, stores and atomics use */
#define FJ_DUMP 384   /* where the registers go at the end */
#define FJ_STACK_DUMP 512 /* and the stack's top FJ_STACK bytes */
#define FJ_STACK 64   /* bytes below r10 a function uses */
#define FJ_HELPER 150 /* the id of the deterministic test helper */
#define FJ_MAX_INSNS 4096

struct fj_gen {
	struct bpfvm_insn insns[FJ_MAX_INSNS];
	size_t n;
	const uint8_t *data; /* libFuzzer's input, or NULL for the generator */
	size_t size, pos;
	uint64_t rng;
	bool in_loop, in_sub;
	bool slots; /* the stack in 8-byte slots, no calls: see the top */
	size_t call_fixups[64]; /* calls to patch to the subprogram */
	size_t ncalls;
};

static uint32_t fj_rand(struct fj_gen *g, uint32_t n)
{
	uint64_t v = 0;

	if (g->data) {
		for (int i = 0; i < 4; i++)
			v = v << 8 | (g->pos < g->size ? g->data[g->pos++] : 0);
	} else {
		g->rng ^= g->rng >> 12;
		g->rng ^= g->rng << 25;
		g->rng ^= g->rng >> 27;
		v = (g->rng * 0x2545f4914f6cdd1dull) >> 32;
	}
	return n ? (uint32_t)(v % n) : 0;
}

static uint64_t fj_value(struct fj_gen *g)
{
	static const uint64_t edge[] = {
		0, 1, 2, 3, 7, 10, 31, 32, 33, 63, 64, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff,
		0x7fffffff, 0x80000000, 0xffffffff, 0x100000000ull, 0x7fffffffffffffffull,
		0x8000000000000000ull, 0xffffffffffffffffull, 0xfffffffffffffffeull,
		0xffffffff80000000ull, 0xffffffff00000001ull, 0x00000001ffffffffull,
	};

	switch (fj_rand(g, 4)) {
	case 0: return edge[fj_rand(g, sizeof(edge) / sizeof(edge[0]))];
	case 1: return fj_rand(g, 100);
	case 2: return (uint64_t)-(int64_t)fj_rand(g, 100);
	default: return (uint64_t)fj_rand(g, 0xffffffff) << 32 | fj_rand(g, 0xffffffff);
	}
}

static int32_t fj_imm(struct fj_gen *g)
{
	return (int32_t)(uint32_t)fj_value(g);
}

static bool fj_room(const struct fj_gen *g, size_t more)
{
	return g->n + more < FJ_MAX_INSNS - 64;
}

static void fj_emit(struct fj_gen *g, struct bpfvm_insn in)
{
	if (g->n < FJ_MAX_INSNS)
		g->insns[g->n++] = in;
}

static void fj_lddw(struct fj_gen *g, int reg, uint64_t v)
{
	fj_emit(g, BPFVM_RAW_INSN(BPFVM_LD | BPFVM_DW | BPFVM_IMM, reg, 0, 0, (int32_t)(uint32_t)v));
	fj_emit(g, BPFVM_RAW_INSN(0, 0, 0, 0, (int32_t)(uint32_t)(v >> 32)));
}

/* A register random instructions may write: not r6 (the buffer), r9 (loops), r10. */
static int fj_dst(struct fj_gen *g)
{
	static const uint8_t regs[] = { 0, 1, 2, 3, 4, 5, 7, 8 };

	return regs[fj_rand(g, sizeof(regs))];
}

static int fj_src(struct fj_gen *g)
{
	return (int)fj_rand(g, 10);
}

static void fj_alu(struct fj_gen *g)
{
	static const uint8_t ops[] = {
		BPFVM_ADD, BPFVM_SUB, BPFVM_MUL, BPFVM_DIV, BPFVM_OR, BPFVM_AND, BPFVM_LSH,
		BPFVM_RSH, BPFVM_NEG, BPFVM_MOD, BPFVM_XOR, BPFVM_MOV, BPFVM_ARSH, BPFVM_END,
	};
	uint8_t op = ops[fj_rand(g, sizeof(ops))];
	bool is64 = fj_rand(g, 2), x = fj_rand(g, 2);
	int dst = fj_dst(g), src = x ? fj_src(g) : 0;
	int16_t off = 0;
	int32_t imm = x ? 0 : fj_imm(g);

	if ((op == BPFVM_DIV || op == BPFVM_MOD) && fj_rand(g, 2))
		off = 1;
	if (op == BPFVM_MOV && x && fj_rand(g, 3) == 0)
		off = (int16_t)(is64 ? (8 << fj_rand(g, 3)) : (8 << fj_rand(g, 2)));
	if ((op == BPFVM_LSH || op == BPFVM_RSH || op == BPFVM_ARSH) && !x && fj_rand(g, 4))
		imm = (int32_t)fj_rand(g, is64 ? 64 : 32);
	if ((op == BPFVM_DIV || op == BPFVM_MOD) && !x && fj_rand(g, 2))
		imm = (int32_t)fj_rand(g, 2000) - 1000;
	if (op == BPFVM_NEG) {
		x = false, src = 0, imm = 0;
	} else if (op == BPFVM_END) {
		src = 0;
		imm = 16 << fj_rand(g, 3);
		/* ALU: to_le (K) or to_be (X); ALU64: bswap, K only */
		x = is64 ? false : x;
	}
	fj_emit(g, BPFVM_RAW_INSN((is64 ? BPFVM_ALU64 : BPFVM_ALU) | op | (x ? BPFVM_X : BPFVM_K),
				  dst, src, off, imm));
}

/* What clang emits and the JIT fuses: shift pairs, address arithmetic. */
static void fj_idiom(struct fj_gen *g)
{
	int dst = fj_dst(g), src = fj_src(g), idx = fj_src(g);

	switch (fj_rand(g, 4)) {
	case 0:
		fj_emit(g, BPFVM_ALU64_IMM(BPFVM_LSH, dst, 32));
		fj_emit(g, BPFVM_ALU64_IMM(fj_rand(g, 2) ? BPFVM_RSH : BPFVM_ARSH, dst, 32));
		break;
	case 1:
		fj_emit(g, BPFVM_MOV64_REG(dst, src));
		fj_emit(g, BPFVM_ALU64_IMM(BPFVM_ADD, dst, fj_imm(g)));
		break;
	case 2:
		fj_emit(g, BPFVM_MOV64_REG(dst, src));
		fj_emit(g, BPFVM_ALU64_IMM(BPFVM_ADD, dst, fj_imm(g)));
		fj_emit(g, BPFVM_ALU64_REG(BPFVM_ADD, dst, idx));
		break;
	default:
		fj_emit(g, BPFVM_MOV64_REG(dst, src));
		fj_emit(g, BPFVM_ALU64_REG(BPFVM_ADD, dst, idx));
		break;
	}
}

static const uint8_t fj_sizes[4] = { BPFVM_B, BPFVM_H, BPFVM_W, BPFVM_DW };

/* A base register and an offset where size bytes lie in the buffer or the stack. */
static void fj_place(struct fj_gen *g, unsigned size, bool aligned, int *base, int16_t *off)
{
	if (fj_rand(g, 2)) {
		*base = 6;
		*off = (int16_t)fj_rand(g, FJ_DATA - size + 1);
	} else if (g->slots && size >= 4) { /* a slot, or now and then its upper half */
		*base = 10;
		*off = (int16_t)(-8 * (int)(1 + fj_rand(g, FJ_STACK / 8)) +
				 (size == 4 && !fj_rand(g, 8) ? 4 : 0));
	} else {
		*base = 10;
		*off = (int16_t)-(int)(size + fj_rand(g, FJ_STACK - size + 1));
	}
	if (aligned)
		*off = (int16_t)(*off & ~(int)(size - 1));
}

static void fj_mem(struct fj_gen *g)
{
	unsigned s = g->slots && fj_rand(g, 8) ? 2 + fj_rand(g, 2) : fj_rand(g, 4);
	unsigned size = 1u << (s == 3 ? 3 : s == 2 ? 2 : s);
	uint8_t sz = fj_sizes[s];
	int base;
	int16_t off;

	fj_place(g, size, false, &base, &off);
	switch (fj_rand(g, 4)) {
	case 0: /* load, sign-extending too */
		fj_emit(g, BPFVM_RAW_INSN(BPFVM_LDX | (size < 8 && fj_rand(g, 2) ? BPFVM_MEMSX : BPFVM_MEM) | sz,
					  fj_dst(g), base, off, 0));
		break;
	case 1:
		fj_emit(g, BPFVM_RAW_INSN(BPFVM_ST | BPFVM_MEM | sz, base, 0, off, fj_imm(g)));
		break;
	default:
		fj_emit(g, BPFVM_RAW_INSN(BPFVM_STX | BPFVM_MEM | sz, base, fj_src(g), off, 0));
		break;
	}
}

static void fj_atomic(struct fj_gen *g)
{
	static const int32_t ops[] = {
		BPFVM_ADD, BPFVM_OR, BPFVM_AND, BPFVM_XOR, BPFVM_ADD | BPFVM_FETCH,
		BPFVM_OR | BPFVM_FETCH, BPFVM_AND | BPFVM_FETCH, BPFVM_XOR | BPFVM_FETCH,
		BPFVM_XCHG, BPFVM_CMPXCHG, BPFVM_LOAD_ACQ, BPFVM_STORE_REL,
	};
	int32_t op = ops[fj_rand(g, sizeof(ops) / sizeof(ops[0]))];
	unsigned s = op >= BPFVM_LOAD_ACQ ? fj_rand(g, 4) : 2 + fj_rand(g, 2);
	unsigned size = s == 3 ? 8 : 1u << s;
	int base, src = (op & BPFVM_FETCH) ? fj_dst(g) : fj_src(g);
	int16_t off;

	fj_place(g, size, true, &base, &off);
	if (op == BPFVM_LOAD_ACQ) /* dst = *(src + off) */
		fj_emit(g, BPFVM_RAW_INSN(BPFVM_STX | BPFVM_ATOMIC | fj_sizes[s], fj_dst(g), base, off, op));
	else
		fj_emit(g, BPFVM_RAW_INSN(BPFVM_STX | BPFVM_ATOMIC | fj_sizes[s], base, src, off, op));
}

static void fj_jcond(struct fj_gen *g, int16_t off)
{
	static const uint8_t ops[] = {
		BPFVM_JEQ, BPFVM_JGT, BPFVM_JGE, BPFVM_JSET, BPFVM_JNE, BPFVM_JSGT, BPFVM_JSGE,
		BPFVM_JLT, BPFVM_JLE, BPFVM_JSLT, BPFVM_JSLE,
	};
	bool x = fj_rand(g, 2);

	fj_emit(g, BPFVM_RAW_INSN((fj_rand(g, 2) ? BPFVM_JMP : BPFVM_JMP32) |
				  ops[fj_rand(g, sizeof(ops))] | (x ? BPFVM_X : BPFVM_K),
				  fj_src(g), x ? fj_src(g) : 0, off, x ? 0 : fj_imm(g)));
}

static void fj_reset_args(struct fj_gen *g)
{
	for (int r = 1; r <= 5; r++)
		fj_emit(g, BPFVM_MOV64_IMM(r, fj_imm(g)));
}

static void fj_call(struct fj_gen *g)
{
	unsigned kind = fj_rand(g, 4);

	if (g->in_sub || g->ncalls == sizeof(g->call_fixups) / sizeof(g->call_fixups[0]))
		kind = 0;
	if (kind == 0) {
		fj_emit(g, BPFVM_CALL_HELPER(FJ_HELPER));
	} else if (kind == 1) { /* callx with a helper id */
		fj_emit(g, BPFVM_MOV64_IMM(0, FJ_HELPER));
		fj_emit(g, BPFVM_RAW_INSN(BPFVM_JMP | BPFVM_CALL | BPFVM_X, 0, 0, 0, 0));
	} else { /* the subprogram, by call or through callx with its address */
		fj_emit(g, BPFVM_MOV64_REG(1, 6));
		g->call_fixups[g->ncalls++] = g->n;
		if (kind == 2) {
			fj_emit(g, BPFVM_RAW_INSN(BPFVM_JMP | BPFVM_CALL, 0, BPFVM_PSEUDO_CALL, 0, 0));
		} else {
			fj_lddw(g, 5, 0);
			g->insns[g->n - 2].src_reg = BPFVM_PSEUDO_FUNC;
			fj_emit(g, BPFVM_RAW_INSN(BPFVM_JMP | BPFVM_CALL | BPFVM_X, 5, 0, 0, 0));
		}
	}
	fj_reset_args(g);
}

static void fj_items(struct fj_gen *g, unsigned count);

static void fj_forward_jump(struct fj_gen *g)
{
	size_t at = g->n, after;

	if (fj_rand(g, 4) == 0)
		fj_emit(g, BPFVM_RAW_INSN(BPFVM_JMP | BPFVM_JA, 0, 0, 0, 0));
	else
		fj_jcond(g, 0);
	fj_items(g, 1 + fj_rand(g, 4));
	if (!fj_rand(g, 4)) /* a goto to the next slot: where a join ends, one the JIT copies */
		fj_emit(g, BPFVM_RAW_INSN(BPFVM_JMP | BPFVM_JA, 0, 0, 0, 0));
	after = g->n;
	g->insns[at].off = (int16_t)(after - at - 1);
}

/* r9 counts down from 1..6: the body runs that many times. */
static void fj_loop(struct fj_gen *g)
{
	size_t top;

	fj_emit(g, BPFVM_MOV64_IMM(9, 1 + (int32_t)fj_rand(g, 6)));
	top = g->n;
	g->in_loop = true;
	fj_items(g, 1 + fj_rand(g, 5));
	g->in_loop = false;
	fj_emit(g, BPFVM_ALU64_IMM(BPFVM_SUB, 9, 1));
	fj_emit(g, BPFVM_RAW_INSN((fj_rand(g, 2) ? BPFVM_JMP : BPFVM_JMP32) | BPFVM_JNE | BPFVM_K,
				  9, 0, (int16_t)((int64_t)top - (int64_t)g->n - 1), 0));
}

static void fj_items(struct fj_gen *g, unsigned count)
{
	for (unsigned i = 0; i < count && fj_room(g, 48); i++) {
		unsigned k = fj_rand(g, 100);

		if (k < 40)
			fj_alu(g);
		else if (k < 45)
			fj_idiom(g);
		else if (k < 65)
			fj_mem(g);
		else if (k < 72)
			fj_atomic(g);
		else if (k < 80)
			fj_lddw(g, fj_dst(g), fj_value(g));
		else if (k < 88)
			fj_forward_jump(g);
		else if (k < 93 && !g->in_loop)
			fj_loop(g);
		else if (g->slots)
			fj_mem(g);
		else if (k < 97)
			fj_call(g);
		else if (k < 99)
			fj_emit(g, BPFVM_RAW_INSN(BPFVM_LD | BPFVM_ABS | fj_sizes[fj_rand(g, 3)], 0, 0, 0,
						  (int32_t)fj_rand(g, FJ_MEM + 4)));
		else
			fj_emit(g, BPFVM_RAW_INSN(BPFVM_LD | BPFVM_IND | fj_sizes[fj_rand(g, 3)], 0,
						  fj_src(g), 0, (int32_t)fj_rand(g, 64)));
	}
}

/* Registers and the stack a function may read start out defined. */
static void fj_prologue(struct fj_gen *g)
{
	fj_emit(g, BPFVM_MOV64_REG(6, 1));
	for (int off = -FJ_STACK; off < 0; off += 8)
		fj_emit(g, BPFVM_ST_MEM(BPFVM_DW, 10, (int16_t)off, fj_imm(g)));
	for (int r = 0; r <= 9; r++)
		if (r != 6)
			fj_lddw(g, r, fj_value(g));
}

/* Fill g with a program; returns its length. */
static size_t fj_generate(struct fj_gen *g)
{
	size_t sub;

	g->n = 0;
	g->ncalls = 0;
	g->in_loop = g->in_sub = false;
	g->slots = fj_rand(g, 2);
	fj_prologue(g);
	fj_items(g, 5 + fj_rand(g, 60));
	for (int r = 0; r <= 9; r++)
		fj_emit(g, BPFVM_STX_MEM(BPFVM_DW, 6, r, (int16_t)(FJ_DUMP + 8 * r)));
	for (int off = -FJ_STACK; off < 0; off += 8) {
		fj_emit(g, BPFVM_LDX_MEM(BPFVM_DW, 0, 10, (int16_t)off));
		fj_emit(g, BPFVM_STX_MEM(BPFVM_DW, 6, 0, (int16_t)(FJ_STACK_DUMP + FJ_STACK + off)));
	}
	fj_emit(g, BPFVM_EXIT_INSN());
	if (!g->ncalls)
		return g->n;
	sub = g->n;
	g->in_sub = true;
	fj_prologue(g);
	fj_items(g, 1 + fj_rand(g, 20));
	fj_emit(g, BPFVM_EXIT_INSN());
	for (size_t i = 0; i < g->ncalls; i++)
		g->insns[g->call_fixups[i]].imm = (int32_t)(sub - g->call_fixups[i] - 1);
	return g->n;
}

static uint64_t fj_helper(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
			  struct bpfvm_run_ctx *ctx)
{
	return (r1 * 0x9e3779b97f4a7c15ull) ^ (r2 << 7) ^ (r3 >> 3) ^ (r4 * 31) ^ (r5 + 11) ^
	       (ctx ? 0 : 0xdead);
}

struct fj_outcome {
	int err;
	uint64_t r0;
	uint8_t mem[FJ_MEM];
	char log[512];
};

/* One run on the buffer at one address (pointers must compare equal). */
static void fj_run(struct bpfvm *vm, const struct bpfvm_insn *insns, size_t n,
		   enum bpfvm_exec mode, const uint8_t *input, uint8_t *buf, struct fj_outcome *o)
{
	struct bpfvm_log log = { o->log, sizeof(o->log), 0 };
	BPFVM_OPTS(bpfvm_prog_opts, popts, .flags = BPFVM_PROG_TRUSTED, .log = &log, .name = "fuzz");
	BPFVM_OPTS(bpfvm_run_opts, ropts, .mode = mode, .log = &log);
	struct bpfvm_prog *prog;

	o->log[0] = '\0';
	memcpy(buf, input, FJ_MEM);
	prog = bpfvm_prog__new(vm, insns, n, &popts);
	o->err = prog ? bpfvm_prog__run(prog, buf, FJ_MEM, &ropts) : -1000 - errno;
	o->r0 = ropts.retval;
	memcpy(o->mem, buf, FJ_MEM);
	bpfvm_prog__destroy(prog);
}

static void fj_report(const struct fj_gen *g, const struct fj_outcome *a, const struct fj_outcome *b)
{
	char text[128];

	printf("# mismatch: interpreter err %d r0 0x%" PRIx64 " (%s), JIT err %d r0 0x%" PRIx64
	       " (%s)\n", a->err, a->r0, a->log, b->err, b->r0, b->log);
	for (size_t i = 0; i < FJ_MEM; i++) {
		if (a->mem[i] != b->mem[i]) {
			printf("# first memory difference at byte %zu\n", i);
			break;
		}
	}
	for (size_t i = 0; i < g->n; i++) {
		int slots = bpfvm_disasm_insn(g->insns, g->n, i, BPFVM_SYNTAX_LLVM, text, sizeof(text));

		printf("#   %4zu: %s\n", i, text);
		if (slots == 2)
			i++;
	}
}

/* Generate and compare one program; returns false on a mismatch. */
static bool fj_one(struct fj_gen *g, struct bpfvm *vm, bool report)
{
	static uint8_t buf[FJ_MEM] __attribute__((aligned(8)));
	static struct fj_outcome a, b;
	uint8_t input[FJ_MEM];
	size_t n = fj_generate(g);

	for (size_t i = 0; i < FJ_MEM; i++)
		input[i] = (uint8_t)fj_rand(g, 256);
	fj_run(vm, g->insns, n, BPFVM_EXEC_UNCHECKED, input, buf, &a);
	fj_run(vm, g->insns, n, BPFVM_EXEC_JIT, input, buf, &b);
	if (a.err == b.err && a.r0 == b.r0 && !memcmp(a.mem, b.mem, FJ_MEM) && a.err == 0)
		return true;
	if (report)
		fj_report(g, &a, &b);
	return false;
}

static struct bpfvm *fj_vm(void)
{
	struct bpfvm *vm = bpfvm__new(NULL);

	if (vm)
		bpfvm__set_helper(vm, FJ_HELPER, "fuzz_helper", fj_helper);
	return vm;
}

/* count programs from seed; returns the mismatches, reporting the first few. */
__attribute__((unused)) static uint64_t fuzz_jit_run(uint64_t seed, uint64_t count)
{
	static struct fj_gen g;
	struct bpfvm *vm = fj_vm();
	uint64_t bad = 0;

	g.data = NULL;
	g.rng = seed ? seed : 1;
	for (uint64_t i = 0; vm && i < count; i++)
		if (!fj_one(&g, vm, bad < 3))
			bad++;
	bpfvm__destroy(vm);
	return vm ? bad : count;
}

#ifndef FUZZ_JIT_NO_ENTRY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fj_gen g;
	static struct bpfvm *vm;

	if (!vm)
		vm = fj_vm();
	g.data = data;
	g.size = size;
	g.pos = 0;
	g.rng = 1;
	if (!fj_one(&g, vm, true))
		abort();
	return 0;
}

#ifdef FUZZ_JIT_MAIN
int main(int argc, char **argv)
{
	uint64_t count = argc > 1 ? strtoull(argv[1], NULL, 0) : 1000000;
	uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 0) : 0x5eed;
	uint64_t bad = fuzz_jit_run(seed, count);

	printf("%" PRIu64 " programs (seed 0x%" PRIx64 "), %" PRIu64 " mismatches\n", count, seed, bad);
	return bad ? 1 : 0;
}
#endif
#endif
