/*
 * sec_def.c - the table of section names (libbpf's SEC() conventions) and
 * the program type and attach type each one means.  The first row that
 * matches wins, so longer prefixes come before shorter ones they extend
 * ("sk_skb/stream_parser" before "sk_skb").
 *
 * Matching: SEC_EXACT rows match the whole name; SEC_PLUS rows match the
 * prefix alone or the prefix, '/', and a target ("kprobe/do_unlinkat");
 * other rows (their prefix ends in '/') match any name starting with it.
 * A name no row matches so is tried again as the loaders before libbpf
 * 1.0 read it (bpftool --legacy, iproute2, the kernel's old samples'
 * bpf_load.c): the SEC_LEGACY_PFX rows, and the SEC_LEGACY_ONLY rows of
 * names libbpf since dropped, match any name starting with their prefix
 * ("socket1", "xdp_redirect", "classifier_ingress", "xdp_devmap/x").
 * A leading '?' (libbpf: not loaded unless asked for) is not part of the
 * convention.
 */
#include "sec_def.h"

#include <errno.h>
#include <linux/bpf.h>
#include <stdlib.h>
#include <string.h>

/* Types and attach types newer than the linux-libc-dev this may build with. */
#define PROG_TYPE_NETFILTER 32
#define ATTACH_STRUCT_OPS 44
#define ATTACH_NETFILTER 45
#define ATTACH_TCX_INGRESS 46
#define ATTACH_TCX_EGRESS 47
#define ATTACH_TRACE_UPROBE_MULTI 48
#define ATTACH_CGROUP_UNIX_CONNECT 49
#define ATTACH_CGROUP_UNIX_SENDMSG 50
#define ATTACH_CGROUP_UNIX_RECVMSG 51
#define ATTACH_CGROUP_UNIX_GETPEERNAME 52
#define ATTACH_CGROUP_UNIX_GETSOCKNAME 53
#define ATTACH_NETKIT_PRIMARY 54
#define ATTACH_NETKIT_PEER 55
#define ATTACH_TRACE_KPROBE_SESSION 56

#define E SEC_EXACT
#define P SEC_PLUS
#define S SEC_SLEEPABLE
#define L SEC_LEGACY_PFX
#define T(x) BPF_PROG_TYPE_##x

