/*
 * disasm.h - the disassembler with callbacks, for callers that know more
 * than the instructions: an ELF disassembler names jump targets after its
 * symbols ("goto +0x3 <LBB0_2>"), a verifier log names helpers.  The ISA
 * knows no helper or map: their names come through the callbacks
 * (helpers/disasm_api.c gives the public bpfvm_disasm_insn the kernel's).
 */
#ifndef BPFVM_ISA_DISASM_H
#define BPFVM_ISA_DISASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bpfvm/bpfvm.h>

struct disasm_cbs {
	/*
	 * Name the target of the jump in slot `from`: `target` is the slot it
	 * goes to, which may lie outside the program.  Write the name
	 * ("LBB0_2", "prog+0x18") into buf and return true, or return false to
	 * print the offset alone.  Printed as " <name>" after an llvm-syntax
	 * jump and as a trailing comment in the conformance syntax.
	 */
	bool (*jump_target)(void *ctx, size_t from, int64_t target, char *buf, size_t size);
	/* The same for the callee of a bpf-to-bpf call (target = from + 1 + imm). */
	bool (*call_target)(void *ctx, size_t from, int64_t target, char *buf, size_t size);
	/* The kernel syntax's name of helper id ("bpf_map_lookup_elem"), or NULL: "unknown". */
	const char *(*helper_name)(void *ctx, int32_t id);
	/*
	 * Name what the lddw in slot idx loads: src is its pseudo source (1: a
	 * map by fd, 2: a map value, ...), value the 64 bits it holds.  Printed
	 * as " <name>" after the instruction (" # <name>" in the conformance
	 * syntax); return false to print nothing.
	 */
	bool (*map_name)(void *ctx, size_t idx, uint8_t src, int64_t value, char *buf, size_t size);
	void *ctx;
};

enum disasm_mode {
	/* Valid instructions only (isa_decode's rules); others are errors. */
	DISASM_STRICT,
	/*
	 * Decode as llvm-objdump 19 -d does, for a byte-exact listing: it
	 * ignores some unused fields, accepts r11, and cannot decode some
	 * valid instructions (32-bit atomics other than add, which need its
	 * alu32 decoder); those print as "<unknown>".
	 */
	DISASM_OBJDUMP19,
};

/*
 * Write slot idx of insns[0..cnt) into buf (always NUL-terminated).
 * Returns the slots the instruction takes (1 or 2); -EINVAL if it does not
 * decode (buf holds why in strict mode, "<unknown>" in objdump mode); or,
 * in objdump mode, -ENODATA for an lddw whose second slot is missing
 * (llvm-objdump then skips one byte, not eight).
 */
int disasm_insn(const struct bpfvm_insn *insns, size_t cnt, size_t idx,
		enum bpfvm_syntax syntax, enum disasm_mode mode,
		const struct disasm_cbs *cbs, char *buf, size_t size);

#endif
