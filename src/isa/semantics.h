/*
 * semantics.h - what each ALU and jump operation computes, written down
 * once.  The interpreter's handlers and fusions, the verifier's concrete
 * runs (loop summaries) and the set of shifts it treats apart, and the
 * JIT's condition codes all derive from ISA_ALU_OPS and ISA_JMP_OPS below.
 * Each is what Linux does (kernel/bpf/core.c and the verifier's rewrites),
 * which RFC 9669 also defines:
 *
 * - division by zero gives 0; modulo by zero leaves the dividend (for 32-bit
 *   operations, its low half, zero-extended);
 * - signed division of the minimum value by -1 gives the minimum value, and
 *   signed modulo gives 0 (no trap, unlike the CPU);
 * - signed modulo truncates toward zero, as C's %: -13 s% 3 == -1;
 * - shift counts are masked to the operand width (63 or 31);
 * - 32-bit operations zero the upper half of the destination.
 */
#ifndef BPFVM_ISA_SEMANTICS_H
#define BPFVM_ISA_SEMANTICS_H

#include <stdbool.h>
#include <stdint.h>

#include "opcode.h"

static inline uint64_t bpf_udiv64(uint64_t a, uint64_t b) { return b ? a / b : 0; }
static inline uint32_t bpf_udiv32(uint32_t a, uint32_t b) { return b ? a / b : 0; }
static inline uint64_t bpf_umod64(uint64_t a, uint64_t b) { return b ? a % b : a; }
static inline uint32_t bpf_umod32(uint32_t a, uint32_t b) { return b ? a % b : a; }

static inline uint64_t bpf_sdiv64(uint64_t a, uint64_t b)
{
	if (!b)
		return 0;
	if ((int64_t)b == -1)
		return -a; /* INT64_MIN / -1 == INT64_MIN, without C's overflow */
	return (uint64_t)((int64_t)a / (int64_t)b);
}

static inline uint32_t bpf_sdiv32(uint32_t a, uint32_t b)
{
	if (!b)
		return 0;
	if ((int32_t)b == -1)
		return -a;
	return (uint32_t)((int32_t)a / (int32_t)b);
}

static inline uint64_t bpf_smod64(uint64_t a, uint64_t b)
{
	if (!b)
		return a;
	if ((int64_t)b == -1)
		return 0;
	return (uint64_t)((int64_t)a % (int64_t)b);
}

static inline uint32_t bpf_smod32(uint32_t a, uint32_t b)
{
	if (!b)
		return a;
	if ((int32_t)b == -1)
		return 0;
	return (uint32_t)((int32_t)a % (int32_t)b);
}

static inline uint64_t bpf_lsh64(uint64_t a, uint64_t n) { return a << (n & 63); }
static inline uint32_t bpf_lsh32(uint32_t a, uint64_t n) { return a << (n & 31); }
static inline uint64_t bpf_rsh64(uint64_t a, uint64_t n) { return a >> (n & 63); }
static inline uint32_t bpf_rsh32(uint32_t a, uint64_t n) { return a >> (n & 31); }

/* Arithmetic right shift; C leaves >> of a negative value to the compiler. */
static inline uint64_t bpf_arsh64(uint64_t a, uint64_t n)
{
	n &= 63;
	return (int64_t)a < 0 ? ~(~a >> n) : a >> n;
}

static inline uint32_t bpf_arsh32(uint32_t a, uint64_t n)
{
	n &= 31;
	return (int32_t)a < 0 ? ~(~a >> n) : a >> n;
}

