/*
 * stack_trace.c - BPF_MAP_TYPE_STACK_TRACE as kernel/bpf/stackmap.c keeps
 * it: n_buckets = max_entries rounded up to a power of two, a stack goes
 * to bucket jhash2(ips) & (n_buckets - 1), and max_entries stacks exist
 * at most (the kernel's preallocated elements: one more is -ENOMEM).
 * bpf_get_stackid's half (stack_map_get_id) decides as stackid_fastpath
 * and stackid_install: the same stack gets its bucket's id again, another
 * stack in a taken bucket -EEXIST unless BPF_F_REUSE_STACKID replaces it,
 * BPF_F_FAST_STACK_CMP trusts the hash alone; with BPF_F_STACK_BUILD_ID
 * the frames are struct bpf_stack_build_id, compared after resolving.
 * User space looks up a bucket (its frames, zero-padded to value_size),
 * deletes it, and walks the taken ids; an update is -EINVAL.
 */
#include "map.h"

#include <errno.h>
#include <stdlib.h>

#include "jhash.h"

#define STACK_CREATE_FLAG_MASK \
	(BPFVM_F_NUMA_NODE | BPFVM_F_RDONLY | BPFVM_F_WRONLY | BPFVM_F_STACK_BUILD_ID)
#define STACK_SKIP_MASK 0xffull          /* BPF_F_SKIP_FIELD_MASK */
#define STACK_USER (1ull << 8)           /* BPF_F_USER_STACK */
#define STACK_FAST_CMP (1ull << 9)       /* BPF_F_FAST_STACK_CMP */
#define STACK_REUSE (1ull << 10)         /* BPF_F_REUSE_STACKID */

struct stack_bucket {
	uint32_t hash;
	uint32_t nr;
	uint64_t data[];   /* nr ips, or nr struct stack_build_id */
};

struct stack_trace_map {
	struct bpfvm_map map;
	uint32_t lock;
	uint32_t n_buckets;
	uint32_t used;     /* buckets taken: at most max_entries */
	struct stack_bucket **buckets;
};

static struct stack_trace_map *to_st(const struct bpfvm_map *map)
{
	return (struct stack_trace_map *)map;
}

static bool use_build_id(const struct bpfvm_map *map)
{
	return map->map_flags & BPFVM_F_STACK_BUILD_ID;
}

uint32_t stack_map_elem_size(const struct bpfvm_map *map)
{
	return use_build_id(map) ? STACK_BUILD_ID_SIZE : 8;
}

uint32_t stack_max_depth(uint32_t size, uint32_t elem_size, uint64_t flags)
{
	uint32_t depth = size / elem_size + (uint32_t)(flags & STACK_SKIP_MASK);

	return depth > STACK_MAX_DEPTH ? STACK_MAX_DEPTH : depth;
}

static int invalid(const struct bpfvm_map *map, struct bpfvm_log *log, const char *what)
{
	log_printf(log, "BPF_MAP_TYPE_STACK_TRACE '%s': %s\n", map->name, what);
	return -EINVAL;
}

/* The kernel's stack_map_alloc checks. */
static int st_alloc(struct bpfvm_map *map, struct bpfvm_log *log)
{
	struct stack_trace_map *st = to_st(map);
	uint32_t value = map->value_size;

	if (map->map_flags & ~STACK_CREATE_FLAG_MASK)
		return invalid(map, log, "flags other than BPF_F_NUMA_NODE, BPF_F_RDONLY, "
					 "BPF_F_WRONLY and BPF_F_STACK_BUILD_ID");
	if (!map->max_entries || map->key_size != 4 || value < 8 || value % 8)
		return invalid(map, log, "needs key_size 4, value_size a multiple of 8 and "
					 "max_entries > 0");
	if (use_build_id(map)) {
		if (value % STACK_BUILD_ID_SIZE || value / STACK_BUILD_ID_SIZE > STACK_MAX_DEPTH)
			return invalid(map, log, "with BPF_F_STACK_BUILD_ID, value_size must be a "
						 "multiple of 32 bytes, at most 127 frames");
	} else if (value / 8 > STACK_MAX_DEPTH) {
		return invalid(map, log, "value_size holds more than 127 frames (the kernel's "
					 "perf_event_max_stack)");
	}
	if (map->max_entries > 1u << 31) {
		log_printf(log, "BPF_MAP_TYPE_STACK_TRACE '%s': max_entries %u is over 2^31\n",
			   map->name, map->max_entries);
		return -E2BIG;
	}
	st->n_buckets = 1;
	while (st->n_buckets < map->max_entries)
		st->n_buckets <<= 1;
	st->buckets = calloc(st->n_buckets, sizeof(*st->buckets));
	return st->buckets ? 0 : -ENOMEM;
}

static void st_free(struct bpfvm_map *map)
{
	struct stack_trace_map *st = to_st(map);

	for (uint32_t i = 0; i < st->n_buckets; i++)
		free(st->buckets[i]);
	free(st->buckets);
}

static bool same_frames(const struct stack_bucket *b, uint32_t hash, uint32_t nr,
			const void *data, size_t len)
{
	return b && b->hash == hash && b->nr == nr && !memcmp(b->data, data, len);
}

