/*
 * btf_ext.c - parsing .BTF.ext: per ELF section, the function info (which
 * BTF FUNC each function is), line info (which source line each
 * instruction comes from) and CO-RE relocations (which instructions hold
 * a field offset, size or type fact to be fitted to the target kernel).
 *
 * Layout: a header (magic, version, flags, hdr_len, then offset/length
 * pairs relative to the header's end for the three kinds); each kind is
 * a record size followed by blocks of {section name, count, records}.
 * Record sizes may grow in later versions: the fields we know come first.
 */
#include "btf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../util/log.h"

struct ext_header {
	uint16_t magic;
	uint8_t version;
	uint8_t flags;
	uint32_t hdr_len;
	/* then offset/length pairs: func info, line info, CO-RE relocations */
};

enum { EXT_FUNC, EXT_LINE, EXT_CORE };
static const uint32_t min_rec[3] = { 8, 16, 16 };
static const char *const kind_what[3] = { "func info", "line info", "CO-RE relocations" };

#define FAIL(...) (log_printf(log, __VA_ARGS__), -EINVAL)

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static struct btf_ext_sec *sec_for(struct btf_ext *ext, const char *name)
{
	struct btf_ext_sec *grown;

	for (uint32_t i = 0; i < ext->nsecs; i++)
		if (!strcmp(ext->secs[i].name, name))
			return &ext->secs[i];
	grown = realloc(ext->secs, (ext->nsecs + 1) * sizeof(*grown));
	if (!grown)
		return NULL;
	ext->secs = grown;
	memset(&grown[ext->nsecs], 0, sizeof(*grown));
	grown[ext->nsecs].name = name;
	return &grown[ext->nsecs++];
}

static void fill_rec(struct btf_ext_rec *r, int kind, const uint8_t *p)
{
	memset(r, 0, sizeof(*r));
	r->insn = rd32(p) / 8;
	if (kind == EXT_FUNC) {
		r->type_id = rd32(p + 4);
	} else if (kind == EXT_LINE) {
		r->file_off = rd32(p + 4);
		r->line_off = rd32(p + 8);
		r->line_col = rd32(p + 12);
	} else {
		r->type_id = rd32(p + 4);
		r->file_off = rd32(p + 8);
		r->kind = rd32(p + 12);
	}
}

/* Append n records of a kind to a section's list. */
static int add_recs(struct btf_ext_sec *sec, int kind, const uint8_t *p, uint32_t n,
		    uint32_t rec_size)
{
	struct btf_ext_rec **list = kind == EXT_FUNC ? &sec->func : kind == EXT_LINE ? &sec->line
										  : &sec->core;
	uint32_t *cnt = kind == EXT_FUNC ? &sec->nfunc : kind == EXT_LINE ? &sec->nline : &sec->ncore;
	struct btf_ext_rec *grown = realloc(*list, ((size_t)*cnt + n + 1) * sizeof(**list));

	if (!grown)
		return -ENOMEM;
	*list = grown;
	for (uint32_t i = 0; i < n; i++)
		fill_rec(&grown[(*cnt)++], kind, p + (size_t)i * rec_size);
	return 0;
}

static int check_rec(const struct btf *btf, int kind, const struct btf_ext_rec *r,
		     struct bpfvm_log *log)
{
	if (kind == EXT_FUNC && (!btf_type(btf, r->type_id) ||
				 btf_kind(btf_type(btf, r->type_id)) != BTF_KIND_FUNC))
		return FAIL(".BTF.ext: func info names type %u, which is not a FUNC\n", r->type_id);
	if (kind == EXT_CORE && (r->type_id >= btf_type_cnt(btf) || r->kind > BTF_CORE_TYPE_MATCHES))
		return FAIL(".BTF.ext: CO-RE relocation has type %u and kind %u, out of range\n",
			    r->type_id, r->kind);
	return 0;
}

