/*
 * jit_x86_64.c - the x86-64 back-end: one pass of emission over a program
 * (jit.c drives the passes), dispatched per row of the opcode table.
 *
 * Registers, mapped as the kernel's JIT maps them, so that r1-r5 already
 * sit in the System V argument registers at a helper call and r0 in its
 * return register:
 *   r0 rax   r1 rdi   r2 rsi   r3 rdx   r4 rcx   r5 r8
 *   r6 rbx   r7 r13   r8 r14   r9 r15   r10 rbp
 * r12 holds the run context (a helper's sixth argument, moved to r9 at
 * each call); r9, r10 and r11 are scratch, r11 also the register a blinded
 * constant is rebuilt in.  In a function that makes no calls, r9, r10 and
 * the registers of BPF registers it never names hold its busiest stack
 * slots instead (jit_promote.c says which): a load or store of such a slot
 * is a move.
 *
 * Frames.  The entry sequence saves C's callee-saved registers, records
 * its stack pointer in the run context (a fault or an out-of-bounds packet
 * load unwinds straight to it) and calls the main function.  Each BPF
 * function is a native function: it pushes those of r6-r9 it writes (its
 * caller's values must survive the call), keeps its may_goto counter at
 * [rsp] and keeps rsp 16-byte aligned for the calls it makes.  The BPF
 * stack lives apart, 8 frames of 512 bytes that vm_jit_run provides: r10
 * moves down 512 around a bpf-to-bpf call, and a call from the 8th frame
 * faults.  A tail call tears down the calling function's native frame and
 * jumps to the target program's main function, which returns to the
 * caller's caller, as in the kernel.
 *
 * Beyond a translation one instruction at a time: division and modulo by
 * a constant are multiplications (jit_x86_64_divmod.c; jit.c finds the
 * magic numbers); shift pairs that extend a half and moves plus additions
 * that compute an address fuse into one instruction; a result no path
 * reads needs no code and a register that dies into an address folds into
 * the access (jit_x86_64_fuse.c, jit_live.c); a truth value times a constant is a mask (jit_known.c);
 * loop heads are aligned; an array map's
 * lookup (per-CPU too) is inline and another map's a direct call; and what a verifier
 * proved (dead code, constant results) shortens the code further.
 */
#include "jit.h"

#if VM_JIT_HAVE_ARCH

#include <cpuid.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "../helpers/helpers.h"
#include "../isa/opcode.h"
#include "../maps/map.h"
#include "jit_x86_64_emit.h"

/* ---- entry, prologues, epilogues ---------------------------------------------- */

static const uint8_t c_saved[6] = { RBP, RBX, R12, R13, R14, R15 };

/*
 * The entry: fn(args = rdi, function = rsi, run = rdx, stack top = rcx)
 * calls the function with r1-r5 from args[0..4], for a run (the main
 * function) as for a callback of bpf_loop and its kind (any function).  It
 * keeps the unwind point and stack limit of an enclosing run and restores
 * them on the way out.  Then the shared exits: return r0, report a fault,
 * end on a packet load out of bounds; the last two restore the stack
 * pointer the entry recorded, which unwinds every BPF frame at once.
 */
static void emit_entry(struct jit_ctx *c)
{
	static const uint8_t cleared[] = { RAX, RBX, R13, R14, R15 };
	static const uint8_t args[5] = { RDI, RSI, RDX, RCX, R8 };
	uint32_t exit = jit_lbl_named(c, JIT_L_EXIT);

	for (unsigned i = 0; i < 6; i++)
		push(c, c_saved[i]);
	mov_rr(c, true, RUN, RDX);
	mov_rr(c, true, RBP, RCX);
	op_rm(c, 0, 0xff, 6, RUN, RUN_OFF(jit_rsp)); /* push m64 */
	op_rm(c, 0, 0xff, 6, RUN, RUN_OFF(jit_stack_limit));
	alu_ri(c, true, G1_SUB, RSP, 8); /* 8 pushes and the return address: realign */
	op_rm(c, X_W, 0x89, RSP, RUN, RUN_OFF(jit_rsp));
	op_rm(c, X_W, 0x8d, R11, RBP, -(BPFVM_MAX_CALL_FRAMES - 1) * BPFVM_STACK_SIZE);
	op_rm(c, X_W, 0x89, R11, RUN, RUN_OFF(jit_stack_limit));
	mov_rr(c, true, R11, RSI);
	mov_rr(c, true, RAX, RDI);
	for (unsigned i = 0; i < 5; i++)
		op_rm(c, X_W, 0x8b, args[i], RAX, (int32_t)(8 * i));
	for (unsigned i = 0; i < sizeof(cleared); i++) /* as the interpreter starts */
		zero(c, cleared[i]);
	op_rr(c, 0, 0xff, 2, R11); /* call r11 */
	jit_place(c, exit);
	alu_ri(c, true, G1_ADD, RSP, 8);
	op_rm(c, 0, 0x8f, 0, RUN, RUN_OFF(jit_stack_limit)); /* pop m64 */
	op_rm(c, 0, 0x8f, 0, RUN, RUN_OFF(jit_rsp));
	for (unsigned i = 6; i--;)
		pop(c, c_saved[i]);
	b1(c, 0xc3);

	/* esi = kind, edx = instruction, rcx = value: vm_jit_fault's arguments */
	jit_place(c, jit_lbl_named(c, JIT_L_FAULT));
	op_rm(c, X_W, 0x8b, RSP, RUN, RUN_OFF(jit_rsp));
	mov_rr(c, true, RDI, RUN);
	call_abs(c, (uintptr_t)vm_jit_fault);
	zero(c, RAX);
	jump(c, CC_JMP, exit);

	jit_place(c, jit_lbl_named(c, JIT_L_PKT_OOB));
	op_rm(c, X_W, 0x8b, RSP, RUN, RUN_OFF(jit_rsp));
	zero(c, RAX);
	jump(c, CC_JMP, exit);
}

/* Does the code of op use r9 and r10 as scratch (division, fetching or/and/xor)? */
static bool uses_r9_r10(enum isa_op op)
{
	return jit_op_does(op) & (JIT_FN_DIVIDES | JIT_FN_FETCH_LOGIC);
}

/*
 * The registers fn's promoted stack slots live in (jit_promote.c): r9 and
 * r10, which are scratch, and those of the BPF registers fn never names;
 * r1-r5's are free to take, r6-r9's are pushed with the rest.  Where r9
 * and r10 serve as division's scratch they come last.  Returns the BPF
 * registers whose native ones it takes.
 */
