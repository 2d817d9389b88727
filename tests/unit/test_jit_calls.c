/*
 * test_jit_calls.c - calls and control transfers in JITed code: helpers,
 * bpf-to-bpf calls, callx and its faults, the call depth limit, may_goto,
 * tail calls, packet loads that unwind, inline map lookups (per-CPU too).
 */
#include "jit_harness.h"

TEST(helper_calls)
{
	fill_input(1);
	PROG(BPFVM_MOV64_REG(6, 1), BPFVM_MOV64_IMM(1, 5), BPFVM_MOV64_IMM(2, -6),
	     BPFVM_LD_IMM64_RAW(3, 0, 0x123456789abcdefull), BPFVM_MOV64_IMM(4, 77),
	     BPFVM_MOV64_IMM(5, 1 << 20), BPFVM_MOV64_IMM(7, 70), BPFVM_MOV64_IMM(8, 80),
	     BPFVM_MOV64_IMM(9, 90), BPFVM_CALL_HELPER(HELPER),
	     BPFVM_STX_MEM(BPFVM_DW, 6, 0, OUT), BPFVM_STX_MEM(BPFVM_DW, 6, 7, OUT + 8),
	     BPFVM_STX_MEM(BPFVM_DW, 6, 8, OUT + 16), BPFVM_STX_MEM(BPFVM_DW, 6, 9, OUT + 24),
	     BPFVM_EXIT_INSN());
	compare_all("helper call");
}

/*
 * Three levels of functions: each writes r6-r9 and its own stack, which
 * must not disturb its caller's; the innermost divides (rax, rdx).
 */
TEST(bpf_to_bpf_calls)
{
	fill_input(2);
	PROG(BPFVM_MOV64_REG(6, 1), BPFVM_MOV64_IMM(7, 7), BPFVM_MOV64_IMM(8, 8),
	     BPFVM_MOV64_IMM(9, 9), BPFVM_ST_MEM(BPFVM_DW, 10, -8, 1234),
	     BPFVM_MOV64_IMM(1, 1000), CALL_LOCAL(9),
	     BPFVM_STX_MEM(BPFVM_DW, 6, 0, OUT), BPFVM_STX_MEM(BPFVM_DW, 6, 7, OUT + 8),
	     BPFVM_STX_MEM(BPFVM_DW, 6, 8, OUT + 16), BPFVM_STX_MEM(BPFVM_DW, 6, 9, OUT + 24),
	     BPFVM_LDX_MEM(BPFVM_DW, 1, 10, -8), BPFVM_STX_MEM(BPFVM_DW, 6, 1, OUT + 32),
	     BPFVM_MOV64_REG(0, 10), BPFVM_ALU64_REG(BPFVM_SUB, 0, 10), BPFVM_EXIT_INSN(),
	     /* f(r1): its own r6-r9 and stack, calls g(r1 + 1) */
	     BPFVM_MOV64_IMM(6, 66), BPFVM_MOV64_IMM(7, 77), BPFVM_MOV64_IMM(8, 88),
	     BPFVM_MOV64_IMM(9, 99), BPFVM_ST_MEM(BPFVM_DW, 10, -8, 5678),
	     BPFVM_ALU64_IMM(BPFVM_ADD, 1, 1), CALL_LOCAL(3),
	     BPFVM_LDX_MEM(BPFVM_DW, 1, 10, -8), BPFVM_ALU64_REG(BPFVM_ADD, 0, 1),
	     BPFVM_EXIT_INSN(),
	     /* g(r1) = r1 / 7 + r1 % 10, with r6 written */
	     BPFVM_MOV64_REG(0, 1), BPFVM_ALU64_IMM(BPFVM_DIV, 0, 7), BPFVM_MOV64_REG(6, 1),
	     BPFVM_ALU64_IMM(BPFVM_MOD, 6, 10), BPFVM_ALU64_REG(BPFVM_ADD, 0, 6),
	     BPFVM_EXIT_INSN());
	compare_all("bpf-to-bpf calls");
	CHECK_EQ_U64(want.r0, 0);
}

