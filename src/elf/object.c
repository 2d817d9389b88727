/*
 * object.c - the public face of BPF objects (bpfvm/object.h): opening
 * runs the readers of this folder in order (ELF, externs, programs, maps,
 * map slots, linking); loading creates the maps, applies CO-RE, and
 * creates the programs; the rest are accessors and global variables.
 */
#include <errno.h>
#include <gelf.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpfvm/hooks.h>

#include "../core/run.h"
#include "../helpers/helpers.h"
#include "../util/log.h"
#include "../util/opts.h"
#include "obj.h"

#define POISON_HELPER BPFVM_MAX_HELPER_ID

static void free_obj(struct bpfvm_object *obj)
{
	obj_free_elf_tables(obj);
	for (size_t i = 0; i < obj->nprogs; i++) {
		struct bpfvm_obj_prog *p = &obj->progs[i];

		free(p->name);
		free(p->sec_name);
		free(p->insns);
		free(p->chunks);
		free(p->lines);
		free(p->load_err);
		free(p->left_out);
		obj_core_forget_failures(p);
	}
	for (size_t i = 0; i < obj->nmaps; i++)
		obj_free_map(&obj->maps[i]);
	for (size_t i = 0; i < obj->nexterns; i++)
		free(obj->externs[i].name);
	btf_ext_free(obj->ext);
	btf_free(obj->btf);
	free(obj->funcs);
	free(obj->progs);
	free(obj->maps);
	free(obj->externs);
	free(obj->btf_custom_path);
	free(obj->kconfig);
	free(obj->name);
	free(obj);
}

static struct bpfvm_object *open_common(const void *buf, size_t size, const char *name,
					const struct bpfvm_object_open_opts *opts)
{
	struct bpfvm_object *obj = calloc(1, sizeof(*obj));
	const char *custom = OPTS_GET(opts, btf_custom_path, NULL);
	const char *kconfig = OPTS_GET(opts, kconfig, NULL);
	const char *given = OPTS_GET(opts, object_name, NULL);
	void *copy = NULL;
	int err = -ENOMEM;

	if (!obj)
		goto fail;
	obj->log = OPTS_GET(opts, log, NULL);
	obj->vm = OPTS_GET(opts, vm, NULL);
	obj->prog_flags = OPTS_GET(opts, prog_flags, 0);
	obj->kernel_only = OPTS_GET(opts, kernel_only, false);
	obj->reuse_maps = OPTS_GET(opts, reuse_maps, false);
	obj->partial = OPTS_GET(opts, partial_load, false);
	obj->kconfig_map = -1;
	obj->name = strdup(given ? given : name);
	if (!obj->name || (custom && !(obj->btf_custom_path = strdup(custom))) ||
	    (kconfig && !(obj->kconfig = strdup(kconfig))))
		goto fail;
	/* libelf wants a writable image; the caller's stays untouched */
	if (!(copy = malloc(size ? size : 1)))
		goto fail;
	memcpy(copy, buf, size);
	err = obj_read_elf(obj, copy, size);
	free(copy);
	if (!err)
		err = obj_collect_externs(obj);
	if (!err)
		err = obj_collect_progs(obj);
	if (!err)
		err = obj_collect_maps(obj);
	if (!err)
		err = obj_collect_map_slots(obj);
	if (!err)
		err = obj_link_progs(obj);
	if (!err)
		return obj;
fail:
	if (obj)
		free_obj(obj);
	errno = err == -ENOTSUP || err == -ENOMEM || err == -E2BIG ? -err : EINVAL;
	return NULL;
}

struct bpfvm_object *bpfvm_object__open_mem(const void *buf, size_t size,
					    const struct bpfvm_object_open_opts *opts)
{
	if (!OPTS_VALID(opts, bpfvm_object_open_opts, OPTS_GET(opts, log, NULL)) || (!buf && size)) {
		errno = EINVAL;
		return NULL;
	}
	return open_common(buf, size, "obj", opts);
}