static const struct sec_def sec_defs[] = {
	{ "socket", T(SOCKET_FILTER), 0, E | L },
	{ "sk_reuseport/migrate", T(SK_REUSEPORT), BPF_SK_REUSEPORT_SELECT_OR_MIGRATE, E | L },
	{ "sk_reuseport", T(SK_REUSEPORT), BPF_SK_REUSEPORT_SELECT, E | L },
	{ "kprobe.multi", T(KPROBE), BPF_TRACE_KPROBE_MULTI, P },
	{ "kretprobe.multi", T(KPROBE), BPF_TRACE_KPROBE_MULTI, P },
	{ "kprobe.session", T(KPROBE), ATTACH_TRACE_KPROBE_SESSION, P },
	{ "uprobe.multi.s", T(KPROBE), ATTACH_TRACE_UPROBE_MULTI, P | S },
	{ "uretprobe.multi.s", T(KPROBE), ATTACH_TRACE_UPROBE_MULTI, P | S },
	{ "uprobe.multi", T(KPROBE), ATTACH_TRACE_UPROBE_MULTI, P },
	{ "uretprobe.multi", T(KPROBE), ATTACH_TRACE_UPROBE_MULTI, P },
	{ "kprobe", T(KPROBE), 0, P },
	{ "kretprobe", T(KPROBE), 0, P },
	{ "uprobe.s", T(KPROBE), 0, P | S },
	{ "uretprobe.s", T(KPROBE), 0, P | S },
	{ "uprobe", T(KPROBE), 0, P },
	{ "uretprobe", T(KPROBE), 0, P },
	{ "ksyscall", T(KPROBE), 0, P },
	{ "kretsyscall", T(KPROBE), 0, P },
	{ "usdt.s", T(KPROBE), 0, P | S },
	{ "usdt", T(KPROBE), 0, P },
	{ "tc/ingress", T(SCHED_CLS), ATTACH_TCX_INGRESS, E },
	{ "tc/egress", T(SCHED_CLS), ATTACH_TCX_EGRESS, E },
	{ "tcx/ingress", T(SCHED_CLS), ATTACH_TCX_INGRESS, E },
	{ "tcx/egress", T(SCHED_CLS), ATTACH_TCX_EGRESS, E },
	{ "netkit/primary", T(SCHED_CLS), ATTACH_NETKIT_PRIMARY, E },
	{ "netkit/peer", T(SCHED_CLS), ATTACH_NETKIT_PEER, E },
	{ "tc", T(SCHED_CLS), 0, E },
	{ "classifier", T(SCHED_CLS), 0, E | L },
	{ "action", T(SCHED_ACT), 0, E | L },
	{ "tracepoint", T(TRACEPOINT), 0, P },
	{ "tp", T(TRACEPOINT), 0, P },
	{ "raw_tracepoint.w", T(RAW_TRACEPOINT_WRITABLE), 0, P },
	{ "raw_tp.w", T(RAW_TRACEPOINT_WRITABLE), 0, P },
	{ "raw_tracepoint", T(RAW_TRACEPOINT), 0, P },
	{ "raw_tp", T(RAW_TRACEPOINT), 0, P },
	{ "tp_btf", T(TRACING), BPF_TRACE_RAW_TP, P },
	{ "fentry.s", T(TRACING), BPF_TRACE_FENTRY, P | S },
	{ "fmod_ret.s", T(TRACING), BPF_MODIFY_RETURN, P | S },
	{ "fexit.s", T(TRACING), BPF_TRACE_FEXIT, P | S },
	{ "fentry", T(TRACING), BPF_TRACE_FENTRY, P },
	{ "fmod_ret", T(TRACING), BPF_MODIFY_RETURN, P },
	{ "fexit", T(TRACING), BPF_TRACE_FEXIT, P },
	{ "freplace", T(EXT), 0, P },
	{ "lsm.s", T(LSM), BPF_LSM_MAC, P | S },
	{ "lsm_cgroup", T(LSM), BPF_LSM_CGROUP, P },
	{ "lsm", T(LSM), BPF_LSM_MAC, P },
	{ "iter.s", T(TRACING), BPF_TRACE_ITER, P | S },
	{ "iter", T(TRACING), BPF_TRACE_ITER, P },
	{ "syscall", T(SYSCALL), 0, E | S },
	{ "xdp_devmap/", T(XDP), BPF_XDP_DEVMAP, SEC_LEGACY_ONLY },
	{ "xdp_cpumap/", T(XDP), BPF_XDP_CPUMAP, SEC_LEGACY_ONLY },
	{ "xdp.frags/devmap", T(XDP), BPF_XDP_DEVMAP, E | SEC_XDP_FRAGS },
	{ "xdp/devmap", T(XDP), BPF_XDP_DEVMAP, E },
	{ "xdp.frags/cpumap", T(XDP), BPF_XDP_CPUMAP, E | SEC_XDP_FRAGS },
	{ "xdp/cpumap", T(XDP), BPF_XDP_CPUMAP, E },
	{ "xdp.frags", T(XDP), BPF_XDP, E | SEC_XDP_FRAGS },
	{ "xdp", T(XDP), BPF_XDP, E | L },
	{ "perf_event", T(PERF_EVENT), 0, E | L },
	{ "lwt_in", T(LWT_IN), 0, E | L },
	{ "lwt_out", T(LWT_OUT), 0, E | L },
	{ "lwt_xmit", T(LWT_XMIT), 0, E | L },
	{ "lwt_seg6local", T(LWT_SEG6LOCAL), 0, E | L },
	{ "sockops", T(SOCK_OPS), BPF_CGROUP_SOCK_OPS, E | L },
	{ "sk_skb/stream_parser", T(SK_SKB), BPF_SK_SKB_STREAM_PARSER, E | L },
	{ "sk_skb/stream_verdict", T(SK_SKB), BPF_SK_SKB_STREAM_VERDICT, E | L },
	{ "sk_skb/verdict", T(SK_SKB), BPF_SK_SKB_VERDICT, E },
	{ "sk_skb", T(SK_SKB), 0, E | L },
	{ "sk_msg", T(SK_MSG), BPF_SK_MSG_VERDICT, E | L },
	{ "lirc_mode2", T(LIRC_MODE2), BPF_LIRC_MODE2, E | L },
	{ "flow_dissector", T(FLOW_DISSECTOR), BPF_FLOW_DISSECTOR, E | L },
	{ "cgroup_skb/ingress", T(CGROUP_SKB), BPF_CGROUP_INET_INGRESS, E | L },
	{ "cgroup_skb/egress", T(CGROUP_SKB), BPF_CGROUP_INET_EGRESS, E | L },
	{ "cgroup/skb", T(CGROUP_SKB), 0, E | L },
	{ "cgroup/sock_create", T(CGROUP_SOCK), BPF_CGROUP_INET_SOCK_CREATE, E | L },
	{ "cgroup/sock_release", T(CGROUP_SOCK), BPF_CGROUP_INET_SOCK_RELEASE, E | L },
	{ "cgroup/sock", T(CGROUP_SOCK), BPF_CGROUP_INET_SOCK_CREATE, E | L },
	{ "cgroup/post_bind4", T(CGROUP_SOCK), BPF_CGROUP_INET4_POST_BIND, E | L },
	{ "cgroup/post_bind6", T(CGROUP_SOCK), BPF_CGROUP_INET6_POST_BIND, E | L },
	{ "cgroup/bind4", T(CGROUP_SOCK_ADDR), BPF_CGROUP_INET4_BIND, E | L },
	{ "cgroup/bind6", T(CGROUP_SOCK_ADDR), BPF_CGROUP_INET6_BIND, E | L },
	{ "cgroup/connect4", T(CGROUP_SOCK_ADDR), BPF_CGROUP_INET4_CONNECT, E | L },
	{ "cgroup/connect6", T(CGROUP_SOCK_ADDR), BPF_CGROUP_INET6_CONNECT, E | L },
	{ "cgroup/connect_unix", T(CGROUP_SOCK_ADDR), ATTACH_CGROUP_UNIX_CONNECT, E },
	{ "cgroup/sendmsg4", T(CGROUP_SOCK_ADDR), BPF_CGROUP_UDP4_SENDMSG, E | L },
	{ "cgroup/sendmsg6", T(CGROUP_SOCK_ADDR), BPF_CGROUP_UDP6_SENDMSG, E | L },
	{ "cgroup/sendmsg_unix", T(CGROUP_SOCK_ADDR), ATTACH_CGROUP_UNIX_SENDMSG, E },
	{ "cgroup/recvmsg4", T(CGROUP_SOCK_ADDR), BPF_CGROUP_UDP4_RECVMSG, E | L },
	{ "cgroup/recvmsg6", T(CGROUP_SOCK_ADDR), BPF_CGROUP_UDP6_RECVMSG, E | L },
	{ "cgroup/recvmsg_unix", T(CGROUP_SOCK_ADDR), ATTACH_CGROUP_UNIX_RECVMSG, E },
	{ "cgroup/getpeername4", T(CGROUP_SOCK_ADDR), BPF_CGROUP_INET4_GETPEERNAME, E | L },
	{ "cgroup/getpeername6", T(CGROUP_SOCK_ADDR), BPF_CGROUP_INET6_GETPEERNAME, E | L },
	{ "cgroup/getpeername_unix", T(CGROUP_SOCK_ADDR), ATTACH_CGROUP_UNIX_GETPEERNAME, E },
	{ "cgroup/getsockname4", T(CGROUP_SOCK_ADDR), BPF_CGROUP_INET4_GETSOCKNAME, E | L },
	{ "cgroup/getsockname6", T(CGROUP_SOCK_ADDR), BPF_CGROUP_INET6_GETSOCKNAME, E | L },
	{ "cgroup/getsockname_unix", T(CGROUP_SOCK_ADDR), ATTACH_CGROUP_UNIX_GETSOCKNAME, E },
	{ "cgroup/sysctl", T(CGROUP_SYSCTL), BPF_CGROUP_SYSCTL, E | L },
	{ "cgroup/getsockopt", T(CGROUP_SOCKOPT), BPF_CGROUP_GETSOCKOPT, E | L },
	{ "cgroup/setsockopt", T(CGROUP_SOCKOPT), BPF_CGROUP_SETSOCKOPT, E | L },
	{ "cgroup/dev", T(CGROUP_DEVICE), BPF_CGROUP_DEVICE, E | L },
	{ "struct_ops.s", T(STRUCT_OPS), 0, P | S },
	{ "struct_ops", T(STRUCT_OPS), 0, P },
	{ "sk_lookup", T(SK_LOOKUP), BPF_SK_LOOKUP, E },
	{ "netfilter", PROG_TYPE_NETFILTER, ATTACH_NETFILTER, E },
};

