/*
 * cmd_run_obj.c - `bpfvm run OBJECT`: a program of a BPF object run on
 * its program type's context (bpfvm_prog__test_run), once per packet of a
 * pcap file, or on one packet, or on a context alone:
 *
 *   bpfvm run OBJECT [--prog NAME|--section SEC] [--type TYPE] [--data FILE|--pcap FILE]
 *             [--ctx FILE] [--set VAR=VALUE]... [--repeat N] [--data-out FILE]
 *             [--dump-maps] [--json] [--interp|--jit] [--trusted|--checked] [--insn-limit N]
 *
 * Prints, per run, the return value (with its XDP or tc name), the time
 * of a run, the output packet when the program changed it; then what the
 * program printed with bpf_printk, and its perf buffer records; with
 * --dump-maps, every map's contents (ring buffers: their records).  Records
 * are decoded with the object's BTF (--record-type STRUCT, or the struct
 * their size names; records.c).  --set gives a global variable of
 * .rodata/.data/.bss its value before load, as a skeleton would.
 *
 * Only what the program run needs is loaded (bpfvm_object__load_only):
 * its maps and the programs it can tail-call, so a program of the object
 * that needs the kernel does not keep the others from running.  Without
 * --prog or --section the program run is the object's first that loads
 * (and verifies, unless --trusted or --checked); each one passed over is
 * named on stderr with the reason, as is each tail-call target left out.
 * OBJECT may be a program that embeds BPF objects (a libbpf skeleton's
 * binary): its object, or --object N of several, runs.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpfvm/hooks.h>
#include <bpfvm/object.h>

#include "cli.h"
#include "records.h"

#define MAX_SETS 32
#define OUT_ROOM 65536

struct obj_args {
	enum bpfvm_exec mode;
	bool trusted;
	bool checked;    /* --checked: no verification, the checked interpreter */
	uint64_t repeat;
	uint64_t insn_limit;
	const char *repeat_arg, *insn_limit_arg;
	const char *prog_name, *section, *data, *pcap, *ctx, *data_out, *type_name;
	uint32_t type;   /* --type: for programs whose section name tells none */
	bool dump_maps, json;
	const char *sets[MAX_SETS];
	int nsets;
	int object_index;    /* --object N of a program's embedded objects; -1: the only one */
	const char *record_type;   /* --record-type STRUCT for ring/perf buffer records */
	const char *object;
};

/* What one run of the program gave. */
struct run_result {
	uint64_t retval;
	uint64_t duration_ns;
	uint8_t *out;
	size_t out_len;
	bool changed;
};

/*
 * bpf_printk's lines: printed as they come (a million runs need no
 * memory for them); with --json, where they go after the runs, the first
 * TRACE_KEEP bytes are kept and the rest counted as dropped.
 */
#define TRACE_KEEP (4u << 20)

struct trace_buf {
	char *text;
	size_t len;
	bool keep;
	uint64_t dropped;    /* lines */
};

static void on_trace(void *ctx, const char *text, size_t len)
{
	struct trace_buf *t = ctx;

	if (!t->keep) {
		cli_trace_to_stdout(NULL, text, len);
		return;
	}
	/* all the room at once (its pages come as they are written): no copy per line */
	if (!t->text)
		t->text = malloc(TRACE_KEEP + 1);
	if (!t->text || t->len + len > TRACE_KEEP) {
		t->dropped++;
		return;
	}
	memcpy(t->text + t->len, text, len);
	t->len += len;
	t->text[t->len] = '\0';
}

static int parse_num(const char *s, uint64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 0);
	return errno || !*s || *end || s[0] == '-' ? -1 : 0;
}

static bool is_elf(const char *path)
{
	FILE *f = fopen(path, "rb");
	char magic[4] = { 0 };
	bool elf;

	if (!f)
		return false;
	elf = fread(magic, 1, 4, f) == 4 && !memcmp(magic, "\177ELF", 4);
	fclose(f);
	return elf;
}

