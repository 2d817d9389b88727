/*
 * stack.c - the program's stack, byte by byte: each byte is never written
 * ('?'), some data ('m'), known zero ('0'), or part of a spilled register
 * ('r'), whose whole state the slot keeps, so that a register spilled and
 * filled back (compilers do this constantly) keeps its type and range.  A
 * privileged program may read bytes it never wrote, as in the kernel;
 * they read as unknown data.  Accesses are aligned (the kernel demands it
 * for the stack) and within the 512 bytes of the frame.
 */
#include "verifier.h"

#include <string.h>

static struct vreg *regs_of(struct venv *env)
{
	return cur_frame(env->cur)->regs;
}

bool slot_is_spilled_reg(const struct vslot *s)
{
	return s->kind[7] == SLOT_SPILL;
}

bool slot_is_spilled_scalar64(const struct vslot *s)
{
	for (int i = 0; i < 8; i++)
		if (s->kind[i] != SLOT_SPILL)
			return false;
	return s->spilled.type == VT_SCALAR;
}

static void mark_slot_scratched(struct venv *env, const struct vframe *f, uint32_t spi)
{
	if (f == cur_frame(env->cur) && spi < 64)
		env->scratched_slots |= 1ull << spi;
}

/* Grow f to hold `size` bytes below fp, and note the function's depth. */
int grow_stack_for(struct venv *env, struct vframe *f, int64_t size)
{
	uint32_t n = (uint32_t)((size + 7) / 8);
	int err = frame_grow_stack(f, n);

	if (!err && env->stack_depth[f->subprog] < n * 8)
		env->stack_depth[f->subprog] = n * 8;
	return err;
}

int check_stack_access_within_bounds(struct venv *env, uint32_t regno, int32_t off,
				     uint32_t access_size, enum vaccess t)
{
	const struct vreg *reg = &regs_of(env)[regno];
	struct vframe *f = reg_frame(env, reg);
	const char *extra = t == ACC_READ ? " read from" : " write to";
	int64_t min_off, max_off;
	char tn[48];

	if (tnum_is_const(reg->r.var)) {
		min_off = (int64_t)reg->r.var.value + off;
		max_off = min_off + access_size;
	} else {
		if (reg->r.b64.smax >= V_MAX_VAR_OFF || reg->r.b64.smin <= -V_MAX_VAR_OFF)
			return verr(env, -EACCES, "invalid unbounded variable-offset%s stack R%u\n", extra,
				    regno);
		min_off = reg->r.b64.smin + off;
		max_off = reg->r.b64.smax + off + access_size;
	}
	/* a privileged program may read what it never wrote: both use the whole 512 bytes */
	if (min_off < -V_STACK || min_off > -1 || max_off > 0) {
		vhint(env, "a frame's stack is the %d bytes below r10: offsets -%d .. -1", V_STACK, V_STACK);
		if (tnum_is_const(reg->r.var))
			return verr_regs(env, -EACCES, (uint16_t)(1u << regno),
					 "invalid%s stack R%u off=%d size=%u\n", extra, regno, off,
					 access_size);
		tnum_str(tn, sizeof(tn), reg->r.var);
		return verr_regs(env, -EACCES, (uint16_t)(1u << regno),
				 "invalid variable-offset%s stack R%u var_off=%s off=%d size=%u\n", extra,
				 regno, tn, off, access_size);
	}
	return grow_stack_for(env, f, -min_off);
}

/* ---- writes -------------------------------------------------------------------------- */

static uint32_t reg_width(const struct vreg *reg)
{
	uint64_t u = reg->r.b64.umax;

	return u ? 64 - (uint32_t)__builtin_clzll(u) : 0;
}

static bool is_spillable(const struct vreg *reg)
{
	return reg->type != VT_SCALAR && reg->type != VT_NOT_INIT;
}

/* The slot holds reg, spilled in its last `size` bytes; the rest keep their kind
 * unless they were part of an earlier spill. */
static void save_reg_state(struct vslot *s, const struct vreg *reg, uint32_t size)
{
	reg_copy(&s->spilled, reg);
	if (size == 8)
		s->spilled.live |= LIVE_WRITTEN;
	for (uint32_t i = 8; i > 8 - size; i--)
		s->kind[i - 1] = SLOT_SPILL;
	for (uint32_t i = 8 - size; i; i--)
		if (s->kind[i - 1] != SLOT_ZERO && s->kind[i - 1] != SLOT_INVALID)
			s->kind[i - 1] = SLOT_MISC;
}

