/*
 * asm_line.c - one line of assembly to one instruction.
 *
 * llvm-objdump's syntax is matched against the template of every
 * operation (syntax.c) until one fits the whole line; when none does, the
 * error names what the templates that got furthest expected there.  The
 * conformance syntax is a mnemonic looked up in opcodes.def's last column
 * and operands of the kinds its form lists.  A line is in the conformance
 * syntax when it names registers with '%', or starts with a mnemonic only
 * that syntax has.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "asm_parse.h"
#include "opcode.h"
#include "syntax.h"

/* ---- Numbers ------------------------------------------------------------- */

struct num {
	bool neg;
	bool hex;
	bool overflow;
	uint64_t mag;
	size_t end;
};

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

/*
 * [+-] (0x hex | decimal) at s[pos].  Returns 1 for a number, 0 if there
 * is none, -1 for a malformed one ("0x", "12ab").
 */
static int scan_num(const char *s, size_t pos, size_t end, struct num *n)
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

/*
 * A 32-bit immediate: decimal must fit int32; hex may also be written
 * unsigned up to 0xffffffff (the bit pattern), as the conformance suite
 * writes masks.
 */
static bool num_i32(const struct num *n, int32_t *v)
{
	uint64_t limit = n->neg ? 0x80000000u : n->hex ? 0xffffffffu : 0x7fffffffu;

	if (n->overflow || n->mag > limit)
		return false;
	*v = (int32_t)(uint32_t)(n->neg ? 0 - n->mag : n->mag);
	return true;
}

static bool num_i64(const struct num *n, int64_t *v)
{
	if (n->overflow || (n->neg && n->mag > (uint64_t)1 << 63))
		return false;
	*v = (int64_t)(n->neg ? 0 - n->mag : n->mag);
	return true;
}

/* A signed value in [lo, hi], written with its sign (offsets, src). */
static bool num_range(const struct num *n, int64_t lo, int64_t hi, int64_t *v)
{
	if (n->overflow || n->mag > (uint64_t)1 << 62)
		return false;
	*v = n->neg ? -(int64_t)n->mag : (int64_t)n->mag;
	return *v >= lo && *v <= hi;
}

/* ---- Errors ----------------------------------------------------------- */

/* Length of the token at pos, for quoting it in a message. */
static int token_len(const char *s, size_t pos, size_t end)
{
	size_t p = pos;

	while (p < end && !asm_blank(s[p]) && s[p] != ',' && p - pos < 40)
		p++;
	if (p == pos && p < end)
		p++;
	return (int)(p - pos);
}

__attribute__((format(printf, 3, 4))) static void set_error(struct asm_error *err, size_t pos,
							    const char *fmt, ...)
{
	va_list ap;

	err->col = pos + 1;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}

/*
 * The furthest point the llvm templates reached, and what they expected
 * there; or a definite error (a number out of range, r11), which wins.
 */
#define MAX_EXPECT 6
struct fail {
	size_t pos;
	struct { const char *text; size_t len; bool quote; } expect[MAX_EXPECT];
	unsigned nexpect;
	bool too_many;
	bool hard;
	struct asm_error hard_err;
};

static void expect(struct fail *f, size_t pos, const char *text, size_t len, bool quote)
{
	if (pos < f->pos)
		return;
	if (pos > f->pos) {
		f->pos = pos;
		f->nexpect = 0;
		f->too_many = false;
	}
	for (unsigned i = 0; i < f->nexpect; i++)
		if (f->expect[i].len == len && !memcmp(f->expect[i].text, text, len))
			return;
	if (f->nexpect == MAX_EXPECT) {
		f->too_many = true;
		return;
	}
	f->expect[f->nexpect].text = text;
	f->expect[f->nexpect].len = len;
	f->expect[f->nexpect++].quote = quote;
}

static void expect_str(struct fail *f, size_t pos, const char *text)
{
	expect(f, pos, text, strlen(text), false);
}

