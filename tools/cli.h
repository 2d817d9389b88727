/*
 * cli.h - what the `bpfvm` subcommands share: the command table entry
 * type and small utilities for files and hex.  Subcommands use only the
 * public API (include/bpfvm/).
 */
#ifndef BPFVM_TOOLS_CLI_H
#define BPFVM_TOOLS_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bpfvm/bpfvm.h>

/* Exit statuses: 1 for an error in the input or the run, 2 for a usage error. */
#define EXIT_USAGE 2

struct cli_command {
	const char *name;
	const char *usage;   /* one line: arguments and options */
	const char *summary;
	int (*main)(int argc, char **argv);
};

int cmd_run(int argc, char **argv);
int cmd_asm(int argc, char **argv);
int cmd_disasm(int argc, char **argv);
int cmd_conformance(int argc, char **argv);
int cmd_jit(int argc, char **argv);
int cmd_prog(int argc, char **argv);
/* `bpfvm run` on an ELF object (cmd_run_obj.c); -1 when PROGRAM is not one. */
int cmd_run_object(int argc, char **argv);
/* --dump-maps (map_dump.c); ring buffer records printed as f says (records.h). */
struct bpfvm_object;
struct records_fmt;
int obj_dump_maps(const struct bpfvm_object *obj, struct records_fmt *f);
int cmd_conformance_plugin(int argc, char **argv);
int cmd_trace(int argc, char **argv);
int cmd_exec(int argc, char **argv);
int cmd_attach(int argc, char **argv);
int cmd_xdp(int argc, char **argv);
int cmd_tc(int argc, char **argv);
/* --set NAME=VALUE on obj (cmd_run_obj.c): 0, 1 (no such variable, missing_ok), -1 (printed). */
int cli_apply_set(struct bpfvm_object *obj, const char *spec, struct bpfvm_log *log,
		  bool missing_ok);
int cmd_verify(int argc, char **argv);
int cmd_seccomp(int argc, char **argv);
/* Classic BPF (cmd_cbpf.c): run --filter/--cbpf and disasm --cbpf; -1 when not asked for. */
int cmd_run_cbpf(int argc, char **argv);
int cmd_disasm_cbpf(int argc, char **argv);
struct bpfvm_sock_filter;
/* The kernel's checks (and seccomp's with seccomp); 0, or -1 with the reason on stderr. */
int cli_cbpf_check(struct bpfvm_sock_filter *f, size_t cnt, bool seccomp, const char *what);
/* Read a classic program in any form and check it; 0, or -1 with the reason on stderr. */
int cli_load_cbpf(const char *path, bool seccomp, struct bpfvm_sock_filter **f, size_t *cnt);
/* Converted into a trusted program of vm (its kernel functions registered); NULL + message. */
struct bpfvm_prog *cli_cbpf_prog(struct bpfvm *vm, const struct bpfvm_sock_filter *f, size_t cnt,
				 const char *name);

struct bpfvm_obj_prog;
/*
 * The CO-RE relocation behind a refusal that the loader's poison caused
 * (the log starts "invalid CO-RE relocation at instruction N:"), in the
 * loader's words, or NULL.
 */
const char *cli_core_failure(const struct bpfvm_obj_prog *program, const char *log);

/*
 * Verify prog (verify_util.c), with program's BTF line info when it comes
 * from an object (else NULL): bpfvm_prog__verify's result, the log in log.
 */
struct bpfvm_obj_prog;
int cli_verify(struct bpfvm_prog *prog, const struct bpfvm_obj_prog *program, uint32_t flags,
	       uint64_t mem_size, uint32_t log_level, struct bpfvm_log *log,
	       struct bpfvm_verify_stats *stats);
/* For `bpfvm run`: 0 when the program may run unchecked, else 1 with the reason on stderr. */
int cli_verify_for_run(struct bpfvm_prog *prog, const struct bpfvm_obj_prog *program,
		       const char *what, uint32_t flags, uint64_t mem_size);
/* Whether a loaded program of an object verifies; if not, why in one line in why. */
bool cli_verifies(const struct bpfvm_obj_prog *program, char *why, size_t size);
/* The same for every loaded program of an object, as the kernel loads them all. */
int cli_verify_object_for_run(struct bpfvm_object *obj, const char *what);

/* A program type by bpftool's name ("xdp", "sched_cls", ...); UINT32_MAX if unknown. */
uint32_t cli_prog_type_by_name(const char *name);
/* --type NAME for subcommand cmd: 0 with *type (0 when name is NULL), or -1 with a message. */
int cli_parse_type(const char *cmd, const char *name, uint32_t *type);
/* Before load: give type to the programs whose section name tells none (no-op for 0). */
void cli_default_type(struct bpfvm_object *obj, uint32_t type);
/*
 * After a partial load: one line on stderr per program left out (with the
 * loader's reason) or, unless only_failed, not loaded for its '?'
 * section; except is passed over.  Returns how many.
 */
int cli_print_left_out(const struct bpfvm_object *obj, const char *what,
		       const struct bpfvm_obj_prog *except, bool only_failed);
/* help.c: a command's other usage forms and its options, one a line (NULL if none). */
const char *cli_help_forms(const char *name);
const char *cli_help_options(const char *name);
/*
 * --object N: the index of one of the BPF objects a program embeds (a
 * libbpf skeleton's binary); -1 with a message on stderr for a bad one.
 */
int cli_object_index(const char *arg);
/* After an open failed with errno err: how to choose among several objects. */
void cli_object_hint(int err);
/* s as a JSON string on stdout, quoted and escaped. */
void cli_json_str(const char *s);

/* Print "bpfvm NAME: usage: ..." for a subcommand and return EXIT_USAGE. */
int cli_usage(const char *name);

/* Read a whole file ("-" is standard input); NULL with a message on stderr. */
uint8_t *cli_read_file(const char *path, size_t *len);
/* Write len bytes to path; 0, or -1 with a message on stderr. */
int cli_write_file(const char *path, const void *data, size_t len);

/*
 * Parse hex bytes separated by blanks ("aa bb ff"), or runs of hex digits
 * ("aabbff"), with optional 0x prefixes per byte run.  Returns a malloc'd
 * buffer (NULL on a bad digit, with *bad set to its offset).
 */
uint8_t *cli_parse_hex(const char *text, size_t *len, size_t *bad);

/*
 * Load a program from a file: raw bytecode (a ".bin" name, or raw set) or
 * assembly text.  Returns 0 with a malloc'd array, or -1 with a message on
 * stderr naming the file (and line and column for assembly).
 */
int cli_load_program(const char *path, int raw, struct bpfvm_insn **insns, size_t *cnt);

/* A trace function (bpfvm_opts.trace) that prints each bpf_printk line on stdout. */
void cli_trace_to_stdout(void *ctx, const char *text, size_t len);

/* Does a file that is not a BPF program look like C source?  Then say so (one line). */
bool cli_looks_like_c(const char *path, const uint8_t *data, size_t len);
void cli_c_source_hint(const char *path);

/*
 * A command line with "-- COMMAND ARGS...": the index of "--" (argc when
 * there is none), which ends the options getopt reads; *rest gets what
 * follows it (NULL without one).
 */
int cli_split_command(int argc, char **argv, char ***rest);

/*
 * A count option (--repeat N): 0, or -1 with "bpfvm CMD: OPT ..." on
 * stderr saying whether s is no positive number or above max (and
 * why_max, if given, says where that limit comes from).
 */
int cli_parse_count(const char *cmd, const char *opt, const char *s, uint64_t max,
		    const char *why_max, uint64_t *out);

#endif
