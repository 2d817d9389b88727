/*
 * ctx.c - context access rules per program type (see ctx.h), following
 * the kernel's is_valid_access callbacks (net/core/filter.c,
 * kernel/trace/bpf_trace.c, kernel/bpf/cgroup.c): for each type, which
 * fields a program may load and store, in which widths, and what the
 * loads yield; then the return value ranges of check_return_code.
 *
 * Shared vocabulary: a "narrow" read loads a power-of-two part of a field
 * (1, 2 or 4 bytes of a u32), aligned; "exact" accesses take the whole
 * field.  Every access must be aligned to its size, as in the kernel.
 */
#include "ctx.h"

#include <linux/bpf.h>
#include <linux/bpf_perf_event.h>
#include <stddef.h>

#include "verifier.h"

#define FIELD_END(T, F) (offsetof(T, F) + sizeof(((T *)0)->F))
#define IN_FIELD(off, T, F) ((off) >= (int)offsetof(T, F) && (off) < (int)FIELD_END(T, F))
/* off within [first field, end of last field] */
#define IN_FIELDS(off, T, F1, F2) \
	((off) >= (int)offsetof(T, F1) && (off) < (int)FIELD_END(T, F2))

#define PT_REGS_SIZE 168 /* struct pt_regs on x86-64: what kprobe programs get */
/* struct bpf_sock_ops grew skb_hwtstamp in Linux 6.2; older UAPI headers lack it */
#define SOCK_OPS_HWTSTAMP 216
#define SOCK_OPS_SIZE 224
#define PERF_MAX_TRACE_SIZE 8192

static bool narrow_ok(int size, int field_size)
{
	return size <= field_size && !(size & (size - 1));
}

static void yield(struct vctx_result *res, uint8_t type, uint8_t flags)
{
	res->reg_type = type;
	res->reg_flags = flags;
}

/* ---- __sk_buff --------------------------------------------------------------------- */

/* The rules every __sk_buff type shares (bpf_skb_is_valid_access). */
static bool skb_common(int off, int size, bool write, bool ldsx, struct vctx_result *res)
{
	typedef struct __sk_buff S;

	if (off < 0 || off >= (int)sizeof(S) || off % size)
		return false;
	if (IN_FIELDS(off, S, cb[0], cb[4]))
		return off + size <= (int)FIELD_END(S, cb[4]);
	if (IN_FIELD(off, S, data) || IN_FIELD(off, S, data_meta) || IN_FIELD(off, S, data_end))
		return !ldsx && size == 4;
	if (IN_FIELDS(off, S, remote_ip6[0], remote_ip6[3]) ||
	    IN_FIELDS(off, S, local_ip6[0], local_ip6[3]) || IN_FIELD(off, S, remote_ip4) ||
	    IN_FIELD(off, S, local_ip4))
		return size == 4;
	if (IN_FIELD(off, S, flow_keys))
		return false;
	if (IN_FIELD(off, S, hwtstamp))
		return !write && size == 8;
	if (IN_FIELD(off, S, tstamp))
		return size == 8;
	if (IN_FIELD(off, S, sk)) {
		yield(res, VT_SOCK_COMMON, VF_NULL);
		return !write && size == 8;
	}
	if (off == (int)offsetof(S, tstamp_type))
		return false;
	if (off >= (int)FIELD_END(S, tstamp_type) && off < (int)offsetof(S, hwtstamp))
		return false; /* padding */
	if (write)
		return size == 4;
	return narrow_ok(size, 4);
}

static bool socket_filter_access(const struct venv *env, int off, int size, bool write, bool ldsx,
				 struct vctx_result *res)
{
	typedef struct __sk_buff S;

	(void)env;
	if (IN_FIELD(off, S, tc_classid) || IN_FIELD(off, S, data) || IN_FIELD(off, S, data_meta) ||
	    IN_FIELD(off, S, data_end) || IN_FIELDS(off, S, family, local_port) ||
	    IN_FIELD(off, S, tstamp) || IN_FIELD(off, S, wire_len) || IN_FIELD(off, S, hwtstamp))
		return false;
	if (write && !IN_FIELDS(off, S, cb[0], cb[4]))
		return false;
	return skb_common(off, size, write, ldsx, res);
}

