/*
 * hooks.h - program types and the contexts they run with: the table of
 * program types (prog_types.c), the state of one test run (test_run.c),
 * and the context helpers that change it (ctx_helpers.c: moving an XDP
 * packet's head and tail, reading and writing an skb's bytes).
 */
#ifndef BPFVM_HOOKS_HOOKS_H
#define BPFVM_HOOKS_HOOKS_H

#include <stdbool.h>
#include <stdint.h>

#include <bpfvm/hooks.h>
#include <bpfvm/object.h>

struct bpfvm;
struct bpfvm_run_ctx;

enum hook_ctx {
	HOOK_CTX_NONE,
	HOOK_CTX_RAW,       /* r1 = the context bytes as given (read-only) */
	HOOK_CTX_SKB,       /* struct __sk_buff over a packet */
	HOOK_CTX_XDP,       /* struct xdp_md over a packet */
	HOOK_CTX_PT_REGS,   /* struct pt_regs (x86-64 layout, 168 bytes) */
};

struct hook_prog_type {
	const char *name;
	enum hook_ctx ctx;
};

/* The row of a program type, NULL past the table. */
const struct hook_prog_type *hook_prog_type(uint32_t type);

/* Room the kernel's test run leaves: headroom before an XDP packet, and the xdp_frame in it. */
#define HOOK_XDP_HEADROOM 256
#define HOOK_XDP_FRAME_SIZE 40
#define HOOK_ETH_HLEN 14
#define HOOK_MAX_META 32

/* One test run's context and packet, below 4 GiB. */
struct hook_run {
	enum hook_ctx kind;
	uint8_t *area;          /* the mapping: context, then the packet buffer */
	size_t area_size;
	uint8_t *ctx;
	size_t ctx_size;
	uint8_t *hard_start;    /* the packet buffer (XDP headroom begins here) */
	uint8_t *buf_end;       /* how far the packet may grow */
	uint8_t *mac;           /* skb: the Ethernet header (data may start after it) */
	uint8_t *data_meta, *data, *data_end;
	int pkt_region;         /* the packet's region in the run, -1 if none */
	struct bpfvm_redirect redirect;  /* what bpf_redirect / bpf_redirect_map set (redirect.c) */
};

/* The fields of __sk_buff a program may write, as regions of run (test_run.c). */
void hook_skb_regions(struct bpfvm_run_ctx *run, uint8_t *ctx);

/* After a helper moved data_meta, data or data_end: the context and the run follow. */
void hook_update(struct hook_run *h, struct bpfvm_run_ctx *run);

/* A run for a real event (event_run.c): its context, what it points to, whose it is. */
struct vm_task_ops;
struct hook_event_run {
	enum bpfvm_exec mode;
	uint64_t insn_limit;             /* checked runs; 0: the default */
	struct bpfvm_log *log;
	void *ctx;                       /* r1: the record or the arguments, read-only */
	size_t ctx_size;
	void *kobj;                      /* a kernel object ctx points to (pt_regs), or NULL */
	size_t kobj_size;
	const char *kobj_what;
	const struct vm_task_ops *task_ops;  /* the current task */
	void *task;
};

/*
 * Run prog once for an event: 0 with r0 in *retval, -EPERM when prog may
 * only run checked and another mode is asked, or what a failing run
 * returns (the reason in ev->log).
 */
int hook_run_event(struct bpfvm_prog *prog, const struct hook_event_run *ev, uint64_t *retval);

/* The redirect helpers (redirect.c): bpf_redirect, bpf_redirect_map. */
uint64_t hook_redirect(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
		       struct bpfvm_run_ctx *run);
uint64_t hook_redirect_map(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
			   struct bpfvm_run_ctx *run);
/* A fresh run: no redirect target (the kernel's map_id INT_MAX, map type UNSPEC). */
void hook_redirect_clear(struct hook_run *h);

/* Register the context helpers in an instance (those not already set). */
void hooks_register_helpers(struct bpfvm *vm);

#endif
