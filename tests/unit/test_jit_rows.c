/*
 * test_jit_rows.c - the JIT against the unchecked interpreter: every row
 * of the opcode table on edge-case operands and register pairs, with and
 * without BMI2 and with constant blinding, and a few thousand random
 * programs from tests/fuzz/fuzz_jit.c.
 */
#include "jit_harness.h"

#define FUZZ_JIT_NO_ENTRY
#include "../fuzz/fuzz_jit.c"

/* ---- one generator per form ------------------------------------------------------ */

static struct bpfvm_insn row_insn(enum isa_op op, int dst, int src, int16_t off, int32_t imm)
{
	const struct isa_opinfo *info = &isa_ops[op];
	struct bpfvm_insn in = BPFVM_RAW_INSN(info->code, dst, src, off, imm);

	if (info->vfield == V_OFF)
		in.off = (int16_t)info->vvalue;
	else if (info->vfield == V_IMM)
		in.imm = info->vvalue;
	else if (info->vfield == V_SRC)
		in.src_reg = (uint8_t)info->vvalue;
	return in;
}

static void test_alu(enum isa_op op, int dst, int src)
{
	uint8_t form = isa_ops[op].form;
	char what[96];

	snprintf(what, sizeof(what), "%s r%d, r%d", isa_ops[op].id, dst, src);
	begin(dst, src);
	for (size_t a = 0; a < NVALUES && !full(); a++) {
		size_t nb = form == F_ALU_K ? NIMMS : form == F_ALU_X && dst != src ? NVALUES : 1;

		for (size_t b = 0; b < nb && !full(); b++) {
			ld64(dst, values[a]);
			if (form == F_ALU_X && dst != src)
				ld64(src, values[b]);
			emit(row_insn(op, dst, form == F_ALU_X ? src : 0, 0,
				      form == F_ALU_K ? imms[b] : 0));
			save(dst);
			if (form == F_ALU_X)
				save(src);
		}
	}
	finish();
	compare_all(what);
}

static void test_jcond(enum isa_op op, int dst, int src)
{
	bool x = isa_ops[op].form == F_JCOND_X;
	char what[96];
	unsigned i = 0;

	snprintf(what, sizeof(what), "%s r%d, r%d", isa_ops[op].id, dst, src);
	begin(dst, src);
	for (size_t a = 0; a < NVALUES && !full(); a++) {
		for (size_t b = 0; b < (x ? (dst == src ? 1 : NVALUES) : NIMMS) && !full(); b++, i++) {
			/* every 7th jump skips enough code to need a 32-bit displacement */
			int filler = i % 7 == 0 ? 40 : 1;
			int16_t off = slot_off();

			ld64(dst, values[a]);
			if (x && dst != src)
				ld64(src, values[b]);
			emit(BPFVM_ST_MEM(BPFVM_DW, pb.base, off, 0));
			emit(row_insn(op, dst, x ? src : 0, (int16_t)filler, x ? 0 : imms[b]));
			for (int f = 0; f < filler; f++)
				emit(BPFVM_ST_MEM(BPFVM_DW, pb.base, off, f + 1));
		}
	}
	finish();
	compare_all(what);
}

/* Loads and load-acquire: dst = *(src + off), src the input's address plus a bias. */
static void test_load(enum isa_op op, int dst, int src)
{
	bool acq = isa_ops[op].form == F_ATOMIC;
	unsigned size = isa_access_size(isa_ops[op].code);
	char what[96];

	snprintf(what, sizeof(what), "%s r%d, r%d", isa_ops[op].id, dst, src);
	begin(dst, src);
	for (int bias = 0; bias <= 512; bias += 512) {
		for (int off = -40; off < 300 && !full(); off += acq ? (int)size : 1) {
			if (bias + off < 0 || bias + off + (int)size > OUT)
				continue;
			emit(BPFVM_MOV64_REG(src, pb.base));
			emit(BPFVM_ALU64_IMM(BPFVM_ADD, src, bias));
			emit(row_insn(op, dst, src, (int16_t)off, 0));
			save(dst);
		}
	}
	finish();
	compare_all(what);
}

