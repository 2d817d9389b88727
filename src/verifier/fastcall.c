/*
 * fastcall.c - bpf_fastcall spill/fill patterns, as Linux 6.12+ counts
 * them (mark_fastcall_patterns, check_fastcall_stack_contract,
 * remove_fastcall_spills_fills): the pairs around a call the kernel
 * inlines leave the function's stack depth when every access to their
 * slots is a pattern's.  The pairs are walked and counted as instructions
 * processed (the kernel removes them after its walk); bpfvm keeps them in
 * the code, harmless in a frame of 512 bytes (prog_fastcall.c).
 */
#include "verifier.h"

static void mark_pattern(void *ctx, uint32_t f, uint32_t call, uint32_t pairs, int16_t above)
{
	struct venv *env = ctx;

	for (uint32_t k = 1; k <= pairs; k++)
		env->aux[call - k].fastcall_pattern = env->aux[call + k].fastcall_pattern = 1;
	/* a call the kernel does not inline keeps its pairs, and the stack */
	if (prog_fastcall_inlined(env->insns[call].imm))
		env->aux[call].fastcall_spills = (uint8_t)pairs;
	else
		env->fastcall_keep[f] = 1;
	if (above < env->fastcall_off[f])
		env->fastcall_off[f] = above;
}

int fastcall_mark(struct venv *env)
{
	return prog_fastcall_each(env->prog, mark_pattern, env);
}

/*
 * An access at off of function f's frame by insn: below the pattern slots'
 * top and not a pattern's own, it ends the function's patterns.
 */
void fastcall_check_access(struct venv *env, uint32_t f, uint32_t insn, int64_t off)
{
	const struct prog_func *fn = &env->prog->funcs[f];

	if (env->fastcall_off[f] <= off || env->aux[insn].fastcall_pattern)
		return;
	env->fastcall_off[f] = INT16_MIN;
	for (uint32_t i = fn->start; i < fn->end; i++)
		env->aux[i].fastcall_spills = env->aux[i].fastcall_pattern = 0;
}

/* After the walk: a function with pairs to take out counts only the stack above them. */
void fastcall_apply(struct venv *env)
{
	for (uint32_t f = 0; f < env->prog->nfuncs; f++) {
		const struct prog_func *fn = &env->prog->funcs[f];
		bool removed = false;

		for (uint32_t i = fn->start; i < fn->end; i++)
			removed |= env->aux[i].fastcall_spills > 0;
		if (removed && !env->fastcall_keep[f])
			env->stack_depth[f] = (uint32_t)-env->fastcall_off[f];
	}
}
