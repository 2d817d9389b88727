/*
 * redirect.c - bpf_redirect and bpf_redirect_map: they record where the
 * packet goes in the run's context (the kernel's per-CPU struct
 * bpf_redirect_info) and return the verdict that sends it there; the
 * embedder reads the target after the run (struct bpfvm_redirect).  The
 * kernel's rules (net/core/filter.c, include/linux/filter.h):
 * - XDP's bpf_redirect: any flag is XDP_ABORTED; else the ifindex, no
 *   map, XDP_REDIRECT.  tc's: a flag but BPF_F_INGRESS is TC_ACT_SHOT;
 *   else TC_ACT_REDIRECT.
 * - bpf_redirect_map (XDP): a flag outside the low two bits (the verdict
 *   on a failed lookup) and the type's own (devmaps: BPF_F_BROADCAST,
 *   BPF_F_EXCLUDE_INGRESS) is XDP_ABORTED; an empty key without
 *   BPF_F_BROADCAST clears the target and returns those low bits; else
 *   the map and key are the target, XDP_REDIRECT.
 */
#include <errno.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include "../maps/map.h"
#include "../vm/vm.h"
#include "hooks.h"

#define XDP_ACTION_MASK 3ull   /* XDP_ABORTED | XDP_DROP | XDP_PASS | XDP_TX */

static struct hook_run *packet_run(struct bpfvm_run_ctx *run)
{
	struct hook_run *h = run->hook;

	return h && (h->kind == HOOK_CTX_XDP || h->kind == HOOK_CTX_SKB) ? h : NULL;
}

void hook_redirect_clear(struct hook_run *h)
{
	h->redirect = (struct bpfvm_redirect){ 0 };
}

uint64_t hook_redirect(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
		       struct bpfvm_run_ctx *run)
{
	struct hook_run *h = packet_run(run);
	bool xdp = run->prog->prog_type == BPF_PROG_TYPE_XDP;

	(void)r3, (void)r4, (void)r5;
	if (xdp ? r2 != 0 : (r2 & ~(uint64_t)BPF_F_INGRESS) != 0)
		return xdp ? XDP_ABORTED : TC_ACT_SHOT;
	if (h)
		h->redirect = (struct bpfvm_redirect){ .key = (uint32_t)r1,
						       .ifindex = (uint32_t)r1,
						       .flags = xdp ? 0 : r2 };
	return xdp ? XDP_REDIRECT : TC_ACT_REDIRECT;
}

uint64_t hook_redirect_map(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
			   struct bpfvm_run_ctx *run)
{
	struct bpfvm_map *map = (struct bpfvm_map *)(uintptr_t)r1;
	struct hook_run *h = packet_run(run);
	uint32_t key = (uint32_t)r2;
	const void *target;

	(void)r4, (void)r5;
	if (!map || !map->ops->redirect_target) {
		vm_run_fault(run, -EINVAL, "bpf_redirect_map: not a devmap, cpumap or xskmap");
		return XDP_ABORTED;
	}
	if (r3 & ~(XDP_ACTION_MASK | map->ops->redirect_flags))
		return XDP_ABORTED;
	target = map->ops->redirect_target(map, &key, run->cpu);
	if (!target && !(r3 & BPF_F_BROADCAST)) {
		if (h)
			hook_redirect_clear(h);
		return r3 & XDP_ACTION_MASK;
	}
	if (h) {
		h->redirect = (struct bpfvm_redirect){ .map = map, .map_type = map->type, .key = key,
						       .flags = r3 & BPF_F_BROADCAST ? r3 : 0 };
		/* a devmap entry starts with the device's ifindex */
		if (target && !(r3 & BPF_F_BROADCAST) && (map->type == BPF_MAP_TYPE_DEVMAP ||
							   map->type == BPF_MAP_TYPE_DEVMAP_HASH))
			memcpy(&h->redirect.ifindex, target, 4);
	}
	return XDP_REDIRECT;
}
