/*
 * test_kernel_helpers.c - helpers against the kernel: the same program
 * runs as an XDP program through BPF_PROG_TEST_RUN and in bpfvm (checked
 * and unchecked), and the results must agree:
 *
 *   bpf_trace_printk   the return value and the text, read back from the
 *                      kernel's trace buffer (/sys/kernel/tracing/trace)
 *                      and from bpfvm's trace function, for formats that
 *                      probe the kernel's rules (flags, widths, lengths,
 *                      %s %c %px %pI4 ..., the invalid ones)
 *   bpf_strtol/strtoul the return value and the parsed number
 *   bpf_csum_diff      the 16-bit sum, to the bit
 *
 * Each program starts with a prologue that puts a pointer to 64 bytes of
 * output in r6 (the packet in the kernel, the memory in bpfvm) and keeps
 * its inputs (format strings, text, addresses) on its stack, so that
 * pointers mean the same in both.  Skips (exit 0) without bpf(), and the
 * trace part without tracefs; a case calling a helper the host kernel
 * lacks is skipped, with the kernel's reason (kernel_host.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <linux/bpf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpfvm/bpfvm.h>

#include "kernel_host.h"
#include "test.h"

#define PKT_LEN 64
#define MAX_INSNS 256
#define TRACE_DIR "/sys/kernel/tracing"

struct code {
	struct bpfvm_insn v[MAX_INSNS];
	size_t n;
};

static void emit(struct code *c, struct bpfvm_insn insn)
{
	if (c->n < MAX_INSNS)
		c->v[c->n++] = insn;
}

static void emit_ld64(struct code *c, int reg, uint64_t v)
{
	struct bpfvm_insn two[2] = { BPFVM_LD_IMM64_RAW(reg, 0, v) };

	emit(c, two[0]);
	emit(c, two[1]);
}

/* Bytes to the stack at fp + off (off < 0, 8-aligned), zero-padded to 8. */
static void emit_bytes(struct code *c, int off, const void *data, size_t len)
{
	for (size_t i = 0; i < len; i += 8) {
		uint64_t v = 0;

		memcpy(&v, (const uint8_t *)data + i, len - i < 8 ? len - i : 8);
		emit_ld64(c, 1, v);
		emit(c, BPFVM_STX_MEM(BPFVM_DW, BPFVM_REG_FP, 1, (int16_t)(off + (int)i)));
	}
}


/* r6 = 64 bytes of output: the packet, once the verifier knows it is long enough. */
static void kernel_prologue(struct code *c)
{
	emit(c, BPFVM_LDX_MEM(BPFVM_W, 2, 1, offsetof(struct xdp_md, data)));
	emit(c, BPFVM_LDX_MEM(BPFVM_W, 3, 1, offsetof(struct xdp_md, data_end)));
	emit(c, BPFVM_MOV64_REG(4, 2));
	emit(c, BPFVM_ALU64_IMM(BPFVM_ADD, 4, PKT_LEN));
	emit(c, BPFVM_JMP_REG(BPFVM_JLE, 4, 3, 2));
	emit(c, BPFVM_MOV64_IMM(0, 0));
	emit(c, BPFVM_EXIT_INSN());
	emit(c, BPFVM_MOV64_REG(6, 2));
}

struct result {
	int err;            /* 0, or why the program did not run */
	uint8_t out[PKT_LEN];
	char trace[1100];
};

static int kernel_run(const struct code *body, struct result *r, char *vlog, size_t vlog_size)
{
	struct code c = { .n = 0 };
	union bpf_attr a;
	uint8_t in[PKT_LEN] = { 0 };
	long fd;

	kernel_prologue(&c);
	for (size_t i = 0; i < body->n; i++)
		emit(&c, body->v[i]);
	fd = kernel_prog_load(BPF_PROG_TYPE_XDP, c.v, c.n, 0, 1, vlog, vlog_size);
	if (fd < 0)
		return fd;
	memset(&a, 0, sizeof(a));
	a.test.prog_fd = (uint32_t)fd;
	a.test.data_in = (uintptr_t)in;
	a.test.data_size_in = PKT_LEN;
	a.test.data_out = (uintptr_t)r->out;
	a.test.data_size_out = PKT_LEN;
	a.test.repeat = 1;
	r->err = sys_bpf(BPF_PROG_TEST_RUN, &a) ? -errno : 0;
	close((int)fd);
	return 0;
}

