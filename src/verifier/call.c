/*
 * call.c - helper calls, checked against their prototypes (helper_protos.c):
 * the helper must exist and be open to the program's type (and to its
 * license, for GPL-only ones); each argument register must hold what the
 * prototype asks for (a map, a key or value of that map's size, memory
 * and its size, the context, a callback...); then r1-r5 are clobbered and
 * r0 gets the return type.  References (ring buffer records, sockets) are
 * acquired by some helpers and must be released by others before the
 * program ends; bpf_spin_lock/unlock pair up.
 */
#include "verifier.h"

#include <linux/bpf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctx.h"
#include "helper_protos.h"

/* What the arguments of one call established. */
struct call_meta {
	int32_t func_id;
	int32_t map;             /* index into env->maps, -1 none */
	uint32_t raw_regno;      /* a buffer the helper fills, and its size */
	int64_t raw_size;
	bool raw_pending;
	uint32_t ref_obj_id;
	uint32_t release_regno;
	uint32_t subprog;        /* callback */
	bool has_callback;
	uint64_t mem_size;       /* ring buffer record size */
	uint64_t msize_max;      /* the largest size argument */
	bool pkt_access;
	int64_t const_map_key;   /* the key's value where the verifier knows it, else -1 */
};

static struct vreg *regs_of(struct venv *env)
{
	return cur_frame(env->cur)->regs;
}

static bool is_null_reg(const struct vreg *r)
{
	return r->type == VT_SCALAR && tnum_equals_const(r->r.var, 0);
}

/* ---- references ----------------------------------------------------------------- */

int acquire_ref(struct venv *env, uint32_t insn, uint8_t kind)
{
	struct vstate *st = env->cur;
	struct vframe *f = cur_frame(st);
	struct vref *refs = realloc(st->refs, (st->nrefs + 1) * sizeof(*refs));
	uint32_t id = new_id(env);

	if (!refs)
		return -ENOMEM;
	st->refs = refs;
	refs[st->nrefs++] = (struct vref){ id, insn, kind,
					   (uint8_t)(f->in_callback ? f->frameno : 0) };
	return (int)id;
}

/* Drop reference id and turn every pointer carrying it into an unknown number. */
int release_ref(struct venv *env, uint32_t id)
{
	struct vstate *st = env->cur;
	bool found = false;

	for (uint32_t i = 0; i < st->nrefs; i++) {
		if (st->refs[i].id != id)
			continue;
		memmove(&st->refs[i], &st->refs[i + 1], (st->nrefs - i - 1) * sizeof(*st->refs));
		st->nrefs--;
		found = true;
		break;
	}
	if (!found)
		return -EINVAL;
	for_each_reg_in_state(st, fr, reg, {
		if (reg->ref_obj_id == id)
			reg_unknown(env, reg);
	});
	return 0;
}

int check_reference_leak(struct venv *env, bool exception_exit)
{
	struct vframe *f = cur_frame(env->cur);
	bool leak = false;

	if (!exception_exit && f->frameno && !f->in_callback)
		return 0;
	for (uint32_t i = 0; i < env->cur->nrefs; i++) {
		const struct vref *r = &env->cur->refs[i];

		if (r->kind != REF_PTR)
			continue;
		if (!exception_exit && f->in_callback && r->cb_frame != f->frameno)
			continue;
		verr(env, -EINVAL, "Unreleased reference id=%u alloc_insn=%u\n", r->id, r->insn);
		leak = true;
	}
	if (leak)
		vhint(env, "every pointer a helper hands out with a reference (bpf_ringbuf_reserve, "
			   "bpf_sk_lookup_*) must be released (submit/discard, bpf_sk_release) on every "
			   "path before exit");
	return leak ? -EINVAL : 0;
}

/* A helper that changes the packet: every packet pointer becomes a plain number. */
void clear_all_pkt_pointers(struct venv *env)
{
	for_each_reg_in_state(env->cur, fr, reg, {
		if (reg_is_pkt(reg) || reg->type == VT_PACKET_END)
			reg_unknown(env, reg);
	});
}

/* ---- argument types -------------------------------------------------------------- */

/* The register kinds an argument type accepts (the kernel's compatible_reg_types). */
struct accepted {
	uint8_t n;
	struct { uint8_t type, flags; } t[9];
};

static struct accepted accepted_for(unsigned base)
{
	static const struct accepted mem = { 8, { { VT_STACK, 0 }, { VT_PACKET, 0 }, { VT_PACKET_META, 0 },
						  { VT_MAP_KEY, 0 }, { VT_MAP_VALUE, 0 }, { VT_MEM, 0 },
						  { VT_MEM, VF_RINGBUF }, { VT_BUF, 0 } } };
	static const struct accepted sock = { 4, { { VT_SOCK_COMMON, 0 }, { VT_SOCKET, 0 },
						   { VT_TCP_SOCK, 0 }, { VT_XDP_SOCK, 0 } } };

