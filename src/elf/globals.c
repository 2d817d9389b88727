/*
 * globals.c - global variables by name: where a variable of .data,
 * .rodata or .bss lies (its symbol, or its BTF DATASEC entry for objects
 * whose symbols were stripped), and reading or setting its value, as a
 * skeleton's skel->rodata->x does before load.
 */
#include <errno.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>

#include "../util/log.h"
#include "obj.h"

struct gvar {
	struct omap *map;
	uint64_t off;
	uint64_t size;
};

static bool is_data(const struct osec *s)
{
	return s && (s->kind == OSEC_DATA || s->kind == OSEC_RODATA || s->kind == OSEC_BSS) &&
	       s->map >= 0;
}

static int from_btf(const struct bpfvm_object *obj, const char *name, struct gvar *v)
{
	for (size_t i = 0; obj->btf && i < obj->nmaps; i++) {
		const struct btf_type *ds = btf_type(obj->btf, obj->maps[i].desc.btf_value_type_id);

		if (!ds || btf_kind(ds) != BTF_KIND_DATASEC)
			continue;
		for (unsigned k = 0; k < btf_vlen(ds); k++) {
			const struct btf_var_secinfo *vi = &btf_secinfos(ds)[k];

			if (strcmp(btf_name(obj->btf, btf_type(obj->btf, vi->type)), name))
				continue;
			v->map = &obj->maps[i];
			v->off = vi->offset;
			v->size = vi->size;
			return 0;
		}
	}
	return -ENOENT;
}

static int find_var(const struct bpfvm_object *obj, const char *name, struct gvar *v)
{
	for (size_t i = 0; i < obj->nsyms; i++) {
		const struct osym *s = &obj->syms[i];
		const struct osec *sec = obj_sec(obj, s->shndx);

		if (s->type != STT_OBJECT || !is_data(sec) || strcmp(s->name, name))
			continue;
		v->map = &obj->maps[sec->map];
		v->off = s->value;
		v->size = s->size;
		if (!v->size && from_btf(obj, name, v))
			return -ENOENT;
		break;
	}
	if (!v->map && from_btf(obj, name, v))
		return -ENOENT;
	if (v->off > v->map->desc.value_size || v->size > v->map->desc.value_size - v->off)
		return -EINVAL;
	return 0;
}

static int lookup(const struct bpfvm_object *obj, const char *name, size_t size, struct gvar *v)
{
	int err;

	memset(v, 0, sizeof(*v));
	if (!obj || !name)
		return -EINVAL;
	err = find_var(obj, name, v);
	if (err == -ENOENT) {
		obj_err((struct bpfvm_object *)obj, "global variable '%s': no such variable in "
						    ".data, .rodata or .bss\n", name);
		return err;
	}
	if (err)
		return err;
	if (v->size != size) {
		obj_err((struct bpfvm_object *)obj, "global variable '%s' (section %s) is %llu "
						    "bytes: a value of %zu bytes does not fit\n",
			name, v->map->section, (unsigned long long)v->size, size);
		return -EINVAL;
	}
	return 0;
}

int bpfvm_object__set_global(struct bpfvm_object *obj, const char *name, const void *data,
			     size_t size)
{
	struct gvar v;
	int err = lookup(obj, name, size, &v);

	if (err)
		return err;
	if (obj->loaded) {
		obj_err(obj, "global variable '%s': set it before load\n", name);
		return -EBUSY;
	}
	memcpy(v.map->init + v.off, data, size);
	return 0;
}

int bpfvm_object__get_global(const struct bpfvm_object *obj, const char *name, void *data,
			     size_t size)
{
	struct gvar v;
	uint32_t zero = 0;
	uint8_t *buf;
	int err = lookup(obj, name, size, &v);

	if (err)
		return err;
	if (!v.map->map) {
		memcpy(data, v.map->init + v.off, size);
		return 0;
	}
	if (!(buf = malloc(v.map->desc.value_size)))
		return -ENOMEM;
	err = bpfvm_map__lookup_elem(v.map->map, &zero, buf, 0);
	if (!err)
		memcpy(data, buf + v.off, size);
	free(buf);
	return err;
}
