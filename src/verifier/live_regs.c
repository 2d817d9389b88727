/*
 * live_regs.c - which registers may be read after each instruction, on
 * some path of the program's control flow: the static, path-insensitive
 * liveness by which Linux (6.15+, and alone since 6.18) decides which
 * registers of a checkpoint matter when it compares states.
 *
 * It is the classic backward data-flow to a fixed point, with the
 * kernel's own uses and definitions, quirks included: a call is a black
 * box that reads its arguments (a helper's, counted from its prototype;
 * r1-r5 for anything else) and writes r0-r5, so a function's exit, which
 * reads r0, keeps r0 alive in it whatever its callers do with the result;
 * a legacy packet load reads every register; may_goto reads r0 (its dst
 * field).  Walking the same program gives the same answer, so the
 * registers a path never reads but another could still count, as in the
 * kernel.
 */
#include <errno.h>
#include <stdlib.h>

#include "../isa/liveness.h"
#include "helper_protos.h"
#include "verifier.h"

#define R(n) ((uint16_t)(1u << (n)))
#define CALLER_SAVED ((uint16_t)0x3f) /* r0-r5 */
#define ARGS ((uint16_t)0x3e)         /* r1-r5 */

/* The registers a call reads: a helper's arguments, or r1-r5 (functions, kfuncs, callx). */
static uint16_t call_uses(const struct venv *env, const struct bpfvm_insn *in, enum isa_op op)
{
	struct vhelper fn;
	unsigned n = 0;

	if (op != ISA_OP_CALL_HELPER || in->imm == 0 || !helper_proto(in->imm, &fn) ||
	    !helper_allowed(in->imm, env->prog_type, env->attach_type))
		return ARGS;
	while (n < 5 && fn.args[n] != V_ARG_NONE)
		n++;
	return (uint16_t)(((1u << n) - 1) << 1);
}

static void uses_defs(const struct venv *env, uint32_t i, uint16_t *use, uint16_t *def)
{
	const struct bpfvm_insn *in = &env->insns[i];
	enum isa_op op = (enum isa_op)env->ops[i];

	switch (isa_ops[op].form) {
	case F_LDABS: case F_LDIND:
		*use = 0xffff, *def = 0;
		return;
	case F_CALL: case F_CALLX:
		*use = call_uses(env, in, op), *def = CALLER_SAVED;
		return;
	case F_MAY_GOTO:
		*use = R(in->dst_reg), *def = 0;
		return;
	default:
		*use = isa_regs_read(in, op), *def = isa_regs_written(in, op);
		return;
	}
}

int compute_live_regs(struct venv *env)
{
	uint16_t *use = malloc(env->cnt * sizeof(*use)), *def = malloc(env->cnt * sizeof(*def));
	uint16_t *live = calloc(env->cnt, sizeof(*live));

	if (!use || !def || !live) {
		free(use);
		free(def);
		free(live);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < env->cnt; i++)
		if (env->ops[i] != ISA_OP_INVALID)
			uses_defs(env, i, &use[i], &def[i]);
	/* the whole program at once: a call falls through, its callee's slots are their own */
	isa_liveness(env->insns, env->ops, 0, env->cnt, use, def, 0, live, NULL);
	for (uint32_t i = 0; i < env->cnt; i++)
		env->aux[i].live_regs = live[i];
	free(use);
	free(def);
	free(live);
	return 0;
}
