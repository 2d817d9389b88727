/*
 * btf_access.c - pointers to kernel objects typed by the kernel's BTF
 * (the kernel's PTR_TO_BTF_ID): bpf_get_current_task_btf's task_struct,
 * and what loads through it reach.  A load at a constant offset finds the
 * member it falls in by walking the struct's BTF (nested structs and
 * unions, arrays as their elements, a flexible array at the end): a
 * pointer to a struct gives another such pointer, anything else a number;
 * an offset past the struct, into a hole, or half-way into a pointer is
 * refused, as are stores.  Trust follows the kernel's rules for a program
 * that does not sleep (always in an RCU read section): walking a trusted
 * or RCU pointer gives a trusted one only for the members the kernel's
 * BTF lists in its TYPE__safe_trusted structs, an RCU one for those of
 * TYPE__safe_rcu (task->real_parent, task->group_leader), and a plain one
 * otherwise; what a union or an untrusted pointer reaches is untrusted.
 *
 * Such loads run as the kernel's BPF_PROBE_MEM loads: facts.c marks them,
 * and execution reads only the event's kernel objects, giving 0 for any
 * other address (a NULL mm, say).
 */
#include "verifier.h"

#include <stdio.h>
#include <string.h>

#include "../btf/btf.h"

#define MAX_RESOLVE 32   /* modifiers and array dimensions followed (the kernel's MAX_RESOLVE_DEPTH) */
#define MAX_NESTED 64    /* nested structs walked into */

enum walk { WALK_SCALAR, WALK_PTR, WALK_PTR_UNTRUSTED, WALK_STRUCT };

/* What a walk found: the struct a pointer points to or the nested struct entered. */
struct walk_res {
	uint32_t id;
	uint8_t flags;          /* VF_UNTRUSTED (a union was crossed), VF_RCU (an __rcu tag) */
	const char *field;      /* the pointer member's name */
};

static struct vreg *regs_of(struct venv *env)
{
	return cur_frame(env->cur)->regs;
}

static bool is_struct(const struct btf_type *t)
{
	return t && (btf_kind(t) == BTF_KIND_STRUCT || btf_kind(t) == BTF_KIND_UNION);
}

static bool is_modifier(unsigned kind)
{
	return kind == BTF_KIND_TYPEDEF || kind == BTF_KIND_VOLATILE || kind == BTF_KIND_CONST ||
	       kind == BTF_KIND_RESTRICT || kind == BTF_KIND_TYPE_TAG;
}

/* The type of a name and kind, by the BTF's name index (btf_find walks every type): its id, or 0. */
static uint32_t find_named(const struct btf *btf, const char *name, unsigned kind)
{
	const uint32_t *ids;
	uint32_t n = btf_find_by_ess_name(btf, name, strlen(name), &ids);

	for (uint32_t i = 0; i < n; i++) {
		const struct btf_type *t = btf_type(btf, ids[i]);

		if (t && btf_kind(t) == kind && !strcmp(btf_name(btf, t), name))
			return ids[i];
	}
	return 0;
}

/* A name as the kernel's messages about members give it (its __btf_name_by_offset). */
static const char *anon(const char *name)
{
	return *name ? name : "(anon)";
}

const char *btf_reg_struct_name(const struct venv *env, const struct vreg *reg)
{
	const struct btf_type *t = env->kbtf ? btf_type(env->kbtf, reg->btf_id) : NULL;

	return t ? btf_name(env->kbtf, t) : "";
}

bool btf_reg_trusted(const struct vreg *reg)
{
	if (reg->ref_obj_id)
		return true;
	return (reg->flags & VF_TRUSTED) && !(reg->flags & (VF_UNTRUSTED | VF_RCU | VF_NULL));
}

int btf_mark_current_task(struct venv *env, struct vreg *r0)
{
	const struct btf *btf = kernel_btf(env);
	uint32_t id = btf ? find_named(btf, "task_struct", BTF_KIND_STRUCT) : 0;

	if (!btf)
		return -EINVAL;
	if (!id)
		return verr(env, -EINVAL, "the kernel's BTF has no struct task_struct\n");
	reg_ptr(r0, VT_BTF_ID);
	r0->flags = VF_TRUSTED;
	r0->btf_id = id;
	return 0;
}

/*
 * The kernel's __btf_resolve_size for member type id: modifiers followed,
 * arrays multiplied out.  *size is the whole member's; *elem the element
 * (the type itself when no array), *elem_id the last array's element id,
 * *nelems their count, *last_id the last modifier's target.  NULL: no size.
 */
