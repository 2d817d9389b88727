/*
 * scalar.c - the ranges of ALU results (see scalar.h).  For each operation
 * the bounds of one width (the whole register, or the subregister) are
 * computed by one function of that width; the tnum by tnum.c; range_sync
 * then lets each view sharpen the others.  The rules are the Linux 6.18
 * verifier's, so that bounds, and hence verdicts, agree with it:
 *
 * - add/sub: signed bounds are lost if either end may overflow; unsigned
 *   bounds survive when both ends wrap, or neither does;
 * - mul: unsigned bounds unless a product of ends overflows; signed bounds
 *   from the four products of ends unless one overflows;
 * - and/or/xor: bounds from the result's bits, and/or also from the
 *   operands' maxima/minima;
 * - shifts by a known amount below the width: shifted bounds where no bit
 *   can fall off, otherwise what the tnum tells;
 * - division and modulo: nothing.
 */
#include "scalar.h"

#include <bpfvm/isa.h>

#include "../isa/semantics.h"

static struct ival ival_full(unsigned w)
{
	return (struct ival){ 0, w_umax(w), w_smin(w), w_smax(w) };
}

static void u_unknown(struct ival *b, unsigned w)
{
	b->umin = 0;
	b->umax = w_umax(w);
}

static void s_unknown(struct ival *b, unsigned w)
{
	b->smin = w_smin(w);
	b->smax = w_smax(w);
}

/* a + b in w bits: the wrapped sum, and whether it wrapped. */
static bool u_add(uint64_t a, uint64_t b, unsigned w, uint64_t *r)
{
	uint64_t sum = a + b;
	bool carry = sum < a || sum > w_umax(w);

	*r = w_zx(sum, w);
	return carry;
}

static bool u_sub(uint64_t a, uint64_t b, unsigned w, uint64_t *r)
{
	*r = w_zx(a - b, w);
	return a < b;
}

static bool s_fits(int64_t v, unsigned w) { return v >= w_smin(w) && v <= w_smax(w); }

static bool s_add(int64_t a, int64_t b, unsigned w, int64_t *r)
{
	return __builtin_add_overflow(a, b, r) || !s_fits(*r, w);
}

static bool s_sub(int64_t a, int64_t b, unsigned w, int64_t *r)
{
	return __builtin_sub_overflow(a, b, r) || !s_fits(*r, w);
}

static bool s_mul(int64_t a, int64_t b, unsigned w, int64_t *r)
{
	return __builtin_mul_overflow(a, b, r) || !s_fits(*r, w);
}

static bool u_mul(uint64_t a, uint64_t b, unsigned w, uint64_t *r)
{
	return __builtin_mul_overflow(a, b, r) || *r > w_umax(w);
}

static void add_w(struct ival *d, const struct ival *s, unsigned w)
{
	int64_t lo, hi;
	uint64_t ulo, uhi;
	bool wrap_lo, wrap_hi;

	if (s_add(d->smin, s->smin, w, &lo) || s_add(d->smax, s->smax, w, &hi))
		s_unknown(d, w);
	else
		d->smin = lo, d->smax = hi;
	wrap_lo = u_add(d->umin, s->umin, w, &ulo);
	wrap_hi = u_add(d->umax, s->umax, w, &uhi);
	if (wrap_lo == wrap_hi)
		d->umin = ulo, d->umax = uhi;
	else
		u_unknown(d, w);
}

static void sub_w(struct ival *d, const struct ival *s, unsigned w)
{
	int64_t lo, hi;
	uint64_t ulo, uhi;
	bool wrap_lo, wrap_hi;

	if (s_sub(d->smin, s->smax, w, &lo) || s_sub(d->smax, s->smin, w, &hi))
		s_unknown(d, w);
	else
		d->smin = lo, d->smax = hi;
	wrap_lo = u_sub(d->umin, s->umax, w, &ulo);
	wrap_hi = u_sub(d->umax, s->umin, w, &uhi);
	if (wrap_lo == wrap_hi)
		d->umin = ulo, d->umax = uhi;
	else
		u_unknown(d, w);
}

