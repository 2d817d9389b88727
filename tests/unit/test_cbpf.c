/*
 * test_cbpf.c - classic BPF: the reader's three forms, the kernel's checks
 * (each refusal named at its instruction), the conversion of every classic
 * opcode and ancillary load against the sequence net/core/filter.c's
 * bpf_convert_filter emits (written here from the kernel's code), and the
 * converted programs' results in the interpreter and the JIT.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpfvm/cbpf.h>

#include "../../src/btf/btf.h"
#include "test.h"

/* The kernel's register names for converted programs (include/linux/filter.h, net/core/filter.c). */
enum { A = 0, ARG1 = 1, TMP = 2, ARG2 = 2, ARG3 = 3, ARG4 = 4, CTX = 6, X = 7, D = 8, H = 9, FP = 10 };
#define I(C, DST, SRC, OFF, IMM) BPFVM_RAW_INSN(C, DST, SRC, OFF, IMM)
#define XOR32(D_, S_) I(0xac, D_, S_, 0, 0)
#define MOV64(D_, S_) I(0xbf, D_, S_, 0, 0)
#define MOV32I(D_, K) I(0xb4, D_, 0, 0, K)
#define LDXW(D_, S_, O) I(0x61, D_, S_, O, 0)
#define LDXH(D_, S_, O) I(0x69, D_, S_, O, 0)
#define LDXB(D_, S_, O) I(0x71, D_, S_, O, 0)
#define LDXDW(D_, S_, O) I(0x79, D_, S_, O, 0)
#define BE(D_, BITS) I(0xdc, D_, 0, 0, BITS)
#define EXIT() I(0x95, 0, 0, 0, 0)
#define CALLF(ID) I(0x85, 0, 0, 0, ID)
#define JA(O) I(0x05, 0, 0, O, 0)

#define COMMA ,
#define F(CODE, JT, JF, K) ((struct bpfvm_sock_filter){ CODE, JT, JF, (uint32_t)(K) })

static const struct bpfvm_cbpf_skb_layout *L = &bpfvm_cbpf_skb_layout_linux;

/* The prologue: A and X zeroed, the context kept; with packet loads, data and headlen cached. */
static size_t prologue(struct bpfvm_insn *o, bool ld_abs)
{
	size_t n = 0;

	o[n++] = XOR32(A, A);
	o[n++] = XOR32(X, X);
	o[n++] = MOV64(CTX, ARG1);
	if (ld_abs) {
		o[n++] = LDXDW(D, CTX, L->data);
		o[n++] = LDXW(H, CTX, L->len);
		o[n++] = LDXW(TMP, CTX, L->data_len);
		o[n++] = I(0x1c, H, TMP, 0, 0);
	}
	return n;
}

static bool same_insn(struct bpfvm_insn a, struct bpfvm_insn b)
{
	return a.code == b.code && a.dst_reg == b.dst_reg && a.src_reg == b.src_reg && a.off == b.off &&
	       a.imm == b.imm;
}

/* Convert f and compare with the prologue then body. */
static void expect_conv(const char *what, const struct bpfvm_sock_filter *f, size_t cnt, bool ld_abs,
			const struct bpfvm_insn *body, size_t nbody)
{
	struct bpfvm_insn want[256], *got = NULL;
	size_t n = prologue(want, ld_abs), gn = 0;
	char msg[256] = "";
	struct bpfvm_log log = { msg, sizeof(msg), 0 };

	memcpy(want + n, body, nbody * sizeof(*body));
	n += nbody;
	if (bpfvm_cbpf_convert(f, cnt, NULL, &got, &gn, NULL, &(struct bpfvm_cbpf_opts){ .sz = sizeof(struct bpfvm_cbpf_opts), .log = &log })) {
		TEST_FAIL("%s: conversion failed: %s", what, msg);
		return;
	}
	if (gn != n)
		TEST_FAIL("%s: %zu instructions, expected %zu", what, gn, n);
	for (size_t i = 0; i < n && i < gn; i++) {
		if (!same_insn(got[i], want[i])) {
			TEST_FAIL("%s: instruction %zu: %02x %u %u %d %d, expected %02x %u %u %d %d", what, i,
				  got[i].code, got[i].dst_reg, got[i].src_reg, got[i].off, got[i].imm,
				  want[i].code, want[i].dst_reg, want[i].src_reg, want[i].off, want[i].imm);
			break;
		}
	}
	free(got);
}

TEST(parse_forms)
{
	const char *dd = "{ 0x28, 0, 0, 0x0000000c },\n{ 0x15, 0, 1, 0x00000800 },\n"
			 "{ 0x6, 0, 0, 0x00040000 },\n{ 0x6, 0, 0, 0x00000000 },\n";
	const char *arr = "struct sock_filter code[] = {\n\t{ 0x28, 0, 0, 0x0000000c },\n\t{ 0x15, 0, 1, 0x00000800 },\n"
			  "\t{ 0x6, 0, 0, 0x00040000 },\n\t{ 0x6, 0, 0, 0x00000000 },\n};\n";
	const char *ddd = "4\n40 0 0 12\n21 0 1 2048\n6 0 0 262144\n6 0 0 0\n";
	struct bpfvm_sock_filter raw[4] = { F(0x28, 0, 0, 12), F(0x15, 0, 1, 0x800), F(6, 0, 0, 0x40000),
					    F(6, 0, 0, 0) };
	struct bpfvm_sock_filter *a, *b, *c;
	size_t na, nb, nc;

	CHECK_EQ_INT(bpfvm_cbpf_parse(dd, strlen(dd), &a, &na, NULL), 0);
	CHECK_EQ_INT(bpfvm_cbpf_parse(ddd, strlen(ddd), &b, &nb, NULL), 0);
	CHECK_EQ_INT(bpfvm_cbpf_parse(raw, sizeof(raw), &c, &nc, NULL), 0);
	CHECK_EQ_INT(na, 4);
	CHECK_EQ_INT(nb, 4);
	CHECK_EQ_INT(nc, 4);
	if (na == 4 && nb == 4 && nc == 4) {
		CHECK(!memcmp(a, raw, sizeof(raw)));
		CHECK(!memcmp(b, raw, sizeof(raw)));
		CHECK(!memcmp(c, raw, sizeof(raw)));
	}
	free(a), free(b), free(c);
	a = NULL, na = 0;
	CHECK_EQ_INT(bpfvm_cbpf_parse(arr, strlen(arr), &a, &na, NULL), 0);
	CHECK_EQ_INT(na, 4);
	if (na == 4)
		CHECK(!memcmp(a, raw, sizeof(raw)));
	free(a);
}