__attribute__((format(printf, 3, 4))) static void hard_fail(struct fail *f, size_t pos,
							    const char *fmt, ...)
{
	va_list ap;

	if (f->hard && f->hard_err.col >= pos + 1)
		return;
	f->hard = true;
	f->hard_err.col = pos + 1;
	va_start(ap, fmt);
	vsnprintf(f->hard_err.msg, sizeof(f->hard_err.msg), fmt, ap);
	va_end(ap);
}

static void fail_report(const struct fail *f, const char *s, size_t start, size_t end,
			struct asm_error *err)
{
	char list[160] = "";
	size_t n = 0;

	if (f->hard) {
		*err = f->hard_err;
		return;
	}
	if (f->pos == start && start < end && asm_ident_start(s[start])) {
		set_error(err, start, "unknown instruction '%.*s'", token_len(s, start, end), s + start);
		return;
	}
	if (f->too_many || !f->nexpect) {
		set_error(err, f->pos, "unexpected '%.*s'", token_len(s, f->pos, end), s + f->pos);
		return;
	}
	for (unsigned i = 0; i < f->nexpect && n < sizeof(list); i++)
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s%.*s%s",
				      i == 0 ? "" : i + 1 == f->nexpect ? " or " : ", ",
				      f->expect[i].quote ? "'" : "", (int)f->expect[i].len,
				      f->expect[i].text, f->expect[i].quote ? "'" : "");
	if (f->pos >= end)
		set_error(err, f->pos, "expected %s at the end of the line", list);
	else
		set_error(err, f->pos, "expected %s, got '%.*s'", list, token_len(s, f->pos, end),
			  s + f->pos);
}

/* ---- Filling an instruction ------------------------------------------- */

/* Set the opcode and the field that selects the row among its variants. */
static void encode_op(struct asm_insn *out, enum isa_op op)
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

static void set_ref(struct asm_insn *out, const char *s, size_t pos, size_t len, uint8_t field)
{
	out->ref.name = s + pos;
	out->ref.len = len;
	out->ref.col = pos + 1;
	out->ref.field = field;
}

static size_t skip_blanks(const char *s, size_t pos, size_t end)
{
	while (pos < end && asm_blank(s[pos]))
		pos++;
	return pos;
}

static size_t scan_ident(const char *s, size_t pos, size_t end)
{
	size_t p = pos;

	if (p < end && asm_ident_start(s[p]))
		while (p < end && asm_ident_char(s[p]))
			p++;
	return p;
}

/* ---- llvm-objdump's syntax --------------------------------------------- */

struct lmatch {
	const char *s;
	size_t pos;
	size_t end;
	enum isa_op op;
	struct asm_insn *out;
	struct fail *f;
};

/* rN / wN.  prefix: the letter printed; strict: whether it must be that. */
static bool m_reg(struct lmatch *m, char prefix, bool strict, uint8_t *reg)
{
	const char *s = m->s;
	size_t p = m->pos;
	struct num n;

	if (p >= m->end || (s[p] != 'r' && s[p] != 'w') || (strict && s[p] != prefix) ||
	    scan_num(s, p + 1, m->end, &n) != 1 || n.neg || n.hex ||
	    (p + 1 < m->end && (s[p + 1] == '+' || s[p + 1] == '-'))) {
		expect_str(m->f, p, !strict ? "a register" : prefix == 'w' ? "a w register" :
								      "an r register");
		return false;
	}
	if (n.mag >= BPFVM_NREGS) {
		hard_fail(m->f, p, "invalid register '%.*s'", (int)(n.end - p), s + p);
		return false;
	}
	*reg = (uint8_t)n.mag;
	m->pos = n.end;
	return true;
}

static bool m_same_reg(struct lmatch *m, char prefix, bool strict, uint8_t want)
{
	size_t p = m->pos;
	uint8_t reg;

	if (!m_reg(m, prefix, strict, &reg))
		return false;
	if (reg != want) {
		expect_str(m->f, p, "the same register again");
		return false;
	}
	return true;
}

