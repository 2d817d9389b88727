/*
 * devmap.c - BPF_MAP_TYPE_DEVMAP and BPF_MAP_TYPE_DEVMAP_HASH: network
 * devices an XDP program redirects to (bpf_redirect_map).  A value is
 * struct bpf_devmap_val: the device's ifindex, and with 8-byte values the
 * fd of a program to run on the way out (read back as its id).  As in the
 * kernel's devmap.c: the array form has every index from 0 to
 * max_entries - 1 and walks them all in get_next_key; the hash form keys
 * by any u32, in n_buckets (max_entries rounded up to a power of two)
 * buckets chosen by the key's low bits, newest first; an ifindex must
 * name a device of this network namespace (-EINVAL otherwise); programs
 * see the values read-only (creation adds BPF_F_RDONLY_PROG).
 *
 * bpfvm runs no program on a devmap entry: an entry naming one is
 * refused (-EOPNOTSUPP) rather than kept and ignored.
 */
#include "map.h"

#include <errno.h>
#include <net/if.h>
#include <stdlib.h>

#define DEV_CREATE_FLAG_MASK (BPFVM_F_NUMA_NODE | BPFVM_F_RDONLY | BPFVM_F_WRONLY)
#define NO_NODE UINT32_MAX

/* struct bpf_devmap_val: what a lookup returns. */
struct devmap_val {
	uint32_t ifindex;
	uint32_t prog_id;
};

struct devmap_node {
	struct devmap_val val;   /* first: a lookup's pointer */
	uint32_t key;
	uint32_t next;           /* in the bucket or the free list; NO_NODE ends it */
	uint8_t used;
};

struct devmap {
	struct bpfvm_map map;
	uint32_t lock;
	uint32_t items;
	struct devmap_node *nodes;   /* array: index i; hash: the slab */
	uint64_t nodes_size;
	uint32_t *buckets;           /* hash only */
	uint32_t n_buckets;
	uint32_t free_head;
};

static struct devmap *to_dtab(const struct bpfvm_map *map)
{
	return (struct devmap *)map;
}

static bool is_hash(const struct bpfvm_map *map)
{
	return map->type == BPFVM_MAP_TYPE_DEVMAP_HASH;
}

/* dev_map_alloc_check and dev_map_init_map. */
static int devmap_alloc(struct bpfvm_map *map, struct bpfvm_log *log)
{
	struct devmap *d = to_dtab(map);

	if (!map->max_entries || map->key_size != 4 ||
	    (map->value_size != 4 && map->value_size != 8) ||
	    (map->map_flags & ~DEV_CREATE_FLAG_MASK)) {
		log_printf(log, "%s '%s': needs key_size 4, value_size 4 or 8 (ifindex, program "
				"fd), max_entries > 0 and no flags but BPF_F_NUMA_NODE, "
				"BPF_F_RDONLY, BPF_F_WRONLY\n",
			   bpfvm_map_type_kernel_name(map->type), map->name);
		return -EINVAL;
	}
	if (is_hash(map) && map->max_entries > 1u << 31) {
		log_printf(log, "%s '%s': max_entries %u is over 2^31\n",
			   bpfvm_map_type_kernel_name(map->type), map->name, map->max_entries);
		return -EINVAL;
	}
	map->map_flags |= BPFVM_F_RDONLY_PROG;   /* a lookup points at the entry itself */
	d->nodes_size = (uint64_t)map->max_entries * sizeof(*d->nodes);
	d->nodes = map_area_alloc(map, d->nodes_size, false);
	if (d->nodes && is_hash(map)) {
		d->n_buckets = map_roundup_pow2(map->max_entries);
		d->buckets = map_area_alloc(map, (uint64_t)d->n_buckets * sizeof(*d->buckets), false);
		for (uint32_t i = 0; d->buckets && i < d->n_buckets; i++)
			d->buckets[i] = NO_NODE;
		/* the free list: every node, in order */
		for (uint32_t i = 0; d->buckets && i < map->max_entries; i++)
			d->nodes[i].next = i + 1 < map->max_entries ? i + 1 : NO_NODE;
		d->free_head = 0;
	}
	if (!d->nodes || (is_hash(map) && !d->buckets)) {
		log_printf(log, "%s '%s': cannot allocate %u entries\n",
			   bpfvm_map_type_kernel_name(map->type), map->name, map->max_entries);
		return -ENOMEM;
	}
	return 0;
}

