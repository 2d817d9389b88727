/*
 * task_btf.bpf.c - task.bpf.c's record, read through
 * bpf_get_current_task_btf with direct loads, as programs written for
 * BTF-typed pointers read it: task->tgid, task->real_parent->tgid (a
 * trusted pointer, then an RCU one), task->cred->euid.val (a plain one),
 * task->nsproxy->pid_ns_for_children->level, task->comm with
 * bpf_probe_read_kernel_str and the parent's comm copied by loads.
 * test_kernel_trace runs it in the kernel and under bpfvm trace, and
 * compares the records with task.bpf.c's canonical form.
 */
#include "task_progs.h"

static __always_inline void record(__u32 type, __u32 child, const char *path)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct trec *r = new_record(type, child);
	__u32 flags;

	if (!r)
		return;
	r->t_pid = task->pid;
	r->t_tgid = task->tgid;
	r->ppid = task->real_parent->tgid;
	r->parent = task->parent->tgid;
	r->leader = task->group_leader->pid;
	r->uid = task->real_cred->uid.val;
	r->gid = task->cred->gid.val;
	r->euid = task->cred->euid.val;
	r->level = task->nsproxy->pid_ns_for_children->level;
	flags = task->flags;
	/* as task.bpf.c: PF_SUPERPRIV is bpfvm's start-up's */
	r->flags = flags & ~PF_SUPERPRIV;
	r->exiting = flags & PF_EXITING;
	r->exit_code = task->exit_code;
	r->has_mm = task->mm != 0;
	r->times_ok = within_minute(task->start_time, bpf_ktime_get_ns()) &&
		      within_minute(task->start_boottime, bpf_ktime_get_boot_ns());
	bpf_probe_read_kernel_str(&r->comm, sizeof(r->comm), task->comm);
	__builtin_memcpy(r->pcomm, task->real_parent->comm, sizeof(r->pcomm));
	if (path)
		bpf_probe_read_user(r->path, sizeof(r->path), path);
	bpf_ringbuf_submit(r, 0);
}
