/*
 * mem.c - loads, stores and atomics: the kernel's check_mem_access.  What
 * an access may do depends on the kind of pointer it goes through: map
 * values and keys within their size, the packet within the range a
 * comparison with its end proved, the context by the program type's rules
 * (ctx.c), the stack by stack.c's, sockets by their layouts, memory from
 * helpers within its size.  Also lddw (constants, maps, functions) and the
 * legacy packet loads.
 */
#include "verifier.h"

#include <linux/bpf.h>
#include <stddef.h>
#include <string.h>

#include "../maps/map.h"
#include "ctx.h"
#include "helper_protos.h"

static struct vreg *regs_of(struct venv *env)
{
	return cur_frame(env->cur)->regs;
}

/* [off, off + size) inside [0, mem_size), with the kernel's message otherwise. */
static int mem_access_ok(struct venv *env, uint32_t regno, int64_t off, int64_t size,
			 uint64_t mem_size, bool zero_size_allowed)
{
	bool size_ok = size > 0 || (size == 0 && zero_size_allowed);
	const struct vreg *reg = &regs_of(env)[regno];

	if (off >= 0 && size_ok && (uint64_t)off + (uint64_t)size <= mem_size)
		return 0;
	switch (reg->type) {
	case VT_MAP_KEY:
		return verr_regs(env, -EACCES, (uint16_t)(1u << regno),
				 "invalid access to map key, key_size=%d off=%d size=%d\n",
				 (int)mem_size, (int)off, (int)size);
	case VT_MAP_VALUE:
		return verr_regs(env, -EACCES, (uint16_t)(1u << regno),
				 "invalid access to map value, value_size=%d off=%d size=%d\n",
				 (int)mem_size, (int)off, (int)size);
	case VT_PACKET:
	case VT_PACKET_META:
	case VT_PACKET_END:
		vhint(env, "compare a pointer to the end of the access with the packet's end "
			   "(data_end) before the access");
		return verr_regs(env, -EACCES, (uint16_t)(1u << regno),
				 "invalid access to packet, off=%d size=%d, R%u(id=%u,off=%d,r=%d)\n",
				 (int)off, (int)size, regno, reg->id, (int)off, (int)mem_size);
	default:
		return verr_regs(env, -EACCES, (uint16_t)(1u << regno),
				 "invalid access to memory, mem_size=%u off=%d size=%d\n",
				 (unsigned)mem_size, (int)off, (int)size);
	}
}

/* A memory region with a variable offset: both ends of the offset must fit. */
int check_mem_region_access(struct venv *env, uint32_t regno, int32_t off, int64_t size,
				   uint64_t mem_size, bool zero_size_allowed)
{
	const struct vreg *reg = &regs_of(env)[regno];
	int64_t smin = reg->r.b64.smin;
	int err;

	if (smin < 0 && (smin == INT64_MIN || (off + smin != (int32_t)(off + smin)) || smin + off < 0)) {
		vhint(env, "bound the index from below (if rX s< 0 goto ...) or use an unsigned type");
		return verr_regs(env, -EACCES, (uint16_t)(1u << regno),
				 "R%u min value is negative, either use unsigned index or do a "
				 "if (index >=0) check.\n", regno);
	}
	err = mem_access_ok(env, regno, smin + off, size, mem_size, zero_size_allowed);
	if (err)
		return verr_regs(env, err, (uint16_t)(1u << regno),
				 "R%u min value is outside of the allowed memory range\n", regno);
	if (reg->r.b64.umax >= V_MAX_VAR_OFF) {
		vhint(env, "compare the index with the size of the object before using it");
		return verr_regs(env, -EACCES, (uint16_t)(1u << regno),
				 "R%u unbounded memory access, make sure to bounds check any such "
				 "access\n", regno);
	}
	err = mem_access_ok(env, regno, (int64_t)reg->r.b64.umax + off, size, mem_size,
			    zero_size_allowed);
	if (err)
		return verr_regs(env, err, (uint16_t)(1u << regno),
				 "R%u max value is outside of the allowed memory range\n", regno);
	return 0;
}

