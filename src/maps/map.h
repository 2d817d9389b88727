/*
 * map.h - what every map type shares: the common object (type, sizes,
 * flags, references, the instance's list), one operations table per type
 * in the manner of the kernel's struct bpf_map_ops, and the small tools
 * the types use (locks, value copies that honour a bpf_spin_lock, the
 * per-CPU layout).
 *
 * Two sides call a map, as in the kernel: programs (through helpers:
 * lookup hands out a pointer into the map's storage, valid as long as the
 * map lives) and the embedder (bpfvm_map__*, the syscall's semantics:
 * values are copied, per-CPU maps copy every CPU's slot).
 *
 * Storage a program can reach is allocated once, in slabs that live as
 * long as the map, so a pointer a program keeps after a delete still
 * points at memory of this map (as the kernel's preallocated elements)
 * and a checked run can tell map memory by a range check.
 */
#ifndef BPFVM_MAPS_MAP_H
#define BPFVM_MAPS_MAP_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <bpfvm/maps.h>

#include "../util/log.h"

struct bpfvm_run_ctx;

/* The kernel's limits that creation checks use. */
#define MAP_KMALLOC_MAX_SIZE (1u << 22)   /* 4 MiB: MAX_PAGE_ORDER 10, 4 KiB pages */
#define MAP_PCPU_MIN_UNIT_SIZE (32u << 10)
#define MAP_HTAB_ELEM_SIZE 48u            /* sizeof(struct htab_elem) the kernel subtracts */
#define MAP_NAME_LEN 16                   /* BPF_OBJ_NAME_LEN */
#define MAP_BPF_MAX_VAR_OFF (1u << 29)

/* A program's callback for for_each_map_elem: 0 continues, 1 stops. */
typedef uint64_t (*map_each_fn)(void *ctx, struct bpfvm_map *map, const void *key, void *value);

/*
 * One map type.  Every operation a type lacks is NULL; the common layer
 * (map.c) turns that into the kernel's error for that operation.  cpu is
 * the CPU the caller runs on (a program's run->cpu), for per-CPU values.
 */
struct map_ops {
	size_t obj_size;   /* the type's struct, which starts with struct bpfvm_map */
	/* Check the attributes the kernel's way and allocate the storage. */
	int (*alloc)(struct bpfvm_map *map, struct bpfvm_log *log);
	void (*free)(struct bpfvm_map *map);

	/* Program side. */
	void *(*lookup)(struct bpfvm_map *map, const void *key, int cpu);
	long (*update)(struct bpfvm_map *map, const void *key, const void *value, uint64_t flags,
		       int cpu);
	long (*delete)(struct bpfvm_map *map, const void *key);
	long (*push)(struct bpfvm_map *map, const void *value, uint64_t flags);
	long (*pop)(struct bpfvm_map *map, void *value);
	long (*peek)(struct bpfvm_map *map, void *value);
	/* Visit elements: returns how many were visited, or -EINVAL. */
	long (*for_each)(struct bpfvm_map *map, map_each_fn fn, void *ctx, int cpu);

	/* Embedder side (all CPUs' slots for per-CPU maps).  NULL: generic. */
	int (*sys_lookup)(struct bpfvm_map *map, const void *key, void *value, uint64_t flags);
	int (*sys_update)(struct bpfvm_map *map, const void *key, const void *value,
			  uint64_t flags);
	int (*sys_lookup_and_delete)(struct bpfvm_map *map, const void *key, void *value,
				     uint64_t flags);
	int (*get_next_key)(struct bpfvm_map *map, const void *key, void *next_key);

	/* lddw src 2/6: the address of the value at off (arrays only). */
	int (*direct_value_addr)(const struct bpfvm_map *map, uint32_t off, uint64_t *addr);
	/* Checked runs: does [addr, addr + size) lie inside one value? */
	bool (*owns)(const struct bpfvm_map *map, uintptr_t addr, uint64_t size);
	/* Maps holding programs or maps drop their references. */
	void (*forget_prog)(struct bpfvm_map *map, struct bpfvm_prog *prog);
	void (*release_inner)(struct bpfvm_map *map);

