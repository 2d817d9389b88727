/*
 * map.c - the map object every type shares: creation with the kernel's
 * generic checks (map_create() in kernel/bpf/syscall.c) before the type's
 * own, references (the embedder's handle, each program using the map,
 * each outer map holding it), the instance's list of maps, and the
 * syscall-side operations with their flag and permission checks
 * (map_lookup_elem() and friends), which dispatch to the type.
 */
#include "map.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "../core/program.h"
#include "../core/run.h"
#include "../util/opts.h"
#include "shm.h"

#define MAP_TYPE_COUNT 34   /* __MAX_BPF_MAP_TYPE of the kernel bpfvm follows */

static const struct map_ops *const map_types[MAP_TYPE_COUNT] = {
	[BPFVM_MAP_TYPE_HASH] = &htab_map_ops,
	[BPFVM_MAP_TYPE_ARRAY] = &array_map_ops,
	[BPFVM_MAP_TYPE_PROG_ARRAY] = &prog_array_map_ops,
	[BPFVM_MAP_TYPE_PERF_EVENT_ARRAY] = &perf_event_array_map_ops,
	[BPFVM_MAP_TYPE_STACK_TRACE] = &stack_trace_map_ops,
	[BPFVM_MAP_TYPE_CGROUP_ARRAY] = &cgroup_array_map_ops,
	[BPFVM_MAP_TYPE_PERCPU_HASH] = &htab_map_ops,
	[BPFVM_MAP_TYPE_PERCPU_ARRAY] = &percpu_array_map_ops,
	[BPFVM_MAP_TYPE_LRU_HASH] = &htab_map_ops,
	[BPFVM_MAP_TYPE_LRU_PERCPU_HASH] = &htab_map_ops,
	[BPFVM_MAP_TYPE_LPM_TRIE] = &lpm_trie_map_ops,
	[BPFVM_MAP_TYPE_ARRAY_OF_MAPS] = &array_of_maps_map_ops,
	[BPFVM_MAP_TYPE_HASH_OF_MAPS] = &hash_of_maps_map_ops,
	[BPFVM_MAP_TYPE_QUEUE] = &queue_map_ops,
	[BPFVM_MAP_TYPE_STACK] = &stack_map_ops,
	[BPFVM_MAP_TYPE_RINGBUF] = &ringbuf_map_ops,
	[BPFVM_MAP_TYPE_BLOOM_FILTER] = &bloom_filter_map_ops,
	[BPFVM_MAP_TYPE_DEVMAP] = &devmap_map_ops,
	[BPFVM_MAP_TYPE_DEVMAP_HASH] = &devmap_map_ops,
	[BPFVM_MAP_TYPE_CPUMAP] = &cpumap_map_ops,
	[BPFVM_MAP_TYPE_XSKMAP] = &xskmap_map_ops,
};

/* ---- the instance's list --------------------------------------------------- */

static struct bpfvm_prog *tail_call_lookup(struct bpfvm *vm, uint64_t map, uint64_t index)
{
	struct bpfvm_map *m = (struct bpfvm_map *)(uintptr_t)map;

	(void)vm;
	if (!m || m->type != BPFVM_MAP_TYPE_PROG_ARRAY)
		return NULL;
	return prog_array_get(m, index);
}

void maps_init_vm(struct bpfvm *vm)
{
	pthread_mutex_init(&vm->maps_lock, NULL);
	vm->ncpus = maps_possible_cpus();
	vm->tail_call_lookup = tail_call_lookup;
}

static void map_link(struct bpfvm *vm, struct bpfvm_map *map)
{
	pthread_mutex_lock(&vm->maps_lock);
	map->id = ++vm->last_map_id;
	map->next = vm->maps;
	if (vm->maps)
		vm->maps->prev = map;
	vm->maps = map;
	pthread_mutex_unlock(&vm->maps_lock);
}

static void map_unlink(struct bpfvm *vm, struct bpfvm_map *map)
{
	pthread_mutex_lock(&vm->maps_lock);
	if (map->prev)
		map->prev->next = map->next;
	else
		vm->maps = map->next;
	if (map->next)
		map->next->prev = map->prev;
	pthread_mutex_unlock(&vm->maps_lock);
}

