/*
 * btf_core.c - CO-RE ("compile once, run everywhere") relocation: a
 * program compiled against one kernel's types names, in .BTF.ext, each
 * instruction that holds a field offset or size, a type's size or id, or
 * an enumerator's value, by a root type and an access path ("0:1:2": the
 * root indexed as an array, then member 1, then element or member 2).
 * Resolving it finds the same path in the target's BTF by name and
 * computes the value the target needs.
 *
 * Matching follows the documented CO-RE rules: candidates are target
 * types of the same kind whose name equals the local one without its
 * "___flavour" suffix; named members are found by name, through anonymous
 * structs and unions; anonymous local members match positionally; the
 * field reached must be compatible (both composite, both integral, both
 * pointers, both floats, arrays of compatible elements); every candidate
 * that matches must give the same value.
 */
#include "btf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/log.h"

#define MAX_SPEC 64
#define MAX_DEPTH 32

static const char *const core_kind_names[] = {
	"byte_off", "byte_sz", "field_exists", "signed", "lshift_u64", "rshift_u64",
	"local_type_id", "target_type_id", "type_exists", "type_size", "enumval_exists",
	"enumval_value", "type_matches",
};

const char *btf_core_kind_name(enum btf_core_kind kind)
{
	return (unsigned)kind < sizeof(core_kind_names) / sizeof(core_kind_names[0])
		       ? core_kind_names[kind] : "unknown";
}

static bool is_field_kind(enum btf_core_kind k)
{
	return k <= BTF_CORE_FIELD_RSHIFT_U64;
}

static bool is_enum_kind(enum btf_core_kind k)
{
	return k == BTF_CORE_ENUMVAL_EXISTS || k == BTF_CORE_ENUMVAL_VALUE;
}

static bool is_composite(const struct btf_type *t)
{
	return t && (btf_kind(t) == BTF_KIND_STRUCT || btf_kind(t) == BTF_KIND_UNION);
}

static bool is_enum(const struct btf_type *t)
{
	return t && (btf_kind(t) == BTF_KIND_ENUM || btf_kind(t) == BTF_KIND_ENUM64);
}

static bool is_integral(const struct btf_type *t)
{
	return t && (btf_kind(t) == BTF_KIND_INT || is_enum(t));
}

/* Parse "0:1:2" into idx[]; the count, or -1. */
static int parse_spec(const char *s, uint32_t *idx)
{
	int n = 0;

	while (*s) {
		char *end;
		unsigned long v = strtoul(s, &end, 10);

		if (end == s || v > UINT32_MAX || n == MAX_SPEC)
			return -1;
		idx[n++] = (uint32_t)v;
		s = end;
		if (*s == ':')
			s++;
		else if (*s)
			return -1;
	}
	return n ? n : -1;
}

/* Where an access path ends: the field's type and bit position. */
struct field {
	uint32_t type;       /* the field's type id (not skipped) */
	uint64_t bit_off;
	uint32_t bitfield;   /* bits, 0 unless a bitfield */
};

/* Walk the path on local BTF, by indices. */
static int walk_local(const struct btf *btf, uint32_t root, const uint32_t *idx, int n,
		      struct field *f, const char **names)
{
	int64_t sz = btf_type_size(btf, root);

	if (sz < 0 && idx[0])
		return -1;
	f->type = root;
	f->bit_off = (uint64_t)idx[0] * (uint64_t)(sz < 0 ? 0 : sz) * 8;
	f->bitfield = 0;
	for (int i = 1; i < n; i++) {
		const struct btf_type *t = btf_type(btf, btf_skip_mods(btf, f->type));

		names[i] = NULL;
		if (is_composite(t)) {
			const struct btf_member *m;

			if (idx[i] >= btf_vlen(t))
				return -1;
			m = &btf_members(t)[idx[i]];
			f->bit_off += btf_member_bit_offset(t, m);
			f->bitfield = btf_member_bitfield_size(t, m);
			f->type = m->type;
			names[i] = btf_str(btf, m->name_off);
		} else if (t && btf_kind(t) == BTF_KIND_ARRAY) {
			int64_t esz = btf_type_size(btf, btf_array(t)->type);

			if (esz < 0)
				return -1;
			f->bit_off += (uint64_t)idx[i] * (uint64_t)esz * 8;
			f->type = btf_array(t)->type;
			f->bitfield = 0;
		} else {
			return -1;
		}
	}
	return 0;
}

