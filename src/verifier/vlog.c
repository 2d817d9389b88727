/*
 * vlog.c - what the verifier says.  Errors use the Linux verifier's
 * wording, so that what users (and the kernel's own tests) look for in a
 * kernel log is found here too.  States print as the kernel's log level 2
 * prints them ("R1=ctx() R2=scalar(smin=0,smax=umax=15,var_off=(0x0; 0xf))
 * fp-8=mmmmmmmm").  After an error comes what no kernel says: where in the
 * source the instruction came from, the path that led there, the
 * registers involved in plain words, and a hint when one helps.
 */
#include "verifier.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../isa/disasm.h"
#include "../util/log.h"
#include "helper_protos.h"

void vlog(struct venv *env, const char *fmt, ...)
{
	va_list ap;

	if (!env->log)
		return;
	va_start(ap, fmt);
	log_vprintf(env->log, fmt, ap);
	va_end(ap);
}

int verr_regs(struct venv *env, int err, uint16_t regs, const char *fmt, ...)
{
	va_list ap;

	if (env->err_insn < 0) {
		env->err_insn = (int)env->insn_idx;
		env->err_regs = regs;
	}
	if (!env->log)
		return err;
	va_start(ap, fmt);
	log_vprintf(env->log, fmt, ap);
	va_end(ap);
	return err;
}

void vhint(struct venv *env, const char *fmt, ...)
{
	va_list ap;

	if (env->err_hint[0])
		return; /* the first hint is the one about the error */
	va_start(ap, fmt);
	vsnprintf(env->err_hint, sizeof(env->err_hint), fmt, ap);
	va_end(ap);
}

/* ---- registers ------------------------------------------------------------------ */

static const char *const type_names[VT_COUNT] = {
	[VT_NOT_INIT] = "?",          [VT_SCALAR] = "scalar",     [VT_CTX] = "ctx",
	[VT_MAP_PTR] = "map_ptr",     [VT_MAP_VALUE] = "map_value", [VT_MAP_KEY] = "map_key",
	[VT_STACK] = "fp",            [VT_PACKET_META] = "pkt_meta", [VT_PACKET] = "pkt",
	[VT_PACKET_END] = "pkt_end",  [VT_FLOW_KEYS] = "flow_keys", [VT_SOCKET] = "sock",
	[VT_SOCK_COMMON] = "sock_common", [VT_TCP_SOCK] = "tcp_sock",
	[VT_XDP_SOCK] = "xdp_sock",   [VT_TP_BUFFER] = "tp_buffer", [VT_MEM] = "mem",
	[VT_BUF] = "buf",             [VT_FUNC] = "func",         [VT_BTF_ID] = "ptr_",
};

const char *vtype_str(const struct vreg *reg, char *buf, size_t size)
{
	bool btf = reg->type == VT_BTF_ID || reg->type == VT_MEM;

	snprintf(buf, size, "%s%s%s%s%s%s%s", reg->flags & VF_RDONLY ? "rdonly_" : "",
		 reg->flags & VF_RINGBUF ? "ringbuf_" : "", btf && (reg->flags & VF_RCU) ? "rcu_" : "",
		 btf && (reg->flags & VF_UNTRUSTED) ? "untrusted_" : "",
		 btf && (reg->flags & VF_TRUSTED) ? "trusted_" : "", type_names[reg->type],
		 reg->flags & VF_NULL ? (reg->type == VT_BTF_ID ? "or_null_" : "_or_null") : "");
	return buf;
}

/* The kernel prints small numbers in decimal, others in hex. */
static void log_snum(struct venv *env, int64_t v)
{
	if (v >= INT16_MIN && v <= INT16_MAX)
		vlog(env, "%" PRId64, v);
	else
		vlog(env, "%#" PRIx64, (uint64_t)v);
}

static void log_unum(struct venv *env, uint64_t v)
{
	if (v <= UINT16_MAX)
		vlog(env, "%" PRIu64, v);
	else
		vlog(env, "%#" PRIx64, v);
}

