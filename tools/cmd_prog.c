/*
 * cmd_prog.c - `bpfvm prog show OBJECT|BINARY`: what a BPF object (or the
 * one a libbpf skeleton's BINARY embeds, --object N of several) holds, as
 * bpftool's prog show and map show print loaded ones: each program (name,
 * type, section, attach type and target, instruction count, the helpers
 * it calls), each map (type, key and value sizes, entries, flags), the
 * license and version.  --relocs adds each program's resolved references
 * (lddw of maps and global data, bpf-to-bpf calls); --json prints it all
 * as one JSON object.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/bpf.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <bpfvm/object.h>

#include "cli.h"

struct show_args {
	bool load;
	bool dump;
	bool json;
	bool relocs;
	uint32_t type;   /* --type: for programs whose section name tells none */
	int object;      /* --object N; -1: the only one */
	const char *path;
};

/* The distinct helper ids a program calls, in order of first call. */
static size_t helpers_of(const struct bpfvm_obj_prog *p, int32_t *ids, size_t max)
{
	const struct bpfvm_insn *insns = bpfvm_obj_prog__insns(p);
	size_t n = 0, cnt = bpfvm_obj_prog__insn_cnt(p);

	for (size_t i = 0; i < cnt; i++) {
		bool seen = false;

		if (insns[i].code != (BPFVM_JMP | BPFVM_CALL) || insns[i].src_reg != 0)
			continue;
		for (size_t k = 0; k < n; k++)
			seen |= ids[k] == insns[i].imm;
		if (!seen && n < max)
			ids[n++] = insns[i].imm;
	}
	return n;
}

static const char *helper_name(int32_t id)
{
	const char *name = bpfvm_helper_name(id);

	return name ? name : "unknown";
}

static void show_relocs(const struct bpfvm_object *obj, const struct bpfvm_obj_prog *p, bool json)
{
	const struct bpfvm_insn *in = bpfvm_obj_prog__insns(p);
	size_t cnt = bpfvm_obj_prog__insn_cnt(p);
	bool first = true;

	for (size_t i = 0; i < cnt; i++) {
		const struct bpfvm_map_desc *m = NULL;
		bool lddw = in[i].code == (BPFVM_LD | BPFVM_DW | BPFVM_IMM);

		if (lddw && (in[i].src_reg == BPFVM_PSEUDO_MAP_FD ||
			     in[i].src_reg == BPFVM_PSEUDO_MAP_VALUE))
			m = bpfvm_object__map_desc(obj, (size_t)in[i].imm);
		if (m && json) {
			printf("%s{\"insn\":%zu,\"map\":", first ? "" : ",", i);
			cli_json_str(m->name);
			printf(",\"off\":%d}", in[i].src_reg == BPFVM_PSEUDO_MAP_VALUE ? in[i + 1].imm : 0);
			first = false;
		} else if (m) {
			printf("\treloc insn %zu map %s", i, m->name);
			if (in[i].src_reg == BPFVM_PSEUDO_MAP_VALUE)
				printf(" off %d", in[i + 1].imm);
			printf("\n");
		} else if (!json && in[i].code == (BPFVM_JMP | BPFVM_CALL) &&
			   in[i].src_reg == BPFVM_PSEUDO_CALL) {
			printf("\treloc insn %zu call %lld\n", i, (long long)i + 1 + in[i].imm);
		}
		if (lddw)
			i++;
	}
}

static void show_prog_text(const struct bpfvm_object *obj, const struct bpfvm_obj_prog *p,
			   size_t idx, bool relocs)
{
	int32_t ids[256];
	size_t n = helpers_of(p, ids, 256);
	const char *target = bpfvm_obj_prog__attach_target(p);

	printf("prog %zu: %s  name %s  section %s", idx, bpfvm_prog_type_name(bpfvm_obj_prog__type(p)),
	       bpfvm_obj_prog__name(p), bpfvm_obj_prog__section_name(p));
	if (bpfvm_obj_prog__expected_attach_type(p))
		printf("  attach_type %s",
		       bpfvm_attach_type_name(bpfvm_obj_prog__expected_attach_type(p)));
	printf("\n\tinsns %zu", bpfvm_obj_prog__insn_cnt(p));
	if (*target)
		printf("  attach_target %s", target);
	printf("\n");
	if (n) {
		printf("\thelpers");
		for (size_t i = 0; i < n; i++)
			printf(" %s", helper_name(ids[i]));
		printf("\n");
	}
	if (relocs)
		show_relocs(obj, p, false);
}

