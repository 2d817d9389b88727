/*
 * test_isa.c - the opcode table's own invariants: sorted by opcode byte
 * with each byte's variants together and told apart by one field; every
 * row decodes back to itself from an instruction built from it; fields a
 * form leaves unused are refused when set; the registers each row reads
 * and writes are what its opcode byte says.
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

/*
 * The registers each row reads and writes, worked out here from the
 * opcode byte's class, mode and operation (not from the form table that
 * opcode.c derives them from), for dst r1 and src r2.
 */
#define R(n) (1u << (n))

static void expected_regs(const struct bpfvm_insn *in, unsigned *reads, unsigned *writes)
{
	unsigned cls = BPFVM_CLASS(in->code), aop = in->code & 0xf0, mode = in->code & 0xe0;
	bool x = in->code & BPFVM_X;

	*reads = *writes = 0;
	switch (cls) {
	case BPFVM_ALU: case BPFVM_ALU64:
		*writes = R(1);
		*reads = (aop == BPFVM_MOV ? 0 : R(1)) | (x && aop != BPFVM_NEG && aop != 0xd0 ? R(2) : 0);
		break;
	case BPFVM_LDX:
		*reads = R(2);
		*writes = R(1);
		break;
	case BPFVM_ST:
		*reads = R(1);
		break;
	case BPFVM_STX:
		if (mode != 0xc0) { /* BPF_MEM */
			*reads = R(1) | R(2);
		} else if (in->imm == BPFVM_LOAD_ACQ) {
			*reads = R(2);
			*writes = R(1);
		} else if (in->imm == BPFVM_CMPXCHG) {
			*reads = R(0) | R(1) | R(2);
			*writes = R(0);
		} else {
			*reads = R(1) | R(2);
			*writes = in->imm & BPFVM_FETCH ? R(2) : 0;
		}
		break;
	case BPFVM_LD:
		if (mode == 0x00) /* lddw */
			*writes = R(1);
		else {
			*reads = R(6) | (mode == 0x40 ? R(2) : 0); /* BPF_IND adds src */
			*writes = R(0);
		}
		break;
	default: /* BPF_JMP, BPF_JMP32 */
		if (aop == BPFVM_CALL) {
			*reads = x ? R(1) : 0;
			*writes = R(0);
		} else if (aop == BPFVM_EXIT) {
			*reads = R(0);
		} else if (aop != BPFVM_JA && aop != 0xe0) { /* not goto, not may_goto */
			*reads = R(1) | (x ? R(2) : 0);
		}
	}
}

TEST(registers_read_and_written_follow_the_opcode)
{
	for (int r = 0; r < ISA_OP_COUNT; r++) {
		struct bpfvm_insn in = make_insn((enum isa_op)r);
		unsigned reads, writes;

		in.dst_reg = 1;
		if (isa_ops[r].vfield != V_SRC)
			in.src_reg = 2;
		expected_regs(&in, &reads, &writes);
		if (isa_regs_read(&in, (enum isa_op)r) != reads)
			TEST_FAIL("%s reads 0x%x, expected 0x%x", isa_ops[r].id,
				  isa_regs_read(&in, (enum isa_op)r), reads);
		if (isa_regs_written(&in, (enum isa_op)r) != writes)
			TEST_FAIL("%s writes 0x%x, expected 0x%x", isa_ops[r].id,
				  isa_regs_written(&in, (enum isa_op)r), writes);
	}
}

#undef R

TEST_MAIN()
