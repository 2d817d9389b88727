/*
 * test_fuzz_regress.c - the smallest programs that made tests/fuzz/
 * crash or hang the library, one test each, so that a bug once found
 * stays fixed.  Each test says which fuzz target found it and what went
 * wrong.  Programs that could crash or hang run in a child process.
 */
#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpfvm/bpfvm.h>

#include "test.h"

static char logbuf[4096];

/* bpfvm_prog__new on insns; the program, or NULL with the reason in logbuf. */
static struct bpfvm_prog *load(struct bpfvm *vm, const struct bpfvm_insn *insns, size_t cnt)
{
	struct bpfvm_log log = { logbuf, sizeof(logbuf), 0 };
	BPFVM_OPTS(bpfvm_prog_opts, opts, .name = "regress", .log = &log);

	logbuf[0] = 0;
	return bpfvm_prog__new(vm, insns, cnt, &opts);
}

/*
 * fuzz_interp: an lddw into r13.  The decoder checked the registers of
 * every instruction but lddw, so the program was accepted and the
 * interpreter, checked mode included, wrote reg[13], past the end of its
 * 11 registers on the C stack.  The kernel says "R13 is invalid".
 */
TEST(lddw_into_invalid_register)
{
	const struct bpfvm_insn insns[] = {
		BPFVM_LD_IMM64_RAW(13, 0, 0x1122334455667788ull),
		BPFVM_MOV64_IMM(0, 0),
		BPFVM_EXIT_INSN(),
	};
	struct bpfvm *vm = bpfvm__new(NULL);
	struct bpfvm_prog *prog;

	CHECK(vm != NULL);
	prog = load(vm, insns, sizeof(insns) / sizeof(insns[0]));
	/* Not run when accepted: the run would write outside the register file. */
	CHECK(prog == NULL);
	if (!prog) {
		CHECK_EQ_INT(errno, EINVAL);
		CHECK_CONTAINS(logbuf, "R13 is invalid");
	}
	bpfvm__destroy(vm);
}

/*
 * Run insns checked over mem in a child process, which may hang or crash
 * where the bug is back.  Returns "ok" when the run ended with an error
 * (what these programs must get), else what happened.
 */
static const char *run_checked_in_child(const struct bpfvm_insn *insns, size_t cnt, void *mem,
					size_t len)
{
	static char what[128];
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	pid_t pid;
	int status;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return "fork failed";
	if (pid == 0) {
		struct bpfvm *vm = bpfvm__new(NULL);
		struct bpfvm_prog *prog = vm ? load(vm, insns, cnt) : NULL;
		BPFVM_OPTS(bpfvm_run_opts, o, .mode = BPFVM_EXEC_CHECKED, .insn_limit = 100000);

		/* refused outright, or stopped with an error: both are fine */
		_exit(!prog || bpfvm_prog__run(prog, mem, len, &o) < 0 ? 0 : 1);
	}
	/* 3 s is ages for a handful of instructions */
	for (int i = 0; i < 300; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid) {
			if (WIFSIGNALED(status))
				snprintf(what, sizeof(what), "killed by signal %d", WTERMSIG(status));
			else
				snprintf(what, sizeof(what), "%s", WEXITSTATUS(status) ? "ran to the end "
					 "without an error" : "ok");
			return what;
		}
		nanosleep(&tick, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return "still running after 3 s: it hangs";
}

/*
 * fuzz_interp: `call bpf_spin_lock` with r1 = the input memory, whose first
 * word was not 0.  The helper took any writable word for a lock and spun
 * until it read 0, which no one would ever write: the run hung inside the
 * helper, where the instruction limit cannot stop it.  The kernel's
 * verifier allows bpf_spin_lock only on the bpf_spin_lock field of a map
 * value; a checked run must refuse the rest.
 */
TEST(spin_lock_on_a_word_that_is_not_a_lock)
{
	const struct bpfvm_insn insns[] = {
		BPFVM_CALL_HELPER(93), /* bpf_spin_lock(r1 = mem) */
		BPFVM_EXIT_INSN(),
	};
	uint32_t mem[4] = { 0x85, 0, 0, 0 };

	CHECK_STR(run_checked_in_child(insns, sizeof(insns) / sizeof(insns[0]), mem, sizeof(mem)),
		  "ok");
}

/*
 * The same bug, taken from the other side: a program that locks one lock
 * twice waits for itself forever.  The kernel says "Locking two
 * bpf_spin_locks are not allowed"; a checked run must stop with an error.
 */
TEST(spin_lock_taken_twice)
{
	const struct bpfvm_insn insns[] = {
		BPFVM_MOV64_REG(6, 1),
		BPFVM_CALL_HELPER(93),
		BPFVM_MOV64_REG(1, 6),
		BPFVM_CALL_HELPER(93),
		BPFVM_MOV64_IMM(0, 0),
		BPFVM_EXIT_INSN(),
	};
	uint32_t mem[4] = { 0 };

	CHECK_STR(run_checked_in_child(insns, sizeof(insns) / sizeof(insns[0]), mem, sizeof(mem)),
		  "ok");
}

TEST_MAIN()
