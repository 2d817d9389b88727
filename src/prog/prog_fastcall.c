/*
 * prog_fastcall.c - bpf_fastcall patterns (Linux 6.12+): clang spills the
 * live r0-r5 a bpf_fastcall helper does not clobber around each call to
 * it, to the lowest stack offsets of the function, and the kernel takes
 * those spill/fill pairs out of the stack it counts where it inlines the
 * call (on x86-64: bpf_get_smp_processor_id), so a function may use 512
 * bytes besides them.
 *
 * The pairs stay in bpfvm's code: every frame has 512 bytes of its own
 * (vm, JIT), so executing them is harmless; what changes is the depth the
 * call-chain budget counts.  prog.c's estimate leaves every pair out; the
 * verifier (verifier/fastcall.c) only those around inlined calls, where
 * every access to their slots is a pattern's, as the kernel does.
 */
#include "prog.h"

#include <errno.h>
#include <stdlib.h>

#include "../helpers/helpers.h"

/*
 * Helpers the kernel's x86-64 build inlines (verifier_inlines_helper_call,
 * with the JIT on and per-CPU instructions, as on every x86-64 kernel).
 */
bool prog_fastcall_inlined(int32_t id)
{
	return helper_has(id, HF_FASTCALL_INLINED);
}

/* r0-r5 a call to id clobbers if it follows the bpf_fastcall contract. */
static uint32_t clobber_mask(int32_t id)
{
	const struct helper_info *h = helper_info(id);
	uint32_t mask = 0;

	if (!h || !h->name)
		return 0x3f;
	if (h->ret != RET_VOID)
		mask |= 1u << 0;
	for (int i = 0; i < 5; i++)
		if (h->args[i] != ARG_DONTCARE)
			mask |= 1u << (1 + i);
	return mask;
}

/* The lowest offset an 8-byte store to r10 uses in fn (the kernel's lowest_off). */
static int16_t lowest_off(const struct bpfvm_prog *prog, const struct prog_func *fn)
{
	int16_t lowest = 0;

	for (uint32_t i = fn->start; i < fn->end; i++)
		if (prog->insns[i].code == (BPFVM_STX | BPFVM_MEM | BPFVM_DW) &&
		    prog->insns[i].dst_reg == BPFVM_REG_FP && prog->insns[i].off < lowest)
			lowest = prog->insns[i].off;
	return lowest;
}

/* The kernel's jump targets (bpf_is_jump_target): where jumps and calls land. */
static void jump_targets(const struct bpfvm_prog *prog, uint8_t *is_target)
{
	for (uint32_t i = 0; i < prog->cnt; i++) {
		enum isa_op op = prog->ops[i];

		if (op == ISA_OP_INVALID)
			continue;
		if (op == ISA_OP_CALL_LOCAL)
			is_target[i + 1 + (uint32_t)prog->insns[i].imm] = 1;
		else if (isa_op_is_jump(op))
			is_target[isa_jump_target(&prog->insns[i], i)] = 1;
	}
}

/*
 * The spill/fill pairs around the helper call at slot call (the kernel's
 * mark_fastcall_pattern_for_call): *(u64 *)(r10 + off) = rX before, rX =
 * *(u64 *)(r10 + off) after, offsets rising from lowest_off, each rX one
 * the call keeps, no slot but the first spill a jump target.  Returns the
 * number of pairs; *stack_off is the offset above them.
 */
static uint32_t pairs(const struct bpfvm_prog *prog, const struct prog_func *fn, uint32_t call,
		      int16_t lowest, const uint8_t *is_target, int16_t *stack_off)
{
	uint32_t expected = ~clobber_mask(prog->insns[call].imm) & 0x3f, i;
	int16_t off = lowest;

	if (expected == 0)
		return 0;
	for (i = 1; i <= 6; i++, off = (int16_t)(off + 8)) {
		const struct bpfvm_insn *stx, *ldx;

		if (call < fn->start + i || call + i >= fn->end)
			break;
		if (is_target[call - i + 1] || is_target[call + i])
			break;
		stx = &prog->insns[call - i];
		ldx = &prog->insns[call + i];
		if (stx->code != (BPFVM_STX | BPFVM_MEM | BPFVM_DW) ||
		    ldx->code != (BPFVM_LDX | BPFVM_MEM | BPFVM_DW) ||
		    stx->dst_reg != BPFVM_REG_FP || ldx->src_reg != BPFVM_REG_FP ||
		    stx->src_reg != ldx->dst_reg || !(expected & (1u << stx->src_reg)) ||
		    stx->off != off || ldx->off != off)
			break;
		expected &= ~(1u << stx->src_reg);
	}
	*stack_off = off;
	return i - 1;
}

int prog_fastcall_each(const struct bpfvm_prog *prog, prog_fastcall_fn fn, void *ctx)
{
	uint8_t *targets = calloc(prog->cnt + 1, 1);

	if (!targets)
		return -ENOMEM;
	jump_targets(prog, targets);
	for (uint32_t f = 0; f < prog->nfuncs; f++) {
		const struct prog_func *func = &prog->funcs[f];
		int16_t lowest = lowest_off(prog, func), above;

		for (uint32_t i = func->start; i < func->end; i++) {
			uint32_t n;

			if (prog->ops[i] == ISA_OP_CALL_HELPER &&
			    (n = pairs(prog, func, i, lowest, targets, &above)))
				fn(ctx, f, i, n, above);
		}
	}
	free(targets);
	return 0;
}
