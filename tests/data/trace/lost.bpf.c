/*
 * lost.bpf.c - for `bpfvm trace`'s lost-record count: every openat sends
 * three 1,500-byte records into a 4,096-byte ring buffer, which holds two
 * (bpfvm trace drains it after each event), and counts in `refused` the
 * outputs the buffer turned down; the lost records bpfvm reports must sum
 * to that count.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} big SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} refused SEC(".maps");

char record[1500];

SEC("tracepoint/syscalls/sys_enter_openat")
int three_records(void *ctx)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&refused, &zero);

	for (int i = 0; i < 3; i++)
		if (bpf_ringbuf_output(&big, record, sizeof(record), 0) < 0 && n)
			__sync_fetch_and_add(n, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