TEST(callx_helper_and_function)
{
	fill_input(3);
	PROG(BPFVM_MOV64_REG(6, 1), BPFVM_MOV64_IMM(1, 3), BPFVM_MOV64_IMM(2, 4),
	     BPFVM_MOV64_IMM(3, 5), BPFVM_MOV64_IMM(4, 6), BPFVM_MOV64_IMM(5, 7),
	     BPFVM_MOV64_IMM(8, HELPER), CALLX(8), BPFVM_STX_MEM(BPFVM_DW, 6, 0, OUT),
	     LD_FUNC(8, 5), BPFVM_MOV64_IMM(1, 40), CALLX(8),
	     BPFVM_STX_MEM(BPFVM_DW, 6, 0, OUT + 8), BPFVM_EXIT_INSN(),
	     BPFVM_MOV64_REG(0, 1), BPFVM_ALU64_IMM(BPFVM_MUL, 0, 3), BPFVM_EXIT_INSN());
	compare_all("callx");
	CHECK_EQ_U64(want.r0, 120);
}

static int jit_run(const struct bpfvm_insn *insns, size_t n, uint64_t *r0, char *log,
		   size_t loglen)
{
	struct bpfvm *vm = new_vm();
	struct bpfvm_log l = { log, loglen, 0 };
	BPFVM_OPTS(bpfvm_prog_opts, popts, .flags = BPFVM_PROG_TRUSTED, .log = &l, .name = "t");
	BPFVM_OPTS(bpfvm_run_opts, ropts, .mode = BPFVM_EXEC_JIT, .log = &l);
	struct bpfvm_prog *prog;
	int err;

	log[0] = '\0';
	prog = bpfvm_prog__new(vm, insns, n, &popts);
	err = prog ? bpfvm_prog__run(prog, buf, 64, &ropts) : -1000;
	*r0 = ropts.retval;
	bpfvm__destroy(vm);
	return err;
}

TEST(callx_to_a_bad_target_faults)
{
	struct bpfvm_insn insns[] = {
		BPFVM_MOV64_IMM(0, 9), BPFVM_LD_IMM64_RAW(7, 0, 0x1234567ull), BPFVM_MOV64_IMM(3, 1),
		CALLX(7), BPFVM_EXIT_INSN(),
	};
	char log[512];
	uint64_t r0;

	CHECK_EQ_INT(jit_run(insns, 6, &r0, log, sizeof(log)), -EINVAL);
	CHECK_CONTAINS(log, "instruction 4");
	CHECK_CONTAINS(log, "callx to 0x1234567: neither a helper id nor the address of a function");
	insns[1] = BPFVM_MOV64_IMM(7, 12345); /* an id past the helpers */
	insns[2] = BPFVM_MOV64_IMM(7, 12345);
	CHECK_EQ_INT(jit_run(insns, 6, &r0, log, sizeof(log)), -EINVAL);
	CHECK_CONTAINS(log, "callx to 0x3039");
}

/* A function that calls itself through callx: the 9th frame faults. */
TEST(call_depth_limit)
{
	struct bpfvm_insn insns[] = {
		BPFVM_MOV64_IMM(0, 0), LD_FUNC(6, 3), CALL_LOCAL(1), BPFVM_EXIT_INSN(),
		/* f: r0 += 1; if r0 < limit: callx r6 */
		BPFVM_ALU64_IMM(BPFVM_ADD, 0, 1), BPFVM_JMP_IMM(BPFVM_JGE, 0, 7, 1), CALLX(6),
		BPFVM_EXIT_INSN(),
	};
	char log[512];
	uint64_t r0;

	/* main + 7 frames of f: the 8 frames allowed */
	CHECK_EQ_INT(jit_run(insns, 9, &r0, log, sizeof(log)), 0);
	CHECK_EQ_U64(r0, 7);
	insns[6].imm = 8;
	CHECK_EQ_INT(jit_run(insns, 9, &r0, log, sizeof(log)), -EINVAL);
	CHECK_CONTAINS(log, "instruction 7");
	CHECK_CONTAINS(log, "the call stack of 9 frames is too deep");
}