static int parse_kind(struct btf_ext *ext, const struct btf *btf, int kind, const uint8_t *p,
		      uint32_t len, struct bpfvm_log *log)
{
	uint32_t rec_size, pos = 4;

	if (!len)
		return 0;
	if (len < 4)
		return FAIL(".BTF.ext: %s is cut short\n", kind_what[kind]);
	rec_size = rd32(p);
	if (rec_size < min_rec[kind] || rec_size % 4 || rec_size > 1024)
		return FAIL(".BTF.ext: %s record size %u is invalid\n", kind_what[kind], rec_size);
	while (pos < len) {
		uint32_t name_off, n;
		struct btf_ext_sec *sec;

		if (len - pos < 8)
			return FAIL(".BTF.ext: %s block header is cut short\n", kind_what[kind]);
		name_off = rd32(p + pos);
		n = rd32(p + pos + 4);
		pos += 8;
		if (!n || n > (len - pos) / rec_size)
			return FAIL(".BTF.ext: %s block of %u records does not fit\n", kind_what[kind], n);
		if (!*btf_str(btf, name_off))
			return FAIL(".BTF.ext: %s block names no section\n", kind_what[kind]);
		if (!(sec = sec_for(ext, btf_str(btf, name_off))) ||
		    add_recs(sec, kind, p + pos, n, rec_size))
			return -ENOMEM;
		pos += n * rec_size;
	}
	return 0;
}

static int check_all(const struct btf_ext *ext, const struct btf *btf, struct bpfvm_log *log)
{
	for (uint32_t s = 0; s < ext->nsecs; s++) {
		const struct btf_ext_sec *sec = &ext->secs[s];
		int err = 0;

		for (uint32_t i = 0; !err && i < sec->nfunc; i++)
			err = check_rec(btf, EXT_FUNC, &sec->func[i], log);
		for (uint32_t i = 0; !err && i < sec->ncore; i++)
			err = check_rec(btf, EXT_CORE, &sec->core[i], log);
		if (err)
			return err;
	}
	return 0;
}

struct btf_ext *btf_ext_parse(const void *data, size_t size, const struct btf *btf,
			      struct bpfvm_log *log)
{
	const uint8_t *d = data;
	struct ext_header h = { 0 };
	struct btf_ext *ext;
	int err = 0;

	if (size < 24) {
		log_printf(log, ".BTF.ext: %zu bytes is too short for its header\n", size);
		errno = EINVAL;
		return NULL;
	}
	memcpy(&h, d, size < sizeof(h) ? size : sizeof(h));
	if (h.magic != BTF_MAGIC || h.version != BTF_VERSION || h.hdr_len < 24 || h.hdr_len > size) {
		log_printf(log, ".BTF.ext: bad header (magic 0x%x, version %u, length %u)\n",
			   h.magic, h.version, h.hdr_len);
		errno = EINVAL;
		return NULL;
	}
	if (!(ext = calloc(1, sizeof(*ext)))) {
		errno = ENOMEM;
		return NULL;
	}
	for (int k = 0; k < 3 && !err; k++) {
		uint32_t off, len;
		size_t body = size - h.hdr_len;

		if (k == EXT_CORE && h.hdr_len < 32)
			break;
		off = rd32(d + 8 + 8 * k);
		len = rd32(d + 12 + 8 * k);
		if (off > body || len > body - off)
			err = FAIL(".BTF.ext: %s lies outside the section\n", kind_what[k]);
		else
			err = parse_kind(ext, btf, k, d + h.hdr_len + off, len, log);
	}
	if (!err)
		err = check_all(ext, btf, log);
	if (err) {
		btf_ext_free(ext);
		errno = -err;
		return NULL;
	}
	return ext;
}

void btf_ext_free(struct btf_ext *ext)
{
	if (!ext)
		return;
	for (uint32_t i = 0; i < ext->nsecs; i++) {
		free(ext->secs[i].func);
		free(ext->secs[i].line);
		free(ext->secs[i].core);
	}
	free(ext->secs);
	free(ext);
}

const struct btf_ext_sec *btf_ext_sec(const struct btf_ext *ext, const char *name)
{
	for (uint32_t i = 0; ext && i < ext->nsecs; i++)
		if (!strcmp(ext->secs[i].name, name))
			return &ext->secs[i];
	return NULL;
}
