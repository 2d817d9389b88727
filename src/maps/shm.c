/*
 * shm.c - the shared arena of maps (shm.h): creating and joining it, the
 * allocator, map objects with a private header page, and the recorded
 * second views (ring buffers) a joining process maps again.
 */
#include "shm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/instance.h"
#include "map.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

#define SHM_MAGIC 0x31534d4d56465042ull   /* "BPFVMMS1" */
#define SHM_CLASSES 12                     /* 16 bytes << class, up to 32 KiB */
#define SHM_MAX_MAPS 1024
#define SHM_MAX_ALIASES 256
/* Where the creator asks for the arena: far from the heap, libraries and stacks of a
 * typical process, so that the agent finds the same range free in the traced one. */
#define SHM_ADDR_HINT 0x100000000000ull

struct shm_free {
	struct shm_free *next;
	uint64_t size;
};

struct shm_alias {
	uint64_t addr, src, len;
};

/* At the arena's start; every pointer in it is valid in every process that maps it. */
struct shm_header {
	uint64_t magic;
	uint64_t size;
	uint64_t page;
	uint32_t lock;
	uint32_t nmaps;
	uint32_t naliases;
	char *bump;                        /* the first byte never handed out */
	struct shm_free *small[SHM_CLASSES];
	struct shm_free *big;              /* page-rounded blocks, first fit */
	struct bpfvm_map *maps[SHM_MAX_MAPS];
	struct shm_alias aliases[SHM_MAX_ALIASES];
};

/* This process's view. */
struct map_shm {
	struct shm_header *hdr;
	char *base;
	uint64_t size, page;
	int fd;
};

static uint64_t round_up(uint64_t x, uint64_t a)
{
	return (x + a - 1) & ~(a - 1);
}

static uint64_t header_size(uint64_t page)
{
	return round_up(sizeof(struct shm_header), page);
}

static struct map_shm *shm_new(int fd, char *base, uint64_t size)
{
	struct map_shm *shm = calloc(1, sizeof(*shm));

	if (!shm)
		return NULL;
	shm->fd = fd;
	shm->base = base;
	shm->size = size;
	shm->page = (uint64_t)sysconf(_SC_PAGESIZE);
	shm->hdr = (struct shm_header *)base;
	return shm;
}

int map_shm_create(struct bpfvm *vm, uint64_t size, struct bpfvm_log *log)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	int fd = memfd_create("bpfvm-maps", MFD_CLOEXEC);
	char *base;

	size = round_up(size, page);
	if (size < header_size(page) + page || size > (1ull << 44)) {
		log_printf(log, "shared maps: an arena of %llu bytes is too small or too large\n",
			   (unsigned long long)size);
		if (fd >= 0)
			close(fd);
		return -EINVAL;
	}
	if (fd < 0 || ftruncate(fd, (off_t)size)) {
		log_printf(log, "shared maps: cannot make a memfd of %llu bytes: %s\n",
			   (unsigned long long)size, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -ENOMEM;
	}
	base = mmap((void *)(uintptr_t)SHM_ADDR_HINT, size, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_NORESERVE, fd, 0);
	if (base == MAP_FAILED || !(vm->shm = shm_new(fd, base, size))) {
		log_printf(log, "shared maps: cannot map the arena: %s\n", strerror(errno));
		if (base != MAP_FAILED)
			munmap(base, size);
		close(fd);
		return -ENOMEM;
	}
	vm->shm->hdr->size = size;
	vm->shm->hdr->page = page;
	vm->shm->hdr->bump = base + header_size(page);
	__atomic_store_n(&vm->shm->hdr->magic, SHM_MAGIC, __ATOMIC_RELEASE);
	return 0;
}

static void privatize_header(struct map_shm *shm, struct bpfvm_map *map, bool private_)
{
	char *pg = (char *)((uintptr_t)map & ~(uintptr_t)(shm->page - 1));

	mmap(pg, shm->page, PROT_READ | PROT_WRITE,
	     (private_ ? MAP_PRIVATE : MAP_SHARED) | MAP_FIXED, shm->fd, (off_t)(pg - shm->base));
}

static int replay(struct map_shm *shm, struct bpfvm_log *log)
{
	struct shm_header *h = shm->hdr;

	for (uint32_t i = 0; i < h->naliases; i++) {
		struct shm_alias *a = &h->aliases[i];

		if (mmap((void *)(uintptr_t)a->addr, a->len, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_FIXED, shm->fd,
			 (off_t)(a->src - (uintptr_t)shm->base)) == MAP_FAILED) {
			log_printf(log, "shared maps: cannot map a ring buffer's second view\n");
			return -ENOMEM;
		}
	}
	for (uint32_t i = 0; i < h->nmaps; i++)
		if (h->maps[i])
			privatize_header(shm, h->maps[i], true);
	return 0;
}

