/*
 * unlink_kprobe_twin.bpf.c - the tracepoint twin of
 * examples/unlink_kprobe.bpf.c (kprobe and kretprobe on do_unlinkat),
 * for a kernel without kprobes: the same records, from the system calls
 * that enter do_unlinkat (unlink; unlinkat with flag 0) at their entry
 * and exit.  test_kernel_trace compares the kernel's records of this
 * object with bpfvm's of the example.  filter (set in the kernel run):
 * only the processes in pids.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct unlink_kevent {
	__u32 type;
	__u32 pid;
	__u32 tid;
	__s32 dfd;
	__s64 ret;
	char comm[16];
	char path[96];
};

#include "compare_maps.h"   /* recs, pids, filter, traced() */

static __always_inline struct unlink_kevent *start(__u32 type)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct unlink_kevent *e;

	if (!traced())
		return 0;
	e = bpf_ringbuf_reserve(&recs, sizeof(*e), 0);
	if (!e)
		return 0;
	__builtin_memset(e, 0, sizeof(*e));
	e->type = type;
	e->pid = id >> 32;
	e->tid = (__u32)id;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	return e;
}

static __always_inline void enter(__s32 dfd, const char *path)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct unlink_kevent *e = start(1);
	__u64 one = 1;

	if (!e)
		return;
	e->dfd = dfd;
	bpf_probe_read_user_str(e->path, sizeof(e->path), path);
	bpf_ringbuf_submit(e, 0);
	bpf_map_update_elem(&names, &tid, &one, BPF_ANY);   /* inside do_unlinkat */
}

static __always_inline void leave(__s64 ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct unlink_kevent *e;

	if (!bpf_map_lookup_elem(&names, &tid))
		return;
	bpf_map_delete_elem(&names, &tid);
	e = start(2);
	if (!e)
		return;
	e->ret = ret;
	bpf_ringbuf_submit(e, 0);
}

struct enter_unlink { __u64 common; __s32 nr; __u32 pad; __u64 pathname; };
struct enter_unlinkat { __u64 common; __s32 nr; __u32 pad; __u64 dfd, pathname, flag; };
struct exit_call { __u64 common; __s32 nr; __u32 pad; __s64 ret; };

SEC("tracepoint/syscalls/sys_enter_unlink")
int unlink_enter(struct enter_unlink *ctx)
{
	enter(-100 /* AT_FDCWD */, (const char *)ctx->pathname);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_unlinkat")
int unlinkat_enter(struct enter_unlinkat *ctx)
{
	if (!ctx->flag)   /* AT_REMOVEDIR: do_rmdir; other flags fail first */
		enter((__s32)ctx->dfd, (const char *)ctx->pathname);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_unlink")
int unlink_exit(struct exit_call *ctx)
{
	leave(ctx->ret);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_unlinkat")
int unlinkat_exit(struct exit_call *ctx)
{
	leave(ctx->ret);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