static void show_map_text(const struct bpfvm_map_desc *m, size_t idx)
{
	printf("map %zu: %s  name %s  flags 0x%" PRIx32 "  section %s\n", idx,
	       bpfvm_map_type_name(m->type), m->name, m->map_flags, m->section);
	printf("\tkey %" PRIu32 "B  value %" PRIu32 "B  max_entries %" PRIu32, m->key_size,
	       m->value_size, m->max_entries);
	if (m->map_extra)
		printf("  map_extra %" PRIu64, m->map_extra);
	printf("\n");
	if (m->inner)
		printf("\tinner %s  key %" PRIu32 "B  value %" PRIu32 "B  max_entries %" PRIu32
		       "  flags 0x%" PRIx32 "\n", bpfvm_map_type_name(m->inner->type),
		       m->inner->key_size, m->inner->value_size, m->inner->max_entries,
		       m->inner->map_flags);
}

static void show_text(const struct bpfvm_object *obj, bool relocs)
{
	struct bpfvm_obj_prog *p;
	size_t i = 0;

	printf("object %s  license \"%s\"  version %" PRIu32 "\n", bpfvm_object__name(obj),
	       bpfvm_object__license(obj), bpfvm_object__kversion(obj));
	bpfvm_object__for_each_program(p, obj)
		show_prog_text(obj, p, i++, relocs);
	for (i = 0; i < bpfvm_object__map_cnt(obj); i++)
		show_map_text(bpfvm_object__map_desc(obj, i), i);
}

static void json_map(const struct bpfvm_map_desc *m)
{
	printf("{\"name\":");
	cli_json_str(m->name);
	printf(",\"section\":");
	cli_json_str(m->section);
	printf(",\"type\":\"%s\",\"key_size\":%" PRIu32 ",\"value_size\":%" PRIu32
	       ",\"max_entries\":%" PRIu32 ",\"flags\":%" PRIu32 ",\"map_extra\":%" PRIu64,
	       bpfvm_map_type_name(m->type), m->key_size, m->value_size, m->max_entries,
	       m->map_flags, m->map_extra);
	if (m->inner) {
		printf(",\"inner\":");
		json_map(m->inner);
	}
	printf("}");
}

static void json_prog(const struct bpfvm_object *obj, const struct bpfvm_obj_prog *p, bool relocs)
{
	int32_t ids[256];
	size_t n = helpers_of(p, ids, 256);

	printf("{\"name\":");
	cli_json_str(bpfvm_obj_prog__name(p));
	printf(",\"section\":");
	cli_json_str(bpfvm_obj_prog__section_name(p));
	printf(",\"type\":\"%s\",\"attach_type\":\"%s\",\"attach_target\":",
	       bpfvm_prog_type_name(bpfvm_obj_prog__type(p)),
	       bpfvm_obj_prog__expected_attach_type(p)
		       ? bpfvm_attach_type_name(bpfvm_obj_prog__expected_attach_type(p)) : "");
	cli_json_str(bpfvm_obj_prog__attach_target(p));
	printf(",\"insns\":%zu,\"helpers\":[", bpfvm_obj_prog__insn_cnt(p));
	for (size_t i = 0; i < n; i++)
		printf("%s\"%s\"", i ? "," : "", helper_name(ids[i]));
	printf("]");
	if (relocs) {
		printf(",\"relocs\":[");
		show_relocs(obj, p, true);
		printf("]");
	}
	printf("}");
}

static void show_json(const struct bpfvm_object *obj, bool relocs)
{
	struct bpfvm_obj_prog *p;
	bool first = true;

	printf("{\"object\":");
	cli_json_str(bpfvm_object__name(obj));
	printf(",\"license\":");
	cli_json_str(bpfvm_object__license(obj));
	printf(",\"version\":%" PRIu32 ",\"programs\":[", bpfvm_object__kversion(obj));
	bpfvm_object__for_each_program(p, obj) {
		printf("%s", first ? "" : ",");
		json_prog(obj, p, relocs);
		first = false;
	}
	printf("],\"maps\":[");
	for (size_t i = 0; i < bpfvm_object__map_cnt(obj); i++) {
		printf("%s", i ? "," : "");
		json_map(bpfvm_object__map_desc(obj, i));
	}
	printf("]}\n");
}

