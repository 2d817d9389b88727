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

#include "../isa/opcode.h"
#include "../isa/semantics.h"
#include "../util/log.h"
#include "vm.h"

/* Operations the interpreter has beyond the ISA's: the pre-decoder picks them. */
enum { VM_OP_TAIL_CALL = ISA_OP_COUNT, VM_OP_COUNT };

#define BPF_FUNC_TAIL_CALL 12

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
	uint64_t r1, r2;
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
	(void)idx;
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
	if (op == ISA_OP_CALL_HELPER && insn->imm == BPF_FUNC_TAIL_CALL) {
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
	if (op == ISA_OP_LDDW && insn->src_reg && insn->src_reg != BPFVM_PSEUDO_FUNC) {
		log_printf(log, "%s: instruction %u: lddw refers to a map or BTF object (src %d) "
				"that is not resolved: load the program from an ELF object\n",
			   prog->name, i, insn->src_reg);
		return -EINVAL;
	}
	*label = labels[op];
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
		}                                                                        \
	} while (0)

static int thread_unchecked(struct bpfvm_prog *prog, const void *const *labels,
			    struct bpfvm_log *log)
{
	struct vm_uinsn *x = calloc(prog->cnt, sizeof(*x));

	if (!x)
		return -ENOMEM;
	THREAD_INTO(x, struct vm_uinsn);
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

	if (!run->vm->tail_call_lookup || run->tail_calls >= BPFVM_MAX_TAIL_CALLS)
		return NULL;
	next = run->vm->tail_call_lookup(run->vm, map, index);
	if (!next || !(code = code_for(next, run->checked, run->log, &err)))
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