static const struct btf_type *resolve_size(const struct btf *btf, uint32_t id, uint32_t *size,
					   const struct btf_type **elem, uint32_t *elem_id,
					   uint32_t *nelems, uint32_t *last_id)
{
	const struct btf_type *t = btf_type(btf, id), *array = NULL;
	uint32_t n = 1, sz;

	*elem_id = 0;
	for (int depth = 0; depth < MAX_RESOLVE && t; depth++) {
		unsigned kind = btf_kind(t);

		if (kind == BTF_KIND_INT || kind == BTF_KIND_STRUCT || kind == BTF_KIND_UNION ||
		    kind == BTF_KIND_ENUM || kind == BTF_KIND_FLOAT || kind == BTF_KIND_ENUM64 ||
		    kind == BTF_KIND_PTR) {
			sz = kind == BTF_KIND_PTR ? 8 : t->size;
			if (n && sz > UINT32_MAX / n)
				return NULL;
			*size = n * sz;
			*nelems = n;
			*elem = t;
			return array ? array : t;
		}
		if (is_modifier(kind)) {
			*last_id = t->type;
			t = btf_type(btf, t->type);
		} else if (kind == BTF_KIND_ARRAY) {
			const struct btf_array *a = btf_array(t);

			if (!array)
				array = t;
			if (n && a->nelems > UINT32_MAX / n)
				return NULL;
			n *= a->nelems;
			*elem_id = a->type;
			t = btf_type(btf, a->type);
		} else {
			return NULL;
		}
	}
	return NULL;
}

/* t's type after modifiers, and its id in *id. */
static const struct btf_type *skip_mods(const struct btf *btf, uint32_t from, uint32_t *id)
{
	*id = btf_skip_mods(btf, from);
	return btf_type(btf, *id);
}

/*
 * Past the end of t: allowed inside a flexible array of ints or structs
 * that ends it (off then taken modulo the element).  Returns 0 with t and
 * off moved into the element, 1 for an int element, or -EACCES.
 */
static int into_flex_array(struct venv *env, const struct btf *btf, const struct btf_type **t,
			   int32_t *off, uint32_t size, const char *tname)
{
	const struct btf_type *mt, *et;
	const struct btf_member *last;
	uint32_t moff, eid;

	if (!btf_vlen(*t))
		goto beyond;
	last = btf_members(*t) + btf_vlen(*t) - 1;
	mt = skip_mods(btf, last->type, &eid);
	if (!mt || btf_kind(mt) != BTF_KIND_ARRAY || btf_array(mt)->nelems)
		goto beyond;
	moff = btf_member_bit_offset(*t, last) / 8;
	if ((uint32_t)*off < moff)
		goto beyond;
	et = skip_mods(btf, btf_array(mt)->type, &eid);
	if (et && btf_kind(et) == BTF_KIND_INT)
		return 1;
	if (!is_struct(et) || !et->size)
		goto beyond;
	*off = (int32_t)(((uint32_t)*off - moff) % et->size);
	*t = et;
	return 0;
beyond:
	return verr(env, -EACCES, "access beyond struct %s at off %u size %u\n", tname,
		    (uint32_t)*off, size);
}

/* A pointer member: another BTF pointer when it points to a struct or union. */
static int pointer_member(struct venv *env, const struct btf *btf, const struct btf_type *mt,
			  const char *mname, struct walk_res *res)
{
	const struct btf_type *target = btf_type(btf, mt->type), *st;
	uint32_t id;

	if (target && btf_kind(target) == BTF_KIND_TYPE_TAG) {
		const char *tag = btf_name(btf, target);

		if (!strcmp(tag, "user") || !strcmp(tag, "percpu"))
			return verr(env, -EACCES, "member %s is a __%s pointer, which bpfvm does not "
						  "track\n", mname, tag);
		if (!strcmp(tag, "rcu"))
			res->flags |= VF_RCU;
	}
	st = skip_mods(btf, mt->type, &id);
	if (!is_struct(st))
		return WALK_PTR_UNTRUSTED;   /* char *, void *: memory of no known size */
	res->id = id;
	res->field = mname;
	return WALK_PTR;
}

/* Where a walk goes on: inside struct t at off. */
struct walk_at {
	const struct btf_type *t;
	int32_t off;
};

/*
 * Member m of at->t, which [off, off + size) may fall in: the walk's
 * result, WALK_STRUCT + 1 with *at moved into a nested struct, -1 when
 * the access lies past it, or an error.
 */
