/*
 * hash.c - BPF_MAP_TYPE_HASH, PERCPU_HASH, LRU_HASH, LRU_PERCPU_HASH and
 * HASH_OF_MAPS: the kernel's hashtab.c semantics on the table htab.h
 * describes.
 *
 * What a user can observe is the kernel's: BPF_NOEXIST on a present key
 * is -EEXIST, BPF_EXIST on a missing one -ENOENT, a full table refuses a
 * new key with -E2BIG but still replaces a present one, an LRU table
 * evicts instead, keys hash with jhash into a power-of-two number of
 * buckets and a new element goes to the head of its bucket, so with
 * BPF_F_ZERO_SEED get_next_key walks keys in the kernel's order.
 * Replacing a key links a new element before unlinking the old one, so a
 * concurrent reader sees the old value or the new one, never a mix.
 */
#include "htab.h"
#include "jhash.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>


#define HTAB_CREATE_FLAG_MASK                                                       \
	(BPFVM_F_NO_PREALLOC | BPFVM_F_NO_COMMON_LRU | BPFVM_F_NUMA_NODE | MAP_F_ACCESS_MASK | \
	 BPFVM_F_ZERO_SEED)
#define HTAB_HDR_SIZE ((uint32_t)sizeof(struct htab_elem))
#define HTAB_POPULATE_MAX (64u << 20)   /* slabs up to this are touched at creation */

static struct htab *to_htab(const struct bpfvm_map *map)
{
	return (struct htab *)map;
}

/* ---- creation ------------------------------------------------------------ */

/* The kernel's htab_map_alloc_check(). */
static int htab_check(const struct bpfvm_map *map, bool percpu, bool lru, struct bpfvm_log *log)
{
	uint32_t flags = map->map_flags;
	bool percpu_lru = flags & BPFVM_F_NO_COMMON_LRU, prealloc = !(flags & BPFVM_F_NO_PREALLOC);

	if ((flags & ~HTAB_CREATE_FLAG_MASK) || !map_flags_access_ok(flags) || (!lru && percpu_lru)) {
		log_printf(log, "unknown or inconsistent flags 0x%x for a hash map\n", flags);
		return -EINVAL;
	}
	if (lru && !prealloc) {
		log_printf(log, "LRU hash maps are always preallocated: no BPF_F_NO_PREALLOC\n");
		return -BPFVM_ENOTSUPP;
	}
	if ((flags & BPFVM_F_NUMA_NODE) && (percpu || percpu_lru)) {
		log_printf(log, "BPF_F_NUMA_NODE does not go with per-CPU storage\n");
		return -EINVAL;
	}
	if (map->max_entries == 0 || map->key_size == 0 || map->value_size == 0) {
		log_printf(log, "hash maps need key_size, value_size and max_entries > 0\n");
		return -EINVAL;
	}
	if ((uint64_t)map->key_size + map->value_size >= MAP_KMALLOC_MAX_SIZE - MAP_HTAB_ELEM_SIZE ||
	    (percpu && map->value_stride > MAP_PCPU_MIN_UNIT_SIZE)) {
		log_printf(log, "key and value of %u + %u bytes are too large\n", map->key_size,
			   map->value_size);
		return -E2BIG;
	}
	return 0;
}

/* Sizes, as htab_map_alloc() computes them; -E2BIG where it refuses. */
static int htab_size(struct htab *h, struct bpfvm_log *log)
{
	struct bpfvm_map *map = &h->map;
	uint32_t n = map->ncpus;

	if (map->map_flags & BPFVM_F_NO_COMMON_LRU) {
		/* Every CPU's list gets the same number of elements. */
		uint64_t up = ((uint64_t)map->max_entries + n - 1) / n * n;

		map->max_entries = up <= UINT32_MAX ? (uint32_t)up : map->max_entries / n * n;
	}
	if (map->max_entries > (1u << 31) || map_roundup_pow2(map->max_entries) > UINT32_MAX / 16) {
		log_printf(log, "max_entries %u is too large for a hash map\n", map->max_entries);
		return -E2BIG;
	}
	h->n_buckets = map_roundup_pow2(map->max_entries);
	h->value_off = HTAB_HDR_SIZE + ((map->key_size + 7) & ~7u);
	h->elem_size = h->value_off + map->value_stride * (h->percpu ? map->ncpus : 1);
	/* Non-LRU tables keep spare elements so a replace can link before it unlinks. */
	h->capacity = map->max_entries + (h->lru ? 0 : (uint32_t)map->ncpus);
	h->slab_size = (uint64_t)h->capacity * h->elem_size;
	return 0;
}