	switch (base) {
	case V_ARG_PTR_TO_MAP_KEY: case V_ARG_PTR_TO_MAP_VALUE: case V_ARG_PTR_TO_MEM:
	case V_ARG_PTR_TO_UNINIT_MEM: case V_ARG_PTR_TO_LONG: case V_ARG_PTR_TO_INT:
		return mem;
	case V_ARG_CONST_SIZE: case V_ARG_CONST_SIZE_OR_ZERO: case V_ARG_CONST_ALLOC_SIZE_OR_ZERO:
	case V_ARG_SCALAR:
		return (struct accepted){ 1, { { VT_SCALAR, 0 } } };
	case V_ARG_CONST_MAP_PTR: return (struct accepted){ 1, { { VT_MAP_PTR, 0 } } };
	case V_ARG_PTR_TO_CTX: return (struct accepted){ 1, { { VT_CTX, 0 } } };
	case V_ARG_PTR_TO_SOCK_COMMON: case V_ARG_PTR_TO_BTF_SOCK: return sock;
	case V_ARG_PTR_TO_SOCKET: return (struct accepted){ 1, { { VT_SOCKET, 0 } } };
	case V_ARG_PTR_TO_SPIN_LOCK: case V_ARG_PTR_TO_TIMER: case V_ARG_PTR_TO_CONST_STR:
		return (struct accepted){ 1, { { VT_MAP_VALUE, 0 } } };
	case V_ARG_PTR_TO_RINGBUF_MEM: return (struct accepted){ 1, { { VT_MEM, VF_RINGBUF } } };
	case V_ARG_PTR_TO_FUNC: return (struct accepted){ 1, { { VT_FUNC, 0 } } };
	case V_ARG_PTR_TO_STACK: return (struct accepted){ 1, { { VT_STACK, 0 } } };
	default: return (struct accepted){ 1, { { VT_BTF_ID, 0 } } };
	}
}

static int check_reg_type(struct venv *env, uint32_t regno, uint16_t arg)
{
	const struct vreg *reg = &regs_of(env)[regno];
	struct accepted acc = accepted_for(ARG_BASE(arg));
	uint8_t flags = reg->flags & (VF_NULL | VF_RDONLY | VF_RINGBUF);
	char tb[48];

	if (arg & ARGF_RDONLY)
		flags &= (uint8_t)~VF_RDONLY;
	if (arg & ARGF_NULL)
		flags &= (uint8_t)~VF_NULL;
	for (uint8_t i = 0; i < acc.n; i++)
		if (reg->type == acc.t[i].type && flags == acc.t[i].flags)
			return 0;
	verr_regs(env, -EACCES, (uint16_t)(1u << regno), "R%u type=%s expected=", regno,
		  vtype_str(reg, tb, sizeof(tb)));
	for (uint8_t i = 0; i < acc.n; i++) {
		struct vreg fake = { .type = acc.t[i].type, .flags = acc.t[i].flags };

		vlog(env, "%s%s", vtype_str(&fake, tb, sizeof(tb)), i + 1 < acc.n ? ", " : "");
	}
	/* the kernel also takes trusted BTF pointers as memory; bpfvm has none to give */
	vlog(env, "%s\n", acc.n == 8 && acc.t[0].type == VT_STACK ? ", trusted_ptr_" : "");
	return -EACCES;
}

static int check_func_arg_reg_off(struct venv *env, const struct vreg *reg, uint32_t regno,
				  uint16_t arg)
{
	if (arg & ARGF_RELEASE) {
		if (reg->off)
			return verr(env, -EINVAL, "R%u must have zero offset when passed to release func or "
						  "trusted arg to kfunc\n", regno);
		return check_ptr_off_reg(env, reg, regno);
	}
	switch (reg->type) {
	case VT_STACK: case VT_PACKET: case VT_PACKET_META: case VT_MAP_KEY: case VT_MAP_VALUE:
	case VT_MEM: case VT_BUF: case VT_SCALAR:
		return 0;
	default:
		return check_ptr_off_reg(env, reg, regno);
	}
}

/* ---- memory arguments ---------------------------------------------------------------- */

int check_helper_mem_access(struct venv *env, uint32_t regno, int64_t access_size,
			    enum vaccess t, bool zero_size_allowed)
{
	const struct vreg *reg = &regs_of(env)[regno];
	char tb[48];

	switch (reg->type) {
	case VT_PACKET:
	case VT_PACKET_META:
		return check_packet_access(env, regno, reg->off, access_size, zero_size_allowed);
	case VT_MAP_KEY:
		if (t == ACC_WRITE)
			return verr(env, -EACCES, "R%u cannot write into %s\n", regno,
				    vtype_str(reg, tb, sizeof(tb)));
		return check_mem_region_access(env, regno, reg->off, access_size,
					       env->maps[reg->map].key_size, false);
	case VT_MAP_VALUE:
		if ((t == ACC_WRITE && (env->maps[reg->map].flags & BPF_F_RDONLY_PROG)) ||
		    (t == ACC_READ && (env->maps[reg->map].flags & BPF_F_WRONLY_PROG)))
			return verr(env, -EACCES, "%s map forbidden, value_size=%u off=%d size=%lld\n",
				    t == ACC_WRITE ? "write into" : "read from",
				    env->maps[reg->map].value_size, reg->off, (long long)access_size);
		return check_map_access(env, regno, reg->off, (uint32_t)access_size, zero_size_allowed);
	case VT_MEM:
		if ((reg->flags & VF_RDONLY) && t == ACC_WRITE)
			return verr(env, -EACCES, "R%u cannot write into %s\n", regno,
				    vtype_str(reg, tb, sizeof(tb)));
		return check_mem_region_access(env, regno, reg->off, access_size, reg->mem_size,
					       zero_size_allowed);
	case VT_STACK:
		return check_stack_range_initialized(env, regno, reg->off, access_size,
						     zero_size_allowed,
						     t == ACC_WRITE ? STACK_HELPER : STACK_HELPER_READ);
	default:
		if (zero_size_allowed && access_size == 0 && is_null_reg(reg))
			return 0;
		return verr_regs(env, -EACCES, (uint16_t)(1u << regno), "R%u type=%s expected=fp\n", regno,
				 vtype_str(reg, tb, sizeof(tb)));
	}
}

