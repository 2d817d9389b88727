/*
 * pidns.bpf.c - for `bpfvm trace`'s bpf_get_ns_current_pid_tgid test: at
 * every openat, the ids in the pid namespace that ns_dev/ns_ino name (set
 * with --set to /proc/self/ns/pid's), then the kernel's refusals: another
 * inode, a size that is not struct bpf_pidns_info's, a device wider than
 * a dev_t; each with the result it left, next to bpf_get_current_pid_tgid.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

const volatile __u64 ns_dev;
const volatile __u64 ns_ino;

struct ns_event {
	__u32 pid, tgid;                 /* bpf_get_current_pid_tgid */
	__s32 ret;
	__u32 ns_pid, ns_tgid;
	__s32 other_ino_ret;
	__u32 other_ino_pid, other_ino_tgid;
	__s32 small_ret, wide_dev_ret;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_openat")
int ns_ids(void *ctx)
{
	struct bpf_pidns_info ns = { 1, 1 }, other = { 1, 1 };
	struct ns_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	__u64 id = bpf_get_current_pid_tgid();
	__u32 small[2] = { 1, 1 };

	if (!e)
		return 0;
	e->pid = (__u32)id;
	e->tgid = id >> 32;
	e->ret = bpf_get_ns_current_pid_tgid(ns_dev, ns_ino, &ns, sizeof(ns));
	e->ns_pid = ns.pid;
	e->ns_tgid = ns.tgid;
	e->other_ino_ret = bpf_get_ns_current_pid_tgid(ns_dev, ns_ino + 1, &other, sizeof(other));
	e->other_ino_pid = other.pid;
	e->other_ino_tgid = other.tgid;
	e->small_ret = bpf_get_ns_current_pid_tgid(ns_dev, ns_ino, (void *)small, 4);
	e->wide_dev_ret = bpf_get_ns_current_pid_tgid(ns_dev | 1ull << 32, ns_ino, &ns, sizeof(ns));
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