int check_map_access(struct venv *env, uint32_t regno, int32_t off, uint32_t size,
		     bool zero_size_allowed)
{
	const struct vreg *reg = &regs_of(env)[regno];
	const struct vmap *m = &env->maps[reg->map];
	int err = check_mem_region_access(env, regno, off, size, m->value_size, zero_size_allowed);

	if (err)
		return err;
	if (m->spin_lock_off >= 0 && reg->r.b64.smin + off < m->spin_lock_off + 4 &&
	    (int64_t)m->spin_lock_off < (int64_t)reg->r.b64.umax + off + size)
		return verr(env, -EACCES, "bpf_spin_lock cannot be accessed directly by load/store\n");
	return 0;
}

int check_ptr_off_reg(struct venv *env, const struct vreg *reg, uint32_t regno)
{
	char tb[48], tn[48];

	if (reg->off < 0)
		return verr_regs(env, -EACCES, (uint16_t)(1u << regno),
				 "negative offset %s ptr R%u off=%d disallowed\n",
				 vtype_str(reg, tb, sizeof(tb)), regno, reg->off);
	if (reg->off)
		return verr_regs(env, -EACCES, (uint16_t)(1u << regno),
				 "dereference of modified %s ptr R%u off=%d disallowed\n",
				 vtype_str(reg, tb, sizeof(tb)), regno, reg->off);
	if (!tnum_is_const(reg->r.var) || reg->r.var.value) {
		tnum_str(tn, sizeof(tn), reg->r.var);
		return verr_regs(env, -EACCES, (uint16_t)(1u << regno),
				 "variable %s access var_off=%s disallowed\n",
				 vtype_str(reg, tb, sizeof(tb)), tn);
	}
	return 0;
}

int check_packet_access(struct venv *env, uint32_t regno, int32_t off, int64_t size,
			       bool zero_size_allowed)
{
	const struct vreg *reg = &regs_of(env)[regno];
	int err;

	if (reg->r.b64.smin < 0)
		return verr_regs(env, -EACCES, (uint16_t)(1u << regno),
				 "R%u min value is negative, either use unsigned index or do a "
				 "if (index >=0) check.\n", regno);
	err = reg->range < 0 ? -EINVAL
			     : mem_access_ok(env, regno, off, size, (uint64_t)reg->range,
					     zero_size_allowed);
	if (err)
		return verr_regs(env, err, (uint16_t)(1u << regno),
				 "R%u offset is outside of the packet\n", regno);
	return 0;
}

/* ---- alignment ------------------------------------------------------------------- */

static int check_ptr_alignment(struct venv *env, const struct vreg *reg, int32_t off,
			       uint32_t size, bool strict_once)
{
	bool strict = env->strict_alignment || strict_once;
	const char *desc = "";
	struct tnum at;
	char tn[48];
	int ip_align = 0;

	switch (reg->type) {
	case VT_PACKET: case VT_PACKET_META:
		ip_align = 2; /* NET_IP_ALIGN, as the kernel emulates it in strict mode */
		break;
	case VT_FLOW_KEYS: desc = "flow keys "; break;
	case VT_MAP_KEY: desc = "key "; break;
	case VT_MAP_VALUE: desc = "value "; break;
	case VT_CTX: desc = "context "; break;
	case VT_STACK: desc = "stack "; strict = true; break;
	case VT_SOCKET: desc = "sock "; break;
	case VT_SOCK_COMMON: desc = "sock_common "; break;
	case VT_TCP_SOCK: desc = "tcp_sock "; break;
	case VT_XDP_SOCK: desc = "xdp_sock "; break;
	default: break;
	}
	if (!strict || size == 1)
		return 0;
	at = tnum_add(reg->r.var, tnum_const((uint64_t)(int64_t)(ip_align + reg->off + off)));
	if (tnum_is_aligned(at, size))
		return 0;
	tnum_str(tn, sizeof(tn), reg->r.var);
	if (ip_align)
		return verr(env, -EACCES, "misaligned packet access off %d+%s+%d+%d size %u\n",
			    ip_align, tn, reg->off, off, size);
	return verr(env, -EACCES, "misaligned %saccess off %s+%d+%d size %u\n", desc, tn, reg->off,
		    off, size);
}

/* ---- the context -------------------------------------------------------------------- */

