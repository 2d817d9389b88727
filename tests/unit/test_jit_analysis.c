/*
 * test_jit_analysis.c - the JIT's analyses on their own: the division
 * magic numbers, the scratch kept between compilations, what each
 * function does, which stack slots registers hold (and that programs
 * using them agree with the interpreter).
 */
#include "jit_harness.h"

static uint64_t mulhi(uint64_t a, uint64_t b, unsigned bits)
{
	if (bits == 32)
		return (a * b) >> 32;
	return (uint64_t)(((unsigned __int128)a * b) >> 64);
}

static int64_t mulhs(int64_t a, int64_t b, unsigned bits)
{
	if (bits == 32)
		return (int64_t)(int32_t)((a * b) >> 32);
	return (int64_t)(((__int128)a * b) >> 64);
}

static bool udiv_ok(uint64_t d, unsigned bits, uint64_t x)
{
	struct jit_udiv_magic mg;
	uint64_t t, q;

	jit_udiv_magic(d, bits, &mg);
	t = mulhi(x, mg.m, bits);
	q = mg.add ? ((((x - t) & (bits == 32 ? 0xffffffffu : ~0ull)) >> 1) + t) >> mg.shift
		   : t >> mg.shift;
	return q == x / d;
}

static bool sdiv_ok(int64_t d, unsigned bits, int64_t x)
{
	struct jit_sdiv_magic mg;
	int64_t t;

	jit_sdiv_magic(d, bits, &mg);
	t = mulhs(x, mg.m, bits);
	if (d > 0 && mg.m < 0)
		t += x;
	if (d < 0 && mg.m > 0)
		t -= x;
	if (bits == 32)
		t = (int32_t)t;
	t >>= mg.shift;
	t += (uint64_t)t >> 63;
	return t == x / d;
}

TEST(division_magic_numbers)
{
	uint64_t s = 99;
	unsigned bad = 0;

	for (unsigned bits = 32; bits <= 64; bits += 32) {
		for (uint64_t i = 0; i < 20000 && bad < 5; i++) {
			uint64_t d = i < 10000 ? 3 + i : 3 + (s >> (i % 40));
			int64_t sd;
			uint64_t x;

			s = s * 6364136223846793005ull + 1442695040888963407ull;
			d &= bits == 32 ? 0x7fffffff : 0x7fffffffffffffffull; /* larger: a compare */
			if (d < 3 || !(d & (d - 1)))
				continue;
			sd = i % 2 ? -(int64_t)d : (int64_t)d;
			for (int k = 0; k < 64; k++) {
				x = k < 8 ? (uint64_t)-(int64_t)k : s * (uint64_t)(k + 1) >> (k % 33);
				if (bits == 32)
					x &= 0xffffffff;
				if (!udiv_ok(d, bits, x) && bad++ < 5)
					TEST_FAIL("u%u: %" PRIu64 " / %" PRIu64, bits, x, d);
				x = bits == 32 ? (uint64_t)(int64_t)(int32_t)x : x;
				if (!sdiv_ok(sd, bits, (int64_t)x) && bad++ < 5)
					TEST_FAIL("s%u: %" PRId64 " / %" PRId64, bits, (int64_t)x, sd);
			}
		}
	}
}

/* ---- random programs ---------------------------------------------------------------- */

/* ---- scratch memory (jit_arena.c) ------------------------------------------------ */

/* Under AddressSanitizer the arena keeps no block (each array its own allocation). */
#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

/*
 * A compilation's scratch is carved from a block the vm keeps for the
 * next: the second compilation's arrays are the first's memory, zeroed
 * where asked; contents survive a grow; two compilations at once each
 * have an arena, and giving both back keeps one and frees the other.
 */
