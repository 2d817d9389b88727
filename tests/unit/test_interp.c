/*
 * test_interp.c - the interpreter's semantics in both modes: Linux's
 * answers for division by zero, INT_MIN / -1, shift masking, sign
 * extension and byte swaps; calls, frames and the stack budget; and the
 * checked mode's faults, each naming the instruction.
 */
#include <errno.h>

#include <bpfvm/bpfvm.h>

#include "test.h"

#define I(...) ((struct bpfvm_insn[]){ __VA_ARGS__ })
#define N(ARR) (sizeof(ARR) / sizeof((ARR)[0]))

static char logbuf[4096];

/* Run insns in mode; returns the run's status, r0 in *r0. */
static int run_mode(const struct bpfvm_insn *insns, size_t cnt, void *mem, size_t len,
		    enum bpfvm_exec mode, uint64_t *r0)
{
	struct bpfvm *vm = bpfvm__new(NULL);
	struct bpfvm_log log = { logbuf, sizeof(logbuf), 0 };
	BPFVM_OPTS(bpfvm_prog_opts, popts, .flags = BPFVM_PROG_TRUSTED, .log = &log);
	BPFVM_OPTS(bpfvm_run_opts, ropts, .mode = mode, .log = &log);
	struct bpfvm_prog *prog;
	int err;

	logbuf[0] = 0;
	prog = bpfvm_prog__new(vm, insns, cnt, &popts);
	if (!prog) {
		bpfvm__destroy(vm);
		return -1000 - errno;
	}
	err = bpfvm_prog__run(prog, mem, len, &ropts);
	*r0 = ropts.retval;
	bpfvm__destroy(vm);
	return err;
}

/* r0 after running in both modes, which must agree. */
static uint64_t run2(const struct bpfvm_insn *insns, size_t cnt)
{
	uint64_t a = 0xdead, b = 0xbeef;
	int ea = run_mode(insns, cnt, NULL, 0, BPFVM_EXEC_CHECKED, &a);
	int eb = run_mode(insns, cnt, NULL, 0, BPFVM_EXEC_UNCHECKED, &b);

	if (ea || eb)
		TEST_FAIL("run failed: checked %d, unchecked %d: %s", ea, eb, logbuf);
	if (a != b)
		TEST_FAIL("modes disagree: checked 0x%" PRIx64 ", unchecked 0x%" PRIx64, a, b);
	return a;
}

#define RUN(...) run2(I(__VA_ARGS__), N(I(__VA_ARGS__)))
#define MOV64(d, imm) BPFVM_MOV64_IMM(d, imm)
#define LD64(d, v) BPFVM_LD_IMM64_RAW(d, 0, v)
#define EXIT BPFVM_EXIT_INSN()
#define ALU64(op, d, s) BPFVM_ALU64_REG(BPFVM_##op, d, s)
#define ALU32(op, d, s) BPFVM_ALU32_REG(BPFVM_##op, d, s)
#define ALU64K(op, d, k) BPFVM_ALU64_IMM(BPFVM_##op, d, k)
#define ALU32K(op, d, k) BPFVM_ALU32_IMM(BPFVM_##op, d, k)
#define SIGNED(insn) ((struct bpfvm_insn){ .code = (insn).code, .dst_reg = (insn).dst_reg, \
		.src_reg = (insn).src_reg, .off = 1, .imm = (insn).imm })

TEST(division_by_zero)
{
	CHECK_EQ_U64(RUN(MOV64(0, 7), MOV64(1, 0), ALU64(DIV, 0, 1), EXIT), 0);
	CHECK_EQ_U64(RUN(MOV64(0, 7), MOV64(1, 0), ALU64(MOD, 0, 1), EXIT), 7);
	/* 32-bit modulo by zero keeps the low half, zero-extended */
	CHECK_EQ_U64(RUN(LD64(0, 0xffffffff00000007ull), MOV64(1, 0), ALU32(MOD, 0, 1), EXIT), 7);
	CHECK_EQ_U64(RUN(MOV64(0, -7), MOV64(1, 0), SIGNED(ALU64(DIV, 0, 1)), EXIT), 0);
	CHECK_EQ_U64(RUN(MOV64(0, -7), MOV64(1, 0), SIGNED(ALU64(MOD, 0, 1)), EXIT), (uint64_t)-7);
}

