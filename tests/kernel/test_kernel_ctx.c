/*
 * test_kernel_ctx.c - the context a test run is given (ctx_in), against
 * the kernel's BPF_PROG_TEST_RUN: the same program, verified, runs in
 * bpfvm and in the kernel with the same context and packet, and both
 * must refuse with the same errno, or both run and return the same value.
 *
 *   xdp_md          data_meta, data, data_end, ingress_ifindex,
 *                   rx_queue_index, egress_ifindex; shorter and longer
 *                   contexts (a longer one only with zeros past xdp_md)
 *   raw tracepoint  a context shorter than what the program reads, or
 *                   longer than 12 arguments
 *
 * One known difference: an xdp_md whose data_end is short of the packet
 * makes the kernel put the rest in fragments, which bpfvm does not model;
 * it refuses that with EOPNOTSUPP (checked here as such).  Skips (exit 0)
 * without bpf().
 */
#include <errno.h>
#include <inttypes.h>
#include <linux/bpf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpfvm/bpfvm.h>
#include <bpfvm/hooks.h>

#include "kernel_bpf.h"
#include "test.h"

struct outcome {
	int err;          /* 0 or -errno */
	uint64_t retval;
};

static int kernel_test_run(uint32_t type, const struct bpfvm_insn *insns, size_t cnt,
			   const void *data, uint32_t data_len, const void *ctx, uint32_t ctx_len,
			   struct outcome *out)
{
	char log[4096];
	union bpf_attr a;
	uint8_t data_out[512];
	int fd = kernel_prog_load(type, insns, cnt, 0, 1, log, sizeof(log));

	if (fd < 0) {
		TEST_FAIL("the kernel refuses the program (%s): %s", strerror(-fd), log);
		return fd;
	}
	memset(&a, 0, sizeof(a));
	a.test.prog_fd = (uint32_t)fd;
	a.test.data_in = (uintptr_t)data;
	a.test.data_size_in = data_len;
	if (data_len) {
		a.test.data_out = (uintptr_t)data_out;
		a.test.data_size_out = sizeof(data_out);
	}
	a.test.ctx_in = (uintptr_t)ctx;
	a.test.ctx_size_in = ctx_len;
	out->err = sys_bpf(BPF_PROG_TEST_RUN, &a) ? -errno : 0;
	out->retval = a.test.retval;
	close(fd);
	return 0;
}

static void bpfvm_test_run(uint32_t type, const struct bpfvm_insn *insns, size_t cnt,
			   const void *data, uint32_t data_len, const void *ctx, uint32_t ctx_len,
			   struct outcome *out, char *msg, size_t msg_size)
{
	struct bpfvm *vm = bpfvm__new(NULL);
	struct bpfvm_log log = { msg, msg_size, 0 };
	BPFVM_OPTS(bpfvm_prog_opts, po, .prog_type = type, .license = "GPL", .log = &log);
	BPFVM_OPTS(bpfvm_verify_opts, vo, .log = &log);
	uint8_t data_out[512];
	BPFVM_OPTS(bpfvm_test_run_opts, ro, .data_in = data, .data_size_in = data_len,
		   .data_out = data_out, .data_size_out = sizeof(data_out), .ctx_in = ctx,
		   .ctx_size_in = ctx_len, .mode = BPFVM_EXEC_UNCHECKED, .log = &log);
	struct bpfvm_prog *p = bpfvm_prog__new(vm, insns, cnt, &po);

	msg[0] = 0;
	out->err = -EINVAL;
	if (!p || bpfvm_prog__verify(p, &vo)) {
		TEST_FAIL("bpfvm refuses the program: %s", msg);
	} else {
		bpfvm_log__reset(&log);
		out->err = bpfvm_prog__test_run(p, &ro);
		out->retval = ro.retval;
	}
	bpfvm__destroy(vm);
}

