/*
 * btf.c - parsing and querying BTF.  Parsing copies the type and string
 * sections into aligned buffers of their own (the input may sit at any
 * address, and a fuzzer's certainly does), walks the types once to index
 * them, and checks every offset and id, so queries need no bounds checks.
 */
#include "btf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../util/log.h"

struct btf {
	void *raw;                  /* header + types + strings, re-laid out; owns both */
	size_t raw_len;
	uint32_t *types;            /* the type section, in raw, 4-byte aligned */
	size_t types_len;
	char *strs;                 /* the string section, in raw after the types */
	size_t strs_len;
	const struct btf_type **by_id; /* [0] is NULL: void */
	uint32_t cnt;               /* ids 0..cnt-1 */
	uint32_t *by_name;          /* named type ids sorted by essential name */
	uint32_t nnamed;
};

/* Deeper chains than this are cycles (clang never nests modifiers so deep). */
#define BTF_MAX_CHAIN 64

static const char *const kind_names[NR_BTF_KINDS] = {
	"unknown", "int", "ptr", "array", "struct", "union", "enum", "fwd", "typedef",
	"volatile", "const", "restrict", "func", "func_proto", "var", "datasec", "float",
	"decl_tag", "type_tag", "enum64",
};

const char *btf_kind_name(unsigned kind)
{
	return kind < NR_BTF_KINDS ? kind_names[kind] : "unknown";
}

/* Bytes a type's records take after its header; -1 for an unknown kind. */
static long extra_size(const struct btf_type *t)
{
	unsigned vlen = btf_vlen(t);

	switch (btf_kind(t)) {
	case BTF_KIND_INT: return 4;
	case BTF_KIND_PTR: case BTF_KIND_FWD: case BTF_KIND_TYPEDEF: case BTF_KIND_VOLATILE:
	case BTF_KIND_CONST: case BTF_KIND_RESTRICT: case BTF_KIND_FUNC: case BTF_KIND_FLOAT:
	case BTF_KIND_TYPE_TAG:
		return 0;
	case BTF_KIND_ARRAY: return sizeof(struct btf_array);
	case BTF_KIND_STRUCT: case BTF_KIND_UNION: return (long)vlen * sizeof(struct btf_member);
	case BTF_KIND_ENUM: return (long)vlen * sizeof(struct btf_enum);
	case BTF_KIND_FUNC_PROTO: return (long)vlen * sizeof(struct btf_param);
	case BTF_KIND_VAR: return sizeof(struct btf_var);
	case BTF_KIND_DATASEC: return (long)vlen * sizeof(struct btf_var_secinfo);
	case BTF_KIND_DECL_TAG: return sizeof(struct btf_decl_tag);
	case BTF_KIND_ENUM64: return (long)vlen * sizeof(struct btf_enum64);
	default: return -1;
	}
}

#define FAIL(...) (log_printf(log, __VA_ARGS__), -EINVAL)

/* Index the types: count, then record where each starts. */
static int index_types(struct btf *btf, const char *what, struct bpfvm_log *log)
{
	size_t off = 0, n = 1;

	for (int pass = 0; pass < 2; pass++) {
		off = 0;
		n = 1;
		while (off < btf->types_len) {
			const struct btf_type *t = (const void *)((const char *)btf->types + off);
			long extra;

			if (btf->types_len - off < sizeof(*t))
				return FAIL("%s: type %zu is cut short at byte %zu\n", what, n, off);
			extra = extra_size(t);
			if (extra < 0)
				return FAIL("%s: type %zu has unknown kind %u\n", what, n, btf_kind(t));
			if ((size_t)extra > btf->types_len - off - sizeof(*t))
				return FAIL("%s: type %zu (%s) is cut short\n", what, n,
					    btf_kind_name(btf_kind(t)));
			if (n > BTF_MAX_TYPE)
				return FAIL("%s: more than %u types\n", what, BTF_MAX_TYPE);
			if (pass)
				btf->by_id[n] = t;
			off += sizeof(*t) + (size_t)extra;
			n++;
		}
		if (!pass && !(btf->by_id = calloc(n, sizeof(*btf->by_id))))
			return -ENOMEM;
	}
	btf->cnt = (uint32_t)n;
	return 0;
}