TEST(jit_scratch_is_kept_between_compilations)
{
	struct bpfvm *vm = new_vm();
	struct jit_arena *a = jit_arena_take(vm), *b;
	unsigned char *p, *q, *kept = NULL;

	CHECK(a != NULL);
	for (int round = 0; a && round < 3; round++) {
		p = jit_arena_zalloc(a, 1000);
		q = jit_arena_alloc(a, 24);
		CHECK(p != NULL && q != NULL);
		if (!p || !q)
			break;
		CHECK_EQ_INT((uintptr_t)p % 16, 0);
		CHECK_EQ_INT((uintptr_t)q % 16, 0);
		for (int i = 0; i < 1000; i++)
			CHECK_EQ_INT(p[i], 0);
		memset(p, 0xab, 1000); /* the next round's zalloc must clear it */
		memcpy(q, "twenty-four bytes here!", 24);
		q = jit_arena_grow(a, q, 24, 4096);
		CHECK(q != NULL && !memcmp(q, "twenty-four bytes here!", 24));
		if (round == 2 && !UNDER_ASAN) /* the block sized in round 0 served rounds 1 and 2 */
			CHECK(p == kept);
		kept = p;
		jit_arena_give(vm, a);
		a = jit_arena_take(vm);
	}
	b = jit_arena_take(vm); /* a is out: b is a new one */
	CHECK(b != NULL && b != a);
	jit_arena_give(vm, a);
	jit_arena_give(vm, b); /* the vm has one: b is freed */
	bpfvm__destroy(vm);    /* and a with it */
}

/* ---- stack slots in registers (jit_promote.c) ------------------------------------ */

/* The plan for the program in pb: function f's candidate offsets and each slot's mark. */
static struct jit_promo promo_plan_of(uint32_t f, int16_t *offs, unsigned *n)
{
	struct bpfvm *vm = new_vm();
	BPFVM_OPTS(bpfvm_prog_opts, popts, .flags = BPFVM_PROG_TRUSTED, .name = "t");
	struct bpfvm_prog *prog = bpfvm_prog__new(vm, pb.v, pb.n, &popts);
	struct jit_promo plan = { 0 };
	struct jit_arena *arena = jit_arena_take(vm);
	uint16_t *reads = NULL, *writes = NULL;
	struct jit_func_use *use = NULL;

	*n = 0;
	CHECK(prog != NULL && arena != NULL);
	if (prog && arena && !jit_reg_masks(prog, arena, &reads, &writes, &use) &&
	    !jit_promote_plan(prog, reads, writes, &plan)) {
		*n = plan.funcs[f].n;
		memcpy(offs, plan.funcs[f].off, sizeof(plan.funcs[f].off));
	}
	jit_arena_give(vm, arena);
	bpfvm__destroy(vm);
	return plan;
}

/*
 * What each function's prologue provides for, worked out once for both
 * passes: the registers it writes (a call clobbers r0-r5), whether it
 * calls, keeps a loop budget, divides or fetches with or/and/xor.
 */
TEST(what_each_function_does)
{
	struct bpfvm_insn insns[] = {
		BPFVM_MOV64_IMM(6, 1),
		BPFVM_RAW_INSN(BPFVM_JMP | BPFVM_CALL, 0, BPFVM_PSEUDO_CALL, 0, 2),
		BPFVM_MOV64_REG(0, 6), BPFVM_EXIT_INSN(),
		/* f: */
		BPFVM_MOV64_IMM(7, 9), BPFVM_ALU32_IMM(BPFVM_MOD, 7, 5),
		BPFVM_ST_MEM(BPFVM_DW, 10, -8, 0),
		BPFVM_RAW_INSN(BPFVM_STX | BPFVM_ATOMIC | BPFVM_DW, 10, 7, -8, BPFVM_OR | BPFVM_FETCH),
		BPFVM_RAW_INSN(BPFVM_JMP32 | BPFVM_JA, 0, 0, 0, 0),
		BPFVM_RAW_INSN(BPFVM_JMP | 0xe0 /* may_goto */, 0, 0, 0, 0),
		BPFVM_MOV64_REG(0, 7), BPFVM_EXIT_INSN(),
	};
	struct bpfvm *vm = new_vm();
	BPFVM_OPTS(bpfvm_prog_opts, popts, .flags = BPFVM_PROG_TRUSTED, .name = "t");
	struct bpfvm_prog *prog = bpfvm_prog__new(vm, insns, sizeof(insns) / sizeof(insns[0]), &popts);
	struct jit_arena *arena = jit_arena_take(vm);
	uint16_t *reads = NULL, *writes = NULL;
	struct jit_func_use *use = NULL;

	CHECK(prog != NULL && arena != NULL);
	if (prog && arena && !jit_reg_masks(prog, arena, &reads, &writes, &use)) {
		CHECK_EQ_INT(prog->nfuncs, 2);
		CHECK_EQ_INT(use[0].written, 0x7f); /* r6, and r0-r5 by the call */
		CHECK_EQ_INT(use[0].does, JIT_FN_CALLS);
		CHECK_EQ_INT(use[1].written, 0x81); /* r7, r0 */
		CHECK_EQ_INT(use[1].does, JIT_FN_DIVIDES | JIT_FN_FETCH_LOGIC | JIT_FN_MAY_GOTO);
		CHECK_EQ_INT(reads[1], 0x7ff); /* a call of a function may read anything */
	}
	jit_arena_give(vm, arena);
	bpfvm__destroy(vm);
}

