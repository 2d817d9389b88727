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
 * Each program starts with a prologue that puts a pointer to PKT_LEN bytes of
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
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpfvm/bpfvm.h>

#include "kernel_host.h"
#include "test.h"

#define PKT_LEN 128
#define MAX_INSNS 512
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


/* r6 = PKT_LEN bytes of output: the packet, once the verifier knows it is long enough. */
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

/* ---- trace_printk, trace_vprintk, snprintf ------------------------------------------------ */

/*
 * The kernel's lines go to a tracing instance of our own, so that another
 * process clearing or reading the top-level buffer meanwhile changes
 * nothing here; where instances are missing, the top level.
 */
struct tracefs {
	char dir[160];
	bool instance;
};

static bool tracefs_open(struct tracefs *t)
{
	char path[256];
	FILE *f;

	if (access(TRACE_DIR "/trace", W_OK) && (mount("nodev", TRACE_DIR, "tracefs", 0, NULL),
						  access(TRACE_DIR "/trace", W_OK)))
		return false;
	snprintf(t->dir, sizeof(t->dir), TRACE_DIR "/instances/bpfvm-helpers-%d", (int)getpid());
	t->instance = mkdir(t->dir, 0700) == 0 || errno == EEXIST;
	snprintf(path, sizeof(path), "%s/events/bpf_trace/bpf_trace_printk/enable", t->dir);
	if (t->instance && (f = fopen(path, "w"))) {
		t->instance = fputs("1", f) >= 0;
		t->instance = fclose(f) == 0 && t->instance;
	} else if (t->instance) {
		rmdir(t->dir);
		t->instance = false;
	}
	if (!t->instance)
		snprintf(t->dir, sizeof(t->dir), TRACE_DIR);
	return true;
}

static void tracefs_close(const struct tracefs *t)
{
	if (t->instance)
		rmdir(t->dir);
}

static void trace_clear(const struct tracefs *t)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/trace", t->dir);
	if ((f = fopen(path, "w")))
		fclose(f);
}

/* Our thread's last bpf_trace_printk text in the kernel's trace buffer. */
static void trace_read(const struct tracefs *t, char *out, size_t size)
{
	char path[256], line[2048], tag[32];
	FILE *f;

	snprintf(path, sizeof(path), "%s/trace", t->dir);
	f = fopen(path, "r");
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

/* An argument: a constant, bytes the program puts on its stack (then a pointer), or another's pointer. */
struct arg {
	uint64_t value;
	const void *bytes;
	size_t len;
	int same;            /* k + 1: the pointer of argument k */
};

#define CONST(v) { (uint64_t)(v), NULL, 0, 0 }
#define BYTES(b, n) { 0, b, n, 0 }
#define STR(s) { 0, s, sizeof(s), 0 }
#define SAME(k) { 0, NULL, 0, (k) + 1 }
/* A trace_printk case: its three arguments. */
#define P(fmt, a0, a1, a2) { fmt, { a0, a1, a2 }, 0, 3, 0, 0 }

/*
 * One call: helper 0 is bpf_trace_printk (r3-r5 are a[0..2]), 'v'
 * bpf_trace_vprintk and 's' bpf_snprintf (nargs of a[] as an array of
 * u64, data_len bytes of it when set; snprintf writes out_size bytes).
 */
struct fmt_case {
	const char *fmt;
	struct arg a[13];
	char helper;
	int nargs;
	uint32_t data_len;
	uint32_t out_size;
};

#define FMT_OFF (-232)       /* the format: up to 128 bytes */
#define ARR_OFF (-104)       /* the u64 arguments: up to 13 */
#define BYTES_OFF (-512)     /* the byte arguments: up to 280 bytes */
#define SNPRINTF_OUT 64      /* snprintf writes to the stack first (not the packet: the
				kernel allows no helper there), at BYTES_OFF, before the bytes */

