/*
 * array.c - BPF_MAP_TYPE_ARRAY and BPF_MAP_TYPE_PERCPU_ARRAY: max_entries
 * values of value_size bytes (8-byte strides), all present from creation,
 * indexed by a u32 key.  As in the kernel: an index out of range is
 * -ENOENT for lookups and -E2BIG for updates, BPF_NOEXIST is always
 * -EEXIST, delete is -EINVAL, get_next_key of a missing key is index 0,
 * and a program may address a one-element array's value directly (lddw
 * src 2/6).  A per-CPU array keeps one slot per possible CPU: CPU c's
 * values are the c-th block of max_entries strides.
 */
#include "map.h"
#include "../core/instance.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

struct array_map {
	struct bpfvm_map map;
	char *values;
	uint64_t size;     /* bytes of values */
	int fd;            /* BPF_F_MMAPABLE: the memfd values live in (mapped), else -1 */
};

#define ARRAY_CREATE_FLAG_MASK                                                     \
	(BPFVM_F_NUMA_NODE | BPFVM_F_MMAPABLE | MAP_F_ACCESS_MASK | BPFVM_F_PRESERVE_ELEMS | \
	 BPFVM_F_INNER_MAP)

static struct array_map *to_array(const struct bpfvm_map *map)
{
	return (struct array_map *)map;
}

static bool is_percpu(const struct bpfvm_map *map)
{
	return map->type == BPFVM_MAP_TYPE_PERCPU_ARRAY;
}

/* The kernel's array_map_alloc_check(), shared with the arrays of fds. */
int array_alloc_check(const struct bpfvm_map *map, struct bpfvm_log *log)
{
	uint32_t flags = map->map_flags;

	if (map->max_entries == 0 || map->key_size != 4 || map->value_size == 0 ||
	    (flags & ~ARRAY_CREATE_FLAG_MASK) || !map_flags_access_ok(flags) ||
	    (is_percpu(map) && (flags & BPFVM_F_NUMA_NODE))) {
		log_printf(log, "array maps need key_size 4, value_size > 0, max_entries > 0 "
				"and known flags\n");
		return -EINVAL;
	}
	if (map->type != BPFVM_MAP_TYPE_ARRAY && (flags & (BPFVM_F_MMAPABLE | BPFVM_F_INNER_MAP))) {
		log_printf(log, "BPF_F_MMAPABLE and BPF_F_INNER_MAP are for plain arrays\n");
		return -EINVAL;
	}
	if (map->type != BPFVM_MAP_TYPE_PERF_EVENT_ARRAY && (flags & BPFVM_F_PRESERVE_ELEMS)) {
		log_printf(log, "BPF_F_PRESERVE_ELEMS is for perf event arrays\n");
		return -EINVAL;
	}
	if (map->value_size > INT_MAX ||
	    (is_percpu(map) && map->value_stride > MAP_PCPU_MIN_UNIT_SIZE)) {
		log_printf(log, "value_size %u is too large\n", map->value_size);
		return -E2BIG;
	}
	return 0;
}

/*
 * A BPF_F_MMAPABLE array's values are a memfd's pages, so that the map's
 * file (bpfvm_map__mmap_fd) maps them as the kernel's map fd does (not in
 * a shared arena, which has a file of its own: no such fd there).
 */
static char *array_mmapable_alloc(struct array_map *a)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	uint64_t len = (a->size + page - 1) / page * page;
	void *p;

	a->fd = memfd_create("bpfvm-array", MFD_CLOEXEC);
	if (a->fd < 0 || ftruncate(a->fd, (off_t)len))
		return NULL;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, a->fd, 0);
	return p == MAP_FAILED ? NULL : p;
}

static int array_alloc(struct bpfvm_map *map, struct bpfvm_log *log)
{
	struct array_map *a = to_array(map);
	int err = array_alloc_check(map, log);

	a->fd = -1;
	if (err)
		return err;
	a->size = (uint64_t)map->max_entries * map->value_stride * (is_percpu(map) ? map->ncpus : 1);
	/* in a shared arena (maps/shm.h) the values must be there too, where every process sees them */
	a->values = map->map_flags & BPFVM_F_MMAPABLE && !map->vm->shm ? array_mmapable_alloc(a)
									: map_area_alloc(map, a->size, false);
	if (!a->values) {
		log_printf(log, "cannot allocate %llu bytes of values\n", (unsigned long long)a->size);
		return -ENOMEM;
	}
	if (map->type == BPFVM_MAP_TYPE_ARRAY)
		map->array_values = a->values;
	else
		map->percpu_array_values = a->values;
	return 0;
}

static void array_free(struct bpfvm_map *map)
{
	struct array_map *a = to_array(map);
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);

	if (a->fd >= 0) {
		if (a->values)
			munmap(a->values, (a->size + page - 1) / page * page);
		close(a->fd);
		return;
	}
	map_area_free(map, a->values, a->size);
}

int array_mmap_fd(struct bpfvm_map *map)
{
	return to_array(map)->fd;
}

