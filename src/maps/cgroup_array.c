/*
 * cgroup_array.c - BPF_MAP_TYPE_CGROUP_ARRAY: slots of cgroups (v2) for
 * bpf_current_task_under_cgroup.  As the kernel's map update, user space
 * stores the fd of a cgroup2 directory (the value, a u32); the slot keeps
 * the cgroup's id (its directory's inode number, what the kernel's
 * cgroup ids are), so a cgroup stays named after the fd is closed.  The
 * kernel's errors: a flag other than BPF_ANY -EINVAL, an index out of
 * range -E2BIG, an fd that is not a cgroup2 directory -EBADF; lookups
 * from user space are not supported (-ENOTSUPP, as the kernel's, for a
 * map without map_fd_sys_lookup_elem); delete empties a slot (-ENOENT if
 * empty).
 */
#include "map.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#define CGROUP2_SUPER_MAGIC 0x63677270

struct cgroup_array {
	struct bpfvm_map map;
	uint64_t *ids;   /* 0: empty */
};

static struct cgroup_array *to_ca(const struct bpfvm_map *map)
{
	return (struct cgroup_array *)map;
}

static int ca_alloc(struct bpfvm_map *map, struct bpfvm_log *log)
{
	int err;

	/* The kernel's fd_array_map_alloc_check(): slots hold fds. */
	if (map->value_size != 4 || (map->map_flags & (BPFVM_F_RDONLY_PROG | BPFVM_F_WRONLY_PROG))) {
		log_printf(log, "cgroup arrays hold fds: value_size 4, no program access flags\n");
		return -EINVAL;
	}
	err = array_alloc_check(map, log);
	if (err)
		return err;
	to_ca(map)->ids = calloc(map->max_entries, sizeof(uint64_t));
	return to_ca(map)->ids ? 0 : -ENOMEM;
}

static void ca_free(struct bpfvm_map *map)
{
	free(to_ca(map)->ids);
}

static int ca_sys_update(struct bpfvm_map *map, const void *key, const void *value,
			 uint64_t flags)
{
	uint32_t index, fd;
	struct statfs sfs;
	struct stat st;

	memcpy(&index, key, 4);
	memcpy(&fd, value, 4);
	if (flags != 0)   /* BPF_ANY only */
		return -EINVAL;
	if (index >= map->max_entries)
		return -E2BIG;
	if (fstat((int)fd, &st) || fstatfs((int)fd, &sfs))
		return -EBADF;
	if (!S_ISDIR(st.st_mode) || sfs.f_type != CGROUP2_SUPER_MAGIC)
		return -EBADF;   /* not a cgroup directory, or one of a v1 hierarchy */
	__atomic_store_n(&to_ca(map)->ids[index], (uint64_t)st.st_ino, __ATOMIC_RELEASE);
	return 0;
}

static long ca_delete(struct bpfvm_map *map, const void *key)
{
	uint32_t index;

	memcpy(&index, key, 4);
	if (index >= map->max_entries)
		return -E2BIG;
	return __atomic_exchange_n(&to_ca(map)->ids[index], 0, __ATOMIC_ACQ_REL) ? 0 : -ENOENT;
}

int cgroup_array_get(struct bpfvm_map *map, uint32_t index, uint64_t *id)
{
	if (index >= map->max_entries)
		return -E2BIG;
	*id = __atomic_load_n(&to_ca(map)->ids[index], __ATOMIC_ACQUIRE);
	return 0;
}

const struct map_ops cgroup_array_map_ops = {
	.obj_size = sizeof(struct cgroup_array),
	.alloc = ca_alloc,
	.free = ca_free,
	.delete = ca_delete,
	.sys_update = ca_sys_update,
	.get_next_key = array_get_next_key,
};