static void expect_parse_error(const char *text, size_t len, const char *msg_part)
{
	char msg[256] = "";
	struct bpfvm_log log = { msg, sizeof(msg), 0 };
	struct bpfvm_sock_filter *f = NULL;
	size_t n;

	CHECK_EQ_INT(bpfvm_cbpf_parse(text, len, &f, &n, &(struct bpfvm_cbpf_opts){ .sz = sizeof(struct bpfvm_cbpf_opts), .log = &log }), -EINVAL);
	CHECK_CONTAINS(msg, msg_part);
	CHECK(f == NULL);
}

TEST(parse_errors)
{
	expect_parse_error("{ 0x28, 0, 0 },\n", 16, "line 1");
	expect_parse_error("{ 0x28, 0, 0, 12 },\n{ 0x10000, 0, 0, 0 },\n", 42, "line 2");
	expect_parse_error("3\n40 0 0 12\n6 0 0 0\n", 20, "instruction 2 of 3");
	expect_parse_error("1\n6 0 0 0\n6 0 0 0\n", 18, "after the 1 instructions");
	expect_parse_error("\x06\x00\x00\x00\x00\x00\x00", 7, "not a whole number");
	expect_parse_error("  \n", 3, "expected the instruction count");
}

static void expect_refusal(const char *what, const struct bpfvm_sock_filter *f, size_t cnt,
			   const char *msg_part)
{
	char msg[256] = "";
	struct bpfvm_log log = { msg, sizeof(msg), 0 };

	if (bpfvm_cbpf_check(f, cnt, &(struct bpfvm_cbpf_opts){ .sz = sizeof(struct bpfvm_cbpf_opts), .log = &log }) != -EINVAL)
		TEST_FAIL("%s: accepted", what);
	else if (!strstr(msg, msg_part))
		TEST_FAIL("%s: message \"%s\" lacks \"%s\"", what, msg, msg_part);
}

TEST(check_refusals)
{
	struct bpfvm_sock_filter back[] = { F(0x05, 0, 0, 0xffffffff), F(6, 0, 0, 0) };
	struct bpfvm_sock_filter past[] = { F(0x15, 3, 0, 1), F(6, 0, 0, 0) };
	struct bpfvm_sock_filter ja_past[] = { F(0x00, 0, 0, 1), F(0x05, 0, 0, 1), F(6, 0, 0, 0) };
	struct bpfvm_sock_filter noret[] = { F(0x00, 0, 0, 1), F(0x87, 0, 0, 0) };
	struct bpfvm_sock_filter unknown[] = { F(0x00, 0, 0, 1), F(0xff, 0, 0, 0), F(6, 0, 0, 0) };
	struct bpfvm_sock_filter mem[] = { F(0x15, 0, 1, 5), F(0x02, 0, 0, 3), F(0x60, 0, 0, 3),
					   F(0x16, 0, 0, 0) };
	struct bpfvm_sock_filter mem_ok[] = { F(0x02, 0, 0, 3), F(0x15, 0, 1, 5), F(0x02, 0, 0, 4),
					      F(0x60, 0, 0, 3), F(0x16, 0, 0, 0) };
	struct bpfvm_sock_filter div0[] = { F(0x34, 0, 0, 0), F(6, 0, 0, 0) };
	struct bpfvm_sock_filter mod0[] = { F(0x94, 0, 0, 0), F(6, 0, 0, 0) };
	struct bpfvm_sock_filter shift[] = { F(0x64, 0, 0, 32), F(6, 0, 0, 0) };
	struct bpfvm_sock_filter m16[] = { F(0x02, 0, 0, 16), F(6, 0, 0, 0) };
	struct bpfvm_sock_filter anc[] = { F(0x20, 0, 0, (uint32_t)(BPFVM_SKF_AD_OFF + 64)), F(6, 0, 0, 0) };
	struct bpfvm_sock_filter *big = calloc(4097, sizeof(*big));

	expect_refusal("backward jump", back, 2, "instruction 0: backward jump");
	expect_refusal("jump past the end", past, 2, "instruction 0: jump past the end");
	expect_refusal("ja past the end", ja_past, 3, "instruction 1: jump past the end");
	expect_refusal("no final return", noret, 2, "instruction 1: the last instruction is not a return");
	expect_refusal("unknown opcode", unknown, 3, "instruction 1: unknown opcode 0xff");
	expect_refusal("M[] never stored", mem, 4, "instruction 2: load from M[3]");
	CHECK_EQ_INT(bpfvm_cbpf_check(mem_ok, 5, NULL), 0);
	expect_refusal("div #0", div0, 2, "instruction 0: division by zero");
	expect_refusal("mod #0", mod0, 2, "instruction 0: division by zero");
	expect_refusal("lsh #32", shift, 2, "instruction 0: shift by 32");
	expect_refusal("M[16]", m16, 2, "instruction 0: scratch memory M[16]");
	expect_refusal("unknown ancillary", anc, 2, "unknown ancillary load (SKF_AD_OFF + 64)");
	for (int i = 0; big && i < 4097; i++)
		big[i] = F(6, 0, 0, 0);
	expect_refusal("4097 instructions", big, 4097, "4097 instructions: the kernel takes 1 to 4096");
	CHECK_EQ_INT(bpfvm_cbpf_check(big, 4096, NULL), 0);
	free(big);
}