/*
 * The kernel's run of body for the case what: true when it ran; a case
 * the host kernel cannot load (a helper it lacks) is skipped, any other
 * failure fails.
 */
static bool kernel_case(const char *what, const struct code *body, struct result *k)
{
	static char vlog[65536];
	char why[1024];
	int err;

	memset(k, 0, sizeof(*k));
	err = kernel_run(body, k, vlog, sizeof(vlog));
	if (err && kernel_cannot_load(BPF_PROG_TYPE_XDP, 0, 0, err, vlog, why, sizeof(why))) {
		kernel_skip(test_current_name(), what, why);
		return false;
	}
	if (err || k->err) {
		TEST_FAIL("%s: the kernel did not run it: %s", what, err ? vlog : strerror(-k->err));
		return false;
	}
	return true;
}

static char bpfvm_trace[1100];

static void trace_cb(void *ctx, const char *text, size_t len)
{
	(void)ctx;
	snprintf(bpfvm_trace, sizeof(bpfvm_trace), "%.*s", (int)len, text);
}

static void bpfvm_run(const struct code *body, enum bpfvm_exec mode, struct result *r)
{
	BPFVM_OPTS(bpfvm_opts, vo, .trace = trace_cb);
	struct bpfvm *vm = bpfvm__new(&vo);
	char log[2048];
	struct bpfvm_log lg = { log, sizeof(log), 0 };
	BPFVM_OPTS(bpfvm_prog_opts, po, .flags = BPFVM_PROG_TRUSTED, .license = "GPL", .log = &lg);
	BPFVM_OPTS(bpfvm_run_opts, ro, .mode = mode, .log = &lg);
	struct code c = { .n = 0 };
	struct bpfvm_prog *p;

	emit(&c, BPFVM_MOV64_REG(6, 1));
	for (size_t i = 0; i < body->n; i++)
		emit(&c, body->v[i]);
	memset(r, 0, sizeof(*r));
	bpfvm_trace[0] = 0;
	p = bpfvm_prog__new(vm, c.v, c.n, &po);
	r->err = p ? bpfvm_prog__run(p, r->out, PKT_LEN, &ro) : -errno;
	if (r->err)
		TEST_FAIL("bpfvm: %d: %s", r->err, log);
	/* The text after the event's name, without the newline the event adds. */
	if (strstr(bpfvm_trace, "bpf_trace_printk: "))
		snprintf(r->trace, sizeof(r->trace), "%s", strstr(bpfvm_trace, "bpf_trace_printk: ") + 18);
	r->trace[strcspn(r->trace, "\n")] = 0;
	bpfvm__destroy(vm);
}

/* ---- trace_printk ------------------------------------------------------------------ */

static bool tracefs_ready(void)
{
	if (access(TRACE_DIR "/trace", W_OK) == 0)
		return true;
	mount("nodev", TRACE_DIR, "tracefs", 0, NULL);
	return access(TRACE_DIR "/trace", W_OK) == 0;
}

static void trace_clear(void)
{
	FILE *f = fopen(TRACE_DIR "/trace", "w");

	if (f)
		fclose(f);
}

/* Our thread's last bpf_trace_printk text in the kernel's trace buffer. */
static void trace_read(char *out, size_t size)
{
	FILE *f = fopen(TRACE_DIR "/trace", "r");
	char line[2048], tag[32];

	out[0] = 0;
	snprintf(tag, sizeof(tag), "-%d ", (int)gettid());
	while (f && fgets(line, sizeof(line), f)) {
		char *p = strstr(line, ": bpf_trace_printk: ");

		if (line[0] != '#' && p && strstr(line, tag)) {
			snprintf(out, size, "%s", p + 20);
			out[strcspn(out, "\n")] = 0;   /* the event's newline (or the text's) */
		}
	}
	if (f)
		fclose(f);
}

/* An argument: a constant, or bytes the program puts on its stack (then a pointer). */
struct arg {
	uint64_t value;
	const void *bytes;
	size_t len;
};