static inline char *slot(const struct array_map *a, uint32_t index, int cpu)
{
	return a->values +
	       ((uint64_t)cpu * a->map.max_entries + index) * a->map.value_stride;
}

static void *array_lookup(struct bpfvm_map *map, const void *key, int cpu)
{
	uint32_t index;

	memcpy(&index, key, 4);
	if (index >= map->max_entries)
		return NULL;
	return slot(to_array(map), index, is_percpu(map) ? cpu : 0);
}

static long array_update(struct bpfvm_map *map, const void *key, const void *value,
			 uint64_t flags, int cpu)
{
	uint32_t index;
	char *v;

	memcpy(&index, key, 4);
	if ((flags & ~BPFVM_F_LOCK) > BPFVM_EXIST)
		return -EINVAL;
	if (index >= map->max_entries)
		return -E2BIG;   /* every element exists: none can be added */
	if (flags & BPFVM_NOEXIST)
		return -EEXIST;
	if ((flags & BPFVM_F_LOCK) && !map->has_spin_lock)
		return -EINVAL;
	v = slot(to_array(map), index, is_percpu(map) ? cpu : 0);
	if ((flags & BPFVM_F_LOCK) && !is_percpu(map))
		map_copy_value_locked(map, v, value, true);
	else
		map_copy_value(map, v, value);
	return 0;
}

static long array_delete(struct bpfvm_map *map, const void *key)
{
	(void)map, (void)key;
	return -EINVAL;
}

int array_get_next_key(struct bpfvm_map *map, const void *key, void *next_key)
{
	uint32_t index = UINT32_MAX, next = 0;

	if (key)
		memcpy(&index, key, 4);
	if (index < map->max_entries) {
		if (index == map->max_entries - 1)
			return -ENOENT;
		next = index + 1;
	}
	memcpy(next_key, &next, 4);
	return 0;
}

static long array_for_each(struct bpfvm_map *map, map_each_fn fn, void *ctx, int cpu)
{
	long n = 0;

	for (uint32_t i = 0; i < map->max_entries; i++) {
		uint32_t key = i;

		n++;
		if (fn(ctx, map, &key, slot(to_array(map), i, is_percpu(map) ? cpu : 0)))
			break;
	}
	return n;
}

static int percpu_sys_lookup(struct bpfvm_map *map, const void *key, void *value, uint64_t flags)
{
	uint32_t index;

	(void)flags;
	memcpy(&index, key, 4);
	if (index >= map->max_entries)
		return -ENOENT;
	for (int cpu = 0; cpu < map->ncpus; cpu++) {
		char *dst = (char *)value + (uint64_t)cpu * map->value_stride;

		memcpy(dst, slot(to_array(map), index, cpu), map->value_stride);
		map_clear_lock(map, dst);
	}
	return 0;
}

static int percpu_sys_update(struct bpfvm_map *map, const void *key, const void *value,
			     uint64_t flags)
{
	uint32_t index;

	memcpy(&index, key, 4);
	if (flags > BPFVM_EXIST)
		return -EINVAL;
	if (index >= map->max_entries)
		return -E2BIG;
	if (flags == BPFVM_NOEXIST)
		return -EEXIST;
	/* Whole 8-byte-rounded slots, as the kernel's copy_map_value_long. */
	for (int cpu = 0; cpu < map->ncpus; cpu++)
		memcpy(slot(to_array(map), index, cpu),
		       (const char *)value + (uint64_t)cpu * map->value_stride, map->value_stride);
	return 0;
}

static int array_direct_value_addr(const struct bpfvm_map *map, uint32_t off, uint64_t *addr)
{
	if (map->max_entries != 1)
		return -BPFVM_ENOTSUPP;
	if (off >= map->value_size)
		return -EINVAL;
	*addr = (uintptr_t)to_array(map)->values;
	return 0;
}

static bool array_owns(const struct bpfvm_map *map, uintptr_t addr, uint64_t size)
{
	const struct array_map *a = to_array(map);
	uintptr_t base = (uintptr_t)a->values;

	if (addr < base || addr - base >= a->size)
		return false;
	return (addr - base) % map->value_stride + size <= map->value_size;
}

const struct map_ops array_map_ops = {
	.obj_size = sizeof(struct array_map),
	.alloc = array_alloc,
	.free = array_free,
	.lookup = array_lookup,
	.update = array_update,
	.delete = array_delete,
	.for_each = array_for_each,
	.get_next_key = array_get_next_key,
	.direct_value_addr = array_direct_value_addr,
	.owns = array_owns,
};

const struct map_ops percpu_array_map_ops = {
	.obj_size = sizeof(struct array_map),
	.alloc = array_alloc,
	.free = array_free,
	.lookup = array_lookup,
	.update = array_update,
	.delete = array_delete,
	.for_each = array_for_each,
	.sys_lookup = percpu_sys_lookup,
	.sys_update = percpu_sys_update,
	.get_next_key = array_get_next_key,
	.owns = array_owns,
};
