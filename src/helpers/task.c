/*
 * task.c - helpers about "the current task", which for bpfvm is the
 * thread running the program: pid_tgid (tgid << 32 | thread id), uid_gid
 * (gid << 32 | uid), comm (the thread's name, as prctl(PR_GET_NAME)
 * gives it, NUL-padded as strscpy_pad does).
 *
 * When the run carries a task (run->task_ops: an event source's traced
 * thread), each answers for that task instead.
 *
 * bpf_get_current_task returns the address of a task_struct the event
 * source lays out for its task (per the kernel's BTF, in bpfvm's memory,
 * which bpf_probe_read_kernel reads), and 0 without a task: then the usual
 * next step, a bpf_probe_read of one of its fields, fails cleanly with
 * -EFAULT instead of reading something that is not a task.
 * bpf_get_current_task_btf returns the same address, which programs
 * dereference directly (the verifier types it by the kernel's BTF, as a
 * PTR_TO_BTF_ID): it also tells the run where the event's kernel objects
 * lie (run->kmem_*), the only memory such loads read; elsewhere, a NULL
 * mm say, they give 0, as the kernel's BPF_PROBE_MEM loads do.
 */
#include <errno.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "../core/run.h"
#include "helpers.h"

BPF_HELPER(get_current_pid_tgid)
{
	if (run->task_ops)
		return run->task_ops->pid_tgid(run->task);
	return (uint64_t)(uint32_t)getpid() << 32 | (uint32_t)gettid();
}

BPF_HELPER(get_current_uid_gid)
{
	if (run->task_ops)
		return run->task_ops->uid_gid(run->task);
	return (uint64_t)(uint32_t)getgid() << 32 | (uint32_t)getuid();
}

BPF_HELPER(get_current_comm)
{
	char comm[17] = { 0 };
	char *buf = (char *)(uintptr_t)r1;
	uint32_t size = (uint32_t)r2;

	if (run->task_ops)
		run->task_ops->comm(run->task, comm);
	else
		prctl(PR_GET_NAME, comm);
	if (!size)
		return 0;
	memset(buf, 0, size);
	strncpy(buf, comm, size - 1);
	return 0;
}

BPF_HELPER(get_current_task)
{
	if (run->task_ops && run->task_ops->task_struct)
		return run->task_ops->task_struct(run->task);
	return 0;
}

BPF_HELPER(get_current_task_btf)
{
	uint64_t task;

	if (!run->task_ops || !run->task_ops->task_struct)
		return 0;
	task = run->task_ops->task_struct(run->task);
	/* laid out now if not before: the span grew */
	if (run->task_ops->kernel_span)
		run->task_ops->kernel_span(run->task, &run->kmem_start, &run->kmem_size);
	return task;
}