/* Stores, plain, immediate and store-release, into the result slots. */
static void test_store(enum isa_op op, int dst, int src)
{
	uint8_t form = isa_ops[op].form;
	unsigned size = isa_access_size(isa_ops[op].code);
	char what[96];

	snprintf(what, sizeof(what), "%s r%d, r%d", isa_ops[op].id, dst, src);
	begin(dst, src);
	for (size_t a = 0; a < NVALUES && !full(); a++) {
		for (unsigned j = 0; j <= 8 - size && !full(); j += form == F_ATOMIC ? size : 1) {
			int16_t off = (int16_t)(slot_off() + j);

			emit(BPFVM_MOV64_REG(dst, pb.base));
			if (form == F_ST) {
				emit(row_insn(op, dst, 0, off, imms[(a + j) % NIMMS]));
			} else {
				if (src != dst)
					ld64(src, values[a]);
				emit(row_insn(op, dst, src, off, 0));
			}
		}
	}
	finish();
	compare_all(what);
}

/* Read-modify-write atomics: memory, the fetched value and r0 afterwards. */
static void test_atomic(enum isa_op op, int dst, int src)
{
	char what[96];

	snprintf(what, sizeof(what), "%s r%d, r%d", isa_ops[op].id, dst, src);
	begin(dst, src);
	if (pb.base == 0)
		return;
	for (size_t a = 0; a < NVALUES && !full(); a++) {
		int16_t off = slot_off();

		if (a % 2 && dst != 0 && src != 0) {
			/* cmpxchg: half of them succeed; 32-bit, with garbage above r0's low half */
			bool dw = isa_access_size(isa_ops[op].code) == 8;

			emit(BPFVM_ST_MEM(dw ? BPFVM_DW : BPFVM_W, pb.base, off, 0x12345678 + (int)a));
			ld64(0, (dw ? 0 : 0xabcdef0000000000ull) + 0x12345678 + a);
		} else if (dst != 0 && src != 0) {
			ld64(0, values[NVALUES - 1 - a]);
		}
		emit(BPFVM_MOV64_REG(dst, pb.base));
		if (src != dst)
			ld64(src, values[a]);
		emit(row_insn(op, dst, src, off, 0));
		save(src);
		save(0);
		save(dst);
	}
	finish();
	compare_all(what);
}

/* r0 = the big-endian packet bytes at an offset; the last one out of bounds. */
static void test_ldpkt(enum isa_op op, int src)
{
	bool ind = isa_ops[op].form == F_LDIND;
	char what[96];

	snprintf(what, sizeof(what), "%s r%d", isa_ops[op].id, src);
	for (int oob = 0; oob < 3; oob++) {
		begin(src, 0);
		for (int k = 0; k < 200 && !full(); k++) {
			if (ind)
				emit(BPFVM_MOV64_IMM(src, k * 3 - 100));
			emit(row_insn(op, 0, ind ? src : 0, 0, ind ? 100 : k * 3));
			save(0);
		}
		/* out of bounds three ways: past the end, straddling it, negative */
		if (ind)
			emit(BPFVM_MOV64_IMM(src, oob == 2 ? -5 : (int32_t)(OUT + 8 * pb.slot + 64)));
		emit(row_insn(op, 0, ind ? src : 0, 0,
			      oob == 0 ? 100000 : oob == 1 ? (int32_t)(OUT + 8 * pb.slot + 64 - 1) : -1));
		save(0);
		finish();
		compare_all(what);
	}
}

static void test_lddw(void)
{
	begin(-1, -1);
	for (size_t a = 0; a < NVALUES; a++) {
		ld64((int)(a % 10 == (size_t)pb.base ? 0 : a % 10), values[a]);
		save((int)(a % 10 == (size_t)pb.base ? 0 : a % 10));
	}
	finish();
	compare_all("LDDW");
}