static int htab_alloc(struct bpfvm_map *map, struct bpfvm_log *log)
{
	struct htab *h = to_htab(map);
	int err;

	h->percpu = map->type == BPFVM_MAP_TYPE_PERCPU_HASH ||
		    map->type == BPFVM_MAP_TYPE_LRU_PERCPU_HASH;
	h->lru = map->type == BPFVM_MAP_TYPE_LRU_HASH || map->type == BPFVM_MAP_TYPE_LRU_PERCPU_HASH;
	h->of_maps = map->type == BPFVM_MAP_TYPE_HASH_OF_MAPS;
	err = htab_check(map, h->percpu, h->lru, log);
	if (!err)
		err = htab_size(h, log);
	if (err)
		return err;
	h->seed = (map->map_flags & BPFVM_F_ZERO_SEED) ? 0 : map_random_seed();
	h->buckets = map_area_alloc(map, (uint64_t)h->n_buckets * sizeof(*h->buckets), false);
	h->slab = map_area_alloc(map, h->slab_size, h->slab_size <= HTAB_POPULATE_MAX &&
						      !(map->map_flags & BPFVM_F_NO_PREALLOC));
	if (!h->buckets || !h->slab) {
		log_printf(log, "cannot allocate %llu bytes of elements\n",
			   (unsigned long long)h->slab_size);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < h->n_buckets; i++)
		h->buckets[i].first = nulls_marker(i);
	return h->lru ? htab_lru_init(h) : 0;
}

static void htab_free(struct bpfvm_map *map)
{
	struct htab *h = to_htab(map);

	map_area_free(map, h->buckets, (uint64_t)h->n_buckets * sizeof(*h->buckets));
	map_area_free(map, h->slab, h->slab_size);
	map_area_free(map, h->lists, (uint64_t)h->nlists * sizeof(*h->lists));
}

/* ---- finding keys ------------------------------------------------------- */

static inline uint32_t htab_hash(const struct htab *h, const void *key)
{
	return map_jhash(key, h->map.key_size, h->seed);
}

static inline struct htab_bucket *bucket_of(const struct htab *h, uint32_t hash)
{
	return &h->buckets[hash & (h->n_buckets - 1)];
}

static inline struct htab_elem *elem_next(const struct htab_elem *e)
{
	uintptr_t p = __atomic_load_n(&e->next, __ATOMIC_ACQUIRE);

	return nulls_end(p) ? NULL : (struct htab_elem *)p;
}

/* Keys compare as integers when they are the size of one (most are). */
static inline bool key_equal(const void *a, const void *b, uint32_t size)
{
	uint64_t x, y;

	switch (size) {
	case 4:
		memcpy(&x, a, 4), memcpy(&y, b, 4);
		return (uint32_t)x == (uint32_t)y;
	case 8:
		memcpy(&x, a, 8), memcpy(&y, b, 8);
		return x == y;
	default:
		return !memcmp(a, b, size);
	}
}

/* Without the lock: restart when the walk ends in another bucket's marker. */
static struct htab_elem *htab_find(const struct htab *h, uint32_t hash, const void *key)
{
	uint32_t idx = hash & (h->n_buckets - 1);
	const struct htab_bucket *b = &h->buckets[idx];
	uintptr_t p;