/*
 * Which slots may live in registers: plain 4- and 8-byte accesses at one
 * offset, in a function that neither calls nor lets r10 out; the
 * innermost loop's first.
 */
TEST(which_stack_slots_registers_hold)
{
	int16_t offs[JIT_PROMO_MAX];
	unsigned n;
	struct jit_promo plan;

	/* -8 once, -16 in a loop, -24 in a loop inside it: -24, -16, -8 */
	PROG(BPFVM_ST_MEM(BPFVM_DW, 10, -8, 1), BPFVM_ST_MEM(BPFVM_DW, 10, -16, 2),
	     BPFVM_ST_MEM(BPFVM_W, 10, -24, 3), BPFVM_MOV64_IMM(0, 3),
	     BPFVM_LDX_MEM(BPFVM_DW, 1, 10, -16), BPFVM_MOV64_IMM(2, 3),
	     BPFVM_LDX_MEM(BPFVM_W, 3, 10, -24), BPFVM_STX_MEM(BPFVM_W, 10, 3, -24),
	     BPFVM_ALU64_IMM(BPFVM_SUB, 2, 1), BPFVM_JMP_IMM(BPFVM_JNE, 2, 0, -4),
	     BPFVM_STX_MEM(BPFVM_DW, 10, 1, -16), BPFVM_ALU64_IMM(BPFVM_SUB, 0, 1),
	     BPFVM_JMP_IMM(BPFVM_JNE, 0, 0, -9), BPFVM_LDX_MEM(BPFVM_DW, 0, 10, -8),
	     BPFVM_EXIT_INSN());
	plan = promo_plan_of(0, offs, &n);
	CHECK_EQ_INT((int)n, 3);
	CHECK_EQ_INT(offs[0], -24);
	CHECK_EQ_INT(offs[1], -16);
	CHECK_EQ_INT(offs[2], -8);
	CHECK_EQ_INT(plan.at[0] & JIT_PROMO_SLOT, 3);
	CHECK_EQ_INT(plan.at[7] & JIT_PROMO_SLOT, 1);
	CHECK_EQ_INT(plan.at[7] & JIT_PROMO_MERGE, 0); /* -24 is only ever 4 bytes wide */
	jit_promote_free(&plan);

	/* A 4-byte store whose slot's upper half a later 8-byte load reads merges; one whose
	 * upper half an 8-byte store replaces first, or no load reads, does not. */
	PROG(BPFVM_ST_MEM(BPFVM_DW, 10, -8, -1), BPFVM_ST_MEM(BPFVM_W, 10, -8, 5),
	     BPFVM_LDX_MEM(BPFVM_DW, 0, 10, -8), BPFVM_ST_MEM(BPFVM_W, 10, -8, 6),
	     BPFVM_ST_MEM(BPFVM_DW, 10, -8, 7), BPFVM_LDX_MEM(BPFVM_DW, 1, 10, -8),
	     BPFVM_ST_MEM(BPFVM_W, 10, -8, 8), BPFVM_EXIT_INSN());
	plan = promo_plan_of(0, offs, &n);
	CHECK_EQ_INT((int)n, 1);
	CHECK(plan.at[1] & JIT_PROMO_MERGE);
	CHECK_EQ_INT(plan.at[3] & JIT_PROMO_MERGE, 0);
	CHECK_EQ_INT(plan.at[6] & JIT_PROMO_MERGE, 0);
	jit_promote_free(&plan);

	/* Around a loop: the load at the top reads the 4-byte store at the bottom. */
	PROG(BPFVM_ST_MEM(BPFVM_DW, 10, -8, -1), BPFVM_MOV64_IMM(2, 3),
	     BPFVM_LDX_MEM(BPFVM_DW, 0, 10, -8), BPFVM_ST_MEM(BPFVM_W, 10, -8, 9),
	     BPFVM_ALU64_IMM(BPFVM_SUB, 2, 1), BPFVM_JMP_IMM(BPFVM_JNE, 2, 0, -4),
	     BPFVM_EXIT_INSN());
	plan = promo_plan_of(0, offs, &n);
	CHECK_EQ_INT((int)n, 1);
	CHECK(plan.at[3] & JIT_PROMO_MERGE);
	jit_promote_free(&plan);

	/* What keeps slots in memory: an overlapping access at another offset, a narrower
	 * one, an atomic, a sign-extending load, a slot half outside the frame. */
	PROG(BPFVM_ST_MEM(BPFVM_DW, 10, -8, 1), BPFVM_ST_MEM(BPFVM_W, 10, -4, 2),
	     BPFVM_ST_MEM(BPFVM_DW, 10, -16, 1), BPFVM_ST_MEM(BPFVM_B, 10, -16, 2),
	     BPFVM_ST_MEM(BPFVM_DW, 10, -24, 1), BPFVM_MOV64_IMM(1, 1),
	     BPFVM_RAW_INSN(BPFVM_STX | BPFVM_ATOMIC | BPFVM_DW, 10, 1, -24, BPFVM_ADD),
	     BPFVM_ST_MEM(BPFVM_W, 10, -32, 1),
	     BPFVM_RAW_INSN(BPFVM_LDX | BPFVM_MEMSX | BPFVM_W, 0, 10, -32, 0),
	     BPFVM_ST_MEM(BPFVM_DW, 10, -40, 1), BPFVM_LDX_MEM(BPFVM_DW, 0, 10, -40),
	     BPFVM_EXIT_INSN());
	plan = promo_plan_of(0, offs, &n);
	CHECK_EQ_INT((int)n, 1);
	CHECK_EQ_INT(offs[0], -40);
	jit_promote_free(&plan);

	/* r10 copied: the slots can be reached through the copy. */
	PROG(BPFVM_ST_MEM(BPFVM_DW, 10, -8, 1), BPFVM_MOV64_REG(1, 10),
	     BPFVM_LDX_MEM(BPFVM_DW, 0, 1, -8), BPFVM_EXIT_INSN());
	plan = promo_plan_of(0, offs, &n);
	CHECK_EQ_INT((int)n, 0);
	jit_promote_free(&plan);

	/* A call: not in the caller, but in the callee that makes none. */
	PROG(BPFVM_ST_MEM(BPFVM_DW, 10, -8, 1), CALL_LOCAL(2), BPFVM_LDX_MEM(BPFVM_DW, 0, 10, -8),
	     BPFVM_EXIT_INSN(), BPFVM_ST_MEM(BPFVM_DW, 10, -8, 2),
	     BPFVM_LDX_MEM(BPFVM_DW, 0, 10, -8), BPFVM_EXIT_INSN());
	plan = promo_plan_of(0, offs, &n);
	CHECK_EQ_INT((int)n, 0);
	jit_promote_free(&plan);
	plan = promo_plan_of(1, offs, &n);
	CHECK_EQ_INT((int)n, 1);
	jit_promote_free(&plan);
}

