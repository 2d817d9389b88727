/*
 * map_in_map.c - maps whose values are maps: BPF_MAP_TYPE_ARRAY_OF_MAPS
 * here, and the checks it shares with HASH_OF_MAPS (whose table is
 * hash.c's).  As the kernel's map_in_map.c: the outer map is created
 * from a template (bpfvm_map_opts.inner_map) and only accepts maps of the
 * template's type, sizes and flags (and, for arrays, max_entries unless
 * the template has BPF_F_INNER_MAP); one level only.  A lookup from a
 * program returns the inner map itself, which the program passes to map
 * helpers.  The outer map holds a reference on each inner map.
 */
#include "map.h"

#include <errno.h>
#include <stdlib.h>

struct array_of_maps {
	struct bpfvm_map map;
	struct bpfvm_map **slots;
};

static struct array_of_maps *to_aom(const struct bpfvm_map *map)
{
	return (struct array_of_maps *)map;
}

/* The template: not a map of maps itself, and of a type that can be inner. */
int map_in_map_check(const struct bpfvm_map *map, struct bpfvm_log *log)
{
	uint32_t t = map->inner.type;

	if (map->value_size != 4 || (map->map_flags & (BPFVM_F_RDONLY_PROG | BPFVM_F_WRONLY_PROG))) {
		log_printf(log, "maps of maps hold map fds: value_size 4, no program access flags\n");
		return -EINVAL;
	}
	if (!t || t == BPFVM_MAP_TYPE_ARRAY_OF_MAPS || t == BPFVM_MAP_TYPE_HASH_OF_MAPS) {
		log_printf(log, "maps of maps need an inner_map template that is not itself "
				"a map of maps\n");
		return -EINVAL;
	}
	if (t == BPFVM_MAP_TYPE_PROG_ARRAY) {
		log_printf(log, "program arrays cannot be inner maps\n");
		return -BPFVM_ENOTSUPP;
	}
	return 0;
}

static int aom_alloc(struct bpfvm_map *map, struct bpfvm_log *log)
{
	int err = map_in_map_check(map, log);

	if (!err)
		err = array_alloc_check(map, log);
	if (err)
		return err;
	to_aom(map)->slots = map_area_alloc(map, (uint64_t)map->max_entries * sizeof(struct bpfvm_map *),
					    false);
	return to_aom(map)->slots ? 0 : -ENOMEM;
}

static void aom_free(struct bpfvm_map *map)
{
	map_area_free(map, to_aom(map)->slots,
		      (uint64_t)map->max_entries * sizeof(struct bpfvm_map *));
}

static void aom_release(struct bpfvm_map *map)
{
	for (uint32_t i = 0; i < map->max_entries; i++)
		if (to_aom(map)->slots[i])
			map_put(to_aom(map)->slots[i]);
}

static void *aom_lookup(struct bpfvm_map *map, const void *key, int cpu)
{
	uint32_t index;

	(void)cpu;
	memcpy(&index, key, 4);
	if (index >= map->max_entries)
		return NULL;
	return __atomic_load_n(&to_aom(map)->slots[index], __ATOMIC_ACQUIRE);
}

/* The syscall side reads a slot as the inner map's id. */
static int aom_sys_lookup(struct bpfvm_map *map, const void *key, void *value, uint64_t flags)
{
	struct bpfvm_map *inner = aom_lookup(map, key, 0);

	(void)flags;
	if (!inner)
		return -ENOENT;
	memcpy(value, &inner->id, 4);
	return 0;
}

static long aom_delete(struct bpfvm_map *map, const void *key)
{
	struct bpfvm_map *old;
	uint32_t index;

	memcpy(&index, key, 4);
	if (index >= map->max_entries)
		return -EINVAL;
	old = __atomic_exchange_n(&to_aom(map)->slots[index], NULL, __ATOMIC_ACQ_REL);
	if (!old)
		return -ENOENT;
	if (!map->vm_dying)
		map_put(old);
	return 0;
}

int map_in_map_set(struct bpfvm_map *map, const void *key, struct bpfvm_map *inner)
{
	struct bpfvm_map *old;
	uint32_t index;

	if (!inner)
		return (int)map->ops->delete(map, key);
	if (inner->vm != map->vm || !map_meta_matches(&map->inner, inner))
		return -EINVAL;
	if (map->type == BPFVM_MAP_TYPE_HASH_OF_MAPS)
		return htab_set_inner(map, key, inner);
	memcpy(&index, key, 4);
	if (index >= map->max_entries)
		return -E2BIG;
	map_get(inner);
	old = __atomic_exchange_n(&to_aom(map)->slots[index], inner, __ATOMIC_ACQ_REL);
	if (old)
		map_put(old);
	return 0;
}

const struct map_ops array_of_maps_map_ops = {
	.obj_size = sizeof(struct array_of_maps),
	.alloc = aom_alloc,
	.free = aom_free,
	.lookup = aom_lookup,
	.delete = aom_delete,
	.sys_lookup = aom_sys_lookup,
	.get_next_key = array_get_next_key,
	.release_inner = aom_release,
};
