/*
 * hash_lru.c - the lists that let BPF_MAP_TYPE_LRU_HASH and
 * LRU_PERCPU_HASH evict instead of refusing a key when full.  Every
 * element of an LRU table is preallocated, as in the kernel, and sits on
 * one list: free, or in use (most recently added first).  A lookup marks
 * an element used (a plain flag, so lookups take no lock); eviction walks
 * from the oldest end and gives marked elements a second chance, the
 * approximation of recency the kernel's active/inactive lists make too.
 * With BPF_F_NO_COMMON_LRU each CPU has its own lists and elements.
 *
 * Lock order: a list's lock, then (evicting) a bucket's lock; never the
 * other way round, so hash.c gives elements back after dropping its
 * bucket lock.
 */
#include "htab.h"

#include <errno.h>
#include <stdlib.h>

int htab_lru_init(struct htab *h)
{
	uint32_t per_list;

	h->nlists = (h->map.map_flags & BPFVM_F_NO_COMMON_LRU) ? (uint32_t)h->map.ncpus : 1;
	/* Zeroed and at least 64-byte aligned (a cache line a list). */
	h->lists = map_area_alloc(&h->map, (uint64_t)sizeof(*h->lists) * h->nlists, false);
	if (!h->lists)
		return -ENOMEM;
	per_list = h->capacity / h->nlists;
	/* Element i belongs to list i / per_list; push in reverse so 0 comes first. */
	for (uint32_t i = h->capacity; i-- > 0;) {
		struct htab_elem *e = htab_elem_at(h, i);
		struct htab_lru *l = &h->lists[i / per_list];

		e->shard = (uint16_t)(i / per_list);
		e->lru_next = l->free;
		l->free = e;
	}
	return 0;
}

static void list_del(struct htab_lru *l, struct htab_elem *e)
{
	if (e->lru_prev)
		e->lru_prev->lru_next = e->lru_next;
	else
		l->head = e->lru_next;
	if (e->lru_next)
		e->lru_next->lru_prev = e->lru_prev;
	else
		l->tail = e->lru_prev;
	l->nused--;
}

static void list_add_head(struct htab_lru *l, struct htab_elem *e)
{
	e->lru_prev = NULL;
	e->lru_next = l->head;
	if (l->head)
		l->head->lru_prev = e;
	else
		l->tail = e;
	l->head = e;
	l->nused++;
}

/*
 * The least recently used element, taken out of its bucket.  Elements in
 * flight (taken for a key not linked yet, or unlinked and not yet given
 * back) are passed over.  Two passes at most: the first may only clear marks.
 */
static struct htab_elem *evict(struct htab *h, struct htab_lru *l)
{
	for (uint32_t scanned = 0, limit = 2 * l->nused + 1; l->tail && scanned < limit; scanned++) {
		struct htab_elem *e = l->tail;

		list_del(l, e);
		if (__atomic_load_n(&e->ref, __ATOMIC_RELAXED)) {
			__atomic_store_n(&e->ref, 0, __ATOMIC_RELAXED);
			list_add_head(l, e);
			continue;
		}
		if (htab_unlink_if_linked(h, e))
			return e;
		list_add_head(l, e);
	}
	return NULL;
}

struct htab_elem *htab_lru_pop_free(struct htab *h, int cpu)
{
	struct htab_lru *l = &h->lists[h->nlists == 1 ? 0 : (uint32_t)cpu % h->nlists];
	struct htab_elem *e;

	map_lock(&l->lock);
	e = l->free;
	if (e)
		l->free = e->lru_next;
	else
		e = evict(h, l);
	if (e) {
		__atomic_store_n(&e->ref, 0, __ATOMIC_RELAXED);
		list_add_head(l, e);
	}
	map_unlock(&l->lock);
	return e;
}

void htab_lru_push_free(struct htab *h, struct htab_elem *e)
{
	struct htab_lru *l = &h->lists[e->shard];

	map_lock(&l->lock);
	list_del(l, e);
	e->lru_next = l->free;
	l->free = e;
	map_unlock(&l->lock);
}