#undef E
#undef P
#undef S
#undef L
#undef T

static bool matches(const struct sec_def *d, const char *name)
{
	size_t n = strlen(d->prefix);

	if (d->flags & SEC_LEGACY_ONLY)
		return false;
	if (d->flags & SEC_EXACT)
		return !strcmp(name, d->prefix);
	if (strncmp(name, d->prefix, n))
		return false;
	if (d->flags & SEC_PLUS)
		return name[n] == '\0' || name[n] == '/';
	return true;
}

/* The names older loaders took: the prefix alone is enough ("socket1", "xdp_drop"). */
static bool matches_legacy(const struct sec_def *d, const char *name)
{
	if (!(d->flags & (SEC_LEGACY_PFX | SEC_LEGACY_ONLY)))
		return false;
	return !strncmp(name, d->prefix, strlen(d->prefix));
}

const char *sec_def_strip(const char *sec_name)
{
	return sec_name[0] == '?' ? sec_name + 1 : sec_name;
}

const struct sec_def *sec_def_find(const char *sec_name)
{
	const size_t n = sizeof(sec_defs) / sizeof(sec_defs[0]);

	sec_name = sec_def_strip(sec_name);
	for (size_t i = 0; i < n; i++)
		if (matches(&sec_defs[i], sec_name))
			return &sec_defs[i];
	for (size_t i = 0; i < n; i++)
		if (matches_legacy(&sec_defs[i], sec_name))
			return &sec_defs[i];
	return NULL;
}

const char *sec_def_target(const struct sec_def *def, const char *sec_name)
{
	size_t n;

	if (!def)
		return "";
	sec_name = sec_def_strip(sec_name);
	n = strlen(def->prefix);
	if (def->prefix[n - 1] == '/')
		return strncmp(sec_name, def->prefix, n) ? "" : sec_name + n;
	if (strncmp(sec_name, def->prefix, n) || sec_name[n] != '/')
		return "";
	return sec_name + n + 1;
}

/* One number, decimal, hex (0x) or octal (0), as sscanf's %i reads it. */
static bool parse_u32(const char *s, size_t len, uint32_t *out)
{
	char buf[24], *end;
	unsigned long long v;

	if (!len || len >= sizeof(buf) || s[0] == '-' || s[0] == '+' || s[0] == ' ')
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	errno = 0;
	v = strtoull(buf, &end, 0);
	if (errno || *end || v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

bool sec_def_tail_call(const char *sec_name, uint32_t *map_id, uint32_t *slot)
{
	const char *slash = strchr(sec_name, '/');

	return slash && parse_u32(sec_name, (size_t)(slash - sec_name), map_id) &&
	       parse_u32(slash + 1, strlen(slash + 1), slot);
}