/* The whole file at path, or NULL with the reason in log. */
static uint8_t *read_file(const char *path, size_t *size, struct bpfvm_log *log)
{
	FILE *f = path ? fopen(path, "rb") : NULL;
	uint8_t *buf = NULL;
	long len;

	if (!f) {
		log_printf(log, "%s: %s\n", path ? path : "(null)", strerror(errno));
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc(len ? (size_t)len : 1)) && fread(buf, 1, (size_t)len, f) == (size_t)len) {
		*size = (size_t)len;
	} else {
		log_printf(log, "%s: cannot read: %s\n", path, strerror(errno ? errno : EIO));
		free(buf);
		buf = NULL;
		errno = EIO;
	}
	fclose(f);
	return buf;
}

struct bpfvm_object *bpfvm_object__open_embedded(const char *path, int index,
						 const struct bpfvm_object_open_opts *opts)
{
	const char *base = path ? strrchr(path, '/') : NULL;
	struct bpfvm_log *log = OPTS_GET(opts, log, NULL);
	BPFVM_OPTS(bpfvm_embedded_select_opts, sel, .log = log);
	struct bpfvm_object *obj = NULL;
	size_t len = 0, off = 0, size;
	char name[256];
	uint8_t *buf;
	int err = 0;

	if (!OPTS_VALID(opts, bpfvm_object_open_opts, log)) {
		errno = EINVAL;
		return NULL;
	}
	if (!(buf = read_file(path, &len, log)))
		return NULL;
	snprintf(name, sizeof(name), "%s", base ? base + 1 : path);
	name[strcspn(name, ".")] = '\0';
	/* A program (a libbpf skeleton's) opens as the BPF object inside it. */
	err = bpfvm_embedded_object__select(buf, len, path, index, &sel, &off, &size);
	if (!err)
		obj = open_common(buf + off, size, name, opts);
	else
		errno = -err;
	free(buf);
	return obj;
}

struct bpfvm_object *bpfvm_object__open_file(const char *path,
					     const struct bpfvm_object_open_opts *opts)
{
	return bpfvm_object__open_embedded(path, -1, opts);
}

/* ---- load ---------------------------------------------------------------------- */

static uint64_t unresolved_helper(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
				  struct bpfvm_run_ctx *run)
{
	(void)r1, (void)r2, (void)r3, (void)r4, (void)r5;
	log_printf(run->log, "%s: reached an instruction the loader could not resolve: a CO-RE "
			     "relocation the target BTF lacks, or an absent weak kernel function\n",
		   run->prog ? bpfvm_prog__name(run->prog) : "program");
	run->fault = -EINVAL;
	return 0;
}

/*
 * What libbpf fills in when it creates a map: a perf event array's 4-byte
 * key and value and one slot per CPU, a ring buffer's size rounded up to
 * a power-of-two number of pages.
 */
static void adjust_def(const struct bpfvm_object *obj, struct bpfvm_map_desc *d)
{
	if (d->type == BPF_MAP_TYPE_PERF_EVENT_ARRAY) {
		if (!d->key_size)
			d->key_size = 4;
		if (!d->value_size)
			d->value_size = 4;
		if (!d->max_entries)
			d->max_entries = (uint32_t)bpfvm__num_possible_cpus(obj->vm);
	}
	if (d->type == BPF_MAP_TYPE_RINGBUF || d->type == BPF_MAP_TYPE_USER_RINGBUF) {
		uint32_t sz = 4096;

		while (sz < d->max_entries && sz < (1u << 31))
			sz <<= 1;
		d->max_entries = sz;
	}
}

/*
 * Where the value's BTF struct has a member of type struct bpf_spin_lock
 * (the kernel's btf_parse_fields looks at the top level): its byte
 * offset, or -1.
 */
static int64_t spin_lock_off(const struct btf *btf, uint32_t value_type)
{
	const struct btf_type *t = btf && value_type ? btf_type(btf, btf_skip_mods(btf, value_type)) : NULL;

	if (!t || btf_kind(t) != BTF_KIND_STRUCT)
		return -1;
	for (unsigned i = 0; i < btf_vlen(t); i++) {
		const struct btf_member *m = &btf_members(t)[i];
		const struct btf_type *mt = btf_type(btf, btf_skip_mods(btf, m->type));
		const char *name = mt ? btf_name(btf, mt) : NULL;

		if (mt && btf_kind(mt) == BTF_KIND_STRUCT && name && !strcmp(name, "bpf_spin_lock"))
			return btf_member_bit_offset(t, m) / 8;
	}
	return -1;
}

