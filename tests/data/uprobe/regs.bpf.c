/*
 * regs.bpf.c - programs on regs.c's probed() whose helpers run libc's
 * vector code: the 4 KiB at rdi read (bpf_probe_read_user), 2 KiB of it
 * sent to a ring buffer, a bpf_snprintf line; each counts its hits.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>

struct big {
	char b[4096];
	char line[256];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct big);
} buf SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22);
} rb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps");

static int work(struct pt_regs *ctx, __u32 k)
{
	__u32 zero = 0;
	struct big *v = bpf_map_lookup_elem(&buf, &zero);
	__u64 *n = bpf_map_lookup_elem(&hits, &k), args[3];

	if (!v || !n)
		return 0;
	if (bpf_probe_read_user(v->b, sizeof(v->b), (void *)ctx->rdi))
		return 0;
	bpf_ringbuf_output(&rb, v->b, 2048, 0);
	args[0] = k;
	args[1] = ctx->rdi;
	args[2] = (__u64)(unsigned long)v->b;
	if (bpf_snprintf(v->line, sizeof(v->line), "probe %u at %llx read %s", args,
			 sizeof(args)) <= 0)
		return 0;
	__sync_fetch_and_add(n, 1);
	return 0;
}

SEC("uprobe/" WORKLOAD ":probed")
int entry(struct pt_regs *ctx) { return work(ctx, 0); }

SEC("uprobe/" WORKLOAD ":probed+5")
int inside(struct pt_regs *ctx) { return work(ctx, 1); }

SEC("uretprobe/" WORKLOAD ":probed")
int ret(struct pt_regs *ctx) { return work(ctx, 2); }

char LICENSE[] SEC("license") = "GPL";
