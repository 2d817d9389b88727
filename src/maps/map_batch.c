/*
 * map_batch.c - bpfvm_map__*_batch, as bpf(BPF_MAP_*_BATCH) behaves: the
 * kernel's checks in its order (the map's permissions for the command,
 * whether the type has the operation, elem_flags), then its generic
 * loops over single operations (syscall.c's generic_map_*_batch) or, for
 * hash tables' lookups, the bucket walk (hash.c).  A count of 0 does
 * nothing and returns 0; otherwise *count is 0 until the kernel would
 * have written it.
 */
#include "map.h"

#include <errno.h>
#include <stdlib.h>

#include "../util/opts.h"

enum { B_LOOKUP = 1, B_LOOKUP_DELETE = 2, B_UPDATE = 4, B_DELETE = 8 };

/* The batch operations the kernel's bpf_map_ops give each type. */
static unsigned type_ops(uint32_t type)
{
	switch (type) {
	case BPFVM_MAP_TYPE_HASH:
	case BPFVM_MAP_TYPE_PERCPU_HASH:
	case BPFVM_MAP_TYPE_LRU_HASH:
	case BPFVM_MAP_TYPE_LRU_PERCPU_HASH:
	case BPFVM_MAP_TYPE_HASH_OF_MAPS:
		return B_LOOKUP | B_LOOKUP_DELETE | B_UPDATE | B_DELETE;
	case BPFVM_MAP_TYPE_ARRAY:
	case BPFVM_MAP_TYPE_PERCPU_ARRAY:
	case BPFVM_MAP_TYPE_ARRAY_OF_MAPS:
		return B_LOOKUP | B_UPDATE;
	case BPFVM_MAP_TYPE_LPM_TRIE:
		return B_LOOKUP | B_UPDATE | B_DELETE;
	default:
		return 0;
	}
}

static bool is_hash(uint32_t type)
{
	return type_ops(type) & B_LOOKUP_DELETE;
}

static bool is_percpu(uint32_t type)
{
	return type == BPFVM_MAP_TYPE_PERCPU_HASH || type == BPFVM_MAP_TYPE_LRU_PERCPU_HASH ||
	       type == BPFVM_MAP_TYPE_PERCPU_ARRAY;
}

/* The kernel's bpf_map_value_size: what one element's value takes in user memory. */
static uint32_t user_value_size(const struct bpfvm_map *map)
{
	if (is_percpu(map->type))
		return map->value_stride * (uint32_t)map->ncpus;
	if (map->type == BPFVM_MAP_TYPE_ARRAY_OF_MAPS || map->type == BPFVM_MAP_TYPE_HASH_OF_MAPS)
		return 4;
	return map->value_size;
}

/* bpf_map_do_batch's checks and the type's first ones; 1: go on. */
static int precheck(struct bpfvm_map *map, unsigned op, const struct bpfvm_map_batch_opts *opts,
		    uint32_t *count)
{
	bool reads = op & (B_LOOKUP | B_LOOKUP_DELETE), writes = op != B_LOOKUP;
	uint64_t elem_flags = OPTS_GET(opts, elem_flags, 0);

	if (!map || !count || !OPTS_VALID(opts, bpfvm_map_batch_opts, NULL))
		return -EINVAL;
	if (reads && (map->map_flags & BPFVM_F_WRONLY))
		return -EPERM;
	if (writes && ((map->map_flags & BPFVM_F_RDONLY) ||
		       __atomic_load_n(&map->frozen, __ATOMIC_ACQUIRE)))
		return -EPERM;
	if (!(type_ops(map->type) & op))
		return -BPFVM_ENOTSUPP;
	if ((elem_flags & ~(uint64_t)BPFVM_F_LOCK) ||
	    ((elem_flags & BPFVM_F_LOCK) && !map->has_spin_lock))
		return -EINVAL;
	if (reads && is_hash(map->type) && OPTS_GET(opts, flags, 0))
		return -EINVAL;
	return *count ? 1 : 0;
}