/* A plain data write: the slot no longer holds a register. */
static void scrub_slot(struct vslot *s)
{
	s->spilled.type = VT_NOT_INIT;
	for (int i = 0; i < 8; i++)
		if (s->kind[i] == SLOT_SPILL)
			s->kind[i] = SLOT_MISC;
}

static bool is_null_const(const struct vreg *reg)
{
	return reg->type == VT_SCALAR && tnum_equals_const(reg->r.var, 0);
}

static int stack_write_fixed(struct venv *env, struct vframe *f, int32_t off, uint32_t size,
			     int value_regno, uint32_t insn_idx)
{
	const struct bpfvm_insn *insn = &env->insns[insn_idx];
	bool is_st = BPFVM_CLASS(insn->code) == BPFVM_ST;
	uint32_t slot = (uint32_t)(-off - 1), spi = slot / 8;
	struct vreg *reg = value_regno >= 0 ? &regs_of(env)[value_regno] : NULL;
	struct vslot *s = &f->stack[spi];
	uint32_t hist = HIST_MAKE_STACK(f->frameno, spi);
	uint8_t kind = SLOT_MISC;
	int err;

	mark_slot_scratched(env, f, spi);
	fastcall_check_access(env, f->subprog, env->insn_idx, off);
	if (reg && !(off % 8) && reg->type == VT_SCALAR) {
		bool fits = reg_width(reg) <= 8 * size;

		if (fits) /* the spilled copy stays linked to the register */
			assign_scalar_id_before_mov(env, reg);
		save_reg_state(s, reg, size);
		if (!fits)
			s->spilled.id = 0;
	} else if (!reg && !(off % 8) && is_st) {
		struct vreg tmp;

		memset(&tmp, 0, sizeof(tmp));
		reg_const(&tmp, (uint64_t)(int64_t)insn->imm);
		save_reg_state(s, &tmp, size);
	} else if (reg && is_spillable(reg)) {
		if (size != 8)
			return verr(env, -EACCES, "invalid size of register spill\n");
		if (f != cur_frame(env->cur) && reg->type == VT_STACK)
			return verr(env, -EINVAL, "cannot spill pointers to stack into stack frame of the caller\n");
		save_reg_state(s, reg, size);
	} else {
		scrub_slot(s);
		if (size == 8)
			s->spilled.live |= LIVE_WRITTEN;
		if ((reg && is_null_const(reg)) || (!reg && is_st && insn->imm == 0)) {
			/* zero kept as bytes, not as a register: its exactness matters */
			if ((err = mark_chain_precision(env, (uint32_t)value_regno)))
				return err;
			kind = SLOT_ZERO;
		}
		for (uint32_t i = 0; i < size; i++)
			s->kind[(slot - i) % 8] = kind;
		hist = 0;
	}
	return hist ? push_hist(env, env->cur, hist) : 0;
}

static int stack_write_var(struct venv *env, struct vframe *f, const struct vreg *ptr, int32_t off,
			   uint32_t size, int value_regno, uint32_t insn_idx)
{
	const struct bpfvm_insn *insn = &env->insns[insn_idx];
	int64_t min_off = ptr->r.b64.smin + off, max_off = ptr->r.b64.smax + off + size;
	const struct vreg *val = value_regno >= 0 ? &regs_of(env)[value_regno] : NULL;
	bool zero = (val && is_null_const(val)) ||
		    (!val && BPFVM_CLASS(insn->code) == BPFVM_ST && insn->imm == 0);
	bool zero_used = false;

	fastcall_check_access(env, f->subprog, env->insn_idx, min_off);
	for (int64_t i = min_off; i < max_off; i++) {
		uint32_t slot = (uint32_t)(-i - 1), spi = slot / 8;
		struct vslot *s = &f->stack[spi];
		uint8_t *k = &s->kind[slot % 8];

		mark_slot_scratched(env, f, spi);
		if (zero && *k == SLOT_SPILL && s->spilled.type == VT_SCALAR &&
		    tnum_equals_const(s->spilled.r.var, 0)) {
			zero_used = true;
			continue;
		}
		s->spilled.type = VT_NOT_INIT;
		if (s->kind[7] == SLOT_SPILL)
			scrub_slot(s);
		if (zero && *k == SLOT_ZERO) {
			zero_used = true;
			continue;
		}
		*k = SLOT_MISC;
	}
	return zero_used ? mark_chain_precision(env, (uint32_t)value_regno) : 0;
}