/* Find a member by name in a target struct, through anonymous members. */
static bool find_member(const struct btf *btf, uint32_t id, const char *name, int depth,
			struct field *f)
{
	const struct btf_type *t = btf_type(btf, btf_skip_mods(btf, id));

	if (!is_composite(t) || depth > MAX_DEPTH)
		return false;
	for (unsigned i = 0; i < btf_vlen(t); i++) {
		const struct btf_member *m = &btf_members(t)[i];
		const char *mn = btf_str(btf, m->name_off);

		if (*mn && !strcmp(mn, name)) {
			f->bit_off += btf_member_bit_offset(t, m);
			f->bitfield = btf_member_bitfield_size(t, m);
			f->type = m->type;
			return true;
		}
		if (!*mn) {
			struct field sub = { .bit_off = f->bit_off + btf_member_bit_offset(t, m) };

			if (find_member(btf, m->type, name, depth + 1, &sub)) {
				*f = sub;
				return true;
			}
		}
	}
	return false;
}

static bool fields_compat(const struct btf *lb, uint32_t lid, const struct btf *tb, uint32_t tid,
			  int depth)
{
	const struct btf_type *l = btf_type(lb, btf_skip_mods(lb, lid));
	const struct btf_type *t = btf_type(tb, btf_skip_mods(tb, tid));

	if (depth > MAX_DEPTH || !l || !t)
		return !l && !t;
	if (is_composite(l) || btf_kind(l) == BTF_KIND_FWD)
		return is_composite(t) || btf_kind(t) == BTF_KIND_FWD;
	if (is_integral(l))
		return is_integral(t);
	if (btf_kind(l) != btf_kind(t))
		return false;
	if (btf_kind(l) == BTF_KIND_ARRAY)
		return fields_compat(lb, btf_array(l)->type, tb, btf_array(t)->type, depth + 1);
	return btf_kind(l) == BTF_KIND_PTR || btf_kind(l) == BTF_KIND_FLOAT;
}

/* Walk the local path on a target candidate, by names. */
static bool walk_target(const struct btf *lb, uint32_t lroot, const uint32_t *idx, int n,
			const struct btf *tb, uint32_t troot, struct field *f)
{
	int64_t sz = btf_type_size(tb, troot);
	uint32_t lcur = lroot;

	if (idx[0] && sz < 0)
		return false;
	*f = (struct field){ .type = troot, .bit_off = (uint64_t)idx[0] * (uint64_t)(sz < 0 ? 0 : sz) * 8 };
	for (int i = 1; i < n; i++) {
		const struct btf_type *lt = btf_type(lb, btf_skip_mods(lb, lcur));
		const struct btf_type *tt = btf_type(tb, btf_skip_mods(tb, f->type));

		if (is_composite(lt)) {
			const struct btf_member *m = &btf_members(lt)[idx[i]];
			const char *name = btf_str(lb, m->name_off);

			lcur = m->type;
			if (!*name) {
				/* an anonymous local member: the same position in the target */
				if (!is_composite(tt) || idx[i] >= btf_vlen(tt))
					return false;
				f->bit_off += btf_member_bit_offset(tt, &btf_members(tt)[idx[i]]);
				f->type = btf_members(tt)[idx[i]].type;
				f->bitfield = 0;
				continue;
			}
			if (!find_member(tb, f->type, name, 0, f))
				return false;
		} else {
			int64_t esz;

			if (!tt || btf_kind(tt) != BTF_KIND_ARRAY)
				return false;
			if (btf_array(tt)->nelems && idx[i] >= btf_array(tt)->nelems)
				return false;
			esz = btf_type_size(tb, btf_array(tt)->type);
			if (esz < 0)
				return false;
			lcur = btf_array(lt)->type;
			f->bit_off += (uint64_t)idx[i] * (uint64_t)esz * 8;
			f->type = btf_array(tt)->type;
			f->bitfield = 0;
		}
	}
	return fields_compat(lb, lcur, tb, f->type, 0);
}

