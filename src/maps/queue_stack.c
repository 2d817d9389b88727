/*
 * queue_stack.c - BPF_MAP_TYPE_QUEUE (first in, first out) and
 * BPF_MAP_TYPE_STACK (last in, first out): keyless maps of up to
 * max_entries values in a ring of max_entries + 1 slots.  As the kernel:
 * push on a full map is -E2BIG unless BPF_EXIST, which drops the oldest
 * value to make room; pop or peek on an empty map is -ENOENT with the
 * value zeroed; lookup, update, delete and get_next_key are -EINVAL.
 */
#include "map.h"

#include <errno.h>
#include <stdlib.h>

#define QUEUE_STACK_CREATE_FLAG_MASK (BPFVM_F_NUMA_NODE | MAP_F_ACCESS_MASK)

struct queue_stack {
	struct bpfvm_map map;
	uint32_t lock;
	uint32_t head, tail;   /* push at head, a queue takes at tail */
	uint32_t size;         /* max_entries + 1 */
	char *elements;
	uint64_t bytes;
};

static struct queue_stack *to_qs(const struct bpfvm_map *map)
{
	return (struct queue_stack *)map;
}

static int qs_alloc(struct bpfvm_map *map, struct bpfvm_log *log)
{
	struct queue_stack *qs = to_qs(map);

	if (map->max_entries == 0 || map->key_size != 0 || map->value_size == 0 ||
	    (map->map_flags & ~QUEUE_STACK_CREATE_FLAG_MASK) || !map_flags_access_ok(map->map_flags)) {
		log_printf(log, "queues and stacks need key_size 0, value_size > 0, "
				"max_entries > 0\n");
		return -EINVAL;
	}
	if (map->value_size > MAP_KMALLOC_MAX_SIZE || map->max_entries >= UINT32_MAX / map->value_size) {
		log_printf(log, "%u values of %u bytes are too many\n", map->max_entries,
			   map->value_size);
		return -E2BIG;
	}
	qs->size = map->max_entries + 1;
	qs->bytes = (uint64_t)qs->size * map->value_size;
	qs->elements = map_area_alloc(map, qs->bytes, false);
	if (!qs->elements)
		return -ENOMEM;
	return 0;
}

static void qs_free(struct bpfvm_map *map)
{
	map_area_free(map, to_qs(map)->elements, to_qs(map)->bytes);
}

static long qs_get(struct bpfvm_map *map, void *value, bool delete, bool stack)
{
	struct queue_stack *qs = to_qs(map);
	uint32_t index;

	map_lock(&qs->lock);
	if (qs->head == qs->tail) {
		map_unlock(&qs->lock);
		memset(value, 0, map->value_size);
		return -ENOENT;
	}
	if (stack)
		index = qs->head ? qs->head - 1 : qs->size - 1;
	else
		index = qs->tail;
	memcpy(value, qs->elements + (uint64_t)index * map->value_size, map->value_size);
	if (delete && stack)
		qs->head = index;
	else if (delete)
		qs->tail = qs->tail + 1 >= qs->size ? 0 : qs->tail + 1;
	map_unlock(&qs->lock);
	return 0;
}

static long queue_pop(struct bpfvm_map *map, void *value)
{
	return qs_get(map, value, true, false);
}

static long queue_peek(struct bpfvm_map *map, void *value)
{
	return qs_get(map, value, false, false);
}

static long stack_pop(struct bpfvm_map *map, void *value)
{
	return qs_get(map, value, true, true);
}

static long stack_peek(struct bpfvm_map *map, void *value)
{
	return qs_get(map, value, false, true);
}

static long qs_push(struct bpfvm_map *map, const void *value, uint64_t flags)
{
	struct queue_stack *qs = to_qs(map);
	uint32_t next;

	if ((flags & BPFVM_NOEXIST) || flags > BPFVM_EXIST)
		return -EINVAL;
	map_lock(&qs->lock);
	next = qs->head + 1 >= qs->size ? 0 : qs->head + 1;
	if (next == qs->tail) {
		if (!(flags & BPFVM_EXIST)) {
			map_unlock(&qs->lock);
			return -E2BIG;
		}
		/* BPF_EXIST: the oldest value makes room. */
		qs->tail = qs->tail + 1 >= qs->size ? 0 : qs->tail + 1;
	}
	memcpy(qs->elements + (uint64_t)qs->head * map->value_size, value, map->value_size);
	qs->head = next;
	map_unlock(&qs->lock);
	return 0;
}

static long qs_delete(struct bpfvm_map *map, const void *key)
{
	(void)map, (void)key;
	return -EINVAL;
}

static int qs_get_next_key(struct bpfvm_map *map, const void *key, void *next_key)
{
	(void)map, (void)key, (void)next_key;
	return -EINVAL;
}

const struct map_ops queue_map_ops = {
	.obj_size = sizeof(struct queue_stack),
	.alloc = qs_alloc,
	.free = qs_free,
	.delete = qs_delete,
	.push = qs_push,
	.pop = queue_pop,
	.peek = queue_peek,
	.get_next_key = qs_get_next_key,
};

const struct map_ops stack_map_ops = {
	.obj_size = sizeof(struct queue_stack),
	.alloc = qs_alloc,
	.free = qs_free,
	.delete = qs_delete,
	.push = qs_push,
	.pop = stack_pop,
	.peek = stack_peek,
	.get_next_key = qs_get_next_key,
};
