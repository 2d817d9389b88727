/*
 * main.c - the `bpfvm` command: one table of subcommands, each in a file
 * of its own (cmd_*.c).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct cli_command commands[] = {
	{ "run", "[--interp|--jit] [--trusted|--checked] [--raw] [--mem FILE] [--mem-out FILE] "
		 "[--repeat N] [--insn-limit N] [--license NAME] PROGRAM | "
		 "--filter EXPR|--cbpf FILE --pcap FILE [--jit]",
	  "run a program, verified first (--checked: unverified, every access checked; "
	  "--trusted: unverified, unchecked): r1 points to FILE's bytes, r2 holds their length; "
	  "prints r0", cmd_run },
	{ "asm", "[-o OUT] FILE", "assemble FILE into raw bytecode (OUT, or hex on stdout)", cmd_asm },
	{ "disasm", "[--syntax llvm|conformance|kernel] [--raw] [--object N] FILE | --cbpf FILE [--seccomp]",
	  "disassemble an ELF object or raw bytecode, as llvm-objdump -d does", cmd_disasm },
	{ "prog", "show|load [--json] [--relocs] [--insns] [--type TYPE] [--object N] OBJECT|BINARY",
	  "list a BPF object's programs, maps, license and the helpers each program calls; "
	  "load: create them, or say why not",
	  cmd_prog },
	{ "jit", "--dump [--raw] [--blind] PROGRAM|OBJECT",
	  "show the x86-64 code the JIT emits for each instruction", cmd_jit },
	{ "verify", "[--prog NAME] [-v|-vv] [--json] [--type TYPE] [--mem FILE|--mem-size N] "
		    "[--raw] [--strict-align] [--walk-loops] [--object N] OBJECT|BINARY|PROGRAM",
	  "prove programs safe as the verifier of Linux 6.18 (as released) does, or say why not; "
	  "its verdicts, messages and statistics follow 6.18's", cmd_verify },
	{ "seccomp", "check FILTER --syscall NAME[,ARG0,...] [--arch x86_64] | dump FILTER",
	  "a seccomp filter's action for a system call, or for every one, as the kernel decides",
	  cmd_seccomp },
	{ "conformance", "[--plugin CMD] FILE.data...",
	  "run conformance cases: a line per case and a summary", cmd_conformance },
	{ "conformance-plugin", "[--jit] [MEMORY_HEX]",
	  "the public conformance runner's plugin: program as hex on stdin, r0 in hex on stdout",
	  cmd_conformance_plugin },
	{ "trace", "[--prog NAME]... [--set VAR=VALUE]... [--dump-maps] [--json] [--interp|--jit] "
		   "[--seccomp FILTER] OBJECT... (-- COMMAND [ARGS...] | -p PID [-p PID]...)",
	  "run the objects' tracepoint programs on the system calls and process events of "
	  "COMMAND's whole process tree (ptrace + seccomp; no kernel eBPF)", cmd_trace },
	{ "exec", "[--trace COMMAND]... [-p PID]... [--trace-pipe FILE] -- TOOL [ARGS...]",
	  "run an unmodified libbpf tool (opensnoop, execsnoop, ...) on bpfvm instead of the "
	  "kernel's eBPF, on what COMMAND does", cmd_exec },
	{ "attach", "[--session ID] (-p PID | -- COMMAND [ARGS...])",
	  "join a running bpfvm exec session from another terminal: its tool sees COMMAND, or the "
	  "running process PID", cmd_attach },
	{ "xdp", "attach OBJECT --prog NAME --dev IFACE [--dev IFACE]... [--ports MAP] [--set VAR=VALUE]... "
		 "[--dump-maps] [--count N] [--duration SECS] [--json] [--interp|--jit]",
	  "run an XDP program on the live frames of interfaces (AF_PACKET rings): drop, pass, "
	  "send back, redirect between them", cmd_xdp },
	{ "tc", "attach OBJECT --prog NAME --dev IFACE [--dev IFACE]... --ingress|--egress "
		"[--set VAR=VALUE]... [--dump-maps] [--count N] [--duration SECS] [--json] [--interp|--jit]",
	  "run a tc program on the live frames of interfaces with a real __sk_buff: pass, "
	  "drop (not forwarded), redirect; egress: observed only", cmd_tc },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
	fprintf(out, "usage: bpfvm COMMAND [ARGS...]\n\ncommands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  %-19s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\n'bpfvm COMMAND --help' shows a command's options.\n");
}

/* The usage lines of a command: its table row's, and other forms (help.c). */
static void print_usage(FILE *out, const struct cli_command *c)
{
	fprintf(out, "usage: bpfvm %s %s\n", c->name, c->usage);
	if (cli_help_forms(c->name))
		fprintf(out, "       %s\n", cli_help_forms(c->name));
}

int cli_usage(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			print_usage(stderr, &commands[i]);
	fprintf(stderr, "'bpfvm %s --help' lists every option.\n", name);
	return EXIT_USAGE;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < NCOMMANDS; i++) {
		if (strcmp(commands[i].name, argv[1]))
			continue;
		if (argc > 2 && (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h"))) {
			print_usage(stdout, &commands[i]);
			printf("  %s\n", commands[i].summary);
			if (cli_help_options(commands[i].name))
				printf("\n%s", cli_help_options(commands[i].name));
			return 0;
		}
		return commands[i].main(argc - 1, argv + 1);
	}
	fprintf(stderr, "bpfvm: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