static uint16_t assign_promoted(struct x86 *x, uint32_t f, bool r9_r10_busy)
{
	const struct jit_promo_func *pf = &x->c->promo.funcs[f];
	uint8_t order[2 + 9];
	uint16_t taken = 0, bpf_of[16] = { 0 };
	unsigned n = 0;

	if (!r9_r10_busy) {
		order[n++] = R9;
		order[n++] = R10;
	}
	for (int r = 1; r <= 9; r++) {
		if (!(pf->regs_used & (1u << r))) {
			bpf_of[regmap[r]] = (uint16_t)(1u << r);
			order[n++] = regmap[r];
		}
	}
	if (r9_r10_busy) {
		order[n++] = R9;
		order[n++] = R10;
	}
	x->npromo = pf->n < n ? pf->n : n;
	x->promo_scratch = false;
	for (unsigned k = 0; k < x->npromo; k++) {
		x->promo_reg[k] = order[k];
		taken |= bpf_of[order[k]];
		x->promo_scratch |= order[k] == R9 || order[k] == R10;
	}
	return taken;
}

static void emit_prologue(struct x86 *x, uint32_t f)
{
	struct jit_ctx *c = x->c;
	const struct jit_func_use *use = &c->func_use[f];
	uint16_t written = use->written;
	bool calls = use->does & JIT_FN_CALLS, may_goto = use->does & JIT_FN_MAY_GOTO;

	written |= assign_promoted(x, f, use->does & (JIT_FN_DIVIDES | JIT_FN_FETCH_LOGIC));
	x->nsaved = 0;
	for (int r = 6; r <= 9; r++) {
		if (written & (1u << r)) {
			x->saved[x->nsaved++] = regmap[r];
			push(c, regmap[r]);
		}
	}
	x->frame = may_goto ? 8 : 0;
	if (calls && (8 + 8 * x->nsaved + (unsigned)x->frame) % 16)
		x->frame += 8;
	if (x->frame)
		alu_ri(c, true, G1_SUB, RSP, x->frame);
	if (may_goto) {
		op_rm(c, 0, 0xc7, 0, RSP, 0);
		b4(c, BPFVM_MAX_LOOPS);
	}
	for (unsigned k = 0; k < x->npromo; k++) /* as deterministic as a zeroed stack */
		zero(c, x->promo_reg[k]);
}

/* Undo the prologue, short of returning. */
static void emit_unframe(const struct x86 *x)
{
	if (x->frame)
		alu_ri(x->c, true, G1_ADD, RSP, x->frame);
	for (unsigned i = x->nsaved; i--;)
		pop(x->c, x->saved[i]);
}

/* ---- arithmetic ------------------------------------------------------------------ */

static void alu_simple(struct jit_ctx *c, bool w, bool k, int g1, int dst, int src, int32_t imm)
{
	if (!k) {
		alu_rr(c, w, g1, dst, src);
	} else if (g1 == G1_AND ? imm == -1 : imm == 0) {
		if (!w) /* nothing to compute, but the upper half still clears */
			mov_rr(c, false, dst, dst);
	} else if (g1 == G1_XOR && imm == -1) {
		op_rr(c, w ? X_W : 0, 0xf7, 2, dst); /* not */
	} else {
		alu_ri(c, w, g1, dst, imm);
	}
}

static void emit_mul(struct jit_ctx *c, bool w, bool k, int dst, int src, int32_t imm)
{
	uint64_t v = w ? (uint64_t)(int64_t)imm : (uint32_t)imm;

	if (!k) {
		op_rr(c, w ? X_W : 0, 0x0faf, dst, src);
	} else if (v == 0) {
		zero(c, dst);
	} else if (v == 1) {
		if (!w)
			mov_rr(c, false, dst, dst);
	} else if (!(v & (v - 1))) {
		shift_ri(c, w, SH_SHL, dst, (unsigned)__builtin_ctzll(v));
	} else if (imm == (int8_t)imm) {
		op_rr(c, w ? X_W : 0, 0x6b, dst, dst);
		b1(c, (uint8_t)imm);
	} else {
		op_rr(c, w ? X_W : 0, 0x69, dst, dst);
		b4(c, (uint32_t)imm);
	}
}

/* shlx/shrx/sarx dst, dst, count (BMI2): any count register, flags untouched. */
static void vex_shift(struct jit_ctx *c, bool w, int sh, int dst, int count)
{
	int pp = sh == SH_SHL ? 1 : sh == SH_SAR ? 2 : 3; /* 66, f3, f2 */

	b1(c, 0xc4);
	b1(c, (uint8_t)((dst & 8 ? 0 : 0x80) | 0x40 | (dst & 8 ? 0 : 0x20) | 0x02));
	b1(c, (uint8_t)((w ? 0x80 : 0) | (~count & 15) << 3 | pp));
	b1(c, 0xf7);
	b1(c, (uint8_t)(0xc0 | (dst & 7) << 3 | (dst & 7)));
}

/* Shift counts are masked to the width, by the CPU as by the kernel. */
static void emit_shift(struct jit_ctx *c, bool w, bool k, int sh, int dst, int src, int32_t imm)
{
	unsigned fl = w ? X_W : 0;

	if (k) {
		unsigned n = (unsigned)imm & (w ? 63 : 31);

		if (n)
			shift_ri(c, w, sh, dst, n);
		else if (!w)
			mov_rr(c, false, dst, dst);
	} else if (c->features & VM_JIT_BMI2) {
		vex_shift(c, w, sh, dst, src);
	} else if (src == RCX) {
		op_rr(c, fl, 0xd3, sh, dst);
	} else if (dst == RCX) {
		mov_rr(c, true, R11, RCX);
		mov_rr(c, true, RCX, src);
		op_rr(c, fl, 0xd3, sh, R11);
		mov_rr(c, true, RCX, R11);
	} else { /* r4 lives in rcx, which the count must use: keep it aside */
		mov_rr(c, true, R11, RCX);
		mov_rr(c, true, RCX, src);
		op_rr(c, fl, 0xd3, sh, dst);
		mov_rr(c, true, RCX, R11);
	}
}

static void emit_end(struct jit_ctx *c, enum isa_op op, int dst)
{
	switch (op) {
	case ISA_OP_LE16:
		op_rr(c, 0, 0x0fb7, dst, dst); /* movzx: truncate */
		break;
	case ISA_OP_LE32:
		mov_rr(c, false, dst, dst);
		break;
	case ISA_OP_BE16:
	case ISA_OP_BSWAP16:
		op_rr(c, X_66, 0xc1, SH_ROR, dst);
		b1(c, 8);
		op_rr(c, 0, 0x0fb7, dst, dst);
		break;
	case ISA_OP_BE32:
	case ISA_OP_BSWAP32:
	case ISA_OP_BE64:
	case ISA_OP_BSWAP64:
		prefixes(c, op == ISA_OP_BE64 || op == ISA_OP_BSWAP64 ? X_W : 0, 0, dst);
		b1(c, 0x0f);
		b1(c, (uint8_t)(0xc8 + (dst & 7)));
		break;
	default: /* LE64: nothing to do on a little-endian host */
		break;
	}
}

