/*
 * elf_read.c - reading a BPF object's ELF file with libelf: the header
 * (64-bit, little-endian, EM_BPF, relocatable), every section (copied and
 * classified by name and flags, as libbpf does), the symbol table, the
 * relocations of executable sections and of .maps, the license and
 * version sections, and the BTF.  Everything is copied so the ELF handle
 * closes before open returns.
 *
 * bpfvm's one ELF reader: bpfvm_elf__read (elf_list.c) lists an object's
 * sections, symbols and relocations through it for `bpfvm disasm` and the
 * benchmark's extractor, leaving out what only loading needs (an
 * ET_REL file, a symbol table, the license, the BTF).
 */
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "../util/log.h"
#include "obj.h"

#ifndef EM_BPF
#define EM_BPF 247
#endif

void obj_err(struct bpfvm_object *obj, const char *fmt, ...)
{
	va_list ap;

	log_printf(obj->log, "%s: ", obj->name);
	va_start(ap, fmt);
	log_vprintf(obj->log, fmt, ap);
	va_end(ap);
}

const struct osec *obj_sec(const struct bpfvm_object *obj, uint32_t idx)
{
	return idx < obj->nsecs ? &obj->secs[idx] : NULL;
}

int obj_sec_by_name(const struct bpfvm_object *obj, const char *name)
{
	for (size_t i = 1; i < obj->nsecs; i++)
		if (obj->secs[i].name && !strcmp(obj->secs[i].name, name))
			return (int)i;
	return -1;
}

static bool is_named(const char *name, const char *base)
{
	size_t n = strlen(base);

	return !strncmp(name, base, n) && (name[n] == '\0' || name[n] == '.');
}

static enum osec_kind classify(const struct osec *s)
{
	if (s->type == SHT_PROGBITS && s->size) {
		if (s->flags & SHF_EXECINSTR)
			return OSEC_PROG;
		if (is_named(s->name, ".data"))
			return OSEC_DATA;
		if (is_named(s->name, ".rodata"))
			return OSEC_RODATA;
		if (!strcmp(s->name, ".maps"))
			return OSEC_MAPS;
		if (!strcmp(s->name, "maps"))
			return OSEC_LEGACY_MAPS;
	}
	if (s->type == SHT_NOBITS && is_named(s->name, ".bss"))
		return OSEC_BSS;
	return OSEC_OTHER;
}

static int check_header(struct bpfvm_object *obj, Elf *elf, bool listing)
{
	GElf_Ehdr eh;

	if (elf_kind(elf) != ELF_K_ELF) {   /* libelf has no error to tell here */
		obj_err(obj, "not an ELF file (it does not start with \\177ELF)\n");
		return -EINVAL;
	}
	if (!gelf_getehdr(elf, &eh)) {
		obj_err(obj, "not an ELF file (%s)\n", elf_errmsg(-1));
		return -EINVAL;
	}
	if (eh.e_ident[EI_CLASS] != ELFCLASS64) {
		obj_err(obj, "not a 64-bit ELF file: BPF objects are ELFCLASS64\n");
		return -EINVAL;
	}
	if (eh.e_ident[EI_DATA] != ELFDATA2LSB) {
		obj_err(obj, "big-endian BPF objects are not supported (build with -target bpfel)\n");
		return -ENOTSUP;
	}
	if (eh.e_machine != EM_BPF) {
		obj_err(obj, "ELF machine %u is not BPF (%u)\n", eh.e_machine, EM_BPF);
		return -EINVAL;
	}
	obj->e_type = eh.e_type;
	if (eh.e_type != ET_REL && !listing) {
		obj_err(obj, "ELF type %u: a BPF object is relocatable (ET_REL)\n", eh.e_type);
		return -EINVAL;
	}
	return 0;
}

static int read_section(struct bpfvm_object *obj, Elf *elf, Elf_Scn *scn, size_t shstrndx,
			bool listing)
{
	GElf_Shdr sh;
	struct osec *s;
	Elf_Data *d;
	const char *name;
	size_t idx = elf_ndxscn(scn);

	if (idx >= obj->nsecs || !gelf_getshdr(scn, &sh) ||
	    !(name = elf_strptr(elf, shstrndx, sh.sh_name))) {
		obj_err(obj, "section %zu: bad section header (%s)\n", idx, elf_errmsg(-1));
		return -EINVAL;
	}
	s = &obj->secs[idx];
	s->idx = (uint32_t)idx;
	s->type = sh.sh_type;
	s->flags = sh.sh_flags;
	s->addr = sh.sh_addr;
	s->map = -1;
	if (!(s->name = strdup(name)))
		return -ENOMEM;
	if (sh.sh_type == SHT_NOBITS) {
		s->size = sh.sh_size;
	} else if (sh.sh_type != SHT_NULL) {
		d = elf_getdata(scn, NULL);
		if (!d) {
			obj_err(obj, "section %s: cannot read its data (%s)\n", name, elf_errmsg(-1));
			return -EINVAL;
		}
		s->size = d->d_size;
		if (d->d_size && !d->d_buf) {
			obj_err(obj, "section %s: no data\n", name);
			return -EINVAL;
		}
		if (d->d_size && !(s->data = malloc(d->d_size)))
			return -ENOMEM;
		if (d->d_size)
			memcpy(s->data, d->d_buf, d->d_size);
	}
	s->kind = classify(s);
	/* a listing shows what there is, a trailing partial instruction too */
	if (s->kind == OSEC_PROG && s->size % sizeof(struct bpfvm_insn) && !listing) {
		obj_err(obj, "section %s: %zu bytes is not a whole number of instructions\n", name,
			s->size);
		return -EINVAL;
	}
	return 0;
}

