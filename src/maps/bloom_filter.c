/*
 * bloom_filter.c - BPF_MAP_TYPE_BLOOM_FILTER: a keyless set that answers
 * "maybe present" or "certainly absent".  push adds a value, peek tests
 * one (0 or -ENOENT); pop, delete and get_next_key are -EOPNOTSUPP.  The
 * bit array and the hashes are the kernel's: max_entries * nr_hashes * 7/5
 * bits rounded up to a power of two (at least 64), nr_hashes from the low
 * 4 bits of map_extra (default 5), hash i = jhash(value, seed + i), so
 * with BPF_F_ZERO_SEED the false positives are the kernel's too.
 */
#include "jhash.h"
#include "map.h"

#include <errno.h>
#include <stdlib.h>

#define BLOOM_CREATE_FLAG_MASK (BPFVM_F_NUMA_NODE | BPFVM_F_ZERO_SEED | MAP_F_ACCESS_MASK)

struct bloom_filter {
	struct bpfvm_map map;
	uint32_t bitset_mask;
	uint32_t nr_hash_funcs;
	uint32_t seed;
	uint64_t *bits;
	uint64_t bytes;
};

static struct bloom_filter *to_bloom(const struct bpfvm_map *map)
{
	return (struct bloom_filter *)map;
}

/* The bit array's size, as bloom_map_alloc() chooses it. */
static uint32_t bitset_mask(uint32_t max_entries, uint32_t nr_hashes)
{
	uint64_t nr_bits = (uint64_t)max_entries * nr_hashes;
	uint32_t bits = 64;

	if (nr_bits > UINT32_MAX || (nr_bits / 5) * 7 > UINT32_MAX)
		return UINT32_MAX;
	nr_bits = (nr_bits / 5) * 7;
	if (nr_bits > (1ull << 31))
		return UINT32_MAX;
	while (bits < nr_bits)
		bits <<= 1;
	return bits - 1;
}

static int bloom_alloc(struct bpfvm_map *map, struct bpfvm_log *log)
{
	struct bloom_filter *b = to_bloom(map);

	if (map->value_size > MAP_KMALLOC_MAX_SIZE) {
		log_printf(log, "value_size %u is too large\n", map->value_size);
		return -E2BIG;
	}
	if (map->key_size != 0 || map->value_size == 0 || map->max_entries == 0 ||
	    (map->map_flags & ~BLOOM_CREATE_FLAG_MASK) || !map_flags_access_ok(map->map_flags) ||
	    (map->map_extra & ~0xfull)) {
		log_printf(log, "bloom filters need key_size 0, value_size > 0, max_entries > 0, "
				"map_extra 0..15\n");
		return -EINVAL;
	}
	b->nr_hash_funcs = map->map_extra ? (uint32_t)map->map_extra : 5;
	b->bitset_mask = bitset_mask(map->max_entries, b->nr_hash_funcs);
	b->bytes = ((uint64_t)b->bitset_mask + 1) / 8;
	b->seed = (map->map_flags & BPFVM_F_ZERO_SEED) ? 0 : map_random_seed();
	b->bits = map_area_alloc(map, b->bytes, false);
	return b->bits ? 0 : -ENOMEM;
}

static void bloom_free(struct bpfvm_map *map)
{
	map_area_free(map, to_bloom(map)->bits, to_bloom(map)->bytes);
}

static inline uint32_t bloom_hash(const struct bloom_filter *b, const void *value, uint32_t i)
{
	return map_jhash(value, b->map.value_size, b->seed + i) & b->bitset_mask;
}

static long bloom_peek(struct bpfvm_map *map, void *value)
{
	struct bloom_filter *b = to_bloom(map);

	for (uint32_t i = 0; i < b->nr_hash_funcs; i++) {
		uint32_t h = bloom_hash(b, value, i);

		if (!(__atomic_load_n(&b->bits[h / 64], __ATOMIC_RELAXED) & (1ull << (h % 64))))
			return -ENOENT;
	}
	return 0;
}

static long bloom_push(struct bpfvm_map *map, const void *value, uint64_t flags)
{
	struct bloom_filter *b = to_bloom(map);

	if (flags != BPFVM_ANY)
		return -EINVAL;
	for (uint32_t i = 0; i < b->nr_hash_funcs; i++) {
		uint32_t h = bloom_hash(b, value, i);

		__atomic_fetch_or(&b->bits[h / 64], 1ull << (h % 64), __ATOMIC_RELAXED);
	}
	return 0;
}

static long bloom_pop(struct bpfvm_map *map, void *value)
{
	(void)map, (void)value;
	return -EOPNOTSUPP;
}

static long bloom_delete(struct bpfvm_map *map, const void *key)
{
	(void)map, (void)key;
	return -EOPNOTSUPP;
}

static int bloom_get_next_key(struct bpfvm_map *map, const void *key, void *next_key)
{
	(void)map, (void)key, (void)next_key;
	return -EOPNOTSUPP;
}

const struct map_ops bloom_filter_map_ops = {
	.obj_size = sizeof(struct bloom_filter),
	.alloc = bloom_alloc,
	.free = bloom_free,
	.delete = bloom_delete,
	.push = bloom_push,
	.pop = bloom_pop,
	.peek = bloom_peek,
	.get_next_key = bloom_get_next_key,
};