TEST(signed_overflow)
{
	CHECK_EQ_U64(RUN(LD64(0, 0x8000000000000000ull), MOV64(1, -1), SIGNED(ALU64(DIV, 0, 1)), EXIT),
		     0x8000000000000000ull);
	CHECK_EQ_U64(RUN(LD64(0, 0x8000000000000000ull), MOV64(1, -1), SIGNED(ALU64(MOD, 0, 1)), EXIT), 0);
	CHECK_EQ_U64(RUN(MOV64(0, 0), ALU32K(MOV, 0, (int32_t)0x80000000), SIGNED(ALU32K(DIV, 0, -1)), EXIT),
		     0x80000000ull);
	CHECK_EQ_U64(RUN(MOV64(0, -13), SIGNED(ALU64K(MOD, 0, 3)), EXIT), (uint64_t)-1);
	CHECK_EQ_U64(RUN(MOV64(0, -13), SIGNED(ALU32K(MOD, 0, 3)), EXIT), 0xffffffffull);
}

TEST(shift_masking)
{
	CHECK_EQ_U64(RUN(MOV64(0, 1), MOV64(1, 65), ALU64(LSH, 0, 1), EXIT), 2);
	CHECK_EQ_U64(RUN(MOV64(0, 1), MOV64(1, 33), ALU32(LSH, 0, 1), EXIT), 2);
	CHECK_EQ_U64(RUN(MOV64(0, -16), MOV64(1, 66), ALU64(ARSH, 0, 1), EXIT), (uint64_t)-4);
	CHECK_EQ_U64(RUN(MOV64(0, -16), ALU32K(ARSH, 0, 2), EXIT), 0xfffffffcull);
}

TEST(alu32_zero_extends)
{
	CHECK_EQ_U64(RUN(MOV64(0, -1), ALU32K(ADD, 0, 1), EXIT), 0);
	CHECK_EQ_U64(RUN(MOV64(0, -1), ALU32K(MOV, 0, -1), EXIT), 0xffffffffull);
	CHECK_EQ_U64(RUN(MOV64(0, 5), BPFVM_RAW_INSN(BPFVM_ALU | BPFVM_NEG, 0, 0, 0, 0), EXIT),
		     0xfffffffbull);
}

TEST(sign_extension)
{
	CHECK_EQ_U64(RUN(MOV64(1, 0x80), BPFVM_RAW_INSN(BPFVM_ALU64 | BPFVM_MOV | BPFVM_X, 0, 1, 8, 0), EXIT),
		     (uint64_t)-128);
	CHECK_EQ_U64(RUN(MOV64(1, 0x8000), BPFVM_RAW_INSN(BPFVM_ALU | BPFVM_MOV | BPFVM_X, 0, 1, 16, 0), EXIT),
		     0xffff8000ull);
	CHECK_EQ_U64(RUN(BPFVM_ST_MEM(BPFVM_W, 10, -4, -2),
			 BPFVM_RAW_INSN(BPFVM_LDX | BPFVM_MEMSX | BPFVM_W, 0, 10, -4, 0), EXIT),
		     (uint64_t)-2);
	CHECK_EQ_U64(RUN(BPFVM_ST_MEM(BPFVM_DW, 10, -8, -2), BPFVM_LDX_MEM(BPFVM_DW, 0, 10, -8), EXIT),
		     (uint64_t)-2);
}