int check_ctx_access(struct venv *env, uint32_t insn_idx, uint32_t regno, int32_t off,
		     uint32_t size, enum vaccess t, struct vreg *dst)
{
	struct vctx_result res = { VT_SCALAR, 0 };
	bool ldsx = BPFVM_MODE(env->insns[insn_idx].code) == BPFVM_MEMSX &&
		    BPFVM_CLASS(env->insns[insn_idx].code) == BPFVM_LDX;

	if (!env->ctx->access(env, off, (int)size, t == ACC_WRITE, ldsx, &res)) {
		vhint(env, "the %s context (%u bytes) allows no %s of %u bytes at offset %d",
		      ctx_name(env->ctx), env->ctx->ctx_size, t == ACC_WRITE ? "write" : "read", size, off);
		return verr_regs(env, -EACCES, (uint16_t)(1u << regno),
				 "invalid bpf_context access off=%d size=%u\n", off, size);
	}
	/* what a test run's context must hold (the kernel's max_ctx_offset) */
	if ((uint32_t)off + size > env->max_ctx_offset)
		env->max_ctx_offset = (uint32_t)off + size;
	if (dst) {
		if (res.reg_type == VT_SCALAR) {
			reg_unknown(env, dst);
		} else {
			reg_ptr(dst, res.reg_type);
			dst->flags = res.reg_flags;
			if (res.reg_flags & VF_NULL)
				dst->id = new_id(env);
		}
	}
	return 0;
}

/* Sockets: fields of struct bpf_sock (and the larger tcp_sock / xdp_sock). */
static int check_sock_access(struct venv *env, uint32_t regno, int32_t off, uint32_t size)
{
	const struct vreg *reg = &regs_of(env)[regno];
	char tb[48];

	if (reg->r.b64.smin < 0)
		return verr(env, -EACCES, "R%u min value is negative, either use unsigned index or "
					  "do a if (index >=0) check.\n", regno);
	if (ctx_sock_access_ok(reg->type, off, (int)size))
		return 0;
	return verr(env, -EACCES, "R%u invalid %s access off=%d size=%u\n", regno,
		    vtype_str(reg, tb, sizeof(tb)), off, size);
}

/* ---- check_mem_access ------------------------------------------------------------------ */

static void set_value_unknown(struct venv *env, int value_regno)
{
	if (value_regno >= 0)
		reg_unknown(env, &regs_of(env)[value_regno]);
}

/*
 * A frozen map that programs cannot write (.rodata and .kconfig: objects
 * freeze them once filled, as libbpf does) holds values that cannot
 * change, so a read at a constant offset is a constant, and the walk
 * follows only the branches it decides: Linux reads such values through
 * map_direct_value_addr, which only arrays of one entry have (for more,
 * it refuses the load with EOPNOTSUPP and no message).  The caller
 * narrows the constant to the load's width, or sign-extends it.
 */
static bool reads_frozen_value(const struct vmap *m, const struct vreg *reg)
{
	return (m->flags & BPF_F_RDONLY_PROG) && m->type == BPF_MAP_TYPE_ARRAY && m->map &&
	       bpfvm_map__frozen(m->map) && tnum_is_const(reg->r.var);
}

static int read_frozen_value(struct venv *env, const struct vmap *m, const struct vreg *reg,
			     int32_t off, uint32_t size, int value_regno)
{
	uint64_t v = 0;

	if (m->max_entries != 1)
		return verr(env, -EOPNOTSUPP,
			    "map '%s' is frozen and read-only: Linux reads such a map's values as "
			    "constants only in an array of one entry, and refuses the load (EOPNOTSUPP) "
			    "for this one of %u\n", m->name ? m->name : "", m->max_entries);
	/* check_map_access kept off + var + size inside the value */
	memcpy(&v, m->map->array_values + off + (int64_t)reg->r.var.value, size);
	reg_const(&regs_of(env)[value_regno], v);
	return 0;
}

static int map_value_access(struct venv *env, uint32_t regno, int32_t off, uint32_t size,
			    enum vaccess t, int value_regno)
{
	const struct vreg *reg = &regs_of(env)[regno];
	const struct vmap *m = &env->maps[reg->map];
	int err;