static void devmap_free(struct bpfvm_map *map)
{
	struct devmap *d = to_dtab(map);

	map_area_free(map, d->nodes, d->nodes_size);
	map_area_free(map, d->buckets, (uint64_t)d->n_buckets * sizeof(*d->buckets));
}

static struct devmap_node *hash_find(const struct devmap *d, uint32_t key)
{
	for (uint32_t i = d->buckets[key & (d->n_buckets - 1)]; i != NO_NODE; i = d->nodes[i].next)
		if (d->nodes[i].key == key)
			return &d->nodes[i];
	return NULL;
}

/* __dev_map_lookup_elem / __dev_map_hash_lookup_elem: the entry, or NULL. */
static void *devmap_lookup(struct bpfvm_map *map, const void *key, int cpu)
{
	struct devmap *d = to_dtab(map);
	struct devmap_node *n;
	uint32_t k;

	(void)cpu;
	memcpy(&k, key, 4);
	if (is_hash(map)) {
		map_lock(&d->lock);
		n = hash_find(d, k);
		map_unlock(&d->lock);
		return n ? &n->val : NULL;
	}
	if (k >= map->max_entries)
		return NULL;
	n = &d->nodes[k];
	return __atomic_load_n(&n->used, __ATOMIC_ACQUIRE) ? &n->val : NULL;
}

/* __dev_map_alloc_node's checks: the device exists here; no programs on entries. */
static int check_val(const struct bpfvm_map *map, const void *value, struct devmap_val *val)
{
	char name[IF_NAMESIZE];
	int32_t fd = -1;

	memcpy(&val->ifindex, value, 4);
	if (map->value_size == 8)
		memcpy(&fd, (const char *)value + 4, 4);
	val->prog_id = 0;
	if (!val->ifindex)
		return fd > 0 || is_hash(map) ? -EINVAL : 0;
	if (!if_indextoname(val->ifindex, name))
		return -EINVAL;
	return fd > 0 ? -EOPNOTSUPP : 0;
}

static long array_update(struct devmap *d, uint32_t k, const void *value, uint64_t flags)
{
	struct devmap_val val;
	int err;

	if (flags > BPFVM_EXIST)
		return -EINVAL;
	if (k >= d->map.max_entries)
		return -E2BIG;
	if (flags == BPFVM_NOEXIST)
		return -EEXIST;
	if ((err = check_val(&d->map, value, &val)))
		return err;
	map_lock(&d->lock);
	if (!val.ifindex) {
		d->items -= d->nodes[k].used;
		__atomic_store_n(&d->nodes[k].used, 0, __ATOMIC_RELEASE);
	} else {
		d->items += !d->nodes[k].used;
		d->nodes[k].val = val;
		__atomic_store_n(&d->nodes[k].used, 1, __ATOMIC_RELEASE);
	}
	map_unlock(&d->lock);
	return 0;
}

static void hash_unlink(struct devmap *d, struct devmap_node *n)
{
	uint32_t *p = &d->buckets[n->key & (d->n_buckets - 1)];
	uint32_t idx = (uint32_t)(n - d->nodes);

	while (*p != idx)
		p = &d->nodes[*p].next;
	*p = n->next;
	n->used = 0;
	n->next = d->free_head;
	d->free_head = idx;
	d->items--;
}

