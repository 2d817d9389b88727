/*
 * jit_harness.h - what the JIT's tests (test_jit_*.c) share: a program
 * built into pb that saves every register into result slots, run through
 * the unchecked interpreter and every JIT variant (with and without BMI1
 * and BMI2, blinded) to compare all they leave; edge-case operands and
 * register pairs that stress the x86 mapping (rax/rdx for division, rcx
 * for shifts, sil/dil for bytes, rbp/r13 as bases).
 */
#ifndef BPFVM_TESTS_JIT_HARNESS_H
#define BPFVM_TESTS_JIT_HARNESS_H

#include <errno.h>
#include <sched.h>
#include <sys/mman.h>

#include <bpfvm/bpfvm.h>
#include <bpfvm/maps.h>

#include "core/facts.h"
#include "isa/opcode.h"
#include "vm/jit.h"
#include "vm/vm.h"

#include "test.h"

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

static inline void emit(struct bpfvm_insn in)
{
	if (pb.n < sizeof(pb.v) / sizeof(pb.v[0]))
		pb.v[pb.n++] = in;
}

static inline void ld64(int reg, uint64_t v)
{
	emit(BPFVM_RAW_INSN(BPFVM_LD | BPFVM_DW | BPFVM_IMM, reg, 0, 0, (int32_t)(uint32_t)v));
	emit(BPFVM_RAW_INSN(0, 0, 0, 0, (int32_t)(uint32_t)(v >> 32)));
}

static inline int16_t slot_off(void)
{
	return (int16_t)(OUT + 8 * pb.slot++);
}

static inline void save(int reg)
{
	emit(BPFVM_STX_MEM(BPFVM_DW, pb.base, reg, slot_off()));
}

static inline bool full(void)
{
	return pb.slot + 24 > MAX_SLOTS || pb.n + 200 > sizeof(pb.v) / sizeof(pb.v[0]);
}

/* The buffer's address in base; every other register a known value. */
static inline void begin(int avoid1, int avoid2)
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
static inline void finish(void)
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

static inline uint64_t test_helper(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
			    struct bpfvm_run_ctx *ctx)
{
	return (r1 * 3) ^ (r2 << 7) ^ (r3 * 0x9e37) ^ (r4 >> 3) ^ (r5 + 11) ^ (ctx ? 0 : 1);
}

static inline struct bpfvm *new_vm(void)
{
	struct bpfvm *vm = bpfvm__new(NULL);

	bpfvm__set_helper(vm, HELPER, "test_helper", test_helper);
	return vm;
}

/* Run insns in the interpreter (v NULL) or a JIT variant, on buf. */
static inline void run_on(const struct bpfvm_insn *insns, size_t cnt, size_t len,
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

static inline void fill_input(uint64_t seed)
{
	for (size_t i = 0; i < MEM; i++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		input[i] = (uint8_t)(seed >> 56);
	}
}

/* The program in pb through the interpreter and every JIT variant: all agree. */
static inline bool compare_all(const char *what)
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

/* ---- programs written out, calls among them ------------------------------------ */

#define CALL_LOCAL(OFF) BPFVM_RAW_INSN(BPFVM_JMP | BPFVM_CALL, 0, BPFVM_PSEUDO_CALL, 0, OFF)
#define CALLX(REG) BPFVM_RAW_INSN(BPFVM_JMP | BPFVM_CALL | BPFVM_X, REG, 0, 0, 0)
#define LD_FUNC(REG, OFF)                                                                  \
	BPFVM_RAW_INSN(BPFVM_LD | BPFVM_DW | BPFVM_IMM, REG, BPFVM_PSEUDO_FUNC, 0, OFF), \
		BPFVM_RAW_INSN(0, 0, 0, 0, 0)

static inline void set_prog(const struct bpfvm_insn *insns, size_t n)
{
	memcpy(pb.v, insns, n * sizeof(*insns));
	pb.n = n;
	pb.slot = 16;
}

#define PROG(...)                                                        \
	set_prog((struct bpfvm_insn[]){ __VA_ARGS__ },                   \
		 sizeof((struct bpfvm_insn[]){ __VA_ARGS__ }) / sizeof(struct bpfvm_insn))

#endif
