/*
 * disasm_slot.h - what fuzz_asm and fuzz_decode check of every slot of a
 * program: it disassembles in every syntax, strictly and as llvm-objdump
 * 19 does, without a fault; and in the two syntaxes the assembler reads,
 * its text assembles back to the same slots.
 */
#ifndef BPFVM_FUZZ_DISASM_SLOT_H
#define BPFVM_FUZZ_DISASM_SLOT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpfvm/bpfvm.h>

#include "isa/disasm.h"
#include "isa/opcode.h"

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
	if (bpfvm_asm(text, strlen(text), &again, &n, NULL) ||
	    n != (size_t)slots || memcmp(again, &insns[idx], n * sizeof(*again))) {
		fprintf(stderr, "round trip of slot %zu failed: '%s'\n", idx, text);
		abort();
	}
	free(again);
}

static void disasm_slot(const struct bpfvm_insn *insns, size_t cnt, size_t idx)
{
	char buf[256];

	for (int s = BPFVM_SYNTAX_LLVM; s <= BPFVM_SYNTAX_KERNEL; s++) {
		enum bpfvm_syntax syntax = (enum bpfvm_syntax)s;

		bpfvm_disasm_insn(insns, cnt, idx, syntax, buf, sizeof(buf));
		disasm_insn(insns, cnt, idx, syntax, DISASM_OBJDUMP19, NULL, buf, sizeof(buf));
		if (syntax != BPFVM_SYNTAX_KERNEL) /* output only: nothing reads it */
			check_round_trip(insns, cnt, idx, syntax);
	}
}

#endif