	if (t == ACC_WRITE && (m->flags & BPF_F_RDONLY_PROG))
		return verr(env, -EACCES, "write into map forbidden, value_size=%u off=%d size=%u\n",
			    m->value_size, off, size);
	if (t == ACC_READ && (m->flags & BPF_F_WRONLY_PROG))
		return verr(env, -EACCES, "read from map forbidden, value_size=%u off=%d size=%u\n",
			    m->value_size, off, size);
	if ((err = check_map_access(env, regno, off, size, false)))
		return err;
	if (t == ACC_READ && value_regno >= 0 && reads_frozen_value(m, reg))
		return read_frozen_value(env, m, reg, off, size, value_regno);
	if (t == ACC_READ)
		set_value_unknown(env, value_regno);
	return 0;
}

static int access_by_type(struct venv *env, uint32_t insn_idx, uint32_t regno, int32_t off,
			  uint32_t size, enum vaccess t, int value_regno)
{
	struct vreg *reg = &regs_of(env)[regno];
	char tb[48];
	int err;

	switch (reg->type) {
	case VT_MAP_KEY:
		if (t == ACC_WRITE)
			return verr(env, -EACCES, "write to change key R%u not allowed\n", regno);
		err = check_mem_region_access(env, regno, off, size, env->maps[reg->map].key_size, false);
		if (!err)
			set_value_unknown(env, value_regno);
		return err;
	case VT_MAP_VALUE:
		if (reg->flags & VF_NULL)
			break;
		return map_value_access(env, regno, off, size, t, value_regno);
	case VT_MEM:
		if (reg->flags & VF_NULL)
			break;
		if (t == ACC_WRITE && (reg->flags & VF_RDONLY))
			return verr(env, -EACCES, "R%u cannot write into %s\n", regno,
				    vtype_str(reg, tb, sizeof(tb)));
		if (reg->flags & VF_UNTRUSTED) {
			/* read by probing (Linux 6.18): no bounds to keep */
			set_value_unknown(env, value_regno);
			return 0;
		}
		err = check_mem_region_access(env, regno, off, size, reg->mem_size, false);
		if (!err && (t == ACC_READ || (reg->flags & VF_RDONLY)))
			set_value_unknown(env, value_regno);
		return err;
	case VT_CTX:
		if ((err = check_ptr_off_reg(env, reg, regno)))
			return err;
		return check_ctx_access(env, insn_idx, regno, off, size, t,
					t == ACC_READ && value_regno >= 0 ? &regs_of(env)[value_regno] : NULL);
	case VT_STACK:
		if ((err = check_stack_access_within_bounds(env, regno, off, size, t)))
			return err;
		return t == ACC_READ ? check_stack_read(env, regno, off, size, value_regno)
				     : check_stack_write(env, reg, off, size, value_regno, insn_idx);
	case VT_PACKET:
	case VT_PACKET_META:
		if (t == ACC_WRITE && !ctx_may_access_direct_pkt(env, true))
			return verr(env, -EACCES, "cannot write into packet\n");
		err = check_packet_access(env, regno, off, size, false);
		if (!err && t == ACC_READ)
			set_value_unknown(env, value_regno);
		return err;
	case VT_FLOW_KEYS:
		if (off < 0 || (uint64_t)off + size > sizeof(struct bpf_flow_keys))
			return verr(env, -EACCES, "invalid access to flow keys off=%d size=%u\n", off, size);
		if (t == ACC_READ)
			set_value_unknown(env, value_regno);
		return 0;
	case VT_BTF_ID:
		if (reg->flags & VF_NULL)
			break;
		return check_ptr_to_btf_access(env, regno, off, size, t, value_regno);
	case VT_SOCKET: case VT_SOCK_COMMON: case VT_TCP_SOCK: case VT_XDP_SOCK:
		if (reg->flags & VF_NULL)
			break;
		if (t == ACC_WRITE)
			return verr(env, -EACCES, "R%u cannot write into %s\n", regno,
				    vtype_str(reg, tb, sizeof(tb)));
		err = check_sock_access(env, regno, off, size);
		if (!err)
			set_value_unknown(env, value_regno);
		return err;
	default:
		break;
	}
	if (reg->type == VT_SCALAR)
		vhint(env, "R%u is a number here, not a pointer: memory is reached only through "
			   "pointers the verifier knows (stack, context, map values, packet)", regno);
	else if (reg->flags & VF_NULL)
		vhint(env, "R%u may be NULL: compare it with 0 and use it on the non-NULL branch", regno);
	else if (reg->type == VT_MAP_PTR && t == ACC_READ)
		/* a privileged program may: check_ptr_to_map_access, by the kernel's BTF */
		return verr_regs(env, -EACCES, (uint16_t)(1u << regno),
				 "R%u reads struct bpf_map at off=%d size=%u: its fields exist only "
				 "inside the kernel (as kernel BTF lays them out)\n", regno, off, size);
	return verr_regs(env, -EACCES, (uint16_t)(1u << regno), "R%u invalid mem access '%s'\n",
			 regno, vtype_str(reg, tb, sizeof(tb)));
}

