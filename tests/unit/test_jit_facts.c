/*
 * test_jit_facts.c - the JIT using what the verifier proved: dead code
 * left out (and reaching it an error, not a crash), constant results as
 * moves, but not constants a pruned path never established.
 */
#include "jit_harness.h"

/*
 * A verified program (not trusted) runs on what the verifier proved: a
 * result it knows is a move of the constant, code no path runs is left
 * out.  The same program trusted gets no such help, and more code.
 */
TEST(uses_what_the_verifier_proved)
{
	struct bpfvm_insn insns[] = {
		BPFVM_MOV64_IMM(0, 0), BPFVM_MOV64_IMM(2, 7), BPFVM_MOV64_REG(3, 2),
		BPFVM_ALU64_IMM(BPFVM_MUL, 3, 6), BPFVM_MOV64_REG(4, 3),
		BPFVM_ALU64_REG(BPFVM_DIV, 4, 2), BPFVM_JMP_IMM(BPFVM_JGT, 2, 10, 2),
		BPFVM_ALU64_REG(BPFVM_ADD, 0, 4), BPFVM_EXIT_INSN(),
		BPFVM_MOV64_IMM(0, 99), BPFVM_ALU64_REG(BPFVM_MOD, 0, 3), BPFVM_EXIT_INSN(),
	};
	size_t sizes[2] = { 0, 0 };
	uint8_t mem[16] = { 0 };

	for (int verified = 0; verified <= 1; verified++) {
		struct bpfvm *vm = new_vm();
		char msg[2048] = "";
		struct bpfvm_log log = { msg, sizeof(msg), 0 };
		BPFVM_OPTS(bpfvm_prog_opts, popts, .flags = verified ? 0 : BPFVM_PROG_TRUSTED,
			   .log = &log);
		BPFVM_OPTS(bpfvm_verify_opts, vopts, .flags = BPFVM_VERIFY_MEM,
			   .mem_size = sizeof(mem), .log = &log);
		BPFVM_OPTS(bpfvm_run_opts, ropts, .mode = BPFVM_EXEC_JIT, .log = &log);
		struct bpfvm_prog *prog = bpfvm_prog__new(vm, insns, 12, &popts);
		const void *code;

		CHECK(prog != NULL);
		if (verified)
			CHECK_EQ_INT(bpfvm_prog__verify(prog, &vopts), 0);
		CHECK_EQ_INT(bpfvm_prog__run(prog, mem, sizeof(mem), &ropts), 0);
		CHECK_EQ_U64(ropts.retval, 6);
		CHECK_EQ_INT(bpfvm_prog__jit_code(prog, &code, &sizes[verified]), 0);
		if (verified) /* the unreachable tail is one jump to a fault stub */
			CHECK(bpfvm_prog__jit_insn_offset(prog, 11) - bpfvm_prog__jit_insn_offset(prog, 9) == 5);
		if (test_failed_now)
			printf("     ... %s\n", msg);
		bpfvm__destroy(vm);
	}
	CHECK(sizes[1] < sizes[0]);
}

/*
 * A constant seen after a pruning point is not a fact: the path pruned
 * there may hold another value in a register that was not precise (r3 is
 * 7 on the path walked first, 5 on the one pruned at the join), and code
 * built on "r4 is 8" would return 8 where the program returns 6.
 */