/* A buffer argument: check it, and for a buffer the helper fills, remember to mark it. */
static int mem_arg(struct venv *env, uint32_t regno, int64_t size, bool write, bool raw,
		   bool zero_ok, struct call_meta *meta)
{
	struct vreg *reg = &regs_of(env)[regno];
	int err;

	if (raw && reg->type == VT_STACK && tnum_is_const(reg->r.var)) {
		err = check_stack_range_initialized(env, regno, reg->off, size, zero_ok,
						    STACK_HELPER_RAW);
		if (err == 1) {
			meta->raw_regno = regno;
			meta->raw_size = size;
			meta->raw_pending = true;
			return 0;
		}
		return err;
	}
	return check_helper_mem_access(env, regno, size, write ? ACC_WRITE : ACC_READ, zero_ok);
}

static int check_mem_size_reg(struct venv *env, uint32_t regno, uint16_t mem_arg_type,
			      bool zero_ok, struct call_meta *meta)
{
	const struct vreg *reg = &regs_of(env)[regno];
	bool raw = ARG_BASE(mem_arg_type) == V_ARG_PTR_TO_UNINIT_MEM;
	int err;

	meta->msize_max = reg->r.b64.umax;
	if (!tnum_is_const(reg->r.var))
		raw = false; /* an unknown size: the whole buffer must be initialized */
	if (reg->r.b64.smin < 0)
		return verr_regs(env, -EACCES, (uint16_t)(1u << regno),
				 "R%u min value is negative, either use unsigned or 'var &= const'\n", regno);
	if (reg->r.b64.umin == 0 && !zero_ok)
		return verr_regs(env, -EACCES, (uint16_t)(1u << regno),
				 "R%u invalid zero-sized read: u64=[%lld,%lld]\n", regno,
				 (long long)reg->r.b64.umin, (long long)reg->r.b64.umax);
	if (reg->r.b64.umax >= V_MAX_VAR_SIZ)
		return verr_regs(env, -EACCES, (uint16_t)(1u << regno),
				 "R%u unbounded memory access, use 'var &= const' or 'if (var < const)'\n",
				 regno);
	err = mem_arg(env, regno - 1, (int64_t)reg->r.b64.umax, !(mem_arg_type & ARGF_RDONLY), raw,
		      zero_ok, meta);
	return err ? err : mark_chain_precision(env, regno);
}

/* ---- locks -------------------------------------------------------------------------- */

static int process_spin_lock(struct venv *env, uint32_t regno, bool lock)
{
	const struct vreg *reg = &regs_of(env)[regno];
	struct vstate *st = env->cur;
	const struct vmap *m = &env->maps[reg->map];
	uint64_t val = reg->r.var.value;

	if (!tnum_is_const(reg->r.var))
		return verr(env, -EINVAL, "R%u doesn't have constant offset. bpf_spin_lock has to be "
					  "at the constant offset\n", regno);
	if (m->spin_lock_off < 0)
		return verr(env, -EINVAL, "map '%s' has no valid bpf_spin_lock\n", m->name ? m->name : "");
	if ((int64_t)m->spin_lock_off != (int64_t)val + reg->off)
		return verr(env, -EINVAL, "off %lld doesn't point to 'struct bpf_spin_lock' that is at %d\n",
			    (long long)(val + (uint64_t)(int64_t)reg->off), m->spin_lock_off);
	if (lock) {
		if (st->lock_id)
			return verr(env, -EINVAL, "Locking two bpf_spin_locks are not allowed\n");
		st->lock_map = reg->map + 1;
		st->lock_id = reg->id ? reg->id : UINT32_MAX; /* a global value: id 0 */
		return 0;
	}
	if (!st->lock_id)
		return verr(env, -EINVAL, "bpf_spin_unlock without taking a lock\n");
	if (st->lock_map != reg->map + 1 || st->lock_id != (reg->id ? reg->id : UINT32_MAX))
		return verr(env, -EINVAL, "bpf_spin_unlock of different lock\n");
	st->lock_id = 0;
	st->lock_map = 0;
	return 0;
}

/* ---- one argument ---------------------------------------------------------------------- */

/*
 * An array map's lookup with a key the verifier knows, inside the array,
 * cannot return NULL (Linux 6.14+): the program need not check.  The key
 * is known where the stack bytes it points to are zeros tracked as such,
 * or a spilled scalar of the key's exact size with a constant value; that
 * value is then made precise, since the path's safety now rests on it.
 * Returns -EOPNOTSUPP where the key is not known.
 */
uint8_t map_lookup_sock_type(uint32_t map_type)
{
	switch (map_type) {
	case BPF_MAP_TYPE_SOCKMAP: case BPF_MAP_TYPE_SOCKHASH: return VT_SOCKET;
	case BPF_MAP_TYPE_XSKMAP: return VT_XDP_SOCK;
	default: return 0;
	}
}

