/*
 * ringbuf_events.bpf.c - a ring buffer producer: each run reserves an
 * event (pid, sequence number, command name), fills it and submits it.
 *
 *   bpfvm run --repeat 3 --dump-maps ringbuf_events.bpf.o   three records
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct event {
	__u32 pid;
	__u32 seq;
	char comm[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

__u32 seq;

SEC("tracepoint/syscalls/sys_enter_execve")
int produce(void *ctx)
{
	struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e)
		return 1;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->seq = __sync_fetch_and_add(&seq, 1);
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
