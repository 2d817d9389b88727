/*
 * asm_conf.c - one line of the conformance suite's syntax to an
 * instruction: a mnemonic from opcodes.def's last column ("add32",
 * "lock fetch or", "call local") and comma-separated operands of the
 * kinds the operation's form lists (syntax_conf_operands).  The messages
 * follow the suite's reference assembler where it has one ("Invalid
 * number of operands for lock").
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "asm_parse.h"
#include "opcode.h"
#include "syntax.h"

struct operand {
	size_t start;
	size_t end;
};

#define MAX_OPERANDS 4

/* Split s[pos, end) at commas into trimmed operands; -1 if too many. */
static int split_operands(const char *s, size_t pos, size_t end, struct operand *ops)
{
	int n = 0;

	pos = asm_skip_blanks(s, pos, end);
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
		pos = asm_skip_blanks(s, stop + 1, end);
	}
}

static bool conf_reg(const char *s, struct operand o, uint8_t *reg, struct asm_error *err)
{
	struct asm_num n;

	if (o.end - o.start < 3 || s[o.start] != '%' || s[o.start + 1] != 'r' ||
	    asm_scan_num(s, o.start + 2, o.end, &n) != 1 || n.end != o.end || n.neg || n.hex ||
	    s[o.start + 2] == '+') {
		if (o.start < o.end && s[o.start] == '%')
			asm_set_error(err, o.start, "invalid register '%.*s'", (int)(o.end - o.start),
				  s + o.start);
		else
			asm_set_error(err, o.start, "expected a register, got '%.*s'",
				  (int)(o.end - o.start), s + o.start);
		return false;
	}
	if (n.mag >= BPFVM_NREGS) {
		asm_set_error(err, o.start, "invalid register '%.*s'", (int)(o.end - o.start), s + o.start);
		return false;
	}
	*reg = (uint8_t)n.mag;
	return true;
}

