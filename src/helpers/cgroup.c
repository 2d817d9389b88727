/*
 * cgroup.c - bpf_get_current_cgroup_id: the id of the current task's
 * cgroup v2, as the kernel numbers cgroups (util/cgroup.c); for a run
 * about a traced task (run->task_ops) that task's, else bpfvm's own
 * thread's.  0 where it cannot be found (no /proc).
 */
#include "../util/cgroup.h"
#include "../core/run.h"
#include "helpers.h"

BPF_HELPER(get_current_cgroup_id)
{
	uint64_t pid_tgid = run->task_ops ? run->task_ops->pid_tgid(run->task) : 0;

	return util_cgroup_id((int32_t)(uint32_t)pid_tgid);
}