/* Argument i's value into reg: its constant, or a pointer to its bytes at offs[i]. */
static void emit_arg(struct code *c, int reg, const struct fmt_case *fc, int i, const int *offs)
{
	const struct arg *a = &fc->a[i];
	int k = a->same ? a->same - 1 : i;

	if (!fc->a[k].bytes) {
		emit_ld64(c, reg, a->value);
		return;
	}
	emit(c, BPFVM_MOV64_REG(reg, BPFVM_REG_FP));
	emit(c, BPFVM_ALU64_IMM(BPFVM_ADD, reg, offs[k]));
}

/*
 * The call, r0 to the output's first 8 bytes, snprintf's text after it.
 * fmt_fd >= 0: snprintf's format is that map's value (the kernel wants a
 * read-only string there); bpfvm's runs take it from the stack.
 */
static void build_printf(struct code *c, const struct fmt_case *fc, int fmt_fd)
{
	static const int helper_ids[] = { ['\0'] = 6, ['v'] = 177, ['s'] = 165 };
	size_t len = strlen(fc->fmt) + 1;
	int at = BYTES_OFF + (fc->helper == 's' ? SNPRINTF_OUT : 0);
	int offs[13] = { 0 }, nargs = fc->helper ? fc->nargs : 3;

	emit_bytes(c, FMT_OFF, fc->fmt, len);
	for (int i = 0; fc->helper == 's' && i < SNPRINTF_OUT; i += 8)
		emit(c, BPFVM_ST_MEM(BPFVM_DW, BPFVM_REG_FP, (int16_t)(BYTES_OFF + i), 0));
	for (int i = 0; i < 13; i++) {
		if (fc->a[i].bytes && !fc->a[i].same) {
			offs[i] = at;
			emit_bytes(c, at, fc->a[i].bytes, fc->a[i].len);
			at += (int)(fc->a[i].len + 7) / 8 * 8;
		}
	}
	for (int i = 0; i < nargs; i++) {
		emit_arg(c, fc->helper ? 1 : 3 + i, fc, i, offs);
		if (fc->helper)
			emit(c, BPFVM_STX_MEM(BPFVM_DW, BPFVM_REG_FP, 1, (int16_t)(ARR_OFF + 8 * i)));
	}
	if (fc->helper == 's') {
		emit(c, BPFVM_MOV64_REG(1, BPFVM_REG_FP));
		emit(c, BPFVM_ALU64_IMM(BPFVM_ADD, 1, BYTES_OFF));
		emit(c, BPFVM_MOV64_IMM(2, (int32_t)fc->out_size));
		if (fmt_fd >= 0) {
			struct bpfvm_insn two[2] = { BPFVM_LD_IMM64_RAW(3, BPFVM_PSEUDO_MAP_VALUE, 0) };

			two[0].imm = fmt_fd;
			emit(c, two[0]);
			emit(c, two[1]);
		} else {
			emit(c, BPFVM_MOV64_REG(3, BPFVM_REG_FP));
			emit(c, BPFVM_ALU64_IMM(BPFVM_ADD, 3, FMT_OFF));
		}
	} else {
		emit(c, BPFVM_MOV64_REG(1, BPFVM_REG_FP));
		emit(c, BPFVM_ALU64_IMM(BPFVM_ADD, 1, FMT_OFF));
		emit(c, BPFVM_MOV64_IMM(2, (int32_t)len));
	}
	if (fc->helper) {
		int ptr = fc->helper == 's' ? 4 : 3;
		uint32_t dlen = fc->data_len ? fc->data_len : 8 * (uint32_t)fc->nargs;

		emit(c, BPFVM_MOV64_REG(ptr, BPFVM_REG_FP));
		emit(c, BPFVM_ALU64_IMM(BPFVM_ADD, ptr, ARR_OFF));
		if (!dlen)
			emit(c, BPFVM_MOV64_IMM(ptr, 0));
		emit(c, BPFVM_MOV64_IMM(ptr + 1, (int32_t)dlen));
	}
	emit(c, BPFVM_CALL_HELPER(helper_ids[(unsigned char)fc->helper]));
	emit(c, BPFVM_STX_MEM(BPFVM_DW, 6, 0, 0));
	for (int i = 0; fc->helper == 's' && i < SNPRINTF_OUT; i += 8) {
		emit(c, BPFVM_LDX_MEM(BPFVM_DW, 1, BPFVM_REG_FP, (int16_t)(BYTES_OFF + i)));
		emit(c, BPFVM_STX_MEM(BPFVM_DW, 6, 1, (int16_t)(8 + i)));
	}
	emit(c, BPFVM_MOV64_IMM(0, 2));
	emit(c, BPFVM_EXIT_INSN());
}