int map_shm_join(struct bpfvm *vm, int fd, uint64_t addr, struct bpfvm_log *log)
{
	struct stat st;
	char *base;
	int err;

	if (fstat(fd, &st) || st.st_size <= 0) {
		log_printf(log, "shared maps: fd %d is not an arena\n", fd);
		return -EINVAL;
	}
	base = mmap((void *)(uintptr_t)addr, (size_t)st.st_size, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_NORESERVE | MAP_FIXED_NOREPLACE, fd, 0);
	if (base == MAP_FAILED || base != (char *)(uintptr_t)addr) {
		log_printf(log, "shared maps: the arena's address range 0x%llx-0x%llx is taken in "
				"this process\n", (unsigned long long)addr,
			   (unsigned long long)(addr + (uint64_t)st.st_size));
		if (base != MAP_FAILED)
			munmap(base, (size_t)st.st_size);
		return -EEXIST;
	}
	if (__atomic_load_n(&((struct shm_header *)base)->magic, __ATOMIC_ACQUIRE) != SHM_MAGIC ||
	    ((struct shm_header *)base)->size != (uint64_t)st.st_size ||
	    !(vm->shm = shm_new(fd, base, (uint64_t)st.st_size))) {
		log_printf(log, "shared maps: fd %d at 0x%llx is not an arena\n", fd,
			   (unsigned long long)addr);
		munmap(base, (size_t)st.st_size);
		return -EINVAL;
	}
	/* The instance keeps its own descriptor, numbered from the caller's up (an agent keeps
	 * its descriptors out of the low numbers its program expects); the caller's stays its. */
	vm->shm->fd = fcntl(fd, F_DUPFD_CLOEXEC, fd);
	map_lock(&vm->shm->hdr->lock);
	err = replay(vm->shm, log);
	map_unlock(&vm->shm->hdr->lock);
	return err;
}

void map_shm_destroy(struct map_shm *shm)
{
	if (!shm)
		return;
	munmap(shm->base, shm->size);
	close(shm->fd);
	free(shm);
}

int bpfvm__shared_maps(const struct bpfvm *vm, int *fd, uint64_t *addr)
{
	if (!vm || !vm->shm)
		return -ENOENT;
	if (fd)
		*fd = vm->shm->fd;
	if (addr)
		*addr = (uintptr_t)vm->shm->base;
	return 0;
}

/* ---- the allocator ------------------------------------------------------ */

static char *bump(struct map_shm *shm, uint64_t size, uint64_t align)
{
	struct shm_header *h = shm->hdr;
	char *p = (char *)round_up((uintptr_t)h->bump, align);

	if (p > shm->base + shm->size || size > (uint64_t)(shm->base + shm->size - p))
		return NULL;
	h->bump = p + size;
	return p;
}

static int small_class(uint64_t size)
{
	int c = 0;

	while ((16ull << c) < size)
		c++;
	return c;
}

static void *alloc_small(struct map_shm *shm, uint64_t size)
{
	int c = small_class(size);
	struct shm_free *f = shm->hdr->small[c];

	if (f) {
		shm->hdr->small[c] = f->next;
		memset(f, 0, 16ull << c);   /* recycled: the caller expects zeroes */
		return f;
	}
	return bump(shm, 16ull << c, (16ull << c) < 64 ? 16ull << c : 64);
}

/* Best fit, so that a map made again as it was takes its old block whole. */
static void *alloc_big(struct map_shm *shm, uint64_t size)
{
	struct shm_free **best = NULL, *f;
	unsigned guard = 0;

	for (struct shm_free **pp = &shm->hdr->big; (f = *pp) && guard < 100000;
	     pp = &f->next, guard++)
		if (f->size >= size && (!best || f->size < (*best)->size))
			best = pp;
	if (!best)
		return bump(shm, size, shm->page);
	f = *best;
	if (f->size > size) {
		struct shm_free *rest = (struct shm_free *)((char *)f + size);

		rest->next = f->next;
		rest->size = f->size - size;
		*best = rest;
	} else {
		*best = f->next;
	}
	memset(f, 0, sizeof(*f));   /* the rest was punched out when freed */
	return f;
}

void map_shm_populate(void *p, uint64_t len)
{
	/* Touch the pages now, as the kernel allocates a preallocated map's memory; an old
	 * kernel without MADV_POPULATE_WRITE faults them in later instead. */
	if (p && len)
		madvise(p, len, MADV_POPULATE_WRITE);
}

