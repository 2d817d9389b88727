/*
 * cmd_verify.c - `bpfvm verify`: prove programs safe, as the verifier of
 * Linux 6.18 as released would (not the host's kernel, whatever it is),
 * or say why not.  An ELF object's programs (or those of the object a
 * libbpf skeleton's binary embeds, --object N) are verified
 * as their section names' program types, with the object's maps; bytecode
 * and assembly for `bpfvm run`'s convention (r1 points to the --mem input,
 * r2 holds its size) unless --type names a program type.
 *
 * Output: per program, "accepted" or the verifier's refusal (the kernel's
 * message, then the source line, the path, the registers and a hint), and
 * the statistics line.  Maps and helpers only the kernel has are verified
 * against as the kernel would; such a program is "verified; cannot run in
 * bpfvm: " and what it needs.  A refusal at a CO-RE relocation the target
 * BTF lacks names that relocation first.  -v prints every instruction of the walk with the
 * state after it, as the kernel's log level 2; -vv adds precision
 * backtracking (all of the kernel's level 2); --walk-loops walks every
 * iteration of every loop, as the kernel does, instead of summarizing the
 * ones that only count; --json prints one record a program.  Exit status 0 when
 * every program is accepted, 1 otherwise, 2 for a usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpfvm/object.h>

#include "cli.h"

#define LOG_SIZE (64u << 20)

struct verify_args {
	const char *prog_name;
	const char *type;
	const char *mem_path;
	uint64_t mem_size;
	uint32_t log_level;
	uint32_t flags;
	bool json, raw;
	int object;      /* --object N of a program's embedded objects; -1: the only one */
	const char *file;
};

struct verdict {
	const char *name, *section;
	uint32_t type;
	int err;
	struct bpfvm_verify_stats stats;
	const char *log;
	/* Accepted, but needs the kernel to run: what ("calls bpf_get_stackid (...)"). */
	char cannot_run[512];
	/* Refused at a failed CO-RE relocation: which one, as the loader says. */
	const char *core_failure;
};