static int create_map(struct bpfvm_object *obj, struct omap *m, struct bpfvm_map **out)
{
	struct bpfvm_map_desc def = m->desc;
	struct bpfvm_map *inner = NULL;
	BPFVM_OPTS(bpfvm_map_opts, mo, .name = m->name, .map_flags = m->desc.map_flags,
		   .map_extra = m->desc.map_extra, .log = obj->log,
		   .kernel_only = obj->kernel_only);

	if (m->inner) {
		int err = create_map(obj, m->inner, &inner);
		if (err)
			return err;
		m->inner->map = inner;
		mo.inner_map = inner;
	} else if (m->inner_map >= 0) {
		mo.inner_map = obj->maps[m->inner_map].map;
	}
	adjust_def(obj, &def);
	if (spin_lock_off(obj->btf, def.btf_value_type_id) >= 0) {
		mo.has_spin_lock = true;
		mo.spin_lock_off = (uint32_t)spin_lock_off(obj->btf, def.btf_value_type_id);
	}
	*out = bpfvm_map__new(obj->vm, def.type, def.key_size, def.value_size, def.max_entries, &mo);
	if (!*out) {
		int err = -errno;

		if (err == -ENOTSUP && bpfvm_map_type_kernel_name(def.type))
			obj_err(obj, "map '%s' (section %s) is %s: kernel-only, bpfvm cannot create "
				     "it\n", m->name, m->section, bpfvm_map_type_kernel_name(def.type));
		else
			obj_err(obj, "map '%s' (section %s): cannot be created: %s\n", m->name,
				m->section, strerror(errno));
		return err ? err : -EINVAL;
	}
	return 0;
}

static int init_map(struct bpfvm_object *obj, struct omap *m)
{
	uint32_t zero = 0;
	uint8_t *buf;
	int err;

	if (m->kind == OMAP_USER)
		return 0;
	if (m->reused) {
		err = 0;
	} else if (m->kind != OMAP_KCONFIG) {
		err = bpfvm_map__update_elem(m->map, &zero, m->init, 0);
	} else {
		if (!(buf = calloc(1, m->desc.value_size)))
			return -ENOMEM;
		err = obj_kconfig_fill(obj, buf, m->desc.value_size);
		if (!err)
			err = bpfvm_map__update_elem(m->map, &zero, buf, 0);
		free(buf);
	}
	/* as libbpf does: the verifier may then take their values as constants */
	if (!err && (m->kind == OMAP_RODATA || m->kind == OMAP_KCONFIG))
		err = bpfvm_map__freeze(m->map);
	return err;
}

/*
 * A partial load keeps what would have failed the load as the reason the
 * map or program was left out: the message's first line, without the
 * object's name (and the program's, the caller prints it).
 */
struct capture {
	bool on;                 /* only a partial load captures; otherwise messages go to the log */
	struct bpfvm_log *saved;
	struct bpfvm_log log;
	char buf[1024];
};

static void capture_start(struct bpfvm_object *obj, struct capture *c)
{
	c->on = obj->partial;
	if (!c->on)
		return;
	c->saved = obj->log;
	c->buf[0] = '\0';
	c->log = (struct bpfvm_log){ c->buf, sizeof(c->buf), 0 };
	obj->log = &c->log;
}

/* Back to the object's log; err passed on, or 0 with *why set when left out. */
static int capture_end(struct bpfvm_object *obj, struct capture *c, int err, const char *name,
		       char **why)
{
	size_t pre = strlen(obj->name), n;
	char *text = c->buf;

	if (!c->on)
		return err;
	obj->log = c->saved;
	if (!err)
		return 0;
	if (err == -ENOMEM) {
		log_printf(obj->log, "%s", c->buf);
		return err;
	}
	if (!strncmp(text, obj->name, pre) && !strncmp(text + pre, ": ", 2))
		text += pre + 2;
	n = strlen(name);
	if (!strncmp(text, "program ", 8) && !strncmp(text + 8, name, n) &&
	    !strncmp(text + 8 + n, ": ", 2))
		text += 8 + n + 2;
	n = strcspn(text, "\n");
	free(*why);
	*why = n ? strndup(text, n) : strdup(strerror(-err));
	return *why ? 0 : -ENOMEM;
}