	do {
		for (p = __atomic_load_n(&b->first, __ATOMIC_ACQUIRE); !nulls_end(p);
		     p = __atomic_load_n(&((struct htab_elem *)p)->next, __ATOMIC_ACQUIRE)) {
			struct htab_elem *e = (struct htab_elem *)p;

			if (__atomic_load_n(&e->hash, __ATOMIC_RELAXED) == hash &&
			    key_equal(e->key, key, h->map.key_size))
				return e;
		}
	} while ((p >> 1) != idx);
	return NULL;
}

static void link_head(struct htab_bucket *b, struct htab_elem *e)
{
	e->next = __atomic_load_n(&b->first, __ATOMIC_RELAXED);
	__atomic_store_n(&e->linked, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&b->first, (uintptr_t)e, __ATOMIC_RELEASE);
}

/* Under the bucket's lock.  e keeps its next: a reader standing on it goes on. */
static void unlink_elem(struct htab_bucket *b, struct htab_elem *e)
{
	uintptr_t *pp = &b->first;

	while (*pp != (uintptr_t)e)
		pp = &((struct htab_elem *)*pp)->next;
	__atomic_store_n(pp, __atomic_load_n(&e->next, __ATOMIC_RELAXED), __ATOMIC_RELEASE);
	__atomic_store_n(&e->linked, 0, __ATOMIC_RELAXED);
}

bool htab_unlink_if_linked(struct htab *h, struct htab_elem *e)
{
	struct htab_bucket *b = bucket_of(h, e->hash);
	bool linked;

	map_lock(&b->lock);
	linked = e->linked;
	if (linked)
		unlink_elem(b, e);
	map_unlock(&b->lock);
	if (linked)
		__atomic_sub_fetch(&h->count, 1, __ATOMIC_RELAXED);
	return linked;
}

/* ---- elements of non-LRU tables ----------------------------------------- */

/*
 * A free element: for a new key only while fewer than max_entries are in
 * use; for a replacement only if enough stay free for new keys (otherwise
 * NULL, and the caller copies in place).  Returns NULL on failure.
 */
static struct htab_elem *elem_alloc(struct htab *h, bool replacing)
{
	struct htab_elem *e = NULL;
	uint32_t avail;

	map_lock(&h->free_lock);
	avail = h->nfree + (h->capacity - h->bump);
	if (replacing ? avail > h->map.max_entries - h->count : h->count < h->map.max_entries) {
		if (h->free) {
			e = h->free;
			h->free = e->lru_next;
			h->nfree--;
		} else {
			e = htab_elem_at(h, h->bump++);
		}
		if (!replacing)
			h->count++;
	}
	map_unlock(&h->free_lock);
	return e;
}

static void elem_free(struct htab *h, struct htab_elem *e, bool was_counted)
{
	map_lock(&h->free_lock);
	e->lru_next = h->free;
	h->free = e;
	h->nfree++;
	if (was_counted)
		h->count--;
	map_unlock(&h->free_lock);
}

/* A new element's value: from every CPU (syscall side) or this CPU's, others zero. */
static void elem_set_value(struct htab *h, struct htab_elem *e, const void *value, int cpu,
			   bool all_cpus)
{
	struct bpfvm_map *map = &h->map;

	if (!h->percpu) {
		memcpy(htab_value(h, e, 0), value, map->value_size);
		return;
	}
	for (int c = 0; c < map->ncpus; c++) {
		char *dst = htab_value(h, e, c);

		if (all_cpus)
			memcpy(dst, (const char *)value + (uint64_t)c * map->value_stride,
			       map->value_stride);
		else if (c == cpu)
			memcpy(dst, value, map->value_size);
		else
			memset(dst, 0, map->value_stride);
	}
}

static void elem_init(struct htab *h, struct htab_elem *e, uint32_t hash, const void *key)
{
	__atomic_store_n(&e->hash, hash, __ATOMIC_RELAXED);
	memcpy(e->key, key, h->map.key_size);
}

static int check_flags(const struct htab_elem *old, uint64_t flags)
{
	if (old && (flags & ~BPFVM_F_LOCK) == BPFVM_NOEXIST)
		return -EEXIST;
	if (!old && (flags & ~BPFVM_F_LOCK) == BPFVM_EXIST)
		return -ENOENT;
	return 0;
}

