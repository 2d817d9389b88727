/*
 * range.c - the scalar domain's five views and how they inform each other
 * (see range.h).  Every deduction here is the Linux verifier's, so that a
 * program gets the same bounds here as there; each is written once for a
 * width, and used for the whole register and for the subregister alike.
 */
#include "range.h"

static uint64_t umax_of(uint64_t a, uint64_t b) { return a > b ? a : b; }
static uint64_t umin_of(uint64_t a, uint64_t b) { return a < b ? a : b; }
static int64_t smax_of(int64_t a, int64_t b) { return a > b ? a : b; }
static int64_t smin_of(int64_t a, int64_t b) { return a < b ? a : b; }

/* Narrow b to values also in [lo, hi], unsigned / signed. */
static void meet_u(struct ival *b, uint64_t lo, uint64_t hi)
{
	b->umin = umax_of(b->umin, lo);
	b->umax = umin_of(b->umax, hi);
}

static void meet_s(struct ival *b, int64_t lo, int64_t hi)
{
	b->smin = smax_of(b->smin, lo);
	b->smax = smin_of(b->smax, hi);
}

static struct ival ival_unknown(unsigned bits)
{
	return (struct ival){ 0, w_umax(bits), w_smin(bits), w_smax(bits) };
}

static struct ival ival_const(uint64_t v, unsigned bits)
{
	return (struct ival){ w_zx(v, bits), w_zx(v, bits), w_sx(v, bits), w_sx(v, bits) };
}

struct vrange range_unknown_w(unsigned bits)
{
	return (struct vrange){ tnum_trunc(TNUM_UNKNOWN, bits), ival_unknown(bits),
				ival_unknown(bits / 2) };
}

struct vrange range_const_w(uint64_t v, unsigned bits)
{
	return (struct vrange){ tnum_const(w_zx(v, bits)), ival_const(v, bits),
				ival_const(v, bits / 2) };
}

struct vrange range_from_u_w(uint64_t umin, uint64_t umax, unsigned bits)
{
	struct vrange r = range_unknown_w(bits);

	meet_u(&r.b64, umin, umax);
	range_sync_w(&r, bits);
	return r;
}

struct vrange range_from_s_w(int64_t smin, int64_t smax, unsigned bits)
{
	struct vrange r = range_unknown_w(bits);

	meet_s(&r.b64, smin, smax);
	range_sync_w(&r, bits);
	return r;
}

/* The extreme members of t, a tnum of `bits` bits, bound both readings. */
static void ival_from_tnum(struct ival *b, struct tnum t, unsigned bits)
{
	uint64_t sign = 1ull << (bits - 1);

	/* The least signed member has the sign bit set if it can be, and the
	 * other unknown bits clear; the greatest, the other way round. */
	meet_s(b, w_sx(t.value | (t.mask & sign), bits), w_sx(t.value | (t.mask & ~sign), bits));
	meet_u(b, t.value, t.value | t.mask);
}

/*
 * Within one width: an unsigned interval that does not cross the sign
 * boundary is also a signed one, and a signed interval that does not cross
 * zero is also an unsigned one.  A signed interval that does (negative to
 * positive) wraps in unsigned order; if the unsigned interval meets only
 * one of its two ends, that end is the whole answer.
 */
static void ival_cross(struct ival *b, unsigned bits)
{
	uint64_t zsmin = w_zx((uint64_t)b->smin, bits), zsmax = w_zx((uint64_t)b->smax, bits);

	if (w_sx(b->umin, bits) <= w_sx(b->umax, bits))
		meet_s(b, w_sx(b->umin, bits), w_sx(b->umax, bits));
	if (zsmin <= zsmax) {
		meet_u(b, zsmin, zsmax);
	} else if (b->umax < zsmin) {
		/* only the non-negative end [0, smax] */
		b->smin = (int64_t)b->umin;
		b->umax = umin_of(b->umax, zsmax);
	} else if (zsmax < b->umin) {
		/* only the negative end [smin, -1] */
		b->smax = w_sx(b->umax, bits);
		b->umin = umax_of(b->umin, zsmin);
	}
}

/* If lo and hi differ only in their low halves, those halves bound the half. */
static void half_from_interval(struct ival *h, uint64_t lo, uint64_t hi, unsigned half, bool sgn)
{
	if (sgn ? ((int64_t)lo >> half) != ((int64_t)hi >> half) : (lo >> half) != (hi >> half))
		return;
	if (w_zx(lo, half) <= w_zx(hi, half))
		meet_u(h, w_zx(lo, half), w_zx(hi, half));
	if (w_sx(lo, half) <= w_sx(hi, half))
		meet_s(h, w_sx(lo, half), w_sx(hi, half));
}