/* reuse_maps: the instance's map of m's name, if it has one: 1, 0 (none), -EINVAL. */
static int reuse_map(struct bpfvm_object *obj, struct omap *m)
{
	struct bpfvm_map *map = obj->reuse_maps ? bpfvm__map_by_name(obj->vm, m->name) : NULL;

	if (!map)
		return 0;
	if (bpfvm_map__type(map) != m->desc.type || bpfvm_map__key_size(map) != m->desc.key_size ||
	    bpfvm_map__value_size(map) != m->desc.value_size) {
		obj_err(obj, "map '%s': the instance's map of that name has another type or size\n",
			m->name);
		return -EINVAL;
	}
	m->map = map;
	m->reused = true;
	return 1;
}

static int create_one_map(struct bpfvm_object *obj, struct omap *m)
{
	struct capture c;
	int err;

	capture_start(obj, &c);
	if (m->inner_map >= 0 && !obj->maps[m->inner_map].map) {
		obj_err(obj, "map '%s' (section %s): its inner map '%s' was not created\n", m->name,
			m->section, obj->maps[m->inner_map].name);
		err = -EINVAL;
	} else {
		err = reuse_map(obj, m);
		err = err ? (err < 0 ? err : 0) : create_map(obj, m, &m->map);
		if (!err && (err = init_map(obj, m))) {
			obj_err(obj, "map '%s': cannot set its initial value: %s\n", m->name,
				strerror(-err));
			bpfvm_map__destroy(m->map);
			m->map = NULL;
		}
	}
	return capture_end(obj, &c, err, "", &m->create_err);
}

/* Maps that another takes as its template (iproute2's inner_id) first. */
static int create_maps(struct bpfvm_object *obj)
{
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < obj->nmaps; i++) {
			struct omap *m = &obj->maps[i];
			int err;

			if (!m->autocreate || (m->inner_map >= 0) != (pass == 1))
				continue;
			if ((err = create_one_map(obj, m)))
				return err;
		}
	}
	return 0;
}

/*
 * A helper only the kernel carries out, with no stand-in (the object was
 * not opened kernel_only): the program cannot be created; say what the
 * helper needs.
 */
static int check_kernel_helpers(struct bpfvm_object *obj, const struct bpfvm_obj_prog *p)
{
	for (uint32_t i = 0; i < p->cnt; i++) {
		const struct bpfvm_insn *in = &p->insns[i];

		if (in->code != (BPFVM_JMP | BPFVM_CALL) || in->src_reg ||
		    !helper_is_kernel_only(obj->vm, in->imm) || obj->vm->helpers[in->imm].fn)
			continue;
		obj_err(obj, "program %s: instruction %u: calls %s#%d, which needs %s: kernel-only, "
			     "bpfvm does not provide it\n", p->name, i, helper_info(in->imm)->name,
			in->imm, helper_kernel_need(in->imm));
		return -ENOTSUP;
	}
	return 0;
}

/* Every map the program refers to was created, or why not. */
static int check_maps(struct bpfvm_object *obj, const struct bpfvm_obj_prog *p,
		      struct bpfvm_map **maps)
{
	for (uint32_t i = 0; i + 1 < p->cnt; i++) {
		const struct bpfvm_insn *in = &p->insns[i];
		const struct omap *m;

		if (in->code != (BPFVM_LD | BPFVM_DW | BPFVM_IMM))
			continue;
		i++;
		if ((in->src_reg != BPFVM_PSEUDO_MAP_FD && in->src_reg != BPFVM_PSEUDO_MAP_VALUE) ||
		    in->imm < 0 || (size_t)in->imm >= obj->nmaps || maps[in->imm])
			continue;
		m = &obj->maps[in->imm];
		if (m->create_err)
			obj_err(obj, "program %s: uses map '%s', which could not be created: %s\n",
				p->name, m->name, m->create_err);
		else
			obj_err(obj, "program %s: uses map '%s', which is not created (its autocreate "
				     "is off)\n", p->name, m->name);
		return m->create_err ? -ENOTSUP : -EINVAL;
	}
	return 0;
}