TEST(seccomp_check)
{
	struct bpfvm_sock_filter ok[] = { F(0x20, 0, 0, 4), F(0x80, 0, 0, 0), F(0x81, 0, 0, 0), F(6, 0, 0, 0) };
	struct bpfvm_sock_filter unaligned[] = { F(0x20, 0, 0, 2), F(6, 0, 0, 0) };
	struct bpfvm_sock_filter beyond[] = { F(0x20, 0, 0, 64), F(6, 0, 0, 0) };
	struct bpfvm_sock_filter ldh[] = { F(0x28, 0, 0, 0), F(6, 0, 0, 0) };
	struct bpfvm_sock_filter mod[] = { F(0x94, 0, 0, 3), F(6, 0, 0, 0) };
	char msg[256] = "";
	struct bpfvm_log log = { msg, sizeof(msg), 0 };

	CHECK_EQ_INT(bpfvm_cbpf_seccomp_check(ok, 4, NULL), 0);
	CHECK_EQ_INT(ok[0].code, 0x21);
	CHECK_EQ_INT(ok[1].code, 0x00);
	CHECK_EQ_INT(ok[1].k, 64);
	CHECK_EQ_INT(ok[2].code, 0x01);
	CHECK_EQ_INT(ok[2].k, 64);
	CHECK_EQ_INT(bpfvm_cbpf_seccomp_check(unaligned, 2, &(struct bpfvm_cbpf_opts){ .sz = sizeof(struct bpfvm_cbpf_opts), .log = &log }), -EINVAL);
	CHECK_CONTAINS(msg, "instruction 0: ld [2] is not an aligned word");
	CHECK_EQ_INT(bpfvm_cbpf_seccomp_check(beyond, 2, NULL), -EINVAL);
	bpfvm_log__reset(&log);
	CHECK_EQ_INT(bpfvm_cbpf_seccomp_check(ldh, 2, &(struct bpfvm_cbpf_opts){ .sz = sizeof(struct bpfvm_cbpf_opts), .log = &log }), -EINVAL);
	CHECK_CONTAINS(msg, "opcode 0x28 is not allowed in a seccomp filter");
	CHECK_EQ_INT(bpfvm_cbpf_seccomp_check(mod, 2, NULL), -EINVAL);
}

/* ret #k after one instruction: the instruction's conversion, then mov + exit. */
#define ONE(NAME, INSN, LDABS, ...)                                                                    \
	do {                                                                                           \
		struct bpfvm_sock_filter f_[] = { INSN, F(6, 0, 0, 7) };                               \
		struct bpfvm_insn b_[] = { __VA_ARGS__, MOV32I(A, 7), EXIT() };                       \
		expect_conv(NAME, f_, 2, LDABS, b_, sizeof(b_) / sizeof(b_[0]));                     \
	} while (0)

TEST(convert_simple)
{
	struct bpfvm_sock_filter ret_a[] = { F(0x16, 0, 0, 0) };
	struct bpfvm_insn ret_a_body[] = { EXIT() };

	expect_conv("ret a", ret_a, 1, false, ret_a_body, 1);
	ONE("ld #k", F(0x00, 0, 0, 0x12345678), false, MOV32I(A, 0x12345678));
	ONE("ldx #k", F(0x01, 0, 0, 0xfffffff0), false, MOV32I(X, -16));
	ONE("tax", F(0x07, 0, 0, 0), false, MOV64(X, A));
	ONE("txa", F(0x87, 0, 0, 0), false, MOV64(A, X));
	ONE("ld #pktlen", F(0x80, 0, 0, 0), false, LDXW(A, CTX, L->len));
	ONE("ldx #pktlen", F(0x81, 0, 0, 0), false, LDXW(X, CTX, L->len));
	ONE("st M[3]", F(0x02, 0, 0, 3), false, I(0x63, FP, A, -16, 0));
	ONE("stx M[15]", F(0x03, 0, 0, 15), false, I(0x63, FP, X, -64, 0));
	ONE("neg", F(0x84, 0, 0, 0), false, I(0x84, A, X, 0, 0));
}

TEST(convert_mem_loads)
{
	struct bpfvm_sock_filter f[] = { F(0x02, 0, 0, 2), F(0x60, 0, 0, 2), F(0x61, 0, 0, 2), F(0x16, 0, 0, 0) };
	struct bpfvm_insn b[] = { I(0x63, FP, A, -12, 0), LDXW(A, FP, -12), LDXW(X, FP, -12), EXIT() };
	uint32_t depth = 0;
	struct bpfvm_insn *out;
	size_t n;

	expect_conv("ld/ldx M[2]", f, 4, false, b, 4);
	CHECK_EQ_INT(bpfvm_cbpf_convert(f, 4, NULL, &out, &n, &depth, NULL), 0);
	CHECK_EQ_INT(depth, 12);
	free(out);
}

