/*
 * elf_maps.c - the maps an object defines, in libbpf's order: legacy
 * definitions (the "maps" section, struct bpf_map_def), BTF-defined maps
 * (the ".maps" section, described by BTF: __uint(), __type(), __array()),
 * one array map per global data section (.data, .rodata, .bss and their
 * ".name" variants), and the .kconfig map of the extern variables.
 *
 * A BTF-defined map is a struct whose members encode the definition in
 * their types: __uint(name, N) is `int (*name)[N]`, __type(key, T) is
 * `T *key`, __array(values, struct inner) is `struct inner *values[]`.
 * The map-in-map's inner struct is itself such a definition; initial
 * values of map-in-maps and program arrays are relocations in .maps.
 */
#include <errno.h>
#include <gelf.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "obj.h"

#define R_BPF_64_ABS64 2
#define BPF_OBJ_NAME_LEN_ 16

void obj_free_map(struct omap *m)
{
	if (!m)
		return;
	if (m->inner) {
		obj_free_map(m->inner);
		free(m->inner);
	}
	free(m->name);
	free(m->section);
	free(m->init);
	free(m->slots);
}

static struct omap *new_map(struct bpfvm_object *obj, const char *name, const char *section,
			    enum omap_kind kind, int sec, uint64_t sec_off)
{
	struct omap *grown = realloc(obj->maps, (obj->nmaps + 1) * sizeof(*grown)), *m;

	if (!grown)
		return NULL;
	obj->maps = grown;
	m = &grown[obj->nmaps];
	memset(m, 0, sizeof(*m));
	m->name = strdup(name);
	m->section = strdup(section);
	if (!m->name || !m->section) {
		obj_free_map(m);
		return NULL;
	}
	m->kind = kind;
	m->sec = sec;
	m->sec_off = sec_off;
	m->desc.global_data = kind != OMAP_USER;
	obj->nmaps++;
	return m;
}

/* ---- legacy maps ------------------------------------------------------------ */

static int legacy_maps(struct bpfvm_object *obj)
{
	int sec = obj_sec_by_name(obj, "maps");
	const struct osec *s = sec > 0 ? &obj->secs[sec] : NULL;
	size_t nr = 0, def_sz;

	if (!s || s->kind != OSEC_LEGACY_MAPS)
		return 0;
	for (size_t i = 0; i < obj->nsyms; i++)
		nr += obj->syms[i].shndx == (uint32_t)sec && obj->syms[i].type != STT_SECTION;
	if (!nr || s->size % nr) {
		obj_err(obj, "section maps: %zu bytes do not divide among %zu map definitions\n",
			s->size, nr);
		return -EINVAL;
	}
	def_sz = s->size / nr;
	for (size_t i = 0; i < obj->nsyms; i++) {
		const struct osym *sym = &obj->syms[i];
		uint32_t def[5] = { 0 };
		struct omap *m;

		if (sym->shndx != (uint32_t)sec || sym->type == STT_SECTION)
			continue;
		if (sym->value > s->size - def_sz || sym->value % 4) {
			obj_err(obj, "section maps: map '%s' lies outside the section\n", sym->name);
			return -EINVAL;
		}
		memcpy(def, s->data + sym->value, def_sz < sizeof(def) ? def_sz : sizeof(def));
		for (size_t b = sizeof(def); b < def_sz; b++) {
			if (s->data[sym->value + b]) {
				obj_err(obj, "section maps: map '%s' has fields past struct bpf_map_def "
					     "that bpfvm does not know\n", sym->name);
				return -EINVAL;
			}
		}
		if (!(m = new_map(obj, sym->name, "maps", OMAP_USER, sec, sym->value)))
			return -ENOMEM;
		m->desc.type = def[0];
		m->desc.key_size = def[1];
		m->desc.value_size = def[2];
		m->desc.max_entries = def[3];
		m->desc.map_flags = def[4];
	}
	return 0;
}

/* ---- BTF-defined maps --------------------------------------------------------- */

/* __uint(name, N): a pointer to an array of N; N, or -1. */
static int64_t uint_field(const struct btf *btf, uint32_t type)
{
	const struct btf_type *t = btf_type(btf, btf_skip_mods(btf, type));
	const struct btf_type *arr;

	if (!t || btf_kind(t) != BTF_KIND_PTR)
		return -1;
	arr = btf_type(btf, btf_skip_mods(btf, t->type));
	if (!arr || btf_kind(arr) != BTF_KIND_ARRAY)
		return -1;
	return btf_array(arr)->nelems;
}