/* data and data_end as packet pointers; data_meta too where meta is allowed. */
static void skb_pkt_fields(int off, bool meta, struct vctx_result *res)
{
	typedef struct __sk_buff S;

	if (IN_FIELD(off, S, data))
		yield(res, VT_PACKET, 0);
	else if (IN_FIELD(off, S, data_end))
		yield(res, VT_PACKET_END, 0);
	else if (meta && IN_FIELD(off, S, data_meta))
		yield(res, VT_PACKET_META, 0);
}

static bool tc_access(const struct venv *env, int off, int size, bool write, bool ldsx,
		      struct vctx_result *res)
{
	typedef struct __sk_buff S;

	(void)env;
	if (write && !(IN_FIELD(off, S, mark) || IN_FIELD(off, S, tc_index) ||
		       IN_FIELD(off, S, priority) || IN_FIELD(off, S, tc_classid) ||
		       IN_FIELDS(off, S, cb[0], cb[4]) || IN_FIELD(off, S, tstamp) ||
		       IN_FIELD(off, S, queue_mapping)))
		return false;
	skb_pkt_fields(off, true, res);
	if (IN_FIELDS(off, S, family, local_port))
		return false;
	if (off == (int)offsetof(S, tstamp_type))
		return size == 1;
	return skb_common(off, size, write, ldsx, res);
}

static bool cgroup_skb_access(const struct venv *env, int off, int size, bool write, bool ldsx,
			      struct vctx_result *res)
{
	typedef struct __sk_buff S;

	(void)env;
	if (IN_FIELD(off, S, tc_classid) || IN_FIELD(off, S, data_meta) || IN_FIELD(off, S, wire_len))
		return false;
	if (write && !(IN_FIELD(off, S, mark) || IN_FIELD(off, S, priority) ||
		       IN_FIELDS(off, S, cb[0], cb[4]) || IN_FIELD(off, S, tstamp)))
		return false;
	skb_pkt_fields(off, false, res);
	return skb_common(off, size, write, ldsx, res);
}

static bool lwt_access(const struct venv *env, int off, int size, bool write, bool ldsx,
		       struct vctx_result *res)
{
	typedef struct __sk_buff S;

	(void)env;
	if (IN_FIELD(off, S, tc_classid) || IN_FIELDS(off, S, family, local_port) ||
	    IN_FIELD(off, S, data_meta) || IN_FIELD(off, S, tstamp) || IN_FIELD(off, S, wire_len) ||
	    IN_FIELD(off, S, hwtstamp))
		return false;
	if (write && !(IN_FIELD(off, S, mark) || IN_FIELD(off, S, priority) ||
		       IN_FIELDS(off, S, cb[0], cb[4])))
		return false;
	skb_pkt_fields(off, false, res);
	return skb_common(off, size, write, ldsx, res);
}

static bool sk_skb_access(const struct venv *env, int off, int size, bool write, bool ldsx,
			  struct vctx_result *res)
{
	typedef struct __sk_buff S;

	(void)env;
	if (IN_FIELD(off, S, tc_classid) || IN_FIELD(off, S, data_meta) || IN_FIELD(off, S, tstamp) ||
	    IN_FIELD(off, S, wire_len) || IN_FIELD(off, S, hwtstamp))
		return false;
	if (write && !(IN_FIELD(off, S, tc_index) || IN_FIELD(off, S, priority)))
		return false;
	if (IN_FIELD(off, S, mark))
		return false;
	skb_pkt_fields(off, false, res);
	return skb_common(off, size, write, ldsx, res);
}

static bool flow_dissector_access(const struct venv *env, int off, int size, bool write,
				  bool ldsx, struct vctx_result *res)
{
	typedef struct __sk_buff S;

	(void)env;
	if (off < 0 || off >= (int)sizeof(S) || off % size || write)
		return false;
	if (IN_FIELD(off, S, data) || IN_FIELD(off, S, data_end)) {
		skb_pkt_fields(off, false, res);
		return !ldsx && size == 4;
	}
	if (IN_FIELD(off, S, flow_keys)) {
		yield(res, VT_FLOW_KEYS, 0);
		return size == 8;
	}
	return false;
}

/* ---- xdp_md, sockets, addresses ------------------------------------------------------ */

static bool xdp_access(const struct venv *env, int off, int size, bool write, bool ldsx,
		       struct vctx_result *res)
{
	typedef struct xdp_md S;

