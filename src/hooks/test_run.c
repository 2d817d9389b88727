/*
 * test_run.c - bpfvm_prog__test_run: a program run on its program type's
 * context, as BPF_PROG_TEST_RUN builds it.  The context and the packet
 * share one mapping below 4 GiB so that the 32-bit pointer fields of
 * struct xdp_md and struct __sk_buff hold real addresses (see
 * bpfvm/hooks.h).  XDP: the packet after 256 bytes of headroom, xdp_md
 * over it.  tc: __sk_buff with data at the Ethernet header; socket filter
 * and other skb types: data after it (the kernel's is_l2).  Tracepoints,
 * raw tracepoints and the rest: the given bytes.  kprobes: pt_regs.
 */
#include <errno.h>
#include <linux/bpf.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "../core/facts.h"
#include "../util/log.h"
#include "../util/netdev.h"
#include "../util/opts.h"
#include "../vm/vm.h"
#include "hooks.h"

#define PT_REGS_SIZE 168
#define MAX_RAW_CTX (64 * 1024)
#define GROW_ROOM 512     /* an XDP packet may grow its tail this much */

static size_t ctx_size_of(enum hook_ctx kind, size_t given)
{
	switch (kind) {
	case HOOK_CTX_SKB: return sizeof(struct __sk_buff);
	case HOOK_CTX_XDP: return sizeof(struct xdp_md);
	case HOOK_CTX_PT_REGS: return PT_REGS_SIZE;
	default: return given;
	}
}

static bool has_packet(enum hook_ctx kind)
{
	return kind == HOOK_CTX_SKB || kind == HOOK_CTX_XDP;
}

/* Is the skb program's packet seen from its Ethernet header (tc) or after it? */
static bool is_l2(uint32_t type)
{
	return type == BPF_PROG_TYPE_SCHED_CLS || type == BPF_PROG_TYPE_SCHED_ACT;
}

/*
 * bpf_ctx_init: a context shorter than the type's is zero-filled, a longer
 * one only if the bytes past it are zeros (E2BIG otherwise).
 */
static int check_ctx_tail(const struct bpfvm_prog *prog, const struct bpfvm_test_run_opts *o,
			  size_t size, const char *what)
{
	const uint8_t *in = o->ctx_in;

	for (size_t i = size; i < o->ctx_size_in; i++) {
		if (in[i]) {
			log_printf(o->log, "%s: context of %zu bytes is larger than %s (%zu bytes), and "
					   "byte %zu past it is not zero\n", prog->name,
				   o->ctx_size_in, what, size, i);
			return -E2BIG;
		}
	}
	return 0;
}

#define XDP_REFUSE(...) (log_printf(o->log, "%s: xdp_md: ", prog->name), \
			 log_printf(o->log, __VA_ARGS__), -EINVAL)

/* What the kernel's XDP test run refuses in a given xdp_md (bpf_prog_test_run_xdp). */
static int check_xdp_md(const struct bpfvm_prog *prog, const struct bpfvm_test_run_opts *o)
{
	struct xdp_md md = { 0 };
	char ifname[IF_NAMESIZE];
	unsigned nq;

	memcpy(&md, o->ctx_in, o->ctx_size_in < sizeof(md) ? o->ctx_size_in : sizeof(md));
	if (md.data_meta)
		return XDP_REFUSE("data_meta is %u, must be 0 (meta data is the packet's first "
				  "'data' bytes)\n", md.data_meta);
	if (md.data_end > o->data_size_in)
		return XDP_REFUSE("data_end %u is past the packet's %zu bytes\n", md.data_end,
				  o->data_size_in);
	if (md.data > md.data_end)
		return XDP_REFUSE("data %u is past data_end %u\n", md.data, md.data_end);
	if (md.data % 4 || md.data > HOOK_XDP_HEADROOM - HOOK_XDP_FRAME_SIZE)
		return XDP_REFUSE("data %u (the meta data's length) must be a multiple of 4 up to "
				  "%d\n", md.data, HOOK_XDP_HEADROOM - HOOK_XDP_FRAME_SIZE);
	if (o->data_size_in - md.data < HOOK_ETH_HLEN)
		return XDP_REFUSE("%zu bytes of packet after %u of meta data: fewer than an "
				  "Ethernet header (%d)\n", o->data_size_in - md.data, md.data,
				  HOOK_ETH_HLEN);
	if (md.egress_ifindex)
		return XDP_REFUSE("egress_ifindex is %u, must be 0\n", md.egress_ifindex);
	if (!md.ingress_ifindex && md.rx_queue_index)
		return XDP_REFUSE("rx_queue_index %u without an ingress_ifindex\n",
				  md.rx_queue_index);
	if (md.ingress_ifindex && !if_indextoname(md.ingress_ifindex, ifname)) {
		log_printf(o->log, "%s: xdp_md: ingress_ifindex %u: no such interface here\n",
			   prog->name, md.ingress_ifindex);
		return -ENODEV;
	}
	if (md.ingress_ifindex && (nq = netdev_rx_queues(ifname)) && md.rx_queue_index >= nq)
		return XDP_REFUSE("rx_queue_index %u: %s has %u receive queue%s\n",
				  md.rx_queue_index, ifname, nq, nq == 1 ? "" : "s");
	if (md.data_end < o->data_size_in) {
		log_printf(o->log, "%s: xdp_md: data_end %u is short of the packet's %zu bytes: the "
				   "kernel would put the rest in fragments, which bpfvm does not "
				   "model (set data_end to the packet's length)\n", prog->name,
			   md.data_end, o->data_size_in);
		return -EOPNOTSUPP;
	}
	return 0;
}