/* may_goto: the budget per frame, then the jump; a callee gets its own. */
TEST(may_goto)
{
	PROG(BPFVM_MOV64_IMM(0, 0), BPFVM_MOV64_REG(6, 1),
	     BPFVM_RAW_INSN(BPFVM_JMP | BPFVM_JCOND, 0, 0, 2, 0),
	     BPFVM_ALU64_IMM(BPFVM_ADD, 0, 1), BPFVM_RAW_INSN(BPFVM_JMP | BPFVM_JA, 0, 0, -3, 0),
	     BPFVM_STX_MEM(BPFVM_DW, 6, 0, OUT), CALL_LOCAL(2),
	     BPFVM_STX_MEM(BPFVM_DW, 6, 0, OUT + 8), BPFVM_EXIT_INSN(),
	     BPFVM_MOV64_IMM(0, 5), BPFVM_RAW_INSN(BPFVM_JMP | BPFVM_JCOND, 0, 0, 2, 0),
	     BPFVM_ALU64_IMM(BPFVM_ADD, 0, 2), BPFVM_RAW_INSN(BPFVM_JMP | BPFVM_JA, 0, 0, -3, 0),
	     BPFVM_EXIT_INSN());
	compare_all("may_goto");
	CHECK_EQ_U64(want.r0, 5 + 2ull * BPFVM_MAX_LOOPS);
}

/* ---- tail calls ------------------------------------------------------------------- */

static struct bpfvm_prog *tail_targets[4];

static struct bpfvm_prog *tail_lookup(struct bpfvm *vm, uint64_t map, uint64_t index)
{
	(void)vm, (void)map;
	return index < 4 ? tail_targets[index] : NULL;
}

/*
 * Program 0 counts its runs in the buffer and tail-calls itself: the
 * kernel's limit of 33 ends the chain.  Program 1 tail-calls 2 from a
 * subprogram: 2's exit returns to 1's main function.
 */
static void tail_calls_in(const struct variant *v, uint64_t *r0, uint64_t *count)
{
	struct bpfvm_insn p0[] = {
		BPFVM_LDX_MEM(BPFVM_DW, 0, 1, 0), BPFVM_ALU64_IMM(BPFVM_ADD, 0, 1),
		BPFVM_STX_MEM(BPFVM_DW, 1, 0, 0), BPFVM_MOV64_IMM(3, 0), BPFVM_CALL_HELPER(12),
		BPFVM_MOV64_IMM(0, 1000), BPFVM_EXIT_INSN(),
	};
	struct bpfvm_insn p1[] = {
		BPFVM_MOV64_IMM(6, 600), CALL_LOCAL(2), BPFVM_ALU64_REG(BPFVM_ADD, 0, 6),
		BPFVM_EXIT_INSN(),
		BPFVM_MOV64_IMM(6, 1), BPFVM_MOV64_IMM(3, 2), BPFVM_CALL_HELPER(12), BPFVM_EXIT_INSN(),
	};
	struct bpfvm_insn p2[] = {
		BPFVM_MOV64_IMM(7, 3), BPFVM_LDX_MEM(BPFVM_DW, 0, 1, 0), BPFVM_ALU64_REG(BPFVM_ADD, 0, 7),
		BPFVM_EXIT_INSN(),
	};
	struct bpfvm *vm = new_vm();
	BPFVM_OPTS(bpfvm_prog_opts, popts, .flags = BPFVM_PROG_TRUSTED | (v ? v->flags : 0));
	BPFVM_OPTS(bpfvm_run_opts, ropts, .mode = v ? BPFVM_EXEC_JIT : BPFVM_EXEC_UNCHECKED);
	uint64_t mem[2] = { 0, 0 };

	vm->tail_call_lookup = tail_lookup;
	tail_targets[0] = bpfvm_prog__new(vm, p0, 7, &popts);
	tail_targets[1] = bpfvm_prog__new(vm, p1, 8, &popts);
	tail_targets[2] = bpfvm_prog__new(vm, p2, 4, &popts);
	CHECK_EQ_INT(bpfvm_prog__run(tail_targets[0], mem, sizeof(mem), &ropts), 0);
	r0[0] = ropts.retval;
	count[0] = mem[0];
	mem[0] = 40;
	CHECK_EQ_INT(bpfvm_prog__run(tail_targets[1], mem, sizeof(mem), &ropts), 0);
	r0[1] = ropts.retval;
	bpfvm__destroy(vm);
}

TEST(tail_calls)
{
	uint64_t r0[2], count[1], jr0[2], jcount[1];

	tail_calls_in(NULL, r0, count);
	CHECK_EQ_U64(count[0], 1 + BPFVM_MAX_TAIL_CALLS);
	CHECK_EQ_U64(r0[0], 1000);
	CHECK_EQ_U64(r0[1], 643);
	for (size_t k = 0; k < sizeof(variants) / sizeof(variants[0]); k++) {
		tail_calls_in(&variants[k], jr0, jcount);
		CHECK_EQ_U64(jcount[0], count[0]);
		CHECK_EQ_U64(jr0[0], r0[0]);
		CHECK_EQ_U64(jr0[1], r0[1]);
	}
}

