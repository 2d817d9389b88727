/*
 * helper_protos.c - the helper prototypes the verifier checks calls
 * against: the rows of the runtime's table (src/helpers/helpers.def, the
 * kernel's struct bpf_func_proto) translated into the verifier's argument
 * and return kinds (with the facts column: packet access, changes to the
 * packet, references), plus which program types may call each (the
 * kernel's per-type *_func_proto), by the names helpers.def gives.
 */
#include "helper_protos.h"

#include <linux/bpf.h>
#include <stddef.h>

#include "../helpers/helpers.h"

static uint16_t arg_of(uint32_t a, const struct helper_info *h, int i)
{
	uint32_t base = HELPER_BASE_TYPE(a);
	uint16_t f = (a & PTR_MAYBE_NULL ? ARGF_NULL : 0) | (a & MEM_RDONLY ? ARGF_RDONLY : 0) |
		     (a & OBJ_RELEASE ? ARGF_RELEASE : 0);

	switch (base) {
	case ARG_DONTCARE: return V_ARG_NONE;
	case ARG_CONST_MAP_PTR: return (uint16_t)(V_ARG_CONST_MAP_PTR | f);
	case ARG_PTR_TO_MAP_KEY: return (uint16_t)(V_ARG_PTR_TO_MAP_KEY | f);
	case ARG_PTR_TO_MAP_VALUE:
		return (uint16_t)(V_ARG_PTR_TO_MAP_VALUE | f | (a & MEM_UNINIT ? ARGF_UNINIT : 0));
	case ARG_PTR_TO_MEM:
		if (a & MEM_RINGBUF)
			return (uint16_t)(V_ARG_PTR_TO_RINGBUF_MEM | f);
		if (a & MEM_FIXED_SIZE) /* only 4- and 8-byte results exist */
			return h->fixed_size_arg == i + 1 && h->fixed_size == 4 ? V_ARG_PTR_TO_INT
										: V_ARG_PTR_TO_LONG;
		return (uint16_t)((a & MEM_UNINIT ? V_ARG_PTR_TO_UNINIT_MEM : V_ARG_PTR_TO_MEM) | f);
	case ARG_CONST_SIZE: return V_ARG_CONST_SIZE;
	case ARG_CONST_SIZE_OR_ZERO: return V_ARG_CONST_SIZE_OR_ZERO;
	case ARG_PTR_TO_CTX: return (uint16_t)(V_ARG_PTR_TO_CTX | f);
	case ARG_ANYTHING: return V_ARG_ANYTHING;
	case ARG_SCALAR: return V_ARG_SCALAR;
	case ARG_PTR_TO_SPIN_LOCK: return V_ARG_PTR_TO_SPIN_LOCK;
	case ARG_PTR_TO_SOCK_COMMON: return (uint16_t)(V_ARG_PTR_TO_SOCK_COMMON | f);
	case ARG_PTR_TO_SOCKET: return (uint16_t)(V_ARG_PTR_TO_SOCKET | f);
	case ARG_PTR_TO_RINGBUF_MEM: return (uint16_t)(V_ARG_PTR_TO_RINGBUF_MEM | f);
	case ARG_CONST_ALLOC_SIZE_OR_ZERO: return V_ARG_CONST_ALLOC_SIZE_OR_ZERO;
	case ARG_PTR_TO_BTF_ID_SOCK_COMMON: return (uint16_t)(V_ARG_PTR_TO_BTF_SOCK | f);
	case ARG_PTR_TO_FUNC: return V_ARG_PTR_TO_FUNC;
	case ARG_PTR_TO_STACK: return (uint16_t)(V_ARG_PTR_TO_STACK | f);
	case ARG_PTR_TO_CONST_STR: return V_ARG_PTR_TO_CONST_STR;
	case ARG_PTR_TO_TIMER: return V_ARG_PTR_TO_TIMER;
	case ARG_PTR_TO_DYNPTR: return (uint16_t)(V_ARG_PTR_TO_DYNPTR | f);
	default: return (uint16_t)(V_ARG_PTR_TO_BTF_ID | f);
	}
}