#define CONST(v) { (uint64_t)(v), NULL, 0 }
#define BYTES(b, n) { 0, b, n }

struct fmt_case {
	const char *fmt;
	struct arg a[3];
};

/* fmt at fp-128, byte arguments at fp-256 + 64 * i; r0 goes to the output. */
static void build_printk(struct code *c, const struct fmt_case *fc)
{
	size_t len = strlen(fc->fmt) + 1;

	emit_bytes(c, -128, fc->fmt, len);
	for (int i = 0; i < 3; i++) {
		if (fc->a[i].bytes) {
			emit_bytes(c, -256 + 40 * i, fc->a[i].bytes, fc->a[i].len);
			emit(c, BPFVM_MOV64_REG(3 + i, BPFVM_REG_FP));
			emit(c, BPFVM_ALU64_IMM(BPFVM_ADD, 3 + i, -256 + 40 * i));
		} else {
			emit_ld64(c, 3 + i, fc->a[i].value);
		}
	}
	emit(c, BPFVM_MOV64_REG(1, BPFVM_REG_FP));
	emit(c, BPFVM_ALU64_IMM(BPFVM_ADD, 1, -128));
	emit(c, BPFVM_MOV64_IMM(2, (int32_t)len));
	emit(c, BPFVM_CALL_HELPER(6));
	emit(c, BPFVM_STX_MEM(BPFVM_DW, 6, 0, 0));
	emit(c, BPFVM_MOV64_IMM(0, 2));
	emit(c, BPFVM_EXIT_INSN());
}

TEST(trace_printk_agrees)
{
	static const uint8_t ip[4] = { 192, 0, 2, 33 };
	static const struct fmt_case cases[] = {
		{ "plain text", { CONST(0), CONST(0), CONST(0) } },
		{ "%d %i %u", { CONST(-1), CONST(7), CONST(-1) } },
		{ "%x %X %lx", { CONST(0xabcdef12), CONST(0xabcdef12), CONST(0x1234567890ull) } },
		{ "%ld %lld %llu", { CONST(-5), CONST(1ull << 40), CONST(-1) } },
		{ "[%5d|%-5d|%05d]", { CONST(42), CONST(42), CONST(-42) } },
		{ "[%+d|% d|%c]", { CONST(5), CONST(5), CONST('A') } },
		{ "[%-3c|%3c]", { CONST('x'), CONST('y'), CONST(0) } },
		{ "[%08x|%-8x|%+u]", { CONST(0xbeef), CONST(0xbeef), CONST(3) } },
		{ "%s!", { BYTES("string", 7), CONST(0), CONST(0) } },
		{ "[%8s|%-8s]", { BYTES("ab", 3), BYTES("cd", 3), CONST(0) } },
		{ "%s.", { CONST(16), CONST(0), CONST(0) } },
		{ "%px %px", { CONST(0xff), CONST(-1), CONST(0) } },
		{ "%pI4 %pi4", { BYTES(ip, 4), BYTES(ip, 4), CONST(0) } },
		{ "%pI4xyz!", { BYTES(ip, 4), CONST(0), CONST(0) } },
		{ "100%% %d", { CONST(1), CONST(0), CONST(0) } },
		{ "%d %d %d %d", { CONST(1), CONST(2), CONST(3) } },
		{ "%.2d", { CONST(1), CONST(0), CONST(0) } },
		{ "%#x", { CONST(1), CONST(0), CONST(0) } },
		{ "%hd", { CONST(1), CONST(0), CONST(0) } },
		{ "%zu", { CONST(1), CONST(0), CONST(0) } },
		{ "%lu%", { CONST(1), CONST(0), CONST(0) } },
		{ "%sx", { BYTES("s", 2), CONST(0), CONST(0) } },
		{ "%pz", { CONST(1), CONST(0), CONST(0) } },
		{ "bell\a", { CONST(0), CONST(0), CONST(0) } },
		{ "tab\there %u", { CONST(9), CONST(0), CONST(0) } },
		{ "%lld%lld%lld", { CONST(INT64_MIN), CONST(INT64_MAX), CONST(0) } },
		{ "%5s|%-6d|%x", { BYTES("abcdefgh", 9), CONST(-3), CONST(255) } },
		/* (not %pus: the kernel reads it as a user address, and the stack is not one) */
		{ "%pks.", { BYTES("k", 2), CONST(0), CONST(0) } },
		{ "caf\xc3\xa9 %d", { CONST(1), CONST(0), CONST(0) } },
		{ "%\xc3", { CONST(1), CONST(0), CONST(0) } },
		{ "%llx%ld", { CONST(1), CONST(2), CONST(0) } },
		{ "%12d|%-12u|", { CONST(123456), CONST(7), CONST(0) } },
	};
	char ktext[1100], what[160];

	if (!tracefs_ready()) {
		printf("SKIP trace_printk_agrees: no tracefs at " TRACE_DIR "\n");
		return;
	}
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct code body = { .n = 0 };
		struct result k, v;
		int64_t kr, vr;

		build_printk(&body, &cases[i]);
		trace_clear();
		snprintf(what, sizeof(what), "\"%s\"", cases[i].fmt);
		if (!kernel_case(what, &body, &k))
			continue;
		trace_read(ktext, sizeof(ktext));
		for (int mode = BPFVM_EXEC_CHECKED; mode <= BPFVM_EXEC_UNCHECKED; mode++) {
			bpfvm_run(&body, (enum bpfvm_exec)mode, &v);
			memcpy(&kr, k.out, 8);
			memcpy(&vr, v.out, 8);
			if (kr != vr)
				TEST_FAIL("\"%s\": returns: kernel %" PRId64 ", bpfvm %" PRId64,
					  cases[i].fmt, kr, vr);
			if (kr >= 0 && strcmp(ktext, v.trace))
				TEST_FAIL("\"%s\": text: kernel \"%s\", bpfvm \"%s\"", cases[i].fmt,
					  ktext, v.trace);
		}
	}
}

