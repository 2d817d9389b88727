/*
 * bpfvm/hooks.h - running a program as its program type runs in the
 * kernel, the way BPF_PROG_TEST_RUN does: an XDP program gets a struct
 * xdp_md over a packet, a socket filter or tc program a struct __sk_buff,
 * a tracepoint program its raw record, a kprobe a struct pt_regs.
 *
 * Contexts hold packet pointers in 32-bit fields (xdp_md->data, ...).
 * The kernel's verifier rewrites such loads into 64-bit ones; without it,
 * bpfvm places the context and the packet below 4 GiB (MAP_32BIT), so the
 * 32-bit fields hold the real addresses and programs built for the kernel
 * run unchanged.
 *
 * In the checked interpreter, the context and the packet are the regions
 * the program may touch besides its stack: the packet is writable, the
 * context read-only except the fields the kernel lets programs write
 * (__sk_buff's mark, priority, cb[], tc_index, tc_classid, queue_mapping).
 */
#ifndef BPFVM_HOOKS_H
#define BPFVM_HOOKS_H

#include <stddef.h>
#include <stdint.h>

#include <bpfvm/bpfvm.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Where the last bpf_redirect / bpf_redirect_map of a run sends the packet
 * (the kernel's struct bpf_redirect_info), read with an XDP_REDIRECT or
 * TC_ACT_REDIRECT verdict.  map NULL: bpf_redirect to the device ifindex.
 * With a map: key is the index given, ifindex the device a devmap entry
 * names (0 for cpumaps, xskmaps and broadcasts), flags BPF_F_BROADCAST /
 * BPF_F_EXCLUDE_INGRESS (devmaps) or BPF_F_INGRESS (tc's bpf_redirect).
 */
struct bpfvm_redirect {
	struct bpfvm_map *map;
	uint32_t map_type;       /* 0 (BPF_MAP_TYPE_UNSPEC) without a map */
	uint32_t key;
	uint32_t ifindex;
	uint64_t flags;
};

struct bpfvm_test_run_opts {
	size_t sz;
	/* The packet (XDP, socket filter, tc, ...). */
	const void *data_in;
	size_t data_size_in;
	/* Where the packet goes after the run; data_size_out: in, the room;
	 * out, the packet's size (which may exceed the room: then truncated). */
	void *data_out;
	size_t data_size_out;
	/*
	 * The context's initial bytes: the record of a tracepoint, the
	 * registers of a kprobe, the arguments of a raw tracepoint; for XDP
	 * and __sk_buff programs the fields the kernel lets a test run set
	 * (the rest are filled in, as the kernel does).
	 */
	const void *ctx_in;
	size_t ctx_size_in;
	/* The context after the run (ctx_size_out as data_size_out). */
	void *ctx_out;
	size_t ctx_size_out;
	uint32_t repeat;           /* runs; 0 means 1 */
	enum bpfvm_exec mode;
	uint64_t insn_limit;       /* checked runs; 0: the default */
	struct bpfvm_log *log;
	/*
	 * Out: the last run's r0, the mean time of a run (the thread's CPU
	 * time: time scheduled out does not count, as in the kernel's test
	 * runs), and instructions run (checked).
	 */
	uint64_t retval;
	uint64_t duration_ns;
	uint64_t insns_executed;
	struct bpfvm_redirect redirect;   /* out: the last run's redirect target */
};

/*
 * Run the program on the input as its type's hook would (the type given
 * when the program was created, bpfvm_prog_opts.prog_type).  Returns 0
 * with opts->retval, or a negative errno with the reason in opts->log:
 * -EINVAL for input the type cannot take (a packet shorter than an
 * Ethernet header for XDP and tc, a context larger than the type's),
 * -ENOMEM when no memory below 4 GiB is left, and what bpfvm_prog__run
 * returns for a failing run.
 */
BPFVM_API int bpfvm_prog__test_run(struct bpfvm_prog *prog, struct bpfvm_test_run_opts *opts);

/*
 * Add the helpers that work on a test run's context to an instance
 * (bpf_xdp_adjust_head/tail/meta, bpf_skb_load_bytes/store_bytes), where
 * no helper of that id is set.  bpfvm_object__load does this; programs
 * made with bpfvm_prog__new that call them need it first.
 */
BPFVM_API int bpfvm__add_context_helpers(struct bpfvm *vm);

/*
 * Live XDP: one program run frame after frame on a context and buffer made
 * once (frames up to max_frame bytes, after the kernel's 256 bytes of
 * headroom), each with a real xdp_md: ingress_ifindex and rx_queue_index
 * as given.  A run gives the verdict, the frame as the program left it
 * (data, len: after bpf_xdp_adjust_head/tail; valid until the next run)
 * and the redirect target.  The runner is for one thread.
 */
struct bpfvm_xdp_runner;

struct bpfvm_xdp_result {
	uint32_t verdict;
	const void *data;
	size_t len;
	struct bpfvm_redirect redirect;
};

struct bpfvm_xdp_runner_opts {
	size_t sz;
	struct bpfvm_log *log;  /* why the runner or one of its runs failed; kept by the runner */
};
/* NULL with errno (EINVAL: not an XDP or tc program, or unverified and mode not checked). */
BPFVM_API struct bpfvm_xdp_runner *bpfvm_xdp_runner__new(struct bpfvm_prog *prog,
							 size_t max_frame, enum bpfvm_exec mode,
							 const struct bpfvm_xdp_runner_opts *opts);
/* 0, or a negative errno: a frame too short or long (-EINVAL), a failing run. */
BPFVM_API int bpfvm_xdp_runner__run(struct bpfvm_xdp_runner *runner, const void *frame,
				    size_t len, uint32_t ingress_ifindex, uint32_t rx_queue_index,
				    struct bpfvm_xdp_result *result);
/*
 * Live tc: the runner also takes a sched_cls or sched_act program
 * (bpfvm_xdp_runner__new), whose frames run with a real __sk_buff: data
 * at the Ethernet header (as tc programs see it), len the frame's,
 * protocol from it, and the fields below; the rest zero.  The result's
 * verdict is the tc action (TC_ACT_*), its redirect what bpf_redirect
 * set (flags: BPF_F_INGRESS).
 */
struct bpfvm_skb_info {
	uint32_t ifindex;          /* the device the skb is on */
	uint32_t ingress_ifindex;  /* where it came in (0 on egress of a local packet) */
	uint32_t queue_mapping;    /* its receive (ingress) or transmit queue */
	uint32_t pkt_type;         /* PACKET_HOST, ... */
	uint64_t tstamp;
};
BPFVM_API int bpfvm_xdp_runner__run_skb(struct bpfvm_xdp_runner *runner, const void *frame,
					size_t len, const struct bpfvm_skb_info *info,
					struct bpfvm_xdp_result *result);
BPFVM_API void bpfvm_xdp_runner__destroy(struct bpfvm_xdp_runner *runner);

/* XDP verdicts and tc actions by name: "XDP_DROP", "TC_ACT_SHOT"; NULL for others. */
BPFVM_API const char *bpfvm_retval_name(uint32_t prog_type, uint64_t retval);

#ifdef __cplusplus
}
#endif

#endif