TEST(convert_alu)
{
	static const uint8_t ops[] = { 0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x90, 0xa0 };

	for (size_t i = 0; i < sizeof(ops); i++) {
		char name[32];
		uint16_t k = (uint16_t)(BPFVM_ALU | ops[i] | BPFVM_K), x = (uint16_t)(BPFVM_ALU | ops[i] | BPFVM_X);

		snprintf(name, sizeof(name), "alu 0x%02x k", k);
		ONE(name, F(k, 0, 0, 5), false, I((uint8_t)k, A, X, 0, 5));
		snprintf(name, sizeof(name), "alu 0x%02x x", x);
		if (ops[i] == 0x30 || ops[i] == 0x90) /* by X: zero X returns 0 */
			ONE(name, F(x, 0, 0, 16), false, I(0xbc, X, X, 0, 0), I(0x55, X, 0, 2, 0), XOR32(A, A),
			    EXIT(), I((uint8_t)x, A, X, 0, 16));
		else /* the kernel copies k into the register form's imm */
			ONE(name, F(x, 0, 0, 16), false, I((uint8_t)x, A, X, 0, 16));
	}
}

TEST(prepare_clears_what_the_kernel_ignores)
{
	struct bpfvm_insn p[] = { XOR32(A, A), XOR32(X, X), I(0x04, A, X, 0, 5), I(0x1c, A, X, 0, 16),
				  I(0x84, A, X, 0, 9), I(0x15, A, 0, 0, 3), I(0x3d, A, X, 1, 7), I(0xdc, A, 0, 0, 16) };
	struct bpfvm_insn want[] = { MOV32I(A, 0), MOV32I(X, 0), I(0x04, A, 0, 0, 5), I(0x1c, A, X, 0, 0),
				     I(0x84, A, 0, 0, 0), I(0x15, A, 0, 0, 3), I(0x3d, A, X, 1, 0), I(0xdc, A, 0, 0, 16) };

	bpfvm_cbpf_prepare(p, 8);
	for (int i = 0; i < 8; i++)
		if (!same_insn(p[i], want[i]))
			TEST_FAIL("instruction %d: %02x %u %u %d %d", i, p[i].code, p[i].dst_reg, p[i].src_reg,
				  p[i].off, p[i].imm);
}

TEST(convert_jumps)
{
	/* jt only: the same jump; jf only: the inverse; both: jump then ja */
	struct bpfvm_sock_filter jt[] = { F(0x15, 1, 0, 9), F(6, 0, 0, 1), F(6, 0, 0, 2) };
	struct bpfvm_insn jt_b[] = { I(0x15, A, 0, 2, 9), MOV32I(A, 1), EXIT(), MOV32I(A, 2), EXIT() };
	struct bpfvm_sock_filter jf[] = { F(0x25, 0, 1, 9), F(6, 0, 0, 1), F(6, 0, 0, 2) };
	struct bpfvm_insn jf_b[] = { I(0xb5, A, 0, 2, 9), MOV32I(A, 1), EXIT(), MOV32I(A, 2), EXIT() };
	/* on X, the kernel still copies k into imm */
	struct bpfvm_sock_filter jge[] = { F(0x3d, 0, 1, 7), F(6, 0, 0, 1), F(6, 0, 0, 2) };
	struct bpfvm_insn jge_b[] = { I(0xad, A, X, 2, 7), MOV32I(A, 1), EXIT(), MOV32I(A, 2), EXIT() };
	struct bpfvm_sock_filter both[] = { F(0x45, 1, 2, 4), F(6, 0, 0, 1), F(6, 0, 0, 2), F(6, 0, 0, 3) };
	struct bpfvm_insn both_b[] = { I(0x45, A, 0, 3, 4), JA(4), MOV32I(A, 1), EXIT(), MOV32I(A, 2), EXIT(),
				       MOV32I(A, 3), EXIT() };
	struct bpfvm_sock_filter jset_jf[] = { F(0x45, 0, 1, 4), F(6, 0, 0, 1), F(6, 0, 0, 2) };
	struct bpfvm_insn jset_jf_b[] = { I(0x45, A, 0, 1, 4), JA(2), MOV32I(A, 1), EXIT(), MOV32I(A, 2), EXIT() };
	struct bpfvm_sock_filter neg[] = { F(0x15, 1, 0, 0xfffffffe), F(6, 0, 0, 1), F(6, 0, 0, 2) };
	struct bpfvm_insn neg_b[] = { MOV32I(TMP, -2), I(0x1d, A, TMP, 2, 0), MOV32I(A, 1), EXIT(),
				      MOV32I(A, 2), EXIT() };
	struct bpfvm_sock_filter ja[] = { F(0x05, 0, 0, 1), F(6, 0, 0, 1), F(6, 0, 0, 2) };
	struct bpfvm_insn ja_b[] = { JA(2), MOV32I(A, 1), EXIT(), MOV32I(A, 2), EXIT() };

	expect_conv("jeq jt", jt, 3, false, jt_b, 5);
	expect_conv("jgt jf", jf, 3, false, jf_b, 5);
	expect_conv("jge x jf", jge, 3, false, jge_b, 5);
	expect_conv("jset jt jf", both, 4, false, both_b, 8);
	expect_conv("jset jf", jset_jf, 3, false, jset_jf_b, 6);
	expect_conv("jeq negative k", neg, 3, false, neg_b, 6);
	expect_conv("ja", ja, 3, false, ja_b, 5);
}

/* convert_bpf_ld_abs's call path, from arg1 on. */
#define LD_CALL(ARG4_INSNS, FN) MOV64(ARG1, CTX), MOV64(ARG2, D), MOV64(ARG3, H), ARG4_INSNS, CALLF(FN), \
	I(0x75, A, 0, 2, 0), XOR32(A, A), EXIT()

