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
	/* Set by bpfvm_prog__verify (verifier/facts.h): the program is verified. */
	struct verifier_facts *facts;
};

/* bpf_fastcall spill/fill patterns (prog_fastcall.c). */
bool prog_fastcall_inlined(int32_t id);
/*
 * fn(ctx, function, call, pairs, above) for every helper call with
 * spill/fill pairs around it: slots call - pairs .. call + pairs; above
 * is the stack offset above their slots.
 */
typedef void (*prog_fastcall_fn)(void *ctx, uint32_t func, uint32_t call, uint32_t pairs,
				 int16_t above);
int prog_fastcall_each(const struct bpfvm_prog *prog, prog_fastcall_fn fn, void *ctx);

/* The function containing slot idx. */
const struct prog_func *prog_func_at(const struct bpfvm_prog *prog, uint32_t idx);

/*
 * Check the program's structure and fill ops and funcs.  Returns 0, or
 * -EINVAL with "instruction N: <what is wrong>" in log.
 */
int prog_check_structure(struct bpfvm_prog *prog, struct bpfvm_log *log);

/*
 * After the structure: take references on opts->maps, check every lddw
 * that names a map (src 1, 2, 5, 6) and every helper call (bpfvm provides
 * it; GPL-only helpers only for GPL-compatible licenses).  Returns 0, or
 * -EINVAL with the kernel's wording in log.  prog_release_refs undoes it.
 */
int prog_attach_refs(struct bpfvm_prog *prog, const struct bpfvm_prog_opts *opts,
		     struct bpfvm_log *log);
void prog_release_refs(struct bpfvm_prog *prog);

/* Does slot i (its references checked) call a kernel-only stand-in or name a kernel-only map? */
bool prog_slot_needs_kernel(const struct bpfvm_prog *prog, uint32_t i);
/* Why the program cannot run (needs_kernel_at set), as a sentence for a log. */
void prog_needs_kernel_reason(const struct bpfvm_prog *prog, char *buf, size_t size);

/* Does this lddw load a map or a map value's address (src 1, 2, 5, 6)? */
bool prog_lddw_is_map(const struct bpfvm_insn *insn);
/* The 64-bit value such an lddw at slot idx loads (checked at creation). */
uint64_t prog_lddw_map_value(const struct bpfvm_prog *prog, uint32_t idx);

#endif
