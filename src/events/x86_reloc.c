/*
 * x86_reloc.c - the x86-64 instructions under a uprobe (x86_reloc.h),
 * decoded with Zydis: lengths, relative operands, how each can run away
 * from its place.  What runs elsewhere keeps its meaning: a RIP-relative
 * displacement is moved by the distance (so the copy must sit within
 * 2 GiB of the original), a relative branch is re-encoded with a rel32 to
 * the same target, and a call pushes the original return address, so the
 * callee returns where it would have.
 */
#include <string.h>

#include <Zydis/Zydis.h>

#include "x86_reloc.h"

#define JMP_REL32 0xe9

static bool decode(const uint8_t *code, size_t avail, ZydisDecodedInstruction *in,
		   ZydisDecodedOperand *ops)
{
	ZydisDecoder dec;

	ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
	return ZYAN_SUCCESS(ops ? ZydisDecoderDecodeFull(&dec, code, avail, in, ops)
				: ZydisDecoderDecodeInstruction(&dec, NULL, code, avail, in));
}

static bool is_jcc(const ZydisDecodedInstruction *in)
{
	return (in->opcode_map == ZYDIS_OPCODE_MAP_DEFAULT && (in->opcode & 0xf0) == 0x70) ||
	       (in->opcode_map == ZYDIS_OPCODE_MAP_0F && (in->opcode & 0xf0) == 0x80);
}

const char *x86_analyze(const uint8_t *code, size_t avail, uint64_t addr, struct x86_insn *x)
{
	ZydisDecodedInstruction in;
	ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];

	memset(x, 0, sizeof(*x));
	x->disp_at = -1;
	if (!decode(code, avail, &in, ops))
		return "not a valid instruction";
	x->len = in.length;
	switch (in.mnemonic) {
	case ZYDIS_MNEMONIC_ENDBR64:
	case ZYDIS_MNEMONIC_NOP:
		x->how = X86_SKIP;
		return NULL;
	case ZYDIS_MNEMONIC_SYSCALL: case ZYDIS_MNEMONIC_SYSENTER: case ZYDIS_MNEMONIC_INT:
	case ZYDIS_MNEMONIC_INT1: case ZYDIS_MNEMONIC_INT3: case ZYDIS_MNEMONIC_INTO:
		return "a system call or trap instruction, which bpfvm does not step over";
	default:
		break;
	}
	if (in.mnemonic == ZYDIS_MNEMONIC_RET && in.length == 1) {
		x->how = X86_RET;
		return NULL;
	}
	if (in.mnemonic == ZYDIS_MNEMONIC_PUSH && in.operand_count_visible == 1 &&
	    ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER &&
	    ZydisRegisterGetWidth(ZYDIS_MACHINE_MODE_LONG_64, ops[0].reg.value) == 64 &&
	    ops[0].reg.value >= ZYDIS_REGISTER_RAX && ops[0].reg.value <= ZYDIS_REGISTER_R15) {
		x->how = X86_PUSH;
		x->cond = ops[0].reg.value - ZYDIS_REGISTER_RAX;
		return NULL;
	}
	if (in.raw.imm[0].is_relative) {
		x->target = addr + in.length + (uint64_t)in.raw.imm[0].value.s;
		if (in.mnemonic == ZYDIS_MNEMONIC_CALL)
			x->how = X86_CALL;
		else if (in.mnemonic == ZYDIS_MNEMONIC_JMP)
			x->how = X86_JMP;
		else if (is_jcc(&in))
			x->how = X86_JCC;
		else
			return "a relative branch bpfvm does not emulate (loop, jrcxz, xbegin)";
		x->cond = in.opcode & 0xf;
		return NULL;
	}
	x->how = X86_OOL;
	x->call = in.mnemonic == ZYDIS_MNEMONIC_CALL;
	x->indirect_jmp = in.mnemonic == ZYDIS_MNEMONIC_JMP;
	if ((in.attributes & ZYDIS_ATTRIB_HAS_MODRM) && in.raw.modrm.mod == 0 &&
	    in.raw.modrm.rm == 5 && in.raw.disp.size == 32)
		x->disp_at = in.raw.disp.offset;
	return NULL;
}

unsigned x86_insn_len(const uint8_t *code, size_t avail)
{
	ZydisDecodedInstruction in;

	return decode(code, avail, &in, NULL) ? in.length : 0;
}

int x86_boundary(const uint8_t *code, uint64_t rel)
{
	uint64_t at = 0;

	while (at < rel) {
		ZydisDecodedInstruction in;

		if (!decode(code + at, 16, &in, NULL))
			return -1;
		at += in.length;
	}
	return at == rel;
}

bool x86_cond_true(int cond, uint64_t fl)
{
	bool cf = fl & 1, pf = fl >> 2 & 1, zf = fl >> 6 & 1, sf = fl >> 7 & 1, of = fl >> 11 & 1;
	bool v[8] = { of, cf, zf, cf || zf, sf, pf, sf != of, zf || sf != of };

	return v[cond >> 1] != (cond & 1);
}

