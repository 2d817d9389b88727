/*
 * cli_util.c - what the subcommands share: reading and writing whole
 * files, parsing hex bytes, and loading a program from raw bytecode or
 * assembly.  Messages go to stderr prefixed "bpfvm: ", as the command line
 * is the one place that prints.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/*
 * Read the rest of an open stream into a malloc'd buffer, NUL-terminated
 * one byte past *len so that callers may treat text files as strings.
 */
static uint8_t *read_stream(FILE *f, size_t *len)
{
	size_t cap = 4096, n = 0;
	uint8_t *buf = malloc(cap);

	if (!buf)
		return NULL;
	for (;;) {
		n += fread(buf + n, 1, cap - 1 - n, f);
		if (n < cap - 1) {
			if (ferror(f)) {
				free(buf);
				return NULL;
			}
			break;
		}
		uint8_t *bigger = realloc(buf, cap * 2);
		if (!bigger) {
			free(buf);
			return NULL;
		}
		buf = bigger;
		cap *= 2;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

uint8_t *cli_read_file(const char *path, size_t *len)
{
	int is_stdin = !strcmp(path, "-");
	FILE *f = is_stdin ? stdin : fopen(path, "rb");
	uint8_t *buf;

	if (!f) {
		fprintf(stderr, "bpfvm: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	errno = 0;
	buf = read_stream(f, len);
	if (!buf)
		fprintf(stderr, "bpfvm: %s: %s\n", path,
			errno ? strerror(errno) : "read error");
	if (!is_stdin)
		fclose(f);
	return buf;
}

int cli_write_file(const char *path, const void *data, size_t len)
{
	int is_stdout = !strcmp(path, "-");
	FILE *f = is_stdout ? stdout : fopen(path, "wb");
	int ok;

	if (!f) {
		fprintf(stderr, "bpfvm: %s: %s\n", path, strerror(errno));
		return -1;
	}
	ok = fwrite(data, 1, len, f) == len;
	/* fclose flushes: a full disk shows up here, not in fwrite. */
	ok = (is_stdout ? fflush(f) : fclose(f)) == 0 && ok;
	if (!ok) {
		fprintf(stderr, "bpfvm: %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

uint8_t *cli_parse_hex(const char *text, size_t *len, size_t *bad)
{
	size_t tlen = strlen(text), n = 0, i = 0;
	/* Never more bytes than half the digits; +1 keeps malloc(0) away. */
	uint8_t *out = malloc(tlen / 2 + 1);

	if (!out) {
		*bad = 0;
		return NULL;
	}
	while (i < tlen) {
		size_t start;

		if (isspace((unsigned char)text[i])) {
			i++;
			continue;
		}
		if (text[i] == '0' && (text[i + 1] == 'x' || text[i + 1] == 'X'))
			i += 2;
		start = i;
		while (i < tlen && hex_value((unsigned char)text[i]) >= 0)
			i++;
		/* A run must be whole bytes and end at a blank or the end. */
		if (i == start || (i - start) % 2 || (i < tlen && !isspace((unsigned char)text[i]))) {
			*bad = (i == start || i < tlen) ? i : i - 1;
			free(out);
			return NULL;
		}
		for (size_t j = start; j < i; j += 2)
			out[n++] = (uint8_t)(hex_value((unsigned char)text[j]) << 4 |
					     hex_value((unsigned char)text[j + 1]));
	}
	*len = n;
	return out;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);
	return ls >= lx && !strcmp(s + ls - lx, suffix);
}

static int load_raw(const char *path, const uint8_t *data, size_t len,
		    struct bpfvm_insn **insns, size_t *cnt)
{
	if (len % sizeof(struct bpfvm_insn)) {
		fprintf(stderr, "bpfvm: %s: %zu bytes is not a whole number of 8-byte instructions\n",
			path, len);
		return -1;
	}
	/* +1 so that an empty program is still a valid allocation. */
	*insns = malloc(len + 1);
	if (!*insns) {
		fprintf(stderr, "bpfvm: %s: out of memory\n", path);
		return -1;
	}
	memcpy(*insns, data, len);
	*cnt = len / sizeof(struct bpfvm_insn);
	return 0;
}

/* Print each line of the assembler's log with the command's prefix. */
static void print_log(const char *text)
{
	while (*text) {
		const char *nl = strchr(text, '\n');
		int n = nl ? (int)(nl - text) : (int)strlen(text);

		fprintf(stderr, "bpfvm: %.*s\n", n, text);
		text += n + (nl ? 1 : 0);
	}
}

/*
 * Does a file the assembler refused look like C (a BPF program's source
 * passed where its object belongs)?  A .c/.h name, or a preprocessor line
 * or SEC("...") that no assembly has.
 */
bool cli_looks_like_c(const char *path, const uint8_t *data, size_t len)
{
	static const char *const marks[] = { "#include", "#define", "SEC(\"", "#pragma" };
	const char *text = (const char *)data;

	if (ends_with(path, ".c") || ends_with(path, ".h"))
		return true;
	for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++) {
		size_t n = strlen(marks[i]);

		for (size_t at = 0; at + n <= len; at++)
			if (!memcmp(text + at, marks[i], n) && (at == 0 || text[at - 1] == '\n' ||
								  marks[i][0] == 'S'))
				return true;
	}
	return false;
}

void cli_c_source_hint(const char *path)
{
	fprintf(stderr, "bpfvm: %s looks like C source: compile it with clang -target bpf -O2 -c\n",
		path);
}

int cli_split_command(int argc, char **argv, char ***rest)
{
	*rest = NULL;
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--")) {
			*rest = argv + i + 1;
			return i;
		}
	return argc;
}

int cli_parse_count(const char *cmd, const char *opt, const char *s, uint64_t max,
		    const char *why_max, uint64_t *out)
{
	const char *d = s;
	char *end;

	while (*d == ' ')
		d++;
	errno = 0;
	*out = strtoull(s, &end, 0);
	if (!*s || *end || *d == '-' || *d == '+' || (!errno && !*out)) {
		fprintf(stderr, "bpfvm %s: %s takes a positive number, not '%s'\n", cmd, opt, s);
		return -1;
	}
	if (errno == ERANGE || *out > max) {
		fprintf(stderr, "bpfvm %s: %s %s is too large: at most %" PRIu64 "%s%s\n", cmd, opt, s,
			max, why_max ? " " : "", why_max ? why_max : "");
		return -1;
	}
	return 0;
}

int cli_load_program(const char *path, int raw, struct bpfvm_insn **insns, size_t *cnt)
{
	char msg[4096];
	struct bpfvm_log log = { .buf = msg, .size = sizeof(msg) };
	size_t len;
	uint8_t *data = cli_read_file(path, &len);
	int err;

	if (!data)
		return -1;
	if (raw || ends_with(path, ".bin")) {
		err = load_raw(path, data, len, insns, cnt);
		free(data);
		return err;
	}
	msg[0] = '\0';
	err = bpfvm_asm((const char *)data, len, insns, cnt,
			&(struct bpfvm_asm_opts){ .sz = sizeof(struct bpfvm_asm_opts),
						  .filename = path, .log = &log });
	if (err && cli_looks_like_c(path, data, len)) {
		free(data);
		cli_c_source_hint(path);
		return -1;
	}
	free(data);
	if (err) {
		if (msg[0])
			print_log(msg);
		else
			fprintf(stderr, "bpfvm: %s: %s\n", path, strerror(-err));
		return -1;
	}
	return 0;
}

void cli_trace_to_stdout(void *ctx, const char *text, size_t len)
{
	(void)ctx;
	fwrite(text, 1, len, stdout);
}

int cli_object_index(const char *arg)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || !*arg || *end || v < 0 || v > INT32_MAX) {
		fprintf(stderr, "bpfvm: --object takes the index of an embedded object (0, 1, ...), "
				"not '%s'\n", arg);
		return -1;
	}
	return (int)v;
}

void cli_object_hint(int err)
{
	if (err == ENOTUNIQ || err == ERANGE)
		fprintf(stderr, "bpfvm: choose the object with --object N\n");
}

void cli_json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}
