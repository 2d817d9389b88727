/*
 * test_isa.c - the opcode table's own invariants: sorted by opcode byte
 * with each byte's variants together and told apart by one field; every
 * row decodes back to itself from an instruction built from it; fields a
 * form leaves unused are refused when set.
 */
#include "isa/opcode.h"
#include "test.h"

/* An instruction that is row op with valid operands. */
static struct bpfvm_insn make_insn(enum isa_op op)
{
	const struct isa_opinfo *info = &isa_ops[op];
	struct bpfvm_insn insn = { .code = info->code };

	switch (info->vfield) {
	case V_OFF: insn.off = (int16_t)info->vvalue; break;
	case V_IMM: insn.imm = info->vvalue; break;
	case V_SRC: insn.src_reg = (uint8_t)info->vvalue; break;
	default: break;
	}
	return insn;
}

TEST(rows_sorted_and_variants_distinct)
{
	for (int r = 1; r < ISA_OP_COUNT; r++) {
		const struct isa_opinfo *a = &isa_ops[r - 1], *b = &isa_ops[r];

		if (a->code > b->code)
			TEST_FAIL("row %s (0x%02x) comes after %s (0x%02x)", b->id, b->code, a->id, a->code);
		if (a->code == b->code && (a->vfield != b->vfield || a->vfield == V_NONE))
			TEST_FAIL("rows %s and %s share 0x%02x without one selecting field", a->id, b->id, a->code);
		if (a->code == b->code && a->vvalue == b->vvalue)
			TEST_FAIL("rows %s and %s are the same operation", a->id, b->id);
	}
	CHECK_EQ_INT(ISA_OP_COUNT, 174);
}

TEST(every_row_decodes_to_itself)
{
	for (int r = 0; r < ISA_OP_COUNT; r++) {
		struct bpfvm_insn insns[2] = { make_insn((enum isa_op)r), { 0 } };
		char why[96] = "";
		enum isa_op got = isa_decode(insns, 2, 0, why, sizeof(why));

		if (got != (enum isa_op)r)
			TEST_FAIL("row %s decodes as %d: %s", isa_ops[r].id, got, why);
	}
}

TEST(unused_fields_are_refused)
{
	struct bpfvm_insn insns[2] = { 0 };
	char why[96];

	insns[0] = make_insn(ISA_OP_EXIT);
	insns[0].imm = 1;
	CHECK_EQ_INT(isa_decode(insns, 1, 0, why, sizeof(why)), ISA_OP_INVALID);
	CHECK_STR(why, "BPF_EXIT uses reserved fields");
	insns[0] = make_insn(ISA_OP_ADD64_K);
	insns[0].src_reg = 1;
	CHECK_EQ_INT(isa_decode(insns, 1, 0, why, sizeof(why)), ISA_OP_INVALID);
	CHECK_STR(why, "BPF_ALU uses reserved fields");
	insns[0] = make_insn(ISA_OP_SDIV64_K);
	insns[0].off = 2;
	CHECK_EQ_INT(isa_decode(insns, 1, 0, why, sizeof(why)), ISA_OP_INVALID);
	CHECK_STR(why, "BPF_ALU uses reserved fields");
	insns[0] = make_insn(ISA_OP_ATOMIC_DW_ADD);
	insns[0].imm = 0x10;
	CHECK_EQ_INT(isa_decode(insns, 1, 0, why, sizeof(why)), ISA_OP_INVALID);
	CHECK_STR(why, "BPF_ATOMIC uses invalid atomic opcode 10");
	insns[0] = make_insn(ISA_OP_MOV64_X);
	insns[0].src_reg = 11;
	CHECK_EQ_INT(isa_decode(insns, 1, 0, why, sizeof(why)), ISA_OP_INVALID);
	CHECK_STR(why, "R11 is invalid");
	insns[0] = make_insn(ISA_OP_LE16);
	insns[0].imm = 8;
	CHECK_EQ_INT(isa_decode(insns, 1, 0, why, sizeof(why)), ISA_OP_INVALID);
	CHECK_STR(why, "BPF_END uses reserved fields");
	insns[0] = (struct bpfvm_insn){ .code = 0xff };
	CHECK_EQ_INT(isa_decode(insns, 1, 0, why, sizeof(why)), ISA_OP_INVALID);
	CHECK_STR(why, "unknown opcode ff");
}

/*
 * The opcode bytes bpfvm knows are Linux 6.12's public table (the 119 rows
 * of BPF_INSN_MAP in kernel/bpf/core.c, the six legacy packet loads and
 * BPF_JCOND: 126 bytes), plus callx (0x8d, RFC 9669) and the byte and
 * half-word atomics that load-acquire and store-release use (0xd3, 0xcb,
 * Linux 6.15).
 */
TEST(opcode_bytes_are_the_kernels)
{
	int known = 0;

	for (int code = 0; code < 256; code++) {
		int in_table = 0;

		for (int r = 0; r < ISA_OP_COUNT; r++)
			in_table |= isa_ops[r].code == code;
		known += in_table;
	}
	CHECK_EQ_INT(known, 126 + 3);
	CHECK_EQ_INT(isa_ops[ISA_OP_CALLX].code, 0x8d);
	CHECK_EQ_INT(isa_ops[ISA_OP_LOAD_ACQ_B].code, 0xd3);
	CHECK_EQ_INT(isa_ops[ISA_OP_LOAD_ACQ_H].code, 0xcb);
}

TEST_MAIN()