static int set_uint(struct bpfvm_object *obj, const char *map, const char *field, uint32_t type,
		    uint32_t *out)
{
	int64_t v = uint_field(obj->btf, type);

	if (v < 0) {
		obj_err(obj, "map '%s': field '%s' is not __uint(%s, N)\n", map, field, field);
		return -EINVAL;
	}
	*out = (uint32_t)v;
	return 0;
}

/* __type(key, T): a pointer to T; T's size and id. */
static int set_type(struct bpfvm_object *obj, const char *map, const char *field, uint32_t type,
		    uint32_t *size, uint32_t *id)
{
	const struct btf_type *t = btf_type(obj->btf, btf_skip_mods(obj->btf, type));
	int64_t sz;

	if (!t || btf_kind(t) != BTF_KIND_PTR) {
		obj_err(obj, "map '%s': field '%s' is not __type(%s, T)\n", map, field, field);
		return -EINVAL;
	}
	sz = btf_type_size(obj->btf, t->type);
	if (sz < 0) {
		obj_err(obj, "map '%s': the type of '%s' has no size\n", map, field);
		return -EINVAL;
	}
	if (*size && *size != (uint64_t)sz) {
		obj_err(obj, "map '%s': %s_size is %u but the %s type is %lld bytes\n", map, field,
			*size, field, (long long)sz);
		return -EINVAL;
	}
	*size = (uint32_t)sz;
	*id = t->type;
	return 0;
}

static int parse_btf_def(struct bpfvm_object *obj, struct omap *m, uint32_t struct_id, int depth);

/* __array(values, T): an array of pointers to an inner map definition or a function. */
static int values_field(struct bpfvm_object *obj, struct omap *m, uint32_t type, int depth)
{
	const struct btf_type *arr = btf_type(obj->btf, btf_skip_mods(obj->btf, type));
	const struct btf_type *ptr, *inner;
	uint32_t inner_id;

	if (!arr || btf_kind(arr) != BTF_KIND_ARRAY ||
	    !(ptr = btf_type(obj->btf, btf_skip_mods(obj->btf, btf_array(arr)->type))) ||
	    btf_kind(ptr) != BTF_KIND_PTR) {
		obj_err(obj, "map '%s': field 'values' is not __array(values, T)\n", m->name);
		return -EINVAL;
	}
	inner_id = btf_skip_mods(obj->btf, ptr->type);
	inner = btf_type(obj->btf, inner_id);
	if (inner && btf_kind(inner) == BTF_KIND_FUNC_PROTO) {
		if (m->desc.type != BPF_MAP_TYPE_PROG_ARRAY) {
			obj_err(obj, "map '%s': values of functions need a program array\n", m->name);
			return -EINVAL;
		}
		m->desc.value_size = 4; /* the kernel's: a program is named by its fd */
	} else if (inner && btf_kind(inner) == BTF_KIND_STRUCT) {
		char name[256];

		if (!(m->inner = calloc(1, sizeof(*m->inner))))
			return -ENOMEM;
		snprintf(name, sizeof(name), "%s.inner", m->name);
		if (!(m->inner->name = strdup(name)) || !(m->inner->section = strdup(m->section)))
			return -ENOMEM;
		m->inner->sec = -1;
		if (parse_btf_def(obj, m->inner, inner_id, depth + 1))
			return -EINVAL;
		m->desc.inner = &m->inner->desc;
		m->desc.value_size = 4; /* the kernel's: an inner map is named by its fd */
	} else {
		obj_err(obj, "map '%s': __array(values, ...) of neither a map nor a function\n",
			m->name);
		return -EINVAL;
	}
	return 0;
}

static int parse_member(struct bpfvm_object *obj, struct omap *m, const char *f, uint32_t type,
			int depth)
{
	struct bpfvm_map_desc *d = &m->desc;
	uint32_t v = 0;
	int err;

	if (!strcmp(f, "type")) return set_uint(obj, m->name, f, type, &d->type);
	if (!strcmp(f, "max_entries")) return set_uint(obj, m->name, f, type, &d->max_entries);
	if (!strcmp(f, "map_flags")) return set_uint(obj, m->name, f, type, &d->map_flags);
	if (!strcmp(f, "numa_node")) return set_uint(obj, m->name, f, type, &d->numa_node);
	if (!strcmp(f, "pinning")) return set_uint(obj, m->name, f, type, &d->pinning);
	if (!strcmp(f, "key_size") || !strcmp(f, "value_size")) {
		uint32_t *sz = f[0] == 'k' ? &d->key_size : &d->value_size;

		if ((err = set_uint(obj, m->name, f, type, &v)))
			return err;
		if (*sz && *sz != v) {
			obj_err(obj, "map '%s': %s %u disagrees with the type's size %u\n", m->name,
				f, v, *sz);
			return -EINVAL;
		}
		*sz = v;
		return 0;
	}
	if (!strcmp(f, "map_extra")) {
		err = set_uint(obj, m->name, f, type, &v);
		d->map_extra = v;
		return err;
	}
	if (!strcmp(f, "key"))
		return set_type(obj, m->name, f, type, &d->key_size, &d->btf_key_type_id);
	if (!strcmp(f, "value"))
		return set_type(obj, m->name, f, type, &d->value_size, &d->btf_value_type_id);
	if (!strcmp(f, "values"))
		return values_field(obj, m, type, depth);
	obj_err(obj, "map '%s': unknown field '%s' in its definition\n", m->name, f);
	return -ENOTSUP;
}

