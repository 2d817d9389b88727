/*
 * kernel_only.c - maps of the types only the kernel can give content to
 * (sockets, devices, kernel object storage, ...), as descriptors: the
 * definition is carried so that a program can be verified against it
 * (the verifier needs the type, sizes, entries and flags: bpf_sk_redirect_map
 * takes only a BPF_MAP_TYPE_SOCKMAP), and every operation is
 * refused with -EOPNOTSUPP.  There is no storage: nothing a lookup could
 * return would be the kernel's.
 */
#include "map.h"

#include <errno.h>
#include <limits.h>

struct kernel_only_map {
	struct bpfvm_map map;
};

static int invalid(const struct bpfvm_map *map, struct bpfvm_log *log, const char *what)
{
	log_printf(log, "%s '%s': %s\n", bpfvm_map_type_kernel_name(map->type), map->name, what);
	return -EINVAL;
}

static int kernel_only_alloc(struct bpfvm_map *map, struct bpfvm_log *log)
{
	/*
	 * The kernel-only types have checks of their own (socket, device and
	 * storage maps); the kernel applies them when it loads the object.
	 * Here the definition is only carried.
	 */
	if (!map_flags_access_ok(map->map_flags))
		return invalid(map, log, "BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG together");
	return 0;
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