static bool m_number(struct lmatch *m, struct num *n)
{
	int r = scan_num(m->s, m->pos, m->end, n);

	if (r == 0)
		expect_str(m->f, m->pos, "a number");
	else if (r < 0)
		hard_fail(m->f, m->pos, "malformed number '%.*s'", token_len(m->s, m->pos, m->end),
			  m->s + m->pos);
	return r == 1;
}

static bool m_imm32(struct lmatch *m, int32_t *v)
{
	size_t p = m->pos;
	struct num n;

	if (!m_number(m, &n))
		return false;
	if (!num_i32(&n, v)) {
		hard_fail(m->f, p, "immediate '%.*s' does not fit in 32 bits", (int)(n.end - p),
			  m->s + p);
		return false;
	}
	m->pos = n.end;
	return true;
}

static bool m_imm64(struct lmatch *m)
{
	size_t p = m->pos;
	struct num n;
	int64_t v;

	if (!m_number(m, &n))
		return false;
	if (!num_i64(&n, &v)) {
		hard_fail(m->f, p, "constant '%.*s' does not fit in 64 bits", (int)(n.end - p), m->s + p);
		return false;
	}
	m->out->slot[0].imm = (int32_t)(uint32_t)v;
	m->out->slot[1].imm = (int32_t)(uint32_t)((uint64_t)v >> 32);
	m->pos = n.end;
	return true;
}

/* "+ 0x4" / "- 0x4" inside a memory operand: into off, or imm (ld_ind). */
static bool m_mem_off(struct lmatch *m, bool in_imm)
{
	size_t p = m->pos, q;
	struct num n;
	int64_t v;

	if (p >= m->end || (m->s[p] != '+' && m->s[p] != '-')) {
		expect_str(m->f, p, "'+' or '-' and an offset");
		return false;
	}
	q = skip_blanks(m->s, p + 1, m->end);
	if (q < m->end && (m->s[q] == '+' || m->s[q] == '-')) {
		expect_str(m->f, q, "an offset");
		return false;
	}
	m->pos = q;
	if (!m_number(m, &n))
		return false;
	n.neg = m->s[p] == '-';
	if (!num_range(&n, in_imm ? INT32_MIN : INT16_MIN, in_imm ? INT32_MAX : INT16_MAX, &v)) {
		hard_fail(m->f, q, "offset '%.*s' does not fit in %d bits", (int)(n.end - q),
			  m->s + q, in_imm ? 32 : 16);
		return false;
	}
	if (in_imm)
		m->out->slot[0].imm = (int32_t)v;
	else
		m->out->slot[0].off = (int16_t)v;
	m->pos = n.end;
	return true;
}

/* The " <LBB0_2>" llvm-objdump appends to a jump: a comment for us. */
static void m_skip_annotation(struct lmatch *m)
{
	size_t p = skip_blanks(m->s, m->pos, m->end);

	if (p < m->end && m->s[p] == '<') {
		const char *close = memchr(m->s + p, '>', m->end - p);
		if (close)
			m->pos = (size_t)(close - m->s) + 1;
	}
}

/* A jump or call target: a number (range by field) or a label. */
static bool m_target(struct lmatch *m, uint8_t field, bool need_sign)
{
	size_t p = m->pos, q = scan_ident(m->s, p, m->end);
	struct num n;
	int64_t v;
	int64_t lo = field == ASM_REF_OFF ? INT16_MIN : INT32_MIN;
	int64_t hi = field == ASM_REF_OFF ? INT16_MAX : INT32_MAX;

	if (q > p) {
		set_ref(m->out, m->s, p, q - p, field);
		m->pos = q;
	} else {
		if (scan_num(m->s, p, m->end, &n) != 1) {
			expect_str(m->f, p, need_sign ? "'+N', '-N' or a label" : "a number or a label");
			return false;
		}
		if (!num_range(&n, lo, hi, &v)) {
			hard_fail(m->f, p, "jump offset '%.*s' does not fit in %d bits",
				  (int)(n.end - p), m->s + p, field == ASM_REF_OFF ? 16 : 32);
			return false;
		}
		if (field == ASM_REF_OFF)
			m->out->slot[0].off = (int16_t)v;
		else
			m->out->slot[0].imm = (int32_t)v;
		m->pos = n.end;
	}
	m_skip_annotation(m);
	return true;
}

