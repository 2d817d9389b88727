/*
 * cmd_disasm.c - `bpfvm disasm [--syntax llvm|conformance|kernel] [--raw] [--object N] FILE`.
 * FILE may be a program that embeds BPF objects (a libbpf skeleton's): the
 * one it holds, or --object N of several, is listed.
 *
 * An ELF object is listed exactly as `llvm-objdump-19 -d` lists it, so
 * that the two can be compared with diff: the same headers, one chunk per
 * address that has symbols (headed by the symbol llvm-objdump picks), the
 * same symbol names after jumps ("<LBB0_2>", "<prog+0x18>"), runs of zero
 * bytes shown as "...", data symbols in code dumped as bytes.  Raw
 * bytecode is listed one instruction a line; in the conformance syntax
 * without the index and bytes, so the output assembles again.  The kernel
 * syntax is its verifier log's ("12: (85) call bpf_map_lookup_elem#1").
 *
 * The llvm-objdump rules followed here (from its source and from running
 * it): symbols sorted by address, then name, then type; at an address
 * with several, the last that is not a data symbol is shown; a section
 * with no symbol at its start gets one named after the section; a jump's
 * target is named after the last symbol at or before it, with the
 * distance in bytes, computed modulo 2^64.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpfvm/object.h>

#include "cli.h"
#include "elf_sections.h"

#define STT_OBJECT_ 1
#define STT_FUNC_ 2
#define STT_COMMON_ 5

struct sym {
	const char *name;
	uint64_t addr;
	uint8_t type;
	size_t order;   /* position in the symbol table: the sort is stable */
};

struct listing {
	enum bpfvm_syntax syntax;
	uint64_t base;            /* the section's address */
	const uint8_t *bytes;
	size_t size;
	const struct sym *syms;   /* sorted */
	size_t nsyms;
	uint64_t at;              /* offset of the instruction being printed */
};

static int cmp_sym(const void *a, const void *b)
{
	const struct sym *x = a, *y = b;
	int c;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	c = strcmp(x->name, y->name);
	if (c)
		return c;
	if (x->type != y->type)
		return x->type < y->type ? -1 : 1;
	return (x->order > y->order) - (x->order < y->order);
}