int check_stack_write(struct venv *env, struct vreg *ptr, int32_t off, uint32_t size,
		      int value_regno, uint32_t insn_idx)
{
	struct vframe *f = reg_frame(env, ptr);

	if (tnum_is_const(ptr->r.var))
		return stack_write_fixed(env, f, off + (int32_t)ptr->r.var.value, size, value_regno,
					 insn_idx);
	return stack_write_var(env, f, ptr, off, size, value_regno, insn_idx);
}

/* ---- reads --------------------------------------------------------------------------- */

/* dst = what [min_off, max_off) holds as data: 0 if every byte is a known zero. */
static void mark_reg_stack_read(struct venv *env, struct vframe *f, int64_t min_off,
				int64_t max_off, int dst_regno)
{
	struct vreg *dst = &regs_of(env)[dst_regno];
	bool zeros = true;

	for (int64_t i = min_off; i < max_off; i++) {
		uint32_t slot = (uint32_t)(-i - 1);

		mark_slot_scratched(env, f, slot / 8);
		if (f->stack[slot / 8].kind[slot % 8] != SLOT_ZERO) {
			zeros = false;
			break;
		}
	}
	reg_unknown(env, dst);
	if (zeros)
		reg_const(dst, 0);
	dst->live |= LIVE_WRITTEN;
}

/*
 * A fill narrower than the spill, or of a narrower spill: at the slot's
 * start (where the register's low bytes are) it is the register, else it
 * is what the bytes say.
 */
static void fill_partial(struct venv *env, struct vframe *f, int32_t off, uint32_t size,
			 int dst_regno, uint32_t spill_size, uint32_t *hist)
{
	uint32_t slot = (uint32_t)(-off - 1), spi = slot / 8;
	struct vslot *s = &f->stack[spi];
	struct vreg *dst = &regs_of(env)[dst_regno];
	uint32_t spills = 0, zeros = 0;

	if (size <= spill_size && !(off % 8)) {
		reg_copy(dst, &s->spilled);
		if (reg_width(&s->spilled) > size * 8)
			dst->id = 0, dst->off = 0, dst->flags &= (uint8_t)~VF_ADD_CONST;
		dst->live |= LIVE_WRITTEN;
		return;
	}
	for (uint32_t i = 0; i < size; i++) {
		uint8_t k = s->kind[(slot - i) % 8];

		spills += k == SLOT_SPILL;
		zeros += k == SLOT_ZERO;
	}
	reg_unknown(env, dst);
	if ((spills == size && tnum_equals_const(s->spilled.r.var, 0)) || zeros == size)
		reg_const(dst, 0);
	if (spills != size || !tnum_equals_const(s->spilled.r.var, 0))
		*hist = 0; /* not the spilled register coming back */
	dst->live |= LIVE_WRITTEN;
}

static int stack_read_fixed(struct venv *env, struct vframe *f, int32_t off, uint32_t size,
			    int dst_regno)
{
	uint32_t slot = (uint32_t)(-off - 1), spi = slot / 8;
	struct vslot *s = &f->stack[spi];
	uint32_t hist = HIST_MAKE_STACK(f->frameno, spi);
	int err;

	mark_slot_scratched(env, f, spi);
	fastcall_check_access(env, f->subprog, env->insn_idx, off);
	if (slot_is_spilled_reg(s)) {
		uint32_t spill_size = 1;

		for (int i = 7; i > 0 && s->kind[i - 1] == SLOT_SPILL; i--)
			spill_size++;
		if (size != 8 || spill_size != 8) {
			if (s->spilled.type != VT_SCALAR)
				return verr(env, -EACCES, "invalid size of register fill\n");
			if ((err = mark_reg_read(env, &s->spilled, s->spilled.parent)))
				return err;
			if (dst_regno < 0)
				return 0;
			fill_partial(env, f, off, size, dst_regno, spill_size, &hist);
		} else if (dst_regno >= 0) {
			reg_copy(&regs_of(env)[dst_regno], &s->spilled);
			regs_of(env)[dst_regno].live |= LIVE_WRITTEN;
		}
		if ((err = mark_reg_read(env, &s->spilled, s->spilled.parent)))
			return err;
	} else {
		if ((err = mark_reg_read(env, &s->spilled, s->spilled.parent)))
			return err;
		if (dst_regno >= 0)
			mark_reg_stack_read(env, f, off, (int64_t)off + size, dst_regno);
		hist = 0;
	}
	return hist ? push_hist(env, env->cur, hist) : 0;
}

