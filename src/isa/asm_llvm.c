/*
 * asm_llvm.c - one line of llvm-objdump's syntax to an instruction.
 *
 * The line is matched against the template of every operation (syntax.c)
 * until one fits it whole.  When none does, the error names what the
 * templates that got furthest expected there ("expected ')' ..."), unless
 * one of them found a definite error on the way (a number out of range,
 * r11), which is reported instead.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "asm_parse.h"
#include "opcode.h"
#include "syntax.h"

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
		asm_set_error(err, start, "unknown instruction '%.*s'", asm_token_len(s, start, end),
			      s + start);
		return;
	}
	if (f->too_many || !f->nexpect) {
		asm_set_error(err, f->pos, "unexpected '%.*s'", asm_token_len(s, f->pos, end),
			      s + f->pos);
		return;
	}
	for (unsigned i = 0; i < f->nexpect && n < sizeof(list); i++)
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s%.*s%s",
				      i == 0 ? "" : i + 1 == f->nexpect ? " or " : ", ",
				      f->expect[i].quote ? "'" : "", (int)f->expect[i].len,
				      f->expect[i].text, f->expect[i].quote ? "'" : "");
	if (f->pos >= end)
		asm_set_error(err, f->pos, "expected %s at the end of the line", list);
	else
		asm_set_error(err, f->pos, "expected %s, got '%.*s'", list,
			      asm_token_len(s, f->pos, end), s + f->pos);
}

/* One attempt to match the line against one operation's template. */
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
	struct asm_num n;

	if (p >= m->end || (s[p] != 'r' && s[p] != 'w') || (strict && s[p] != prefix) ||
	    asm_scan_num(s, p + 1, m->end, &n) != 1 || n.neg || n.hex ||
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

static bool m_number(struct lmatch *m, struct asm_num *n)
{
	int r = asm_scan_num(m->s, m->pos, m->end, n);

	if (r == 0)
		expect_str(m->f, m->pos, "a number");
	else if (r < 0)
		hard_fail(m->f, m->pos, "malformed number '%.*s'", asm_token_len(m->s, m->pos, m->end),
			  m->s + m->pos);
	return r == 1;
}

static bool m_imm32(struct lmatch *m, int32_t *v)
{
	size_t p = m->pos;
	struct asm_num n;

	if (!m_number(m, &n))
		return false;
	if (!asm_num_i32(&n, v)) {
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
	struct asm_num n;
	int64_t v;

	if (!m_number(m, &n))
		return false;
	if (!asm_num_i64(&n, &v)) {
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
	struct asm_num n;
	int64_t v;

	if (p >= m->end || (m->s[p] != '+' && m->s[p] != '-')) {
		expect_str(m->f, p, "'+' or '-' and an offset");
		return false;
	}
	q = asm_skip_blanks(m->s, p + 1, m->end);
	if (q < m->end && (m->s[q] == '+' || m->s[q] == '-')) {
		expect_str(m->f, q, "an offset");
		return false;
	}
	m->pos = q;
	if (!m_number(m, &n))
		return false;
	n.neg = m->s[p] == '-';
	if (!asm_num_range(&n, in_imm ? INT32_MIN : INT16_MIN, in_imm ? INT32_MAX : INT16_MAX, &v)) {
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
	size_t p = asm_skip_blanks(m->s, m->pos, m->end);

	if (p < m->end && m->s[p] == '<') {
		const char *close = memchr(m->s + p, '>', m->end - p);
		if (close)
			m->pos = (size_t)(close - m->s) + 1;
	}
}

/* A jump or call target: a number (range by field) or a label. */
static bool m_target(struct lmatch *m, uint8_t field, bool need_sign)
{
	size_t p = m->pos, q = asm_scan_ident(m->s, p, m->end);
	struct asm_num n;
	int64_t v;
	int64_t lo = field == ASM_REF_OFF ? INT16_MIN : INT32_MIN;
	int64_t hi = field == ASM_REF_OFF ? INT16_MAX : INT32_MAX;

	if (q > p) {
		asm_set_ref(m->out, m->s, p, q - p, field);
		m->pos = q;
	} else {
		if (asm_scan_num(m->s, p, m->end, &n) != 1) {
			expect_str(m->f, p, need_sign ? "'+N', '-N' or a label" : "a number or a label");
			return false;
		}
		if (!asm_num_range(&n, lo, hi, &v)) {
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
	struct asm_num n;

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
			m->pos = asm_skip_blanks(m->s, m->pos, m->end);
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
	m->pos = asm_skip_blanks(m->s, m->pos, m->end);
	if (m->pos < m->end) {
		expect_str(m->f, m->pos, "the end of the line");
		return false;
	}
	return true;
}

int asm_parse_llvm(const char *s, size_t start, size_t end, struct asm_insn *out,
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
				asm_encode_op(out, (enum isa_op)op);
				return 0;
			}
		}
	}
	fail_report(&f, s, start, end, err);
	return -EINVAL;
}