	/* bpf_redirect_map: the target at key, or NULL; the flags the type takes besides the
	 * verdict bits (the kernel's map_redirect and its flag_mask). */
	void *(*redirect_target)(struct bpfvm_map *map, const void *key, int cpu);
	uint64_t redirect_flags;
};

#define MAP_REDIRECT_BROADCAST_FLAGS ((1ull << 3) | (1ull << 4)) /* BPF_F_BROADCAST, _EXCLUDE_INGRESS */

/* What an inner map must look like (the kernel's inner_map_meta). */
struct map_meta {
	uint32_t type, key_size, value_size, max_entries, map_flags;
	int has_spin_lock;
	uint32_t spin_lock_off;
};

struct bpfvm_map {
	const struct map_ops *ops;
	struct bpfvm *vm;
	struct bpfvm_map *next, *prev;  /* in vm->maps, under vm->maps_lock */
	char *name;                     /* copied from the options; "" when none */
	uint32_t id;                    /* 1, 2, ... in the instance, as the kernel's map ids */
	uint32_t type;
	uint32_t key_size;
	uint32_t value_size;
	uint32_t max_entries;
	uint32_t map_flags;
	uint64_t map_extra;
	uint32_t value_stride;          /* value_size rounded up to 8 */
	int ncpus;                      /* per-CPU slots */
	int has_spin_lock;
	uint32_t spin_lock_off;
	struct map_meta inner;          /* map-in-map: the template */
	/*
	 * Plain arrays (BPF_MAP_TYPE_ARRAY): where the values are, so that a
	 * lookup is values + index * value_stride for index < max_entries, no
	 * call (map_lookup_fast; a JIT can emit it, as the kernel inlines it).
	 * NULL for every other type.
	 */
	char *array_values;
	/*
	 * Frozen (bpfvm_map__freeze): the embedder's writes are refused from
	 * then on, so that a verifier may take a read-only map's values as
	 * constants.  Atomic.
	 */
	int frozen;
	/*
	 * Per-CPU arrays (BPF_MAP_TYPE_PERCPU_ARRAY): the same for CPU c at
	 * percpu_array_values + c * max_entries * value_stride, which the
	 * kernel's verifier inlines too.  NULL for every other type.
	 */
	char *percpu_array_values;
	int refcnt;                     /* atomic: the embedder's handle, programs, outer maps */
	bool user_released;
	bool vm_dying;                  /* bpfvm__destroy frees everything: no cross-references */
	bool shm_guest;                 /* in an arena another process made (shm.h) */
};

/* ---- the common layer (map.c) ------------------------------------------- */

/* Take and drop a reference; the last drop frees the map. */
void map_get(struct bpfvm_map *map);
void map_put(struct bpfvm_map *map);
/* Is ptr a live map of vm?  (A checked run's test of a map argument.) */
bool map_is_live(struct bpfvm *vm, uint64_t ptr);
/* Set up the maps side of a new instance (possible CPUs, tail calls). */
void maps_init_vm(struct bpfvm *vm);
/* Take in the maps of the shared arena vm joined (shm.h); 0 or a negative errno. */
int maps_join_shared(struct bpfvm *vm);
/* Free every map of vm, whatever the references (bpfvm__destroy). */
void maps_destroy_all(struct bpfvm *vm);
/* Forget prog in every program array of vm (bpfvm_prog__destroy). */
void maps_forget_prog(struct bpfvm *vm, struct bpfvm_prog *prog);
/* Checked runs: may the program touch [addr, addr + size) as map memory? */
bool maps_access_ok(const struct bpfvm_run_ctx *run, uint64_t addr, uint64_t size, bool write);
/*
 * May a checked run touch [addr, addr + size) (written to, if write)?  Its
 * regions first, then memory helpers handed out: ring buffer records, then
 * map values (maps_access_ok).
 */
bool vm_run_access_ok(const struct bpfvm_run_ctx *run, uint64_t addr, uint64_t size, bool write);
/* Number of possible CPUs (per-CPU slots), from sysfs or sysconf. */
int maps_possible_cpus(void);
/* Does map's template accept inner as an element (bpf_map_meta_equal)? */
bool map_meta_matches(const struct map_meta *meta, const struct bpfvm_map *inner);