static int walk_member(struct venv *env, const struct btf *btf, const struct btf_member *m,
		       uint32_t size, const char *tname, struct walk_res *res, struct walk_at *at)
{
	uint32_t moff = btf_member_bit_offset(at->t, m) / 8, msize = 0, elem_id, n, mid = m->type;
	uint32_t off = (uint32_t)at->off, true_end;
	const char *mname = anon(btf_str(btf, m->name_off));
	const struct btf_type *mt, *elem;

	if (!(mt = resolve_size(btf, m->type, &msize, &elem, &elem_id, &n, &mid)))
		return verr(env, -EFAULT, "field %s doesn't have size\n", mname);
	true_end = moff + msize;
	if (off >= true_end)
		return -1;
	if (btf_kind(mt) == BTF_KIND_ARRAY) {
		/* an array is its elements, one after the other; an int array is scratch space */
		if (moff == true_end)
			return -1;
		msize /= n;
		moff += (off - moff) / msize * msize;
		mt = elem;
		mid = elem_id;
	}
	if (is_struct(mt)) {
		if (off == moff) {
			res->id = mid;
			return WALK_STRUCT;
		}
		at->t = mt;
		at->off = (int32_t)(off - moff);
		return WALK_STRUCT + 1;
	}
	if (btf_kind(mt) == BTF_KIND_PTR) {
		if (msize != size || off != moff)
			return verr(env, -EACCES, "cannot access ptr member %s with moff %u in struct %s "
						  "with off %u size %u\n", mname, moff, tname, off, size);
		return pointer_member(env, btf, mt, mname, res);
	}
	if (off + size > true_end && !(res->flags & VF_UNTRUSTED))
		return verr(env, -EACCES, "access beyond the end of member %s (mend:%u) in struct %s "
					  "with off %u size %u\n", mname, true_end, tname, off, size);
	return WALK_SCALAR;
}

/* The kernel's btf_struct_walk: what [off, off + size) of struct t is. */
static int struct_walk(struct venv *env, const struct btf *btf, const struct btf_type *t,
		       int32_t off, uint32_t size, struct walk_res *res)
{
	struct walk_at at = { t, off };

	for (int depth = 0; depth < MAX_NESTED; depth++) {
		uint32_t id;
		const char *tname;
		const struct btf_member *m;
		int r = -1;

		if (at.t && is_modifier(btf_kind(at.t)))
			at.t = skip_mods(btf, at.t->type, &id);
		tname = at.t ? anon(btf_name(btf, at.t)) : "(anon)";
		if (!is_struct(at.t))
			return verr(env, -EINVAL, "Type '%s' is not a struct\n", tname);
		if (btf_kind(at.t) == BTF_KIND_UNION && btf_vlen(at.t) != 1)
			res->flags |= VF_UNTRUSTED;   /* what a union holds is a guess */
		if ((uint64_t)(uint32_t)at.off + size > at.t->size) {
			r = into_flex_array(env, btf, &at.t, &at.off, size, tname);
			if (r)
				return r < 0 ? r : WALK_SCALAR;
			continue;
		}
		m = btf_members(at.t);
		for (unsigned i = 0; i < btf_vlen(at.t); i++, m++) {
			uint32_t bit = btf_member_bit_offset(at.t, m), bits = btf_member_bitfield_size(at.t, m);

			if ((uint32_t)at.off + size <= bit / 8)
				break;
			if (bits) {
				/* a bitfield read whole, in a load that covers it */
				if ((uint32_t)at.off <= bit / 8 && (bit + bits + 7) / 8 <= (uint32_t)at.off + size)
					return WALK_SCALAR;
				continue;
			}
			if ((uint32_t)at.off < bit / 8)
				break;   /* a hole */
			if ((r = walk_member(env, btf, m, size, tname, res, &at)) != -1)
				break;
		}
		if (r == WALK_STRUCT + 1)
			continue;
		if (r != -1)
			return r;
		return verr(env, -EINVAL, "struct %s doesn't have field at offset %d\n", tname, at.off);
	}
	return verr(env, -EINVAL, "struct nested more than %d deep\n", MAX_NESTED);
}

/*
 * The kernel's btf_struct_access: VT_SCALAR, VT_BTF_ID with *res (id,
 * flags, field), or VT_MEM for a pointer to something not a struct
 * (Linux 6.18: read-only untrusted memory of size 0, read by probing).
 */
static int struct_access(struct venv *env, const struct vreg *reg, int32_t off, uint32_t size,
			 struct walk_res *res)
{
	const struct btf *btf = env->kbtf;
	const struct btf_type *t = btf_type(btf, reg->btf_id);

	for (int depth = 0; depth < MAX_NESTED; depth++) {
		int r = struct_walk(env, btf, t, off, size, res);

		if (r < 0)
			return r;
		if (r == WALK_PTR)
			return VT_BTF_ID;
		if (r == WALK_PTR_UNTRUSTED)
			return VT_MEM;
		if (r == WALK_SCALAR)
			return VT_SCALAR;
		t = btf_type(btf, res->id);   /* a nested struct, at its start */
		off = 0;
	}
	return verr(env, -EINVAL, "struct nested more than %d deep\n", MAX_NESTED);
}

/*
 * Is member field of reg's struct, pointing to struct id, listed in the
 * kernel's BTF as STRUCT<suffix> (task_struct__safe_rcu, ...)?  The
 * kernel's btf_nested_type_is_trusted.
 */