/* The value a field relocation asks for, from where the field lies. */
static int field_value(const struct btf *btf, const struct field *f, enum btf_core_kind kind,
		       uint64_t *val, uint32_t *size)
{
	const struct btf_type *mt = btf_type(btf, btf_skip_mods(btf, f->type));
	int64_t tsz = btf_type_size(btf, f->type);
	uint64_t byte_off, byte_sz;

	if (tsz < 0)
		tsz = 0;
	byte_sz = (uint64_t)tsz;
	byte_off = f->bit_off / 8;
	if (f->bitfield) {
		/* the smallest aligned load that covers the bits */
		if (!byte_sz)
			return -1;
		byte_off = f->bit_off / 8 / byte_sz * byte_sz;
		while (f->bit_off + f->bitfield - byte_off * 8 > byte_sz * 8) {
			if (byte_sz >= 8)
				return -1;
			byte_sz *= 2;
			byte_off = f->bit_off / 8 / byte_sz * byte_sz;
		}
	} else if (f->bit_off % 8) {
		return -1;
	}
	*size = (uint32_t)byte_sz;
	switch (kind) {
	case BTF_CORE_FIELD_BYTE_OFFSET: *val = byte_off; break;
	case BTF_CORE_FIELD_BYTE_SIZE: *val = byte_sz; break;
	case BTF_CORE_FIELD_EXISTS: *val = 1; break;
	case BTF_CORE_FIELD_SIGNED:
		*val = (is_enum(mt) && btf_kflag(mt)) ||
		       (mt && btf_kind(mt) == BTF_KIND_INT && (btf_int_encoding(mt) & BTF_INT_SIGNED));
		break;
	case BTF_CORE_FIELD_LSHIFT_U64:
		*val = f->bitfield ? 64 - (f->bit_off + f->bitfield - byte_off * 8) : 64 - byte_sz * 8;
		break;
	case BTF_CORE_FIELD_RSHIFT_U64:
		*val = f->bitfield ? 64 - f->bitfield : 64 - byte_sz * 8;
		break;
	default: return -1;
	}
	return 0;
}

/* An enumerator's value by index (local) or name (target). */
static bool enum_value(const struct btf *btf, const struct btf_type *t, uint32_t idx,
		       const char *name, uint64_t *val, const char **found)
{
	for (uint32_t i = 0; i < btf_vlen(t); i++) {
		bool is64 = btf_kind(t) == BTF_KIND_ENUM64;
		uint32_t noff = is64 ? btf_enums64(t)[i].name_off : btf_enums(t)[i].name_off;

		if (name ? strcmp(btf_str(btf, noff), name) : i != idx)
			continue;
		*val = is64 ? ((uint64_t)btf_enums64(t)[i].val_hi32 << 32 | btf_enums64(t)[i].val_lo32)
			    : (uint64_t)(int64_t)btf_enums(t)[i].val;
		if (found)
			*found = btf_str(btf, noff);
		return true;
	}
	return false;
}

/* Are two types the same shape, for the type-based relocations? */
static bool types_compat(const struct btf *lb, uint32_t lid, const struct btf *tb, uint32_t tid,
			 int depth)
{
	const struct btf_type *l = btf_type(lb, btf_skip_mods(lb, lid));
	const struct btf_type *t = btf_type(tb, btf_skip_mods(tb, tid));

	if (depth > MAX_DEPTH || !l || !t)
		return !l && !t;
	if (is_enum(l) && is_enum(t))
		return true;
	if (btf_kind(l) != btf_kind(t))
		return false;
	switch (btf_kind(l)) {
	case BTF_KIND_INT: return btf_int_encoding(l) == btf_int_encoding(t) && l->size == t->size;
	case BTF_KIND_PTR: return types_compat(lb, l->type, tb, t->type, depth + 1);
	case BTF_KIND_ARRAY:
		return types_compat(lb, btf_array(l)->type, tb, btf_array(t)->type, depth + 1);
	case BTF_KIND_FUNC_PROTO:
		if (btf_vlen(l) != btf_vlen(t) || !types_compat(lb, l->type, tb, t->type, depth + 1))
			return false;
		for (unsigned i = 0; i < btf_vlen(l); i++)
			if (!types_compat(lb, btf_params(l)[i].type, tb, btf_params(t)[i].type, depth + 1))
				return false;
		return true;
	default: return true; /* struct, union, fwd, float: by name, checked by the caller */
	}
}