TEST(byte_swaps)
{
	CHECK_EQ_U64(RUN(LD64(0, 0x1122334455667788ull),
			 BPFVM_RAW_INSN(BPFVM_ALU | BPFVM_END | BPFVM_TO_BE, 0, 0, 0, 16), EXIT), 0x8877);
	CHECK_EQ_U64(RUN(LD64(0, 0x1122334455667788ull),
			 BPFVM_RAW_INSN(BPFVM_ALU | BPFVM_END | BPFVM_TO_LE, 0, 0, 0, 32), EXIT), 0x55667788);
	CHECK_EQ_U64(RUN(LD64(0, 0x1122334455667788ull),
			 BPFVM_RAW_INSN(BPFVM_ALU64 | BPFVM_END, 0, 0, 0, 64), EXIT), 0x8877665544332211ull);
}

TEST(jumps_signed_and_32bit)
{
	/* -1 > 1 unsigned, not signed; 32-bit compares see only the low half */
	CHECK_EQ_U64(RUN(MOV64(1, -1), MOV64(0, 0), BPFVM_JMP_IMM(BPFVM_JGT, 1, 1, 1), EXIT,
			 MOV64(0, 1), EXIT), 1);
	CHECK_EQ_U64(RUN(MOV64(1, -1), MOV64(0, 0), BPFVM_JMP_IMM(BPFVM_JSGT, 1, 1, 1), EXIT,
			 MOV64(0, 1), EXIT), 0);
	CHECK_EQ_U64(RUN(LD64(1, 0x100000000ull), MOV64(0, 0),
			 BPFVM_RAW_INSN(BPFVM_JMP32 | BPFVM_JEQ | BPFVM_K, 1, 0, 1, 0), EXIT,
			 MOV64(0, 1), EXIT), 1);
}

TEST(atomics)
{
	/* fetch_add returns the old value in src; cmpxchg returns it in r0 */
	CHECK_EQ_U64(RUN(BPFVM_ST_MEM(BPFVM_DW, 10, -8, 40), MOV64(1, 2),
			 BPFVM_RAW_INSN(BPFVM_STX | BPFVM_ATOMIC | BPFVM_DW, 10, 1, -8, BPFVM_ADD | BPFVM_FETCH),
			 BPFVM_LDX_MEM(BPFVM_DW, 0, 10, -8), ALU64(ADD, 0, 1), EXIT), 82);
	CHECK_EQ_U64(RUN(BPFVM_ST_MEM(BPFVM_W, 10, -4, 5), MOV64(0, 5), MOV64(1, 9),
			 BPFVM_RAW_INSN(BPFVM_STX | BPFVM_ATOMIC | BPFVM_W, 10, 1, -4, BPFVM_CMPXCHG),
			 BPFVM_LDX_MEM(BPFVM_W, 2, 10, -4), ALU64K(LSH, 0, 8), ALU64(OR, 0, 2), EXIT),
		     0x509);
}

/*
 * The groups the unchecked pre-decoder fuses into one dispatch, each in
 * the shape that fuses and in near misses that must not (a jump landing
 * inside, other registers), against the checked run, which fuses nothing.
 */
