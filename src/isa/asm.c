/*
 * asm.c - the assembler: text to instruction slots.
 *
 * Reads a line at a time: drops comments ("#", "//", ";"), the columns
 * llvm-objdump prints before an instruction (its index and its bytes) and
 * its header lines, defines labels ("name:"), and hands the rest to
 * asm_line.c.  Labels may be used before they are defined, so jumps to
 * labels are fixed up once every line has been read.  As in the
 * conformance suite, "exit" names the first exit instruction unless a
 * label of that name exists.
 *
 * Errors are "FILE:LINE:COL: message" lines in the caller's log; the
 * assembler goes on to the next line so that one run reports several.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../util/log.h"
#include "../util/opts.h"
#include "asm_parse.h"

#define MAX_ERRORS 20

struct label {
	const char *name;
	size_t len;
	size_t slot;
	size_t line;
	size_t col;
};

struct fixup {
	size_t slot;
	size_t line;
	struct asm_ref ref;
};

struct asm_state {
	const char *file;
	struct bpfvm_log *log;
	struct bpfvm_insn *insns;
	size_t cnt, cap;
	struct fixup *fix;
	size_t nfix, capfix;
	struct label *labels;
	size_t nlabels, caplabels;
	size_t first_exit;       /* SIZE_MAX until an exit is seen */
	unsigned errors;
	bool oom;
};

__attribute__((format(printf, 4, 5))) static void asm_error(struct asm_state *st, size_t line,
							    size_t col, const char *fmt, ...)
{
	va_list ap;

	if (st->errors++ >= MAX_ERRORS) {
		if (st->errors == MAX_ERRORS + 1)
			log_printf(st->log, "%s: too many errors\n", st->file);
		return;
	}
	log_printf(st->log, "%s:%zu:%zu: ", st->file, line, col);
	va_start(ap, fmt);
	log_vprintf(st->log, fmt, ap);
	va_end(ap);
	log_printf(st->log, "\n");
}

/*
 * Make room for `more` elements after `used` in a growing array.  Returns
 * the (possibly moved) array, or NULL with the old one intact.
 */
static void *grow(struct asm_state *st, void *arr, size_t *cap, size_t used, size_t more,
		  size_t elem)
{
	size_t want = *cap ? *cap : 64;
	void *bigger;

	if (used + more <= *cap)
		return arr;
	while (want < used + more)
		want *= 2;
	bigger = want <= SIZE_MAX / elem ? realloc(arr, want * elem) : NULL;
	if (!bigger) {
		st->oom = true;
		return NULL;
	}
	*cap = want;
	return bigger;
}

/* ---- What to skip in a line ------------------------------------------- */

/* End of the line's code: before "#", "//" or ";". */
static size_t code_end(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] == '#' || s[i] == ';' || (s[i] == '/' && i + 1 < len && s[i + 1] == '/'))
			return i;
	return len;
}

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool starts_with(const char *s, size_t p, size_t end, const char *prefix)
{
	size_t n = strlen(prefix);
	return end - p >= n && !memcmp(s + p, prefix, n);
}

/*
 * llvm-objdump's lines that are not instructions: "FILE:\tfile format
 * elf64-bpf", "Disassembly of section NAME:", "0000000000000000 <sym>:".
 */
static bool is_objdump_header(const char *s, size_t p, size_t end)
{
	size_t q = p;

	if (starts_with(s, p, end, "Disassembly of section ") ||
	    memmem(s + p, end - p, ":\tfile format ", 14))
		return true;
	while (q < end && is_hex(s[q]))
		q++;
	return (q - p == 16 || q - p == 8) && starts_with(s, q, end, " <") && s[end - 1] == ':' &&
	       s[end - 2] == '>';
}

/* "   12:" - llvm-objdump's instruction index.  Returns where text resumes. */
static size_t skip_index(const char *s, size_t p, size_t end)
{
	size_t q = p;

	while (q < end && s[q] >= '0' && s[q] <= '9')
		q++;
	if (q > p && q < end && s[q] == ':' && (q + 1 == end || asm_blank(s[q + 1])))
		return q + 1;
	return p;
}

/*
 * "b7 01 00 00 05 00 00 00<TAB>" - the instruction's bytes.  Returns how
 * many (8 or 16; 0 if there is no such column) and sets *after.
 */
