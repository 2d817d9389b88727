/*
 * test_verifier_regress.c - verifier bugs that the differential test
 * against the kernel found (tests/kernel/test_kernel_diff.c, bpfvm's
 * verifier on the kernel's accepted programs, then the JIT on its facts),
 * each pinned by the smallest program that showed it.
 */
#include <errno.h>

#include <bpfvm/bpfvm.h>

#include "test.h"

#define N(ARR) (sizeof(ARR) / sizeof((ARR)[0]))

/* Verify insns for bpfvm_prog__run's convention (r1 -> 16 bytes); r0 of each mode on mem. */
static int verify_and_run(const struct bpfvm_insn *insns, size_t cnt, uint32_t flags,
			  uint8_t mem[16], uint64_t r0[3])
{
	static const enum bpfvm_exec modes[3] = { BPFVM_EXEC_CHECKED, BPFVM_EXEC_UNCHECKED,
						  BPFVM_EXEC_JIT };
	struct bpfvm *vm = bpfvm__new(NULL);
	char msg[4096] = "";
	struct bpfvm_log log = { msg, sizeof(msg), 0 };
	BPFVM_OPTS(bpfvm_prog_opts, popts, .name = "regress", .log = &log);
	BPFVM_OPTS(bpfvm_verify_opts, vopts, .flags = BPFVM_VERIFY_MEM | flags, .mem_size = 16,
		   .log = &log);
	struct bpfvm_prog *prog = bpfvm_prog__new(vm, insns, cnt, &popts);
	int err = prog ? bpfvm_prog__verify(prog, &vopts) : -EINVAL;

	for (int m = 0; !err && m < 3; m++) {
		uint8_t copy[16];
		BPFVM_OPTS(bpfvm_run_opts, ropts, .mode = modes[m], .log = &log);

		memcpy(copy, mem, sizeof(copy));
		err = bpfvm_prog__run(prog, copy, sizeof(copy), &ropts);
		r0[m] = ropts.retval;
	}
	if (err)
		printf("# %s\n", msg);
	bpfvm__destroy(vm);
	return err;
}

/*
 * A one-byte read of stack bytes known to be zero: the end of the read,
 * off + size, was computed in 32-bit unsigned arithmetic (-2 + 1 became
 * 4294967295) and the walk over the bytes ran off the stack.
 */
TEST(narrow_read_of_zeroed_stack)
{
	const struct bpfvm_insn insns[] = {
		BPFVM_ST_MEM(BPFVM_DW, 10, -8, 0),
		BPFVM_LDX_MEM(BPFVM_B, 0, 10, -2),
		BPFVM_EXIT_INSN(),
	};
	uint8_t mem[16] = { 0 };
	uint64_t r0[3];

	CHECK_EQ_INT(verify_and_run(insns, N(insns), 0, mem, r0), 0);
	CHECK_EQ_U64(r0[0], 0);
}

/*
 * Precision through a spill narrower than 8 bytes.  On one path fp-8
 * holds 2; on the other a 4-byte store of r2 replaces its low half.  The
 * branch after the fill is decided by the filled value, so the slot must
 * be precise in the checkpoint at the join, as the kernel marks any slot
 * whose last byte is a spill; bpfvm marked only 8-byte spills, pruned the
 * second path at the join and took the code only it reaches for dead (the
 * JIT then left it out).
 */
TEST(precision_through_a_narrow_spill)
{
	const struct bpfvm_insn insns[] = {
		BPFVM_LDX_MEM(BPFVM_B, 3, 1, 0),
		BPFVM_LD_IMM64_RAW(2, 0, 0xacd7465565aae1e2ull),
		BPFVM_ST_MEM(BPFVM_DW, 10, -8, 2),
		BPFVM_JMP_IMM(BPFVM_JEQ, 3, 0, 1),
		BPFVM_STX_MEM(BPFVM_W, 10, 2, -8),
		BPFVM_MOV64_IMM(0, 0), /* the join */
		BPFVM_LDX_MEM(BPFVM_W, 9, 10, -8),
		BPFVM_MOV64_IMM(4, 0x4181d75c),
		BPFVM_JMP_REG(BPFVM_JSLT, 4, 9, 2),
		BPFVM_MOV64_IMM(0, 7), /* only when fp-8 still holds 2 */
		BPFVM_EXIT_INSN(),
		BPFVM_MOV64_IMM(0, 9),
		BPFVM_EXIT_INSN(),
	};

	for (uint8_t first = 0; first <= 1; first++) {
		uint8_t mem[16] = { first };
		uint64_t r0[3];

		CHECK_EQ_INT(verify_and_run(insns, N(insns), BPFVM_VERIFY_STATE_FREQ, mem, r0), 0);
		for (int m = 0; m < 3; m++)
			CHECK_EQ_U64(r0[m], first ? 9 : 7);
	}
}

/*
 * A sign-extending fill of a spilled register no wider than the load kept
 * the register's id, though the loaded value (sign-extended) is not the
 * slot's (zero-extended): a branch on the load then narrowed the slot to
 * negative values, the branch on the slot's 8 bytes was decided, and the
 * JIT's code for the other side was left out.  Linux 6.18 does the same
 * (test_kernel_diff's kernel_ldsx_fill_id); the ISA answer is 1.
 */
TEST(sign_extending_fill_is_not_the_slot)
{
	const struct bpfvm_insn insns[] = {
		BPFVM_LDX_MEM(BPFVM_W, 6, 1, 0),
		BPFVM_ALU32_IMM(BPFVM_OR, 6, (int32_t)0x80000000),
		BPFVM_STX_MEM(BPFVM_DW, 10, 6, -8),
		BPFVM_RAW_INSN(BPFVM_LDX | BPFVM_MEMSX | BPFVM_W, 7, 10, -8, 0),
		BPFVM_JMP_IMM(BPFVM_JSGT, 7, -5, 4),
		BPFVM_LDX_MEM(BPFVM_DW, 8, 10, -8),
		BPFVM_JMP_IMM(BPFVM_JSLT, 8, 0, 2),
		BPFVM_MOV64_IMM(0, 1),
		BPFVM_EXIT_INSN(),
		BPFVM_MOV64_IMM(0, 2),
		BPFVM_EXIT_INSN(),
	};
	uint8_t mem[16] = { 1 };
	uint64_t r0[3];

	CHECK_EQ_INT(verify_and_run(insns, N(insns), 0, mem, r0), 0);
	for (int m = 0; m < 3; m++)
		CHECK_EQ_U64(r0[m], 1);
}

TEST_MAIN()
