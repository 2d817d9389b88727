/*
 * cbpf_run.c - running converted classic programs as the kernel runs them:
 * a socket filter on an image of the kernel's struct sk_buff (the fields
 * bpf_convert_filter reads, at the layout's offsets) over a linear packet,
 * with the kernel functions the conversion calls; a seccomp filter on a
 * struct seccomp_data.  The kernel runs converted classic programs without
 * its eBPF verifier (bpf_check_classic is their proof), so socket filters
 * run as trusted; seccomp filters, which read only their context and the
 * stack, are verified first by the caller where it wants.
 */
#include <bpfvm/cbpf.h>

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "../util/log.h"
#include "../util/opts.h"

#define SKB_IMG 512
#define DEV_IMG 1024

/* The sk_buff image first, so r1 points at both it and what the functions need. */
struct cbpf_skb {
	_Alignas(8) uint8_t img[SKB_IMG];
	_Alignas(8) uint8_t dev[DEV_IMG];
	const uint8_t *pkt;
	uint32_t len;
	uint16_t net_off;
	uint16_t protocol;
};

static const struct cbpf_skb *skb_of(uint64_t r1)
{
	return (const struct cbpf_skb *)(uintptr_t)r1;
}

/* bpf_skb_load_helper_convert_offset; the mac header is where data starts. */
static int64_t load_offset(const struct cbpf_skb *s, int32_t off)
{
	if (off >= 0)
		return off;
	if (off >= BPFVM_SKF_NET_OFF)
		return (int64_t)off - BPFVM_SKF_NET_OFF + s->net_off;
	if (off >= BPFVM_SKF_LL_OFF)
		return (int64_t)off - BPFVM_SKF_LL_OFF;
	return INT_MIN;
}

/* The packet is linear, so skb_copy_bits succeeds exactly where the bytes are. */
static uint64_t load_n(uint64_t r1, uint64_t r4, int size)
{
	const struct cbpf_skb *s = skb_of(r1);
	int64_t off = load_offset(s, (int32_t)r4);
	uint32_t v = 0;

	if (off == INT_MIN || off < 0 || off + size > (int64_t)s->len)
		return (uint64_t)(int64_t)-EFAULT;
	for (int i = 0; i < size; i++)
		v = v << 8 | s->pkt[off + i];
	return v;
}

/* bpf_skb_load_helper_8/16/32(skb, data, headlen, offset): r1 and r4 matter. */
#define LOAD_FN(BITS)                                                                          \
	static uint64_t fn_load_##BITS(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,      \
				       uint64_t r5, struct bpfvm_run_ctx *ctx)                  \
	{                                                                                      \
		(void)r2, (void)r3, (void)r5, (void)ctx;                                       \
		return load_n(r1, r4, (BITS) / 8);                                             \
	}
LOAD_FN(8)
LOAD_FN(16)
LOAD_FN(32)
#undef LOAD_FN

/*
 * skb_get_poff: where the flow dissector's basic keys put the transport
 * header (it dispatches on skb->protocol: VLAN tags in the frame, IPv4,
 * IPv6 without extension headers, ARP), plus the transport header.
 */
static uint64_t fn_pay_offset(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
			      struct bpfvm_run_ctx *ctx)
{
	const struct cbpf_skb *s = skb_of(r1);
	const uint8_t *p = s->pkt;
	uint32_t nh = s->net_off, th, proto = s->protocol;

	(void)r2, (void)r3, (void)r4, (void)r5, (void)ctx;
	while ((proto == 0x8100 || proto == 0x88a8) && nh + 4 <= s->len) {
		proto = (uint32_t)(p[nh + 2] << 8 | p[nh + 3]);
		nh += 4;
	}
	if (proto == 0x0806 || proto == 0x8035) /* ARP: no transport header */
		return nh;
	if (proto == 0x0800 && nh + 20 <= s->len && (p[nh] >> 4) == 4 && (p[nh] & 0xf) >= 5) {
		th = nh + (p[nh] & 0xf) * 4u;
		proto = p[nh + 9];
		if ((p[nh + 6] << 8 | p[nh + 7]) & 0x1fff)
			return th; /* a later fragment: no L4 header */
	} else if (proto == 0x86dd && nh + 40 <= s->len && (p[nh] >> 4) == 6) {
		th = nh + 40;
		proto = p[nh + 6];
	} else {
		return 0;
	}
	switch (proto) {
	case 6:
		if (th + 12 >= s->len)
			return th;
		return th + ((p[th + 12] & 0xf0) >> 2 > 20 ? (p[th + 12] & 0xf0) >> 2 : 20u);
	case 17: case 136: return th + 8;        /* udphdr */
	case 1: case 58: case 2: return th + 8;  /* icmphdr, icmp6hdr, igmphdr */
	case 33: case 132: return th + 12;       /* dccp_hdr, sctphdr */
	}
	return th;
}

