/*
 * opcode.c - the operation table built from opcodes.def, and the decoder:
 * from an instruction's bytes to its operation, with the kernel's checks
 * that unused fields are zero and registers exist.  Messages use the
 * kernel verifier's wording so that the kernel's expected substrings match.
 */
#include "opcode.h"

#include <stdio.h>

const struct isa_opinfo isa_ops[ISA_OP_COUNT] = {
#define OP(ID, CODE, VF, VV, FORM, GROUP, VER, MN) \
	[ISA_OP_##ID] = { #ID, MN, CODE, VF, VV, FORM, GROUP, VER },
#include "opcodes.def"
#undef OP
};

/* First row whose code is >= code: the rows are sorted by code. */
static size_t first_row(uint8_t code)
{
	size_t lo = 0, hi = ISA_OP_COUNT;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (isa_ops[mid].code < code)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool variant_matches(const struct isa_opinfo *info, const struct bpfvm_insn *insn)
{
	switch (info->vfield) {
	case V_OFF:
		return insn->off == info->vvalue;
	case V_IMM:
		return insn->imm == info->vvalue;
	case V_SRC:
		return insn->src_reg == info->vvalue;
	default:
		return true;
	}
}

enum isa_op isa_op_of(const struct bpfvm_insn *insn)
{
	for (size_t r = first_row(insn->code); r < ISA_OP_COUNT && isa_ops[r].code == insn->code; r++)
		if (variant_matches(&isa_ops[r], insn))
			return (enum isa_op)r;
	return ISA_OP_INVALID;
}

/* The kernel's name for the family an operation belongs to, for messages. */
static const char *family_name(const struct isa_opinfo *info)
{
	switch (info->form) {
	case F_ALU_K:
	case F_ALU_X:
		return (info->code & 0xf0) == BPFVM_MOV ? "BPF_MOV" : "BPF_ALU";
	case F_NEG: return "BPF_NEG";
	case F_END: return "BPF_END";
	case F_LDABS:
	case F_LDIND: return "BPF_LD_[ABS|IND]";
	case F_LDX: return "BPF_LDX";
	case F_ST: return "BPF_ST";
	case F_STX:
	case F_ATOMIC: return "BPF_STX";
	case F_JA:
	case F_JA32: return "BPF_JA";
	case F_JCOND_K:
	case F_JCOND_X: return "BPF_JMP/JMP32";
	case F_CALL:
	case F_CALLX: return "BPF_CALL";
	case F_EXIT: return "BPF_EXIT";
	case F_LDDW: return "BPF_LD_IMM64";
	default: return "BPF_JCOND";
	}
}

/* Fields each form leaves unused, which must be zero. */
enum { U_DST = 1, U_SRC = 2, U_OFF = 4, U_IMM = 8 };

static unsigned unused_fields(const struct isa_opinfo *info)
{
	static const uint8_t unused[] = {
		[F_ALU_K] = U_SRC | U_OFF,     [F_ALU_X] = U_IMM | U_OFF,
		[F_NEG] = U_SRC | U_OFF | U_IMM, [F_END] = U_SRC | U_OFF,
		[F_LDDW] = U_OFF,              [F_LDABS] = U_DST | U_SRC | U_OFF,
		[F_LDIND] = U_DST | U_OFF,     [F_LDX] = U_IMM,
		[F_ST] = U_SRC,                [F_STX] = U_IMM,
		[F_ATOMIC] = 0,                [F_JA] = U_DST | U_SRC | U_IMM,
		[F_JA32] = U_DST | U_SRC | U_OFF, [F_JCOND_K] = U_SRC,
		[F_JCOND_X] = U_IMM,           [F_CALL] = U_DST | U_OFF,
		[F_CALLX] = U_SRC | U_OFF | U_IMM, [F_EXIT] = U_DST | U_SRC | U_OFF | U_IMM,
		[F_MAY_GOTO] = U_DST | U_SRC | U_IMM,
	};
	unsigned u = unused[info->form];

	/* The selecting field is in use even where the form does not name it. */
	if (info->vfield == V_OFF)
		u &= ~U_OFF;
	if (info->vfield == V_SRC)
		u &= ~U_SRC;
	/* A kfunc call carries the BTF object's index in off. */
	if (info->code == (BPFVM_JMP | BPFVM_CALL) && info->vvalue == BPFVM_PSEUDO_KFUNC_CALL)
		u &= ~U_OFF;
	return u;
}

static bool has_nonzero_unused(const struct bpfvm_insn *insn, unsigned unused)
{
	return ((unused & U_DST) && insn->dst_reg) || ((unused & U_SRC) && insn->src_reg) ||
	       ((unused & U_OFF) && insn->off) || ((unused & U_IMM) && insn->imm);
}

/* The opcode byte exists but no row matches its selecting field. */
static void bad_variant(const struct isa_opinfo *info, const struct bpfvm_insn *insn,
			char *err, size_t errlen)
{
	if (info->form == F_ATOMIC)
		snprintf(err, errlen, "BPF_ATOMIC uses invalid atomic opcode %02x", insn->imm);
	else
		snprintf(err, errlen, "%s uses reserved fields", family_name(info));
}

static enum isa_op check_lddw(const struct bpfvm_insn *insns, size_t cnt, size_t idx,
			      char *err, size_t errlen)
{
	const struct bpfvm_insn *next = &insns[idx + 1];

	if (idx + 1 >= cnt || next->code || next->dst_reg || next->src_reg || next->off) {
		/* the kernel's wording for a missing or malformed second slot */
		snprintf(err, errlen, "invalid bpf_ld_imm64 insn");
		return ISA_OP_INVALID;
	}
	if (insns[idx].src_reg > BPFVM_PSEUDO_MAP_IDX_VALUE) {
		snprintf(err, errlen, "unrecognized bpf_ld_imm64 insn");
		return ISA_OP_INVALID;
	}
	return ISA_OP_LDDW;
}

enum isa_op isa_decode(const struct bpfvm_insn *insns, size_t cnt, size_t idx,
		       char *err, size_t errlen)
{
	const struct bpfvm_insn *insn = &insns[idx];
	size_t first = first_row(insn->code);
	enum isa_op op = isa_op_of(insn);
	const struct isa_opinfo *info;

	if (first >= ISA_OP_COUNT || isa_ops[first].code != insn->code) {
		/* the kernel checks a load's mode before the opcode as a whole */
		if (BPFVM_CLASS(insn->code) == BPFVM_LDX)
			snprintf(err, errlen, "BPF_LDX uses reserved fields");
		else
			snprintf(err, errlen, "unknown opcode %02x", insn->code);
		return ISA_OP_INVALID;
	}
	if (op == ISA_OP_INVALID) {
		bad_variant(&isa_ops[first], insn, err, errlen);
		return ISA_OP_INVALID;
	}
	info = &isa_ops[op];
	/* the kernel looks at lddw's second slot before its fields */
	if (info->form == F_LDDW && check_lddw(insns, cnt, idx, err, errlen) == ISA_OP_INVALID)
		return ISA_OP_INVALID;
	if (has_nonzero_unused(insn, unused_fields(info))) {
		snprintf(err, errlen, "%s uses reserved fields", family_name(info));
		return ISA_OP_INVALID;
	}
	/* lddw's and call's src field is a kind, not a register */
	if (insn->dst_reg >= BPFVM_NREGS ||
	    (info->form != F_CALL && info->form != F_LDDW && insn->src_reg >= BPFVM_NREGS)) {
		snprintf(err, errlen, "R%d is invalid",
			 insn->dst_reg >= BPFVM_NREGS ? insn->dst_reg : insn->src_reg);
		return ISA_OP_INVALID;
	}
	return op;
}

#define R(n) ((uint16_t)(1u << (n)))

/*
 * Which registers each operation reads and writes, by its form, in one
 * table derived from opcodes.def: a move does not read its destination;
 * atomics, which depend on imm, are worked out from the instruction.
 */
enum { RD_DST = 1, RD_SRC = 2, RD_R0 = 4, RD_R6 = 8, WR_DST = 16, WR_R0 = 32, ATOMIC = 64 };

#define FORM_REGS(FORM)                                                              \
	((FORM) == F_ALU_K || (FORM) == F_NEG || (FORM) == F_END ? RD_DST | WR_DST      \
	 : (FORM) == F_ALU_X ? RD_DST | RD_SRC | WR_DST                                 \
	 : (FORM) == F_LDDW ? WR_DST                                                    \
	 : (FORM) == F_LDABS ? RD_R6 | WR_R0                                            \
	 : (FORM) == F_LDIND ? RD_R6 | RD_SRC | WR_R0                                   \
	 : (FORM) == F_LDX ? RD_SRC | WR_DST                                            \
	 : (FORM) == F_ST || (FORM) == F_JCOND_K ? RD_DST                               \
	 : (FORM) == F_STX || (FORM) == F_JCOND_X ? RD_DST | RD_SRC                     \
	 : (FORM) == F_ATOMIC ? ATOMIC                                                  \
	 : (FORM) == F_CALL ? WR_R0                                                     \
	 : (FORM) == F_CALLX ? RD_DST | WR_R0                                           \
	 : (FORM) == F_EXIT ? RD_R0                                                     \
			    : 0)
#define OP_REGS(CODE, FORM)                                                          \
	(((FORM) == F_ALU_K || (FORM) == F_ALU_X) && ((CODE) & 0xf0) == BPFVM_MOV       \
		 ? FORM_REGS(FORM) & ~RD_DST                                            \
		 : FORM_REGS(FORM))

static const uint8_t op_regs[ISA_OP_COUNT + 1] = {
#define OP(ID, CODE, VF, VV, FORM, GROUP, VER, MN) [ISA_OP_##ID] = OP_REGS(CODE, FORM),
#include "opcodes.def"
#undef OP
};

static uint16_t atomic_regs_read(const struct bpfvm_insn *insn)
{
	if (insn->imm == BPFVM_LOAD_ACQ)
		return R(insn->src_reg);
	if (insn->imm == BPFVM_CMPXCHG)
		return R(insn->dst_reg) | R(insn->src_reg) | R(0);
	return R(insn->dst_reg) | R(insn->src_reg);
}

static uint16_t atomic_regs_written(const struct bpfvm_insn *insn)
{
	if (insn->imm == BPFVM_LOAD_ACQ)
		return R(insn->dst_reg);
	if (insn->imm == BPFVM_CMPXCHG)
		return R(0);
	return (insn->imm & BPFVM_FETCH) ? R(insn->src_reg) : 0;
}

uint16_t isa_regs_read(const struct bpfvm_insn *insn, enum isa_op op)
{
	unsigned use = op_regs[op];

	if (use & ATOMIC)
		return atomic_regs_read(insn);
	return (uint16_t)((use & RD_DST ? R(insn->dst_reg) : 0) | (use & RD_SRC ? R(insn->src_reg) : 0) |
			  (use & RD_R0 ? R(0) : 0) | (use & RD_R6 ? R(6) : 0));
}

uint16_t isa_regs_written(const struct bpfvm_insn *insn, enum isa_op op)
{
	unsigned use = op_regs[op];

	if (use & ATOMIC)
		return atomic_regs_written(insn);
	return (uint16_t)((use & WR_DST ? R(insn->dst_reg) : 0) | (use & WR_R0 ? R(0) : 0));
}

#undef R