/*
 * Per-CPU tables update a present key in place: this CPU's slot (a
 * program's value_size bytes), or every CPU's whole 8-byte-rounded slot
 * from the embedder's buffer, as the kernel's copy_map_value_long.
 */
static void percpu_copy_in(struct htab *h, struct htab_elem *e, const void *value, int cpu,
			   bool all_cpus)
{
	if (!all_cpus) {
		map_copy_value(&h->map, htab_value(h, e, cpu), value);
		return;
	}
	for (int c = 0; c < h->map.ncpus; c++)
		memcpy(htab_value(h, e, c), (const char *)value + (uint64_t)c * h->map.value_stride,
		       h->map.value_stride);
}

/* ---- updates -------------------------------------------------------------- */

/* BPF_F_LOCK on a present key: copy under the value's lock, no bucket lock. */
static int update_locked_fast(struct htab *h, uint32_t hash, const void *key, const void *value,
			      uint64_t flags)
{
	struct htab_elem *old = htab_find(h, hash, key);
	int err = check_flags(old, flags);

	if (err)
		return err;
	if (!old)
		return 1;   /* not there: take the bucket lock */
	map_copy_value_locked(&h->map, htab_value(h, old, 0), value, true);
	return 0;
}

/* HASH and PERCPU_HASH. */
static long htab_update_plain(struct htab *h, const void *key, const void *value, uint64_t flags,
			      int cpu, bool all_cpus)
{
	uint32_t hash = htab_hash(h, key);
	struct htab_bucket *b = bucket_of(h, hash);
	struct htab_elem *old, *e;
	int err;

	if ((flags & BPFVM_F_LOCK) && !h->percpu) {
		if (!h->map.has_spin_lock)
			return -EINVAL;
		err = update_locked_fast(h, hash, key, value, flags);
		if (err <= 0)
			return err;
	}
	map_lock(&b->lock);
	old = htab_find(h, hash, key);
	err = check_flags(old, flags);
	if (err || (old && (h->percpu || (flags & BPFVM_F_LOCK)))) {
		if (!err && h->percpu)
			percpu_copy_in(h, old, value, cpu, all_cpus);
		else if (!err)
			map_copy_value_locked(&h->map, htab_value(h, old, 0), value, true);
		map_unlock(&b->lock);
		return err;
	}
	e = elem_alloc(h, old != NULL);
	if (!e) {
		if (old)   /* no spare element: replace the value where it is */
			map_copy_value(&h->map, htab_value(h, old, 0), value);
		map_unlock(&b->lock);
		return old ? 0 : -E2BIG;
	}
	elem_init(h, e, hash, key);
	elem_set_value(h, e, value, cpu, all_cpus);
	link_head(b, e);
	if (old) {
		unlink_elem(b, old);
		elem_free(h, old, false);
	}
	map_unlock(&b->lock);
	return 0;
}

/* LRU_HASH: a new element always, evicting the least recently used if need be. */
static long htab_update_lru(struct htab *h, const void *key, const void *value, uint64_t flags,
			    int cpu)
{
	uint32_t hash = htab_hash(h, key);
	struct htab_bucket *b = bucket_of(h, hash);
	struct htab_elem *old, *e;
	int err;

	if (flags > BPFVM_EXIST)
		return -EINVAL;
	e = htab_lru_pop_free(h, cpu);
	if (!e)
		return -ENOMEM;
	elem_init(h, e, hash, key);
	elem_set_value(h, e, value, cpu, false);
	map_lock(&b->lock);
	old = htab_find(h, hash, key);
	err = check_flags(old, flags);
	if (!err) {
		link_head(b, e);
		__atomic_add_fetch(&h->count, 1, __ATOMIC_RELAXED);
		if (old) {
			unlink_elem(b, old);
			__atomic_sub_fetch(&h->count, 1, __ATOMIC_RELAXED);
		}
	}
	map_unlock(&b->lock);
	if (err || old)
		htab_lru_push_free(h, err ? e : old);
	return err;
}

