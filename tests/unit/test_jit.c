/*
 * test_jit.c - the JIT against the unchecked interpreter: every row of the
 * opcode table on edge-case operands and on register pairs that stress the
 * x86 mapping (rax/rdx for division, rcx for shifts, sil/dil for bytes,
 * rbp/r13 as bases), with and without BMI2 and with constant blinding;
 * calls, callx, tail calls, may_goto, packet loads; the division magic
 * numbers on their own; what the JIT refuses and how; code memory that is
 * never writable and executable; and a few thousand random programs from
 * tests/fuzz/fuzz_jit.c.
 */
#include <errno.h>
#include <sched.h>
#include <sys/mman.h>

#include <bpfvm/bpfvm.h>
#include <bpfvm/maps.h>

#include "isa/opcode.h"
#include "vm/jit.h"
#include "verifier/facts.h"
#include "vm/vm.h"

#include "test.h"

#define FUZZ_JIT_NO_ENTRY
#include "../fuzz/fuzz_jit.c"

#define MEM 32768
#define OUT 1024          /* results start here; below is input */
#define MAX_SLOTS 3900    /* 8-byte result slots that a 16-bit offset reaches */
#define HELPER 150

/* ---- building programs ------------------------------------------------------ */

struct pb {
	struct bpfvm_insn v[24000];
	size_t n;
	unsigned slot; /* next result slot */
	int base;      /* the register holding the buffer's address */
};

static struct pb pb;

static void emit(struct bpfvm_insn in)
{
	if (pb.n < sizeof(pb.v) / sizeof(pb.v[0]))
		pb.v[pb.n++] = in;
}

static void ld64(int reg, uint64_t v)
{
	emit(BPFVM_RAW_INSN(BPFVM_LD | BPFVM_DW | BPFVM_IMM, reg, 0, 0, (int32_t)(uint32_t)v));
	emit(BPFVM_RAW_INSN(0, 0, 0, 0, (int32_t)(uint32_t)(v >> 32)));
}

static int16_t slot_off(void)
{
	return (int16_t)(OUT + 8 * pb.slot++);
}

static void save(int reg)
{
	emit(BPFVM_STX_MEM(BPFVM_DW, pb.base, reg, slot_off()));
}

static bool full(void)
{
	return pb.slot + 24 > MAX_SLOTS || pb.n + 200 > sizeof(pb.v) / sizeof(pb.v[0]);
}

/* The buffer's address in base; every other register a known value. */
static void begin(int avoid1, int avoid2)
{
	static const int bases[] = { 6, 7, 8, 9, 2 };

	pb.n = 0;
	pb.slot = 0;
	for (unsigned i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
		if (bases[i] != avoid1 && bases[i] != avoid2) {
			pb.base = bases[i];
			break;
		}
	}
	emit(BPFVM_MOV64_REG(pb.base, 1));
	for (int r = 0; r <= 9; r++)
		if (r != pb.base)
			ld64(r, 0x1111111111111111ull * (uint64_t)(r + 1) + 0x0102030405060708ull);
}

/* Every register into the results, then exit. */
static void finish(void)
{
	for (int r = 0; r <= 9; r++)
		save(r);
	emit(BPFVM_EXIT_INSN());
}

/* ---- running and comparing ------------------------------------------------------- */

struct variant {
	const char *name;
	uint32_t flags;        /* prog flags beyond trusted */
	uint32_t features_off;
};

static const struct variant variants[] = {
	{ "jit", 0, 0 },
	{ "jit without BMI1 and BMI2", 0, VM_JIT_BMI1 | VM_JIT_BMI2 },
	{ "jit, blinded", BPFVM_PROG_JIT_BLIND, 0 },
};

struct outcome {
	int err;
	uint64_t r0;
	uint8_t mem[MEM];
	char log[1024];
};

static uint8_t input[MEM];
static uint8_t buf[MEM] __attribute__((aligned(64)));
static struct outcome want, got;

static uint64_t test_helper(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
			    struct bpfvm_run_ctx *ctx)
{
	return (r1 * 3) ^ (r2 << 7) ^ (r3 * 0x9e37) ^ (r4 >> 3) ^ (r5 + 11) ^ (ctx ? 0 : 1);
}

static struct bpfvm *new_vm(void)
{
	struct bpfvm *vm = bpfvm__new(NULL);

	bpfvm__set_helper(vm, HELPER, "test_helper", test_helper);
	return vm;
}

/* Run insns in the interpreter (v NULL) or a JIT variant, on buf. */
static void run_on(const struct bpfvm_insn *insns, size_t cnt, size_t len,
		   const struct variant *v, struct outcome *o)
{
	struct bpfvm *vm = new_vm();
	struct bpfvm_log log = { o->log, sizeof(o->log), 0 };
	BPFVM_OPTS(bpfvm_prog_opts, popts, .flags = BPFVM_PROG_TRUSTED | (v ? v->flags : 0),
		   .log = &log, .name = "t");
	BPFVM_OPTS(bpfvm_run_opts, ropts, .mode = v ? BPFVM_EXEC_JIT : BPFVM_EXEC_UNCHECKED,
		   .log = &log);
	struct vm_jit_opts jopts = { .features_off = v ? v->features_off : 0 };
	struct bpfvm_prog *prog;

	o->log[0] = '\0';
	memcpy(buf, input, len);
	prog = bpfvm_prog__new(vm, insns, cnt, &popts);
	o->err = prog ? 0 : -1000 - errno;
	if (prog && v)
		o->err = vm_jit_compile(prog, &jopts, &log);
	if (!o->err)
		o->err = bpfvm_prog__run(prog, buf, len, &ropts);
	o->r0 = ropts.retval;
	memcpy(o->mem, buf, len);
	bpfvm__destroy(vm);
}

static void fill_input(uint64_t seed)
{
	for (size_t i = 0; i < MEM; i++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		input[i] = (uint8_t)(seed >> 56);
	}
}

/* The program in pb through the interpreter and every JIT variant: all agree. */
static bool compare_all(const char *what)
{
	size_t len = OUT + 8 * (size_t)pb.slot + 64;

	if (len > MEM)
		len = MEM;
	run_on(pb.v, pb.n, len, NULL, &want);
	if (want.err) {
		TEST_FAIL("%s: the interpreter fails (%d): %s", what, want.err, want.log);
		return false;
	}
	for (size_t k = 0; k < sizeof(variants) / sizeof(variants[0]); k++) {
		run_on(pb.v, pb.n, len, &variants[k], &got);
		if (got.err != want.err || got.r0 != want.r0) {
			TEST_FAIL("%s, %s: err %d r0 0x%" PRIx64 " (%s), interpreter err 0 r0 0x%" PRIx64,
				  what, variants[k].name, got.err, got.r0, got.log, want.r0);
			return false;
		}
		for (size_t i = 0; i < len; i++) {
			if (got.mem[i] != want.mem[i]) {
				uint64_t a, b;
				size_t at = i & ~(size_t)7;

				memcpy(&a, got.mem + at, 8);
				memcpy(&b, want.mem + at, 8);
				TEST_FAIL("%s, %s: result slot %ld: 0x%016" PRIx64 ", interpreter 0x%016" PRIx64,
					  what, variants[k].name, ((long)at - OUT) / 8, a, b);
				return false;
			}
		}
	}
	return true;
}

/* ---- operands ------------------------------------------------------------------ */

static const uint64_t values[] = {
	0, 1, 2, 3, 7, 10, 31, 32, 63, 64, 100, 1000, 0x7fffffff, 0x80000000, 0xffffffff,
	0x100000000ull, 0x123456789ull, 0x7fffffff00000000ull, 0xffffffff00000007ull,
	0x8000000000000000ull, 0x8000000000000001ull, 0x7fffffffffffffffull,
	0xdeadbeefcafebabeull, (uint64_t)-1, (uint64_t)-2, (uint64_t)-7, (uint64_t)-1000,
	0xffffffff80000000ull, 0xffffffff7fffffffull,
};
#define NVALUES (sizeof(values) / sizeof(values[0]))

static const int32_t imms[] = {
	0, 1, -1, 2, -2, 3, -3, 5, 6, 7, -7, 10, -10, 12, 16, 25, 31, 32, 33, 63, 64, 100, 125,
	641, 1000, 1024, 65535, 65536, 65537, 6700417, 0x12345678, 0x40000000, 0x55555555,
	-0x55555555, 0x7fffffff, INT32_MIN, INT32_MIN + 1, -1000, -1024, 0x3fffffff, 2147483629,
};
#define NIMMS (sizeof(imms) / sizeof(imms[0]))

/* Register pairs (dst, src) that meet every special case of the x86 mapping. */
static const int8_t pairs[][2] = {
	{ 0, 3 }, { 3, 0 }, { 4, 1 }, { 1, 4 }, { 5, 7 }, { 7, 2 }, { 2, 2 }, { 0, 0 },
	{ 9, 8 }, { 6, 4 }, { 4, 4 }, { 3, 3 }, { 8, 0 }, { 2, 1 },
};
#define NPAIRS (sizeof(pairs) / sizeof(pairs[0]))

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

/*
 * The sequences the JIT fuses (shift pairs, mov + add as lea), on every
 * register pair, r10 as a base among them; and the same with a jump
 * landing in the middle, where nothing may fuse.
 */
TEST(fused_sequences)
{
	static const int32_t ks[] = { 0, 1, -1, 127, 128, -128, -129, 0x7fffffff, INT32_MIN, -512 };

	fill_input(5);
	for (size_t p = 0; p < NPAIRS && !test_failed_now; p++) {
		int d = pairs[p][0], s = pairs[p][1], x = pairs[(p + 5) % NPAIRS][1];

		if (x == d) /* the index must survive the move */
			x = d == 3 ? 4 : 3;

		begin(d, s == x ? -1 : x);
		for (size_t a = 0; a < NVALUES; a++) {
			int32_t k = ks[a % (sizeof(ks) / sizeof(ks[0]))];
			bool from_fp = a % 4 == 3;

			ld64(d, values[a]);
			emit(BPFVM_ALU64_IMM(BPFVM_LSH, d, 32));
			emit(BPFVM_ALU64_IMM(a % 2 ? BPFVM_RSH : BPFVM_ARSH, d, 32));
			save(d);
			ld64(s, values[NVALUES - 1 - a]);
			ld64(x, values[(a * 7) % NVALUES]);
			emit(BPFVM_MOV64_REG(d, from_fp ? 10 : s));
			emit(BPFVM_ALU64_IMM(BPFVM_ADD, d, k));
			if (a % 3)
				emit(BPFVM_ALU64_REG(BPFVM_ADD, d, x));
			if (from_fp) /* an address on the stack: compare what is not */
				emit(BPFVM_ALU64_REG(BPFVM_SUB, d, 10));
			save(d);
			emit(BPFVM_MOV64_REG(d, s));
			emit(BPFVM_ALU64_REG(BPFVM_ADD, d, x));
			save(d);
			/* a jump into the middle: r = s; [L:] r += k */
			emit(BPFVM_JMP_IMM(BPFVM_JGT, x, (int32_t)values[a], 1));
			emit(BPFVM_MOV64_REG(d, s));
			emit(BPFVM_ALU64_IMM(BPFVM_ADD, d, k));
			save(d);
			/* w = s; w += k or w += x: a 32-bit lea */
			emit(BPFVM_ALU32_REG(BPFVM_MOV, d, s));
			emit(BPFVM_ALU32_IMM(BPFVM_ADD, d, k));
			save(d);
			emit(BPFVM_ALU32_REG(BPFVM_MOV, d, s));
			emit(BPFVM_ALU32_REG(BPFVM_ADD, d, x));
			save(d);
			/* r = s; r &= 0xff or 0xffff, either width: a movzx */
			emit(a % 2 ? BPFVM_MOV64_REG(d, s) : BPFVM_ALU32_REG(BPFVM_MOV, d, s));
			emit(a % 3 ? BPFVM_ALU64_IMM(BPFVM_AND, d, a % 4 < 2 ? 0xff : 0xffff)
				   : BPFVM_ALU32_IMM(BPFVM_AND, d, a % 4 < 2 ? 0xff : 0xffff));
			save(d);
		}
		finish();
		compare_all("fused sequences");
	}
}

