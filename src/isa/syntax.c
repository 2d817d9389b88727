/*
 * syntax.c - the text of each operation, computed from its row of
 * opcodes.def: which template its form takes, and the pieces the template
 * leaves to the row (operator, access size, register width).  The strings
 * are llvm-objdump 19's, except for load-acquire and store-release, which
 * LLVM 19 does not know; for those we use the syntax LLVM 20 introduced.
 * The kernel's verifier log has shapes of its own (syntax_kernel_template);
 * its operators and sizes are llvm's.
 */
#include "syntax.h"

static uint8_t op_bits(enum isa_op op)
{
	return isa_ops[op].code & 0xf0;
}

static uint8_t class_of(enum isa_op op)
{
	return BPFVM_CLASS(isa_ops[op].code);
}

/* The atomic operation selected by the row's imm (BPFVM_ADD, _OR, ...). */
static int atomic_alu_op(enum isa_op op)
{
	return isa_ops[op].vvalue & 0xf0;
}

static bool is_movsx(enum isa_op op)
{
	const struct isa_opinfo *o = &isa_ops[op];
	return o->form == F_ALU_X && op_bits(op) == BPFVM_MOV && o->vvalue != 0;
}

static bool is_load_acq(enum isa_op op)
{
	return isa_ops[op].form == F_ATOMIC && isa_ops[op].vvalue == BPFVM_LOAD_ACQ;
}

static bool is_store_rel(enum isa_op op)
{
	return isa_ops[op].form == F_ATOMIC && isa_ops[op].vvalue == BPFVM_STORE_REL;
}

/* An atomic's text: llvm's or, with kernel, the kernel log's (the same for acquire/release). */
static const char *atomic_template(enum isa_op op, bool kernel)
{
	bool w32 = BPFVM_SIZE(isa_ops[op].code) == BPFVM_W;
	int32_t imm = isa_ops[op].vvalue;

	if (is_load_acq(op))
		return "%d = load_acquire((%z *)(%s %o))";
	if (is_store_rel(op))
		return "store_release((%z *)(%d %o), %s)";
	if (imm == BPFVM_XCHG)
		return kernel ? "%s = atomic%W_xchg((%z *)(%d %o), %t)"
		       : w32  ? "%s = xchg32_32(%d %o, %t)"
			      : "%s = xchg_64(%d %o, %t)";
	if (imm == BPFVM_CMPXCHG)
		return kernel ? "r0 = atomic%W_cmpxchg((%z *)(%d %o), r0, %s)"
		       : w32  ? "w0 = cmpxchg32_32(%d %o, w0, %s)"
			      : "r0 = cmpxchg_64(%d %o, r0, %s)";
	if (imm & BPFVM_FETCH)
		return kernel ? "%s = atomic%W_fetch_%p((%z *)(%d %o), %t)"
			      : "%s = atomic_fetch_%p((%z *)(%d %o), %t)";
	return "lock *(%z *)(%d %o) %p %s";
}

const char *syntax_llvm_template(enum isa_op op, unsigned variant)
{
	static const char *const by_form[] = {
		[F_ALU_K] = "%d %p %i",
		[F_ALU_X] = "%d %p %s",
		[F_NEG] = "%d = -%e",
		[F_END] = "%d = %p %e",
		[F_LDDW] = "%d = %q ll",
		[F_LDABS] = "r0 = *(%z *)skb[%i]",
		[F_LDIND] = "r0 = *(%z *)skb[%s]",
		[F_LDX] = "%d = *(%z *)(%s %o)",
		[F_ST] = "*(%z *)(%d %o) = %i",
		[F_STX] = "*(%z *)(%d %o) = %s",
		[F_JA] = "goto %j",
		[F_JA32] = "gotol %J",
		[F_JCOND_K] = "if %d %p %i goto %j",
		[F_JCOND_X] = "if %d %p %s goto %j",
		[F_CALL] = "call %i",
		[F_CALLX] = "callx %d",
		[F_EXIT] = "exit",
		[F_MAY_GOTO] = "may_goto %j",
	};
	uint8_t form = isa_ops[op].form;

	if (variant == 1 && form == F_LDDW)
		/* LLVM prints an lddw with a pseudo kind in src as an instruction
		 * of its own, with a tab after the mnemonic. */
		return "ld_pseudo\t%d, %x, %u";
	if (variant == 1 && form == F_LDIND)
		/* LLVM's LD_IND has no imm; ours is printed when not zero. */
		return "r0 = *(%z *)skb[%s %m]";
	if (variant)
		return NULL;
	if (form == F_ATOMIC)
		return atomic_template(op, false);
	if (is_movsx(op))
		return "%d = %p%s";
	if (op == ISA_OP_CALL_LOCAL)
		return "call %k";
	return by_form[form];
}

