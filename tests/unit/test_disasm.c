/*
 * test_disasm.c - the disassembler: llvm-objdump 19's text for each kind
 * of operation (the whole table is compared with llvm-objdump itself by
 * tests/scripts/test_disasm_llvm.sh), the conformance syntax, the two
 * decoding modes, callbacks naming targets, and output that is truncated,
 * never overrun.
 */
#include <errno.h>
#include <stdbool.h>

#include <bpfvm/bpfvm.h>

#include "isa/disasm.h"
#include "isa/opcode.h"
#include "test.h"

#define I(CODE, DST, SRC, OFF, IMM) BPFVM_RAW_INSN(CODE, DST, SRC, OFF, IMM)

static const char *dis(enum bpfvm_syntax syntax, enum disasm_mode mode, struct bpfvm_insn a,
		       struct bpfvm_insn b, int *ret)
{
	static char buf[256];
	struct bpfvm_insn insns[2] = { a, b };

	*ret = disasm_insn(insns, 2, 0, syntax, mode, NULL, buf, sizeof(buf));
	return buf;
}

static void check_text(struct bpfvm_insn a, struct bpfvm_insn b, enum bpfvm_syntax syntax,
		       enum disasm_mode mode, const char *want, int want_ret, int line)
{
	int ret;
	const char *got = dis(syntax, mode, a, b, &ret);

	if (strcmp(got, want) || ret != want_ret) {
		printf("FAIL %s: %s:%d: got \"%s\" (%d), expected \"%s\" (%d)\n", test_current_name(),
		       __FILE__, line, got, ret, want, want_ret);
		test_failed_now = 1;
	}
}

#define NONE I(0, 0, 0, 0, 0)
#define LLVM(A, WANT) check_text(A, NONE, BPFVM_SYNTAX_LLVM, DISASM_STRICT, WANT, 1, __LINE__)
#define CONF(A, WANT) \
	check_text(A, NONE, BPFVM_SYNTAX_CONFORMANCE, DISASM_STRICT, WANT, 1, __LINE__)
#define OBJDUMP(A, WANT, RET) \
	check_text(A, NONE, BPFVM_SYNTAX_LLVM, DISASM_OBJDUMP19, WANT, RET, __LINE__)

TEST(llvm_text)
{
	LLVM(I(0x61, 0, 1, 4, 0), "r0 = *(u32 *)(r1 + 0x4)");
	LLVM(I(0x71, 0, 1, -4, 0), "r0 = *(u8 *)(r1 - 0x4)");
	LLVM(I(0x91, 0, 1, 0, 0), "r0 = *(s8 *)(r1 + 0x0)");
	LLVM(I(0x7b, 10, 1, -8, 0), "*(u64 *)(r10 - 0x8) = r1");
	LLVM(I(0x72, 10, 0, -8, -5), "*(u8 *)(r10 - 0x8) = -0x5");
	LLVM(I(0x25, 1, 0, 3, 5), "if r1 > 0x5 goto +0x3");
	LLVM(I(0xce, 1, 2, -3, 0), "if w1 s< w2 goto -0x3");
	LLVM(I(0xbc, 0, 1, 0, 0), "w0 = w1");
	LLVM(I(0xbf, 0, 1, 16, 0), "r0 = (s16)r1");
	LLVM(I(0xdb, 10, 1, -8, 0), "lock *(u64 *)(r10 - 0x8) += r1");
	LLVM(I(0xdb, 10, 1, -8, 0xa1), "r1 = atomic_fetch_xor((u64 *)(r10 - 0x8), r1)");
	LLVM(I(0xc3, 10, 1, -8, 0x40), "lock *(u32 *)(r10 - 0x8) |= w1");
	LLVM(I(0xc3, 10, 1, -8, 0xf1), "w0 = cmpxchg32_32(r10 - 0x8, w0, w1)");
	LLVM(I(0x85, 0, 0, 0, 5), "call 0x5");
	LLVM(I(0x85, 0, 1, 0, -1), "call -0x1");
	LLVM(I(0x8d, 2, 0, 0, 0), "callx r2");
	LLVM(I(0x95, 0, 0, 0, 0), "exit");
	LLVM(I(0x3f, 1, 2, 1, 0), "r1 s/= r2");
	LLVM(I(0xd7, 0, 0, 0, 16), "r0 = bswap16 r0");
	LLVM(I(0xd4, 0, 0, 0, 64), "r0 = le64 r0");
	LLVM(I(0x06, 0, 0, 0, -2), "gotol -0x2");
	LLVM(I(0xe5, 0, 0, 7, 0), "may_goto +0x7");
	LLVM(I(0x07, 1, 0, 0, INT32_MIN), "r1 += -0x80000000");
	LLVM(I(0x61, 1, 2, INT16_MIN, 0), "r1 = *(u32 *)(r2 - 0x8000)");
	LLVM(I(0x28, 0, 0, 0, 4), "r0 = *(u16 *)skb[0x4]");
	LLVM(I(0xdb, 0, 1, 0, 0x100), "r0 = load_acquire((u64 *)(r1 + 0x0))");
	LLVM(I(0xcb, 1, 2, 8, 0x110), "store_release((u16 *)(r1 + 0x8), w2)");
	check_text(I(0x18, 1, 0, 0, 0), I(0, 0, 0, 0, 0), BPFVM_SYNTAX_LLVM, DISASM_STRICT,
		   "r1 = 0x0 ll", 2, __LINE__);
	check_text(I(0x18, 1, 0, 0, 0), I(0, 0, 0, 0, INT32_MIN), BPFVM_SYNTAX_LLVM, DISASM_STRICT,
		   "r1 = -0x8000000000000000 ll", 2, __LINE__);
	check_text(I(0x18, 1, 2, 0, 5), I(0, 0, 0, 0, 0), BPFVM_SYNTAX_LLVM, DISASM_STRICT,
		   "ld_pseudo\tr1, 0x2, 0x5", 2, __LINE__);
}