/*
 * If lo's and hi's high halves are consecutive (hi's one more, wrapping)
 * and the low halves go from negative to non-negative, the low halves form
 * a signed interval: e.g. the whole-register range [-1, 1].
 */
static void half_from_straddle(struct ival *h, uint64_t lo, uint64_t hi, unsigned half)
{
	if (w_zx(w_zx(lo >> half, half) + 1, half) == w_zx(hi >> half, half) &&
	    w_sx(lo, half) < 0 && w_sx(hi, half) >= 0)
		meet_s(h, w_sx(lo, half), w_sx(hi, half));
}

static void half_from_whole(struct vrange *r, unsigned bits)
{
	unsigned half = bits / 2;

	half_from_interval(&r->b32, r->b64.umin, r->b64.umax, half, false);
	half_from_interval(&r->b32, (uint64_t)r->b64.smin, (uint64_t)r->b64.smax, half, true);
	half_from_straddle(&r->b32, r->b64.umin, r->b64.umax, half);
	half_from_straddle(&r->b32, (uint64_t)r->b64.smin, (uint64_t)r->b64.smax, half);
	ival_cross(&r->b32, half);
}

/*
 * The subregister's interval narrows the whole register's bounds: keep
 * each bound's high half and put the subregister's bound in its low half.
 */
static void whole_from_half_interval(struct vrange *r, uint64_t lo, uint64_t hi, unsigned half)
{
	uint64_t low = w_umax(half);

	meet_u(&r->b64, (r->b64.umin & ~low) | lo, (r->b64.umax & ~low) | hi);
	meet_s(&r->b64, (int64_t)(((uint64_t)r->b64.smin & ~low) | lo),
	       (int64_t)(((uint64_t)r->b64.smax & ~low) | hi));
}

static void whole_from_half(struct vrange *r, unsigned bits)
{
	unsigned half = bits / 2;
	uint64_t zsmin = w_zx((uint64_t)r->b32.smin, half), zsmax = w_zx((uint64_t)r->b32.smax, half);

	whole_from_half_interval(r, r->b32.umin, r->b32.umax, half);
	if (zsmin <= zsmax)
		whole_from_half_interval(r, zsmin, zsmax, half);
	/*
	 * A whole register within the half's signed range whose low half is
	 * non-negative cannot be negative (its high half cannot be all ones),
	 * so it equals its low half: the pattern a sign-extending load leaves.
	 * (The kernel assigns the half's bounds here; meeting them keeps what
	 * the whole register's bounds knew besides.)
	 */
	if (r->b32.smin >= 0 && r->b64.smin >= w_smin(half) && r->b64.smax <= w_smax(half)) {
		meet_s(&r->b64, r->b32.smin, r->b32.smax);
		meet_u(&r->b64, (uint64_t)r->b64.smin, (uint64_t)r->b64.smax);
		r->b64.smin = (int64_t)r->b64.umin;
		r->b64.smax = (int64_t)r->b64.umax;
		r->var = tnum_intersect(r->var, tnum_range(r->b64.umin, r->b64.umax));
	}
}

static void ivals_from_tnum(struct vrange *r, unsigned bits)
{
	ival_from_tnum(&r->b32, tnum_trunc(r->var, bits / 2), bits / 2);
	ival_from_tnum(&r->b64, r->var, bits);
}

static void tnum_from_ivals(struct vrange *r, unsigned bits)
{
	unsigned half = bits / 2;
	struct tnum whole = tnum_intersect(r->var, tnum_range(r->b64.umin, r->b64.umax));
	struct tnum low = tnum_intersect(tnum_trunc(whole, half),
					 tnum_range(r->b32.umin, r->b32.umax));
	uint64_t lowmask = w_umax(half);

	r->var = TNUM((whole.value & ~lowmask) | low.value, (whole.mask & ~lowmask) | low.mask);
}

void range_sync_w(struct vrange *r, unsigned bits)
{
	ivals_from_tnum(r, bits);
	/* Three rounds: a deduction in one view can enable one in another. */
	for (int round = 0; round < 3; round++) {
		half_from_whole(r, bits);
		ival_cross(&r->b64, bits);
		whole_from_half(r, bits);
	}
	tnum_from_ivals(r, bits);
	ivals_from_tnum(r, bits);
}

bool range_valid_w(const struct vrange *r, unsigned bits)
{
	(void)bits;
	return r->b64.umin <= r->b64.umax && r->b64.smin <= r->b64.smax &&
	       r->b32.umin <= r->b32.umax && r->b32.smin <= r->b32.smax &&
	       !(r->var.value & r->var.mask);
}