static bool name_ok(const struct btf *btf, uint32_t off)
{
	return off < btf->strs_len;
}

static bool id_ok(const struct btf *btf, uint32_t id)
{
	return id < btf->cnt;
}

/* Check one type's names and the ids it refers to. */
static int check_type(const struct btf *btf, uint32_t id, const char *what,
		      struct bpfvm_log *log)
{
	const struct btf_type *t = btf->by_id[id];
	unsigned kind = btf_kind(t), vlen = btf_vlen(t);
	bool ok = name_ok(btf, t->name_off);

	switch (kind) {
	case BTF_KIND_PTR: case BTF_KIND_TYPEDEF: case BTF_KIND_VOLATILE: case BTF_KIND_CONST:
	case BTF_KIND_RESTRICT: case BTF_KIND_FUNC: case BTF_KIND_VAR: case BTF_KIND_DECL_TAG:
	case BTF_KIND_TYPE_TAG: case BTF_KIND_FUNC_PROTO:
		ok = ok && id_ok(btf, t->type) && t->type != id;
		break;
	case BTF_KIND_ARRAY:
		ok = ok && id_ok(btf, btf_array(t)->type) && id_ok(btf, btf_array(t)->index_type) &&
		     btf_array(t)->type != id;
		break;
	default: break;
	}
	for (unsigned i = 0; ok && i < vlen; i++) {
		switch (kind) {
		case BTF_KIND_STRUCT: case BTF_KIND_UNION:
			ok = name_ok(btf, btf_members(t)[i].name_off) &&
			     id_ok(btf, btf_members(t)[i].type);
			break;
		case BTF_KIND_ENUM: ok = name_ok(btf, btf_enums(t)[i].name_off); break;
		case BTF_KIND_ENUM64: ok = name_ok(btf, btf_enums64(t)[i].name_off); break;
		case BTF_KIND_FUNC_PROTO:
			ok = name_ok(btf, btf_params(t)[i].name_off) &&
			     id_ok(btf, btf_params(t)[i].type);
			break;
		case BTF_KIND_DATASEC: ok = id_ok(btf, btf_secinfos(t)[i].type); break;
		default: break;
		}
	}
	if (!ok)
		return FAIL("%s: type %u (%s '%s') refers to a name or type that does not exist\n",
			    what, id, btf_kind_name(kind), btf_str(btf, t->name_off));
	return 0;
}

/*
 * Keep one canonical copy, header, types, strings, as the kernel wants it
 * loaded: the types and strings are read in place there, so vmlinux's
 * megabytes are copied once.
 */
static int lay_out_raw(struct btf *btf, const uint8_t *types, size_t types_len,
		       const uint8_t *strs, size_t strs_len, uint8_t **owned)
{
	struct btf_header h = {
		.magic = BTF_MAGIC, .version = BTF_VERSION, .hdr_len = sizeof(h),
		.type_off = 0, .type_len = (uint32_t)types_len,
		.str_off = (uint32_t)types_len, .str_len = (uint32_t)strs_len,
	};
	char *raw;

	btf->raw_len = sizeof(h) + types_len + strs_len;
	if (owned && *owned && types == *owned + sizeof(h) && strs == types + types_len) {
		raw = btf->raw = *owned;        /* already canonical: adopt it */
		*owned = NULL;
	} else {
		raw = btf->raw = malloc(btf->raw_len);
		if (!raw)
			return -ENOMEM;
		memcpy(raw + sizeof(h), types, types_len);
		memcpy(raw + sizeof(h) + types_len, strs, strs_len);
	}
	memcpy(raw, &h, sizeof(h));
	btf->types = (uint32_t *)(raw + sizeof(h));
	btf->types_len = types_len;
	btf->strs = raw + sizeof(h) + types_len;
	btf->strs_len = strs_len;
	return 0;
}

