/*
 * jit_promote.c - which stack slots a JIT may keep in registers.
 *
 * BPF has ten registers, so clang keeps what does not fit in them on the
 * stack, and a loop that carries a value there pays a store and a load
 * (a store-to-load forwarding delay of 4-5 cycles) per iteration where a
 * register would cost nothing.  The kernel's JIT keeps every slot in
 * memory; a back-end with spare registers can do better, for the slots no
 * one can see in memory:
 *
 *   - the function makes no calls (a helper or a callee could be handed a
 *     pointer to the slot, and would clobber the back-end's spare
 *     registers) and no legacy packet loads (they use scratch registers);
 *   - r10 is used only as the base of a load or store with a constant
 *     offset: a function that copies r10 anywhere could reach any slot
 *     through the copy, and one that writes r10 moves its frame;
 *   - every access to the slot's bytes is a plain 4- or 8-byte load or
 *     store at the slot's own offset (atomics, sign-extending or narrower
 *     accesses, and accesses that overlap it at another offset leave the
 *     slot in memory).
 *
 * A 4-byte store keeps the slot's upper half in memory; a register written
 * with a 32-bit move loses it.  That matters only where a later 8-byte load
 * can read that upper half, which a backward data-flow pass (a 64-bit load
 * uses it, a 64-bit store ends it) finds: there the back-end merges the
 * low half instead (JIT_PROMO_MERGE).
 *
 * Candidates are ranked by their accesses, each weighted by the depth of
 * loops around it, so that the few spare registers hold the slots of the
 * innermost loops.  Pure analysis: the back-end decides how many it takes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../isa/liveness.h"
#include "../isa/opcode.h"
#include "jit.h"

#define R(n) (1u << (n))
#define FRAME BPFVM_STACK_SIZE
#define NO_OWNER INT16_MIN

/* Scratch for one function, indexed by byte offset + FRAME. */
struct frame_map {
	int16_t owner[FRAME];  /* the offset of the slot whose access covers the byte */
	bool bad[FRAME];       /* some access no register can stand for covers it */
	uint8_t width[FRAME];  /* at a slot's offset: its widest access */
	uint64_t weight[FRAME];
	uint8_t slot[FRAME];   /* at a chosen slot's offset: its candidate number + 1 */
};

/* A plain load or store through r10 that a register can stand for: its width, else 0. */
static unsigned promotable_access(const struct bpfvm_insn *in, enum isa_op op)
{
	switch (op) {
	case ISA_OP_LDX_W: case ISA_OP_LDX_DW:
		return in->src_reg == 10 ? isa_access_size(in->code) : 0;
	case ISA_OP_STX_W: case ISA_OP_STX_DW: case ISA_OP_ST_W: case ISA_OP_ST_DW:
		return in->dst_reg == 10 ? isa_access_size(in->code) : 0;
	default:
		return 0;
	}
}

/* Any other access through r10: the bytes it covers stay in memory. */
static bool other_stack_access(const struct bpfvm_insn *in, enum isa_op op)
{
	switch (isa_ops[op].form) {
	case F_LDX: return in->src_reg == 10;
	case F_ST: case F_STX: return in->dst_reg == 10;
	case F_ATOMIC: return (in->imm == BPFVM_LOAD_ACQ ? in->src_reg : in->dst_reg) == 10;
	default: return false;
	}
}

/* Does the instruction use r10 as anything but the base of an access, or call out? */
static bool defeats_promotion(const struct bpfvm_insn *in, enum isa_op op, uint16_t uses)
{
	uint8_t form = isa_ops[op].form;

	if (isa_op_form_in(op, ISA_FORM(F_CALL) | ISA_FORM(F_CALLX) | ISA_FORM(F_LDABS) |
				       ISA_FORM(F_LDIND)))
		return true;
	if (!(uses & R(10)))
		return false;
	switch (form) {
	case F_LDX: return in->dst_reg == 10;
	case F_ST: return false;
	case F_STX: return in->src_reg == 10;
	case F_ATOMIC: return (in->imm == BPFVM_LOAD_ACQ ? in->dst_reg : in->src_reg) == 10;
	default: return true;
	}
}

