/*
 * map_sys.c - the embedder's side of maps: bpfvm_map__lookup_elem and
 * friends behave as bpf(BPF_MAP_*_ELEM) does.  The checks before the
 * type is asked are the kernel's syscall.c ones, in its order: unknown
 * flags, BPF_F_RDONLY / BPF_F_WRONLY (-EPERM), BPF_F_LOCK without a
 * bpf_spin_lock in the value; then queues, stacks and bloom filters map
 * lookup/update onto peek/push, and per-CPU maps copy every CPU's slot.
 */
#include "map.h"

#include <errno.h>
#include <sched.h>


static bool is_keyless(const struct bpfvm_map *map)
{
	return map->type == BPFVM_MAP_TYPE_QUEUE || map->type == BPFVM_MAP_TYPE_STACK ||
	       map->type == BPFVM_MAP_TYPE_BLOOM_FILTER;
}

static bool is_fd_map(const struct bpfvm_map *map)
{
	return map->type == BPFVM_MAP_TYPE_PROG_ARRAY ||
	       map->type == BPFVM_MAP_TYPE_PERF_EVENT_ARRAY ||
	       map->type == BPFVM_MAP_TYPE_ARRAY_OF_MAPS || map->type == BPFVM_MAP_TYPE_HASH_OF_MAPS;
}

/* The CPU the caller is on: which LRU list a syscall-side insert uses. */
static int this_cpu(const struct bpfvm_map *map)
{
	int cpu = sched_getcpu();

	return cpu < 0 ? 0 : cpu % map->ncpus;
}

/* The kernel's map_get_sys_perms: no write through a read-only map, or a frozen one. */
static bool sys_may_write(const struct bpfvm_map *map)
{
	return !(map->map_flags & BPFVM_F_RDONLY) && !__atomic_load_n(&map->frozen, __ATOMIC_ACQUIRE);
}

/* The kernel copies keys and values from user memory: NULL faults. */
static int check_ptrs(const struct bpfvm_map *map, const void *key, const void *value)
{
	if (!map)
		return -EINVAL;
	if ((map->key_size && !key) || !value)
		return -EFAULT;
	return 0;
}

int bpfvm_map__lookup_elem(struct bpfvm_map *map, const void *key, void *value, uint64_t flags)
{
	int err = check_ptrs(map, key, value);
	void *p;

	if (err)
		return err;
	if (flags & ~BPFVM_F_LOCK)
		return -EINVAL;
	if (map->map_flags & BPFVM_F_WRONLY)
		return -EPERM;
	if ((flags & BPFVM_F_LOCK) && !map->has_spin_lock)
		return -EINVAL;
	if (is_keyless(map))
		return map->ops->peek ? (int)map->ops->peek(map, value) : -EINVAL;
	if (map->ops->sys_lookup)
		return map->ops->sys_lookup(map, key, value, flags);
	if (!map->ops->lookup)
		return -BPFVM_ENOTSUPP;
	p = map->ops->lookup(map, key, this_cpu(map));
	if (!p)
		return -ENOENT;
	if (flags & BPFVM_F_LOCK)
		map_copy_value_locked(map, value, p, false);
	else
		memcpy(value, p, map->value_size);
	map_clear_lock(map, value);
	return 0;
}

int bpfvm_map__update_elem(struct bpfvm_map *map, const void *key, const void *value,
			   uint64_t flags)
{
	int err = check_ptrs(map, key, value);

	if (err)
		return err;
	if (!sys_may_write(map))
		return -EPERM;
	if ((flags & BPFVM_F_LOCK) && !map->has_spin_lock)
		return -EINVAL;
	if (is_keyless(map))
		return map->ops->push ? (int)map->ops->push(map, value, flags) : -EINVAL;
	if (is_fd_map(map))   /* slots hold objects: bpfvm_map__set_prog / set_inner */
		return -BPFVM_ENOTSUPP;
	if (map->ops->sys_update)
		return map->ops->sys_update(map, key, value, flags);
	if (!map->ops->update)
		return -BPFVM_ENOTSUPP;
	return (int)map->ops->update(map, key, value, flags, this_cpu(map));
}

int bpfvm_map__delete_elem(struct bpfvm_map *map, const void *key)
{
	if (!map)
		return -EINVAL;
	if (map->key_size && !key)
		return -EFAULT;
	if (!sys_may_write(map))
		return -EPERM;
	return map->ops->delete ? (int)map->ops->delete(map, key) : -EINVAL;
}

int bpfvm_map__lookup_and_delete_elem(struct bpfvm_map *map, const void *key, void *value,
				      uint64_t flags)
{
	int err = check_ptrs(map, key, value);

	if (err)
		return err;
	if (flags & ~BPFVM_F_LOCK)
		return -EINVAL;
	if (!sys_may_write(map) || (map->map_flags & BPFVM_F_WRONLY))
		return -EPERM;
	if (flags && (map->type == BPFVM_MAP_TYPE_QUEUE || map->type == BPFVM_MAP_TYPE_STACK))
		return -EINVAL;
	if ((flags & BPFVM_F_LOCK) && !map->has_spin_lock)
		return -EINVAL;
	if (map->type == BPFVM_MAP_TYPE_QUEUE || map->type == BPFVM_MAP_TYPE_STACK)
		return (int)map->ops->pop(map, value);
	if (!map->ops->sys_lookup_and_delete)
		return -BPFVM_ENOTSUPP;
	return map->ops->sys_lookup_and_delete(map, key, value, flags);
}

int bpfvm_map__get_next_key(struct bpfvm_map *map, const void *key, void *next_key)
{
	if (!map)
		return -EINVAL;
	if (map->key_size && !next_key)
		return -EFAULT;
	if (map->map_flags & BPFVM_F_WRONLY)
		return -EPERM;
	return map->ops->get_next_key ? map->ops->get_next_key(map, key, next_key) : -EINVAL;
}

int bpfvm_map__set_prog(struct bpfvm_map *map, uint32_t index, struct bpfvm_prog *prog)
{
	if (!map || map->type != BPFVM_MAP_TYPE_PROG_ARRAY)
		return -EINVAL;
	if (!sys_may_write(map))
		return -EPERM;
	return prog_array_set(map, index, prog);
}

int bpfvm_map__set_inner(struct bpfvm_map *map, const void *key, struct bpfvm_map *inner)
{
	if (!map || !key || (map->type != BPFVM_MAP_TYPE_ARRAY_OF_MAPS &&
			     map->type != BPFVM_MAP_TYPE_HASH_OF_MAPS))
		return -EINVAL;
	if (!sys_may_write(map))
		return -EPERM;
	return map_in_map_set(map, key, inner);
}

int bpfvm_map__freeze(struct bpfvm_map *map)
{
	int no = 0;

	if (!map)
		return -EINVAL;
	if (map->has_spin_lock)
		return -BPFVM_ENOTSUPP; /* the kernel's: a value with a bpf_spin_lock */
	if (!sys_may_write(map))
		return -EPERM;      /* read-only, or frozen already: no write to give up */
	if (!__atomic_compare_exchange_n(&map->frozen, &no, 1, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE))
		return -EBUSY;      /* frozen by another thread meanwhile */
	return 0;
}

bool bpfvm_map__frozen(const struct bpfvm_map *map)
{
	return map && __atomic_load_n(&map->frozen, __ATOMIC_ACQUIRE);
}