static bool m_literal(struct lmatch *m, const char *lit, size_t len)
{
	if (m->end - m->pos < len || memcmp(m->s + m->pos, lit, len)) {
		expect(m->f, m->pos, lit, len, true);
		return false;
	}
	m->pos += len;
	return true;
}

static bool m_placeholder(struct lmatch *m, char ph)
{
	struct bpfvm_insn *in = &m->out->slot[0];
	bool strict = syntax_llvm_prefix_matters(m->op);
	char dp = syntax_llvm_dst_prefix(m->op), sp = syntax_llvm_src_prefix(m->op);
	const char *text;
	uint8_t reg;
	int32_t v;
	struct num n;

	switch (ph) {
	case 'd': return m_reg(m, dp, strict, &reg) && ((in->dst_reg = reg), true);
	case 's': return m_reg(m, sp, strict, &reg) && ((in->src_reg = reg), true);
	case 'e': return m_same_reg(m, dp, strict, in->dst_reg);
	case 't': return m_same_reg(m, sp, strict, in->src_reg);
	case 'i': return m_imm32(m, &v) && ((in->imm = v), true);
	case 'u': return m_imm64(m);
	case 'm': return m_mem_off(m, true);
	case 'x':
		if (!m_number(m, &n))
			return false;
		if (n.neg || n.overflow || n.mag > 15) {
			hard_fail(m->f, m->pos, "pseudo kind must be 0 to 15");
			return false;
		}
		in->src_reg = (uint8_t)n.mag;
		m->pos = n.end;
		return true;
	case 'q': return m_imm64(m);
	case 'o': return m_mem_off(m, false);
	case 'j': return m_target(m, ASM_REF_OFF, true);
	case 'J': return m_target(m, ASM_REF_IMM, true);
	case 'k': return m_target(m, ASM_REF_IMM, false);
	case 'z': text = syntax_llvm_size(m->op); return m_literal(m, text, strlen(text));
	case 'p': text = syntax_llvm_optext(m->op); return m_literal(m, text, strlen(text));
	default: return false;
	}
}

static bool match_template(struct lmatch *m, const char *t)
{
	while (*t) {
		if (*t == ' ' || *t == '\t') {
			m->pos = skip_blanks(m->s, m->pos, m->end);
			t++;
		} else if (*t == '%') {
			if (!m_placeholder(m, t[1]))
				return false;
			t += 2;
		} else {
			size_t len = strcspn(t, " \t%");
			if (!m_literal(m, t, len))
				return false;
			t += len;
		}
	}
	m->pos = skip_blanks(m->s, m->pos, m->end);
	if (m->pos < m->end) {
		expect_str(m->f, m->pos, "the end of the line");
		return false;
	}
	return true;
}

static int parse_llvm(const char *s, size_t start, size_t end, struct asm_insn *out,
		      struct asm_error *err)
{
	struct fail f = { .pos = start };

	for (unsigned op = 0; op < ISA_OP_COUNT; op++) {
		for (unsigned variant = 0; variant < 2; variant++) {
			const char *t = syntax_llvm_template((enum isa_op)op, variant);
			struct lmatch m = { s, start, end, (enum isa_op)op, out, &f };

			if (!t)
				continue;
			memset(out, 0, sizeof(*out));
			if (match_template(&m, t)) {
				encode_op(out, (enum isa_op)op);
				return 0;
			}
		}
	}
	fail_report(&f, s, start, end, err);
	return -EINVAL;
}

/* ---- The conformance suite's syntax ----------------------------------- */

struct operand {
	size_t start;
	size_t end;
};

#define MAX_OPERANDS 4

