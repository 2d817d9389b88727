/*
 * cpumap.c - BPF_MAP_TYPE_CPUMAP: CPUs an XDP program redirects frames
 * to (bpf_redirect_map), one slot per CPU number.  A value is struct
 * bpf_cpumap_val: the queue size, and with 8-byte values the fd of a
 * program to run on that CPU (read back as its id).  The kernel's checks
 * (cpumap.c): creation takes key_size 4, value_size 4 or 8, no flag but
 * BPF_F_NUMA_NODE, at most NR_CPUS entries; an update past max_entries is
 * -E2BIG, BPF_NOEXIST -EEXIST, a queue over 16384 -EOVERFLOW, a CPU that
 * is not possible -ENODEV, a queue size of 0 empties the slot; delete of
 * an index past the end is -EINVAL.  Programs may not look a cpumap up
 * (the verifier allows only bpf_redirect_map on it).
 *
 * bpfvm runs no program on a cpumap entry: an entry naming one is
 * refused (-EOPNOTSUPP) rather than kept and ignored.
 */
#include "map.h"

#include <errno.h>

#define CPUMAP_NR_CPUS 256u      /* CONFIG_NR_CPUS of the kernel bpfvm follows (Debian's) */
#define CPUMAP_MAX_QSIZE 16384u

/* struct bpf_cpumap_val. */
struct cpumap_val {
	uint32_t qsize;
	uint32_t prog_id;
};

struct cpumap {
	struct bpfvm_map map;
	struct cpumap_val *vals;   /* qsize 0: empty */
	uint64_t size;
};

static struct cpumap *to_cmap(const struct bpfvm_map *map)
{
	return (struct cpumap *)map;
}

static int cpumap_alloc(struct bpfvm_map *map, struct bpfvm_log *log)
{
	struct cpumap *c = to_cmap(map);

	if (!map->max_entries || map->key_size != 4 ||
	    (map->value_size != 4 && map->value_size != 8) ||
	    (map->map_flags & ~BPFVM_F_NUMA_NODE)) {
		log_printf(log, "BPF_MAP_TYPE_CPUMAP '%s': needs key_size 4, value_size 4 or 8 "
				"(queue size, program fd), max_entries > 0 and no flag but "
				"BPF_F_NUMA_NODE\n", map->name);
		return -EINVAL;
	}
	if (map->max_entries > CPUMAP_NR_CPUS) {
		log_printf(log, "BPF_MAP_TYPE_CPUMAP '%s': max_entries %u is over NR_CPUS (%u)\n",
			   map->name, map->max_entries, CPUMAP_NR_CPUS);
		return -E2BIG;
	}
	c->size = (uint64_t)map->max_entries * sizeof(*c->vals);
	c->vals = map_area_alloc(map, c->size, false);
	return c->vals ? 0 : -ENOMEM;
}

static void cpumap_free(struct bpfvm_map *map)
{
	map_area_free(map, to_cmap(map)->vals, to_cmap(map)->size);
}

/* __cpu_map_lookup_elem: the entry, or NULL. */
static void *cpumap_lookup(struct bpfvm_map *map, const void *key, int cpu)
{
	struct cpumap_val *v;
	uint32_t k;

	(void)cpu;
	memcpy(&k, key, 4);
	if (k >= map->max_entries)
		return NULL;
	v = &to_cmap(map)->vals[k];
	return __atomic_load_n(&v->qsize, __ATOMIC_ACQUIRE) ? v : NULL;
}

static long cpumap_update(struct bpfvm_map *map, const void *key, const void *value,
			  uint64_t flags, int cpu)
{
	struct cpumap_val val = { 0 };
	int32_t fd = 0;
	uint32_t k;

	(void)cpu;
	memcpy(&k, key, 4);
	memcpy(&val.qsize, value, 4);
	if (map->value_size == 8)
		memcpy(&fd, (const char *)value + 4, 4);
	if (flags > BPFVM_EXIST)
		return -EINVAL;
	if (k >= map->max_entries)
		return -E2BIG;
	if (flags == BPFVM_NOEXIST)
		return -EEXIST;
	if (val.qsize > CPUMAP_MAX_QSIZE)
		return -EOVERFLOW;
	if (k >= (uint32_t)map->ncpus)
		return -ENODEV;
	if (val.qsize && fd > 0)
		return -EOPNOTSUPP;
	/* a new entry replaces the old whole; readers see either */
	__atomic_store_n(&to_cmap(map)->vals[k].qsize, 0, __ATOMIC_RELEASE);
	to_cmap(map)->vals[k].prog_id = 0;
	__atomic_store_n(&to_cmap(map)->vals[k].qsize, val.qsize, __ATOMIC_RELEASE);
	return 0;
}

static long cpumap_delete(struct bpfvm_map *map, const void *key)
{
	uint32_t k;

	memcpy(&k, key, 4);
	if (k >= map->max_entries)
		return -EINVAL;
	__atomic_store_n(&to_cmap(map)->vals[k].qsize, 0, __ATOMIC_RELEASE);
	return 0;
}

/* The syscall's lookup copies the value: value_size bytes of the entry. */
static int cpumap_sys_lookup(struct bpfvm_map *map, const void *key, void *value, uint64_t flags)
{
	const struct cpumap_val *v = cpumap_lookup(map, key, 0);

	(void)flags;
	if (!v)
		return -ENOENT;
	memcpy(value, v, map->value_size);
	return 0;
}

static int cpumap_sys_update(struct bpfvm_map *map, const void *key, const void *value,
			     uint64_t flags)
{
	return (int)cpumap_update(map, key, value, flags, 0);
}

const struct map_ops cpumap_map_ops = {
	.obj_size = sizeof(struct cpumap),
	.alloc = cpumap_alloc,
	.free = cpumap_free,
	.delete = cpumap_delete,
	.sys_lookup = cpumap_sys_lookup,
	.sys_update = cpumap_sys_update,
	.get_next_key = array_get_next_key,
	.redirect_target = cpumap_lookup,
};