static bool lookup_may_elide_null(uint32_t map_type)
{
	return map_type == BPF_MAP_TYPE_ARRAY || map_type == BPF_MAP_TYPE_PERCPU_ARRAY;
}

static int constant_map_key(struct venv *env, const struct vreg *key, uint32_t key_size,
			    int64_t *value)
{
	const struct vframe *f;
	const struct vslot *s;
	int64_t slot;
	uint32_t spi, zeros = 0, spilled = 0;
	int at;

	if (key->type != VT_STACK || !tnum_is_const(key->r.var))
		return -EOPNOTSUPP;
	f = env->cur->frames[key->frameno];
	slot = -((int64_t)key->off + (int64_t)key->r.var.value) - 1;
	spi = (uint32_t)(slot / 8);
	if (slot < 0 || spi >= f->nslots)
		return -EOPNOTSUPP; /* the access check before refuses this */
	s = &f->stack[spi];
	for (at = (int)(slot % 8); at >= 0 && s->kind[at] == SLOT_ZERO; at--)
		zeros++;
	if (zeros >= key_size) {
		*value = 0;
		return 0;
	}
	if (!slot_is_spilled_reg(s) || s->spilled.type != VT_SCALAR)
		return -EOPNOTSUPP;
	for (at = (int)(slot % 8); at >= 0 && s->kind[at] == SLOT_SPILL; at--)
		spilled++;
	if (spilled != key_size || !tnum_is_const(s->spilled.r.var))
		return -EOPNOTSUPP;
	*value = (int64_t)s->spilled.r.var.value;
	env->bt.slots[key->frameno] |= 1ull << spi;
	return mark_chain_precision_batch(env);
}

static int arg_by_type(struct venv *env, uint32_t arg, const struct vhelper *fn,
		       struct call_meta *meta)
{
	uint32_t regno = 1 + arg;
	struct vreg *reg = &regs_of(env)[regno];
	uint16_t at = fn->args[arg];

	switch (ARG_BASE(at)) {
	case V_ARG_CONST_MAP_PTR:
		meta->map = (int32_t)reg->map;
		return 0;
	case V_ARG_PTR_TO_MAP_KEY: {
		uint32_t key_size;
		int err;

		if (meta->map < 0)
			return verr(env, -EACCES, "invalid map_ptr to access map->key\n");
		key_size = env->maps[meta->map].key_size;
		if ((err = check_helper_mem_access(env, regno, key_size, ACC_READ, false)))
			return err;
		if (!lookup_may_elide_null(env->maps[meta->map].type))
			return 0;
		err = constant_map_key(env, reg, key_size, &meta->const_map_key);
		if (err < 0)
			meta->const_map_key = -1;
		return err == -EOPNOTSUPP ? 0 : err;
	}
	case V_ARG_PTR_TO_MAP_VALUE:
		if ((at & ARGF_NULL) && is_null_reg(reg))
			return 0;
		if (meta->map < 0)
			return verr(env, -EACCES, "invalid map_ptr to access map->value\n");
		if (map_lookup_sock_type(env->maps[meta->map].type) == VT_SOCKET)
			return 0; /* checked as a socket (check_func_arg) */
		return mem_arg(env, regno, env->maps[meta->map].value_size, !!(at & ARGF_UNINIT),
			       !!(at & ARGF_UNINIT), false, meta);
	case V_ARG_PTR_TO_SPIN_LOCK:
		return process_spin_lock(env, regno, meta->func_id == HELPER_ID_spin_lock);
	case V_ARG_PTR_TO_FUNC:
		meta->subprog = reg->subprog;
		meta->has_callback = true;
		return 0;
	case V_ARG_PTR_TO_LONG:
	case V_ARG_PTR_TO_INT: {
		uint32_t size = ARG_BASE(at) == V_ARG_PTR_TO_LONG ? 8 : 4;
		int err = mem_arg(env, regno, size, true, true, false, meta);

		if (err)
			return err;
		return check_mem_access(env, env->insn_idx, regno, 0, size, ACC_READ, -1, true, false) < 0
			       ? -EACCES : 0;
	}
	case V_ARG_CONST_SIZE:
	case V_ARG_CONST_SIZE_OR_ZERO:
		return check_mem_size_reg(env, regno, fn->args[arg - 1],
					  ARG_BASE(at) == V_ARG_CONST_SIZE_OR_ZERO, meta);
	case V_ARG_CONST_ALLOC_SIZE_OR_ZERO:
		if (!tnum_is_const(reg->r.var))
			return verr(env, -EACCES, "R%u is not a known constant'\n", regno);
		meta->mem_size = reg->r.var.value;
		return mark_chain_precision(env, regno);
	case V_ARG_PTR_TO_CONST_STR:
		if (reg->type != VT_MAP_VALUE || !(env->maps[reg->map].flags & BPF_F_RDONLY_PROG))
			return verr(env, -EACCES, "R%u does not point to a readonly map'\n", regno);
		return 0;
	case V_ARG_PTR_TO_BTF_ID:
	case V_ARG_PTR_TO_DYNPTR:
		return verr(env, -EINVAL, "%s needs kernel objects (BTF types or dynptrs) that user "
					  "space does not have\n", fn->name);
	default:
		return 0;
	}
}

