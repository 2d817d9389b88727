/*
 * syntax.h - the text shape of every operation, in the two assembly
 * syntaxes bpfvm reads and writes, derived from the rows of opcodes.def.
 * The disassembler prints these shapes and the assembler matches them, so
 * the two cannot drift apart.
 *
 * llvm-objdump's syntax is a template per operation: literal text with
 * placeholders for the fields ("%d = *(%z *)(%s %o)").  A space in a
 * template prints as one space and, when parsing, matches any run of
 * blanks (or none).  Placeholders:
 *
 *   %d %s   dst / src register, with the operation's r or w prefix
 *   %e %t   the same register as %d / %s, written again ("r1 = -r1")
 *   %i      imm, signed ("0x5", "-0x5")
 *   %u      ld_pseudo's constant, unsigned: llvm-objdump prints the low
 *           32 bits only; strict mode prints all 64 when the high half is
 *           set (the offset of a map value)
 *   %m      imm as an offset: "+ 0x4", "- 0x4" (ld_ind's, when not zero)
 *   %x      src as a number (ld_pseudo's pseudo kind)
 *   %q      the 64-bit constant of lddw, signed
 *   %o      memory offset: "+ 0x4", "- 0x4"
 *   %j      jump offset in off: "+0x3", "-0x3", or a label
 *   %J      jump offset in imm (gotol)
 *   %k      a call's imm, or a label for a bpf-to-bpf call
 *   %z      the access type: u8 .. u64, s8 .. s32
 *   %p      the operation's own text: "+=", "s>>=", "le16", "==", "add"
 *
 * The conformance suite's syntax is the row's mnemonic followed by
 * comma-separated operands of the kinds a per-form spec lists (see
 * syntax_conf_operands).
 */
#ifndef BPFVM_ISA_SYNTAX_H
#define BPFVM_ISA_SYNTAX_H

#include <stdbool.h>

#include "opcode.h"

/*
 * The llvm-objdump template of an operation.  Two have a second shape
 * (variant 1): lddw with a pseudo kind in src ("ld_pseudo"), and ld_ind
 * with a non-zero imm, which LLVM never emits and its text leaves out.
 * Other operations return NULL for variant 1.
 */
const char *syntax_llvm_template(enum isa_op op, unsigned variant);

/* What %p stands for in the operation's template ("" if unused). */
const char *syntax_llvm_optext(enum isa_op op);

/* What %z stands for: "u32", "s16", ... ("" if unused). */
const char *syntax_llvm_size(enum isa_op op);

/* The register prefix llvm-objdump prints for dst (%d) and src (%s). */
char syntax_llvm_dst_prefix(enum isa_op op);
char syntax_llvm_src_prefix(enum isa_op op);

/*
 * Whether the register prefix must be the one printed.  It is cosmetic
 * only for loads, stores and atomics, whose width is in the opcode: LLVM's
 * alu32 mode writes "w1 = *(u32 *)(r2 + 0x0)" for the same load as
 * "r1 = ...".  Elsewhere w1 += 1 is not r1 += 1.
 */
bool syntax_llvm_prefix_matters(enum isa_op op);

/*
 * The Linux kernel's text of an operation, as its verifier log prints
 * instructions (kernel/bpf/disasm.c's shapes, Linux 6.18): output only,
 * nothing parses it.  Placeholders as llvm's, with these meanings:
 *   %d %s %e %t  registers, w for 32-bit ALU and JMP32 only
 *   %i           imm in signed decimal ("-4")
 *   %h           imm as unsigned 32-bit hex ("0xffffffff"): a jump's
 *   %q           lddw's 64-bit constant in unsigned hex
 *   %o           memory offset: "+4", "-8", "+0"
 *   %j %J        jump offset in off / imm: "pc+3", "pc-1"
 *   %k           a call's target: "bpf_map_lookup_elem#1", "pc+5"
 *   %W           "64" for a 64-bit atomic, else ""
 *   %z %p        as llvm's
 */
const char *syntax_kernel_template(enum isa_op op);
char syntax_kernel_prefix(enum isa_op op);

/*
 * The conformance syntax's operands of an operation, one letter each:
 *   d s   register (dst, src)              i  imm (32-bit)
 *   q     lddw's 64-bit constant            x  lddw's src (pseudo kind)
 *   m     memory [%rS+off] (src + off)     M  memory [%rD+off] (dst + off)
 *   j     jump target in off               J  jump target in imm
 *   k     bpf-to-bpf call target (imm)     o  a kfunc's off
 * Lddw with a non-zero src and a kfunc call with a non-zero off take one
 * more operand than their plain forms: variant 1.
 */
const char *syntax_conf_operands(enum isa_op op, unsigned variant);

#endif