/* snprintf's format as the kernel wants it: a frozen, read-only array's value. */
static int kernel_fmt_map(const char *fmt)
{
	char value[128] = { 0 };
	uint32_t key = 0;
	union bpf_attr a;
	int fd = kernel_map_create(BPF_MAP_TYPE_ARRAY, 4, sizeof(value), 1, BPF_F_RDONLY_PROG, 0);

	if (fd < 0)
		return fd;
	snprintf(value, sizeof(value), "%s", fmt);
	memset(&a, 0, sizeof(a));
	a.map_fd = (uint32_t)fd;
	a.key = (uintptr_t)&key;
	a.value = (uintptr_t)value;
	if (sys_bpf(BPF_MAP_UPDATE_ELEM, &a) || (memset(&a, 0, sizeof(a)), a.map_fd = (uint32_t)fd,
						 sys_bpf(BPF_MAP_FREEZE, &a))) {
		close(fd);
		return -errno;
	}
	return fd;
}

static const char *helper_name(char helper)
{
	return helper == 's' ? "snprintf" : helper == 'v' ? "trace_vprintk" : "trace_printk";
}

/* One case in the kernel and in bpfvm (both modes): the same return, text and output. */
static void compare_printf(const struct tracefs *t, const struct fmt_case *fc)
{
	struct code kbody = { .n = 0 }, vbody = { .n = 0 };
	char vlog[65536], ktext[1100], why[1024], what[160];
	int fd = fc->helper == 's' ? kernel_fmt_map(fc->fmt) : -1;
	struct result k, v;
	int64_t kr, vr;
	int err;

	if (fc->helper == 's' && fd < 0) {
		TEST_FAIL("snprintf \"%s\": no read-only map for the format: %s", fc->fmt, strerror(-fd));
		return;
	}
	memset(&k, 0, sizeof(k));
	build_printf(&kbody, fc, fd);
	build_printf(&vbody, fc, -1);
	trace_clear(t);
	err = kernel_run(&kbody, &k, vlog, sizeof(vlog));
	if (fd >= 0)
		close(fd);
	/* snprintf's format is checked at load: a refusal there is the helper's -EINVAL. */
	if (err == -EINVAL && fc->helper == 's' && strstr(vlog, "format string")) {
		k.err = 0;
		kr = -EINVAL;
		memcpy(k.out, &kr, 8);
	} else if (err && kernel_cannot_load(BPF_PROG_TYPE_XDP, 0, 0, err, vlog, why, sizeof(why))) {
		snprintf(what, sizeof(what), "%s \"%s\"", helper_name(fc->helper), fc->fmt);
		kernel_skip(test_current_name(), what, why);   /* e.g. no trace_vprintk */
		return;
	} else if (err || k.err) {
		TEST_FAIL("%s \"%s\": the kernel did not run it (%d): %s", helper_name(fc->helper),
			  fc->fmt, err ? err : k.err, vlog);
		return;
	}
	trace_read(t, ktext, sizeof(ktext));
	for (int mode = BPFVM_EXEC_CHECKED; mode <= BPFVM_EXEC_UNCHECKED; mode++) {
		bpfvm_run(&vbody, (enum bpfvm_exec)mode, &v);
		memcpy(&kr, k.out, 8);
		memcpy(&vr, v.out, 8);
		if (kr != vr)
			TEST_FAIL("%s \"%s\": returns: kernel %" PRId64 ", bpfvm %" PRId64,
				  helper_name(fc->helper), fc->fmt, kr, vr);
		else if (fc->helper != 's' && kr >= 0 && strcmp(ktext, v.trace))
			TEST_FAIL("%s \"%s\": text: kernel \"%s\", bpfvm \"%s\"",
				  helper_name(fc->helper), fc->fmt, ktext, v.trace);
		else if (fc->helper == 's' && memcmp(k.out, v.out, PKT_LEN))
			TEST_FAIL("snprintf \"%s\": text: kernel \"%.*s\", bpfvm \"%.*s\"", fc->fmt,
				  PKT_LEN - 8, (const char *)k.out + 8, PKT_LEN - 8,
				  (const char *)v.out + 8);
	}
}