static int check_func_arg(struct venv *env, uint32_t arg, const struct vhelper *fn,
			  struct call_meta *meta)
{
	uint32_t regno = 1 + arg;
	struct vreg *reg;
	uint16_t at = fn->args[arg];
	int err;

	if (ARG_BASE(at) == V_ARG_NONE)
		return 0;
	if ((err = check_reg_arg(env, regno, SRC_OP)))
		return err;
	if (ARG_BASE(at) == V_ARG_ANYTHING)
		return 0;
	reg = &regs_of(env)[regno];
	if (reg_is_pkt(reg) && !(meta->pkt_access && ctx_may_access_direct_pkt(env, false)))
		return verr(env, -EACCES, "helper access to the packet is not allowed\n");
	if (ARG_BASE(at) == V_ARG_PTR_TO_MAP_VALUE && meta->map >= 0 &&
	    map_lookup_sock_type(env->maps[meta->map].type) == VT_SOCKET) {
		/* a sockmap's values are sockets (the kernel's resolve_map_arg_type) */
		if (at != V_ARG_PTR_TO_MAP_VALUE)
			return verr(env, -EINVAL, "invalid arg_type for sockmap/sockhash\n");
		at = V_ARG_PTR_TO_BTF_SOCK;
	}
	if (is_null_reg(reg) && (at & ARGF_NULL)) {
		if ((err = mark_chain_precision(env, regno)))
			return err;
	} else if ((err = check_reg_type(env, regno, at)) ||
		   (err = check_func_arg_reg_off(env, reg, regno, at))) {
		return err;
	}
	if (at & ARGF_RELEASE) {
		if (!reg->ref_obj_id && !is_null_reg(reg))
			return verr(env, -EINVAL, "R%u must be referenced when passed to release function\n",
				    regno);
		meta->release_regno = regno;
	}
	if (reg->ref_obj_id)
		meta->ref_obj_id = reg->ref_obj_id;
	return arg_by_type(env, arg, fn, meta);
}

/* ---- maps and helpers that go together ------------------------------------------------- */

/* Which helpers a map type allows, beyond the generic lookup/update/delete. */
static bool map_allows(uint32_t type, int32_t id)
{
	switch (type) {
	case BPF_MAP_TYPE_PROG_ARRAY: return id == HELPER_ID_tail_call;
	case BPF_MAP_TYPE_PERF_EVENT_ARRAY:
		return id == HELPER_ID_perf_event_read || id == HELPER_ID_perf_event_output ||
		       id == HELPER_ID_skb_output || id == HELPER_ID_perf_event_read_value ||
		       id == HELPER_ID_xdp_output;
	case BPF_MAP_TYPE_RINGBUF:
		return id == HELPER_ID_ringbuf_output || id == HELPER_ID_ringbuf_reserve ||
		       id == HELPER_ID_ringbuf_query || id == HELPER_ID_ringbuf_reserve_dynptr ||
		       id == HELPER_ID_ringbuf_submit_dynptr || id == HELPER_ID_ringbuf_discard_dynptr;
	case BPF_MAP_TYPE_USER_RINGBUF: return id == HELPER_ID_user_ringbuf_drain;
	case BPF_MAP_TYPE_STACK_TRACE: return id == HELPER_ID_get_stackid;
	case BPF_MAP_TYPE_CGROUP_ARRAY:
		return id == HELPER_ID_skb_under_cgroup || id == HELPER_ID_current_task_under_cgroup;
	case BPF_MAP_TYPE_CGROUP_STORAGE: case BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE:
		return id == HELPER_ID_get_local_storage;
	case BPF_MAP_TYPE_DEVMAP: case BPF_MAP_TYPE_DEVMAP_HASH: case BPF_MAP_TYPE_XSKMAP:
		return id == HELPER_ID_redirect_map || id == HELPER_ID_map_lookup_elem;
	case BPF_MAP_TYPE_CPUMAP: return id == HELPER_ID_redirect_map;
	case BPF_MAP_TYPE_ARRAY_OF_MAPS: case BPF_MAP_TYPE_HASH_OF_MAPS:
		return id == HELPER_ID_map_lookup_elem;
	case BPF_MAP_TYPE_SOCKMAP:
		return id == HELPER_ID_sk_redirect_map || id == HELPER_ID_sock_map_update ||
		       id == HELPER_ID_msg_redirect_map || id == HELPER_ID_sk_select_reuseport ||
		       id == HELPER_ID_map_lookup_elem;
	case BPF_MAP_TYPE_SOCKHASH:
		return id == HELPER_ID_sk_redirect_hash || id == HELPER_ID_sock_hash_update ||
		       id == HELPER_ID_msg_redirect_hash || id == HELPER_ID_sk_select_reuseport ||
		       id == HELPER_ID_map_lookup_elem;
	case BPF_MAP_TYPE_REUSEPORT_SOCKARRAY: return id == HELPER_ID_sk_select_reuseport;
	case BPF_MAP_TYPE_QUEUE: case BPF_MAP_TYPE_STACK:
		return id == HELPER_ID_map_peek_elem || id == HELPER_ID_map_pop_elem ||
		       id == HELPER_ID_map_push_elem;
	case BPF_MAP_TYPE_SK_STORAGE:
		return id == HELPER_ID_sk_storage_get || id == HELPER_ID_sk_storage_delete ||
		       id == HELPER_ID_kptr_xchg;
	case BPF_MAP_TYPE_BLOOM_FILTER:
		return id == HELPER_ID_map_peek_elem || id == HELPER_ID_map_push_elem;
	default: return true;
	}
}

