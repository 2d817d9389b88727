/*
 * cmd_run.c - `bpfvm run`: run a program on a memory image and print r0.
 * The program gets r1 = a pointer to a copy of the image, r2 = its length,
 * as the conformance suite runs programs.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

struct run_args {
	enum bpfvm_exec mode;
	int trusted;
	int checked;     /* --checked: no verification, the checked interpreter */
	int raw;
	const char *mem_path;
	const char *mem_out;
	uint64_t repeat;
	uint64_t insn_limit;
	const char *license;  /* --license: as an object's "license" section (GPL-only helpers) */
	const char *program;
};

/* Options of `run OBJECT` (cmd_run_obj.c): given with bytecode or assembly, they say why not. */
#define OBJECT_ONLY 'O'

static int parse_args(int argc, char **argv, struct run_args *a)
{
	static const struct option opts[] = {
		{ "interp", no_argument, NULL, 'i' },   { "jit", no_argument, NULL, 'j' },
		{ "trusted", no_argument, NULL, 't' },  { "raw", no_argument, NULL, 'r' },
		{ "checked", no_argument, NULL, 'c' },
		{ "mem", required_argument, NULL, 'm' }, { "mem-out", required_argument, NULL, 'o' },
		{ "repeat", required_argument, NULL, 'n' },
		{ "insn-limit", required_argument, NULL, 'l' },
		{ "license", required_argument, NULL, 'L' },
		{ "prog", required_argument, NULL, OBJECT_ONLY },
		{ "section", required_argument, NULL, OBJECT_ONLY },
		{ "type", required_argument, NULL, OBJECT_ONLY },
		{ "data", required_argument, NULL, OBJECT_ONLY },
		{ "pcap", required_argument, NULL, OBJECT_ONLY },
		{ "ctx", required_argument, NULL, OBJECT_ONLY },
		{ "data-out", required_argument, NULL, OBJECT_ONLY },
		{ "set", required_argument, NULL, OBJECT_ONLY },
		{ "dump-maps", no_argument, NULL, OBJECT_ONLY },
		{ "json", no_argument, NULL, OBJECT_ONLY }, { NULL, 0, NULL, 0 },
	};
	const char *object_only = NULL;
	int c, idx;

	*a = (struct run_args){ .mode = BPFVM_EXEC_CHECKED, .repeat = 1 };
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, &idx)) != -1) {
		switch (c) {
		case 'i': a->mode = BPFVM_EXEC_CHECKED; break;
		case 'j': a->mode = BPFVM_EXEC_JIT; break;
		case 't': a->trusted = 1; break;
		case 'c': a->checked = 1; break;
		case 'r': a->raw = 1; break;
		case 'm': a->mem_path = optarg; break;
		case 'o': a->mem_out = optarg; break;
		case 'L': a->license = optarg; break;
		case OBJECT_ONLY: object_only = object_only ? object_only : opts[idx].name; break;
		case 'n':
			if (cli_parse_count("run", "--repeat", optarg, UINT64_MAX, NULL, &a->repeat))
				return -1;
			break;
		case 'l':
			if (cli_parse_count("run", "--insn-limit", optarg, UINT64_MAX, NULL,
					    &a->insn_limit))
				return -1;
			break;
		default: return -1;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "bpfvm run: expected one PROGRAM, got %d\n", argc - optind);
		return -1;
	}
	a->program = argv[optind];
	if (object_only) {
		fprintf(stderr, "bpfvm run: --%s needs an ELF object; %s is bytecode/assembly (not an "
				"ELF file)\n", object_only, a->program);
		return -1;
	}
	if (a->trusted && a->mode == BPFVM_EXEC_CHECKED)
		a->mode = BPFVM_EXEC_UNCHECKED;
	return 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Run the program repeat times; 0 with r0 printed, or 1 with the error. */
static int run_program(struct bpfvm_prog *prog, const struct run_args *a, uint8_t *mem, size_t len)
{
	char logbuf[4096] = "";
	struct bpfvm_log log = { logbuf, sizeof(logbuf), 0 };
	BPFVM_OPTS(bpfvm_run_opts, ropts, .mode = a->mode, .insn_limit = a->insn_limit, .log = &log);
	uint64_t start = now_ns(), elapsed;
	int err = 0;

	for (uint64_t i = 0; i < a->repeat && !err; i++)
		err = bpfvm_prog__run(prog, mem, len, &ropts);
	elapsed = now_ns() - start;
	if (err) {
		fprintf(stderr, "bpfvm: %s: %s", a->program, logbuf[0] ? logbuf : "run failed\n");
		if (!logbuf[0] || logbuf[strlen(logbuf) - 1] != '\n')
			fputc('\n', stderr);
		return 1;
	}
	printf("0x%" PRIx64 "\n", ropts.retval);
	if (a->repeat > 1)
		printf("duration_ns %" PRIu64 "\n", elapsed / a->repeat);
	if (a->mem_out && cli_write_file(a->mem_out, mem, len))
		return 1;
	return 0;
}

int cmd_run(int argc, char **argv)
{
	struct run_args a;
	struct bpfvm_insn *insns = NULL;
	struct bpfvm *vm = NULL;
	struct bpfvm_prog *prog;
	uint8_t *mem = NULL;
	size_t cnt = 0, len = 0;
	char logbuf[4096] = "";
	struct bpfvm_log log = { logbuf, sizeof(logbuf), 0 };
	BPFVM_OPTS(bpfvm_opts, vo, .trace = cli_trace_to_stdout);   /* bpf_printk, as it comes */
	int status = 1;

	status = cmd_run_cbpf(argc, argv); /* a classic program: --filter or --cbpf */
	if (status >= 0)
		return status;
	status = cmd_run_object(argc, argv); /* an ELF object: its own runner */
	if (status >= 0)
		return status;
	status = 1;
	if (parse_args(argc, argv, &a))
		return cli_usage("run");
	if (a.mem_path && !(mem = cli_read_file(a.mem_path, &len)))
		return 1;
	if (cli_load_program(a.program, a.raw, &insns, &cnt))
		goto out;
	vm = bpfvm__new(&vo);
	if (!vm) {
		fprintf(stderr, "bpfvm: %s\n", strerror(errno));
		goto out;
	}
	BPFVM_OPTS(bpfvm_prog_opts, popts, .name = a.program, .log = &log,
		   .flags = a.trusted ? BPFVM_PROG_TRUSTED : 0, .license = a.license);
	prog = bpfvm_prog__new(vm, insns, cnt, &popts);
	if (!prog) {
		fprintf(stderr, "bpfvm: %s: %s", a.program, logbuf);
		goto out;
	}
	/* Unless trusted or asked to run checked: verified first, then run unchecked. */
	if (!a.trusted && !a.checked) {
		if (cli_verify_for_run(prog, NULL, a.program, BPFVM_VERIFY_MEM, len))
			goto out;
		if (a.mode == BPFVM_EXEC_CHECKED)
			a.mode = BPFVM_EXEC_UNCHECKED;
	}
	status = run_program(prog, &a, len ? mem : NULL, len);
out:
	bpfvm__destroy(vm);
	free(insns);
	free(mem);
	return status;
}
