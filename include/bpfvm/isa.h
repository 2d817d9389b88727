/*
 * bpfvm/isa.h - the eBPF instruction format and its numeric constants.
 *
 * The numbers are the Linux kernel's (<linux/bpf.h>, RFC 9669) so that
 * bytecode built for the kernel runs unchanged; tests/unit/test_constants.c
 * checks them against the kernel headers.  The names carry a BPFVM_ prefix
 * so this header can be included next to <linux/bpf.h>.
 *
 * One instruction is 64 bits, in memory order:
 *
 *    7       0 11   8 15  12 31              16 63                          32
 *   +---------+------+------+------------------+------------------------------+
 *   | opcode  | dst  | src  | offset (s16)     | immediate (s32)              |
 *   +---------+------+------+------------------+------------------------------+
 *
 * The opcode byte is  op:4 | source:1 | class:3  for ALU and jumps, and
 * mode:3 | size:2 | class:3  for loads and stores.  `lddw` takes two slots;
 * the second holds the upper 32 bits of the constant in its immediate.
 */
#ifndef BPFVM_ISA_H
#define BPFVM_ISA_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct bpfvm_insn {
	uint8_t code;
	uint8_t dst_reg : 4;
	uint8_t src_reg : 4;
	int16_t off;
	int32_t imm;
};

/* Instruction classes. */
#define BPFVM_LD 0x00
#define BPFVM_LDX 0x01
#define BPFVM_ST 0x02
#define BPFVM_STX 0x03
#define BPFVM_ALU 0x04
#define BPFVM_JMP 0x05
#define BPFVM_JMP32 0x06
#define BPFVM_ALU64 0x07
#define BPFVM_CLASS(code) ((code) & 0x07)

/* Load/store sizes and modes. */
#define BPFVM_W 0x00
#define BPFVM_H 0x08
#define BPFVM_B 0x10
#define BPFVM_DW 0x18
#define BPFVM_SIZE(code) ((code) & 0x18)
#define BPFVM_IMM 0x00
#define BPFVM_ABS 0x20
#define BPFVM_IND 0x40
#define BPFVM_MEM 0x60
#define BPFVM_MEMSX 0x80
#define BPFVM_ATOMIC 0xc0
#define BPFVM_MODE(code) ((code) & 0xe0)

/* ALU and jump operations, and the source bit. */
#define BPFVM_K 0x00
#define BPFVM_X 0x08
#define BPFVM_SRC(code) ((code) & 0x08)
#define BPFVM_OP(code) ((code) & 0xf0)
#define BPFVM_ADD 0x00
#define BPFVM_SUB 0x10
#define BPFVM_MUL 0x20
#define BPFVM_DIV 0x30
#define BPFVM_OR 0x40
#define BPFVM_AND 0x50
#define BPFVM_LSH 0x60
#define BPFVM_RSH 0x70
#define BPFVM_NEG 0x80
#define BPFVM_MOD 0x90
#define BPFVM_XOR 0xa0
#define BPFVM_MOV 0xb0
#define BPFVM_ARSH 0xc0
#define BPFVM_END 0xd0
#define BPFVM_TO_LE 0x00
#define BPFVM_TO_BE 0x08
#define BPFVM_JA 0x00
#define BPFVM_JEQ 0x10
#define BPFVM_JGT 0x20
#define BPFVM_JGE 0x30
#define BPFVM_JSET 0x40
#define BPFVM_JNE 0x50
#define BPFVM_JSGT 0x60
#define BPFVM_JSGE 0x70
#define BPFVM_CALL 0x80
#define BPFVM_EXIT 0x90
#define BPFVM_JLT 0xa0
#define BPFVM_JLE 0xb0
#define BPFVM_JSLT 0xc0
#define BPFVM_JSLE 0xd0
#define BPFVM_JCOND 0xe0

/* Atomic operations, in the immediate of BPFVM_STX | BPFVM_ATOMIC. */
#define BPFVM_FETCH 0x01
#define BPFVM_XCHG (0xe0 | BPFVM_FETCH)
#define BPFVM_CMPXCHG (0xf0 | BPFVM_FETCH)
#define BPFVM_LOAD_ACQ 0x100
#define BPFVM_STORE_REL 0x110