/* Which map types a helper takes (the other direction of the kernel's check). */
static bool helper_allows(int32_t id, uint32_t type)
{
	switch (id) {
	case HELPER_ID_tail_call: return type == BPF_MAP_TYPE_PROG_ARRAY;
	case HELPER_ID_perf_event_read: case HELPER_ID_perf_event_output:
	case HELPER_ID_perf_event_read_value: case HELPER_ID_skb_output: case HELPER_ID_xdp_output:
		return type == BPF_MAP_TYPE_PERF_EVENT_ARRAY;
	case HELPER_ID_ringbuf_output: case HELPER_ID_ringbuf_reserve: case HELPER_ID_ringbuf_query:
	case HELPER_ID_ringbuf_reserve_dynptr: case HELPER_ID_ringbuf_submit_dynptr:
	case HELPER_ID_ringbuf_discard_dynptr:
		return type == BPF_MAP_TYPE_RINGBUF;
	case HELPER_ID_user_ringbuf_drain: return type == BPF_MAP_TYPE_USER_RINGBUF;
	case HELPER_ID_get_stackid: return type == BPF_MAP_TYPE_STACK_TRACE;
	case HELPER_ID_skb_under_cgroup: case HELPER_ID_current_task_under_cgroup:
		return type == BPF_MAP_TYPE_CGROUP_ARRAY;
	case HELPER_ID_redirect_map:
		return type == BPF_MAP_TYPE_DEVMAP || type == BPF_MAP_TYPE_DEVMAP_HASH ||
		       type == BPF_MAP_TYPE_CPUMAP || type == BPF_MAP_TYPE_XSKMAP;
	case HELPER_ID_sk_redirect_map: case HELPER_ID_msg_redirect_map: case HELPER_ID_sock_map_update:
		return type == BPF_MAP_TYPE_SOCKMAP;
	case HELPER_ID_sk_redirect_hash: case HELPER_ID_msg_redirect_hash:
	case HELPER_ID_sock_hash_update:
		return type == BPF_MAP_TYPE_SOCKHASH;
	case HELPER_ID_get_local_storage:
		return type == BPF_MAP_TYPE_CGROUP_STORAGE || type == BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE;
	case HELPER_ID_sk_select_reuseport:
		return type == BPF_MAP_TYPE_REUSEPORT_SOCKARRAY || type == BPF_MAP_TYPE_SOCKMAP ||
		       type == BPF_MAP_TYPE_SOCKHASH;
	case HELPER_ID_map_pop_elem: return type == BPF_MAP_TYPE_QUEUE || type == BPF_MAP_TYPE_STACK;
	case HELPER_ID_map_peek_elem: case HELPER_ID_map_push_elem:
		return type == BPF_MAP_TYPE_QUEUE || type == BPF_MAP_TYPE_STACK ||
		       type == BPF_MAP_TYPE_BLOOM_FILTER;
	case HELPER_ID_map_lookup_percpu_elem:
		return type == BPF_MAP_TYPE_PERCPU_ARRAY || type == BPF_MAP_TYPE_PERCPU_HASH ||
		       type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
	case HELPER_ID_sk_storage_get: case HELPER_ID_sk_storage_delete:
		return type == BPF_MAP_TYPE_SK_STORAGE;
	default: return true;
	}
}

/*
 * The kernel's may_update_sockmap: the program types where no locked
 * socket can be reached may update or delete sockmap and sockhash entries.
 */
static bool may_update_sockmap(struct venv *env, int32_t id)
{
	if (id != HELPER_ID_map_update_elem && id != HELPER_ID_map_delete_elem)
		return false;
	switch (env->prog_type) {
	case BPF_PROG_TYPE_TRACING:
		if (env->attach_type == BPF_TRACE_ITER)
			return true;
		break;
	case BPF_PROG_TYPE_SOCK_OPS:
		/* updates only through bpf_sock_map_update, which checks the event */
		if (id == HELPER_ID_map_delete_elem)
			return true;
		break;
	case BPF_PROG_TYPE_SOCKET_FILTER: case BPF_PROG_TYPE_SCHED_CLS:
	case BPF_PROG_TYPE_SCHED_ACT: case BPF_PROG_TYPE_XDP: case BPF_PROG_TYPE_SK_REUSEPORT:
	case BPF_PROG_TYPE_FLOW_DISSECTOR: case BPF_PROG_TYPE_SK_LOOKUP:
		return true;
	default:
		break;
	}
	vlog(env, "cannot update sockmap in this context\n");
	return false;
}

static int check_map_func_compatibility(struct venv *env, int32_t map, int32_t id,
					const struct vhelper *fn)
{
	uint32_t type;

	if (map < 0)
		return 0;
	type = env->maps[map].type;
	if (map_allows(type, id) && helper_allows(id, type))
		return 0;
	if ((type == BPF_MAP_TYPE_SOCKMAP || type == BPF_MAP_TYPE_SOCKHASH) &&
	    may_update_sockmap(env, id))
		return 0;
	return verr(env, -EINVAL, "cannot pass map_type %u into func %s#%d\n", type, fn->name, id);
}

