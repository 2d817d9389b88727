/*
 * opensnoop.bpf.c - every openat() of the traced processes, as the
 * kernel's tracepoints see it: sys_enter_openat remembers the file name
 * and flags per thread, sys_exit_openat sends pid, comm, flags, result and
 * file name through a ring buffer.  The same object loads into the kernel.
 *
 *   bpfvm trace opensnoop.bpf.o -- cat /etc/hostname
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define NAME_LEN 128

struct open_event {
	__u32 pid;
	__u32 tid;
	__s32 ret;
	__u32 flags;
	char comm[16];
	char filename[NAME_LEN];
};

struct start {
	__u64 fname;
	__u32 flags;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, struct start);
} starts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

/* The records' type in the object's BTF (no global otherwise names it): bpfvm trace decodes them */
struct open_event *unused_open_event __attribute__((unused));

/* 0: every process; else only this one (set by tests that load it into the kernel). */
const volatile __u32 target_tgid = 0;

/* The tracepoint records (the kernel's format files: syscalls/sys_enter_openat). */
struct enter_openat {
	__u64 common;
	__s32 nr;
	__u32 pad;
	__u64 dfd;
	__u64 filename;
	__u64 flags;
	__u64 mode;
};

struct exit_openat {
	__u64 common;
	__s32 nr;
	__u32 pad;
	__s64 ret;
};

static __always_inline int traced(void)
{
	return !target_tgid || (bpf_get_current_pid_tgid() >> 32) == target_tgid;
}

SEC("tracepoint/syscalls/sys_enter_openat")
int openat_enter(struct enter_openat *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct start s = { ctx->filename, (__u32)ctx->flags };

	if (traced())
		bpf_map_update_elem(&starts, &tid, &s, BPF_ANY);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_openat")
int openat_exit(struct exit_openat *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct start *s = bpf_map_lookup_elem(&starts, &tid);
	struct open_event *e;

	if (!s)
		return 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (e) {
		e->pid = id >> 32;
		e->tid = tid;
		e->ret = (__s32)ctx->ret;
		e->flags = s->flags;
		bpf_get_current_comm(e->comm, sizeof(e->comm));
		bpf_probe_read_user_str(e->filename, sizeof(e->filename), (void *)s->fname);
		bpf_ringbuf_submit(e, 0);
	}
	bpf_map_delete_elem(&starts, &tid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
