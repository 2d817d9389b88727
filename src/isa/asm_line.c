/*
 * asm_line.c - what both assembly syntaxes share: numbers, identifiers,
 * error messages, filling in an instruction; and which syntax a line is
 * written in.  A line is in the conformance syntax when it names a
 * register with "%r", or starts with a mnemonic only that syntax has;
 * otherwise it is llvm-objdump's (asm_llvm.c, asm_conf.c).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "asm_parse.h"
#include "opcode.h"

/* ---- Numbers ------------------------------------------------------------- */

static int digit_value(char c, bool hex)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (hex && c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (hex && c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int asm_scan_num(const char *s, size_t pos, size_t end, struct asm_num *n)
{
	size_t p = pos, digits = 0;
	int d;

	memset(n, 0, sizeof(*n));
	if (p < end && (s[p] == '+' || s[p] == '-'))
		n->neg = s[p++] == '-';
	if (p + 1 < end && s[p] == '0' && (s[p + 1] == 'x' || s[p + 1] == 'X')) {
		n->hex = true;
		p += 2;
	}
	for (; p < end && (d = digit_value(s[p], n->hex)) >= 0; p++, digits++) {
		uint64_t base = n->hex ? 16 : 10;
		if (n->mag > (UINT64_MAX - (uint64_t)d) / base)
			n->overflow = true;
		n->mag = n->mag * base + (uint64_t)d;
	}
	n->end = p;
	if (!digits)
		return n->hex ? -1 : 0;
	return p < end && asm_ident_char(s[p]) ? -1 : 1;
}

bool asm_num_i32(const struct asm_num *n, int32_t *v)
{
	uint64_t limit = n->neg ? 0x80000000u : n->hex ? 0xffffffffu : 0x7fffffffu;

	if (n->overflow || n->mag > limit)
		return false;
	*v = (int32_t)(uint32_t)(n->neg ? 0 - n->mag : n->mag);
	return true;
}

bool asm_num_i64(const struct asm_num *n, int64_t *v)
{
	if (n->overflow || (n->neg && n->mag > (uint64_t)1 << 63))
		return false;
	*v = (int64_t)(n->neg ? 0 - n->mag : n->mag);
	return true;
}

bool asm_num_range(const struct asm_num *n, int64_t lo, int64_t hi, int64_t *v)
{
	if (n->overflow || n->mag > (uint64_t)1 << 62)
		return false;
	*v = n->neg ? -(int64_t)n->mag : (int64_t)n->mag;
	return *v >= lo && *v <= hi;
}
/* ---- Errors ----------------------------------------------------------- */

int asm_token_len(const char *s, size_t pos, size_t end)
{
	size_t p = pos;

	while (p < end && !asm_blank(s[p]) && s[p] != ',' && p - pos < 40)
		p++;
	if (p == pos && p < end)
		p++;
	return (int)(p - pos);
}

void asm_set_error(struct asm_error *err, size_t pos, const char *fmt, ...)
{
	va_list ap;

	err->col = pos + 1;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}
/* ---- Filling an instruction ------------------------------------------- */

void asm_encode_op(struct asm_insn *out, enum isa_op op)
{
	const struct isa_opinfo *info = &isa_ops[op];
	struct bpfvm_insn *in = &out->slot[0];

	in->code = info->code;
	if (info->vfield == V_OFF)
		in->off = (int16_t)info->vvalue;
	else if (info->vfield == V_IMM)
		in->imm = info->vvalue;
	else if (info->vfield == V_SRC)
		in->src_reg = (uint8_t)info->vvalue;
	out->nslots = isa_op_slots(op);
}

void asm_set_ref(struct asm_insn *out, const char *s, size_t pos, size_t len, uint8_t field)
{
	out->ref.name = s + pos;
	out->ref.len = len;
	out->ref.col = pos + 1;
	out->ref.field = field;
}

size_t asm_skip_blanks(const char *s, size_t pos, size_t end)
{
	while (pos < end && asm_blank(s[pos]))
		pos++;
	return pos;
}

size_t asm_scan_ident(const char *s, size_t pos, size_t end)
{
	size_t p = pos;

	if (p < end && asm_ident_start(s[p]))
		while (p < end && asm_ident_char(s[p]))
			p++;
	return p;
}
/* ---- Which syntax ------------------------------------------------------ */

static bool is_conformance_word(const char *w, size_t len)
{
	if (len >= 4 && !memcmp(w, "swap", 4))
		return true;
	for (unsigned op = 0; op < ISA_OP_COUNT; op++) {
		const char *mn = isa_ops[op].mnemonic;
		if (strlen(mn) >= len && !memcmp(mn, w, len) && (mn[len] == '\0' || mn[len] == ' '))
			return true;
	}
	return false;
}

static bool word_is(const char *s, size_t p, size_t q, const char *w)
{
	return q - p == strlen(w) && !memcmp(s + p, w, q - p);
}

/*
 * llvm-objdump's syntax never writes "%r" (its only '%' is in "%=").  Of
 * the words both syntaxes start lines with, "lock" and "call" take
 * different operands; "exit", "callx" and "may_goto" parse the same
 * either way.
 */
static bool is_conformance_line(const char *s, size_t start, size_t end)
{
	size_t p = asm_scan_ident(s, start, end), q = asm_skip_blanks(s, p, end);
	size_t r = asm_scan_ident(s, q, end);

	if (memmem(s + start, end - start, "%r", 2))
		return true;
	if (word_is(s, start, p, "lock"))
		return q >= end || s[q] != '*';
	if (word_is(s, start, p, "call"))
		return word_is(s, q, r, "local") || word_is(s, q, r, "kfunc") ||
		       word_is(s, q, r, "runtime") || word_is(s, q, r, "helper");
	if (word_is(s, start, p, "exit") || word_is(s, start, p, "callx") ||
	    word_is(s, start, p, "may_goto"))
		return false;
	return p > start && is_conformance_word(s + start, p - start);
}

int asm_parse_insn(const char *line, size_t start, size_t end, struct asm_insn *out,
		   struct asm_error *err)
{
	if (is_conformance_line(line, start, end))
		return asm_parse_conformance(line, start, end, out, err);
	return asm_parse_llvm(line, start, end, out, err);
}