/* Tail calls: remember the map and constant index every path used (facts for the JIT). */
static void record_tail_call(struct venv *env, const struct call_meta *meta)
{
	struct vaux *aux = &env->aux[env->insn_idx];
	const struct vreg *key = &regs_of(env)[3];
	uint64_t k;

	if (aux->map_state != MAP_POISON)
		aux->map_state = !aux->map_state || aux->map_state == (uint32_t)meta->map + 1
					 ? (uint32_t)meta->map + 1 : MAP_POISON;
	k = tnum_is_const(key->r.var) ? key->r.var.value + 1 : KEY_POISON;
	if (aux->key_state != KEY_POISON)
		aux->key_state = !aux->key_state || aux->key_state == k ? k : KEY_POISON;
}

/* ---- the call ---------------------------------------------------------------------------- */

static int lookup_helper(struct venv *env, int32_t id, struct vhelper *fn)
{
	if (!helper_proto(id, fn) || id == 0) {
		if (id == 0)
			return verr(env, -EINVAL, "invalid func unspec#0\n");
		/*
		 * The object loader's poison, where a CO-RE relocation could not
		 * be resolved: say so (libbpf rewrites the kernel's "invalid func
		 * unknown#195896080" the same way); the loader knows which one
		 * (bpfvm_obj_prog__core_failure at this instruction).
		 */
		if (id == BPFVM_MAX_HELPER_ID)
			return verr(env, -EINVAL, "invalid CO-RE relocation at instruction %u: the "
						  "loader could not resolve it against the target BTF "
						  "(call unknown#%d is its poison)\n",
				    env->insn_idx, id);
		return verr(env, -EINVAL, "invalid func unknown#%d\n", id);
	}
	if (!helper_allowed(id, env->prog_type, env->attach_type))
		return verr(env, -EINVAL, "program of this type cannot use helper %s#%d\n", fn->name, id);
	if (!env->gpl && fn->gpl_only) {
		vhint(env, "give the program a GPL-compatible license (\"GPL\", \"Dual BSD/GPL\", ...)");
		return verr(env, -EINVAL, "cannot call GPL-restricted function from non-GPL compatible "
					  "program\n");
	}
	if (fn->sleepable_only && !env->sleepable)
		return verr(env, -EINVAL, "helper call might sleep in a non-sleepable prog\n");
	return 0;
}

static int release_arg(struct venv *env, const struct vhelper *fn, int32_t id,
		       const struct call_meta *meta)
{
	int err = 0;

	if (!meta->release_regno)
		return 0;
	if (meta->ref_obj_id)
		err = release_ref(env, meta->ref_obj_id);
	else if (!is_null_reg(&regs_of(env)[meta->release_regno]))
		err = -EINVAL;
	if (err)
		return verr(env, err, "func %s#%d reference has not been acquired before\n", fn->name, id);
	return 0;
}

/* What some helpers need beyond their arguments. */
static int special_helpers(struct venv *env, const struct bpfvm_insn *insn, int32_t id,
			   const struct call_meta *meta, uint32_t *insn_idx)
{
	struct vframe *f = cur_frame(env->cur);
	int err;

	switch (id) {
	case HELPER_ID_tail_call:
		if (env->cur->lock_id)
			return verr(env, -EINVAL, "tail_call cannot be used inside bpf_spin_lock-ed region\n");
		if (check_reference_leak(env, false))
			return verr(env, -EINVAL, "tail_call would lead to reference leak\n");
		record_tail_call(env, meta);
		return 0;
	case HELPER_ID_get_local_storage:
		if (!is_null_reg(&regs_of(env)[2]))
			return verr(env, -EINVAL, "get_local_storage() doesn't support non-zero flags\n");
		return mark_chain_precision(env, 2);
	case HELPER_ID_for_each_map_elem: case HELPER_ID_timer_set_callback: case HELPER_ID_find_vma: case HELPER_ID_user_ringbuf_drain:
		return setup_callback(env, env->insn_idx, meta->subprog, (uint32_t)id, insn_idx);
	case HELPER_ID_loop:
		if ((err = mark_chain_precision(env, 1)))
			return err;
		if (f->callback_depth < regs_of(env)[1].r.b64.umax)
			return setup_callback(env, env->insn_idx, meta->subprog, (uint32_t)id, insn_idx);
		f->callback_depth = 0;
		if (env->log_level >= 2)
			vlog(env, "frame%u bpf_loop iteration limit reached\n", env->cur->curframe);
		return 0;
	default:
		(void)insn;
		return 0;
	}
}

static int possible_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_CONF);

	return n > 0 ? (int)n : 1;
}