static int read_symbols(struct bpfvm_object *obj, Elf *elf, Elf_Scn *scn, const GElf_Shdr *sh,
			Elf_Scn *xndx)
{
	Elf_Data *d = elf_getdata(scn, NULL), *xd = xndx ? elf_getdata(xndx, NULL) : NULL;
	size_t n;

	if (!d || !sh->sh_entsize || sh->sh_entsize != sizeof(Elf64_Sym)) {
		obj_err(obj, "symbol table: malformed (%s)\n", elf_errmsg(-1));
		return -EINVAL;
	}
	n = d->d_size / sh->sh_entsize;
	if (!(obj->syms = calloc(n ? n : 1, sizeof(*obj->syms))))
		return -ENOMEM;
	obj->nsyms = n;
	for (size_t i = 0; i < n; i++) {
		GElf_Sym sym;
		Elf32_Word xshndx = 0;
		const char *name;

		if (!gelf_getsymshndx(d, xd, (int)i, &sym, &xshndx) ||
		    !(name = elf_strptr(elf, sh->sh_link, sym.st_name))) {
			obj_err(obj, "symbol %zu: malformed (%s)\n", i, elf_errmsg(-1));
			return -EINVAL;
		}
		if (!(obj->syms[i].name = strdup(name)))
			return -ENOMEM;
		obj->syms[i].value = sym.st_value;
		obj->syms[i].size = sym.st_size;
		obj->syms[i].shndx = sym.st_shndx == SHN_XINDEX && xd ? xshndx : sym.st_shndx;
		obj->syms[i].type = GELF_ST_TYPE(sym.st_info);
		obj->syms[i].bind = GELF_ST_BIND(sym.st_info);
	}
	return 0;
}

static int cmp_relo(const void *a, const void *b)
{
	const struct orelo *x = a, *y = b;

	return (x->insn > y->insn) - (x->insn < y->insn);
}

/* Relocations of an executable section or .maps; others are not ours (debug info). */
static int read_relos(struct bpfvm_object *obj, Elf_Scn *scn, const GElf_Shdr *sh)
{
	struct osec *target = sh->sh_info < obj->nsecs ? &obj->secs[sh->sh_info] : NULL;
	Elf_Data *d;
	size_t n;

	if (sh->sh_type == SHT_RELA) {
		obj_err(obj, "section %s: RELA relocations are not used by BPF objects\n",
			obj->secs[elf_ndxscn(scn)].name);
		return -EINVAL;
	}
	if (!target || (target->kind != OSEC_PROG && target->kind != OSEC_MAPS))
		return 0;
	d = elf_getdata(scn, NULL);
	if (!d || sh->sh_entsize != sizeof(Elf64_Rel)) {
		obj_err(obj, "section %s: malformed relocations\n", obj->secs[elf_ndxscn(scn)].name);
		return -EINVAL;
	}
	n = d->d_size / sizeof(Elf64_Rel);
	free(target->relos);
	if (!(target->relos = calloc(n ? n : 1, sizeof(*target->relos))))
		return -ENOMEM;
	target->nrelos = n;
	for (size_t i = 0; i < n; i++) {
		GElf_Rel rel;

		if (!gelf_getrel(d, (int)i, &rel) || rel.r_offset % 8 ||
		    rel.r_offset >= target->size || GELF_R_SYM(rel.r_info) >= obj->nsyms) {
			obj_err(obj, "section %s: relocation %zu is malformed (offset %llu, symbol %llu)\n",
				target->name, i, (unsigned long long)rel.r_offset,
				(unsigned long long)GELF_R_SYM(rel.r_info));
			return -EINVAL;
		}
		target->relos[i].insn = (uint32_t)(rel.r_offset / 8);
		target->relos[i].type = (uint32_t)GELF_R_TYPE(rel.r_info);
		target->relos[i].sym = (uint32_t)GELF_R_SYM(rel.r_info);
	}
	qsort(target->relos, n, sizeof(*target->relos), cmp_relo);
	return 0;
}

/* The extended section indexes of the symbols (SHT_SYMTAB_SHNDX), or NULL. */
static Elf_Scn *find_xndx(Elf *elf)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(elf, scn)))
		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_SYMTAB_SHNDX)
			return scn;
	return NULL;
}

