/*
 * jit_live.c - which BPF registers hold a value that some path still
 * reads, after each instruction: the classic backward data-flow over each
 * function's instructions, iterated to its fixed point.
 *
 * A back-end uses it to emit nothing for a result no one reads, and to
 * fuse sequences whose intermediate register dies (an address computed
 * into a register only to load through it).  What counts as a read is
 * what the JIT's code reads: a helper call reads r1-r5, a call of a
 * function everything (a trusted program's callee may read what its
 * caller left in any register, as it does in the interpreter), and both
 * leave r0-r5 changed (native calls clobber them); an exit reads r0 only
 * (a function's r6-r9 are its caller's again once its epilogue pops them,
 * and the kernel's verifier lets no caller read r1-r5 after a call); a
 * jump out of the function or a fall off its end keeps everything.
 */
#include <errno.h>

#include "../isa/liveness.h"
#include "../isa/opcode.h"
#include "jit.h"

#define R(n) (1u << (n))
#define ARGS (R(1) | R(2) | R(3) | R(4) | R(5))
#define ALL_REGS ((uint16_t)0x7ff)

#define DIVIDES(N) [ISA_OP_##N##64_K] = JIT_FN_DIVIDES, [ISA_OP_##N##64_X] = JIT_FN_DIVIDES, \
	[ISA_OP_##N##32_K] = JIT_FN_DIVIDES, [ISA_OP_##N##32_X] = JIT_FN_DIVIDES

/* A table, not a switch: this runs on every instruction. */
static const uint8_t op_does[ISA_OP_COUNT + 1] = {
	[ISA_OP_CALL_HELPER] = JIT_FN_CALLS, [ISA_OP_CALL_LOCAL] = JIT_FN_CALLS,
	[ISA_OP_CALL_KFUNC] = JIT_FN_CALLS, [ISA_OP_CALLX] = JIT_FN_CALLS,
	[ISA_OP_MAY_GOTO] = JIT_FN_MAY_GOTO,
	DIVIDES(DIV), DIVIDES(SDIV), DIVIDES(MOD), DIVIDES(SMOD),
	[ISA_OP_ATOMIC_W_FETCH_OR] = JIT_FN_FETCH_LOGIC, [ISA_OP_ATOMIC_W_FETCH_AND] = JIT_FN_FETCH_LOGIC,
	[ISA_OP_ATOMIC_W_FETCH_XOR] = JIT_FN_FETCH_LOGIC, [ISA_OP_ATOMIC_DW_FETCH_OR] = JIT_FN_FETCH_LOGIC,
	[ISA_OP_ATOMIC_DW_FETCH_AND] = JIT_FN_FETCH_LOGIC,
	[ISA_OP_ATOMIC_DW_FETCH_XOR] = JIT_FN_FETCH_LOGIC,
};

#undef DIVIDES

uint8_t jit_op_does(enum isa_op op)
{
	return op_does[op];
}

int jit_reg_masks(const struct bpfvm_prog *prog, struct jit_arena *a, uint16_t **reads,
		  uint16_t **writes, struct jit_func_use **funcs)
{
	uint16_t *rd = jit_arena_zalloc(a, (prog->cnt + 1) * sizeof(*rd));
	uint16_t *wr = jit_arena_zalloc(a, (prog->cnt + 1) * sizeof(*wr));
	struct jit_func_use *use = jit_arena_zalloc(a, (prog->nfuncs + 1) * sizeof(*use));

	*reads = rd;
	*writes = wr;
	*funcs = use;
	if (!rd || !wr || !use)
		return -ENOMEM;
	for (uint32_t f = 0; f < prog->nfuncs; f++) {
		const struct prog_func *fn = &prog->funcs[f];
		uint16_t written = 0;
		uint8_t does_all = 0;

		for (uint32_t i = fn->start; i < fn->end; i++) {
			enum isa_op op = (enum isa_op)prog->ops[i];
			uint8_t does;

			if (op == ISA_OP_INVALID)
				continue;
			rd[i] = isa_regs_read(&prog->insns[i], op);
			wr[i] = isa_regs_written(&prog->insns[i], op);
			does = jit_op_does(op);
			if (does & JIT_FN_CALLS) { /* see the top */
				rd[i] |= op == ISA_OP_CALL_HELPER ? ARGS : ALL_REGS;
				wr[i] |= R(0) | ARGS;
			}
			written |= wr[i];
			does_all |= does;
		}
		use[f].written = written;
		use[f].does = does_all;
	}
	return 0;
}

uint16_t *jit_liveness(const struct bpfvm_prog *prog, struct jit_arena *a, const uint16_t *reads,
		       const uint16_t *writes)
{
	uint16_t *live_in = jit_arena_zalloc(a, (prog->cnt + 1) * sizeof(*live_in));
	uint16_t *live_out = jit_arena_zalloc(a, (prog->cnt + 1) * sizeof(*live_out));

	if (!live_in || !live_out)
		return NULL;
	for (uint32_t f = 0; f < prog->nfuncs; f++)
		isa_liveness(prog->insns, prog->ops, prog->funcs[f].start, prog->funcs[f].end, reads,
			     writes, ALL_REGS, live_in, live_out);
	return live_out;
}