static int copy_sections(struct btf *btf, const uint8_t *data, size_t size, uint8_t **owned,
			 const char *what, struct bpfvm_log *log)
{
	struct btf_header h;
	size_t body;

	if (size < sizeof(h))
		return FAIL("%s: %zu bytes is too short for a BTF header\n", what, size);
	memcpy(&h, data, sizeof(h));
	if (h.magic == __builtin_bswap16(BTF_MAGIC))
		return FAIL("%s: BTF of the other byte order is not supported\n", what);
	if (h.magic != BTF_MAGIC)
		return FAIL("%s: bad BTF magic 0x%x\n", what, h.magic);
	if (h.version != BTF_VERSION)
		return FAIL("%s: unsupported BTF version %u\n", what, h.version);
	if (h.hdr_len < sizeof(h) || h.hdr_len > size)
		return FAIL("%s: BTF header length %u is out of range\n", what, h.hdr_len);
	body = size - h.hdr_len;
	if (h.type_off > body || h.type_len > body - h.type_off || h.str_off > body ||
	    h.str_len > body - h.str_off)
		return FAIL("%s: BTF type or string section lies outside the data\n", what);
	if (h.type_off % 4)
		return FAIL("%s: BTF type section is not 4-byte aligned\n", what);
	if (!h.str_len || data[h.hdr_len + h.str_off + h.str_len - 1] ||
	    data[h.hdr_len + h.str_off])
		return FAIL("%s: BTF string section must start and end with a NUL\n", what);
	return lay_out_raw(btf, data + h.hdr_len + h.type_off, h.type_len,
			   data + h.hdr_len + h.str_off, h.str_len, owned);
}

/*
 * The essential name: what precedes a "___" suffix (CO-RE's way of naming
 * local flavours of one kernel type, "task_struct___old").
 */
size_t btf_essential_len(const char *name)
{
	const char *s = strstr(name, "___");

	return s ? (size_t)(s - name) : strlen(name);
}

static int cmp_ess(const char *a, size_t la, const char *b, size_t lb)
{
	int c = memcmp(a, b, la < lb ? la : lb);

	return c ? c : (la > lb) - (la < lb);
}

struct name_sort {
	const struct btf *btf;
	const uint32_t *ess_len;    /* by id: the essential name's length */
};

static int cmp_ids(const void *a, const void *b, void *arg)
{
	const struct name_sort *ns = arg;
	uint32_t ia = *(const uint32_t *)a, ib = *(const uint32_t *)b;
	int c = cmp_ess(btf_str(ns->btf, ns->btf->by_id[ia]->name_off), ns->ess_len[ia],
			btf_str(ns->btf, ns->btf->by_id[ib]->name_off), ns->ess_len[ib]);

	return c ? c : (ia > ib) - (ia < ib);
}

/*
 * Sort the named types by essential name, for CO-RE's candidate search.
 * Each name's essential length is found once, not at every comparison:
 * vmlinux has some 100,000 named types.
 */
static int index_names(struct btf *btf)
{
	uint32_t *ess_len = malloc(btf->cnt * sizeof(*ess_len));
	struct name_sort ns = { btf, ess_len };

	btf->by_name = malloc(btf->cnt * sizeof(*btf->by_name));
	if (!btf->by_name || !ess_len) {
		free(ess_len);
		return -ENOMEM;
	}
	for (uint32_t id = 1; id < btf->cnt; id++) {
		if (!btf->by_id[id]->name_off)
			continue;
		ess_len[id] = (uint32_t)btf_essential_len(btf_str(btf, btf->by_id[id]->name_off));
		btf->by_name[btf->nnamed++] = id;
	}
	qsort_r(btf->by_name, btf->nnamed, sizeof(*btf->by_name), cmp_ids, &ns);
	free(ess_len);
	return 0;
}

