/*
 * elf_sections.c - an eBPF ELF object's code as `bpfvm disasm` lists it:
 * which sections hold code, their bytes, and the symbols that label them,
 * over the library's ELF reader (bpfvm_elf__read).  Which symbols count
 * is llvm-objdump's choice: it never shows file or section symbols, nor
 * symbols without a name, nor ones outside every section.
 */
#include "elf_sections.h"

#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int elf_is_elf(const uint8_t *data, size_t len)
{
	return len >= SELFMAG && !memcmp(data, ELFMAG, SELFMAG);
}

/* The code sections, in order; index_of maps ELF section index to ours + 1. */
static int list_sections(const struct bpfvm_elf *elf, struct elf_sections *out, size_t *index_of)
{
	out->secs = calloc(elf->nsecs ? elf->nsecs : 1, sizeof(*out->secs));
	if (!out->secs)
		return -1;
	for (size_t i = 0; i < elf->nsecs; i++) {
		const struct bpfvm_elf_section *sh = &elf->secs[i];

		if (!(sh->flags & SHF_EXECINSTR) || sh->type == SHT_NOBITS || !sh->size ||
		    !sh->data)
			continue;
		out->secs[out->nsecs++] = (struct elf_text_section){
			.name = sh->name, .addr = sh->addr, .data = sh->data, .size = sh->size,
		};
		index_of[i] = out->nsecs;
	}
	return 0;
}

/* Our section number (1-based) a symbol belongs to, or 0 if none. */
static size_t symbol_section(const struct bpfvm_elf_symbol *sym, const size_t *index_of,
			     size_t shnum)
{
	if (sym->type == STT_SECTION || sym->type == STT_FILE || sym->shndx == SHN_UNDEF ||
	    sym->shndx >= shnum)
		return 0;
	return index_of[sym->shndx];
}

static int add_symbols(const struct bpfvm_elf *elf, struct elf_sections *out,
		       const size_t *index_of)
{
	size_t n = elf->nsyms;

	for (size_t i = 0; i < out->nsecs; i++)
		if (!(out->secs[i].syms = calloc(n ? n : 1, sizeof(struct elf_symbol))))
			return -1;
	/* Symbol 0 is the null symbol. */
	for (size_t i = 1; i < n; i++) {
		const struct bpfvm_elf_symbol *sym = &elf->syms[i];
		size_t sec = symbol_section(sym, index_of, elf->nsecs);
		struct elf_text_section *s;

		if (!sec || !sym->name || !*sym->name)
			continue;
		s = &out->secs[sec - 1];
		s->syms[s->nsyms++] = (struct elf_symbol){
			.name = sym->name,
			/* In an object, values are offsets; elsewhere, addresses. */
			.addr = elf->type == ET_REL ? sym->value : sym->value - s->addr,
			.type = sym->type,
		};
	}
	return 0;
}

int elf_sections_read(const uint8_t *data, size_t len, const char *name, struct elf_sections *out,
		      char *err, size_t errlen)
{
	struct bpfvm_log log = { err, errlen, 0 };
	BPFVM_OPTS(bpfvm_elf_read_opts, ro, .log = &log);
	size_t *index_of = NULL;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	if (errlen)
		err[0] = '\0';
	out->elf = bpfvm_elf__read(data, len, name, &ro);
	if (!out->elf) {
		if (!err[0] || errno == ENOMEM)
			snprintf(err, errlen, "%s: %s", name, strerror(errno));
		err[strcspn(err, "\n")] = '\0';
		return -1;
	}
	index_of = calloc(out->elf->nsecs ? out->elf->nsecs : 1, sizeof(*index_of));
	if (index_of && !list_sections(out->elf, out, index_of) &&
	    !add_symbols(out->elf, out, index_of))
		ret = 0;
	else
		snprintf(err, errlen, "%s: out of memory", name);
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
	bpfvm_elf__free(s->elf);
	memset(s, 0, sizeof(*s));
}