void *map_shm_alloc(struct map_shm *shm, uint64_t size, bool populate)
{
	void *p;

	if (!size)
		size = 1;
	map_lock(&shm->hdr->lock);
	if (size <= shm->page / 2)
		p = alloc_small(shm, size);
	else
		p = alloc_big(shm, size = round_up(size, shm->page));
	map_unlock(&shm->hdr->lock);
	if (populate)
		map_shm_populate(p, size);
	return p;
}

void map_shm_free(struct map_shm *shm, void *p, uint64_t size)
{
	struct shm_free *f = p;

	if (!p)
		return;
	if (!size)
		size = 1;
	if (size > shm->page / 2) {
		size = round_up(size, shm->page);
		/* Give the memory back: the block reads as zeroes when handed out again. */
		fallocate(shm->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			  (off_t)((char *)p - shm->base), (off_t)size);
	}
	map_lock(&shm->hdr->lock);
	if (size > shm->page / 2 && (char *)p + size == shm->hdr->bump) {
		shm->hdr->bump = p;   /* the last block handed out: the bump takes it back */
	} else if (size > shm->page / 2) {
		f->size = size;
		f->next = shm->hdr->big;
		shm->hdr->big = f;
	} else {
		int c = small_class(size);

		f->next = shm->hdr->small[c];
		shm->hdr->small[c] = f;
	}
	map_unlock(&shm->hdr->lock);
}

/* ---- map objects -------------------------------------------------------- */

static uint64_t map_block_size(const struct map_shm *shm, uint64_t obj_size)
{
	return shm->page + round_up(obj_size - sizeof(struct bpfvm_map), shm->page);
}

struct bpfvm_map *map_shm_alloc_map(struct map_shm *shm, uint64_t obj_size)
{
	char *block = map_shm_alloc(shm, map_block_size(shm, obj_size), false);

	return block ? (struct bpfvm_map *)(block + shm->page - sizeof(struct bpfvm_map)) : NULL;
}

int map_shm_publish_map(struct map_shm *shm, struct bpfvm_map *map)
{
	struct shm_header *h = shm->hdr;
	uint32_t i;

	map_lock(&h->lock);
	for (i = 0; i < h->nmaps && h->maps[i]; i++)
		;
	if (i == SHM_MAX_MAPS) {
		map_unlock(&h->lock);
		return -E2BIG;
	}
	h->maps[i] = map;
	if (i == h->nmaps)
		h->nmaps++;
	map_unlock(&h->lock);
	privatize_header(shm, map, true);
	return 0;
}

void map_shm_free_map(struct map_shm *shm, struct bpfvm_map *map, uint64_t obj_size)
{
	struct shm_header *h = shm->hdr;

	map_lock(&h->lock);
	for (uint32_t i = 0; i < h->nmaps; i++)
		if (h->maps[i] == map)
			h->maps[i] = NULL;
	map_unlock(&h->lock);
	privatize_header(shm, map, false);
	map_shm_free(shm, (char *)map + sizeof(struct bpfvm_map) - shm->page,
		     map_block_size(shm, obj_size));
}

uint32_t map_shm_count(const struct map_shm *shm)
{
	return __atomic_load_n(&shm->hdr->nmaps, __ATOMIC_ACQUIRE);
}

struct bpfvm_map *map_shm_published(const struct map_shm *shm, uint32_t i)
{
	return i < map_shm_count(shm) ? shm->hdr->maps[i] : NULL;
}

/* ---- second views ------------------------------------------------------- */

int map_shm_alias(struct map_shm *shm, void *addr, const void *src, uint64_t len)
{
	struct shm_header *h = shm->hdr;
	int err = 0;

	map_lock(&h->lock);
	if (h->naliases == SHM_MAX_ALIASES)
		err = -E2BIG;
	else if (mmap(addr, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, shm->fd,
		      (off_t)((const char *)src - shm->base)) == MAP_FAILED)
		err = -ENOMEM;
	else
		h->aliases[h->naliases++] = (struct shm_alias){ (uintptr_t)addr, (uintptr_t)src, len };
	map_unlock(&h->lock);
	return err;
}

void map_shm_unalias(struct map_shm *shm, void *addr, uint64_t len)
{
	struct shm_header *h = shm->hdr;

	map_lock(&h->lock);
	for (uint32_t i = 0; i < h->naliases; i++)
		if (h->aliases[i].addr == (uintptr_t)addr) {
			h->aliases[i] = h->aliases[--h->naliases];
			break;
		}
	/* The range becomes plain arena memory again, at its own offset. */
	mmap(addr, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, shm->fd,
	     (off_t)((char *)addr - shm->base));
	map_unlock(&h->lock);
}