static uint8_t ret_of(uint32_t r, int32_t id)
{
	switch (HELPER_BASE_TYPE(r)) {
	case RET_INTEGER: return V_RET_INTEGER;
	case RET_VOID: return V_RET_VOID;
	case RET_PTR_TO_MAP_VALUE: return r & PTR_MAYBE_NULL ? V_RET_MAP_VALUE_OR_NULL : V_RET_MAP_VALUE;
	case RET_PTR_TO_SOCKET:
		return helper_has(id, HF_PTR_CAST) ? V_RET_SOCK_OR_NULL_NOREF : V_RET_SOCKET_OR_NULL;
	case RET_PTR_TO_TCP_SOCK: return V_RET_TCP_SOCK_OR_NULL;
	case RET_PTR_TO_SOCK_COMMON: return V_RET_SOCK_COMMON_OR_NULL;
	case RET_PTR_TO_MEM: return r & MEM_RINGBUF ? V_RET_RINGBUF_MEM_OR_NULL : V_RET_BTF_ID;
	default: return V_RET_BTF_ID;
	}
}

bool helper_proto(int32_t id, struct vhelper *out)
{
	const struct helper_info *h = helper_info(id);

	if (!h || !h->name)
		return false;
	*out = (struct vhelper){ h->name, ret_of(h->ret, id), { 0 }, h->gpl_only,
				 h->facts & HF_PKT_ACCESS, h->facts & HF_CHANGES_PKT,
				 h->facts & HF_ACQUIRE, false };
	for (int i = 0; i < 5; i++)
		out->args[i] = arg_of(h->args[i], h, i);
	return true;
}

/* ---- which program types may call what ------------------------------------------- */

/* Lists of helpers, by the names helpers.def gives them. */
#define H(NAME) HELPER_ID_##NAME
#define HELPER_LIST_END 0xffff

/*
 * bpf_base_func_proto for a privileged (CAP_BPF, CAP_PERFMON) program;
 * Linux 6.18's also has bpf_send_signal(_thread), which 6.12 offered to
 * tracing types only.
 */
static const uint16_t base_ids[] = {
	H(map_lookup_elem), H(map_update_elem), H(map_delete_elem), H(map_push_elem),
	H(map_pop_elem), H(map_peek_elem), H(map_lookup_percpu_elem), H(get_prandom_u32),
	H(get_smp_processor_id), H(get_numa_node_id), H(tail_call), H(ktime_get_ns),
	H(ktime_get_boot_ns), H(ktime_get_tai_ns), H(ringbuf_output), H(ringbuf_reserve),
	H(ringbuf_submit), H(ringbuf_discard), H(ringbuf_query), H(strncmp), H(strtol),
	H(strtoul), H(get_current_pid_tgid), H(get_ns_current_pid_tgid), H(spin_lock),
	H(spin_unlock), H(jiffies64), H(per_cpu_ptr), H(this_cpu_ptr), H(timer_init),
	H(timer_set_callback), H(timer_start), H(timer_cancel), H(kptr_xchg),
	H(for_each_map_elem), H(loop), H(user_ringbuf_drain), H(ringbuf_reserve_dynptr),
	H(ringbuf_submit_dynptr), H(ringbuf_discard_dynptr), H(dynptr_from_mem), H(dynptr_read),
	H(dynptr_write), H(dynptr_data), H(cgrp_storage_get), H(cgrp_storage_delete),
	H(get_current_cgroup_id), H(get_current_ancestor_cgroup_id), H(trace_printk),
	H(get_current_task), H(get_current_task_btf), H(task_pt_regs), H(probe_read_user),
	H(probe_read_kernel), H(probe_read_user_str), H(probe_read_kernel_str), H(snprintf_btf),
	H(snprintf), H(trace_vprintk), H(send_signal), H(send_signal_thread), HELPER_LIST_END
};

/* bpf_sk_base_func_proto: what networking types add to the base. */
static const uint16_t sk_base_ids[] = {
	H(skc_to_tcp6_sock), H(skc_to_tcp_sock), H(skc_to_tcp_timewait_sock),
	H(skc_to_tcp_request_sock), H(skc_to_udp6_sock), H(skc_to_unix_sock),
	H(skc_to_mptcp_sock), H(ktime_get_coarse_ns), HELPER_LIST_END
};

/* bpf_tracing_func_proto's additions. */
static const uint16_t tracing_ids[] = {
	H(get_current_task), H(get_current_task_btf), H(task_pt_regs), H(get_current_uid_gid),
	H(get_current_comm), H(trace_printk), H(perf_event_read), H(probe_write_user),
	H(probe_read_user), H(probe_read_kernel), H(probe_read_user_str),
	H(probe_read_kernel_str), H(probe_read), H(probe_read_str),
	H(current_task_under_cgroup), H(send_signal), H(send_signal_thread),
	H(perf_event_read_value), H(get_task_stack), H(copy_from_user), H(copy_from_user_task),
	H(snprintf_btf), H(task_storage_get), H(task_storage_delete), H(snprintf),
	H(get_func_ip), H(get_branch_snapshot), H(find_vma), H(trace_vprintk), HELPER_LIST_END
};

