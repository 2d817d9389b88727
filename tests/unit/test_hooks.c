/*
 * test_hooks.c - program types' contexts in test runs: an XDP program's
 * xdp_md holds the packet's real addresses in its 32-bit fields, moving
 * the head and tail follows the kernel's bounds, __sk_buff is read-only
 * but for the fields the kernel lets programs write (checked runs), a
 * socket filter sees the packet from its network header, a kprobe's
 * pt_regs and a tracepoint's record arrive as given, and input a type
 * cannot take is refused with a message.
 */
#include <errno.h>
#include <linux/bpf.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include <bpfvm/hooks.h>

#include "test.h"

#define I(...) BPFVM_RAW_INSN(__VA_ARGS__)

static struct bpfvm_prog *make(struct bpfvm *vm, uint32_t type, const struct bpfvm_insn *insns,
			       size_t cnt)
{
	char msg[512] = "";
	struct bpfvm_log log = { msg, sizeof(msg), 0 };
	BPFVM_OPTS(bpfvm_prog_opts, o, .prog_type = type, .log = &log, .license = "GPL");
	struct bpfvm_prog *p = bpfvm_prog__new(vm, insns, cnt, &o);

	if (!p)
		TEST_FAIL("bpfvm_prog__new: %s", msg);
	return p;
}

static uint8_t pkt[64] = { [12] = 0x08, [13] = 0x00, [14] = 0x45, [23] = 6 };

static int run(struct bpfvm_prog *p, const void *data, size_t len, const void *ctx, size_t ctx_len,
	       uint64_t *ret, char *msg, size_t msgsz, uint8_t *out, size_t *out_len)
{
	struct bpfvm_log log = { msg, msgsz, 0 };
	BPFVM_OPTS(bpfvm_test_run_opts, o, .data_in = data, .data_size_in = len, .ctx_in = ctx,
		   .ctx_size_in = ctx_len, .data_out = out, .data_size_out = out_len ? *out_len : 0,
		   .log = &log);
	int err;

	msg[0] = '\0';
	err = bpfvm_prog__test_run(p, &o);
	*ret = o.retval;
	if (out_len)
		*out_len = o.data_size_out;
	return err;
}

TEST(xdp_data_fields_are_packet_pointers)
{
	/* r0 = data_end - data; and the packet's byte 23 through data */
	const struct bpfvm_insn prog[] = {
		I(BPFVM_LDX | BPFVM_MEM | BPFVM_W, 2, 1, 0, 0),
		I(BPFVM_LDX | BPFVM_MEM | BPFVM_W, 3, 1, 4, 0),
		I(BPFVM_LDX | BPFVM_MEM | BPFVM_B, 4, 2, 23, 0),
		BPFVM_MOV64_REG(0, 3),
		BPFVM_ALU64_REG(BPFVM_SUB, 0, 2),
		BPFVM_ALU64_IMM(BPFVM_LSH, 4, 8),
		BPFVM_ALU64_REG(BPFVM_OR, 0, 4),
		BPFVM_EXIT_INSN(),
	};
	struct bpfvm *vm = bpfvm__new(NULL);
	struct bpfvm_prog *p = make(vm, BPF_PROG_TYPE_XDP, prog, 8);
	char msg[512];
	uint64_t r;

	if (p) {
		CHECK_EQ_INT(run(p, pkt, sizeof(pkt), NULL, 0, &r, msg, sizeof(msg), NULL, NULL), 0);
		CHECK_EQ_U64(r, 64 | 6 << 8);
		CHECK_STR(bpfvm_retval_name(BPF_PROG_TYPE_XDP, 1), "XDP_DROP");
		CHECK_STR(bpfvm_retval_name(BPF_PROG_TYPE_SCHED_CLS, 2), "TC_ACT_SHOT");
	}
	bpfvm__destroy(vm);
}

TEST(xdp_adjust_head_and_tail)
{
	/* adjust_head(ctx, r6) ; r0 = result; on success adjust_tail(ctx, -4) */
	struct bpfvm_insn prog[] = {
		BPFVM_MOV64_REG(6, 1),
		BPFVM_MOV64_IMM(2, 0),
		BPFVM_CALL_HELPER(44),
		BPFVM_JMP_IMM(BPFVM_JNE, 0, 0, 3),
		BPFVM_MOV64_REG(1, 6),
		BPFVM_MOV64_IMM(2, -4),
		BPFVM_CALL_HELPER(65),
		BPFVM_EXIT_INSN(),
	};
	static const struct { int32_t delta; int64_t ret; size_t out; } cases[] = {
		{ 10, 0, 64 - 10 - 4 },          /* drop 10 bytes of header, 4 of tail */
		{ -100, 0, 64 + 100 - 4 },       /* grow the head into the headroom */
		{ -300, -EINVAL, 64 },           /* past the headroom */
		{ 60, -EINVAL, 64 },             /* fewer than 14 bytes would remain */
	};
	struct bpfvm *vm = bpfvm__new(NULL);

	bpfvm__add_context_helpers(vm);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t out[512];
		size_t out_len = sizeof(out);
		char msg[512];
		uint64_t r;
		struct bpfvm_prog *p;

		prog[1] = BPFVM_MOV64_IMM(2, cases[i].delta);
		p = make(vm, BPF_PROG_TYPE_XDP, prog, 8);
		if (!p)
			break;
		CHECK_EQ_INT(run(p, pkt, sizeof(pkt), NULL, 0, &r, msg, sizeof(msg), out, &out_len), 0);
		CHECK_EQ_INT((int64_t)r, cases[i].ret);
		CHECK_EQ_INT(out_len, cases[i].out);
		if (cases[i].delta == 10 && out_len == 50)
			CHECK_EQ_INT(out[13], 6); /* packet byte 23 is now byte 13 */
		bpfvm_prog__destroy(p);
	}
	bpfvm__destroy(vm);
}

