/*
 * interp.c - the interpreter: pre-decoding a program into threaded code
 * (one handler address per instruction, helper ids checked, function
 * references turned into addresses), the two interpreters built from
 * interp_body.h, and the messages a checked run stops with.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/facts.h"
#include "../helpers/helper_ids.h"
#include "../isa/opcode.h"
#include "../isa/semantics.h"
#include "../maps/map.h"
#include "../util/log.h"
#include "vm.h"

/* Super-instructions: pairs and triples the pre-decoder fuses (see thread_unchecked). */
#define FUSE_ALU_OPS(X) X(ADD) X(SUB) X(MUL) X(DIV) X(MOD) X(OR) X(AND) X(XOR) X(LSH) X(RSH) X(ARSH)
#define FUSE_JCC_OPS(X) ISA_JMP_OPS(X) /* every conditional jump */
#define FUSE_LDX_OPS(X) X(LDX_B, uint8_t) X(LDX_H, uint16_t) X(LDX_W, uint32_t) X(LDX_DW, uint64_t)
#define FUSE_STX_OPS(X) X(STX_B, uint8_t) X(STX_H, uint16_t) X(STX_W, uint32_t) X(STX_DW, uint64_t)
#define PROBE_LDX_OPS(X) FUSE_LDX_OPS(X) X(LDXS_B, int8_t) X(LDXS_H, int16_t) X(LDXS_W, int32_t)
/* A counter in memory: load, add a constant (32- or 64-bit), store back. */
#define FUSE_INC_OPS(X)                                                                   \
	X(W_32, LDX_W, ADD32_K, STX_W, uint32_t, 32)                                      \
	X(W_64, LDX_W, ADD64_K, STX_W, uint32_t, 64)                                      \
	X(DW_32, LDX_DW, ADD32_K, STX_DW, uint64_t, 32)                                   \
	X(DW_64, LDX_DW, ADD64_K, STX_DW, uint64_t, 64)

/* Operations the interpreter has beyond the ISA's: the pre-decoder picks them. */
enum {
	VM_OP_TAIL_CALL = ISA_OP_COUNT,
#define E(ID) VM_OP_MOVX_##ID##64_K, VM_OP_MOVX_##ID##64_X, VM_OP_MOVX_##ID##32_K, VM_OP_MOVX_##ID##32_X,
	FUSE_ALU_OPS(E)
#undef E
#define E(ID, SIGN, REL, OP) VM_OP_ADDK_##ID##64_K, VM_OP_ADDK_##ID##32_K,
	FUSE_JCC_OPS(E)
#undef E
#define E(ID, T) VM_OP_ADDX_##ID,
	FUSE_LDX_OPS(E)
#undef E
#define E(ID, T) VM_OP_MOVADDX_##ID, VM_OP_MOVKADDX_##ID,
	FUSE_LDX_OPS(E)
	FUSE_STX_OPS(E)
#undef E
#define E(ID, LD, ADD, ST, T, W) VM_OP_INC_##ID,
	FUSE_INC_OPS(E)
#undef E
	VM_OP_ZEXT, VM_OP_MOV_ZEXT, VM_OP_MOVK64_JA, VM_OP_MOVK32_JA,
	/* loads through BTF-typed pointers (FACT_MEM_PROBE): 0 outside the run's kernel objects */
#define E(ID, T) VM_OP_PROBE_##ID,
	PROBE_LDX_OPS(E)
#undef E
	VM_OP_COUNT
};

static const uint16_t probe_op[ISA_OP_COUNT] = {
#define E(ID, T) [ISA_OP_##ID] = VM_OP_PROBE_##ID,
	PROBE_LDX_OPS(E)
#undef E
};

/* Does slot i load through a BTF-typed pointer (the verifier's FACT_MEM_PROBE)? */
static bool probes(const struct bpfvm_prog *prog, uint32_t i)
{
	const struct verifier_facts *f = prog->facts;

	return f && f->cnt == prog->cnt && (f->f[i].mem & FACT_MEM_PROBE) && probe_op[prog->ops[i]];
}