TEST(convert_packet_loads)
{
	ONE("ldb [0]", F(0x30, 0, 0, 0), true, MOV64(TMP, H), I(0xc5, TMP, 0, 2, 1), LDXB(A, D, 0), JA(8),
	    LD_CALL(I(0xb7, ARG4, 0, 0, 0), BPFVM_CBPF_FN_LOAD_8));
	ONE("ldh [12]", F(0x28, 0, 0, 12), true, MOV64(TMP, H), I(0x17, TMP, 0, 0, 12), I(0xc5, TMP, 0, 3, 2),
	    LDXH(A, D, 12), BE(A, 16), JA(8), LD_CALL(I(0xb7, ARG4, 0, 0, 12), BPFVM_CBPF_FN_LOAD_16));
	ONE("ld [40000]", F(0x20, 0, 0, 40000), true, MOV64(TMP, H), I(0x17, TMP, 0, 0, 40000),
	    I(0xc5, TMP, 0, 5, 4), MOV64(TMP, D), I(0x07, TMP, 0, 0, 40000), LDXW(A, TMP, 0), BE(A, 32), JA(8),
	    LD_CALL(I(0xb7, ARG4, 0, 0, 40000), BPFVM_CBPF_FN_LOAD_32));
	ONE("ld [net -4]", F(0x20, 0, 0, BPFVM_SKF_NET_OFF - 4), true,
	    LD_CALL(I(0xb7, ARG4, 0, 0, BPFVM_SKF_NET_OFF - 4), BPFVM_CBPF_FN_LOAD_32));
	ONE("ldh [x + 14]", F(0x48, 0, 0, 14), true,
	    LD_CALL(MOV64(ARG4, X) COMMA I(0x07, ARG4, 0, 0, 14), BPFVM_CBPF_FN_LOAD_16));
	ONE("ldb [x + 0]", F(0x50, 0, 0, 0), true, LD_CALL(MOV64(ARG4, X), BPFVM_CBPF_FN_LOAD_8));
	ONE("ldxb 4*([14]&0xf)", F(0xb1, 0, 0, 14), true, MOV64(X, A), MOV64(TMP, H), I(0x17, TMP, 0, 0, 14),
	    I(0xc5, TMP, 0, 2, 1), LDXB(A, D, 14), JA(8), LD_CALL(I(0xb7, ARG4, 0, 0, 14), BPFVM_CBPF_FN_LOAD_8),
	    I(0x54, A, 0, 0, 0xf), I(0x64, A, 0, 0, 2), MOV64(TMP, X), MOV64(X, A), MOV64(A, TMP));
}

#define AD(N) F(0x20, 0, 0, (uint32_t)(BPFVM_SKF_AD_OFF + (N)))
#define CALL3(FN) MOV64(ARG1, CTX), MOV64(ARG2, A), MOV64(ARG3, X), CALLF(FN)

TEST(convert_ancillary)
{
	ONE("protocol", AD(BPFVM_SKF_AD_PROTOCOL), false, LDXH(A, CTX, L->protocol), BE(A, 16));
	ONE("pkttype", AD(BPFVM_SKF_AD_PKTTYPE), false, LDXB(A, CTX, L->pkt_type), I(0x54, A, 0, 0, 7));
	ONE("ifindex", AD(BPFVM_SKF_AD_IFINDEX), false, LDXDW(TMP, CTX, L->dev), I(0x55, TMP, 0, 1, 0), EXIT(),
	    LDXW(A, TMP, L->dev_ifindex));
	ONE("hatype", AD(BPFVM_SKF_AD_HATYPE), false, LDXDW(TMP, CTX, L->dev), I(0x55, TMP, 0, 1, 0), EXIT(),
	    LDXH(A, TMP, L->dev_type));
	ONE("mark", AD(BPFVM_SKF_AD_MARK), false, LDXW(A, CTX, L->mark));
	ONE("rxhash", AD(BPFVM_SKF_AD_RXHASH), false, LDXW(A, CTX, L->hash));
	ONE("queue", AD(BPFVM_SKF_AD_QUEUE), false, LDXH(A, CTX, L->queue_mapping));
	ONE("vlan_tci", AD(BPFVM_SKF_AD_VLAN_TAG), false, LDXH(A, CTX, L->vlan_tci));
	ONE("vlan_avail", AD(BPFVM_SKF_AD_VLAN_TAG_PRESENT), false, LDXW(A, CTX, L->vlan_all),
	    I(0x15, A, 0, 1, 0), MOV32I(A, 1));
	ONE("vlan_tpid", AD(BPFVM_SKF_AD_VLAN_TPID), false, LDXH(A, CTX, L->vlan_proto), BE(A, 16));
	ONE("poff", AD(BPFVM_SKF_AD_PAY_OFFSET), false, CALL3(BPFVM_CBPF_FN_PAY_OFFSET));
	ONE("nla", AD(BPFVM_SKF_AD_NLATTR), false, CALL3(BPFVM_CBPF_FN_NLATTR));
	ONE("nlan", AD(BPFVM_SKF_AD_NLATTR_NEST), false, CALL3(BPFVM_CBPF_FN_NLATTR_NEST));
	ONE("cpu", AD(BPFVM_SKF_AD_CPU), false, CALL3(BPFVM_CBPF_FN_CPU));
	ONE("rand", AD(BPFVM_SKF_AD_RANDOM), false, CALL3(BPFVM_CBPF_FN_RANDOM));
	ONE("xor x", AD(BPFVM_SKF_AD_ALU_XOR_X), false, XOR32(A, X));
	/* the ancillary offsets through ldh and ldb convert the same way */
	ONE("ldb mark", F(0x30, 0, 0, (uint32_t)(BPFVM_SKF_AD_OFF + BPFVM_SKF_AD_MARK)), false, LDXW(A, CTX, L->mark));
}

TEST(convert_seccomp)
{
	struct bpfvm_sock_filter f[] = { F(0x20, 0, 0, 0), F(0x80, 0, 0, 0), F(0x16, 0, 0, 0) };
	struct bpfvm_insn b[] = { LDXW(A, CTX, 0), MOV32I(A, 64), EXIT() };

	CHECK_EQ_INT(bpfvm_cbpf_seccomp_check(f, 3, NULL), 0);
	expect_conv("seccomp ld [0], ld #pktlen", f, 3, false, b, 3);
}