/* r0 = (data_end - data) << 16 | ingress_ifindex << 8 | rx_queue_index */
static const struct bpfvm_insn xdp_prog[] = {
	BPFVM_LDX_MEM(BPFVM_W, 2, 1, offsetof(struct xdp_md, data)),
	BPFVM_LDX_MEM(BPFVM_W, 3, 1, offsetof(struct xdp_md, data_end)),
	BPFVM_LDX_MEM(BPFVM_W, 4, 1, offsetof(struct xdp_md, ingress_ifindex)),
	BPFVM_LDX_MEM(BPFVM_W, 5, 1, offsetof(struct xdp_md, rx_queue_index)),
	BPFVM_MOV64_REG(0, 3),
	BPFVM_ALU64_REG(BPFVM_SUB, 0, 2),
	BPFVM_ALU64_IMM(BPFVM_LSH, 0, 16),
	BPFVM_ALU64_IMM(BPFVM_LSH, 4, 8),
	BPFVM_ALU64_REG(BPFVM_OR, 0, 4),
	BPFVM_ALU64_REG(BPFVM_OR, 0, 5),
	BPFVM_EXIT_INSN(),
};

struct xdp_case {
	const char *what;
	struct xdp_md md;
	uint32_t ctx_len;     /* bytes of md given; UINT32_MAX: no context at all */
	uint32_t pkt_len;
	uint8_t tail;         /* past xdp_md, with ctx_len > sizeof(xdp_md): this byte */
	bool frags;           /* the kernel makes fragments; bpfvm refuses with EOPNOTSUPP */
};

#define MD(...) ((struct xdp_md){ __VA_ARGS__ })
#define FULL sizeof(struct xdp_md)

TEST(xdp_md_as_the_kernel_takes_it)
{
	static const struct xdp_case cases[] = {
		{ "no context", MD(0), UINT32_MAX, 60, 0, false },
		{ "data_end = the packet", MD(.data_end = 60), FULL, 60, 0, false },
		{ "8 bytes: data and data_end", MD(.data_end = 60), 8, 60, 0, false },
		{ "meta data of 8", MD(.data = 8, .data_end = 60), FULL, 60, 0, false },
		{ "meta data of 216", MD(.data = 216, .data_end = 300), FULL, 300, 0, false },
		{ "meta data of 220", MD(.data = 220, .data_end = 300), FULL, 300, 0, false },
		{ "meta data of 6", MD(.data = 6, .data_end = 60), FULL, 60, 0, false },
		{ "data_meta set", MD(.data_meta = 4, .data = 8, .data_end = 60), FULL, 60, 0, false },
		{ "data_end past the packet", MD(.data_end = 61), FULL, 60, 0, false },
		{ "data past data_end", MD(.data = 40, .data_end = 32), FULL, 60, 0, false },
		{ "13 bytes after meta data", MD(.data = 48, .data_end = 60), FULL, 61, 0, false },
		{ "12 bytes after meta data", MD(.data = 48, .data_end = 60), FULL, 60, 0, false },
		{ "egress_ifindex", MD(.data_end = 60, .egress_ifindex = 1), FULL, 60, 0, false },
		{ "rx queue without ifindex", MD(.data_end = 60, .rx_queue_index = 1), FULL, 60, 0, false },
		{ "loopback, queue 0", MD(.data_end = 60, .ingress_ifindex = 1), FULL, 60, 0, false },
		{ "loopback, queue 1", MD(.data_end = 60, .ingress_ifindex = 1, .rx_queue_index = 1),
		  FULL, 60, 0, false },
		{ "no such interface", MD(.data_end = 60, .ingress_ifindex = 99999), FULL, 60, 0, false },
		{ "longer, zeros past xdp_md", MD(.data_end = 60), FULL + 8, 60, 0, false },
		{ "longer, a byte past xdp_md", MD(.data_end = 60), FULL + 8, 60, 1, false },
		{ "zeros: data_end 0", MD(0), FULL, 60, 0, true },
		{ "an empty context", MD(0), 0, 60, 0, false },
		{ "data_end short of the packet", MD(.data_end = 40), FULL, 60, 0, true },
		{ "a packet shorter than Ethernet", MD(.data_end = 10), FULL, 10, 0, false },
	};
	uint8_t pkt[300], ctx[FULL + 8];
	char msg[1024];

	for (size_t i = 0; i < sizeof(pkt); i++)
		pkt[i] = (uint8_t)(i * 7);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct xdp_case *c = &cases[i];
		const void *cp = c->ctx_len == UINT32_MAX ? NULL : ctx;
		uint32_t clen = c->ctx_len == UINT32_MAX ? 0 : c->ctx_len;
		struct outcome k, v;

		memset(ctx, 0, sizeof(ctx));
		memcpy(ctx, &c->md, sizeof(c->md));
		ctx[FULL + 3] = c->tail;
		if (kernel_test_run(BPF_PROG_TYPE_XDP, xdp_prog, sizeof(xdp_prog) / 8, pkt,
				    c->pkt_len, cp, clen, &k))
			return;
		bpfvm_test_run(BPF_PROG_TYPE_XDP, xdp_prog, sizeof(xdp_prog) / 8, pkt, c->pkt_len,
			       cp, clen, &v, msg, sizeof(msg));
		if (c->frags) {
			if (k.err || v.err != -EOPNOTSUPP)
				TEST_FAIL("%s: expected the kernel to run it (got %d) and bpfvm to refuse "
					  "it with EOPNOTSUPP (got %d: %s)", c->what, k.err, v.err, msg);
			continue;
		}
		if (k.err != v.err)
			TEST_FAIL("%s: kernel %s, bpfvm %s (%s)", c->what, k.err ? strerror(-k.err) : "runs",
				  v.err ? strerror(-v.err) : "runs", msg);
		else if (!k.err && k.retval != v.retval)
			TEST_FAIL("%s: returns: kernel 0x%" PRIx64 ", bpfvm 0x%" PRIx64, c->what,
				  k.retval, v.retval);
		else if (v.err && !msg[0])
			TEST_FAIL("%s: bpfvm refuses it (%s) without saying why", c->what,
				  strerror(-v.err));
	}
}