TEST(strict_mode_keeps_what_llvm_text_drops)
{
	/* LLVM's ld_ind has no imm, and ld_pseudo shows 32 bits. */
	LLVM(I(0x40, 0, 2, 0, 5), "r0 = *(u32 *)skb[r2 + 0x5]");
	OBJDUMP(I(0x40, 0, 2, 0, 5), "r0 = *(u32 *)skb[r2]", 1);
	check_text(I(0x18, 1, 2, 0, 5), I(0, 0, 0, 0, 7), BPFVM_SYNTAX_LLVM, DISASM_STRICT,
		   "ld_pseudo\tr1, 0x2, 0x700000005", 2, __LINE__);
	check_text(I(0x18, 1, 2, 0, 5), I(0, 0, 0, 0, 7), BPFVM_SYNTAX_LLVM, DISASM_OBJDUMP19,
		   "ld_pseudo\tr1, 0x2, 0x5", 2, __LINE__);
}

TEST(conformance_text)
{
	CONF(I(0xb7, 0, 0, 0, 1), "mov %r0, 1");
	CONF(I(0xb4, 0, 0, 0, -1), "mov32 %r0, -1");
	CONF(I(0x61, 0, 1, 4, 0), "ldxw %r0, [%r1+4]");
	CONF(I(0x7b, 10, 1, -8, 0), "stxdw [%r10-8], %r1");
	CONF(I(0x62, 1, 0, 2, 17), "stw [%r1+2], 17");
	CONF(I(0xc3, 10, 1, -8, 0x01), "lock fetch add32 [%r10-8], %r1");
	CONF(I(0xdb, 10, 1, -8, 0xf1), "lock cmpxchg [%r10-8], %r1");
	CONF(I(0xdc, 0, 0, 0, 16), "be16 %r0");
	CONF(I(0xbc, 0, 1, 8, 0), "movsx832 %r0, %r1");
	CONF(I(0x15, 1, 0, 3, 0x1a8c0), "jeq %r1, 108736, +3");
	CONF(I(0x05, 0, 0, -1, 0), "ja -1");
	CONF(I(0x06, 0, 0, 0, 9), "ja32 +9");
	CONF(I(0x85, 0, 0, 0, 5), "call 5");
	CONF(I(0x85, 0, 1, 0, 2), "call local +2");
	CONF(I(0x85, 0, 2, 0, 2), "call kfunc 2");
	CONF(I(0x85, 0, 2, 3, 2), "call kfunc 2, 3");
	CONF(I(0x8d, 2, 0, 0, 0), "callx %r2");
	CONF(I(0x20, 0, 0, 0, 4), "ldabsw 4");
	CONF(I(0x50, 0, 1, 0, 2), "ldindb %r1, 2");
	CONF(I(0x87, 1, 0, 0, 0), "neg %r1");
	CONF(I(0x95, 0, 0, 0, 0), "exit");
	check_text(I(0x18, 0, 0, 0, 0x55667788), I(0, 0, 0, 0, 0x11223344), BPFVM_SYNTAX_CONFORMANCE,
		   DISASM_STRICT, "lddw %r0, 0x1122334455667788", 2, __LINE__);
	check_text(I(0x18, 1, 1, 0, 3), I(0, 0, 0, 0, 0), BPFVM_SYNTAX_CONFORMANCE, DISASM_STRICT,
		   "lddw %r1, 0x3, 1", 2, __LINE__);
}