/*
 * Sequences around a register that dies (jit_live.c), each once with the
 * register dead after it and once with it read again: an address computed
 * into a register for one load or store, ~s & (s - 1), a stack slot stored
 * back as it was loaded, and results no one reads.
 */
TEST(fusions_around_dying_registers)
{
	fill_input(6);
	for (size_t p = 0; p < NPAIRS && !test_failed_now; p++) {
		int d = pairs[p][0], s = pairs[p][1], x = 0;

		begin(d, s);
		while (x == d || x == s || x == pb.base)
			x++;
		for (size_t a = 0; a < NVALUES; a++) {
			bool keep = a % 2;            /* the register read again after */
			int16_t off = (int16_t)(8 * (a % 7)) - 16;
			int32_t k = (int32_t)(64 + 8 * (a % 5));

			/* d = base; d += k (or += x); load or store through d */
			ld64(x, 24 + 8 * (a % 3));
			emit(BPFVM_MOV64_REG(d, pb.base));
			emit(a % 3 ? BPFVM_ALU64_IMM(BPFVM_ADD, d, k) : BPFVM_ALU64_REG(BPFVM_ADD, d, x));
			switch (a % 4) {
			case 0:
				emit(BPFVM_LDX_MEM(BPFVM_DW, s, d, off));
				break;
			case 1:
				emit(BPFVM_RAW_INSN(BPFVM_LDX | BPFVM_MEMSX | BPFVM_B, d, d, off, 0));
				break;
			case 2:
				emit(BPFVM_STX_MEM(a % 8 < 4 ? BPFVM_B : BPFVM_H, d, s, off));
				break;
			default:
				emit(BPFVM_ST_MEM(BPFVM_W, d, off, (int32_t)values[a]));
				break;
			}
			if (keep)
				save(d);
			save(s);
			ld64(d, values[a]);

			/* d = s; d ^= -1; s += -1; s &= d */
			ld64(s, values[(a * 5) % NVALUES]);
			emit(BPFVM_MOV64_REG(d, s));
			emit(BPFVM_ALU64_IMM(BPFVM_XOR, d, -1));
			emit(BPFVM_ALU64_IMM(BPFVM_ADD, s, -1));
			emit(BPFVM_ALU64_REG(BPFVM_AND, s, d));
			save(s);
			if (keep)
				save(d);
			ld64(d, values[(a * 3) % NVALUES]);

			/* a slot loaded and stored back, then read at another width */
			ld64(s, values[a]);
			emit(BPFVM_STX_MEM(BPFVM_DW, 10, s, -16));
			emit(BPFVM_LDX_MEM(a % 2 ? BPFVM_W : BPFVM_DW, d, 10, -16));
			emit(BPFVM_STX_MEM(a % 2 ? BPFVM_W : BPFVM_DW, 10, d, -16));
			emit(BPFVM_LDX_MEM(BPFVM_DW, s, 10, -16));
			save(s);
			save(d);

			/* results no one reads: overwritten before any read */
			emit(BPFVM_ALU64_IMM(BPFVM_MUL, d, 7));
			emit(BPFVM_ALU32_IMM(BPFVM_MOV, d, (int32_t)a));
			save(d);
		}
		finish();
		compare_all("fusions around dying registers");
	}
}

/*
 * A register known to hold 0 or 1 (jit_known.c: after & 1, >> 63 or a
 * 32-bit >> 31, a move of 0 or 1 on every path, through moves), times a
 * constant: neg and and; times a register, as ever.  Also where the
 * knowledge must end: another write, a path that brings something else.
 */
TEST(truth_value_times_a_constant)
{
	fill_input(8);
	for (size_t p = 0; p < NPAIRS && !test_failed_now; p++) {
		int d = pairs[p][0], s = pairs[p][1];

		if (s == d)
			s = d == 3 ? 4 : 3;
		begin(d, s);
		for (size_t a = 0; a < NVALUES; a++) {
			int32_t k = imms[(a * 7) % NIMMS];
			bool w = a % 2;

			ld64(s, values[a]);
			switch (a % 4) {
			case 0:
				emit(BPFVM_MOV64_REG(d, s));
				emit(w ? BPFVM_ALU64_IMM(BPFVM_AND, d, 1) : BPFVM_ALU32_IMM(BPFVM_AND, d, 1));
				break;
			case 1:
				emit(BPFVM_MOV64_REG(d, s));
				emit(BPFVM_ALU64_IMM(BPFVM_RSH, d, 63));
				break;
			case 2:
				emit(BPFVM_ALU32_IMM(BPFVM_RSH, s, 31));
				emit(BPFVM_ALU32_REG(BPFVM_MOV, d, s));
				break;
			default:
				emit(BPFVM_MOV64_REG(d, s));
				emit(BPFVM_ALU64_IMM(BPFVM_AND, d, 1));
				emit(BPFVM_ALU64_IMM(BPFVM_ADD, s, 5)); /* another register: d stays known */
				break;
			}
			emit(w ? BPFVM_ALU64_IMM(BPFVM_MUL, d, k) : BPFVM_ALU32_IMM(BPFVM_MUL, d, k));
			save(d);
			/* s = 1; if d > v goto L; s = 0; L: s *= k, or d *= s, s *= d, s *= s */
			ld64(d, values[(a * 5) % NVALUES]);
			emit(BPFVM_ALU64_IMM(BPFVM_MOV, s, 1));
			emit(BPFVM_JMP_IMM(BPFVM_JGT, d, (int32_t)values[a], 1));
			emit(BPFVM_ALU32_IMM(BPFVM_MOV, s, 0));
			switch (a % 4) {
			case 0: emit(w ? BPFVM_ALU64_IMM(BPFVM_MUL, s, k) : BPFVM_ALU32_IMM(BPFVM_MUL, s, k)); break;
			case 1: emit(w ? BPFVM_ALU64_REG(BPFVM_MUL, d, s) : BPFVM_ALU32_REG(BPFVM_MUL, d, s)); break;
			case 2: emit(w ? BPFVM_ALU64_REG(BPFVM_MUL, s, d) : BPFVM_ALU32_REG(BPFVM_MUL, s, d)); break;
			default: emit(w ? BPFVM_ALU64_REG(BPFVM_MUL, s, s) : BPFVM_ALU32_REG(BPFVM_MUL, s, s)); break;
			}
			save(d);
			save(s);
			/* not known: written since, or a path brings another value */
			ld64(s, values[(a * 3) % NVALUES]);
			emit(BPFVM_MOV64_REG(d, s));
			emit(BPFVM_ALU64_IMM(BPFVM_AND, d, 1));
			if (a % 2) {
				emit(BPFVM_ALU64_IMM(BPFVM_ADD, d, 2));
			} else {
				emit(BPFVM_JMP_IMM(BPFVM_JGT, s, (int32_t)values[a], 1));
				emit(BPFVM_ALU64_IMM(BPFVM_MOV, d, 2));
			}
			emit(w ? BPFVM_ALU64_IMM(BPFVM_MUL, d, k) : BPFVM_ALU32_IMM(BPFVM_MUL, d, k));
			save(d);
		}
		finish();
		compare_all("a truth value times a constant");
	}
}

/* ---- calls ---------------------------------------------------------------------- */

#define CALL_LOCAL(OFF) BPFVM_RAW_INSN(BPFVM_JMP | BPFVM_CALL, 0, BPFVM_PSEUDO_CALL, 0, OFF)
#define CALLX(REG) BPFVM_RAW_INSN(BPFVM_JMP | BPFVM_CALL | BPFVM_X, REG, 0, 0, 0)
#define LD_FUNC(REG, OFF)                                                                  \
	BPFVM_RAW_INSN(BPFVM_LD | BPFVM_DW | BPFVM_IMM, REG, BPFVM_PSEUDO_FUNC, 0, OFF), \
		BPFVM_RAW_INSN(0, 0, 0, 0, 0)

static void set_prog(const struct bpfvm_insn *insns, size_t n)
{
	memcpy(pb.v, insns, n * sizeof(*insns));
	pb.n = n;
	pb.slot = 16;
}

#define PROG(...)                                                        \
	set_prog((struct bpfvm_insn[]){ __VA_ARGS__ },                   \
		 sizeof((struct bpfvm_insn[]){ __VA_ARGS__ }) / sizeof(struct bpfvm_insn))

/*
 * Jumps to a small join, whose code the JIT copies to the jump (a goto,
 * or a != that usually holds): a loop's latch reached by `continue`s, a
 * join that exits, one that ends in a goto, one that jumps to itself, a
 * gotol; and joins that are not copied (a load, a division) or are
 * reached by == (not copied either).
 */