/* Split s[pos, end) at commas into trimmed operands; -1 if too many. */
static int split_operands(const char *s, size_t pos, size_t end, struct operand *ops)
{
	int n = 0;

	pos = skip_blanks(s, pos, end);
	if (pos >= end)
		return 0;
	for (;;) {
		const char *comma = memchr(s + pos, ',', end - pos);
		size_t stop = comma ? (size_t)(comma - s) : end, e = stop;

		while (e > pos && asm_blank(s[e - 1]))
			e--;
		if (n == MAX_OPERANDS)
			return -1;
		ops[n].start = pos;
		ops[n++].end = e;
		if (!comma)
			return n;
		pos = skip_blanks(s, stop + 1, end);
	}
}

static bool conf_reg(const char *s, struct operand o, uint8_t *reg, struct asm_error *err)
{
	struct num n;

	if (o.end - o.start < 3 || s[o.start] != '%' || s[o.start + 1] != 'r' ||
	    scan_num(s, o.start + 2, o.end, &n) != 1 || n.end != o.end || n.neg || n.hex ||
	    s[o.start + 2] == '+') {
		if (o.start < o.end && s[o.start] == '%')
			set_error(err, o.start, "invalid register '%.*s'", (int)(o.end - o.start),
				  s + o.start);
		else
			set_error(err, o.start, "expected a register, got '%.*s'",
				  (int)(o.end - o.start), s + o.start);
		return false;
	}
	if (n.mag >= BPFVM_NREGS) {
		set_error(err, o.start, "invalid register '%.*s'", (int)(o.end - o.start), s + o.start);
		return false;
	}
	*reg = (uint8_t)n.mag;
	return true;
}

/* The whole operand as a number; false (with err) if it is not one. */
static bool conf_num(const char *s, struct operand o, const char *what, struct num *n,
		     struct asm_error *err)
{
	if (scan_num(s, o.start, o.end, n) != 1 || n->end != o.end) {
		set_error(err, o.start, "expected %s, got '%.*s'", what, (int)(o.end - o.start),
			  s + o.start);
		return false;
	}
	return true;
}

/* [%rN], [%rN+off], [%rN-off] */
static bool conf_mem(const char *s, struct operand o, uint8_t *reg, int16_t *off,
		     struct asm_error *err)
{
	size_t p = o.start + 1, q;
	struct operand r;
	struct num n = { 0 };
	int64_t v = 0;

	if (o.end - o.start < 2 || s[o.start] != '[' || s[o.end - 1] != ']') {
		set_error(err, o.start, "expected a memory operand such as [%%r1+4], got '%.*s'",
			  (int)(o.end - o.start), s + o.start);
		return false;
	}
	r.start = skip_blanks(s, p, o.end - 1);
	for (q = r.start; q < o.end - 1 && s[q] != '+' && s[q] != '-' && !asm_blank(s[q]); q++)
		;
	r.end = q;
	if (!conf_reg(s, r, reg, err))
		return false;
	q = skip_blanks(s, q, o.end - 1);
	if (q < o.end - 1) {
		size_t sign = q;
		q = skip_blanks(s, q + 1, o.end - 1);
		if ((s[sign] != '+' && s[sign] != '-') || scan_num(s, q, o.end - 1, &n) != 1 ||
		    skip_blanks(s, n.end, o.end - 1) != o.end - 1 || s[q] == '+' || s[q] == '-') {
			set_error(err, sign, "malformed memory offset in '%.*s'",
				  (int)(o.end - o.start), s + o.start);
			return false;
		}
		n.neg = s[sign] == '-';
		if (!num_range(&n, INT16_MIN, INT16_MAX, &v)) {
			set_error(err, q, "offset '%.*s' does not fit in 16 bits",
				  (int)(n.end - q), s + q);
			return false;
		}
	}
	*off = (int16_t)v;
	return true;
}

/* Jump targets: a label, or an offset with or without its sign. */
static bool conf_target(const char *s, struct operand o, uint8_t field, struct asm_insn *out,
			struct asm_error *err)
{
	struct num n;
	int64_t v;
	bool off = field == ASM_REF_OFF;