static int create_prog(struct bpfvm_object *obj, struct bpfvm_obj_prog *p, struct bpfvm_map **maps)
{
	int err;

	BPFVM_OPTS(bpfvm_prog_opts, po, .name = p->name, .flags = obj->prog_flags, .log = obj->log,
		   .maps = maps, .nmaps = obj->nmaps, .prog_type = p->type,
		   .expected_attach_type = p->attach_type,
		   .license = obj->license[0] ? obj->license : NULL);

	if (p->load_err) {
		obj_err(obj, "program %s: %s\n", p->name, p->load_err);
		return -ENOTSUP;
	}
	if ((err = check_maps(obj, p, maps)))
		return err;
	if (!p->def && !p->type) {
		obj_err(obj, "program %s: section name '%s' follows no known convention, so its "
			     "program type is unknown (set it with --type, or bpfvm_obj_prog__set_type)\n",
			p->name, p->sec_name);
		return -EINVAL;
	}
	err = check_kernel_helpers(obj, p);
	if (err)
		return err;
	p->prog = bpfvm_prog__new(obj->vm, p->insns, p->cnt, &po);
	if (!p->prog) {
		err = -errno;
		obj_err(obj, "program %s: cannot be loaded\n", p->name);
		return err ? err : -EINVAL;
	}
	return 0;
}

/* Program arrays and map-in-maps get their `.values` once everything exists. */
static int fill_slots(struct bpfvm_object *obj)
{
	for (size_t i = 0; i < obj->nmaps; i++) {
		struct omap *m = &obj->maps[i];

		for (uint32_t s = 0; s < m->nslots; s++) {
			const struct oslot *sl = &m->slots[s];
			int err = 0;

			if (!m->map)
				break;
			if (sl->prog >= 0 && obj->progs[sl->prog].prog)
				err = bpfvm_map__set_prog(m->map, sl->index, obj->progs[sl->prog].prog);
			else if (sl->map >= 0 && obj->maps[sl->map].map)
				err = bpfvm_map__set_inner(m->map, &sl->index, obj->maps[sl->map].map);
			if (err) {
				obj_err(obj, "map '%s': cannot set slot %u: %s\n", m->name, sl->index,
					strerror(-err));
				return err;
			}
		}
	}
	return 0;
}

static void unload(struct bpfvm_object *obj)
{
	for (size_t i = 0; i < obj->nprogs; i++) {
		bpfvm_prog__destroy(obj->progs[i].prog);
		obj->progs[i].prog = NULL;
		free(obj->progs[i].left_out);
		obj->progs[i].left_out = NULL;
	}
	for (size_t i = 0; i < obj->nmaps; i++) {
		struct omap *m = &obj->maps[i];

		bpfvm_map__destroy(m->map);
		m->map = NULL;
		free(m->create_err);
		m->create_err = NULL;
		if (m->inner) {
			bpfvm_map__destroy(m->inner->map);
			m->inner->map = NULL;
		}
	}
}

static int load_progs(struct bpfvm_object *obj)
{
	struct bpfvm_map **maps = calloc(obj->nmaps ? obj->nmaps : 1, sizeof(*maps));
	int err = maps ? 0 : -ENOMEM;

	for (size_t i = 0; i < obj->nmaps && maps; i++)
		maps[i] = obj->maps[i].map;
	for (size_t i = 0; !err && i < obj->nprogs; i++) {
		struct bpfvm_obj_prog *p = &obj->progs[i];
		struct capture c;

		if (!p->autoload)
			continue;
		capture_start(obj, &c);
		err = create_prog(obj, p, maps);
		err = capture_end(obj, &c, err, p->name, &p->left_out);
	}
	free(maps);
	return err;
}