/* "smin=smin32=0,smax=umax=15": bounds that are not the default, equal ones merged. */
static void log_ranges(struct venv *env, const struct vrange *r, const char **sep)
{
	struct {
		const char *name;
		uint64_t val;
		bool omit;
	} m[8] = {
		{ "smin", (uint64_t)r->b64.smin, r->b64.smin == INT64_MIN },
		{ "smax", (uint64_t)r->b64.smax, r->b64.smax == INT64_MAX },
		{ "umin", r->b64.umin, r->b64.umin == 0 },
		{ "umax", r->b64.umax, r->b64.umax == UINT64_MAX },
		{ "smin32", r->b32.smin >= INT16_MIN ? (uint64_t)r->b32.smin : (uint32_t)r->b32.smin,
		  r->b32.smin == INT32_MIN },
		{ "smax32", r->b32.smax >= INT16_MIN ? (uint64_t)r->b32.smax : (uint32_t)r->b32.smax,
		  r->b32.smax == INT32_MAX },
		{ "umin32", r->b32.umin, r->b32.umin == 0 },
		{ "umax32", r->b32.umax, r->b32.umax == UINT32_MAX },
	};

	for (int i = 0; i < 8; i++) {
		bool neg = m[i].name[0] == 's' && (int64_t)m[i].val < 0;

		if (m[i].omit)
			continue;
		vlog(env, "%s%s=", *sep, m[i].name);
		*sep = ",";
		for (int j = i + 2; j < 8; j += 2) {
			bool neg2 = m[j].name[0] == 's' && (int64_t)m[j].val < 0;

			if (m[j].omit || m[j].val != m[i].val || neg2 != neg)
				continue;
			m[j].omit = true;
			vlog(env, "%s=", m[j].name);
		}
		if (m[i].name[0] == 's')
			log_snum(env, (int64_t)m[i].val);
		else
			log_unum(env, m[i].val);
	}
}

static void log_field(struct venv *env, const char **sep, const char *text)
{
	vlog(env, "%s%s", *sep, text);
	*sep = ",";
}

void vlog_reg(struct venv *env, const struct vframe *frame, const struct vreg *reg)
{
	const char *sep = "";
	char buf[64];

	if (reg->type == VT_SCALAR && reg->precise)
		vlog(env, "P");
	if (reg->type == VT_SCALAR && tnum_is_const(reg->r.var)) {
		log_snum(env, (int64_t)reg->r.var.value);
		return;
	}
	vlog(env, "%s", vtype_str(reg, buf, sizeof(buf)));
	if (reg->type == VT_BTF_ID)
		vlog(env, "%s", btf_reg_struct_name(env, reg));
	if (reg->type == VT_STACK) {
		if (frame && frame->frameno != reg->frameno)
			vlog(env, "[%u]", reg->frameno);
		if (tnum_is_const(reg->r.var)) {
			log_snum(env, (int64_t)(reg->r.var.value + (uint64_t)(int64_t)reg->off));
			return;
		}
	}
	vlog(env, "(");
	if (reg->id) {
		snprintf(buf, sizeof(buf), "id=%u", reg->id);
		log_field(env, &sep, buf);
	}
	if (reg->flags & VF_ADD_CONST)
		vlog(env, "%+d", reg->off);
	if (reg->ref_obj_id) {
		snprintf(buf, sizeof(buf), "ref_obj_id=%u", reg->ref_obj_id);
		log_field(env, &sep, buf);
	}
	if (reg->type == VT_MAP_PTR || reg->type == VT_MAP_VALUE || reg->type == VT_MAP_KEY) {
		const struct vmap *m = &env->maps[reg->map];

		if (m->name && m->name[0]) {
			snprintf(buf, sizeof(buf), "map=%s", m->name);
			log_field(env, &sep, buf);
		}
		snprintf(buf, sizeof(buf), "ks=%u,vs=%u", m->key_size, m->value_size);
		log_field(env, &sep, buf);
	}
	if (reg->type != VT_SCALAR && reg->off) {
		log_field(env, &sep, "off=");
		log_snum(env, reg->off);
	}
	if (reg_is_pkt(reg)) {
		log_field(env, &sep, "r=");
		log_unum(env, (uint64_t)(int64_t)reg->range);
	}
	if (reg->type == VT_MEM) {
		log_field(env, &sep, "sz=");
		log_unum(env, reg->mem_size);
	}
	if (tnum_is_const(reg->r.var)) {
		if (reg->r.var.value) {
			log_field(env, &sep, "imm=");
			log_snum(env, (int64_t)reg->r.var.value);
		}
	} else {
		log_ranges(env, &reg->r, &sep);
		if (!tnum_is_unknown(reg->r.var)) {
			tnum_str(buf, sizeof(buf), reg->r.var);
			vlog(env, "%svar_off=%s", sep, buf);
		}
	}
	vlog(env, ")");
}

