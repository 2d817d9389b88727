/*
 * btf_dump.c - values printed through their BTF types, as `bpftool map
 * dump` prints map values (bpfvm/btf.h): the public face of an object's
 * BTF for the command line and event consumers.
 *
 * bpftool writes through a JSON writer whose pretty mode breaks the line
 * before each member name and before a closing bracket that follows
 * something, never between array elements: "[1,2,3\n    ]".  The writer
 * here keeps that layout so the two can be compared line for line.  Every
 * read is checked against the data's size (a member's offset comes from
 * the BTF, which may lie), and nesting and the number of values are bounded.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <bpfvm/btf.h>

#include "../util/opts.h"
#include "btf.h"

#define MAX_DEPTH 32
#define MAX_ZERO_SIZED 64   /* elements of a zero-sized type printed at most */
/*
 * Values printed at most for one call.  Honest BTF never comes near it
 * (a value's members fit in its bytes), but a struct that claims to hold
 * itself many times over would otherwise print for ever.
 */
#define MAX_VALUES (1u << 20)

struct writer {
	const struct btf *btf;
	bpfvm_btf_print_fn print;
	void *ctx;
	bool json;
	unsigned depth;
	bool sep;               /* a value precedes at this level: a comma is due */
	const uint8_t *end;     /* one past the data */
	uint32_t budget;        /* values left to print */
};

static const struct btf *cbtf(const struct bpfvm_btf *b) { return (const struct btf *)b; }

static void put(struct writer *w, const char *s, size_t n)
{
	if (n)
		w->print(w->ctx, s, n);
}

