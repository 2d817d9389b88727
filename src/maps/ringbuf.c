/*
 * ringbuf.c - BPF_MAP_TYPE_RINGBUF with the kernel's memory layout, so
 * that a consumer written for the kernel (libbpf's ring_buffer, or one
 * following Documentation/bpf/ringbuf.rst) reads it unchanged:
 *
 *   page 0   (private, unused) as the kernel's struct header page: a record's
 *            pg_off counts pages from here, so it is the kernel's number
 *   page 1   consumer_pos (unsigned long), written by the consumer
 *   page 2   producer_pos (unsigned long), written by producers
 *   data     max_entries bytes (a power of two, page-aligned) ...
 *   data     ... mapped a second time right after, so a record that wraps
 *            around the end is contiguous in memory
 *
 * Pages 1.. and both data views are one memfd mapped twice, populated at
 * creation as the kernel allocates its pages (no page faults later).  A record is
 * an 8-byte header { u32 len; u32 pg_off; } and its data, rounded up to 8
 * bytes; len carries BUSY (bit 31) while reserved and DISCARD (bit 30)
 * when discarded.  Producers serialize on a lock; the consumer never
 * takes it (it follows the positions with acquire/release, as libbpf).
 */
#include "map.h"

#include "../core/instance.h"
#include "shm.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#define RINGBUF_CREATE_FLAG_MASK BPFVM_F_NUMA_NODE
#define RINGBUF_MAX_RECORD_SZ (UINT32_MAX / 4)

struct ringbuf {
	struct bpfvm_map map;
	int fd;
	char *base;              /* page 0 */
	size_t total;            /* bytes reserved at base */
	size_t page;
	uint64_t mask;           /* data size - 1 */
	uint32_t lock;
	unsigned long pending_pos;
	uint64_t lost;           /* reservations refused for want of room */
	unsigned long *consumer_pos;
	unsigned long *producer_pos;
	char *data;
};

struct ringbuf_hdr {
	uint32_t len;
	uint32_t pg_off;
};

static struct ringbuf *to_rb(const struct bpfvm_map *map)
{
	return (struct ringbuf *)map;
}

static bool is_pow2(uint64_t x)
{
	return x && !(x & (x - 1));
}

/*
 * In the instance's shared arena: the same layout in arena memory, the
 * second data view mapped onto the first from the arena's file (recorded,
 * so that a process joining the arena maps it too).
 */
static int ringbuf_map_shared(struct ringbuf *rb, struct map_shm *shm, size_t data_sz)
{
	char *p = map_shm_alloc(shm, rb->total, false);

	if (!p)
		return -ENOMEM;
	rb->base = p;
	if (map_shm_alias(shm, p + 3 * rb->page + data_sz, p + 3 * rb->page, data_sz)) {
		map_shm_free(shm, p, rb->total);
		rb->base = NULL;
		return -ENOMEM;
	}
	map_shm_populate(p + rb->page, 2 * rb->page + data_sz);
	rb->consumer_pos = (unsigned long *)(p + rb->page);
	rb->producer_pos = (unsigned long *)(p + 2 * rb->page);
	rb->data = p + 3 * rb->page;
	return 0;
}