/* A packet load out of bounds in a subprogram ends the whole program. */
TEST(packet_load_out_of_bounds_unwinds)
{
	fill_input(4);
	PROG(BPFVM_MOV64_REG(6, 1), BPFVM_MOV64_IMM(0, 7), CALL_LOCAL(2),
	     BPFVM_MOV64_IMM(0, 99), BPFVM_EXIT_INSN(),
	     BPFVM_MOV64_IMM(7, 1), CALL_LOCAL(1), BPFVM_EXIT_INSN(),
	     BPFVM_RAW_INSN(BPFVM_LD | BPFVM_ABS | BPFVM_W, 0, 0, 0, 1 << 20), BPFVM_EXIT_INSN());
	compare_all("packet load out of bounds");
	CHECK_EQ_U64(want.r0, 0);
}

static uint64_t fake_lookup_value = 0x5151;

static uint64_t fake_lookup(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
			    struct bpfvm_run_ctx *ctx)
{
	(void)r1, (void)r2, (void)r3, (void)r4, (void)r5, (void)ctx;
	return (uintptr_t)&fake_lookup_value;
}

/* How the lookup's result is tested: as most programs do, or at once (below). */
enum lookup_test { TEST_LATER, TEST_JEQ, TEST_JNE };

/* After the lookup of key k: r3 = the value, or r0 + 0xdead for none; then the store. */
static size_t lookup_tail(struct bpfvm_insn *insns, size_t k, enum lookup_test how)
{
	size_t n = 0;

	switch (how) {
	case TEST_LATER:   /* r3 = 0xdead; if r0 == 0 goto store; r3 = *r0 */
		insns[n++] = BPFVM_MOV64_IMM(3, 0xdead);
		insns[n++] = BPFVM_JMP_IMM(BPFVM_JEQ, 0, 0, 1);
		insns[n++] = BPFVM_LDX_MEM(BPFVM_DW, 3, 0, 0);
		break;
	case TEST_JNE:     /* if r0 != 0 goto value; r3 = r0 + 0xdead; goto store; value: r3 = *r0 */
		insns[n++] = BPFVM_JMP_IMM(BPFVM_JNE, 0, 0, 3);
		insns[n++] = BPFVM_MOV64_IMM(3, 0xdead);
		insns[n++] = BPFVM_ALU64_REG(BPFVM_ADD, 3, 0);
		insns[n++] = BPFVM_JMP_IMM(BPFVM_JA, 0, 0, 1);
		insns[n++] = BPFVM_LDX_MEM(BPFVM_DW, 3, 0, 0);
		break;
	case TEST_JEQ:     /* if r0 == 0 goto none; r3 = *r0; goto store; none: r3 = r0 + 0xdead */
		insns[n++] = BPFVM_JMP_IMM(BPFVM_JEQ, 0, 0, 2);
		insns[n++] = BPFVM_LDX_MEM(BPFVM_DW, 3, 0, 0);
		insns[n++] = BPFVM_JMP_IMM(BPFVM_JA, 0, 0, 2);
		insns[n++] = BPFVM_MOV64_IMM(3, 0xdead);
		insns[n++] = BPFVM_ALU64_REG(BPFVM_ADD, 3, 0);
		break;
	}
	insns[n++] = BPFVM_STX_MEM(BPFVM_DW, 6, 3, (int16_t)(8 * k));
	return n;
}

/*
 * out[k] = what the lookup of each key in a map holding base + k at keys
 * 0..7 gives (lookup_tail); 0 if the program ran, else ~0.  fake: the
 * lookup helper replaced, which must stay a call.
 */
static uint64_t lookups(uint32_t type, uint64_t base, bool fake, enum lookup_test how,
			enum bpfvm_exec mode, uint64_t *out)
{
	static const int32_t keys[] = { 0, 3, 7, 8, 100, -1 };
	struct bpfvm *vm = new_vm();
	struct bpfvm_map *map = bpfvm_map__new(vm, type, 4, 8, 8, NULL);
	struct bpfvm_insn insns[200];
	size_t n = 0;
	uint64_t r = ~0ull;