TEST(skb_context_writable_fields_only)
{
	/* *(u32 *)(r1 + off) = 1 */
	struct bpfvm_insn prog[] = {
		BPFVM_ST_MEM(BPFVM_W, 1, 0, 1),
		BPFVM_MOV64_IMM(0, 0),
		BPFVM_EXIT_INSN(),
	};
	static const struct { size_t off; bool ok; } cases[] = {
		{ offsetof(struct __sk_buff, mark), true },
		{ offsetof(struct __sk_buff, priority), true },
		{ offsetof(struct __sk_buff, cb) + 8, true },
		{ offsetof(struct __sk_buff, len), false },
		{ offsetof(struct __sk_buff, protocol), false },
		{ offsetof(struct __sk_buff, data), false },
	};
	struct bpfvm *vm = bpfvm__new(NULL);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char msg[1024];
		uint64_t r;
		struct bpfvm_prog *p;
		int err;

		prog[0].off = (int16_t)cases[i].off;
		p = make(vm, BPF_PROG_TYPE_SCHED_CLS, prog, 3);
		if (!p)
			break;
		err = run(p, pkt, sizeof(pkt), NULL, 0, &r, msg, sizeof(msg), NULL, NULL);
		if (cases[i].ok)
			CHECK_EQ_INT(err, 0);
		else {
			CHECK_EQ_INT(err, -EFAULT);
			CHECK_CONTAINS(msg, "read-only");
		}
		bpfvm_prog__destroy(p);
	}
	bpfvm__destroy(vm);
}

TEST(skb_len_protocol_and_socket_filter_view)
{
	/* r0 = skb->len << 16 | skb->protocol; a socket filter sees 14 bytes less */
	const struct bpfvm_insn prog[] = {
		I(BPFVM_LDX | BPFVM_MEM | BPFVM_W, 0, 1, offsetof(struct __sk_buff, len), 0),
		I(BPFVM_LDX | BPFVM_MEM | BPFVM_W, 2, 1, offsetof(struct __sk_buff, protocol), 0),
		BPFVM_ALU64_IMM(BPFVM_LSH, 0, 16),
		BPFVM_ALU64_REG(BPFVM_OR, 0, 2),
		BPFVM_EXIT_INSN(),
	};
	struct bpfvm *vm = bpfvm__new(NULL);
	struct bpfvm_prog *tc = make(vm, BPF_PROG_TYPE_SCHED_CLS, prog, 5);
	struct bpfvm_prog *sock = make(vm, BPF_PROG_TYPE_SOCKET_FILTER, prog, 5);
	char msg[512];
	uint64_t r;

	if (tc && sock) {
		CHECK_EQ_INT(run(tc, pkt, sizeof(pkt), NULL, 0, &r, msg, sizeof(msg), NULL, NULL), 0);
		CHECK_EQ_U64(r, 64u << 16 | 0x0008);
		CHECK_EQ_INT(run(sock, pkt, sizeof(pkt), NULL, 0, &r, msg, sizeof(msg), NULL, NULL), 0);
		CHECK_EQ_U64(r, 50u << 16 | 0x0008);
	}
	bpfvm__destroy(vm);
}

