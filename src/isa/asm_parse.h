/*
 * asm_parse.h - the assembler's two halves: asm.c splits the text into
 * lines, strips comments, llvm-objdump's columns and labels, and resolves
 * labels; asm_line.c turns the instruction text of one line into slots,
 * in whichever of the two syntaxes the line is written.
 */
#ifndef BPFVM_ISA_ASM_PARSE_H
#define BPFVM_ISA_ASM_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bpfvm/isa.h>

/* Which field a label operand fills once the label's slot is known. */
enum asm_ref_field { ASM_REF_NONE, ASM_REF_OFF, ASM_REF_IMM };

struct asm_ref {
	const char *name;
	size_t len;
	size_t col;          /* 1-based column of the name */
	uint8_t field;       /* enum asm_ref_field */
};

struct asm_insn {
	struct bpfvm_insn slot[2];
	unsigned nslots;
	struct asm_ref ref;
};

struct asm_error {
	size_t col;          /* 1-based */
	char msg[200];
};

/*
 * Assemble the instruction in line[start, end) (no comment, label or
 * objdump column left in it).  Columns in errors count from line[0].
 * Returns 0, or -EINVAL with err filled.
 */
int asm_parse_insn(const char *line, size_t start, size_t end, struct asm_insn *out,
		   struct asm_error *err);

/* Identifier characters: labels, mnemonics, registers. */
static inline bool asm_ident_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '.';
}

static inline bool asm_ident_char(char c)
{
	return asm_ident_start(c) || (c >= '0' && c <= '9');
}

static inline bool asm_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\v' || c == '\f';
}

#endif