TEST(objdump_mode_decodes_as_llvm_19)
{
	/* Fields LLVM ignores; r11, which it knows. */
	OBJDUMP(I(0x95, 1, 2, 3, 0), "exit", 1);
	OBJDUMP(I(0x95, 0, 0, 0, 1), "<unknown>", -EINVAL);
	OBJDUMP(I(0x07, 1, 2, 0, 5), "r1 += 0x5", 1);
	OBJDUMP(I(0x07, 1, 0, 1, 5), "<unknown>", -EINVAL);
	OBJDUMP(I(0x07, 11, 0, 0, 5), "r11 += 0x5", 1);
	OBJDUMP(I(0x07, 12, 0, 0, 5), "<unknown>", -EINVAL);
	OBJDUMP(I(0x85, 0, 9, 7, 5), "call 0x5", 1);
	/* 32-bit atomics other than add need LLVM's alu32 decoder. */
	OBJDUMP(I(0xc3, 1, 2, 0, 0x40), "<unknown>", -EINVAL);
	OBJDUMP(I(0xc3, 1, 2, 0, 0x01), "lock *(u32 *)(r1 + 0x0) += r2", 1);
	OBJDUMP(I(0xdb, 1, 2, 0, 0x0c), "lock *(u64 *)(r1 + 0x0) += r2", 1);
	OBJDUMP(I(0xdb, 1, 2, 0, 0x141), "r2 = atomic_fetch_or((u64 *)(r1 + 0x0), r2)", 1);
	OBJDUMP(I(0xbf, 1, 2, 1, 0x10002), "r1 = addr_space_cast(r2, 0x1, 0x2)", 1);
	/* An lddw without its second slot: llvm-objdump skips a byte. */
	{
		struct bpfvm_insn one = I(0x18, 1, 0, 0, 0);
		char buf[64];
		CHECK_EQ_INT(disasm_insn(&one, 1, 0, BPFVM_SYNTAX_LLVM, DISASM_OBJDUMP19, NULL, buf,
					 sizeof(buf)), -ENODATA);
		CHECK_STR(buf, "<unknown>");
	}
}

TEST(strict_mode_refuses_with_a_reason)
{
	struct bpfvm_insn insns[2] = { I(0x8e, 0, 0, 0, 0), I(0x95, 1, 0, 0, 0) };
	struct bpfvm_insn lddw = I(0x18, 1, 0, 0, 0);
	char buf[128];

	CHECK_EQ_INT(bpfvm_disasm_insn(insns, 2, 0, BPFVM_SYNTAX_LLVM, buf, sizeof(buf)), -EINVAL);
	CHECK_STR(buf, "unknown opcode 8e");
	CHECK_EQ_INT(bpfvm_disasm_insn(insns, 2, 1, BPFVM_SYNTAX_LLVM, buf, sizeof(buf)), -EINVAL);
	CHECK_STR(buf, "BPF_EXIT uses reserved fields");
	CHECK_EQ_INT(bpfvm_disasm_insn(&lddw, 1, 0, BPFVM_SYNTAX_LLVM, buf, sizeof(buf)), -EINVAL);
	CHECK_STR(buf, "invalid bpf_ld_imm64 insn");
	CHECK_EQ_INT(bpfvm_disasm_insn(insns, 2, 2, BPFVM_SYNTAX_LLVM, buf, sizeof(buf)), -EINVAL);
	CHECK_EQ_INT(bpfvm_disasm_insn(NULL, 0, 0, BPFVM_SYNTAX_LLVM, buf, sizeof(buf)), -EINVAL);
}