static size_t scan_bytes(const char *s, size_t p, size_t end, uint8_t *bytes, size_t *after)
{
	size_t n = 0, q = p;

	while (n < 16 && q + 1 < end && is_hex(s[q]) && is_hex(s[q + 1]) &&
	       (q + 2 == end || asm_blank(s[q + 2]))) {
		char hex[3] = { s[q], s[q + 1], 0 };
		bytes[n++] = (uint8_t)strtoul(hex, NULL, 16);
		q += 2;
		if (q < end && s[q] == '\t')
			break;
		if (q < end && s[q] == ' ')
			q++;
	}
	if (n != 8 && n != 16)
		return 0;
	while (q < end && asm_blank(s[q]))
		q++;
	*after = q;
	return n;
}

/* ---- Lines ------------------------------------------------------------ */

static void add_label(struct asm_state *st, const char *s, size_t p, size_t q, size_t line)
{
	struct label *l = grow(st, st->labels, &st->caplabels, st->nlabels, 1, sizeof(*l));

	if (!l)
		return;
	st->labels = l;
	l = &st->labels[st->nlabels++];
	*l = (struct label){ s + p, q - p, st->cnt, line, p + 1 };
}

static void add_slots(struct asm_state *st, const struct bpfvm_insn *slots, size_t n)
{
	struct bpfvm_insn *arr = grow(st, st->insns, &st->cap, st->cnt, n, sizeof(*slots));

	if (!arr)
		return;
	st->insns = arr;
	memcpy(st->insns + st->cnt, slots, n * sizeof(*slots));
	st->cnt += n;
}

static void add_insn(struct asm_state *st, const struct asm_insn *in, size_t line)
{
	if (in->ref.field != ASM_REF_NONE) {
		struct fixup *fix = grow(st, st->fix, &st->capfix, st->nfix, 1, sizeof(*fix));

		if (!fix)
			return;
		st->fix = fix;
		st->fix[st->nfix++] = (struct fixup){ st->cnt, line, in->ref };
	}
	if (in->slot[0].code == (BPFVM_JMP | BPFVM_EXIT) && st->first_exit == SIZE_MAX)
		st->first_exit = st->cnt;
	add_slots(st, in->slot, in->nslots);
}

/* Labels at the start of the line; returns where the instruction starts. */
static size_t take_labels(struct asm_state *st, const char *s, size_t p, size_t end, size_t line)
{
	for (;;) {
		size_t q = p, c;

		if (q >= end || !asm_ident_start(s[q]))
			return p;
		while (q < end && asm_ident_char(s[q]))
			q++;
		for (c = q; c < end && asm_blank(s[c]); c++)
			;
		if (c >= end || s[c] != ':')
			return p;
		add_label(st, s, p, q, line);
		for (p = c + 1; p < end && asm_blank(s[p]); p++)
			;
	}
}

static void assemble_line(struct asm_state *st, const char *s, size_t len, size_t line)
{
	size_t end = code_end(s, len), p = 0, after = 0;
	uint8_t bytes[16];
	size_t nbytes;
	struct asm_insn in;
	struct asm_error err;

	while (end > 0 && (asm_blank(s[end - 1]) || s[end - 1] == '\r'))
		end--;
	while (p < end && asm_blank(s[p]))
		p++;
	if (p == end || is_objdump_header(s, p, end))
		return;
	if (end - p == 3 && !memcmp(s + p, "...", 3)) {
		asm_error(st, line, p + 1, "llvm-objdump left out a run of zero bytes here; "
			  "the listing cannot be assembled");
		return;
	}
	p = skip_index(s, p, end);
	while (p < end && asm_blank(s[p]))
		p++;
	nbytes = scan_bytes(s, p, end, bytes, &after);
	if (nbytes)
		p = after;
	p = take_labels(st, s, p, end, line);
	if (p == end)
		return;
	if (nbytes && end - p == 9 && !memcmp(s + p, "<unknown>", 9)) {
		/* What llvm-objdump could not decode, we take as it was. */
		struct bpfvm_insn raw[2];
		memcpy(raw, bytes, nbytes);
		add_slots(st, raw, nbytes / sizeof(raw[0]));
		return;
	}
	if (asm_parse_insn(s, p, end, &in, &err))
		asm_error(st, line, err.col, "%s", err.msg);
	else
		add_insn(st, &in, line);
}