/*
 * LRU_PERCPU_HASH: a present key is updated in place, but (as in the
 * kernel) an element is taken first unless BPF_EXIST says the key is there.
 */
static long htab_update_lru_percpu(struct htab *h, const void *key, const void *value,
				   uint64_t flags, int cpu, bool all_cpus)
{
	uint32_t hash = htab_hash(h, key);
	struct htab_bucket *b = bucket_of(h, hash);
	struct htab_elem *old, *e = NULL;
	int err;

	if (flags > BPFVM_EXIST)
		return -EINVAL;
	if (flags != BPFVM_EXIST && !(e = htab_lru_pop_free(h, cpu)))
		return -ENOMEM;
	map_lock(&b->lock);
	old = htab_find(h, hash, key);
	err = check_flags(old, flags);
	if (!err && old) {
		__atomic_store_n(&old->ref, 1, __ATOMIC_RELAXED);
		percpu_copy_in(h, old, value, cpu, all_cpus);
	} else if (!err) {
		elem_init(h, e, hash, key);
		elem_set_value(h, e, value, cpu, all_cpus);
		link_head(b, e);
		__atomic_add_fetch(&h->count, 1, __ATOMIC_RELAXED);
		e = NULL;
	}
	map_unlock(&b->lock);
	if (e)
		htab_lru_push_free(h, e);
	return err;
}

static long htab_update_any(struct htab *h, const void *key, const void *value, uint64_t flags,
			    int cpu, bool all_cpus)
{
	if ((flags & ~BPFVM_F_LOCK) > BPFVM_EXIST)
		return -EINVAL;
	if (h->lru && h->percpu)
		return htab_update_lru_percpu(h, key, value, flags, cpu, all_cpus);
	if (h->lru)
		return htab_update_lru(h, key, value, flags, cpu);
	if (h->percpu && (flags & BPFVM_F_LOCK))
		return -EINVAL;
	return htab_update_plain(h, key, value, flags, cpu, all_cpus);
}

static long htab_update(struct bpfvm_map *map, const void *key, const void *value,
			uint64_t flags, int cpu)
{
	return htab_update_any(to_htab(map), key, value, flags, cpu, false);
}

static int htab_sys_update(struct bpfvm_map *map, const void *key, const void *value,
			   uint64_t flags)
{
	struct htab *h = to_htab(map);
	int cpu = 0;

	if (h->lru)
		cpu = sched_getcpu() < 0 ? 0 : sched_getcpu() % map->ncpus;
	return (int)htab_update_any(h, key, value, flags, cpu, h->percpu);
}

/* ---- lookups and deletes ------------------------------------------------- */

static void *htab_lookup(struct bpfvm_map *map, const void *key, int cpu)
{
	struct htab *h = to_htab(map);
	struct htab_elem *e = htab_find(h, htab_hash(h, key), key);

	if (!e)
		return NULL;
	if (h->lru && !__atomic_load_n(&e->ref, __ATOMIC_RELAXED))
		__atomic_store_n(&e->ref, 1, __ATOMIC_RELAXED);
	return htab_value(h, e, h->percpu ? cpu : 0);
}

/* A value out to the embedder: every CPU's slot, lock words zeroed. */
static void copy_out(struct htab *h, struct htab_elem *e, void *value, uint64_t flags)
{
	struct bpfvm_map *map = &h->map;

	if (!h->percpu) {
		if (flags & BPFVM_F_LOCK)
			map_copy_value_locked(map, value, htab_value(h, e, 0), false);
		else
			memcpy(value, htab_value(h, e, 0), map->value_size);
		map_clear_lock(map, value);
		return;
	}
	for (int c = 0; c < map->ncpus; c++) {
		char *dst = (char *)value + (uint64_t)c * map->value_stride;

		memcpy(dst, htab_value(h, e, c), map->value_stride);
		map_clear_lock(map, dst);
	}
}