TEST(constants_after_pruning_are_not_facts)
{
	struct bpfvm_insn insns[] = {
		BPFVM_LDX_MEM(BPFVM_B, 2, 1, 0),
		BPFVM_MOV64_IMM(3, 5),
		BPFVM_JMP_IMM(BPFVM_JEQ, 2, 0, 1),
		BPFVM_MOV64_IMM(3, 7),
		BPFVM_MOV64_REG(4, 3), /* the join: a prune point */
		BPFVM_ALU64_IMM(BPFVM_ADD, 4, 1),
		BPFVM_MOV64_REG(0, 4),
		BPFVM_EXIT_INSN(),
	};

	for (uint8_t first = 0; first <= 1; first++) {
		struct bpfvm *vm = new_vm();
		char msg[2048] = "";
		struct bpfvm_log log = { msg, sizeof(msg), 0 };
		BPFVM_OPTS(bpfvm_prog_opts, popts, .log = &log);
		uint8_t mem[16] = { first };
		BPFVM_OPTS(bpfvm_verify_opts, vopts,
			   .flags = BPFVM_VERIFY_MEM | BPFVM_VERIFY_STATE_FREQ, /* a checkpoint at the join */
			   .mem_size = sizeof(mem), .log = &log);
		struct bpfvm_prog *prog = bpfvm_prog__new(vm, insns, sizeof(insns) / sizeof(insns[0]),
							  &popts);

		CHECK(prog != NULL);
		CHECK_EQ_INT(bpfvm_prog__verify(prog, &vopts), 0);
		for (int m = 0; m < 3; m++) {
			BPFVM_OPTS(bpfvm_run_opts, ropts, .log = &log,
				   .mode = m == 0 ? BPFVM_EXEC_CHECKED
					   : m == 1 ? BPFVM_EXEC_UNCHECKED : BPFVM_EXEC_JIT);

			CHECK_EQ_INT(bpfvm_prog__run(prog, mem, sizeof(mem), &ropts), 0);
			CHECK_EQ_U64(ropts.retval, first ? 8 : 6);
		}
		if (test_failed_now)
			printf("     ... %s\n", msg);
		bpfvm__destroy(vm);
	}
}

/*
 * Should a fact ever be wrong (code the verifier found unreachable runs
 * after all), the JIT's run stops with an error naming the instruction;
 * the process that embeds bpfvm goes on.  The fact is made wrong here by
 * hand, as only a verifier bug could make it.
 */
TEST(reaching_dead_code_is_an_error_not_a_crash)
{
	struct bpfvm_insn insns[] = {
		BPFVM_LDX_MEM(BPFVM_B, 2, 1, 0),
		BPFVM_MOV64_IMM(0, 1),
		BPFVM_JMP_IMM(BPFVM_JEQ, 2, 0, 1),
		BPFVM_MOV64_IMM(0, 2),
		BPFVM_EXIT_INSN(),
	};
	struct bpfvm *vm = new_vm();
	char msg[2048] = "";
	struct bpfvm_log log = { msg, sizeof(msg), 0 };
	BPFVM_OPTS(bpfvm_prog_opts, popts, .name = "deadcode", .log = &log);
	BPFVM_OPTS(bpfvm_verify_opts, vopts, .flags = BPFVM_VERIFY_MEM, .mem_size = 16, .log = &log);
	BPFVM_OPTS(bpfvm_run_opts, ropts, .mode = BPFVM_EXEC_JIT, .log = &log);
	struct bpfvm_prog *prog = bpfvm_prog__new(vm, insns, 5, &popts);
	uint8_t mem[16] = { 1 };

	CHECK(prog != NULL);
	CHECK_EQ_INT(bpfvm_prog__verify(prog, &vopts), 0);
	CHECK(prog->facts && (prog->facts->f[3].flags & FACT_SEEN));
	prog->facts->f[3].flags &= (uint8_t)~FACT_SEEN; /* a wrong proof */
	msg[0] = '\0';
	log.len = 0;
	CHECK_EQ_INT(bpfvm_prog__run(prog, mem, sizeof(mem), &ropts), -EFAULT);
	CHECK_CONTAINS(msg, "deadcode: instruction 3 (r0 = 0x2): reached code the verifier found "
			    "unreachable");
	mem[0] = 0; /* the path that skips it still runs */
	CHECK_EQ_INT(bpfvm_prog__run(prog, mem, sizeof(mem), &ropts), 0);
	CHECK_EQ_U64(ropts.retval, 1);
	bpfvm__destroy(vm);
}

/* ---- division by a constant: the magic numbers, exhaustively over divisors ------------ */

TEST_MAIN()