TEST(jumps_to_small_joins)
{
	fill_input(10);
	PROG(BPFVM_MOV64_REG(6, 1), BPFVM_MOV64_IMM(0, 0), BPFVM_MOV64_IMM(2, 0),
	     BPFVM_MOV64_IMM(7, 0),
	     /* 4: loop head: a state machine over r2 = 0..99 */
	     BPFVM_MOV64_REG(3, 2), BPFVM_ALU64_IMM(BPFVM_AND, 3, 3),
	     BPFVM_JMP_IMM(BPFVM_JNE, 3, 0, 2),          /* != to the latch below: copied */
	     BPFVM_ALU64_IMM(BPFVM_ADD, 0, 1), BPFVM_JMP_IMM(BPFVM_JA, 0, 0, 5),
	     BPFVM_JMP_IMM(BPFVM_JEQ, 3, 1, 2),          /* == : a plain jump */
	     BPFVM_ALU64_IMM(BPFVM_ADD, 7, 3), BPFVM_JMP_IMM(BPFVM_JA, 0, 0, 2),
	     BPFVM_ALU64_IMM(BPFVM_MUL, 7, 3), BPFVM_JMP_IMM(BPFVM_JA, 0, 0, 0),
	     /* 14: the latch: r2++; if r2 != 100 goto head */
	     BPFVM_ALU64_IMM(BPFVM_ADD, 2, 1), BPFVM_JMP_IMM(BPFVM_JNE, 2, 100, -12),
	     /* 16: a join that ends in a goto, reached by goto */
	     BPFVM_JMP_IMM(BPFVM_JA, 0, 0, 3),
	     BPFVM_ALU64_IMM(BPFVM_XOR, 0, 0x55), BPFVM_ALU32_IMM(BPFVM_LSH, 0, 3),
	     BPFVM_JMP_IMM(BPFVM_JA, 0, 0, 3),
	     BPFVM_ALU64_IMM(BPFVM_ADD, 7, 9), BPFVM_JMP_IMM(BPFVM_JA, 0, 0, -4),
	     BPFVM_JMP_IMM(BPFVM_JA, 0, 0, 0),
	     /* 23: a join that jumps to itself, reached by goto: r4 counts to 5 */
	     BPFVM_MOV64_IMM(4, 0), BPFVM_JMP_IMM(BPFVM_JA, 0, 0, 0),
	     BPFVM_ALU64_IMM(BPFVM_ADD, 4, 1), BPFVM_JMP_IMM(BPFVM_JNE, 4, 5, -2),
	     /* 27: gotol to a join that is a load: not copied */
	     BPFVM_RAW_INSN(BPFVM_JMP32 | BPFVM_JA, 0, 0, 0, 1), BPFVM_ALU64_IMM(BPFVM_ADD, 0, 1000),
	     BPFVM_LDX_MEM(BPFVM_DW, 5, 6, 0), BPFVM_ALU64_REG(BPFVM_ADD, 7, 4),
	     /* 31: goto to a join with a division: not copied */
	     BPFVM_JMP_IMM(BPFVM_JA, 0, 0, 1), BPFVM_ALU64_IMM(BPFVM_ADD, 7, 1),
	     BPFVM_ALU64_IMM(BPFVM_DIV, 7, 3), BPFVM_JMP_IMM(BPFVM_JNE, 5, 0, 0),
	     /* 35: != to a join that exits */
	     BPFVM_STX_MEM(BPFVM_DW, 6, 7, OUT), BPFVM_STX_MEM(BPFVM_DW, 6, 5, OUT + 8),
	     BPFVM_JMP_IMM(BPFVM_JNE, 0, 12345, 1), BPFVM_MOV64_IMM(0, -1),
	     BPFVM_ALU64_IMM(BPFVM_ADD, 0, 7), BPFVM_EXIT_INSN());
	compare_all("jumps to small joins");
	CHECK(want.r0 != (uint64_t)-1 + 7);
}

TEST(helper_calls)
{
	fill_input(1);
	PROG(BPFVM_MOV64_REG(6, 1), BPFVM_MOV64_IMM(1, 5), BPFVM_MOV64_IMM(2, -6),
	     BPFVM_LD_IMM64_RAW(3, 0, 0x123456789abcdefull), BPFVM_MOV64_IMM(4, 77),
	     BPFVM_MOV64_IMM(5, 1 << 20), BPFVM_MOV64_IMM(7, 70), BPFVM_MOV64_IMM(8, 80),
	     BPFVM_MOV64_IMM(9, 90), BPFVM_CALL_HELPER(HELPER),
	     BPFVM_STX_MEM(BPFVM_DW, 6, 0, OUT), BPFVM_STX_MEM(BPFVM_DW, 6, 7, OUT + 8),
	     BPFVM_STX_MEM(BPFVM_DW, 6, 8, OUT + 16), BPFVM_STX_MEM(BPFVM_DW, 6, 9, OUT + 24),
	     BPFVM_EXIT_INSN());
	compare_all("helper call");
}

/*
 * Three levels of functions: each writes r6-r9 and its own stack, which
 * must not disturb its caller's; the innermost divides (rax, rdx).
 */
TEST(bpf_to_bpf_calls)
{
	fill_input(2);
	PROG(BPFVM_MOV64_REG(6, 1), BPFVM_MOV64_IMM(7, 7), BPFVM_MOV64_IMM(8, 8),
	     BPFVM_MOV64_IMM(9, 9), BPFVM_ST_MEM(BPFVM_DW, 10, -8, 1234),
	     BPFVM_MOV64_IMM(1, 1000), CALL_LOCAL(9),
	     BPFVM_STX_MEM(BPFVM_DW, 6, 0, OUT), BPFVM_STX_MEM(BPFVM_DW, 6, 7, OUT + 8),
	     BPFVM_STX_MEM(BPFVM_DW, 6, 8, OUT + 16), BPFVM_STX_MEM(BPFVM_DW, 6, 9, OUT + 24),
	     BPFVM_LDX_MEM(BPFVM_DW, 1, 10, -8), BPFVM_STX_MEM(BPFVM_DW, 6, 1, OUT + 32),
	     BPFVM_MOV64_REG(0, 10), BPFVM_ALU64_REG(BPFVM_SUB, 0, 10), BPFVM_EXIT_INSN(),
	     /* f(r1): its own r6-r9 and stack, calls g(r1 + 1) */
	     BPFVM_MOV64_IMM(6, 66), BPFVM_MOV64_IMM(7, 77), BPFVM_MOV64_IMM(8, 88),
	     BPFVM_MOV64_IMM(9, 99), BPFVM_ST_MEM(BPFVM_DW, 10, -8, 5678),
	     BPFVM_ALU64_IMM(BPFVM_ADD, 1, 1), CALL_LOCAL(3),
	     BPFVM_LDX_MEM(BPFVM_DW, 1, 10, -8), BPFVM_ALU64_REG(BPFVM_ADD, 0, 1),
	     BPFVM_EXIT_INSN(),
	     /* g(r1) = r1 / 7 + r1 % 10, with r6 written */
	     BPFVM_MOV64_REG(0, 1), BPFVM_ALU64_IMM(BPFVM_DIV, 0, 7), BPFVM_MOV64_REG(6, 1),
	     BPFVM_ALU64_IMM(BPFVM_MOD, 6, 10), BPFVM_ALU64_REG(BPFVM_ADD, 0, 6),
	     BPFVM_EXIT_INSN());
	compare_all("bpf-to-bpf calls");
	CHECK_EQ_U64(want.r0, 0);
}

TEST(callx_helper_and_function)
{
	fill_input(3);
	PROG(BPFVM_MOV64_REG(6, 1), BPFVM_MOV64_IMM(1, 3), BPFVM_MOV64_IMM(2, 4),
	     BPFVM_MOV64_IMM(3, 5), BPFVM_MOV64_IMM(4, 6), BPFVM_MOV64_IMM(5, 7),
	     BPFVM_MOV64_IMM(8, HELPER), CALLX(8), BPFVM_STX_MEM(BPFVM_DW, 6, 0, OUT),
	     LD_FUNC(8, 5), BPFVM_MOV64_IMM(1, 40), CALLX(8),
	     BPFVM_STX_MEM(BPFVM_DW, 6, 0, OUT + 8), BPFVM_EXIT_INSN(),
	     BPFVM_MOV64_REG(0, 1), BPFVM_ALU64_IMM(BPFVM_MUL, 0, 3), BPFVM_EXIT_INSN());
	compare_all("callx");
	CHECK_EQ_U64(want.r0, 120);
}

static int jit_run(const struct bpfvm_insn *insns, size_t n, uint64_t *r0, char *log,
		   size_t loglen)
{
	struct bpfvm *vm = new_vm();
	struct bpfvm_log l = { log, loglen, 0 };
	BPFVM_OPTS(bpfvm_prog_opts, popts, .flags = BPFVM_PROG_TRUSTED, .log = &l, .name = "t");
	BPFVM_OPTS(bpfvm_run_opts, ropts, .mode = BPFVM_EXEC_JIT, .log = &l);
	struct bpfvm_prog *prog;
	int err;

	log[0] = '\0';
	prog = bpfvm_prog__new(vm, insns, n, &popts);
	err = prog ? bpfvm_prog__run(prog, buf, 64, &ropts) : -1000;
	*r0 = ropts.retval;
	bpfvm__destroy(vm);
	return err;
}

TEST(callx_to_a_bad_target_faults)
{
	struct bpfvm_insn insns[] = {
		BPFVM_MOV64_IMM(0, 9), BPFVM_LD_IMM64_RAW(7, 0, 0x1234567ull), BPFVM_MOV64_IMM(3, 1),
		CALLX(7), BPFVM_EXIT_INSN(),
	};
	char log[512];
	uint64_t r0;

	CHECK_EQ_INT(jit_run(insns, 6, &r0, log, sizeof(log)), -EINVAL);
	CHECK_CONTAINS(log, "instruction 4");
	CHECK_CONTAINS(log, "callx to 0x1234567: neither a helper id nor the address of a function");
	insns[1] = BPFVM_MOV64_IMM(7, 12345); /* an id past the helpers */
	insns[2] = BPFVM_MOV64_IMM(7, 12345);
	CHECK_EQ_INT(jit_run(insns, 6, &r0, log, sizeof(log)), -EINVAL);
	CHECK_CONTAINS(log, "callx to 0x3039");
}

/* A function that calls itself through callx: the 9th frame faults. */
TEST(call_depth_limit)
{
	struct bpfvm_insn insns[] = {
		BPFVM_MOV64_IMM(0, 0), LD_FUNC(6, 3), CALL_LOCAL(1), BPFVM_EXIT_INSN(),
		/* f: r0 += 1; if r0 < limit: callx r6 */
		BPFVM_ALU64_IMM(BPFVM_ADD, 0, 1), BPFVM_JMP_IMM(BPFVM_JGE, 0, 7, 1), CALLX(6),
		BPFVM_EXIT_INSN(),
	};
	char log[512];
	uint64_t r0;

	/* main + 7 frames of f: the 8 frames allowed */
	CHECK_EQ_INT(jit_run(insns, 9, &r0, log, sizeof(log)), 0);
	CHECK_EQ_U64(r0, 7);
	insns[6].imm = 8;
	CHECK_EQ_INT(jit_run(insns, 9, &r0, log, sizeof(log)), -EINVAL);
	CHECK_CONTAINS(log, "instruction 7");
	CHECK_CONTAINS(log, "the call stack of 9 frames is too deep");
}

/* may_goto: the budget per frame, then the jump; a callee gets its own. */
TEST(may_goto)
{
	PROG(BPFVM_MOV64_IMM(0, 0), BPFVM_MOV64_REG(6, 1),
	     BPFVM_RAW_INSN(BPFVM_JMP | BPFVM_JCOND, 0, 0, 2, 0),
	     BPFVM_ALU64_IMM(BPFVM_ADD, 0, 1), BPFVM_RAW_INSN(BPFVM_JMP | BPFVM_JA, 0, 0, -3, 0),
	     BPFVM_STX_MEM(BPFVM_DW, 6, 0, OUT), CALL_LOCAL(2),
	     BPFVM_STX_MEM(BPFVM_DW, 6, 0, OUT + 8), BPFVM_EXIT_INSN(),
	     BPFVM_MOV64_IMM(0, 5), BPFVM_RAW_INSN(BPFVM_JMP | BPFVM_JCOND, 0, 0, 2, 0),
	     BPFVM_ALU64_IMM(BPFVM_ADD, 0, 2), BPFVM_RAW_INSN(BPFVM_JMP | BPFVM_JA, 0, 0, -3, 0),
	     BPFVM_EXIT_INSN());
	compare_all("may_goto");
	CHECK_EQ_U64(want.r0, 5 + 2ull * BPFVM_MAX_LOOPS);
}