/* Byte order conversions: to_le/to_be truncate to the width, then swap if the host differs. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define BPF_HOST_IS_BE 0
#else
#define BPF_HOST_IS_BE 1
#endif

static inline uint64_t bpf_bswap(uint64_t v, int32_t bits)
{
	switch (bits) {
	case 16: return __builtin_bswap16((uint16_t)v);
	case 32: return __builtin_bswap32((uint32_t)v);
	default: return __builtin_bswap64(v);
	}
}

static inline uint64_t bpf_truncate(uint64_t v, int32_t bits)
{
	return bits == 64 ? v : v & ((1ull << bits) - 1);
}

static inline uint64_t bpf_to_le(uint64_t v, int32_t bits)
{
	return BPF_HOST_IS_BE ? bpf_bswap(v, bits) : bpf_truncate(v, bits);
}

static inline uint64_t bpf_to_be(uint64_t v, int32_t bits)
{
	return BPF_HOST_IS_BE ? bpf_truncate(v, bits) : bpf_bswap(v, bits);
}

/*
 * The ALU operations that have the four forms OP64_K, OP64_X, OP32_K and
 * OP32_X (opcodes.def), one row each:
 *   X(ID, CODE, KIND, EXPR64, EXPR32)
 * ID      the operation's name in opcodes.def (ID##64_K, ...)
 * CODE    its BPFVM_OP() code (signed division shares the unsigned one's,
 *         told apart by off == 1)
 * KIND    ISA_ALU_ARITH, _BITWISE, _SHIFT, _DIV (division and modulo) or _MOVE
 * EXPR64  the result of dst OP b on 64-bit operands a (dst) and b (src, or
 *         imm sign-extended)
 * EXPR32  the same on their low halves; the result is zero-extended
 */
enum isa_alu_kind { ISA_ALU_NONE, ISA_ALU_ARITH, ISA_ALU_BITWISE, ISA_ALU_SHIFT, ISA_ALU_DIV,
		    ISA_ALU_MOVE };

#define ISA_ALU_OPS(X)                                                                        \
	X(ADD,  BPFVM_ADD,  ISA_ALU_ARITH,   a + b,             a + b)                         \
	X(SUB,  BPFVM_SUB,  ISA_ALU_ARITH,   a - b,             a - b)                         \
	X(MUL,  BPFVM_MUL,  ISA_ALU_ARITH,   a * b,             a * b)                         \
	X(DIV,  BPFVM_DIV,  ISA_ALU_DIV,     bpf_udiv64(a, b),  bpf_udiv32(a, b))              \
	X(SDIV, BPFVM_DIV,  ISA_ALU_DIV,     bpf_sdiv64(a, b),  bpf_sdiv32(a, b))              \
	X(MOD,  BPFVM_MOD,  ISA_ALU_DIV,     bpf_umod64(a, b),  bpf_umod32(a, b))              \
	X(SMOD, BPFVM_MOD,  ISA_ALU_DIV,     bpf_smod64(a, b),  bpf_smod32(a, b))              \
	X(OR,   BPFVM_OR,   ISA_ALU_BITWISE, a | b,             a | b)                         \
	X(AND,  BPFVM_AND,  ISA_ALU_BITWISE, a & b,             a & b)                         \
	X(XOR,  BPFVM_XOR,  ISA_ALU_BITWISE, a ^ b,             a ^ b)                         \
	X(LSH,  BPFVM_LSH,  ISA_ALU_SHIFT,   bpf_lsh64(a, b),   bpf_lsh32(a, b))               \
	X(RSH,  BPFVM_RSH,  ISA_ALU_SHIFT,   bpf_rsh64(a, b),   bpf_rsh32(a, b))               \
	X(ARSH, BPFVM_ARSH, ISA_ALU_SHIFT,   bpf_arsh64(a, b),  bpf_arsh32(a, b))              \
	X(MOV,  BPFVM_MOV,  ISA_ALU_MOVE,    ((void)a, b),      ((void)a, b))

/* isa_alu64_ADD(a, b), isa_alu32_ADD(a, b), ...: one row each, folded where used. */
#define ISA_ALU_FN(ID, CODE, KIND, EXPR64, EXPR32)                                             \
	static inline uint64_t isa_alu64_##ID(uint64_t a, uint64_t b) { return (EXPR64); }      \
	static inline uint32_t isa_alu32_##ID(uint32_t a, uint32_t b) { return (EXPR32); }
ISA_ALU_OPS(ISA_ALU_FN)
#undef ISA_ALU_FN

static inline uint64_t isa_neg64(uint64_t a) { return -a; }
static inline uint32_t isa_neg32(uint32_t a) { return -a; }

/* The kind of the ALU operation with BPFVM_OP() code bop (ISA_ALU_NONE for neg, end). */
static inline enum isa_alu_kind isa_alu_kind(unsigned bop)
{
#define ISA_ALU_KIND(ID, CODE, KIND, EXPR64, EXPR32) \
	if (bop == (CODE))                          \
		return KIND;
	ISA_ALU_OPS(ISA_ALU_KIND)
#undef ISA_ALU_KIND
	return ISA_ALU_NONE;
}