TEST(raw_and_pt_regs_contexts)
{
	/* r0 = *(u64 *)(r1 + 8) */
	const struct bpfvm_insn prog[] = {
		I(BPFVM_LDX | BPFVM_MEM | BPFVM_DW, 0, 1, 8, 0),
		BPFVM_EXIT_INSN(),
	};
	struct bpfvm *vm = bpfvm__new(NULL);
	struct bpfvm_prog *tp = make(vm, BPF_PROG_TYPE_TRACEPOINT, prog, 2);
	struct bpfvm_prog *kp = make(vm, BPF_PROG_TYPE_KPROBE, prog, 2);
	uint64_t rec[3] = { 1, 0x1234, 3 }, big[64] = { 0 }, r;
	char msg[512];

	if (tp && kp) {
		CHECK_EQ_INT(run(tp, NULL, 0, rec, sizeof(rec), &r, msg, sizeof(msg), NULL, NULL), 0);
		CHECK_EQ_U64(r, 0x1234);
		/* a pt_regs is 168 bytes: an 8-byte one is zero-padded */
		CHECK_EQ_INT(run(kp, NULL, 0, rec, 8, &r, msg, sizeof(msg), NULL, NULL), 0);
		CHECK_EQ_U64(r, 0);
		CHECK_EQ_INT(run(kp, NULL, 0, big, sizeof(big), &r, msg, sizeof(msg), NULL, NULL), -EINVAL);
		CHECK_CONTAINS(msg, "larger than a kprobe program's (168)");
		CHECK_EQ_INT(run(tp, pkt, sizeof(pkt), NULL, 0, &r, msg, sizeof(msg), NULL, NULL), -EINVAL);
		CHECK_CONTAINS(msg, "takes no packet");
		/* reading past a short record faults in a checked run */
		CHECK_EQ_INT(run(tp, NULL, 0, rec, 8, &r, msg, sizeof(msg), NULL, NULL), -EFAULT);
	}
	bpfvm__destroy(vm);
}

/* A verified program's context: a tracepoint's must hold what it reads, a fixed struct is zero-filled. */
TEST(verified_contexts_hold_what_the_program_reads)
{
	/* r0 = *(u32 *)(r1 + 16): the tracepoint reads 20 bytes, sock_ops its remote_ip4 */
	const struct bpfvm_insn prog[] = {
		I(BPFVM_LDX | BPFVM_MEM | BPFVM_W, 0, 1, 16, 0),
		BPFVM_EXIT_INSN(),
	};
	const struct bpfvm_insn so_prog[] = {   /* the same, within sock_ops' return values */
		I(BPFVM_LDX | BPFVM_MEM | BPFVM_W, 0, 1, 16, 0),
		BPFVM_ALU64_IMM(BPFVM_AND, 0, 1),
		BPFVM_EXIT_INSN(),
	};
	struct bpfvm *vm = bpfvm__new(NULL);
	struct bpfvm_prog *tp = make(vm, BPF_PROG_TYPE_TRACEPOINT, prog, 2);
	struct bpfvm_prog *so = make(vm, BPF_PROG_TYPE_SOCK_OPS, so_prog, 3);
	BPFVM_OPTS(bpfvm_verify_opts, vo);
	uint32_t rec[5] = { 1, 2, 3, 4, 5 };
	char msg[512];

	if (tp && so && !bpfvm_prog__verify(tp, &vo) && !bpfvm_prog__verify(so, &vo)) {
		for (int mode = BPFVM_EXEC_CHECKED; mode <= BPFVM_EXEC_UNCHECKED; mode++) {
			struct bpfvm_log log = { msg, sizeof(msg), 0 };
			BPFVM_OPTS(bpfvm_test_run_opts, o, .ctx_in = rec, .ctx_size_in = 16,
				   .mode = (enum bpfvm_exec)mode, .log = &log);

			CHECK_EQ_INT(bpfvm_prog__test_run(tp, &o), -EINVAL);
			CHECK_CONTAINS(msg, "context of 16 bytes is shorter than the 20 bytes");
			bpfvm_log__reset(&log);
			o.ctx_in = NULL, o.ctx_size_in = 0;
			CHECK_EQ_INT(bpfvm_prog__test_run(tp, &o), -EINVAL);
			CHECK_CONTAINS(msg, "context of 0 bytes");
			o.ctx_in = rec, o.ctx_size_in = 20;
			CHECK_EQ_INT(bpfvm_prog__test_run(tp, &o), 0);
			CHECK_EQ_U64(o.retval, 5);
			CHECK_EQ_INT(bpfvm_prog__test_run(so, &o), 0);
			CHECK_EQ_U64(o.retval, 1);
			o.ctx_size_in = 16;   /* zero-filled past the 16 bytes given */
			CHECK_EQ_INT(bpfvm_prog__test_run(so, &o), 0);
			CHECK_EQ_U64(o.retval, 0);
		}
	} else {
		TEST_FAIL("the programs do not verify");
	}
	bpfvm__destroy(vm);
}

TEST(packet_types_need_a_packet)
{
	const struct bpfvm_insn prog[] = { BPFVM_MOV64_IMM(0, 2), BPFVM_EXIT_INSN() };
	struct bpfvm *vm = bpfvm__new(NULL);
	struct bpfvm_prog *p = make(vm, BPF_PROG_TYPE_XDP, prog, 2);
	char msg[512];
	uint64_t r;

	if (p) {
		CHECK_EQ_INT(run(p, pkt, 10, NULL, 0, &r, msg, sizeof(msg), NULL, NULL), -EINVAL);
		CHECK_CONTAINS(msg, "at least 14 bytes");
	}
	bpfvm__destroy(vm);
}

TEST_MAIN()