static int parse_args(int argc, char **argv, struct verify_args *a)
{
	static const struct option opts[] = {
		{ "prog", required_argument, NULL, 'p' }, { "type", required_argument, NULL, 'T' },
		{ "mem", required_argument, NULL, 'm' }, { "mem-size", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' }, { "raw", no_argument, NULL, 'r' },
		{ "strict-align", no_argument, NULL, 'a' }, { "walk-loops", no_argument, NULL, 'w' },
		{ "object", required_argument, NULL, 'O' }, { NULL, 0, NULL, 0 },
	};
	char *end;
	int c;

	*a = (struct verify_args){ .object = -1 };
	optind = 1;
	while ((c = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
		switch (c) {
		case 'p': a->prog_name = optarg; break;
		case 'T': a->type = optarg; break;
		case 'm': a->mem_path = optarg; break;
		case 's':
			a->mem_size = strtoull(optarg, &end, 0);
			if (*end || !*optarg)
				return -1;
			break;
		case 'j': a->json = true; break;
		case 'r': a->raw = true; break;
		case 'a': a->flags |= BPFVM_VERIFY_STRICT_ALIGNMENT; break;
		case 'w': a->flags |= BPFVM_VERIFY_WALK_LOOPS; break;
		case 'O':
			if ((a->object = cli_object_index(optarg)) < 0)
				return -1;
			break;
		case 'v': a->log_level = a->log_level ? 3 : 2; break; /* -v: states, -vv: more */
		default: return -1;
		}
	}
	if (optind != argc - 1)
		return -1;
	a->file = argv[optind];
	return 0;
}

static void json_string(const char *s)
{
	putchar('"');
	for (; s && *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if (*s == '\n')
			printf("\\n");
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

/* The log's first line: the kernel's message for a refusal. */
static void first_line(const char *log, char *buf, size_t size)
{
	size_t n = strcspn(log, "\n");

	snprintf(buf, size, "%.*s", (int)(n < size ? n : size - 1), log);
}

static void print_verdict(const struct verify_args *a, const struct verdict *v, bool first)
{
	char msg[512];

	if (!a->json) {
		printf("%s%s%s%s: %s%s\n", v->name, v->section ? " (" : "", v->section ? v->section : "",
		       v->section ? ")" : "",
		       v->err ? "refused" : v->cannot_run[0] ? "verified; cannot run in bpfvm: " : "accepted",
		       v->err ? "" : v->cannot_run);
		if (v->core_failure)
			printf("%s\n", v->core_failure);
		if (v->err || a->log_level)
			fputs(v->log, stdout);
		else
			printf("%s", strstr(v->log, "processed ") ? strstr(v->log, "processed ") : "");
		return;
	}
	first_line(v->core_failure ? v->core_failure : v->log, msg, sizeof(msg));
	printf("%s{\"program\": ", first ? "" : ",\n ");
	json_string(v->name);
	printf(", \"section\": ");
	json_string(v->section ? v->section : "");
	printf(", \"type\": ");
	json_string(bpfvm_prog_type_name(v->type));
	printf(", \"verdict\": \"%s\", \"error\": ", v->err ? "reject" : "accept");
	if (v->err)
		json_string(msg);
	else
		printf("null");
	printf(", \"cannot_run\": ");
	if (!v->err && v->cannot_run[0])
		json_string(v->cannot_run);
	else
		printf("null");
	printf(", \"insns_processed\": %" PRIu64 ", \"max_states_per_insn\": %u, "
	       "\"total_states\": %u, \"peak_states\": %u, \"time_us\": %" PRIu64 ", \"log\": ",
	       v->stats.insns_processed, v->stats.max_states_per_insn, v->stats.total_states,
	       v->stats.peak_states, v->stats.time_ns / 1000);
	json_string(v->log);
	printf("}");
}

static int verify_one(const struct verify_args *a, struct bpfvm_prog *prog,
		      const struct bpfvm_obj_prog *program, struct verdict *v, char *buf)
{
	struct bpfvm_log log = { buf, LOG_SIZE, 0 };

	buf[0] = '\0';
	v->err = cli_verify(prog, program, a->flags, a->mem_size, a->log_level, &log, &v->stats);
	v->log = buf;
	v->cannot_run[0] = '\0';
	v->core_failure = v->err ? cli_core_failure(program, buf) : NULL;
	if (!v->err && program)
		bpfvm_obj_prog__kernel_only(program, v->cannot_run, sizeof(v->cannot_run));
	return v->err ? 1 : 0;
}

/* A program a partial load left out, or did not load for its '?' section. */
static void print_not_loaded(const struct verify_args *a, const struct bpfvm_obj_prog *p, bool first)
{
	const char *why = bpfvm_obj_prog__left_out(p);
	const char *text = why ? why : "not loaded unless asked for (its section name starts with "
				       "'?'): name it with --prog";

	if (!a->json) {
		printf("%s (%s): %s: %s\n", bpfvm_obj_prog__name(p), bpfvm_obj_prog__section_name(p),
		       why ? "not loaded" : "skipped", text);
		return;
	}
	printf("%s{\"program\": ", first ? "" : ",\n ");
	json_string(bpfvm_obj_prog__name(p));
	printf(", \"section\": ");
	json_string(bpfvm_obj_prog__section_name(p));
	printf(", \"type\": ");
	json_string(bpfvm_prog_type_name(bpfvm_obj_prog__type(p)));
	printf(", \"verdict\": \"%s\", \"error\": ", why ? "not_loaded" : "skipped");
	json_string(text);
	printf("}");
}

/*
 * Open, select and load the object: with --prog only what that program
 * needs, else every program that can load (the others say why not).
 */
static struct bpfvm_object *load_object(const struct verify_args *a, char *buf)
{
	struct bpfvm_log log = { buf, LOG_SIZE, 0 };
	/* Kernel-only maps and helpers load as descriptors: verified, never run. */
	BPFVM_OPTS(bpfvm_object_open_opts, oo, .log = &log, .kernel_only = true,
		   .partial_load = true);
	struct bpfvm_object *obj = bpfvm_object__open_embedded(a->file, a->object, &oo);
	struct bpfvm_obj_prog *p = NULL;
	uint32_t type = 0;
	int err = errno;

	if (obj && a->prog_name && !(p = bpfvm_object__find_program_by_name(obj, a->prog_name))) {
		fprintf(stderr, "bpfvm: %s: no program named %s\n", a->file, a->prog_name);
		bpfvm_object__destroy(obj);
		return NULL;
	}
	if (obj && cli_parse_type("verify", a->type, &type)) {
		bpfvm_object__destroy(obj);
		return NULL;
	}
	if (obj)
		cli_default_type(obj, type);
	if (!obj || (p && bpfvm_object__load_only(obj, p)) || bpfvm_object__load(obj)) {
		fprintf(stderr, "bpfvm: %s: %s", a->file, buf[0] ? buf : "cannot load the object\n");
		if (!obj)
			cli_object_hint(err);
		bpfvm_object__destroy(obj);
		return NULL;
	}
	/* The whole object, as libbpf creates it: a map that cannot be created fails it. */
	for (size_t i = 0; !p && i < bpfvm_object__map_cnt(obj); i++) {
		if (!bpfvm_object__map_left_out(obj, i))
			continue;
		fprintf(stderr, "bpfvm: %s: map '%s': %s\n", a->file,
			bpfvm_object__map_desc(obj, i)->name, bpfvm_object__map_left_out(obj, i));
		bpfvm_object__destroy(obj);
		return NULL;
	}
	return obj;
}

static int verify_object(const struct verify_args *a, char *buf)
{
	struct bpfvm_object *obj = load_object(a, buf);
	struct bpfvm_obj_prog *p;
	int status = 0, n = 0;

	if (!obj)
		return 1;
	if (a->json)
		printf("[");
	bpfvm_object__for_each_program(p, obj) {
		struct verdict v = { bpfvm_obj_prog__name(p), bpfvm_obj_prog__section_name(p),
				     bpfvm_obj_prog__type(p), 0, { 0 }, NULL, "", NULL };

		if (a->prog_name && strcmp(a->prog_name, v.name))
			continue;
		if (!bpfvm_obj_prog__prog(p)) {
			if (bpfvm_obj_prog__left_out(p) || v.section[0] == '?') {
				print_not_loaded(a, p, !n++);
				status |= bpfvm_obj_prog__left_out(p) != NULL;
			}
			continue;
		}
		status |= verify_one(a, bpfvm_obj_prog__prog(p), p, &v, buf);
		print_verdict(a, &v, !n++);
	}
	if (a->json)
		printf("]\n");
	if (!n) {
		fprintf(stderr, "bpfvm: %s: no program\n", a->file);
		status = 1;
	}
	bpfvm_object__destroy(obj);
	return status;
}

static int verify_bytecode(const struct verify_args *a, char *buf)
{
	struct bpfvm_log log = { buf, LOG_SIZE, 0 };
	struct bpfvm_insn *insns = NULL;
	struct verify_args va = *a;
	struct verdict v = { a->file, NULL, 0, 0, { 0 }, NULL, "", NULL };
	struct bpfvm *vm = NULL;
	struct bpfvm_prog *prog;
	uint8_t *mem;
	size_t cnt, len;
	int status = 1;

	if (cli_parse_type("verify", a->type, &v.type))
		return EXIT_USAGE;
	if (!a->type)
		va.flags |= BPFVM_VERIFY_MEM;
	if (a->mem_path) {
		if (!(mem = cli_read_file(a->mem_path, &len)))
			return 1;
		free(mem);
		va.mem_size = len;
	}
	if (cli_load_program(a->file, a->raw, &insns, &cnt) || !(vm = bpfvm__new(NULL)))
		goto out;
	BPFVM_OPTS(bpfvm_prog_opts, popts, .name = a->file, .log = &log, .prog_type = v.type,
		   .license = "GPL");
	if (!(prog = bpfvm_prog__new(vm, insns, cnt, &popts))) {
		fprintf(stderr, "bpfvm: %s: %s", a->file, buf);
		goto out;
	}
	status = verify_one(&va, prog, NULL, &v, buf);
	if (a->json)
		printf("[");
	print_verdict(a, &v, true);
	if (a->json)
		printf("]\n");
out:
	bpfvm__destroy(vm);
	free(insns);
	return status;
}

static bool is_elf(const char *path)
{
	unsigned char magic[4] = { 0 };
	FILE *f = fopen(path, "rb");
	bool elf = f && fread(magic, 1, 4, f) == 4 && !memcmp(magic, "\x7f" "ELF", 4);

	if (f)
		fclose(f);
	return elf;
}

int cmd_verify(int argc, char **argv)
{
	struct verify_args a;
	char *buf;
	int status;

	if (parse_args(argc, argv, &a))
		return cli_usage("verify");
	if (!(buf = malloc(LOG_SIZE))) {
		fprintf(stderr, "bpfvm: %s\n", strerror(ENOMEM));
		return 1;
	}
	status = is_elf(a.file) ? verify_object(&a, buf) : verify_bytecode(&a, buf);
	free(buf);
	return status;
}