/* Symbol table and relocations, once every section is known. */
static int read_tables(struct bpfvm_object *obj, Elf *elf, bool listing)
{
	Elf_Scn *scn = NULL, *xndx = find_xndx(elf);
	bool have_symtab = false;
	int err = 0;

	while (!err && (scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh))
			return -EINVAL;
		if (sh.sh_type == SHT_SYMTAB) {
			if (have_symtab) {
				obj_err(obj, "more than one symbol table\n");
				return -EINVAL;
			}
			have_symtab = true;
			err = read_symbols(obj, elf, scn, &sh, xndx);
		}
	}
	if (!err && !have_symtab && !listing) {
		obj_err(obj, "no symbol table: is this a BPF object from clang?\n");
		return -EINVAL;
	}
	while (!err && (scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh))
			return -EINVAL;
		if (sh.sh_type == SHT_REL || sh.sh_type == SHT_RELA)
			err = read_relos(obj, scn, &sh);
	}
	return err;
}

static int read_license_version(struct bpfvm_object *obj)
{
	int lic = obj_sec_by_name(obj, "license"), ver = obj_sec_by_name(obj, "version");

	if (lic > 0 && obj->secs[lic].data) {
		const struct osec *s = &obj->secs[lic];
		size_t n = strnlen((const char *)s->data, s->size);

		if (n >= sizeof(obj->license)) {
			obj_err(obj, "section license: longer than %zu bytes\n", sizeof(obj->license) - 1);
			return -EINVAL;
		}
		memcpy(obj->license, s->data, n);
		obj->license[n] = '\0';
	}
	if (ver > 0 && obj->secs[ver].type != SHT_NOBITS) {
		if (obj->secs[ver].size != 4 || !obj->secs[ver].data) {
			obj_err(obj, "section version: %zu bytes, expected 4\n", obj->secs[ver].size);
			return -EINVAL;
		}
		memcpy(&obj->kversion, obj->secs[ver].data, 4);
	}
	return 0;
}

static int read_btf(struct bpfvm_object *obj)
{
	int b = obj_sec_by_name(obj, ".BTF"), e = obj_sec_by_name(obj, ".BTF.ext");

	if (b > 0 && obj->secs[b].data) {
		obj->btf = btf_parse(obj->secs[b].data, obj->secs[b].size, ".BTF", obj->log);
		if (!obj->btf)
			return -errno;
	}
	if (e > 0 && obj->secs[e].data && obj->btf) {
		obj->ext = btf_ext_parse(obj->secs[e].data, obj->secs[e].size, obj->btf, obj->log);
		if (!obj->ext)
			return -errno;
	}
	return 0;
}

static int read_sections(struct bpfvm_object *obj, Elf *elf, bool listing)
{
	size_t shstrndx, nsecs;
	Elf_Scn *scn = NULL;
	int err = 0;

	if (elf_getshdrstrndx(elf, &shstrndx) || elf_getshdrnum(elf, &nsecs) || nsecs == 0 ||
	    nsecs > 1u << 20) {
		obj_err(obj, "cannot read the section table (%s)\n", elf_errmsg(-1));
		return -EINVAL;
	}
	if (!(obj->secs = calloc(nsecs, sizeof(*obj->secs))))
		return -ENOMEM;
	obj->nsecs = nsecs;
	for (size_t i = 0; i < nsecs; i++)
		obj->secs[i].map = -1;
	while (!err && (scn = elf_nextscn(elf, scn)))
		err = read_section(obj, elf, scn, shstrndx, listing);
	return err;
}

void obj_free_elf_tables(struct bpfvm_object *obj)
{
	for (size_t i = 0; i < obj->nsecs; i++) {
		free(obj->secs[i].name);
		free(obj->secs[i].data);
		free(obj->secs[i].relos);
	}
	for (size_t i = 0; i < obj->nsyms; i++)
		free(obj->syms[i].name);
	free(obj->secs);
	free(obj->syms);
	obj->secs = NULL, obj->syms = NULL, obj->nsecs = obj->nsyms = 0;
}

/* Header, sections, symbols, relocations: what listing needs and loading starts with. */
int obj_read_elf_tables(struct bpfvm_object *obj, const void *buf, size_t size, bool listing)
{
	Elf *elf;
	int err;

	if (elf_version(EV_CURRENT) == EV_NONE) {
		obj_err(obj, "libelf is too old\n");
		return -ENOTSUP;
	}
	elf = elf_memory((char *)buf, size);
	if (!elf) {
		obj_err(obj, "not an ELF file (%s)\n", elf_errmsg(-1));
		return -EINVAL;
	}
	err = check_header(obj, elf, listing);
	if (!err)
		err = read_sections(obj, elf, listing);
	if (!err)
		err = read_tables(obj, elf, listing);
	elf_end(elf);
	return err;
}

int obj_read_elf(struct bpfvm_object *obj, const void *buf, size_t size)
{
	int err = obj_read_elf_tables(obj, buf, size, false);

	if (!err)
		err = read_license_version(obj);
	if (!err)
		err = read_btf(obj);
	return err;
}
