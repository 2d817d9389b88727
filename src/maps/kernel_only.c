/*
 * kernel_only.c - maps of the types only the kernel can give content to
 * (stack traces the kernel walks, cgroups, sockets, devices, ...), as
 * descriptors: creation checks the definition as the kernel's map_alloc
 * of the type would, so that a program can be verified against it (the
 * verifier needs the type, sizes, entries and flags: bpf_get_stackid
 * takes only a BPF_MAP_TYPE_STACK_TRACE map), and every operation is
 * refused with -EOPNOTSUPP.  There is no storage: nothing a lookup could
 * return would be the kernel's.
 */
#include "map.h"

#include <errno.h>
#include <limits.h>

/* The kernel's default sysctl kernel.perf_event_max_stack (PERF_MAX_STACK_DEPTH). */
#define KERNEL_MAX_STACK_DEPTH 127u
/* sizeof(struct bpf_stack_build_id): s32 status, 20-byte id, u64 offset/ip. */
#define STACK_BUILD_ID_SIZE 32u
#define STACK_CREATE_FLAG_MASK \
	(BPFVM_F_NUMA_NODE | BPFVM_F_RDONLY | BPFVM_F_WRONLY | BPFVM_F_STACK_BUILD_ID)
/* What the kernel's array_map_alloc_check accepts for fd arrays. */
#define FD_ARRAY_FLAG_MASK (BPFVM_F_NUMA_NODE | BPFVM_F_RDONLY | BPFVM_F_WRONLY)

struct kernel_only_map {
	struct bpfvm_map map;
};

static int invalid(const struct bpfvm_map *map, struct bpfvm_log *log, const char *what)
{
	log_printf(log, "%s '%s': %s\n", bpfvm_map_type_kernel_name(map->type), map->name, what);
	return -EINVAL;
}

/* The kernel's stack_map_alloc checks. */
static int stack_trace_check(const struct bpfvm_map *map, struct bpfvm_log *log)
{
	uint32_t value = map->value_size;

	if (map->map_flags & ~STACK_CREATE_FLAG_MASK)
		return invalid(map, log, "flags other than BPF_F_NUMA_NODE, BPF_F_RDONLY, "
					 "BPF_F_WRONLY and BPF_F_STACK_BUILD_ID");
	if (!map->max_entries || map->key_size != 4 || value < 8 || value % 8)
		return invalid(map, log, "needs key_size 4, value_size a multiple of 8 and "
					 "max_entries > 0");
	if (map->map_flags & BPFVM_F_STACK_BUILD_ID) {
		if (value % STACK_BUILD_ID_SIZE || value / STACK_BUILD_ID_SIZE > KERNEL_MAX_STACK_DEPTH)
			return invalid(map, log, "with BPF_F_STACK_BUILD_ID, value_size must be a "
						 "multiple of 32 bytes, at most 127 frames");
	} else if (value / 8 > KERNEL_MAX_STACK_DEPTH) {
		return invalid(map, log, "value_size holds more than 127 frames (the kernel's "
					 "perf_event_max_stack)");
	}
	if (map->max_entries > 1u << 31) {
		log_printf(log, "%s '%s': max_entries %u is over 2^31\n",
			   bpfvm_map_type_kernel_name(map->type), map->name, map->max_entries);
		return -E2BIG;
	}
	return 0;
}

/* The kernel's fd_array_map_alloc_check: slots hold file descriptors (u32). */
static int fd_array_check(const struct bpfvm_map *map, struct bpfvm_log *log)
{
	if (map->value_size != 4 || map->key_size != 4 || !map->max_entries)
		return invalid(map, log, "needs key_size 4, value_size 4 and max_entries > 0");
	if (map->map_flags & ~FD_ARRAY_FLAG_MASK)
		return invalid(map, log, "flags other than BPF_F_NUMA_NODE, BPF_F_RDONLY and "
					 "BPF_F_WRONLY");
	return 0;
}

static int kernel_only_alloc(struct bpfvm_map *map, struct bpfvm_log *log)
{
	switch (map->type) {
	case BPFVM_MAP_TYPE_STACK_TRACE:
		return stack_trace_check(map, log);
	case BPFVM_MAP_TYPE_CGROUP_ARRAY:
		return fd_array_check(map, log);
	default:
		/*
		 * The other kernel-only types have checks of their own (socket,
		 * device and storage maps); the kernel applies them when it
		 * loads the object.  Here the definition is only carried.
		 */
		if (!map_flags_access_ok(map->map_flags))
			return invalid(map, log, "BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG together");
		return 0;
	}
}

static int refuse_lookup(struct bpfvm_map *map, const void *key, void *value, uint64_t flags)
{
	(void)map, (void)key, (void)value, (void)flags;
	return -EOPNOTSUPP;
}

static int refuse_update(struct bpfvm_map *map, const void *key, const void *value,
			 uint64_t flags)
{
	(void)map, (void)key, (void)value, (void)flags;
	return -EOPNOTSUPP;
}

static long refuse_delete(struct bpfvm_map *map, const void *key)
{
	(void)map, (void)key;
	return -EOPNOTSUPP;
}

static int refuse_next_key(struct bpfvm_map *map, const void *key, void *next_key)
{
	(void)map, (void)key, (void)next_key;
	return -EOPNOTSUPP;
}

/*
 * Program-side operations stay NULL: the verifier refuses every helper
 * but the type's kernel-only ones (check_map_func_compatibility), and a
 * checked run that passes such a map to a map helper stops there.
 */
const struct map_ops kernel_only_map_ops = {
	.obj_size = sizeof(struct kernel_only_map),
	.alloc = kernel_only_alloc,
	.delete = refuse_delete,
	.sys_lookup = refuse_lookup,
	.sys_update = refuse_update,
	.sys_lookup_and_delete = refuse_lookup,
	.get_next_key = refuse_next_key,
};

bool bpfvm_map__kernel_only(const struct bpfvm_map *map)
{
	return map && map->ops == &kernel_only_map_ops;
}
