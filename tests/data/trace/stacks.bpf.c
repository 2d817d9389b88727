/*
 * stacks.bpf.c - the object test_kernel_stacks loads into the kernel and
 * runs under `bpfvm trace` on tests/data/trace/stack_workload.c: at each
 * getppid of a process named stack_workload, one record of what the stack
 * helpers say of its user stack (bpf_get_stack: whole, skipping two
 * frames into a small buffer, as build ids; bpf_get_stackid on stack maps
 * of 1024 buckets and of one, with and without BPF_F_REUSE_STACKID and
 * BPF_F_FAST_STACK_CMP, skipping more frames than there are) and of the
 * task's cgroup (bpf_current_task_under_cgroup on each slot of cgs, and
 * one past its end).
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define FRAMES 48

struct rec {
	__s64 len;                               /* bpf_get_stack(BPF_F_USER_STACK) */
	__u64 ips[FRAMES];
	__s64 len_skip;                          /* ... skip 2, 4 frames' room */
	__u64 ips_skip[4];
	__s64 len_bid;                           /* ... BPF_F_USER_BUILD_ID */
	struct bpf_stack_build_id bid[6];
	__s64 id_big, id_tiny, id_tiny_reuse, id_tiny_fast, id_skip_all, id_bid;
	__s64 kernel_skip;                       /* a kernel stack skipping 200: -EFAULT */
	__s64 bad_flags;                         /* bpf_get_stack with an unknown flag */
	__s64 under[5];                          /* bpf_current_task_under_cgroup(cgs, 0..4) */
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} recs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 1000);   /* 1024 buckets */
	__uint(key_size, 4);
	__uint(value_size, FRAMES * 8);
} big SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 1);
	__uint(key_size, 4);
	__uint(value_size, 16 * 8);
} tiny SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 64);
	__uint(key_size, 4);
	__uint(value_size, 6 * sizeof(struct bpf_stack_build_id));
	__uint(map_flags, BPF_F_STACK_BUILD_ID);
} bids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__uint(max_entries, 4);
	__uint(key_size, 4);
	__uint(value_size, 4);
} cgs SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getppid")
int on_getppid(void *ctx)
{
	char comm[16];
	struct rec *r;

	bpf_get_current_comm(comm, sizeof(comm));
	if (__builtin_memcmp(comm, "stack_workload", 15))
		return 0;
	r = bpf_ringbuf_reserve(&recs, sizeof(*r), 0);
	if (!r)
		return 0;
	r->len = bpf_get_stack(ctx, r->ips, sizeof(r->ips), BPF_F_USER_STACK);
	r->len_skip = bpf_get_stack(ctx, r->ips_skip, sizeof(r->ips_skip), BPF_F_USER_STACK | 2);
	r->len_bid = bpf_get_stack(ctx, r->bid, sizeof(r->bid),
				   BPF_F_USER_STACK | BPF_F_USER_BUILD_ID);
	r->id_big = bpf_get_stackid(ctx, &big, BPF_F_USER_STACK);
	r->id_tiny = bpf_get_stackid(ctx, &tiny, BPF_F_USER_STACK);
	r->id_tiny_reuse = bpf_get_stackid(ctx, &tiny, BPF_F_USER_STACK | BPF_F_REUSE_STACKID | 1);
	r->id_tiny_fast = bpf_get_stackid(ctx, &tiny, BPF_F_USER_STACK | BPF_F_FAST_STACK_CMP | 3);
	r->id_skip_all = bpf_get_stackid(ctx, &big, BPF_F_USER_STACK | 200);
	r->id_bid = bpf_get_stackid(ctx, &bids, BPF_F_USER_STACK);
	r->kernel_skip = bpf_get_stack(ctx, r->ips_skip, 0, 200);
	r->bad_flags = bpf_get_stack(ctx, r->ips_skip, 8, BPF_F_USER_STACK | (1ull << 20));
	for (int i = 0; i < 5; i++)
		r->under[i] = bpf_current_task_under_cgroup(&cgs, i);
	bpf_ringbuf_submit(r, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