static int parse_btf_def(struct bpfvm_object *obj, struct omap *m, uint32_t struct_id, int depth)
{
	const struct btf_type *t = btf_type(obj->btf, struct_id);

	if (depth > 2) {
		obj_err(obj, "map '%s': maps nested too deep\n", m->name);
		return -EINVAL;
	}
	if (!t || btf_kind(t) != BTF_KIND_STRUCT) {
		obj_err(obj, "map '%s': its definition is not a struct\n", m->name);
		return -EINVAL;
	}
	for (unsigned i = 0; i < btf_vlen(t); i++) {
		const struct btf_member *mb = &btf_members(t)[i];
		int err = parse_member(obj, m, btf_str(obj->btf, mb->name_off), mb->type, depth);

		if (err)
			return err;
	}
	if (m->desc.inner && m->desc.type != BPF_MAP_TYPE_ARRAY_OF_MAPS &&
	    m->desc.type != BPF_MAP_TYPE_HASH_OF_MAPS) {
		obj_err(obj, "map '%s': __array(values) of maps needs a map-in-map type\n", m->name);
		return -EINVAL;
	}
	return 0;
}

/*
 * Where a variable lies in its section: its symbol's value.  (clang may
 * leave DATASEC offsets zero for the loader to fill in from the symbols.)
 */
static uint64_t sym_offset(const struct bpfvm_object *obj, int sec, const char *name,
			   uint64_t fallback)
{
	for (size_t i = 0; i < obj->nsyms; i++)
		if (obj->syms[i].shndx == (uint32_t)sec && !strcmp(obj->syms[i].name, name))
			return obj->syms[i].value;
	return fallback;
}

static int btf_maps(struct bpfvm_object *obj)
{
	int sec = obj_sec_by_name(obj, ".maps");
	const struct btf_type *ds;

	if (sec < 0 || obj->secs[sec].kind != OSEC_MAPS)
		return 0;
	if (!obj->btf) {
		obj_err(obj, "section .maps: BTF-defined maps need BTF (compile with -g)\n");
		return -EINVAL;
	}
	ds = btf_type(obj->btf, btf_find(obj->btf, ".maps", BTF_KIND_DATASEC));
	if (!ds) {
		obj_err(obj, "section .maps: BTF has no DATASEC '.maps'\n");
		return -EINVAL;
	}
	for (unsigned i = 0; i < btf_vlen(ds); i++) {
		const struct btf_var_secinfo *vi = &btf_secinfos(ds)[i];
		const struct btf_type *var = btf_type(obj->btf, vi->type);
		struct omap *m;
		uint64_t off;
		int err;

		if (!var || btf_kind(var) != BTF_KIND_VAR) {
			obj_err(obj, "section .maps: entry %u is not a variable\n", i);
			return -EINVAL;
		}
		off = sym_offset(obj, sec, btf_name(obj->btf, var), vi->offset);
		if (off >= obj->secs[sec].size) {
			obj_err(obj, "map '%s': lies outside section .maps\n", btf_name(obj->btf, var));
			return -EINVAL;
		}
		if (!(m = new_map(obj, btf_name(obj->btf, var), ".maps", OMAP_USER, sec, off)))
			return -ENOMEM;
		err = parse_btf_def(obj, m, btf_skip_mods(obj->btf, var->type), 0);
		if (err)
			return err;
	}
	return 0;
}

/* ---- global data ------------------------------------------------------------ */