__attribute__((format(printf, 2, 3))) static void putf(struct writer *w, const char *fmt, ...)
{
	char buf[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	put(w, buf, n < 0 ? 0 : (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

static void eor(struct writer *w)
{
	if (w->sep)
		put(w, ",", 1);
	w->sep = true;
}

static void eol(struct writer *w)
{
	if (w->json)
		return;
	put(w, "\n", 1);
	for (unsigned i = 0; i < w->depth; i++)
		put(w, "    ", 4);
}

static void begin(struct writer *w, char c)
{
	eor(w);
	put(w, &c, 1);
	w->depth++;
	w->sep = false;
}

static void end(struct writer *w, char c)
{
	w->depth--;
	if (w->sep)
		eol(w);
	put(w, &c, 1);
	w->sep = true;
}

/* A JSON string of s[0..n), escaped as JSON requires. */
static void quoted(struct writer *w, const char *s, size_t n)
{
	size_t run = 0;

	put(w, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f)
			continue;
		put(w, s + run, i - run);
		run = i + 1;
		if (c == '"' || c == '\\')
			putf(w, "\\%c", c);
		else if (c == '\n')
			put(w, "\\n", 2);
		else if (c == '\t')
			put(w, "\\t", 2);
		else
			putf(w, "\\u%04x", c);
	}
	put(w, s + run, n - run);
	put(w, "\"", 1);
}

static void name(struct writer *w, const char *n)
{
	eor(w);
	eol(w);
	w->sep = false;
	quoted(w, n, strlen(n));
	put(w, w->json ? ":" : ": ", w->json ? 1 : 2);
}

static bool fits(const struct writer *w, const uint8_t *p, uint64_t n)
{
	return p <= w->end && n <= (uint64_t)(w->end - p);
}

/* A value of up to 128 bits, in hex: bpftool's form for bitfields and __int128. */
static void hex128(struct writer *w, uint64_t hi, uint64_t lo)
{
	eor(w);
	if (hi)
		putf(w, w->json ? "\"0x%" PRIx64 "%016" PRIx64 "\"" : "0x%" PRIx64 "%016" PRIx64, hi, lo);
	else
		putf(w, w->json ? "\"0x%" PRIx64 "\"" : "0x%" PRIx64, lo);
}

/* bits [bit_off, bit_off + nbits) of p, little-endian; nbits <= 128. */
static int bitfield(struct writer *w, const uint8_t *p, unsigned bit_off, unsigned nbits)
{
	unsigned nbytes = (bit_off + nbits + 7) / 8;
	uint64_t lo = 0, hi = 0;

	if (!nbits || nbits > 128 || nbytes > 17 || !fits(w, p, nbytes))
		return -EINVAL;
	for (unsigned i = 0; i < nbits; i++) {
		unsigned b = bit_off + i;

		if (!(p[b / 8] >> (b % 8) & 1))
			continue;
		if (i < 64)
			lo |= 1ull << i;
		else
			hi |= 1ull << (i - 64);
	}
	hex128(w, hi, lo);
	return 0;
}

static int do_int(struct writer *w, const struct btf_type *t, unsigned bit_off, const uint8_t *p)
{
	uint32_t info = *(const uint32_t *)(t + 1);
	unsigned bits = BTF_INT_BITS(info), enc = BTF_INT_ENCODING(info);
	uint64_t u = 0;

	bit_off += BTF_INT_OFFSET(info);
	if (bit_off || bits % 8)
		return bitfield(w, p + bit_off / 8, bit_off % 8, bits);
	if (!fits(w, p, bits / 8) || bits > 128)
		return -EINVAL;
	if (bits == 128) {
		uint64_t lo, hi;

		memcpy(&lo, p, 8);
		memcpy(&hi, p + 8, 8);
		hex128(w, hi, lo);
		return 0;
	}
	if (bits != 8 && bits != 16 && bits != 32 && bits != 64)
		return bitfield(w, p, 0, bits);
	memcpy(&u, p, bits / 8);   /* little-endian, as bpfvm requires */
	eor(w);
	if (enc & BTF_INT_BOOL) {
		putf(w, "%s", u ? "true" : "false");
	} else if (enc & BTF_INT_CHAR) {
		if (isprint((int)(u & 0xff)))
			quoted(w, (const char *)p, 1);
		else
			putf(w, w->json ? "\"\\u00%02x\"" : "0x%x", (unsigned)(u & 0xff));
	} else if (enc & BTF_INT_SIGNED) {
		int64_t s = bits == 64 ? (int64_t)u : (int64_t)(u << (64 - bits)) >> (64 - bits);

		putf(w, "%" PRId64, s);
	} else {
		putf(w, "%" PRIu64, u);
	}
	return 0;
}

static int do_enum(struct writer *w, const struct btf_type *t, const uint8_t *p)
{
	bool is64 = btf_kind(t) == BTF_KIND_ENUM64, sign = btf_kflag(t);
	uint64_t u = 0;

	if ((t->size != 1 && t->size != 2 && t->size != 4 && t->size != 8) || !fits(w, p, t->size))
		return -EINVAL;
	memcpy(&u, p, t->size);
	if (sign && t->size < 8)
		u = (uint64_t)((int64_t)(u << (64 - 8 * t->size)) >> (64 - 8 * t->size));
	for (unsigned i = 0; i < btf_vlen(t); i++) {
		uint64_t v = is64 ? (uint64_t)btf_enums64(t)[i].val_hi32 << 32 | btf_enums64(t)[i].val_lo32
				  : (uint64_t)(sign ? (int64_t)btf_enums(t)[i].val
						    : (int64_t)(uint32_t)btf_enums(t)[i].val);
		const char *n = btf_str(w->btf, is64 ? btf_enums64(t)[i].name_off
						     : btf_enums(t)[i].name_off);

		if (v == u) {
			eor(w);
			quoted(w, n, strlen(n));
			return 0;
		}
	}
	eor(w);
	putf(w, sign ? "%" PRId64 : "%" PRIu64, u);
	return 0;
}

static int do_type(struct writer *w, uint32_t id, unsigned bit_off, const uint8_t *p, int depth);

/* bpftool's test: char elements, and a NUL before anything unprintable. */
static bool is_string(const struct writer *w, const struct btf_array *a, const uint8_t *p)
{
	const struct btf_type *e = btf_type(w->btf, a->type);

	for (int i = 0; e && i < MAX_DEPTH; i++) {
		unsigned k = btf_kind(e);

		/* modifiers, but not typedefs: a typedef of char is not a string */
		if (k != BTF_KIND_CONST && k != BTF_KIND_VOLATILE && k != BTF_KIND_RESTRICT &&
		    k != BTF_KIND_TYPE_TAG)
			break;
		e = btf_type(w->btf, e->type);
	}
	if (!a->nelems || !e || btf_kind(e) != BTF_KIND_INT || e->size != 1 ||
	    (!(btf_int_encoding(e) & BTF_INT_CHAR) && strcmp(btf_name(w->btf, e), "char")) ||
	    !fits(w, p, a->nelems))
		return false;
	for (uint32_t i = 0; i < a->nelems; i++) {
		if (!p[i])
			return true;
		if (p[i] <= 0x1f || p[i] >= 0x7f)
			return false;
	}
	return false;
}

static int do_array(struct writer *w, const struct btf_type *t, const uint8_t *p, int depth)
{
	const struct btf_array *a = btf_array(t);
	int64_t esize = btf_type_size(w->btf, a->type);
	int err = 0;

	if (is_string(w, a, p)) {
		eor(w);
		quoted(w, (const char *)p, strlen((const char *)p));
		return 0;
	}
	if (esize < 0)
		return (int)esize;
	if (!fits(w, p, (uint64_t)esize * a->nelems))
		return -EINVAL;
	begin(w, '[');
	for (uint32_t i = 0; i < a->nelems && !err && (esize || i < MAX_ZERO_SIZED); i++)
		err = do_type(w, a->type, 0, p + (uint64_t)i * (uint64_t)esize, depth + 1);
	end(w, ']');
	return err;
}

static int do_struct(struct writer *w, const struct btf_type *t, const uint8_t *p, int depth)
{
	const struct btf_member *m = btf_members(t);
	int err = 0;

	if (!fits(w, p, t->size))
		return -EINVAL;
	begin(w, '{');
	for (unsigned i = 0; i < btf_vlen(t) && !err; i++) {
		uint32_t off = btf_member_bit_offset(t, &m[i]);
		uint32_t bits = btf_member_bitfield_size(t, &m[i]);

		name(w, btf_str(w->btf, m[i].name_off));
		if (bits)
			err = bitfield(w, p + off / 8, off % 8, bits);
		else
			err = do_type(w, m[i].type, off % 8, p + off / 8, depth + 1);
	}
	end(w, '}');
	return err;
}

static int do_datasec(struct writer *w, const struct btf_type *t, const uint8_t *p, int depth)
{
	const struct btf_var_secinfo *v = btf_secinfos(t);
	int err = 0;

	begin(w, '{');
	name(w, btf_name(w->btf, t));
	begin(w, '[');
	for (unsigned i = 0; i < btf_vlen(t) && !err; i++) {
		if (!fits(w, p + v[i].offset, v[i].size))
			err = -EINVAL;
		else
			err = do_type(w, v[i].type, 0, p + v[i].offset, depth + 1);
	}
	end(w, ']');
	end(w, '}');
	return err;
}

static int do_var(struct writer *w, const struct btf_type *t, const uint8_t *p, int depth)
{
	int err;

	begin(w, '{');
	name(w, btf_name(w->btf, t));
	err = do_type(w, t->type, 0, p, depth + 1);
	end(w, '}');
	return err;
}

static int do_float(struct writer *w, const struct btf_type *t, const uint8_t *p)
{
	double d;
	float f;

	if ((t->size != 4 && t->size != 8) || !fits(w, p, t->size))
		return -EINVAL;
	if (t->size == 4)
		memcpy(&f, p, 4), d = f;
	else
		memcpy(&d, p, 8);
	eor(w);
	putf(w, t->size == 4 ? "%.9g" : "%.17g", d);
	return 0;
}

static int do_type(struct writer *w, uint32_t id, unsigned bit_off, const uint8_t *p, int depth)
{
	const struct btf_type *t = btf_type(w->btf, id);
	uint64_t ptr = 0;

	if (depth > MAX_DEPTH || !w->budget)
		return -ELOOP;
	w->budget--;
	if (!t)
		return -EINVAL;
	switch (btf_kind(t)) {
	case BTF_KIND_INT: return do_int(w, t, bit_off, p);
	case BTF_KIND_STRUCT: case BTF_KIND_UNION: return do_struct(w, t, p, depth);
	case BTF_KIND_ARRAY: return do_array(w, t, p, depth);
	case BTF_KIND_ENUM: case BTF_KIND_ENUM64: return do_enum(w, t, p);
	case BTF_KIND_FLOAT: return do_float(w, t, p);
	case BTF_KIND_DATASEC: return do_datasec(w, t, p, depth);
	case BTF_KIND_PTR:
		if (!fits(w, p, 8))
			return -EINVAL;
		memcpy(&ptr, p, 8);
		eor(w);
		putf(w, "\"0x%" PRIx64 "\"", ptr);
		return 0;
	case BTF_KIND_VAR: return do_var(w, t, p, depth);
	case BTF_KIND_TYPEDEF: case BTF_KIND_VOLATILE: case BTF_KIND_CONST:
	case BTF_KIND_RESTRICT: case BTF_KIND_TYPE_TAG:
		return do_type(w, t->type, bit_off, p, depth + 1);
	default:
		return -EINVAL;
	}
}

/* A value of type id in data[0..size): 0, or why it cannot be printed (nothing was). */
static int check_value(const struct btf *btf, uint32_t id, const void *data, size_t size)
{
	int64_t need = btf_type_size(btf, id);

	if (need < 0)
		return (int)need;
	if (!data && size)
		return -EINVAL;
	return (uint64_t)need > size ? -E2BIG : 0;
}

static void init_writer(struct writer *w, const struct bpfvm_btf *btf, bpfvm_btf_print_fn print,
			void *ctx, const struct bpfvm_btf_dump_opts *opts)
{
	*w = (struct writer){ .btf = cbtf(btf), .print = print, .ctx = ctx,
			      .json = OPTS_GET(opts, json, false),
			      .depth = OPTS_GET(opts, indent, 0), .budget = MAX_VALUES };
}

/* One value with the writer's bounds set to it. */
static int value(struct writer *w, uint32_t id, const void *data, size_t size)
{
	w->end = (const uint8_t *)data + size;
	return do_type(w, id, 0, data, 0);
}

int bpfvm_btf__dump_data(const struct bpfvm_btf *btf, uint32_t id, const void *data, size_t size,
			 bpfvm_btf_print_fn print, void *ctx, const struct bpfvm_btf_dump_opts *opts)
{
	struct writer w;
	int err;

	if (!OPTS_VALID(opts, bpfvm_btf_dump_opts, NULL) || !btf || !print)
		return -EINVAL;
	if ((err = check_value(cbtf(btf), id, data, size)))
		return err;
	init_writer(&w, btf, print, ctx, opts);
	return value(&w, id, data, size);
}

int bpfvm_btf__dump_map_entry(const struct bpfvm_btf *btf, const struct bpfvm_btf_map_entry *e,
			      bpfvm_btf_print_fn print, void *ctx,
			      const struct bpfvm_btf_dump_opts *opts)
{
	size_t stride = (e->value_size + 7) & ~(size_t)7;
	struct writer w;
	int err;

	if (!OPTS_VALID(opts, bpfvm_btf_dump_opts, NULL) || !btf || !print || !e ||
	    (e->ncpus && e->value_size > SIZE_MAX / 8 / e->ncpus))
		return -EINVAL;
	if ((e->key_type_id && (err = check_value(cbtf(btf), e->key_type_id, e->key, e->key_size))) ||
	    (err = check_value(cbtf(btf), e->value_type_id, e->value, e->value_size)))
		return err;
	init_writer(&w, btf, print, ctx, opts);
	begin(&w, '{');
	if (e->key_type_id) {
		name(&w, "key");
		err = value(&w, e->key_type_id, e->key, e->key_size);
	}
	if (!e->ncpus) {
		name(&w, "value");
		err = err ? err : value(&w, e->value_type_id, e->value, e->value_size);
	} else {
		name(&w, "values");
		begin(&w, '[');
		for (unsigned c = 0; c < e->ncpus && !err; c++) {
			begin(&w, '{');
			name(&w, "cpu");
			eor(&w);
			putf(&w, "%u", c);
			name(&w, "value");
			err = value(&w, e->value_type_id, (const uint8_t *)e->value + c * stride,
				    e->value_size);
			end(&w, '}');
		}
		end(&w, ']');
	}
	end(&w, '}');
	return err;
}