/* A program's lookup: arrays inline, the rest through their type. */
static inline void *map_lookup_fast(struct bpfvm_map *map, const void *key, int cpu)
{
	if (map->array_values) {
		uint32_t index;

		memcpy(&index, key, 4);
		return index < map->max_entries
			       ? map->array_values + (uint64_t)index * map->value_stride
			       : NULL;
	}
	if (map->percpu_array_values) {
		uint32_t index;

		memcpy(&index, key, 4);
		return index < map->max_entries
			       ? map->percpu_array_values +
					 ((uint64_t)cpu * map->max_entries + index) * map->value_stride
			       : NULL;
	}
	return map->ops->lookup ? map->ops->lookup(map, key, cpu) : NULL;
}

/* Flags every type's creation check uses: the access bits are consistent. */
static inline bool map_flags_access_ok(uint32_t flags)
{
	return (flags & (BPFVM_F_RDONLY_PROG | BPFVM_F_WRONLY_PROG)) !=
	       (BPFVM_F_RDONLY_PROG | BPFVM_F_WRONLY_PROG);
}

#define MAP_F_ACCESS_MASK \
	(BPFVM_F_RDONLY | BPFVM_F_RDONLY_PROG | BPFVM_F_WRONLY | BPFVM_F_WRONLY_PROG)

/* ---- locks: short critical sections, as the kernel's raw spinlocks ---- */

void map_lock_slow(uint32_t *lock);

static inline void map_lock(uint32_t *lock)
{
	if (__builtin_expect(__atomic_exchange_n(lock, 1, __ATOMIC_ACQUIRE) == 0, 1))
		return;
	map_lock_slow(lock);
}

static inline void map_unlock(uint32_t *lock)
{
	__atomic_store_n(lock, 0, __ATOMIC_RELEASE);
}

/* ---- value copies --------------------------------------------------------- */

/* Copy a value, leaving the destination's bpf_spin_lock word alone. */
static inline void map_copy_value(const struct bpfvm_map *map, void *dst, const void *src)
{
	if (!map->has_spin_lock) {
		memcpy(dst, src, map->value_size);
		return;
	}
	memcpy(dst, src, map->spin_lock_off);
	memcpy((char *)dst + map->spin_lock_off + 4, (const char *)src + map->spin_lock_off + 4,
	       map->value_size - map->spin_lock_off - 4);
}

/* BPF_F_LOCK: the same, holding the value's lock (to_map: dst is in the map). */
void map_copy_value_locked(const struct bpfvm_map *map, void *dst, const void *src, bool to_map);

/* Zero a copied-out value's lock word (the kernel's check_and_init_map_value). */
static inline void map_clear_lock(const struct bpfvm_map *map, void *value)
{
	if (map->has_spin_lock)
		memset((char *)value + map->spin_lock_off, 0, 4);
}

/*
 * Zeroed memory for map's storage, for its life: anonymous pages, or the
 * instance's shared arena (shm.h); populate: touch it now (preallocated maps).
 */
void *map_area_alloc(const struct bpfvm_map *map, uint64_t size, bool populate);
void map_area_free(const struct bpfvm_map *map, void *area, uint64_t size);

/* The kernel's roundup_pow_of_two for bucket counts (n <= 2^31). */
static inline uint32_t map_roundup_pow2(uint32_t n)
{
	uint32_t p = 1;

	while (p < n)
		p <<= 1;
	return p;
}

/* Seeds for hash tables and bloom filters (the kernel's hash is jhash.h's). */
uint32_t map_random_seed(void);

/* ---- the types --------------------------------------------------------- */

extern const struct map_ops array_map_ops;
extern const struct map_ops percpu_array_map_ops;
extern const struct map_ops htab_map_ops;
extern const struct map_ops lpm_trie_map_ops;
extern const struct map_ops queue_map_ops;
extern const struct map_ops stack_map_ops;
extern const struct map_ops bloom_filter_map_ops;
extern const struct map_ops ringbuf_map_ops;
extern const struct map_ops perf_event_array_map_ops;
extern const struct map_ops prog_array_map_ops;
extern const struct map_ops array_of_maps_map_ops;
extern const struct map_ops hash_of_maps_map_ops;
extern const struct map_ops devmap_map_ops;     /* devmap and devmap_hash */
extern const struct map_ops cpumap_map_ops;
extern const struct map_ops xskmap_map_ops;
extern const struct map_ops stack_trace_map_ops;
extern const struct map_ops cgroup_array_map_ops;
/* Descriptors of the types only the kernel provides (kernel_only.c). */
extern const struct map_ops kernel_only_map_ops;