/* nla_find over [a, len): the offset of the attribute of type x, or 0. */
static uint64_t nla_find_off(const struct cbpf_skb *s, uint32_t a, uint32_t x, bool nest)
{
	uint32_t at = a, rem;

	if (s->len < 4 || a > s->len - 4)
		return 0;
	rem = s->len - a;
	if (nest) {
		uint16_t l = (uint16_t)(s->pkt[a] | s->pkt[a + 1] << 8);
		if (l < 4 || l > rem)
			return 0;
		at = a + 4;
		rem = l - 4;
	}
	while (rem >= 4) {
		uint16_t l = (uint16_t)(s->pkt[at] | s->pkt[at + 1] << 8);
		uint16_t t = (uint16_t)(s->pkt[at + 2] | s->pkt[at + 3] << 8) & 0x3fff;
		uint32_t step = (l + 3u) & ~3u;

		if (l < 4 || l > rem)
			return 0;
		if (t == x)
			return at;
		if (step >= rem)
			return 0;
		at += step;
		rem -= step;
	}
	return 0;
}

static uint64_t fn_nlattr(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
			  struct bpfvm_run_ctx *ctx)
{
	(void)r4, (void)r5, (void)ctx;
	return nla_find_off(skb_of(r1), (uint32_t)r2, (uint32_t)r3, false);
}

static uint64_t fn_nlattr_nest(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
			       struct bpfvm_run_ctx *ctx)
{
	(void)r4, (void)r5, (void)ctx;
	return nla_find_off(skb_of(r1), (uint32_t)r2, (uint32_t)r3, true);
}

static uint64_t fn_cpu(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
		       struct bpfvm_run_ctx *ctx)
{
	int cpu = sched_getcpu();

	(void)r1, (void)r2, (void)r3, (void)r4, (void)r5, (void)ctx;
	return cpu < 0 ? 0 : (uint64_t)cpu;
}

static uint64_t fn_random(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
			  struct bpfvm_run_ctx *ctx)
{
	uint32_t v = 0;

	(void)r1, (void)r2, (void)r3, (void)r4, (void)r5, (void)ctx;
	if (getrandom(&v, sizeof(v), 0) != sizeof(v))
		v = 0;
	return v;
}

int bpfvm_cbpf__register_fns(struct bpfvm *vm)
{
	static const bpfvm_helper_fn fns[] = {
		fn_load_8, fn_load_16, fn_load_32, fn_pay_offset, fn_nlattr, fn_nlattr_nest, fn_cpu,
		fn_random,
	};

	for (uint32_t id = BPFVM_CBPF_FN_LOAD_8; id < BPFVM_CBPF_FN_END; id++) {
		int err = bpfvm__set_helper(vm, id, bpfvm_cbpf_fn_name(id), fns[id - BPFVM_CBPF_FN_LOAD_8]);
		if (err)
			return err;
	}
	return 0;
}

static void put(uint8_t *img, uint16_t off, const void *v, size_t n)
{
	memcpy(img + off, v, n);
}

void bpfvm_cbpf_skb_info_ether(const void *frame, size_t len, struct bpfvm_cbpf_skb_info *i)
{
	const uint8_t *pkt = frame;

	*i = (struct bpfvm_cbpf_skb_info){ .hatype = 1, .network_offset = 14 };
	if (len >= 14) {
		i->protocol = (uint16_t)(pkt[12] << 8 | pkt[13]);
		if (pkt[0] & 1)
			i->pkt_type = (pkt[0] & pkt[1] & pkt[2] & pkt[3] & pkt[4] & pkt[5]) == 0xff ? 1 : 2;
	}
}

