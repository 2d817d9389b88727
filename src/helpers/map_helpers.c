/*
 * map_helpers.c - the helpers programs reach maps with: lookup (a pointer
 * into the map's storage; per-CPU maps give the slot of the run's CPU),
 * update, delete, push/pop/peek for queues, stacks and bloom filters,
 * lookup_percpu_elem, and bpf_spin_lock/unlock on a lock inside a value.
 *
 * The kernel's verifier refuses a program that passes a map to a helper
 * its type does not support (a ring buffer to map_lookup_elem) or writes
 * a BPF_F_RDONLY_PROG map; without a verifier yet, a checked run stops
 * there with the verifier's words, and an unchecked one gets an error
 * (NULL for lookups).
 */
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <time.h>

#include "../core/run.h"
#include "../maps/map.h"
#include "helpers.h"

static uint64_t refuse(struct bpfvm_run_ctx *run, const struct bpfvm_map *map, uint32_t id,
		       int64_t ret)
{
	if (run->checked)
		vm_run_fault(run, -EINVAL, "cannot pass map_type %u into func %s#%u", map->type,
			     helper_info(id)->name, id);
	return (uint64_t)ret;
}

static uint64_t write_forbidden(struct bpfvm_run_ctx *run, const struct bpfvm_map *map,
				uint32_t id)
{
	if (run->checked)
		vm_run_fault(run, -EACCES, "%s#%u: write into map forbidden (BPF_F_RDONLY_PROG), "
					   "value_size=%u",
			     helper_info(id)->name, id, map->value_size);
	return HELPER_ERR(-EPERM);
}

static inline struct bpfvm_map *arg_map(uint64_t r)
{
	return (struct bpfvm_map *)(uintptr_t)r;
}

BPF_HELPER(map_lookup_elem)
{
	struct bpfvm_map *map = arg_map(r1);
	void *p;

	if (!map->ops->lookup)
		return refuse(run, map, HELPER_ID_map_lookup_elem, 0);
	p = map_lookup_fast(map, (const void *)(uintptr_t)r2, run->cpu);
	if (p && run->checked)
		vm_run_note_map(run, map);
	return (uintptr_t)p;
}

BPF_HELPER(map_update_elem)
{
	struct bpfvm_map *map = arg_map(r1);

	if (!map->ops->update)
		return refuse(run, map, HELPER_ID_map_update_elem, -EINVAL);
	if (map->map_flags & BPFVM_F_RDONLY_PROG)
		return write_forbidden(run, map, HELPER_ID_map_update_elem);
	return (uint64_t)map->ops->update(map, (const void *)(uintptr_t)r2,
					  (const void *)(uintptr_t)r3, r4, run->cpu);
}

BPF_HELPER(map_delete_elem)
{
	struct bpfvm_map *map = arg_map(r1);

	if (!map->ops->delete || map->type == BPFVM_MAP_TYPE_PROG_ARRAY)
		return refuse(run, map, HELPER_ID_map_delete_elem, -EINVAL);
	if (map->map_flags & BPFVM_F_RDONLY_PROG)
		return write_forbidden(run, map, HELPER_ID_map_delete_elem);
	return (uint64_t)map->ops->delete(map, (const void *)(uintptr_t)r2);
}

BPF_HELPER(map_push_elem)
{
	struct bpfvm_map *map = arg_map(r1);

	if (!map->ops->push)
		return refuse(run, map, HELPER_ID_map_push_elem, -EINVAL);
	if (map->map_flags & BPFVM_F_RDONLY_PROG)
		return write_forbidden(run, map, HELPER_ID_map_push_elem);
	return (uint64_t)map->ops->push(map, (const void *)(uintptr_t)r2, r3);
}

BPF_HELPER(map_pop_elem)
{
	struct bpfvm_map *map = arg_map(r1);

	if (!map->ops->pop || map->type == BPFVM_MAP_TYPE_BLOOM_FILTER)
		return refuse(run, map, HELPER_ID_map_pop_elem, -EINVAL);
	if (map->map_flags & BPFVM_F_RDONLY_PROG)
		return write_forbidden(run, map, HELPER_ID_map_pop_elem);
	return (uint64_t)map->ops->pop(map, (void *)(uintptr_t)r2);
}

BPF_HELPER(map_peek_elem)
{
	struct bpfvm_map *map = arg_map(r1);

	if (!map->ops->peek)
		return refuse(run, map, HELPER_ID_map_peek_elem, -EINVAL);
	return (uint64_t)map->ops->peek(map, (void *)(uintptr_t)r2);
}

/* Another CPU's slot of a per-CPU map; NULL for a CPU that is not possible. */
BPF_HELPER(map_lookup_percpu_elem)
{
	struct bpfvm_map *map = arg_map(r1);
	void *p;

	if (map->type != BPFVM_MAP_TYPE_PERCPU_ARRAY && map->type != BPFVM_MAP_TYPE_PERCPU_HASH &&
	    map->type != BPFVM_MAP_TYPE_LRU_PERCPU_HASH)
		return refuse(run, map, HELPER_ID_map_lookup_percpu_elem, 0);
	if (r3 >= (uint64_t)map->ncpus)
		return 0;
	p = map->ops->lookup(map, (const void *)(uintptr_t)r2, (int)r3);
	if (p && run->checked)
		vm_run_note_map(run, map);
	return (uintptr_t)p;
}

/* How long a checked run waits for a lock another thread holds. */
#define SPIN_LOCK_PATIENCE_NS 1000000000ull

static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * A checked run has no verifier behind it, so it enforces at run time
 * what the kernel's verifier proves: the lock is a word in a map value,
 * a program holds one lock at a time, and it never waits forever (a word
 * that is not a lock, or one held elsewhere for too long, is an error).
 */
static uint64_t checked_spin_lock(uint64_t addr, struct bpfvm_run_ctx *run)
{
	uint32_t *lock = (uint32_t *)(uintptr_t)addr;
	uint64_t deadline = 0;

	if (run->held_lock) {
		vm_run_fault(run, -EINVAL, "Locking two bpf_spin_locks are not allowed");
		return 0;
	}
	if (addr % 4 || !maps_access_ok(run, addr, 4, true)) {
		vm_run_fault(run, -EINVAL, "bpf_spin_lock: R1 (0x%" PRIx64 ") is not a "
					   "bpf_spin_lock in a map value", addr);
		return 0;
	}
	while (__atomic_exchange_n(lock, 1, __ATOMIC_ACQUIRE)) {
		if (!deadline)
			deadline = monotonic_ns() + SPIN_LOCK_PATIENCE_NS;
		else if (monotonic_ns() > deadline) {
			vm_run_fault(run, -EDEADLK, "bpf_spin_lock: the lock at 0x%" PRIx64
						    " stayed taken for 1 s", addr);
			return 0;
		}
		sched_yield();
	}
	run->held_lock = addr;
	return 0;
}

/* struct bpf_spin_lock is a u32: 0 unlocked, as the kernel's. */
BPF_HELPER(spin_lock)
{
	if (run->checked)
		return checked_spin_lock(r1, run);
	map_lock((uint32_t *)(uintptr_t)r1);
	return 0;
}

BPF_HELPER(spin_unlock)
{
	if (run->checked) {
		if (!run->held_lock) {
			vm_run_fault(run, -EINVAL, "bpf_spin_unlock without taking a lock");
			return 0;
		}
		if (run->held_lock != r1) {
			vm_run_fault(run, -EINVAL, "bpf_spin_unlock of different lock");
			return 0;
		}
		run->held_lock = 0;
	}
	map_unlock((uint32_t *)(uintptr_t)r1);
	return 0;
}