static void mul_w(struct ival *d, const struct ival *s, unsigned w)
{
	int64_t p[4];
	uint64_t ulo, uhi;

	if (u_mul(d->umin, s->umin, w, &ulo) || u_mul(d->umax, s->umax, w, &uhi))
		u_unknown(d, w);
	else
		d->umin = ulo, d->umax = uhi;
	if (s_mul(d->smin, s->smin, w, &p[0]) || s_mul(d->smin, s->smax, w, &p[1]) ||
	    s_mul(d->smax, s->smin, w, &p[2]) || s_mul(d->smax, s->smax, w, &p[3])) {
		s_unknown(d, w);
		return;
	}
	d->smin = d->smax = p[0];
	for (int i = 1; i < 4; i++) {
		d->smin = p[i] < d->smin ? p[i] : d->smin;
		d->smax = p[i] > d->smax ? p[i] : d->smax;
	}
}

/* Signed bounds from unsigned ones when those stay on one side of the sign. */
static void s_from_u(struct ival *d, unsigned w)
{
	if (w_sx(d->umin, w) <= w_sx(d->umax, w)) {
		d->smin = w_sx(d->umin, w);
		d->smax = w_sx(d->umax, w);
	} else {
		s_unknown(d, w);
	}
}

/* t is the result's tnum, truncated to w bits. */
static void bitwise_w(struct ival *d, const struct ival *s, struct tnum t, unsigned op, unsigned w)
{
	if (tnum_is_const(t)) {
		*d = (struct ival){ t.value, t.value, w_sx(t.value, w), w_sx(t.value, w) };
		return;
	}
	switch (op) {
	case BPFVM_AND:
		/* the bits known 1 are a minimum; neither operand's maximum is exceeded */
		d->umin = t.value;
		d->umax = d->umax < s->umax ? d->umax : s->umax;
		break;
	case BPFVM_OR:
		d->umin = d->umin > s->umin ? d->umin : s->umin;
		d->umax = tnum_umax(t);
		break;
	default: /* XOR */
		d->umin = t.value;
		d->umax = tnum_umax(t);
		break;
	}
	s_from_u(d, w);
}

/* Subregister bounds of a left shift by n (a 64-bit shift passes n too). */
static void lsh_b32(struct ival *b, uint64_t n, unsigned half)
{
	s_unknown(b, half);
	if (n >= half || b->umax > 1ull << (half - 1 - n)) {
		u_unknown(b, half);
		return;
	}
	b->umin <<= n;
	b->umax <<= n;
}

static void lsh64(struct vrange *r, uint64_t n, unsigned bits)
{
	unsigned half = bits / 2;

	/* x << 32 of a subregister's signed bounds: the compiler's sign-extension idiom */
	if (n == half) {
		r->b64.smin = r->b32.smin * (int64_t)(1ull << half);
		r->b64.smax = r->b32.smax * (int64_t)(1ull << half);
	} else {
		s_unknown(&r->b64, bits);
	}
	if (r->b64.umax > 1ull << (bits - 1 - n)) {
		u_unknown(&r->b64, bits);
	} else {
		r->b64.umin <<= n;
		r->b64.umax <<= n;
	}
	lsh_b32(&r->b32, n, half);
	r->var = tnum_trunc(tnum_lshift(r->var, (unsigned)n), bits);
}

static void shift32(struct vrange *r, unsigned op, uint64_t n, unsigned bits)
{
	unsigned half = bits / 2;
	struct tnum low = tnum_trunc(r->var, half);

	switch (op) {
	case BPFVM_LSH:
		lsh_b32(&r->b32, n, half);
		r->var = tnum_trunc(tnum_lshift(low, (unsigned)n), half);
		break;
	case BPFVM_RSH:
		s_unknown(&r->b32, half);
		r->b32.umin >>= n;
		r->b32.umax >>= n;
		r->var = tnum_rshift(low, (unsigned)n);
		break;
	default: /* ARSH */
		r->b32.smin >>= n;
		r->b32.smax >>= n;
		u_unknown(&r->b32, half);
		r->var = tnum_arshift(low, (unsigned)n, half);
		break;
	}
	r->b64 = ival_full(bits);
}