enum { O_PROG = 256, O_SECTION, O_DATA, O_PCAP, O_CTX, O_DATA_OUT, O_DUMP, O_JSON, O_SET, O_TYPE,
       O_OBJECT, O_RECORD_TYPE };

/* 1: not an object (cmd_run goes on), 0: parsed, -1: a usage error. */
static int parse_obj_args(int argc, char **argv, struct obj_args *a)
{
	static const struct option opts[] = {
		{ "interp", no_argument, NULL, 'i' }, { "jit", no_argument, NULL, 'j' },
		{ "trusted", no_argument, NULL, 't' }, { "raw", no_argument, NULL, 'r' },
		{ "checked", no_argument, NULL, 'c' },
		{ "mem", required_argument, NULL, 'm' }, { "mem-out", required_argument, NULL, 'o' },
		{ "repeat", required_argument, NULL, 'n' }, { "insn-limit", required_argument, NULL, 'l' },
		{ "prog", required_argument, NULL, O_PROG }, { "section", required_argument, NULL, O_SECTION },
		{ "data", required_argument, NULL, O_DATA }, { "pcap", required_argument, NULL, O_PCAP },
		{ "ctx", required_argument, NULL, O_CTX }, { "data-out", required_argument, NULL, O_DATA_OUT },
		{ "dump-maps", no_argument, NULL, O_DUMP }, { "json", no_argument, NULL, O_JSON },
		{ "set", required_argument, NULL, O_SET }, { "type", required_argument, NULL, O_TYPE },
		{ "object", required_argument, NULL, O_OBJECT },
		{ "record-type", required_argument, NULL, O_RECORD_TYPE },
		{ "license", required_argument, NULL, 'L' }, { NULL, 0, NULL, 0 },
	};
	bool raw_only = false;
	int c;

	*a = (struct obj_args){ .mode = BPFVM_EXEC_CHECKED, .repeat = 1, .object_index = -1 };
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'i': a->mode = BPFVM_EXEC_CHECKED; break;
		case 'j': a->mode = BPFVM_EXEC_JIT; break;
		case 't': a->trusted = true; break;
		case 'c': a->checked = true; break;
		case 'r': case 'm': case 'o': case 'L': raw_only = true; break;
		case 'n': a->repeat_arg = optarg; break;
		case 'l': a->insn_limit_arg = optarg; break;
		case O_PROG: a->prog_name = optarg; break;
		case O_SECTION: a->section = optarg; break;
		case O_DATA: a->data = optarg; break;
		case O_PCAP: a->pcap = optarg; break;
		case O_CTX: a->ctx = optarg; break;
		case O_DATA_OUT: a->data_out = optarg; break;
		case O_DUMP: a->dump_maps = true; break;
		case O_JSON: a->json = true; break;
		case O_SET: if (a->nsets < MAX_SETS) a->sets[a->nsets++] = optarg; break;
		case O_TYPE: a->type_name = optarg; break;
		case O_OBJECT: if ((a->object_index = cli_object_index(optarg)) < 0) return -1; break;
		case O_RECORD_TYPE: a->record_type = optarg; break;
		default: break;
		}
	}
	opterr = 1;
	if (optind != argc - 1 || !is_elf(argv[optind]))
		return 1;
	a->object = argv[optind];
	if (raw_only || (a->data && a->pcap)) {
		fprintf(stderr, "bpfvm run: %s\n", raw_only ? "--raw, --mem, --mem-out and --license "
				"are for bytecode and assembly, not objects (an object has its "
				"license section)" : "give --data or --pcap, not both");
		return -1;
	}
	if (a->repeat_arg && cli_parse_count("run", "--repeat", a->repeat_arg, UINT32_MAX,
					     "(a test run's count is 32 bits, as in the kernel)",
					     &a->repeat))
		return -1;
	if (a->insn_limit_arg && cli_parse_count("run", "--insn-limit", a->insn_limit_arg,
						 UINT64_MAX, NULL, &a->insn_limit))
		return -1;
	if (cli_parse_type("run", a->type_name, &a->type))
		return -1;
	if (a->trusted && a->mode == BPFVM_EXEC_CHECKED)
		a->mode = BPFVM_EXEC_UNCHECKED;
	return 0;
}