/*
 * Slots in registers give the interpreter's results: a function naming
 * few registers (its slots take those of the others, r6-r9's saved for
 * the caller), one naming them all (r9 and r10 only, kept aside around a
 * division and a fetching atomic), 4-byte stores that merge and ones that
 * need not, a slot left uninitialized (zero, as the interpreter's stack).
 */
TEST(stack_slots_in_registers_agree)
{
	fill_input(21);
	/* main: r6-r9 set, calls f, which names r0-r2 only and keeps 8 slots */
	PROG(BPFVM_MOV64_REG(6, 1), BPFVM_MOV64_IMM(7, 77), BPFVM_MOV64_IMM(8, 88),
	     BPFVM_MOV64_IMM(9, 99), BPFVM_MOV64_IMM(1, 5), CALL_LOCAL(7),
	     BPFVM_STX_MEM(BPFVM_DW, 6, 0, OUT), BPFVM_STX_MEM(BPFVM_DW, 6, 7, OUT + 8),
	     BPFVM_STX_MEM(BPFVM_DW, 6, 8, OUT + 16), BPFVM_STX_MEM(BPFVM_DW, 6, 9, OUT + 24),
	     BPFVM_MOV64_IMM(0, 0), BPFVM_EXIT_INSN(), BPFVM_EXIT_INSN(),
	     /* f(r1): slots -8..-64 updated in a loop of r1 rounds */
	     BPFVM_ST_MEM(BPFVM_DW, 10, -8, -3), BPFVM_ST_MEM(BPFVM_DW, 10, -16, 0x7fffffff),
	     BPFVM_ST_MEM(BPFVM_W, 10, -24, -1), BPFVM_ST_MEM(BPFVM_DW, 10, -32, 1),
	     BPFVM_ST_MEM(BPFVM_DW, 10, -40, -100), BPFVM_ST_MEM(BPFVM_DW, 10, -48, 7),
	     BPFVM_ST_MEM(BPFVM_DW, 10, -56, 9),
	     /* loop: */
	     BPFVM_LDX_MEM(BPFVM_DW, 0, 10, -8), BPFVM_ALU64_IMM(BPFVM_MUL, 0, 31),
	     BPFVM_STX_MEM(BPFVM_DW, 10, 0, -8), BPFVM_LDX_MEM(BPFVM_DW, 2, 10, -16),
	     BPFVM_ALU64_REG(BPFVM_ADD, 2, 0), BPFVM_STX_MEM(BPFVM_W, 10, 2, -16),
	     BPFVM_LDX_MEM(BPFVM_W, 2, 10, -24), BPFVM_ALU32_IMM(BPFVM_ADD, 2, 3),
	     BPFVM_STX_MEM(BPFVM_W, 10, 2, -24), BPFVM_LDX_MEM(BPFVM_DW, 2, 10, -32),
	     BPFVM_ALU64_IMM(BPFVM_LSH, 2, 3), BPFVM_STX_MEM(BPFVM_DW, 10, 2, -32),
	     BPFVM_ST_MEM(BPFVM_W, 10, -40, -5), BPFVM_LDX_MEM(BPFVM_DW, 2, 10, -48),
	     BPFVM_ALU64_REG(BPFVM_XOR, 2, 1), BPFVM_STX_MEM(BPFVM_DW, 10, 2, -48),
	     BPFVM_ST_MEM(BPFVM_W, 10, -56, 4),
	     BPFVM_ALU64_IMM(BPFVM_SUB, 1, 1), BPFVM_JMP_IMM(BPFVM_JNE, 1, 0, -19),
	     /*
	      * r0 = the sum of the slots, each read 8 bytes wide.  -64 is never
	      * written: read, but masked out, as its bytes are whatever the
	      * stack held (the interpreter's, or the JIT's register, which
	      * starts at 0), a trusted program's undefined read.
	      */
	     BPFVM_MOV64_IMM(0, 0), BPFVM_LDX_MEM(BPFVM_DW, 1, 10, -8), BPFVM_ALU64_REG(BPFVM_ADD, 0, 1),
	     BPFVM_LDX_MEM(BPFVM_DW, 1, 10, -16), BPFVM_ALU64_REG(BPFVM_ADD, 0, 1),
	     BPFVM_LDX_MEM(BPFVM_W, 1, 10, -24), BPFVM_ALU64_REG(BPFVM_ADD, 0, 1),
	     BPFVM_LDX_MEM(BPFVM_DW, 1, 10, -32), BPFVM_ALU64_REG(BPFVM_ADD, 0, 1),
	     BPFVM_LDX_MEM(BPFVM_DW, 1, 10, -40), BPFVM_ALU64_REG(BPFVM_ADD, 0, 1),
	     BPFVM_LDX_MEM(BPFVM_DW, 1, 10, -48), BPFVM_ALU64_REG(BPFVM_ADD, 0, 1),
	     BPFVM_LDX_MEM(BPFVM_DW, 1, 10, -56), BPFVM_ALU64_REG(BPFVM_ADD, 0, 1),
	     BPFVM_LDX_MEM(BPFVM_DW, 1, 10, -64), BPFVM_ALU64_IMM(BPFVM_AND, 1, 0),
	     BPFVM_ALU64_REG(BPFVM_ADD, 0, 1), BPFVM_EXIT_INSN());
	compare_all("slots in the registers of unnamed BPF registers");
	{
		int16_t offs[JIT_PROMO_MAX];
		unsigned n;
		struct jit_promo plan = promo_plan_of(1, offs, &n);

		CHECK_EQ_INT((int)n, 8);
		if (plan.funcs)
			CHECK_EQ_INT(plan.funcs[1].regs_used, 1 << 0 | 1 << 1 | 1 << 2 | 1 << 10);
		jit_promote_free(&plan);
	}

	/* Every register named: r9 and r10 hold the two busiest slots, kept aside around
	 * divisions and a fetching or. */
	begin(-1, -1);
	emit(BPFVM_ST_MEM(BPFVM_DW, 10, -16, 1000003));
	emit(BPFVM_ST_MEM(BPFVM_DW, 10, -24, 17));
	emit(BPFVM_MOV64_IMM(2, 4));
	emit(BPFVM_LDX_MEM(BPFVM_DW, 0, 10, -16));
	emit(BPFVM_ALU64_IMM(BPFVM_MUL, 0, 7));
	emit(BPFVM_STX_MEM(BPFVM_DW, 10, 0, -16));
	emit(BPFVM_LDX_MEM(BPFVM_DW, 3, 10, -24));
	emit(BPFVM_ALU64_REG(BPFVM_DIV, 0, 3));
	emit(BPFVM_ALU32_IMM(BPFVM_MOD, 3, 11));
	emit(BPFVM_RAW_INSN(BPFVM_ALU64 | BPFVM_DIV | BPFVM_K, 4, 0, 1, -13)); /* sdiv */
	emit(BPFVM_ALU64_IMM(BPFVM_DIV, 5, 1000));
	emit(BPFVM_RAW_INSN(BPFVM_STX | BPFVM_ATOMIC | BPFVM_DW, pb.base, 3, 8,
			    BPFVM_OR | BPFVM_FETCH));
	emit(BPFVM_ALU64_IMM(BPFVM_ADD, 3, 5));
	emit(BPFVM_STX_MEM(BPFVM_DW, 10, 3, -24));
	emit(BPFVM_ALU64_IMM(BPFVM_SUB, 2, 1));
	emit(BPFVM_JMP_IMM(BPFVM_JNE, 2, 0, -13));
	emit(BPFVM_LDX_MEM(BPFVM_DW, 1, 10, -16));
	save(1);
	emit(BPFVM_LDX_MEM(BPFVM_DW, 1, 10, -24));
	save(1);
	finish();
	compare_all("slots in r9 and r10 across divisions and a fetching or");
}

TEST_MAIN()
