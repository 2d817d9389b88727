/*
 * xskmap.c - BPF_MAP_TYPE_XSKMAP: AF_XDP sockets an XDP program
 * redirects frames to (bpf_redirect_map), one slot per index.  The
 * kernel's checks (net/xdp/xskmap.c): creation takes key_size 4,
 * value_size 4, no flag but BPF_F_NUMA_NODE, BPF_F_RDONLY and
 * BPF_F_WRONLY; an update's value is a socket fd: past max_entries
 * -E2BIG, a closed fd -EBADF, not a socket -ENOTSOCK, not an AF_XDP
 * socket -EOPNOTSUPP, then BPF_NOEXIST / BPF_EXIST as for arrays (the
 * same socket again is no change); the syscall may not look a slot up
 * (-EOPNOTSUPP) nor take one out (-ENOTSUPP); delete past the end is -EINVAL.
 *
 * The slot keeps the fd as given.  bpfvm delivers nothing into an AF_XDP
 * socket's rings: a redirect to a filled slot is an XDP_REDIRECT whose
 * target the embedder reads (bpfvm xdp attach counts such frames apart),
 * and a program's bpf_map_lookup_elem finds no socket (NULL), as the
 * struct xdp_sock it would return is the kernel's.
 */
#include "map.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>

#ifndef AF_XDP
#define AF_XDP 44
#endif

#define XSK_CREATE_FLAG_MASK (BPFVM_F_NUMA_NODE | BPFVM_F_RDONLY | BPFVM_F_WRONLY)

struct xskmap {
	struct bpfvm_map map;
	uint32_t lock;
	int32_t *fds;   /* -1: empty */
};

static struct xskmap *to_xsk(const struct bpfvm_map *map)
{
	return (struct xskmap *)map;
}

static int xskmap_alloc(struct bpfvm_map *map, struct bpfvm_log *log)
{
	struct xskmap *x = to_xsk(map);

	if (!map->max_entries || map->key_size != 4 || map->value_size != 4 ||
	    (map->map_flags & ~XSK_CREATE_FLAG_MASK)) {
		log_printf(log, "BPF_MAP_TYPE_XSKMAP '%s': needs key_size 4, value_size 4 (a "
				"socket fd), max_entries > 0 and no flag but BPF_F_NUMA_NODE, "
				"BPF_F_RDONLY, BPF_F_WRONLY\n", map->name);
		return -EINVAL;
	}
	x->fds = map_area_alloc(map, (uint64_t)map->max_entries * sizeof(*x->fds), false);
	if (!x->fds)
		return -ENOMEM;
	for (uint32_t i = 0; i < map->max_entries; i++)
		x->fds[i] = -1;
	return 0;
}

static void xskmap_free(struct bpfvm_map *map)
{
	map_area_free(map, to_xsk(map)->fds, (uint64_t)map->max_entries * sizeof(int32_t));
}

/* sockfd_lookup and the family test: 0 for an AF_XDP socket. */
static int check_socket(int fd)
{
	int domain = 0;
	socklen_t len = sizeof(domain);

	if (fd < 0 || fcntl(fd, F_GETFD) < 0)
		return -EBADF;
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0)
		return errno == ENOTSOCK ? -ENOTSOCK : -errno;
	return domain == AF_XDP ? 0 : -EOPNOTSUPP;
}

static long xskmap_update(struct bpfvm_map *map, const void *key, const void *value,
			  uint64_t flags, int cpu)
{
	struct xskmap *x = to_xsk(map);
	int32_t fd, old;
	uint32_t k;
	int err;

	(void)cpu;
	memcpy(&k, key, 4);
	memcpy(&fd, value, 4);
	if (flags > BPFVM_EXIST)
		return -EINVAL;
	if (k >= map->max_entries)
		return -E2BIG;
	if ((err = check_socket(fd)))
		return err;
	map_lock(&x->lock);
	old = x->fds[k];
	if (old != fd && old >= 0 && flags == BPFVM_NOEXIST)
		err = -EEXIST;
	else if (old != fd && old < 0 && flags == BPFVM_EXIST)
		err = -ENOENT;
	else
		__atomic_store_n(&x->fds[k], fd, __ATOMIC_RELEASE);
	map_unlock(&x->lock);
	return err;
}

static long xskmap_delete(struct bpfvm_map *map, const void *key)
{
	uint32_t k;

	memcpy(&k, key, 4);
	if (k >= map->max_entries)
		return -EINVAL;
	__atomic_store_n(&to_xsk(map)->fds[k], -1, __ATOMIC_RELEASE);
	return 0;
}

static int xskmap_sys_lookup(struct bpfvm_map *map, const void *key, void *value, uint64_t flags)
{
	(void)map, (void)key, (void)value, (void)flags;
	return -EOPNOTSUPP;
}

static int xskmap_sys_update(struct bpfvm_map *map, const void *key, const void *value,
			     uint64_t flags)
{
	return (int)xskmap_update(map, key, value, flags, 0);
}

/* The redirect's target: the slot's fd (as a pointer to it), NULL when empty. */
static void *xskmap_target(struct bpfvm_map *map, const void *key, int cpu)
{
	uint32_t k;

	(void)cpu;
	memcpy(&k, key, 4);
	if (k >= map->max_entries || __atomic_load_n(&to_xsk(map)->fds[k], __ATOMIC_ACQUIRE) < 0)
		return NULL;
	return &to_xsk(map)->fds[k];
}

const struct map_ops xskmap_map_ops = {
	.obj_size = sizeof(struct xskmap),
	.alloc = xskmap_alloc,
	.free = xskmap_free,
	.delete = xskmap_delete,
	.sys_lookup = xskmap_sys_lookup,
	.sys_update = xskmap_sys_update,
	.get_next_key = array_get_next_key,
	.redirect_target = xskmap_target,
};
