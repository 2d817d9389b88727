/*
 * prog_types.c - the kernel's program types by number: the name bpftool
 * prints, and the context a program of the type receives in r1 (see
 * hooks.h for how each context is laid out and run).
 */
#include "hooks.h"

static const struct hook_prog_type prog_types[] = {
#define PT(NUM, NAME, CTX) [NUM] = { NAME, CTX },
	PT(0, "unspec", HOOK_CTX_NONE)
	PT(1, "socket_filter", HOOK_CTX_SKB)
	PT(2, "kprobe", HOOK_CTX_PT_REGS)
	PT(3, "sched_cls", HOOK_CTX_SKB)
	PT(4, "sched_act", HOOK_CTX_SKB)
	PT(5, "tracepoint", HOOK_CTX_RAW)
	PT(6, "xdp", HOOK_CTX_XDP)
	PT(7, "perf_event", HOOK_CTX_RAW)
	PT(8, "cgroup_skb", HOOK_CTX_SKB)
	PT(9, "cgroup_sock", HOOK_CTX_RAW)
	PT(10, "lwt_in", HOOK_CTX_SKB)
	PT(11, "lwt_out", HOOK_CTX_SKB)
	PT(12, "lwt_xmit", HOOK_CTX_SKB)
	PT(13, "sock_ops", HOOK_CTX_RAW)
	PT(14, "sk_skb", HOOK_CTX_SKB)
	PT(15, "cgroup_device", HOOK_CTX_RAW)
	PT(16, "sk_msg", HOOK_CTX_RAW)
	PT(17, "raw_tracepoint", HOOK_CTX_RAW)
	PT(18, "cgroup_sock_addr", HOOK_CTX_RAW)
	PT(19, "lwt_seg6local", HOOK_CTX_SKB)
	PT(20, "lirc_mode2", HOOK_CTX_RAW)
	PT(21, "sk_reuseport", HOOK_CTX_RAW)
	PT(22, "flow_dissector", HOOK_CTX_RAW)
	PT(23, "cgroup_sysctl", HOOK_CTX_RAW)
	PT(24, "raw_tracepoint_writable", HOOK_CTX_RAW)
	PT(25, "cgroup_sockopt", HOOK_CTX_RAW)
	PT(26, "tracing", HOOK_CTX_RAW)
	PT(27, "struct_ops", HOOK_CTX_RAW)
	PT(28, "ext", HOOK_CTX_RAW)
	PT(29, "lsm", HOOK_CTX_RAW)
	PT(30, "sk_lookup", HOOK_CTX_RAW)
	PT(31, "syscall", HOOK_CTX_RAW)
	PT(32, "netfilter", HOOK_CTX_RAW)
#undef PT
};

const struct hook_prog_type *hook_prog_type(uint32_t type)
{
	return type < sizeof(prog_types) / sizeof(prog_types[0]) ? &prog_types[type] : NULL;
}

const char *bpfvm_prog_type_name(uint32_t type)
{
	const struct hook_prog_type *t = hook_prog_type(type);

	return t ? t->name : "unknown";
}