/* Tracepoints: the record or the arguments differ by attach point, their size with them. */
static bool ctx_is_record(uint32_t type)
{
	return type == BPF_PROG_TYPE_TRACEPOINT || type == BPF_PROG_TYPE_RAW_TRACEPOINT ||
	       type == BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE;
}

/*
 * A tracepoint program's context must hold every byte it reads, as the
 * kernel's raw tracepoint test run (ctx_size_in < max_ctx_offset) and a
 * tracepoint's attachment (a record shorter than that) refuse less.  The
 * other contexts of fixed layout are zero-filled to what the program
 * reads, as the kernel's test runs zero-fill theirs.  Unverified programs:
 * a checked run stops at the context's end instead.
 */
static int check_raw_ctx(const struct bpfvm_prog *prog, const struct bpfvm_test_run_opts *o,
			 const char *type)
{
	size_t max = prog->prog_type == BPF_PROG_TYPE_RAW_TRACEPOINT ? 12 * 8 : MAX_RAW_CTX;
	uint32_t reads = vm_ctx_reads(prog);

	if (o->ctx_size_in > max) {
		log_printf(o->log, "%s: context of %zu bytes is larger than a %s program's (%zu)\n",
			   prog->name, o->ctx_size_in, type, max);
		return -EINVAL;
	}
	if (ctx_is_record(prog->prog_type) && o->ctx_size_in < reads) {
		log_printf(o->log, "%s: context of %zu bytes is shorter than the %u bytes the %s "
				   "program reads (give at least %u bytes)\n", prog->name,
			   o->ctx_size_in, reads, type, reads);
		return -EINVAL;
	}
	return 0;
}

static int check_input(const struct bpfvm_prog *prog, enum hook_ctx kind,
		       const struct bpfvm_test_run_opts *o)
{
	struct bpfvm_log *log = o->log;
	const char *type = bpfvm_prog_type_name(prog->prog_type);
	int err;

	if (kind == HOOK_CTX_NONE) {
		log_printf(log, "%s: program type %s has no context to run with\n", prog->name, type);
		return -EINVAL;
	}
	if (has_packet(kind) && o->data_size_in < HOOK_ETH_HLEN) {
		log_printf(log, "%s: a %s program needs a packet of at least %d bytes (an Ethernet "
				"header), got %zu\n", prog->name, type, HOOK_ETH_HLEN, o->data_size_in);
		return -EINVAL;
	}
	if (!has_packet(kind) && o->data_size_in) {
		log_printf(log, "%s: a %s program takes no packet, only a context\n", prog->name, type);
		return -EINVAL;
	}
	if (kind == HOOK_CTX_RAW)
		return check_raw_ctx(prog, o, type);
	if (has_packet(kind) && (err = check_ctx_tail(prog, o, ctx_size_of(kind, 0),
						       kind == HOOK_CTX_XDP ? "struct xdp_md"
									    : "struct __sk_buff")))
		return err;
	if (kind == HOOK_CTX_XDP && o->ctx_in)
		return check_xdp_md(prog, o);
	if (o->ctx_size_in > ctx_size_of(kind, 0)) {
		log_printf(log, "%s: context of %zu bytes is larger than a %s program's (%zu)\n",
			   prog->name, o->ctx_size_in, type, ctx_size_of(kind, 0));
		return -EINVAL;
	}
	return 0;
}

