/*
 * asm_parse.h - inside the assembler.  asm.c splits the text into lines,
 * strips comments, llvm-objdump's columns and labels, and resolves labels;
 * asm_line.c picks the syntax of a line's instruction and holds what the
 * two parsers share; asm_llvm.c and asm_conf.c turn the instruction text
 * into slots.
 */
#ifndef BPFVM_ISA_ASM_PARSE_H
#define BPFVM_ISA_ASM_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bpfvm/isa.h>

#include "opcode.h"

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
 * objdump column left in it), in whichever syntax it is written.
 * Columns in errors count from line[0].  Returns 0, or -EINVAL with err
 * filled.  The two syntaxes' parsers, which it picks between:
 */
int asm_parse_insn(const char *line, size_t start, size_t end, struct asm_insn *out,
		   struct asm_error *err);
int asm_parse_llvm(const char *line, size_t start, size_t end, struct asm_insn *out,
		   struct asm_error *err);
int asm_parse_conformance(const char *line, size_t start, size_t end, struct asm_insn *out,
			  struct asm_error *err);

/* ---- Shared by both parsers (asm_line.c) ---- */

struct asm_num {
	bool neg;
	bool hex;
	bool overflow;
	uint64_t mag;    /* the magnitude; the sign is neg */
	size_t end;      /* where the number ends */
};

/*
 * [+-] (0x hex | decimal) at s[pos].  Returns 1 for a number, 0 if there
 * is none, -1 for a malformed one ("0x", "12ab").
 */
int asm_scan_num(const char *s, size_t pos, size_t end, struct asm_num *n);
/*
 * A 32-bit immediate: decimal must fit int32; hex may also be written
 * unsigned up to 0xffffffff (the bit pattern), as the conformance suite
 * writes masks.
 */
bool asm_num_i32(const struct asm_num *n, int32_t *v);
/* lddw's constant: int64, or uint64 written positive. */
bool asm_num_i64(const struct asm_num *n, int64_t *v);
/* A signed value in [lo, hi], written with its sign (offsets, src). */
bool asm_num_range(const struct asm_num *n, int64_t lo, int64_t hi, int64_t *v);

size_t asm_skip_blanks(const char *s, size_t pos, size_t end);
/* The end of the identifier at pos (pos itself if there is none). */
size_t asm_scan_ident(const char *s, size_t pos, size_t end);
/* Length of the token at pos, for quoting it in a message. */
int asm_token_len(const char *s, size_t pos, size_t end);
__attribute__((format(printf, 3, 4))) void asm_set_error(struct asm_error *err, size_t pos,
							 const char *fmt, ...);

/* Set the opcode and the field that selects the row among its variants. */
void asm_encode_op(struct asm_insn *out, enum isa_op op);
/* Record a label operand at s[pos, pos + len) for the field. */
void asm_set_ref(struct asm_insn *out, const char *s, size_t pos, size_t len, uint8_t field);

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
