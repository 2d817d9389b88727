/*
 * jit_x86_64_divmod.c - division and modulo for the x86-64 back-end: BPF's
 * results by zero and by -1 (no trap, unlike div and idiv), and division
 * by a constant as a multiplication by its magic number (jit.c finds it).
 */
#include "jit.h"

#if VM_JIT_HAVE_ARCH

#include "jit_x86_64_emit.h"

/* By zero: a quotient of 0, a remainder of the dividend (zero-extended, 32-bit). */
static void by_zero(struct jit_ctx *c, bool w, bool mod, int dst)
{
	if (!mod)
		zero(c, dst);
	else if (!w)
		mov_rr(c, false, dst, dst);
}

/* Signed, by -1: the negation (INT_MIN stays INT_MIN), and a remainder of 0. */
static void by_minus_one(struct jit_ctx *c, bool w, bool mod, int dst)
{
	if (!mod)
		op_rr(c, w ? X_W : 0, 0xf7, 3, dst);
	else
		zero(c, dst);
}

/* div/idiv need rax and rdx (r0, r3): keep them in r9 and r10 unless they are dst. */
static void save_rax_rdx(struct jit_ctx *c, int dst)
{
	if (dst != RAX)
		mov_rr(c, true, R9, RAX);
	if (dst != RDX)
		mov_rr(c, true, R10, RDX);
}

static void restore_rax_rdx(struct jit_ctx *c, int dst, int res)
{
	mov_rr(c, true, dst, res);
	if (dst != RAX)
		mov_rr(c, true, RAX, R9);
	if (dst != RDX)
		mov_rr(c, true, RDX, R10);
}

/* dst = dst / r11 or dst % r11, r11 neither 0 nor (signed) -1. */
static void hw_divide(struct jit_ctx *c, bool w, bool sign, bool mod, int dst)
{
	save_rax_rdx(c, dst);
	mov_rr(c, true, RAX, dst);
	if (sign) {
		if (w)
			b1(c, 0x48);
		b1(c, 0x99); /* cqo / cdq */
	} else {
		zero(c, RDX);
	}
	op_rr(c, w ? X_W : 0, 0xf7, sign ? 7 : 6, R11); /* 32-bit: results zero-extended */
	restore_rax_rdx(c, dst, mod ? RDX : RAX);
}

void jit_x86_divmod_x(struct jit_ctx *c, bool w, bool sign, bool mod, int dst, int src)
{
	size_t nonzero, done, general = 0, done2 = 0;

	mov_rr(c, w, R11, src);
	op_rr(c, w ? X_W : 0, 0x85, R11, R11);
	nonzero = jcc8(c, CC_NE);
	by_zero(c, w, mod, dst);
	done = jcc8(c, CC_JMP);
	land8(c, nonzero);
	if (sign) { /* idiv traps on INT_MIN / -1; the kernel's answer needs no division */
		alu_ri(c, w, G1_CMP, R11, -1);
		general = jcc8(c, CC_NE);
		by_minus_one(c, w, mod, dst);
		done2 = jcc8(c, CC_JMP);
		land8(c, general);
	}
	hw_divide(c, w, sign, mod, dst);
	land8(c, done);
	if (sign)
		land8(c, done2);
}

/* Unsigned, d >= 2^(bits-1): the quotient is 0 or 1. */
static void udivmod_big(struct jit_ctx *c, bool w, bool mod, int dst, uint64_t d)
{
	if (!mod) {
		alu_ri(c, w, G1_CMP, dst, (int32_t)(uint32_t)d);
		op_rr(c, 0, 0x0f93, 0, R11);   /* setae r11b */
		op_rr(c, 0, 0x0fb6, dst, R11); /* movzx dst32, r11b */
		return;
	}
	mov_rr(c, w, R11, dst);
	alu_ri(c, w, G1_SUB, R11, (int32_t)(uint32_t)d);
	if (!w)
		mov_rr(c, false, dst, dst);
	op_rr(c, w ? X_W : 0, 0x0f43, dst, R11); /* cmovae: no borrow, x >= d */
}

