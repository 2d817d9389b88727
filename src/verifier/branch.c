/*
 * branch.c - deciding and refining conditional jumps on scalars (see
 * branch.h).  The rules are the Linux verifier's: an outcome is decided
 * from non-overlapping intervals or tnums in the compared width (and, for
 * equality, also from the subregisters); refinement narrows the unsigned
 * or signed interval the comparison speaks of, intersects both operands
 * for equality, and for a comparison with a constant shaves an excluded
 * end or learns bits from JSET.
 */
#include "branch.h"

#include <bpfvm/isa.h>

unsigned branch_negate(unsigned op)
{
	switch (op) {
	case BPFVM_JEQ: return BPFVM_JNE;
	case BPFVM_JNE: return BPFVM_JEQ;
	case BPFVM_JSET: return BRANCH_JNSET;
	case BRANCH_JNSET: return BPFVM_JSET;
	case BPFVM_JGE: return BPFVM_JLT;
	case BPFVM_JGT: return BPFVM_JLE;
	case BPFVM_JLE: return BPFVM_JGT;
	case BPFVM_JLT: return BPFVM_JGE;
	case BPFVM_JSGE: return BPFVM_JSLT;
	case BPFVM_JSGT: return BPFVM_JSLE;
	case BPFVM_JSLE: return BPFVM_JSGT;
	case BPFVM_JSLT: return BPFVM_JSGE;
	default: return op;
	}
}

unsigned branch_swap(unsigned op)
{
	switch (op) {
	case BPFVM_JGE: return BPFVM_JLE;
	case BPFVM_JGT: return BPFVM_JLT;
	case BPFVM_JLE: return BPFVM_JGE;
	case BPFVM_JLT: return BPFVM_JGT;
	case BPFVM_JSGE: return BPFVM_JSLE;
	case BPFVM_JSGT: return BPFVM_JSLT;
	case BPFVM_JSLE: return BPFVM_JSGE;
	case BPFVM_JSLT: return BPFVM_JSGT;
	default: return op; /* symmetric */
	}
}

/* The compared width's view of a register. */
struct side {
	struct tnum t;
	struct ival b;
};

static struct side side_of(const struct vrange *r, bool jmp32, unsigned bits)
{
	if (jmp32)
		return (struct side){ tnum_trunc(r->var, bits / 2), r->b32 };
	return (struct side){ r->var, r->b64 };
}

static bool disjoint(const struct ival *x, const struct ival *y)
{
	return x->umin > y->umax || x->umax < y->umin || x->smin > y->smax || x->smax < y->smin;
}

static bool tnums_overlap(struct tnum a, struct tnum b)
{
	/* Some bit known in both, differently? */
	return !((a.value ^ b.value) & ~(a.mask | b.mask));
}

static int equal_taken(const struct vrange *a, const struct vrange *b, bool jmp32, unsigned bits)
{
	struct side x = side_of(a, jmp32, bits), y = side_of(b, jmp32, bits);

	if (tnum_is_const(x.t) && tnum_is_const(y.t))
		return x.t.value == y.t.value;
	if (!tnums_overlap(x.t, y.t) || disjoint(&x.b, &y.b))
		return 0;
	/* 64-bit equality also needs equal subregisters */
	if (!jmp32 && disjoint(&a->b32, &b->b32))
		return 0;
	return -1;
}

static int jset_taken(const struct vrange *a, const struct vrange *b, bool jmp32, unsigned bits)
{
	struct side x = side_of(a, jmp32, bits), y = side_of(b, jmp32, bits);

	if (!tnum_is_const(y.t)) {
		struct side t = x;
		x = y, y = t;
	}
	if (!tnum_is_const(y.t))
		return -1;
	if (x.t.value & y.t.value)
		return 1;
	if (!(tnum_umax(x.t) & y.t.value))
		return 0;
	return -1;
}

/* Order comparisons: decided when the intervals cannot interleave. */
static int order_taken(const struct ival *x, const struct ival *y, unsigned op)
{
	switch (op) {
	case BPFVM_JGT: return x->umin > y->umax ? 1 : x->umax <= y->umin ? 0 : -1;
	case BPFVM_JGE: return x->umin >= y->umax ? 1 : x->umax < y->umin ? 0 : -1;
	case BPFVM_JLT: return x->umax < y->umin ? 1 : x->umin >= y->umax ? 0 : -1;
	case BPFVM_JLE: return x->umax <= y->umin ? 1 : x->umin > y->umax ? 0 : -1;
	case BPFVM_JSGT: return x->smin > y->smax ? 1 : x->smax <= y->smin ? 0 : -1;
	case BPFVM_JSGE: return x->smin >= y->smax ? 1 : x->smax < y->smin ? 0 : -1;
	case BPFVM_JSLT: return x->smax < y->smin ? 1 : x->smin >= y->smax ? 0 : -1;
	case BPFVM_JSLE: return x->smax <= y->smin ? 1 : x->smin > y->smax ? 0 : -1;
	default: return -1;
	}
}

int branch_taken_w(const struct vrange *a, const struct vrange *b, unsigned op, bool jmp32,
		   unsigned bits)
{
	int r;

	switch (op) {
	case BPFVM_JEQ:
		return equal_taken(a, b, jmp32, bits);
	case BPFVM_JNE:
		r = equal_taken(a, b, jmp32, bits);
		return r < 0 ? r : !r;
	case BPFVM_JSET:
		return jset_taken(a, b, jmp32, bits);
	case BRANCH_JNSET:
		r = jset_taken(a, b, jmp32, bits);
		return r < 0 ? r : !r;
	default: {
		struct side x = side_of(a, jmp32, bits), y = side_of(b, jmp32, bits);
		return order_taken(&x.b, &y.b, op);
	}
	}
}