/*
 * --set NAME=VALUE: an integer sized as the variable, or hex bytes (0x...)
 * for others.  0, 1 when the object has no such variable and missing_ok
 * (`bpfvm trace` with several objects), -1 with the reason printed.
 */
int cli_apply_set(struct bpfvm_object *obj, const char *spec, struct bpfvm_log *log, bool missing_ok)
{
	const char *eq = strchr(spec, '=');
	char name[256];
	uint64_t v;
	int err = -EINVAL;

	if (!eq || (size_t)(eq - spec) >= sizeof(name)) {
		fprintf(stderr, "bpfvm run: --set takes NAME=VALUE, not '%s'\n", spec);
		return -1;
	}
	snprintf(name, sizeof(name), "%.*s", (int)(eq - spec), spec);
	if (parse_num(eq + 1, &v) == 0 || (eq[1] == '-' && (v = (uint64_t)strtoll(eq + 1, NULL, 0), 1))) {
		static const size_t sizes[] = { 4, 8, 2, 1 };

		for (size_t i = 0; i < 4 && err == -EINVAL; i++)
			err = bpfvm_object__set_global(obj, name, &v, sizes[i]);
	}
	if (err == -ENOENT && missing_ok)
		return 1;
	if (err == -ENOENT) {
		fprintf(stderr, "bpfvm run: --set %s: no such variable in .data, .rodata or .bss\n",
			spec);
		return -1;
	}
	if (err) {
		fprintf(stderr, "bpfvm run: --set %s: %s", spec, log->len ? log->buf
			: "an integer value for an integer variable is expected\n");
		return -1;
	}
	return 0;
}

static void print_hex(FILE *f, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%02x", p[i]);
}

/* The program to run and its input, shared by the runs. */
struct runner {
	const struct obj_args *a;
	struct bpfvm_obj_prog *program;
	struct bpfvm_prog *prog;
	uint32_t type;
	const uint8_t *ctx;
	size_t ctx_len;
	uint8_t *out;
};

/*
 * A fault names the instruction ("instruction N"); with BTF line info, say
 * which source line that is.
 */
static void print_source_line(const struct bpfvm_obj_prog *p, const char *msg)
{
	const char *at = strstr(msg, "instruction ");
	const char *file, *text;
	uint32_t line, col;
	unsigned long idx;

	if (!at || sscanf(at, "instruction %lu", &idx) != 1 ||
	    bpfvm_obj_prog__source_line(p, idx, &file, &line, &col, &text))
		return;
	while (*text == ' ' || *text == '\t')
		text++;
	fprintf(stderr, "bpfvm: at %s:%u:%u: %s\n", file, line, col, text);
}

/* Run once (repeat times) on a packet; the result, or 1 with the error printed. */
static int run_once(const struct runner *rn, const uint8_t *pkt, size_t len,
		    struct run_result *r)
{
	const struct obj_args *a = rn->a;
	char logbuf[4096] = "";
	struct bpfvm_log log = { logbuf, sizeof(logbuf), 0 };
	BPFVM_OPTS(bpfvm_test_run_opts, o, .data_in = pkt, .data_size_in = len,
		   .data_out = r->out, .data_size_out = OUT_ROOM, .ctx_in = rn->ctx,
		   .ctx_size_in = rn->ctx_len, .repeat = (uint32_t)a->repeat, .mode = a->mode,
		   .insn_limit = a->insn_limit, .log = &log);
	int err = bpfvm_prog__test_run(rn->prog, &o);

	if (err) {
		fprintf(stderr, "bpfvm: %s: %s", a->object, logbuf[0] ? logbuf : strerror(-err));
		if (!logbuf[0] || logbuf[strlen(logbuf) - 1] != '\n')
			fputc('\n', stderr);
		print_source_line(rn->program, logbuf);
		return 1;
	}
	r->retval = o.retval;
	r->duration_ns = o.duration_ns;
	r->out_len = o.data_size_out < OUT_ROOM ? o.data_size_out : OUT_ROOM;
	r->changed = r->out_len != len || (len && memcmp(r->out, pkt, len));
	return 0;
}