static void udivmod_magic32(struct jit_ctx *c, bool mod, int dst, uint32_t d,
			    const struct jit_udiv_magic *mg)
{
	mov_rr(c, false, R11, dst); /* x, zero-extended: the product fits 64 bits */
	if (!mg->add && mg->m <= INT32_MAX) {
		op_rr(c, X_W, 0x69, R10, R11);
		b4(c, (uint32_t)mg->m);
	} else {
		mov_imm(c, false, R10, mg->m);
		op_rr(c, X_W, 0x0faf, R10, R11);
	}
	if (!mg->add) {
		shift_ri(c, true, SH_SHR, R10, 32 + mg->shift);
	} else { /* (x * (2^32 + m)) >> (32 + l), without the 65-bit product */
		shift_ri(c, true, SH_SHR, R10, 32);
		alu_rr(c, true, G1_ADD, R10, R11);
		shift_ri(c, true, SH_SHR, R10, mg->shift + 1);
	}
	if (!mod) {
		mov_rr(c, false, dst, R10);
		return;
	}
	op_rr(c, 0, 0x69, R10, R10);
	b4(c, d);
	alu_rr(c, false, G1_SUB, R11, R10);
	mov_rr(c, false, dst, R11);
}

static void udivmod_magic64(struct jit_ctx *c, bool mod, int dst, uint64_t d,
			    const struct jit_udiv_magic *mg)
{
	int res = RDX;

	mov_rr(c, true, R11, dst);
	save_rax_rdx(c, dst);
	mov_imm(c, true, RAX, mg->m);
	op_rr(c, X_W, 0xf7, 4, R11); /* mul: rdx = mulhi(x, m) */
	if (mg->add) {
		mov_rr(c, true, RAX, R11);
		alu_rr(c, true, G1_SUB, RAX, RDX);
		shift_ri(c, true, SH_SHR, RAX, 1);
		alu_rr(c, true, G1_ADD, RDX, RAX);
	}
	if (mg->shift)
		shift_ri(c, true, SH_SHR, RDX, mg->shift);
	if (mod) { /* d came from a positive imm32 */
		op_rr(c, X_W, 0x69, RDX, RDX);
		b4(c, (uint32_t)d);
		alu_rr(c, true, G1_SUB, R11, RDX);
		res = R11;
	}
	restore_rax_rdx(c, dst, res);
}

static void udivmod_k(struct jit_ctx *c, bool w, bool mod, int dst, uint64_t d)
{
	unsigned bits = w ? 64 : 32;
	struct jit_udiv_magic mg;

	if (d == 1) {
		if (mod)
			zero(c, dst);
		else if (!w)
			mov_rr(c, false, dst, dst);
	} else if (!(d & (d - 1))) {
		if (mod)
			alu_ri(c, w, G1_AND, dst, (int32_t)(uint32_t)(d - 1));
		else
			shift_ri(c, w, SH_SHR, dst, (unsigned)__builtin_ctzll(d));
	} else if (d >> (bits - 1)) {
		udivmod_big(c, w, mod, dst, d);
	} else {
		jit_udiv_magic(d, bits, &mg);
		if (w)
			udivmod_magic64(c, mod, dst, d, &mg);
		else
			udivmod_magic32(c, mod, dst, (uint32_t)d, &mg);
	}
}

/* Signed by +-2^k: round toward zero by adding 2^k - 1 to a negative dividend. */
static void sdivmod_pow2(struct jit_ctx *c, bool w, bool mod, int dst, int64_t d, unsigned k)
{
	unsigned bits = w ? 64 : 32;

	mov_rr(c, w, R11, dst);
	shift_ri(c, w, SH_SAR, R11, bits - 1);
	shift_ri(c, w, SH_SHR, R11, bits - k);
	alu_rr(c, w, G1_ADD, R11, dst);
	if (mod) {
		alu_ri(c, w, G1_AND, R11, (int32_t)(uint32_t)-(1ull << k));
		alu_rr(c, w, G1_SUB, dst, R11);
		return;
	}
	shift_ri(c, w, SH_SAR, R11, k);
	if (d < 0)
		op_rr(c, w ? X_W : 0, 0xf7, 3, R11);
	mov_rr(c, w, dst, R11);
}