static inline bool isa_alu_is_shift(unsigned bop)
{
	return isa_alu_kind(bop) == ISA_ALU_SHIFT;
}

/*
 * The result of ALU operation op (a row above, or neg) on a (dst) and b
 * (src, or imm sign-extended), zero-extended for 32-bit ones; false when
 * op is none of them.
 */
static inline bool isa_alu_eval(enum isa_op op, uint64_t a, uint64_t b, uint64_t *res)
{
	switch (op) {
#define ISA_ALU_CASE(ID, CODE, KIND, EXPR64, EXPR32)                                 \
	case ISA_OP_##ID##64_K: case ISA_OP_##ID##64_X:                               \
		*res = isa_alu64_##ID(a, b);                                          \
		return true;                                                          \
	case ISA_OP_##ID##32_K: case ISA_OP_##ID##32_X:                               \
		*res = isa_alu32_##ID((uint32_t)a, (uint32_t)b);                      \
		return true;
	ISA_ALU_OPS(ISA_ALU_CASE)
#undef ISA_ALU_CASE
	case ISA_OP_NEG64: *res = isa_neg64(a); return true;
	case ISA_OP_NEG32: *res = isa_neg32((uint32_t)a); return true;
	default: return false;
	}
}

/*
 * The conditional jumps, with the forms ID64_K, ID64_X, ID32_K, ID32_X:
 *   X(ID, SIGN, REL, OP)
 * ID    the operation's name in opcodes.def; BPFVM_##ID is its BPFVM_OP() code
 * SIGN  U: the operands compare unsigned, S: signed
 * REL   the relation, by name: EQ, NE, GT, GE, LT, LE, or SET (a bit in common)
 * OP    the relation as a C operator: the jump is taken when (a OP b) != 0,
 *       a the destination and b the source (or imm sign-extended) at the width
 */
#define ISA_JMP_OPS(X)          \
	X(JEQ,  U, EQ,  ==)     \
	X(JNE,  U, NE,  !=)     \
	X(JGT,  U, GT,  >)      \
	X(JGE,  U, GE,  >=)     \
	X(JLT,  U, LT,  <)      \
	X(JLE,  U, LE,  <=)     \
	X(JSGT, S, GT,  >)      \
	X(JSGE, S, GE,  >=)     \
	X(JSLT, S, LT,  <)      \
	X(JSLE, S, LE,  <=)     \
	X(JSET, U, SET, &)

#define ISA_JMP_T64_U uint64_t
#define ISA_JMP_T64_S int64_t
#define ISA_JMP_T32_U uint32_t
#define ISA_JMP_T32_S int32_t

/* isa_jmp64_JEQ(a, b), isa_jmp32_JEQ(a, b), ...: is the jump taken? */
#define ISA_JMP_FN(ID, SIGN, REL, OP)                                                          \
	static inline bool isa_jmp64_##ID(uint64_t a, uint64_t b)                               \
	{                                                                                       \
		return ((ISA_JMP_T64_##SIGN)a OP (ISA_JMP_T64_##SIGN)b) != 0;                   \
	}                                                                                       \
	static inline bool isa_jmp32_##ID(uint32_t a, uint32_t b)                               \
	{                                                                                       \
		return ((ISA_JMP_T32_##SIGN)a OP (ISA_JMP_T32_##SIGN)b) != 0;                   \
	}
ISA_JMP_OPS(ISA_JMP_FN)
#undef ISA_JMP_FN

/* Is conditional jump op taken on a (dst) and b (src, or imm sign-extended)?  -1: op is none. */
static inline int isa_jmp_eval(enum isa_op op, uint64_t a, uint64_t b)
{
	switch (op) {
#define ISA_JMP_CASE(ID, SIGN, REL, OP)                                             \
	case ISA_OP_##ID##64_K: case ISA_OP_##ID##64_X: return isa_jmp64_##ID(a, b); \
	case ISA_OP_##ID##32_K: case ISA_OP_##ID##32_X:                              \
		return isa_jmp32_##ID((uint32_t)a, (uint32_t)b);
	ISA_JMP_OPS(ISA_JMP_CASE)
#undef ISA_JMP_CASE
	default: return -1;
	}
}

#endif