int check_mem_access(struct venv *env, uint32_t insn_idx, uint32_t regno, int32_t off,
		     uint32_t size, enum vaccess t, int value_regno, bool strict_align_once,
		     bool is_ldsx)
{
	struct vreg *reg = &regs_of(env)[regno];
	int err;

	if ((err = check_ptr_alignment(env, reg, off, size, strict_align_once)))
		return err;
	facts_note_access(env, insn_idx, reg);
	off += reg->off;
	if ((err = access_by_type(env, insn_idx, regno, off, size, t, value_regno)))
		return err;
	if (size < 8 && value_regno >= 0 && t == ACC_READ &&
	    regs_of(env)[value_regno].type == VT_SCALAR) {
		struct vreg *v = &regs_of(env)[value_regno];

		/* a narrow load zero-extends (or sign-extends) what it read */
		if (is_ldsx) {
			/*
			 * A fill keeps the spilled register's id when it is no
			 * wider than the load; sign-extended, it is the same
			 * value only if its sign bit is clear.  Linux 6.18 keeps
			 * the id regardless, and a branch on the loaded value
			 * then narrows the slot's wrongly (test_kernel_diff's
			 * kernel_ldsx_fill_id); here the link breaks.
			 */
			if ((v->r.var.value | v->r.var.mask) >> (size * 8 - 1) & 1)
				v->id = 0, v->off = 0, v->flags &= (uint8_t)~VF_ADD_CONST;
			range_sext_w(&v->r, size * 8, RANGE_BITS);
		} else {
			range_trunc_w(&v->r, size * 8, RANGE_BITS);
		}
	}
	return 0;
}

/* "same insn cannot be used with different pointers": the kernel rewrites each
 * load/store for one pointer kind (context fields especially). */
static int save_aux_ptr_type(struct venv *env, uint8_t type)
{
	uint8_t *prev = &env->aux[env->insn_idx].ptr_type;
	bool ok_a = type != VT_CTX && type != VT_SOCKET && type != VT_SOCK_COMMON &&
		    type != VT_TCP_SOCK && type != VT_XDP_SOCK && type != VT_BTF_ID;
	bool ok_b = *prev != VT_CTX && *prev != VT_SOCKET && *prev != VT_SOCK_COMMON &&
		    *prev != VT_TCP_SOCK && *prev != VT_XDP_SOCK && *prev != VT_BTF_ID;

	if (*prev == VT_NOT_INIT) {
		*prev = type;
		return 0;
	}
	if (type != *prev && (!ok_a || !ok_b))
		return verr(env, -EINVAL, "same insn cannot be used with different pointers\n");
	return 0;
}

/* ---- the instructions ---------------------------------------------------------------- */

int check_ldx(struct venv *env, const struct bpfvm_insn *insn, enum isa_op op)
{
	bool ldsx = op == ISA_OP_LDXS_B || op == ISA_OP_LDXS_H || op == ISA_OP_LDXS_W;
	uint8_t type;
	int err;

	if ((err = check_reg_arg(env, insn->src_reg, SRC_OP)) ||
	    (err = check_reg_arg(env, insn->dst_reg, DST_OP_NO_MARK)))
		return err;
	type = regs_of(env)[insn->src_reg].type;
	err = check_mem_access(env, env->insn_idx, insn->src_reg, insn->off,
			       isa_access_size(insn->code), ACC_READ, insn->dst_reg, false, ldsx);
	if (!err)
		err = save_aux_ptr_type(env, type);
	if (!err)
		facts_note_result(env, env->insn_idx);
	return err;
}

