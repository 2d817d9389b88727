/*
 * task.bpf.c - what bpf_get_current_task's task_struct says, read with
 * BPF_CORE_READ as kernel programs read it, at each openat (its exit), fork, exec
 * and exit of the workload: pid, tgid, the parent's tgid through
 * real_parent and parent, the group leader's pid, comm and the parent's,
 * the uids and gids of real_cred and cred, the pid namespace's level,
 * its PF_ flags (PF_KTHREAD, PF_EXITING, ...), exit_code, whether it has an mm,
 * and whether its start times are past times of the two clocks.
 * test_kernel_trace runs it in the kernel and under bpfvm trace.  filter
 * (set in the kernel run): only the processes in pids, which the fork
 * program extends to their children.
 */
#include "task_progs.h"

static __always_inline void record(__u32 type, __u32 child, const char *path)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct trec *r = new_record(type, child);
	__u32 flags;

	if (!r)
		return;
	r->t_pid = BPF_CORE_READ(task, pid);
	r->t_tgid = BPF_CORE_READ(task, tgid);
	r->ppid = BPF_CORE_READ(task, real_parent, tgid);
	r->parent = BPF_CORE_READ(task, parent, tgid);
	r->leader = BPF_CORE_READ(task, group_leader, pid);
	r->uid = BPF_CORE_READ(task, real_cred, uid.val);
	r->gid = BPF_CORE_READ(task, cred, gid.val);
	r->euid = BPF_CORE_READ(task, cred, euid.val);
	r->level = BPF_CORE_READ(task, nsproxy, pid_ns_for_children, level);
	flags = BPF_CORE_READ(task, flags);
	/* PF_KTHREAD never, PF_FORKNOEXEC, PF_RANDOMIZE, PF_EXITING as the kernel sets them; a
	 * command bpfvm starts has PF_SUPERPRIV from installing its seccomp filter as root */
	r->flags = flags & ~PF_SUPERPRIV;
	r->exiting = flags & PF_EXITING;
	r->exit_code = BPF_CORE_READ(task, exit_code);
	r->has_mm = BPF_CORE_READ(task, mm) != 0;
	r->times_ok = within_minute(BPF_CORE_READ(task, start_time), bpf_ktime_get_ns()) &&
		      within_minute(BPF_CORE_READ(task, start_boottime), bpf_ktime_get_boot_ns());
	BPF_CORE_READ_STR_INTO(&r->comm, task, comm);
	BPF_CORE_READ_STR_INTO(&r->pcomm, task, real_parent, comm);
	if (path)
		bpf_probe_read_user(r->path, sizeof(r->path), path);
	bpf_ringbuf_submit(r, 0);
}
