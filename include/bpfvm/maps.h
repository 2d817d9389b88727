/*
 * bpfvm/maps.h - maps: the kernel's key/value stores that programs and user
 * space share.  Types, flags, sizes, limits and error codes are the
 * kernel's (<linux/bpf.h>: enum bpf_map_type, BPF_ANY/BPF_NOEXIST/BPF_EXIST,
 * BPF_F_NO_PREALLOC, ...), so that a program written for the kernel sees
 * the same behaviour.  A map belongs to the instance it was created in;
 * bpfvm__destroy() frees it with the rest.  All operations are safe from
 * several threads at once.
 */
#ifndef BPFVM_MAPS_H
#define BPFVM_MAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bpfvm/bpfvm.h>

#ifdef __cplusplus
extern "C" {
#endif

struct bpfvm_map;

/* Map types: enum bpf_map_type's numbers (the ones bpfvm provides are marked *). */
enum bpfvm_map_type {
	BPFVM_MAP_TYPE_UNSPEC = 0,
	BPFVM_MAP_TYPE_HASH = 1,                 /* * */
	BPFVM_MAP_TYPE_ARRAY = 2,                /* * */
	BPFVM_MAP_TYPE_PROG_ARRAY = 3,           /* * tail calls */
	BPFVM_MAP_TYPE_PERF_EVENT_ARRAY = 4,     /* * records go to bpfvm_map__set_perf_output */
	BPFVM_MAP_TYPE_PERCPU_HASH = 5,          /* * */
	BPFVM_MAP_TYPE_PERCPU_ARRAY = 6,         /* * */
	BPFVM_MAP_TYPE_STACK_TRACE = 7,
	BPFVM_MAP_TYPE_CGROUP_ARRAY = 8,
	BPFVM_MAP_TYPE_LRU_HASH = 9,             /* * */
	BPFVM_MAP_TYPE_LRU_PERCPU_HASH = 10,     /* * */
	BPFVM_MAP_TYPE_LPM_TRIE = 11,            /* * */
	BPFVM_MAP_TYPE_ARRAY_OF_MAPS = 12,       /* * */
	BPFVM_MAP_TYPE_HASH_OF_MAPS = 13,        /* * */
	BPFVM_MAP_TYPE_DEVMAP = 14,
	BPFVM_MAP_TYPE_SOCKMAP = 15,
	BPFVM_MAP_TYPE_CPUMAP = 16,
	BPFVM_MAP_TYPE_XSKMAP = 17,
	BPFVM_MAP_TYPE_SOCKHASH = 18,
	BPFVM_MAP_TYPE_CGROUP_STORAGE = 19,
	BPFVM_MAP_TYPE_REUSEPORT_SOCKARRAY = 20,
	BPFVM_MAP_TYPE_PERCPU_CGROUP_STORAGE = 21,
	BPFVM_MAP_TYPE_QUEUE = 22,               /* * */
	BPFVM_MAP_TYPE_STACK = 23,               /* * */
	BPFVM_MAP_TYPE_SK_STORAGE = 24,
	BPFVM_MAP_TYPE_DEVMAP_HASH = 25,
	BPFVM_MAP_TYPE_STRUCT_OPS = 26,
	BPFVM_MAP_TYPE_RINGBUF = 27,             /* * */
	BPFVM_MAP_TYPE_INODE_STORAGE = 28,
	BPFVM_MAP_TYPE_TASK_STORAGE = 29,
	BPFVM_MAP_TYPE_BLOOM_FILTER = 30,        /* * */
	BPFVM_MAP_TYPE_USER_RINGBUF = 31,
	BPFVM_MAP_TYPE_CGRP_STORAGE = 32,
	BPFVM_MAP_TYPE_ARENA = 33,
};

/* Update flags (BPF_ANY, ...). */
#define BPFVM_ANY 0ull
#define BPFVM_NOEXIST 1ull
#define BPFVM_EXIST 2ull
#define BPFVM_F_LOCK 4ull

/* map_flags at creation (BPF_F_*). */
#define BPFVM_F_NO_PREALLOC (1u << 0)
#define BPFVM_F_NO_COMMON_LRU (1u << 1)
#define BPFVM_F_NUMA_NODE (1u << 2)
#define BPFVM_F_RDONLY (1u << 3)       /* the syscall side may not write */
#define BPFVM_F_WRONLY (1u << 4)       /* the syscall side may not read */
#define BPFVM_F_STACK_BUILD_ID (1u << 5)
#define BPFVM_F_ZERO_SEED (1u << 6)    /* hash seed 0: the kernel's jhash order */
#define BPFVM_F_RDONLY_PROG (1u << 7)  /* programs may not write */
#define BPFVM_F_WRONLY_PROG (1u << 8)  /* programs may not read */
#define BPFVM_F_CLONE (1u << 9)
#define BPFVM_F_MMAPABLE (1u << 10)
#define BPFVM_F_PRESERVE_ELEMS (1u << 11)
#define BPFVM_F_INNER_MAP (1u << 12)

/* Ring buffer records: an 8-byte header {u32 len; u32 pg_off} before each. */
#define BPFVM_RINGBUF_BUSY_BIT (1u << 31)
#define BPFVM_RINGBUF_DISCARD_BIT (1u << 30)
#define BPFVM_RINGBUF_HDR_SZ 8

/*
 * The kernel's ENOTSUPP (524, not in libc's errno.h): what the kernel
 * returns for an operation a map type lacks, e.g. lookup-and-delete on an
 * array.  bpfvm returns the same number.
 */
#define BPFVM_ENOTSUPP 524

struct bpfvm_map_opts {
	size_t sz;
	const char *name;          /* copied; for messages and listings */
	uint32_t map_flags;        /* BPF_F_* as the kernel's map_flags */
	uint64_t map_extra;        /* bloom filter: number of hashes (low 4 bits) */
	/* map-in-map: a map whose type, sizes and flags inner maps must match */
	const struct bpfvm_map *inner_map;
	struct bpfvm_log *log;     /* why creation failed */
	/*
	 * The value holds a struct bpf_spin_lock (4 bytes) at spin_lock_off,
	 * as BTF says in the kernel: bpf_spin_lock/unlock and BPF_F_LOCK
	 * work on it, and value copies leave it alone.
	 */
	bool has_spin_lock;
	uint32_t spin_lock_off;
	/*
	 * A map type bpfvm does not provide (BPF_MAP_TYPE_STACK_TRACE,
	 * BPF_MAP_TYPE_CGROUP_ARRAY, ...) is still created, as a descriptor:
	 * it carries its definition, checked as the kernel checks it, so the
	 * verifier can check programs against it, and refuses every
	 * operation (-EOPNOTSUPP; a program reaching it stops).  Without it,
	 * such a type fails with ENOTSUP.  bpfvm_map__kernel_only tells.
	 */
	bool kernel_only;
};

/*
 * Create a map of the kernel's type id (BPF_MAP_TYPE_*) with the kernel's
 * validation of sizes and flags.  Returns NULL with errno (EINVAL for what
 * the kernel refuses, E2BIG for sizes over its limits, ENOTSUP for a type
 * bpfvm lacks, BPFVM_ENOTSUPP where the kernel says 524, ENOMEM) and the
 * reason in opts->log.  Storage programs can reach is allocated once and
 * kept until the map goes (NO_PREALLOC maps commit it lazily).  With
 * BPF_F_NO_COMMON_LRU, max_entries is rounded up to a multiple of the
 * possible CPUs, as the kernel does.
 */
BPFVM_API struct bpfvm_map *bpfvm_map__new(struct bpfvm *vm, uint32_t type, uint32_t key_size,
					  uint32_t value_size, uint32_t max_entries,
					  const struct bpfvm_map_opts *opts);
/*
 * Give up the embedder's handle: the map goes once no program and no outer
 * map holds it (bpfvm__destroy frees it in any case).  NULL is allowed.
 */
BPFVM_API void bpfvm_map__destroy(struct bpfvm_map *map);

/* Is map a descriptor of a type bpfvm does not provide (bpfvm_map_opts.kernel_only)? */
BPFVM_API bool bpfvm_map__kernel_only(const struct bpfvm_map *map);
/*
 * The kernel's enum name of a map type ("BPF_MAP_TYPE_STACK_TRACE"), NULL
 * if unknown; bpfvm_map_type_name (object.h) gives bpftool's "stack_trace".
 */
BPFVM_API const char *bpfvm_map_type_kernel_name(uint32_t type);

BPFVM_API const char *bpfvm_map__name(const struct bpfvm_map *map);
BPFVM_API uint32_t bpfvm_map__type(const struct bpfvm_map *map);
BPFVM_API uint32_t bpfvm_map__key_size(const struct bpfvm_map *map);
BPFVM_API uint32_t bpfvm_map__value_size(const struct bpfvm_map *map);
BPFVM_API uint32_t bpfvm_map__max_entries(const struct bpfvm_map *map);
BPFVM_API uint32_t bpfvm_map__flags(const struct bpfvm_map *map);
/* The number of CPUs per-CPU maps hold a slot for. */
BPFVM_API int bpfvm__num_possible_cpus(const struct bpfvm *vm);
/* The instance's map named name (the newest, if several are), or NULL. */
BPFVM_API struct bpfvm_map *bpfvm__map_by_name(struct bpfvm *vm, const char *name);

/*
 * The syscall-side operations, as bpf(BPF_MAP_*_ELEM) behaves: 0 or a
 * negative errno (-ENOENT missing key, -EEXIST / -ENOENT for BPF_NOEXIST /
 * BPF_EXIST, -E2BIG full, -EINVAL bad flags or a delete on an array,
 * -EPERM against BPF_F_RDONLY / BPF_F_WRONLY, -EFAULT for a NULL key or
 * value, -BPFVM_ENOTSUPP for what the type lacks, as the kernel's 524).
 * For per-CPU maps, value holds one value_size slot (rounded up to 8
 * bytes) per possible CPU, as the kernel's user-space interface does.
 * Queue, stack and bloom filter take key NULL: lookup peeks (a bloom
 * filter reads value as the value to test), update pushes,
 * lookup_and_delete pops.  Maps whose slots hold objects (program
 * arrays, maps of maps, perf event arrays) are filled with set_prog and
 * set_inner, not update (-BPFVM_ENOTSUPP); a lookup in a map of maps
 * gives the inner map's id (1, 2, ... in the instance).  A lookup may race
 * with a delete and a reuse of the element for another key: it then
 * looks again, and never returns another key's value.
 */
BPFVM_API int bpfvm_map__lookup_elem(struct bpfvm_map *map, const void *key, void *value,
				     uint64_t flags);
BPFVM_API int bpfvm_map__update_elem(struct bpfvm_map *map, const void *key, const void *value,
				     uint64_t flags);
BPFVM_API int bpfvm_map__delete_elem(struct bpfvm_map *map, const void *key);
BPFVM_API int bpfvm_map__lookup_and_delete_elem(struct bpfvm_map *map, const void *key,
						void *value, uint64_t flags);
/*
 * Freeze the map, as BPF_MAP_FREEZE does: from now on the embedder's
 * updates and deletes fail with -EPERM (programs still write it unless it
 * is BPF_F_RDONLY_PROG).  A verifier then takes the values of a frozen,
 * BPF_F_RDONLY_PROG array of one entry as constants, as Linux does for
 * .rodata; objects freeze their .rodata and .kconfig maps when they load,
 * as libbpf does.  Returns 0, -EPERM (read-only, or frozen already),
 * -BPFVM_ENOTSUPP (a value with a bpf_spin_lock).
 */
BPFVM_API int bpfvm_map__freeze(struct bpfvm_map *map);
BPFVM_API bool bpfvm_map__frozen(const struct bpfvm_map *map);
/* The key after key, or the first key when key is NULL or missing; -ENOENT at the end. */
BPFVM_API int bpfvm_map__get_next_key(struct bpfvm_map *map, const void *key, void *next_key);

/*
 * Batch operations, as bpf(BPF_MAP_*_BATCH) behaves (libbpf's
 * bpf_map_lookup_batch and friends take the same arguments).  *count is
 * how many elements keys/values have room for (in) and how many were
 * handled (out); values are laid out as single lookups give them (per-CPU:
 * every CPU's slot).  Lookups start after in_batch (NULL: at the start)
 * and leave in out_batch where the next call goes on: for hash tables a
 * u32 bucket number (whole buckets at a time, -ENOSPC when the first one
 * does not fit), for other types the last key handed out.  At the end of
 * the map: -ENOENT with *count set.  The types the kernel gives batches:
 * hash tables (all four), arrays and per-CPU arrays (lookup and update),
 * LPM tries (all but lookup-and-delete); others -BPFVM_ENOTSUPP.  Errors
 * as the kernel's: -EINVAL (elem_flags other than BPF_F_LOCK, BPF_F_LOCK
 * without a lock, flags on a hash lookup), -EPERM (read-only, write-only
 * or frozen map), -EFAULT (a NULL buffer that is needed; *count as far as
 * the kernel had written it), the single operation's error at the element
 * that failed (updates and deletes: *count elements were done).
 */
struct bpfvm_map_batch_opts {
	size_t sz;
	uint64_t elem_flags;   /* BPF_F_LOCK */
	uint64_t flags;        /* none yet: a hash lookup refuses any */
};
BPFVM_API int bpfvm_map__lookup_batch(struct bpfvm_map *map, const void *in_batch,
				      void *out_batch, void *keys, void *values, uint32_t *count,
				      const struct bpfvm_map_batch_opts *opts);
BPFVM_API int bpfvm_map__lookup_and_delete_batch(struct bpfvm_map *map, const void *in_batch,
						 void *out_batch, void *keys, void *values,
						 uint32_t *count,
						 const struct bpfvm_map_batch_opts *opts);
BPFVM_API int bpfvm_map__update_batch(struct bpfvm_map *map, const void *keys, const void *values,
				      uint32_t *count, const struct bpfvm_map_batch_opts *opts);
BPFVM_API int bpfvm_map__delete_batch(struct bpfvm_map *map, const void *keys, uint32_t *count,
				      const struct bpfvm_map_batch_opts *opts);

/*
 * Program arrays: put a program in a slot (what a tail call jumps to), or
 * empty it (prog NULL).  -E2BIG for an index out of range, -EINVAL for a
 * program of another instance or of another program type than the
 * array's first (as the kernel).  Destroying a program empties its slots.
 */
BPFVM_API int bpfvm_map__set_prog(struct bpfvm_map *map, uint32_t index, struct bpfvm_prog *prog);
/*
 * Maps of maps: put a map in a slot (array: key is a u32 index) or under
 * a key (hash), or empty it (inner NULL).  The inner map must match the
 * outer map's template (type, sizes, flags; arrays also max_entries unless
 * the template has BPF_F_INNER_MAP), else -EINVAL; the outer map holds a
 * reference on it.
 */
BPFVM_API int bpfvm_map__set_inner(struct bpfvm_map *map, const void *key,
				   struct bpfvm_map *inner);

/*
 * Ring buffers: consume the records committed so far, in order, calling
 * fn for each (a non-zero return stops after that record; a negative one
 * is returned).  Returns the number consumed or a negative errno.  One
 * consumer at a time, as with libbpf.  The buffer's memory has the kernel's layout
 * (consumer and producer positions on their own pages, 8-byte headers with
 * busy and discard bits), also reachable with bpfvm_map__ringbuf_area().
 */
typedef int (*bpfvm_ringbuf_fn)(void *ctx, const void *data, size_t size);
BPFVM_API int bpfvm_map__ringbuf_consume(struct bpfvm_map *map, bpfvm_ringbuf_fn fn, void *ctx);
BPFVM_API void *bpfvm_map__ringbuf_area(struct bpfvm_map *map, size_t *size);
/*
 * Records lost: reservations and outputs (bpf_ringbuf_reserve,
 * bpf_ringbuf_output) refused because the buffer had no room for them,
 * since the map was created.  The kernel keeps no such count (the program
 * sees NULL or -EAGAIN); a consumer reports it as libbpf's perf buffer
 * reports lost samples.  0 for another map type.
 */
BPFVM_API uint64_t bpfvm_map__ringbuf_lost(const struct bpfvm_map *map);
/*
 * The ring buffer's memory as a file (a memfd): offset 0 is the consumer
 * page, the producer page follows, then the data.  mmap() it as one would
 * a kernel ring buffer's map fd (the data is in the file once; map it
 * twice for records that wrap).  Returns the fd (owned by the map),
 * -EINVAL for another map type, or -EOPNOTSUPP for a ring buffer in an
 * instance's shared arena (bpfvm_opts.shared_maps_size: its pages are the
 * arena's file, bpfvm__shared_maps()).
 */
BPFVM_API int bpfvm_map__ringbuf_fd(struct bpfvm_map *map);

/*
 * What the kernel's map fd mmap()s, as a file: a ring buffer's
 * (bpfvm_map__ringbuf_fd) or a BPF_F_MMAPABLE array's (its values from
 * offset 0, value_size rounded up to 8 apart, the file a whole number of
 * pages).  The fd is owned by the map.  -EINVAL for other maps.
 */
BPFVM_API int bpfvm_map__mmap_fd(struct bpfvm_map *map);

/*
 * Perf event arrays: where bpf_perf_event_output's records go.  fn gets
 * each record as it is written, with the slot it was written to (the CPU
 * with BPF_F_CURRENT_CPU), on the program's thread.  Without fn, output
 * fails with -ENOENT, as to an empty slot in the kernel.
 */
typedef void (*bpfvm_perf_fn)(void *ctx, int cpu, const void *data, size_t size);
BPFVM_API int bpfvm_map__set_perf_output(struct bpfvm_map *map, bpfvm_perf_fn fn, void *ctx);

#ifdef __cplusplus
}
#endif

#endif