/* in, slot i's operation (as blinding left it). */
static void emit_alu(struct jit_ctx *c, const struct bpfvm_insn *in, enum isa_op op, uint32_t i)
{
	uint8_t code = isa_ops[op].code;
	bool w = BPFVM_CLASS(code) == BPFVM_ALU64, k = BPFVM_SRC(code) == BPFVM_K;
	bool sign = in->off == 1;
	int dst = regmap[in->dst_reg], src = regmap[in->src_reg];

	switch (BPFVM_OP(code)) {
	case BPFVM_ADD: alu_simple(c, w, k, G1_ADD, dst, src, in->imm); break;
	case BPFVM_SUB: alu_simple(c, w, k, G1_SUB, dst, src, in->imm); break;
	case BPFVM_OR: alu_simple(c, w, k, G1_OR, dst, src, in->imm); break;
	case BPFVM_AND: alu_simple(c, w, k, G1_AND, dst, src, in->imm); break;
	case BPFVM_XOR: alu_simple(c, w, k, G1_XOR, dst, src, in->imm); break;
	case BPFVM_MUL:
		/*
		 * A truth value t times k is k & -t: two cycles on a dependency
		 * chain where imul takes three.  Not by a register: there the
		 * extra instructions cost more than they save (the sort loop).
		 */
		if (k && (c->known_bool[i] >> in->dst_reg & 1)) {
			op_rr(c, w ? X_W : 0, 0xf7, 3, dst); /* neg */
			alu_ri(c, w, G1_AND, dst, in->imm);
		} else {
			emit_mul(c, w, k, dst, src, in->imm);
		}
		break;
	case BPFVM_LSH: emit_shift(c, w, k, SH_SHL, dst, src, in->imm); break;
	case BPFVM_RSH: emit_shift(c, w, k, SH_SHR, dst, src, in->imm); break;
	case BPFVM_ARSH: emit_shift(c, w, k, SH_SAR, dst, src, in->imm); break;
	case BPFVM_MOV:
		if (k)
			mov_imm(c, w, dst, w ? (uint64_t)(int64_t)in->imm : (uint32_t)in->imm);
		else
			mov_rr(c, w, dst, src);
		break;
	case BPFVM_NEG:
		op_rr(c, w ? X_W : 0, 0xf7, 3, dst);
		break;
	default: /* DIV, MOD */
		if (k)
			jit_x86_divmod_k(c, w, sign, BPFVM_OP(code) == BPFVM_MOD, dst, in->imm);
		else
			jit_x86_divmod_x(c, w, sign, BPFVM_OP(code) == BPFVM_MOD, dst, src);
		break;
	}
}

static void emit_movsx(struct jit_ctx *c, enum isa_op op, int dst, int src)
{
	switch (op) {
	case ISA_OP_MOVSX8_64: op_rr(c, X_W | X_BRM, 0x0fbe, dst, src); break;
	case ISA_OP_MOVSX16_64: op_rr(c, X_W, 0x0fbf, dst, src); break;
	case ISA_OP_MOVSX32_64: op_rr(c, X_W, 0x63, dst, src); break;
	case ISA_OP_MOVSX8_32: op_rr(c, X_BRM, 0x0fbe, dst, src); break;
	default: op_rr(c, 0, 0x0fbf, dst, src); break; /* MOVSX16_32 */
	}
}

/* ---- memory -------------------------------------------------------------------- */

/* Loads, plain and acquiring (on x86 every load acquires). */
static void emit_load(struct jit_ctx *c, enum isa_op op, int dst, struct x86_mem m)
{
	switch (op) {
	case ISA_OP_LDX_B:
	case ISA_OP_LOAD_ACQ_B: op_mem(c, 0, 0x0fb6, dst, m); break;
	case ISA_OP_LDX_H:
	case ISA_OP_LOAD_ACQ_H: op_mem(c, 0, 0x0fb7, dst, m); break;
	case ISA_OP_LDX_W:
	case ISA_OP_LOAD_ACQ_W: op_mem(c, 0, 0x8b, dst, m); break;
	case ISA_OP_LDXS_B: op_mem(c, X_W, 0x0fbe, dst, m); break;
	case ISA_OP_LDXS_H: op_mem(c, X_W, 0x0fbf, dst, m); break;
	case ISA_OP_LDXS_W: op_mem(c, X_W, 0x63, dst, m); break;
	default: op_mem(c, X_W, 0x8b, dst, m); break; /* LDX_DW, LOAD_ACQ_DW */
	}
}

/*
 * A load through a BTF-typed pointer, as the kernel's BPF_PROBE_MEM: only
 * where the run's kernel objects lie (run->kmem_*), 0 for any other
 * address (a NULL mm), by a range check before the load rather than a
 * fault handler (no signal handler in a library):
 *   lea r11, [src + off]; sub r11, [run.kmem_start]; cmp r11, [run.kmem_size]
 *   jae 1f; load dst, [src + off]; jmp 2f; 1: xor dst, dst; 2:
 */
static void emit_probe_load(struct jit_ctx *c, enum isa_op op, int dst, int src, int16_t off)
{
	size_t jae, jmp;

	op_rm(c, X_W, 0x8d, R11, src, off);
	op_rm(c, X_W, 0x2b, R11, RUN, RUN_OFF(kmem_start));
	op_rm(c, X_W, 0x3b, R11, RUN, RUN_OFF(kmem_size));
	b1(c, 0x70 | CC_AE);
	jae = c->len;
	b1(c, 0);
	emit_load(c, op, dst, mem_at(src, off));
	b1(c, 0xeb);
	jmp = c->len;
	b1(c, 0);
	c->buf[jae] = (uint8_t)(c->len - jae - 1);
	zero(c, dst);
	c->buf[jmp] = (uint8_t)(c->len - jmp - 1);
}

/* Stores, plain and releasing (on x86 every store releases). */
static void emit_store(struct jit_ctx *c, unsigned size, struct x86_mem m, int src)
{
	static const unsigned fl[9] = { [1] = X_BREG, [2] = X_66, [4] = 0, [8] = X_W };

	op_mem(c, fl[size], size == 1 ? 0x88 : 0x89, src, m);
}

static void emit_store_imm(struct jit_ctx *c, unsigned size, struct x86_mem m, int32_t imm)
{
	switch (size) {
	case 1:
		op_mem(c, 0, 0xc6, 0, m);
		b1(c, (uint8_t)imm);
		break;
	case 2:
		op_mem(c, X_66, 0xc7, 0, m);
		b2(c, (uint16_t)imm);
		break;
	default: /* 8 bytes: the imm32 sign-extended, as the kernel's (s64)imm */
		op_mem(c, size == 8 ? X_W : 0, 0xc7, 0, m);
		b4(c, (uint32_t)imm);
		break;
	}
}