static const uint16_t fuse_after_mov64[ISA_OP_COUNT] = {
#define E(ID) [ISA_OP_##ID##64_K] = VM_OP_MOVX_##ID##64_K, [ISA_OP_##ID##64_X] = VM_OP_MOVX_##ID##64_X,
	FUSE_ALU_OPS(E)
#undef E
};
static const uint16_t fuse_after_mov32[ISA_OP_COUNT] = {
#define E(ID) [ISA_OP_##ID##32_K] = VM_OP_MOVX_##ID##32_K, [ISA_OP_##ID##32_X] = VM_OP_MOVX_##ID##32_X,
	FUSE_ALU_OPS(E)
#undef E
};
static const uint16_t fuse_after_add64k[ISA_OP_COUNT] = {
#define E(ID, SIGN, REL, OP) [ISA_OP_##ID##64_K] = VM_OP_ADDK_##ID##64_K,
	FUSE_JCC_OPS(E)
#undef E
};
static const uint16_t fuse_after_add32k[ISA_OP_COUNT] = {
#define E(ID, SIGN, REL, OP) [ISA_OP_##ID##32_K] = VM_OP_ADDK_##ID##32_K,
	FUSE_JCC_OPS(E)
#undef E
};
static const uint16_t fuse_after_add64x[ISA_OP_COUNT] = {
#define E(ID, T) [ISA_OP_##ID] = VM_OP_ADDX_##ID,
	FUSE_LDX_OPS(E)
#undef E
};

static const uint16_t fuse_after_movadd[ISA_OP_COUNT] = {
#define E(ID, T) [ISA_OP_##ID] = VM_OP_MOVADDX_##ID,
	FUSE_LDX_OPS(E)
	FUSE_STX_OPS(E)
#undef E
};
static const uint16_t fuse_after_movkadd[ISA_OP_COUNT] = {
#define E(ID, T) [ISA_OP_##ID] = VM_OP_MOVKADDX_##ID,
	FUSE_LDX_OPS(E)
	FUSE_STX_OPS(E)
#undef E
};