/* ---- tail calls ------------------------------------------------------------------- */

static struct bpfvm_prog *tail_targets[4];

static struct bpfvm_prog *tail_lookup(struct bpfvm *vm, uint64_t map, uint64_t index)
{
	(void)vm, (void)map;
	return index < 4 ? tail_targets[index] : NULL;
}

/*
 * Program 0 counts its runs in the buffer and tail-calls itself: the
 * kernel's limit of 33 ends the chain.  Program 1 tail-calls 2 from a
 * subprogram: 2's exit returns to 1's main function.
 */
static void tail_calls_in(const struct variant *v, uint64_t *r0, uint64_t *count)
{
	struct bpfvm_insn p0[] = {
		BPFVM_LDX_MEM(BPFVM_DW, 0, 1, 0), BPFVM_ALU64_IMM(BPFVM_ADD, 0, 1),
		BPFVM_STX_MEM(BPFVM_DW, 1, 0, 0), BPFVM_MOV64_IMM(3, 0), BPFVM_CALL_HELPER(12),
		BPFVM_MOV64_IMM(0, 1000), BPFVM_EXIT_INSN(),
	};
	struct bpfvm_insn p1[] = {
		BPFVM_MOV64_IMM(6, 600), CALL_LOCAL(2), BPFVM_ALU64_REG(BPFVM_ADD, 0, 6),
		BPFVM_EXIT_INSN(),
		BPFVM_MOV64_IMM(6, 1), BPFVM_MOV64_IMM(3, 2), BPFVM_CALL_HELPER(12), BPFVM_EXIT_INSN(),
	};
	struct bpfvm_insn p2[] = {
		BPFVM_MOV64_IMM(7, 3), BPFVM_LDX_MEM(BPFVM_DW, 0, 1, 0), BPFVM_ALU64_REG(BPFVM_ADD, 0, 7),
		BPFVM_EXIT_INSN(),
	};
	struct bpfvm *vm = new_vm();
	BPFVM_OPTS(bpfvm_prog_opts, popts, .flags = BPFVM_PROG_TRUSTED | (v ? v->flags : 0));
	BPFVM_OPTS(bpfvm_run_opts, ropts, .mode = v ? BPFVM_EXEC_JIT : BPFVM_EXEC_UNCHECKED);
	uint64_t mem[2] = { 0, 0 };

	vm->tail_call_lookup = tail_lookup;
	tail_targets[0] = bpfvm_prog__new(vm, p0, 7, &popts);
	tail_targets[1] = bpfvm_prog__new(vm, p1, 8, &popts);
	tail_targets[2] = bpfvm_prog__new(vm, p2, 4, &popts);
	CHECK_EQ_INT(bpfvm_prog__run(tail_targets[0], mem, sizeof(mem), &ropts), 0);
	r0[0] = ropts.retval;
	count[0] = mem[0];
	mem[0] = 40;
	CHECK_EQ_INT(bpfvm_prog__run(tail_targets[1], mem, sizeof(mem), &ropts), 0);
	r0[1] = ropts.retval;
	bpfvm__destroy(vm);
}

TEST(tail_calls)
{
	uint64_t r0[2], count[1], jr0[2], jcount[1];

	tail_calls_in(NULL, r0, count);
	CHECK_EQ_U64(count[0], 1 + BPFVM_MAX_TAIL_CALLS);
	CHECK_EQ_U64(r0[0], 1000);
	CHECK_EQ_U64(r0[1], 643);
	for (size_t k = 0; k < sizeof(variants) / sizeof(variants[0]); k++) {
		tail_calls_in(&variants[k], jr0, jcount);
		CHECK_EQ_U64(jcount[0], count[0]);
		CHECK_EQ_U64(jr0[0], r0[0]);
		CHECK_EQ_U64(jr0[1], r0[1]);
	}
}

/* A packet load out of bounds in a subprogram ends the whole program. */
TEST(packet_load_out_of_bounds_unwinds)
{
	fill_input(4);
	PROG(BPFVM_MOV64_REG(6, 1), BPFVM_MOV64_IMM(0, 7), CALL_LOCAL(2),
	     BPFVM_MOV64_IMM(0, 99), BPFVM_EXIT_INSN(),
	     BPFVM_MOV64_IMM(7, 1), CALL_LOCAL(1), BPFVM_EXIT_INSN(),
	     BPFVM_RAW_INSN(BPFVM_LD | BPFVM_ABS | BPFVM_W, 0, 0, 0, 1 << 20), BPFVM_EXIT_INSN());
	compare_all("packet load out of bounds");
	CHECK_EQ_U64(want.r0, 0);
}

static uint64_t fake_lookup_value = 0x5151;

static uint64_t fake_lookup(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
			    struct bpfvm_run_ctx *ctx)
{
	(void)r1, (void)r2, (void)r3, (void)r4, (void)r5, (void)ctx;
	return (uintptr_t)&fake_lookup_value;
}

/* r0 = the u64 at the lookup of each key in the map, or 0xdead for none. */
static uint64_t lookups(uint32_t type, bool fake, bool jit, uint64_t *out)
{
	static const int32_t keys[] = { 0, 3, 7, 8, 100, -1 };
	struct bpfvm *vm = new_vm();
	struct bpfvm_map *map = bpfvm_map__new(vm, type, 4, 8, 8, NULL);
	struct bpfvm_insn insns[200];
	size_t n = 0;
	uint64_t sum = 0;

	for (uint32_t k = 0; map && k < 8; k++) {
		static uint64_t v[1024]; /* per-CPU maps take a value per possible CPU */

		for (int cpu = 0; cpu < 1024; cpu++)
			v[cpu] = 1000 + k;
		bpfvm_map__update_elem(map, &k, v, 0);
	}
	if (fake)
		bpfvm__set_helper(vm, 1, "fake_lookup", fake_lookup);
	insns[n++] = BPFVM_MOV64_REG(6, 1);
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		insns[n++] = BPFVM_ST_MEM(BPFVM_W, 10, -4, keys[k]);
		insns[n++] = BPFVM_MOV64_REG(2, 10);
		insns[n++] = BPFVM_ALU64_IMM(BPFVM_ADD, 2, -4);
		insns[n++] = BPFVM_RAW_INSN(BPFVM_LD | BPFVM_DW | BPFVM_IMM, 1, BPFVM_PSEUDO_MAP_FD, 0, 0);
		insns[n++] = BPFVM_RAW_INSN(0, 0, 0, 0, 0);
		/* every other one with a jump landing on the call: no inlining there */
		insns[n++] = k % 2 ? BPFVM_JMP_IMM(BPFVM_JEQ, 6, 0, 0) : BPFVM_MOV64_IMM(4, 0);
		insns[n++] = BPFVM_CALL_HELPER(1);
		insns[n++] = BPFVM_MOV64_IMM(3, 0xdead);
		insns[n++] = BPFVM_JMP_IMM(BPFVM_JEQ, 0, 0, 1);
		insns[n++] = BPFVM_LDX_MEM(BPFVM_DW, 3, 0, 0);
		insns[n++] = BPFVM_STX_MEM(BPFVM_DW, 6, 3, (int16_t)(8 * k));
	}
	insns[n++] = BPFVM_MOV64_IMM(0, 0);
	insns[n++] = BPFVM_EXIT_INSN();
	BPFVM_OPTS(bpfvm_prog_opts, popts, .flags = BPFVM_PROG_TRUSTED, .maps = &map, .nmaps = 1);
	BPFVM_OPTS(bpfvm_run_opts, ropts, .mode = jit ? BPFVM_EXEC_JIT : BPFVM_EXEC_UNCHECKED);
	struct bpfvm_prog *prog = bpfvm_prog__new(vm, insns, n, &popts);

	memset(out, 0, 6 * sizeof(*out));
	if (!prog || bpfvm_prog__run(prog, out, 6 * sizeof(*out), &ropts))
		sum = ~0ull;
	bpfvm_map__destroy(map);
	bpfvm__destroy(vm);
	for (int k = 0; k < 6; k++)
		sum += out[k];
	return sum;
}

/* Map lookups: arrays inline, other maps called directly; a replaced helper stays a call. */
TEST(map_lookups)
{
	static const uint32_t types[] = { BPFVM_MAP_TYPE_ARRAY, BPFVM_MAP_TYPE_HASH,
					  BPFVM_MAP_TYPE_PERCPU_ARRAY };

	for (size_t t = 0; t < 3; t++) {
		for (int fake = 0; fake <= 1; fake++) {
			uint64_t a[6], b[6];

			CHECK(lookups(types[t], fake, false, a) != ~0ull);
			CHECK(lookups(types[t], fake, true, b) != ~0ull);
			for (int k = 0; k < 6; k++)
				CHECK_EQ_U64(b[k], a[k]);
			CHECK_EQ_U64(a[0], fake ? 0x5151 : 1000);
			CHECK_EQ_U64(a[3], fake ? 0x5151 : 0xdead);
		}
	}
}

/*
 * An ALU operation with a constant, then == 0 / != 0 of its result: the
 * JIT leaves the flags of the operation to the jump.  Results that are
 * zero, zero in the low half only (64-bit: not zero), and wrap-arounds;
 * both widths, every operation that fuses, and a jump landing between.
 */
TEST(operation_then_zero_test)
{
	static const uint8_t alus[] = { BPFVM_ADD, BPFVM_SUB, BPFVM_AND, BPFVM_OR, BPFVM_XOR };
	static const int32_t ks[] = { 0, 1, -1, 0x7fffffff, INT32_MIN, 0x100, -0x100 };
	static const uint64_t starts[] = { 0, 1, (uint64_t)-1, 0xffffffffull, 0x100000000ull,
					   0xffffffff00000001ull, 0x80000000ull, 0xff00ull };

	fill_input(9);
	begin(3, 4);
	for (size_t a = 0; a < sizeof(alus); a++) {
		for (size_t k = 0; k < sizeof(ks) / sizeof(ks[0]); k++) {
			for (size_t v = 0; v < sizeof(starts) / sizeof(starts[0]); v++) {
				bool w64 = (a + k + v) % 2, jne = (k + v) % 3 == 0;

				ld64(3, starts[v]);
				if ((a + v) % 4 == 1) /* a jump landing on the test: no fusion there */
					emit(BPFVM_JMP_IMM(BPFVM_JEQ, 4, 12345, 1));
				emit(w64 ? BPFVM_ALU64_IMM(alus[a], 3, ks[k])
					 : BPFVM_ALU32_IMM(alus[a], 3, ks[k]));
				emit(BPFVM_RAW_INSN((w64 ? BPFVM_JMP : BPFVM_JMP32) |
							    (jne ? BPFVM_JNE : BPFVM_JEQ) | BPFVM_K,
						    3, 0, 1, 0));
				emit(BPFVM_ALU64_IMM(BPFVM_ADD, 3, 1000));
				save(3);
			}
		}
	}
	finish();
	compare_all("operation then zero test");
}

/*
 * clang's zero-extension (<<32 >>32) after what already left the upper
 * half zero (32-bit operations, narrow loads: the JIT emits nothing) and
 * after what did not (64-bit operations, sign-extending loads, 64-bit byte
 * swaps, a jump landing in between), and a move fused into it.
 */