/*
 * The syscall side does not count as a use for the LRU.  An element can be
 * deleted and reused for another key while its value is copied (programs
 * see that too, as in the kernel); the copy is checked afterwards and
 * taken again if the element changed hands.
 */
static int htab_sys_lookup(struct bpfvm_map *map, const void *key, void *value, uint64_t flags)
{
	struct htab *h = to_htab(map);
	uint32_t hash = htab_hash(h, key);

	for (;;) {
		struct htab_elem *e = htab_find(h, hash, key);

		if (!e)
			return -ENOENT;
		copy_out(h, e, value, flags);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&e->linked, __ATOMIC_RELAXED) &&
		    __atomic_load_n(&e->hash, __ATOMIC_RELAXED) == hash &&
		    !memcmp(e->key, key, map->key_size))
			return 0;
	}
}

/* Unlink key's element; the caller frees it.  value: copy it out first. */
static struct htab_elem *remove_key(struct htab *h, const void *key, void *value, uint64_t flags,
				    struct bpfvm_map **inner)
{
	uint32_t hash = htab_hash(h, key);
	struct htab_bucket *b = bucket_of(h, hash);
	struct htab_elem *e;

	map_lock(&b->lock);
	e = htab_find(h, hash, key);
	if (e) {
		if (value)
			copy_out(h, e, value, flags);
		if (inner)
			memcpy(inner, htab_value(h, e, 0), sizeof(*inner));
		unlink_elem(b, e);
		if (!h->lru)
			elem_free(h, e, true);
	}
	map_unlock(&b->lock);
	if (e && h->lru) {
		__atomic_sub_fetch(&h->count, 1, __ATOMIC_RELAXED);
		htab_lru_push_free(h, e);
	}
	return e;
}

static long htab_delete(struct bpfvm_map *map, const void *key)
{
	struct htab *h = to_htab(map);
	struct bpfvm_map *inner = NULL;

	if (!remove_key(h, key, NULL, 0, h->of_maps ? &inner : NULL))
		return -ENOENT;
	if (inner && !map->vm_dying)
		map_put(inner);
	return 0;
}

static int htab_sys_lookup_and_delete(struct bpfvm_map *map, const void *key, void *value,
				      uint64_t flags)
{
	return remove_key(to_htab(map), key, value, flags, NULL) ? 0 : -ENOENT;
}

/* The key after key in bucket order, or the first key when key is NULL or missing. */
static int htab_get_next_key(struct bpfvm_map *map, const void *key, void *next_key)
{
	struct htab *h = to_htab(map);
	uint32_t i = 0;

	if (key) {
		uint32_t hash = htab_hash(h, key);
		struct htab_elem *e = htab_find(h, hash, key), *n;

		if (e && (n = elem_next(e))) {
			memcpy(next_key, n->key, map->key_size);
			return 0;
		}
		if (e)
			i = (hash & (h->n_buckets - 1)) + 1;
	}
	for (; i < h->n_buckets; i++) {
		uintptr_t p = __atomic_load_n(&h->buckets[i].first, __ATOMIC_ACQUIRE);

		if (!nulls_end(p)) {
			memcpy(next_key, ((struct htab_elem *)p)->key, map->key_size);
			return 0;
		}
	}
	return -ENOENT;
}

/*
 * The kernel's htab batch walk: whole buckets from *batch on while they
 * fit in max - *total elements (-ENOSPC when the first does not), copied
 * (and with del, unlinked) under the bucket's lock; -ENOENT past the last
 * bucket.  A NULL keys or values faults (-EFAULT) at the first element to
 * copy, after that bucket's elements were deleted, as in the kernel.
 */
