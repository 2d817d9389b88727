/*
 * test_jit_safety.c - what the JIT refuses and how, that it runs only
 * trusted programs, that a failed code allocation is an error, that code
 * memory is never writable and executable (kept for the next compilation
 * too), and that blinding hides immediates.
 */
#include "jit_harness.h"

static int compile_only(const struct bpfvm_insn *insns, size_t n, uint32_t flags,
			const struct vm_jit_opts *opts, char *log, size_t loglen,
			bool *has_jit)
{
	struct bpfvm *vm = new_vm();
	struct bpfvm_log l = { log, loglen, 0 };
	BPFVM_OPTS(bpfvm_prog_opts, popts, .flags = flags, .log = &l, .name = "t");
	struct bpfvm_prog *prog;
	int err;

	log[0] = '\0';
	prog = bpfvm_prog__new(vm, insns, n, &popts);
	bpfvm__set_helper(vm, HELPER, NULL, NULL); /* gone after the program was made */
	err = prog ? vm_jit_compile(prog, opts, &l) : -1000;
	*has_jit = prog && prog->jit;
	bpfvm__destroy(vm);
	return err;
}

TEST(refuses_what_it_cannot_translate)
{
	struct bpfvm_insn kfunc[] = {
		BPFVM_MOV64_IMM(0, 0), BPFVM_RAW_INSN(BPFVM_JMP | BPFVM_CALL, 0, 2, 0, 1234),
		BPFVM_EXIT_INSN(),
	};
	struct bpfvm_insn helper[] = { BPFVM_MOV64_IMM(0, 0), BPFVM_CALL_HELPER(HELPER), BPFVM_EXIT_INSN() };
	struct bpfvm_insn map[] = { BPFVM_LD_IMM64_RAW(1, BPFVM_PSEUDO_MAP_FD, 3), BPFVM_EXIT_INSN() };
	char log[512];
	bool has;
	int err;

	CHECK_EQ_INT(compile_only(kfunc, 3, 0, NULL, log, sizeof(log), &has), -EINVAL);
	CHECK_CONTAINS(log, "instruction 1: calls kernel function (kfunc) with BTF id 1234");
	CHECK(!has);
	CHECK_EQ_INT(compile_only(helper, 3, 0, NULL, log, sizeof(log), &has), -EINVAL);
	CHECK_CONTAINS(log, "instruction 1: invalid func unknown#150");
	/* a map reference with no map: refused, when the program is made or compiled */
	err = compile_only(map, 3, 0, NULL, log, sizeof(log), &has);
	CHECK(err == -EINVAL || err == -1000);
	CHECK_CONTAINS(log, "instruction 0: ");
}

TEST(runs_only_trusted_programs)
{
	struct bpfvm_insn insns[] = { BPFVM_MOV64_IMM(0, 1), BPFVM_EXIT_INSN() };
	struct bpfvm *vm = new_vm();
	char msg[256] = "";
	struct bpfvm_log log = { msg, sizeof(msg), 0 };
	BPFVM_OPTS(bpfvm_prog_opts, popts, .name = "untrusted");
	BPFVM_OPTS(bpfvm_run_opts, ropts, .mode = BPFVM_EXEC_JIT, .log = &log);
	struct bpfvm_prog *prog = bpfvm_prog__new(vm, insns, 2, &popts);

	CHECK_EQ_INT(bpfvm_prog__run(prog, NULL, 0, &ropts), -EPERM);
	CHECK_CONTAINS(msg, "program 'untrusted' is neither verified nor trusted");
	/* compiling is allowed: it runs nothing */
	CHECK_EQ_INT(bpfvm_prog__jit(prog, &(struct bpfvm_jit_opts){ .sz = sizeof(struct bpfvm_jit_opts),
								     .log = &log }), 0);
	bpfvm__destroy(vm);
}

static void *failing_map(size_t size)
{
	(void)size;
	errno = ENOMEM;
	return MAP_FAILED;
}

TEST(failed_code_allocation_is_an_error)
{
	struct bpfvm_insn insns[] = { BPFVM_MOV64_IMM(0, 1), BPFVM_EXIT_INSN() };
	struct vm_jit_opts opts = { .map = failing_map };
	char log[512];
	bool has;

	CHECK_EQ_INT(compile_only(insns, 2, BPFVM_PROG_TRUSTED, &opts, log, sizeof(log), &has),
		     -ENOMEM);
	CHECK_CONTAINS(log, "cannot map");
	CHECK(!has);
}

/* The permissions of the mapping that holds addr, from /proc/self/maps. */
static bool mapping_perms(uintptr_t addr, char perms[5])
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	bool found = false;

	while (f && !found && fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;

		if (sscanf(line, "%lx-%lx %4s", &lo, &hi, perms) == 3 && addr >= lo && addr < hi)
			found = true;
	}
	if (f)
		fclose(f);
	return found;
}