static void test_unary(enum isa_op op, int dst, int src)
{
	uint8_t form = isa_ops[op].form;
	char what[96];

	snprintf(what, sizeof(what), "%s r%d, r%d", isa_ops[op].id, dst, src);
	begin(dst, src);
	for (size_t a = 0; a < NVALUES; a++) {
		if (form == F_ALU_X) /* movsx: dst = (signed) src */
			ld64(src, values[a]);
		else
			ld64(dst, values[a]);
		emit(row_insn(op, dst, form == F_ALU_X ? src : 0, 0, 0));
		save(dst);
		save(src);
	}
	finish();
	compare_all(what);
}

/* Jumps forward and back, short and long: a loop counting down. */
static void test_ja(enum isa_op op)
{
	begin(-1, -1);
	emit(BPFVM_MOV64_IMM(0, 0));
	emit(BPFVM_MOV64_IMM(3, 5));
	emit(row_insn(op, 0, 0, op == ISA_OP_JA ? 2 : 0, op == ISA_OP_JA ? 0 : 2)); /* over two */
	emit(BPFVM_MOV64_IMM(0, 111));
	emit(BPFVM_MOV64_IMM(0, 222));
	/* loop: r0 += r3; r3 -= 1; if r3 == 0 goto out; 50 fillers; goto loop */
	emit(BPFVM_ALU64_REG(BPFVM_ADD, 0, 3));
	emit(BPFVM_ALU64_IMM(BPFVM_SUB, 3, 1));
	emit(BPFVM_JMP_IMM(BPFVM_JEQ, 3, 0, 51));
	for (int f = 0; f < 50; f++)
		emit(BPFVM_ALU64_IMM(BPFVM_ADD, 4, 1));
	emit(row_insn(op, 0, 0, op == ISA_OP_JA ? -54 : 0, op == ISA_OP_JA ? 0 : -54));
	finish();
	compare_all(isa_ops[op].id);
}

/* Every row of the opcode table has a generator, and the JIT agrees on it. */
static bool test_row(enum isa_op op)
{
	uint8_t form = isa_ops[op].form;
	bool acq_rel = form == F_ATOMIC && isa_ops[op].vvalue >= BPFVM_LOAD_ACQ;

	for (size_t p = 0; p < NPAIRS; p++) {
		int dst = pairs[p][0], src = pairs[p][1];

		if (form == F_ALU_K || form == F_ALU_X) {
			if (op >= ISA_OP_MOVSX8_32 && op <= ISA_OP_MOVSX16_32)
				test_unary(op, dst, src);
			else if (op >= ISA_OP_MOVSX8_64 && op <= ISA_OP_MOVSX32_64)
				test_unary(op, dst, src);
			else
				test_alu(op, dst, src);
		} else if (form == F_NEG || form == F_END) {
			test_unary(op, dst, src);
		} else if (form == F_JCOND_K || form == F_JCOND_X) {
			test_jcond(op, dst, src);
		} else if (form == F_LDX || (acq_rel && isa_ops[op].vvalue == BPFVM_LOAD_ACQ)) {
			test_load(op, dst, src);
		} else if (form == F_ST || form == F_STX || acq_rel) {
			test_store(op, dst, src);
		} else if (form == F_ATOMIC) {
			test_atomic(op, dst, src);
		} else if (form == F_LDABS || form == F_LDIND) {
			test_ldpkt(op, src == 0 ? 7 : src);
			return true;
		} else {
			return false;
		}
		if (test_failed_now)
			return true;
	}
	return true;
}

static void every_row(void)
{
	fill_input(0x5eed);
	for (enum isa_op op = 0; op < ISA_OP_COUNT && !test_failed_now; op++) {
		uint8_t form = isa_ops[op].form;

		if (test_row(op))
			continue;
		switch (form) {
		case F_LDDW: test_lddw(); break;
		case F_JA:
		case F_JA32: test_ja(op); break;
		/* calls, exit and may_goto have tests of their own below */
		case F_CALL:
		case F_CALLX:
		case F_EXIT:
		case F_MAY_GOTO: break;
		default: TEST_FAIL("no test for row %s", isa_ops[op].id);
		}
	}
}

TEST(every_row_against_the_interpreter)
{
	every_row();
}

TEST(random_programs_agree)
{
	uint64_t bad = fuzz_jit_run(0x7e57, 3000);

	CHECK_EQ_U64(bad, 0);
}

TEST_MAIN()