/* Names targets "L<slot>", and calls "f<slot>". */
static bool name_jump(void *ctx, size_t from, int64_t target, char *buf, size_t size)
{
	(void)ctx;
	(void)from;
	if (target < 0)
		return false;
	snprintf(buf, size, "L%lld", (long long)target);
	return true;
}

static bool name_call(void *ctx, size_t from, int64_t target, char *buf, size_t size)
{
	(void)ctx;
	(void)from;
	snprintf(buf, size, "f%lld", (long long)target);
	return true;
}

TEST(callbacks_name_targets)
{
	struct bpfvm_insn insns[4] = {
		I(0x05, 0, 0, 1, 0), I(0x1d, 1, 2, -3, 0), I(0x85, 0, 1, 0, -3), I(0x95, 0, 0, 0, 0),
	};
	struct disasm_cbs cbs = { .jump_target = name_jump, .call_target = name_call };
	char buf[128];

	CHECK_EQ_INT(disasm_insn(insns, 4, 0, BPFVM_SYNTAX_LLVM, DISASM_STRICT, &cbs, buf,
				 sizeof(buf)), 1);
	CHECK_STR(buf, "goto +0x1 <L2>");
	disasm_insn(insns, 4, 1, BPFVM_SYNTAX_LLVM, DISASM_STRICT, &cbs, buf, sizeof(buf));
	CHECK_STR(buf, "if r1 == r2 goto -0x3");
	disasm_insn(insns, 4, 0, BPFVM_SYNTAX_CONFORMANCE, DISASM_STRICT, &cbs, buf, sizeof(buf));
	CHECK_STR(buf, "ja +1 # <L2>");
	disasm_insn(insns, 4, 2, BPFVM_SYNTAX_LLVM, DISASM_STRICT, &cbs, buf, sizeof(buf));
	CHECK_STR(buf, "call -0x3 <f0>");
	disasm_insn(insns, 4, 2, BPFVM_SYNTAX_CONFORMANCE, DISASM_STRICT, &cbs, buf, sizeof(buf));
	CHECK_STR(buf, "call local -3 # <f0>");
}

static const char *my_helper(void *ctx, int32_t id)
{
	return id == 1 ? ctx : NULL;
}

static bool name_map(void *ctx, size_t idx, uint8_t src, int64_t value, char *buf, size_t size)
{
	(void)ctx;
	snprintf(buf, size, "map%zu.src%u.fd%lld", idx, src, (long long)value);
	return true;
}

/* The public disassembler: the caller's names, else the kernel's helper names. */
TEST(public_disasm_takes_names_from_the_caller)
{
	struct bpfvm_insn insns[5] = {
		I(0x05, 0, 0, 1, 0), I(0x85, 0, 0, 0, 1), I(0x18, 1, 1, 0, 7), I(0, 0, 0, 0, 0),
		I(0x85, 0, 0, 0, 0x7fff),
	};
	BPFVM_OPTS(bpfvm_disasm_opts, opts, .jump_target = name_jump, .map_name = name_map);
	char buf[128];

	CHECK_EQ_INT(bpfvm_disasm_insn_opts(insns, 5, 0, BPFVM_SYNTAX_LLVM, &opts, buf, sizeof(buf)),
		     1);
	CHECK_STR(buf, "goto +0x1 <L2>");
	CHECK_EQ_INT(bpfvm_disasm_insn_opts(insns, 5, 1, BPFVM_SYNTAX_KERNEL, &opts, buf,
					    sizeof(buf)), 1);
	CHECK_STR(buf, "call bpf_map_lookup_elem#1");
	CHECK_EQ_INT(bpfvm_disasm_insn_opts(insns, 5, 2, BPFVM_SYNTAX_LLVM, &opts, buf, sizeof(buf)),
		     2);
	CHECK_STR(buf, "ld_pseudo\tr1, 0x1, 0x7 <map2.src1.fd7>");
	bpfvm_disasm_insn_opts(insns, 5, 2, BPFVM_SYNTAX_CONFORMANCE, &opts, buf, sizeof(buf));
	CHECK_STR(buf, "lddw %r1, 0x7, 1 # <map2.src1.fd7>");
	bpfvm_disasm_insn_opts(insns, 5, 4, BPFVM_SYNTAX_KERNEL, NULL, buf, sizeof(buf));
	CHECK_STR(buf, "call unknown#32767");
	opts.helper_name = my_helper;
	opts.ctx = "mine";
	bpfvm_disasm_insn_opts(insns, 5, 1, BPFVM_SYNTAX_KERNEL, &opts, buf, sizeof(buf));
	CHECK_STR(buf, "call mine#1");
	/* without map_name, or with the plain entry, an lddw prints as before */
	bpfvm_disasm_insn(insns, 5, 2, BPFVM_SYNTAX_LLVM, buf, sizeof(buf));
	CHECK_STR(buf, "ld_pseudo\tr1, 0x1, 0x7");
	CHECK_STR(bpfvm_helper_name(1), "bpf_map_lookup_elem");
	CHECK(bpfvm_helper_name(-1) == NULL && bpfvm_helper_name(0x7fff) == NULL);
}