static const uint16_t sk_filter_ids[] = {
	H(skb_load_bytes), H(skb_load_bytes_relative), H(get_socket_cookie), H(get_socket_uid),
	H(perf_event_output), HELPER_LIST_END
};
static const uint16_t tc_ids[] = {
	H(skb_store_bytes), H(skb_load_bytes), H(skb_load_bytes_relative), H(skb_pull_data),
	H(csum_diff), H(csum_update), H(csum_level), H(l3_csum_replace), H(l4_csum_replace),
	H(clone_redirect), H(get_cgroup_classid), H(skb_vlan_push), H(skb_vlan_pop),
	H(skb_change_proto), H(skb_change_type), H(skb_adjust_room), H(skb_change_tail),
	H(skb_change_head), H(skb_get_tunnel_key), H(skb_set_tunnel_key), H(skb_get_tunnel_opt),
	H(skb_set_tunnel_opt), H(redirect), H(redirect_neigh), H(redirect_peer),
	H(get_route_realm), H(get_hash_recalc), H(set_hash_invalid), H(set_hash),
	H(perf_event_output), H(get_smp_processor_id), H(skb_under_cgroup),
	H(get_socket_cookie), H(get_socket_uid), H(fib_lookup), H(check_mtu), H(sk_fullsock),
	H(sk_storage_get), H(sk_storage_delete), H(skb_get_xfrm_state), H(skb_cgroup_classid),
	H(skb_cgroup_id), H(skb_ancestor_cgroup_id), H(sk_lookup_tcp), H(sk_lookup_udp),
	H(sk_release), H(tcp_sock), H(get_listener_sock), H(skc_lookup_tcp),
	H(tcp_check_syncookie), H(skb_ecn_set_ce), H(tcp_gen_syncookie), H(sk_assign),
	H(skb_set_tstamp), H(tcp_raw_gen_syncookie_ipv4), H(tcp_raw_gen_syncookie_ipv6),
	H(tcp_raw_check_syncookie_ipv4), H(tcp_raw_check_syncookie_ipv6), HELPER_LIST_END
};
static const uint16_t xdp_ids[] = {
	H(perf_event_output), H(get_smp_processor_id), H(csum_diff), H(xdp_adjust_head),
	H(xdp_adjust_meta), H(redirect), H(redirect_map), H(xdp_adjust_tail),
	H(xdp_get_buff_len), H(xdp_load_bytes), H(xdp_store_bytes), H(fib_lookup), H(check_mtu),
	H(sk_lookup_udp), H(sk_lookup_tcp), H(sk_release), H(skc_lookup_tcp),
	H(tcp_check_syncookie), H(tcp_gen_syncookie), H(tcp_raw_gen_syncookie_ipv4),
	H(tcp_raw_gen_syncookie_ipv6), H(tcp_raw_check_syncookie_ipv4),
	H(tcp_raw_check_syncookie_ipv6), HELPER_LIST_END
};
static const uint16_t cg_skb_ids[] = {
	H(sk_fullsock), H(sk_storage_get), H(sk_storage_delete), H(perf_event_output),
	H(skb_cgroup_id), H(skb_ancestor_cgroup_id), H(sk_cgroup_id), H(sk_ancestor_cgroup_id),
	H(sk_lookup_tcp), H(sk_lookup_udp), H(sk_release), H(skc_lookup_tcp), H(tcp_sock),
	H(get_listener_sock), H(skb_ecn_set_ce), H(get_local_storage), H(get_retval),
	H(set_retval), H(get_current_uid_gid), H(get_current_comm), H(get_cgroup_classid),
	H(current_task_under_cgroup), HELPER_LIST_END
};
static const uint16_t sk_skb_ids[] = {
	H(skb_store_bytes), H(skb_load_bytes), H(skb_pull_data), H(skb_change_tail),
	H(skb_change_head), H(skb_adjust_room), H(get_socket_cookie), H(get_socket_uid),
	H(sk_redirect_map), H(sk_redirect_hash), H(perf_event_output), H(sk_lookup_tcp),
	H(sk_lookup_udp), H(sk_release), H(skc_lookup_tcp), HELPER_LIST_END
};
static const uint16_t sk_msg_ids[] = {
	H(msg_redirect_map), H(msg_redirect_hash), H(msg_apply_bytes), H(msg_cork_bytes),
	H(msg_pull_data), H(msg_push_data), H(msg_pop_data), H(perf_event_output),
	H(get_current_uid_gid), H(sk_storage_get), H(sk_storage_delete), H(get_netns_cookie),
	H(get_cgroup_classid), HELPER_LIST_END
};
static const uint16_t lwt_out_ids[] = {
	H(skb_load_bytes), H(skb_pull_data), H(csum_diff), H(get_cgroup_classid),
	H(get_route_realm), H(get_hash_recalc), H(perf_event_output), H(get_smp_processor_id),
	H(skb_under_cgroup), HELPER_LIST_END
};
static const uint16_t lwt_in_ids[] = {
	H(skb_load_bytes), H(skb_pull_data), H(csum_diff), H(get_cgroup_classid),
	H(get_route_realm), H(get_hash_recalc), H(perf_event_output), H(get_smp_processor_id),
	H(skb_under_cgroup), H(lwt_push_encap), HELPER_LIST_END
};
static const uint16_t lwt_xmit_ids[] = {
	H(skb_load_bytes), H(skb_pull_data), H(csum_diff), H(get_cgroup_classid),
	H(get_route_realm), H(get_hash_recalc), H(perf_event_output), H(get_smp_processor_id),
	H(skb_under_cgroup), H(skb_get_tunnel_key), H(skb_set_tunnel_key),
	H(skb_get_tunnel_opt), H(skb_set_tunnel_opt), H(redirect), H(clone_redirect),
	H(skb_change_tail), H(skb_change_head), H(skb_store_bytes), H(csum_update),
	H(csum_level), H(l3_csum_replace), H(l4_csum_replace), H(set_hash_invalid),
	H(lwt_push_encap), HELPER_LIST_END
};
static const uint16_t sock_ops_ids[] = {
	H(setsockopt), H(getsockopt), H(sock_ops_cb_flags_set), H(sock_map_update),
	H(sock_hash_update), H(get_socket_cookie), H(perf_event_output), H(sk_storage_get),
	H(sk_storage_delete), H(get_netns_cookie), H(load_hdr_opt), H(store_hdr_opt),
	H(reserve_hdr_opt), H(tcp_sock), HELPER_LIST_END
};
static const uint16_t sock_ids[] = {
	H(get_socket_cookie), H(get_netns_cookie), H(perf_event_output), H(sk_storage_get),
	H(ktime_get_coarse_ns), H(get_local_storage), H(get_retval), H(set_retval),
	H(get_current_uid_gid), H(get_current_comm), H(get_cgroup_classid),
	H(current_task_under_cgroup), HELPER_LIST_END
};
static const uint16_t sock_addr_ids[] = {
	H(bind), H(get_socket_cookie), H(get_netns_cookie), H(perf_event_output),
	H(sk_lookup_tcp), H(sk_lookup_udp), H(sk_release), H(skc_lookup_tcp), H(sk_storage_get),
	H(sk_storage_delete), H(setsockopt), H(getsockopt), H(get_local_storage), H(get_retval),
	H(set_retval), H(get_current_uid_gid), H(get_current_comm), H(get_cgroup_classid),
	H(current_task_under_cgroup), HELPER_LIST_END
};
static const uint16_t sk_lookup_ids[] = {
	H(perf_event_output), H(sk_assign), H(sk_release), HELPER_LIST_END
};
static const uint16_t flow_ids[] = {
	H(skb_load_bytes), HELPER_LIST_END
};
static const uint16_t kprobe_ids[] = {
	H(perf_event_output), H(get_stackid), H(get_stack), H(override_return), H(get_func_ip),
	H(get_attach_cookie), HELPER_LIST_END
};
static const uint16_t tp_ids[] = {
	H(perf_event_output), H(get_stackid), H(get_stack), H(get_attach_cookie),
	HELPER_LIST_END
};
static const uint16_t pe_ids[] = {
	H(perf_event_output), H(get_stackid), H(get_stack), H(perf_prog_read_value),
	H(read_branch_records), H(get_attach_cookie), HELPER_LIST_END
};
static const uint16_t cgroup_ids[] = {
	H(get_local_storage), H(get_retval), H(set_retval), H(get_current_uid_gid),
	H(get_current_comm), H(get_cgroup_classid), H(current_task_under_cgroup),
	H(perf_event_output), HELPER_LIST_END
};
static const uint16_t sysctl_ids[] = {
	H(sysctl_get_name), H(sysctl_get_current_value), H(sysctl_get_new_value),
	H(sysctl_set_new_value), H(ktime_get_coarse_ns), H(perf_event_output),
	H(get_local_storage), H(get_retval), H(set_retval), H(get_current_uid_gid),
	H(get_current_comm), H(get_cgroup_classid), H(current_task_under_cgroup),
	HELPER_LIST_END
};
/* syscall_prog_func_proto: bpf_sys_bpf, btf_find_by_name_kind, sys_close, kallsyms_lookup_name. */
static const uint16_t syscall_ids[] = {
	H(sys_bpf), H(btf_find_by_name_kind), H(sys_close), H(kallsyms_lookup_name),
	HELPER_LIST_END
};
static const uint16_t sockopt_ids[] = {
	H(get_netns_cookie), H(sk_storage_get), H(sk_storage_delete), H(setsockopt),
	H(getsockopt), H(tcp_sock), H(perf_event_output), H(get_local_storage), H(get_retval),
	H(set_retval), H(get_current_uid_gid), H(get_current_comm), H(get_cgroup_classid),
	H(current_task_under_cgroup), HELPER_LIST_END
};