	if (env->attach_type != BPF_XDP_DEVMAP && off == (int)offsetof(S, egress_ifindex))
		return false;
	if (write)
		return false;
	if (off == (int)offsetof(S, data_meta) || off == (int)offsetof(S, data) ||
	    off == (int)offsetof(S, data_end)) {
		if (ldsx)
			return false;
		yield(res, off == (int)offsetof(S, data) ? VT_PACKET
			   : off == (int)offsetof(S, data_end) ? VT_PACKET_END : VT_PACKET_META, 0);
	}
	return off >= 0 && off < (int)sizeof(S) && !(off % size) && size == 4;
}

/* bpf_sock fields (bpf_sock_is_valid_access). */
static bool sock_fields(int off, int size)
{
	typedef struct bpf_sock S;

	if (off < 0 || off >= (int)sizeof(S) || off % size)
		return false;
	if (off == (int)offsetof(S, state) || off == (int)offsetof(S, family) ||
	    off == (int)offsetof(S, type) || off == (int)offsetof(S, protocol) ||
	    off == (int)offsetof(S, src_port) || off == (int)offsetof(S, rx_queue_mapping) ||
	    IN_FIELD(off, S, src_ip4) || IN_FIELDS(off, S, src_ip6[0], src_ip6[3]) ||
	    IN_FIELD(off, S, dst_ip4) || IN_FIELDS(off, S, dst_ip6[0], dst_ip6[3]))
		return narrow_ok(size, 4);
	if (IN_FIELD(off, S, dst_port))
		return narrow_ok(size, size == 4 ? 4 : 2);
	if (off >= (int)FIELD_END(S, dst_port) && off < (int)offsetof(S, dst_ip4))
		return false;
	return size == 4;
}

static bool cgroup_sock_access(const struct venv *env, int off, int size, bool write, bool ldsx,
			       struct vctx_result *res)
{
	typedef struct bpf_sock S;
	uint32_t at = env->attach_type;

	(void)ldsx, (void)res;
	if (!sock_fields(off, size))
		return false;
	if (off == (int)offsetof(S, bound_dev_if) || off == (int)offsetof(S, mark) ||
	    off == (int)offsetof(S, priority))
		return at == BPF_CGROUP_INET_SOCK_CREATE || at == BPF_CGROUP_INET_SOCK_RELEASE;
	if (IN_FIELD(off, S, src_ip4) && at != BPF_CGROUP_INET4_POST_BIND)
		return false;
	if (IN_FIELDS(off, S, src_ip6[0], src_ip6[3]) && at != BPF_CGROUP_INET6_POST_BIND)
		return false;
	if (IN_FIELD(off, S, src_port) && at != BPF_CGROUP_INET4_POST_BIND &&
	    at != BPF_CGROUP_INET6_POST_BIND)
		return false;
	return !write;
}

/* An 8-byte access to an ip6 address's first or third word (bpf_ctx_wide_access_ok). */
static bool wide_ok(int off, int size, int field_off, int field_end)
{
	return size == 8 && off >= field_off && off + size <= field_end && !(off % 8);
}

static bool sock_addr_family_ok(const struct venv *env, int off)
{
	typedef struct bpf_sock_addr S;
	uint32_t at = env->attach_type;

	if (IN_FIELD(off, S, user_ip4))
		return at == BPF_CGROUP_INET4_BIND || at == BPF_CGROUP_INET4_CONNECT ||
		       at == BPF_CGROUP_INET4_GETPEERNAME || at == BPF_CGROUP_INET4_GETSOCKNAME ||
		       at == BPF_CGROUP_UDP4_SENDMSG || at == BPF_CGROUP_UDP4_RECVMSG;
	if (IN_FIELDS(off, S, user_ip6[0], user_ip6[3]))
		return at == BPF_CGROUP_INET6_BIND || at == BPF_CGROUP_INET6_CONNECT ||
		       at == BPF_CGROUP_INET6_GETPEERNAME || at == BPF_CGROUP_INET6_GETSOCKNAME ||
		       at == BPF_CGROUP_UDP6_SENDMSG || at == BPF_CGROUP_UDP6_RECVMSG;
	if (IN_FIELD(off, S, msg_src_ip4))
		return at == BPF_CGROUP_UDP4_SENDMSG;
	if (IN_FIELDS(off, S, msg_src_ip6[0], msg_src_ip6[3]))
		return at == BPF_CGROUP_UDP6_SENDMSG;
	return true;
}