/* The memory-counter triple at i (load, add K, store to the same place), or 0. */
static uint16_t fuse_increment(const struct bpfvm_prog *prog, uint32_t i)
{
	const struct bpfvm_insn *ld = &prog->insns[i], *add = ld + 1, *st = ld + 2;

	if (add->dst_reg != ld->dst_reg || st->src_reg != ld->dst_reg ||
	    st->dst_reg != ld->src_reg || st->off != ld->off || ld->src_reg == ld->dst_reg)
		return 0;
#define E(ID, LD, ADD, ST, T, W)                                                       \
	if (prog->ops[i] == ISA_OP_##LD && prog->ops[i + 1] == ISA_OP_##ADD &&          \
	    prog->ops[i + 2] == ISA_OP_##ST)                                              \
		return VM_OP_INC_##ID;
	FUSE_INC_OPS(E)
#undef E
	return 0;
}


#define REGBIT(n) ((uint16_t)(1u << (n)))
#define ARG_REGS (REGBIT(1) | REGBIT(2) | REGBIT(3) | REGBIT(4) | REGBIT(5))

/* Threaded instruction of the unchecked interpreter: 16 bytes. */
struct vm_uinsn {
	const void *label;
	int32_t imm;
	int16_t off;
	uint8_t dst;
	uint8_t src;
};

/* ...and of the checked one, which also knows what the instruction reads. */
struct vm_cinsn {
	const void *label;
	int32_t imm;
	int16_t off;
	uint8_t dst;
	uint8_t src;
	uint16_t reads;
	uint16_t writes;
	uint32_t idx;
};

struct vm_code {
	struct vm_uinsn *unchecked;
	struct vm_cinsn *checked;
	const struct verifier_facts *facts;   /* the program's when threaded */
};

struct interp_frame {
	const void *ret;
	uint64_t saved[4];    /* r6-r9: a callee gets its own */
	uint32_t may_goto;
	uint16_t init;
};

struct interp_state {
	struct bpfvm_run_ctx *run;
	const void *const *labels; /* out, when code is NULL */
	const void *code;          /* the first instruction to run */
	const void *base;          /* the running program's instruction 0 */
	uint32_t cnt;
	size_t insn_size;
	const struct vm_helper *helpers;
	uint64_t r1, r2, r3, r4, r5;
	uint16_t init_args;        /* checked: argument registers written on entry */
	uint64_t insn_limit;
	uint64_t executed;
	uint64_t retval;
};

void vm_code_free(struct vm_code *code)
{
	if (!code)
		return;
	free(code->unchecked);
	free(code->checked);
	free(code);
}

/* ---- messages ------------------------------------------------------------ */

static void log_insn(const struct interp_state *s, uint32_t idx)
{
	const struct bpfvm_prog *prog = s->run->prog;
	char text[128];

	if (idx >= prog->cnt || bpfvm_disasm_insn(prog->insns, prog->cnt, idx, BPFVM_SYNTAX_LLVM,
						  text, sizeof(text)) < 0)
		snprintf(text, sizeof(text), "?");
	log_printf(s->run->log, "%s: instruction %" PRIu32 " (%s): ", prog->name, idx, text);
}

static int fault_mem(const struct interp_state *s, uint32_t idx, uint64_t addr, uint64_t size,
		     bool write)
{
	const struct bpfvm_run_ctx *run = s->run;

	log_insn(s, idx);
	log_printf(run->log, "%s of %" PRIu64 " bytes at 0x%" PRIx64
			     " is outside the memory the program may %s",
		   write ? "write" : "read", size, addr, write ? "write" : "read");
	for (unsigned i = 0; i < run->nregions; i++)
		log_printf(run->log, "%s %s [0x%" PRIxPTR ", 0x%" PRIxPTR ")%s", i ? "," : " (",
			   run->regions[i].what, run->regions[i].start, run->regions[i].end,
			   run->regions[i].writable ? "" : " read-only");
	log_printf(run->log, "%s\n", run->nregions ? ")" : "");
	return -EFAULT;
}

static int fault_align(const struct interp_state *s, uint32_t idx, uint64_t addr, uint64_t size)
{
	log_insn(s, idx);
	log_printf(s->run->log, "misaligned atomic access of %" PRIu64 " bytes at 0x%" PRIx64 "\n",
		   size, addr);
	return -EFAULT;
}

static int fault_uninit(const struct interp_state *s, uint32_t idx, uint16_t missing)
{
	int r = __builtin_ctz(missing);

	log_insn(s, idx);
	log_printf(s->run->log, "reads r%d, which holds no value here (R%d !read_ok)\n", r, r);
	return -EINVAL;
}

static int fault_limit(const struct interp_state *s, uint32_t idx)
{
	log_insn(s, idx);
	log_printf(s->run->log, "stopped after %" PRIu64 " instructions, the limit: "
				"the program may not terminate\n", s->insn_limit);
	return -E2BIG;
}

static int fault_helper(const struct interp_state *s, uint32_t idx)
{
	/* Helpers that wrote their reason to the log themselves leave fault_msg empty. */
	if (s->run->fault_msg[0]) {
		log_insn(s, idx);
		log_printf(s->run->log, "%s\n", s->run->fault_msg);
		s->run->fault_msg[0] = '\0';
	}
	return s->run->fault;
}

static int fault_callx(const struct interp_state *s, uint32_t idx, uint64_t target)
{
	log_insn(s, idx);
	log_printf(s->run->log, "callx to 0x%" PRIx64
				": neither a helper id nor the address of a function\n", target);
	return -EINVAL;
}

static int fault_depth(const struct interp_state *s, uint32_t idx, unsigned frames)
{
	log_insn(s, idx);
	log_printf(s->run->log, "the call stack of %u frames is too deep !\n", frames);
	return -EINVAL;
}

/* ---- pre-decoding ------------------------------------------------------- */

/* The label of slot i, or why it cannot run; 0 on success. */
static int pick_label(const struct bpfvm_prog *prog, uint32_t i, const void *const *labels,
		      const void **label, struct bpfvm_log *log)
{
	const struct bpfvm_insn *insn = &prog->insns[i];
	enum isa_op op = prog->ops[i];

	*label = NULL;
	if (op == ISA_OP_INVALID) /* the second slot of an lddw never runs */
		return 0;
	if (op == ISA_OP_CALL_HELPER && insn->imm == HELPER_ID_tail_call) {
		*label = labels[VM_OP_TAIL_CALL];
		return 0;
	}
	if (op == ISA_OP_CALL_HELPER &&
	    (insn->imm < 0 || insn->imm > BPFVM_MAX_HELPER_ID || !prog->vm->helpers[insn->imm].fn)) {
		log_printf(log, "%s: instruction %u: invalid func unknown#%d\n", prog->name, i, insn->imm);
		return -EINVAL;
	}
	if (op == ISA_OP_CALL_KFUNC) {
		log_printf(log, "%s: instruction %u: calls kernel function (kfunc) with BTF id %d: "
				"kfuncs exist only inside the kernel\n", prog->name, i, insn->imm);
		return -ENOTSUP;
	}
	if (op == ISA_OP_LDDW && insn->src_reg && insn->src_reg != BPFVM_PSEUDO_FUNC &&
	    !prog_lddw_is_map(insn)) {
		log_printf(log, "%s: instruction %u: lddw refers to a map or BTF object (src %d) "
				"that is not resolved: load the program from an ELF object\n",
			   prog->name, i, insn->src_reg);
		return -EINVAL;
	}
	*label = labels[probes(prog, i) ? probe_op[op] : op];
	return 0;
}

#define THREAD_INTO(ARRAY, TYPE)                                                         \
	do {                                                                             \
		for (uint32_t i = 0; i < prog->cnt; i++) {                               \
			const struct bpfvm_insn *insn = &prog->insns[i];                 \
			int err = pick_label(prog, i, labels, &(ARRAY)[i].label, log);   \
			if (err) {                                                       \
				free(ARRAY);                                             \
				return err;                                              \
			}                                                                \
			(ARRAY)[i].imm = insn->imm;                                      \
			(ARRAY)[i].off = insn->off;                                      \
			(ARRAY)[i].dst = insn->dst_reg;                                  \
			(ARRAY)[i].src = insn->src_reg;                                  \
		}                                                                        \
		for (uint32_t i = 0; i < prog->cnt; i++) {                               \
			/* a function reference becomes the function's address */        \
			if (prog->ops[i] == ISA_OP_LDDW &&                               \
			    prog->insns[i].src_reg == BPFVM_PSEUDO_FUNC) {               \
				uintptr_t fn = (uintptr_t)&(ARRAY)[i + 1 + prog->insns[i].imm]; \
				(ARRAY)[i].imm = (int32_t)(uint32_t)fn;                  \
				(ARRAY)[i + 1].imm = (int32_t)(uint32_t)((uint64_t)fn >> 32); \
			}                                                                \
			/* a map reference becomes the map's (or value's) address */     \
			if (prog->ops[i] == ISA_OP_LDDW && prog_lddw_is_map(&prog->insns[i])) { \
				uint64_t v = prog_lddw_map_value(prog, i);                \
				(ARRAY)[i].imm = (int32_t)(uint32_t)v;                    \
				(ARRAY)[i + 1].imm = (int32_t)(uint32_t)(v >> 32);        \
			}                                                                \
		}                                                                        \
	} while (0)

/* Slots some control transfer lands on: fusion must not swallow them. */
static uint8_t *landing_slots(const struct bpfvm_prog *prog)
{
	uint8_t *target = calloc(prog->cnt + 1, 1);

	if (!target)
		return NULL;
	for (uint32_t i = 0; i < prog->nfuncs; i++)
		target[prog->funcs[i].start] = 1;
	for (uint32_t i = 0; i < prog->cnt; i++)   /* a probing load keeps its own handler */
		target[i] |= probes(prog, i);
	for (uint32_t i = 0; i < prog->cnt; i++) {
		const struct bpfvm_insn *in = &prog->insns[i];
		int64_t t = -1;

		if (prog->ops[i] == ISA_OP_INVALID)
			continue;
		if (isa_op_is_jump(prog->ops[i]))
			t = isa_jump_target(in, i);
		else if (prog->ops[i] == ISA_OP_CALL_LOCAL ||
			 (prog->ops[i] == ISA_OP_LDDW && in->src_reg == BPFVM_PSEUDO_FUNC))
			t = (int64_t)i + 1 + in->imm;
		if (t >= 0 && t <= prog->cnt)
			target[t] = 1;
	}
	return target;
}

/*
 * Fuse common groups into one dispatch (measured on the bench programs:
 * 9-31% fewer dispatches, 0.77x the time): a mov followed by an ALU op on
 * the same register becomes a three-operand op; add K and a conditional
 * jump on the result; add X and a load through the result; mov, (add K,)
 * add and a load or store as one indexed access, as clang addresses an
 * array on the stack; a counter in memory (load, add K, store back); a
 * constant moved before a goto, as a state machine's "state = K; break";
 * the <<32 >>32 zero-extension.  A fused group's later slots keep their
 * own handlers but are skipped.
 */
static int fuse_superinstructions(const struct bpfvm_prog *prog, struct vm_uinsn *x,
				  const void *const *labels)
{
	uint8_t *target = landing_slots(prog);

	if (!target)
		return -ENOMEM;
	for (uint32_t i = 0; i + 1 < prog->cnt; i++) {
		const struct bpfvm_insn *a = &prog->insns[i], *b = &prog->insns[i + 1];
		enum isa_op oa = prog->ops[i], ob = prog->ops[i + 1];
		uint16_t f = 0;

		if (target[i + 1] || ob == ISA_OP_INVALID || oa == ISA_OP_INVALID || probes(prog, i))
			continue;
		/* rX <<= 32; rX >>= 32 (with or without a mov before): zero-extension */
		if (i + 2 < prog->cnt && !target[i + 2] && oa == ISA_OP_MOV64_X &&
		    ob == ISA_OP_LSH64_K && b->imm == 32 && b->dst_reg == a->dst_reg &&
		    prog->ops[i + 2] == ISA_OP_RSH64_K && prog->insns[i + 2].imm == 32 &&
		    prog->insns[i + 2].dst_reg == a->dst_reg) {
			x[i].label = labels[VM_OP_MOV_ZEXT];
			i += 2;
			continue;
		}
		if (oa == ISA_OP_LSH64_K && a->imm == 32 && ob == ISA_OP_RSH64_K && b->imm == 32 &&
		    b->dst_reg == a->dst_reg) {
			x[i].label = labels[VM_OP_ZEXT];
			i++;
			continue;
		}
		/* mov a, b; add a, K; add a, c; ldx d, [a + off] (or stx): an indexed access */
		if (i + 3 < prog->cnt && !target[i + 2] && !target[i + 3] && oa == ISA_OP_MOV64_X &&
		    ob == ISA_OP_ADD64_K && b->dst_reg == a->dst_reg &&
		    prog->ops[i + 2] == ISA_OP_ADD64_X && prog->insns[i + 2].dst_reg == a->dst_reg &&
		    prog->insns[i + 2].src_reg != a->dst_reg && fuse_after_movkadd[prog->ops[i + 3]] &&
		    (isa_ops[prog->ops[i + 3]].form == F_LDX ? prog->insns[i + 3].src_reg
							    : prog->insns[i + 3].dst_reg) == a->dst_reg) {
			x[i].label = labels[fuse_after_movkadd[prog->ops[i + 3]]];
			i += 3;
			continue;
		}
		if (i + 2 < prog->cnt && !target[i + 2] && (f = fuse_increment(prog, i))) {
			x[i].label = labels[f];
			i += 2;
			continue;
		}
		if ((oa == ISA_OP_MOV64_K || oa == ISA_OP_MOV32_K) && ob == ISA_OP_JA) {
			x[i].label = labels[oa == ISA_OP_MOV64_K ? VM_OP_MOVK64_JA : VM_OP_MOVK32_JA];
			i++;
			continue;
		}
		/* mov a, b; add a, c; ldx d, [a + off] (or stx): an indexed access */
		if (i + 2 < prog->cnt && !target[i + 2] && oa == ISA_OP_MOV64_X &&
		    ob == ISA_OP_ADD64_X && b->dst_reg == a->dst_reg && b->src_reg != a->dst_reg &&
		    fuse_after_movadd[prog->ops[i + 2]] &&
		    (isa_ops[prog->ops[i + 2]].form == F_LDX ? prog->insns[i + 2].src_reg
							    : prog->insns[i + 2].dst_reg) == a->dst_reg) {
			x[i].label = labels[fuse_after_movadd[prog->ops[i + 2]]];
			i += 2;
			continue;
		}
		if (oa == ISA_OP_MOV64_X && b->dst_reg == a->dst_reg &&
		    !(BPFVM_SRC(b->code) == BPFVM_X && b->src_reg == a->dst_reg))
			f = fuse_after_mov64[ob];
		else if (oa == ISA_OP_MOV32_X && b->dst_reg == a->dst_reg &&
			 !(BPFVM_SRC(b->code) == BPFVM_X && b->src_reg == a->dst_reg))
			f = fuse_after_mov32[ob];
		else if (oa == ISA_OP_ADD64_K && b->dst_reg == a->dst_reg)
			f = fuse_after_add64k[ob];
		else if (oa == ISA_OP_ADD32_K && b->dst_reg == a->dst_reg)
			f = fuse_after_add32k[ob];
		else if (oa == ISA_OP_ADD64_X && b->src_reg == a->dst_reg)
			f = fuse_after_add64x[ob];
		if (!f)
			continue;
		x[i].label = labels[f];
		i++;
	}
	free(target);
	return 0;
}

static int thread_unchecked(struct bpfvm_prog *prog, const void *const *labels,
			    struct bpfvm_log *log)
{
	struct vm_uinsn *x = calloc(prog->cnt, sizeof(*x));
	int err;

	if (!x)
		return -ENOMEM;
	THREAD_INTO(x, struct vm_uinsn);
	err = fuse_superinstructions(prog, x, labels);
	if (err) {
		free(x);
		return err;
	}
	prog->code->unchecked = x;
	return 0;
}

static int thread_checked(struct bpfvm_prog *prog, const void *const *labels,
			  struct bpfvm_log *log)
{
	struct vm_cinsn *x = calloc(prog->cnt, sizeof(*x));

	if (!x)
		return -ENOMEM;
	THREAD_INTO(x, struct vm_cinsn);
	for (uint32_t i = 0; i < prog->cnt; i++) {
		x[i].idx = i;
		if (prog->ops[i] == ISA_OP_INVALID)
			continue;
		x[i].reads = isa_regs_read(&prog->insns[i], prog->ops[i]);
		x[i].writes = isa_regs_written(&prog->insns[i], prog->ops[i]);
	}
	prog->code->checked = x;
	return 0;
}

#undef THREAD_INTO

static const void *const *interp_labels(bool checked);

/* The program's threaded code for a mode, built on first use. */
static const void *code_for(struct bpfvm_prog *prog, bool checked, struct bpfvm_log *log, int *err)
{
	*err = 0;
	if (!prog->code && !(prog->code = calloc(1, sizeof(*prog->code)))) {
		*err = -ENOMEM;
		return NULL;
	}
	if (prog->code->facts != prog->facts) {
		/* verified since it was threaded: which loads probe may have changed */
		free(prog->code->unchecked);
		free(prog->code->checked);
		prog->code->unchecked = NULL;
		prog->code->checked = NULL;
		prog->code->facts = prog->facts;
	}
	if (checked && !prog->code->checked)
		*err = thread_checked(prog, interp_labels(true), log);
	if (!checked && !prog->code->unchecked)
		*err = thread_unchecked(prog, interp_labels(false), log);
	if (*err)
		return NULL;
	return checked ? (const void *)prog->code->checked : (const void *)prog->code->unchecked;
}

/* ---- calls the interpreters make ------------------------------------------ */

/* If target is the address of a function of the running program, that address. */
static const void *callx_function(const struct interp_state *s, uint64_t target)
{
	uintptr_t base = (uintptr_t)s->base;
	uint64_t idx;

	if (target < base || target >= base + (uint64_t)s->cnt * s->insn_size ||
	    (target - base) % s->insn_size)
		return NULL;
	idx = (target - base) / s->insn_size;
	if (s->run->checked && prog_func_at(s->run->prog, (uint32_t)idx)->start != idx)
		return NULL;
	return (const void *)(uintptr_t)target;
}

/* The first instruction of the program a tail call goes to, or NULL to fall through. */
static const void *tail_call_target(struct interp_state *s, uint64_t map, uint64_t index)
{
	struct bpfvm_run_ctx *run = s->run;
	struct bpfvm_prog *next;
	const void *code;
	int err;

	if (run->checked && (!map_is_live(run->vm, map) ||
			     ((struct bpfvm_map *)(uintptr_t)map)->type != BPFVM_MAP_TYPE_PROG_ARRAY)) {
		vm_run_fault(run, -EINVAL, "bpf_tail_call#12: R2 (0x%" PRIx64 ") is not a program "
					   "array of this instance", map);
		return NULL;
	}
	if (!run->vm->tail_call_lookup || run->tail_calls >= BPFVM_MAX_TAIL_CALLS)
		return NULL;
	next = run->vm->tail_call_lookup(run->vm, map, index);
	/* an unchecked run goes on only into programs proven (or vouched) safe */
	if (!next || !vm_prog_runnable(next) || (!run->checked && !vm_unchecked_ctx_ok(next)) ||
	    !(code = code_for(next, run->checked, run->log, &err)))
		return NULL;
	run->tail_calls++;
	run->prog = next;
	s->base = code;
	s->cnt = next->cnt;
	return code;
}

/* ---- the two interpreters ----------------------------------------------- */

#define INTERP_NAME interp_checked
#define INTERP_CHECKED 1
#define XINSN struct vm_cinsn
#include "interp_body.h"
#undef INTERP_NAME
#undef INTERP_CHECKED
#undef XINSN

#define INTERP_NAME interp_unchecked
#define INTERP_CHECKED 0
#define XINSN struct vm_uinsn
#include "interp_body.h"
#undef INTERP_NAME
#undef INTERP_CHECKED
#undef XINSN

static const void *const *interp_labels(bool checked)
{
	struct interp_state s = { 0 };

	if (checked)
		interp_checked(&s);
	else
		interp_unchecked(&s);
	return s.labels;
}

#define VM_MAX_CALLBACK_DEPTH 8

/* A callback's entry: the address of a function start in the running program's code. */
static const void *callback_entry(struct interp_state *s, uint64_t fn)
{
	struct bpfvm_run_ctx *run = s->run;
	uint64_t idx;
	int err;

	s->base = code_for(run->prog, run->checked, run->log, &err);
	if (!s->base)
		return NULL;
	s->cnt = run->prog->cnt;
	s->insn_size = run->checked ? sizeof(struct vm_cinsn) : sizeof(struct vm_uinsn);
	if (!callx_function(s, fn))
		return NULL;
	idx = (fn - (uintptr_t)s->base) / s->insn_size;
	return prog_func_at(run->prog, (uint32_t)idx)->start == idx ? (const void *)(uintptr_t)fn
								     : NULL;
}

int vm_interp_call_function(struct bpfvm_run_ctx *run, uint64_t fn, const uint64_t args[5],
			    uint64_t *ret)
{
	struct interp_state s = { 0 };
	struct bpfvm_prog *prog = run->prog;
	unsigned nregions = run->nregions;
	int err;

	s.run = run;
	s.code = callback_entry(&s, fn);
	if (!s.code) {
		vm_run_fault(run, -EINVAL, "callback 0x%" PRIx64 " is not a function of the program",
			     fn);
		return -EINVAL;
	}
	if (run->cb_depth >= VM_MAX_CALLBACK_DEPTH) {
		vm_run_fault(run, -EINVAL, "callbacks nested %u deep: too deep", run->cb_depth);
		return -EINVAL;
	}
	s.helpers = run->vm->helpers;
	s.r1 = args[0], s.r2 = args[1], s.r3 = args[2], s.r4 = args[3], s.r5 = args[4];
	s.init_args = REGBIT(3) | REGBIT(4) | REGBIT(5);
	s.insn_limit = run->checked ? run->budget : UINT64_MAX;
	run->cb_depth++;
	err = run->checked ? interp_checked(&s) : interp_unchecked(&s);
	run->cb_depth--;
	if (run->checked && !err)
		run->budget = s.insn_limit - s.executed;
	/* The callee's stack goes; a tail call inside it does not outlive it. */
	run->nregions = nregions;
	run->prog = prog;
	*ret = s.retval;
	if (err && !run->fault)
		run->fault = err;   /* the callee logged why; the caller stops too */
	return err;
}

int vm_interp_run(struct bpfvm_run_ctx *run, bool checked, uint64_t r1, uint64_t r2,
		  uint64_t insn_limit, uint64_t *retval, uint64_t *executed)
{
	struct interp_state s = { 0 };
	int err;

	s.code = code_for(run->prog, checked, run->log, &err);
	if (!s.code)
		return err;
	s.run = run;
	s.base = s.code;
	s.cnt = run->prog->cnt;
	s.insn_size = checked ? sizeof(struct vm_cinsn) : sizeof(struct vm_uinsn);
	s.helpers = run->vm->helpers;
	s.r1 = r1;
	s.r2 = r2;
	s.insn_limit = insn_limit;
	err = checked ? interp_checked(&s) : interp_unchecked(&s);
	*retval = s.retval;
	*executed = s.executed;
	return err;
}
