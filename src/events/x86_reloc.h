/*
 * x86_reloc.h - what a uprobe needs to know of the x86-64 instructions
 * under it (x86_reloc.c, decoded with Zydis): their lengths, whether they
 * can run somewhere else (and how, relative operands moved), and whether
 * an offset into a function is an instruction boundary.  Shared by the
 * ptrace supervisor (ubp.c: one instruction stepped out of line or
 * emulated) and the in-process agent's probes (inproc.c: the instructions
 * a 5-byte jmp overwrites, copied into a trampoline).
 */
#ifndef BPFVM_EVENTS_X86_RELOC_H
#define BPFVM_EVENTS_X86_RELOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum x86_how {
	X86_OOL,     /* runs anywhere (its RIP-relative displacement, if any, moved) */
	X86_SKIP,    /* endbr64, nop: nothing to run */
	X86_JMP,     /* jmp rel */
	X86_CALL,    /* call rel */
	X86_JCC,     /* jcc rel */
	X86_RET,     /* ret (one byte) */
	X86_PUSH,    /* push r64 */
};

struct x86_insn {
	uint8_t len;
	enum x86_how how;
	int cond;               /* X86_JCC: the opcode's low nibble; X86_PUSH: the register */
	uint64_t target;        /* X86_JMP, X86_CALL, X86_JCC */
	int disp_at;            /* RIP-relative: the displacement's offset in the bytes, else -1 */
	bool call;              /* an indirect call (its pushed return address is the copy's) */
	bool indirect_jmp;      /* jmp through a register or memory: a jump table lands anywhere */
};

/*
 * The instruction at addr (its bytes code, avail of them): 0 with *in, or
 * why it can be neither emulated nor run elsewhere (a message).
 */
const char *x86_analyze(const uint8_t *code, size_t avail, uint64_t addr, struct x86_insn *in);

/* The length of the instruction at code (avail bytes readable), 0 if it does not decode. */
unsigned x86_insn_len(const uint8_t *code, size_t avail);

/*
 * Is rel (> 0) an instruction boundary of the code at code (decoded from
 * its start; code holds rel + 16 bytes)?  1 yes, 0 no, -1 cannot tell.
 */
int x86_boundary(const uint8_t *code, uint64_t rel);

/* x86's condition codes: jcc's low nibble against the flags. */
bool x86_cond_true(int cond, uint64_t flags);

/*
 * Does a relative branch of the function [func, func + size) (its bytes
 * code) land inside (from, to), or does it jump indirectly (a jump table
 * may land anywhere)?  1 yes, 0 no, -1 cannot tell (undecodable).
 */
int x86_branch_into(const uint8_t *code, uint64_t func, uint64_t size, uint64_t from, uint64_t to);

/*
 * The instructions at from (bytes code, len of them, whole instructions),
 * rewritten to run at to and go on at from + len: into out (room bytes),
 * their length in *n.  Relative branches become rel32 forms (a call
 * pushes from's return address, not the copy's), RIP-relative operands
 * keep their targets.  0, or why not (a message).
 */
const char *x86_relocate(const uint8_t *code, unsigned len, uint64_t from, uint64_t to,
			 uint8_t *out, size_t room, size_t *n);

/*
 * Are the n bytes at code padding between functions (int3s and nops, as
 * assemblers align with), never run?  The caller gives 16 bytes past n.
 */
bool x86_is_padding(const uint8_t *code, size_t n);

/*
 * Padding no code reaches in the bytes code (at addr, avail of them
 * readable): the first run of int3s and nops that follows an
 * unconditional ret or jmp and fills the rest of a 16-byte block (what
 * starts on the boundary is a function or a jump target), need bytes or
 * more, ending within reach bytes of addr.  Its address, or 0 if none
 * (decoding stops at what it cannot decode).  A syscall instruction's
 * site is patched to jump there (syscall_site.c).
 */
uint64_t x86_pad_after(const uint8_t *code, uint64_t addr, size_t avail, size_t reach, size_t need);

#endif