static const char slot_chars[] = { [SLOT_INVALID] = '?', [SLOT_SPILL] = 'r', [SLOT_MISC] = 'm',
				   [SLOT_ZERO] = '0' };

static void log_slot(struct venv *env, const struct vframe *f, uint32_t i)
{
	const struct vslot *s = &f->stack[i];
	char kinds[9];
	bool valid = false;

	for (int j = 0; j < 8; j++) {
		kinds[j] = slot_chars[s->kind[j]];
		valid |= s->kind[j] != SLOT_INVALID;
	}
	kinds[8] = '\0';
	if (!valid)
		return;
	vlog(env, " fp%d=", -(int)(i + 1) * 8);
	if (s->kind[7] == SLOT_SPILL) {
		/* the bytes above a narrower spill, then the register */
		for (int j = 0; j < 8; j++)
			if (s->kind[j] == SLOT_SPILL) {
				kinds[j] = '\0';
				break;
			}
		vlog(env, "%s", kinds);
		vlog_reg(env, f, &s->spilled);
		return;
	}
	vlog(env, "%s", kinds);
}

void vlog_frame(struct venv *env, const struct vframe *f, bool all)
{
	if (f->frameno)
		vlog(env, " frame%u:", f->frameno);
	for (int i = 0; i < V_NREGS; i++) {
		if (f->regs[i].type == VT_NOT_INIT)
			continue;
		if (!all && !(env->scratched_regs & (1u << i)))
			continue;
		vlog(env, " R%d=", i);
		vlog_reg(env, f, &f->regs[i]);
	}
	for (uint32_t i = 0; i < f->nslots; i++)
		if (all || (env->scratched_slots & (1ull << i)))
			log_slot(env, f, i);
	if (env->cur && f == cur_frame(env->cur) && env->cur->nrefs) {
		vlog(env, " refs=%u", env->cur->refs[0].id);
		for (uint32_t i = 1; i < env->cur->nrefs; i++)
			vlog(env, ",%u", env->cur->refs[i].id);
	}
	if (f->in_callback)
		vlog(env, " cb");
	vlog(env, "\n");
	if (!all) {
		env->scratched_regs = 0;
		env->scratched_slots = 0;
	}
}

/* ---- instructions ------------------------------------------------------------ */

/* The disassembler's names of helpers: the kernel's (helper_protos.c). */
static const char *log_helper_name(void *ctx, int32_t id)
{
	(void)ctx;
	return bpfvm_helper_name(id);
}

/* "12: (85) call bpf_map_lookup_elem#1" - the text the log shows for insn idx. */
static void insn_text(struct venv *env, uint32_t idx, char *buf, size_t size)
{
	static const struct disasm_cbs cbs = { .helper_name = log_helper_name };
	const struct bpfvm_insn *insn = &env->insns[idx];
	char text[160];

	if (disasm_insn(env->insns, env->cnt, idx, BPFVM_SYNTAX_KERNEL, DISASM_STRICT, &cbs, text,
			sizeof(text)) < 0)
		snprintf(text, sizeof(text), "?");
	snprintf(buf, size, "%u: (%02x) %s", idx, insn->code, text);
}

static uint32_t log_insn(struct venv *env, uint32_t idx)
{
	char buf[200];

	insn_text(env, idx, buf, sizeof(buf));
	vlog(env, "%s\n", buf);
	return (uint32_t)strlen(buf);
}

void vlog_insn_line(struct venv *env, uint32_t idx)
{
	log_insn(env, idx);
}

void vlog_insn(struct venv *env, uint32_t idx)
{
	env->insn_text_len = log_insn(env, idx);
	/* where the state after it goes on the same line, if nothing comes between */
	env->insn_log_end = env->log ? env->log->len : 0;
}

/* After an instruction's line: "; R0=1" aligned as the kernel aligns it. */
void vlog_insn_state(struct venv *env)
{
	struct vframe *f = cur_frame(env->cur);
	uint32_t pos = env->insn_text_len, col;

	if (!env->scratched_regs && !env->scratched_slots)
		return;
	if (env->log && env->insn_log_end && env->log->len == env->insn_log_end) {
		/* on the instruction's line: drop its newline */
		env->log->len--;
		col = pos + 4 > 40 ? ((pos + 4 + 7) & ~7u) : 40;
		vlog(env, "%*c;", (int)(col - pos - 1), ' ');
	} else {
		vlog(env, "%u:", env->prev_insn_idx); /* the instruction just checked */
	}
	vlog_frame(env, f, false);
}

