/*
 * cmd_conformance.c - the eBPF conformance suite's cases (*.data files):
 *
 *   bpfvm conformance [--trusted] [--plugin CMD] FILE.data...
 *       runs each case, in this process or through a plugin command spoken
 *       to as the public runner does, and prints a line per case and a
 *       summary "N passed, N failed";
 *   bpfvm conformance-plugin [--jit] [MEMORY_HEX]
 *       is such a plugin: the program as hex bytes on stdin, r0 in hex on
 *       stdout, exit 0; or the error on stderr and exit 1.
 *
 * A case has sections "-- asm" or "-- raw" (the program), "-- mem" (hex
 * bytes r1 points to), and "-- result" (r0 expected) or "-- error" (the run
 * must fail).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"

struct conf_case {
	char *asm_text;    /* "-- asm" section, or NULL */
	char *raw_text;    /* "-- raw" section, or NULL */
	char *mem_text;    /* "-- mem" section, or NULL */
	int has_result;
	uint64_t result;
	int expects_error;
	int asm_seen;      /* a "-- asm" header, even with nothing under it */
};

struct conf_opts {
	enum bpfvm_exec mode;
	const char *plugin;
};

static char *append(char *buf, const char *line)
{
	size_t old = buf ? strlen(buf) : 0, add = strlen(line);
	char *p = realloc(buf, old + add + 2);

	if (!p) {
		free(buf);
		return NULL;
	}
	memcpy(p + old, line, add);
	p[old + add] = '\n';
	p[old + add + 1] = '\0';
	return p;
}

static void case_free(struct conf_case *c)
{
	free(c->asm_text);
	free(c->raw_text);
	free(c->mem_text);
}

/* Split a .data file into its sections; -1 with why on a malformed file. */
static int parse_case(char *text, struct conf_case *c, const char **why)
{
	char **section = NULL;
	char *result_text = NULL;
	int in_result = 0;

	*c = (struct conf_case){ 0 };
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		if (!strncmp(line, "-- ", 3)) {
			const char *name = line + 3;
			in_result = !strcmp(name, "result");
			c->expects_error |= !strcmp(name, "error");
			c->asm_seen |= !strcmp(name, "asm");
			section = !strcmp(name, "asm") ? &c->asm_text : !strcmp(name, "raw") ? &c->raw_text
				  : !strcmp(name, "mem") ? &c->mem_text : NULL;
			continue;
		}
		if (line[0] == '#')
			continue;
		if (in_result && !result_text)
			result_text = line;
		else if (section && !(*section = append(*section, line))) {
			*why = "out of memory";
			return -1;
		}
	}
	if (result_text) {
		char *end;
		c->result = strtoull(result_text, &end, 16);
		c->has_result = 1;
	}
	if (!c->asm_text && !c->raw_text) {
		*why = c->asm_seen ? "the '-- asm' section is empty: no program"
				   : "the case has no program (no '-- asm' or '-- raw' section)";
		return -1;
	}
	if (!c->has_result && !c->expects_error) {
		*why = "the case has neither '-- result' nor '-- error'";
		return -1;
	}
	return 0;
}

/* Raw sections hold one 64-bit word per line (0x...) or 8 hex bytes. */
static int raw_program(const char *text, struct bpfvm_insn **insns, size_t *cnt, const char **why)
{
	size_t n = 0, cap = 16;
	struct bpfvm_insn *out = malloc(cap * sizeof(*out));
	char *copy = strdup(text), *save = NULL;

	for (char *line = strtok_r(copy, "\n", &save); out && line; line = strtok_r(NULL, "\n", &save)) {
		uint8_t bytes[8] = { 0 };
		size_t len = 0, bad;
		uint8_t *parsed = NULL;

		while (*line == ' ' || *line == '\t')
			line++;
		if (!*line)
			continue;
		if (!strncmp(line, "0x", 2) && strlen(line) == 18) {
			uint64_t word = strtoull(line, NULL, 16);
			memcpy(bytes, &word, 8); /* the word's low byte is the opcode */
		} else if (!(parsed = cli_parse_hex(line, &len, &bad)) || len != 8) {
			free(parsed);
			*why = "a '-- raw' line is not 8 hex bytes or a 64-bit word";
			free(out);
			out = NULL;
			break;
		} else {
			memcpy(bytes, parsed, 8);
			free(parsed);
		}
		if (n == cap && !(out = realloc(out, (cap *= 2) * sizeof(*out))))
			break;
		memcpy(&out[n++], bytes, 8);
	}
	free(copy);
	if (!out)
		return -1;
	*insns = out;
	*cnt = n;
	return 0;
}