/* ---- running converted programs --------------------------------------- */

static uint32_t run_skb(const struct bpfvm_sock_filter *f, size_t cnt, const uint8_t *pkt, size_t len,
			const struct bpfvm_cbpf_skb_info *info, enum bpfvm_exec mode)
{
	struct bpfvm *vm = bpfvm__new(NULL);
	struct bpfvm_insn *insns = NULL;
	struct bpfvm_prog *prog = NULL;
	char msg[512] = "";
	struct bpfvm_log log = { msg, sizeof(msg), 0 };
	uint32_t v = 0xdeadbeef;
	size_t n;

	if (!vm || bpfvm_cbpf__register_fns(vm) || bpfvm_cbpf_check(f, cnt, &(struct bpfvm_cbpf_opts){ .sz = sizeof(struct bpfvm_cbpf_opts), .log = &log }) ||
	    bpfvm_cbpf_convert(f, cnt, NULL, &insns, &n, NULL, &(struct bpfvm_cbpf_opts){ .sz = sizeof(struct bpfvm_cbpf_opts), .log = &log })) {
		TEST_FAIL("setup: %s", msg);
		goto out;
	}
	bpfvm_cbpf_prepare(insns, n);
	BPFVM_OPTS(bpfvm_prog_opts, po, .log = &log, .flags = BPFVM_PROG_TRUSTED);
	prog = bpfvm_prog__new(vm, insns, n, &po);
	if (!prog || bpfvm_cbpf_run_skb(prog, NULL, pkt, len, info, mode, &v, &(struct bpfvm_cbpf_opts){ .sz = sizeof(struct bpfvm_cbpf_opts), .log = &log }))
		TEST_FAIL("run (%s): %s", mode == BPFVM_EXEC_JIT ? "jit" : "interp", msg);
out:
	free(insns);
	bpfvm__destroy(vm);
	return v;
}

/* Both back-ends must give want. */
#define EXPECT_RUN(F_, CNT, PKT, LEN, INFO, WANT)                                              \
	do {                                                                                   \
		CHECK_EQ_U64(run_skb(F_, CNT, PKT, LEN, INFO, BPFVM_EXEC_UNCHECKED), WANT);   \
		CHECK_EQ_U64(run_skb(F_, CNT, PKT, LEN, INFO, BPFVM_EXEC_JIT), WANT);         \
	} while (0)

static uint32_t alu_ref(uint8_t op, uint32_t a, uint32_t b)
{
	switch (op) {
	case 0x00: return a + b;
	case 0x10: return a - b;
	case 0x20: return a * b;
	case 0x30: return b ? a / b : 0;
	case 0x40: return a | b;
	case 0x50: return a & b;
	case 0x60: return a << (b & 31);
	case 0x70: return a >> (b & 31);
	case 0x90: return b ? a % b : 0;
	case 0xa0: return a ^ b;
	}
	return 0;
}

TEST(run_alu)
{
	static const uint8_t ops[] = { 0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x90, 0xa0 };
	static const uint32_t as[] = { 0, 7, 0x80000000u, 0xffffffffu, 1000003 };
	static const uint32_t bs[] = { 1, 3, 31, 0xfffffff9u };

	for (size_t i = 0; i < sizeof(ops); i++)
		for (size_t j = 0; j < 5; j++)
			for (size_t k = 0; k < 4; k++) {
				uint32_t b = (ops[i] == 0x60 || ops[i] == 0x70) ? bs[k] & 31 : bs[k];
				struct bpfvm_sock_filter fk[] = { F(0x00, 0, 0, as[j]), F(BPFVM_ALU | ops[i], 0, 0, b),
								  F(0x16, 0, 0, 0) };
				struct bpfvm_sock_filter fx[] = { F(0x00, 0, 0, as[j]), F(0x01, 0, 0, b),
								  F(BPFVM_ALU | ops[i] | BPFVM_X, 0, 0, 0), F(0x16, 0, 0, 0) };

				EXPECT_RUN(fk, 3, NULL, 0, NULL, alu_ref(ops[i], as[j], b));
				EXPECT_RUN(fx, 4, NULL, 0, NULL, alu_ref(ops[i], as[j], b));
			}
}

TEST(run_div_by_x_zero)
{
	struct bpfvm_sock_filter f[] = { F(0x00, 0, 0, 9), F(0x3c, 0, 0, 0), F(6, 0, 0, 77) };
	struct bpfvm_sock_filter m[] = { F(0x00, 0, 0, 9), F(0x9c, 0, 0, 0), F(6, 0, 0, 77) };

	EXPECT_RUN(f, 3, NULL, 0, NULL, 0); /* the program ends there, returning 0 */
	EXPECT_RUN(m, 3, NULL, 0, NULL, 0);
}

TEST(run_jumps)
{
	/* A compared unsigned, with k negative too */
	for (uint32_t a = 0xfffffffd; a != 3; a++) {
		struct bpfvm_sock_filter f[] = { F(0x00, 0, 0, a), F(0x25, 0, 1, 0xfffffffe), F(6, 0, 0, 1),
						 F(0x35, 0, 1, 1), F(6, 0, 0, 2), F(0x45, 1, 0, 2), F(6, 0, 0, 3),
						 F(6, 0, 0, 4) };
		uint32_t want = a > 0xfffffffe ? 1 : a >= 1 ? 2 : (a & 2) ? 4 : 3;

		EXPECT_RUN(f, 8, NULL, 0, NULL, want);
	}
}