/* r0 after the call, from the return type. */
static int set_return(struct venv *env, const struct vhelper *fn, int32_t id,
		      const struct call_meta *meta)
{
	struct vreg *r0 = &regs_of(env)[0];
	int ref;

	switch (fn->ret) {
	case V_RET_INTEGER:
		reg_unknown(env, r0);
		if (helper_has(id, HF_RET_SIZE_BOUNDED)) {
			/* get_stack, probe_read_*_str: at most the buffer's size, or an error */
			r0->r.b64.smax = (int64_t)meta->msize_max, r0->r.b32.smax = (int32_t)meta->msize_max;
			r0->r.b64.smin = -4095, r0->r.b32.smin = -4095;
			range_sync(&r0->r);
		} else if (id == HELPER_ID_get_smp_processor_id) {
			r0->r = range_from_u_w(0, (uint64_t)possible_cpus() - 1, RANGE_BITS);
		}
		return 0;
	case V_RET_VOID:
		r0->type = VT_NOT_INIT;
		return 0;
	case V_RET_MAP_VALUE_OR_NULL:
	case V_RET_MAP_VALUE:
		reg_ptr(r0, VT_MAP_VALUE);
		r0->map = (uint32_t)meta->map;
		r0->flags = fn->ret == V_RET_MAP_VALUE_OR_NULL ? VF_NULL : 0;
		if (id == HELPER_ID_map_lookup_elem && lookup_may_elide_null(env->maps[meta->map].type) &&
		    meta->const_map_key >= 0 &&
		    meta->const_map_key < (int64_t)env->maps[meta->map].max_entries)
			r0->flags = 0; /* see constant_map_key */
		if (env->maps[meta->map].type == BPF_MAP_TYPE_ARRAY_OF_MAPS ||
		    env->maps[meta->map].type == BPF_MAP_TYPE_HASH_OF_MAPS) {
			/* an inner map, as a map pointer */
			r0->type = VT_MAP_PTR;
			r0->map = env->maps[meta->map].inner_type ? env->nmaps + (uint32_t)meta->map : r0->map;
		}
		if (!(r0->flags & VF_NULL) && env->maps[meta->map].spin_lock_off >= 0)
			r0->id = new_id(env);
		if (id == HELPER_ID_map_lookup_elem && map_lookup_sock_type(env->maps[meta->map].type)) {
			/* sockmap, sockhash, xskmap: a socket or NULL (as Linux 6.18 types it) */
			reg_ptr(r0, map_lookup_sock_type(env->maps[meta->map].type));
			r0->flags = VF_NULL;
		}
		break;
	case V_RET_RINGBUF_MEM_OR_NULL:
		reg_ptr(r0, VT_MEM);
		r0->flags = VF_NULL | VF_RINGBUF;
		r0->mem_size = (uint32_t)meta->mem_size;
		break;
	case V_RET_SOCKET_OR_NULL: case V_RET_SOCK_OR_NULL_NOREF:
		reg_ptr(r0, VT_SOCKET);
		r0->flags = VF_NULL;
		break;
	case V_RET_TCP_SOCK_OR_NULL:
		reg_ptr(r0, VT_TCP_SOCK);
		r0->flags = VF_NULL;
		break;
	case V_RET_SOCK_COMMON_OR_NULL:
		reg_ptr(r0, VT_SOCK_COMMON);
		r0->flags = VF_NULL;
		break;
	default:
		if (id == HELPER_ID_get_current_task_btf) {
			/* the task_struct the event source lays out (hooks/kobjs.c) */
			if ((ref = btf_mark_current_task(env, r0)))
				return ref;
			break;
		}
		return verr(env, -EINVAL, "%s#%d returns a kernel object that user space does not have\n",
			    fn->name, id);
	}
	if (r0->flags & VF_NULL)
		r0->id = new_id(env);
	if (fn->ret == V_RET_SOCK_OR_NULL_NOREF || fn->ret == V_RET_TCP_SOCK_OR_NULL) {
		r0->ref_obj_id = meta->ref_obj_id; /* a cast keeps the reference */
	} else if (fn->acquires_ref ||
		   (id == HELPER_ID_map_lookup_elem && map_lookup_sock_type(env->maps[meta->map].type) == VT_SOCKET)) {
		/* a socket from a sockmap or sockhash is held until bpf_sk_release */
		if ((ref = acquire_ref(env, env->insn_idx, REF_PTR)) < 0)
			return ref;
		r0->id = r0->ref_obj_id = (uint32_t)ref;
	}
	return 0;
}

int check_helper_call(struct venv *env, const struct bpfvm_insn *insn, uint32_t *insn_idx)
{
	struct call_meta meta = { .map = -1, .const_map_key = -1 };
	struct vhelper proto, *fn = &proto;
	struct vreg *regs = regs_of(env);
	int32_t id = insn->imm;
	int err;

	if ((err = lookup_helper(env, id, fn)))
		return err;
	meta.func_id = id;
	meta.pkt_access = fn->pkt_access;
	for (uint32_t i = 0; i < 5; i++)
		if ((err = check_func_arg(env, i, fn, &meta)))
			return err;
	if (meta.raw_pending) {
		/* what the helper fills becomes data */
		for (int64_t i = 0; i < meta.raw_size; i++)
			if ((err = check_mem_access(env, env->insn_idx, meta.raw_regno, (int32_t)i, 1,
						    ACC_WRITE, -1, false, false)))
				return err;
	}
	if ((err = release_arg(env, fn, id, &meta)) ||
	    (err = special_helpers(env, insn, id, &meta, insn_idx)))
		return err;
	regs = regs_of(env);
	for (uint32_t r = 0; r <= 5; r++) {
		reg_not_init(&regs[r]);
		check_reg_arg(env, r, DST_OP_NO_MARK);
	}
	if ((err = set_return(env, fn, id, &meta)) ||
	    (err = check_map_func_compatibility(env, meta.map, id, fn)))
		return err;
	if (fn->changes_pkt)
		clear_all_pkt_pointers(env);
	return 0;
}
