/*
 * prog.h - building and checking a program (core/program.h lays it out):
 * its structure, the functions it holds, the maps and helpers it refers
 * to, the bpf_fastcall patterns around its helper calls.
 */
#ifndef BPFVM_PROG_PROG_H
#define BPFVM_PROG_PROG_H

#include <stdbool.h>
#include <stdint.h>

#include <bpfvm/bpfvm.h>

#include "../core/program.h"
#include "../isa/opcode.h"

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