/* Program arrays: the program in slot index, or NULL (tail calls). */
struct bpfvm_prog *prog_array_get(struct bpfvm_map *map, uint64_t index);
int prog_array_set(struct bpfvm_map *map, uint32_t index, struct bpfvm_prog *prog);
/* May a program of prog_type use (or sit in) this program array? */
bool prog_array_compatible(struct bpfvm_map *map, uint32_t prog_type);
/* Maps of maps: set a slot (array: key is a u32 index); inner NULL empties it. */
int map_in_map_set(struct bpfvm_map *map, const void *key, struct bpfvm_map *inner);
int htab_set_inner(struct bpfvm_map *map, const void *key, struct bpfvm_map *inner);
/*
 * Hash tables' batch lookups (map_batch.c): the kernel's bucket walk, with
 * a u32 bucket number for a batch token; *count in and out; the checks of
 * flags and permissions are the caller's.
 */
int htab_lookup_batch(struct bpfvm_map *map, const void *in_batch, void *out_batch, void *keys,
		      void *values, uint32_t *count, bool del, uint64_t flags);
/* The checks a map of maps' template passes (value_size 4, one level). */
int map_in_map_check(const struct bpfvm_map *map, struct bpfvm_log *log);
/* Arrays of fds (programs, perf events, maps) share the array's checks. */
int array_alloc_check(const struct bpfvm_map *map, struct bpfvm_log *log);
int array_get_next_key(struct bpfvm_map *map, const void *key, void *next_key);
/* A BPF_F_MMAPABLE array's memfd (-1 for other arrays). */
int array_mmap_fd(struct bpfvm_map *map);

/* Perf event arrays: deliver a record (bpf_perf_event_output). */
long perf_event_array_output(struct bpfvm_map *map, uint64_t flags, int cpu, const void *data,
			     uint64_t size);

/*
 * Stack trace maps (stack_trace.c), bpf_get_stackid's half.  A frame of a
 * BPF_F_STACK_BUILD_ID map or of bpf_get_stack with BPF_F_USER_BUILD_ID
 * is the kernel's struct bpf_stack_build_id.
 */
#define STACK_MAX_DEPTH 127u      /* the kernel's default sysctl perf_event_max_stack */
#define STACK_BUILD_ID_SIZE 32u
#define STACK_BUILD_ID_VALID 1    /* BPF_STACK_BUILD_ID_VALID: build id and file offset */
#define STACK_BUILD_ID_IP 2       /* BPF_STACK_BUILD_ID_IP: the ip kept, build id zero */
struct stack_build_id {
	int32_t status;
	uint8_t build_id[20];
	uint64_t ip;                  /* the file offset where status is VALID */
};
/* Resolve n frames whose ip is set (user: a user stack), as stack_map_get_build_id_offset. */
typedef void (*stack_build_ids_fn)(void *ctx, struct stack_build_id *ids, uint32_t n, bool user);
/* Frames a walk collects for a size-byte buffer of elem_size frames (skip included, <= 127). */
uint32_t stack_max_depth(uint32_t size, uint32_t elem_size, uint64_t flags);
uint32_t stack_map_elem_size(const struct bpfvm_map *map);
/* The stack id of trace (trace_nr ips, skip not yet applied) per flags, or the kernel's error. */
long stack_map_get_id(struct bpfvm_map *map, const uint64_t *trace, uint32_t trace_nr,
		      uint64_t flags, stack_build_ids_fn build_ids, void *ctx);

/* Cgroup arrays (cgroup_array.c): the id of the cgroup in slot index, 0 for an empty slot. */
int cgroup_array_get(struct bpfvm_map *map, uint32_t index, uint64_t *id);

/* Ring buffers (the helpers' side). */
void *ringbuf_reserve(struct bpfvm_map *map, uint64_t size);
void ringbuf_commit(void *sample, uint64_t flags, bool discard);
uint64_t ringbuf_query(struct bpfvm_map *map, uint64_t flags);

#endif