static bool listed_as(const struct venv *env, const struct vreg *reg, const char *field, uint32_t id,
		      const char *suffix)
{
	const struct btf *btf = env->kbtf;
	const struct btf_type *t = btf_type(btf, reg->btf_id), *safe;
	const struct btf_member *m;
	char name[64];
	uint32_t mid;

	if (!t || snprintf(name, sizeof(name), "%s%s", btf_name(btf, t), suffix) >= (int)sizeof(name))
		return false;
	if (!(safe = btf_type(btf, find_named(btf, name, btf_kind(t)))))
		return false;
	m = btf_members(safe);
	for (unsigned i = 0; i < btf_vlen(safe); i++, m++) {
		const struct btf_type *mt = btf_type(btf, m->type);

		if (!mt || btf_kind(mt) != BTF_KIND_PTR)
			continue;
		skip_mods(btf, mt->type, &mid);
		if (mid == id && !strcmp(field, btf_str(btf, m->name_off)))
			return true;
	}
	return false;
}

/* The program holds the RCU read lock: it never sleeps, or it holds a lock. */
static bool in_rcu_cs(const struct venv *env)
{
	return env->cur->lock_id || !env->cur->in_sleepable;
}

/* The trust of a pointer loaded through reg (check_ptr_to_btf_access's rules). */
static uint8_t walked_flags(const struct venv *env, const struct vreg *reg,
			    const struct walk_res *res)
{
	uint8_t flags = res->flags;

	if (reg->flags & VF_UNTRUSTED)
		return VF_UNTRUSTED;   /* what an untrusted pointer reaches is untrusted too */
	if (!btf_reg_trusted(reg) && !(reg->flags & VF_RCU))
		return flags & (uint8_t)~(VF_TRUSTED | VF_RCU);
	if (listed_as(env, reg, res->field, res->id, "__safe_trusted"))
		return flags | VF_TRUSTED;
	if (listed_as(env, reg, res->field, res->id, "__safe_trusted_or_null"))
		return flags | VF_TRUSTED | VF_NULL;
	if (!in_rcu_cs(env) || (reg->flags & VF_NULL))
		return VF_UNTRUSTED;
	if (listed_as(env, reg, res->field, res->id, "__safe_rcu"))
		return flags | VF_RCU;
	if ((flags & VF_RCU) || listed_as(env, reg, res->field, res->id, "__safe_rcu_or_null")) {
		flags |= VF_RCU | VF_NULL;
		if (listed_as(env, reg, res->field, res->id, "__safe_rcu_or_null"))
			flags &= (uint8_t)~VF_UNTRUSTED;
		return flags;
	}
	return VF_UNTRUSTED;   /* Linux 6.18: a member no list vouches for (6.12: a plain pointer) */
}

int check_ptr_to_btf_access(struct venv *env, uint32_t regno, int32_t off, uint32_t size,
			    enum vaccess t, int value_regno)
{
	struct vreg *reg = &regs_of(env)[regno];
	const char *tname = btf_reg_struct_name(env, reg);
	struct walk_res res = { 0, 0, "" };
	struct vreg *dst;
	char tn[48];
	int kind;

	if (!env->gpl)
		return verr(env, -EINVAL, "Cannot access kernel 'struct %s' from non-GPL compatible "
					  "program\n", tname);
	if (off < 0)
		return verr_regs(env, -EACCES, (uint16_t)(1u << regno),
				 "R%u is ptr_%s invalid negative access: off=%d\n", regno, tname, off);
	if (!tnum_is_const(reg->r.var) || reg->r.var.value) {
		tnum_str(tn, sizeof(tn), reg->r.var);
		return verr_regs(env, -EACCES, (uint16_t)(1u << regno),
				 "R%u is ptr_%s invalid variable offset: off=%d, var_off=%s\n", regno,
				 tname, off, tn);
	}
	if (t == ACC_WRITE) {
		vhint(env, "kernel objects reached through BTF-typed pointers are read-only to "
			   "tracing programs");
		return verr(env, -EACCES, "only read is supported\n");
	}
	if ((kind = struct_access(env, reg, off, size, &res)) < 0)
		return kind;
	if (value_regno < 0)
		return 0;
	dst = &regs_of(env)[value_regno];
	if (kind == VT_SCALAR) {
		reg_unknown(env, dst);
		return 0;
	}
	if (kind == VT_MEM) {
		reg_ptr(dst, VT_MEM);
		dst->flags = VF_RDONLY | VF_UNTRUSTED;
		dst->mem_size = 0;
		return 0;
	}
	res.flags = walked_flags(env, reg, &res);
	reg_ptr(dst, VT_BTF_ID);
	dst->flags = res.flags;
	dst->btf_id = res.id;
	if (res.flags & VF_NULL)
		dst->id = new_id(env);
	return 0;
}