static bool sock_addr_access(const struct venv *env, int off, int size, bool write, bool ldsx,
			     struct vctx_result *res)
{
	typedef struct bpf_sock_addr S;

	(void)ldsx;
	if (off < 0 || off >= (int)sizeof(S) || off % size || !sock_addr_family_ok(env, off))
		return false;
	if (IN_FIELD(off, S, user_ip4) || IN_FIELDS(off, S, user_ip6[0], user_ip6[3]) ||
	    IN_FIELD(off, S, msg_src_ip4) || IN_FIELDS(off, S, msg_src_ip6[0], msg_src_ip6[3]) ||
	    IN_FIELD(off, S, user_port)) {
		if (wide_ok(off, size, offsetof(S, user_ip6), FIELD_END(S, user_ip6)) ||
		    wide_ok(off, size, offsetof(S, msg_src_ip6), FIELD_END(S, msg_src_ip6)))
			return true;
		return write ? size == 4 : narrow_ok(size, 4);
	}
	if (IN_FIELD(off, S, sk)) {
		yield(res, VT_SOCKET, 0);
		return !write && size == 8;
	}
	if (IN_FIELD(off, S, user_family) || IN_FIELD(off, S, family) || IN_FIELD(off, S, type) ||
	    IN_FIELD(off, S, protocol))
		return !write && size == 4;
	return false;
}

static bool sock_ops_access(const struct venv *env, int off, int size, bool write, bool ldsx,
			    struct vctx_result *res)
{
	typedef struct bpf_sock_ops S;

	(void)env, (void)ldsx;
	if (off < 0 || off >= SOCK_OPS_SIZE || off % size)
		return false;
	if (write)
		return (off == (int)offsetof(S, reply) || off == (int)offsetof(S, sk_txhash)) &&
		       size == 4;
	if (IN_FIELDS(off, S, bytes_received, bytes_acked) ||
	    (off >= SOCK_OPS_HWTSTAMP && off < SOCK_OPS_HWTSTAMP + 8))
		return size == 8;
	if (IN_FIELD(off, S, sk) || IN_FIELD(off, S, skb_data) || IN_FIELD(off, S, skb_data_end)) {
		yield(res, IN_FIELD(off, S, sk) ? VT_SOCKET : IN_FIELD(off, S, skb_data) ? VT_PACKET
											  : VT_PACKET_END,
		      IN_FIELD(off, S, sk) ? VF_NULL : 0);
		return size == 8;
	}
	if (off == (int)offsetof(S, skb_tcp_flags))
		return narrow_ok(size, 4);
	return size == 4;
}

static bool sk_msg_access(const struct venv *env, int off, int size, bool write, bool ldsx,
			  struct vctx_result *res)
{
	typedef struct sk_msg_md S;

	(void)env, (void)ldsx;
	if (write || off < 0 || off % size)
		return false;
	if (IN_FIELD(off, S, data) || IN_FIELD(off, S, data_end) || IN_FIELD(off, S, sk)) {
		yield(res, IN_FIELD(off, S, data) ? VT_PACKET : IN_FIELD(off, S, sk) ? VT_SOCKET
										    : VT_PACKET_END, 0);
		return size == 8;
	}
	if (IN_FIELD(off, S, family) || IN_FIELD(off, S, remote_ip4) || IN_FIELD(off, S, local_ip4) ||
	    IN_FIELDS(off, S, remote_ip6[0], remote_ip6[3]) ||
	    IN_FIELDS(off, S, local_ip6[0], local_ip6[3]) || IN_FIELD(off, S, remote_port) ||
	    IN_FIELD(off, S, local_port) || IN_FIELD(off, S, size))
		return size == 4;
	return false;
}

static bool sk_lookup_access(const struct venv *env, int off, int size, bool write, bool ldsx,
			     struct vctx_result *res)
{
	typedef struct bpf_sk_lookup S;