/* The whole operand as a number; false (with err) if it is not one. */
static bool conf_num(const char *s, struct operand o, const char *what, struct asm_num *n,
		     struct asm_error *err)
{
	if (asm_scan_num(s, o.start, o.end, n) != 1 || n->end != o.end) {
		asm_set_error(err, o.start, "expected %s, got '%.*s'", what, (int)(o.end - o.start),
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
	struct asm_num n = { 0 };
	int64_t v = 0;

	if (o.end - o.start < 2 || s[o.start] != '[' || s[o.end - 1] != ']') {
		asm_set_error(err, o.start, "expected a memory operand such as [%%r1+4], got '%.*s'",
			  (int)(o.end - o.start), s + o.start);
		return false;
	}
	r.start = asm_skip_blanks(s, p, o.end - 1);
	for (q = r.start; q < o.end - 1 && s[q] != '+' && s[q] != '-' && !asm_blank(s[q]); q++)
		;
	r.end = q;
	if (!conf_reg(s, r, reg, err))
		return false;
	q = asm_skip_blanks(s, q, o.end - 1);
	if (q < o.end - 1) {
		size_t sign = q;
		q = asm_skip_blanks(s, q + 1, o.end - 1);
		if ((s[sign] != '+' && s[sign] != '-') || asm_scan_num(s, q, o.end - 1, &n) != 1 ||
		    asm_skip_blanks(s, n.end, o.end - 1) != o.end - 1 || s[q] == '+' || s[q] == '-') {
			asm_set_error(err, sign, "malformed memory offset in '%.*s'",
				  (int)(o.end - o.start), s + o.start);
			return false;
		}
		n.neg = s[sign] == '-';
		if (!asm_num_range(&n, INT16_MIN, INT16_MAX, &v)) {
			asm_set_error(err, q, "offset '%.*s' does not fit in 16 bits",
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
	struct asm_num n;
	int64_t v;
	bool off = field == ASM_REF_OFF;

	if (asm_scan_ident(s, o.start, o.end) == o.end && o.end > o.start) {
		asm_set_ref(out, s, o.start, o.end - o.start, field);
		return true;
	}
	if (!conf_num(s, o, "a label or an offset", &n, err))
		return false;
	if (!asm_num_range(&n, off ? INT16_MIN : INT32_MIN, off ? INT16_MAX : INT32_MAX, &v)) {
		asm_set_error(err, o.start, "jump offset '%.*s' does not fit in %d bits",
			  (int)(o.end - o.start), s + o.start, off ? 16 : 32);
		return false;
	}
	if (off)
		out->slot[0].off = (int16_t)v;
	else
		out->slot[0].imm = (int32_t)v;
	return true;
}

/* A numeric operand: i (imm), q (lddw's constant), x (pseudo kind), o (off). */
static bool conf_value(const char *s, struct operand o, char kind, struct asm_insn *out,
		       struct asm_error *err)
{
	struct bpfvm_insn *in = &out->slot[0];
	static const char *const width[] = { "32 bits", "64 bits", "4 bits", "16 bits" };
	int w = kind == 'q' ? 1 : kind == 'x' ? 2 : kind == 'o' ? 3 : 0;
	struct asm_num n;
	int64_t v;
	int32_t i;

	if (!conf_num(s, o, kind == 'q' ? "a constant" : "an immediate", &n, err))
		return false;
	if (kind == 'i' && asm_num_i32(&n, &i))
		in->imm = i;
	else if (kind == 'q' && asm_num_i64(&n, &v)) {
		in->imm = (int32_t)(uint32_t)v;
		out->slot[1].imm = (int32_t)(uint32_t)((uint64_t)v >> 32);
	} else if (kind == 'x' && asm_num_range(&n, 0, 15, &v))
		in->src_reg = (uint8_t)v;
	else if (kind == 'o' && asm_num_range(&n, INT16_MIN, INT16_MAX, &v))
		in->off = (int16_t)v;
	else {
		asm_set_error(err, o.start, "%s '%.*s' does not fit in %s",
			      kind == 'x' ? "pseudo kind" : "immediate", (int)(o.end - o.start),
			      s + o.start, width[w]);
		return false;
	}
	return true;
}

static bool conf_operand(const char *s, struct operand o, char kind, struct asm_insn *out,
			 struct asm_error *err)
{
	struct bpfvm_insn *in = &out->slot[0];
	uint8_t reg;

	switch (kind) {
	case 'd': return conf_reg(s, o, &reg, err) && ((in->dst_reg = reg), true);
	case 's': return conf_reg(s, o, &reg, err) && ((in->src_reg = reg), true);
	case 'm': return conf_mem(s, o, &reg, &in->off, err) && ((in->src_reg = reg), true);
	case 'M': return conf_mem(s, o, &reg, &in->off, err) && ((in->dst_reg = reg), true);
	case 'j': return conf_target(s, o, ASM_REF_OFF, out, err);
	case 'J':
	case 'k': return conf_target(s, o, ASM_REF_IMM, out, err);
	default: return conf_value(s, o, kind, out, err);
	}
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
	size_t p = asm_scan_ident(s, start, end), q, r;
	int n = snprintf(mn, size, "%.*s", (int)(p - start), s + start);

	q = asm_skip_blanks(s, p, end);
	r = asm_scan_ident(s, q, end);
	if (!strcmp(mn, "lock")) {
		for (int words = 0; words < 2 && r > q; words++) {
			n += snprintf(mn + n, size > (size_t)n ? size - (size_t)n : 0, " %.*s",
				      (int)(r - q), s + q);
			p = r;
			if (words == 0 && (r - q != 5 || memcmp(s + q, "fetch", 5)))
				break;
			q = asm_skip_blanks(s, p, end);
			r = asm_scan_ident(s, q, end);
		}
		if (!strcmp(mn, "lock") || !strcmp(mn, "lock fetch")) {
			asm_set_error(err, start, "Invalid number of operands for lock");
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
			asm_set_error(err, start, "Invalid number of operands for %s: expected %zu, got %d",
				  mn, strlen(spec), got);
			return -EINVAL;
		}
	asm_set_error(err, start, "unknown mnemonic '%s'", mn);
	return -EINVAL;
}

int asm_parse_conformance(const char *s, size_t start, size_t end, struct asm_insn *out,
			  struct asm_error *err)
{
	char mn[64];
	struct operand ops[MAX_OPERANDS];
	size_t p = conf_mnemonic(s, start, end, mn, sizeof(mn), err);
	int n;

	if (!p)
		return -EINVAL;
	n = split_operands(s, p, end, ops);
	if (n < 0) {
		asm_set_error(err, start, "Invalid number of operands for %s: more than %d", mn,
			      MAX_OPERANDS);
		return -EINVAL;
	}
	for (unsigned op = 0; op < ISA_OP_COUNT; op++) {
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
			asm_encode_op(out, (enum isa_op)op);
			return 0;
		}
	}
	/* No row fits: report against the first row with the right count. */
	for (unsigned op = 0; op < ISA_OP_COUNT; op++) {
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