TEST(zero_extension_after_32_bit_results)
{
	const struct bpfvm_insn producers[] = {
		BPFVM_ALU32_IMM(BPFVM_ADD, 3, -5), BPFVM_ALU32_IMM(BPFVM_LSH, 3, 0),
		BPFVM_ALU32_IMM(BPFVM_MOV, 3, -1), BPFVM_ALU32_REG(BPFVM_MUL, 3, 4),
		BPFVM_RAW_INSN(BPFVM_ALU | BPFVM_NEG, 3, 0, 0, 0),
		BPFVM_RAW_INSN(BPFVM_ALU | BPFVM_END | BPFVM_TO_BE, 3, 0, 0, 32),
		BPFVM_RAW_INSN(BPFVM_ALU | BPFVM_END | BPFVM_TO_BE, 3, 0, 0, 64),
		BPFVM_RAW_INSN(BPFVM_ALU64 | BPFVM_END, 3, 0, 0, 32),
		BPFVM_LDX_MEM(BPFVM_W, 3, 1, 8), BPFVM_LDX_MEM(BPFVM_B, 3, 1, 9),
		BPFVM_RAW_INSN(BPFVM_LDX | BPFVM_MEMSX | BPFVM_W, 3, 1, 12, 0),
		BPFVM_ALU64_IMM(BPFVM_ADD, 3, -5), BPFVM_ALU64_REG(BPFVM_MOV, 3, 4),
	};

	fill_input(11);
	begin(3, 4);
	emit(BPFVM_MOV64_REG(1, pb.base));
	for (size_t p = 0; p < sizeof(producers) / sizeof(producers[0]); p++) {
		for (int landing = 0; landing <= 1; landing++) {
			ld64(3, 0xfedcba9876543210ull);
			ld64(4, 0x8000000180000003ull);
			if (landing) /* taken: r3 arrives 64 bits wide, the producer skipped */
				emit(BPFVM_JMP_IMM(BPFVM_JNE, 4, 0, 1));
			emit(producers[p]);
			emit(BPFVM_ALU64_IMM(BPFVM_LSH, 3, 32));
			emit(BPFVM_ALU64_IMM(BPFVM_RSH, 3, 32));
			save(3);
		}
		/* r3 = r4; r3 <<= 32; r3 >>= 32 */
		emit(BPFVM_MOV64_REG(3, 4));
		emit(BPFVM_ALU64_IMM(BPFVM_LSH, 3, 32));
		emit(BPFVM_ALU64_IMM(BPFVM_RSH, 3, 32));
		save(3);
	}
	finish();
	compare_all("zero-extension after 32-bit results");
}

/* A per-CPU array's inline lookup reads the slot of the CPU the run is on. */
static uint64_t percpu_slot(enum bpfvm_exec mode, uint32_t value_size, uint32_t entries)
{
	struct bpfvm *vm = new_vm();
	struct bpfvm_map *map =
		bpfvm_map__new(vm, BPFVM_MAP_TYPE_PERCPU_ARRAY, 4, value_size, entries, NULL);
	static uint64_t v[1024 * 3]; /* per possible CPU, value_size rounded up to 8 */
	struct bpfvm_insn insns[] = {
		BPFVM_ST_MEM(BPFVM_W, 10, -4, 5),
		BPFVM_MOV64_REG(2, 10),
		BPFVM_ALU64_IMM(BPFVM_ADD, 2, -4),
		BPFVM_RAW_INSN(BPFVM_LD | BPFVM_DW | BPFVM_IMM, 1, BPFVM_PSEUDO_MAP_FD, 0, 0),
		BPFVM_RAW_INSN(0, 0, 0, 0, 0),
		BPFVM_CALL_HELPER(1),
		BPFVM_JMP_IMM(BPFVM_JEQ, 0, 0, 6),
		BPFVM_LDX_MEM(BPFVM_DW, 7, 0, 0),
		BPFVM_CALL_HELPER(8), /* bpf_get_smp_processor_id */
		BPFVM_ALU64_IMM(BPFVM_MUL, 0, 1000),
		BPFVM_ALU64_REG(BPFVM_SUB, 7, 0),
		BPFVM_MOV64_REG(0, 7),
		BPFVM_EXIT_INSN(),
		BPFVM_MOV64_IMM(0, -1),
		BPFVM_EXIT_INSN(),
	};
	BPFVM_OPTS(bpfvm_prog_opts, popts, .flags = BPFVM_PROG_TRUSTED, .maps = &map, .nmaps = 1);
	BPFVM_OPTS(bpfvm_run_opts, ropts, .mode = mode);
	struct bpfvm_prog *prog;
	uint32_t key = 5;
	uint64_t r = ~0ull;

	for (int cpu = 0; cpu < 1024; cpu++)
		v[cpu * (value_size / 8)] = 1000 * (uint64_t)cpu + 5;
	if (map && !bpfvm_map__update_elem(map, &key, v, 0) &&
	    (prog = bpfvm_prog__new(vm, insns, sizeof(insns) / sizeof(insns[0]), &popts)) &&
	    !bpfvm_prog__run(prog, NULL, 0, &ropts))
		r = ropts.retval;
	bpfvm_map__destroy(map);
	bpfvm__destroy(vm);
	return r;
}

TEST(percpu_array_lookup_reads_this_cpu)
{
	/* strides and per-CPU blocks that take an lea, a shift and a multiplication */
	static const uint32_t shapes[][2] = { { 8, 8 }, { 16, 8 }, { 24, 7 }, { 8, 6 } };
	cpu_set_t was, one;

	/* on every CPU this process may use (on CPU 0 the per-CPU block is not tested) */
	CHECK(!sched_getaffinity(0, sizeof(was), &was));
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		if (!CPU_ISSET(cpu, &was))
			continue;
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		if (sched_setaffinity(0, sizeof(one), &one))
			continue;
		for (size_t k = 0; k < sizeof(shapes) / sizeof(shapes[0]); k++) {
			CHECK_EQ_U64(percpu_slot(BPFVM_EXEC_UNCHECKED, shapes[k][0], shapes[k][1]), 5);
			CHECK_EQ_U64(percpu_slot(BPFVM_EXEC_CHECKED, shapes[k][0], shapes[k][1]), 5);
			CHECK_EQ_U64(percpu_slot(BPFVM_EXEC_JIT, shapes[k][0], shapes[k][1]), 5);
		}
	}
	CHECK(!sched_setaffinity(0, sizeof(was), &was));
}

/* ---- refusals and errors ----------------------------------------------------------- */

static int compile_only(const struct bpfvm_insn *insns, size_t n, uint32_t flags,
			const struct vm_jit_opts *opts, char *log, size_t loglen,
			bool *has_jit)
{
	struct bpfvm *vm = new_vm();
	struct bpfvm_log l = { log, loglen, 0 };
	BPFVM_OPTS(bpfvm_prog_opts, popts, .flags = flags, .log = &l, .name = "t");
	struct bpfvm_prog *prog;
	int err;

	log[0] = '\0';
	prog = bpfvm_prog__new(vm, insns, n, &popts);
	bpfvm__set_helper(vm, HELPER, NULL, NULL); /* gone after the program was made */
	err = prog ? vm_jit_compile(prog, opts, &l) : -1000;
	*has_jit = prog && prog->jit;
	bpfvm__destroy(vm);
	return err;
}

TEST(refuses_what_it_cannot_translate)
{
	struct bpfvm_insn kfunc[] = {
		BPFVM_MOV64_IMM(0, 0), BPFVM_RAW_INSN(BPFVM_JMP | BPFVM_CALL, 0, 2, 0, 1234),
		BPFVM_EXIT_INSN(),
	};
	struct bpfvm_insn helper[] = { BPFVM_MOV64_IMM(0, 0), BPFVM_CALL_HELPER(HELPER), BPFVM_EXIT_INSN() };
	struct bpfvm_insn map[] = { BPFVM_LD_IMM64_RAW(1, BPFVM_PSEUDO_MAP_FD, 3), BPFVM_EXIT_INSN() };
	char log[512];
	bool has;
	int err;

	CHECK_EQ_INT(compile_only(kfunc, 3, 0, NULL, log, sizeof(log), &has), -EINVAL);
	CHECK_CONTAINS(log, "instruction 1: calls kernel function (kfunc) with BTF id 1234");
	CHECK(!has);
	CHECK_EQ_INT(compile_only(helper, 3, 0, NULL, log, sizeof(log), &has), -EINVAL);
	CHECK_CONTAINS(log, "instruction 1: invalid func unknown#150");
	/* a map reference with no map: refused, when the program is made or compiled */
	err = compile_only(map, 3, 0, NULL, log, sizeof(log), &has);
	CHECK(err == -EINVAL || err == -1000);
	CHECK_CONTAINS(log, "instruction 0: ");
}

TEST(runs_only_trusted_programs)
{
	struct bpfvm_insn insns[] = { BPFVM_MOV64_IMM(0, 1), BPFVM_EXIT_INSN() };
	struct bpfvm *vm = new_vm();
	char msg[256] = "";
	struct bpfvm_log log = { msg, sizeof(msg), 0 };
	BPFVM_OPTS(bpfvm_prog_opts, popts, .name = "untrusted");
	BPFVM_OPTS(bpfvm_run_opts, ropts, .mode = BPFVM_EXEC_JIT, .log = &log);
	struct bpfvm_prog *prog = bpfvm_prog__new(vm, insns, 2, &popts);

	CHECK_EQ_INT(bpfvm_prog__run(prog, NULL, 0, &ropts), -EPERM);
	CHECK_CONTAINS(msg, "program 'untrusted' is neither verified nor trusted");
	/* compiling is allowed: it runs nothing */
	CHECK_EQ_INT(bpfvm_prog__jit(prog, &log), 0);
	bpfvm__destroy(vm);
}

static void *failing_map(size_t size)
{
	(void)size;
	errno = ENOMEM;
	return MAP_FAILED;
}

TEST(failed_code_allocation_is_an_error)
{
	struct bpfvm_insn insns[] = { BPFVM_MOV64_IMM(0, 1), BPFVM_EXIT_INSN() };
	struct vm_jit_opts opts = { .map = failing_map };
	char log[512];
	bool has;

	CHECK_EQ_INT(compile_only(insns, 2, BPFVM_PROG_TRUSTED, &opts, log, sizeof(log), &has),
		     -ENOMEM);
	CHECK_CONTAINS(log, "cannot map");
	CHECK(!has);
}

/* The permissions of the mapping that holds addr, from /proc/self/maps. */
static bool mapping_perms(uintptr_t addr, char perms[5])
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	bool found = false;

	while (f && !found && fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;

		if (sscanf(line, "%lx-%lx %4s", &lo, &hi, perms) == 3 && addr >= lo && addr < hi)
			found = true;
	}
	if (f)
		fclose(f);
	return found;
}