static bool in_list(const uint16_t *ids, int32_t id)
{
	for (; *ids != HELPER_LIST_END; ids++)
		if (*ids == id)
			return true;
	return false;
}

struct type_helpers {
	uint32_t prog_type;
	const uint16_t *ids;
	bool net;      /* falls back to bpf_sk_base_func_proto */
	bool tracing;  /* falls back to bpf_tracing_func_proto */
};

static const struct type_helpers types[] = {
	{ BPF_PROG_TYPE_SOCKET_FILTER, sk_filter_ids, true, false },
	{ BPF_PROG_TYPE_SCHED_CLS, tc_ids, true, false },
	{ BPF_PROG_TYPE_SCHED_ACT, tc_ids, true, false },
	{ BPF_PROG_TYPE_XDP, xdp_ids, true, false },
	{ BPF_PROG_TYPE_CGROUP_SKB, cg_skb_ids, true, false },
	{ BPF_PROG_TYPE_SK_SKB, sk_skb_ids, true, false },
	{ BPF_PROG_TYPE_SK_MSG, sk_msg_ids, true, false },
	{ BPF_PROG_TYPE_LWT_IN, lwt_in_ids, true, false },
	{ BPF_PROG_TYPE_LWT_OUT, lwt_out_ids, true, false },
	{ BPF_PROG_TYPE_LWT_XMIT, lwt_xmit_ids, true, false },
	{ BPF_PROG_TYPE_LWT_SEG6LOCAL, lwt_out_ids, true, false },
	{ BPF_PROG_TYPE_SOCK_OPS, sock_ops_ids, true, false },
	{ BPF_PROG_TYPE_CGROUP_SOCK, sock_ids, true, false },
	{ BPF_PROG_TYPE_CGROUP_SOCK_ADDR, sock_addr_ids, true, false },
	{ BPF_PROG_TYPE_SK_LOOKUP, sk_lookup_ids, true, false },
	{ BPF_PROG_TYPE_FLOW_DISSECTOR, flow_ids, true, false },
	{ BPF_PROG_TYPE_KPROBE, kprobe_ids, false, true },
	{ BPF_PROG_TYPE_TRACEPOINT, tp_ids, false, true },
	{ BPF_PROG_TYPE_PERF_EVENT, pe_ids, false, true },
	{ BPF_PROG_TYPE_RAW_TRACEPOINT, tp_ids, false, true },
	{ BPF_PROG_TYPE_CGROUP_DEVICE, cgroup_ids, false, false },
	{ BPF_PROG_TYPE_CGROUP_SYSCTL, sysctl_ids, false, false },
	{ BPF_PROG_TYPE_CGROUP_SOCKOPT, sockopt_ids, false, false },
	{ BPF_PROG_TYPE_SYSCALL, syscall_ids, false, true },
};

bool helper_allowed(int32_t id, uint32_t prog_type, uint32_t attach_type)
{
	(void)attach_type;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		const struct type_helpers *t = &types[i];

		if (t->prog_type != prog_type)
			continue;
		if (in_list(t->ids, id) || in_list(base_ids, id))
			return true;
		if (t->net && in_list(sk_base_ids, id))
			return true;
		return t->tracing && in_list(tracing_ids, id);
	}
	return in_list(base_ids, id);
}