static const char *alu_optext(enum isa_op op)
{
	static const char *const ops[16] = {
		"+=", "-=", "*=", "/=", "|=", "&=", "<<=", ">>=",
		NULL, "%=", "^=", "=", "s>>=", NULL, NULL, NULL,
	};
	const struct isa_opinfo *o = &isa_ops[op];

	/* sdiv and smod are div and mod with off = 1. */
	if (o->vfield == V_OFF && o->vvalue == 1)
		return op_bits(op) == BPFVM_DIV ? "s/=" : "s%=";
	if (is_movsx(op)) {
		static const char *const casts[] = { "(s8)", "(s16)", "(s32)" };
		return casts[o->vvalue == 8 ? 0 : o->vvalue == 16 ? 1 : 2];
	}
	return ops[op_bits(op) >> 4] ? ops[op_bits(op) >> 4] : "";
}

static const char *end_optext(enum isa_op op)
{
	static const char *const names[3][3] = {
		{ "le16", "le32", "le64" },
		{ "be16", "be32", "be64" },
		{ "bswap16", "bswap32", "bswap64" },
	};
	const struct isa_opinfo *o = &isa_ops[op];
	int kind = class_of(op) == BPFVM_ALU64 ? 2 : (o->code & BPFVM_TO_BE) ? 1 : 0;
	int width = o->vvalue == 16 ? 0 : o->vvalue == 32 ? 1 : 2;

	return names[kind][width];
}

static const char *jmp_optext(enum isa_op op)
{
	static const char *const ops[16] = {
		NULL, "==", ">", ">=", "&", "!=", "s>", "s>=",
		NULL, NULL, "<", "<=", "s<", "s<=", NULL, NULL,
	};
	return ops[op_bits(op) >> 4] ? ops[op_bits(op) >> 4] : "";
}

static const char *atomic_optext(enum isa_op op)
{
	bool fetch = isa_ops[op].vvalue & BPFVM_FETCH;

	switch (atomic_alu_op(op)) {
	case BPFVM_ADD: return fetch ? "add" : "+=";
	case BPFVM_OR: return fetch ? "or" : "|=";
	case BPFVM_AND: return fetch ? "and" : "&=";
	case BPFVM_XOR: return fetch ? "xor" : "^=";
	default: return "";
	}
}

const char *syntax_llvm_optext(enum isa_op op)
{
	switch (isa_ops[op].form) {
	case F_ALU_K:
	case F_ALU_X: return alu_optext(op);
	case F_END: return end_optext(op);
	case F_JCOND_K:
	case F_JCOND_X: return jmp_optext(op);
	case F_ATOMIC: return atomic_optext(op);
	default: return "";
	}
}

const char *syntax_llvm_size(enum isa_op op)
{
	static const char *const unsigned_names[] = { "u32", "u16", "u8", "u64" };
	static const char *const signed_names[] = { "s32", "s16", "s8", "s64" };
	uint8_t code = isa_ops[op].code;

	switch (isa_ops[op].form) {
	case F_LDABS:
	case F_LDIND:
	case F_LDX:
	case F_ST:
	case F_STX:
	case F_ATOMIC:
		if (BPFVM_MODE(code) == BPFVM_MEMSX)
			return signed_names[(code >> 3) & 3];
		return unsigned_names[(code >> 3) & 3];
	default:
		return "";
	}
}

