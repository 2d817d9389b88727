/*
 * go.bpf.c - uprobes on tests/data/uprobe/goworkload.go's functions
 * (GOWORKLOAD, given at compile time): calls of work per thread, and in
 * hits: [0] work's calls, [1] the sum of its argument (rax, Go's
 * register ABI), [2] tiny's calls, [3] outer's entries (a stack check that
 * grows the stack, or a preemption request, runs the entry again: as
 * many as the run's timing makes).
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} calls SEC(".maps");

static void add(__u32 k, __u64 v)
{
	__u64 *n = bpf_map_lookup_elem(&hits, &k);

	if (n)
		__sync_fetch_and_add(n, v);
}

SEC("uprobe/" GOWORKLOAD ":main.work")
int go_work(struct pt_regs *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 one = 1, *n = bpf_map_lookup_elem(&calls, &tid);

	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&calls, &tid, &one, BPF_NOEXIST);
	add(0, 1);
	add(1, ctx->rax);
	return 0;
}

SEC("uprobe/" GOWORKLOAD ":main.tiny")
int go_tiny(struct pt_regs *ctx)
{
	add(2, 1);
	return 0;
}

SEC("uprobe/" GOWORKLOAD ":main.outer")
int go_outer(struct pt_regs *ctx)
{
	add(3, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
