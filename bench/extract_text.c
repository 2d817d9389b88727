/*
 * extract_text.c - turn one benchmark program, an ELF object built by
 * clang -target bpf, into raw instruction slots bpfvm_prog__new takes.
 *
 *   extract_text IN.o OUT.bin
 *
 * bpfvm has no ELF loader yet, and the benchmark must not grow one: it
 * only needs .text as it is.  What this adds to `llvm-objcopy -O binary
 * --only-section=.text` is the checking that makes the copy safe to run:
 *
 * - the entry, bench_main, must be the first instruction, because a run
 *   starts at slot 0;
 * - a relocation against .text may only be a bpf-to-bpf call to a function
 *   in .text.  clang-19 already fills in the call's offset for a static
 *   callee and emits no relocation; for a global callee it leaves imm = -1
 *   with an R_BPF_64_32, which is resolved here the way libbpf does
 *   (target slot = symbol value / 8 + imm + 1).  Any other relocation (a
 *   map, a global variable, a string in .rodata) means the program needs
 *   a loader: refuse it rather than run it with a dangling address.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpfvm/isa.h>

#define ENTRY "bench_main"
#define R_BPF_64_32 10

static const char *in_path;

static int fail(const char *fmt, const char *detail)
{
	fprintf(stderr, "extract_text: %s: ", in_path);
	fprintf(stderr, fmt, detail);
	fputc('\n', stderr);
	return 1;
}

/* The symbol table's section, or NULL. */
static Elf_Scn *find_symtab(Elf *elf)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(elf, scn)))
		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_SYMTAB)
			return scn;
	return NULL;
}

/* Resolve the calls the relocations of .text (section index text) describe. */
static int apply_relocs(Elf *elf, size_t text, struct bpfvm_insn *insns, size_t cnt)
{
	Elf_Scn *scn = NULL, *symscn = find_symtab(elf);
	Elf_Data *symdata = symscn ? elf_getdata(symscn, NULL) : NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(elf, scn))) {
		Elf_Data *data;

		if (!gelf_getshdr(scn, &sh) || sh.sh_info != text)
			continue;
		if (sh.sh_type == SHT_RELA)
			return fail("%s", "RELA relocations against .text: not a BPF object?");
		if (sh.sh_type != SHT_REL)
			continue;
		if (!symdata)
			return fail("%s", "relocations but no symbol table");
		data = elf_getdata(scn, NULL);
		for (size_t i = 0; data && i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Rel rel;
			GElf_Sym sym;
			size_t slot;
			int64_t target;

			if (!gelf_getrel(data, (int)i, &rel) ||
			    !gelf_getsym(symdata, (int)GELF_R_SYM(rel.r_info), &sym))
				return fail("%s", "unreadable relocation");
			slot = rel.r_offset / sizeof(struct bpfvm_insn);
			if (GELF_R_TYPE(rel.r_info) != R_BPF_64_32 || slot >= cnt ||
			    rel.r_offset % sizeof(struct bpfvm_insn) ||
			    insns[slot].code != (BPFVM_JMP | BPFVM_CALL) ||
			    insns[slot].src_reg != BPFVM_PSEUDO_CALL || sym.st_shndx != text)
				return fail("%s", "a relocation other than a call within .text "
						  "(a global, a map or .rodata): the program needs a loader");
			target = (int64_t)(sym.st_value / sizeof(struct bpfvm_insn)) + insns[slot].imm + 1;
			if (target < 0 || (size_t)target >= cnt)
				return fail("%s", "a call relocation pointing outside .text");
			insns[slot].imm = (int32_t)(target - (int64_t)slot - 1);
		}
	}
	return 0;
}

/* Is ENTRY a function at offset 0 of .text? */
static bool entry_first(Elf *elf, size_t text)
{
	Elf_Scn *symscn = find_symtab(elf);
	Elf_Data *data = symscn ? elf_getdata(symscn, NULL) : NULL;
	GElf_Shdr sh;

	if (!data || !gelf_getshdr(symscn, &sh))
		return false;
	for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
		GElf_Sym sym;
		const char *name;

		if (!gelf_getsym(data, (int)i, &sym))
			return false;
		name = elf_strptr(elf, sh.sh_link, sym.st_name);
		if (name && !strcmp(name, ENTRY))
			return GELF_ST_TYPE(sym.st_info) == STT_FUNC && sym.st_shndx == text &&
			       sym.st_value == 0;
	}
	return false;
}

int main(int argc, char **argv)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx, text = 0, cnt;
	struct bpfvm_insn *insns = NULL;
	Elf_Data *data = NULL;
	Elf *elf;
	FILE *out;
	int fd, rc;

	if (argc != 3) {
		fprintf(stderr, "usage: extract_text IN.o OUT.bin\n");
		return 2;
	}
	in_path = argv[1];
	if (elf_version(EV_CURRENT) == EV_NONE)
		return fail("%s", elf_errmsg(-1));
	fd = open(in_path, O_RDONLY);
	if (fd < 0)
		return fail("%s", strerror(errno));
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf || elf_getshdrstrndx(elf, &shstrndx))
		return fail("%s", elf_errmsg(-1));

	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		const char *name;

		if (!gelf_getshdr(scn, &sh))
			continue;
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		/* Code anywhere else would be a program bpfvm never sees. */
		if ((sh.sh_flags & SHF_EXECINSTR) && sh.sh_size && (!name || strcmp(name, ".text")))
			return fail("code in section %s, outside .text", name ? name : "?");
		if (name && !strcmp(name, ".text")) {
			text = elf_ndxscn(scn);
			data = elf_getdata(scn, NULL);
		}
	}
	if (!text || !data || !data->d_size || data->d_size % sizeof(struct bpfvm_insn))
		return fail("%s", "no .text, or one that is not whole instructions");
	if (!entry_first(elf, text))
		return fail("%s", ENTRY " is not the first function of .text: define it "
				  "before any non-static function");

	cnt = data->d_size / sizeof(struct bpfvm_insn);
	insns = malloc(data->d_size);
	if (!insns)
		return fail("%s", strerror(ENOMEM));
	memcpy(insns, data->d_buf, data->d_size);
	rc = apply_relocs(elf, text, insns, cnt);
	elf_end(elf);
	close(fd);
	if (rc) {
		free(insns);
		return rc;
	}

	out = fopen(argv[2], "wb");
	if (!out || fwrite(insns, sizeof(*insns), cnt, out) != cnt || fclose(out)) {
		free(insns);
		return fail("cannot write %s", argv[2]);
	}
	free(insns);
	return 0;
}