static void fill_skb(struct cbpf_skb *s, const struct bpfvm_cbpf_skb_layout *l,
		     const struct bpfvm_cbpf_skb_info *i, const uint8_t *pkt, uint32_t len)
{
	uint16_t be_proto = (uint16_t)(i->protocol >> 8 | i->protocol << 8);
	uint16_t be_vproto = (uint16_t)(i->vlan_proto >> 8 | i->vlan_proto << 8);
	uint64_t data = (uintptr_t)pkt, dev = i->ifindex || i->hatype ? (uintptr_t)s->dev : 0;
	uint32_t wire = i->wire_len > len ? i->wire_len : len, nonlinear = wire - len;
	uint8_t pt = i->pkt_type & 7;

	s->pkt = pkt;
	s->len = len;
	s->net_off = i->network_offset;
	s->protocol = i->protocol;
	/* bytes past the capture count as the non-linear part no load can reach */
	put(s->img, l->len, &wire, 4);
	put(s->img, l->data_len, &nonlinear, 4);
	put(s->img, l->data, &data, 8);
	put(s->img, l->protocol, &be_proto, 2);
	s->img[l->pkt_type] = (uint8_t)((s->img[l->pkt_type] & ~7) | pt);
	put(s->img, l->dev, &dev, 8);
	put(s->img, l->mark, &i->mark, 4);
	put(s->img, l->hash, &i->hash, 4);
	put(s->img, l->queue_mapping, &i->queue_mapping, 2);
	put(s->img, l->vlan_proto, &be_vproto, 2);
	put(s->img, l->vlan_tci, &i->vlan_tci, 2);
	put(s->dev, l->dev_ifindex, &i->ifindex, 4);
	put(s->dev, l->dev_type, &i->hatype, 2);
}

int bpfvm_cbpf_run_skb(struct bpfvm_prog *prog, const struct bpfvm_cbpf_skb_layout *layout,
		       const void *pkt, size_t len, const struct bpfvm_cbpf_skb_info *info,
		       enum bpfvm_exec mode, uint32_t *verdict, const struct bpfvm_cbpf_opts *opts)
{
	struct bpfvm_log *log = OPTS_GET(opts, log, NULL);
	const struct bpfvm_cbpf_skb_layout *l = layout ? layout : &bpfvm_cbpf_skb_layout_linux;
	struct bpfvm_cbpf_skb_info def;
	struct cbpf_skb *s;
	int err;

	if (!OPTS_VALID(opts, bpfvm_cbpf_opts, log))
		return -EINVAL;

	if (!prog || !verdict || (len && !pkt) || len > UINT32_MAX || l->size > SKB_IMG ||
	    l->dev_size > DEV_IMG)
		return -EINVAL;
	if (!info) {
		bpfvm_cbpf_skb_info_ether(pkt, len, &def);
		info = &def;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	fill_skb(s, l, info, pkt, (uint32_t)len);
	BPFVM_OPTS(bpfvm_run_opts, ro, .mode = mode, .log = log);
	err = bpfvm_prog__run(prog, s->img, l->size, &ro);
	free(s);
	if (!err)
		*verdict = (uint32_t)ro.retval;
	return err;
}

int bpfvm_cbpf_run_seccomp(struct bpfvm_prog *prog, const struct bpfvm_seccomp_data *sd,
			   enum bpfvm_exec mode, uint32_t *ret, const struct bpfvm_cbpf_opts *opts)
{
	struct bpfvm_log *log = OPTS_GET(opts, log, NULL);
	struct bpfvm_seccomp_data copy;
	int err;

	if (!OPTS_VALID(opts, bpfvm_cbpf_opts, log))
		return -EINVAL;

	if (!prog || !sd || !ret)
		return -EINVAL;
	copy = *sd;
	BPFVM_OPTS(bpfvm_run_opts, ro, .mode = mode, .log = log);
	err = bpfvm_prog__run(prog, &copy, sizeof(copy), &ro);
	if (!err)
		*ret = (uint32_t)ro.retval;
	return err;
}

int bpfvm_seccomp_action_str(uint32_t ret, char *buf, size_t size)
{
	uint32_t data = ret & BPFVM_SECCOMP_RET_DATA;

	switch (ret & BPFVM_SECCOMP_RET_ACTION_FULL) {
	case BPFVM_SECCOMP_RET_ALLOW: return snprintf(buf, size, "ALLOW");
	case BPFVM_SECCOMP_RET_LOG: return snprintf(buf, size, "LOG");
	case BPFVM_SECCOMP_RET_USER_NOTIF: return snprintf(buf, size, "USER_NOTIF");
	case BPFVM_SECCOMP_RET_TRACE: return snprintf(buf, size, "TRACE(%u)", data);
	case BPFVM_SECCOMP_RET_TRAP: return data ? snprintf(buf, size, "TRAP(%u)", data) : snprintf(buf, size, "TRAP");
	/* the kernel caps the errno at MAX_ERRNO */
	case BPFVM_SECCOMP_RET_ERRNO: return snprintf(buf, size, "ERRNO(%u)", data > 4095 ? 4095 : data);
	case BPFVM_SECCOMP_RET_KILL_THREAD: return snprintf(buf, size, "KILL_THREAD");
	case BPFVM_SECCOMP_RET_KILL_PROCESS: return snprintf(buf, size, "KILL_PROCESS");
	}
	return snprintf(buf, size, "KILL_PROCESS (unknown action 0x%08x)", ret);
}
