/*
 * fuzz_asm.c - libFuzzer target for the assembler.  The input is assembly
 * text (any bytes); whatever assembles is disassembled in every syntax
 * and both modes, and every slot that decodes must assemble back to the
 * same bytes from its text (where the llvm text keeps every field).  No
 * input may crash, leak, overrun or trip UBSan.
 *
 *   make fuzz && build/fuzz/fuzz_asm -max_len=2048 -max_total_time=60 CORPUS_DIR
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpfvm/bpfvm.h>

#include "disasm_slot.h"
#include "isa/opcode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char logbuf[512];
	struct bpfvm_log log = { logbuf, sizeof(logbuf), 0 };
	struct bpfvm_insn *insns = NULL;
	size_t cnt = 0;
	/* A copy of exactly the input's size, so that ASan sees any overrun. */
	char *text = malloc(size ? size : 1);

	if (!text)
		return 0;
	memcpy(text, data, size);
	if (bpfvm_asm(text, size, &insns, &cnt,
		      &(struct bpfvm_asm_opts){ .sz = sizeof(struct bpfvm_asm_opts),
						.filename = "fuzz", .log = &log }) == 0) {
		for (size_t i = 0; i < cnt; i++) {
			disasm_slot(insns, cnt, i);
		}
		free(insns);
	}
	free(text);
	return 0;
}
