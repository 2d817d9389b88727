/*
 * handover.bpf.c - test_trace_agent.sh's object for the agent's hand-over
 * to the supervisor (a process execs a static program): agent.bpf.c's
 * records at getppid's exit, and at the entry (ret 1) and exit of execve,
 * whose comm is the old program's at the entry and the new one's at the
 * exit; a count of getppid entries per process.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct rec {
	__u32 pid;
	__u32 tid;
	__s64 nr;
	__s64 ret;
	char comm[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} recs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

struct sys_args {
	__u64 common;
	int nr;
	int pad;
	__s64 ret;   /* sys_exit's; sys_enter's first argument */
};

static __always_inline int record(struct sys_args *args, __s64 ret)
{
	struct rec *r = bpf_ringbuf_reserve(&recs, sizeof(*r), 0);
	__u64 id = bpf_get_current_pid_tgid();

	if (!r)
		return 0;
	r->pid = id >> 32;
	r->tid = (__u32)id;
	r->nr = args->nr;
	r->ret = ret;
	bpf_get_current_comm(r->comm, sizeof(r->comm));
	bpf_ringbuf_submit(r, 0);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_getppid")
int count_getppid(void *ctx)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	__u64 one = 1, *n = bpf_map_lookup_elem(&counts, &pid);

	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&counts, &pid, &one, BPF_NOEXIST);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_getppid")
int exit_getppid(struct sys_args *args)
{
	return record(args, args->ret);
}

SEC("tracepoint/syscalls/sys_enter_execve")
int enter_execve(struct sys_args *args)
{
	return record(args, 1);
}

SEC("tracepoint/syscalls/sys_exit_execve")
int exit_execve(struct sys_args *args)
{
	return record(args, args->ret);
}

char LICENSE[] SEC("license") = "GPL";
