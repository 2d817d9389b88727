/*
 * fuzz_asm.c - libFuzzer target for the assembler.  The input is assembly
 * text (any bytes); whatever assembles is disassembled in both syntaxes
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

#include "isa/disasm.h"
#include "isa/opcode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The text of slot idx must assemble back to the same slots. */
static void check_round_trip(const struct bpfvm_insn *insns, size_t cnt, size_t idx,
			     enum bpfvm_syntax syntax)
{
	char text[256];
	struct bpfvm_insn *again = NULL;
	size_t n = 0;
	int slots = bpfvm_disasm_insn(insns, cnt, idx, syntax, text, sizeof(text));
	enum isa_op op = isa_op_of(&insns[idx]);

	if (slots <= 0)
		return;
	/* llvm-objdump's text does not say which kind of call it is. */
	if (syntax == BPFVM_SYNTAX_LLVM && (op == ISA_OP_CALL_LOCAL || op == ISA_OP_CALL_KFUNC))
		return;
	if (bpfvm_asm(text, strlen(text), "round-trip", &again, &n, NULL) ||
	    n != (size_t)slots || memcmp(again, &insns[idx], n * sizeof(*again))) {
		fprintf(stderr, "round trip of slot %zu failed: '%s'\n", idx, text);
		abort();
	}
	free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char logbuf[512], buf[256];
	struct bpfvm_log log = { logbuf, sizeof(logbuf), 0 };
	struct bpfvm_insn *insns = NULL;
	size_t cnt = 0;
	/* A copy of exactly the input's size, so that ASan sees any overrun. */
	char *text = malloc(size ? size : 1);

	if (!text)
		return 0;
	memcpy(text, data, size);
	if (bpfvm_asm(text, size, "fuzz", &insns, &cnt, &log) == 0) {
		for (size_t i = 0; i < cnt; i++) {
			for (int syntax = 0; syntax < 2; syntax++) {
				bpfvm_disasm_insn(insns, cnt, i, (enum bpfvm_syntax)syntax, buf, sizeof(buf));
				disasm_insn(insns, cnt, i, (enum bpfvm_syntax)syntax, DISASM_OBJDUMP19, NULL,
					    buf, sizeof(buf));
				check_round_trip(insns, cnt, i, (enum bpfvm_syntax)syntax);
			}
		}
		free(insns);
	}
	free(text);
	return 0;
}