static int batch_bucket(struct htab *h, uint32_t i, char *keys, char *values, uint32_t room,
			bool del, uint64_t flags, uint32_t *copied)
{
	struct bpfvm_map *map = &h->map;
	struct htab_bucket *b = &h->buckets[i];
	uint32_t n = 0, vsize = h->percpu ? map->value_stride * (uint32_t)map->ncpus
					  : map->value_size;
	struct htab_elem *e, **gone = NULL;

	map_lock(&b->lock);
	for (e = nulls_end(b->first) ? NULL : (struct htab_elem *)b->first; e; e = elem_next(e))
		n++;
	if (n > room || (del && n && !(gone = malloc(n * sizeof(*gone))))) {
		map_unlock(&b->lock);
		return n > room ? -ENOSPC : -ENOMEM;
	}
	n = 0;
	for (e = nulls_end(b->first) ? NULL : (struct htab_elem *)b->first; e; n++) {
		struct htab_elem *next = elem_next(e);

		if (keys && values) {
			memcpy(keys + (uint64_t)n * map->key_size, e->key, map->key_size);
			if (h->of_maps) {
				struct bpfvm_map *inner;

				memcpy(&inner, htab_value(h, e, 0), sizeof(inner));
				memcpy(values + (uint64_t)n * vsize, &inner->id, 4);
			} else {
				copy_out(h, e, values + (uint64_t)n * vsize, flags);
			}
		}
		if (del) {
			unlink_elem(b, e);
			gone[n] = e;
		}
		e = next;
	}
	map_unlock(&b->lock);
	for (uint32_t k = 0; gone && k < n; k++) {
		struct bpfvm_map *inner = NULL;

		if (h->of_maps)
			memcpy(&inner, htab_value(h, gone[k], 0), sizeof(inner));
		if (h->lru) {
			__atomic_sub_fetch(&h->count, 1, __ATOMIC_RELAXED);
			htab_lru_push_free(h, gone[k]);
		} else {
			elem_free(h, gone[k], true);
		}
		if (inner && !map->vm_dying)
			map_put(inner);
	}
	free(gone);
	*copied = n;
	return n && !(keys && values) ? -EFAULT : 0;
}

static int batch_walk(struct htab *h, uint32_t *batch, char *keys, char *values, uint32_t max,
		      uint32_t *total, bool del, uint64_t flags)
{
	struct bpfvm_map *map = &h->map;
	uint32_t vsize = h->percpu ? map->value_stride * (uint32_t)map->ncpus : map->value_size;

	for (;;) {
		uint32_t n = 0;
		int err = batch_bucket(h, *batch, keys ? keys + (uint64_t)*total * map->key_size : NULL,
				       values ? values + (uint64_t)*total * vsize : NULL,
				       max - *total, del, flags, &n);

		if (err == -ENOSPC)   /* the next call starts at the bucket that did not fit */
			return *total ? 0 : -ENOSPC;
		if (err)
			return err;
		*total += n;
		if (++*batch >= h->n_buckets)
			return -ENOENT;
	}
}

int htab_lookup_batch(struct bpfvm_map *map, const void *in_batch, void *out_batch, void *keys,
		      void *values, uint32_t *count, bool del, uint64_t flags)
{
	struct htab *h = to_htab(map);
	uint32_t batch = 0, total = 0, max = *count;
	int err;

	*count = 0;
	if (in_batch)
		memcpy(&batch, in_batch, sizeof(batch));
	if (batch >= h->n_buckets)
		return -ENOENT;
	err = batch_walk(h, &batch, keys, values, max, &total, del, flags);
	if (err == -EFAULT)
		return err;
	if (!out_batch)
		return -EFAULT;
	memcpy(out_batch, &batch, sizeof(batch));
	*count = total;
	return err;
}

static long htab_for_each(struct bpfvm_map *map, map_each_fn fn, void *ctx, int cpu)
{
	struct htab *h = to_htab(map);
	long n = 0;

	for (uint32_t i = 0; i < h->n_buckets; i++) {
		struct htab_elem *e, *next;
		uintptr_t p = __atomic_load_n(&h->buckets[i].first, __ATOMIC_ACQUIRE);

		/* Read next first: the callback may delete the element it is given. */
		for (e = nulls_end(p) ? NULL : (struct htab_elem *)p; e; e = next) {
			next = elem_next(e);
			n++;
			if (fn(ctx, map, e->key, htab_value(h, e, h->percpu ? cpu : 0)))
				return n;
		}
	}
	return n;
}

