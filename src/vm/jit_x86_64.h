/*
 * jit_x86_64.h - the x86-64 encoder the back-end (jit_x86_64.c) writes
 * with: registers, prefixes, ModRM and SIB operands, immediates in their
 * shortest forms, jumps to labels (short when they surely reach), and
 * calls into C.  Only the back-end includes it.
 */
#ifndef BPFVM_VM_JIT_X86_64_H
#define BPFVM_VM_JIT_X86_64_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "jit.h"

enum { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15 };

#define RUN R12
#define AUX 11 /* the BPF-side number of the blinding register (r11) */
#define NO_REG 0xff

static const uint8_t regmap[12] = {
	RAX, RDI, RSI, RDX, RCX, R8, RBX, R13, R14, R15, RBP, R11,
};

/* Prefixes and operand size of one instruction. */
enum {
	X_W = 1,     /* REX.W: 64-bit operands */
	X_66 = 2,    /* 16-bit operands */
	X_LOCK = 4,
	X_BREG = 8,  /* the reg operand is a byte register (sil, dil, bpl need a REX) */
	X_BRM = 16,  /* the r/m operand is a byte register */
};

/* Condition codes: the low nibble of jcc, setcc and cmovcc. */
enum { CC_B = 2, CC_AE = 3, CC_E = 4, CC_NE = 5, CC_BE = 6, CC_A = 7, CC_S = 8,
       CC_L = 0xc, CC_GE = 0xd, CC_LE = 0xe, CC_G = 0xf, CC_JMP = -1 };

/* Group-1 operations: the /digit of 0x81 and 0x83. */
enum { G1_ADD = 0, G1_OR = 1, G1_AND = 4, G1_SUB = 5, G1_XOR = 6, G1_CMP = 7 };
static const uint8_t g1_rr[8] = {
	[G1_ADD] = 0x01, [G1_OR] = 0x09, [G1_AND] = 0x21, [G1_SUB] = 0x29,
	[G1_XOR] = 0x31, [G1_CMP] = 0x39,
};
/* Shifts and rotates: the /digit of 0xc1, 0xd1 and 0xd3. */
enum { SH_ROL = 0, SH_ROR = 1, SH_SHL = 4, SH_SHR = 5, SH_SAR = 7 };

#define RUN_OFF(FIELD) ((int32_t)offsetof(struct bpfvm_run_ctx, FIELD))

/* ---- encoding ---------------------------------------------------------------- */

static inline void b1(struct jit_ctx *c, uint8_t v)
{
	c->buf[c->len++] = v;
}

static inline void b2(struct jit_ctx *c, uint16_t v)
{
	memcpy(c->buf + c->len, &v, 2);
	c->len += 2;
}

static inline void b4(struct jit_ctx *c, uint32_t v)
{
	memcpy(c->buf + c->len, &v, 4);
	c->len += 4;
}

static inline void b8(struct jit_ctx *c, uint64_t v)
{
	memcpy(c->buf + c->len, &v, 8);
	c->len += 8;
}

static inline bool byte_needs_rex(int r)
{
	return r >= RSP && r <= RDI;
}

static inline void prefixes(struct jit_ctx *c, unsigned fl, int reg, int rm)
{
	uint8_t rex = (uint8_t)(0x40 | (fl & X_W ? 8 : 0) | (reg & 8 ? 4 : 0) | (rm & 8 ? 1 : 0));

	if (fl & X_LOCK)
		b1(c, 0xf0);
	if (fl & X_66)
		b1(c, 0x66);
	if (rex != 0x40 || ((fl & X_BREG) && byte_needs_rex(reg)) ||
	    ((fl & X_BRM) && byte_needs_rex(rm)))
		b1(c, rex);
}

static inline void opcode(struct jit_ctx *c, uint32_t opc)
{
	if (opc > 0xffff)
		b1(c, (uint8_t)(opc >> 16));
	if (opc > 0xff)
		b1(c, (uint8_t)(opc >> 8));
	b1(c, (uint8_t)opc);
}

/* opc reg, rm: two registers. */
static inline void op_rr(struct jit_ctx *c, unsigned fl, uint32_t opc, int reg, int rm)
{
	prefixes(c, fl, reg, rm);
	opcode(c, opc);
	b1(c, (uint8_t)(0xc0 | (reg & 7) << 3 | (rm & 7)));
}

