/*
 * facts.c - collecting, during the walk, what every path shows about an
 * instruction (see core/facts.h), and handing it to the program at the end.
 */
#include "../core/facts.h"

#include <errno.h>
#include <stdlib.h>

#include "../isa/opcode.h"
#include "../prog/prog.h"
#include "ctx.h"
#include "verifier.h"

static uint8_t mem_kind(const struct vreg *ptr)
{
	if (ptr->type == VT_MEM && (ptr->flags & VF_UNTRUSTED))
		return FACT_MEM_PROBE;
	switch (ptr->type) {
	case VT_STACK: return FACT_MEM_STACK;
	case VT_CTX: return FACT_MEM_CTX;
	case VT_MAP_VALUE: case VT_MAP_KEY: return FACT_MEM_MAP;
	case VT_PACKET: case VT_PACKET_META: return FACT_MEM_PACKET;
	case VT_BTF_ID: return FACT_MEM_PROBE;
	default: return FACT_MEM_OTHER;
	}
}

void facts_note_access(struct venv *env, uint32_t insn_idx, const struct vreg *ptr)
{
	env->aux[insn_idx].mem_kinds |= mem_kind(ptr);
}

/* The result register of insn_idx (its dst) after the instruction, on this path. */
void facts_note_result(struct venv *env, uint32_t insn_idx)
{
	struct vaux *aux = &env->aux[insn_idx];
	const struct vreg *dst = &cur_frame(env->cur)->regs[env->insns[insn_idx].dst_reg];
	bool known = dst->type == VT_SCALAR && tnum_is_const(dst->r.var);

	if (aux->const_state == 2)
		return;
	if (!known || (aux->const_state == 1 && aux->const_val != dst->r.var.value)) {
		aux->const_state = 2;
		return;
	}
	aux->const_state = 1;
	aux->const_val = dst->r.var.value;
}

/*
 * Where a path stopped because an explored state covers it (pruning, a
 * loop summary), what follows was walked with the covering state only,
 * and that state may differ from the stopped one in registers that were
 * not precise: safety holds for both, but a constant seen after the point
 * may not be the stopped path's.  So no instruction reachable from such a
 * point keeps its constant: const_state becomes "varies".  A stop inside a
 * sub-program, or a walk reaching a call, a callback or an exit of one
 * (its callers, its callees), gives up constants everywhere.
 */
static bool drop_constants_after_pruning(struct venv *env)
{
	uint32_t *todo = malloc(env->cnt * sizeof(*todo)), n = 0;
	uint8_t *reached = calloc(env->cnt, 1);
	uint32_t main_end = env->prog->nfuncs > 1 ? env->prog->funcs[1].start : env->cnt;
	bool all = false;

	if (!todo || !reached) {
		free(todo);
		free(reached);
		return false;
	}
	for (uint32_t i = 0; i < env->cnt && !all; i++) {
		if (!env->aux[i].pruned)
			continue;
		if (i >= main_end)
			all = true;
		else if (!reached[i])
			reached[i] = 1, todo[n++] = i;
	}
	while (n && !all) {
		uint32_t i = todo[--n], next[2], k = 0;
		const struct bpfvm_insn *in = &env->insns[i];
		enum isa_op op = (enum isa_op)env->ops[i];

		/* a function called, or a callback a helper may run: anything */
		if (op == ISA_OP_CALL_LOCAL || isa_ops[op].form == F_CALLX ||
		    (op == ISA_OP_LDDW && in->src_reg == BPFVM_PSEUDO_FUNC)) {
			all = true;
			break;
		}
		if (isa_op_falls_through(op))
			next[k++] = i + isa_op_slots(op);
		if (isa_op_is_jump(op))
			next[k++] = (uint32_t)isa_jump_target(in, i);
		for (uint32_t j = 0; j < k; j++) {
			if (next[j] >= main_end) {
				all = true;
			} else if (!reached[next[j]]) {
				reached[next[j]] = 1;
				todo[n++] = next[j];
			}
		}
	}
	for (uint32_t i = 0; i < env->cnt; i++)
		if (all || reached[i])
			env->aux[i].const_state = 2;
	free(todo);
	free(reached);
	return true;
}

int facts_finish(struct venv *env)
{
	struct verifier_facts *facts = calloc(1, sizeof(*facts) + env->cnt * sizeof(facts->f[0]));

	if (!facts || !drop_constants_after_pruning(env)) {
		free(facts);
		return -ENOMEM;
	}
	facts->prog_type = env->prog_type;
	facts->mem_mode = env->ctx->prog_type == UINT32_MAX;
	facts->mem_size = env->mem_size;
	facts->insn_processed = env->insn_processed;
	facts->max_ctx_offset = env->max_ctx_offset;
	facts->cnt = env->cnt;
	for (uint32_t i = 0; i < env->cnt; i++) {
		const struct vaux *a = &env->aux[i];
		struct verifier_fact *f = &facts->f[i];

		f->flags = a->seen ? FACT_SEEN : 0;
		if (a->seen && a->const_state == 1) {
			f->flags |= FACT_CONST;
			f->value = a->const_val;
		}
		if ((a->mem_kinds & FACT_MEM_PROBE) && (a->mem_kinds & ~FACT_MEM_PROBE)) {
			/* probed on one path, proven on another: one load cannot be both here */
			env->err_insn = (int)i;
			free(facts);
			return verr(env, -EINVAL, "same insn cannot be used with different pointers\n");
		}
		if (a->mem_kinds) {
			f->flags |= FACT_MEM;
			f->mem = a->mem_kinds;
		}
	}
	free(env->prog->facts);
	env->prog->facts = facts;
	return 0;
}