struct core_ctx {
	const struct btf *local, *target;
	uint32_t root;
	uint32_t idx[MAX_SPEC];
	int n;
	enum btf_core_kind kind;
};

/* The value a candidate gives; false when it does not match. */
static bool candidate_value(const struct core_ctx *c, uint32_t cand, uint64_t *val, uint32_t *size)
{
	const struct btf_type *lt = btf_type(c->local, c->root);
	const struct btf_type *tt = btf_type(c->target, cand);
	struct field f;

	*size = 0;
	if (is_field_kind(c->kind))
		return walk_target(c->local, c->root, c->idx, c->n, c->target, cand, &f) &&
		       field_value(c->target, &f, c->kind, val, size) == 0;
	if (is_enum_kind(c->kind)) {
		uint64_t lv;
		const char *name;

		if (!is_enum(tt) || !enum_value(c->local, lt, c->idx[0], NULL, &lv, &name))
			return false;
		if (!enum_value(c->target, tt, 0, name, val, NULL))
			return false;
		if (c->kind == BTF_CORE_ENUMVAL_EXISTS)
			*val = 1;
		return true;
	}
	if (!types_compat(c->local, c->root, c->target, cand, 0))
		return false;
	switch (c->kind) {
	case BTF_CORE_TYPE_ID_TARGET: *val = cand; return true;
	case BTF_CORE_TYPE_SIZE: {
		int64_t sz = btf_type_size(c->target, cand);
		*val = sz < 0 ? 0 : (uint64_t)sz;
		return sz >= 0;
	}
	default: *val = 1; return true; /* type exists, type matches */
	}
}

/* The local program's own value. */
static int local_value(const struct core_ctx *c, uint64_t *val, uint32_t *size, bool *validate)
{
	const struct btf_type *lt = btf_type(c->local, c->root);
	const char *names[MAX_SPEC];
	struct field f;

	*size = 0;
	*validate = true;
	if (is_field_kind(c->kind)) {
		if (walk_local(c->local, c->root, c->idx, c->n, &f, names) ||
		    field_value(c->local, &f, c->kind, val, size))
			return -1;
		*validate = !f.bitfield;
		return 0;
	}
	if (is_enum_kind(c->kind)) {
		if (!is_enum(lt) || !enum_value(c->local, lt, c->idx[0], NULL, val, NULL))
			return -1;
		if (c->kind == BTF_CORE_ENUMVAL_EXISTS)
			*val = 1;
		return 0;
	}
	if (c->kind == BTF_CORE_TYPE_SIZE) {
		int64_t sz = btf_type_size(c->local, c->root);
		*val = sz < 0 ? 0 : (uint64_t)sz;
		return 0;
	}
	*val = c->kind == BTF_CORE_TYPE_ID_LOCAL || c->kind == BTF_CORE_TYPE_ID_TARGET ? c->root : 1;
	return 0;
}

/*
 * What the relocation names, in C's words: "struct task_struct.se.cfs_rq"
 * for a field (members by name, array elements by index), "enum e::V"
 * for an enumerator, "struct s" for a type.
 */