static void print_result(const struct obj_args *a, uint32_t type, size_t idx, bool many,
			 const struct run_result *r, bool first)
{
	const char *name = bpfvm_retval_name(type, r->retval);

	if (a->json) {
		printf("%s{\"packet\":%zu,\"retval\":%" PRIu64 ",\"verdict\":\"%s\",\"duration_ns\":%"
		       PRIu64 ",\"data_out\":\"", first ? "" : ",", idx, r->retval, name ? name : "",
		       r->duration_ns);
		print_hex(stdout, r->out, r->out_len);
		printf("\"}");
		return;
	}
	if (many)
		printf("packet %zu: ", idx);
	printf("retval 0x%" PRIx64, r->retval);
	if (name)
		printf(" (%s)", name);
	printf("  duration_ns %" PRIu64 "\n", r->duration_ns);
	if (r->changed) {
		printf("data_out ");
		print_hex(stdout, r->out, r->out_len);
		printf("\n");
	}
}

/* Each packet of a pcap file in turn; with --data-out, the output packets as a pcap. */
static int run_pcap(const struct runner *rn)
{
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline(rn->a->pcap, err);
	pcap_dumper_t *dump = NULL;
	struct pcap_pkthdr *h;
	const uint8_t *pkt;
	size_t n = 0;
	int status = 0, rc = 0;

	if (!p) {
		fprintf(stderr, "bpfvm: %s: not a pcap file (%s)\n", rn->a->pcap, err);
		return 1;
	}
	if (rn->a->data_out && !(dump = pcap_dump_open(p, rn->a->data_out))) {
		fprintf(stderr, "bpfvm: %s: %s\n", rn->a->data_out, pcap_geterr(p));
		pcap_close(p);
		return 1;
	}
	while (!status && (rc = pcap_next_ex(p, &h, &pkt)) == 1) {
		struct run_result r = { .out = rn->out };

		status = run_once(rn, pkt, h->caplen, &r);
		if (!status)
			print_result(rn->a, rn->type, n, true, &r, n == 0);
		if (!status && dump) {
			struct pcap_pkthdr oh = *h;

			oh.caplen = oh.len = (bpf_u_int32)r.out_len;
			pcap_dump((u_char *)dump, &oh, r.out);
		}
		n++;
	}
	if (!status && rc == -1) {
		fprintf(stderr, "bpfvm: %s: %s\n", rn->a->pcap, pcap_geterr(p));
		status = 1;
	}
	if (dump)
		pcap_dump_close(dump);
	pcap_close(p);
	return status;
}

/* One packet (--data), or none. */
static int run_single(const struct runner *rn)
{
	struct run_result r = { .out = rn->out };
	uint8_t *pkt = NULL;
	size_t len = 0;
	int status;

	if (rn->a->data && !(pkt = cli_read_file(rn->a->data, &len)))
		return 1;
	status = run_once(rn, pkt, len, &r);
	if (!status)
		print_result(rn->a, rn->type, 0, false, &r, true);
	if (!status && rn->a->data_out && cli_write_file(rn->a->data_out, r.out, r.out_len))
		status = 1;
	free(pkt);
	return status;
}

static void print_trace(const struct obj_args *a, const struct trace_buf *t)
{
	const char *s = t->text;

	if (a->json) {
		printf("],\"trace\":[");
		for (bool first = true; s && *s; first = false) {
			const char *nl = strchr(s, '\n');
			size_t n = nl ? (size_t)(nl - s) : strlen(s);

			printf("%s\"", first ? "" : ",");
			for (size_t i = 0; i < n; i++)
				printf(s[i] == '"' || s[i] == '\\' ? "\\%c" : (unsigned char)s[i] < 0x20
				       ? "\\u%04x" : "%c", s[i]);
			printf("\"");
			s += n + (nl ? 1 : 0);
		}
		printf("]");
		if (t->dropped)
			printf(",\"trace_dropped\":%" PRIu64, t->dropped);
		return;
	}
	if (s)
		printf("%s", s);
}