	(void)env, (void)ldsx;
	if (off < 0 || off >= (int)sizeof(S) || off % size || write)
		return false;
	if (IN_FIELD(off, S, sk)) {
		yield(res, VT_SOCKET, VF_NULL);
		return size == 8;
	}
	if (IN_FIELD(off, S, family) || IN_FIELD(off, S, protocol) || IN_FIELD(off, S, remote_ip4) ||
	    IN_FIELD(off, S, local_ip4) || IN_FIELDS(off, S, remote_ip6[0], remote_ip6[3]) ||
	    IN_FIELDS(off, S, local_ip6[0], local_ip6[3]) || IN_FIELD(off, S, local_port) ||
	    IN_FIELD(off, S, ingress_ifindex))
		return narrow_ok(size, 4);
	if (IN_FIELD(off, S, remote_port))
		return size == 4 || narrow_ok(size, 2);
	if (off >= (int)FIELD_END(S, remote_port) && off < (int)offsetof(S, local_ip4))
		return narrow_ok(size, 2); /* zero padding, readable for compatibility */
	return false;
}

/* ---- tracing ------------------------------------------------------------------------ */

static bool kprobe_access(const struct venv *env, int off, int size, bool write, bool ldsx,
			  struct vctx_result *res)
{
	(void)env, (void)ldsx, (void)res;
	return off >= 0 && off < PT_REGS_SIZE && !write && !(off % size) &&
	       off + size <= PT_REGS_SIZE;
}

static bool tracepoint_access(const struct venv *env, int off, int size, bool write, bool ldsx,
			      struct vctx_result *res)
{
	(void)env, (void)ldsx, (void)res;
	/* the first 8 bytes are the common header, off limits */
	return off >= 8 && off < PERF_MAX_TRACE_SIZE && !write && !(off % size);
}

static bool perf_event_access(const struct venv *env, int off, int size, bool write, bool ldsx,
			      struct vctx_result *res)
{
	typedef struct bpf_perf_event_data S;

	(void)env, (void)ldsx, (void)res;
	if (off < 0 || off >= (int)sizeof(S) || write || off % size)
		return false;
	if (IN_FIELD(off, S, sample_period) || IN_FIELD(off, S, addr))
		return narrow_ok(size, 8);
	return size == 8;
}

static bool raw_tp_access(const struct venv *env, int off, int size, bool write, bool ldsx,
			  struct vctx_result *res)
{
	(void)env, (void)ldsx, (void)res;
	/* up to 12 u64 arguments */
	return off >= 0 && off < 12 * 8 && !write && size == 8 && !(off % 8);
}

/*
 * BPF_PROG_TYPE_SYSCALL: the context is the caller's buffer (a test run's
 * ctx_in), read and written at any offset below 64 KiB aligned to the
 * access (the kernel's syscall_prog_is_valid_access); its real size is
 * checked when the program runs.
 */
static bool syscall_access(const struct venv *env, int off, int size, bool write, bool ldsx,
			   struct vctx_result *res)
{
	(void)env, (void)write, (void)ldsx, (void)res;
	return off >= 0 && off < 0xffff && !(off % size);
}

/* ---- cgroup hooks ------------------------------------------------------------------- */

static bool cgroup_dev_access(const struct venv *env, int off, int size, bool write, bool ldsx,
			      struct vctx_result *res)
{
	typedef struct bpf_cgroup_dev_ctx S;

	(void)env, (void)ldsx, (void)res;
	if (write || off < 0 || off + size > (int)sizeof(S) || off % size)
		return false;
	if (IN_FIELD(off, S, access_type))
		return narrow_ok(size, 4);
	return size == 4;
}

static bool sysctl_access(const struct venv *env, int off, int size, bool write, bool ldsx,
			  struct vctx_result *res)
{
	typedef struct bpf_sysctl S;

	(void)env, (void)ldsx, (void)res;
	if (off < 0 || off + size > (int)sizeof(S) || off % size)
		return false;
	if (IN_FIELD(off, S, write))
		return !write && narrow_ok(size, 4);
	if (IN_FIELD(off, S, file_pos))
		return write ? size == 4 : narrow_ok(size, 4);
	return false;
}

static bool sockopt_access(const struct venv *env, int off, int size, bool write, bool ldsx,
			   struct vctx_result *res)
{
	typedef struct bpf_sockopt S;
	uint32_t at = env->attach_type;