/* ---- the error's context ----------------------------------------------------- */

static void explain_reg(struct venv *env, uint32_t regno, const struct vreg *reg)
{
	char buf[64];

	vlog(env, "  R%u ", regno);
	switch (reg->type) {
	case VT_NOT_INIT:
		vlog(env, "has not been written on this path%s\n",
		     regno >= 1 && regno <= 5 ? " (calls clobber r1-r5)" : "");
		return;
	case VT_SCALAR:
		if (tnum_is_const(reg->r.var))
			vlog(env, "is the number %" PRId64 "\n", (int64_t)reg->r.var.value);
		else
			vlog(env, "is a number in [%" PRId64 ", %" PRId64 "] (unsigned [%" PRIu64
				  ", %" PRIu64 "]), not a pointer\n",
			     reg->r.b64.smin, reg->r.b64.smax, reg->r.b64.umin, reg->r.b64.umax);
		return;
	default:
		break;
	}
	vlog(env, "is a pointer to %s", vtype_str(reg, buf, sizeof(buf)));
	if (reg->type == VT_MAP_VALUE || reg->type == VT_MAP_KEY || reg->type == VT_MAP_PTR)
		vlog(env, " of map %s (key %u bytes, value %u bytes)",
		     env->maps[reg->map].name ? env->maps[reg->map].name : "?",
		     env->maps[reg->map].key_size, env->maps[reg->map].value_size);
	if (reg->flags & VF_NULL)
		vlog(env, ", possibly NULL (compare it with 0 first)");
	if (tnum_is_const(reg->r.var))
		vlog(env, ", at offset %" PRId64, (int64_t)reg->r.var.value + reg->off);
	else
		vlog(env, ", at offset %d plus a number in [%" PRId64 ", %" PRId64 "]", reg->off,
		     reg->r.b64.smin, reg->r.b64.smax);
	if (reg_is_pkt(reg))
		vlog(env, ", %d bytes known to be in the packet", reg->range > 0 ? reg->range : 0);
	vlog(env, "\n");
}

/* "at prog.bpf.c:10:12: return data[200];" from the program's line info. */
static void log_source(struct venv *env, uint32_t idx)
{
	const char *file = NULL, *text = NULL;
	uint32_t line = 0, col = 0;

	if (!env->source_line || env->source_line(env->source_ctx, idx, &file, &line, &col, &text))
		return;
	while (text && (*text == ' ' || *text == '\t'))
		text++;
	vlog(env, "  at %s:%u:%u: %s\n", file ? file : "?", line, col, text ? text : "");
}

/* The last instructions of the path, as ranges "0-4 -> 9-12". */
static void log_path(struct venv *env)
{
	uint32_t first = env->npath > 8 ? env->npath - 8 : 0;

	if (!env->npath)
		return;
	vlog(env, "  path:%s", first ? " ..." : "");
	for (uint32_t i = first; i < env->npath; i++) {
		const struct vseg *s = &env->path[i];

		if (s->start == PATH_LOOP) {
			const struct vloop_rec *rec = &env->loops[s->end];

			vlog(env, "%s(%u-%u, %llu iterations summarized)", i > first ? " -> " : " ",
			     rec->body[0], rec->body[rec->len - 1], (unsigned long long)rec->count);
			continue;
		}
		vlog(env, "%s%u", i > first ? " -> " : " ", s->start);
		if (s->end != s->start)
			vlog(env, "-%u", s->end);
	}
	vlog(env, "\n");
}

void vlog_error_context(struct venv *env)
{
	char buf[200];
	uint32_t idx;

	if (env->err_insn < 0 || (uint32_t)env->err_insn >= env->cnt)
		return;
	idx = (uint32_t)env->err_insn;
	insn_text(env, idx, buf, sizeof(buf));
	vlog(env, "-- at instruction %s\n", buf);
	log_source(env, idx);
	log_path(env);
	if (env->cur)
		for (uint32_t r = 0; r < V_NREGS; r++)
			if (env->err_regs & (1u << r))
				explain_reg(env, r, &cur_frame(env->cur)->regs[r]);
	if (env->err_hint[0])
		vlog(env, "  hint: %s\n", env->err_hint);
}