TEST(run_packet_loads)
{
	uint8_t pkt[64];
	struct bpfvm_sock_filter w[] = { F(0x20, 0, 0, 2), F(0x16, 0, 0, 0) };
	struct bpfvm_sock_filter h_oob[] = { F(0x28, 0, 0, 63), F(6, 0, 0, 5) };
	struct bpfvm_sock_filter b_last[] = { F(0x30, 0, 0, 63), F(0x16, 0, 0, 0) };
	struct bpfvm_sock_filter ind[] = { F(0x01, 0, 0, 10), F(0x48, 0, 0, 4), F(0x16, 0, 0, 0) };
	struct bpfvm_sock_filter ind_oob[] = { F(0x01, 0, 0, 62), F(0x40, 0, 0, 0), F(6, 0, 0, 5) };
	struct bpfvm_sock_filter msh[] = { F(0xb1, 0, 0, 14), F(0x87, 0, 0, 0), F(0x16, 0, 0, 0) };
	struct bpfvm_sock_filter net[] = { F(0x30, 0, 0, (uint32_t)(BPFVM_SKF_NET_OFF + 9)), F(0x16, 0, 0, 0) };
	struct bpfvm_sock_filter ll[] = { F(0x28, 0, 0, (uint32_t)(BPFVM_SKF_LL_OFF + 12)), F(0x16, 0, 0, 0) };
	struct bpfvm_sock_filter len[] = { F(0x80, 0, 0, 0), F(0x16, 0, 0, 0) };

	for (int i = 0; i < 64; i++)
		pkt[i] = (uint8_t)(i * 3 + 1);
	pkt[14] = 0x45;
	EXPECT_RUN(w, 2, pkt, 64, NULL, (uint32_t)pkt[2] << 24 | pkt[3] << 16 | pkt[4] << 8 | pkt[5]);
	EXPECT_RUN(h_oob, 2, pkt, 64, NULL, 0);
	EXPECT_RUN(b_last, 2, pkt, 64, NULL, pkt[63]);
	EXPECT_RUN(ind, 3, pkt, 64, NULL, (uint32_t)pkt[14] << 8 | pkt[15]);
	EXPECT_RUN(ind_oob, 3, pkt, 64, NULL, 0);
	EXPECT_RUN(msh, 3, pkt, 64, NULL, 20);
	EXPECT_RUN(net, 2, pkt, 64, NULL, pkt[14 + 9]);
	EXPECT_RUN(ll, 2, pkt, 64, NULL, (uint32_t)pkt[12] << 8 | pkt[13]);
	EXPECT_RUN(len, 2, pkt, 64, NULL, 64);
}

TEST(run_ancillary)
{
	uint8_t pkt[60] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4, 5, 6, 0x08, 0x00, 0x45 };
	struct bpfvm_cbpf_skb_info info = { .protocol = 0x0800, .pkt_type = 1, .hatype = 1, .ifindex = 42,
					    .mark = 0xabcd, .hash = 0x1234567, .queue_mapping = 3,
					    .vlan_proto = 0x8100, .vlan_tci = 0x2005, .network_offset = 14 };
	static const struct { int ad; uint32_t want; } cases[] = {
		{ BPFVM_SKF_AD_PROTOCOL, 0x0800 }, { BPFVM_SKF_AD_PKTTYPE, 1 }, { BPFVM_SKF_AD_IFINDEX, 42 },
		{ BPFVM_SKF_AD_HATYPE, 1 }, { BPFVM_SKF_AD_MARK, 0xabcd }, { BPFVM_SKF_AD_RXHASH, 0x1234567 },
		{ BPFVM_SKF_AD_QUEUE, 3 }, { BPFVM_SKF_AD_VLAN_TAG, 0x2005 }, { BPFVM_SKF_AD_VLAN_TAG_PRESENT, 1 },
		{ BPFVM_SKF_AD_VLAN_TPID, 0x8100 }, { BPFVM_SKF_AD_PAY_OFFSET, 14 + 20 },
	};

	pkt[23] = 99; /* an IPv4 protocol without a known header: payload right after IP */
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct bpfvm_sock_filter f[] = { AD(cases[i].ad), F(0x16, 0, 0, 0) };
		EXPECT_RUN(f, 2, pkt, sizeof(pkt), &info, cases[i].want);
	}
	info.vlan_proto = 0;
	info.vlan_tci = 0;
	{
		struct bpfvm_sock_filter f[] = { AD(BPFVM_SKF_AD_VLAN_TAG_PRESENT), F(0x16, 0, 0, 0) };
		struct bpfvm_sock_filter x[] = { F(0x00, 0, 0, 0xf0), F(0x01, 0, 0, 0x0f), AD(BPFVM_SKF_AD_ALU_XOR_X),
						 F(0x16, 0, 0, 0) };
		struct bpfvm_sock_filter cpu[] = { AD(BPFVM_SKF_AD_CPU), F(0x25, 0, 1, 4095), F(6, 0, 0, 0),
						   F(6, 0, 0, 1) };
		EXPECT_RUN(f, 2, pkt, sizeof(pkt), &info, 0);
		EXPECT_RUN(x, 4, pkt, sizeof(pkt), &info, 0xff);
		EXPECT_RUN(cpu, 4, pkt, sizeof(pkt), &info, 1);
	}
}

