/*
 * shm.h - maps in shared memory: one arena, a memfd mapped MAP_SHARED at
 * the same virtual address in every process that uses it, so that the
 * pointers inside maps (buckets, elements, free lists) and the map
 * addresses a JIT embeds in code mean the same everywhere.  The process
 * that creates the instance picks the address; a forked child inherits
 * the mapping; another process (the in-process agent) maps the memfd at
 * that address with MAP_FIXED_NOREPLACE.
 *
 * Inside: a header page, then a bump allocator with free lists (small
 * blocks by power-of-two class, page-rounded blocks first fit).  Maps are
 * created at load time, so the allocator is simple and guarded by one
 * spin lock in the header, which every process takes the same way.
 *
 * A map object's first page holds only its common header (struct
 * bpfvm_map: the operations table, the instance, the list links, the
 * name: pointers into one process) and is mapped MAP_PRIVATE once the map
 * is made, so each process keeps its own; the type's state follows on
 * shared pages.
 */
#ifndef BPFVM_MAPS_SHM_H
#define BPFVM_MAPS_SHM_H

#include <stdbool.h>
#include <stdint.h>

#include "../util/log.h"

struct bpfvm;
struct bpfvm_map;
struct map_shm;

/* Create an arena of size bytes for vm (vm->shm); 0 or a negative errno. */
int map_shm_create(struct bpfvm *vm, uint64_t size, struct bpfvm_log *log);
/* Map the arena of fd at addr into this process for vm; 0 or a negative errno. */
int map_shm_join(struct bpfvm *vm, int fd, uint64_t addr, struct bpfvm_log *log);
void map_shm_destroy(struct map_shm *shm);

/* Zeroed memory in the arena, page-aligned from half a page up; NULL when full. */
void *map_shm_alloc(struct map_shm *shm, uint64_t size, bool populate);
void map_shm_free(struct map_shm *shm, void *p, uint64_t size);
/* Fault [p, p + len) in now (preallocation), where the kernel allows it. */
void map_shm_populate(void *p, uint64_t len);

/* A map object of obj_size bytes whose common header ends a page of its own. */
struct bpfvm_map *map_shm_alloc_map(struct map_shm *shm, uint64_t obj_size);
/* The map is made: record it for processes that join, make its header page private. */
int map_shm_publish_map(struct map_shm *shm, struct bpfvm_map *map);
void map_shm_free_map(struct map_shm *shm, struct bpfvm_map *map, uint64_t obj_size);
/* The maps published, in creation order: the i-th of count (NULL: freed since). */
uint32_t map_shm_count(const struct map_shm *shm);
struct bpfvm_map *map_shm_published(const struct map_shm *shm, uint32_t i);

/*
 * Map len bytes at addr (in the arena) onto the arena's memory at src, as
 * a ring buffer's second view of its data; recorded so that a process
 * that joins does the same.  0 or a negative errno.
 */
int map_shm_alias(struct map_shm *shm, void *addr, const void *src, uint64_t len);
void map_shm_unalias(struct map_shm *shm, void *addr, uint64_t len);

#endif
