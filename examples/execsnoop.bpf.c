/*
 * execsnoop.bpf.c - every exec of the traced processes, from the kernel's
 * sched_process_exec tracepoint: pid, the thread id it had before
 * (old_pid), comm (already the new program's), the file name, read
 * from the record's __data_loc field, and the parent's pid, read from the
 * current task_struct as libbpf-tools' execsnoop does
 * (task->real_parent->tgid, with CO-RE), through a ring buffer.
 *
 *   bpfvm trace execsnoop.bpf.o -- sh -c 'ls >/dev/null; true'
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#include "kernel_types.h"   /* struct task_struct's fields, for CO-RE */

struct exec_event {
	__u32 pid;
	__u32 old_pid;
	char comm[16];
	char filename[128];
	__u32 ppid;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} execs SEC(".maps");

/* The records' type in the object's BTF (no global otherwise names it): bpfvm trace decodes them */
struct exec_event *unused_exec_event __attribute__((unused));

/* sched/sched_process_exec's record (its format file) */
struct sched_exec {
	__u64 common;
	__u32 filename_loc;   /* __data_loc: offset in the low 16 bits, length in the high */
	__s32 pid;
	__s32 old_pid;
};

SEC("tracepoint/sched/sched_process_exec")
int on_exec(struct sched_exec *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct exec_event *e = bpf_ringbuf_reserve(&execs, sizeof(*e), 0);

	if (!e)
		return 0;
	e->pid = ctx->pid;
	e->old_pid = ctx->old_pid;
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_probe_read_kernel_str(e->filename, sizeof(e->filename),
				  (char *)ctx + (ctx->filename_loc & 0xffff));
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