/* libbpf's name: the object's name as a prefix for the plain sections. */
static void internal_name(const struct bpfvm_object *obj, const char *sec, char *out)
{
	size_t sfx = strlen(sec) > 7 ? strlen(sec) : 7, pfx; /* 7: room kept for ".rodata" */

	if (sfx > BPF_OBJ_NAME_LEN_ - 1)
		sfx = BPF_OBJ_NAME_LEN_ - 1;
	if (strchr(sec + 1, '.'))
		pfx = 0;
	else
		pfx = BPF_OBJ_NAME_LEN_ - sfx - 1 < strlen(obj->name) ? BPF_OBJ_NAME_LEN_ - sfx - 1
								       : strlen(obj->name);
	snprintf(out, BPF_OBJ_NAME_LEN_, "%.*s%.*s", (int)pfx, obj->name, (int)sfx, sec);
}

/*
 * Whether a data section holds a non-static variable: as in libbpf, only
 * then is its map memory-mappable (a skeleton exposes such variables).
 */
static bool has_global_var(const struct bpfvm_object *obj, uint32_t datasec)
{
	const struct btf_type *ds = obj->btf ? btf_type(obj->btf, datasec) : NULL;

	for (unsigned i = 0; ds && i < btf_vlen(ds); i++) {
		const struct btf_type *v = btf_type(obj->btf, btf_secinfos(ds)[i].type);

		if (v && btf_kind(v) == BTF_KIND_VAR && btf_var(v)->linkage != BTF_VAR_STATIC)
			return true;
	}
	return false;
}

static int data_maps(struct bpfvm_object *obj)
{
	for (size_t i = 1; i < obj->nsecs; i++) {
		struct osec *s = &obj->secs[i];
		enum omap_kind kind = s->kind == OSEC_DATA ? OMAP_DATA : s->kind == OSEC_RODATA
			? OMAP_RODATA : OMAP_BSS;
		char name[BPF_OBJ_NAME_LEN_];
		struct omap *m;

		if (s->kind != OSEC_DATA && s->kind != OSEC_RODATA && s->kind != OSEC_BSS)
			continue;
		if (s->size > UINT32_MAX - 8) {
			obj_err(obj, "section %s: %zu bytes is too large for a map\n", s->name, s->size);
			return -E2BIG;
		}
		internal_name(obj, s->name, name);
		if (!(m = new_map(obj, name, s->name, kind, (int)i, 0)) ||
		    !(m->init = calloc(1, s->size ? s->size : 1)))
			return -ENOMEM;
		if (s->data)
			memcpy(m->init, s->data, s->size);
		m->desc.type = BPF_MAP_TYPE_ARRAY;
		m->desc.key_size = 4;
		m->desc.value_size = (uint32_t)s->size;
		m->desc.max_entries = 1;
		if (obj->btf)
			m->desc.btf_value_type_id = btf_find(obj->btf, s->name, BTF_KIND_DATASEC);
		m->desc.map_flags = (kind == OMAP_RODATA ? BPF_F_RDONLY_PROG : 0) |
				    (has_global_var(obj, m->desc.btf_value_type_id) ? BPF_F_MMAPABLE : 0);
		s->map = (int)(obj->nmaps - 1);
	}
	return 0;
}

static int kconfig_map(struct bpfvm_object *obj)
{
	uint32_t end = 0;
	char name[BPF_OBJ_NAME_LEN_];
	struct omap *m;

	obj->kconfig_map = -1;
	for (size_t i = 0; i < obj->nexterns; i++)
		if (obj->externs[i].kind == OEXT_KCONFIG &&
		    obj->externs[i].offset + obj->externs[i].size > end)
			end = obj->externs[i].offset + obj->externs[i].size;
	if (!end)
		return 0;
	internal_name(obj, ".kconfig", name);
	if (!(m = new_map(obj, name, ".kconfig", OMAP_KCONFIG, -1, 0)))
		return -ENOMEM;
	m->desc.type = BPF_MAP_TYPE_ARRAY;
	m->desc.key_size = 4;
	m->desc.value_size = end;
	m->desc.max_entries = 1;
	m->desc.map_flags = BPF_F_RDONLY_PROG | BPF_F_MMAPABLE;
	obj->kconfig_map = (int)(obj->nmaps - 1);
	return 0;
}

/* ---- initial values of map-in-maps and program arrays ------------------------- */

