/*
 * fuzz_interp.c - libFuzzer target for the checked interpreter.  The input,
 * read as 8-byte instruction slots, is a program; if bpfvm_prog__new takes
 * it, the checked interpreter runs it over a small heap buffer with an
 * instruction limit.  The checked mode promises to stop every access
 * outside the stack and the buffer, every read of an unwritten register
 * and every endless loop with an error, so no input may crash, hang, leak
 * or trip AddressSanitizer/UBSan.
 *
 *   make fuzz && build/fuzz/fuzz_interp -max_len=4096 -max_total_time=120 CORPUS_DIR
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <bpfvm/bpfvm.h>

#define MEM_SIZE 64
#define INSN_LIMIT 100000
#define MAX_SLOTS 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t cnt = size / sizeof(struct bpfvm_insn);
	char logbuf[512];
	struct bpfvm_log log = { logbuf, sizeof(logbuf), 0 };
	BPFVM_OPTS(bpfvm_prog_opts, popts, .name = "fuzz", .log = &log);
	BPFVM_OPTS(bpfvm_run_opts, ropts, .mode = BPFVM_EXEC_CHECKED, .insn_limit = INSN_LIMIT,
		   .log = &log);
	struct bpfvm_insn *insns;
	struct bpfvm_prog *prog;
	struct bpfvm *vm;
	uint8_t *mem;

	if (cnt == 0 || cnt > MAX_SLOTS)
		return 0;
	/* Copies of exactly the right size, so that ASan sees any overrun. */
	insns = malloc(cnt * sizeof(*insns));
	mem = malloc(MEM_SIZE);
	/* A fresh instance an input: nothing carries over from one to the next. */
	vm = bpfvm__new(NULL);
	if (!insns || !mem || !vm)
		abort();
	memcpy(insns, data, cnt * sizeof(*insns));
	/* The memory starts as the input's first bytes: pointers, lengths and
	 * offsets the program reads from it are then under the fuzzer's control. */
	memset(mem, 0, MEM_SIZE);
	memcpy(mem, data, size < MEM_SIZE ? size : MEM_SIZE);
	prog = bpfvm_prog__new(vm, insns, cnt, &popts);
	free(insns); /* the program keeps its own copy */
	if (prog) {
		bpfvm_log__reset(&log);
		bpfvm_prog__run(prog, mem, MEM_SIZE, &ropts);
	}
	bpfvm__destroy(vm);
	free(mem);
	return 0;
}
