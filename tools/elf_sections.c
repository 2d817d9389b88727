/*
 * elf_sections.c - read an eBPF ELF object with libelf: which sections
 * hold code, their bytes, and the symbols that label them.  Which symbols
 * count is llvm-objdump's choice: it never shows file or section symbols,
 * nor symbols without a name, nor ones outside every section.
 */
#include "elf_sections.h"

#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int elf_is_elf(const uint8_t *data, size_t len)
{
	return len >= SELFMAG && !memcmp(data, ELFMAG, SELFMAG);
}

static int check_header(Elf *elf, GElf_Ehdr *eh, char *err, size_t errlen)
{
	if (elf_kind(elf) != ELF_K_ELF) {   /* libelf has no error to tell here */
		snprintf(err, errlen, "not an ELF object: it does not start with \\177ELF");
		return -1;
	}
	if (!gelf_getehdr(elf, eh)) {
		snprintf(err, errlen, "not an ELF object: %s", elf_errmsg(-1));
		return -1;
	}
	if (eh->e_ident[EI_CLASS] != ELFCLASS64) {
		snprintf(err, errlen, "not a 64-bit ELF object");
		return -1;
	}
	if (eh->e_machine != ELF_EM_BPF) {
		snprintf(err, errlen, "not an eBPF object (e_machine %u, not %u)", eh->e_machine,
			 ELF_EM_BPF);
		return -1;
	}
	if (eh->e_ident[EI_DATA] != ELFDATA2LSB) {
		snprintf(err, errlen, "big-endian eBPF objects are not supported");
		return -1;
	}
	return 0;
}

/* The code sections, in order; *index_of maps section index to ours + 1. */
static int list_sections(Elf *elf, struct elf_sections *out, size_t *index_of, size_t shnum,
			 char *err, size_t errlen)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;

	if (elf_getshdrstrndx(elf, &shstrndx)) {
		snprintf(err, errlen, "no section names: %s", elf_errmsg(-1));
		return -1;
	}
	out->secs = calloc(shnum ? shnum : 1, sizeof(*out->secs));
	if (!out->secs) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;
		struct elf_text_section *s;

		if (!gelf_getshdr(scn, &sh) || !(sh.sh_flags & SHF_EXECINSTR) ||
		    sh.sh_type == SHT_NOBITS || !sh.sh_size)
			continue;
		d = elf_getdata(scn, NULL);
		if (!d || !d->d_buf || d->d_size != sh.sh_size) {
			snprintf(err, errlen, "cannot read section %zu: %s", elf_ndxscn(scn),
				 elf_errmsg(-1));
			return -1;
		}
		s = &out->secs[out->nsecs++];
		s->name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (!s->name)
			s->name = "";
		s->addr = sh.sh_addr;
		s->data = d->d_buf;
		s->size = d->d_size;
		index_of[elf_ndxscn(scn)] = out->nsecs;
	}
	return 0;
}

static Elf_Scn *find_symtab(Elf *elf, Elf_Scn **xndx)
{
	Elf_Scn *scn = NULL, *symtab = NULL;
	GElf_Shdr sh;

	*xndx = NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type == SHT_SYMTAB && !symtab)
			symtab = scn;
		else if (sh.sh_type == SHT_SYMTAB_SHNDX)
			*xndx = scn;
	}
	return symtab;
}

/* Our section number (1-based) a symbol belongs to, or 0 if none. */
static size_t symbol_section(const GElf_Sym *sym, Elf32_Word xshndx, const size_t *index_of,
			     size_t shnum)
{
	size_t shndx = sym->st_shndx == SHN_XINDEX ? xshndx : sym->st_shndx;
	int type = GELF_ST_TYPE(sym->st_info);

	if (type == STT_SECTION || type == STT_FILE || shndx == SHN_UNDEF ||
	    (shndx >= SHN_LORESERVE && sym->st_shndx != SHN_XINDEX) || shndx >= shnum)
		return 0;
	return index_of[shndx];
}

static int add_symbols(Elf *elf, int is_rel, struct elf_sections *out, const size_t *index_of,
		       size_t shnum, char *err, size_t errlen)
{
	Elf_Scn *xscn, *scn = find_symtab(elf, &xscn);
	Elf_Data *d, *xd;
	GElf_Shdr sh;
	size_t n;

	if (!scn)
		return 0;
	d = elf_getdata(scn, NULL);
	xd = xscn ? elf_getdata(xscn, NULL) : NULL;
	if (!gelf_getshdr(scn, &sh) || !d || !sh.sh_entsize)
		return 0;
	n = sh.sh_size / sh.sh_entsize;
	for (size_t i = 0; i < out->nsecs; i++) {
		out->secs[i].syms = calloc(n ? n : 1, sizeof(struct elf_symbol));
		if (!out->secs[i].syms) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	}
	/* Symbol 0 is the null symbol. */
	for (size_t i = 1; i < n; i++) {
		GElf_Sym sym;
		Elf32_Word xshndx = 0;
		size_t sec;
		const char *name;
		struct elf_text_section *s;

		if (!gelf_getsymshndx(d, xd, (int)i, &sym, &xshndx))
			continue;
		sec = symbol_section(&sym, xshndx, index_of, shnum);
		name = elf_strptr(elf, sh.sh_link, sym.st_name);
		if (!sec || !name || !*name)
			continue;
		s = &out->secs[sec - 1];
		s->syms[s->nsyms++] = (struct elf_symbol){
			.name = name,
			/* In an object, values are offsets; elsewhere, addresses. */
			.addr = is_rel ? sym.st_value : sym.st_value - s->addr,
			.type = (uint8_t)GELF_ST_TYPE(sym.st_info),
		};
	}
	return 0;
}

int elf_sections_read(const uint8_t *data, size_t len, struct elf_sections *out, char *err,
		      size_t errlen)
{
	GElf_Ehdr eh;
	Elf *elf;
	size_t shnum, *index_of = NULL;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	if (elf_version(EV_CURRENT) == EV_NONE) {
		snprintf(err, errlen, "libelf is too old");
		return -1;
	}
	elf = elf_memory((char *)data, len);
	if (!elf) {
		snprintf(err, errlen, "libelf: %s", elf_errmsg(-1));
		return -1;
	}
	out->elf = elf;
	if (check_header(elf, &eh, err, errlen))
		goto out;
	if (elf_getshdrnum(elf, &shnum)) {
		snprintf(err, errlen, "no section headers: %s", elf_errmsg(-1));
		goto out;
	}
	index_of = calloc(shnum ? shnum : 1, sizeof(*index_of));
	if (!index_of) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (list_sections(elf, out, index_of, shnum, err, errlen) ||
	    add_symbols(elf, eh.e_type == ET_REL, out, index_of, shnum, err, errlen))
		goto out;
	ret = 0;
out:
	free(index_of);
	if (ret)
		elf_sections_free(out);
	return ret;
}

void elf_sections_free(struct elf_sections *s)
{
	for (size_t i = 0; i < s->nsecs; i++)
		free(s->secs[i].syms);
	free(s->secs);
	if (s->elf)
		elf_end(s->elf);
	memset(s, 0, sizeof(*s));
}
