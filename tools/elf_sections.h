/*
 * elf_sections.h - the executable sections of an eBPF ELF object, with
 * their bytes and the symbols defined in them, for `bpfvm disasm`: the
 * library's ELF reader (bpfvm_elf__read) seen as llvm-objdump lists code.
 */
#ifndef BPFVM_TOOLS_ELF_SECTIONS_H
#define BPFVM_TOOLS_ELF_SECTIONS_H

#include <stddef.h>
#include <stdint.h>

#include <bpfvm/object.h>

struct elf_symbol {
	const char *name;
	uint64_t addr;       /* section-relative, in bytes */
	uint8_t type;        /* STT_NOTYPE, STT_FUNC, STT_OBJECT, ... */
};

struct elf_text_section {
	const char *name;
	uint64_t addr;             /* sh_addr: 0 in a relocatable object */
	const uint8_t *data;
	size_t size;
	struct elf_symbol *syms;   /* in symbol-table order */
	size_t nsyms;
};

struct elf_sections {
	struct elf_text_section *secs;   /* in section-header order */
	size_t nsecs;
	struct bpfvm_elf *elf;           /* the tables the strings and bytes live in */
};

/* Whether the buffer starts with the ELF magic. */
int elf_is_elf(const uint8_t *data, size_t len);

/*
 * List the executable sections (SHF_EXECINSTR, with contents) of the
 * 64-bit little-endian EM_BPF object in data[0..len).  Symbols with no
 * name, section and file symbols are left out.  Returns 0, or -1 with
 * "name: why" in err.
 */
int elf_sections_read(const uint8_t *data, size_t len, const char *name, struct elf_sections *out,
		      char *err, size_t errlen);

void elf_sections_free(struct elf_sections *s);

#endif