/* opc reg, [base + disp]. */
static inline void op_rm(struct jit_ctx *c, unsigned fl, uint32_t opc, int reg, int base, int32_t disp)
{
	uint8_t modrm = (uint8_t)((reg & 7) << 3 | (base & 7));
	/* rbp and r13 as a base have no form without a displacement */
	bool need_disp = disp != 0 || (base & 7) == RBP;
	bool short_disp = disp == (int8_t)disp;

	prefixes(c, fl, reg, base);
	opcode(c, opc);
	b1(c, (uint8_t)(modrm | (!need_disp ? 0x00 : short_disp ? 0x40 : 0x80)));
	if ((base & 7) == RSP) /* rsp and r12 as a base need a SIB byte */
		b1(c, 0x24);
	if (need_disp && short_disp)
		b1(c, (uint8_t)disp);
	else if (need_disp)
		b4(c, (uint32_t)disp);
}

static inline void push(struct jit_ctx *c, int r)
{
	if (r & 8)
		b1(c, 0x41);
	b1(c, (uint8_t)(0x50 + (r & 7)));
}

static inline void pop(struct jit_ctx *c, int r)
{
	if (r & 8)
		b1(c, 0x41);
	b1(c, (uint8_t)(0x58 + (r & 7)));
}

/* dst = src; the 32-bit form zero-extends, so it is never skipped. */
static inline void mov_rr(struct jit_ctx *c, bool w, int dst, int src)
{
	if (w && dst == src)
		return;
	op_rr(c, w ? X_W : 0, 0x89, src, dst);
}

static inline void zero(struct jit_ctx *c, int r)
{
	op_rr(c, 0, 0x31, r, r); /* xor r32, r32 */
}

/* dst = v in the shortest encoding (32-bit: the low half, zero-extended). */
static inline void mov_imm(struct jit_ctx *c, bool w, int dst, uint64_t v)
{
	if (!w)
		v = (uint32_t)v;
	if (v == 0) {
		zero(c, dst);
	} else if (v <= UINT32_MAX) {
		prefixes(c, 0, 0, dst);
		b1(c, (uint8_t)(0xb8 + (dst & 7)));
		b4(c, (uint32_t)v);
	} else if ((int64_t)v == (int32_t)v) {
		op_rr(c, X_W, 0xc7, 0, dst);
		b4(c, (uint32_t)v);
	} else {
		prefixes(c, X_W, 0, dst);
		b1(c, (uint8_t)(0xb8 + (dst & 7)));
		b8(c, v);
	}
}

static inline void alu_ri(struct jit_ctx *c, bool w, int g1, int dst, int32_t imm)
{
	if (imm == (int8_t)imm) {
		op_rr(c, w ? X_W : 0, 0x83, g1, dst);
		b1(c, (uint8_t)imm);
	} else {
		op_rr(c, w ? X_W : 0, 0x81, g1, dst);
		b4(c, (uint32_t)imm);
	}
}

static inline void alu_rr(struct jit_ctx *c, bool w, int g1, int dst, int src)
{
	op_rr(c, w ? X_W : 0, g1_rr[g1], src, dst);
}

static inline void shift_ri(struct jit_ctx *c, bool w, int sh, int dst, unsigned n)
{
	if (n == 1) {
		op_rr(c, w ? X_W : 0, 0xd1, sh, dst);
	} else {
		op_rr(c, w ? X_W : 0, 0xc1, sh, dst);
		b1(c, (uint8_t)n);
	}
}

/* A jump within one instruction's code: returns where to land8() it. */
static inline size_t jcc8(struct jit_ctx *c, int cc)
{
	b1(c, cc == CC_JMP ? 0xeb : (uint8_t)(0x70 | cc));
	b1(c, 0);
	return c->len;
}

static inline void land8(struct jit_ctx *c, size_t from)
{
	c->buf[from - 1] = (uint8_t)(c->len - from);
}