TEST(code_is_never_writable)
{
	struct bpfvm_insn insns[] = { BPFVM_MOV64_IMM(0, 1), BPFVM_EXIT_INSN() };
	struct bpfvm *vm = new_vm();
	BPFVM_OPTS(bpfvm_prog_opts, popts, .flags = BPFVM_PROG_TRUSTED);
	struct bpfvm_prog *prog = bpfvm_prog__new(vm, insns, 2, &popts);
	const void *code;
	size_t size;
	char perms[5] = "";

	CHECK_EQ_INT(bpfvm_prog__jit(prog, NULL), 0);
	CHECK_EQ_INT(bpfvm_prog__jit_code(prog, &code, &size), 0);
	CHECK(mapping_perms((uintptr_t)code, perms));
	CHECK_STR(perms, "r-xp");
	CHECK(bpfvm_prog__jit_insn_offset(prog, 0) > 0);
	CHECK(bpfvm_prog__jit_insn_offset(prog, 2) <= (long)size);
	CHECK_EQ_INT(bpfvm_prog__jit_insn_offset(prog, 3), -EINVAL);
	bpfvm__destroy(vm);
}

/* Blinded, no immediate of the program appears in the code as it is. */
TEST(blinding_hides_immediates)
{
	struct bpfvm_insn insns[] = {
		BPFVM_MOV64_IMM(0, 0x3c3c3c3c), BPFVM_JMP_IMM(BPFVM_JEQ, 0, 0x1e1e1e1e, 1),
		BPFVM_ALU64_IMM(BPFVM_ADD, 0, 0x5a5a5a5a), BPFVM_LD_IMM64_RAW(1, 0, 0x6b6b6b6b6b6b6b6bull),
		BPFVM_ST_MEM(BPFVM_W, 10, -8, 0x7d7d7d7d), BPFVM_ALU64_REG(BPFVM_XOR, 0, 1),
		BPFVM_EXIT_INSN(),
	};
	static const uint32_t pats[] = { 0x3c3c3c3c, 0x5a5a5a5a, 0x1e1e1e1e, 0x6b6b6b6b, 0x7d7d7d7d };

	for (int blind = 0; blind <= 1; blind++) {
		struct bpfvm *vm = new_vm();
		BPFVM_OPTS(bpfvm_prog_opts, popts,
			   .flags = BPFVM_PROG_TRUSTED | (blind ? BPFVM_PROG_JIT_BLIND : 0));
		struct bpfvm_prog *prog = bpfvm_prog__new(vm, insns, 8, &popts);
		const void *code;
		size_t size;
		unsigned found = 0;

		CHECK_EQ_INT(bpfvm_prog__jit(prog, NULL), 0);
		bpfvm_prog__jit_code(prog, &code, &size);
		for (size_t p = 0; p < sizeof(pats) / sizeof(pats[0]); p++)
			found += memmem(code, size, &pats[p], 4) != NULL;
		CHECK_EQ_INT(found, blind ? 0 : 5);
		bpfvm__destroy(vm);
	}
}

/*
 * A verified program (not trusted) runs on what the verifier proved: a
 * result it knows is a move of the constant, code no path runs is left
 * out.  The same program trusted gets no such help, and more code.
 */
TEST(uses_what_the_verifier_proved)
{
	struct bpfvm_insn insns[] = {
		BPFVM_MOV64_IMM(0, 0), BPFVM_MOV64_IMM(2, 7), BPFVM_MOV64_REG(3, 2),
		BPFVM_ALU64_IMM(BPFVM_MUL, 3, 6), BPFVM_MOV64_REG(4, 3),
		BPFVM_ALU64_REG(BPFVM_DIV, 4, 2), BPFVM_JMP_IMM(BPFVM_JGT, 2, 10, 2),
		BPFVM_ALU64_REG(BPFVM_ADD, 0, 4), BPFVM_EXIT_INSN(),
		BPFVM_MOV64_IMM(0, 99), BPFVM_ALU64_REG(BPFVM_MOD, 0, 3), BPFVM_EXIT_INSN(),
	};
	size_t sizes[2] = { 0, 0 };
	uint8_t mem[16] = { 0 };

	for (int verified = 0; verified <= 1; verified++) {
		struct bpfvm *vm = new_vm();
		char msg[2048] = "";
		struct bpfvm_log log = { msg, sizeof(msg), 0 };
		BPFVM_OPTS(bpfvm_prog_opts, popts, .flags = verified ? 0 : BPFVM_PROG_TRUSTED,
			   .log = &log);
		BPFVM_OPTS(bpfvm_verify_opts, vopts, .flags = BPFVM_VERIFY_MEM,
			   .mem_size = sizeof(mem), .log = &log);
		BPFVM_OPTS(bpfvm_run_opts, ropts, .mode = BPFVM_EXEC_JIT, .log = &log);
		struct bpfvm_prog *prog = bpfvm_prog__new(vm, insns, 12, &popts);
		const void *code;

		CHECK(prog != NULL);
		if (verified)
			CHECK_EQ_INT(bpfvm_prog__verify(prog, &vopts), 0);
		CHECK_EQ_INT(bpfvm_prog__run(prog, mem, sizeof(mem), &ropts), 0);
		CHECK_EQ_U64(ropts.retval, 6);
		CHECK_EQ_INT(bpfvm_prog__jit_code(prog, &code, &sizes[verified]), 0);
		if (verified) /* the unreachable tail is one jump to a fault stub */
			CHECK(bpfvm_prog__jit_insn_offset(prog, 11) - bpfvm_prog__jit_insn_offset(prog, 9) == 5);
		if (test_failed_now)
			printf("     ... %s\n", msg);
		bpfvm__destroy(vm);
	}
	CHECK(sizes[1] < sizes[0]);
}

/*
 * A constant seen after a pruning point is not a fact: the path pruned
 * there may hold another value in a register that was not precise (r3 is
 * 7 on the path walked first, 5 on the one pruned at the join), and code
 * built on "r4 is 8" would return 8 where the program returns 6.
 */
TEST(constants_after_pruning_are_not_facts)
{
	struct bpfvm_insn insns[] = {
		BPFVM_LDX_MEM(BPFVM_B, 2, 1, 0),
		BPFVM_MOV64_IMM(3, 5),
		BPFVM_JMP_IMM(BPFVM_JEQ, 2, 0, 1),
		BPFVM_MOV64_IMM(3, 7),
		BPFVM_MOV64_REG(4, 3), /* the join: a prune point */
		BPFVM_ALU64_IMM(BPFVM_ADD, 4, 1),
		BPFVM_MOV64_REG(0, 4),
		BPFVM_EXIT_INSN(),
	};

	for (uint8_t first = 0; first <= 1; first++) {
		struct bpfvm *vm = new_vm();
		char msg[2048] = "";
		struct bpfvm_log log = { msg, sizeof(msg), 0 };
		BPFVM_OPTS(bpfvm_prog_opts, popts, .log = &log);
		uint8_t mem[16] = { first };
		BPFVM_OPTS(bpfvm_verify_opts, vopts,
			   .flags = BPFVM_VERIFY_MEM | BPFVM_VERIFY_STATE_FREQ, /* a checkpoint at the join */
			   .mem_size = sizeof(mem), .log = &log);
		struct bpfvm_prog *prog = bpfvm_prog__new(vm, insns, sizeof(insns) / sizeof(insns[0]),
							  &popts);

		CHECK(prog != NULL);
		CHECK_EQ_INT(bpfvm_prog__verify(prog, &vopts), 0);
		for (int m = 0; m < 3; m++) {
			BPFVM_OPTS(bpfvm_run_opts, ropts, .log = &log,
				   .mode = m == 0 ? BPFVM_EXEC_CHECKED
					   : m == 1 ? BPFVM_EXEC_UNCHECKED : BPFVM_EXEC_JIT);

			CHECK_EQ_INT(bpfvm_prog__run(prog, mem, sizeof(mem), &ropts), 0);
			CHECK_EQ_U64(ropts.retval, first ? 8 : 6);
		}
		if (test_failed_now)
			printf("     ... %s\n", msg);
		bpfvm__destroy(vm);
	}
}

/*
 * Should a fact ever be wrong (code the verifier found unreachable runs
 * after all), the JIT's run stops with an error naming the instruction;
 * the process that embeds bpfvm goes on.  The fact is made wrong here by
 * hand, as only a verifier bug could make it.
 */
TEST(reaching_dead_code_is_an_error_not_a_crash)
{
	struct bpfvm_insn insns[] = {
		BPFVM_LDX_MEM(BPFVM_B, 2, 1, 0),
		BPFVM_MOV64_IMM(0, 1),
		BPFVM_JMP_IMM(BPFVM_JEQ, 2, 0, 1),
		BPFVM_MOV64_IMM(0, 2),
		BPFVM_EXIT_INSN(),
	};
	struct bpfvm *vm = new_vm();
	char msg[2048] = "";
	struct bpfvm_log log = { msg, sizeof(msg), 0 };
	BPFVM_OPTS(bpfvm_prog_opts, popts, .name = "deadcode", .log = &log);
	BPFVM_OPTS(bpfvm_verify_opts, vopts, .flags = BPFVM_VERIFY_MEM, .mem_size = 16, .log = &log);
	BPFVM_OPTS(bpfvm_run_opts, ropts, .mode = BPFVM_EXEC_JIT, .log = &log);
	struct bpfvm_prog *prog = bpfvm_prog__new(vm, insns, 5, &popts);
	uint8_t mem[16] = { 1 };

	CHECK(prog != NULL);
	CHECK_EQ_INT(bpfvm_prog__verify(prog, &vopts), 0);
	CHECK(prog->facts && (prog->facts->f[3].flags & FACT_SEEN));
	prog->facts->f[3].flags &= (uint8_t)~FACT_SEEN; /* a wrong proof */
	msg[0] = '\0';
	log.len = 0;
	CHECK_EQ_INT(bpfvm_prog__run(prog, mem, sizeof(mem), &ropts), -EFAULT);
	CHECK_CONTAINS(msg, "deadcode: instruction 3 (r0 = 0x2): reached code the verifier found "
			    "unreachable");
	mem[0] = 0; /* the path that skips it still runs */
	CHECK_EQ_INT(bpfvm_prog__run(prog, mem, sizeof(mem), &ropts), 0);
	CHECK_EQ_U64(ropts.retval, 1);
	bpfvm__destroy(vm);
}

/* ---- division by a constant: the magic numbers, exhaustively over divisors ------------ */

static uint64_t mulhi(uint64_t a, uint64_t b, unsigned bits)
{
	if (bits == 32)
		return (a * b) >> 32;
	return (uint64_t)(((unsigned __int128)a * b) >> 64);
}

static int64_t mulhs(int64_t a, int64_t b, unsigned bits)
{
	if (bits == 32)
		return (int64_t)(int32_t)((a * b) >> 32);
	return (int64_t)(((__int128)a * b) >> 64);
}

static bool udiv_ok(uint64_t d, unsigned bits, uint64_t x)
{
	struct jit_udiv_magic mg;
	uint64_t t, q;

	jit_udiv_magic(d, bits, &mg);
	t = mulhi(x, mg.m, bits);
	q = mg.add ? ((((x - t) & (bits == 32 ? 0xffffffffu : ~0ull)) >> 1) + t) >> mg.shift
		   : t >> mg.shift;
	return q == x / d;
}

