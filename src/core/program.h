/*
 * program.h - a program as every layer above the ISA sees it: its instruction
 * slots, the operation of each slot, its functions (the main program and
 * the bpf-to-bpf sub-programs) with their stack depths, and what execution
 * attaches to it.  Laid out here, beneath maps/ and helpers/, because a
 * program array holds programs and a checked run's map access looks at the
 * maps a program names; prog/ builds and checks programs.
 */
#ifndef BPFVM_CORE_PROGRAM_H
#define BPFVM_CORE_PROGRAM_H

#include <stdbool.h>
#include <stdint.h>

#include <bpfvm/bpfvm.h>

/* A function: slots [start, end), and the stack it uses below its r10. */
struct prog_func {
	uint32_t start;
	uint32_t end;
	uint32_t stack_depth;   /* bytes, rounded up to 8; the estimate, see prog.c */
};

struct vm_code;   /* the interpreter's pre-decoded form (vm/interp.c) */
struct vm_jit;    /* the JIT's native code (vm/jit.c) */
struct bpfvm_map;

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
	struct vm_jit *jit;           /* compiled on first JIT run, or by bpfvm_prog__jit */
	/* What the program refers to (prog_refs.c): its maps, held. */
	struct bpfvm_map **maps;
	size_t nmaps;
	uint32_t prog_type;           /* BPF_PROG_TYPE_* */
	bool gpl_compatible;          /* its license allows GPL-only helpers */
	uint32_t expected_attach_type; /* BPF_* attach type, from the options */
	/*
	 * 1 + the first slot that needs what only the kernel has (a kernel-only
	 * helper's stand-in, a kernel-only map), or 0: such a program may be
	 * verified, never run (prog_refs.c, vm.c).
	 */
	uint32_t needs_kernel_at;
	/*
	 * 1 + the first slot that writes r10, or 0: such a program runs only
	 * verified (the verifier proved no path reaches it), never checked or
	 * trusted (prog.c, vm.c).
	 */
	uint32_t writes_fp_at;
	/* Set by bpfvm_prog__verify (core/facts.h): the program is verified. */
	struct verifier_facts *facts;
};

#endif
