/*
 * test_x86_reloc.c - the x86-64 analysis uprobes share (src/events/
 * x86_reloc.c): instructions moved to run elsewhere keep their meaning
 * (RIP-relative targets, relative branches as rel32, a call's return
 * address), what cannot move is refused with why, and the questions a
 * jmp patch asks (boundaries, branches into a range, padding) answered.
 */
#include <stdint.h>
#include <string.h>

#include "events/x86_reloc.h"
#include "test.h"

static int32_t rel_at(const uint8_t *p)
{
	int32_t v;

	memcpy(&v, p, 4);
	return v;
}

TEST(rip_relative_keeps_its_target)
{
	/* mov 0x10(%rip),%rax at 0x1000 reads 0x1017; moved to 0x2000 */
	static const uint8_t code[] = { 0x48, 0x8b, 0x05, 0x10, 0, 0, 0 };
	uint8_t out[64];
	size_t n = 0;

	CHECK(x86_relocate(code, sizeof(code), 0x1000, 0x2000, out, sizeof(out), &n) == NULL);
	CHECK_EQ_U64(n, 7 + 5);
	CHECK(!memcmp(out, code, 3));
	CHECK_EQ_U64((uint64_t)(0x2000 + 7 + (int64_t)rel_at(out + 3)), 0x1017);
	CHECK_EQ_INT(out[7], 0xe9);   /* then back to 0x1007 */
	CHECK_EQ_U64((uint64_t)(0x2000 + 12 + (int64_t)rel_at(out + 8)), 0x1007);
}

TEST(branches_become_rel32)
{
	/* je +5 (to 0x1007), then push %rbp, mov %rsp,%rbp */
	static const uint8_t code[] = { 0x74, 0x05, 0x55, 0x48, 0x89, 0xe5 };
	uint8_t out[64];
	size_t n = 0;

	CHECK(x86_relocate(code, sizeof(code), 0x1000, 0x3000, out, sizeof(out), &n) == NULL);
	CHECK_EQ_INT(out[0], 0x0f);
	CHECK_EQ_INT(out[1], 0x84);
	CHECK_EQ_U64((uint64_t)(0x3000 + 6 + (int64_t)rel_at(out + 2)), 0x1007);
	CHECK(!memcmp(out + 6, code + 2, 4));
	CHECK_EQ_U64(n, 6 + 4 + 5);
}

TEST(call_pushes_the_original_return)
{
	/* call 0x1105 at 0x1000: the callee returns to 0x1005, not into the copy */
	static const uint8_t code[] = { 0xe8, 0x00, 0x01, 0, 0 };
	uint8_t out[64];
	size_t n = 0;
	uint32_t lo, hi;

	CHECK(x86_relocate(code, sizeof(code), 0x1000, 0x4000, out, sizeof(out), &n) == NULL);
	memcpy(&lo, out + 8, 4);
	memcpy(&hi, out + 16, 4);
	CHECK_EQ_U64((uint64_t)hi << 32 | lo, 0x1005);
	CHECK_EQ_INT(out[20], 0xe9);
	CHECK_EQ_U64((uint64_t)(0x4000 + 25 + (int64_t)rel_at(out + 21)), 0x1105);
}

TEST(refusals_say_why)
{
	static const uint8_t call_then_nop[] = { 0xe8, 0, 0, 0, 0, 0x90 };
	static const uint8_t sys[] = { 0x0f, 0x05 };
	static const uint8_t rip[] = { 0x48, 0x8b, 0x05, 0x10, 0, 0, 0 };
	uint8_t out[64];
	size_t n;

	CHECK_STR(x86_relocate(call_then_nop, 6, 0x1000, 0x2000, out, sizeof(out), &n),
		  "a call that returns into the patched bytes");
	CHECK_CONTAINS(x86_relocate(sys, 2, 0x1000, 0x2000, out, sizeof(out), &n), "system call");
	CHECK_STR(x86_relocate(rip, 7, 0x1000, 0x300000000ull, out, sizeof(out), &n),
		  "an operand out of reach of the copy");
}

TEST(boundaries_branches_padding)
{
	static const uint8_t fn[] = { 0x48, 0x89, 0xe5, 0xc3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
				      0, 0, 0, 0 };
	static const uint8_t jumps[] = { 0xeb, 0x01, 0x90, 0xc3 };   /* jmp to 3 */
	static const uint8_t table[] = { 0xff, 0xe0, 0xc3 };          /* jmp *%rax */
	static const uint8_t pad[] = { 0x66, 0x2e, 0x0f, 0x1f, 0x84, 0, 0, 0, 0, 0, 0xcc, 0xcc,
				       0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	static const uint8_t code[] = { 0x55, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };

	CHECK_EQ_INT(x86_boundary(fn, 3), 1);
	CHECK_EQ_INT(x86_boundary(fn, 1), 0);
	CHECK_EQ_INT(x86_branch_into(jumps, 0x100, 4, 0x100, 0x102), 0);
	CHECK_EQ_INT(x86_branch_into(jumps, 0x100, 4, 0x100, 0x105), 1);
	CHECK_EQ_INT(x86_branch_into(table, 0x100, 3, 0x100, 0x101), 1);
	CHECK(x86_is_padding(pad, 12));
	CHECK(!x86_is_padding(code, 1));
	CHECK(x86_cond_true(0x4, 1u << 6));     /* je, ZF */
}

/* Where a syscall site's jmp may go: padding after a ret, to a 16-byte boundary, 5 bytes or more. */
TEST(pad_after_a_syscall_site)
{
	/* at 0x1005 (after a syscall at 0x1003): ret, then a 10-byte nop up to 0x1010 */
	static const uint8_t wrapper[] = { 0xc3, 0x66, 0x2e, 0x0f, 0x1f, 0x84, 0, 0, 0, 0, 0 };
	/* the same nops after a mov: reached, not padding */
	static const uint8_t reached[] = { 0x89, 0xc7, 0x66, 0x0f, 0x1f, 0x84, 0, 0, 0, 0, 0 };
	/* at 0x1000: int3s, a ret at 0x100b and 4 int3s to 0x1010, then int3s no ret precedes */
	uint8_t twice[32];

	memset(twice, 0xcc, sizeof(twice));
	memcpy(twice + 8, "\x48\x31\xc0\xc3", 4);   /* 0x1008: xor %rax,%rax; ret */
	twice[0] = 0x90;
	CHECK_EQ_INT(x86_pad_after(wrapper, 0x1005, sizeof(wrapper), 127, 5), 0x1006);
	CHECK_EQ_INT(x86_pad_after(reached, 0x1005, sizeof(reached), 127, 5), 0);
	CHECK_EQ_INT(x86_pad_after(wrapper, 0x1005, sizeof(wrapper), 127, 11), 0);
	CHECK_EQ_INT(x86_pad_after(twice, 0x1000, sizeof(twice), 127, 5), 0);
	CHECK_EQ_INT(x86_pad_after(twice, 0x1000, sizeof(twice), 127, 4), 0x100c);
	CHECK_EQ_INT(x86_pad_after(twice, 0x1000, sizeof(twice), 15, 4), 0);
	CHECK(!x86_cond_true(0x5, 1u << 6));    /* jne, ZF */
}

TEST_MAIN()