TEST(code_is_never_writable)
{
	struct bpfvm_insn insns[] = { BPFVM_MOV64_IMM(0, 1), BPFVM_EXIT_INSN() };
	struct bpfvm *vm = new_vm();
	BPFVM_OPTS(bpfvm_prog_opts, popts, .flags = BPFVM_PROG_TRUSTED);
	struct bpfvm_prog *prog = bpfvm_prog__new(vm, insns, 2, &popts);
	const void *code;
	size_t size;
	char perms[5] = "";

	CHECK_EQ_INT(bpfvm_prog__jit(prog, NULL), 0);
	CHECK_EQ_INT(bpfvm_prog__jit_code(prog, &code, &size), 0);
	CHECK(mapping_perms((uintptr_t)code, perms));
	CHECK_STR(perms, "r-xp");
	CHECK(bpfvm_prog__jit_insn_offset(prog, 0) > 0);
	CHECK(bpfvm_prog__jit_insn_offset(prog, 2) <= (long)size);
	CHECK_EQ_INT(bpfvm_prog__jit_insn_offset(prog, 3), -EINVAL);
	bpfvm__destroy(vm);
}

/*
 * A freed program's code memory is the next compilation's (jit.c's
 * spare): the same pages, executable and not writable while they wait and
 * once written again; the new program runs its own code, and a program
 * much bigger than the kept pages gets new ones.
 */
TEST(code_memory_kept_for_the_next_compilation)
{
	struct bpfvm_insn one[] = { BPFVM_MOV64_IMM(0, 1), BPFVM_EXIT_INSN() };
	struct bpfvm_insn two[] = { BPFVM_MOV64_IMM(0, 2), BPFVM_EXIT_INSN() };
	static struct bpfvm_insn big[8001];
	struct bpfvm *vm = new_vm();
	BPFVM_OPTS(bpfvm_prog_opts, popts, .flags = BPFVM_PROG_TRUSTED);
	BPFVM_OPTS(bpfvm_run_opts, ropts, .mode = BPFVM_EXEC_JIT);
	struct bpfvm_prog *prog = bpfvm_prog__new(vm, one, 2, &popts);
	const void *code, *again;
	size_t size;
	char perms[5] = "";

	CHECK_EQ_INT(bpfvm_prog__jit(prog, NULL), 0);
	CHECK_EQ_INT(bpfvm_prog__jit_code(prog, &code, &size), 0);
	bpfvm_prog__destroy(prog);
	CHECK(mapping_perms((uintptr_t)code, perms));   /* kept, not unmapped */
	CHECK_STR(perms, "r-xp");
	prog = bpfvm_prog__new(vm, two, 2, &popts);
	CHECK_EQ_INT(bpfvm_prog__jit(prog, NULL), 0);
	CHECK_EQ_INT(bpfvm_prog__jit_code(prog, &again, &size), 0);
	CHECK(again == code);
	CHECK(mapping_perms((uintptr_t)again, perms));
	CHECK_STR(perms, "r-xp");
	CHECK_EQ_INT(bpfvm_prog__run(prog, NULL, 0, &ropts), 0);
	CHECK_EQ_U64(ropts.retval, 2);
	bpfvm_prog__destroy(prog);
	for (size_t i = 0; i < 8000; i++)
		big[i] = BPFVM_ALU64_IMM(BPFVM_ADD, 0, 1);
	big[8000] = BPFVM_EXIT_INSN();
	prog = bpfvm_prog__new(vm, big, 8001, &popts);
	CHECK_EQ_INT(bpfvm_prog__jit(prog, NULL), 0);
	CHECK_EQ_INT(bpfvm_prog__jit_code(prog, &again, &size), 0);
	CHECK(size > 8000);   /* in new pages (the kept one was too small), maybe at the same address */
	CHECK_EQ_INT(bpfvm_prog__run(prog, NULL, 0, &ropts), 0);
	CHECK_EQ_U64(ropts.retval, 8000);
	bpfvm__destroy(vm);
}

/* Blinded, no immediate of the program appears in the code as it is. */
TEST(blinding_hides_immediates)
{
	struct bpfvm_insn insns[] = {
		BPFVM_MOV64_IMM(0, 0x3c3c3c3c), BPFVM_JMP_IMM(BPFVM_JEQ, 0, 0x1e1e1e1e, 1),
		BPFVM_ALU64_IMM(BPFVM_ADD, 0, 0x5a5a5a5a), BPFVM_LD_IMM64_RAW(1, 0, 0x6b6b6b6b6b6b6b6bull),
		BPFVM_ST_MEM(BPFVM_W, 10, -8, 0x7d7d7d7d), BPFVM_ALU64_REG(BPFVM_XOR, 0, 1),
		BPFVM_EXIT_INSN(),
	};
	static const uint32_t pats[] = { 0x3c3c3c3c, 0x5a5a5a5a, 0x1e1e1e1e, 0x6b6b6b6b, 0x7d7d7d7d };

	for (int blind = 0; blind <= 1; blind++) {
		struct bpfvm *vm = new_vm();
		BPFVM_OPTS(bpfvm_prog_opts, popts,
			   .flags = BPFVM_PROG_TRUSTED | (blind ? BPFVM_PROG_JIT_BLIND : 0));
		struct bpfvm_prog *prog = bpfvm_prog__new(vm, insns, 8, &popts);
		const void *code;
		size_t size;
		unsigned found = 0;

		CHECK_EQ_INT(bpfvm_prog__jit(prog, NULL), 0);
		bpfvm_prog__jit_code(prog, &code, &size);
		for (size_t p = 0; p < sizeof(pats) / sizeof(pats[0]); p++)
			found += memmem(code, size, &pats[p], 4) != NULL;
		CHECK_EQ_INT(found, blind ? 0 : 5);
		bpfvm__destroy(vm);
	}
}

TEST_MAIN()