static void describe(const struct core_ctx *c, char *out, size_t size)
{
	const struct btf_type *lt = btf_type(c->local, c->root);
	size_t len = (size_t)snprintf(out, size, "%s %s", btf_kind_name(btf_kind(lt)),
				      btf_name(c->local, lt));
	uint32_t id = c->root;

#define APPEND(...) 	(len < size ? len += (size_t)snprintf(out + len, size - len, __VA_ARGS__) : len)
	if (is_enum_kind(c->kind)) {
		uint64_t v;
		const char *name = NULL;

		if (is_enum(lt) && enum_value(c->local, lt, c->idx[0], NULL, &v, &name))
			APPEND("::%s", name);
		return;
	}
	if (!is_field_kind(c->kind))
		return;
	if (c->idx[0])
		APPEND("[%u]", c->idx[0]);
	for (int i = 1; i < c->n; i++) {
		const struct btf_type *t = btf_type(c->local, btf_skip_mods(c->local, id));

		if (is_composite(t) && c->idx[i] < btf_vlen(t)) {
			const struct btf_member *m = &btf_members(t)[c->idx[i]];
			const char *name = btf_str(c->local, m->name_off);

			APPEND(".%s", name[0] ? name : "<anon>");
			id = m->type;
		} else if (t && btf_kind(t) == BTF_KIND_ARRAY) {
			APPEND("[%u]", c->idx[i]);
			id = btf_array(t)->type;
		} else {
			return;
		}
	}
#undef APPEND
}

static void missing(struct btf_core_res *res, const struct core_ctx *c, const char *spec)
{
	bool exists_kind = c->kind == BTF_CORE_FIELD_EXISTS || c->kind == BTF_CORE_TYPE_EXISTS ||
			   c->kind == BTF_CORE_ENUMVAL_EXISTS || c->kind == BTF_CORE_TYPE_MATCHES;
	char what[sizeof(res->why) - 32];

	res->value = 0;
	res->poison = !exists_kind;
	describe(c, what, sizeof(what));
	snprintf(res->why, sizeof(res->why), "%s (access %s)", what, spec);
}

/* Try every target type of the root's essential name; all matches must agree. */
static int match_candidates(struct core_ctx *c, const char *spec, struct btf_core_res *res,
			    struct bpfvm_log *log)
{
	const struct btf_type *lt = btf_type(c->local, c->root);
	const char *name = btf_name(c->local, lt);
	const uint32_t *ids;
	uint32_t n = btf_find_by_ess_name(c->target, name, btf_essential_len(name), &ids);
	bool found = false;

	for (uint32_t i = 0; i < n; i++) {
		const struct btf_type *tt = btf_type(c->target, ids[i]);
		uint64_t v;
		uint32_t sz;

		if (btf_kind(tt) != btf_kind(lt) && !(is_enum(lt) && is_enum(tt)) &&
		    !(is_composite(lt) && is_composite(tt) && is_field_kind(c->kind)))
			continue;
		if (!candidate_value(c, ids[i], &v, &sz))
			continue;
		if (found && v != res->value && c->kind != BTF_CORE_TYPE_ID_TARGET) {
			log_printf(log, "CO-RE relocation %s of '%s' (access %s): target candidates "
					"disagree (%llu, %llu)\n", btf_core_kind_name(c->kind), name,
				   spec, (unsigned long long)res->value, (unsigned long long)v);
			return -EINVAL;
		}
		if (!found) {
			res->value = v;
			res->new_size = sz;
		}
		found = true;
	}
	if (!found)
		missing(res, c, spec);
	return 0;
}

int btf_core_resolve(const struct btf *local, uint32_t type_id, const char *spec,
		     enum btf_core_kind kind, const struct btf *target,
		     struct btf_core_res *res, struct bpfvm_log *log)
{
	struct core_ctx c = { .local = local, .target = target, .kind = kind };
	const struct btf_type *lt;

	memset(res, 0, sizeof(*res));
	c.root = btf_skip_mods(local, type_id);
	lt = btf_type(local, c.root);
	c.n = parse_spec(spec, c.idx);
	if (c.n < 0 || !lt || (!is_field_kind(kind) && c.n != 1) ||
	    local_value(&c, &res->orig, &res->orig_size, &res->validate)) {
		log_printf(log, "CO-RE relocation %s: malformed access '%s' on type %u\n",
			   btf_core_kind_name(kind), spec, type_id);
		return -EINVAL;
	}
	if (kind == BTF_CORE_TYPE_ID_LOCAL) {
		res->value = res->orig;
		return 0;
	}
	if (!btf_name(local, lt)[0]) {
		log_printf(log, "CO-RE relocation %s: root type %u has no name to match by\n",
			   btf_core_kind_name(kind), type_id);
		return -EINVAL;
	}
	return match_candidates(&c, spec, res, log);
}
