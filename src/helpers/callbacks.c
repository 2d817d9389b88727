/*
 * callbacks.c - helpers that call back into the program: bpf_loop (the
 * callback gets the index and the context, returns 0 to go on and 1 to
 * stop) and bpf_for_each_map_elem (the callback gets the map, a pointer
 * to the key, one to the value and the context).  The callback is a
 * function of the program (lddw src 4); vm_call_function runs it on a
 * fresh frame in the run's mode, so a checked run checks it too.
 */
#include <errno.h>

#include "../core/run.h"
#include "../maps/map.h"
#include "helpers.h"

#define BPF_MAX_LOOPS (8u * 1024 * 1024)

BPF_HELPER(loop)
{
	uint32_t nr_loops = (uint32_t)r1;
	uint32_t i;

	if (r4)
		return HELPER_ERR(-EINVAL);
	if (nr_loops > BPF_MAX_LOOPS)
		return HELPER_ERR(-E2BIG);
	for (i = 0; i < nr_loops; i++) {
		const uint64_t args[5] = { i, r3, 0, 0, 0 };
		uint64_t ret;

		if (vm_call_function(run, r2, args, &ret))
			return HELPER_ERR(-EINVAL);
		if (ret)
			return i + 1;
	}
	return i;
}

struct each_ctx {
	struct bpfvm_run_ctx *run;
	uint64_t fn;
	uint64_t cb_ctx;
	int err;
};

static uint64_t each_elem(void *ctx, struct bpfvm_map *map, const void *key, void *value)
{
	struct each_ctx *e = ctx;
	struct bpfvm_run_ctx *run = e->run;
	const uint64_t args[5] = { (uintptr_t)map, (uintptr_t)key, (uintptr_t)value, e->cb_ctx, 0 };
	unsigned nregions = run->nregions;
	uint64_t ret;

	if (run->checked) {
		/* The key may live outside the map's values (an array's index): lend it. */
		if (!vm_run_add_region(run, key, map->key_size, false, "map key")) {
			vm_run_fault(run, -ENOMEM, "bpf_for_each_map_elem: too many nested callbacks");
			e->err = -ENOMEM;
			return 1;
		}
		vm_run_note_map(run, map);
	}
	e->err = vm_call_function(run, e->fn, args, &ret);
	run->nregions = nregions;
	return e->err ? 1 : ret;
}

BPF_HELPER(for_each_map_elem)
{
	struct bpfvm_map *map = (struct bpfvm_map *)(uintptr_t)r1;
	struct each_ctx e = { run, r2, r3, 0 };
	long n;

	if (!map->ops->for_each) {
		if (run->checked)
			vm_run_fault(run, -EINVAL, "cannot pass map_type %u into func "
						   "bpf_for_each_map_elem#164",
				     map->type);
		return HELPER_ERR(-EINVAL);
	}
	if (r4)
		return HELPER_ERR(-EINVAL);
	n = map->ops->for_each(map, each_elem, &e, run->cpu);
	return e.err ? HELPER_ERR(-EINVAL) : (uint64_t)n;
}
