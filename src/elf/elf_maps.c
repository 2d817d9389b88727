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
	free(m->create_err);
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
	m->inner_map = -1;
	m->autocreate = true;
	m->sec = sec;
	m->sec_off = sec_off;
	m->desc.global_data = kind != OMAP_USER;
	obj->nmaps++;
	return m;
}

/* ---- legacy maps ------------------------------------------------------------ */

/*
 * The "maps" section holds one fixed-size definition per map symbol:
 * libbpf's struct bpf_map_def (type, key_size, value_size, max_entries,
 * map_flags: 20 bytes) or iproute2's struct bpf_elf_map, which goes on
 * with id, pinning, inner_id and inner_idx (36 bytes).  As tc reads it, a
 * definition shorter than 36 bytes (but holding at least the first four
 * fields) leaves the fields it lacks zero; bytes past the 36 must be zero.
 */
enum { EMF_TYPE, EMF_KEY, EMF_VALUE, EMF_MAX, EMF_FLAGS, EMF_ID, EMF_PINNING, EMF_INNER_ID,
       EMF_INNER_IDX, EMF_NFIELDS };

#define EMF_MIN_SIZE 16u

static int legacy_def_size(struct bpfvm_object *obj, const struct osec *s, size_t nr,
			   size_t *def_sz)
{
	if (!nr || s->size % nr) {
		obj_err(obj, "section maps: %zu bytes do not divide among %zu map definitions\n",
			s->size, nr);
		return -EINVAL;
	}
	*def_sz = s->size / nr;
	if (*def_sz % 4 || *def_sz < EMF_MIN_SIZE) {
		obj_err(obj, "section maps: %zu bytes per map (%zu bytes, %zu maps) is the size of "
			     "no known definition: struct bpf_map_def is 20 bytes, iproute2's struct "
			     "bpf_elf_map %u to %zu bytes in steps of 4\n", *def_sz, s->size, nr,
			EMF_MIN_SIZE, EMF_NFIELDS * sizeof(uint32_t));
		return -EINVAL;
	}
	return 0;
}

/*
 * iproute2's BPF_ANNOTATE_KV_PAIR(name, K, V): a struct ____btf_map_name
 * { K key; V value; } whose members give the map's BTF key and value types.
 */
static void legacy_btf_types(struct bpfvm_object *obj, struct omap *m)
{
	char name[256];
	const struct btf_type *t;

	if (!obj->btf)
		return;
	snprintf(name, sizeof(name), "____btf_map_%s", m->name);
	t = btf_type(obj->btf, btf_find(obj->btf, name, BTF_KIND_STRUCT));
	for (unsigned i = 0; t && btf_kind(t) == BTF_KIND_STRUCT && i < btf_vlen(t); i++) {
		const struct btf_member *mb = &btf_members(t)[i];
		const char *f = btf_str(obj->btf, mb->name_off);

		if (!strcmp(f, "key"))
			m->desc.btf_key_type_id = mb->type;
		else if (!strcmp(f, "value"))
			m->desc.btf_value_type_id = mb->type;
	}
}

static int legacy_map(struct bpfvm_object *obj, int sec, const struct osym *sym, size_t def_sz)
{
	const struct osec *s = &obj->secs[sec];
	uint32_t def[EMF_NFIELDS] = { 0 };
	struct omap *m;

	if (sym->value > s->size - def_sz || sym->value % def_sz) {
		obj_err(obj, "section maps: map '%s' at offset %llu is not at a definition of %zu "
			     "bytes\n", sym->name, (unsigned long long)sym->value, def_sz);
		return -EINVAL;
	}
	memcpy(def, s->data + sym->value, def_sz < sizeof(def) ? def_sz : sizeof(def));
	for (size_t b = sizeof(def); b < def_sz; b++) {
		if (s->data[sym->value + b]) {
			obj_err(obj, "section maps: map '%s' has fields past struct bpf_elf_map "
				     "that bpfvm does not know\n", sym->name);
			return -EINVAL;
		}
	}
	if (!(m = new_map(obj, sym->name, "maps", OMAP_USER, sec, sym->value)))
		return -ENOMEM;
	m->desc.type = def[EMF_TYPE];
	m->desc.key_size = def[EMF_KEY];
	m->desc.value_size = def[EMF_VALUE];
	m->desc.max_entries = def[EMF_MAX];
	m->desc.map_flags = def[EMF_FLAGS];
	m->desc.id = def[EMF_ID];
	m->desc.pinning = def[EMF_PINNING];
	m->elf_inner_id = def[EMF_INNER_ID];
	m->elf_inner_idx = def[EMF_INNER_IDX];
	legacy_btf_types(obj, m);
	return 0;
}

static bool is_map_in_map(uint32_t type)
{
	return type == BPF_MAP_TYPE_ARRAY_OF_MAPS || type == BPF_MAP_TYPE_HASH_OF_MAPS;
}

static int legacy_by_id(const struct bpfvm_object *obj, uint32_t id)
{
	for (size_t i = 0; id && i < obj->nmaps; i++)
		if (obj->maps[i].kind == OMAP_USER && !strcmp(obj->maps[i].section, "maps") &&
		    obj->maps[i].desc.id == id)
			return (int)i;
	return -1;
}

/*
 * iproute2's map-in-map: the outer map's inner_id names the id of the map
 * it takes as template; a map with an id and no inner_id goes in slot
 * inner_idx of each outer map whose inner_id is its id (unless that is
 * -1), once both exist.
 */