static uint8_t *read_opt(const char *path, size_t *len)
{
	*len = 0;
	return path ? cli_read_file(path, len) : NULL;
}

/*
 * Open the object, give --set values and --type, and load it: only what
 * program `only` needs when given, else every program that can load.
 */
static struct bpfvm_object *open_object(const struct obj_args *a, struct bpfvm *vm,
					struct bpfvm_log *log, const char *only)
{
	BPFVM_OPTS(bpfvm_object_open_opts, oo, .log = log, .vm = vm, .partial_load = true,
		   .prog_flags = a->trusted ? BPFVM_PROG_TRUSTED : 0);
	struct bpfvm_object *obj;
	struct bpfvm_obj_prog *p;
	int err;

	bpfvm_log__reset(log);
	if (!(obj = bpfvm_object__open_embedded(a->object, a->object_index, &oo))) {
		err = errno;
		fprintf(stderr, "bpfvm: %s", log->len ? log->buf : "cannot open the object\n");
		cli_object_hint(err);
		return NULL;
	}
	for (int i = 0; i < a->nsets; i++) {
		bpfvm_log__reset(log);
		if (cli_apply_set(obj, a->sets[i], log, false)) {
			bpfvm_object__destroy(obj);
			return NULL;
		}
	}
	cli_default_type(obj, a->type);
	if (only && !(p = bpfvm_object__find_program_by_name(obj, only))) {
		fprintf(stderr, "bpfvm: %s: no program named %s\n", a->object, only);
		bpfvm_object__destroy(obj);
		return NULL;
	}
	bpfvm_log__reset(log);
	err = only ? bpfvm_object__load_only(obj, p) : 0;
	if (!err)
		err = bpfvm_object__load(obj);
	if (err) {
		fprintf(stderr, "bpfvm: %s", log->len ? log->buf : strerror(-err));
		bpfvm_object__destroy(obj);
		return NULL;
	}
	return obj;
}

/*
 * The program to run: --prog's, the first of --section, else the first
 * that loads and verifies, after a load of all that names each program
 * passed over.  Its name (malloc'd), or NULL with the reason on stderr.
 */
static char *choose_program(const struct obj_args *a, struct bpfvm_log *log)
{
	struct bpfvm *vm;
	struct bpfvm_object *obj;
	struct bpfvm_obj_prog *p, *pick = NULL;
	char why[512], *name = NULL;

	if (a->prog_name)
		return strdup(a->prog_name);
	vm = bpfvm__new(NULL);
	obj = vm ? open_object(a, vm, log, NULL) : NULL;
	bpfvm_object__for_each_program(p, obj) {
		if (!pick && a->section && !strcmp(bpfvm_obj_prog__section_name(p), a->section))
			pick = p;
	}
	if (!pick && a->section && obj)
		fprintf(stderr, "bpfvm: %s: no program in section %s\n", a->object, a->section);
	if (!pick && !a->section && obj) {
		cli_print_left_out(obj, a->object, NULL, false);
		bpfvm_object__for_each_program(p, obj) {
			if (pick || !bpfvm_obj_prog__prog(p))
				continue;
			if (a->trusted || a->checked || cli_verifies(p, why, sizeof(why)))
				pick = p;
			else
				fprintf(stderr, "bpfvm: %s: left out %s (%s): %s\n", a->object,
					bpfvm_obj_prog__name(p), bpfvm_obj_prog__section_name(p), why);
		}
		if (!pick)
			fprintf(stderr, "bpfvm: %s: no program of the object can run here\n",
				a->object);
	}
	if (pick)
		name = strdup(bpfvm_obj_prog__name(pick));
	bpfvm_object__destroy(obj);
	bpfvm__destroy(vm);
	return name;
}