static void cover(struct frame_map *m, int off, unsigned size, bool promotable)
{
	for (int b = off; b < off + (int)size; b++) {
		if (!promotable || (m->owner[b + FRAME] != NO_OWNER && m->owner[b + FRAME] != off))
			m->bad[b + FRAME] = true;
		else
			m->owner[b + FRAME] = (int16_t)off;
	}
}

/*
 * The 8-byte loads that can read what a 4-byte store leaves above it: per
 * slot, live from such a load back to the 8-byte store before it.  Marks
 * the 4-byte stores where it is live with JIT_PROMO_MERGE.
 */
static int mark_merges(const struct bpfvm_prog *prog, const struct prog_func *fn, uint8_t *at,
		       uint8_t mixed)
{
	uint16_t *live = calloc(prog->cnt + 1, sizeof(*live)); /* live on entry to each slot */
	bool changed = true;

	if (!live)
		return -ENOMEM;
	while (changed) {
		changed = false;
		for (uint32_t i = fn->end; i-- > fn->start;) {
			const struct bpfvm_insn *in = &prog->insns[i];
			enum isa_op op = (enum isa_op)prog->ops[i];
			uint8_t form, slot = at[i] & JIT_PROMO_SLOT;
			uint16_t out, v;

			if (op == ISA_OP_INVALID)
				continue; /* the second half of an lddw: nothing lands there */
			form = isa_ops[op].form;
			out = isa_union_after(prog->insns, prog->ops, fn->start, fn->end, i, live, mixed);
			v = out;
			if (slot && isa_access_size(in->code) == 8) {
				if (form == F_LDX)
					v |= (uint16_t)(1u << (slot - 1));
				else
					v &= (uint16_t)~(1u << (slot - 1));
			} else if (slot && form != F_LDX && (out >> (slot - 1) & 1)) {
				at[i] |= JIT_PROMO_MERGE;
			}
			if (v != live[i]) {
				live[i] = v;
				changed = true;
			}
		}
	}
	free(live);
	return 0;
}

/* What planning the functions of one program shares: its analysis and the scratch. */
struct plan {
	const struct bpfvm_prog *prog;
	const uint16_t *reads, *writes;
	struct frame_map *m;
	uint8_t *opened; /* per slot: a loop headed there is open */
	uint8_t *at;     /* the result: per slot, JIT_PROMO_SLOT and JIT_PROMO_MERGE */
};

static void frame_map_clear(struct frame_map *m)
{
	for (int b = 0; b < FRAME; b++) {
		m->owner[b] = NO_OWNER;
		m->bad[b] = false;
		m->width[b] = 0;
		m->weight[b] = 0;
		m->slot[b] = 0;
	}
}

/*
 * One pass from the end: what the function names, what defeats
 * promotion, and each access weighed by the loops around it.  A loop
 * is a head with the furthest jump back to it (a state machine's many
 * `continue`s make one loop): going backwards, it opens at that jump,
 * the first met, and closes past its head.  False when the function
 * keeps all of its frame in memory.
 */
static bool survey(struct plan *p, const struct prog_func *fn, struct jit_promo_func *pf)
{
	struct frame_map *m = p->m;
	unsigned depth = 0;

	for (uint32_t i = fn->end; i-- > fn->start;) {
		const struct bpfvm_insn *in = &p->prog->insns[i];
		enum isa_op op = (enum isa_op)p->prog->ops[i];
		unsigned size;
		uint16_t uses;
		int off = in->off;
		bool plain;

		if (op == ISA_OP_INVALID)
			continue;
		uses = p->reads[i] | p->writes[i];
		pf->regs_used |= uses;
		if (defeats_promotion(in, op, uses))
			return false;
		if (isa_op_is_jump(op)) {
			int64_t to = isa_jump_target(in, i);

			if (to <= i && to >= fn->start && !p->opened[to - fn->start]) {
				p->opened[to - fn->start] = 1;
				depth++;
			}
		}
		plain = (uses & R(10)) && promotable_access(in, op) != 0;
		if (plain || ((uses & R(10)) && other_stack_access(in, op))) {
			size = isa_access_size(in->code);
			if (off < -FRAME || off + (int)size > 0)
				return false; /* outside the frame: leave all of it alone */
			cover(m, off, size, plain);
			if (plain) {
				m->weight[off + FRAME] += 1ull << (3 * (depth > 6 ? 6 : depth));
				if (size > m->width[off + FRAME])
					m->width[off + FRAME] = (uint8_t)size;
			}
		}
		depth -= p->opened[i - fn->start]; /* a loop headed here ends above it */
	}
	return (pf->regs_used & R(10)) != 0; /* else no stack */
}

