/*
 * compare.bpf.c - the object test_kernel_trace loads into the kernel and
 * runs under `bpfvm trace` on the same workload: one record per openat
 * (at its exit), fork, exec and exit, with what each tracepoint and the
 * current-task helpers say.  filter (set in the kernel run): only the
 * processes in pids, which the fork program extends to their children.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <asm/ptrace.h>
#include <bpf/bpf_helpers.h>

enum { R_OPEN = 1, R_FORK, R_EXEC, R_EXIT, R_CLONE_RET, R_RAW_ENTER, R_RAW_EXIT };

struct rec {
	__u32 type;
	__u32 pid;     /* tgid */
	__u32 tid;
	__s32 a;       /* open, clone: ret; fork: child pid; exec: old_pid; exit: group_dead */
	__u32 b;       /* open: flags; fork: parent pid; exec: pid; exit: pid */
	__u32 uid;
	char comm[16];
	char str[64];  /* open, exec: the file; fork: parent_comm */
	__u64 cgid;    /* bpf_get_current_cgroup_id */
};

#include "compare_maps.h"   /* recs, pids, filter, traced() */

static __always_inline struct rec *start(__u32 type)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct rec *r = bpf_ringbuf_reserve(&recs, sizeof(*r), 0);

	if (!r)
		return 0;
	__builtin_memset(r, 0, sizeof(*r));
	r->type = type;
	r->pid = id >> 32;
	r->tid = (__u32)id;
	r->uid = (__u32)bpf_get_current_uid_gid();
	bpf_get_current_comm(r->comm, sizeof(r->comm));
	r->cgid = bpf_get_current_cgroup_id();
	return r;
}

struct enter_openat { __u64 common; __s32 nr; __u32 pad; __u64 dfd, filename, flags, mode; };
struct exit_openat { __u64 common; __s32 nr; __u32 pad; __s64 ret; };

SEC("tracepoint/syscalls/sys_enter_openat")
int open_enter(struct enter_openat *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 v = ctx->filename;

	if (traced()) {
		bpf_map_update_elem(&names, &tid, &v, BPF_ANY);
		v = ctx->flags;
		tid |= 0x80000000;
		bpf_map_update_elem(&names, &tid, &v, BPF_ANY);
	}
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_openat")
int open_exit(struct exit_openat *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid(), ftid = tid | 0x80000000;
	__u64 *name = bpf_map_lookup_elem(&names, &tid), *flags = bpf_map_lookup_elem(&names, &ftid);
	struct rec *r;

	if (!name || !flags)
		return 0;
	r = start(R_OPEN);
	if (r) {
		r->a = (__s32)ctx->ret;
		r->b = (__u32)*flags;
		bpf_probe_read_user_str(r->str, sizeof(r->str), (void *)*name);
		bpf_ringbuf_submit(r, 0);
	}
	bpf_map_delete_elem(&names, &tid);
	bpf_map_delete_elem(&names, &ftid);
	return 0;
}

struct sched_fork { __u64 common; __u32 parent_comm; __s32 parent_pid; __u32 child_comm; __s32 child_pid; };

SEC("tracepoint/sched/sched_process_fork")
int on_fork(struct sched_fork *ctx)
{
	__u32 child = ctx->child_pid;
	__u64 one = 1;
	struct rec *r;

	if (!traced())
		return 0;
	bpf_map_update_elem(&pids, &child, &one, BPF_ANY);
	r = start(R_FORK);
	if (r) {
		r->a = ctx->child_pid;
		r->b = ctx->parent_pid;
		bpf_probe_read_kernel_str(r->str, sizeof(r->str),
					  (char *)ctx + (ctx->parent_comm & 0xffff));
		bpf_ringbuf_submit(r, 0);
	}
	return 0;
}

struct sched_exec { __u64 common; __u32 filename; __s32 pid; __s32 old_pid; };

SEC("tracepoint/sched/sched_process_exec")
int on_exec(struct sched_exec *ctx)
{
	struct rec *r;

	if (!traced() || !(r = start(R_EXEC)))
		return 0;
	r->a = ctx->old_pid;
	r->b = ctx->pid;
	bpf_probe_read_kernel_str(r->str, sizeof(r->str), (char *)ctx + (ctx->filename & 0xffff));
	bpf_ringbuf_submit(r, 0);
	return 0;
}

struct sched_exit { __u64 common; char comm[16]; __s32 pid; __s32 prio; __u8 group_dead; };

SEC("tracepoint/sched/sched_process_exit")
int on_exit(struct sched_exit *ctx)
{
	struct rec *r;

	if (!traced() || !(r = start(R_EXIT)))
		return 0;
	r->a = ctx->group_dead;
	r->b = ctx->pid;
	bpf_ringbuf_submit(r, 0);
	return 0;
}

/* clone() and clone3() return twice: the child's id in the parent, 0 in the child */
static __always_inline int clone_ret(struct exit_openat *ctx)
{
	struct rec *r;

	if (!traced() || !(r = start(R_CLONE_RET)))
		return 0;
	r->a = (__s32)ctx->ret;
	r->b = ctx->nr;
	bpf_ringbuf_submit(r, 0);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_clone")
int clone_exit(struct exit_openat *ctx)
{
	return clone_ret(ctx);
}

SEC("tracepoint/syscalls/sys_exit_clone3")
int clone3_exit(struct exit_openat *ctx)
{
	return clone_ret(ctx);
}

#define NR_OPENAT 257

/* raw_tp/sys_enter: args[0] is the user's pt_regs, args[1] the call; openat's file name via regs->rsi (the uapi pt_regs) */
SEC("raw_tp/sys_enter")
int raw_enter(struct bpf_raw_tracepoint_args *ctx)
{
	struct pt_regs *regs = (struct pt_regs *)ctx->args[0];
	unsigned long fname = 0;
	struct rec *r;

	if (ctx->args[1] != NR_OPENAT || !traced() || !(r = start(R_RAW_ENTER)))
		return 0;
	r->b = (__u32)ctx->args[1];
	bpf_probe_read_kernel(&fname, sizeof(fname), &regs->rsi);
	bpf_probe_read_user_str(r->str, sizeof(r->str), (void *)fname);
	bpf_ringbuf_submit(r, 0);
	return 0;
}

/* raw_syscalls/sys_exit: id at 8, ret at 16 */
struct raw_exit { __u64 common; __s64 id; __s64 ret; };

SEC("tracepoint/raw_syscalls/sys_exit")
int raw_exit(struct raw_exit *ctx)
{
	struct rec *r;

	if (ctx->id != NR_OPENAT || !traced() || !(r = start(R_RAW_EXIT)))
		return 0;
	r->a = (__s32)ctx->ret;
	r->b = (__u32)ctx->id;
	bpf_ringbuf_submit(r, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