/* generic_map_lookup_batch: get_next_key from in_batch, skipping keys gone meanwhile. */
static int generic_lookup(struct bpfvm_map *map, const void *in_batch, void *out_batch,
			  char *keys, char *values, uint32_t *count, uint64_t elem_flags)
{
	uint32_t ks = map->key_size, vs = user_value_size(map), max = *count, cp = 0;
	char *buf = malloc(2 * (size_t)ks + vs), *prev = buf, *key, *value;
	const void *pk = in_batch ? prev : NULL;
	int err = 0;

	*count = 0;
	if (!buf)
		return -ENOMEM;
	key = buf + ks;
	value = buf + 2 * ks;
	if (in_batch)
		memcpy(prev, in_batch, ks);
	while (cp < max) {
		char *t;

		if ((err = map->ops->get_next_key(map, pk, key)))
			break;
		err = bpfvm_map__lookup_elem(map, key, value, elem_flags);
		if (err && err != -ENOENT)
			goto out;
		if (!err) {
			if (!keys || !values) {
				err = -EFAULT;
				goto out;
			}
			memcpy(keys + (uint64_t)cp * ks, key, ks);
			memcpy(values + (uint64_t)cp * vs, value, vs);
			cp++;
		}
		t = prev, prev = key, key = t;
		pk = prev;
	}
	*count = cp;
	if (cp && !out_batch)
		err = -EFAULT;
	else if (cp)
		memcpy(out_batch, prev, ks);
out:
	free(buf);
	return err;
}

int bpfvm_map__lookup_batch(struct bpfvm_map *map, const void *in_batch, void *out_batch,
			    void *keys, void *values, uint32_t *count,
			    const struct bpfvm_map_batch_opts *opts)
{
	int go = precheck(map, B_LOOKUP, opts, count);

	if (go <= 0)
		return go;
	if (is_hash(map->type))
		return htab_lookup_batch(map, in_batch, out_batch, keys, values, count, false,
					 OPTS_GET(opts, elem_flags, 0));
	return generic_lookup(map, in_batch, out_batch, keys, values, count,
			      OPTS_GET(opts, elem_flags, 0));
}

int bpfvm_map__lookup_and_delete_batch(struct bpfvm_map *map, const void *in_batch,
				       void *out_batch, void *keys, void *values, uint32_t *count,
				       const struct bpfvm_map_batch_opts *opts)
{
	int go = precheck(map, B_LOOKUP_DELETE, opts, count);

	if (go <= 0)
		return go;
	return htab_lookup_batch(map, in_batch, out_batch, keys, values, count, true,
				 OPTS_GET(opts, elem_flags, 0));
}

/* generic_map_update_batch and generic_map_delete_batch: element by element, up to the first error. */
static int each_elem(struct bpfvm_map *map, const char *keys, const char *values, uint32_t *count,
		     uint64_t elem_flags, bool update)
{
	uint32_t ks = map->key_size, vs = user_value_size(map), max = *count, cp;
	int err = 0;

	*count = 0;
	for (cp = 0; cp < max; cp++) {
		const char *key = keys ? keys + (uint64_t)cp * ks : NULL;

		if (!key || (update && !values)) {
			err = -EFAULT;
			break;
		}
		if (update)
			err = bpfvm_map__update_elem(map, key, values + (uint64_t)cp * vs, elem_flags);
		else
			err = bpfvm_map__delete_elem(map, key);
		if (err)
			break;
	}
	*count = cp;
	return err;
}

int bpfvm_map__update_batch(struct bpfvm_map *map, const void *keys, const void *values,
			    uint32_t *count, const struct bpfvm_map_batch_opts *opts)
{
	int go = precheck(map, B_UPDATE, opts, count);

	if (go <= 0)
		return go;
	return each_elem(map, keys, values, count, OPTS_GET(opts, elem_flags, 0), true);
}

int bpfvm_map__delete_batch(struct bpfvm_map *map, const void *keys, uint32_t *count,
			    const struct bpfvm_map_batch_opts *opts)
{
	int go = precheck(map, B_DELETE, opts, count);

	if (go <= 0)
		return go;
	return each_elem(map, keys, NULL, count, OPTS_GET(opts, elem_flags, 0), false);
}
