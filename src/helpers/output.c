/*
 * output.c - the helpers that send records out of a program: the ring
 * buffer's output / reserve / submit / discard / query, and
 * perf_event_output (records go to the embedder's function, see
 * bpfvm_map__set_perf_output).
 *
 * A checked run tracks the records it has reserved: their memory is the
 * program's to write until it submits or discards them, submit and
 * discard accept only those, and a run that ends holding one fails (the
 * kernel's verifier refuses such a program: "Unreleased reference").
 */
#include <errno.h>

#include "../core/run.h"
#include "../maps/map.h"
#include "helpers.h"

#define RB_NO_WAKEUP 1u
#define RB_FORCE_WAKEUP 2u

static bool is_ringbuf(struct bpfvm_run_ctx *run, const struct bpfvm_map *map, uint32_t id)
{
	if (map->type == BPFVM_MAP_TYPE_RINGBUF)
		return true;
	if (run->checked)
		vm_run_fault(run, -EINVAL, "cannot pass map_type %u into func %s#%u", map->type,
			     helper_info(id)->name, id);
	return false;
}

BPF_HELPER(ringbuf_output)
{
	struct bpfvm_map *map = (struct bpfvm_map *)(uintptr_t)r1;
	void *rec;

	if (!is_ringbuf(run, map, HELPER_ID_ringbuf_output))
		return HELPER_ERR(-EINVAL);
	if (r4 & ~(uint64_t)(RB_NO_WAKEUP | RB_FORCE_WAKEUP))
		return HELPER_ERR(-EINVAL);
	rec = ringbuf_reserve(map, r3);
	if (!rec)
		return HELPER_ERR(-EAGAIN);
	memcpy(rec, (const void *)(uintptr_t)r2, r3);
	ringbuf_commit(rec, r4, false);
	return 0;
}

BPF_HELPER(ringbuf_reserve)
{
	struct bpfvm_map *map = (struct bpfvm_map *)(uintptr_t)r1;
	void *rec;

	if (!is_ringbuf(run, map, HELPER_ID_ringbuf_reserve) || r3)
		return 0;
	rec = ringbuf_reserve(map, r2);
	if (rec && run->checked) {
		if (run->nrecords == VM_MAX_RECORDS) {   /* cannot track it: as if full */
			ringbuf_commit(rec, 0, true);
			return 0;
		}
		run->records[run->nrecords++] = (struct vm_region){
			(uintptr_t)rec, (uintptr_t)rec + r2, true, "ring buffer record",
		};
	}
	return (uintptr_t)rec;
}

/* A checked run gives up the record's memory. */
static void forget_record(struct bpfvm_run_ctx *run, uint64_t sample)
{
	for (unsigned i = 0; i < run->nrecords; i++) {
		if (run->records[i].start == sample) {
			run->records[i] = run->records[--run->nrecords];
			return;
		}
	}
}

BPF_HELPER(ringbuf_submit)
{
	forget_record(run, r1);
	ringbuf_commit((void *)(uintptr_t)r1, r2, false);
	return 0;
}

BPF_HELPER(ringbuf_discard)
{
	forget_record(run, r1);
	ringbuf_commit((void *)(uintptr_t)r1, r2, true);
	return 0;
}

BPF_HELPER(ringbuf_query)
{
	struct bpfvm_map *map = (struct bpfvm_map *)(uintptr_t)r1;

	if (!is_ringbuf(run, map, HELPER_ID_ringbuf_query))
		return 0;
	return ringbuf_query(map, r2);
}

BPF_HELPER(perf_event_output)
{
	struct bpfvm_map *map = (struct bpfvm_map *)(uintptr_t)r2;

	if (map->type != BPFVM_MAP_TYPE_PERF_EVENT_ARRAY) {
		if (run->checked)
			vm_run_fault(run, -EINVAL, "cannot pass map_type %u into func "
						   "bpf_perf_event_output#25",
				     map->type);
		return HELPER_ERR(-EINVAL);
	}
	return (uint64_t)perf_event_array_output(map, r3, run->cpu, (const void *)(uintptr_t)r4, r5);
}