static bool sdiv_ok(int64_t d, unsigned bits, int64_t x)
{
	struct jit_sdiv_magic mg;
	int64_t t;

	jit_sdiv_magic(d, bits, &mg);
	t = mulhs(x, mg.m, bits);
	if (d > 0 && mg.m < 0)
		t += x;
	if (d < 0 && mg.m > 0)
		t -= x;
	if (bits == 32)
		t = (int32_t)t;
	t >>= mg.shift;
	t += (uint64_t)t >> 63;
	return t == x / d;
}

TEST(division_magic_numbers)
{
	uint64_t s = 99;
	unsigned bad = 0;

	for (unsigned bits = 32; bits <= 64; bits += 32) {
		for (uint64_t i = 0; i < 20000 && bad < 5; i++) {
			uint64_t d = i < 10000 ? 3 + i : 3 + (s >> (i % 40));
			int64_t sd;
			uint64_t x;

			s = s * 6364136223846793005ull + 1442695040888963407ull;
			d &= bits == 32 ? 0x7fffffff : 0x7fffffffffffffffull; /* larger: a compare */
			if (d < 3 || !(d & (d - 1)))
				continue;
			sd = i % 2 ? -(int64_t)d : (int64_t)d;
			for (int k = 0; k < 64; k++) {
				x = k < 8 ? (uint64_t)-(int64_t)k : s * (uint64_t)(k + 1) >> (k % 33);
				if (bits == 32)
					x &= 0xffffffff;
				if (!udiv_ok(d, bits, x) && bad++ < 5)
					TEST_FAIL("u%u: %" PRIu64 " / %" PRIu64, bits, x, d);
				x = bits == 32 ? (uint64_t)(int64_t)(int32_t)x : x;
				if (!sdiv_ok(sd, bits, (int64_t)x) && bad++ < 5)
					TEST_FAIL("s%u: %" PRId64 " / %" PRId64, bits, (int64_t)x, sd);
			}
		}
	}
}

/* ---- random programs ---------------------------------------------------------------- */

/* ---- scratch memory (jit_arena.c) ------------------------------------------------ */

/* Under AddressSanitizer the arena keeps no block (each array its own allocation). */
#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

/*
 * A compilation's scratch is carved from a block the vm keeps for the
 * next: the second compilation's arrays are the first's memory, zeroed
 * where asked; contents survive a grow; two compilations at once each
 * have an arena, and giving both back keeps one and frees the other.
 */
TEST(jit_scratch_is_kept_between_compilations)
{
	struct bpfvm *vm = new_vm();
	struct jit_arena *a = jit_arena_take(vm), *b;
	unsigned char *p, *q, *kept = NULL;

	CHECK(a != NULL);
	for (int round = 0; a && round < 3; round++) {
		p = jit_arena_zalloc(a, 1000);
		q = jit_arena_alloc(a, 24);
		CHECK(p != NULL && q != NULL);
		if (!p || !q)
			break;
		CHECK_EQ_INT((uintptr_t)p % 16, 0);
		CHECK_EQ_INT((uintptr_t)q % 16, 0);
		for (int i = 0; i < 1000; i++)
			CHECK_EQ_INT(p[i], 0);
		memset(p, 0xab, 1000); /* the next round's zalloc must clear it */
		memcpy(q, "twenty-four bytes here!", 24);
		q = jit_arena_grow(a, q, 24, 4096);
		CHECK(q != NULL && !memcmp(q, "twenty-four bytes here!", 24));
		if (round == 2 && !UNDER_ASAN) /* the block sized in round 0 served rounds 1 and 2 */
			CHECK(p == kept);
		kept = p;
		jit_arena_give(vm, a);
		a = jit_arena_take(vm);
	}
	b = jit_arena_take(vm); /* a is out: b is a new one */
	CHECK(b != NULL && b != a);
	jit_arena_give(vm, a);
	jit_arena_give(vm, b); /* the vm has one: b is freed */
	bpfvm__destroy(vm);    /* and a with it */
}

/* ---- stack slots in registers (jit_promote.c) ------------------------------------ */

/* The plan for the program in pb: function f's candidate offsets and each slot's mark. */
static struct jit_promo promo_plan_of(uint32_t f, int16_t *offs, unsigned *n)
{
	struct bpfvm *vm = new_vm();
	BPFVM_OPTS(bpfvm_prog_opts, popts, .flags = BPFVM_PROG_TRUSTED, .name = "t");
	struct bpfvm_prog *prog = bpfvm_prog__new(vm, pb.v, pb.n, &popts);
	struct jit_promo plan = { 0 };
	struct jit_arena *arena = jit_arena_take(vm);
	uint16_t *reads = NULL, *writes = NULL;
	struct jit_func_use *use = NULL;

	*n = 0;
	CHECK(prog != NULL && arena != NULL);
	if (prog && arena && !jit_reg_masks(prog, arena, &reads, &writes, &use) &&
	    !jit_promote_plan(prog, reads, writes, &plan)) {
		*n = plan.funcs[f].n;
		memcpy(offs, plan.funcs[f].off, sizeof(plan.funcs[f].off));
	}
	jit_arena_give(vm, arena);
	bpfvm__destroy(vm);
	return plan;
}

/*
 * What each function's prologue provides for, worked out once for both
 * passes: the registers it writes (a call clobbers r0-r5), whether it
 * calls, keeps a loop budget, divides or fetches with or/and/xor.
 */
TEST(what_each_function_does)
{
	struct bpfvm_insn insns[] = {
		BPFVM_MOV64_IMM(6, 1),
		BPFVM_RAW_INSN(BPFVM_JMP | BPFVM_CALL, 0, BPFVM_PSEUDO_CALL, 0, 2),
		BPFVM_MOV64_REG(0, 6), BPFVM_EXIT_INSN(),
		/* f: */
		BPFVM_MOV64_IMM(7, 9), BPFVM_ALU32_IMM(BPFVM_MOD, 7, 5),
		BPFVM_ST_MEM(BPFVM_DW, 10, -8, 0),
		BPFVM_RAW_INSN(BPFVM_STX | BPFVM_ATOMIC | BPFVM_DW, 10, 7, -8, BPFVM_OR | BPFVM_FETCH),
		BPFVM_RAW_INSN(BPFVM_JMP32 | BPFVM_JA, 0, 0, 0, 0),
		BPFVM_RAW_INSN(BPFVM_JMP | 0xe0 /* may_goto */, 0, 0, 0, 0),
		BPFVM_MOV64_REG(0, 7), BPFVM_EXIT_INSN(),
	};
	struct bpfvm *vm = new_vm();
	BPFVM_OPTS(bpfvm_prog_opts, popts, .flags = BPFVM_PROG_TRUSTED, .name = "t");
	struct bpfvm_prog *prog = bpfvm_prog__new(vm, insns, sizeof(insns) / sizeof(insns[0]), &popts);
	struct jit_arena *arena = jit_arena_take(vm);
	uint16_t *reads = NULL, *writes = NULL;
	struct jit_func_use *use = NULL;

	CHECK(prog != NULL && arena != NULL);
	if (prog && arena && !jit_reg_masks(prog, arena, &reads, &writes, &use)) {
		CHECK_EQ_INT(prog->nfuncs, 2);
		CHECK_EQ_INT(use[0].written, 0x7f); /* r6, and r0-r5 by the call */
		CHECK_EQ_INT(use[0].does, JIT_FN_CALLS);
		CHECK_EQ_INT(use[1].written, 0x81); /* r7, r0 */
		CHECK_EQ_INT(use[1].does, JIT_FN_DIVIDES | JIT_FN_FETCH_LOGIC | JIT_FN_MAY_GOTO);
		CHECK_EQ_INT(reads[1], 0x7ff); /* a call of a function may read anything */
	}
	jit_arena_give(vm, arena);
	bpfvm__destroy(vm);
}

/*
 * Which slots may live in registers: plain 4- and 8-byte accesses at one
 * offset, in a function that neither calls nor lets r10 out; the
 * innermost loop's first.
 */
TEST(which_stack_slots_registers_hold)
{
	int16_t offs[JIT_PROMO_MAX];
	unsigned n;
	struct jit_promo plan;

	/* -8 once, -16 in a loop, -24 in a loop inside it: -24, -16, -8 */
	PROG(BPFVM_ST_MEM(BPFVM_DW, 10, -8, 1), BPFVM_ST_MEM(BPFVM_DW, 10, -16, 2),
	     BPFVM_ST_MEM(BPFVM_W, 10, -24, 3), BPFVM_MOV64_IMM(0, 3),
	     BPFVM_LDX_MEM(BPFVM_DW, 1, 10, -16), BPFVM_MOV64_IMM(2, 3),
	     BPFVM_LDX_MEM(BPFVM_W, 3, 10, -24), BPFVM_STX_MEM(BPFVM_W, 10, 3, -24),
	     BPFVM_ALU64_IMM(BPFVM_SUB, 2, 1), BPFVM_JMP_IMM(BPFVM_JNE, 2, 0, -4),
	     BPFVM_STX_MEM(BPFVM_DW, 10, 1, -16), BPFVM_ALU64_IMM(BPFVM_SUB, 0, 1),
	     BPFVM_JMP_IMM(BPFVM_JNE, 0, 0, -9), BPFVM_LDX_MEM(BPFVM_DW, 0, 10, -8),
	     BPFVM_EXIT_INSN());
	plan = promo_plan_of(0, offs, &n);
	CHECK_EQ_INT((int)n, 3);
	CHECK_EQ_INT(offs[0], -24);
	CHECK_EQ_INT(offs[1], -16);
	CHECK_EQ_INT(offs[2], -8);
	CHECK_EQ_INT(plan.at[0] & JIT_PROMO_SLOT, 3);
	CHECK_EQ_INT(plan.at[7] & JIT_PROMO_SLOT, 1);
	CHECK_EQ_INT(plan.at[7] & JIT_PROMO_MERGE, 0); /* -24 is only ever 4 bytes wide */
	jit_promote_free(&plan);

	/* A 4-byte store whose slot's upper half a later 8-byte load reads merges; one whose
	 * upper half an 8-byte store replaces first, or no load reads, does not. */
	PROG(BPFVM_ST_MEM(BPFVM_DW, 10, -8, -1), BPFVM_ST_MEM(BPFVM_W, 10, -8, 5),
	     BPFVM_LDX_MEM(BPFVM_DW, 0, 10, -8), BPFVM_ST_MEM(BPFVM_W, 10, -8, 6),
	     BPFVM_ST_MEM(BPFVM_DW, 10, -8, 7), BPFVM_LDX_MEM(BPFVM_DW, 1, 10, -8),
	     BPFVM_ST_MEM(BPFVM_W, 10, -8, 8), BPFVM_EXIT_INSN());
	plan = promo_plan_of(0, offs, &n);
	CHECK_EQ_INT((int)n, 1);
	CHECK(plan.at[1] & JIT_PROMO_MERGE);
	CHECK_EQ_INT(plan.at[3] & JIT_PROMO_MERGE, 0);
	CHECK_EQ_INT(plan.at[6] & JIT_PROMO_MERGE, 0);
	jit_promote_free(&plan);

	/* Around a loop: the load at the top reads the 4-byte store at the bottom. */
	PROG(BPFVM_ST_MEM(BPFVM_DW, 10, -8, -1), BPFVM_MOV64_IMM(2, 3),
	     BPFVM_LDX_MEM(BPFVM_DW, 0, 10, -8), BPFVM_ST_MEM(BPFVM_W, 10, -8, 9),
	     BPFVM_ALU64_IMM(BPFVM_SUB, 2, 1), BPFVM_JMP_IMM(BPFVM_JNE, 2, 0, -4),
	     BPFVM_EXIT_INSN());
	plan = promo_plan_of(0, offs, &n);
	CHECK_EQ_INT((int)n, 1);
	CHECK(plan.at[3] & JIT_PROMO_MERGE);
	jit_promote_free(&plan);

	/* What keeps slots in memory: an overlapping access at another offset, a narrower
	 * one, an atomic, a sign-extending load, a slot half outside the frame. */
	PROG(BPFVM_ST_MEM(BPFVM_DW, 10, -8, 1), BPFVM_ST_MEM(BPFVM_W, 10, -4, 2),
	     BPFVM_ST_MEM(BPFVM_DW, 10, -16, 1), BPFVM_ST_MEM(BPFVM_B, 10, -16, 2),
	     BPFVM_ST_MEM(BPFVM_DW, 10, -24, 1), BPFVM_MOV64_IMM(1, 1),
	     BPFVM_RAW_INSN(BPFVM_STX | BPFVM_ATOMIC | BPFVM_DW, 10, 1, -24, BPFVM_ADD),
	     BPFVM_ST_MEM(BPFVM_W, 10, -32, 1),
	     BPFVM_RAW_INSN(BPFVM_LDX | BPFVM_MEMSX | BPFVM_W, 0, 10, -32, 0),
	     BPFVM_ST_MEM(BPFVM_DW, 10, -40, 1), BPFVM_LDX_MEM(BPFVM_DW, 0, 10, -40),
	     BPFVM_EXIT_INSN());
	plan = promo_plan_of(0, offs, &n);
	CHECK_EQ_INT((int)n, 1);
	CHECK_EQ_INT(offs[0], -40);
	jit_promote_free(&plan);

	/* r10 copied: the slots can be reached through the copy. */
	PROG(BPFVM_ST_MEM(BPFVM_DW, 10, -8, 1), BPFVM_MOV64_REG(1, 10),
	     BPFVM_LDX_MEM(BPFVM_DW, 0, 1, -8), BPFVM_EXIT_INSN());
	plan = promo_plan_of(0, offs, &n);
	CHECK_EQ_INT((int)n, 0);
	jit_promote_free(&plan);

	/* A call: not in the caller, but in the callee that makes none. */
	PROG(BPFVM_ST_MEM(BPFVM_DW, 10, -8, 1), CALL_LOCAL(2), BPFVM_LDX_MEM(BPFVM_DW, 0, 10, -8),
	     BPFVM_EXIT_INSN(), BPFVM_ST_MEM(BPFVM_DW, 10, -8, 2),
	     BPFVM_LDX_MEM(BPFVM_DW, 0, 10, -8), BPFVM_EXIT_INSN());
	plan = promo_plan_of(0, offs, &n);
	CHECK_EQ_INT((int)n, 0);
	jit_promote_free(&plan);
	plan = promo_plan_of(1, offs, &n);
	CHECK_EQ_INT((int)n, 1);
	jit_promote_free(&plan);
}