int check_stx(struct venv *env, const struct bpfvm_insn *insn)
{
	uint8_t type;
	int err;

	if ((err = check_reg_arg(env, insn->src_reg, SRC_OP)) ||
	    (err = check_reg_arg(env, insn->dst_reg, SRC_OP)))
		return err;
	type = regs_of(env)[insn->dst_reg].type;
	err = check_mem_access(env, env->insn_idx, insn->dst_reg, insn->off,
			       isa_access_size(insn->code), ACC_WRITE, insn->src_reg, false, false);
	return err ? err : save_aux_ptr_type(env, type);
}

int check_st(struct venv *env, const struct bpfvm_insn *insn)
{
	uint8_t type;
	int err;

	if ((err = check_reg_arg(env, insn->dst_reg, SRC_OP)))
		return err;
	type = regs_of(env)[insn->dst_reg].type;
	err = check_mem_access(env, env->insn_idx, insn->dst_reg, insn->off,
			       isa_access_size(insn->code), ACC_WRITE, -1, false, false);
	return err ? err : save_aux_ptr_type(env, type);
}

static bool atomic_ptr_ok(const struct vreg *reg)
{
	return reg->type != VT_CTX && !reg_is_pkt(reg) && reg->type != VT_FLOW_KEYS &&
	       reg->type != VT_SOCKET && reg->type != VT_SOCK_COMMON && reg->type != VT_TCP_SOCK &&
	       reg->type != VT_XDP_SOCK;
}

/* load-acquire and store-release: a load or a store, aligned. */
static int check_acq_rel(struct venv *env, const struct bpfvm_insn *insn)
{
	uint32_t size = isa_access_size(insn->code);
	bool load = insn->imm == BPFVM_LOAD_ACQ;
	uint32_t ptr = load ? insn->src_reg : insn->dst_reg;
	uint8_t type;
	int err;

	if ((err = check_reg_arg(env, insn->src_reg, SRC_OP)))
		return err;
	if (load && (err = check_reg_arg(env, insn->dst_reg, DST_OP_NO_MARK)))
		return err;
	if (!load && (err = check_reg_arg(env, insn->dst_reg, SRC_OP)))
		return err;
	type = regs_of(env)[ptr].type;
	err = check_mem_access(env, env->insn_idx, ptr, insn->off, size, load ? ACC_READ : ACC_WRITE,
			       load ? insn->dst_reg : insn->src_reg, true, false);
	return err ? err : save_aux_ptr_type(env, type);
}

int check_atomic(struct venv *env, const struct bpfvm_insn *insn, enum isa_op op)
{
	uint32_t size = isa_access_size(insn->code);
	int load_reg = -1, err;
	struct vreg *dst;
	char tb[48];

	(void)op;
	if (insn->imm == BPFVM_LOAD_ACQ || insn->imm == BPFVM_STORE_REL)
		return check_acq_rel(env, insn);
	if ((err = check_reg_arg(env, insn->src_reg, SRC_OP)) ||
	    (err = check_reg_arg(env, insn->dst_reg, SRC_OP)))
		return err;
	if (insn->imm == BPFVM_CMPXCHG && (err = check_reg_arg(env, 0, SRC_OP)))
		return err;
	dst = &regs_of(env)[insn->dst_reg];
	if (!atomic_ptr_ok(dst))
		return verr(env, -EACCES, "BPF_ATOMIC stores into R%u %s is not allowed\n", insn->dst_reg,
			    vtype_str(dst, tb, sizeof(tb)));
	if (insn->imm & BPFVM_FETCH) {
		load_reg = insn->imm == BPFVM_CMPXCHG ? 0 : insn->src_reg;
		if ((err = check_reg_arg(env, (uint32_t)load_reg, DST_OP)))
			return err;
	}
	err = check_mem_access(env, env->insn_idx, insn->dst_reg, insn->off, size, ACC_READ, -1, true,
			       false);
	if (!err && load_reg >= 0)
		err = check_mem_access(env, env->insn_idx, insn->dst_reg, insn->off, size, ACC_READ,
				       load_reg, true, false);
	if (!err)
		err = save_aux_ptr_type(env, regs_of(env)[insn->dst_reg].type);
	if (!err)
		err = check_mem_access(env, env->insn_idx, insn->dst_reg, insn->off, size, ACC_WRITE, -1,
				       true, false);
	return err;
}

