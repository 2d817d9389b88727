/*
 * xdp_live.c - bpfvm_xdp_runner: an XDP program run on frame after frame
 * (bpfvm xdp attach), without a test run's per-call mapping.  The
 * context and the buffer are mapped once below 4 GiB, as test_run.c's, so
 * that xdp_md's 32-bit data fields hold real addresses; each frame is
 * copied after the kernel's 256 bytes of headroom and gets its own
 * xdp_md (ingress_ifindex, rx_queue_index) and a cleared redirect target.
 * tc programs (sched_cls, sched_act) run the same way on a __sk_buff,
 * data at the Ethernet header as tc gives it.
 */
#include <errno.h>
#include <linux/bpf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "../util/log.h"
#include "../util/opts.h"
#include "../vm/vm.h"
#include "hooks.h"

#define CTX_ROOM 192       /* struct __sk_buff (and xdp_md), rounded as test_run.c rounds it */
#define GROW_ROOM 512      /* room for bpf_xdp_adjust_tail to grow a frame, as test runs */

struct bpfvm_xdp_runner {
	struct bpfvm_prog *prog;
	enum bpfvm_exec mode;
	struct bpfvm_log *log;
	size_t max_frame;
	struct hook_run h;
	struct bpfvm_run_ctx run;
};

struct bpfvm_xdp_runner *bpfvm_xdp_runner__new(struct bpfvm_prog *prog, size_t max_frame,
					       enum bpfvm_exec mode,
					       const struct bpfvm_xdp_runner_opts *opts)
{
	struct bpfvm_log *log = OPTS_GET(opts, log, NULL);
	struct bpfvm_xdp_runner *r;

	bool tc = prog && (prog->prog_type == BPF_PROG_TYPE_SCHED_CLS ||
			   prog->prog_type == BPF_PROG_TYPE_SCHED_ACT);

	if (!OPTS_VALID(opts, bpfvm_xdp_runner_opts, log) || !prog ||
	    (prog->prog_type != BPF_PROG_TYPE_XDP && !tc) || max_frame < HOOK_ETH_HLEN ||
	    vm_refuse_unrunnable(prog, log) ||
	    (mode != BPFVM_EXEC_CHECKED && !vm_unchecked_ctx_ok(prog))) {
		errno = EINVAL;
		return NULL;
	}
	if (!(r = calloc(1, sizeof(*r))))
		return NULL;
	*r = (struct bpfvm_xdp_runner){ .prog = prog, .mode = mode, .log = log,
					.max_frame = max_frame };
	r->h.kind = tc ? HOOK_CTX_SKB : HOOK_CTX_XDP;
	r->h.ctx_size = tc ? sizeof(struct __sk_buff) : sizeof(struct xdp_md);
	r->h.area_size = CTX_ROOM + HOOK_XDP_HEADROOM + max_frame + GROW_ROOM;
	r->h.area = mmap(NULL, r->h.area_size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	if (r->h.area == MAP_FAILED || (uintptr_t)r->h.area + r->h.area_size > UINT32_MAX) {
		if (r->h.area != MAP_FAILED)
			munmap(r->h.area, r->h.area_size);
		log_printf(log, "no memory below 4 GiB for the context and frame\n");
		free(r);
		errno = ENOMEM;
		return NULL;
	}
	r->h.ctx = r->h.area;
	r->h.hard_start = r->h.area + CTX_ROOM;
	r->h.buf_end = r->h.area + r->h.area_size;
	r->run.vm = prog->vm;
	r->run.log = log;
	r->run.hook = &r->h;
	if (tc)
		hook_skb_regions(&r->run, r->h.ctx);
	vm_run_add_region(&r->run, r->h.ctx, r->h.ctx_size, false, "context");
	r->h.pkt_region = (int)r->run.nregions;
	vm_run_add_region(&r->run, r->h.hard_start, 1, true, "packet");
	return r;
}

/* The frame into the buffer, after the headroom. */
static void place(struct hook_run *h, const void *frame, size_t len)
{
	h->data = h->data_meta = h->mac = h->hard_start + HOOK_XDP_HEADROOM;
	memcpy(h->data, frame, len);
	h->data_end = h->data + len;
	hook_redirect_clear(h);
}

static int run_placed(struct bpfvm_xdp_runner *r, struct bpfvm_xdp_result *out)
{
	struct hook_run *h = &r->h;
	uint64_t retval = 0, executed = 0;
	int err;

	hook_update(h, &r->run);
	r->run.prog = r->prog;
	r->run.tail_calls = 0;
	r->run.fault = 0;
	r->run.nvalue_maps = 0;
	err = vm_run_prepared(&r->run, r->mode, (uintptr_t)h->ctx, 0,
			      BPFVM_DEFAULT_INSN_LIMIT, &retval, &executed);
	if (err)
		return err;
	out->verdict = (uint32_t)retval;
	out->data = h->data;
	out->len = (size_t)(h->data_end - h->data);
	out->redirect = h->redirect;
	return 0;
}

int bpfvm_xdp_runner__run(struct bpfvm_xdp_runner *r, const void *frame, size_t len,
			  uint32_t ingress_ifindex, uint32_t rx_queue_index,
			  struct bpfvm_xdp_result *out)
{
	struct xdp_md md = { .ingress_ifindex = ingress_ifindex, .rx_queue_index = rx_queue_index };

	if (!r || !frame || !out || len < HOOK_ETH_HLEN || len > r->max_frame ||
	    r->h.kind != HOOK_CTX_XDP)
		return -EINVAL;
	place(&r->h, frame, len);
	memcpy(r->h.ctx, &md, sizeof(md));
	return run_placed(r, out);
}

static void put32(uint8_t *ctx, size_t off, uint32_t v)
{
	memcpy(ctx + off, &v, 4);
}

int bpfvm_xdp_runner__run_skb(struct bpfvm_xdp_runner *r, const void *frame, size_t len,
			      const struct bpfvm_skb_info *info, struct bpfvm_xdp_result *out)
{
	uint8_t *ctx;
	uint16_t proto;

	if (!r || !frame || !info || !out || len < HOOK_ETH_HLEN || len > r->max_frame ||
	    r->h.kind != HOOK_CTX_SKB)
		return -EINVAL;
	place(&r->h, frame, len);
	ctx = r->h.ctx;
	memset(ctx, 0, r->h.ctx_size);
	memcpy(&proto, (const uint8_t *)frame + 12, 2);   /* skb->protocol: network order */
	put32(ctx, offsetof(struct __sk_buff, protocol), proto);
	put32(ctx, offsetof(struct __sk_buff, pkt_type), info->pkt_type);
	put32(ctx, offsetof(struct __sk_buff, queue_mapping), info->queue_mapping);
	put32(ctx, offsetof(struct __sk_buff, ifindex), info->ifindex);
	put32(ctx, offsetof(struct __sk_buff, ingress_ifindex), info->ingress_ifindex);
	put32(ctx, offsetof(struct __sk_buff, wire_len), (uint32_t)len);
	memcpy(ctx + offsetof(struct __sk_buff, tstamp), &info->tstamp, 8);
	return run_placed(r, out);
}

void bpfvm_xdp_runner__destroy(struct bpfvm_xdp_runner *r)
{
	if (!r)
		return;
	munmap(r->h.area, r->h.area_size);
	free(r);
}