/* jcc (or jmp, cc = CC_JMP) to a label, short when it surely reaches. */
static inline void jump(struct jit_ctx *c, int cc, uint32_t label)
{
	int64_t d = jit_label_distance(c, label);

	if (c->lbl[label] != JIT_NO_LABEL && d - 2 >= -128) {
		b1(c, cc == CC_JMP ? 0xeb : (uint8_t)(0x70 | cc));
		b1(c, (uint8_t)(int8_t)(d - 2));
		return;
	}
	if (c->lbl[label] == JIT_NO_LABEL && d <= 127) {
		b1(c, cc == CC_JMP ? 0xeb : (uint8_t)(0x70 | cc));
		jit_fixup(c, (uint32_t)c->len, label, JIT_FIX_REL8);
		b1(c, 0);
		return;
	}
	if (cc == CC_JMP) {
		b1(c, 0xe9);
	} else {
		b1(c, 0x0f);
		b1(c, (uint8_t)(0x80 | cc));
	}
	if (c->lbl[label] != JIT_NO_LABEL)
		b4(c, (uint32_t)(int32_t)((int64_t)c->lbl[label] - (int64_t)(c->len + 4)));
	else {
		jit_fixup(c, (uint32_t)c->len, label, JIT_FIX_REL32);
		b4(c, 0);
	}
}

static inline void call_label(struct jit_ctx *c, uint32_t label)
{
	b1(c, 0xe8);
	if (c->lbl[label] != JIT_NO_LABEL) {
		b4(c, (uint32_t)(int32_t)((int64_t)c->lbl[label] - (int64_t)(c->len + 4)));
	} else {
		jit_fixup(c, (uint32_t)c->len, label, JIT_FIX_REL32);
		b4(c, 0);
	}
}

/* Call C code: direct when within reach of rel32, else through rax (r0). */
static inline void call_abs(struct jit_ctx *c, uintptr_t fn)
{
	if (c->base) {
		int64_t rel = (int64_t)fn - (int64_t)(c->base + c->len + 5);

		if (rel == (int32_t)rel) {
			b1(c, 0xe8);
			b4(c, (uint32_t)(int32_t)rel);
			return;
		}
	}
	prefixes(c, X_W, 0, RAX);
	b1(c, 0xb8);
	b8(c, fn);
	op_rr(c, 0, 0xff, 2, RAX);
}

/* A jcc (or jmp, cc = CC_JMP) to a stub that reports a fault of this instruction. */
static inline void jump_stub(struct jit_ctx *c, int cc, uint8_t kind, uint8_t reg)
{
	if (cc == CC_JMP) {
		b1(c, 0xe9);
	} else {
		b1(c, 0x0f);
		b1(c, (uint8_t)(0x80 | cc));
	}
	jit_stub(c, (uint32_t)c->len, kind, reg);
	b4(c, 0);
}

/* lea-style operand: op reg, [base + (index << scale) + disp] (index never rsp, scale 0-3). */
static inline void op_rm_scaled(struct jit_ctx *c, unsigned fl, uint32_t opc, int reg, int base,
				int index, unsigned scale, int32_t disp)
{
	bool need_disp = disp != 0 || (base & 7) == RBP, short_disp = disp == (int8_t)disp;
	uint8_t rex = (uint8_t)(0x40 | (fl & X_W ? 8 : 0) | (reg & 8 ? 4 : 0) | (index & 8 ? 2 : 0) |
				(base & 8 ? 1 : 0));

	if (fl & X_LOCK)
		b1(c, 0xf0);
	if (fl & X_66)
		b1(c, 0x66);
	if (rex != 0x40 || ((fl & X_BREG) && byte_needs_rex(reg)))
		b1(c, rex);
	opcode(c, opc);
	b1(c, (uint8_t)((!need_disp ? 0x00 : short_disp ? 0x40 : 0x80) | (reg & 7) << 3 | 4));
	b1(c, (uint8_t)(scale << 6 | (index & 7) << 3 | (base & 7)));
	if (need_disp && short_disp)
		b1(c, (uint8_t)disp);
	else if (need_disp)
		b4(c, (uint32_t)disp);
}

static inline void op_rm_index(struct jit_ctx *c, unsigned fl, uint32_t opc, int reg, int base, int index,
			       int32_t disp)
{
	op_rm_scaled(c, fl, opc, reg, base, index, 0, disp);
}

/* A memory operand: [base + index + disp], index NO_REG for none. */
struct x86_mem {
	int base, index;
	int32_t disp;
};

static inline struct x86_mem mem_at(int base, int32_t disp)
{
	return (struct x86_mem){ base, NO_REG, disp };
}

static inline void op_mem(struct jit_ctx *c, unsigned fl, uint32_t opc, int reg, struct x86_mem m)
{
	if (m.index == NO_REG)
		op_rm(c, fl, opc, reg, m.base, m.disp);
	else
		op_rm_index(c, fl, opc, reg, m.base, m.index, m.disp);
}

#endif