int bpfvm_object__load(struct bpfvm_object *obj)
{
	int err;

	if (!obj)
		return -EINVAL;
	if (obj->loaded)
		return -EBUSY;
	if (!obj->vm) {
		if (!(obj->vm = bpfvm__new(NULL)))
			return -errno;
		obj->own_vm = true;
	}
	if (!obj->vm->helpers[POISON_HELPER].fn)
		bpfvm__set_helper(obj->vm, POISON_HELPER, "bpfvm_unresolved", unresolved_helper);
	bpfvm__add_context_helpers(obj->vm);
	if (obj->kernel_only)   /* after the context's helpers: stand-ins only where none */
		helpers_register_kernel_only(obj->vm);
	err = obj_core_relocate(obj);
	if (!err)
		err = create_maps(obj);
	if (!err)
		err = load_progs(obj);
	if (!err)
		err = fill_slots(obj);
	if (err) {
		unload(obj);
		return err;
	}
	obj->loaded = true;
	return 0;
}

void bpfvm_object__destroy(struct bpfvm_object *obj)
{
	if (!obj)
		return;
	unload(obj);
	if (obj->own_vm)
		bpfvm__destroy(obj->vm);
	free_obj(obj);
}

/* ---- accessors --------------------------------------------------------------------- */

const char *bpfvm_object__name(const struct bpfvm_object *obj) { return obj ? obj->name : NULL; }
const char *bpfvm_object__license(const struct bpfvm_object *obj) { return obj ? obj->license : NULL; }
uint32_t bpfvm_object__kversion(const struct bpfvm_object *obj) { return obj ? obj->kversion : 0; }
struct bpfvm *bpfvm_object__vm(const struct bpfvm_object *obj) { return obj ? obj->vm : NULL; }

const struct bpfvm_btf *bpfvm_object__btf(const struct bpfvm_object *obj)
{
	/* The public name of the parsed BTF the object holds. */
	return obj ? (const struct bpfvm_btf *)obj->btf : NULL;
}

struct bpfvm_obj_prog *bpfvm_object__next_program(const struct bpfvm_object *obj,
						  const struct bpfvm_obj_prog *prev)
{
	size_t next = prev ? (size_t)(prev - obj->progs) + 1 : 0;

	return obj && next < obj->nprogs ? &obj->progs[next] : NULL;
}

struct bpfvm_obj_prog *bpfvm_object__find_program_by_name(const struct bpfvm_object *obj,
							 const char *name)
{
	for (size_t i = 0; obj && name && i < obj->nprogs; i++)
		if (!strcmp(obj->progs[i].name, name))
			return &obj->progs[i];
	errno = ENOENT;
	return NULL;
}

const char *bpfvm_obj_prog__name(const struct bpfvm_obj_prog *p) { return p ? p->name : NULL; }
const char *bpfvm_obj_prog__section_name(const struct bpfvm_obj_prog *p) { return p ? p->sec_name : NULL; }
uint32_t bpfvm_obj_prog__type(const struct bpfvm_obj_prog *p) { return p ? p->type : 0; }
uint32_t bpfvm_obj_prog__expected_attach_type(const struct bpfvm_obj_prog *p) { return p ? p->attach_type : 0; }
const struct bpfvm_insn *bpfvm_obj_prog__insns(const struct bpfvm_obj_prog *p) { return p ? p->insns : NULL; }
size_t bpfvm_obj_prog__insn_cnt(const struct bpfvm_obj_prog *p) { return p ? p->cnt : 0; }
struct bpfvm_prog *bpfvm_obj_prog__prog(const struct bpfvm_obj_prog *p) { return p ? p->prog : NULL; }
bool bpfvm_obj_prog__autoload(const struct bpfvm_obj_prog *p) { return p && p->autoload; }
bool bpfvm_obj_prog__sleepable(const struct bpfvm_obj_prog *p)
{
	return p && p->def && (p->def->flags & SEC_SLEEPABLE);
}

const char *bpfvm_obj_prog__left_out(const struct bpfvm_obj_prog *p) { return p ? p->left_out : NULL; }

const char *bpfvm_obj_prog__attach_target(const struct bpfvm_obj_prog *p)
{
	return p ? sec_def_target(p->def, p->sec_name) : NULL;
}

int bpfvm_obj_prog__set_type(struct bpfvm_obj_prog *p, uint32_t type)
{
	if (!p)
		return -EINVAL;
	if (p->obj->loaded)
		return -EBUSY;
	p->type = type;
	return 0;
}

int bpfvm_obj_prog__set_autoload(struct bpfvm_obj_prog *p, bool autoload)
{
	if (!p)
		return -EINVAL;
	if (p->obj->loaded)
		return -EBUSY;
	p->autoload = autoload;
	return 0;
}

