/*
 * ctx_helpers.c - the helpers that work on a test run's context: moving
 * an XDP packet's start (bpf_xdp_adjust_head), its end
 * (bpf_xdp_adjust_tail) and its meta data (bpf_xdp_adjust_meta), and
 * copying bytes out of and into an skb's packet (bpf_skb_load_bytes,
 * bpf_skb_store_bytes), with the kernel's bounds and error codes.  They
 * need the run's context (struct hook_run), which only
 * bpfvm_prog__test_run provides: elsewhere they return -EINVAL.
 */
#include <errno.h>
#include <string.h>

#include "../core/run.h"
#include "../helpers/helper_ids.h"
#include "../maps/map.h"
#include "hooks.h"

#define ARGS uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5, \
	     struct bpfvm_run_ctx *run
#define RET(e) ((uint64_t)(int64_t)(e))

static struct hook_run *xdp_of(struct bpfvm_run_ctx *run, uint64_t ctx)
{
	struct hook_run *h = run->hook;

	return h && h->kind == HOOK_CTX_XDP && (uintptr_t)h->ctx == ctx ? h : NULL;
}

static struct hook_run *skb_of(struct bpfvm_run_ctx *run, uint64_t ctx)
{
	struct hook_run *h = run->hook;

	return h && h->kind == HOOK_CTX_SKB && (uintptr_t)h->ctx == ctx ? h : NULL;
}

static uint64_t xdp_adjust_head(ARGS)
{
	struct hook_run *h = xdp_of(run, r1);
	int64_t delta = (int32_t)r2;
	uint8_t *data, *start;
	size_t metalen;

	(void)r3, (void)r4, (void)r5;
	if (!h)
		return RET(-EINVAL);
	metalen = (size_t)(h->data - h->data_meta);
	start = h->hard_start + HOOK_XDP_FRAME_SIZE + metalen;
	data = h->data + delta;
	if (data < start || data > h->data_end - HOOK_ETH_HLEN)
		return RET(-EINVAL);
	if (metalen)
		memmove(h->data_meta + delta, h->data_meta, metalen);
	h->data_meta += delta;
	h->data = data;
	hook_update(h, run);
	return 0;
}

static uint64_t xdp_adjust_meta(ARGS)
{
	struct hook_run *h = xdp_of(run, r1);
	uint8_t *meta;

	(void)r3, (void)r4, (void)r5;
	if (!h)
		return RET(-EINVAL);
	meta = h->data_meta + (int32_t)r2;
	if (meta < h->hard_start + HOOK_XDP_FRAME_SIZE || meta > h->data)
		return RET(-EINVAL);
	if ((h->data - meta) % 4 || h->data - meta > HOOK_MAX_META)
		return RET(-EACCES);
	h->data_meta = meta;
	hook_update(h, run);
	return 0;
}

static uint64_t xdp_adjust_tail(ARGS)
{
	struct hook_run *h = xdp_of(run, r1);
	uint8_t *end;

	(void)r3, (void)r4, (void)r5;
	if (!h)
		return RET(-EINVAL);
	end = h->data_end + (int32_t)r2;
	if (end > h->buf_end || end < h->data + HOOK_ETH_HLEN)
		return RET(-EINVAL);
	if (end > h->data_end)
		memset(h->data_end, 0, (size_t)(end - h->data_end)); /* grown bytes read as zero */
	h->data_end = end;
	hook_update(h, run);
	return 0;
}

/* In a checked run, the program's buffer must be memory it may use. */
static bool buffer_ok(struct bpfvm_run_ctx *run, uint64_t addr, uint64_t len, bool write,
		      const char *helper)
{
	if (!run->checked || vm_run_access_ok(run, addr, len, write))
		return true;
	vm_run_fault(run, -EFAULT, "%s: the buffer [0x%llx, +%llu) is not memory the program "
				   "may %s", helper, (unsigned long long)addr,
		     (unsigned long long)len, write ? "write" : "read");
	return false;
}

static uint64_t skb_load_bytes(ARGS)
{
	struct hook_run *h = skb_of(run, r1);
	uint64_t off = (uint32_t)r2, len = (uint32_t)r4;

	(void)r5;
	if (!h || !buffer_ok(run, r3, len, true, "bpf_skb_load_bytes"))
		return RET(-EFAULT);
	if (off > (uint64_t)(h->data_end - h->data) || len > (uint64_t)(h->data_end - h->data) - off) {
		memset((void *)(uintptr_t)r3, 0, len);
		return RET(-EFAULT);
	}
	memcpy((void *)(uintptr_t)r3, h->data + off, len);
	return 0;
}

static uint64_t skb_store_bytes(ARGS)
{
	struct hook_run *h = skb_of(run, r1);
	uint64_t off = (uint32_t)r2, len = (uint32_t)r4;

	if (!h || !buffer_ok(run, r3, len, false, "bpf_skb_store_bytes"))
		return RET(-EFAULT);
	if (r5 & ~3ull) /* BPF_F_RECOMPUTE_CSUM | BPF_F_INVALIDATE_HASH */
		return RET(-EINVAL);
	if (off > (uint64_t)(h->data_end - h->data) || len > (uint64_t)(h->data_end - h->data) - off)
		return RET(-EFAULT);
	memmove(h->data + off, (const void *)(uintptr_t)r3, len);
	return 0;
}

void hooks_register_helpers(struct bpfvm *vm)
{
	static const struct {
		uint32_t id;
		const char *name;
		bpfvm_helper_fn fn;
	} table[] = {
#define CTX_HELPER(NAME, FN) { HELPER_ID_##NAME, "bpf_" #NAME, FN }
		CTX_HELPER(skb_store_bytes, skb_store_bytes), CTX_HELPER(skb_load_bytes, skb_load_bytes),
		CTX_HELPER(xdp_adjust_head, xdp_adjust_head), CTX_HELPER(xdp_adjust_meta, xdp_adjust_meta),
		CTX_HELPER(xdp_adjust_tail, xdp_adjust_tail), CTX_HELPER(redirect, hook_redirect),
		CTX_HELPER(redirect_map, hook_redirect_map),
#undef CTX_HELPER
	};

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (!vm->helpers[table[i].id].fn)
			bpfvm__set_helper(vm, table[i].id, table[i].name, table[i].fn);
}

int bpfvm__add_context_helpers(struct bpfvm *vm)
{
	if (!vm)
		return -EINVAL;
	hooks_register_helpers(vm);
	return 0;
}