/* "<sym>" or "<sym+0x18>": the last symbol at or before the target. */
static bool name_target(void *ctx, size_t from, int64_t target, char *buf, size_t size)
{
	const struct listing *l = ctx;
	uint64_t t = l->base + l->at + ((uint64_t)target - from) * 8;
	size_t lo = 0, hi = l->nsyms;
	const struct sym *best;

	/* The first symbol past the target; the one before it is the name. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (l->base + l->syms[mid].addr <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return false;
	best = &l->syms[lo - 1];
	if (t == l->base + best->addr)
		snprintf(buf, size, "%s", best->name);
	else
		snprintf(buf, size, "%s+0x%" PRIx64, best->name, t - (l->base + best->addr));
	return true;
}

/* llvm-objdump skips runs of 8 or more zero bytes, 4 at a time. */
static size_t zero_run(const uint8_t *p, size_t max)
{
	size_t n = 0;

	while (n < max && !p[n])
		n++;
	return n < 8 ? 0 : n & ~(size_t)3;
}

/* Decode at l->at; returns the bytes taken and fills text. */
static size_t decode_at(struct listing *l, bool objdump19, char *text, size_t size)
{
	BPFVM_OPTS(bpfvm_disasm_opts, opts, .jump_target = l->nsyms ? name_target : NULL, .ctx = l,
		   .objdump19 = objdump19);
	struct bpfvm_insn insn[2];
	size_t rest = l->size - l->at;
	int r;

	if (rest < sizeof(insn[0])) {
		snprintf(text, size, "<unknown>");
		return 1;
	}
	memcpy(insn, l->bytes + l->at, rest >= sizeof(insn) ? sizeof(insn) : sizeof(insn[0]));
	r = bpfvm_disasm_insn_opts(insn, rest >= sizeof(insn) ? 2 : 1, 0, l->syntax, &opts, text,
				   size);
	if (r == -ENODATA)
		return 1;
	if (r < 0) {
		if (!objdump19)
			snprintf(text, size, "<unknown>");
		return sizeof(insn[0]);
	}
	return (size_t)r * sizeof(insn[0]);
}

static void print_insn_line(const struct listing *l, size_t n, const char *text)
{
	if (l->syntax == BPFVM_SYNTAX_KERNEL) {
		printf("%" PRIu64 ": (%02x) %s\n", (l->base + l->at) / 8, l->bytes[l->at], text);
		return;
	}
	printf("%8" PRIu64 ":\t", (l->base + l->at) / 8);
	for (size_t i = 0; i < n; i++)
		printf(i ? " %02x" : "%02x", l->bytes[l->at + i]);
	printf("\t%s\n", text);
}

static void list_code(struct listing *l, uint64_t start, uint64_t end, bool skip_zeros)
{
	bool objdump19 = l->syntax == BPFVM_SYNTAX_LLVM;
	char text[512];

	for (l->at = start; l->at < end;) {
		size_t n = skip_zeros ? zero_run(l->bytes + l->at, end - l->at) : 0;

		if (n) {
			printf("\t\t...\n");
			l->at += n;
			continue;
		}
		n = decode_at(l, objdump19, text, sizeof(text));
		print_insn_line(l, n, text);
		l->at += n;
	}
}

/* A data symbol in a code section: hex and characters, 8 bytes a line. */
static void list_data(const struct listing *l, uint64_t start, uint64_t end)
{
	for (uint64_t at = start; at < end; at += 8) {
		size_t n = end - at < 8 ? end - at : 8;
		char chars[9] = { 0 };

		printf("%8" PRIx64 ":", l->base + at);
		for (size_t i = 0; i < n; i++) {
			uint8_t b = l->bytes[at + i];
			printf(" %02x", b);
			chars[i] = b >= 0x20 && b < 0x7f ? (char)b : '.';
		}
		printf("%*s         %s\n", (int)(3 * (8 - n)), "", chars);
	}
}

/* Sorted symbols, with one named after the section if none is at 0. */
static struct sym *section_symbols(const struct elf_text_section *s, size_t *n)
{
	struct sym *syms = calloc(s->nsyms + 1, sizeof(*syms));
	bool at_start = false;

	if (!syms)
		return NULL;
	for (size_t i = 0; i < s->nsyms; i++) {
		syms[i] = (struct sym){ s->syms[i].name, s->syms[i].addr, s->syms[i].type, i };
		at_start |= s->syms[i].addr == 0;
	}
	*n = s->nsyms;
	if (!at_start)
		syms[(*n)++] = (struct sym){ s->name, 0, STT_FUNC_, 0 };
	qsort(syms, *n, sizeof(*syms), cmp_sym);
	return syms;
}

static int list_section(const struct elf_text_section *s, enum bpfvm_syntax syntax)
{
	struct listing l = { syntax, s->addr, s->data, s->size, NULL, 0, 0 };
	struct sym *syms = section_symbols(s, &l.nsyms);
	bool printed_header = false;

	if (!syms)
		return -1;
	l.syms = syms;
	for (size_t si = 0; si < l.nsyms;) {
		size_t first = si, shown;
		uint64_t start = syms[si].addr, end = s->size;
		bool data = true;

		while (si < l.nsyms && syms[si].addr == start)
			si++;
		shown = si - 1;
		for (size_t i = first; i < si; i++)
			if (syms[i].type != STT_OBJECT_ && syms[i].type != STT_COMMON_) {
				data = false;
				shown = i;
			}
		if (si < l.nsyms && syms[si].addr < end)
			end = syms[si].addr;
		if (start >= end)
			continue;
		if (!printed_header)
			printf("\nDisassembly of section %s:\n", s->name);
		printed_header = true;
		printf("\n%016" PRIx64 " <%s>:\n", s->addr + start, syms[shown].name);
		if (data)
			list_data(&l, start, end);
		else
			list_code(&l, start, end, true);
	}
	free(syms);
	return 0;
}

static int list_elf(const char *path, const uint8_t *data, size_t len, enum bpfvm_syntax syntax)
{
	struct elf_sections es;
	char err[256];
	int ret = 0;

	if (elf_sections_read(data, len, path, &es, err, sizeof(err))) {
		fprintf(stderr, "bpfvm: %s\n", err);
		return 1;
	}
	printf("\n%s:\tfile format elf64-bpf\n", path);
	for (size_t i = 0; i < es.nsecs && !ret; i++)
		if (list_section(&es.secs[i], syntax)) {
			fprintf(stderr, "bpfvm: out of memory\n");
			ret = 1;
		}
	elf_sections_free(&es);
	return ret;
}

static int list_raw(const uint8_t *data, size_t len, enum bpfvm_syntax syntax)
{
	struct listing l = { syntax, 0, data, len, NULL, 0, 0 };
	char text[512];

	if (syntax != BPFVM_SYNTAX_CONFORMANCE) {
		list_code(&l, 0, len, false);
		return 0;
	}
	/* The conformance syntax alone, one instruction a line: it assembles. */
	for (l.at = 0; l.at < len;) {
		size_t n = decode_at(&l, false, text, sizeof(text));

		if (!strcmp(text, "<unknown>")) {
			printf("<unknown>  # bytes:");
			for (size_t i = 0; i < n; i++)
				printf(" %02x", data[l.at + i]);
			printf("\n");
		} else {
			printf("%s\n", text);
		}
		l.at += n;
	}
	return 0;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);
	return ls >= lx && !strcmp(s + ls - lx, suffix);
}