	for (uint32_t k = 0; map && k < 8; k++) {
		static uint64_t v[1024]; /* per-CPU maps take a value per possible CPU */

		for (int cpu = 0; cpu < 1024; cpu++)
			v[cpu] = base + k;
		bpfvm_map__update_elem(map, &k, v, 0);
	}
	if (fake)
		bpfvm__set_helper(vm, 1, "fake_lookup", fake_lookup);
	insns[n++] = BPFVM_MOV64_REG(6, 1);
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		insns[n++] = BPFVM_ST_MEM(BPFVM_W, 10, -4, keys[k]);
		insns[n++] = BPFVM_MOV64_REG(2, 10);
		insns[n++] = BPFVM_ALU64_IMM(BPFVM_ADD, 2, -4);
		insns[n++] = BPFVM_RAW_INSN(BPFVM_LD | BPFVM_DW | BPFVM_IMM, 1, BPFVM_PSEUDO_MAP_FD, 0, 0);
		insns[n++] = BPFVM_RAW_INSN(0, 0, 0, 0, 0);
		/* every other one with a jump landing on the call: no inlining there */
		if (how == TEST_LATER)
			insns[n++] = k % 2 ? BPFVM_JMP_IMM(BPFVM_JEQ, 6, 0, 0) : BPFVM_MOV64_IMM(4, 0);
		insns[n++] = BPFVM_CALL_HELPER(1);
		n += lookup_tail(insns + n, k, how);
	}
	insns[n++] = BPFVM_MOV64_IMM(0, 0);
	insns[n++] = BPFVM_EXIT_INSN();
	BPFVM_OPTS(bpfvm_prog_opts, popts, .flags = BPFVM_PROG_TRUSTED, .maps = &map, .nmaps = 1);
	BPFVM_OPTS(bpfvm_run_opts, ropts, .mode = mode);
	struct bpfvm_prog *prog = map ? bpfvm_prog__new(vm, insns, n, &popts) : NULL;

	memset(out, 0, 6 * sizeof(*out));
	if (prog && !bpfvm_prog__run(prog, out, 6 * sizeof(*out), &ropts))
		r = 0;
	bpfvm_map__destroy(map);
	bpfvm__destroy(vm);
	return r;
}

/* Map lookups: arrays inline, other maps called directly; a replaced helper stays a call. */
TEST(map_lookups)
{
	static const uint32_t types[] = { BPFVM_MAP_TYPE_ARRAY, BPFVM_MAP_TYPE_HASH,
					  BPFVM_MAP_TYPE_PERCPU_ARRAY };

	for (size_t t = 0; t < 3; t++) {
		for (int fake = 0; fake <= 1; fake++) {
			uint64_t a[6], b[6];

			CHECK_EQ_U64(lookups(types[t], 1000, fake, TEST_LATER, BPFVM_EXEC_UNCHECKED, a), 0);
			CHECK_EQ_U64(lookups(types[t], 1000, fake, TEST_LATER, BPFVM_EXEC_JIT, b), 0);
			for (int k = 0; k < 6; k++)
				CHECK_EQ_U64(b[k], a[k]);
			CHECK_EQ_U64(a[0], fake ? 0x5151 : 1000);
			CHECK_EQ_U64(a[3], fake ? 0x5151 : 0xdead);
		}
	}
}

/*
 * A lookup tested at once, as programs test them (`if r0 == 0` or `!= 0`
 * right after the call): the JIT branches on the index check itself
 * (jit_x86_lookup_tested).  Each key's value, or r0 + 0xdead on the NULL
 * edge, so a NULL edge that left r0 unzeroed shows.
 */
TEST(map_lookup_tested_at_once)
{
	static const uint32_t types[] = { BPFVM_MAP_TYPE_ARRAY, BPFVM_MAP_TYPE_PERCPU_ARRAY,
					  BPFVM_MAP_TYPE_HASH };
	static const uint64_t want[6] = { 2000, 2003, 2007, 0xdead, 0xdead, 0xdead };

	for (size_t t = 0; t < 3; t++) {
		for (int jne = 0; jne <= 1; jne++) {
			uint64_t a[6], b[6];

			enum lookup_test how = jne ? TEST_JNE : TEST_JEQ;

			CHECK_EQ_U64(lookups(types[t], 2000, false, how, BPFVM_EXEC_UNCHECKED, a), 0);
			CHECK_EQ_U64(lookups(types[t], 2000, false, how, BPFVM_EXEC_JIT, b), 0);
			for (int k = 0; k < 6; k++) {
				CHECK_EQ_U64(a[k], want[k]);
				CHECK_EQ_U64(b[k], want[k]);
			}
		}
	}
}

