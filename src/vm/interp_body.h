/*
 * interp_body.h - the interpreter, written once.  interp.c includes this
 * file twice:
 *   INTERP_CHECKED 1, XINSN struct vm_cinsn: every memory access checked
 *     against the run's regions, every register read against the registers
 *     written, the instruction count against a limit;
 *   INTERP_CHECKED 0, XINSN struct vm_uinsn: no checks, for trusted or
 *     verified programs.
 * Dispatch is direct threading: each pre-decoded instruction holds the
 * address of its handler (computed goto), as Lua's ljumptab.h does.
 * Called with s->code == NULL, the function only hands out its label
 * table, which the pre-decoder needs to thread the code.
 */

static int INTERP_NAME(struct interp_state *s)
{
	static const void *const labels[VM_OP_COUNT] = {
#define OP(ID, ...) [ISA_OP_##ID] = &&L_##ID,
#include "../isa/opcodes.def"
#undef OP
		[VM_OP_TAIL_CALL] = &&L_TAIL_CALL,
#define E(ID, T) [VM_OP_PROBE_##ID] = &&L_PROBE_##ID,
	PROBE_LDX_OPS(E)
#undef E
#if !INTERP_CHECKED /* fused instructions run unchecked only */
#define E(ID) [VM_OP_MOVX_##ID##64_K] = &&L_MOVX_##ID##64_K, [VM_OP_MOVX_##ID##64_X] = &&L_MOVX_##ID##64_X, \
	[VM_OP_MOVX_##ID##32_K] = &&L_MOVX_##ID##32_K, [VM_OP_MOVX_##ID##32_X] = &&L_MOVX_##ID##32_X,
	FUSE_ALU_OPS(E)
#undef E
#define E(ID, SIGN, REL, OP) [VM_OP_ADDK_##ID##64_K] = &&L_ADDK_##ID##64_K, [VM_OP_ADDK_##ID##32_K] = &&L_ADDK_##ID##32_K,
	FUSE_JCC_OPS(E)
#undef E
#define E(ID, T) [VM_OP_ADDX_##ID] = &&L_ADDX_##ID,
	FUSE_LDX_OPS(E)
#undef E
#define E(ID, T) [VM_OP_MOVADDX_##ID] = &&L_MOVADDX_##ID, [VM_OP_MOVKADDX_##ID] = &&L_MOVKADDX_##ID,
	FUSE_LDX_OPS(E)
	FUSE_STX_OPS(E)
#undef E
#define E(ID, LD, ADD, ST, T, W) [VM_OP_INC_##ID] = &&L_INC_##ID,
	FUSE_INC_OPS(E)
#undef E
		[VM_OP_ZEXT] = &&L_ZEXT, [VM_OP_MOV_ZEXT] = &&L_MOV_ZEXT,
		[VM_OP_MOVK64_JA] = &&L_MOVK64_JA, [VM_OP_MOVK32_JA] = &&L_MOVK32_JA,
#endif
	};
	struct interp_frame frames[BPFVM_MAX_CALL_FRAMES];
	uint8_t stack[BPFVM_MAX_CALL_FRAMES * BPFVM_STACK_SIZE] __attribute__((aligned(16)));
	uint64_t reg[BPFVM_NREGS];
	uint32_t may_goto = BPFVM_MAX_LOOPS;
	unsigned depth = 0;
	const XINSN *pc, *callee;
#if INTERP_CHECKED
	uint64_t budget = s->insn_limit;
	uint16_t init = REGBIT(1) | REGBIT(2) | REGBIT(10) | s->init_args;
#endif

	if (!s->code) {
		s->labels = labels;
		return 0;
	}
	pc = s->code;
	memset(reg, 0, sizeof(reg));
	reg[1] = s->r1;
	reg[2] = s->r2;
	reg[3] = s->r3;   /* callbacks get r3-r5 too (vm_call_function) */
	reg[4] = s->r4;
	reg[5] = s->r5;
	/* Frame i's 512 bytes lie below frame i-1's: the main frame is the top. */
	reg[10] = (uintptr_t)stack + sizeof(stack);
#if INTERP_CHECKED
	memset(stack, 0, sizeof(stack));
	if (!vm_run_add_region(s->run, stack, sizeof(stack), true, "stack"))
		return -ENOMEM;
#endif

#define DST reg[pc->dst]
#define SRC reg[pc->src]
#define IMM pc->imm
#define OFF pc->off
#define vmcase(ID) L_##ID:
#if INTERP_CHECKED
#define INSN_IDX pc->idx
#define vmdispatch()                                               \
	do {                                                       \
		if (!budget--)                                     \
			return fault_limit(s, pc->idx);            \
		if (pc->reads & ~init)                             \
			return fault_uninit(s, pc->idx, pc->reads & ~init); \
		init |= pc->writes;                                \
		goto *pc->label;                                   \
	} while (0)
#define MEMCHECK(addr, size, write)                                          \
	do {                                                                 \
		if (!vm_run_access_ok(s->run, (addr), (size), (write)))      \
			return fault_mem(s, pc->idx, (addr), (size), (write)); \
	} while (0)
#define ALIGNCHECK(addr, size)                                           \
	do {                                                             \
		if ((addr) & ((size) - 1))                               \
			return fault_align(s, pc->idx, (addr), (size));  \
	} while (0)
#else
#define INSN_IDX ((uint32_t)(pc - (const XINSN *)s->base))
#define vmdispatch() goto *pc->label
#define MEMCHECK(addr, size, write) ((void)0)
#define ALIGNCHECK(addr, size) ((void)0)
#endif
#define vmbreak    \
	pc++;      \
	vmdispatch()

	vmdispatch();

	/* ALU: 64-bit operands, and 32-bit ones whose result is zero-extended. */
#define ALU(ID, CODE, KIND, EXPR64, EXPR32)                                              \
	vmcase(ID##64_K) { DST = isa_alu64_##ID(DST, (uint64_t)(int64_t)IMM); vmbreak; }         \
	vmcase(ID##64_X) { DST = isa_alu64_##ID(DST, SRC); vmbreak; }                            \
	vmcase(ID##32_K) { DST = isa_alu32_##ID((uint32_t)DST, (uint32_t)IMM); vmbreak; }        \
	vmcase(ID##32_X) { DST = isa_alu32_##ID((uint32_t)DST, (uint32_t)SRC); vmbreak; }
	ISA_ALU_OPS(ALU)
#undef ALU
	vmcase(NEG64) { DST = isa_neg64(DST); vmbreak; }
	vmcase(NEG32) { DST = isa_neg32((uint32_t)DST); vmbreak; }
	vmcase(MOVSX8_64) { DST = (uint64_t)(int64_t)(int8_t)SRC; vmbreak; }
	vmcase(MOVSX16_64) { DST = (uint64_t)(int64_t)(int16_t)SRC; vmbreak; }
	vmcase(MOVSX32_64) { DST = (uint64_t)(int64_t)(int32_t)SRC; vmbreak; }
	vmcase(MOVSX8_32) { DST = (uint32_t)(int32_t)(int8_t)SRC; vmbreak; }
	vmcase(MOVSX16_32) { DST = (uint32_t)(int32_t)(int16_t)SRC; vmbreak; }
#define ENDIAN(ID, BITS, FN) vmcase(ID##BITS) { DST = FN(DST, BITS); vmbreak; }
	ENDIAN(LE, 16, bpf_to_le) ENDIAN(LE, 32, bpf_to_le) ENDIAN(LE, 64, bpf_to_le)
	ENDIAN(BE, 16, bpf_to_be) ENDIAN(BE, 32, bpf_to_be) ENDIAN(BE, 64, bpf_to_be)
	ENDIAN(BSWAP, 16, bpf_bswap) ENDIAN(BSWAP, 32, bpf_bswap) ENDIAN(BSWAP, 64, bpf_bswap)
#undef ENDIAN

	/* Jumps.  vmbreak adds the 1 that every jump offset is relative to. */
	vmcase(JA) { pc += OFF; vmbreak; }
	vmcase(JA32) { pc += IMM; vmbreak; }
#define JCOND(ID, SIGN, REL, OP)                                                            \
	vmcase(ID##64_K) { if (isa_jmp64_##ID(DST, (uint64_t)(int64_t)IMM)) pc += OFF; vmbreak; }   \
	vmcase(ID##64_X) { if (isa_jmp64_##ID(DST, SRC)) pc += OFF; vmbreak; }                      \
	vmcase(ID##32_K) { if (isa_jmp32_##ID((uint32_t)DST, (uint32_t)IMM)) pc += OFF; vmbreak; }  \
	vmcase(ID##32_X) { if (isa_jmp32_##ID((uint32_t)DST, (uint32_t)SRC)) pc += OFF; vmbreak; }
	ISA_JMP_OPS(JCOND)
#undef JCOND
	vmcase(MAY_GOTO) {
		if (may_goto == 0)
			pc += OFF;
		else
			may_goto--;
		vmbreak;
	}

	/* Loads and stores: memcpy, so unaligned addresses are defined. */
#define LDX(ID, T)                                                  \
	vmcase(ID) {                                                \
		uint64_t a = SRC + (uint64_t)(int64_t)OFF;          \
		T v;                                                \
		MEMCHECK(a, sizeof(T), false);                      \
		memcpy(&v, (const void *)(uintptr_t)a, sizeof(T));  \
		DST = (uint64_t)v;                                  \
		vmbreak;                                            \
	}
	LDX(LDX_B, uint8_t) LDX(LDX_H, uint16_t) LDX(LDX_W, uint32_t) LDX(LDX_DW, uint64_t)
	LDX(LDXS_B, int8_t) LDX(LDXS_H, int16_t) LDX(LDXS_W, int32_t)
#undef LDX
	/*
	 * Through a BTF-typed pointer, as the kernel's BPF_PROBE_MEM: memory
	 * only where the run's kernel objects lie (the span leaves room for
	 * 8 bytes past its end), 0 for any other address.
	 */
#define PROBE(ID, T)                                                                  \
	vmcase(PROBE_##ID) {                                                          \
		uint64_t a = SRC + (uint64_t)(int64_t)OFF;                             \
		T v = 0;                                                              \
		if (a - s->run->kmem_start < s->run->kmem_size)                        \
			memcpy(&v, (const void *)(uintptr_t)a, sizeof(T));             \
		DST = (uint64_t)v;                                                    \
		vmbreak;                                                              \
	}
	PROBE_LDX_OPS(PROBE)
#undef PROBE
#define STORE(ID, T, VALUE)                                         \
	vmcase(ID) {                                                \
		uint64_t a = DST + (uint64_t)(int64_t)OFF;          \
		T v = (T)(VALUE);                                   \
		MEMCHECK(a, sizeof(T), true);                       \
		memcpy((void *)(uintptr_t)a, &v, sizeof(T));        \
		vmbreak;                                            \
	}
	STORE(ST_B, uint8_t, IMM) STORE(ST_H, uint16_t, IMM)
	STORE(ST_W, uint32_t, IMM) STORE(ST_DW, uint64_t, (int64_t)IMM)
	STORE(STX_B, uint8_t, SRC) STORE(STX_H, uint16_t, SRC)
	STORE(STX_W, uint32_t, SRC) STORE(STX_DW, uint64_t, SRC)
#undef STORE

	/* Atomics: sequentially consistent, as the kernel's fetch forms are. */
#define ATOMIC_PTR(T, BASE, WRITE)                                           \
	uint64_t a = (BASE) + (uint64_t)(int64_t)OFF;                       \
	MEMCHECK(a, sizeof(T), WRITE);                                      \
	ALIGNCHECK(a, sizeof(T));                                           \
	T *p = (T *)(uintptr_t)a
#define ATOMIC_RMW(SZ, T, NAME, FN)                                                    \
	vmcase(ATOMIC_##SZ##_##NAME) { ATOMIC_PTR(T, DST, true); FN(p, (T)SRC, __ATOMIC_SEQ_CST); vmbreak; } \
	vmcase(ATOMIC_##SZ##_FETCH_##NAME) {                                           \
		ATOMIC_PTR(T, DST, true);                                                    \
		SRC = (uint64_t)FN(p, (T)SRC, __ATOMIC_SEQ_CST);                       \
		vmbreak;                                                               \
	}
#define ATOMICS(SZ, T)                                                                  \
	ATOMIC_RMW(SZ, T, ADD, __atomic_fetch_add) ATOMIC_RMW(SZ, T, OR, __atomic_fetch_or) \
	ATOMIC_RMW(SZ, T, AND, __atomic_fetch_and) ATOMIC_RMW(SZ, T, XOR, __atomic_fetch_xor) \
	vmcase(ATOMIC_##SZ##_XCHG) {                                                    \
		ATOMIC_PTR(T, DST, true);                                                     \
		SRC = (uint64_t)__atomic_exchange_n(p, (T)SRC, __ATOMIC_SEQ_CST);       \
		vmbreak;                                                                \
	}                                                                               \
	vmcase(ATOMIC_##SZ##_CMPXCHG) {                                                 \
		ATOMIC_PTR(T, DST, true);                                                     \
		T expected = (T)reg[0];                                                 \
		__atomic_compare_exchange_n(p, &expected, (T)SRC, false, __ATOMIC_SEQ_CST, \
					    __ATOMIC_SEQ_CST);                          \
		reg[0] = (uint64_t)expected;                                            \
		vmbreak;                                                                \
	}
	ATOMICS(W, uint32_t)
	ATOMICS(DW, uint64_t)
#undef ATOMICS
#undef ATOMIC_RMW
#define ACQ_REL(SZ, T)                                                                   \
	vmcase(LOAD_ACQ_##SZ) {                                                          \
		ATOMIC_PTR(T, SRC, false);                                               \
		DST = (uint64_t)__atomic_load_n(p, __ATOMIC_ACQUIRE);                    \
		vmbreak;                                                                 \
	}                                                                                \
	vmcase(STORE_REL_##SZ) { ATOMIC_PTR(T, DST, true); __atomic_store_n(p, (T)SRC, __ATOMIC_RELEASE); vmbreak; }
	ACQ_REL(B, uint8_t) ACQ_REL(H, uint16_t) ACQ_REL(W, uint32_t) ACQ_REL(DW, uint64_t)
#undef ACQ_REL
#undef ATOMIC_PTR

#if !INTERP_CHECKED
	/*
	 * Super-instructions: a fused handler reads the later slots' fields
	 * from pc[1], pc[2].  Only the unchecked pre-decoder fuses; a checked
	 * run checks each instruction on its own.
	 */
#define E(ID)                                                                                       \
	vmcase(MOVX_##ID##64_K) { DST = isa_alu64_##ID(SRC, (uint64_t)(int64_t)pc[1].imm); pc++; vmbreak; } \
	vmcase(MOVX_##ID##64_X) { DST = isa_alu64_##ID(SRC, reg[pc[1].src]); pc++; vmbreak; }           \
	vmcase(MOVX_##ID##32_K) { DST = isa_alu32_##ID((uint32_t)SRC, (uint32_t)pc[1].imm); pc++; vmbreak; } \
	vmcase(MOVX_##ID##32_X) { DST = isa_alu32_##ID((uint32_t)SRC, (uint32_t)reg[pc[1].src]); pc++; vmbreak; }
	FUSE_ALU_OPS(E)
#undef E
#define E(ID, SIGN, REL, OP)                                                                        \
	vmcase(ADDK_##ID##64_K) {                                                                   \
		uint64_t v = isa_alu64_ADD(DST, (uint64_t)(int64_t)IMM);                            \
		DST = v;                                                                            \
		pc++;                                                                               \
		if (isa_jmp64_##ID(v, (uint64_t)(int64_t)IMM)) pc += OFF;                           \
		vmbreak;                                                                            \
	}                                                                                           \
	vmcase(ADDK_##ID##32_K) {                                                                   \
		uint32_t v = isa_alu32_ADD((uint32_t)DST, (uint32_t)IMM);                           \
		DST = v;                                                                            \
		pc++;                                                                               \
		if (isa_jmp32_##ID(v, (uint32_t)IMM)) pc += OFF;                                    \
		vmbreak;                                                                            \
	}
	FUSE_JCC_OPS(E)
#undef E
#define E(ID, T)                                                                                    \
	vmcase(ADDX_##ID) {                                                                         \
		uint64_t a = DST + SRC;                                                             \
		DST = a;                                                                            \
		pc++;                                                                               \
		ACCESS_AT(T, a);                                                                    \
		vmbreak;                                                                            \
	}
	/* indexed accesses: the address register is set first, the loaded or stored one after */
#define INDEXED(ID, T)                                                                              \
	vmcase(MOVADDX_##ID) {                                                                      \
		uint64_t a = SRC + reg[pc[1].src];                                                  \
		DST = a;                                                                            \
		pc += 2;                                                                            \
		ACCESS_AT(T, a);                                                                    \
		vmbreak;                                                                            \
	}                                                                                           \
	vmcase(MOVKADDX_##ID) {                                                                     \
		uint64_t a = SRC + (uint64_t)(int64_t)pc[1].imm + reg[pc[2].src];                   \
		DST = a;                                                                            \
		pc += 3;                                                                            \
		ACCESS_AT(T, a);                                                                    \
		vmbreak;                                                                            \
	}
#define ACCESS_AT(T, a)                                                                             \
	do {                                                                                        \
		T v;                                                                                \
		memcpy(&v, (const void *)(uintptr_t)((a) + (uint64_t)(int64_t)OFF), sizeof(T));     \
		DST = (uint64_t)v;                                                                  \
	} while (0)
	FUSE_LDX_OPS(E)
	FUSE_LDX_OPS(INDEXED)
#undef ACCESS_AT
#define ACCESS_AT(T, a)                                                                             \
	do {                                                                                        \
		T v = (T)SRC;                                                                       \
		memcpy((void *)(uintptr_t)((a) + (uint64_t)(int64_t)OFF), &v, sizeof(T));           \
	} while (0)
	FUSE_STX_OPS(INDEXED)
#undef ACCESS_AT
#undef INDEXED
#undef E
	/* v: the loaded value, k: the constant; the register keeps what is stored */
#define E(ID, LD, ADD, ST, T, W)                                                                    \
	vmcase(INC_##ID) {                                                                          \
		T mem;                                                                              \
		uint64_t v, k = (uint64_t)(int64_t)pc[1].imm;                                       \
		void *p = (void *)(uintptr_t)(SRC + (uint64_t)(int64_t)OFF);                        \
		memcpy(&mem, p, sizeof(T));                                                         \
		v = mem;                                                                            \
		DST = v = isa_alu##W##_ADD(v, k);                                                   \
		mem = (T)v;                                                                         \
		memcpy(p, &mem, sizeof(T));                                                         \
		pc += 2;                                                                            \
		vmbreak;                                                                            \
	}
	FUSE_INC_OPS(E)
#undef E
	vmcase(MOVK64_JA) { DST = (uint64_t)(int64_t)IMM; pc++; pc += OFF; vmbreak; }
	vmcase(MOVK32_JA) { DST = (uint32_t)IMM; pc++; pc += OFF; vmbreak; }

	vmcase(ZEXT) { DST = (uint32_t)DST; pc++; vmbreak; }
	vmcase(MOV_ZEXT) { DST = (uint32_t)SRC; pc += 2; vmbreak; }
#endif

	vmcase(LDDW) {
		DST = (uint32_t)pc[0].imm | (uint64_t)(uint32_t)pc[1].imm << 32;
		pc++;
		vmbreak;
	}

	/* Legacy packet loads: big-endian; out of bounds ends the program with 0. */
#define LDPKT(ID, T, OFFSET, SWAP)                                                      \
	vmcase(ID) {                                                                    \
		int64_t o = (OFFSET);                                                   \
		T v;                                                                    \
		if (o < 0 || (uint64_t)o > s->run->pkt_len || sizeof(T) > s->run->pkt_len - (uint64_t)o) { \
			reg[0] = 0;                                                     \
			goto exit_program;                                              \
		}                                                                       \
		memcpy(&v, s->run->pkt + o, sizeof(T));                                 \
		reg[0] = SWAP(v);                                                       \
		CLOBBER_ARGS();                                                         \
		vmbreak;                                                                \
	}
#if INTERP_CHECKED
#define CLOBBER_ARGS() (init &= ~ARG_REGS)
#else
#define CLOBBER_ARGS() ((void)0)
#endif
#define NOSWAP(v) (v)
	LDPKT(LDABS_B, uint8_t, (int32_t)IMM, NOSWAP)
	LDPKT(LDABS_H, uint16_t, (int32_t)IMM, __builtin_bswap16)
	LDPKT(LDABS_W, uint32_t, (int32_t)IMM, __builtin_bswap32)
	LDPKT(LDIND_B, uint8_t, (int32_t)((uint32_t)SRC + (uint32_t)IMM), NOSWAP)
	LDPKT(LDIND_H, uint16_t, (int32_t)((uint32_t)SRC + (uint32_t)IMM), __builtin_bswap16)
	LDPKT(LDIND_W, uint32_t, (int32_t)((uint32_t)SRC + (uint32_t)IMM), __builtin_bswap32)
#undef NOSWAP
#undef LDPKT

	/* Calls. */
	vmcase(CALL_HELPER) {
#if INTERP_CHECKED
		s->run->budget = budget;   /* callbacks a helper runs spend from it */
#endif
		reg[0] = s->helpers[IMM].fn(reg[1], reg[2], reg[3], reg[4], reg[5], s->run);
#if INTERP_CHECKED
		budget = s->run->budget;
		if (s->run->fault)
			return fault_helper(s, pc->idx);
#endif
		CLOBBER_ARGS();
		vmbreak;
	}
	vmcase(CALL_KFUNC) {
		/* The pre-decoder refuses kfunc calls; nothing reaches here. */
		return -ENOTSUP;
	}
	vmcase(CALLX) {
		uint64_t target = DST;

		callee = (const XINSN *)callx_function(s, target);
		if (callee) /* a function's address, from lddw with src 4 */
			goto call_local;
		if (target > BPFVM_MAX_HELPER_ID || !s->helpers[target].fn)
			return fault_callx(s, INSN_IDX, target);
#if INTERP_CHECKED
		s->run->budget = budget;
#endif
		reg[0] = s->helpers[target].fn(reg[1], reg[2], reg[3], reg[4], reg[5], s->run);
#if INTERP_CHECKED
		budget = s->run->budget;
		if (s->run->fault)
			return fault_helper(s, pc->idx);
#endif
		CLOBBER_ARGS();
		vmbreak;
	}
	vmcase(CALL_LOCAL) {
		callee = pc + IMM + 1;
	call_local:
		if (depth + 1 >= BPFVM_MAX_CALL_FRAMES)
			return fault_depth(s, INSN_IDX, depth + 2);
		frames[depth].ret = pc;
		memcpy(frames[depth].saved, &reg[6], sizeof(frames[depth].saved));
		frames[depth].may_goto = may_goto;
#if INTERP_CHECKED
		frames[depth].init = init;
		init = (init & ARG_REGS) | REGBIT(10);
#endif
		depth++;
		reg[10] -= BPFVM_STACK_SIZE;
		may_goto = BPFVM_MAX_LOOPS;
		pc = callee;
		vmdispatch();
	}
	vmcase(EXIT) {
		if (depth == 0)
			goto exit_program;
		depth--;
		pc = frames[depth].ret;
		memcpy(&reg[6], frames[depth].saved, sizeof(frames[depth].saved));
		reg[10] += BPFVM_STACK_SIZE;
		may_goto = frames[depth].may_goto;
#if INTERP_CHECKED
		init = (frames[depth].init & ~ARG_REGS) | REGBIT(0);
#endif
		vmbreak;
	}
	vmcase(TAIL_CALL) {
		const XINSN *next = (const XINSN *)tail_call_target(s, reg[2], reg[3]);


#if INTERP_CHECKED
		if (s->run->fault)   /* r2 was not a program array */
			return fault_helper(s, pc->idx);
#endif
		if (!next) {
			/* As in the kernel, a tail call that fails falls through. */
			CLOBBER_ARGS();
			vmbreak;
		}
		pc = next;
		vmdispatch();
	}

exit_program:
#if INTERP_CHECKED
	s->executed = s->insn_limit - budget;
#endif
	s->retval = reg[0];
	return 0;

#undef DST
#undef SRC
#undef IMM
#undef OFF
#undef vmcase
#undef INSN_IDX
#undef vmdispatch
#undef vmbreak
#undef MEMCHECK
#undef ALIGNCHECK
#undef CLOBBER_ARGS
}