uint32_t btf_find_by_ess_name(const struct btf *btf, const char *name, size_t len,
			      const uint32_t **ids)
{
	uint32_t lo = 0, hi = btf->nnamed, first;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		const char *n = btf_str(btf, btf->by_id[btf->by_name[mid]]->name_off);

		if (cmp_ess(n, btf_essential_len(n), name, len) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	first = lo;
	while (lo < btf->nnamed) {
		const char *n = btf_str(btf, btf->by_id[btf->by_name[lo]]->name_off);
		if (cmp_ess(n, btf_essential_len(n), name, len))
			break;
		lo++;
	}
	*ids = btf->by_name ? btf->by_name + first : NULL;
	return lo - first;
}

/* Parse data; *owned, if given, is data's malloc'd buffer, taken when it can be kept. */
static struct btf *parse(const void *data, size_t size, uint8_t **owned, const char *what,
			 struct bpfvm_log *log)
{
	struct btf *btf = calloc(1, sizeof(*btf));
	int err;

	if (!btf) {
		errno = ENOMEM;
		return NULL;
	}
	err = copy_sections(btf, data, size, owned, what, log);
	if (!err)
		err = index_types(btf, what, log);
	for (uint32_t id = 1; !err && id < btf->cnt; id++)
		err = check_type(btf, id, what, log);
	if (!err)
		err = index_names(btf);
	if (err) {
		btf_free(btf);
		errno = -err;
		return NULL;
	}
	return btf;
}

struct btf *btf_parse(const void *data, size_t size, const char *what, struct bpfvm_log *log)
{
	return parse(data, size, NULL, what, log);
}

void btf_free(struct btf *btf)
{
	if (!btf)
		return;
	free(btf->by_id);
	free(btf->raw);
	free(btf->by_name);
	free(btf);
}

uint32_t btf_type_cnt(const struct btf *btf)
{
	return btf->cnt;
}

const struct btf_type *btf_type(const struct btf *btf, uint32_t id)
{
	return id && id < btf->cnt ? btf->by_id[id] : NULL;
}

const char *btf_str(const struct btf *btf, uint32_t off)
{
	return off < btf->strs_len ? btf->strs + off : "";
}

const char *btf_name(const struct btf *btf, const struct btf_type *t)
{
	return t ? btf_str(btf, t->name_off) : "void";
}

int btf_fix_datasec(struct btf *btf, uint32_t id, uint32_t size, const uint32_t *offsets)
{
	struct btf_type *t = (struct btf_type *)btf_type(btf, id);
	struct btf_var_secinfo *v;
	unsigned n;

	if (!t || btf_kind(t) != BTF_KIND_DATASEC)
		return -EINVAL;
	v = (struct btf_var_secinfo *)(t + 1);
	n = btf_vlen(t);
	t->size = size;
	for (unsigned i = 0; i < n; i++)
		v[i].offset = offsets[i];
	/* In offset order, as libbpf leaves them (insertion sort: sections hold few). */
	for (unsigned i = 1; i < n; i++) {
		struct btf_var_secinfo x = v[i];
		unsigned k = i;

		for (; k > 0 && v[k - 1].offset > x.offset; k--)
			v[k] = v[k - 1];
		v[k] = x;
	}
	return 0;
}

const void *btf_raw(const struct btf *btf, size_t *size)
{
	*size = btf->raw_len;
	return btf->raw;
}

static bool is_mod(unsigned kind)
{
	return kind == BTF_KIND_TYPEDEF || kind == BTF_KIND_CONST || kind == BTF_KIND_VOLATILE ||
	       kind == BTF_KIND_RESTRICT || kind == BTF_KIND_TYPE_TAG;
}

uint32_t btf_skip_mods(const struct btf *btf, uint32_t id)
{
	for (int depth = 0; depth < BTF_MAX_CHAIN; depth++) {
		const struct btf_type *t = btf_type(btf, id);

		if (!t || !is_mod(btf_kind(t)))
			return id;
		id = t->type;
	}
	return 0;
}

int64_t btf_type_size(const struct btf *btf, uint32_t id)
{
	uint64_t mult = 1;

	for (int depth = 0; depth < BTF_MAX_CHAIN; depth++) {
		const struct btf_type *t = btf_type(btf, id);

		if (!t)
			return -EINVAL;
		switch (btf_kind(t)) {
		case BTF_KIND_INT: case BTF_KIND_STRUCT: case BTF_KIND_UNION: case BTF_KIND_ENUM:
		case BTF_KIND_ENUM64: case BTF_KIND_DATASEC: case BTF_KIND_FLOAT:
			if (mult * t->size > UINT32_MAX)
				return -E2BIG;
			return (int64_t)(mult * t->size);
		case BTF_KIND_PTR:
			return (int64_t)(mult * 8);
		case BTF_KIND_ARRAY:
			mult *= btf_array(t)->nelems;
			if (mult > UINT32_MAX)
				return -E2BIG;
			id = btf_array(t)->type;
			break;
		case BTF_KIND_VAR:
		default:
			if (!is_mod(btf_kind(t)) && btf_kind(t) != BTF_KIND_VAR)
				return -EINVAL;
			id = t->type;
			break;
		}
	}
	return -ELOOP;
}

static int64_t align_of(const struct btf *btf, uint32_t id, int depth)
{
	for (; depth < BTF_MAX_CHAIN; depth++) {
		const struct btf_type *t = btf_type(btf, id);
		int64_t max = 1;

		if (!t)
			return -EINVAL;
		switch (btf_kind(t)) {
		case BTF_KIND_INT: case BTF_KIND_ENUM: case BTF_KIND_ENUM64: case BTF_KIND_FLOAT:
			return t->size < 8 ? (t->size ? t->size : 1) : 8;
		case BTF_KIND_PTR: return 8;
		case BTF_KIND_ARRAY: id = btf_array(t)->type; break;
		case BTF_KIND_STRUCT: case BTF_KIND_UNION:
			for (unsigned i = 0; i < btf_vlen(t); i++) {
				int64_t a = align_of(btf, btf_members(t)[i].type, depth + 1);
				if (a < 0)
					return a;
				max = a > max ? a : max;
			}
			return max;
		default:
			if (!is_mod(btf_kind(t)) && btf_kind(t) != BTF_KIND_VAR)
				return -EINVAL;
			id = t->type;
			break;
		}
	}
	return -ELOOP;
}

int64_t btf_type_align(const struct btf *btf, uint32_t id)
{
	return align_of(btf, id, 0);
}

uint32_t btf_find(const struct btf *btf, const char *name, unsigned kind)
{
	for (uint32_t id = 1; id < btf->cnt; id++) {
		const struct btf_type *t = btf->by_id[id];

		if (btf_kind(t) == kind && !strcmp(btf_str(btf, t->name_off), name))
			return id;
	}
	return 0;
}

struct btf *btf_load_file(const char *path, struct bpfvm_log *log)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0;
	struct btf *btf = NULL;
	struct stat st;
	int err = EINVAL;

	if (!f)
		return NULL;
	/* sysfs gives vmlinux's size: one read into one buffer, no regrowing */
	if (fstat(fileno(f), &st) == 0 && st.st_size > 0 && st.st_size < (1 << 30))
		cap = (size_t)st.st_size + 1;
	for (;;) {
		size_t got;

		if (len == cap || !buf) {
			uint8_t *grown = realloc(buf, cap = len == cap ? (cap ? cap * 2 : 1 << 20) : cap);

			if (!grown) {
				err = ENOMEM;
				break;
			}
			buf = grown;
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (!got)
			break;
	}
	fclose(f);
	if (buf && len)
		btf = parse(buf, len, &buf, path, log);
	else if (err == EINVAL)
		log_printf(log, "%s: empty or unreadable\n", path);
	free(buf);
	if (!btf && !errno)
		errno = err;
	return btf;
}
