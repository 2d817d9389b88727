/*
 * bpf_batch.c - BPF_MAP_LOOKUP_BATCH, LOOKUP_AND_DELETE_BATCH,
 * UPDATE_BATCH and DELETE_BATCH: the attribute decoded and checked as the
 * kernel's bpf_map_do_batch does, the map's side in bpfvm_map__*_batch.
 * The kernel writes count back even when the command fails (-ENOENT at
 * the end of a map, the element an update stopped at): pl_bpf copies the
 * attribute back for these commands whatever they return.
 */
#include <errno.h>
#include <string.h>

#include "bpf_attr.h"
#include "preload.h"

struct pl_attr_batch {
	uint64_t in_batch, out_batch, keys, values;
	uint32_t count, map_fd;
	uint64_t elem_flags, flags;
};
#define PL_BATCH_END 56

#define UPTR(x) ((void *)(uintptr_t)(x))

/* Maps of maps take descriptors as values: each goes in as a single update would. */
static long update_fds(struct pl_obj *m, struct pl_attr_batch *a)
{
	uint32_t ks = bpfvm_map__key_size(m->map), max = a->count, cp;
	long err = 0;

	if (a->elem_flags)
		return -EINVAL;
	if (!max)
		return 0;
	for (cp = 0; cp < max && !err; cp++) {
		if (!a->keys || !a->values) {
			err = -EFAULT;
			break;
		}
		err = pl_map_update_fd_slot(m, (const char *)UPTR(a->keys) + (uint64_t)cp * ks,
					    (const char *)UPTR(a->values) + (uint64_t)cp * 4, 0);
		if (err)
			break;
	}
	a->count = cp;
	return err;
}

long pl_map_batch(int cmd, void *attr)
{
	struct pl_attr_batch *a = attr;
	BPFVM_OPTS(bpfvm_map_batch_opts, bo, .elem_flags = a->elem_flags, .flags = a->flags);
	struct pl_obj *m;
	uint32_t type;

	for (size_t i = PL_BATCH_END; i < PL_ATTR_SIZE; i++)
		if (((const uint8_t *)attr)[i])
			return -EINVAL;
	if (!(m = pl_obj_get((int)a->map_fd, PL_MAP)))
		return -EBADF;
	type = bpfvm_map__type(m->map);
	switch (cmd) {
	case PL_MAP_LOOKUP_BATCH:
		return bpfvm_map__lookup_batch(m->map, UPTR(a->in_batch), UPTR(a->out_batch),
					       UPTR(a->keys), UPTR(a->values), &a->count, &bo);
	case PL_MAP_LOOKUP_AND_DELETE_BATCH:
		return bpfvm_map__lookup_and_delete_batch(m->map, UPTR(a->in_batch),
							  UPTR(a->out_batch), UPTR(a->keys),
							  UPTR(a->values), &a->count, &bo);
	case PL_MAP_UPDATE_BATCH:
		if (type == BPFVM_MAP_TYPE_ARRAY_OF_MAPS || type == BPFVM_MAP_TYPE_HASH_OF_MAPS)
			return update_fds(m, a);
		return bpfvm_map__update_batch(m->map, UPTR(a->keys), UPTR(a->values), &a->count,
					       &bo);
	default:
		return bpfvm_map__delete_batch(m->map, UPTR(a->keys), &a->count, &bo);
	}
}
