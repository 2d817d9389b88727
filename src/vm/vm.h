/*
 * vm.h - the instance (its helpers and programs) and the state of one run:
 * the memory regions a checked run may touch, the packet the legacy packet
 * loads read, and how a run that stops early says why.
 */
#ifndef BPFVM_VM_VM_H
#define BPFVM_VM_VM_H

#include <stdbool.h>
#include <stdint.h>

#include <bpfvm/bpfvm.h>

#include "../prog/prog.h"

struct vm_helper {
	bpfvm_helper_fn fn;
	const char *name;
};

struct bpfvm {
	struct vm_helper helpers[BPFVM_MAX_HELPER_ID + 1];
	struct bpfvm_prog *progs;
	bpfvm_trace_fn trace;
	void *trace_ctx;
	uint64_t prandom_state;
	/*
	 * Resolves bpf_tail_call(ctx, map, index) to a program, or NULL when
	 * the slot is empty.  Set by the maps layer, which owns program arrays.
	 */
	struct bpfvm_prog *(*tail_call_lookup)(struct bpfvm *vm, uint64_t map, uint64_t index);
};

void vm_add_prog(struct bpfvm *vm, struct bpfvm_prog *prog);
void vm_remove_prog(struct bpfvm *vm, struct bpfvm_prog *prog);

/* A span of host memory a checked run may read, and perhaps write. */
struct vm_region {
	uintptr_t start;
	uintptr_t end;
	bool writable;
	const char *what;   /* "stack", "input", ... for messages */
};

#define VM_MAX_REGIONS 16

/* One run of a program; helpers receive it as their context. */
struct bpfvm_run_ctx {
	struct bpfvm *vm;
	struct bpfvm_prog *prog;     /* the program running now (changes on a tail call) */
	bool checked;
	struct vm_region regions[VM_MAX_REGIONS];
	unsigned nregions;
	const uint8_t *pkt;          /* what LD_ABS / LD_IND read */
	uint64_t pkt_len;
	uint32_t tail_calls;
	/* A helper that finds its arguments bad in a checked run sets this
	 * (a negative errno) and writes the reason to log; the run stops. */
	int fault;
	struct bpfvm_log *log;
};

/* Add a region to a checked run; returns false when the table is full. */
bool vm_run_add_region(struct bpfvm_run_ctx *run, const void *start, uint64_t len,
		       bool writable, const char *what);
/* Is [addr, addr + size) inside one region, writable if asked? */
bool vm_run_access_ok(const struct bpfvm_run_ctx *run, uint64_t addr, uint64_t size, bool write);

/* The interpreter's pre-decoded program (interp.c). */
void vm_code_free(struct vm_code *code);

/* Run prog's interpreter in the given mode; r0 in *retval. */
int vm_interp_run(struct bpfvm_run_ctx *run, bool checked, uint64_t r1, uint64_t r2,
		  uint64_t insn_limit, uint64_t *retval, uint64_t *executed);

/* Register the built-in helpers (helpers/helpers.c). */
void helpers_register_builtin(struct bpfvm *vm);

#endif
