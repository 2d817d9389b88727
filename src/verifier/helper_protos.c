/*
 * helper_protos.c - the helper prototypes the verifier checks calls
 * against: the rows of the runtime's table (src/helpers/helpers.def, the
 * kernel's struct bpf_func_proto) translated into the verifier's argument
 * and return kinds, plus what the table does not say: which helpers take
 * packet pointers, change the packet, or hand out references, and which
 * program types may call each (the kernel's per-type *_func_proto).
 */
#include "helper_protos.h"

#include <linux/bpf.h>
#include <stddef.h>

#include "../helpers/helpers.h"

static bool in_list(const uint16_t *ids, int32_t id);

/* bpf_func_proto.pkt_access: the helper may read (or fill) packet memory. */
static const uint16_t pkt_access_ids[] = {
	1, 2, 3, 87, 28, 204, 205, 206, 207, 0xffff
};
/* bpf_helper_changes_pkt_data(); a tail call too (Linux 6.13+): the program it runs may. */
static const uint16_t changes_pkt_ids[] = {
	9, 10, 11, 18, 19, 31, 32, 38, 39, 44, 54, 50, 43, 65, 63, 90, 91, 73, 74, 75, 76, 13, 143,
	124, 12, 0xffff
};
/* is_acquire_function(): helpers returning a pointer the program must release. */
static const uint16_t acquire_ids[] = { 131, 84, 85, 99, 0xffff };

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
		return id == 95 || id == 98 ? V_RET_SOCK_OR_NULL_NOREF : V_RET_SOCKET_OR_NULL;
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
				 in_list(pkt_access_ids, id), in_list(changes_pkt_ids, id),
				 in_list(acquire_ids, id), false };
	for (int i = 0; i < 5; i++)
		out->args[i] = arg_of(h->args[i], h, i);
	return true;
}

const char *helper_name(int32_t id)
{
	const struct helper_info *h = helper_info(id);

	return h && h->name ? h->name : NULL;
}

/* ---- which program types may call what ------------------------------------------- */

/* bpf_base_func_proto for a privileged (CAP_BPF, CAP_PERFMON) program. */
static const uint16_t base_ids[] = {
	1, 2, 3, 87, 88, 89, 195, 7, 8, 42, 12, 5, 125, 208, 130, 131, 132, 133, 134, 182, 105,
	106, 14, 120, 93, 94, 118, 153, 154, 169, 170, 171, 172, 194, 164, 181, 209, 198, 199,
	200, 197, 201, 202, 203, 210, 211, 80, 123, 6, 35, 158, 175, 112, 113, 114, 115, 149,
	165, 177, 0xffff
};

/* bpf_sk_base_func_proto: what networking types add to the base. */
static const uint16_t sk_base_ids[] = { 136, 137, 138, 139, 140, 178, 196, 160, 0xffff };

/* bpf_tracing_func_proto's additions. */
static const uint16_t tracing_ids[] = {
	35, 158, 175, 15, 16, 6, 22, 36, 112, 113, 114, 115, 4, 45, 37, 109, 117, 55, 141, 148,
	191, 149, 156, 157, 165, 173, 176, 180, 177, 0xffff
};

static const uint16_t sk_filter_ids[] = { 26, 68, 46, 47, 25, 0xffff };
static const uint16_t tc_ids[] = {
	9, 26, 68, 39, 28, 40, 135, 10, 11, 13, 17, 18, 19, 31, 32, 50, 38, 43, 20, 21, 29, 30,
	23, 152, 155, 24, 34, 41, 48, 25, 8, 33, 46, 47, 69, 163, 95, 107, 108, 66, 151, 79, 83,
	84, 85, 86, 96, 98, 99, 100, 97, 110, 124, 192, 204, 205, 206, 207, 0xffff
};
static const uint16_t xdp_ids[] = {
	25, 8, 28, 44, 54, 23, 51, 65, 188, 189, 190, 69, 163, 85, 84, 86, 99, 100, 110, 204, 205,
	206, 207, 0xffff
};
static const uint16_t cg_skb_ids[] = {
	95, 107, 108, 25, 79, 83, 128, 129, 84, 85, 86, 99, 96, 98, 97, 81, 186, 187, 15, 16, 17,
	37, 0xffff
};
static const uint16_t sk_skb_ids[] = {
	9, 26, 39, 38, 43, 50, 46, 47, 52, 72, 25, 84, 85, 86, 99, 0xffff
};
static const uint16_t sk_msg_ids[] = { 60, 71, 61, 62, 63, 90, 91, 25, 15, 107, 108, 122, 17, 0xffff };
static const uint16_t lwt_out_ids[] = { 26, 39, 28, 17, 24, 34, 25, 8, 33, 0xffff };
static const uint16_t lwt_in_ids[] = { 26, 39, 28, 17, 24, 34, 25, 8, 33, 73, 0xffff };
static const uint16_t lwt_xmit_ids[] = {
	26, 39, 28, 17, 24, 34, 25, 8, 33, 20, 21, 29, 30, 23, 13, 38, 43, 9, 40, 135, 10, 11,
	41, 73, 0xffff
};
static const uint16_t sock_ops_ids[] = {
	49, 57, 59, 53, 70, 46, 25, 107, 108, 122, 142, 143, 144, 96, 0xffff
};
static const uint16_t sock_ids[] = { 46, 122, 25, 107, 160, 81, 186, 187, 15, 16, 17, 37, 0xffff };
static const uint16_t sock_addr_ids[] = {
	64, 46, 122, 25, 84, 85, 86, 99, 107, 108, 49, 57, 81, 186, 187, 15, 16, 17, 37, 0xffff
};
static const uint16_t sk_lookup_ids[] = { 25, 124, 86, 0xffff };
static const uint16_t flow_ids[] = { 26, 0xffff };
static const uint16_t kprobe_ids[] = { 25, 27, 67, 58, 173, 174, 0xffff };
static const uint16_t tp_ids[] = { 25, 27, 67, 174, 0xffff };
static const uint16_t pe_ids[] = { 25, 27, 67, 56, 119, 174, 0xffff };
static const uint16_t cgroup_ids[] = { 81, 186, 187, 15, 16, 17, 37, 25, 0xffff };
static const uint16_t sysctl_ids[] = { 101, 102, 103, 104, 160, 25, 81, 186, 187, 15, 16, 17, 37, 0xffff };
/* syscall_prog_func_proto: bpf_sys_bpf, btf_find_by_name_kind, sys_close, kallsyms_lookup_name. */
static const uint16_t syscall_ids[] = { 166, 167, 168, 179, 0xffff };
static const uint16_t sockopt_ids[] = { 122, 107, 108, 49, 57, 96, 25, 81, 186, 187, 15, 16, 17, 37, 0xffff };

static bool in_list(const uint16_t *ids, int32_t id)
{
	for (; *ids != 0xffff; ids++)
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
