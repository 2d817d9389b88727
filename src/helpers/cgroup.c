/*
 * cgroup.c - bpf_get_current_cgroup_id: the id of the current task's
 * cgroup v2, as the kernel numbers cgroups (util/cgroup.c); for a run
 * about a traced task (run->task_ops) that task's, else bpfvm's own
 * thread's.  0 where it cannot be found (no /proc).
 * bpf_current_task_under_cgroup: is that cgroup the one in a cgroup
 * array's slot, or below it (1 or 0); the kernel's -E2BIG for an index
 * out of range and -EAGAIN for an empty slot.
 */
#include <errno.h>

#include "../util/cgroup.h"
#include "../core/run.h"
#include "../maps/map.h"
#include "helpers.h"

static int32_t current_tid(const struct bpfvm_run_ctx *run)
{
	return run->task_ops ? (int32_t)(uint32_t)run->task_ops->pid_tgid(run->task) : 0;
}

BPF_HELPER(get_current_cgroup_id)
{
	return util_cgroup_id(current_tid(run));
}

BPF_HELPER(current_task_under_cgroup)
{
	struct bpfvm_map *map = (struct bpfvm_map *)(uintptr_t)r1;
	uint64_t id;
	int err;

	if (map->type != BPFVM_MAP_TYPE_CGROUP_ARRAY)   /* a trusted program is not verified */
		return HELPER_ERR(-EINVAL);
	err = cgroup_array_get(map, (uint32_t)r2, &id);
	if (err)
		return HELPER_ERR(err);
	if (!id)
		return HELPER_ERR(-EAGAIN);
	return (uint64_t)util_cgroup_under(current_tid(run), id);
}