	if (scan_ident(s, o.start, o.end) == o.end && o.end > o.start) {
		set_ref(out, s, o.start, o.end - o.start, field);
		return true;
	}
	if (!conf_num(s, o, "a label or an offset", &n, err))
		return false;
	if (!num_range(&n, off ? INT16_MIN : INT32_MIN, off ? INT16_MAX : INT32_MAX, &v)) {
		set_error(err, o.start, "jump offset '%.*s' does not fit in %d bits",
			  (int)(o.end - o.start), s + o.start, off ? 16 : 32);
		return false;
	}
	if (off)
		out->slot[0].off = (int16_t)v;
	else
		out->slot[0].imm = (int32_t)v;
	return true;
}

static bool conf_operand(const char *s, struct operand o, char kind, struct asm_insn *out,
			 struct asm_error *err)
{
	struct bpfvm_insn *in = &out->slot[0];
	struct num n;
	int64_t v;
	int32_t i;
	uint8_t reg;

	switch (kind) {
	case 'd': return conf_reg(s, o, &reg, err) && ((in->dst_reg = reg), true);
	case 's': return conf_reg(s, o, &reg, err) && ((in->src_reg = reg), true);
	case 'm': return conf_mem(s, o, &reg, &in->off, err) && ((in->src_reg = reg), true);
	case 'M': return conf_mem(s, o, &reg, &in->off, err) && ((in->dst_reg = reg), true);
	case 'j': return conf_target(s, o, ASM_REF_OFF, out, err);
	case 'J':
	case 'k': return conf_target(s, o, ASM_REF_IMM, out, err);
	default: break;
	}
	if (!conf_num(s, o, kind == 'q' ? "a constant" : "an immediate", &n, err))
		return false;
	if (kind == 'i' && num_i32(&n, &i)) {
		in->imm = i;
		return true;
	}
	if (kind == 'q' && num_i64(&n, &v)) {
		in->imm = (int32_t)(uint32_t)v;
		out->slot[1].imm = (int32_t)(uint32_t)((uint64_t)v >> 32);
		return true;
	}
	if ((kind == 'x' && num_range(&n, 0, 15, &v)) || (kind == 'o' && num_range(&n, INT16_MIN, INT16_MAX, &v))) {
		if (kind == 'x')
			in->src_reg = (uint8_t)v;
		else
			in->off = (int16_t)v;
		return true;
	}
	set_error(err, o.start, "%s '%.*s' does not fit in %s", kind == 'x' ? "pseudo kind" : "immediate",
		  (int)(o.end - o.start), s + o.start,
		  kind == 'q' ? "64 bits" : kind == 'x' ? "4 bits" : kind == 'o' ? "16 bits" : "32 bits");
	return false;
}

/* Does each operand look like the kind the spec asks for (registers vs not)? */
static bool conf_fits(const char *s, const struct operand *ops, int n, const char *spec)
{
	if ((int)strlen(spec) != n)
		return false;
	for (int i = 0; i < n; i++) {
		bool is_reg = ops[i].end > ops[i].start && s[ops[i].start] == '%';
		bool is_mem = ops[i].end > ops[i].start && s[ops[i].start] == '[';
		bool want_reg = spec[i] == 'd' || spec[i] == 's';
		bool want_mem = spec[i] == 'm' || spec[i] == 'M';

		if (is_reg != want_reg || (want_mem && !is_mem))
			return false;
	}
	return true;
}

/*
 * The mnemonic: one word, or "lock [fetch] OP", "call local", "call
 * kfunc" (also "call runtime", "call helper").  "swapN" is bswapN and
 * "call %rN" is callx.  Returns the position after it, or 0 on error.
 */
static size_t conf_mnemonic(const char *s, size_t start, size_t end, char *mn, size_t size,
			    struct asm_error *err)
{
	size_t p = scan_ident(s, start, end), q, r;
	int n = snprintf(mn, size, "%.*s", (int)(p - start), s + start);