TEST(run_nlattr)
{
	/* two attributes: type 1 (len 8) at 0, type 2 (len 12, nested: type 7 at 16) at 8 */
	uint8_t msg[20] = { 8, 0, 1, 0, 0, 0, 0, 0, 12, 0, 2, 0x80, 8, 0, 7, 0, 0, 0, 0, 0 };
	struct bpfvm_sock_filter find2[] = { F(0x00, 0, 0, 0), F(0x01, 0, 0, 2), AD(BPFVM_SKF_AD_NLATTR),
					     F(0x16, 0, 0, 0) };
	struct bpfvm_sock_filter find9[] = { F(0x00, 0, 0, 0), F(0x01, 0, 0, 9), AD(BPFVM_SKF_AD_NLATTR),
					     F(0x16, 0, 0, 0) };
	struct bpfvm_sock_filter nest7[] = { F(0x00, 0, 0, 8), F(0x01, 0, 0, 7), AD(BPFVM_SKF_AD_NLATTR_NEST),
					     F(0x16, 0, 0, 0) };
	struct bpfvm_cbpf_skb_info info = { 0 };

	EXPECT_RUN(find2, 4, msg, sizeof(msg), &info, 8);
	EXPECT_RUN(find9, 4, msg, sizeof(msg), &info, 0);
	EXPECT_RUN(nest7, 4, msg, sizeof(msg), &info, 12);
}

TEST(disasm_tcpdump_syntax)
{
	struct bpfvm_sock_filter f[] = { F(0x28, 0, 0, 12), F(0x15, 0, 3, 0x800), F(0xb1, 0, 0, 14),
					 F(0x48, 0, 0, 16), F(0x05, 0, 0, 0), F(0x06, 0, 0, 262144), F(0x16, 0, 0, 0) };
	static const char *const want[] = {
		"(000) ldh      [12]", "(001) jeq      #0x800           jt 2\tjf 5", "(002) ldxb     4*([14]&0xf)",
		"(003) ldh      [x + 16]", "(004) ja       5", "(005) ret      #262144", "(006) ret      ",
	};
	char buf[128];

	for (size_t i = 0; i < 7; i++) {
		bpfvm_cbpf_disasm(f, 7, i, buf, sizeof(buf));
		CHECK_STR(buf, want[i]);
	}
}

/* A member's byte offset in a struct, through anonymous members; -1 if absent. */
static long member_off(const struct btf *btf, uint32_t id, const char *name)
{
	const struct btf_type *t = btf_type(btf, btf_skip_mods(btf, id));
	const struct btf_member *m;

	if (!t || (btf_kind(t) != BTF_KIND_STRUCT && btf_kind(t) != BTF_KIND_UNION))
		return -1;
	m = btf_members(t);
	for (unsigned i = 0; i < btf_vlen(t); i++) {
		const char *n = btf_str(btf, m[i].name_off);
		long base = btf_member_bit_offset(t, &m[i]) / 8, sub;

		if (n && !strcmp(n, name))
			return base;
		if ((!n || !*n) && (sub = member_off(btf, m[i].type, name)) >= 0)
			return base + sub;
	}
	return -1;
}

TEST(skb_layout_matches_kernel_btf)
{
	static const struct { const char *name; size_t off; } skb[] = {
		{ "len", offsetof(struct bpfvm_cbpf_skb_layout, len) },
		{ "data_len", offsetof(struct bpfvm_cbpf_skb_layout, data_len) },
		{ "data", offsetof(struct bpfvm_cbpf_skb_layout, data) },
		{ "protocol", offsetof(struct bpfvm_cbpf_skb_layout, protocol) },
		{ "__pkt_type_offset", offsetof(struct bpfvm_cbpf_skb_layout, pkt_type) },
		{ "dev", offsetof(struct bpfvm_cbpf_skb_layout, dev) },
		{ "mark", offsetof(struct bpfvm_cbpf_skb_layout, mark) },
		{ "queue_mapping", offsetof(struct bpfvm_cbpf_skb_layout, queue_mapping) },
		{ "vlan_all", offsetof(struct bpfvm_cbpf_skb_layout, vlan_all) },
		{ "vlan_proto", offsetof(struct bpfvm_cbpf_skb_layout, vlan_proto) },
		{ "vlan_tci", offsetof(struct bpfvm_cbpf_skb_layout, vlan_tci) },
		{ "hash", offsetof(struct bpfvm_cbpf_skb_layout, hash) },
	};
	int fd = open("/sys/kernel/btf/vmlinux", O_RDONLY);
	struct stat st;
	uint8_t *data;
	struct btf *btf;
	uint32_t skb_id, dev_id;

	if (fd < 0 || fstat(fd, &st)) {
		printf("SKIP skb_layout_matches_kernel_btf: no /sys/kernel/btf/vmlinux\n");
		if (fd >= 0)
			close(fd);
		return;
	}
	data = malloc((size_t)st.st_size);
	for (ssize_t got = 0, r = 1; data && got < st.st_size && r > 0; got += r)
		r = read(fd, data + got, (size_t)(st.st_size - got));
	if (!data) {
		TEST_FAIL("reading vmlinux BTF");
		free(data);
		close(fd);
		return;
	}
	close(fd);
	btf = btf_parse(data, (size_t)st.st_size, "vmlinux", NULL);
	CHECK(btf != NULL);
	if (btf) {
		skb_id = btf_find(btf, "sk_buff", BTF_KIND_STRUCT);
		dev_id = btf_find(btf, "net_device", BTF_KIND_STRUCT);
		for (size_t i = 0; i < sizeof(skb) / sizeof(skb[0]); i++) {
			uint16_t have;
			memcpy(&have, (const uint8_t *)L + skb[i].off, 2);
			if (member_off(btf, skb_id, skb[i].name) != have)
				TEST_FAIL("sk_buff.%s at %ld in the kernel, %u in the layout", skb[i].name,
					  member_off(btf, skb_id, skb[i].name), have);
		}
		CHECK_EQ_INT(member_off(btf, dev_id, "ifindex"), L->dev_ifindex);
		CHECK_EQ_INT(member_off(btf, dev_id, "type"), L->dev_type);
		btf_free(btf);
	}
	free(data);
}

TEST_MAIN()