static int parse_syntax(const char *name, enum bpfvm_syntax *syntax)
{
	if (!strcmp(name, "llvm"))
		*syntax = BPFVM_SYNTAX_LLVM;
	else if (!strcmp(name, "conformance"))
		*syntax = BPFVM_SYNTAX_CONFORMANCE;
	else if (!strcmp(name, "kernel"))
		*syntax = BPFVM_SYNTAX_KERNEL;
	else {
		fprintf(stderr, "bpfvm disasm: unknown syntax '%s' (llvm, conformance or kernel)\n",
			name);
		return -1;
	}
	return 0;
}

/* The object to list: the file, or the one it embeds (a libbpf skeleton's program). */
static int pick_object(const char *path, const uint8_t *data, size_t len, int index,
		       size_t *off, size_t *size)
{
	char msg[8192] = "";
	struct bpfvm_log log = { msg, sizeof(msg), 0 };
	BPFVM_OPTS(bpfvm_embedded_select_opts, sel, .log = &log);
	int err = bpfvm_embedded_object__select(data, len, path, index, &sel, off, size);

	if (err) {
		fprintf(stderr, "bpfvm: %s", msg);
		cli_object_hint(-err);
	}
	return err;
}

int cmd_disasm(int argc, char **argv)
{
	enum bpfvm_syntax syntax = BPFVM_SYNTAX_LLVM;
	const char *path = NULL;
	bool raw = false;
	int object = -1;
	uint8_t *data;
	size_t len, off = 0, size = 0;
	int ret = cmd_disasm_cbpf(argc, argv); /* --cbpf: a classic program */

	if (ret >= 0)
		return ret;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--raw"))
			raw = true;
		else if (!strcmp(argv[i], "--syntax") && i + 1 < argc) {
			if (parse_syntax(argv[++i], &syntax))
				return cli_usage("disasm");
		} else if (!strncmp(argv[i], "--syntax=", 9)) {
			if (parse_syntax(argv[i] + 9, &syntax))
				return cli_usage("disasm");
		} else if (!strcmp(argv[i], "--object") && i + 1 < argc) {
			if ((object = cli_object_index(argv[++i])) < 0)
				return cli_usage("disasm");
		} else if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "bpfvm disasm: unknown option '%s'\n", argv[i]);
			return cli_usage("disasm");
		} else if (path) {
			return cli_usage("disasm");
		} else {
			path = argv[i];
		}
	}
	if (!path)
		return cli_usage("disasm");
	data = cli_read_file(path, &len);
	if (!data)
		return 1;
	if (raw || ends_with(path, ".bin"))
		ret = list_raw(data, len, syntax);
	else if (elf_is_elf(data, len))
		ret = pick_object(path, data, len, object, &off, &size) ? 1
			: list_elf(path, data + off, size, syntax);
	else {
		if (cli_looks_like_c(path, data, len))
			cli_c_source_hint(path);
		else
			fprintf(stderr, "bpfvm: %s: not an ELF object (use --raw for raw bytecode)\n",
				path);
		ret = 1;
	}
	free(data);
	return ret;
}