	(void)ldsx;
	if (off < 0 || off >= (int)sizeof(S) || off % size)
		return false;
	if (write) {
		if (off == (int)offsetof(S, retval))
			return size == 4 && at == BPF_CGROUP_GETSOCKOPT;
		if (off == (int)offsetof(S, optname) || off == (int)offsetof(S, level))
			return size == 4 && at == BPF_CGROUP_SETSOCKOPT;
		return off == (int)offsetof(S, optlen) && size == 4;
	}
	if (IN_FIELD(off, S, sk) || IN_FIELD(off, S, optval) || IN_FIELD(off, S, optval_end)) {
		yield(res, IN_FIELD(off, S, sk) ? VT_SOCKET : IN_FIELD(off, S, optval) ? VT_PACKET
										      : VT_PACKET_END, 0);
		return size == 8;
	}
	if (IN_FIELD(off, S, retval))
		return size == 4 && at == BPF_CGROUP_GETSOCKOPT;
	return size == 4;
}

/* ---- return values -------------------------------------------------------------------- */

static void ret_zero_one(const struct venv *env, bool *checked, int32_t *min, int32_t *max)
{
	(void)env;
	*checked = true, *min = 0, *max = 1;
}

static void ret_cgroup_skb(const struct venv *env, bool *checked, int32_t *min, int32_t *max)
{
	*checked = true, *min = 0;
	*max = env->attach_type == BPF_CGROUP_INET_EGRESS ? 3 : 1;
}

static void ret_sock_addr(const struct venv *env, bool *checked, int32_t *min, int32_t *max)
{
	uint32_t at = env->attach_type;

	*checked = true, *min = 0, *max = 1;
	if (at == BPF_CGROUP_UDP4_RECVMSG || at == BPF_CGROUP_UDP6_RECVMSG ||
	    at == BPF_CGROUP_INET4_GETPEERNAME || at == BPF_CGROUP_INET6_GETPEERNAME ||
	    at == BPF_CGROUP_INET4_GETSOCKNAME || at == BPF_CGROUP_INET6_GETSOCKNAME ||
	    at == 51 /* UNIX_RECVMSG */ || at == 52 || at == 53 /* UNIX_GETPEER/SOCKNAME */)
		*min = 1;
	if (at == BPF_CGROUP_INET4_BIND || at == BPF_CGROUP_INET6_BIND)
		*max = 3;
}

static void ret_sk_lookup(const struct venv *env, bool *checked, int32_t *min, int32_t *max)
{
	(void)env;
	*checked = true, *min = 0 /* SK_DROP */, *max = 1 /* SK_PASS */;
}

/* ---- the table ------------------------------------------------------------------------ */

#define SKB_SIZE sizeof(struct __sk_buff)

