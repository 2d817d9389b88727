/*
 * fuzz_decode.c - libFuzzer target for the decoder, the disassembler and
 * the structural validator.  The input, read as 8-byte slots, is decoded
 * at every slot (isa_decode), disassembled in every syntax and both
 * modes, and every slot that decodes must assemble back to the same bytes
 * from its text; then bpfvm_prog__new checks it as a program.
 *
 *   make fuzz && build/fuzz/fuzz_decode -max_len=4096 -max_total_time=60 CORPUS_DIR
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpfvm/bpfvm.h>

#include "disasm_slot.h"
#include "isa/opcode.h"

#define MAX_SLOTS 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t cnt = size / sizeof(struct bpfvm_insn);
	char logbuf[512], why[128];
	struct bpfvm_log log = { logbuf, sizeof(logbuf), 0 };
	BPFVM_OPTS(bpfvm_prog_opts, opts, .name = "fuzz", .log = &log);
	struct bpfvm_insn *insns;
	struct bpfvm_prog *prog;
	struct bpfvm *vm;

	if (cnt == 0 || cnt > MAX_SLOTS)
		return 0;
	/* A copy of exactly the right size, so that ASan sees any overrun. */
	insns = malloc(cnt * sizeof(*insns));
	if (!insns)
		return 0;
	memcpy(insns, data, cnt * sizeof(*insns));
	for (size_t i = 0; i < cnt; i++) {
		isa_decode(insns, cnt, i, why, sizeof(why));
		disasm_slot(insns, cnt, i);
	}
	vm = bpfvm__new(NULL);
	if (vm) {
		prog = bpfvm_prog__new(vm, insns, cnt, &opts);
		if (prog)
			bpfvm_prog__destroy(prog);
		bpfvm__destroy(vm);
	}
	free(insns);
	return 0;
}