/* ---- numbers and checksums ------------------------------------------------------------- */

/* strtol/strtoul(text on the stack, flags, &res): out[0..8) = r0, out[8..16) = res. */
static void build_strto(struct code *c, const char *text, uint64_t flags, bool is_unsigned)
{
	size_t len = strlen(text);

	emit_bytes(c, -96, text, len + 1);
	emit(c, BPFVM_ST_MEM(BPFVM_DW, BPFVM_REG_FP, -8, 0));
	emit(c, BPFVM_MOV64_REG(1, BPFVM_REG_FP));
	emit(c, BPFVM_ALU64_IMM(BPFVM_ADD, 1, -96));
	emit(c, BPFVM_MOV64_IMM(2, len ? (int32_t)len : 1));
	emit_ld64(c, 3, flags);
	emit(c, BPFVM_MOV64_REG(4, BPFVM_REG_FP));
	emit(c, BPFVM_ALU64_IMM(BPFVM_ADD, 4, -8));
	emit(c, BPFVM_CALL_HELPER(is_unsigned ? 106 : 105));
	emit(c, BPFVM_STX_MEM(BPFVM_DW, 6, 0, 0));
	emit(c, BPFVM_LDX_MEM(BPFVM_DW, 1, BPFVM_REG_FP, -8));
	emit(c, BPFVM_STX_MEM(BPFVM_DW, 6, 1, 8));
	emit(c, BPFVM_MOV64_IMM(0, 2));
	emit(c, BPFVM_EXIT_INSN());
}

static void compare_run(const char *what, const struct code *body, size_t nbytes)
{
	struct result k, v;

	if (!kernel_case(what, body, &k))
		return;
	for (int mode = BPFVM_EXEC_CHECKED; mode <= BPFVM_EXEC_UNCHECKED; mode++) {
		bpfvm_run(body, (enum bpfvm_exec)mode, &v);
		if (memcmp(k.out, v.out, nbytes)) {
			uint64_t kv[2], vv[2];

			memcpy(kv, k.out, 16);
			memcpy(vv, v.out, 16);
			TEST_FAIL("%s: kernel %" PRId64 " / 0x%" PRIx64 ", bpfvm %" PRId64 " / 0x%" PRIx64,
				  what, (int64_t)kv[0], kv[1], (int64_t)vv[0], vv[1]);
		}
	}
}