int x86_branch_into(const uint8_t *code, uint64_t func, uint64_t size, uint64_t from, uint64_t to)
{
	uint64_t at = 0;

	while (at < size) {
		ZydisDecodedInstruction in;
		uint64_t target;

		if (!decode(code + at, size - at < 16 ? size - at : 16, &in, NULL))
			return -1;
		if (in.raw.imm[0].is_relative) {
			target = func + at + in.length + (uint64_t)in.raw.imm[0].value.s;
			if (target > from && target < to)
				return 1;
		} else if (in.mnemonic == ZYDIS_MNEMONIC_JMP) {
			return 1;
		}
		at += in.length;
	}
	return 0;
}

static bool fits_rel32(uint64_t target, uint64_t next)
{
	int64_t d = (int64_t)(target - next);

	return d >= INT32_MIN && d <= INT32_MAX;
}

static void put32(uint8_t *p, uint64_t v)
{
	uint32_t w = (uint32_t)v;

	memcpy(p, &w, 4);
}

/* The instruction x (bytes code, at from) as it runs at to: its length, 0 when it cannot. */
static size_t reloc_one(const struct x86_insn *x, const uint8_t *code, uint64_t from, uint64_t to,
			uint8_t *out)
{
	uint64_t back = from + x->len;
	size_t n;

	switch (x->how) {
	case X86_JMP:
		out[0] = JMP_REL32;
		n = 5;
		break;
	case X86_JCC:
		out[0] = 0x0f;
		out[1] = (uint8_t)(0x80 | x->cond);
		n = 6;
		break;
	case X86_CALL:
		/* lea -8(%rsp),%rsp; movl $lo,(%rsp); movl $hi,4(%rsp); jmp target: flags kept */
		memcpy(out, "\x48\x8d\x64\x24\xf8\xc7\x04\x24", 8);
		put32(out + 8, back);
		memcpy(out + 12, "\xc7\x44\x24\x04", 4);
		put32(out + 16, back >> 32);
		out[20] = JMP_REL32;
		n = 25;
		break;
	default:
		memcpy(out, code, x->len);
		if (x->disp_at >= 0) {
			int32_t disp;
			uint64_t target;

			memcpy(&disp, code + x->disp_at, 4);
			target = back + (uint64_t)(int64_t)disp;
			if (!fits_rel32(target, to + x->len))
				return 0;
			put32(out + x->disp_at, target - (to + x->len));
		}
		return x->len;
	}
	if (!fits_rel32(x->target, to + n))
		return 0;
	put32(out + n - 4, x->target - (to + n));
	return n;
}

const char *x86_relocate(const uint8_t *code, unsigned len, uint64_t from, uint64_t to,
			 uint8_t *out, size_t room, size_t *n)
{
	size_t pos = 0;

	for (unsigned at = 0; at < len;) {
		struct x86_insn x;
		const char *why = x86_analyze(code + at, len - at, from + at, &x);
		size_t k;

		if (why)
			return why;
		if (x.how == X86_CALL && at + x.len < len)
			return "a call that returns into the patched bytes";
		if (pos + 32 > room)
			return "too many instructions to copy";
		if (!(k = reloc_one(&x, code + at, from + at, to + pos, out + pos)))
			return "an operand out of reach of the copy";
		pos += k;
		at += x.len;
	}
	if (pos + 5 > room || !fits_rel32(from + len, to + pos + 5))
		return "no room to jump back";
	out[pos] = JMP_REL32;
	put32(out + pos + 1, from + len - (to + pos + 5));
	*n = pos + 5;
	return NULL;
}

/* An int3 or a nop at code (avail bytes): true with its length in *len. */
static bool filler(const uint8_t *code, size_t avail, ZydisDecodedInstruction *in)
{
	if (!avail)
		return false;
	if (code[0] == 0xcc) {
		in->length = 1;
		in->mnemonic = ZYDIS_MNEMONIC_INT3;
		return true;
	}
	return decode(code, avail, in, NULL) && in->mnemonic == ZYDIS_MNEMONIC_NOP;
}

bool x86_is_padding(const uint8_t *code, size_t n)
{
	size_t at = 0;

	while (at < n) {
		ZydisDecodedInstruction in;

		if (!filler(code + at, 16, &in))
			return false;
		at += in.length;
	}
	return true;
}

uint64_t x86_pad_after(const uint8_t *code, uint64_t addr, size_t avail, size_t reach, size_t need)
{
	size_t at = 0, pad = 0;
	bool after_uncond = false, have = false;

	while (at < avail && at + need <= reach) {
		ZydisDecodedInstruction in;
		bool fill = filler(code + at, avail - at, &in);

		if (!fill && !decode(code + at, avail - at, &in, NULL))
			return 0;
		if (after_uncond && fill && !have)
			pad = at, have = true;
		else if (!fill)
			have = false;
		at += in.length;
		if (!fill)
			after_uncond = in.mnemonic == ZYDIS_MNEMONIC_RET ||
				       (in.mnemonic == ZYDIS_MNEMONIC_JMP &&
					in.meta.category == ZYDIS_CATEGORY_UNCOND_BR);
		if (!((addr + at) & 15)) {
			if (have && at - pad >= need)
				return addr + pad;
			/* what starts at a boundary is reached (a function, a loop head), nops or not */
			have = false;
			after_uncond = false;
		}
	}
	return 0;
}