/* A load or store of slot i (LDX, ST or STX) with its address in m. */
void jit_x86_access(struct jit_ctx *c, const struct bpfvm_insn *in, enum isa_op op,
			struct x86_mem m)
{
	switch (isa_ops[op].form) {
	case F_LDX:
		emit_load(c, op, regmap[in->dst_reg], m);
		break;
	case F_ST:
		emit_store_imm(c, isa_access_size(in->code), m, in->imm);
		break;
	default:
		emit_store(c, isa_access_size(in->code), m, regmap[in->src_reg]);
		break;
	}
}

/*
 * A 4-byte store into a slot kept in register p whose upper half a later
 * 8-byte load reads: the low half replaced, the upper kept.
 */
static void merge_low_half(struct jit_ctx *c, int p, int src)
{
	shift_ri(c, true, SH_SHR, p, 32);
	shift_ri(c, true, SH_SHL, p, 32);
	mov_rr(c, false, R11, src);
	alu_rr(c, true, G1_OR, p, R11);
}

/* A load or store of a stack slot kept in register p (jit_promote.c). */
static void emit_promoted(struct jit_ctx *c, const struct bpfvm_insn *in, enum isa_op op, int p,
			  bool merge)
{
	bool w = isa_access_size(in->code) == 8;

	switch (isa_ops[op].form) {
	case F_LDX:
		mov_rr(c, w, regmap[in->dst_reg], p);
		break;
	case F_STX:
		if (w || !merge)
			mov_rr(c, w, p, regmap[in->src_reg]);
		else
			merge_low_half(c, p, regmap[in->src_reg]);
		break;
	default: /* F_ST: an 8-byte store sign-extends the imm32 */
		if (w || !merge) {
			mov_imm(c, w, p, w ? (uint64_t)(int64_t)in->imm : (uint32_t)in->imm);
		} else {
			mov_imm(c, false, R11, (uint32_t)in->imm);
			merge_low_half(c, p, R11);
		}
		break;
	}
}

/*
 * Fetching or, and, xor have no x86 instruction: a cmpxchg loop, with the
 * old value in rax (r0, kept in r10) and the address in r9.
 */
static void fetch_loop(struct jit_ctx *c, bool w, int g1, int dst, int src, int16_t off)
{
	unsigned fl = w ? X_W : 0;
	int operand = src == RAX ? R10 : src;
	size_t loop;

	op_rm(c, X_W, 0x8d, R9, dst, off);
	mov_rr(c, true, R10, RAX);
	op_rm(c, fl, 0x8b, RAX, R9, 0);
	loop = c->len;
	mov_rr(c, true, R11, RAX);
	alu_rr(c, w, g1, R11, operand);
	op_rm(c, fl | X_LOCK, 0x0fb1, R11, R9, 0);
	b1(c, 0x70 | CC_NE);
	b1(c, (uint8_t)(int8_t)((int64_t)loop - (int64_t)(c->len + 1)));
	if (src != RAX) {
		mov_rr(c, w, src, RAX);
		mov_rr(c, true, RAX, R10);
	}
}

static void emit_atomic(struct jit_ctx *c, const struct bpfvm_insn *in, int dst, int src)
{
	bool w = BPFVM_SIZE(in->code) == BPFVM_DW;
	unsigned fl = w ? X_W : 0;

	switch (in->imm) {
	case BPFVM_ADD: op_rm(c, fl | X_LOCK, 0x01, src, dst, in->off); break;
	case BPFVM_OR: op_rm(c, fl | X_LOCK, 0x09, src, dst, in->off); break;
	case BPFVM_AND: op_rm(c, fl | X_LOCK, 0x21, src, dst, in->off); break;
	case BPFVM_XOR: op_rm(c, fl | X_LOCK, 0x31, src, dst, in->off); break;
	case BPFVM_ADD | BPFVM_FETCH: op_rm(c, fl | X_LOCK, 0x0fc1, src, dst, in->off); break;
	case BPFVM_OR | BPFVM_FETCH: fetch_loop(c, w, G1_OR, dst, src, in->off); break;
	case BPFVM_AND | BPFVM_FETCH: fetch_loop(c, w, G1_AND, dst, src, in->off); break;
	case BPFVM_XOR | BPFVM_FETCH: fetch_loop(c, w, G1_XOR, dst, src, in->off); break;
	case BPFVM_XCHG: op_rm(c, fl, 0x87, src, dst, in->off); break;
	default: /* CMPXCHG: rax is r0, the expected value and the result */
		op_rm(c, fl | X_LOCK, 0x0fb1, src, dst, in->off);
		if (!w) /* a successful 32-bit cmpxchg leaves rax's upper half */
			mov_rr(c, false, RAX, RAX);
		break;
	}
}

/*
 * Legacy packet loads: r0 = the big-endian value at pkt + offset; out of
 * bounds, the program ends with r0 = 0.  Only r0 and scratch change.
 */
static void emit_ldpkt(struct jit_ctx *c, enum isa_op op, const struct bpfvm_insn *in)
{
	unsigned size = isa_access_size(isa_ops[op].code);
	uint32_t oob = jit_lbl_named(c, JIT_L_PKT_OOB);

	if (isa_ops[op].form == F_LDABS) {
		if (in->imm < 0) {
			jump(c, CC_JMP, oob);
			return;
		}
		mov_imm(c, true, R11, (uint32_t)in->imm);
	} else { /* the offset is (s32)((u32)src + (u32)imm) */
		mov_rr(c, false, R11, regmap[in->src_reg]);
		if (in->imm)
			alu_ri(c, false, G1_ADD, R11, in->imm);
		op_rr(c, X_W, 0x63, R11, R11);
		op_rr(c, X_W, 0x85, R11, R11);
		jump(c, CC_S, oob);
	}
	op_rm(c, X_W, 0x8d, R10, R11, (int32_t)size);
	op_rm(c, X_W, 0x3b, R10, RUN, RUN_OFF(pkt_len));
	jump(c, CC_A, oob);
	op_rm(c, X_W, 0x03, R11, RUN, RUN_OFF(pkt));
	if (size == 1) {
		op_rm(c, 0, 0x0fb6, RAX, R11, 0);
	} else if (size == 2) {
		op_rm(c, 0, 0x0fb7, RAX, R11, 0);
		op_rr(c, X_66, 0xc1, SH_ROL, RAX);
		b1(c, 8);
	} else {
		op_rm(c, 0, 0x8b, RAX, R11, 0);
		b1(c, 0x0f);
		b1(c, 0xc8); /* bswap eax */
	}
}

/* ---- jumps and calls ----------------------------------------------------------- */