static uint64_t umax_of(uint64_t a, uint64_t b) { return a > b ? a : b; }
static uint64_t umin_of(uint64_t a, uint64_t b) { return a < b ? a : b; }
static int64_t smax_of(int64_t a, int64_t b) { return a > b ? a : b; }
static int64_t smin_of(int64_t a, int64_t b) { return a < b ? a : b; }

/* Put a (narrowed) low-half tnum back into a register's tnum. */
static void set_low(struct vrange *r, struct tnum low, unsigned half)
{
	uint64_t m = w_umax(half);

	r->var = TNUM((r->var.value & ~m) | low.value, (r->var.mask & ~m) | low.mask);
}

static void refine_equal(struct vrange *a, struct vrange *b, bool jmp32, unsigned bits)
{
	struct ival *x = jmp32 ? &a->b32 : &a->b64, *y = jmp32 ? &b->b32 : &b->b64;
	unsigned half = bits / 2;

	x->umin = umax_of(x->umin, y->umin);
	x->umax = umin_of(x->umax, y->umax);
	x->smin = smax_of(x->smin, y->smin);
	x->smax = smin_of(x->smax, y->smax);
	*y = *x;
	if (jmp32) {
		struct tnum t = tnum_intersect(tnum_trunc(a->var, half), tnum_trunc(b->var, half));
		set_low(a, t, half);
		set_low(b, t, half);
	} else {
		a->var = b->var = tnum_intersect(a->var, b->var);
	}
}

/* `a != c`, c constant: a bound equal to c moves past it. */
static void refine_not_equal(struct vrange *a, const struct vrange *c, bool jmp32, unsigned bits)
{
	struct ival *x = jmp32 ? &a->b32 : &a->b64;
	unsigned w = jmp32 ? bits / 2 : bits;
	uint64_t v = jmp32 ? w_zx(c->var.value, w) : c->var.value;

	if (x->umin == v)
		x->umin++;
	if (x->umax == v)
		x->umax--;
	if (x->smin == w_sx(v, w))
		x->smin++;
	if (x->smax == w_sx(v, w))
		x->smax--;
}

/* JSET true with a one-bit constant: that bit is set.  JNSET: c's bits are clear. */
static void refine_bits(struct vrange *a, const struct vrange *c, bool set, bool jmp32, unsigned bits)
{
	unsigned half = bits / 2;
	uint64_t v = jmp32 ? w_zx(c->var.value, half) : c->var.value;
	struct tnum t = jmp32 ? tnum_trunc(a->var, half) : a->var;

	if (set && (!v || (v & (v - 1))))
		return; /* several bits: any of them may be the one */
	if (!set) {
		/* the bounds may disagree with the narrowed tnum on a dead edge */
		struct tnum keep = a->var;
		*a = range_unknown_w(bits);
		a->var = keep;
	}
	t = set ? tnum_or(t, tnum_const(v)) : tnum_and(t, tnum_const(~v & w_umax(jmp32 ? half : bits)));
	if (jmp32)
		set_low(a, t, half);
	else
		a->var = t;
}

/* a <= b (or < when strict), unsigned or signed, in the compared width. */
static void refine_order(struct ival *x, struct ival *y, bool strict, bool sgn)
{
	/* (wrapping: the ends that would wrap are decided, never refined) */
	if (sgn) {
		x->smax = smin_of(x->smax, (int64_t)((uint64_t)y->smax - strict));
		y->smin = smax_of((int64_t)((uint64_t)x->smin + strict), y->smin);
	} else {
		x->umax = umin_of(x->umax, y->umax - strict);
		y->umin = umax_of(x->umin + strict, y->umin);
	}
}

bool branch_refine_w(struct vrange *a, struct vrange *b, unsigned op, bool jmp32, unsigned bits)
{
	switch (op) {
	case BPFVM_JGE: case BPFVM_JGT: case BPFVM_JSGE: case BPFVM_JSGT: {
		struct vrange *t = a;
		a = b, b = t;
		op = branch_swap(op);
		break;
	}
	default:
		break;
	}
	switch (op) {
	case BPFVM_JEQ:
		refine_equal(a, b, jmp32, bits);
		break;
	case BPFVM_JNE: case BPFVM_JSET: case BRANCH_JNSET: {
		const struct vrange *c = b;
		bool kc = jmp32 ? range_is_const32(b) : range_is_const(b);

		if (!kc) {
			kc = jmp32 ? range_is_const32(a) : range_is_const(a);
			c = a, a = b;
		}
		if (!kc)
			break;
		if (op == BPFVM_JNE)
			refine_not_equal(a, c, jmp32, bits);
		else
			refine_bits(a, c, op == BPFVM_JSET, jmp32, bits);
		break;
	}
	default: {
		struct ival *x = jmp32 ? &a->b32 : &a->b64, *y = jmp32 ? &b->b32 : &b->b64;
		refine_order(x, y, op == BPFVM_JLT || op == BPFVM_JSLT,
			     op == BPFVM_JSLT || op == BPFVM_JSLE);
		break;
	}
	}
	range_sync_w(a, bits);
	range_sync_w(b, bits);
	return range_valid_w(a, bits) && range_valid_w(b, bits);
}