static int parse_args(int argc, char **argv, struct show_args *a)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' }, { "relocs", no_argument, NULL, 'r' },
		{ "insns", no_argument, NULL, 'i' }, { "type", required_argument, NULL, 'T' },
		{ "object", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*a = (struct show_args){ .object = -1 };
	optind = 1;
	if (argc < 2 || (strcmp(argv[1], "show") && strcmp(argv[1], "load"))) {
		fprintf(stderr, "bpfvm prog: expected 'show' or 'load'\n");
		return -1;
	}
	a->load = !strcmp(argv[1], "load");
	argc--, argv++;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'j')
			a->json = true;
		else if (c == 'r')
			a->relocs = true;
		else if (c == 'i')
			a->dump = true;
		else if (c == 'T' && !cli_parse_type("prog", optarg, &a->type))
			continue;
		else if (c == 'o' && (a->object = cli_object_index(optarg)) >= 0)
			continue;
		else
			return -1;
	}
	if (optind != argc - 1) {
		fprintf(stderr, "bpfvm prog %s: expected one OBJECT\n", a->load ? "load" : "show");
		return -1;
	}
	a->path = argv[optind];
	return 0;
}

/* `prog load`: create the maps and programs, or say why they cannot be. */
/*
 * --insns: each loaded program's instructions as raw fields, map
 * references by map name (what tests compare with libbpf's relocated
 * instructions, CO-RE included).
 */
static void dump_insns(const struct bpfvm_object *obj)
{
	struct bpfvm_obj_prog *p;
	size_t n = 0;

	bpfvm_object__for_each_program(p, obj) {
		const struct bpfvm_insn *in = bpfvm_obj_prog__insns(p);

		printf("loaded prog %zu\n", n++);
		for (size_t i = 0; i < bpfvm_obj_prog__insn_cnt(p); i++) {
			bool map = in[i].code == (BPFVM_LD | BPFVM_DW | BPFVM_IMM) &&
				   (in[i].src_reg == BPFVM_PSEUDO_MAP_FD ||
				    in[i].src_reg == BPFVM_PSEUDO_MAP_VALUE);

			printf("\t%zu: %02x %u %u %d ", i, in[i].code, in[i].dst_reg, in[i].src_reg,
			       in[i].off);
			if (map)
				printf("map %s\n", bpfvm_object__map_desc(obj, (size_t)in[i].imm)->name);
			else
				printf("%d\n", in[i].imm);
		}
	}
}

static int load(struct bpfvm_object *obj, struct bpfvm_log *log, bool dump)
{
	struct bpfvm_obj_prog *p;
	size_t n = 0;
	int err;

	bpfvm_log__reset(log);
	err = bpfvm_object__load(obj);
	if (err) {
		fprintf(stderr, "bpfvm: %s", log->len ? log->buf : "load failed\n");
		bpfvm_object__destroy(obj);
		return 1;
	}
	bpfvm_object__for_each_program(p, obj)
		n += bpfvm_obj_prog__prog(p) != NULL;
	if (dump)
		dump_insns(obj);
	printf("loaded %s: %zu programs, %zu maps\n", bpfvm_object__name(obj), n,
	       bpfvm_object__map_cnt(obj));
	bpfvm_object__destroy(obj);
	return 0;
}

int cmd_prog(int argc, char **argv)
{
	char logbuf[8192] = "";
	struct bpfvm_log log = { logbuf, sizeof(logbuf), 0 };
	struct show_args a;
	struct bpfvm_object *obj;

	if (parse_args(argc, argv, &a))
		return cli_usage("prog");
	BPFVM_OPTS(bpfvm_object_open_opts, oo, .log = &log);
	obj = bpfvm_object__open_embedded(a.path, a.object, &oo);
	if (!obj) {
		int err = errno;

		fprintf(stderr, "bpfvm: %s", logbuf[0] ? logbuf : "cannot open the object\n");
		cli_object_hint(err);
		return 1;
	}
	cli_default_type(obj, a.type);
	if (a.load)
		return load(obj, &log, a.dump);
	if (a.json)
		show_json(obj, a.relocs);
	else
		show_text(obj, a.relocs);
	bpfvm_object__destroy(obj);
	return 0;
}
