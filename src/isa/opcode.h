/*
 * opcode.h - the instruction set as data.  Every operation is a row of
 * opcodes.def; this header turns the rows into an enum of operation ids and
 * a table describing each, and declares the decoder that maps an
 * instruction's bytes to its row and checks its fields.
 */
#ifndef BPFVM_ISA_OPCODE_H
#define BPFVM_ISA_OPCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bpfvm/isa.h>

/* Which field, if any, selects the variant of an overloaded opcode byte. */
enum isa_vfield { V_NONE, V_OFF, V_IMM, V_SRC };

/*
 * Operand forms: which fields an operation uses.  Fields a form does not use
 * must be zero (the kernel's "uses reserved fields" check).
 */
enum isa_form {
	F_ALU_K,    /* dst op= imm */
	F_ALU_X,    /* dst op= src */
	F_NEG,      /* dst = -dst */
	F_END,      /* dst = swap(dst), width in imm */
	F_LDDW,     /* dst = imm64 (two slots); src is the pseudo kind */
	F_LDABS,    /* r0 = packet[imm] */
	F_LDIND,    /* r0 = packet[src + imm] */
	F_LDX,      /* dst = *(src + off) */
	F_ST,       /* *(dst + off) = imm */
	F_STX,      /* *(dst + off) = src */
	F_ATOMIC,   /* atomic op on *(dst + off) with src; op in imm */
	F_JA,       /* goto off */
	F_JA32,     /* goto imm */
	F_JCOND_K,  /* if dst op imm goto off */
	F_JCOND_X,  /* if dst op src goto off */
	F_CALL,     /* call imm: helper id, pc-relative function or kfunc by src */
	F_CALLX,    /* call dst */
	F_EXIT,
	F_MAY_GOTO, /* goto off once the loop budget is spent */
};

enum isa_group {
	G_BASE32, G_BASE64, G_ATOMIC32, G_ATOMIC64, G_DIVMUL32, G_DIVMUL64,
	G_CALLX, G_PACKET, G_LINUX,
};

enum isa_op {
#define OP(ID, CODE, VF, VV, FORM, GROUP, VER, MN) ISA_OP_##ID,
#include "opcodes.def"
#undef OP
	ISA_OP_COUNT,
	ISA_OP_INVALID = ISA_OP_COUNT,
};

struct isa_opinfo {
	const char *id;       /* "ADD64_K" */
	const char *mnemonic; /* conformance syntax: "add" */
	uint8_t code;
	uint8_t vfield;       /* enum isa_vfield */
	int32_t vvalue;
	uint8_t form;         /* enum isa_form */
	uint8_t group;        /* enum isa_group */
	uint8_t version;
};

extern const struct isa_opinfo isa_ops[ISA_OP_COUNT];

/*
 * Decode slot idx of insns[0..cnt): its operation, and whether its fields
 * are valid.  Returns the op and fills nothing on success; on failure
 * returns ISA_OP_INVALID and writes the kernel's wording for the problem
 * ("unknown opcode 8e", "BPF_ALU uses reserved fields", "invalid
 * bpf_ld_imm64 insn", "R12 is invalid") into err.
 */
enum isa_op isa_decode(const struct bpfvm_insn *insns, size_t cnt, size_t idx,
		       char *err, size_t errlen);

/* Just the operation of an instruction, without checking its fields. */
enum isa_op isa_op_of(const struct bpfvm_insn *insn);

/* Slots an operation takes: 2 for lddw, else 1. */
static inline unsigned isa_op_slots(enum isa_op op)
{
	return op == ISA_OP_LDDW ? 2 : 1;
}

/* The width in bytes of a load, store or atomic (from its size bits). */
static inline unsigned isa_access_size(uint8_t code)
{
	static const uint8_t sizes[4] = { 4, 2, 1, 8 };
	return sizes[(code >> 3) & 3];
}

/*
 * Is op's form one of a set (ISA_FORM(F_X) | ISA_FORM(F_Y) ...)?  A mask
 * test, not a chain of compares or a switch: the JIT's analyses ask this
 * of every instruction.
 */
#define ISA_FORM(f) (1u << (f))

static inline bool isa_op_form_in(enum isa_op op, uint32_t forms)
{
	return forms >> isa_ops[op].form & 1;
}

/* Classes of operation that consumers ask about. */
static inline bool isa_op_is_jump(enum isa_op op)
{
	return isa_op_form_in(op, ISA_FORM(F_JA) | ISA_FORM(F_JA32) | ISA_FORM(F_JCOND_K) |
					  ISA_FORM(F_JCOND_X) | ISA_FORM(F_MAY_GOTO));
}

/* Does control go on to the next instruction (not an exit, not a goto)? */
static inline bool isa_op_falls_through(enum isa_op op)
{
	return !isa_op_form_in(op, ISA_FORM(F_EXIT) | ISA_FORM(F_JA) | ISA_FORM(F_JA32));
}

/*
 * Index of the instruction a jump at idx goes to (may be out of range).
 * gotol (JA32) is the one jump whose offset is in imm, and the only
 * operation of its opcode byte: no need to decode the instruction.
 */
static inline int64_t isa_jump_target(const struct bpfvm_insn *insn, size_t idx)
{
	if (insn->code == (BPFVM_JMP32 | BPFVM_JA))
		return (int64_t)idx + 1 + insn->imm;
	return (int64_t)idx + 1 + insn->off;
}

/* Register masks: bit n = register n read or written by this instruction. */
uint16_t isa_regs_read(const struct bpfvm_insn *insn, enum isa_op op);
uint16_t isa_regs_written(const struct bpfvm_insn *insn, enum isa_op op);

#endif