/*
 * Slots in registers give the interpreter's results: a function naming
 * few registers (its slots take those of the others, r6-r9's saved for
 * the caller), one naming them all (r9 and r10 only, kept aside around a
 * division and a fetching atomic), 4-byte stores that merge and ones that
 * need not, a slot left uninitialized (zero, as the interpreter's stack).
 */
TEST(stack_slots_in_registers_agree)
{
	fill_input(21);
	/* main: r6-r9 set, calls f, which names r0-r2 only and keeps 8 slots */
	PROG(BPFVM_MOV64_REG(6, 1), BPFVM_MOV64_IMM(7, 77), BPFVM_MOV64_IMM(8, 88),
	     BPFVM_MOV64_IMM(9, 99), BPFVM_MOV64_IMM(1, 5), CALL_LOCAL(7),
	     BPFVM_STX_MEM(BPFVM_DW, 6, 0, OUT), BPFVM_STX_MEM(BPFVM_DW, 6, 7, OUT + 8),
	     BPFVM_STX_MEM(BPFVM_DW, 6, 8, OUT + 16), BPFVM_STX_MEM(BPFVM_DW, 6, 9, OUT + 24),
	     BPFVM_MOV64_IMM(0, 0), BPFVM_EXIT_INSN(), BPFVM_EXIT_INSN(),
	     /* f(r1): slots -8..-64 updated in a loop of r1 rounds */
	     BPFVM_ST_MEM(BPFVM_DW, 10, -8, -3), BPFVM_ST_MEM(BPFVM_DW, 10, -16, 0x7fffffff),
	     BPFVM_ST_MEM(BPFVM_W, 10, -24, -1), BPFVM_ST_MEM(BPFVM_DW, 10, -32, 1),
	     BPFVM_ST_MEM(BPFVM_DW, 10, -40, -100), BPFVM_ST_MEM(BPFVM_DW, 10, -48, 7),
	     BPFVM_ST_MEM(BPFVM_DW, 10, -56, 9),
	     /* loop: */
	     BPFVM_LDX_MEM(BPFVM_DW, 0, 10, -8), BPFVM_ALU64_IMM(BPFVM_MUL, 0, 31),
	     BPFVM_STX_MEM(BPFVM_DW, 10, 0, -8), BPFVM_LDX_MEM(BPFVM_DW, 2, 10, -16),
	     BPFVM_ALU64_REG(BPFVM_ADD, 2, 0), BPFVM_STX_MEM(BPFVM_W, 10, 2, -16),
	     BPFVM_LDX_MEM(BPFVM_W, 2, 10, -24), BPFVM_ALU32_IMM(BPFVM_ADD, 2, 3),
	     BPFVM_STX_MEM(BPFVM_W, 10, 2, -24), BPFVM_LDX_MEM(BPFVM_DW, 2, 10, -32),
	     BPFVM_ALU64_IMM(BPFVM_LSH, 2, 3), BPFVM_STX_MEM(BPFVM_DW, 10, 2, -32),
	     BPFVM_ST_MEM(BPFVM_W, 10, -40, -5), BPFVM_LDX_MEM(BPFVM_DW, 2, 10, -48),
	     BPFVM_ALU64_REG(BPFVM_XOR, 2, 1), BPFVM_STX_MEM(BPFVM_DW, 10, 2, -48),
	     BPFVM_ST_MEM(BPFVM_W, 10, -56, 4),
	     BPFVM_ALU64_IMM(BPFVM_SUB, 1, 1), BPFVM_JMP_IMM(BPFVM_JNE, 1, 0, -19),
	     /*
	      * r0 = the sum of the slots, each read 8 bytes wide.  -64 is never
	      * written: read, but masked out, as its bytes are whatever the
	      * stack held (the interpreter's, or the JIT's register, which
	      * starts at 0), a trusted program's undefined read.
	      */
	     BPFVM_MOV64_IMM(0, 0), BPFVM_LDX_MEM(BPFVM_DW, 1, 10, -8), BPFVM_ALU64_REG(BPFVM_ADD, 0, 1),
	     BPFVM_LDX_MEM(BPFVM_DW, 1, 10, -16), BPFVM_ALU64_REG(BPFVM_ADD, 0, 1),
	     BPFVM_LDX_MEM(BPFVM_W, 1, 10, -24), BPFVM_ALU64_REG(BPFVM_ADD, 0, 1),
	     BPFVM_LDX_MEM(BPFVM_DW, 1, 10, -32), BPFVM_ALU64_REG(BPFVM_ADD, 0, 1),
	     BPFVM_LDX_MEM(BPFVM_DW, 1, 10, -40), BPFVM_ALU64_REG(BPFVM_ADD, 0, 1),
	     BPFVM_LDX_MEM(BPFVM_DW, 1, 10, -48), BPFVM_ALU64_REG(BPFVM_ADD, 0, 1),
	     BPFVM_LDX_MEM(BPFVM_DW, 1, 10, -56), BPFVM_ALU64_REG(BPFVM_ADD, 0, 1),
	     BPFVM_LDX_MEM(BPFVM_DW, 1, 10, -64), BPFVM_ALU64_IMM(BPFVM_AND, 1, 0),
	     BPFVM_ALU64_REG(BPFVM_ADD, 0, 1), BPFVM_EXIT_INSN());
	compare_all("slots in the registers of unnamed BPF registers");
	{
		int16_t offs[JIT_PROMO_MAX];
		unsigned n;
		struct jit_promo plan = promo_plan_of(1, offs, &n);

		CHECK_EQ_INT((int)n, 8);
		if (plan.funcs)
			CHECK_EQ_INT(plan.funcs[1].regs_used, 1 << 0 | 1 << 1 | 1 << 2 | 1 << 10);
		jit_promote_free(&plan);
	}

	/* Every register named: r9 and r10 hold the two busiest slots, kept aside around
	 * divisions and a fetching or. */
	begin(-1, -1);
	emit(BPFVM_ST_MEM(BPFVM_DW, 10, -16, 1000003));
	emit(BPFVM_ST_MEM(BPFVM_DW, 10, -24, 17));
	emit(BPFVM_MOV64_IMM(2, 4));
	emit(BPFVM_LDX_MEM(BPFVM_DW, 0, 10, -16));
	emit(BPFVM_ALU64_IMM(BPFVM_MUL, 0, 7));
	emit(BPFVM_STX_MEM(BPFVM_DW, 10, 0, -16));
	emit(BPFVM_LDX_MEM(BPFVM_DW, 3, 10, -24));
	emit(BPFVM_ALU64_REG(BPFVM_DIV, 0, 3));
	emit(BPFVM_ALU32_IMM(BPFVM_MOD, 3, 11));
	emit(BPFVM_RAW_INSN(BPFVM_ALU64 | BPFVM_DIV | BPFVM_K, 4, 0, 1, -13)); /* sdiv */
	emit(BPFVM_ALU64_IMM(BPFVM_DIV, 5, 1000));
	emit(BPFVM_RAW_INSN(BPFVM_STX | BPFVM_ATOMIC | BPFVM_DW, pb.base, 3, 8,
			    BPFVM_OR | BPFVM_FETCH));
	emit(BPFVM_ALU64_IMM(BPFVM_ADD, 3, 5));
	emit(BPFVM_STX_MEM(BPFVM_DW, 10, 3, -24));
	emit(BPFVM_ALU64_IMM(BPFVM_SUB, 2, 1));
	emit(BPFVM_JMP_IMM(BPFVM_JNE, 2, 0, -13));
	emit(BPFVM_LDX_MEM(BPFVM_DW, 1, 10, -16));
	save(1);
	emit(BPFVM_LDX_MEM(BPFVM_DW, 1, 10, -24));
	save(1);
	finish();
	compare_all("slots in r9 and r10 across divisions and a fetching or");
}

TEST(random_programs_agree)
{
	uint64_t bad = fuzz_jit_run(0x7e57, 3000);

	CHECK_EQ_U64(bad, 0);
}

TEST_MAIN()