static bool htab_owns(const struct bpfvm_map *map, uintptr_t addr, uint64_t size)
{
	const struct htab *h = to_htab(map);
	uintptr_t base = (uintptr_t)h->slab;
	uint64_t off, in_value;

	if (addr < base || addr - base >= h->slab_size)
		return false;
	off = (addr - base) % h->elem_size;
	if (off < h->value_off)
		return false;
	in_value = (off - h->value_off) % map->value_stride;
	return in_value + size <= map->value_size;
}

const struct map_ops htab_map_ops = {
	.obj_size = sizeof(struct htab),
	.alloc = htab_alloc,
	.free = htab_free,
	.lookup = htab_lookup,
	.update = htab_update,
	.delete = htab_delete,
	.for_each = htab_for_each,
	.sys_lookup = htab_sys_lookup,
	.sys_update = htab_sys_update,
	.sys_lookup_and_delete = htab_sys_lookup_and_delete,
	.get_next_key = htab_get_next_key,
	.owns = htab_owns,
};

/* ---- HASH_OF_MAPS: values are maps ---------------------------------------- */

static int htab_of_maps_alloc(struct bpfvm_map *map, struct bpfvm_log *log)
{
	int err = map_in_map_check(map, log);

	return err ? err : htab_alloc(map, log);
}

static void *htab_of_maps_lookup(struct bpfvm_map *map, const void *key, int cpu)
{
	struct bpfvm_map **slot = htab_lookup(map, key, cpu);

	return slot ? __atomic_load_n(slot, __ATOMIC_ACQUIRE) : NULL;
}

int htab_set_inner(struct bpfvm_map *map, const void *key, struct bpfvm_map *inner)
{
	struct htab *h = to_htab(map);
	uint32_t hash = htab_hash(h, key);
	struct htab_bucket *b = bucket_of(h, hash);
	struct bpfvm_map *old_inner = NULL;
	struct htab_elem *old, *e;

	map_get(inner);   /* before it is visible: a concurrent delete may drop it */
	map_lock(&b->lock);
	old = htab_find(h, hash, key);
	e = old ? old : elem_alloc(h, false);
	if (e && old) {
		old_inner = __atomic_exchange_n((struct bpfvm_map **)htab_value(h, e, 0), inner,
						__ATOMIC_ACQ_REL);
	} else if (e) {
		elem_init(h, e, hash, key);
		memcpy(htab_value(h, e, 0), &inner, sizeof(inner));
		link_head(b, e);
	}
	map_unlock(&b->lock);
	if (!e) {
		map_put(inner);
		return -E2BIG;
	}
	if (old_inner)
		map_put(old_inner);
	return 0;
}

/* The syscall side reads a value as the inner map's id. */
static int htab_of_maps_sys_lookup(struct bpfvm_map *map, const void *key, void *value,
				   uint64_t flags)
{
	struct bpfvm_map *inner = htab_of_maps_lookup(map, key, 0);

	(void)flags;
	if (!inner)
		return -ENOENT;
	memcpy(value, &inner->id, 4);
	return 0;
}

static void htab_of_maps_release(struct bpfvm_map *map)
{
	struct htab *h = to_htab(map);

	for (uint32_t i = 0; i < h->n_buckets; i++) {
		uintptr_t p = h->buckets[i].first;

		for (; !nulls_end(p); p = ((struct htab_elem *)p)->next) {
			struct bpfvm_map *inner;

			memcpy(&inner, htab_value(h, (struct htab_elem *)p, 0), sizeof(inner));
			map_put(inner);
		}
	}
}

const struct map_ops hash_of_maps_map_ops = {
	.obj_size = sizeof(struct htab),
	.alloc = htab_of_maps_alloc,
	.free = htab_free,
	.lookup = htab_of_maps_lookup,
	.delete = htab_delete,
	.sys_lookup = htab_of_maps_sys_lookup,
	.get_next_key = htab_get_next_key,
	.release_inner = htab_of_maps_release,
};
