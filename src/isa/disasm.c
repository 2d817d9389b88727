/*
 * disasm.c - instructions to text, in llvm-objdump's syntax, the
 * conformance suite's or the kernel verifier log's.  The shape of each
 * operation comes from syntax.c; this file decodes (strictly, or as
 * llvm-objdump 19 does) and fills the shape in with the instruction's
 * fields.
 */
#include "disasm.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "opcode.h"
#include "syntax.h"
/* helper names for the kernel syntax: the one table of the kernel's helpers */

/* An output buffer that truncates instead of overflowing. */
struct out {
	char *buf;
	size_t size;
	size_t len;
};

__attribute__((format(printf, 2, 3))) static void out_printf(struct out *o, const char *fmt, ...)
{
	size_t room = o->len < o->size ? o->size - o->len : 0;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(room ? o->buf + o->len : NULL, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len += (size_t)n;
}

/* "0x5", "-0x5": llvm-objdump's signed hex, magnitude after the sign. */
static void out_signed_hex(struct out *o, int64_t v, const char *plus)
{
	uint64_t mag = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	out_printf(o, "%s0x%" PRIx64, v < 0 ? "-" : plus, mag);
}

/* What a printed instruction refers to, besides its own slot. */
struct insn_ctx {
	const struct bpfvm_insn *insn;
	const struct bpfvm_insn *next;   /* lddw's second slot, or NULL */
	size_t idx;
	enum isa_op op;
	bool exact;                      /* llvm-objdump 19's text, even where lossy */
	const struct disasm_cbs *cbs;
};

static int64_t lddw_value(const struct insn_ctx *c)
{
	uint64_t lo = (uint32_t)c->insn->imm;
	uint64_t hi = c->next ? (uint32_t)c->next->imm : 0;
	return (int64_t)(hi << 32 | lo);
}

/* " <name>" (llvm) or " # <name>" (conformance) for a named target. */
static void out_target(struct out *o, const struct insn_ctx *c, bool call, int64_t target,
		       const char *lead)
{
	char name[256];
	bool (*fn)(void *, size_t, int64_t, char *, size_t);

	if (!c->cbs)
		return;
	fn = call ? c->cbs->call_target : c->cbs->jump_target;
	if (fn && fn(c->cbs->ctx, c->idx, target, name, sizeof(name)))
		out_printf(o, "%s<%s>", lead, name);
}

/* The same for the map (or map value) an lddw with a pseudo source loads. */
static void out_map_name(struct out *o, const struct insn_ctx *c, const char *lead)
{
	char name[256];

	if (c->cbs && c->cbs->map_name &&
	    c->cbs->map_name(c->cbs->ctx, c->idx, c->insn->src_reg, lddw_value(c), name,
			     sizeof(name)))
		out_printf(o, "%s<%s>", lead, name);
}

static void llvm_placeholder(struct out *o, const struct insn_ctx *c, char ph)
{
	const struct bpfvm_insn *in = c->insn;
	int64_t from = (int64_t)c->idx + 1;

	switch (ph) {
	case 'd':
	case 'e': out_printf(o, "%c%u", syntax_llvm_dst_prefix(c->op), in->dst_reg); break;
	case 's':
	case 't': out_printf(o, "%c%u", syntax_llvm_src_prefix(c->op), in->src_reg); break;
	case 'i':
	case 'k': out_signed_hex(o, in->imm, ""); break;
	case 'u':
		if (c->exact || !c->next || !c->next->imm)
			out_printf(o, "0x%" PRIx32, (uint32_t)in->imm);
		else
			out_printf(o, "0x%" PRIx64, (uint64_t)lddw_value(c));
		break;
	case 'x': out_printf(o, "0x%x", in->src_reg); break;
	case 'q': out_signed_hex(o, lddw_value(c), ""); break;
	case 'o':
		out_printf(o, "%c 0x%x", in->off < 0 ? '-' : '+', in->off < 0 ? -in->off : in->off);
		break;
	case 'm':
		out_printf(o, "%c ", in->imm < 0 ? '-' : '+');
		out_signed_hex(o, in->imm < 0 ? -(int64_t)in->imm : in->imm, "");
		break;
	case 'j':
		out_signed_hex(o, in->off, "+");
		out_target(o, c, false, from + in->off, " ");
		break;
	case 'J':
		out_signed_hex(o, in->imm, "+");
		out_target(o, c, false, from + in->imm, " ");
		break;
	case 'z': out_printf(o, "%s", syntax_llvm_size(c->op)); break;
	case 'p': out_printf(o, "%s", syntax_llvm_optext(c->op)); break;
	default: out_printf(o, "%%%c", ph); break;
	}
	if (ph == 'k')
		out_target(o, c, true, from + in->imm, " ");
}

static void print_llvm(struct out *o, const struct insn_ctx *c)
{
	unsigned variant = (c->op == ISA_OP_LDDW && c->insn->src_reg) ||
			   (isa_ops[c->op].form == F_LDIND && c->insn->imm && !c->exact);
	const char *t = syntax_llvm_template(c->op, variant);

	for (; *t; t++) {
		if (*t == '%' && t[1])
			llvm_placeholder(o, c, *++t);
		else
			out_printf(o, "%c", *t);
	}
}

/* ---- The kernel's verifier log ---------------------------------------- */

static void kernel_call(struct out *o, const struct insn_ctx *c)
{
	const struct bpfvm_insn *in = c->insn;
	const char *name = NULL;

	if (c->op == ISA_OP_CALL_LOCAL) {
		out_printf(o, "pc%+" PRId32, in->imm);
		return;
	}
	if (c->op == ISA_OP_CALL_KFUNC)
		name = "kernel-function";
	else if (c->cbs && c->cbs->helper_name)
		name = c->cbs->helper_name(c->cbs->ctx, in->imm);
	out_printf(o, "%s#%" PRId32, name ? name : "unknown", in->imm);
}

static void kernel_placeholder(struct out *o, const struct insn_ctx *c, char ph)
{
	const struct bpfvm_insn *in = c->insn;
	char prefix = syntax_kernel_prefix(c->op);

	switch (ph) {
	case 'd':
	case 'e': out_printf(o, "%c%u", prefix, in->dst_reg); break;
	case 's':
	case 't': out_printf(o, "%c%u", prefix, in->src_reg); break;
	case 'i': out_printf(o, "%" PRId32, in->imm); break;
	case 'h': out_printf(o, "0x%" PRIx32, (uint32_t)in->imm); break;
	case 'q': out_printf(o, "0x%" PRIx64, (uint64_t)lddw_value(c)); break;
	case 'o': out_printf(o, "%+d", in->off); break;
	case 'j': out_printf(o, "pc%+d", in->off); break;
	case 'J': out_printf(o, "pc%+" PRId32, in->imm); break;
	case 'k': kernel_call(o, c); break;
	case 'W': out_printf(o, "%s", BPFVM_SIZE(in->code) == BPFVM_DW ? "64" : ""); break;
	case 'z': out_printf(o, "%s", syntax_llvm_size(c->op)); break;
	case 'p': out_printf(o, "%s", syntax_llvm_optext(c->op)); break;
	default: out_printf(o, "%%%c", ph); break;
	}
}

static void print_kernel(struct out *o, const struct insn_ctx *c)
{
	for (const char *t = syntax_kernel_template(c->op); *t; t++) {
		if (*t == '%' && t[1])
			kernel_placeholder(o, c, *++t);
		else
			out_printf(o, "%c", *t);
	}
}

/* ---- The conformance suite's syntax ------------------------------------ */

/* [%r1+4], [%r10-8] */
static void out_mem(struct out *o, unsigned reg, int16_t off)
{
	out_printf(o, "[%%r%u%+d]", reg, off);
}

static void conf_operand(struct out *o, const struct insn_ctx *c, char kind)
{
	const struct bpfvm_insn *in = c->insn;

	switch (kind) {
	case 'd': out_printf(o, "%%r%u", in->dst_reg); break;
	case 's': out_printf(o, "%%r%u", in->src_reg); break;
	case 'i': out_printf(o, "%" PRId32, in->imm); break;
	case 'q': out_printf(o, "0x%" PRIx64, (uint64_t)lddw_value(c)); break;
	case 'x': out_printf(o, "%u", in->src_reg); break;
	case 'm': out_mem(o, in->src_reg, in->off); break;
	case 'M': out_mem(o, in->dst_reg, in->off); break;
	case 'j': out_printf(o, "%+d", in->off); break;
	case 'J':
	case 'k': out_printf(o, "%+" PRId32, in->imm); break;
	case 'o': out_printf(o, "%d", in->off); break;
	default: break;
	}
}

static void print_conformance(struct out *o, const struct insn_ctx *c)
{
	const struct bpfvm_insn *in = c->insn;
	bool variant = (c->op == ISA_OP_LDDW && in->src_reg) ||
		       (c->op == ISA_OP_CALL_KFUNC && in->off);
	const char *spec = syntax_conf_operands(c->op, variant);
	int64_t from = (int64_t)c->idx + 1;

	out_printf(o, "%s", isa_ops[c->op].mnemonic);
	for (const char *k = spec; *k; k++) {
		out_printf(o, k == spec ? " " : ", ");
		conf_operand(o, c, *k);
	}
	if (strchr(spec, 'j'))
		out_target(o, c, false, from + in->off, " # ");
	else if (strchr(spec, 'J'))
		out_target(o, c, false, from + in->imm, " # ");
	else if (strchr(spec, 'k'))
		out_target(o, c, true, from + in->imm, " # ");
}

/* ---- Decoding as llvm-objdump 19 does -------------------------------- */

/*
 * Its default decoder reads the atomic operation from the low byte of imm
 * only, takes any low nibble but 1 as "no fetch", and knows no 32-bit
 * atomic but add (the others live in its alu32 decoder).  Load-acquire
 * and store-release are newer than LLVM 19: we print those as ours.
 */
static enum isa_op llvm19_atomic(const struct bpfvm_insn *insn)
{
	enum isa_op op = isa_op_of(insn);
	struct bpfvm_insn canon = *insn;
	int lo = insn->imm & 0xff;
	bool fetch = (lo & 0x0f) == BPFVM_FETCH;

	if (op != ISA_OP_INVALID &&
	    (isa_ops[op].vvalue == BPFVM_LOAD_ACQ || isa_ops[op].vvalue == BPFVM_STORE_REL))
		return op;
	if (BPFVM_SIZE(insn->code) == BPFVM_W) {
		canon.imm = BPFVM_ADD;
		return (lo & 0xf0) == BPFVM_ADD ? isa_op_of(&canon) : ISA_OP_INVALID;
	}
	if (BPFVM_SIZE(insn->code) != BPFVM_DW)
		return ISA_OP_INVALID;
	switch (lo & 0xf0) {
	case BPFVM_ADD:
	case BPFVM_OR:
	case BPFVM_AND:
	case BPFVM_XOR:
		canon.imm = (lo & 0xf0) | (fetch ? BPFVM_FETCH : 0);
		return isa_op_of(&canon);
	case BPFVM_XCHG & 0xf0:
	case BPFVM_CMPXCHG & 0xf0:
		canon.imm = lo;
		return fetch ? isa_op_of(&canon) : ISA_OP_INVALID;
	default:
		return ISA_OP_INVALID;
	}
}

/* Registers LLVM decodes: r0-r11 (it knows r11, which we do not). */
static bool llvm19_regs_ok(const struct bpfvm_insn *insn, enum isa_op op)
{
	static const uint8_t uses[] = {
		/* bit 0: dst is a register operand, bit 1: src is */
		[F_ALU_K] = 1, [F_ALU_X] = 3, [F_NEG] = 1, [F_END] = 1, [F_LDDW] = 1,
		[F_LDABS] = 0, [F_LDIND] = 2, [F_LDX] = 3, [F_ST] = 1, [F_STX] = 3,
		[F_ATOMIC] = 3, [F_JA] = 0, [F_JA32] = 0, [F_JCOND_K] = 1, [F_JCOND_X] = 3,
		[F_CALL] = 0, [F_CALLX] = 1, [F_EXIT] = 0, [F_MAY_GOTO] = 0,
	};
	uint8_t u = uses[isa_ops[op].form];

	return !((u & 1) && insn->dst_reg > 11) && !((u & 2) && insn->src_reg > 11);
}

/* The operation llvm-objdump 19 decodes, or ISA_OP_INVALID for <unknown>. */
static enum isa_op llvm19_op(const struct bpfvm_insn *insn)
{
	enum isa_op op;

	if (BPFVM_CLASS(insn->code) == BPFVM_STX && BPFVM_MODE(insn->code) == BPFVM_ATOMIC)
		op = llvm19_atomic(insn);
	else
		op = isa_op_of(insn);
	/* A call's src (helper, local, kfunc) does not change its text. */
	if (op == ISA_OP_INVALID && insn->code == (BPFVM_JMP | BPFVM_CALL))
		op = ISA_OP_CALL_HELPER;
	if (op == ISA_OP_INVALID || !llvm19_regs_ok(insn, op))
		return ISA_OP_INVALID;
	switch (isa_ops[op].form) {
	case F_ALU_K:
	case F_ALU_X:
		/* off is part of every ALU encoding since sdiv and movsx. */
		return isa_ops[op].vfield == V_OFF || !insn->off ? op : ISA_OP_INVALID;
	case F_LDDW:
		return insn->off ? ISA_OP_INVALID : op;
	case F_EXIT:
		return insn->imm ? ISA_OP_INVALID : op;
	default:
		return op;
	}
}

/*
 * LLVM 19 knows one operation opcodes.def lacks: the arena address-space
 * cast (mov64 with off = 1).  Print it as llvm-objdump does.
 */
static bool llvm19_addr_space_cast(const struct bpfvm_insn *insn, struct out *o)
{
	if (insn->code != (BPFVM_ALU64 | BPFVM_MOV | BPFVM_X) || insn->off != 1 ||
	    insn->dst_reg > 11 || insn->src_reg > 11)
		return false;
	out_printf(o, "r%u = addr_space_cast(r%u, 0x%" PRIx32 ", 0x%" PRIx32 ")", insn->dst_reg,
		   insn->src_reg, (uint32_t)insn->imm >> 16, (uint32_t)insn->imm & 0xffff);
	return true;
}

static int decode_objdump19(const struct bpfvm_insn *insns, size_t cnt, size_t idx,
			    enum isa_op *op, struct out *o)
{
	*op = llvm19_op(&insns[idx]);
	if (*op == ISA_OP_INVALID) {
		if (llvm19_addr_space_cast(&insns[idx], o))
			return 1;
		out_printf(o, "<unknown>");
		return -EINVAL;
	}
	if (*op == ISA_OP_LDDW && idx + 1 >= cnt) {
		out_printf(o, "<unknown>");
		return -ENODATA;
	}
	return 0;
}

int disasm_insn(const struct bpfvm_insn *insns, size_t cnt, size_t idx,
		enum bpfvm_syntax syntax, enum disasm_mode mode,
		const struct disasm_cbs *cbs, char *buf, size_t size)
{
	struct out o = { buf, size, 0 };
	struct insn_ctx c = { .idx = idx, .cbs = cbs };
	int err;

	if (size)
		buf[0] = '\0';
	if (!insns || idx >= cnt) {
		out_printf(&o, "instruction %zu is out of range", idx);
		return -EINVAL;
	}
	c.insn = &insns[idx];
	c.exact = mode == DISASM_OBJDUMP19;
	if (c.exact) {
		err = decode_objdump19(insns, cnt, idx, &c.op, &o);
		if (err || o.len)
			return err ? err : 1;
	} else {
		char why[128];

		c.op = isa_decode(insns, cnt, idx, why, sizeof(why));
		if (c.op == ISA_OP_INVALID) {
			out_printf(&o, "%s", why);
			return -EINVAL;
		}
	}
	if (c.op == ISA_OP_LDDW)
		c.next = &insns[idx + 1];
	if (syntax == BPFVM_SYNTAX_CONFORMANCE)
		print_conformance(&o, &c);
	else if (syntax == BPFVM_SYNTAX_KERNEL)
		print_kernel(&o, &c);
	else
		print_llvm(&o, &c);
	if (c.op == ISA_OP_LDDW && c.insn->src_reg)
		out_map_name(&o, &c, syntax == BPFVM_SYNTAX_CONFORMANCE ? " # " : " ");
	return (int)isa_op_slots(c.op);
}