static char long_text[280];   /* 279 letters: two of them overflow the 512 bytes of arguments */

TEST(trace_printk_agrees)
{
	static const uint8_t ip[4] = { 192, 0, 2, 33 };
	static const uint8_t ip6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
	static const struct fmt_case cases[] = {
		P("plain text", CONST(0), CONST(0), CONST(0)),
		P("%d %i %u", CONST(-1), CONST(7), CONST(-1)),
		P("%x %X %lx", CONST(0xabcdef12), CONST(0xabcdef12), CONST(0x1234567890ull)),
		P("%ld %lld %llu", CONST(-5), CONST(1ull << 40), CONST(-1)),
		P("%lli %lu %llX", CONST(1ull << 63), CONST(-2), CONST(0xabcdef0123ull)),
		P("%d %u %x", CONST(0x1ffffffffull), CONST(0x1ffffffffull), CONST(-1)),
		P("[%5d|%-5d|%05d]", CONST(42), CONST(42), CONST(-42)),
		P("[%-+ 05d|%0-5d|%+05d]", CONST(42), CONST(42), CONST(-42)),
		P("[%+d|% d|%c]", CONST(5), CONST(5), CONST('A')),
		P("[%-3c|%3c|%c]", CONST('x'), CONST('y'), CONST(0x141)),
		P("[%08x|%-8x|%+u]", CONST(0xbeef), CONST(0xbeef), CONST(3)),
		P("%1000d%30d", CONST(1), CONST(2), CONST(0)),
		P("%s!", STR("string"), CONST(0), CONST(0)),
		P("a=[%s] b=[%s]", STR(""), STR("xyz"), CONST(0)),
		P("[%s][%s][%s]", STR(""), STR(""), STR("z")),
		P("[%5s|%-3s|%s]", STR(""), STR(""), STR("end")),
		P("[%8s|%-8s]", STR("ab"), STR("cd"), CONST(0)),
		P("%s.", CONST(16), CONST(0), CONST(0)),
		P("[%s][%s]", CONST(0), STR("after a bad pointer"), CONST(0)),
		P("%s", BYTES(long_text, sizeof(long_text)), CONST(0), CONST(0)),
		P("%s|%s", BYTES(long_text, sizeof(long_text)), SAME(0), CONST(0)),
		P("%s%s%s", BYTES(long_text, sizeof(long_text)), SAME(0), SAME(0)),
		P("%s%s%d", BYTES(long_text, sizeof(long_text)), SAME(0), CONST(5)),
		P("%px %px", CONST(0xff), CONST(-1), CONST(0)),
		P("%p %p|%8p", CONST(0), CONST(-1), CONST(0)),
		P("%pK %pK", CONST(0), CONST(-4095), CONST(0)),
		P("%pS %ps %pB", CONST(0x1234), CONST(0x1234), CONST(0x1234)),
		P("%pSR", CONST(0x10), CONST(0), CONST(0)),
		P("%pI4 %pi4", BYTES(ip, 4), BYTES(ip, 4), CONST(0)),
		P("%pI4xyz!", BYTES(ip, 4), CONST(0), CONST(0)),
		P("%pI6 %pi6", BYTES(ip6, 16), BYTES(ip6, 16), CONST(0)),
		P("[%20pI4|%-16pI4]", BYTES(ip, 4), BYTES(ip, 4), CONST(0)),
		P("%pI4", CONST(8), CONST(0), CONST(0)),
		P("%pI5", BYTES(ip, 4), CONST(0), CONST(0)),
		P("%pM", BYTES(ip6, 6), CONST(0), CONST(0)),
		P("100%% %d", CONST(1), CONST(0), CONST(0)),
		P("%d %d %d %d", CONST(1), CONST(2), CONST(3)),
		P("%.2d", CONST(1), CONST(0), CONST(0)),
		P("%#x", CONST(1), CONST(0), CONST(0)),
		P("%hd", CONST(1), CONST(0), CONST(0)),
		P("%zu", CONST(1), CONST(0), CONST(0)),
		P("%lu%", CONST(1), CONST(0), CONST(0)),
		P("%5%", CONST(1), CONST(0), CONST(0)),
		P("%f", CONST(1), CONST(0), CONST(0)),
		P("%lllx", CONST(1), CONST(0), CONST(0)),
		P("%sx", STR("s"), CONST(0), CONST(0)),
		P("%pz", CONST(1), CONST(0), CONST(0)),
		P("bell\a", CONST(0), CONST(0), CONST(0)),
		P("tab\there %u", CONST(9), CONST(0), CONST(0)),
		P("%lld%lld%lld", CONST(INT64_MIN), CONST(INT64_MAX), CONST(0)),
		P("%5s|%-6d|%x", STR("abcdefgh"), CONST(-3), CONST(255)),
		/* (not %pus: the kernel reads it as a user address, and the stack is not one) */
		P("%pks.", STR("k"), CONST(0), CONST(0)),
		P("[%pks][%s]", STR(""), STR("k2"), CONST(0)),
		P("caf\xc3\xa9 %d", CONST(1), CONST(0), CONST(0)),
		P("%\xc3", CONST(1), CONST(0), CONST(0)),
		P("%llx%ld", CONST(1), CONST(2), CONST(0)),
		P("%12d|%-12u|", CONST(123456), CONST(7), CONST(0)),
		/* trace_vprintk: up to 12 arguments in an array */
		{ "%d %d %d %d %d %d %d %d %d %d %d %d",
		  { CONST(1), CONST(2), CONST(3), CONST(4), CONST(5), CONST(6), CONST(7), CONST(8),
		    CONST(9), CONST(10), CONST(11), CONST(-12) }, 'v', 12, 0, 0 },
		{ "%d %d %d %d %d %d %d %d %d %d %d %d",
		  { CONST(1), CONST(2), CONST(3), CONST(4), CONST(5), CONST(6), CONST(7), CONST(8),
		    CONST(9), CONST(10), CONST(11) }, 'v', 11, 0, 0 },
		{ "%d", { CONST(1), CONST(2) }, 'v', 2, 12, 0 },
		{ "%d", { CONST(1) }, 'v', 13, 0, 0 },
		{ "no arguments", { CONST(0) }, 'v', 0, 0, 0 },
		{ "a=[%s] b=[%s] %pI6 %c", { STR(""), STR("xyz"), BYTES(ip6, 16), CONST('!') }, 'v', 4, 0, 0 },
		{ "%s|%s|%s|%s", { BYTES(long_text, sizeof(long_text)), SAME(0), SAME(0), SAME(0) },
		  'v', 4, 0, 0 },
		/* snprintf: the text, its length plus the NUL, truncation */
		{ "%d-%s-%x", { CONST(-7), STR("mid"), CONST(0xff) }, 's', 3, 0, 64 },
		{ "a=[%s] b=[%s]", { STR(""), STR("xyz") }, 's', 2, 0, 64 },
		{ "%s", { BYTES(long_text + 180, 100) }, 's', 1, 0, 20 },
		{ "[%s]", { STR("no room") }, 's', 1, 0, 0 },
		{ "%1000d|%pI4|%s", { CONST(1), BYTES(ip, 4), STR("after") }, 's', 3, 0, 64 },
		{ "%08llx|%pI4", { CONST(0x1234), BYTES(ip, 4) }, 's', 2, 0, 0 },
		{ "%d%%", { CONST(99) }, 's', 1, 0, 1 },
		{ "%q", { CONST(1) }, 's', 1, 0, 16 },
		{ "%d %d", { CONST(1) }, 's', 1, 0, 16 },
	};
	struct tracefs t;

	memset(long_text, 'L', sizeof(long_text) - 1);
	if (!tracefs_open(&t)) {
		printf("SKIP trace_printk_agrees: no tracefs at " TRACE_DIR "\n");
		return;
	}
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		compare_printf(&t, &cases[i]);
	tracefs_close(&t);
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
