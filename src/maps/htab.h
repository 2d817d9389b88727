/*
 * htab.h - the hash table behind BPF_MAP_TYPE_HASH, PERCPU_HASH,
 * LRU_HASH, LRU_PERCPU_HASH and HASH_OF_MAPS, shared by hash.c (the table)
 * and hash_lru.c (the LRU lists).
 *
 * Buckets are singly linked lists ending in a "nulls" marker that names
 * the bucket (as the kernel's hlist_nulls): readers walk them without a
 * lock, and a reader that followed an element recycled into another
 * bucket ends on the wrong marker and starts over.  Writers take the
 * bucket's lock.  Elements live in one slab for the life of the map and
 * are recycled through a free list, so a pointer a program holds always
 * points into this map.
 */
#ifndef BPFVM_MAPS_HTAB_H
#define BPFVM_MAPS_HTAB_H

#include "map.h"

struct htab_elem {
	uintptr_t next;                /* atomic: the next element, or a nulls marker */
	uint32_t hash;
	uint8_t ref;                   /* LRU: used since the list last passed it */
	uint8_t linked;                /* in a bucket (changed under the bucket's lock) */
	uint16_t shard;                /* LRU: the list it belongs to */
	struct htab_elem *lru_prev;    /* LRU: the in-use list; free lists use lru_next */
	struct htab_elem *lru_next;
	char key[] __attribute__((aligned(8)));   /* then the value, or one per CPU */
};

struct htab_bucket {
	uintptr_t first;               /* atomic */
	uint32_t lock;
	uint32_t pad;
};

/* One LRU list: all lists, or one per CPU with BPF_F_NO_COMMON_LRU. */
struct htab_lru {
	uint32_t lock;
	struct htab_elem *head, *tail; /* in use, most recently added or used first */
	struct htab_elem *free;
	uint32_t nused;
} __attribute__((aligned(64)));

struct htab {
	struct bpfvm_map map;
	struct htab_bucket *buckets;
	uint32_t n_buckets;
	uint32_t seed;
	uint32_t elem_size;
	uint32_t value_off;            /* where the value starts in an element */
	bool percpu, lru, of_maps;
	char *slab;
	uint64_t slab_size;
	uint32_t capacity;             /* elements in the slab */
	/* Non-LRU tables: the free list, elements never used, and the count. */
	uint32_t free_lock;
	struct htab_elem *free;
	uint32_t nfree;
	uint32_t bump;
	uint32_t count;
	/* LRU tables. */
	struct htab_lru *lists;
	uint32_t nlists;
};

static inline bool nulls_end(uintptr_t p)
{
	return p & 1;
}

static inline uintptr_t nulls_marker(uint32_t bucket)
{
	return ((uintptr_t)bucket << 1) | 1;
}

static inline struct htab_elem *htab_elem_at(const struct htab *h, uint32_t i)
{
	return (struct htab_elem *)(h->slab + (uint64_t)i * h->elem_size);
}

static inline char *htab_value(const struct htab *h, const struct htab_elem *e, int cpu)
{
	return (char *)e + h->value_off + (uint64_t)cpu * h->map.value_stride;
}

/* hash_lru.c: take an element for a new key (evicting if need be), give one back. */
int htab_lru_init(struct htab *h);
struct htab_elem *htab_lru_pop_free(struct htab *h, int cpu);
void htab_lru_push_free(struct htab *h, struct htab_elem *e);

/* hash.c: unlink e if it is still in its bucket (LRU eviction). */
bool htab_unlink_if_linked(struct htab *h, struct htab_elem *e);

#endif
