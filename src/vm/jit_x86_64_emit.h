/*
 * jit_x86_64_emit.h - what the x86-64 back-end's files share: the function
 * being emitted, the condition code of each conditional jump, and the
 * emitters one file calls in another.  jit_x86_64.c emits instruction by
 * instruction, jit_x86_64_divmod.c divides, jit_x86_64_fuse.c emits
 * sequences as one (fusion, dying registers, copied joins).
 */
#ifndef BPFVM_VM_JIT_X86_64_EMIT_H
#define BPFVM_VM_JIT_X86_64_EMIT_H

#include "../isa/opcode.h"
#include "../isa/semantics.h"
#include "jit_x86_64.h"

/* x86's condition for each relation of ISA_JMP_OPS, after cmp (test for SET). */
#define JCC_U_EQ CC_E
#define JCC_U_NE CC_NE
#define JCC_U_SET CC_NE
#define JCC_U_GT CC_A
#define JCC_U_GE CC_AE
#define JCC_U_LT CC_B
#define JCC_U_LE CC_BE
#define JCC_S_GT CC_G
#define JCC_S_GE CC_GE
#define JCC_S_LT CC_L
#define JCC_S_LE CC_LE
static const uint8_t jcc_of[16] = {
#define JCC(ID, SIGN, REL, OP) [BPFVM_##ID >> 4] = JCC_##SIGN##_##REL,
	ISA_JMP_OPS(JCC)
#undef JCC
};

/* The function being emitted: what its epilogue undoes, the slots it keeps in registers. */
struct x86 {
	struct jit_ctx *c;
	uint8_t saved[4];  /* those of r6-r9's registers it pushed */
	unsigned nsaved;
	int32_t frame;     /* bytes below them: the may_goto slot, alignment */
	const struct prog_func *fn;
	bool copying;      /* emitting a copy of a join (emit_join_copy) */
	uint8_t promo_reg[JIT_PROMO_MAX]; /* the register of each stack slot it keeps in one */
	unsigned npromo;
	bool promo_scratch; /* r9 or r10 among them: division and fetch loops keep them aside */
};


/* jit_x86_64.c */
int jit_x86_insn(struct x86 *x, uint32_t i);
int jit_x86_test(struct jit_ctx *c, const struct bpfvm_insn *in);
void jit_x86_access(struct jit_ctx *c, const struct bpfvm_insn *in, enum isa_op op,
		    struct x86_mem m);

/* jit_x86_64_divmod.c: dst /= or %= src (or imm), unsigned or signed, as BPF defines them */
void jit_x86_divmod_x(struct jit_ctx *c, bool w, bool sign, bool mod, int dst, int src);
void jit_x86_divmod_k(struct jit_ctx *c, bool w, bool sign, bool mod, int dst, int32_t imm);

/* jit_x86_64_fuse.c: each returns the slots its code covers, 0 when none applies */
uint32_t jit_x86_fused(struct jit_ctx *c, uint32_t i, uint32_t end);
uint32_t jit_x86_fused_live(struct x86 *x, uint32_t i, uint32_t end);
bool jit_x86_result_unread(const struct jit_ctx *c, uint32_t i); /* needs no code */
void jit_x86_jump_to(struct x86 *x, const struct bpfvm_insn *in, uint32_t i, uint32_t target);
/* jit_x86_64.c: an inline array lookup and the NULL test after it, as one */
bool jit_x86_lookup_tested(struct jit_ctx *c, uint32_t i, uint32_t target, bool null_jumps);

#endif
