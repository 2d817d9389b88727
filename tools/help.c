/*
 * help.c - what `bpfvm COMMAND --help` says past the usage line: other
 * forms of the command, and every option with what it does.  The man page
 * (doc/bpfvm.1) and the bash completion (completions/bpfvm) list the same
 * options; tests/scripts/test_cli.sh checks that nothing here is missing
 * there.
 */
#include <string.h>

#include "cli.h"

struct cli_help {
	const char *name;
	const char *forms;     /* more usage lines, or NULL */
	const char *options;
};

static const struct cli_help helps[] = {
	{ "run",
	  "bpfvm run [--prog NAME|--section SEC] [--type TYPE] [--data FILE|--pcap FILE] [--ctx FILE] "
	  "[--set VAR=VALUE]... [--repeat N] [--data-out FILE] [--dump-maps] [--json] "
	  "[--interp|--jit] [--trusted|--checked] [--insn-limit N] [--record-type STRUCT] "
	  "[--object N] OBJECT|BINARY",
	  "both forms:\n"
	  "  --interp           run in the interpreter (the default)\n"
	  "  --jit              run the x86-64 JIT's code\n"
	  "  --trusted          neither verify nor check: the caller vouches for the program\n"
	  "  --checked          do not verify; run the checked interpreter (every access checked)\n"
	  "  --repeat N         run N times and print the mean time of a run (OBJECT: N < 2^32)\n"
	  "  --insn-limit N     stop a checked run after N instructions (default 100000000)\n"
	  "PROGRAM (raw bytecode or assembly) only:\n"
	  "  --raw              PROGRAM is raw bytecode whatever its name (a .bin name is)\n"
	  "  --mem FILE         r1 points to a copy of FILE's bytes, r2 holds their length\n"
	  "  --mem-out FILE     write the memory as the program left it\n"
	  "  --license NAME     the program's license (GPL-only helpers need a GPL one)\n"
	  "OBJECT (an ELF file) only:\n"
	  "  --prog NAME        run the program of that name\n"
	  "  --section SEC      run the first program of that section\n"
	  "  --type TYPE        the program type of programs whose section name tells none\n"
	  "  --data FILE        run on one packet, FILE's bytes\n"
	  "  --pcap FILE        run once per packet of a pcap file\n"
	  "  --ctx FILE         the context's bytes (a tracepoint's record, pt_regs, xdp_md, ...)\n"
	  "  --set VAR=VALUE    give a .rodata/.data/.bss variable its value before load\n"
	  "  --data-out FILE    write the output packet (a pcap file for --pcap)\n"
	  "  --dump-maps        print every map after the runs\n"
	  "  --json             print the runs, trace lines and maps as JSON\n"
	  "  --record-type STRUCT  decode ring and perf buffer records as STRUCT of the BTF\n"
	  "  --object N         BINARY embeds several BPF objects (a libbpf skeleton): take the Nth\n"
	  "a classic (socket filter) program, on each packet of --pcap FILE:\n"
	  "  --filter EXPR      a tcpdump expression, compiled by libpcap\n"
	  "  --cbpf FILE        a classic program in tcpdump's -dd/-ddd form, or raw\n" },
	{ "asm", NULL,
	  "  -o OUT             write the bytecode to OUT (default: hex on stdout)\n" },
	{ "disasm", NULL,
	  "  --syntax SYNTAX    llvm (llvm-objdump's, the default), conformance or kernel\n"
	  "  --raw              FILE is raw bytecode whatever its name\n"
	  "  --cbpf FILE        a classic program: as tcpdump -d prints it, then converted\n"
	  "  --seccomp          (--cbpf) the program is a seccomp filter\n"
	  "  --object N         BINARY embeds several BPF objects (a libbpf skeleton): take the Nth\n" },
	{ "seccomp", NULL,
	  "  check              the action the kernel takes for a system call under FILTER\n"
	  "  dump               the action for every x86-64 system call\n"
	  "  --syscall NAME[,ARG0,...]  the system call (name or number) and its arguments\n"
	  "  --arch ARCH        the architecture (x86_64)\n" },
	{ "trace", "bpfvm trace --seccomp FILTER [OBJECT...] -- COMMAND [ARGS...]",
	  "  --seccomp FILTER   enforce a classic seccomp filter (any form `seccomp check` reads) on\n"
	  "                     COMMAND's tree as the kernel would, printing each action but ALLOW\n"
	  "  --prog NAME        only the programs of that name (again for more)\n"
	  "  --set VAR=VALUE    give a .rodata/.data/.bss variable its value before load\n"
	  "  --cgroup MAP:INDEX=DIR  put the cgroup v2 directory DIR in the cgroup array MAP\n"
	  "  --dump-maps        print every map at the end\n"
	  "  --json             print the events and maps as JSON\n"
	  "  --interp           run in the interpreter (the default)\n"
	  "  --jit              run the x86-64 JIT's code\n"
	  "  --mode MODE        supervisor (ptrace, the default), agent (in the process:\n"
	  "                     system-call tracepoints, uprobes), auto (the agent where it can)\n"
	  "  -p PID             trace a running process (again for more)\n"
	  "  -- COMMAND ARGS    run COMMAND and trace its whole process tree\n" },
	{ "exec", NULL,
	  "  --trace COMMAND    run COMMAND (with sh -c) once TOOL has attached (again for more,\n"
	  "                     run side by side); TOOL gets SIGINT when all have exited\n"
	  "  -p PID             trace a running process instead (again for more)\n"
	  "  --trace-pipe FILE  write bpf_printk lines to FILE (default: standard error), unless\n"
	  "                     TOOL reads /sys/kernel/tracing/trace_pipe itself\n"
	  "  -- TOOL ARGS       the libbpf tool, run with libbpfvm-preload.so preloaded\n" },
	{ "attach", NULL,
	  "  --session ID       the bpfvm exec session to join (its tool's pid; needed when\n"
	  "                     several run)\n"
	  "  -p PID             trace the running process PID; returns when it has exited\n"
	  "  -- COMMAND ARGS    run COMMAND, traced from its exec on; exits with its status\n" },
	{ "xdp", NULL,
	  "  attach             run the program on every frame of the interfaces until stopped\n"
	  "  --prog NAME        the XDP program to run\n"
	  "  --dev IFACE        an interface to read frames from and send them to (again for more)\n"
	  "  --ports MAP        fill the devmap MAP with the interfaces (key i: the i-th --dev)\n"
	  "  --set VAR=VALUE    give a .rodata/.data/.bss variable its value before load\n"
	  "  --dump-maps        print every map at the end\n"
	  "  --count N          stop after N frames\n"
	  "  --duration SECS    stop after SECS seconds\n"
	  "  --json             print printk lines, the counters and the maps as JSON\n"
	  "  --interp           run in the interpreter\n"
	  "  --jit              run the x86-64 JIT's code (the default)\n" },
	{ "tc", NULL,
	  "  attach             run the program on every frame of the interfaces until stopped\n"
	  "  --prog NAME        the tc (sched_cls, sched_act) program to run\n"
	  "  --dev IFACE        an interface to read frames from (again for more)\n"
	  "  --ingress          the frames the interfaces receive: actions applied\n"
	  "  --egress           copies of the frames they send: run and counted, no action applied\n"
	  "  --set VAR=VALUE    give a .rodata/.data/.bss variable its value before load\n"
	  "  --dump-maps        print every map at the end\n"
	  "  --count N          stop after N frames\n"
	  "  --duration SECS    stop after SECS seconds\n"
	  "  --json             print printk lines, the counters and the maps as JSON\n"
	  "  --interp           run in the interpreter\n"
	  "  --jit              run the x86-64 JIT's code (the default)\n" },
	{ "prog", NULL,
	  "  show               list the object's programs, maps and license\n"
	  "  load               create everything, or say why not\n"
	  "  --json             one JSON record\n"
	  "  --relocs           each program's map and call references\n"
	  "  --insns            (load) print the relocated instructions\n"
	  "  --type TYPE        the program type of programs whose section name tells none\n"
	  "  --object N         BINARY embeds several BPF objects (a libbpf skeleton): take the Nth\n" },
	{ "jit", NULL,
	  "  --dump             print each instruction and the x86-64 code it became\n"
	  "  --raw              PROGRAM is raw bytecode whatever its name\n"
	  "  --blind            with constant blinding\n" },
	{ "verify", NULL,
	  "  --prog NAME        only the program of that name\n"
	  "  -v                 the state after each instruction (the kernel's log level 2)\n"
	  "  -vv                and precision backtracking\n"
	  "  --json             one JSON record a program\n"
	  "  --type TYPE        verify PROGRAM as this program type (xdp, socket_filter, ...)\n"
	  "  --mem FILE         PROGRAM's input, for run's convention (r1 = input, r2 = size)\n"
	  "  --mem-size N       the input's size, without a file\n"
	  "  --raw              PROGRAM is raw bytecode whatever its name\n"
	  "  --strict-align     check alignment as on strict-alignment machines\n"
	  "  --walk-loops       walk every loop iteration, as the kernel does\n"
	  "  --object N         BINARY embeds several BPF objects (a libbpf skeleton): take the Nth\n" },
	{ "conformance", NULL,
	  "  --trusted          run unchecked\n"
	  "  --jit              run the JIT's code\n"
	  "  --plugin CMD       drive an external plugin the way the public runner does\n" },
	{ "conformance-plugin", NULL,
	  "  --jit              run the JIT's code\n"
	  "  --trusted          run unchecked\n" },
};

static const struct cli_help *find(const char *name)
{
	for (size_t i = 0; i < sizeof(helps) / sizeof(helps[0]); i++)
		if (!strcmp(helps[i].name, name))
			return &helps[i];
	return NULL;
}

const char *cli_help_forms(const char *name)
{
	const struct cli_help *h = find(name);

	return h ? h->forms : NULL;
}

const char *cli_help_options(const char *name)
{
	const struct cli_help *h = find(name);

	return h ? h->options : NULL;
}