/* A per-CPU array's inline lookup reads the slot of the CPU the run is on. */
static uint64_t percpu_slot(enum bpfvm_exec mode, uint32_t value_size, uint32_t entries)
{
	struct bpfvm *vm = new_vm();
	struct bpfvm_map *map =
		bpfvm_map__new(vm, BPFVM_MAP_TYPE_PERCPU_ARRAY, 4, value_size, entries, NULL);
	static uint64_t v[1024 * 3]; /* per possible CPU, value_size rounded up to 8 */
	struct bpfvm_insn insns[] = {
		BPFVM_ST_MEM(BPFVM_W, 10, -4, 5),
		BPFVM_MOV64_REG(2, 10),
		BPFVM_ALU64_IMM(BPFVM_ADD, 2, -4),
		BPFVM_RAW_INSN(BPFVM_LD | BPFVM_DW | BPFVM_IMM, 1, BPFVM_PSEUDO_MAP_FD, 0, 0),
		BPFVM_RAW_INSN(0, 0, 0, 0, 0),
		BPFVM_CALL_HELPER(1),
		BPFVM_JMP_IMM(BPFVM_JEQ, 0, 0, 6),
		BPFVM_LDX_MEM(BPFVM_DW, 7, 0, 0),
		BPFVM_CALL_HELPER(8), /* bpf_get_smp_processor_id */
		BPFVM_ALU64_IMM(BPFVM_MUL, 0, 1000),
		BPFVM_ALU64_REG(BPFVM_SUB, 7, 0),
		BPFVM_MOV64_REG(0, 7),
		BPFVM_EXIT_INSN(),
		BPFVM_MOV64_IMM(0, -1),
		BPFVM_EXIT_INSN(),
	};
	BPFVM_OPTS(bpfvm_prog_opts, popts, .flags = BPFVM_PROG_TRUSTED, .maps = &map, .nmaps = 1);
	BPFVM_OPTS(bpfvm_run_opts, ropts, .mode = mode);
	struct bpfvm_prog *prog;
	uint32_t key = 5;
	uint64_t r = ~0ull;

	for (int cpu = 0; cpu < 1024; cpu++)
		v[cpu * (value_size / 8)] = 1000 * (uint64_t)cpu + 5;
	if (map && !bpfvm_map__update_elem(map, &key, v, 0) &&
	    (prog = bpfvm_prog__new(vm, insns, sizeof(insns) / sizeof(insns[0]), &popts)) &&
	    !bpfvm_prog__run(prog, NULL, 0, &ropts))
		r = ropts.retval;
	bpfvm_map__destroy(map);
	bpfvm__destroy(vm);
	return r;
}

TEST(percpu_array_lookup_reads_this_cpu)
{
	/* strides and per-CPU blocks that take an lea, a shift and a multiplication */
	static const uint32_t shapes[][2] = { { 8, 8 }, { 16, 8 }, { 24, 7 }, { 8, 6 } };
	cpu_set_t was, one;

	/* on every CPU this process may use (on CPU 0 the per-CPU block is not tested) */
	CHECK(!sched_getaffinity(0, sizeof(was), &was));
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		if (!CPU_ISSET(cpu, &was))
			continue;
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		if (sched_setaffinity(0, sizeof(one), &one))
			continue;
		for (size_t k = 0; k < sizeof(shapes) / sizeof(shapes[0]); k++) {
			CHECK_EQ_U64(percpu_slot(BPFVM_EXEC_UNCHECKED, shapes[k][0], shapes[k][1]), 5);
			CHECK_EQ_U64(percpu_slot(BPFVM_EXEC_CHECKED, shapes[k][0], shapes[k][1]), 5);
			CHECK_EQ_U64(percpu_slot(BPFVM_EXEC_JIT, shapes[k][0], shapes[k][1]), 5);
		}
	}
	CHECK(!sched_setaffinity(0, sizeof(was), &was));
}

/* ---- refusals and errors ----------------------------------------------------------- */

TEST_MAIN()