/* objdump19 decodes as llvm-objdump 19; sz is honoured as libbpf's options are. */
TEST(public_disasm_options)
{
	struct bpfvm_insn lddw = I(0x18, 1, 0, 0, 0);
	struct {
		struct bpfvm_disasm_opts o;
		uint64_t unknown;
	} big = { .o = { .sz = sizeof(big) }, .unknown = 1 };
	BPFVM_OPTS(bpfvm_disasm_opts, opts, .objdump19 = true);
	char buf[64];

	CHECK_EQ_INT(bpfvm_disasm_insn_opts(&lddw, 1, 0, BPFVM_SYNTAX_LLVM, &opts, buf, sizeof(buf)),
		     -ENODATA);
	opts.objdump19 = false;
	CHECK_EQ_INT(bpfvm_disasm_insn_opts(&lddw, 1, 0, BPFVM_SYNTAX_LLVM, &opts, buf, sizeof(buf)),
		     -EINVAL);
	CHECK_EQ_INT(bpfvm_disasm_insn_opts(&lddw, 1, 0, BPFVM_SYNTAX_LLVM, &big.o, buf,
					    sizeof(buf)), -EINVAL);
	big.unknown = 0;
	big.o.objdump19 = true;
	CHECK_EQ_INT(bpfvm_disasm_insn_opts(&lddw, 1, 0, BPFVM_SYNTAX_LLVM, &big.o, buf,
					    sizeof(buf)), -ENODATA);
	/* a smaller sz reads the fields past it as zero: objdump19 unset */
	big.o.sz = offsetof(struct bpfvm_disasm_opts, objdump19);
	CHECK_EQ_INT(bpfvm_disasm_insn_opts(&lddw, 1, 0, BPFVM_SYNTAX_LLVM, &big.o, buf,
					    sizeof(buf)), -EINVAL);
	big.o.sz = 0;
	CHECK_EQ_INT(bpfvm_disasm_insn_opts(&lddw, 1, 0, BPFVM_SYNTAX_LLVM, &big.o, buf,
					    sizeof(buf)), -EINVAL);
}

TEST(output_is_truncated_not_overrun)
{
	struct bpfvm_insn insn = I(0xdb, 10, 1, -8, 0xa1);
	char buf[12];

	for (size_t size = 0; size <= sizeof(buf); size++) {
		memset(buf, 'X', sizeof(buf));
		CHECK_EQ_INT(bpfvm_disasm_insn(&insn, 1, 0, BPFVM_SYNTAX_LLVM, buf, size), 1);
		if (size)
			CHECK(strlen(buf) == size - 1);
		for (size_t k = size; k < sizeof(buf); k++)
			CHECK(buf[k] == 'X');
	}
}

#define KERN(A, WANT) check_text(A, NONE, BPFVM_SYNTAX_KERNEL, DISASM_STRICT, WANT, 1, __LINE__)

/*
 * The kernel verifier log's text (kernel/bpf/disasm.c) for what the
 * differential test against the kernel's log (tests/kernel) does not
 * generate: packet loads, calls, sign extensions, the newer atomics.
 */