/* The flags a conditional jump tests; returns the condition on which it jumps. */
int jit_x86_test(struct jit_ctx *c, const struct bpfvm_insn *in)
{
	uint8_t code = in->code;
	bool w = BPFVM_CLASS(code) == BPFVM_JMP, jset = BPFVM_OP(code) == BPFVM_JSET;
	int dst = regmap[in->dst_reg];

	if (BPFVM_SRC(code) == BPFVM_X) {
		op_rr(c, w ? X_W : 0, jset ? 0x85 : 0x39, regmap[in->src_reg], dst);
	} else if (jset) {
		op_rr(c, w ? X_W : 0, 0xf7, 0, dst); /* test dst, imm32 */
		b4(c, (uint32_t)in->imm);
	} else if (in->imm == 0) {
		op_rr(c, w ? X_W : 0, 0x85, dst, dst); /* the same flags as cmp dst, 0 */
	} else {
		alu_ri(c, w, G1_CMP, dst, in->imm);
	}
	return jcc_of[BPFVM_OP(code) >> 4];
}

/* The counter at [rsp]: jump once it is spent, else count down. */
static void emit_may_goto(struct jit_ctx *c, uint32_t target)
{
	op_rm(c, 0, 0x83, G1_CMP, RSP, 0);
	b1(c, 0);
	jump(c, CC_E, target);
	op_rm(c, 0, 0x83, G1_SUB, RSP, 0);
	b1(c, 1);
}

/*
 * After a helper: a callback it ran may have faulted (run->fault), which
 * stops the run here, as the interpreter stops.
 */
static void emit_fault_check(struct jit_ctx *c)
{
	op_rm(c, 0, 0x83, G1_CMP, RUN, RUN_OFF(fault));
	b1(c, 0);
	jump_stub(c, CC_NE, VM_JIT_FAULT_HELPER, NO_REG);
}

/* Another frame, unless r10 already is the 8th frame's. */
static void emit_depth_check(struct jit_ctx *c)
{
	op_rm(c, X_W, 0x3b, RBP, RUN, RUN_OFF(jit_stack_limit));
	jump_stub(c, CC_BE, VM_JIT_FAULT_DEPTH, NO_REG);
}

static void frame_down(struct jit_ctx *c, int32_t by)
{
	op_rm(c, X_W, 0x8d, RBP, RBP, -by);
}

static const uint8_t arg_regs[6] = { RAX, RDI, RSI, RDX, RCX, R8 };

static void push_args(struct jit_ctx *c)
{
	for (unsigned i = 0; i < 6; i++) /* 48 bytes: the alignment holds */
		push(c, arg_regs[i]);
}

static void pop_args(struct jit_ctx *c)
{
	for (unsigned i = 6; i--;)
		pop(c, arg_regs[i]);
}

/*
 * bpf_tail_call(ctx, map = r2, index = r3): ask vm_jit_tail_call where
 * to go, keeping every register; on success leave this function's frame
 * and jump to the target, else fall through as the kernel does.
 */
static void emit_tail_call(const struct x86 *x)
{
	struct jit_ctx *c = x->c;
	size_t fail;

	push_args(c);
	mov_rr(c, true, RDI, RUN);
	call_abs(c, (uintptr_t)vm_jit_tail_call);
	mov_rr(c, true, R11, RAX);
	pop_args(c);
	op_rr(c, X_W, 0x85, R11, R11);
	fail = jcc8(c, CC_E);
	emit_unframe(x);
	op_rr(c, 0, 0xff, 4, R11); /* jmp r11 */
	land8(c, fail);
}

/* callx: a helper id, or the address of one of the program's functions. */
static void emit_callx(struct jit_ctx *c, int target)
{
	size_t func, done;

	push_args(c);
	mov_rr(c, true, RSI, target);
	mov_rr(c, true, RDI, RUN);
	call_abs(c, (uintptr_t)vm_jit_callx);
	mov_rr(c, true, R11, RAX);
	mov_rr(c, true, R10, RDX);
	pop_args(c);
	alu_ri(c, false, G1_CMP, R10, 1);
	jump_stub(c, CC_B, VM_JIT_FAULT_CALLX, (uint8_t)target);
	func = jcc8(c, CC_A);
	mov_rr(c, true, R9, RUN);
	op_rr(c, 0, 0xff, 2, R11); /* call r11: a helper */
	emit_fault_check(c);
	done = jcc8(c, CC_JMP);
	land8(c, func);
	emit_depth_check(c);
	frame_down(c, BPFVM_STACK_SIZE);
	op_rr(c, 0, 0xff, 2, R11); /* call r11: a function */
	frame_down(c, -BPFVM_STACK_SIZE);
	land8(c, done);
}

/*
 * The map in r1 at the call in slot `call`, when compiling can tell: the
 * lddw that loaded it is in the same straight line (nothing jumps in
 * between, nothing writes r1 or calls), as clang emits a lookup.
 */
static struct bpfvm_map *map_in_r1(const struct jit_ctx *c, uint32_t call)
{
	const struct bpfvm_prog *prog = c->prog;

	for (uint32_t i = call; i-- > 0 && call - i <= 16;) {
		const struct bpfvm_insn *in = &prog->insns[i];
		enum isa_op op = (enum isa_op)prog->ops[i];

		if (c->is_target[i + 1])
			return NULL;
		if (op == ISA_OP_INVALID)
			continue;
		if (op == ISA_OP_LDDW && in->dst_reg == 1)
			return in->src_reg == BPFVM_PSEUDO_MAP_FD || in->src_reg == BPFVM_PSEUDO_MAP_IDX
				       ? (struct bpfvm_map *)(uintptr_t)prog_lddw_map_value(prog, i)
				       : NULL;
		if ((isa_regs_written(in, op) & 2) || isa_ops[op].form == F_CALL ||
		    isa_ops[op].form == F_CALLX || isa_ops[op].form == F_EXIT)
			return NULL;
	}
	return NULL;
}

/* dst += src * k, src a register it may clobber: one lea where k allows. */
static void scaled_add(struct jit_ctx *c, int dst, int src, uint64_t k)
{
	unsigned log2k = (unsigned)__builtin_ctzll(k);

	if ((k & (k - 1)) == 0 && log2k <= 3) {
		op_rm_scaled(c, X_W, 0x8d, dst, dst, src, log2k, 0);
		return;
	}
	if ((k & (k - 1)) == 0) {
		op_rr(c, X_W, 0xc1, 4, src); /* shl src, log2k */
		b1(c, (uint8_t)log2k);
	} else {
		op_rr(c, X_W, 0x69, src, src);
		b4(c, (uint32_t)k);
	}
	alu_rr(c, true, G1_ADD, dst, src);
}

/*
 * bpf_map_lookup_elem(map known when compiling, key = r2), while that
 * helper is bpfvm's own: an array's lookup inline, per-CPU or not (the
 * kernel's verifier rewrites both the same way), another type's a direct
 * call to its lookup, skipping the helper's dispatch.  r1-r5 survive the
 * inline forms.  The array's values, or NULL when its lookup is not inline.
 */