/* Put a new bucket at id (under the lock): the old one goes back to the free elements. */
static long install(struct stack_trace_map *st, uint32_t id, uint32_t hash, uint32_t nr,
		    const void *data, size_t len)
{
	struct stack_bucket *b = malloc(sizeof(*b) + len);

	if (!b)
		return -ENOMEM;
	b->hash = hash;
	b->nr = nr;
	memcpy(b->data, data, len);
	if (st->buckets[id])
		free(st->buckets[id]);
	else
		st->used++;
	st->buckets[id] = b;
	return id;
}

long stack_map_get_id(struct bpfvm_map *map, const uint64_t *trace, uint32_t trace_nr,
		      uint64_t flags, stack_build_ids_fn build_ids, void *ctx)
{
	struct stack_trace_map *st = to_st(map);
	uint32_t skip = (uint32_t)(flags & STACK_SKIP_MASK), nr, hash, id;
	uint32_t depth = stack_max_depth(map->value_size, stack_map_elem_size(map), flags);
	struct stack_build_id ids[STACK_MAX_DEPTH];
	const struct stack_bucket *b;
	long ret;

	if (trace_nr <= skip)
		return -EFAULT;   /* nothing left after the skip */
	nr = trace_nr - skip < depth - skip ? trace_nr - skip : depth - skip;
	trace += skip;
	hash = jhash_words((const uint8_t *)trace, nr * 2, 0);
	id = hash & (st->n_buckets - 1);
	map_lock(&st->lock);
	b = st->buckets[id];
	if (b && b->hash == hash && (flags & STACK_FAST_CMP)) {
		ret = id;
	} else if (!use_build_id(map)) {
		if (same_frames(b, hash, nr, trace, nr * 8ull))
			ret = id;
		else if (b && !(flags & STACK_REUSE))
			ret = -EEXIST;
		else if (st->used >= map->max_entries)
			ret = -ENOMEM;   /* no free element (the old one is freed after) */
		else
			ret = install(st, id, hash, nr, trace, nr * 8ull);
	} else if (st->used >= map->max_entries) {
		ret = -ENOMEM;   /* the kernel takes a free element before resolving */
	} else {
		memset(ids, 0, sizeof(ids));
		for (uint32_t i = 0; i < nr; i++)
			ids[i].ip = trace[i];
		build_ids(ctx, ids, nr, (flags & STACK_USER) != 0);
		if (same_frames(b, hash, nr, ids, nr * sizeof(ids[0])))
			ret = id;
		else if (b && !(flags & STACK_REUSE))
			ret = -EEXIST;
		else
			ret = install(st, id, hash, nr, ids, nr * sizeof(ids[0]));
	}
	map_unlock(&st->lock);
	return ret;
}

static uint32_t key_id(const void *key)
{
	uint32_t id;

	memcpy(&id, key, 4);
	return id;
}

/* bpf_stackmap_copy: the frames, then zeroes to value_size. */
static int st_sys_lookup(struct bpfvm_map *map, const void *key, void *value, uint64_t flags)
{
	struct stack_trace_map *st = to_st(map);
	uint32_t id = key_id(key);
	size_t len;
	int err = -ENOENT;

	(void)flags;
	map_lock(&st->lock);
	if (id < st->n_buckets && st->buckets[id]) {
		len = st->buckets[id]->nr * (size_t)stack_map_elem_size(map);
		memcpy(value, st->buckets[id]->data, len);
		memset((char *)value + len, 0, map->value_size - len);
		err = 0;
	}
	map_unlock(&st->lock);
	return err;
}

static int st_sys_update(struct bpfvm_map *map, const void *key, const void *value,
			 uint64_t flags)
{
	(void)map, (void)key, (void)value, (void)flags;
	return -EINVAL;
}

static long st_delete(struct bpfvm_map *map, const void *key)
{
	struct stack_trace_map *st = to_st(map);
	uint32_t id = key_id(key);
	long err = -ENOENT;

	if (id >= st->n_buckets)
		return -E2BIG;
	map_lock(&st->lock);
	if (st->buckets[id]) {
		free(st->buckets[id]);
		st->buckets[id] = NULL;
		st->used--;
		err = 0;
	}
	map_unlock(&st->lock);
	return err;
}

/* stack_map_get_next_key: from 0 when key is absent, out of range or not taken. */
static int st_get_next_key(struct bpfvm_map *map, const void *key, void *next_key)
{
	struct stack_trace_map *st = to_st(map);
	uint32_t id = 0;

	map_lock(&st->lock);
	if (key) {
		id = key_id(key);
		id = id >= st->n_buckets || !st->buckets[id] ? 0 : id + 1;
	}
	while (id < st->n_buckets && !st->buckets[id])
		id++;
	map_unlock(&st->lock);
	if (id >= st->n_buckets)
		return -ENOENT;
	memcpy(next_key, &id, 4);
	return 0;
}

const struct map_ops stack_trace_map_ops = {
	.obj_size = sizeof(struct stack_trace_map),
	.alloc = st_alloc,
	.free = st_free,
	.delete = st_delete,
	.sys_lookup = st_sys_lookup,
	.sys_update = st_sys_update,
	.get_next_key = st_get_next_key,
};
