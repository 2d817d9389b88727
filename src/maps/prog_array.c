/*
 * prog_array.c - BPF_MAP_TYPE_PROG_ARRAY: slots of programs that
 * bpf_tail_call(ctx, map, index) jumps to (the interpreter follows at
 * most 33 in a chain, as Linux).  As in the kernel, every program in one
 * array, and every program that uses the array, has the same program
 * type (the first one fixes it); an index is a u32, out of range or
 * empty slots make the tail call fall through.  A program that is
 * destroyed leaves every slot it was in.
 */
#include "map.h"

#include <errno.h>
#include <stdlib.h>

#include "../core/program.h"
#include "../core/run.h"

struct prog_array {
	struct bpfvm_map map;
	uint32_t lock;            /* guards owner_type and writers */
	bool owned;
	uint32_t owner_type;
	struct bpfvm_prog **slots;
};

static struct prog_array *to_pa(const struct bpfvm_map *map)
{
	return (struct prog_array *)map;
}

static int pa_alloc(struct bpfvm_map *map, struct bpfvm_log *log)
{
	struct prog_array *pa = to_pa(map);
	int err;

	if (map->value_size != 4 || (map->map_flags & (BPFVM_F_RDONLY_PROG | BPFVM_F_WRONLY_PROG))) {
		log_printf(log, "program arrays hold fds: value_size 4, no program access flags\n");
		return -EINVAL;
	}
	err = array_alloc_check(map, log);
	if (err)
		return err;
	pa->slots = map_area_alloc(map, (uint64_t)map->max_entries * sizeof(*pa->slots), false);
	return pa->slots ? 0 : -ENOMEM;
}

static void pa_free(struct bpfvm_map *map)
{
	map_area_free(map, to_pa(map)->slots,
		      (uint64_t)map->max_entries * sizeof(*to_pa(map)->slots));
}

/* The kernel's bpf_prog_map_compatible(): one program type per array. */
bool prog_array_compatible(struct bpfvm_map *map, uint32_t prog_type)
{
	struct prog_array *pa = to_pa(map);
	bool ok;

	map_lock(&pa->lock);
	if (!pa->owned) {
		pa->owned = true;
		pa->owner_type = prog_type;
	}
	ok = pa->owner_type == prog_type;
	map_unlock(&pa->lock);
	return ok;
}

struct bpfvm_prog *prog_array_get(struct bpfvm_map *map, uint64_t index)
{
	uint32_t i = (uint32_t)index;   /* the kernel takes the index as a u32 */

	if (i >= map->max_entries)
		return NULL;
	return __atomic_load_n(&to_pa(map)->slots[i], __ATOMIC_ACQUIRE);
}

int prog_array_set(struct bpfvm_map *map, uint32_t index, struct bpfvm_prog *prog)
{
	struct prog_array *pa = to_pa(map);

	if (index >= map->max_entries)
		return -E2BIG;
	if (prog && (prog->vm != map->vm || !prog_array_compatible(map, prog->prog_type)))
		return -EINVAL;
	__atomic_store_n(&pa->slots[index], prog, __ATOMIC_RELEASE);
	return 0;
}

static long pa_delete(struct bpfvm_map *map, const void *key)
{
	uint32_t index;

	memcpy(&index, key, 4);
	if (index >= map->max_entries)
		return -EINVAL;
	return __atomic_exchange_n(&to_pa(map)->slots[index], NULL, __ATOMIC_ACQ_REL) ? 0 : -ENOENT;
}

static void pa_forget_prog(struct bpfvm_map *map, struct bpfvm_prog *prog)
{
	struct prog_array *pa = to_pa(map);

	for (uint32_t i = 0; i < map->max_entries; i++) {
		struct bpfvm_prog *expected = prog;

		__atomic_compare_exchange_n(&pa->slots[i], &expected, NULL, false, __ATOMIC_ACQ_REL,
					    __ATOMIC_RELAXED);
	}
}

const struct map_ops prog_array_map_ops = {
	.obj_size = sizeof(struct prog_array),
	.alloc = pa_alloc,
	.free = pa_free,
	.delete = pa_delete,
	.get_next_key = array_get_next_key,
	.forget_prog = pa_forget_prog,
};