static char *inline_values(const struct jit_ctx *c, uint32_t i, struct bpfvm_map **map,
			   uint64_t *cpu_block)
{
	char *values;

	*cpu_block = 0; /* bytes of one CPU's values; 0: not per-CPU */
	if (c->prog->vm->helpers[HELPER_ID_map_lookup_elem].fn != helper_map_lookup_elem ||
	    !(*map = map_in_r1(c, i)) || !(*map)->ops->lookup)
		return NULL;
	values = (*map)->array_values;
	if (!values && (*map)->percpu_array_values) {
		values = (*map)->percpu_array_values;
		*cpu_block = (uint64_t)(*map)->max_entries * (*map)->value_stride;
	}
	return values && (*map)->value_stride <= INT32_MAX && *cpu_block <= INT32_MAX ? values : NULL;
}

/* r0 = values + index (in eax, checked) * stride [+ cpu * cpu_block] */
static void element_address(struct jit_ctx *c, const struct bpfvm_map *map, char *values,
			    uint64_t cpu_block)
{
	mov_imm(c, true, R11, (uintptr_t)values);
	scaled_add(c, R11, RAX, map->value_stride);
	if (cpu_block) {
		op_rm(c, 0, 0x8b, RAX, RUN, RUN_OFF(cpu));
		scaled_add(c, R11, RAX, cpu_block);
	}
	mov_rr(c, true, RAX, R11);
}

static bool emit_map_lookup(struct jit_ctx *c, uint32_t i)
{
	struct bpfvm_map *map = NULL;
	uint64_t cpu_block;
	char *values = inline_values(c, i, &map, &cpu_block);
	size_t null, done;

	if (!map)
		return false;
	if (!values) {
		op_rm(c, 0, 0x8b, RDX, RUN, RUN_OFF(cpu)); /* lookup(map = r1, key = r2, cpu) */
		call_abs(c, (uintptr_t)map->ops->lookup);
		return true;
	}
	op_rm(c, 0, 0x8b, RAX, RSI, 0);                 /* the index: *(u32 *)key */
	alu_ri(c, false, G1_CMP, RAX, (int32_t)map->max_entries);
	null = jcc8(c, CC_AE);
	element_address(c, map, values, cpu_block);
	done = jcc8(c, CC_JMP);
	land8(c, null);
	zero(c, RAX);
	land8(c, done);
	return true;
}

/*
 * An inline array lookup at slot i, then slot i + 1's test of its result
 * against NULL (`if r0 == 0 goto target`, or `!= 0`), as every program
 * that uses the value has: the index check branches to the test's outcome
 * itself, and no pointer is made only to be tested.  r0 is zeroed on the
 * NULL edge only when some path reads it.  False, with nothing emitted,
 * when the lookup is not an inline one.
 */
bool jit_x86_lookup_tested(struct jit_ctx *c, uint32_t i, uint32_t target, bool null_jumps)
{
	struct bpfvm_map *map = NULL;
	uint64_t cpu_block;
	char *values = inline_values(c, i, &map, &cpu_block);
	bool zero_r0 = jit_live_after(c, i + 1, 0);
	size_t skip;

	if (!values)
		return false;
	op_rm(c, 0, 0x8b, RAX, RSI, 0);
	alu_ri(c, false, G1_CMP, RAX, (int32_t)map->max_entries);
	if (null_jumps) {
		skip = jcc8(c, CC_B);
		if (zero_r0)
			zero(c, RAX);
		jump(c, CC_JMP, target);
		land8(c, skip);
		element_address(c, map, values, cpu_block);
	} else {
		skip = jcc8(c, CC_AE);
		element_address(c, map, values, cpu_block);
		jump(c, CC_JMP, target);
		land8(c, skip);
		if (zero_r0)
			zero(c, RAX);
	}
	return true;
}

static int emit_call(struct x86 *x, enum isa_op op, const struct bpfvm_insn *in, uint32_t i)
{
	struct jit_ctx *c = x->c;
	const struct bpfvm_prog *prog = c->prog;
	const struct prog_func *fn;

	if (op == ISA_OP_CALL_KFUNC)
		return jit_refuse(c, i, "calls kernel function (kfunc) with BTF id %d: "
					"kfuncs exist only inside the kernel", in->imm);
	if (op == ISA_OP_CALL_LOCAL) {
		fn = prog_func_at(prog, (uint32_t)((int64_t)i + 1 + in->imm));
		emit_depth_check(c);
		frame_down(c, BPFVM_STACK_SIZE);
		call_label(c, jit_lbl_func(c, (uint32_t)(fn - prog->funcs)));
		frame_down(c, -BPFVM_STACK_SIZE);
		return 0;
	}
	if (in->imm == HELPER_ID_tail_call) {
		emit_tail_call(x);
		return 0;
	}
	if (in->imm < 0 || in->imm > BPFVM_MAX_HELPER_ID || !prog->vm->helpers[in->imm].fn)
		return jit_refuse(c, i, "invalid func unknown#%d", in->imm);
	if (in->imm == HELPER_ID_map_lookup_elem && emit_map_lookup(c, i))
		return 0;
	mov_rr(c, true, R9, RUN);
	call_abs(c, (uintptr_t)prog->vm->helpers[in->imm].fn);
	emit_fault_check(c);
	return 0;
}

static int emit_lddw(struct jit_ctx *c, const struct bpfvm_insn *in, uint32_t i)
{
	const struct bpfvm_prog *prog = c->prog;
	uint64_t v = (uint32_t)in[0].imm | (uint64_t)(uint32_t)in[1].imm << 32, key;
	int dst = regmap[in->dst_reg];

	if (in->src_reg && prog_lddw_is_map(in)) /* a map's or a map value's address */
		v = prog_lddw_map_value(prog, i);

	if (in->src_reg == BPFVM_PSEUDO_FUNC) {
		const struct prog_func *fn = prog_func_at(prog, (uint32_t)((int64_t)i + 1 + in->imm));

		prefixes(c, X_W, 0, dst);
		b1(c, (uint8_t)(0xb8 + (dst & 7)));
		jit_fixup(c, (uint32_t)c->len, jit_lbl_func(c, (uint32_t)(fn - prog->funcs)),
			  JIT_FIX_ABS64);
		b8(c, 0);
	} else if (in->src_reg && !prog_lddw_is_map(in)) {
		return jit_refuse(c, i, "lddw refers to a map or BTF object (src %d) that is not "
					"resolved: load the program from an ELF object", in->src_reg);
	} else if (c->blind && v) {
		key = jit_blind_key(c);
		prefixes(c, X_W, 0, dst);
		b1(c, (uint8_t)(0xb8 + (dst & 7)));
		b8(c, v ^ key);
		prefixes(c, X_W, 0, R11);
		b1(c, 0xb8 + (R11 & 7));
		b8(c, key);
		alu_rr(c, true, G1_XOR, dst, R11);
	} else {
		mov_imm(c, true, dst, v);
	}
	return 0;
}

