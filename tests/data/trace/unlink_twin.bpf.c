/*
 * unlink_twin.bpf.c - the tracepoint twin of examples/unlink_log.bpf.c
 * (ksyscall/unlinkat): the same record from sys_enter_unlinkat, for a
 * kernel without kprobes (test_kernel_trace compares the kernel's records
 * of this object with bpfvm's of the example).  target_tgid: only that
 * process (set by the test before loading).
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct unlink_event {
	__u32 pid;
	__u32 tid;
	__s32 dfd;
	__u32 flag;
	char comm[16];
	char path[128];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

const volatile __u32 target_tgid = 0;

struct enter_unlinkat { __u64 common; __s32 nr; __u32 pad; __u64 dfd, pathname, flag; };

SEC("tracepoint/syscalls/sys_enter_unlinkat")
int unlinkat_enter(struct enter_unlinkat *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct unlink_event *e;

	if (target_tgid && id >> 32 != target_tgid)
		return 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	e->pid = id >> 32;
	e->tid = (__u32)id;
	e->dfd = (__s32)ctx->dfd;
	e->flag = (__u32)ctx->flag;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_probe_read_user_str(e->path, sizeof(e->path), (void *)ctx->pathname);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