/* The object and its name: the heap's, or the shared arena's (shm.h). */
static void map_obj_free(struct bpfvm_map *map)
{
	struct map_shm *shm = map->vm->shm;

	if (!shm) {
		free(map->name);
		free(map);
	} else if (!map->shm_guest) {
		map_shm_free(shm, map->name, strlen(map->name) + 1);
		map_shm_free_map(shm, map, map->ops->obj_size);
	}
}

static void map_free(struct bpfvm_map *map)
{
	/* A map joined from another process's arena is that process's to free. */
	if (map->ops->free && !map->shm_guest)
		map->ops->free(map);
	map_obj_free(map);
}

void map_get(struct bpfvm_map *map)
{
	__atomic_add_fetch(&map->refcnt, 1, __ATOMIC_RELAXED);
}

void map_put(struct bpfvm_map *map)
{
	if (__atomic_sub_fetch(&map->refcnt, 1, __ATOMIC_ACQ_REL))
		return;
	map_unlink(map->vm, map);
	if (map->ops->release_inner)
		map->ops->release_inner(map);
	map_free(map);
}

void maps_destroy_all(struct bpfvm *vm)
{
	/* Maps may hold each other (maps of maps): no reference counting now. */
	for (struct bpfvm_map *m = vm->maps; m; m = m->next)
		m->vm_dying = true;
	while (vm->maps) {
		struct bpfvm_map *m = vm->maps;

		vm->maps = m->next;
		map_free(m);
	}
	pthread_mutex_destroy(&vm->maps_lock);
	map_shm_destroy(vm->shm);
	vm->shm = NULL;
}

void maps_forget_prog(struct bpfvm *vm, struct bpfvm_prog *prog)
{
	pthread_mutex_lock(&vm->maps_lock);
	for (struct bpfvm_map *m = vm->maps; m; m = m->next)
		if (m->ops->forget_prog)
			m->ops->forget_prog(m, prog);
	pthread_mutex_unlock(&vm->maps_lock);
}

struct bpfvm_map *bpfvm__map_by_name(struct bpfvm *vm, const char *name)
{
	struct bpfvm_map *found = NULL;

	if (!vm || !name)
		return NULL;
	pthread_mutex_lock(&vm->maps_lock);
	for (struct bpfvm_map *m = vm->maps; m && !found; m = m->next)
		if (!strcmp(m->name, name))
			found = m;
	pthread_mutex_unlock(&vm->maps_lock);
	return found;
}

bool map_is_live(struct bpfvm *vm, uint64_t ptr)
{
	bool found = false;

	pthread_mutex_lock(&vm->maps_lock);
	for (struct bpfvm_map *m = vm->maps; m && !found; m = m->next)
		found = (uintptr_t)m == ptr;
	pthread_mutex_unlock(&vm->maps_lock);
	return found;
}

/* Access a program has to map memory: BPF_F_RDONLY_PROG / WRONLY_PROG. */
static bool map_access_allowed(const struct bpfvm_map *map, bool write)
{
	return write ? !(map->map_flags & BPFVM_F_RDONLY_PROG)
		     : !(map->map_flags & BPFVM_F_WRONLY_PROG);
}

static int map_owns(const struct bpfvm_map *map, uint64_t addr, uint64_t size, bool write)
{
	if (!map->ops->owns || !map->ops->owns(map, (uintptr_t)addr, size))
		return -1;
	return map_access_allowed(map, write);
}

bool maps_access_ok(const struct bpfvm_run_ctx *run, uint64_t addr, uint64_t size, bool write)
{
	const struct bpfvm_prog *prog = run->prog;
	int ok = -1;

	/* Fast: the maps this run got values from, then those the program names. */
	for (unsigned i = 0; i < run->nvalue_maps && ok < 0; i++)
		ok = map_owns(run->value_maps[i], addr, size, write);
	for (size_t i = 0; i < prog->nmaps && ok < 0; i++)
		ok = map_owns(prog->maps[i], addr, size, write);
	if (ok >= 0)
		return ok;
	/* Slow: any map of the instance (inner maps, pointers kept in maps). */
	pthread_mutex_lock(&run->vm->maps_lock);
	for (struct bpfvm_map *m = run->vm->maps; m && ok < 0; m = m->next)
		ok = map_owns(m, addr, size, write);
	pthread_mutex_unlock(&run->vm->maps_lock);
	return ok > 0;
}

static bool in_regions(const struct vm_region *regions, unsigned n, uint64_t addr, uint64_t size,
		       bool write, bool *found)
{
	for (unsigned i = 0; i < n; i++) {
		const struct vm_region *r = &regions[i];

		if (addr >= r->start && addr <= r->end && size <= r->end - addr) {
			*found = true;
			return !write || r->writable;
		}
	}
	*found = false;
	return false;
}

