/*
 * facts.c - collecting, during the walk, what every path shows about an
 * instruction (see facts.h), and handing it to the program at the end.
 */
#include "facts.h"

#include <stdlib.h>

#include "../prog/prog.h"
#include "ctx.h"
#include "verifier.h"

static uint8_t mem_kind(const struct vreg *ptr)
{
	switch (ptr->type) {
	case VT_STACK: return FACT_MEM_STACK;
	case VT_CTX: return FACT_MEM_CTX;
	case VT_MAP_VALUE: case VT_MAP_KEY: return FACT_MEM_MAP;
	case VT_PACKET: case VT_PACKET_META: return FACT_MEM_PACKET;
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

int facts_finish(struct venv *env)
{
	struct verifier_facts *facts = calloc(1, sizeof(*facts) + env->cnt * sizeof(facts->f[0]));

	if (!facts)
		return -ENOMEM;
	facts->prog_type = env->prog_type;
	facts->mem_mode = env->ctx->prog_type == UINT32_MAX;
	facts->mem_size = env->mem_size;
	facts->insn_processed = env->insn_processed;
	facts->cnt = env->cnt;
	for (uint32_t i = 0; i < env->cnt; i++) {
		const struct vaux *a = &env->aux[i];
		struct verifier_fact *f = &facts->f[i];

		f->flags = a->seen ? FACT_SEEN : 0;
		if (a->seen && a->const_state == 1) {
			f->flags |= FACT_CONST;
			f->value = a->const_val;
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