bool range_contains_w(const struct vrange *r, uint64_t v, unsigned bits)
{
	unsigned half = bits / 2;
	int64_t s = w_sx(v, bits), s32 = w_sx(v, half);
	uint64_t u32 = w_zx(v, half);

	v = w_zx(v, bits);
	return tnum_contains(r->var, v) && v >= r->b64.umin && v <= r->b64.umax &&
	       s >= r->b64.smin && s <= r->b64.smax && u32 >= r->b32.umin && u32 <= r->b32.umax &&
	       s32 >= r->b32.smin && s32 <= r->b32.smax;
}

void range_zext_w(struct vrange *r, unsigned bits)
{
	unsigned half = bits / 2;

	r->var = tnum_trunc(r->var, half);
	r->b64.umin = r->b32.umin;
	r->b64.umax = r->b32.umax;
	if (r->b32.smin >= 0) {
		r->b64.smin = r->b32.smin;
		r->b64.smax = r->b32.smax;
	} else {
		r->b64.smin = 0;
		r->b64.smax = (int64_t)w_umax(half);
	}
}

void range_forget_b64_w(struct vrange *r, unsigned bits)
{
	r->b64 = ival_unknown(bits);
}

void range_forget_b32_w(struct vrange *r, unsigned bits)
{
	r->b32 = ival_unknown(bits / 2);
}

void range_trunc_w(struct vrange *r, unsigned size, unsigned bits)
{
	uint64_t keep = w_umax(size);

	if (size >= bits)
		return;
	r->var = tnum_trunc(r->var, size);
	if ((r->b64.umin & ~keep) == (r->b64.umax & ~keep)) {
		r->b64.umin &= keep;
		r->b64.umax &= keep;
	} else {
		r->b64.umin = 0;
		r->b64.umax = keep;
	}
	r->b64.smin = (int64_t)r->b64.umin;
	r->b64.smax = (int64_t)r->b64.umax;
	if (size < bits / 2)
		r->b32 = ival_unknown(bits / 2);
	range_sync_w(r, bits);
}

/*
 * The signed interval of the low `size` bits of a value in [smin, smax], if
 * the value's bits above them are the same throughout and the sign of the
 * low part does not change; else the whole signed range of the size.
 */
static void sext_bounds(int64_t smin, int64_t smax, unsigned size, int64_t *lo, int64_t *hi)
{
	int64_t a = w_sx((uint64_t)smin, size), b = w_sx((uint64_t)smax, size);

	if (size < 64 && ((uint64_t)smin >> size) == ((uint64_t)smax >> size) &&
	    (a >= 0) == (b >= 0)) {
		*lo = smin_of(a, b);
		*hi = smax_of(a, b);
		return;
	}
	*lo = w_smin(size);
	*hi = w_smax(size);
}

void range_sext_w(struct vrange *r, unsigned size, unsigned bits)
{
	int64_t lo, hi;

	if (size >= bits)
		return;
	sext_bounds(r->b64.smin, r->b64.smax, size, &lo, &hi);
	r->var = tnum_trunc(tnum_sext(tnum_trunc(r->var, size), size), bits);
	r->b64 = ival_unknown(bits);
	r->b32 = ival_unknown(bits / 2);
	meet_s(&r->b64, lo, hi);
	range_sync_w(r, bits);
}

void range_sext32_w(struct vrange *r, unsigned size, unsigned bits)
{
	unsigned half = bits / 2;
	int64_t lo, hi;

	if (size >= half)
		return;
	sext_bounds(r->b32.smin, r->b32.smax, size, &lo, &hi);
	r->var = tnum_trunc(tnum_sext(tnum_trunc(r->var, size), size), half);
	r->b32 = ival_unknown(half);
	meet_s(&r->b32, lo, hi);
	ival_from_tnum(&r->b32, r->var, half);
	ival_cross(&r->b32, half);
	range_zext_w(r, bits);
	range_sync_w(r, bits);
}

static bool ival_within(const struct ival *old, const struct ival *cur)
{
	return old->umin <= cur->umin && cur->umax <= old->umax && old->smin <= cur->smin &&
	       cur->smax <= old->smax;
}

bool range_within(const struct vrange *old, const struct vrange *cur)
{
	return ival_within(&old->b64, &cur->b64) && ival_within(&old->b32, &cur->b32) &&
	       tnum_in(old->var, cur->var);
}

static struct ival ival_join(const struct ival *a, const struct ival *b)
{
	return (struct ival){ umin_of(a->umin, b->umin), umax_of(a->umax, b->umax),
			      smin_of(a->smin, b->smin), smax_of(a->smax, b->smax) };
}

struct vrange range_join_w(const struct vrange *a, const struct vrange *b, unsigned bits)
{
	struct vrange r = { tnum_union(a->var, b->var), ival_join(&a->b64, &b->b64),
			    ival_join(&a->b32, &b->b32) };

	range_sync_w(&r, bits);
	return r;
}