#define STX(SZ, d, s, off) BPFVM_STX_MEM(BPFVM_##SZ, d, s, off)
#define GOTO(off) BPFVM_RAW_INSN(BPFVM_JMP | BPFVM_JA, 0, 0, off, 0)
#define LDX(SZ, d, s, off) BPFVM_LDX_MEM(BPFVM_##SZ, d, s, off)
TEST(superinstructions)
{
	/* a stack array, indexed as clang indexes it: mov, add K, add X, then ldx or stx */
	CHECK_EQ_U64(RUN(LD64(1, 0x1122334455667788ull), STX(DW, 10, 1, -16), MOV64(2, 3),
			 BPFVM_MOV64_REG(3, 10), ALU64K(ADD, 3, -20), ALU64(ADD, 3, 2),
			 LDX(H, 0, 3, 3), EXIT),
		     0x5566);
	CHECK_EQ_U64(RUN(MOV64(0, 0), STX(DW, 10, 0, -8), MOV64(2, 4), MOV64(4, 0x77),
			 BPFVM_MOV64_REG(3, 10), ALU64K(ADD, 3, -16), ALU64(ADD, 3, 2),
			 STX(B, 3, 4, 5), LDX(DW, 0, 10, -8), EXIT),
		     0x77ull << 8);
	/* the address register stored through itself: the value read after it is set */
	CHECK_EQ_U64(RUN(MOV64(2, 8), BPFVM_MOV64_REG(3, 10), ALU64K(ADD, 3, -24),
			 ALU64(ADD, 3, 2), STX(DW, 3, 3, 0), LDX(DW, 0, 10, -16),
			 BPFVM_ALU64_REG(BPFVM_SUB, 0, 10), EXIT),
		     (uint64_t)-16);
	CHECK_EQ_U64(RUN(MOV64(2, 8), MOV64(4, 0x55), STX(DW, 10, 4, -8),
			 BPFVM_MOV64_REG(3, 10), ALU64(ADD, 3, 2), LDX(B, 0, 3, -16), EXIT),
		     0x55);
	/* counters in memory: u32 and u64, 32- and 64-bit adds (zero-extension, wrap) */
	CHECK_EQ_U64(RUN(MOV64(1, -1), STX(DW, 10, 1, -8), LDX(W, 2, 10, -8), ALU32K(ADD, 2, 1),
			 STX(W, 10, 2, -8), LDX(DW, 0, 10, -8), ALU64(ADD, 0, 2), EXIT),
		     0xffffffff00000000ull);
	CHECK_EQ_U64(RUN(LD64(1, 0x1ffffffffull), STX(DW, 10, 1, -8), LDX(DW, 2, 10, -8),
			 ALU32K(ADD, 2, 2), STX(DW, 10, 2, -8), LDX(DW, 0, 10, -8),
			 BPFVM_ALU64_IMM(BPFVM_LSH, 0, 8), ALU64(ADD, 0, 2), EXIT),
		     0x101);
	CHECK_EQ_U64(RUN(MOV64(1, 5), STX(DW, 10, 1, -8), LDX(W, 2, 10, -8), ALU64K(ADD, 2, -6),
			 STX(W, 10, 2, -8), LDX(DW, 0, 10, -8), EXIT),
		     0xffffffffull);
	CHECK_EQ_U64(RUN(MOV64(1, 5), STX(DW, 10, 1, -8), LDX(DW, 2, 10, -8), ALU64K(ADD, 2, -6),
			 STX(DW, 10, 2, -8), LDX(DW, 0, 10, -8), ALU64(ADD, 0, 2), EXIT),
		     (uint64_t)-2);
	/* a near miss: the store goes elsewhere */
	CHECK_EQ_U64(RUN(MOV64(1, 5), STX(DW, 10, 1, -8), STX(DW, 10, 1, -16), LDX(DW, 2, 10, -8),
			 ALU64K(ADD, 2, 1), STX(DW, 10, 2, -16), LDX(DW, 0, 10, -8), EXIT),
		     5);
	/* state = K; goto: 32-bit (zero-extended) and 64-bit (sign-extended) */
	CHECK_EQ_U64(RUN(ALU32K(MOV, 0, -1), GOTO(1), MOV64(0, 0), EXIT), 0xffffffffull);
	CHECK_EQ_U64(RUN(MOV64(0, -1), GOTO(1), MOV64(0, 0), EXIT), (uint64_t)-1);
	/* a jump landing between the mov and the goto: each runs on its own */
	CHECK_EQ_U64(RUN(MOV64(0, 1), BPFVM_JMP_IMM(BPFVM_JEQ, 0, 1, 1), MOV64(0, 7),
			 GOTO(1), MOV64(0, 9), EXIT),
		     1);
	/* ... and landing inside an indexed access (at its add X) or a counter (at its store) */
	CHECK_EQ_U64(RUN(MOV64(0, 0), STX(DW, 10, 0, -8), MOV64(2, 0), MOV64(4, 6),
			 BPFVM_MOV64_REG(3, 10), ALU64K(ADD, 3, -8), BPFVM_JMP_IMM(BPFVM_JEQ, 2, 0, 2),
			 BPFVM_MOV64_REG(3, 10), ALU64K(ADD, 3, -16), ALU64(ADD, 3, 2), LDX(DW, 0, 3, 0),
			 BPFVM_JMP_IMM(BPFVM_JEQ, 2, 0, 2), LDX(DW, 4, 10, -8), ALU64K(ADD, 4, 3),
			 STX(DW, 10, 4, -8), LDX(DW, 0, 10, -8), EXIT),
		     6);
}