static void sdivmod_magic32(struct jit_ctx *c, bool mod, int dst, int32_t d,
			    const struct jit_sdiv_magic *mg)
{
	op_rr(c, X_W, 0x63, R11, dst); /* movsxd: the 64-bit product is exact */
	op_rr(c, X_W, 0x69, R10, R11);
	b4(c, (uint32_t)(int32_t)mg->m);
	shift_ri(c, true, SH_SAR, R10, 32);
	if (d > 0 && mg->m < 0)
		alu_rr(c, false, G1_ADD, R10, R11);
	if (d < 0 && mg->m > 0)
		alu_rr(c, false, G1_SUB, R10, R11);
	if (mg->shift)
		shift_ri(c, false, SH_SAR, R10, mg->shift);
	mov_rr(c, false, R9, R10);
	shift_ri(c, false, SH_SHR, R9, 31);
	alu_rr(c, false, G1_ADD, R10, R9);
	if (!mod) {
		mov_rr(c, false, dst, R10);
		return;
	}
	op_rr(c, 0, 0x69, R10, R10);
	b4(c, (uint32_t)d);
	alu_rr(c, false, G1_SUB, R11, R10);
	mov_rr(c, false, dst, R11);
}

static void sdivmod_magic64(struct jit_ctx *c, bool mod, int dst, int64_t d,
			    const struct jit_sdiv_magic *mg)
{
	int res = RDX;

	mov_rr(c, true, R11, dst);
	save_rax_rdx(c, dst);
	mov_imm(c, true, RAX, (uint64_t)mg->m);
	op_rr(c, X_W, 0xf7, 5, R11); /* imul: rdx = mulhs(x, m) */
	if (d > 0 && mg->m < 0)
		alu_rr(c, true, G1_ADD, RDX, R11);
	if (d < 0 && mg->m > 0)
		alu_rr(c, true, G1_SUB, RDX, R11);
	if (mg->shift)
		shift_ri(c, true, SH_SAR, RDX, mg->shift);
	mov_rr(c, true, RAX, RDX);
	shift_ri(c, true, SH_SHR, RAX, 63);
	alu_rr(c, true, G1_ADD, RDX, RAX);
	if (mod) {
		op_rr(c, X_W, 0x69, RDX, RDX);
		b4(c, (uint32_t)(int32_t)d);
		alu_rr(c, true, G1_SUB, R11, RDX);
		res = R11;
	}
	restore_rax_rdx(c, dst, res);
}

static void sdivmod_k(struct jit_ctx *c, bool w, bool mod, int dst, int64_t d)
{
	uint64_t ad = d < 0 ? -(uint64_t)d : (uint64_t)d;
	struct jit_sdiv_magic mg;

	if (ad == 1) { /* d == 1; -1 is by_minus_one's */
		if (mod)
			zero(c, dst);
		else if (!w)
			mov_rr(c, false, dst, dst);
	} else if (!(ad & (ad - 1))) {
		sdivmod_pow2(c, w, mod, dst, d, (unsigned)__builtin_ctzll(ad));
	} else {
		jit_sdiv_magic(d, w ? 64 : 32, &mg);
		if (w)
			sdivmod_magic64(c, mod, dst, d, &mg);
		else
			sdivmod_magic32(c, mod, dst, (int32_t)d, &mg);
	}
}

/* By a constant: never a division instruction. */
void jit_x86_divmod_k(struct jit_ctx *c, bool w, bool sign, bool mod, int dst, int32_t imm)
{
	if (imm == 0)
		by_zero(c, w, mod, dst);
	else if (sign && imm == -1)
		by_minus_one(c, w, mod, dst);
	else if (sign)
		sdivmod_k(c, w, mod, dst, imm);
	else
		udivmod_k(c, w, mod, dst, w ? (uint64_t)(int64_t)imm : (uint32_t)imm);
}

#endif /* VM_JIT_HAVE_ARCH */