static void shift64(struct vrange *r, unsigned op, uint64_t n, unsigned bits)
{
	switch (op) {
	case BPFVM_LSH:
		lsh64(r, n, bits);
		return;
	case BPFVM_RSH:
		s_unknown(&r->b64, bits);
		r->b64.umin >>= n;
		r->b64.umax >>= n;
		r->var = tnum_rshift(r->var, (unsigned)n);
		break;
	default: /* ARSH */
		r->b64.smin >>= n;
		r->b64.smax >>= n;
		u_unknown(&r->b64, bits);
		r->var = tnum_arshift(r->var, (unsigned)n, bits);
		break;
	}
	r->b32 = ival_full(bits / 2);
}

bool scalar_shift_known_w(const struct vrange *src, bool alu32, unsigned bits)
{
	unsigned width = alu32 ? bits / 2 : bits;
	bool known = alu32 ? range_is_const32(src) && src->b32.umin == src->b32.umax
			   : range_is_const(src) && src->b64.umin == src->b64.umax;

	/* the kernel tests the whole register's maximum even for a 32-bit shift */
	return known && src->b64.umax < width;
}

static void arith(struct vrange *d, const struct vrange *s, unsigned op, bool alu32, unsigned bits)
{
	void (*fn)(struct ival *, const struct ival *, unsigned) =
		op == BPFVM_ADD ? add_w : op == BPFVM_SUB ? sub_w : mul_w;

	fn(&d->b32, &s->b32, bits / 2);
	if (!alu32)
		fn(&d->b64, &s->b64, bits);
	d->var = op == BPFVM_ADD ? tnum_add(d->var, s->var)
	       : op == BPFVM_SUB ? tnum_sub(d->var, s->var) : tnum_mul(d->var, s->var);
	d->var = tnum_trunc(d->var, bits);
}

static void bitwise(struct vrange *d, const struct vrange *s, unsigned op, bool alu32, unsigned bits)
{
	d->var = op == BPFVM_AND ? tnum_and(d->var, s->var)
	       : op == BPFVM_OR ? tnum_or(d->var, s->var) : tnum_xor(d->var, s->var);
	bitwise_w(&d->b32, &s->b32, tnum_trunc(d->var, bits / 2), op, bits / 2);
	if (!alu32)
		bitwise_w(&d->b64, &s->b64, d->var, op, bits);
}

void scalar_alu_w(struct vrange *dst, const struct vrange *src, unsigned op, bool alu32,
		  unsigned bits)
{
	switch (isa_alu_kind(op)) {
	case ISA_ALU_ARITH:
		arith(dst, src, op, alu32, bits);
		break;
	case ISA_ALU_BITWISE:
		bitwise(dst, src, op, alu32, bits);
		break;
	case ISA_ALU_SHIFT:
		if (!scalar_shift_known_w(src, alu32, bits)) {
			*dst = range_unknown_w(bits);
			return;
		}
		if (alu32)
			shift32(dst, op, src->b64.umin, bits);
		else
			shift64(dst, op, src->b64.umin, bits);
		break;
	default: /* division, modulo (and moves, which callers do themselves): unknown */
		*dst = range_unknown_w(bits);
		return;
	}
	if (alu32)
		range_zext_w(dst, bits);
	range_sync_w(dst, bits);
}

void scalar_neg_w(struct vrange *dst, bool alu32, unsigned bits)
{
	struct vrange zero = range_const_w(0, bits);

	scalar_alu_w(&zero, dst, BPFVM_SUB, alu32, bits);
	*dst = zero;
}

static uint64_t bswap_bits(uint64_t v, unsigned width)
{
	switch (width) {
	case 16: return __builtin_bswap16((uint16_t)v);
	case 32: return __builtin_bswap32((uint32_t)v);
	default: return __builtin_bswap64(v);
	}
}

void scalar_bswap_w(struct vrange *dst, unsigned width, bool swap, unsigned bits)
{
	struct tnum t;

	if (!swap) {
		range_trunc_w(dst, width, bits);
		return;
	}
	t = tnum_trunc(dst->var, width);
	*dst = range_unknown_w(bits);
	dst->var = tnum_trunc(TNUM(bswap_bits(t.value, width), bswap_bits(t.mask, width)), bits);
	range_sync_w(dst, bits);
}