/* The mapping: the context (rounded to 64 bytes), then headroom, packet, grow room. */
static int map_area(struct hook_run *h, const struct bpfvm_test_run_opts *o, struct bpfvm_log *log)
{
	size_t ctx_room = (h->ctx_size + 63) & ~(size_t)63;

	h->area_size = ctx_room + HOOK_XDP_HEADROOM + o->data_size_in + GROW_ROOM;
	h->area = mmap(NULL, h->area_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	if (h->area == MAP_FAILED || (uintptr_t)h->area + h->area_size > UINT32_MAX) {
		if (h->area != MAP_FAILED)
			munmap(h->area, h->area_size);
		h->area = NULL;
		log_printf(log, "no memory below 4 GiB for the context and packet\n");
		return -ENOMEM;
	}
	h->ctx = h->area;
	h->hard_start = h->area + ctx_room;
	h->buf_end = h->area + h->area_size;
	h->data = h->hard_start + HOOK_XDP_HEADROOM;
	if (o->data_size_in)
		memcpy(h->data, o->data_in, o->data_size_in);
	h->data_end = h->data + o->data_size_in;
	h->data_meta = h->data;
	h->mac = h->data;
	return 0;
}

static void put32(uint8_t *ctx, size_t off, uint32_t v)
{
	memcpy(ctx + off, &v, 4);
}

static void setup_xdp(struct hook_run *h, const struct bpfvm_test_run_opts *o)
{
	struct xdp_md md = { 0 };

	if (o->ctx_size_in) {
		memcpy(&md, o->ctx_in, o->ctx_size_in < sizeof(md) ? o->ctx_size_in : sizeof(md));
		/* as the kernel's test run (check_xdp_md allowed it): the input's
		 * first md.data bytes are meta data */
		h->data_meta = h->data;
		h->data += md.data;
	}
	if (!md.ingress_ifindex)   /* the kernel's default receive queue: loopback's first */
		md.ingress_ifindex = 1, md.rx_queue_index = 0;
	memcpy(h->ctx, &md, sizeof(md));
}

static void setup_skb(struct hook_run *h, uint32_t type, const struct bpfvm_test_run_opts *o)
{
	struct __sk_buff given = { 0 };
	uint16_t proto;

	if (o->ctx_size_in)
		memcpy(&given, o->ctx_in, o->ctx_size_in < sizeof(given) ? o->ctx_size_in : sizeof(given));
	memcpy(&proto, h->mac + 12, 2);
	if (!is_l2(type)) {
		/* the kernel hands such programs the packet from its network header,
		 * and gives the Ethernet header back zeroed */
		h->data = h->mac + HOOK_ETH_HLEN;
		memset(h->mac, 0, HOOK_ETH_HLEN);
	}
	h->data_meta = h->data;
	put32(h->ctx, offsetof(struct __sk_buff, mark), given.mark);
	put32(h->ctx, offsetof(struct __sk_buff, priority), given.priority);
	memcpy(h->ctx + offsetof(struct __sk_buff, cb), given.cb, sizeof(given.cb));
	put32(h->ctx, offsetof(struct __sk_buff, protocol), proto);
	put32(h->ctx, offsetof(struct __sk_buff, ifindex), given.ifindex ? given.ifindex : 1);
	put32(h->ctx, offsetof(struct __sk_buff, ingress_ifindex), given.ingress_ifindex);
	put32(h->ctx, offsetof(struct __sk_buff, wire_len),
	      given.wire_len ? given.wire_len : (uint32_t)o->data_size_in);
	put32(h->ctx, offsetof(struct __sk_buff, gso_segs), given.gso_segs);
	put32(h->ctx, offsetof(struct __sk_buff, gso_size), given.gso_size);
	memcpy(h->ctx + offsetof(struct __sk_buff, tstamp), &given.tstamp, 8);
}

/* The fields of __sk_buff a program may write (the kernel's bpf_skb_is_valid_access). */
void hook_skb_regions(struct bpfvm_run_ctx *run, uint8_t *ctx)
{
	vm_run_add_region(run, ctx + offsetof(struct __sk_buff, mark), 8, true, "__sk_buff");
	vm_run_add_region(run, ctx + offsetof(struct __sk_buff, priority), 4, true, "__sk_buff");
	vm_run_add_region(run, ctx + offsetof(struct __sk_buff, tc_index), 4 + 20, true, "__sk_buff");
	vm_run_add_region(run, ctx + offsetof(struct __sk_buff, tc_classid), 4, true, "__sk_buff");
	vm_run_add_region(run, ctx + offsetof(struct __sk_buff, tstamp), 8, true, "__sk_buff");
}

void hook_update(struct hook_run *h, struct bpfvm_run_ctx *run)
{
	if (h->kind == HOOK_CTX_XDP) {
		put32(h->ctx, offsetof(struct xdp_md, data), (uint32_t)(uintptr_t)h->data);
		put32(h->ctx, offsetof(struct xdp_md, data_end), (uint32_t)(uintptr_t)h->data_end);
		put32(h->ctx, offsetof(struct xdp_md, data_meta), (uint32_t)(uintptr_t)h->data_meta);
	} else if (h->kind == HOOK_CTX_SKB) {
		put32(h->ctx, offsetof(struct __sk_buff, len), (uint32_t)(h->data_end - h->data));
		put32(h->ctx, offsetof(struct __sk_buff, data), (uint32_t)(uintptr_t)h->data);
		put32(h->ctx, offsetof(struct __sk_buff, data_end), (uint32_t)(uintptr_t)h->data_end);
		put32(h->ctx, offsetof(struct __sk_buff, data_meta), (uint32_t)(uintptr_t)h->data_meta);
	}
	if (!run)
		return;
	run->pkt = h->data;
	run->pkt_len = (uint64_t)(h->data_end - h->data);
	if (h->pkt_region >= 0) {
		run->regions[h->pkt_region].start = (uintptr_t)h->data_meta;
		run->regions[h->pkt_region].end = (uintptr_t)h->data_end;
	}
}

static int setup(struct hook_run *h, struct bpfvm_run_ctx *run, const struct bpfvm_prog *prog,
		 const struct bpfvm_test_run_opts *o)
{
	int err = map_area(h, o, o->log);

	if (err)
		return err;
	if (h->kind == HOOK_CTX_XDP)
		setup_xdp(h, o);
	else if (h->kind == HOOK_CTX_SKB)
		setup_skb(h, prog->prog_type, o);
	else if (o->ctx_size_in)
		memcpy(h->ctx, o->ctx_in, o->ctx_size_in < h->ctx_size ? o->ctx_size_in : h->ctx_size);
	if (h->kind == HOOK_CTX_SKB)
		hook_skb_regions(run, h->ctx);
	vm_run_add_region(run, h->ctx, h->ctx_size, false, "context");
	h->pkt_region = -1;
	if (has_packet(h->kind)) {
		h->pkt_region = (int)run->nregions;
		vm_run_add_region(run, h->data_meta, (uint64_t)(h->data_end - h->data_meta), true,
				  "packet");
	}
	hook_update(h, run);
	return 0;
}

/*
 * The thread's CPU time: like the kernel's test-run timer, which stops
 * while the loop is scheduled out, the time a run is descheduled on a
 * busy machine is not the program's.
 */
static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void copy_out(const struct hook_run *h, struct bpfvm_test_run_opts *o)
{
	/* as the kernel does: an skb's packet from its Ethernet header, XDP's with its meta data */
	const uint8_t *from = h->kind == HOOK_CTX_SKB && h->mac < h->data ? h->mac
			      : h->kind == HOOK_CTX_XDP ? h->data_meta : h->data;
	size_t len = has_packet(h->kind) ? (size_t)(h->data_end - from) : 0;

	if (o->data_out)
		memcpy(o->data_out, from, len < o->data_size_out ? len : o->data_size_out);
	o->data_size_out = len;
	if (o->ctx_out)
		memcpy(o->ctx_out, h->ctx, h->ctx_size < o->ctx_size_out ? h->ctx_size : o->ctx_size_out);
	o->ctx_size_out = h->ctx_size;
}

/* The outputs, as far as the caller's options reach. */
static void set_outputs(struct bpfvm_test_run_opts *user, const struct bpfvm_test_run_opts *o)
{
	OPTS_SET(user, data_size_out, o->data_size_out);
	OPTS_SET(user, ctx_size_out, o->ctx_size_out);
	OPTS_SET(user, retval, o->retval);
	OPTS_SET(user, duration_ns, o->duration_ns);
	OPTS_SET(user, insns_executed, o->insns_executed);
	OPTS_SET(user, redirect, o->redirect);
}

int bpfvm_prog__test_run(struct bpfvm_prog *prog, struct bpfvm_test_run_opts *user)
{
	const struct hook_prog_type *t = prog ? hook_prog_type(prog->prog_type) : NULL;
	struct hook_run h = { .kind = t ? t->ctx : HOOK_CTX_NONE };
	struct bpfvm_test_run_opts copy, *o = &copy;
	struct bpfvm_run_ctx run = { 0 };
	uint64_t start, retval = 0, executed = 0;
	uint32_t repeat;
	int err;

	if (!OPTS_VALID(user, bpfvm_test_run_opts, OPTS_GET(user, log, NULL)))
		return -EINVAL;
	OPTS_COPY(o, user);
	if (!prog || (!o->data_in && o->data_size_in) || (!o->ctx_in && o->ctx_size_in))
		return -EINVAL;
	if ((err = vm_refuse_unrunnable(prog, o->log)))
		return err;
	if (o->mode != BPFVM_EXEC_CHECKED && !vm_unchecked_ctx_ok(prog)) {
		log_printf(o->log, "program '%s' is neither verified nor trusted: "
				   "it may only run checked\n", prog->name);
		return -EPERM;
	}
	if (o->ctx_in && !o->ctx_size_in) {   /* as bpf(BPF_PROG_TEST_RUN) */
		log_printf(o->log, "%s: the context is empty (0 bytes): give one, or none\n",
			   prog->name);
		return -EINVAL;
	}
	err = check_input(prog, h.kind, o);
	if (err)
		return err;
	h.ctx_size = ctx_size_of(h.kind, o->ctx_size_in);
	if (h.kind == HOOK_CTX_RAW && h.ctx_size < vm_ctx_reads(prog))
		h.ctx_size = vm_ctx_reads(prog);   /* zero-filled (check_raw_ctx) */
	run.vm = prog->vm;
	run.prog = prog;
	run.log = o->log;
	run.hook = &h;
	err = setup(&h, &run, prog, o);
	repeat = o->repeat ? o->repeat : 1;
	start = now_ns();
	for (uint32_t i = 0; !err && i < repeat; i++) {
		run.prog = prog;
		run.tail_calls = 0;
		run.fault = 0;
		err = vm_run_prepared(&run, o->mode, (uintptr_t)h.ctx, 0,
				      o->insn_limit ? o->insn_limit : BPFVM_DEFAULT_INSN_LIMIT,
				      &retval, &executed);
	}
	o->duration_ns = (now_ns() - start) / repeat;
	o->retval = retval;
	o->insns_executed = executed;
	o->redirect = h.redirect;
	if (!err)
		copy_out(&h, o);
	set_outputs(user, o);
	if (h.area)
		munmap(h.area, h.area_size);
	return err;
}

const char *bpfvm_retval_name(uint32_t type, uint64_t r)
{
	static const char *const xdp[] = { "XDP_ABORTED", "XDP_DROP", "XDP_PASS", "XDP_TX",
					   "XDP_REDIRECT" };
	static const char *const tc[] = { "TC_ACT_OK", "TC_ACT_RECLASSIFY", "TC_ACT_SHOT",
					  "TC_ACT_PIPE", "TC_ACT_STOLEN", "TC_ACT_QUEUED",
					  "TC_ACT_REPEAT", "TC_ACT_REDIRECT", "TC_ACT_TRAP" };

	if (type == BPF_PROG_TYPE_XDP && r < sizeof(xdp) / sizeof(xdp[0]))
		return xdp[r];
	if (type == BPF_PROG_TYPE_SCHED_CLS || type == BPF_PROG_TYPE_SCHED_ACT) {
		if ((int32_t)r == -1)
			return "TC_ACT_UNSPEC";
		if (r < sizeof(tc) / sizeof(tc[0]))
			return tc[r];
	}
	return NULL;
}