/* r0 = the third argument: the program reads 24 bytes of its context */
static const struct bpfvm_insn raw_tp_prog[] = {
	BPFVM_LDX_MEM(BPFVM_DW, 0, 1, 16),
	BPFVM_EXIT_INSN(),
};

TEST(raw_tracepoint_context_size_as_the_kernel_takes_it)
{
	static const uint32_t sizes[] = { 0, 8, 16, 23, 24, 32, 96, 104 };
	uint64_t args[13];
	char msg[1024];

	for (int i = 0; i < 13; i++)
		args[i] = 0x1000 + (uint64_t)i;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct outcome k, v;

		if (kernel_test_run(BPF_PROG_TYPE_RAW_TRACEPOINT, raw_tp_prog, 2, NULL, 0,
				    sizes[i] ? args : NULL, sizes[i], &k))
			return;
		bpfvm_test_run(BPF_PROG_TYPE_RAW_TRACEPOINT, raw_tp_prog, 2, NULL, 0,
			       sizes[i] ? args : NULL, sizes[i], &v, msg, sizeof(msg));
		if (k.err != v.err)
			TEST_FAIL("%u bytes: kernel %s, bpfvm %s (%s)", sizes[i],
				  k.err ? strerror(-k.err) : "runs", v.err ? strerror(-v.err) : "runs", msg);
		else if (!k.err && k.retval != v.retval)
			TEST_FAIL("%u bytes: returns: kernel 0x%" PRIx64 ", bpfvm 0x%" PRIx64, sizes[i],
				  k.retval, v.retval);
		else if (k.err && !strstr(msg, sizes[i] < 24 ? "24 bytes" : "(96)"))
			TEST_FAIL("%u bytes: the message does not give the size needed: %s", sizes[i],
				  msg);
	}
}

int main(void)
{
	struct bpfvm_insn insns[2] = { BPFVM_MOV64_IMM(0, 2), BPFVM_EXIT_INSN() };
	int fd = kernel_prog_load(BPF_PROG_TYPE_XDP, insns, 2, 0, 0, NULL, 0);

	if (fd < 0) {
		printf("SKIP kernel_ctx: bpf(BPF_PROG_LOAD) is not available here: %s\n",
		       strerror(-fd));
		return 0;
	}
	close(fd);
	return test_main();
}