/* ---- rewriting before emission ---------------------------------------------------- */

/*
 * What the verifier proved (jit_fact): code no path runs is left out (one
 * jump to a fault stands for a run of it: should the proof ever be wrong,
 * the run stops with an error, the process goes on), and an
 * operation whose result is always the same constant becomes a move of it
 * (a division by a register, say).  Returns true when that replaces the
 * instruction's code.
 */
static bool emit_from_facts(struct jit_ctx *c, uint32_t i, bool *dead_before)
{
	const struct verifier_fact *f = jit_fact(c, i);
	enum isa_op op = (enum isa_op)c->prog->ops[i];
	uint8_t form = isa_ops[op].form;
	bool was_dead = *dead_before;

	*dead_before = false;
	if (!f)
		return false;
	if (!(f->flags & FACT_SEEN)) {
		if (!was_dead) /* a run that gets here stops with an error, as a fault */
			jump_stub(c, CC_JMP, VM_JIT_FAULT_DEAD, NO_REG);
		*dead_before = true;
		return true;
	}
	if (!(f->flags & FACT_CONST) || c->blind ||
	    !(form == F_ALU_K || form == F_ALU_X || form == F_NEG || form == F_END))
		return false;
	mov_imm(c, true, regmap[c->prog->insns[i].dst_reg], f->value);
	return true;
}

/*
 * Constant blinding: rebuild the immediate in r11 from two halves that
 * differ from it, and use the register form of the instruction.  Shift
 * counts stay: they are masked to 6 bits.  Fixed-size encodings, so that
 * both passes emit the same lengths.
 */
static void blind_imm(struct jit_ctx *c, struct bpfvm_insn *in, enum isa_op *op)
{
	uint8_t form = isa_ops[*op].form, aop = BPFVM_OP(in->code);
	uint64_t key;

	if (!in->imm)
		return;
	if (form == F_ALU_K && !isa_alu_is_shift(aop))
		in->code |= BPFVM_X;
	else if (form == F_JCOND_K)
		in->code |= BPFVM_X;
	else if (form == F_ST)
		in->code = (uint8_t)(BPFVM_STX | BPFVM_MEM | BPFVM_SIZE(in->code));
	else
		return;
	key = jit_blind_key(c);
	op_rr(c, X_W, 0xc7, 0, R11);
	b4(c, (uint32_t)in->imm ^ (uint32_t)key);
	op_rr(c, X_W, 0x81, G1_XOR, R11);
	b4(c, (uint32_t)key);
	in->src_reg = AUX;
	in->imm = 0;
	*op = isa_op_of(in);
}

/* ---- dispatch: a case for every row of opcodes.def (-Wswitch checks) ------------- */

#define KX3264(N) case ISA_OP_##N##64_K: case ISA_OP_##N##64_X: case ISA_OP_##N##32_K: \
	case ISA_OP_##N##32_X
#define ATOMICS(S) case ISA_OP_ATOMIC_##S##_ADD: case ISA_OP_ATOMIC_##S##_OR: \
	case ISA_OP_ATOMIC_##S##_AND: case ISA_OP_ATOMIC_##S##_XOR: \
	case ISA_OP_ATOMIC_##S##_FETCH_ADD: case ISA_OP_ATOMIC_##S##_FETCH_OR: \
	case ISA_OP_ATOMIC_##S##_FETCH_AND: case ISA_OP_ATOMIC_##S##_FETCH_XOR: \
	case ISA_OP_ATOMIC_##S##_XCHG: case ISA_OP_ATOMIC_##S##_CMPXCHG

/* The code of one instruction, as blinding left it (inp). */
static int emit_op(struct x86 *x, const struct bpfvm_insn *inp, enum isa_op op, uint32_t i,
		   uint32_t target)
{
	struct jit_ctx *c = x->c;
	struct bpfvm_insn in = *inp;
	const struct bpfvm_insn *orig = &c->prog->insns[i];

	switch (op) {
	KX3264(ADD): KX3264(SUB): KX3264(AND): KX3264(OR): KX3264(XOR): KX3264(MOV):
	KX3264(MUL): KX3264(DIV): KX3264(SDIV): KX3264(MOD): KX3264(SMOD):
	KX3264(LSH): KX3264(RSH): KX3264(ARSH):
	case ISA_OP_NEG64: case ISA_OP_NEG32:
		emit_alu(c, &in, op, i);
		return 0;
	case ISA_OP_MOVSX8_32: case ISA_OP_MOVSX16_32: case ISA_OP_MOVSX8_64:
	case ISA_OP_MOVSX16_64: case ISA_OP_MOVSX32_64:
		emit_movsx(c, op, regmap[in.dst_reg], regmap[in.src_reg]);
		return 0;
	case ISA_OP_LE16: case ISA_OP_LE32: case ISA_OP_LE64: case ISA_OP_BE16: case ISA_OP_BE32:
	case ISA_OP_BE64: case ISA_OP_BSWAP16: case ISA_OP_BSWAP32: case ISA_OP_BSWAP64:
		emit_end(c, op, regmap[in.dst_reg]);
		return 0;
	case ISA_OP_LDX_B: case ISA_OP_LDX_H: case ISA_OP_LDX_W: case ISA_OP_LDX_DW:
	case ISA_OP_LDXS_B: case ISA_OP_LDXS_H: case ISA_OP_LDXS_W:
		if (jit_probes(c, i)) {
			emit_probe_load(c, op, regmap[in.dst_reg], regmap[in.src_reg], in.off);
			return 0;
		}
		emit_load(c, op, regmap[in.dst_reg], mem_at(regmap[in.src_reg], in.off));
		return 0;
	case ISA_OP_LOAD_ACQ_B: case ISA_OP_LOAD_ACQ_H: case ISA_OP_LOAD_ACQ_W:
	case ISA_OP_LOAD_ACQ_DW:
		emit_load(c, op, regmap[in.dst_reg], mem_at(regmap[in.src_reg], in.off));
		return 0;
	case ISA_OP_ST_B: case ISA_OP_ST_H: case ISA_OP_ST_W: case ISA_OP_ST_DW:
		emit_store_imm(c, isa_access_size(in.code), mem_at(regmap[in.dst_reg], in.off), in.imm);
		return 0;
	case ISA_OP_STX_B: case ISA_OP_STX_H: case ISA_OP_STX_W: case ISA_OP_STX_DW:
	case ISA_OP_STORE_REL_B: case ISA_OP_STORE_REL_H: case ISA_OP_STORE_REL_W:
	case ISA_OP_STORE_REL_DW:
		emit_store(c, isa_access_size(in.code), mem_at(regmap[in.dst_reg], in.off),
			   regmap[in.src_reg]);
		return 0;
	ATOMICS(W): ATOMICS(DW):
		emit_atomic(c, &in, regmap[in.dst_reg], regmap[in.src_reg]);
		return 0;
	case ISA_OP_LDABS_B: case ISA_OP_LDABS_H: case ISA_OP_LDABS_W:
	case ISA_OP_LDIND_B: case ISA_OP_LDIND_H: case ISA_OP_LDIND_W:
		emit_ldpkt(c, op, &in);
		return 0;
	case ISA_OP_LDDW:
		return emit_lddw(c, orig, i);
	case ISA_OP_JA: case ISA_OP_JA32:
	KX3264(JEQ): KX3264(JNE): KX3264(JGT): KX3264(JGE): KX3264(JLT): KX3264(JLE):
	KX3264(JSGT): KX3264(JSGE): KX3264(JSLT): KX3264(JSLE): KX3264(JSET):
		jit_x86_jump_to(x, &in, i, target);
		return 0;
	case ISA_OP_MAY_GOTO:
		emit_may_goto(c, target);
		return 0;
	case ISA_OP_CALL_HELPER: case ISA_OP_CALL_LOCAL: case ISA_OP_CALL_KFUNC:
		return emit_call(x, op, &in, i);
	case ISA_OP_CALLX:
		emit_callx(c, regmap[in.dst_reg]);
		return 0;
	case ISA_OP_EXIT:
		emit_unframe(x);
		b1(c, 0xc3);
		return 0;
	case ISA_OP_COUNT: /* also ISA_OP_INVALID: never in a checked program */
		break;
	}
	return jit_refuse(c, i, "the JIT has no translation for this instruction");
}