/* ---- Labels ----------------------------------------------------------- */

static int cmp_name(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);
	return c ? c : (alen > blen) - (alen < blen);
}

/* By name, then by line, so the first definition of a name comes first. */
static int cmp_label(const void *a, const void *b)
{
	const struct label *x = a, *y = b;
	int c = cmp_name(x->name, x->len, y->name, y->len);

	if (c)
		return c;
	return (x->line > y->line) - (x->line < y->line);
}

static const struct label *find_label(const struct asm_state *st, const char *name, size_t len)
{
	size_t lo = 0, hi = st->nlabels;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = cmp_name(st->labels[mid].name, st->labels[mid].len, name, len);
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < st->nlabels && !cmp_name(st->labels[lo].name, st->labels[lo].len, name, len) ?
		       &st->labels[lo] : NULL;
}

static void check_duplicates(struct asm_state *st)
{
	for (size_t i = 1; i < st->nlabels; i++) {
		const struct label *a = &st->labels[i - 1], *b = &st->labels[i];
		if (!cmp_name(a->name, a->len, b->name, b->len))
			asm_error(st, b->line, b->col, "duplicate label '%.*s' (first defined on line %zu)",
				  (int)b->len, b->name, a->line);
	}
}

static void resolve(struct asm_state *st, const struct fixup *f)
{
	const struct label *l = find_label(st, f->ref.name, f->ref.len);
	int64_t target, delta;

	if (l)
		target = (int64_t)l->slot;
	else if (f->ref.len == 4 && !memcmp(f->ref.name, "exit", 4) && st->first_exit != SIZE_MAX)
		target = (int64_t)st->first_exit;
	else {
		asm_error(st, f->line, f->ref.col, "unknown label '%.*s'", (int)f->ref.len, f->ref.name);
		return;
	}
	delta = target - (int64_t)f->slot - 1;
	if (f->ref.field == ASM_REF_OFF) {
		if (delta < INT16_MIN || delta > INT16_MAX) {
			asm_error(st, f->line, f->ref.col,
				  "label '%.*s' is %lld instructions away: too far for a 16-bit offset",
				  (int)f->ref.len, f->ref.name, (long long)delta);
			return;
		}
		st->insns[f->slot].off = (int16_t)delta;
	} else {
		if (delta < INT32_MIN || delta > INT32_MAX) {
			asm_error(st, f->line, f->ref.col, "label '%.*s' is too far away",
				  (int)f->ref.len, f->ref.name);
			return;
		}
		st->insns[f->slot].imm = (int32_t)delta;
	}
}

static void assemble_text(struct asm_state *st, const char *text, size_t len)
{
	size_t line = 1;

	for (size_t pos = 0; pos < len && !st->oom; line++) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;

		assemble_line(st, text + pos, n, line);
		pos += n + 1;
	}
	if (st->oom)
		return;
	if (st->nlabels > 1)
		qsort(st->labels, st->nlabels, sizeof(*st->labels), cmp_label);
	check_duplicates(st);
	for (size_t i = 0; i < st->nfix; i++)
		resolve(st, &st->fix[i]);
}

int bpfvm_asm(const char *text, size_t len, struct bpfvm_insn **insns, size_t *cnt,
	      const struct bpfvm_asm_opts *opts)
{
	const char *filename = OPTS_GET(opts, filename, NULL);
	struct bpfvm_log *log = OPTS_GET(opts, log, NULL);
	struct asm_state st = {
		.file = filename ? filename : "<input>",
		.log = log,
		.first_exit = SIZE_MAX,
	};
	int err = 0;

	if (!OPTS_VALID(opts, bpfvm_asm_opts, log) || !insns || !cnt || (!text && len))
		return -EINVAL;
	*insns = NULL;
	*cnt = 0;
	assemble_text(&st, text, len);
	if (st.oom) {
		log_printf(log, "%s: out of memory\n", st.file);
		err = -ENOMEM;
	} else if (st.errors) {
		err = -EINVAL;
	} else if (!st.insns && !(st.insns = malloc(sizeof(*st.insns)))) {
		err = -ENOMEM;   /* an empty program still gets an array to free */
	}
	free(st.fix);
	free(st.labels);
	if (err) {
		free(st.insns);
		return err;
	}
	*insns = st.insns;
	*cnt = st.cnt;
	return 0;
}
