/*
 * elf_progs.c - programs: the functions of executable sections (from their
 * FUNC symbols), the programs among them (every function outside .text),
 * and linking.  Linking copies a program's function, then appends each
 * function it calls or takes the address of (bpf-to-bpf calls, callbacks
 * for bpf_loop and friends), transitively, fixing the call offsets, as
 * libbpf does; on the way every relocation is applied: map references
 * become lddw src 1 with the map's index, global data references lddw
 * src 2 with the map's index and the offset in the second slot,
 * .kconfig externs the same against the .kconfig map.  What user space
 * cannot provide (kernel functions and symbols) is noted on the program
 * and reported when it is loaded.
 */
#include <errno.h>
#include <gelf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../isa/opcode.h"
#include "../util/log.h"
#include "obj.h"

/* The kernel's BPF relocation types (elf.h lacks them on older systems). */
#define R_BPF_NONE 0
#define R_BPF_64_64 1
#define R_BPF_64_ABS64 2
#define R_BPF_64_ABS32 3
#define R_BPF_64_NODYLD32 4
#define R_BPF_64_32 10

#define CODE_CALL (BPFVM_JMP | BPFVM_CALL)
#define CODE_LDDW (BPFVM_LD | BPFVM_DW | BPFVM_IMM)

/* The helper id a relocation that cannot be resolved leaves behind. */
#define POISON_HELPER BPFVM_MAX_HELPER_ID

static int cmp_func(const void *a, const void *b)
{
	const struct ofunc *x = a, *y = b;

	if (x->sec != y->sec)
		return (x->sec > y->sec) - (x->sec < y->sec);
	return (x->start > y->start) - (x->start < y->start);
}