int bpfvm_obj_prog__source_line(const struct bpfvm_obj_prog *p, size_t insn, const char **file,
			       uint32_t *line, uint32_t *col, const char **text)
{
	const struct oline *best = NULL;

	for (uint32_t i = 0; p && i < p->nlines && p->lines[i].insn <= insn; i++)
		best = &p->lines[i];
	if (!best)
		return -ENOENT;
	if (file)
		*file = best->file;
	if (line)
		*line = best->line;
	if (col)
		*col = best->col;
	if (text)
		*text = best->text;
	return 0;
}

int bpfvm_obj_prog__func_returns_scalar(const struct bpfvm_obj_prog *p, size_t insn)
{
	const struct btf *btf = p ? p->obj->btf : NULL;
	const struct btf_type *fn, *proto, *ret;
	uint32_t id;

	for (uint32_t c = 0; btf && c < p->nchunks; c++) {
		if (p->chunks[c].dst != insn)
			continue;
		id = btf_find(btf, p->obj->funcs[p->chunks[c].func].name, BTF_KIND_FUNC);
		if (!id || !(fn = btf_type(btf, id)) || !(proto = btf_type(btf, fn->type)))
			return -ENOENT;
		if (!proto->type)
			return 0; /* void */
		ret = btf_type(btf, btf_skip_mods(btf, proto->type));
		if (!ret)
			return -ENOENT;
		/* the kernel's btf_type_is_small_int or btf_is_any_enum */
		return (btf_kind(ret) == BTF_KIND_INT && ret->size <= 8) ||
		       btf_kind(ret) == BTF_KIND_ENUM || btf_kind(ret) == BTF_KIND_ENUM64;
	}
	return -ENOENT;
}

size_t bpfvm_object__map_cnt(const struct bpfvm_object *obj) { return obj ? obj->nmaps : 0; }

const struct bpfvm_map_desc *bpfvm_object__map_desc(const struct bpfvm_object *obj, size_t i)
{
	if (!obj || i >= obj->nmaps)
		return NULL;
	obj->maps[i].desc.name = obj->maps[i].name;
	obj->maps[i].desc.section = obj->maps[i].section;
	if (obj->maps[i].inner_map >= 0) /* no deeper: the loader refuses nested map-in-maps */
		obj->maps[i].desc.inner = bpfvm_object__map_desc(obj, (size_t)obj->maps[i].inner_map);
	return &obj->maps[i].desc;
}

struct bpfvm_map *bpfvm_object__map(const struct bpfvm_object *obj, size_t i)
{
	return obj && i < obj->nmaps ? obj->maps[i].map : NULL;
}

struct bpfvm_map *bpfvm_object__next_map(const struct bpfvm_object *obj,
					 const struct bpfvm_map *prev)
{
	size_t i = 0;

	if (!obj || !obj->loaded)
		return NULL;
	if (prev) {
		while (i < obj->nmaps && obj->maps[i].map != prev)
			i++;
		i++;
	}
	while (i < obj->nmaps && !obj->maps[i].map) /* not created: autocreate off, or left out */
		i++;
	return i < obj->nmaps ? obj->maps[i].map : NULL;
}

struct bpfvm_map *bpfvm_object__find_map_by_name(const struct bpfvm_object *obj, const char *name)
{
	for (size_t i = 0; obj && name && i < obj->nmaps; i++) {
		const struct omap *m = &obj->maps[i];

		if ((!strcmp(m->name, name) || (name[0] == '.' && !strcmp(m->section, name))) && m->map)
			return m->map;
	}
	errno = ENOENT;
	return NULL;
}

int bpfvm_object__set_max_entries(struct bpfvm_object *obj, const char *name, uint32_t n)
{
	for (size_t i = 0; obj && name && i < obj->nmaps; i++) {
		if (strcmp(obj->maps[i].name, name))
			continue;
		if (obj->loaded)
			return -EBUSY;
		if (obj->maps[i].kind != OMAP_USER)
			return -EINVAL;
		obj->maps[i].desc.max_entries = n;
		return 0;
	}
	return -ENOENT;
}
