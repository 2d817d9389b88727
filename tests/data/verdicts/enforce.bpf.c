/*
 * The enforcement helpers and the program types that may call them
 * (tests/scripts/test_verdict_objects.sh): bpf_send_signal(_thread) in
 * every type (Linux 6.18's base prototypes; 6.12 had them in the tracing
 * types only); bpf_override_return only in kprobes.  (A kprobe calling
 * bpf_override_return is not here: the kernel offers it only when built
 * with CONFIG_BPF_KPROBE_OVERRIDE, which needs kprobes; test_trace.sh
 * checks bpfvm's side.)
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct pt_regs;

SEC("kprobe/__x64_sys_openat") int signal_in_kprobe(struct pt_regs *ctx)
{
	return bpf_send_signal(9);
}

SEC("tracepoint/syscalls/sys_enter_openat") int signal_thread_in_tracepoint(void *ctx)
{
	return bpf_send_signal_thread(10);
}

SEC("raw_tp/sys_enter") int signal_in_raw_tp(void *ctx)
{
	return bpf_send_signal(15);
}

SEC("socket") int signal_in_socket_filter(struct __sk_buff *skb)
{
	return bpf_send_signal(9);
}

SEC("xdp") int signal_thread_in_xdp(struct xdp_md *ctx)
{
	return bpf_send_signal_thread(9);
}

SEC("tracepoint/syscalls/sys_enter_openat") int override_in_tracepoint(void *ctx)
{
	return bpf_override_return(ctx, -1);
}

char LICENSE[] SEC("license") = "GPL";