int obj_func_at(const struct bpfvm_object *obj, uint32_t sec, uint32_t insn)
{
	size_t lo = 0, hi = obj->nfuncs;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct ofunc *f = &obj->funcs[mid];

		if (f->sec == sec && f->start == insn)
			return (int)mid;
		if (f->sec < sec || (f->sec == sec && f->start < insn))
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static bool has_func_syms(const struct bpfvm_object *obj, uint32_t sec)
{
	for (size_t i = 0; i < obj->nsyms; i++)
		if (obj->syms[i].type == STT_FUNC && obj->syms[i].shndx == sec)
			return true;
	return false;
}

/*
 * Where functions start in a section without FUNC symbols (hand-written
 * assembly, older compilers): at its global labels (NOTYPE symbols), and
 * at 0 when no label is there; the start is named after the section, as
 * tc names a program by its section.
 */
static bool is_label(const struct osym *s, uint32_t sec)
{
	return s->shndx == sec && s->type == STT_NOTYPE && s->bind != STB_LOCAL && s->value % 8 == 0;
}

static int add_func(struct bpfvm_object *obj, size_t *cap, struct ofunc f)
{
	if (obj->nfuncs == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		struct ofunc *grown = realloc(obj->funcs, ncap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		obj->funcs = grown;
		*cap = ncap;
	}
	obj->funcs[obj->nfuncs++] = f;
	return 0;
}

/* The functions of section sec from its labels, each up to the next one. */
static int label_funcs(struct bpfvm_object *obj, uint32_t sec, size_t *cap)
{
	const struct osec *s = &obj->secs[sec];
	uint32_t ninsns = (uint32_t)(s->size / 8), start = 0;
	const char *name = s->name;
	int err = 0;

	while (start < ninsns && !err) {
		uint32_t next = ninsns;
		const char *next_name = NULL;

		for (size_t i = 0; i < obj->nsyms; i++) {
			const struct osym *y = &obj->syms[i];

			if (!is_label(y, sec) || y->value / 8 > ninsns)
				continue;
			if (y->value / 8 == start && name == s->name)
				name = y->name;
			else if (y->value / 8 > start && y->value / 8 < next) {
				next = (uint32_t)(y->value / 8);
				next_name = y->name;
			}
		}
		err = add_func(obj, cap, (struct ofunc){ .sec = sec, .start = start,
							 .cnt = next - start, .name = name });
		start = next;
		name = next_name;
	}
	return err;
}

static int check_func_sym(struct bpfvm_object *obj, const struct osym *s, const struct osec *sec)
{
	if (s->value % 8 || s->size % 8 || !s->size || s->value > sec->size ||
	    s->size > sec->size - s->value) {
		obj_err(obj, "section %s: function '%s' (offset %llu, size %llu) does not fit "
			     "in the section\n", sec->name, s->name,
			(unsigned long long)s->value, (unsigned long long)s->size);
		return -EINVAL;
	}
	return 0;
}

/*
 * Every FUNC symbol of an executable section is a function; a section
 * without any is cut at its labels (label_funcs).
 */
static int collect_funcs(struct bpfvm_object *obj)
{
	size_t cap = 0;
	int err = 0;

	for (uint32_t sec = 1; sec < obj->nsecs && !err; sec++) {
		if (obj->secs[sec].kind != OSEC_PROG)
			continue;
		if (!has_func_syms(obj, sec)) {
			err = label_funcs(obj, sec, &cap);
			continue;
		}
		for (size_t i = 0; i < obj->nsyms && !err; i++) {
			const struct osym *s = &obj->syms[i];

			if (s->type != STT_FUNC || s->shndx != sec)
				continue;
			err = check_func_sym(obj, s, &obj->secs[sec]);
			if (!err)
				err = add_func(obj, &cap, (struct ofunc){
					.sec = sec, .start = (uint32_t)(s->value / 8),
					.cnt = (uint32_t)(s->size / 8), .name = s->name });
		}
	}
	if (err)
		return err;
	if (!obj->funcs && !(obj->funcs = calloc(1, sizeof(*obj->funcs))))
		return -ENOMEM;
	qsort(obj->funcs, obj->nfuncs, sizeof(*obj->funcs), cmp_func);
	for (size_t i = 1; i < obj->nfuncs; i++) {
		const struct ofunc *a = &obj->funcs[i - 1], *b = &obj->funcs[i];

		if (a->sec == b->sec && a->start + a->cnt > b->start) {
			obj_err(obj, "section %s: functions '%s' and '%s' overlap\n",
				obj->secs[a->sec].name, a->name, b->name);
			return -EINVAL;
		}
	}
	return 0;
}

static int add_prog(struct bpfvm_object *obj, uint32_t func)
{
	const struct ofunc *f = &obj->funcs[func];
	struct bpfvm_obj_prog *p = &obj->progs[obj->nprogs];

	memset(p, 0, sizeof(*p));
	p->obj = obj;
	p->func = func;
	p->name = strdup(f->name);
	p->sec_name = strdup(obj->secs[f->sec].name);
	if (!p->name || !p->sec_name) {
		free(p->name);
		free(p->sec_name);
		return -ENOMEM;
	}
	p->autoload = p->sec_name[0] != '?'; /* libbpf: SEC("?...") loads when asked for */
	p->def = sec_def_find(p->sec_name);
	p->type = p->def ? p->def->prog_type : 0;
	p->attach_type = p->def ? p->def->attach_type : 0;
	obj->nprogs++;
	return 0;
}

/*
 * iproute2 loads an object's programs with the one type its command names
 * (tc: sched_cls or sched_act, ip link: xdp), its tail-call sections
 * ("1/0") too: they take the type the object's other programs share.
 */
static void type_tail_calls(struct bpfvm_object *obj)
{
	uint32_t type = 0, id, slot;

	for (size_t i = 0; i < obj->nprogs; i++) {
		const struct bpfvm_obj_prog *p = &obj->progs[i];

		if (!p->def)
			continue;
		if (type && type != p->type)
			return;
		type = p->type;
	}
	for (size_t i = 0; i < obj->nprogs; i++)
		if (!obj->progs[i].def && sec_def_tail_call(obj->progs[i].sec_name, &id, &slot))
			obj->progs[i].type = type;
}

int obj_collect_progs(struct bpfvm_object *obj)
{
	int err = collect_funcs(obj);

	if (err)
		return err;
	if (!(obj->progs = calloc(obj->nfuncs ? obj->nfuncs : 1, sizeof(*obj->progs))))
		return -ENOMEM;
	for (size_t i = 0; i < obj->nfuncs && !err; i++) {
		const struct ofunc *f = &obj->funcs[i];

		if (!strcmp(obj->secs[f->sec].name, ".text"))
			continue;
		err = add_prog(obj, (uint32_t)i);
	}
	if (!err)
		type_tail_calls(obj);
	return err;
}

/* ---- linking ------------------------------------------------------------- */

struct linker {
	struct bpfvm_object *obj;
	struct bpfvm_obj_prog *prog;
	uint32_t cap;
};

static const struct orelo *relo_at(const struct osec *sec, uint32_t insn)
{
	size_t lo = 0, hi = sec->nrelos;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (sec->relos[mid].insn == insn)
			return &sec->relos[mid];
		if (sec->relos[mid].insn < insn)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Note why the program cannot load (the first reason is kept). */
__attribute__((format(printf, 2, 3))) static int defer(struct linker *l, const char *fmt, ...)
{
	va_list ap;
	char buf[512];

	if (l->prog->load_err)
		return 0;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	l->prog->load_err = strdup(buf);
	return l->prog->load_err ? 0 : -ENOMEM;
}

/* The position of function func in the program, appending it if new. */
static int chunk_of(struct linker *l, uint32_t func, uint32_t *dst)
{
	struct bpfvm_obj_prog *p = l->prog;
	const struct ofunc *f = &l->obj->funcs[func];
	struct bpfvm_insn *grown;
	struct ochunk *chunks;

	for (uint32_t i = 0; i < p->nchunks; i++) {
		if (p->chunks[i].func == func) {
			*dst = p->chunks[i].dst;
			return 0;
		}
	}
	if (p->cnt + (uint64_t)f->cnt > UINT32_MAX / 2)
		return -E2BIG;
	if (!(chunks = realloc(p->chunks, (p->nchunks + 1) * sizeof(*chunks))))
		return -ENOMEM;
	p->chunks = chunks;
	if (!(grown = realloc(p->insns, (p->cnt + f->cnt) * sizeof(*grown))))
		return -ENOMEM;
	p->insns = grown;
	memcpy(p->insns + p->cnt, l->obj->secs[f->sec].data + (size_t)f->start * 8, (size_t)f->cnt * 8);
	chunks[p->nchunks++] = (struct ochunk){ func, p->cnt };
	*dst = p->cnt;
	p->cnt += f->cnt;
	return 0;
}

/* Point a call or function reference at dst to instruction target of section sec. */
static int link_target(struct linker *l, uint32_t sec, int64_t target, uint32_t at,
		       const char *what)
{
	int func = target >= 0 && target <= UINT32_MAX ? obj_func_at(l->obj, sec, (uint32_t)target) : -1;
	uint32_t dst;
	int err;

	if (func < 0) {
		obj_err(l->obj, "program %s: %s to instruction %lld of section %s, "
				"where no function starts\n", l->prog->name, what, (long long)target,
			l->obj->secs[sec].name);
		return -EINVAL;
	}
	err = chunk_of(l, (uint32_t)func, &dst);
	if (err)
		return err;
	l->prog->insns[at].imm = (int32_t)dst - (int32_t)(at + 1);
	return 0;
}

static void poison(struct bpfvm_insn *insn)
{
	*insn = BPFVM_CALL_HELPER(POISON_HELPER);
}

/* A call instruction with a relocation: another function, or a kernel function. */
static int relo_call(struct linker *l, const struct osec *sec, const struct orelo *r, uint32_t at)
{
	const struct osym *sym = &l->obj->syms[r->sym];
	struct bpfvm_insn *insn = &l->prog->insns[at];
	const struct osec *tsec = obj_sec(l->obj, sym->shndx);

	if (r->type != R_BPF_64_32) {
		obj_err(l->obj, "section %s: call at instruction %u has relocation type %u, "
				"expected R_BPF_64_32\n", sec->name, r->insn, r->type);
		return -EINVAL;
	}
	if (sym->shndx == SHN_UNDEF) {
		if (sym->bind == STB_WEAK) {
			poison(insn);
			return 0;
		}
		return defer(l, "calls kernel function '%s' (a kfunc): kfuncs exist only inside "
				"the kernel, user space cannot provide them", sym->name);
	}
	if (!tsec || tsec->kind != OSEC_PROG || insn->src_reg != BPFVM_PSEUDO_CALL) {
		obj_err(l->obj, "section %s: call at instruction %u is relocated against '%s', "
				"which is not a function\n", sec->name, r->insn, sym->name);
		return -EINVAL;
	}
	return link_target(l, sym->shndx, (int64_t)(sym->value / 8) + insn->imm + 1, at, "call");
}

static int relo_extern(struct linker *l, const struct osym *sym, uint32_t sym_idx, uint32_t at)
{
	struct bpfvm_insn *insn = &l->prog->insns[at];

	for (size_t i = 0; i < l->obj->nexterns; i++) {
		const struct oextern *e = &l->obj->externs[i];

		if (e->sym != sym_idx)
			continue;
		if (e->kind == OEXT_KCONFIG) {
			insn[0].src_reg = BPFVM_PSEUDO_MAP_VALUE;
			insn[1].imm = (int32_t)e->offset + insn[0].imm;
			insn[0].imm = l->obj->kconfig_map;
			return 0;
		}
		if (e->weak) {
			insn[0].imm = insn[1].imm = 0; /* a weak kernel symbol that is absent */
			return 0;
		}
		return defer(l, "refers to kernel symbol '%s' (__ksym): the kernel's addresses "
				"do not exist in user space", sym->name);
	}
	obj_err(l->obj, "program %s: refers to '%s', which is defined nowhere (an unresolved "
			"extern)\n", l->prog->name, sym->name);
	return -EINVAL;
}

/* An lddw with a relocation: a map, global data, an extern, or a function's address. */
static int relo_lddw(struct linker *l, const struct osec *sec, const struct orelo *r, uint32_t at)
{
	const struct osym *sym = &l->obj->syms[r->sym];
	struct bpfvm_insn *insn = &l->prog->insns[at];
	const struct osec *tsec = obj_sec(l->obj, sym->shndx);
	int map;

	if (r->type != R_BPF_64_64) {
		obj_err(l->obj, "section %s: lddw at instruction %u has relocation type %u, "
				"expected R_BPF_64_64\n", sec->name, r->insn, r->type);
		return -EINVAL;
	}
	if (sym->shndx == SHN_UNDEF)
		return relo_extern(l, sym, r->sym, at);
	if (tsec && tsec->kind == OSEC_PROG) {
		insn->src_reg = BPFVM_PSEUDO_FUNC;
		return link_target(l, sym->shndx, ((int64_t)sym->value + insn->imm) / 8, at,
				   "function reference");
	}
	map = obj_map_of_sym(l->obj, sym);
	if (map < 0 || !tsec) {
		obj_err(l->obj, "section %s: instruction %u refers to '%s' in section %s, which "
				"holds no map, data or code\n", sec->name, r->insn, sym->name,
			tsec ? tsec->name : "(none)");
		return -EINVAL;
	}
	if (tsec->kind == OSEC_MAPS || tsec->kind == OSEC_LEGACY_MAPS) {
		insn[0].src_reg = BPFVM_PSEUDO_MAP_FD;
		insn[0].imm = map;
		insn[1].imm = 0;
		return 0;
	}
	insn[1].imm = (int32_t)((int64_t)sym->value + insn[0].imm);
	insn[0].src_reg = BPFVM_PSEUDO_MAP_VALUE;
	insn[0].imm = map;
	if ((uint64_t)(uint32_t)insn[1].imm >= l->obj->maps[map].desc.value_size) {
		obj_err(l->obj, "section %s: instruction %u refers to offset %d of %s, past its end\n",
			sec->name, r->insn, insn[1].imm, tsec->name);
		return -EINVAL;
	}
	return 0;
}

static int relo_one(struct linker *l, const struct osec *sec, const struct orelo *r, uint32_t at,
		    bool last)
{
	const struct bpfvm_insn *insn = &l->prog->insns[at];

	if (r->type == R_BPF_NONE)
		return 0;
	if (insn->code == CODE_CALL)
		return relo_call(l, sec, r, at);
	if (insn->code == CODE_LDDW && !last)
		return relo_lddw(l, sec, r, at);
	obj_err(l->obj, "section %s: relocation of type %u against '%s' at instruction %u "
			"(opcode 0x%02x), which is neither a call nor an lddw\n", sec->name, r->type,
		l->obj->syms[r->sym].name, r->insn, insn->code);
	return -EINVAL;
}

/* Apply relocations and link calls in one copied function. */
static int link_chunk(struct linker *l, uint32_t ci)
{
	const struct ofunc f = l->obj->funcs[l->prog->chunks[ci].func];
	const struct osec *sec = &l->obj->secs[f.sec];
	uint32_t base = l->prog->chunks[ci].dst;

	for (uint32_t i = 0; i < f.cnt; i++) {
		const struct orelo *r = relo_at(sec, f.start + i);
		struct bpfvm_insn insn = l->prog->insns[base + i];
		int err = 0;

		if (r)
			err = relo_one(l, sec, r, base + i, i + 1 == f.cnt);
		else if (insn.code == CODE_CALL && insn.src_reg == BPFVM_PSEUDO_CALL)
			err = link_target(l, f.sec, (int64_t)f.start + i + insn.imm + 1, base + i, "call");
		else if (insn.code == CODE_LDDW && insn.src_reg == BPFVM_PSEUDO_FUNC)
			err = link_target(l, f.sec, (int64_t)f.start + i + insn.imm + 1, base + i,
					  "function reference");
		else if (insn.code == CODE_LDDW && (insn.src_reg == BPFVM_PSEUDO_MAP_FD ||
						    insn.src_reg == BPFVM_PSEUDO_MAP_VALUE))
			/* libbpf leaves it as is, and the kernel looks the fd up in the
			 * loader's fd table: in bpfvm no map has that fd */
			err = defer(l, "fd %d is not pointing to valid bpf_map: instruction %u loads "
				       "a literal map fd that no relocation names", insn.imm, base + i);
		if (err)
			return err;
		if (insn.code == CODE_LDDW)
			i++; /* the second slot is data */
	}
	return 0;
}

static int cmp_line(const void *a, const void *b)
{
	const struct oline *x = a, *y = b;

	return (x->insn > y->insn) - (x->insn < y->insn);
}

/* The line info of each copied function, at its place in the program. */
static int link_lines(struct bpfvm_object *obj, struct bpfvm_obj_prog *p)
{
	for (uint32_t c = 0; c < p->nchunks; c++) {
		const struct ofunc *f = &obj->funcs[p->chunks[c].func];
		const struct btf_ext_sec *es = btf_ext_sec(obj->ext, obj->secs[f->sec].name);

		for (uint32_t i = 0; es && i < es->nline; i++) {
			const struct btf_ext_rec *r = &es->line[i];
			struct oline *grown;

			if (r->insn < f->start || r->insn >= f->start + f->cnt)
				continue;
			if (!(grown = realloc(p->lines, (p->nlines + 1) * sizeof(*grown))))
				return -ENOMEM;
			p->lines = grown;
			grown[p->nlines++] = (struct oline){
				.insn = p->chunks[c].dst + r->insn - f->start,
				.file = btf_str(obj->btf, r->file_off),
				.text = btf_str(obj->btf, r->line_off),
				.line = r->line_col >> 10, .col = r->line_col & 0x3ff,
			};
		}
	}
	if (p->nlines)
		qsort(p->lines, p->nlines, sizeof(*p->lines), cmp_line);
	return 0;
}

static int link_prog(struct bpfvm_object *obj, struct bpfvm_obj_prog *p)
{
	struct linker l = { .obj = obj, .prog = p };
	uint32_t dst;
	int err = chunk_of(&l, p->func, &dst);

	for (uint32_t ci = 0; !err && ci < p->nchunks; ci++)
		err = link_chunk(&l, ci);
	if (!err)
		err = link_lines(obj, p);
	if (err == -E2BIG)
		obj_err(obj, "program %s: too many instructions with its sub-programs\n", p->name);
	return err;
}

int obj_link_progs(struct bpfvm_object *obj)
{
	for (size_t i = 0; i < obj->nprogs; i++) {
		int err = link_prog(obj, &obj->progs[i]);

		if (err)
			return err;
	}
	return 0;
}