/* The heaviest eligible slots, best first, into pf->off. */
static void rank(struct frame_map *m, struct jit_promo_func *pf)
{
	for (int off = -FRAME; off < 0; off++) {
		unsigned w = m->width[off + FRAME], k;
		bool ok = w != 0;

		for (unsigned b = 0; ok && b < w; b++)
			ok = !m->bad[off + b + FRAME] && m->owner[off + b + FRAME] == off;
		if (!ok)
			continue;
		for (k = pf->n; k > 0 && m->weight[pf->off[k - 1] + FRAME] < m->weight[off + FRAME]; k--)
			;
		if (k == JIT_PROMO_MAX)
			continue;
		if (pf->n < JIT_PROMO_MAX)
			pf->n++;
		memmove(&pf->off[k + 1], &pf->off[k], (pf->n - 1 - k) * sizeof(pf->off[0]));
		pf->off[k] = (int16_t)off;
	}
	for (unsigned k = 0; k < pf->n; k++)
		m->slot[pf->off[k] + FRAME] = (uint8_t)(k + 1);
}

/* Mark the chosen slots' accesses in at[]; the slots both loaded whole and stored by half. */
static uint8_t mark_accesses(struct plan *p, const struct prog_func *fn,
			     const struct jit_promo_func *pf)
{
	bool has8[JIT_PROMO_MAX] = { false }, has4st[JIT_PROMO_MAX] = { false };
	uint8_t mixed = 0;

	for (uint32_t i = fn->start; i < fn->end; i++) {
		const struct bpfvm_insn *in = &p->prog->insns[i];
		enum isa_op op = (enum isa_op)p->prog->ops[i];
		unsigned size, k;

		/* every such access is inside the frame: survey saw to it */
		if (op == ISA_OP_INVALID || !(p->reads[i] & R(10)) ||
		    !(size = promotable_access(in, op)) || !(k = p->m->slot[in->off + FRAME]))
			continue;
		p->at[i] = (uint8_t)k;
		if (size == 8 && isa_ops[op].form == F_LDX)
			has8[k - 1] = true;
		else if (size == 4 && isa_ops[op].form != F_LDX)
			has4st[k - 1] = true;
	}
	for (unsigned k = 0; k < pf->n; k++)
		if (has8[k] && has4st[k])
			mixed |= (uint8_t)(1u << k);
	return mixed;
}

/* Rank fn's candidate slots, mark their accesses in at[]. */
static int plan_function(struct plan *p, const struct prog_func *fn, struct jit_promo_func *pf)
{
	uint8_t mixed;

	memset(pf, 0, sizeof(*pf));
	memset(p->opened, 0, fn->end - fn->start);
	frame_map_clear(p->m);
	if (!survey(p, fn, pf))
		return 0;
	rank(p->m, pf);
	mixed = mark_accesses(p, fn, pf);
	return mixed ? mark_merges(p->prog, fn, p->at, mixed) : 0;
}

int jit_promote_plan(const struct bpfvm_prog *prog, const uint16_t *reads,
		     const uint16_t *writes, struct jit_promo *out)
{
	struct plan p = { prog, reads, writes, malloc(sizeof(*p.m)), malloc(prog->cnt + 1), NULL };
	int err = 0;

	p.at = out->at = calloc(prog->cnt + 1, 1);
	out->funcs = calloc(prog->nfuncs ? prog->nfuncs : 1, sizeof(*out->funcs));
	if (!p.m || !p.opened || !out->at || !out->funcs)
		err = -ENOMEM;
	for (uint32_t f = 0; f < prog->nfuncs && !err; f++)
		err = plan_function(&p, &prog->funcs[f], &out->funcs[f]);
	free(p.m);
	free(p.opened);
	if (err)
		jit_promote_free(out);
	return err;
}

void jit_promote_free(struct jit_promo *p)
{
	free(p->at);
	free(p->funcs);
	p->at = NULL;
	p->funcs = NULL;
}
