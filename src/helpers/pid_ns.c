/*
 * pid_ns.c - bpf_get_ns_current_pid_tgid: the current task's pid and
 * tgid inside its active pid namespace, when the program names that
 * namespace by nsfs device and inode (util/pidns.c); for a run about a
 * traced task (run->task_ops) that task's, else bpfvm's own thread's.
 * The kernel's refusals: -EINVAL, with the result zeroed, for a size
 * other than struct bpf_pidns_info's, a device that does not fit a
 * dev_t, or a namespace that is not the task's; -ENOENT where the task
 * has none (here: it is gone).
 */
#include <errno.h>
#include <string.h>

#include "../util/pidns.h"
#include "../core/run.h"
#include "helpers.h"

struct pidns_info {   /* struct bpf_pidns_info */
	uint32_t pid;
	uint32_t tgid;
};

BPF_HELPER(get_ns_current_pid_tgid)
{
	struct pidns_info *out = (struct pidns_info *)(uintptr_t)r3;
	uint32_t size = (uint32_t)r4;
	uint64_t pid_tgid = run->task_ops ? run->task_ops->pid_tgid(run->task) : 0;
	struct util_pid_ns ns;
	int err = -EINVAL;

	if (size != sizeof(*out) || (uint32_t)r1 != r1)
		goto clear;
	if (util_pid_ns((int32_t)(uint32_t)pid_tgid, &ns)) {
		err = -ENOENT;
		goto clear;
	}
	if (ns.dev != r1 || ns.ino != r2)
		goto clear;
	out->pid = ns.pid;
	out->tgid = ns.tgid;
	return 0;
clear:
	memset(out, 0, size);
	return (uint64_t)(int64_t)err;
}