TEST(bpf_to_bpf_call_preserves_callee_saved)
{
	CHECK_EQ_U64(RUN(MOV64(6, 6), MOV64(1, 40),
			 BPFVM_RAW_INSN(BPFVM_JMP | BPFVM_CALL, 0, BPFVM_PSEUDO_CALL, 0, 2),
			 ALU64(ADD, 0, 6), EXIT,
			 /* callee: r0 = r1 + 1, clobbering r6 */
			 MOV64(6, 0), BPFVM_MOV64_REG(0, 1), ALU64K(ADD, 0, 1), EXIT), 47);
}

TEST(callee_gets_its_own_stack)
{
	/* the caller's stack slot survives the callee's store to its own r10-8 */
	CHECK_EQ_U64(RUN(BPFVM_ST_MEM(BPFVM_DW, 10, -8, 11),
			 BPFVM_RAW_INSN(BPFVM_JMP | BPFVM_CALL, 0, BPFVM_PSEUDO_CALL, 0, 2),
			 BPFVM_LDX_MEM(BPFVM_DW, 0, 10, -8), EXIT,
			 BPFVM_ST_MEM(BPFVM_DW, 10, -8, 99), MOV64(0, 0), EXIT), 11);
}

TEST(checked_faults_name_the_instruction)
{
	uint64_t r0;
	struct bpfvm_insn oob[] = { MOV64(1, 0x1000), BPFVM_LDX_MEM(BPFVM_W, 0, 1, 8), EXIT };
	struct bpfvm_insn uninit[] = { ALU64(OR, 0, 10), EXIT };
	struct bpfvm_insn loop[] = { MOV64(0, 0), BPFVM_JMP_IMM(BPFVM_JA, 0, 0, -1), EXIT };
	uint8_t mem[4] = { 1, 2, 3, 4 };
	struct bpfvm_insn past_end[] = { BPFVM_LDX_MEM(BPFVM_W, 0, 1, 1), EXIT };

	CHECK_EQ_INT(run_mode(oob, N(oob), NULL, 0, BPFVM_EXEC_CHECKED, &r0), -EFAULT);
	CHECK_CONTAINS(logbuf, "instruction 1");
	CHECK_CONTAINS(logbuf, "read of 4 bytes at 0x1008");
	CHECK_EQ_INT(run_mode(uninit, N(uninit), NULL, 0, BPFVM_EXEC_CHECKED, &r0), -EINVAL);
	CHECK_CONTAINS(logbuf, "R0 !read_ok");
	CHECK_EQ_INT(run_mode(loop, N(loop), NULL, 0, BPFVM_EXEC_CHECKED, &r0), -E2BIG);
	CHECK_CONTAINS(logbuf, "instructions, the limit");
	CHECK_EQ_INT(run_mode(past_end, N(past_end), mem, sizeof(mem), BPFVM_EXEC_CHECKED, &r0), -EFAULT);
	CHECK_CONTAINS(logbuf, "input [");
}

TEST(unchecked_needs_trust)
{
	struct bpfvm *vm = bpfvm__new(NULL);
	struct bpfvm_insn prog_insns[] = { MOV64(0, 1), EXIT };
	struct bpfvm_prog *prog = bpfvm_prog__new(vm, prog_insns, 2, NULL);
	BPFVM_OPTS(bpfvm_run_opts, o, .mode = BPFVM_EXEC_UNCHECKED);

	CHECK(prog != NULL);
	CHECK_EQ_INT(bpfvm_prog__run(prog, NULL, 0, &o), -EPERM);
	bpfvm__destroy(vm);
}

