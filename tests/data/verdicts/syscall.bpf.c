/* BPF_PROG_TYPE_SYSCALL: the context is the caller's buffer (tests/scripts/test_verdict_objects.sh). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct args {
	int a, b;
	long out;
};

SEC("syscall") int sys_read_write(struct args *ctx)
{
	ctx->out = ctx->a + ctx->b;
	return 0;
}

SEC("syscall") int sys_unaligned(struct args *ctx) { return *(int *)((char *)ctx + 2); }
SEC("syscall") int sys_far(struct args *ctx) { return *(int *)((char *)ctx + 65532); }
SEC("syscall") int sys_below(struct args *ctx) { return *(int *)((char *)ctx - 4); }
SEC("syscall") int sys_tracing_helpers(struct args *ctx)
{
	return bpf_get_prandom_u32() + bpf_ktime_get_ns() + ctx->a;
}
SEC("syscall") int sys_no_packet(struct args *ctx) { return bpf_skb_load_bytes(ctx, 0, ctx, 4); }

char LICENSE[] SEC("license") = "GPL";