static int legacy_inner_maps(struct bpfvm_object *obj)
{
	for (size_t i = 0; i < obj->nmaps; i++) {
		struct omap *m = &obj->maps[i];

		if (!is_map_in_map(m->desc.type) || strcmp(m->section, "maps") || m->nslots)
			continue;
		m->inner_map = legacy_by_id(obj, m->elf_inner_id);
		if (m->inner_map < 0 || (size_t)m->inner_map == i) {
			obj_err(obj, "section maps: map '%s' is a map-in-map whose inner_id %u names "
				     "no other map's id\n", m->name, m->elf_inner_id);
			return -EINVAL;
		}
		if (is_map_in_map(obj->maps[m->inner_map].desc.type)) {
			obj_err(obj, "section maps: map '%s': inner_id %u names map '%s', itself a "
				     "map-in-map (maps nest one level, as in the kernel)\n", m->name,
				m->elf_inner_id, obj->maps[m->inner_map].name);
			return -EINVAL;
		}
	}
	return 0;
}

static int add_slot_of(struct bpfvm_object *obj, struct omap *m, uint32_t index, int map, int prog);

static int legacy_inner_slots(struct bpfvm_object *obj)
{
	for (size_t i = 0; i < obj->nmaps; i++) {
		const struct omap *in = &obj->maps[i];

		if (strcmp(in->section, "maps") || !in->desc.id || in->elf_inner_id ||
		    in->elf_inner_idx == UINT32_MAX)
			continue;
		for (size_t j = 0; j < obj->nmaps; j++) {
			struct omap *out = &obj->maps[j];
			int err;

			if (j == i || out->inner_map != (int)i)
				continue;
			err = add_slot_of(obj, out, in->elf_inner_idx, (int)i, -1);
			if (err)
				return err;
		}
	}
	return 0;
}

static int legacy_maps(struct bpfvm_object *obj)
{
	int sec = obj_sec_by_name(obj, "maps"), err = 0;
	const struct osec *s = sec > 0 ? &obj->secs[sec] : NULL;
	size_t nr = 0, def_sz;

	if (!s || s->kind != OSEC_LEGACY_MAPS)
		return 0;
	for (size_t i = 0; i < obj->nsyms; i++)
		nr += obj->syms[i].shndx == (uint32_t)sec && obj->syms[i].type != STT_SECTION;
	if ((err = legacy_def_size(obj, s, nr, &def_sz)))
		return err;
	for (size_t i = 0; i < obj->nsyms && !err; i++) {
		const struct osym *sym = &obj->syms[i];

		if (sym->shndx == (uint32_t)sec && sym->type != STT_SECTION)
			err = legacy_map(obj, sec, sym, def_sz);
	}
	return err ? err : legacy_inner_maps(obj);
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
		m->inner->inner_map = -1;
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
 * A data section's DATASEC as libbpf leaves it before load: the section's
 * size and each variable at its symbol's offset, so that the map's value
 * can be printed through it (clang leaves both zero for the loader).
 */
static int fix_datasec(struct bpfvm_object *obj, int sec, uint32_t id)
{
	const struct btf_type *ds = btf_type(obj->btf, id);
	unsigned n = btf_vlen(ds);
	uint32_t *offs = calloc(n ? n : 1, sizeof(*offs));

	if (!offs)
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++) {
		const struct btf_var_secinfo *v = &btf_secinfos(ds)[i];
		uint64_t off = sym_offset(obj, sec, btf_name(obj->btf, btf_type(obj->btf, v->type)),
					  v->offset);

		offs[i] = off > UINT32_MAX ? v->offset : (uint32_t)off;
	}
	btf_fix_datasec(obj->btf, id, (uint32_t)obj->secs[sec].size, offs);
	free(offs);
	return 0;
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
		if (m->desc.btf_value_type_id && fix_datasec(obj, (int)i, m->desc.btf_value_type_id))
			return -ENOMEM;
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

static int add_slot_of(struct bpfvm_object *obj, struct omap *m, uint32_t index, int map, int prog)
{
	struct oslot *grown;

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

static int add_slot(struct bpfvm_object *obj, struct omap *m, uint32_t index, const struct osym *sym)
{
	const struct osec *ts = obj_sec(obj, sym->shndx);
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
	return add_slot_of(obj, m, index, map, prog);
}

/*
 * iproute2's tail-call sections: the program of section "ID/SLOT" goes in
 * slot SLOT of the program array whose bpf_elf_map id is ID.
 */
static int tail_call_slots(struct bpfvm_object *obj)
{
	for (size_t p = 0; p < obj->nprogs; p++) {
		const struct bpfvm_obj_prog *pr = &obj->progs[p];
		uint32_t id, slot;
		int map;

		if (pr->def || !sec_def_tail_call(pr->sec_name, &id, &slot))
			continue;
		map = legacy_by_id(obj, id);
		if (map < 0 || obj->maps[map].desc.type != BPF_MAP_TYPE_PROG_ARRAY) {
			obj_err(obj, "section %s: a tail-call section for slot %u of the program array "
				     "with id %u, but %s\n", pr->sec_name, slot, id, map < 0
				? "no map of section maps has that id"
				: "the map with that id is not a program array");
			return -EINVAL;
		}
		if (slot >= obj->maps[map].desc.max_entries) {
			obj_err(obj, "section %s: slot %u is past the %u slots of program array '%s' "
				     "(id %u)\n", pr->sec_name, slot, obj->maps[map].desc.max_entries,
				obj->maps[map].name, id);
			return -EINVAL;
		}
		if (add_slot_of(obj, &obj->maps[map], slot, -1, (int)p))
			return -ENOMEM;
	}
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

static int legacy_slots(struct bpfvm_object *obj)
{
	int err = legacy_inner_slots(obj);

	return err ? err : tail_call_slots(obj);
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
	return legacy_slots(obj);
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