TEST(kernel_text)
{
	int ret;

	KERN(I(0x30, 0, 0, 0, 12), "r0 = *(u8 *)skb[12]");
	KERN(I(0x28, 0, 0, 0, -2), "r0 = *(u16 *)skb[-2]");
	KERN(I(0x40, 0, 3, 0, 4), "r0 = *(u32 *)skb[r3 + 4]");
	KERN(I(0x85, 0, 0, 0, 1), "call unknown#1"); /* no names without the callback */
	KERN(I(0x85, 0, 1, 0, 5), "call pc+5");
	KERN(I(0x85, 0, 2, 0, 1234), "call kernel-function#1234");
	KERN(I(0x8d, 3, 0, 0, 0), "callx r3");
	KERN(I(0xbf, 1, 2, 8, 0), "r1 = (s8)r2");
	KERN(I(0xbc, 1, 2, 16, 0), "w1 = (s16)w2");
	KERN(I(0x3f, 1, 2, 1, 0), "r1 s/= r2");
	KERN(I(0x94, 1, 0, 1, -3), "w1 s%= -3");
	KERN(I(0xd7, 1, 0, 0, 16), "r1 = bswap16 r1");
	KERN(I(0xd4, 1, 0, 0, 32), "r1 = le32 r1");
	KERN(I(0xdc, 1, 0, 0, 64), "r1 = be64 r1");
	KERN(I(0x84, 4, 0, 0, 0), "w4 = -w4");
	KERN(I(0xc3, 10, 1, -8, 0xf1), "r0 = atomic_cmpxchg((u32 *)(r10 -8), r0, r1)");
	KERN(I(0xdb, 10, 1, -8, 0xe1), "r1 = atomic64_xchg((u64 *)(r10 -8), r1)");
	KERN(I(0xc3, 10, 2, 4, 0x51), "r2 = atomic_fetch_and((u32 *)(r10 +4), r2)");
	KERN(I(0xdb, 10, 1, -8, 0xa0), "lock *(u64 *)(r10 -8) ^= r1");
	KERN(I(0xd3, 2, 1, 0, 0x100), "r2 = load_acquire((u8 *)(r1 +0))");
	KERN(I(0xdb, 1, 2, -8, 0x110), "store_release((u64 *)(r1 -8), r2)");
	KERN(I(0x91, 0, 1, -2, 0), "r0 = *(s8 *)(r1 -2)");
	KERN(I(0x16, 1, 0, -1, -1), "if w1 == 0xffffffff goto pc-1");
	KERN(I(0x06, 0, 0, 0, -7), "gotol pc-7");
	KERN(I(0xe5, 0, 0, 3, 0), "may_goto pc+3");
	check_text(I(0x18, 1, 0, 0, -1), I(0, 0, 0, 0, 0x7f), BPFVM_SYNTAX_KERNEL, DISASM_STRICT,
		   "r1 = 0x7fffffffff", 2, __LINE__);
	/* the public entry names helpers after the kernel's table */
	{
		struct bpfvm_insn call = I(0x85, 0, 0, 0, 1);
		char buf[64];

		ret = bpfvm_disasm_insn(&call, 1, 0, BPFVM_SYNTAX_KERNEL, buf, sizeof(buf));
		CHECK_EQ_INT(ret, 1);
		CHECK_STR(buf, "call bpf_map_lookup_elem#1");
	}
}

TEST(every_row_has_text_in_every_syntax)
{
	for (int op = 0; op < ISA_OP_COUNT; op++) {
		const struct isa_opinfo *info = &isa_ops[op];
		struct bpfvm_insn insns[2] = { I(info->code, 0, 0, 0, 0), I(0, 0, 0, 0, 0) };
		char buf[128];

		if (info->vfield == V_OFF)
			insns[0].off = (int16_t)info->vvalue;
		else if (info->vfield == V_IMM)
			insns[0].imm = info->vvalue;
		else if (info->vfield == V_SRC)
			insns[0].src_reg = (uint8_t)info->vvalue;
		for (int syntax = 0; syntax <= BPFVM_SYNTAX_KERNEL; syntax++) {
			int r = bpfvm_disasm_insn(insns, 2, 0, (enum bpfvm_syntax)syntax, buf, sizeof(buf));
			if (r != (int)isa_op_slots((enum isa_op)op) || !buf[0] || strchr(buf, '%') == buf)
				TEST_FAIL("row %s: %d \"%s\"", info->id, r, buf);
		}
	}
}

TEST_MAIN()