bool vm_run_access_ok(const struct bpfvm_run_ctx *run, uint64_t addr, uint64_t size, bool write)
{
	bool found, ok;

	ok = in_regions(run->regions, run->nregions, addr, size, write, &found);
	if (found)
		return ok;
	/* Memory helpers handed out: ring buffer records, then map values. */
	ok = in_regions(run->records, run->nrecords, addr, size, write, &found);
	if (found)
		return ok;
	return maps_access_ok(run, addr, size, write);
}

/* ---- creation ------------------------------------------------------------ */

/* The type's operations: bpfvm's, or a descriptor's when the caller asks for one. */
static const struct map_ops *type_ops(uint32_t type, bool kernel_only)
{
	return map_types[type] ? map_types[type] : kernel_only ? &kernel_only_map_ops : NULL;
}

static int check_generic(uint32_t type, uint64_t map_extra, uint32_t flags, bool kernel_only,
			 struct bpfvm_log *log)
{
	if (type != BPFVM_MAP_TYPE_BLOOM_FILTER && type != BPFVM_MAP_TYPE_ARENA && map_extra) {
		log_printf(log, "map_extra is only for bloom filters (and arenas)\n");
		return -EINVAL;
	}
	if ((flags & BPFVM_F_RDONLY) && (flags & BPFVM_F_WRONLY)) {
		log_printf(log, "BPF_F_RDONLY and BPF_F_WRONLY together\n");
		return -EINVAL;
	}
	if (type >= MAP_TYPE_COUNT || type == BPFVM_MAP_TYPE_UNSPEC) {
		log_printf(log, "unknown map type %u\n", type);
		return -EINVAL;
	}
	if (!type_ops(type, kernel_only)) {
		log_printf(log, "map type %u (%s) is kernel-only: bpfvm does not provide it\n", type,
			   bpfvm_map_type_kernel_name(type));
		return -ENOTSUP;
	}
	return 0;
}

static void map_init_from_opts(struct bpfvm_map *map, const struct bpfvm_map_opts *opts)
{
	const struct bpfvm_map *in = OPTS_GET(opts, inner_map, NULL);

	map->map_flags = OPTS_GET(opts, map_flags, 0);
	map->map_extra = OPTS_GET(opts, map_extra, 0);
	map->has_spin_lock = OPTS_GET(opts, has_spin_lock, false);
	map->spin_lock_off = OPTS_GET(opts, spin_lock_off, 0);
	if (in) {

		map->inner = (struct map_meta){ in->type, in->key_size, in->value_size,
						in->max_entries, in->map_flags, in->has_spin_lock,
						in->spin_lock_off };
	}
}

static int check_spin_lock(const struct bpfvm_map *map, struct bpfvm_log *log)
{
	if (!map->has_spin_lock)
		return 0;
	if (map->spin_lock_off % 4 || map->spin_lock_off > map->value_size ||
	    map->value_size - map->spin_lock_off < 4) {
		log_printf(log, "bpf_spin_lock at offset %u does not fit a %u-byte value\n",
			   map->spin_lock_off, map->value_size);
		return -EINVAL;
	}
	return 0;
}

static struct bpfvm_map *map_obj_alloc(struct bpfvm *vm, const struct map_ops *ops,
				       const char *name)
{
	struct bpfvm_map *map;
	size_t len = strlen(name) + 1;

	if (!vm->shm) {
		map = calloc(1, ops->obj_size);
		if (map && !(map->name = strdup(name))) {
			free(map);
			return NULL;
		}
	} else {
		map = map_shm_alloc_map(vm->shm, ops->obj_size);
		if (map && !(map->name = map_shm_alloc(vm->shm, len, false))) {
			map_shm_free_map(vm->shm, map, ops->obj_size);
			return NULL;
		}
		if (map)
			memcpy(map->name, name, len);
	}
	if (map) {
		map->ops = ops;
		map->vm = vm;
	}
	return map;
}

/*
 * The maps of the arena another process made (bpfvm_opts.shared_maps_addr),
 * in its order: the common header page of each is this process's own
 * (shm.h), so this process's operations, instance and list go there.
 */