int check_ld_imm(struct venv *env, const struct bpfvm_insn *insn)
{
	struct vreg *dst = &regs_of(env)[insn->dst_reg];
	uint32_t idx = env->insn_idx;
	int err;

	if ((err = check_reg_arg(env, insn->dst_reg, DST_OP)))
		return err;
	switch (insn->src_reg) {
	case 0:
		reg_const(dst, (uint32_t)insn[0].imm | (uint64_t)(uint32_t)insn[1].imm << 32);
		facts_note_result(env, idx);
		return 0;
	case BPFVM_PSEUDO_FUNC:
		if (!env->func_info) {
			vhint(env, "the kernel takes callbacks only from programs with BTF function "
				   "info (clang -g objects); `bpfvm run --checked` runs this one unverified");
			return verr(env, -EINVAL, "missing btf func_info\n");
		}
		reg_ptr(dst, VT_FUNC);
		dst->subprog = (uint32_t)(prog_func_at(env->prog, idx + 1 + (uint32_t)insn->imm) -
					  env->prog->funcs);
		if (dst->subprog == 0)
			return verr(env, -EINVAL, "callback function cannot be the main program\n");
		return 0;
	case BPFVM_PSEUDO_MAP_VALUE:
	case BPFVM_PSEUDO_MAP_IDX_VALUE:
		reg_ptr(dst, VT_MAP_VALUE);
		dst->map = (uint32_t)insn->imm;
		dst->off = insn[1].imm;
		return 0;
	case BPFVM_PSEUDO_MAP_FD:
	case BPFVM_PSEUDO_MAP_IDX:
		reg_ptr(dst, VT_MAP_PTR);
		dst->map = (uint32_t)insn->imm;
		return 0;
	default:
		return verr(env, -EINVAL, "kernel objects by BTF id (lddw src %d) exist only inside "
					  "the kernel\n", insn->src_reg);
	}
}

int check_ld_abs(struct venv *env, const struct bpfvm_insn *insn, enum isa_op op)
{
	struct vstate *st = env->cur;
	struct vreg *regs = regs_of(env);
	int err;

	if (!env->ctx->ld_abs)
		return verr(env, -EINVAL, "BPF_LD_[ABS|IND] instructions not allowed for this program type\n");
	for (uint32_t i = st->curframe; i; i--)
		if (st->frames[i]->in_callback)
			return verr(env, -EINVAL, "cannot use BPF_LD_[ABS|IND] within callback\n");
	if ((err = check_reg_arg(env, 6, SRC_OP)))
		return err;
	if (st->nrefs) { /* Linux 6.13+'s check_resource_leak wording */
		check_reference_leak(env, false);
		return verr(env, -EINVAL, "BPF_LD_[ABS|IND] would lead to reference leak\n");
	}
	if (st->lock_id)
		return verr(env, -EINVAL, "BPF_LD_[ABS|IND] cannot be used inside bpf_spin_lock-ed region\n");
	if (regs[6].type != VT_CTX)
		return verr(env, -EINVAL, "at the time of BPF_LD_ABS|IND R6 != pointer to skb\n");
	if (isa_ops[op].form == F_LDIND && (err = check_reg_arg(env, insn->src_reg, SRC_OP)))
		return err;
	if ((err = check_ptr_off_reg(env, &regs[6], 6)))
		return err;
	for (uint32_t r = 0; r <= 5; r++) {
		reg_not_init(&regs[r]);
		check_reg_arg(env, r, DST_OP_NO_MARK);
	}
	reg_unknown(env, &regs[0]);
	if (st->curframe) {
		/* an out-of-bounds load returns 0 from the function: explore that exit */
		struct vstate *branch;

		if ((err = push_branch(env, env->insn_idx + 1, env->insn_idx, &branch)))
			return err;
		reg_const(&regs[0], 0);
		return prepare_func_exit(env, &env->insn_idx);
	}
	return 0;
}