/* One slot's code: a promoted slot's access, or the operation, with r9 and r10 kept aside if need be. */
int jit_x86_insn(struct x86 *x, uint32_t i)
{
	struct jit_ctx *c = x->c;
	const struct bpfvm_insn *orig = &c->prog->insns[i];
	struct bpfvm_insn in = *orig;
	enum isa_op op = (enum isa_op)c->prog->ops[i];
	uint32_t target = (uint32_t)isa_jump_target(orig, i);
	uint8_t promo = c->promo.at[i];
	int err;

	if (c->blind)
		blind_imm(c, &in, &op);
	if ((promo & JIT_PROMO_SLOT) && (promo & JIT_PROMO_SLOT) <= x->npromo) {
		emit_promoted(c, &in, op, x->promo_reg[(promo & JIT_PROMO_SLOT) - 1],
			      promo & JIT_PROMO_MERGE);
		return 0;
	}
	if (x->promo_scratch && uses_r9_r10(op)) {
		push(c, R9);
		push(c, R10);
		err = emit_op(x, &in, op, i, target);
		pop(c, R10);
		pop(c, R9);
		return err;
	}
	return emit_op(x, &in, op, i, target);
}

#undef KX3264
#undef ATOMICS

/* The cold paths: load the fault's arguments and go to the shared report. */
static int emit_stubs(struct jit_ctx *c)
{
	for (size_t s = 0; s < c->nstubs; s++) {
		const struct jit_stub *st = &c->stubs[s];
		int32_t rel = (int32_t)((int64_t)c->len - (int64_t)(st->pos + 4));

		if (!jit_reserve(c, 32))
			return c->err;
		memcpy(c->buf + st->pos, &rel, 4);
		if (st->reg != NO_REG)
			mov_rr(c, true, RCX, st->reg);
		else
			zero(c, RCX);
		mov_imm(c, false, RDX, st->idx);
		mov_imm(c, false, RSI, st->kind);
		jump(c, CC_JMP, jit_lbl_named(c, JIT_L_FAULT));
	}
	return 0;
}

/*
 * Loop heads start on a 16-byte boundary, where the CPU's front end
 * fetches them best.  The first pass, not knowing where the code will
 * fall, pads by the most it may take, so that no instruction grows in the
 * second (the mapping is page-aligned, so offsets align as addresses do).
 */
static void align_loop_head(struct jit_ctx *c)
{
	static const uint8_t nops[9][9] = {
		{ 0x90 }, { 0x66, 0x90 }, { 0x0f, 0x1f, 0x00 }, { 0x0f, 0x1f, 0x40, 0x00 },
		{ 0x0f, 0x1f, 0x44, 0x00, 0x00 }, { 0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00 },
		{ 0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00 },
		{ 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00 },
		{ 0x66, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00 },
	};
	size_t pad = c->base ? -c->len & 15 : 15;

	while (pad) {
		size_t n = pad > 9 ? 9 : pad;

		memcpy(c->buf + c->len, nops[n - 1], n);
		c->len += n;
		pad -= n;
	}
}

/* What the first pass leaves in c->memo. */
enum { MEMO_UNFUSED = 1 /* no fusion starts at the slot */ };

int jit_arch_emit(struct jit_ctx *c)
{
	const struct bpfvm_prog *prog = c->prog;
	struct x86 x = { .c = c };
	int err = 0;

	c->in_insn = false;
	if (!jit_reserve(c, 256))
		return c->err;
	emit_entry(c);
	for (uint32_t f = 0; f < prog->nfuncs && !err; f++) {
		const struct prog_func *fn = &prog->funcs[f];
		bool dead = false;

		c->in_insn = false;
		if (!jit_reserve(c, 64))
			return c->err;
		jit_place(c, jit_lbl_func(c, f));
		x.fn = fn;
		emit_prologue(&x, f);
		for (uint32_t i = fn->start, n; i < fn->end && !err; i++) {
			if (!jit_reserve(c, 256))
				return c->err;
			c->cur = i;
			c->in_insn = true;
			if (c->is_target[i] & JIT_ALIGN)
				align_loop_head(c);
			jit_place(c, i);
			if (prog->ops[i] == ISA_OP_INVALID || emit_from_facts(c, i, &dead) ||
			    jit_x86_result_unread(c, i))
				continue;
			/* the first pass tried the fusions: the second need not retry */
			if ((c->memo[i] & MEMO_UNFUSED) || jit_probes(c, i) ||
			    (!(n = jit_x86_fused_live(&x, i, fn->end)) &&
			     !(n = jit_x86_fused(c, i, fn->end)))) {
				c->memo[i] |= MEMO_UNFUSED;
				err = jit_x86_insn(&x, i);
				continue;
			}
			while (--n) /* the fused slots: no jump lands there */
				jit_place(c, ++i);
		}
	}
	c->in_insn = false;
	jit_place(c, prog->cnt);
	return err ? err : emit_stubs(c);
}

uint32_t jit_arch_features(void)
{
	unsigned a, b, c, d;

	if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
		return 0;
	return (b & (1u << 8) ? VM_JIT_BMI2 : 0) | (b & (1u << 3) ? VM_JIT_BMI1 : 0);
}

#endif /* VM_JIT_HAVE_ARCH */
