/*
 * perf_event_array.c - BPF_MAP_TYPE_PERF_EVENT_ARRAY.  In the kernel each
 * slot holds a perf event (one per CPU, usually) whose ring buffer
 * bpf_perf_event_output writes into.  bpfvm has no perf events: the
 * embedder names one function (bpfvm_map__set_perf_output) that gets each
 * record with the slot it was written to (the CPU, with BPF_F_CURRENT_CPU).
 * The kernel's errors stay: a slot beyond max_entries is -E2BIG, and
 * without an output function -ENOENT, as an empty slot.
 */
#include "map.h"

#include <errno.h>

#define PERF_F_INDEX_MASK 0xffffffffull
#define PERF_F_CURRENT_CPU PERF_F_INDEX_MASK

struct perf_event_array {
	struct bpfvm_map map;
	uint32_t lock;
	bpfvm_perf_fn fn;
	void *ctx;
};

static struct perf_event_array *to_pea(const struct bpfvm_map *map)
{
	return (struct perf_event_array *)map;
}

static int pea_alloc(struct bpfvm_map *map, struct bpfvm_log *log)
{
	/* The kernel's fd_array_map_alloc_check(): slots hold fds. */
	if (map->value_size != 4 || (map->map_flags & (BPFVM_F_RDONLY_PROG | BPFVM_F_WRONLY_PROG))) {
		log_printf(log, "perf event arrays hold fds: value_size 4, no program access flags\n");
		return -EINVAL;
	}
	return array_alloc_check(map, log);
}

int bpfvm_map__set_perf_output(struct bpfvm_map *map, bpfvm_perf_fn fn, void *ctx)
{
	struct perf_event_array *p;

	if (!map || map->type != BPFVM_MAP_TYPE_PERF_EVENT_ARRAY)
		return -EINVAL;
	p = to_pea(map);
	map_lock(&p->lock);
	p->fn = fn;
	p->ctx = ctx;
	map_unlock(&p->lock);
	return 0;
}

long perf_event_array_output(struct bpfvm_map *map, uint64_t flags, int cpu, const void *data,
			     uint64_t size)
{
	struct perf_event_array *p = to_pea(map);
	uint64_t index = flags & PERF_F_INDEX_MASK;
	bpfvm_perf_fn fn;
	void *ctx;

	if (flags & ~PERF_F_INDEX_MASK)
		return -EINVAL;
	if (index == PERF_F_CURRENT_CPU)
		index = (uint64_t)cpu;
	if (index >= map->max_entries)
		return -E2BIG;
	map_lock(&p->lock);
	fn = p->fn;
	ctx = p->ctx;
	map_unlock(&p->lock);
	if (!fn)
		return -ENOENT;
	fn(ctx, (int)index, data, (size_t)size);
	return 0;
}

static long pea_delete(struct bpfvm_map *map, const void *key)
{
	uint32_t index;

	memcpy(&index, key, 4);
	return index >= map->max_entries ? -EINVAL : -ENOENT;
}

const struct map_ops perf_event_array_map_ops = {
	.obj_size = sizeof(struct perf_event_array),
	.alloc = pea_alloc,
	.delete = pea_delete,
	.get_next_key = array_get_next_key,
};
