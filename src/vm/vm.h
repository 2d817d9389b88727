/*
 * vm.h - execution: the entry that runs a prepared run in a mode, the
 * interpreter and the JIT beneath it, and who may run unchecked.  The
 * instance and the run it fills in are core's (core/instance.h,
 * core/run.h).
 */
#ifndef BPFVM_VM_VM_H
#define BPFVM_VM_VM_H

#include <stdbool.h>
#include <stdint.h>

#include <bpfvm/bpfvm.h>

#include "../core/instance.h"
#include "../core/run.h"
#include "../prog/prog.h"

/*
 * A program that needs the kernel (a kernel-only helper or map) never runs,
 * in any mode (-EOPNOTSUPP); one that writes r10 somewhere runs only once
 * verified (-EACCES): the reason in log, else 0.  Each way in
 * (bpfvm_prog__run, a test run, an event) asks once, before anything runs;
 * tail calls skip programs that may not run (vm_prog_runnable).
 */
bool vm_prog_runnable(const struct bpfvm_prog *prog);
int vm_refuse_unrunnable(const struct bpfvm_prog *prog, struct bpfvm_log *log);

/* May prog run unchecked on len bytes: trusted, or verified for that input (vm.c). */
bool vm_unchecked_ok(const struct bpfvm_prog *prog, size_t len);
/* ...with its program type's context: trusted, or verified for that type. */
bool vm_unchecked_ctx_ok(const struct bpfvm_prog *prog);
/* Was prog verified for its program type's context (so that vm_ctx_reads knows)? */
bool vm_ctx_verified(const struct bpfvm_prog *prog);
/*
 * The context bytes a verified program reads (the verifier's
 * max_ctx_offset: past the furthest it loads or stores); 0 if unknown
 * (not verified, or verified for another calling convention).
 */
uint32_t vm_ctx_reads(const struct bpfvm_prog *prog);

/* The interpreter's pre-decoded program (interp.c). */
void vm_code_free(struct vm_code *code);
/* vm_call_function in the interpreter (interp.c): the instance's exec.call_function. */
int vm_interp_call_function(struct bpfvm_run_ctx *run, uint64_t fn, const uint64_t args[5],
			    uint64_t *ret);
/* The JIT's compiled program (jit.c). */
void vm_jit_free(struct vm_jit *jit);

/*
 * Run run->prog in a mode (checked or not, interpreter or JIT) with r1 and
 * r2, on a run context its caller has filled (vm, prog, log, regions,
 * packet): bpfvm_prog__run's core, which program-type test runs
 * (hooks/) share.  r0 in *retval.
 */
int vm_run_prepared(struct bpfvm_run_ctx *run, enum bpfvm_exec mode, uint64_t r1, uint64_t r2,
		    uint64_t insn_limit, uint64_t *retval, uint64_t *executed);

/* Run prog's interpreter in the given mode; r0 in *retval. */
int vm_interp_run(struct bpfvm_run_ctx *run, bool checked, uint64_t r1, uint64_t r2,
		  uint64_t insn_limit, uint64_t *retval, uint64_t *executed);

#endif