TEST(strtol_and_strtoul_agree)
{
	static const char *const texts[] = {
		"0", "123", "-123", "  42abc", "\t\n 7", "0x1f", "0X1F", "0xg", "017", "09", "ff",
		"-", "", " ", "+5", "9223372036854775807", "9223372036854775808",
		"-9223372036854775808", "-9223372036854775809", "18446744073709551615",
		"18446744073709551616", "0x", "0x0", "00000000000000000000000000000000000000000000000000000000000000000001",
		"12345678901234567890123", "-0", "\xa0" "5",
	};
	static const uint64_t flags[] = { 0, 8, 10, 16, 2, 32, 10 | 64 };
	char what[256];

	for (size_t t = 0; t < sizeof(texts) / sizeof(texts[0]); t++) {
		for (size_t f = 0; f < sizeof(flags) / sizeof(flags[0]); f++) {
			for (int u = 0; u < 2; u++) {
				struct code body = { .n = 0 };

				build_strto(&body, texts[t], flags[f], u);
				snprintf(what, sizeof(what), "%s(\"%s\", %" PRIu64 ")",
					 u ? "strtoul" : "strtol", texts[t], flags[f]);
				compare_run(what, &body, 16);
			}
		}
	}
}

/* csum_diff(from, from_size, to, to_size, seed) with both buffers on the stack. */
static void build_csum(struct code *c, const uint8_t *buf, uint32_t from_size,
		       uint32_t to_size, uint32_t seed)
{
	emit_bytes(c, -512, buf, 512);
	emit(c, BPFVM_MOV64_REG(1, BPFVM_REG_FP));
	emit(c, BPFVM_ALU64_IMM(BPFVM_ADD, 1, -512));
	emit(c, BPFVM_MOV64_IMM(2, (int32_t)from_size));
	emit(c, BPFVM_MOV64_REG(3, BPFVM_REG_FP));
	emit(c, BPFVM_ALU64_IMM(BPFVM_ADD, 3, -256));
	emit(c, BPFVM_MOV64_IMM(4, (int32_t)to_size));
	emit(c, BPFVM_MOV64_IMM(5, (int32_t)seed));
	emit(c, BPFVM_CALL_HELPER(28));
	emit(c, BPFVM_STX_MEM(BPFVM_DW, 6, 0, 0));
	emit(c, BPFVM_MOV64_IMM(0, 2));
	emit(c, BPFVM_EXIT_INSN());
}

TEST(csum_diff_agrees)
{
	uint8_t buf[512];
	uint64_t s = 12345;
	char what[96];

	for (int i = 0; i < 40; i++) {
		struct code body = { .n = 0 };
		uint32_t from = 4 * (uint32_t)((s >> 8) % 65), to = 4 * (uint32_t)((s >> 16) % 65);

		s = s * 6364136223846793005ull + 1442695040888963407ull;
		for (size_t j = 0; j < sizeof(buf); j++)
			buf[j] = (uint8_t)((s >> (j % 56)) ^ j);
		if (i % 4 == 0)
			memset(buf, 0xff, sizeof(buf));
		if (i == 1)
			from = 6;   /* sizes need not be multiples of 4 (since Linux 6.13) */
		if (i == 2)
			to = 3;
		build_csum(&body, buf, from, to, i % 3 ? (uint32_t)s : 0);
		snprintf(what, sizeof(what), "csum_diff(%u, %u)", from, to);
		compare_run(what, &body, 8);
	}
}

int main(void)
{
	struct bpfvm_insn insns[2] = { BPFVM_MOV64_IMM(0, 2), BPFVM_EXIT_INSN() };
	int fd = kernel_prog_load(BPF_PROG_TYPE_XDP, insns, 2, 0, 0, NULL, 0);
	char version[KERNEL_VERSION_SIZE];

	if (fd < 0) {
		printf("SKIP kernel_helpers: the kernel loads no XDP program: %s (%s)\n", strerror(-fd),
		       kernel_version(version, sizeof(version)));
		return 0;
	}
	close((int)fd);
	return test_main();
}