int check_stack_read(struct venv *env, uint32_t ptr_regno, int32_t off, uint32_t size,
		     int dst_regno)
{
	const struct vreg *reg = &regs_of(env)[ptr_regno];
	struct vframe *f = reg_frame(env, reg);
	int err;

	if (tnum_is_const(reg->r.var))
		return stack_read_fixed(env, f, off + (int32_t)reg->r.var.value, size, dst_regno);
	if (dst_regno < 0) {
		char tn[48];

		tnum_str(tn, sizeof(tn), reg->r.var);
		return verr(env, -EACCES, "variable offset stack pointer cannot be passed into helper "
					  "function; var_off=%s off=%d size=%u\n", tn, off, size);
	}
	if ((err = check_stack_range_initialized(env, ptr_regno, off, size, false, STACK_DIRECT)))
		return err;
	mark_reg_stack_read(env, f, reg->r.b64.smin + off, reg->r.b64.smax + off + size, dst_regno);
	fastcall_check_access(env, f->subprog, env->insn_idx, reg->r.b64.smin + off);
	return 0;
}

/* ---- helper memory on the stack -------------------------------------------------------- */

/*
 * A helper reads (or, raw_mode, fills) [reg + off, + access_size) of the
 * stack.  What it may write becomes data; spilled scalars it may overwrite
 * become unknown.  A read of bytes never written is fine for a privileged
 * program, as in the kernel.
 */
int check_stack_range_initialized(struct venv *env, uint32_t regno, int32_t off,
				  int64_t access_size, bool zero_size_allowed, enum vstack_use use)
{
	const struct vreg *reg = &regs_of(env)[regno];
	struct vframe *f = reg_frame(env, reg);
	bool helper = use != STACK_DIRECT, raw_mode = use == STACK_HELPER_RAW;
	/* 6.18: what a helper only reads keeps its kind (6.12 made it all data) */
	bool clobber = use == STACK_HELPER || raw_mode;
	int64_t min_off, max_off;
	int err;

	if (access_size == 0 && !zero_size_allowed)
		return verr(env, -EACCES, "invalid zero-sized read\n");
	if (access_size < 0 || access_size > V_STACK)
		return verr(env, -EACCES, "invalid%s stack R%u off=%d size=%lld\n",
			    helper ? " indirect access to" : " read from", regno, off,
			    (long long)access_size);
	if ((err = check_stack_access_within_bounds(env, regno, off, (uint32_t)access_size,
						    helper ? ACC_WRITE : ACC_READ)))
		return err;
	if (tnum_is_const(reg->r.var)) {
		min_off = max_off = (int64_t)reg->r.var.value + off;
	} else {
		raw_mode = false; /* an unknown part of the buffer would stay uninitialized */
		min_off = reg->r.b64.smin + off;
		max_off = reg->r.b64.smax + off;
	}
	if (raw_mode)
		return 1; /* the caller marks the bytes written after the call */
	for (int64_t i = min_off; i < max_off + access_size; i++) {
		uint32_t slot = (uint32_t)(-i - 1), spi = slot / 8;
		struct vslot *s = &f->stack[spi];
		uint8_t *k = &s->kind[slot % 8];

		if (clobber && (*k == SLOT_ZERO || *k == SLOT_INVALID))
			*k = SLOT_MISC; /* the helper may write anything */
		if (clobber && slot_is_spilled_reg(s)) {
			reg_unknown(env, &s->spilled);
			scrub_slot(s);
		}
		if ((err = mark_reg_read(env, &s->spilled, s->spilled.parent)))
			return err;
	}
	return 0;
}

/* After a raw-mode helper wrote [reg + off, + size): those bytes are data. */
void mark_stack_slots_misc(struct venv *env, struct vframe *f, int64_t off, uint32_t size)
{
	for (int64_t i = off; i < off + (int64_t)size; i++) {
		uint32_t slot = (uint32_t)(-i - 1), spi = slot / 8;
		struct vslot *s = &f->stack[spi];

		mark_slot_scratched(env, f, spi);
		if (slot_is_spilled_reg(s))
			scrub_slot(s);
		s->kind[slot % 8] = SLOT_MISC;
	}
}