/* 32-bit ALU and JMP32 operate on w registers (byte swaps excepted). */
static bool narrow_alu(enum isa_op op)
{
	switch (isa_ops[op].form) {
	case F_ALU_K:
	case F_ALU_X:
	case F_NEG: return class_of(op) == BPFVM_ALU;
	case F_JCOND_K:
	case F_JCOND_X: return class_of(op) == BPFVM_JMP32;
	default: return false;
	}
}

/*
 * Sub-word atomics name their value register w; 32-bit atomic add keeps
 * r, as llvm-objdump's default decoder (the one without alu32) prints it.
 */
static bool narrow_atomic(enum isa_op op)
{
	return isa_ops[op].form == F_ATOMIC && BPFVM_SIZE(isa_ops[op].code) != BPFVM_DW &&
	       op != ISA_OP_ATOMIC_W_ADD;
}

char syntax_llvm_dst_prefix(enum isa_op op)
{
	return narrow_alu(op) || (narrow_atomic(op) && is_load_acq(op)) ? 'w' : 'r';
}

char syntax_llvm_src_prefix(enum isa_op op)
{
	return narrow_alu(op) || (narrow_atomic(op) && !is_load_acq(op)) ? 'w' : 'r';
}

bool syntax_llvm_prefix_matters(enum isa_op op)
{
	switch (isa_ops[op].form) {
	case F_LDX:
	case F_STX:
	case F_ATOMIC: return false;
	default: return true;
	}
}

const char *syntax_kernel_template(enum isa_op op)
{
	static const char *const by_form[] = {
		[F_ALU_K] = "%d %p %i",
		[F_ALU_X] = "%d %p %s",
		[F_NEG] = "%d = -%e",
		[F_END] = "%d = %p %e",
		[F_LDDW] = "%d = %q",
		[F_LDABS] = "r0 = *(%z *)skb[%i]",
		[F_LDIND] = "r0 = *(%z *)skb[%s + %i]",
		[F_LDX] = "%d = *(%z *)(%s %o)",
		[F_ST] = "*(%z *)(%d %o) = %i",
		[F_STX] = "*(%z *)(%d %o) = %s",
		[F_JA] = "goto %j",
		[F_JA32] = "gotol %J",
		[F_JCOND_K] = "if %d %p %h goto %j",
		[F_JCOND_X] = "if %d %p %s goto %j",
		[F_CALL] = "call %k",
		[F_CALLX] = "callx %d", /* bpfvm's: the kernel takes callx from no loader */
		[F_EXIT] = "exit",
		[F_MAY_GOTO] = "may_goto %j",
	};

	if (isa_ops[op].form == F_ATOMIC)
		return atomic_template(op, true);
	if (is_movsx(op))
		return "%d = %p%s";
	return by_form[isa_ops[op].form];
}

char syntax_kernel_prefix(enum isa_op op)
{
	return narrow_alu(op) ? 'w' : 'r';
}

const char *syntax_conf_operands(enum isa_op op, unsigned variant)
{
	static const char *const by_form[] = {
		[F_ALU_K] = "di", [F_ALU_X] = "ds", [F_NEG] = "d", [F_END] = "d",
		[F_LDDW] = "dq", [F_LDABS] = "i", [F_LDIND] = "si", [F_LDX] = "dm",
		[F_ST] = "Mi", [F_STX] = "Ms", [F_ATOMIC] = "Ms", [F_JA] = "j",
		[F_JA32] = "J", [F_JCOND_K] = "dij", [F_JCOND_X] = "dsj", [F_CALL] = "i",
		[F_CALLX] = "d", [F_EXIT] = "", [F_MAY_GOTO] = "j",
	};

	if (variant) {
		if (op == ISA_OP_LDDW)
			return "dqx";
		return op == ISA_OP_CALL_KFUNC ? "io" : NULL;
	}
	if (is_load_acq(op))
		return "dm";
	if (op == ISA_OP_CALL_LOCAL)
		return "k";
	return by_form[isa_ops[op].form];
}
