/*
 * cbpf.c - classic BPF programs as text and bytes: reading the forms
 * tcpdump writes (-dd's C array, -ddd's decimal lines) and raw struct
 * sock_filter records, and printing an instruction as tcpdump -d does
 * (libpcap's bpf_image).
 */
#include <bpfvm/cbpf.h>

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/log.h"
#include "../util/opts.h"

static bool looks_like_text(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!isprint(p[i]) && !isspace(p[i]))
			return false;
	return len > 0;
}

/* A growing array of instructions. */
struct fvec {
	struct bpfvm_sock_filter *v;
	size_t n, cap;
};

static int fvec_push(struct fvec *fv, const uint64_t f[4])
{
	if (fv->n == fv->cap) {
		size_t cap = fv->cap ? fv->cap * 2 : 64;
		struct bpfvm_sock_filter *v = realloc(fv->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		fv->v = v;
		fv->cap = cap;
	}
	fv->v[fv->n++] = (struct bpfvm_sock_filter){ (uint16_t)f[0], (uint8_t)f[1], (uint8_t)f[2],
						     (uint32_t)f[3] };
	return 0;
}

/* One number of a text form, within max; *p advances past it. */
static bool read_num(const char **p, const char *end, uint64_t max, uint64_t *out)
{
	const char *s = *p;
	char *e;

	while (s < end && (isspace((unsigned char)*s) || *s == ','))
		s++;
	if (s >= end || !isdigit((unsigned char)*s))
		return false;
	errno = 0;
	*out = strtoull(s, &e, 0);
	if (errno || e > end || *out > max)
		return false;
	*p = e;
	return true;
}

static const uint64_t field_max[4] = { 0xffff, 0xff, 0xff, 0xffffffff };

static unsigned line_of(const char *start, const char *at)
{
	unsigned line = 1;
	for (const char *s = start; s < at; s++)
		line += *s == '\n';
	return line;
}

/* -dd: "{ code, jt, jf, k }," groups, inside a C array's braces or not. */
static int parse_c_array(const char *s, const char *end, struct fvec *fv, struct bpfvm_log *log)
{
	const char *start = s;

	while ((s = memchr(s, '{', (size_t)(end - s))) != NULL) {
		uint64_t f[4];
		const char *p = s + 1;

		while (p < end && isspace((unsigned char)*p))
			p++;
		if (p < end && *p == '{') { /* the array's own brace: "struct sock_filter f[] = {" */
			s = p;
			continue;
		}
		for (int i = 0; i < 4; i++) {
			if (!read_num(&p, end, field_max[i], &f[i])) {
				log_printf(log, "line %u: expected \"{ code, jt, jf, k }\" with %s fitting its field\n",
					   line_of(start, s), i ? "each number" : "a code");
				return -EINVAL;
			}
		}
		while (p < end && isspace((unsigned char)*p))
			p++;
		if (p >= end || *p != '}') {
			log_printf(log, "line %u: expected '}' after four numbers\n", line_of(start, s));
			return -EINVAL;
		}
		if (fvec_push(fv, f))
			return -ENOMEM;
		s = p + 1;
	}
	return 0;
}

/* -ddd: the count, then "code jt jf k" a line. */
static int parse_decimal(const char *s, const char *end, struct fvec *fv, struct bpfvm_log *log)
{
	const char *start = s;
	uint64_t count, f[4];

	if (!read_num(&s, end, BPFVM_CBPF_MAXINSNS, &count)) {
		log_printf(log, "line 1: expected the instruction count (at most %d) first\n",
			   BPFVM_CBPF_MAXINSNS);
		return -EINVAL;
	}
	for (uint64_t n = 0; n < count; n++) {
		for (int i = 0; i < 4; i++) {
			if (!read_num(&s, end, field_max[i], &f[i])) {
				log_printf(log, "line %u: instruction %" PRIu64 " of %" PRIu64
					   ": expected \"code jt jf k\" with each number fitting its field\n",
					   line_of(start, s) + (s < end && *s == '\n'), n, count);
				return -EINVAL;
			}
		}
		if (fvec_push(fv, f))
			return -ENOMEM;
	}
	while (s < end && isspace((unsigned char)*s))
		s++;
	if (s < end) {
		log_printf(log, "line %u: text after the %" PRIu64 " instructions the first line counts\n",
			   line_of(start, s), count);
		return -EINVAL;
	}
	return 0;
}

static int parse_raw(const uint8_t *p, size_t len, struct fvec *fv, struct bpfvm_log *log)
{
	if (len % sizeof(struct bpfvm_sock_filter)) {
		log_printf(log, "raw classic program: %zu bytes is not a whole number of 8-byte instructions\n",
			   len);
		return -EINVAL;
	}
	for (size_t off = 0; off < len; off += 8) {
		struct bpfvm_sock_filter f;
		uint64_t v[4];

		memcpy(&f, p + off, sizeof(f));
		v[0] = f.code, v[1] = f.jt, v[2] = f.jf, v[3] = f.k;
		if (fvec_push(fv, v))
			return -ENOMEM;
	}
	return 0;
}

int bpfvm_cbpf_parse(const void *buf, size_t len, struct bpfvm_sock_filter **out, size_t *cnt,
		     const struct bpfvm_cbpf_opts *opts)
{
	struct bpfvm_log *log = OPTS_GET(opts, log, NULL);
	struct fvec fv = { 0 };
	const char *s = buf;
	int err;

	if (!OPTS_VALID(opts, bpfvm_cbpf_opts, log))
		return -EINVAL;

	if (!buf || !out || !cnt)
		return -EINVAL;
	if (!looks_like_text(buf, len))
		err = parse_raw(buf, len, &fv, log);
	else if (memchr(s, '{', len))
		err = parse_c_array(s, s + len, &fv, log);
	else
		err = parse_decimal(s, s + len, &fv, log);
	if (!err && fv.n == 0) {
		log_printf(log, "classic program: no instructions\n");
		err = -EINVAL;
	}
	if (err) {
		free(fv.v);
		return err;
	}
	*out = fv.v;
	*cnt = fv.n;
	return 0;
}

/* ---- tcpdump -d ---------------------------------------------------------- */

struct cbpf_image {
	uint16_t code;
	const char *op;
	const char *fmt; /* of k (as int), or of the jump target for "ja" */
};

static const struct cbpf_image images[] = {
	{ 0x06, "ret", "#%d" },           { 0x16, "ret", "" },
	{ 0x20, "ld", "[%d]" },           { 0x28, "ldh", "[%d]" },
	{ 0x30, "ldb", "[%d]" },          { 0x80, "ld", "#pktlen" },
	{ 0x40, "ld", "[x + %d]" },       { 0x48, "ldh", "[x + %d]" },
	{ 0x50, "ldb", "[x + %d]" },      { 0x00, "ld", "#0x%x" },
	{ 0x01, "ldx", "#0x%x" },         { 0x81, "ldx", "#pktlen" },
	{ 0xb1, "ldxb", "4*([%d]&0xf)" }, { 0x60, "ld", "M[%d]" },
	{ 0x61, "ldx", "M[%d]" },         { 0x02, "st", "M[%d]" },
	{ 0x03, "stx", "M[%d]" },         { 0x05, "ja", "%d" },
	{ 0x25, "jgt", "#0x%x" },         { 0x35, "jge", "#0x%x" },
	{ 0x15, "jeq", "#0x%x" },         { 0x45, "jset", "#0x%x" },
	{ 0x2d, "jgt", "x" },             { 0x3d, "jge", "x" },
	{ 0x1d, "jeq", "x" },             { 0x4d, "jset", "x" },
	{ 0x0c, "add", "x" },             { 0x1c, "sub", "x" },
	{ 0x2c, "mul", "x" },             { 0x3c, "div", "x" },
	{ 0x9c, "mod", "x" },             { 0x5c, "and", "x" },
	{ 0x4c, "or", "x" },              { 0xac, "xor", "x" },
	{ 0x6c, "lsh", "x" },             { 0x7c, "rsh", "x" },
	{ 0x04, "add", "#%d" },           { 0x14, "sub", "#%d" },
	{ 0x24, "mul", "#%d" },           { 0x34, "div", "#%d" },
	{ 0x94, "mod", "#%d" },           { 0x54, "and", "#0x%x" },
	{ 0x44, "or", "#0x%x" },          { 0xa4, "xor", "#0x%x" },
	{ 0x64, "lsh", "#%d" },           { 0x74, "rsh", "#%d" },
	{ 0x84, "neg", "" },              { 0x07, "tax", "" },
	{ 0x87, "txa", "" },
};

int bpfvm_cbpf_disasm(const struct bpfvm_sock_filter *f, size_t cnt, size_t idx, char *buf,
		      size_t size)
{
	const struct cbpf_image *im = NULL;
	const struct bpfvm_sock_filter *p;
	char operand[64];
	int n = (int)idx;

	if (!f || idx >= cnt)
		return snprintf(buf, size, "(%03d) <out of range>", n);
	p = &f[idx];
	for (size_t i = 0; i < sizeof(images) / sizeof(images[0]); i++)
		if (images[i].code == p->code)
			im = &images[i];
	if (!im)
		snprintf(operand, sizeof(operand), "0x%x", p->code);
	else if (p->code == 0x05)
		snprintf(operand, sizeof(operand), "%d", (int)(n + 1 + p->k));
	else
		snprintf(operand, sizeof(operand), im->fmt, (int)p->k);
	if ((p->code & 0x07) == BPFVM_JMP && (p->code & 0xf0) != BPFVM_JA)
		return snprintf(buf, size, "(%03d) %-8s %-16s jt %d\tjf %d", n, im ? im->op : "unimp",
				operand, n + 1 + p->jt, n + 1 + p->jf);
	return snprintf(buf, size, "(%03d) %-8s %s", n, im ? im->op : "unimp", operand);
}

const char *bpfvm_cbpf_fn_name(uint32_t id)
{
	static const char *const names[] = {
		"bpf_skb_load_helper_8", "bpf_skb_load_helper_16", "bpf_skb_load_helper_32",
		"bpf_skb_get_pay_offset", "bpf_skb_get_nlattr", "bpf_skb_get_nlattr_nest",
		"bpf_get_raw_cpu_id", "bpf_user_rnd_u32",
	};

	if (id < BPFVM_CBPF_FN_LOAD_8 || id >= BPFVM_CBPF_FN_END)
		return NULL;
	return names[id - BPFVM_CBPF_FN_LOAD_8];
}