/* After loading what `name` needs: the program, or NULL with why it could not load. */
static struct bpfvm_obj_prog *loaded_program(const struct obj_args *a, struct bpfvm_object *obj,
					    const char *name)
{
	struct bpfvm_obj_prog *p = bpfvm_object__find_program_by_name(obj, name);

	if (p && bpfvm_obj_prog__prog(p)) {
		if (a->prog_name || a->section)
			cli_print_left_out(obj, a->object, p, true);
		return p;
	}
	fprintf(stderr, "bpfvm: %s: program %s cannot be loaded: %s\n", a->object, name,
		p && bpfvm_obj_prog__left_out(p) ? bpfvm_obj_prog__left_out(p) : "not loaded");
	return NULL;
}

static int run_loaded(const struct obj_args *a, struct bpfvm_object *obj,
		      struct bpfvm_obj_prog *p, struct trace_buf *t, struct perf_records *perf)
{
	struct runner rn = { .a = a };
	struct records_fmt rf;
	uint8_t *ctx = NULL;
	int status = 1;

	if (records_fmt_init(&rf, obj, a->record_type, a->json, a->object))
		return 1;
	rn.program = p;
	rn.prog = bpfvm_obj_prog__prog(p);
	rn.type = bpfvm_obj_prog__type(p);
	rn.out = malloc(OUT_ROOM);
	ctx = read_opt(a->ctx, &rn.ctx_len);
	rn.ctx = ctx;
	if (rn.out && (!a->ctx || ctx)) {
		if (a->json) {
			printf("{\"object\":\"%s\",\"program\":\"%s\",\"type\":\"%s\",\"runs\":[",
			       bpfvm_object__name(obj), bpfvm_obj_prog__name(p),
			       bpfvm_prog_type_name(rn.type));
		}
		status = a->pcap ? run_pcap(&rn) : run_single(&rn);
		print_trace(a, t);
		perf_records_print(perf, &rf);
		if (a->dump_maps)
			obj_dump_maps(obj, &rf);
		if (a->json)
			printf("}\n");
	}
	free(ctx);
	free(rn.out);
	return status;
}

int cmd_run_object(int argc, char **argv)
{
	struct obj_args a;
	struct trace_buf t = { 0 };
	char logbuf[8192] = "";
	struct bpfvm_log log = { logbuf, sizeof(logbuf), 0 };
	BPFVM_OPTS(bpfvm_opts, vo, .trace = on_trace, .trace_ctx = &t);
	struct bpfvm *vm = NULL;
	struct bpfvm_object *obj = NULL;
	struct bpfvm_obj_prog *p = NULL;
	struct perf_records *perf = NULL;
	char *name = NULL;
	int status = 1, rc = parse_obj_args(argc, argv, &a);

	if (rc)
		return rc > 0 ? -1 : cli_usage("run");
	t.keep = a.json;
	if (!(name = choose_program(&a, &log)))
		return 1;
	if (!(vm = bpfvm__new(&vo))) {
		fprintf(stderr, "bpfvm: %s\n", strerror(errno));
		free(name);
		return 1;
	}
	obj = open_object(&a, vm, &log, name);
	if (obj)
		p = loaded_program(&a, obj, name);
	/* Unless trusted or asked to run checked: what was loaded verified, then run unchecked. */
	if (p && !a.trusted && !a.checked) {
		if (cli_verify_object_for_run(obj, a.object))
			p = NULL;
		else if (a.mode == BPFVM_EXEC_CHECKED)
			a.mode = BPFVM_EXEC_UNCHECKED;
	}
	/* bpf_perf_event_output's records are kept and printed, never dropped. */
	if (p && !(perf = perf_records_attach(obj)))
		fprintf(stderr, "bpfvm: %s\n", strerror(ENOMEM));
	else if (p)
		status = run_loaded(&a, obj, p, &t, perf);
	bpfvm_object__destroy(obj);
	perf_records_free(perf);
	bpfvm__destroy(vm);
	free(t.text);
	free(name);
	return status;
}