static long hash_update(struct devmap *d, uint32_t k, const void *value, uint64_t flags)
{
	struct devmap_node *old, *n;
	struct devmap_val val;
	uint32_t idx, *head;
	int err;

	int bad;

	if (flags > BPFVM_EXIST || (memcpy(&val.ifindex, value, 4), !val.ifindex))
		return -EINVAL;
	bad = check_val(&d->map, value, &val);   /* a system call: not under the lock */
	map_lock(&d->lock);
	old = hash_find(d, k);
	err = old && (flags & BPFVM_NOEXIST) ? -EEXIST : bad;
	if (!err && !old && d->items >= d->map.max_entries)
		err = -E2BIG;
	if (!err) {
		if (old)
			hash_unlink(d, old);
		/* a new node, so that a program holding the old entry keeps reading it */
		idx = d->free_head;
		n = &d->nodes[idx];
		d->free_head = n->next;
		head = &d->buckets[k & (d->n_buckets - 1)];
		*n = (struct devmap_node){ .val = val, .key = k, .next = *head, .used = 1 };
		*head = idx;
		d->items++;
	}
	map_unlock(&d->lock);
	return err;
}

static long devmap_update(struct bpfvm_map *map, const void *key, const void *value,
			  uint64_t flags, int cpu)
{
	uint32_t k;

	(void)cpu;
	memcpy(&k, key, 4);
	return is_hash(map) ? hash_update(to_dtab(map), k, value, flags)
			    : array_update(to_dtab(map), k, value, flags);
}

static long devmap_delete(struct bpfvm_map *map, const void *key)
{
	struct devmap *d = to_dtab(map);
	struct devmap_node *n;
	long err = 0;
	uint32_t k;

	memcpy(&k, key, 4);
	if (!is_hash(map) && k >= map->max_entries)
		return -EINVAL;
	map_lock(&d->lock);
	if (is_hash(map)) {
		if ((n = hash_find(d, k)))
			hash_unlink(d, n);
		else
			err = -ENOENT;
	} else if (d->nodes[k].used) {
		__atomic_store_n(&d->nodes[k].used, 0, __ATOMIC_RELEASE);
		d->items--;
	}
	map_unlock(&d->lock);
	return err;
}

/* dev_map_hash_get_next_key: the next in the key's bucket, else the next bucket's first. */
static int hash_next_key(struct devmap *d, const void *key, void *next_key)
{
	struct devmap_node *n = NULL;
	uint32_t k = 0, b = 0;
	int err = -ENOENT;

	map_lock(&d->lock);
	if (key) {
		memcpy(&k, key, 4);
		n = hash_find(d, k);
	}
	if (n && n->next != NO_NODE) {
		memcpy(next_key, &d->nodes[n->next].key, 4);
		err = 0;
	} else {
		for (b = n ? (k & (d->n_buckets - 1)) + 1 : 0; b < d->n_buckets; b++) {
			if (d->buckets[b] != NO_NODE) {
				memcpy(next_key, &d->nodes[d->buckets[b]].key, 4);
				err = 0;
				break;
			}
		}
	}
	map_unlock(&d->lock);
	return err;
}

static int devmap_next_key(struct bpfvm_map *map, const void *key, void *next_key)
{
	return is_hash(map) ? hash_next_key(to_dtab(map), key, next_key)
			    : array_get_next_key(map, key, next_key);
}

static bool devmap_owns(const struct bpfvm_map *map, uintptr_t addr, uint64_t size)
{
	const struct devmap *d = to_dtab(map);
	uintptr_t base = (uintptr_t)d->nodes;

	if (addr < base || addr - base >= d->nodes_size)
		return false;
	return (addr - base) % sizeof(struct devmap_node) + size <= map->value_size;
}

const struct map_ops devmap_map_ops = {
	.obj_size = sizeof(struct devmap),
	.alloc = devmap_alloc,
	.free = devmap_free,
	.lookup = devmap_lookup,
	.update = devmap_update,
	.delete = devmap_delete,
	.get_next_key = devmap_next_key,
	.owns = devmap_owns,
	.redirect_target = devmap_lookup,
	.redirect_flags = MAP_REDIRECT_BROADCAST_FLAGS,
};