/* src_reg of lddw: what the 64-bit immediate refers to. */
#define BPFVM_PSEUDO_MAP_FD 1
#define BPFVM_PSEUDO_MAP_VALUE 2
#define BPFVM_PSEUDO_BTF_ID 3
#define BPFVM_PSEUDO_FUNC 4
#define BPFVM_PSEUDO_MAP_IDX 5
#define BPFVM_PSEUDO_MAP_IDX_VALUE 6

/* src_reg of call: a helper by id, a bpf-to-bpf call, a kernel function. */
#define BPFVM_PSEUDO_CALL 1
#define BPFVM_PSEUDO_KFUNC_CALL 2

/* src_reg of BPFVM_JCOND. */
#define BPFVM_MAY_GOTO 0

/* Registers, and the execution model's limits (the kernel's). */
#define BPFVM_NREGS 11
#define BPFVM_REG_FP 10
#define BPFVM_STACK_SIZE 512     /* MAX_BPF_STACK: shared by a call chain */
#define BPFVM_MAX_CALL_FRAMES 8  /* MAX_CALL_FRAMES */
#define BPFVM_MAX_TAIL_CALLS 33  /* MAX_TAIL_CALL_CNT */
#define BPFVM_MAX_LOOPS (8 * 1024 * 1024) /* BPF_MAX_LOOPS, for may_goto */

/* Constructors, as the kernel's filter.h spells them. */
#define BPFVM_RAW_INSN(CODE, DST, SRC, OFF, IMM) \
	((struct bpfvm_insn){ .code = (CODE), .dst_reg = (DST), .src_reg = (SRC), .off = (OFF), .imm = (IMM) })
#define BPFVM_ALU64_IMM(OP, DST, IMM) BPFVM_RAW_INSN(BPFVM_ALU64 | (OP) | BPFVM_K, DST, 0, 0, IMM)
#define BPFVM_ALU64_REG(OP, DST, SRC) BPFVM_RAW_INSN(BPFVM_ALU64 | (OP) | BPFVM_X, DST, SRC, 0, 0)
#define BPFVM_ALU32_IMM(OP, DST, IMM) BPFVM_RAW_INSN(BPFVM_ALU | (OP) | BPFVM_K, DST, 0, 0, IMM)
#define BPFVM_ALU32_REG(OP, DST, SRC) BPFVM_RAW_INSN(BPFVM_ALU | (OP) | BPFVM_X, DST, SRC, 0, 0)
#define BPFVM_MOV64_IMM(DST, IMM) BPFVM_ALU64_IMM(BPFVM_MOV, DST, IMM)
#define BPFVM_MOV64_REG(DST, SRC) BPFVM_ALU64_REG(BPFVM_MOV, DST, SRC)
#define BPFVM_LDX_MEM(SIZE, DST, SRC, OFF) BPFVM_RAW_INSN(BPFVM_LDX | BPFVM_MEM | (SIZE), DST, SRC, OFF, 0)
#define BPFVM_STX_MEM(SIZE, DST, SRC, OFF) BPFVM_RAW_INSN(BPFVM_STX | BPFVM_MEM | (SIZE), DST, SRC, OFF, 0)
#define BPFVM_ST_MEM(SIZE, DST, OFF, IMM) BPFVM_RAW_INSN(BPFVM_ST | BPFVM_MEM | (SIZE), DST, 0, OFF, IMM)
#define BPFVM_JMP_IMM(OP, DST, IMM, OFF) BPFVM_RAW_INSN(BPFVM_JMP | (OP) | BPFVM_K, DST, 0, OFF, IMM)
#define BPFVM_JMP_REG(OP, DST, SRC, OFF) BPFVM_RAW_INSN(BPFVM_JMP | (OP) | BPFVM_X, DST, SRC, OFF, 0)
#define BPFVM_CALL_HELPER(ID) BPFVM_RAW_INSN(BPFVM_JMP | BPFVM_CALL, 0, 0, 0, ID)
#define BPFVM_EXIT_INSN() BPFVM_RAW_INSN(BPFVM_JMP | BPFVM_EXIT, 0, 0, 0, 0)
#define BPFVM_LD_IMM64_RAW(DST, SRC, IMM64)                                              \
	BPFVM_RAW_INSN(BPFVM_LD | BPFVM_DW | BPFVM_IMM, DST, SRC, 0, (int32_t)(uint32_t)(IMM64)), \
		BPFVM_RAW_INSN(0, 0, 0, 0, (int32_t)(uint32_t)((uint64_t)(IMM64) >> 32))

#ifdef __cplusplus
}
#endif

#endif
