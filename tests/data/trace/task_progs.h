/*
 * task_progs.h - what tests/data/trace/task.bpf.c and task_btf.bpf.c
 * share: the record test_kernel_trace compares, the maps, and the
 * programs at openat's exit, fork, exec and exit, each calling the
 * record() its file defines (how it reads the current task is the
 * difference).
 */
#ifndef BPFVM_TESTS_TASK_PROGS_H
#define BPFVM_TESTS_TASK_PROGS_H

#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#include "kernel_types.h"

enum { T_OPEN = 1, T_FORK, T_EXEC, T_EXIT };

struct trec {
	__u32 type, pid, tid;
	__u32 t_pid, t_tgid;     /* task->pid, task->tgid */
	__u32 ppid, parent;      /* real_parent->tgid, parent->tgid */
	__u32 leader;            /* group_leader->pid */
	__u32 uid, gid, euid;    /* real_cred->uid, cred->gid, cred->euid */
	__u32 level;             /* nsproxy->pid_ns_for_children->level */
	__u32 flags;             /* all but PF_SUPERPRIV (which bpfvm's start-up sets: see below) */
	__u32 exiting;           /* flags & PF_EXITING */
	__s32 exit_code;
	__u32 has_mm;
	__u32 times_ok;          /* start_time, start_boottime: in the last minute */
	__u32 child;             /* fork: the child's pid */
	char comm[16];
	char pcomm[16];          /* real_parent->comm */
	char path[8];            /* open: the file's first bytes */
};

_Static_assert(sizeof(struct trec) == 112, "the size of test_kernel_trace's struct rec");

#include "compare_maps.h"   /* recs, pids, filter, traced() */

static __always_inline int within_minute(__u64 t, __u64 now)
{
	return t && t <= now && now - t < 60ull * 1000000000;
}

/* A zeroed record about the current thread, or NULL (not followed, or no room). */
static __always_inline struct trec *new_record(__u32 type, __u32 child)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct trec *r;

	if (!traced())
		return NULL;
	r = bpf_ringbuf_reserve(&recs, sizeof(*r), 0);
	if (!r)
		return NULL;
	__builtin_memset(r, 0, sizeof(*r));
	r->type = type;
	r->pid = id >> 32;
	r->tid = (__u32)id;
	r->child = child;
	return r;
}

static __always_inline void record(__u32 type, __u32 child, const char *path);

struct enter_openat { __u64 common; __s32 nr; __u32 pad; __u64 dfd, filename, flags, mode; };

/* the name is read at the call's exit, when the kernel has faulted its page in */
SEC("tracepoint/syscalls/sys_enter_openat")
int open_enter(struct enter_openat *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 name = ctx->filename;

	if (traced())
		bpf_map_update_elem(&names, &tid, &name, BPF_ANY);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_openat")
int open_exit(void *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 *name = bpf_map_lookup_elem(&names, &tid);

	if (!name)
		return 0;
	record(T_OPEN, 0, (const char *)*name);
	bpf_map_delete_elem(&names, &tid);
	return 0;
}

struct sched_fork {
	__u64 common;
	__u32 parent_comm_loc;
	__s32 parent_pid;
	__u32 child_comm_loc;
	__s32 child_pid;
};

SEC("tracepoint/sched/sched_process_fork")
int on_fork(struct sched_fork *ctx)
{
	__u32 child = ctx->child_pid;
	__u64 one = 1;

	if (!traced())
		return 0;
	bpf_map_update_elem(&pids, &child, &one, BPF_ANY);
	record(T_FORK, child, 0);
	return 0;
}

SEC("tracepoint/sched/sched_process_exec")
int on_exec(void *ctx)
{
	record(T_EXEC, 0, 0);
	return 0;
}

SEC("tracepoint/sched/sched_process_exit")
int on_exit(void *ctx)
{
	record(T_EXIT, 0, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

#endif
