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
 *
 * The ELF file is read by the library's reader (bpfvm_elf__read), the one
 * object open uses.
 */
#include <elf.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpfvm/isa.h>
#include <bpfvm/object.h>

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

/* Resolve the calls the relocations of .text (section index text) describe. */
static int apply_relocs(const struct bpfvm_elf *elf, size_t text, struct bpfvm_insn *insns,
			size_t cnt)
{
	const struct bpfvm_elf_section *s = &elf->secs[text];

	for (size_t i = 0; i < s->nrelocs; i++) {
		const struct bpfvm_elf_reloc *rel = &s->relocs[i];
		const struct bpfvm_elf_symbol *sym = &elf->syms[rel->sym];
		size_t slot = rel->offset / sizeof(struct bpfvm_insn);
		int64_t target;

		if (rel->type != R_BPF_64_32 || slot >= cnt ||
		    rel->offset % sizeof(struct bpfvm_insn) ||
		    insns[slot].code != (BPFVM_JMP | BPFVM_CALL) ||
		    insns[slot].src_reg != BPFVM_PSEUDO_CALL || sym->shndx != text)
			return fail("%s", "a relocation other than a call within .text "
					  "(a global, a map or .rodata): the program needs a loader");
		target = (int64_t)(sym->value / sizeof(struct bpfvm_insn)) + insns[slot].imm + 1;
		if (target < 0 || (size_t)target >= cnt)
			return fail("%s", "a call relocation pointing outside .text");
		insns[slot].imm = (int32_t)(target - (int64_t)slot - 1);
	}
	return 0;
}

/* Is ENTRY a function at offset 0 of .text? */
static bool entry_first(const struct bpfvm_elf *elf, size_t text)
{
	for (size_t i = 0; i < elf->nsyms; i++) {
		const struct bpfvm_elf_symbol *sym = &elf->syms[i];

		if (sym->name && !strcmp(sym->name, ENTRY))
			return sym->type == STT_FUNC && sym->shndx == text && sym->value == 0;
	}
	return false;
}

/* The whole file, or NULL with errno set. */
static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t cap = 0, n = 0, got;

	if (!f)
		return NULL;
	do {
		if (n == cap) {
			uint8_t *more = realloc(buf, cap = cap ? 2 * cap : 65536);

			if (!more) {
				free(buf), fclose(f);
				errno = ENOMEM;
				return NULL;
			}
			buf = more;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
	} while (got);
	if (ferror(f)) {
		free(buf), fclose(f);
		errno = EIO;
		return NULL;
	}
	fclose(f);
	*len = n;
	return buf;
}

/* .text's instructions, calls resolved, into *insns; 0 or fail()'s 1. */
static int extract(const struct bpfvm_elf *elf, struct bpfvm_insn **insns, size_t *cnt)
{
	const struct bpfvm_elf_section *data = NULL;
	size_t text = 0;

	for (size_t i = 1; i < elf->nsecs; i++) {
		const struct bpfvm_elf_section *sh = &elf->secs[i];

		/* Code anywhere else would be a program bpfvm never sees. */
		if ((sh->flags & SHF_EXECINSTR) && sh->size && strcmp(sh->name, ".text"))
			return fail("code in section %s, outside .text", sh->name);
		if (!strcmp(sh->name, ".text"))
			text = i, data = sh;
	}
	if (!text || !data->data || !data->size || data->size % sizeof(struct bpfvm_insn))
		return fail("%s", "no .text, or one that is not whole instructions");
	if (!entry_first(elf, text))
		return fail("%s", ENTRY " is not the first function of .text: define it "
				  "before any non-static function");
	*cnt = data->size / sizeof(struct bpfvm_insn);
	if (!(*insns = malloc(data->size)))
		return fail("%s", strerror(ENOMEM));
	memcpy(*insns, data->data, data->size);
	return apply_relocs(elf, text, *insns, *cnt);
}

int main(int argc, char **argv)
{
	char msg[512] = "";
	struct bpfvm_log log = { msg, sizeof(msg), 0 };
	struct bpfvm_insn *insns = NULL;
	struct bpfvm_elf *elf;
	size_t len, cnt = 0;
	uint8_t *buf;
	FILE *out;
	int rc;

	if (argc != 3) {
		fprintf(stderr, "usage: extract_text IN.o OUT.bin\n");
		return 2;
	}
	in_path = argv[1];
	if (!(buf = read_file(in_path, &len)))
		return fail("%s", strerror(errno));
	elf = bpfvm_elf__read(buf, len, in_path, &(struct bpfvm_elf_read_opts){ .sz = sizeof(struct bpfvm_elf_read_opts), .log = &log });
	free(buf);
	if (!elf && !msg[0])
		return fail("%s", strerror(errno));
	if (!elf) { /* the reader's "IN.o: why" */
		fprintf(stderr, "extract_text: %s", msg);
		return 1;
	}
	rc = extract(elf, &insns, &cnt);
	bpfvm_elf__free(elf);
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