int maps_join_shared(struct bpfvm *vm)
{
	uint32_t n = map_shm_count(vm->shm);

	for (uint32_t i = 0; i < n; i++) {
		struct bpfvm_map *map = map_shm_published(vm->shm, i);

		if (!map)
			continue;
		map->ops = type_ops(map->type, true);
		map->vm = vm;
		map->refcnt = 1;
		map->user_released = false;
		map->shm_guest = true;
		map->next = map->prev = NULL;
		map_link(vm, map);
	}
	return 0;
}

struct bpfvm_map *bpfvm_map__new(struct bpfvm *vm, uint32_t type, uint32_t key_size,
				 uint32_t value_size, uint32_t max_entries,
				 const struct bpfvm_map_opts *opts)
{
	struct bpfvm_log *log = OPTS_GET(opts, log, NULL);
	bool kernel_only = OPTS_GET(opts, kernel_only, false);
	const char *name = OPTS_GET(opts, name, NULL);
	const struct map_ops *ops;
	struct bpfvm_map *map;
	int err;

	if (!OPTS_VALID(opts, bpfvm_map_opts, log) || !vm) {
		errno = EINVAL;
		return NULL;
	}
	err = check_generic(type, OPTS_GET(opts, map_extra, 0), OPTS_GET(opts, map_flags, 0),
			    kernel_only, log);
	if (err) {
		errno = -err;
		return NULL;
	}
	ops = type_ops(type, kernel_only);
	map = map_obj_alloc(vm, ops, name ? name : "");
	if (!map) {
		errno = ENOMEM;
		return NULL;
	}
	map->type = type;
	map->key_size = key_size;
	map->value_size = value_size;
	map->max_entries = max_entries;
	map->ncpus = vm->ncpus;
	map->value_stride = (uint32_t)(((uint64_t)value_size + 7) & ~7ull);
	map->refcnt = 1;
	map_init_from_opts(map, opts);
	err = check_spin_lock(map, log);
	if (!err && type != BPFVM_MAP_TYPE_ARRAY_OF_MAPS && type != BPFVM_MAP_TYPE_HASH_OF_MAPS &&
	    OPTS_GET(opts, inner_map, NULL)) {
		log_printf(log, "inner_map is only for maps of maps\n");
		err = -EINVAL;
	}
	if (!err)
		err = map->ops->alloc(map, log);
	if (!err && vm->shm && (err = map_shm_publish_map(vm->shm, map))) {
		log_printf(log, "shared maps: too many maps in the arena\n");
		if (map->ops->free)
			map->ops->free(map);
	}
	if (err) {
		map_obj_free(map);
		errno = -err;
		return NULL;
	}
	map_link(vm, map);
	return map;
}

void bpfvm_map__destroy(struct bpfvm_map *map)
{
	if (!map || __atomic_exchange_n(&map->user_released, true, __ATOMIC_ACQ_REL))
		return;
	map_put(map);
}

const char *bpfvm_map__name(const struct bpfvm_map *map)
{
	return map ? map->name : NULL;
}

uint32_t bpfvm_map__type(const struct bpfvm_map *map)
{
	return map ? map->type : 0;
}

uint32_t bpfvm_map__key_size(const struct bpfvm_map *map)
{
	return map ? map->key_size : 0;
}

uint32_t bpfvm_map__value_size(const struct bpfvm_map *map)
{
	return map ? map->value_size : 0;
}

uint32_t bpfvm_map__max_entries(const struct bpfvm_map *map)
{
	return map ? map->max_entries : 0;
}

uint32_t bpfvm_map__flags(const struct bpfvm_map *map)
{
	return map ? map->map_flags : 0;
}

int bpfvm__num_possible_cpus(const struct bpfvm *vm)
{
	return vm ? vm->ncpus : maps_possible_cpus();
}

bool map_meta_matches(const struct map_meta *meta, const struct bpfvm_map *inner)
{
	if (meta->type != inner->type || meta->key_size != inner->key_size ||
	    meta->value_size != inner->value_size || meta->map_flags != inner->map_flags ||
	    meta->has_spin_lock != inner->has_spin_lock ||
	    (meta->has_spin_lock && meta->spin_lock_off != inner->spin_lock_off))
		return false;
	/* Arrays also compare sizes, unless the template says BPF_F_INNER_MAP. */
	if (meta->type == BPFVM_MAP_TYPE_ARRAY && !(meta->map_flags & BPFVM_F_INNER_MAP))
		return meta->max_entries == inner->max_entries;
	return true;
}