	q = skip_blanks(s, p, end);
	r = scan_ident(s, q, end);
	if (!strcmp(mn, "lock")) {
		for (int words = 0; words < 2 && r > q; words++) {
			n += snprintf(mn + n, size > (size_t)n ? size - (size_t)n : 0, " %.*s",
				      (int)(r - q), s + q);
			p = r;
			if (words == 0 && (r - q != 5 || memcmp(s + q, "fetch", 5)))
				break;
			q = skip_blanks(s, p, end);
			r = scan_ident(s, q, end);
		}
		if (!strcmp(mn, "lock") || !strcmp(mn, "lock fetch")) {
			set_error(err, start, "Invalid number of operands for lock");
			return 0;
		}
	} else if (!strcmp(mn, "call") && r > q) {
		static const char *const modes[][2] = {
			{ "local", "call local" }, { "kfunc", "call kfunc" },
			{ "runtime", "call kfunc" }, { "helper", "call" },
		};
		for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
			if (r - q == strlen(modes[i][0]) && !memcmp(s + q, modes[i][0], r - q)) {
				snprintf(mn, size, "%s", modes[i][1]);
				p = r;
			}
	} else if (!strcmp(mn, "call") && q < end && s[q] == '%') {
		snprintf(mn, size, "callx");
	} else if (!strncmp(mn, "swap", 4)) {
		snprintf(mn, size, "b%.*s", (int)(p - start), s + start);
	}
	return p;
}

static int conf_count_error(size_t start, const char *mn, int got,
			    struct asm_error *err)
{
	for (unsigned op = 0; op < ISA_OP_COUNT; op++)
		if (!strcmp(isa_ops[op].mnemonic, mn)) {
			const char *spec = syntax_conf_operands((enum isa_op)op, 0);
			set_error(err, start, "Invalid number of operands for %s: expected %zu, got %d",
				  mn, strlen(spec), got);
			return -EINVAL;
		}
	set_error(err, start, "unknown mnemonic '%s'", mn);
	return -EINVAL;
}

static int parse_conformance(const char *s, size_t start, size_t end, struct asm_insn *out,
			     struct asm_error *err)
{
	char mn[64];
	struct operand ops[MAX_OPERANDS];
	size_t p = conf_mnemonic(s, start, end, mn, sizeof(mn), err);
	int n;

	if (!p)
		return -EINVAL;
	n = split_operands(s, p, end, ops);
	for (unsigned op = 0; n >= 0 && op < ISA_OP_COUNT; op++) {
		if (strcmp(isa_ops[op].mnemonic, mn))
			continue;
		for (unsigned variant = 0; variant < 2; variant++) {
			const char *spec = syntax_conf_operands((enum isa_op)op, variant);

			if (!spec || !conf_fits(s, ops, n, spec))
				continue;
			memset(out, 0, sizeof(*out));
			for (int i = 0; i < n; i++)
				if (!conf_operand(s, ops[i], spec[i], out, err))
					return -EINVAL;
			encode_op(out, (enum isa_op)op);
			return 0;
		}
	}
	/* No row fits: report against the first row with the right count. */
	for (unsigned op = 0; n >= 0 && op < ISA_OP_COUNT; op++) {
		const char *spec = syntax_conf_operands((enum isa_op)op, 0);

		if (strcmp(isa_ops[op].mnemonic, mn) || (int)strlen(spec) != n)
			continue;
		memset(out, 0, sizeof(*out));
		for (int i = 0; i < n; i++)
			if (!conf_operand(s, ops[i], spec[i], out, err))
				return -EINVAL;
	}
	return conf_count_error(start, mn, n, err);
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
 * llvm-objdump's syntax never writes "%r" (its only '%' is in "%=").  Of the words both syntaxes
 * start lines with, "lock" and "call" take different operands; "exit",
 * "callx" and "may_goto" parse the same either way.
 */
static bool is_conformance_line(const char *s, size_t start, size_t end)
{
	size_t p = scan_ident(s, start, end), q = skip_blanks(s, p, end), r = scan_ident(s, q, end);

	if (memmem(s + start, end - start, "%r", 2))
		return true;
	if (word_is(s, start, p, "lock"))
		return q < end && s[q] != '*';
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
		return parse_conformance(line, start, end, out, err);
	return parse_llvm(line, start, end, out, err);
}