static int add_slot(struct bpfvm_object *obj, struct omap *m, uint32_t index, const struct osym *sym)
{
	const struct osec *ts = obj_sec(obj, sym->shndx);
	struct oslot *grown;
	int map = -1, prog = -1;

	if (ts && ts->kind == OSEC_MAPS && m->desc.inner) {
		map = obj_map_of_sym(obj, sym);
	} else if (ts && ts->kind == OSEC_PROG && m->desc.type == BPF_MAP_TYPE_PROG_ARRAY) {
		for (size_t p = 0; p < obj->nprogs; p++)
			if (!strcmp(obj->progs[p].name, sym->name))
				prog = (int)p;
	}
	if (map < 0 && prog < 0) {
		obj_err(obj, "map '%s': initial value %u refers to '%s', which is not a %s\n",
			m->name, index, sym->name, m->desc.inner ? "map" : "program");
		return -EINVAL;
	}
	if (index >= m->desc.max_entries) {
		obj_err(obj, "map '%s': initial value %u is past max_entries %u\n", m->name, index,
			m->desc.max_entries);
		return -EINVAL;
	}
	if (!(grown = realloc(m->slots, (m->nslots + 1) * sizeof(*grown))))
		return -ENOMEM;
	m->slots = grown;
	grown[m->nslots++] = (struct oslot){ index, map, prog };
	return 0;
}

static int64_t sym_size(const struct bpfvm_object *obj, int sec, const char *name)
{
	for (size_t i = 0; i < obj->nsyms; i++)
		if (obj->syms[i].shndx == (uint32_t)sec && !strcmp(obj->syms[i].name, name))
			return (int64_t)obj->syms[i].size;
	return -1;
}

/* The BTF-defined map whose definition covers offset off of .maps, and where its values start. */
static struct omap *map_covering(struct bpfvm_object *obj, int sec, uint64_t off, uint64_t *values)
{
	for (size_t i = 0; i < obj->nmaps; i++) {
		struct omap *c = &obj->maps[i];
		const struct btf_type *var, *st;
		int64_t size;

		if (c->sec != sec || c->kind != OMAP_USER || off < c->sec_off)
			continue;
		var = btf_type(obj->btf, btf_find(obj->btf, c->name, BTF_KIND_VAR));
		/* the symbol's size counts the initialized values past the BTF struct */
		size = sym_size(obj, sec, c->name);
		if (size <= 0 && var)
			size = btf_type_size(obj->btf, var->type);
		if (size < 0 || off >= c->sec_off + (uint64_t)size)
			continue;
		st = btf_type(obj->btf, btf_skip_mods(obj->btf, var->type));
		for (unsigned m = 0; st && btf_kind(st) == BTF_KIND_STRUCT && m < btf_vlen(st); m++)
			if (!strcmp(btf_str(obj->btf, btf_members(st)[m].name_off), "values")) {
				*values = c->sec_off + btf_member_bit_offset(st, &btf_members(st)[m]) / 8;
				return off >= *values ? c : NULL;
			}
		return NULL;
	}
	return NULL;
}

/* Relocations in .maps: the `.values = { [i] = &x }` of a map definition. */
int obj_collect_map_slots(struct bpfvm_object *obj)
{
	int sec = obj_sec_by_name(obj, ".maps");
	const struct osec *s = sec > 0 ? &obj->secs[sec] : NULL;

	for (size_t r = 0; s && obj->btf && r < s->nrelos; r++) {
		const struct orelo *rel = &s->relos[r];
		uint64_t off = (uint64_t)rel->insn * 8, values = 0;
		struct omap *m = map_covering(obj, sec, off, &values);
		int err;

		if (!m || rel->type != R_BPF_64_ABS64 ||
		    (!m->desc.inner && m->desc.type != BPF_MAP_TYPE_PROG_ARRAY)) {
			obj_err(obj, "section .maps: relocation at offset %llu against '%s' sets no "
				     "map-in-map or program array slot\n", (unsigned long long)off,
				obj->syms[rel->sym].name);
			return -EINVAL;
		}
		err = add_slot(obj, m, (uint32_t)((off - values) / 8), &obj->syms[rel->sym]);
		if (err)
			return err;
	}
	return 0;
}

int obj_map_of_sym(const struct bpfvm_object *obj, const struct osym *sym)
{
	const struct osec *s = obj_sec(obj, sym->shndx);

	if (!s)
		return -1;
	if (s->kind == OSEC_DATA || s->kind == OSEC_RODATA || s->kind == OSEC_BSS)
		return s->map;
	for (size_t i = 0; i < obj->nmaps; i++) {
		const struct omap *m = &obj->maps[i];

		if (m->sec != (int)sym->shndx || m->kind != OMAP_USER)
			continue;
		if (sym->type == STT_SECTION ? false : m->sec_off == sym->value)
			return (int)i;
	}
	return -1;
}

int obj_collect_maps(struct bpfvm_object *obj)
{
	int err = legacy_maps(obj);

	if (!err)
		err = btf_maps(obj);
	if (!err)
		err = data_maps(obj);
	if (!err)
		err = kconfig_map(obj);
	return err;
}