static const struct vctx_desc descs[] = {
	{ BPF_PROG_TYPE_SOCKET_FILTER, SKB_SIZE, socket_filter_access, PKT_NONE, true, NULL },
	{ BPF_PROG_TYPE_SCHED_CLS, SKB_SIZE, tc_access, PKT_READ_WRITE, true, NULL },
	{ BPF_PROG_TYPE_SCHED_ACT, SKB_SIZE, tc_access, PKT_READ_WRITE, true, NULL },
	{ BPF_PROG_TYPE_XDP, sizeof(struct xdp_md), xdp_access, PKT_READ_WRITE, false, NULL },
	{ BPF_PROG_TYPE_CGROUP_SKB, SKB_SIZE, cgroup_skb_access, PKT_READ, false, ret_cgroup_skb },
	{ BPF_PROG_TYPE_LWT_IN, SKB_SIZE, lwt_access, PKT_READ, false, NULL },
	{ BPF_PROG_TYPE_LWT_OUT, SKB_SIZE, lwt_access, PKT_READ, false, NULL },
	{ BPF_PROG_TYPE_LWT_XMIT, SKB_SIZE, lwt_access, PKT_READ_WRITE, false, NULL },
	{ BPF_PROG_TYPE_LWT_SEG6LOCAL, SKB_SIZE, lwt_access, PKT_READ, false, NULL },
	{ BPF_PROG_TYPE_SK_SKB, SKB_SIZE, sk_skb_access, PKT_READ_WRITE, false, NULL },
	{ BPF_PROG_TYPE_SK_MSG, sizeof(struct sk_msg_md), sk_msg_access, PKT_READ_WRITE, false, NULL },
	{ BPF_PROG_TYPE_FLOW_DISSECTOR, SKB_SIZE, flow_dissector_access, PKT_READ, false, NULL },
	{ BPF_PROG_TYPE_CGROUP_SOCK, sizeof(struct bpf_sock), cgroup_sock_access, PKT_NONE, false, ret_zero_one },
	{ BPF_PROG_TYPE_CGROUP_SOCK_ADDR, sizeof(struct bpf_sock_addr), sock_addr_access, PKT_NONE, false, ret_sock_addr },
	{ BPF_PROG_TYPE_SOCK_OPS, SOCK_OPS_SIZE, sock_ops_access, PKT_NONE, false, ret_zero_one },
	{ BPF_PROG_TYPE_SK_LOOKUP, sizeof(struct bpf_sk_lookup), sk_lookup_access, PKT_NONE, false, ret_sk_lookup },
	{ BPF_PROG_TYPE_KPROBE, PT_REGS_SIZE, kprobe_access, PKT_NONE, false, NULL },
	{ BPF_PROG_TYPE_TRACEPOINT, PERF_MAX_TRACE_SIZE, tracepoint_access, PKT_NONE, false, NULL },
	{ BPF_PROG_TYPE_PERF_EVENT, sizeof(struct bpf_perf_event_data), perf_event_access, PKT_NONE, false, NULL },
	{ BPF_PROG_TYPE_RAW_TRACEPOINT, 12 * 8, raw_tp_access, PKT_NONE, false, NULL },
	{ BPF_PROG_TYPE_CGROUP_DEVICE, sizeof(struct bpf_cgroup_dev_ctx), cgroup_dev_access, PKT_NONE, false, ret_zero_one },
	{ BPF_PROG_TYPE_CGROUP_SYSCTL, sizeof(struct bpf_sysctl), sysctl_access, PKT_NONE, false, ret_zero_one },
	{ BPF_PROG_TYPE_CGROUP_SOCKOPT, sizeof(struct bpf_sockopt), sockopt_access, PKT_READ_WRITE, false, ret_zero_one },
	{ BPF_PROG_TYPE_SYSCALL, 0xffff, syscall_access, PKT_NONE, false, NULL },
};

const struct vctx_desc *ctx_desc_for(uint32_t prog_type)
{
	for (size_t i = 0; i < sizeof(descs) / sizeof(descs[0]); i++)
		if (descs[i].prog_type == prog_type)
			return &descs[i];
	return NULL;
}

const char *ctx_name(const struct vctx_desc *desc)
{
	const char *name = prog_type_name(desc->prog_type);

	return name ? name : "bpfvm_run"; /* verify.c's mem_desc: no program type */
}

const char *ctx_unsupported_reason(uint32_t prog_type)
{
	if (ctx_desc_for(prog_type))
		return NULL;
	switch (prog_type) {
	case BPF_PROG_TYPE_TRACING:
	case BPF_PROG_TYPE_LSM:
	case BPF_PROG_TYPE_EXT:
	case BPF_PROG_TYPE_STRUCT_OPS:
	case PROG_TYPE_ID_NETFILTER:
		return "its context and attach points are described by kernel BTF, which user space lacks";
	default:
		return "bpfvm has no context model for this program type";
	}
}

bool ctx_may_access_direct_pkt(const struct venv *env, bool write)
{
	return env->ctx->pkt_access == PKT_READ_WRITE || (!write && env->ctx->pkt_access == PKT_READ);
}

bool ctx_sock_access_ok(uint8_t type, int off, int size)
{
	typedef struct bpf_sock S;

	switch (type) {
	case VT_SOCK_COMMON:
		/* type .. priority are a full socket's: sock_common lacks them */
		if (IN_FIELDS(off, S, type, priority))
			return false;
		return sock_fields(off, size);
	case VT_SOCKET:
		return sock_fields(off, size);
	case VT_TCP_SOCK:
		if (off < 0 || off >= (int)sizeof(struct bpf_tcp_sock) || off % size)
			return false;
		if (IN_FIELDS(off, struct bpf_tcp_sock, bytes_received, bytes_acked))
			return size == 8;
		return size == 4;
	case VT_XDP_SOCK:
		return off == 0 && size == 4; /* queue_id */
	default:
		return false;
	}
}