static int run_in_process(const struct conf_case *c, struct bpfvm_insn *insns, size_t cnt,
			  uint8_t *mem, size_t len, const struct conf_opts *o, uint64_t *r0,
			  char *err, size_t errlen)
{
	struct bpfvm *vm = bpfvm__new(NULL);
	struct bpfvm_log log = { err, errlen, 0 };
	BPFVM_OPTS(bpfvm_prog_opts, popts, .log = &log, .name = "case",
		   .flags = o->mode != BPFVM_EXEC_CHECKED ? BPFVM_PROG_TRUSTED : 0);
	BPFVM_OPTS(bpfvm_run_opts, ropts, .mode = o->mode, .log = &log);
	struct bpfvm_prog *prog;
	int ret = -1;

	(void)c;
	err[0] = '\0';
	if (!vm)
		return -1;
	prog = bpfvm_prog__new(vm, insns, cnt, &popts);
	if (prog && !bpfvm_prog__run(prog, len ? mem : NULL, len, &ropts)) {
		*r0 = ropts.retval;
		ret = 0;
	}
	bpfvm__destroy(vm);
	return ret;
}

/* Speak the public runner's protocol to a plugin command. */
static int run_plugin(const char *plugin, const struct conf_case *c, const struct bpfvm_insn *insns,
		      size_t cnt, uint64_t *r0, char *err, size_t errlen)
{
	int in[2], out[2], status;
	char buf[256] = "";
	ssize_t got;
	pid_t pid;

	if (pipe(in) || pipe(out))
		return snprintf(err, errlen, "pipe: %s", strerror(errno)), -1;
	pid = fork();
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		execl("/bin/sh", "sh", "-c", "exec $0 \"$@\"", plugin,
		      c->mem_text ? c->mem_text : (char *)NULL, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	FILE *w = fdopen(in[1], "w");
	for (size_t i = 0; w && i < cnt; i++) {
		const uint8_t *b = (const uint8_t *)&insns[i];
		for (int j = 0; j < 8; j++)
			fprintf(w, "%02x ", b[j]);
	}
	if (w)
		fclose(w);
	got = read(out[0], buf, sizeof(buf) - 1);
	close(out[0]);
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return snprintf(err, errlen, "the plugin failed (status %d)", WEXITSTATUS(status)), -1;
	buf[got > 0 ? got : 0] = '\0';
	*r0 = strtoull(buf, NULL, 16);
	return 0;
}

/* Run one case file; prints its line, returns 1 if it passed. */
static int run_case(const char *path, const struct conf_opts *o)
{
	size_t size, cnt = 0, len = 0, bad;
	uint8_t *text = cli_read_file(path, &size), *mem = NULL;
	struct bpfvm_insn *insns = NULL;
	struct conf_case c = { 0 };
	const char *why = NULL;
	char err[2048] = "";
	uint64_t r0 = 0;
	int ran = -1, pass = 0;
	struct bpfvm_log log = { err, sizeof(err), 0 };
	BPFVM_OPTS(bpfvm_asm_opts, ao, .filename = path, .log = &log);

	if (!text)
		return printf("FAIL %s: cannot read the file\n", path), 0;
	text = realloc(text, size + 1);
	text[size] = '\0';
	if (!size)
		why = "the file is empty: no program";
	else if (parse_case((char *)text, &c, &why) == 0) {
		if (c.mem_text && !(mem = cli_parse_hex(c.mem_text, &len, &bad)))
			why = "the '-- mem' section is not hex bytes";
		else if (c.raw_text && raw_program(c.raw_text, &insns, &cnt, &why) == 0)
			;
		else if (!c.raw_text && bpfvm_asm(c.asm_text, strlen(c.asm_text), &insns, &cnt, &ao))
			why = err;
	}
	if (!why && !insns && c.raw_text)
		why = why ? why : "bad '-- raw' section";
	if (!why) {
		ran = o->plugin ? run_plugin(o->plugin, &c, insns, cnt, &r0, err, sizeof(err))
				: run_in_process(&c, insns, cnt, mem, len, o, &r0, err, sizeof(err));
		why = ran ? err : NULL;
	}
	for (char *p = err; *p; p++)
		if (*p == '\n' && p[1])
			*p = ' ';
	if (err[0] && err[strlen(err) - 1] == '\n')
		err[strlen(err) - 1] = '\0';
	if (c.expects_error && why && ran != 0 && why == err) {
		printf("PASS %s: fails as expected: %s\n", path, why);
		pass = 1;
	} else if (why)
		printf("FAIL %s: %s\n", path, why);
	else if (c.expects_error)
		printf("FAIL %s: expected an error, got r0 = 0x%" PRIx64 "\n", path, r0);
	else if (r0 != c.result)
		printf("FAIL %s: r0 = 0x%" PRIx64 ", expected 0x%" PRIx64 "\n", path, r0, c.result);
	else
		pass = printf("PASS %s\n", path) > 0;
	case_free(&c);
	free(insns);
	free(mem);
	free(text);
	return pass;
}

int cmd_conformance(int argc, char **argv)
{
	struct conf_opts o = { .mode = BPFVM_EXEC_CHECKED };
	int passed = 0, failed = 0, i = 1;

	for (; i < argc && argv[i][0] == '-' && argv[i][1] == '-'; i++) {
		if (!strcmp(argv[i], "--trusted"))
			o.mode = BPFVM_EXEC_UNCHECKED;
		else if (!strcmp(argv[i], "--jit"))
			o.mode = BPFVM_EXEC_JIT;
		else if (!strcmp(argv[i], "--plugin") && i + 1 < argc)
			o.plugin = argv[++i];
		else
			return cli_usage("conformance");
	}
	if (i == argc)
		return cli_usage("conformance");
	for (; i < argc; i++) {
		if (run_case(argv[i], &o))
			passed++;
		else
			failed++;
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}

int cmd_conformance_plugin(int argc, char **argv)
{
	enum bpfvm_exec mode = BPFVM_EXEC_CHECKED;
	const char *mem_hex = NULL;
	size_t size, cnt, len = 0, bad;
	uint8_t *text, *code, *mem = NULL;
	char err[2048] = "";
	uint64_t r0;
	struct conf_opts o;
	int status = 1;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--jit"))
			mode = BPFVM_EXEC_JIT;
		else if (!strcmp(argv[i], "--trusted"))
			mode = BPFVM_EXEC_UNCHECKED;
		else if (!mem_hex)
			mem_hex = argv[i];
		else
			return cli_usage("conformance-plugin");
	}
	o = (struct conf_opts){ .mode = mode };
	if (mem_hex && !(mem = cli_parse_hex(mem_hex, &len, &bad))) {
		fprintf(stderr, "bpfvm: MEMORY_HEX: not hex at offset %zu\n", bad);
		return 1;
	}
	if (!(text = cli_read_file("-", &size)))
		goto out;
	text = realloc(text, size + 1);
	text[size] = '\0';
	code = cli_parse_hex((char *)text, &cnt, &bad);
	free(text);
	if (!code || cnt % 8 || !cnt) {
		fprintf(stderr, "bpfvm: the program on stdin is not whole instructions of hex bytes\n");
		free(code);
		goto out;
	}
	if (run_in_process(NULL, (struct bpfvm_insn *)code, cnt / 8, mem, len, &o, &r0, err, sizeof(err)))
		fprintf(stderr, "bpfvm: %s", err[0] ? err : "run failed\n");
	else {
		printf("%" PRIx64 "\n", r0);
		status = 0;
	}
	free(code);
out:
	free(mem);
	return status;
}