/* Reserve the address range, then map the memfd over it twice. */
static int ringbuf_map_memory(struct ringbuf *rb, size_t data_sz)
{
	size_t file_sz = 2 * rb->page + data_sz;
	char *p;

	rb->total = rb->page + file_sz + data_sz;
	if (rb->map.vm->shm)
		return ringbuf_map_shared(rb, rb->map.vm->shm, data_sz);
	rb->fd = memfd_create("bpfvm-ringbuf", MFD_CLOEXEC);
	if (rb->fd < 0 || ftruncate(rb->fd, (off_t)file_sz))
		return -ENOMEM;
	p = mmap(NULL, rb->total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -ENOMEM;
	rb->base = p;
	if (mmap(p, rb->page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1,
		 0) == MAP_FAILED ||
	    mmap(p + rb->page, file_sz, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_FIXED | MAP_POPULATE, rb->fd, 0) == MAP_FAILED ||
	    mmap(p + rb->page + file_sz, data_sz, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_FIXED | MAP_POPULATE, rb->fd, (off_t)(2 * rb->page)) == MAP_FAILED)
		return -ENOMEM;
	rb->consumer_pos = (unsigned long *)(p + rb->page);
	rb->producer_pos = (unsigned long *)(p + 2 * rb->page);
	rb->data = p + 3 * rb->page;
	return 0;
}

static int ringbuf_alloc(struct bpfvm_map *map, struct bpfvm_log *log)
{
	struct ringbuf *rb = to_rb(map);
	int err;

	rb->fd = -1;
	rb->page = (size_t)sysconf(_SC_PAGESIZE);
	if (map->map_flags & ~RINGBUF_CREATE_FLAG_MASK) {
		log_printf(log, "unknown flags 0x%x for a ring buffer\n", map->map_flags);
		return -EINVAL;
	}
	if (map->key_size || map->value_size || !is_pow2(map->max_entries) ||
	    map->max_entries % rb->page) {
		log_printf(log, "ring buffers need key_size 0, value_size 0 and max_entries a "
				"power of two multiple of the page size\n");
		return -EINVAL;
	}
	rb->mask = map->max_entries - 1;
	err = ringbuf_map_memory(rb, map->max_entries);
	if (err)
		log_printf(log, "cannot map %u bytes of ring buffer\n", map->max_entries);
	return err;
}

static void ringbuf_free(struct bpfvm_map *map)
{
	struct ringbuf *rb = to_rb(map);
	struct map_shm *shm = map->vm->shm;

	if (shm && rb->base) {
		size_t data_sz = rb->mask + 1;

		map_shm_unalias(shm, rb->base + 3 * rb->page + data_sz, data_sz);
		map_shm_free(shm, rb->base, rb->total);
	} else if (rb->base)
		munmap(rb->base, rb->total);
	if (rb->fd >= 0)
		close(rb->fd);
}

void *ringbuf_reserve(struct bpfvm_map *map, uint64_t size)
{
	struct ringbuf *rb = to_rb(map);
	unsigned long cons, prod, pend, new_prod;
	struct ringbuf_hdr *hdr;
	uint64_t len;

	if (size > RINGBUF_MAX_RECORD_SZ)
		return NULL;
	len = (size + BPFVM_RINGBUF_HDR_SZ + 7) & ~7ull;
	if (len > rb->mask + 1)
		goto lost;
	cons = __atomic_load_n(rb->consumer_pos, __ATOMIC_ACQUIRE);
	map_lock(&rb->lock);
	pend = rb->pending_pos;
	prod = *rb->producer_pos;
	new_prod = prod + len;
	/* Move past records committed since: space ends at the oldest busy one. */
	while (prod - pend > 0) {
		uint32_t l = __atomic_load_n((uint32_t *)(rb->data + (pend & rb->mask)),
					     __ATOMIC_ACQUIRE);

		if (l & BPFVM_RINGBUF_BUSY_BIT)
			break;
		pend += ((l & ~BPFVM_RINGBUF_DISCARD_BIT) + BPFVM_RINGBUF_HDR_SZ + 7) & ~7u;
	}
	rb->pending_pos = pend;
	if (new_prod - cons > rb->mask || new_prod - pend > rb->mask) {
		map_unlock(&rb->lock);
		goto lost;
	}
	hdr = (struct ringbuf_hdr *)(rb->data + (prod & rb->mask));
	hdr->len = (uint32_t)size | BPFVM_RINGBUF_BUSY_BIT;
	hdr->pg_off = (uint32_t)((((uintptr_t)hdr & ~(uintptr_t)(rb->page - 1)) -
				  (uintptr_t)rb->base) / rb->page);
	__atomic_store_n(rb->producer_pos, new_prod, __ATOMIC_RELEASE);
	map_unlock(&rb->lock);
	return hdr + 1;
lost:
	__atomic_fetch_add(&rb->lost, 1, __ATOMIC_RELAXED);
	return NULL;
}

void ringbuf_commit(void *sample, uint64_t flags, bool discard)
{
	struct ringbuf_hdr *hdr = (struct ringbuf_hdr *)sample - 1;
	uint32_t new_len = hdr->len ^ BPFVM_RINGBUF_BUSY_BIT;

	(void)flags;   /* wake-up flags: the consumer polls; nothing to wake */
	if (discard)
		new_len |= BPFVM_RINGBUF_DISCARD_BIT;
	__atomic_exchange_n(&hdr->len, new_len, __ATOMIC_ACQ_REL);
}

/* bpf_ringbuf_query's flags (BPF_RB_AVAIL_DATA ...). */
enum { RB_AVAIL_DATA = 0, RB_RING_SIZE = 1, RB_CONS_POS = 2, RB_PROD_POS = 3 };

uint64_t ringbuf_query(struct bpfvm_map *map, uint64_t flags)
{
	struct ringbuf *rb = to_rb(map);
	unsigned long cons = __atomic_load_n(rb->consumer_pos, __ATOMIC_ACQUIRE);
	unsigned long prod = __atomic_load_n(rb->producer_pos, __ATOMIC_ACQUIRE);

	switch (flags) {
	case RB_AVAIL_DATA: return prod - cons;
	case RB_RING_SIZE: return rb->mask + 1;
	case RB_CONS_POS: return cons;
	case RB_PROD_POS: return prod;
	default: return 0;
	}
}

uint64_t bpfvm_map__ringbuf_lost(const struct bpfvm_map *map)
{
	if (!map || map->type != BPFVM_MAP_TYPE_RINGBUF)
		return 0;
	return __atomic_load_n(&to_rb(map)->lost, __ATOMIC_RELAXED);
}

int bpfvm_map__ringbuf_consume(struct bpfvm_map *map, bpfvm_ringbuf_fn fn, void *ctx)
{
	struct ringbuf *rb;
	unsigned long cons, prod;
	int n = 0;
	bool more;

	if (!map || map->type != BPFVM_MAP_TYPE_RINGBUF || !fn)
		return -EINVAL;
	rb = to_rb(map);
	cons = __atomic_load_n(rb->consumer_pos, __ATOMIC_ACQUIRE);
	do {
		more = false;
		prod = __atomic_load_n(rb->producer_pos, __ATOMIC_ACQUIRE);
		while (cons < prod) {
			uint32_t *lenp = (uint32_t *)(rb->data + (cons & rb->mask));
			uint32_t len = __atomic_load_n(lenp, __ATOMIC_ACQUIRE);
			int ret = 0;

			if (len & BPFVM_RINGBUF_BUSY_BIT)
				return n;   /* not committed yet: later records wait for it */
			more = true;
			cons += ((len & ~BPFVM_RINGBUF_DISCARD_BIT) + BPFVM_RINGBUF_HDR_SZ + 7) & ~7u;
			if (!(len & BPFVM_RINGBUF_DISCARD_BIT)) {
				ret = fn(ctx, lenp + 2, len);
				n++;
			}
			__atomic_store_n(rb->consumer_pos, cons, __ATOMIC_RELEASE);
			if (ret)
				return ret < 0 ? ret : n;
		}
	} while (more);
	return n;
}

void *bpfvm_map__ringbuf_area(struct bpfvm_map *map, size_t *size)
{
	struct ringbuf *rb;

	if (!map || map->type != BPFVM_MAP_TYPE_RINGBUF)
		return NULL;
	rb = to_rb(map);
	if (size)
		*size = rb->total - rb->page;
	return rb->base + rb->page;
}

int bpfvm_map__ringbuf_fd(struct bpfvm_map *map)
{
	if (!map || map->type != BPFVM_MAP_TYPE_RINGBUF)
		return -EINVAL;
	return to_rb(map)->fd >= 0 ? to_rb(map)->fd : -EOPNOTSUPP;
}

int bpfvm_map__mmap_fd(struct bpfvm_map *map)
{
	int fd = -EINVAL;

	if (map && map->type == BPFVM_MAP_TYPE_RINGBUF)
		fd = to_rb(map)->fd;
	else if (map && map->type == BPFVM_MAP_TYPE_ARRAY && (map->map_flags & BPFVM_F_MMAPABLE))
		fd = array_mmap_fd(map);
	return fd;
}

static long ringbuf_delete(struct bpfvm_map *map, const void *key)
{
	(void)map, (void)key;
	return -BPFVM_ENOTSUPP;
}

static int ringbuf_get_next_key(struct bpfvm_map *map, const void *key, void *next_key)
{
	(void)map, (void)key, (void)next_key;
	return -BPFVM_ENOTSUPP;
}

const struct map_ops ringbuf_map_ops = {
	.obj_size = sizeof(struct ringbuf),
	.alloc = ringbuf_alloc,
	.free = ringbuf_free,
	.delete = ringbuf_delete,
	.get_next_key = ringbuf_get_next_key,
};
