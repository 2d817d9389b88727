/*
 * prog.h - a program as every layer above the ISA sees it: its instruction
 * slots, the operation of each slot, its functions (the main program and
 * the bpf-to-bpf sub-programs) with their stack depths, and what execution
 * attaches to it.
 */
#ifndef BPFVM_PROG_PROG_H
#define BPFVM_PROG_PROG_H

#include <stdbool.h>
#include <stdint.h>

#include <bpfvm/bpfvm.h>

#include "../isa/opcode.h"

/* A function: slots [start, end), and the stack it uses below its r10. */
struct prog_func {
	uint32_t start;
	uint32_t end;
	uint32_t stack_depth;   /* bytes, rounded up to 8; the estimate, see prog.c */
};

struct vm_code;   /* the interpreter's pre-decoded form (vm/interp.c) */

struct bpfvm_prog {
	struct bpfvm *vm;
	struct bpfvm_prog *next;      /* in vm's list of programs */
	char *name;
	uint32_t flags;               /* enum bpfvm_prog_flags */
	struct bpfvm_insn *insns;
	uint32_t cnt;
	uint16_t *ops;                /* enum isa_op per slot; ISA_OP_INVALID for lddw's second */
	struct prog_func *funcs;      /* sorted by start; funcs[0] is the entry */
	uint32_t nfuncs;
	struct vm_code *code;         /* built on first run */
};

/* The function containing slot idx. */
const struct prog_func *prog_func_at(const struct bpfvm_prog *prog, uint32_t idx);

/*
 * Check the program's structure and fill ops and funcs.  Returns 0, or
 * -EINVAL with "instruction N: <what is wrong>" in log.
 */
int prog_check_structure(struct bpfvm_prog *prog, struct bpfvm_log *log);

#endif