TEST(structure_errors)
{
	uint64_t r0;
	struct bpfvm_insn no_exit[] = { MOV64(0, 0) };
	struct bpfvm_insn bad_op[] = { BPFVM_RAW_INSN(0x8e, 0, 0, 0, 0), EXIT };
	struct bpfvm_insn into_lddw[] = { BPFVM_JMP_IMM(BPFVM_JA, 0, 0, 1), LD64(0, 1), EXIT };
	struct bpfvm_insn truncated[] = { MOV64(0, 0), EXIT, BPFVM_RAW_INSN(0x18, 0, 0, 0, 0) };
	struct bpfvm_insn out_of_range[] = { BPFVM_JMP_IMM(BPFVM_JA, 0, 0, 5), EXIT };
	struct bpfvm_insn write_fp[] = { MOV64(10, 0), EXIT };
	struct bpfvm_insn reserved[] = { BPFVM_RAW_INSN(0x95, 1, 0, 0, 0) };

	CHECK_EQ_INT(run_mode(no_exit, 1, NULL, 0, 0, &r0), -1000 - EINVAL);
	CHECK_CONTAINS(logbuf, "instruction 0: last insn is not an exit or jmp");
	CHECK_EQ_INT(run_mode(bad_op, 2, NULL, 0, 0, &r0), -1000 - EINVAL);
	CHECK_CONTAINS(logbuf, "instruction 0: unknown opcode 8e");
	CHECK_EQ_INT(run_mode(into_lddw, N(into_lddw), NULL, 0, 0, &r0), -1000 - EINVAL);
	CHECK_CONTAINS(logbuf, "jump into the middle of ldimm64 insn 1");
	CHECK_EQ_INT(run_mode(truncated, N(truncated), NULL, 0, 0, &r0), -1000 - EINVAL);
	CHECK_CONTAINS(logbuf, "instruction 2: last insn is not an exit or jmp"); /* as the kernel: it checks the end first */
	CHECK_EQ_INT(run_mode(out_of_range, 2, NULL, 0, 0, &r0), -1000 - EINVAL);
	CHECK_CONTAINS(logbuf, "jump out of range from insn 0 to 6");
	CHECK_EQ_INT(run_mode(write_fp, 2, NULL, 0, 0, &r0), -1000 - EINVAL);
	CHECK_CONTAINS(logbuf, "frame pointer is read only");
	CHECK_EQ_INT(run_mode(reserved, 1, NULL, 0, 0, &r0), -1000 - EINVAL);
	CHECK_CONTAINS(logbuf, "BPF_EXIT uses reserved fields");
	CHECK_EQ_INT(run_mode(NULL, 0, NULL, 0, 0, &r0), -1000 - EINVAL);
}

/*
 * main uses 400 bytes and calls a function using 200: 400 + 208 > 512
 * (frames rounded to 16 bytes, as the kernel's with its JIT on).
 * The stores' immediate is data: 0x100, load-acquire's code, is still a
 * store through dst, and its slot counts.
 */
TEST(stack_budget_is_shared_along_calls)
{
	static const int32_t imms[] = { 1, 0x100 };

	for (size_t k = 0; k < sizeof(imms) / sizeof(imms[0]); k++) {
		uint64_t r0;
		struct bpfvm_insn big[] = {
			BPFVM_ST_MEM(BPFVM_DW, 10, -400, imms[k]),
			BPFVM_RAW_INSN(BPFVM_JMP | BPFVM_CALL, 0, BPFVM_PSEUDO_CALL, 0, 1), EXIT,
			BPFVM_ST_MEM(BPFVM_DW, 10, -200, imms[k]), MOV64(0, 0), EXIT,
		};

		CHECK_EQ_INT(run_mode(big, N(big), NULL, 0, 0, &r0), -1000 - EINVAL);
		CHECK_CONTAINS(logbuf, "combined stack size of 2 calls is 608. Too large");
	}
}

TEST_MAIN()
