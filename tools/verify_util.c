/*
 * verify_util.c - verifying a program the way `bpfvm run` and `bpfvm
 * verify` both do: the verifier's log (its message in the kernel's words,
 * the error's context, the statistics line) on a refusal, source lines
 * from the object's BTF line info when there is an object.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpfvm/object.h>

#include "cli.h"

static int source_line(void *ctx, uint32_t insn, const char **file, uint32_t *line, uint32_t *col,
		       const char **text)
{
	return bpfvm_obj_prog__source_line(ctx, insn, file, line, col, text);
}

static int func_returns_scalar(void *ctx, uint32_t insn)
{
	return bpfvm_obj_prog__func_returns_scalar(ctx, insn);
}

/* BTF line info tells of a clang -g object, whose .BTF.ext has function info too. */
static bool has_func_info(const struct bpfvm_obj_prog *program)
{
	const char *file, *text;
	uint32_t line, col;

	return program && !bpfvm_obj_prog__source_line(program, 0, &file, &line, &col, &text);
}

int cli_verify(struct bpfvm_prog *prog, const struct bpfvm_obj_prog *program, uint32_t flags,
	       uint64_t mem_size, uint32_t log_level, struct bpfvm_log *log,
	       struct bpfvm_verify_stats *stats)
{
	if (has_func_info(program))
		flags |= BPFVM_VERIFY_FUNC_INFO;
	if (bpfvm_obj_prog__sleepable(program))
		flags |= BPFVM_VERIFY_SLEEPABLE;
	BPFVM_OPTS(bpfvm_verify_opts, o, .log_level = log_level, .log = log, .stats = stats,
		   .flags = flags, .mem_size = mem_size,
		   .source_line = program ? source_line : NULL, .source_ctx = (void *)program,
		   .func_returns_scalar = program ? func_returns_scalar : NULL);

	return bpfvm_prog__verify(prog, &o);
}

/* For `bpfvm run`: 0 when the program may run unchecked, else 1 with the reason on stderr. */
const char *cli_core_failure(const struct bpfvm_obj_prog *program, const char *log)
{
	static const char prefix[] = "invalid CO-RE relocation at instruction ";
	unsigned long insn;
	char *end;

	if (!program || !log || strncmp(log, prefix, sizeof(prefix) - 1))
		return NULL;
	insn = strtoul(log + sizeof(prefix) - 1, &end, 10);
	return *end == ':' ? bpfvm_obj_prog__core_failure(program, insn) : NULL;
}

/* Verify with a log of its own: the error, and the log (malloc'd, NULL if none could be had). */
static int verify_logged(struct bpfvm_prog *prog, const struct bpfvm_obj_prog *program,
			 uint32_t flags, uint64_t mem_size, char **out)
{
	size_t size = 1 << 20;
	char *buf = malloc(size);
	struct bpfvm_log log = { buf, buf ? size : 0, 0 };

	if (buf)
		buf[0] = '\0';
	*out = buf;
	return cli_verify(prog, program, flags, mem_size, 0, &log, NULL);
}

int cli_verify_for_run(struct bpfvm_prog *prog, const struct bpfvm_obj_prog *program,
		       const char *what, uint32_t flags, uint64_t mem_size)
{
	char *buf;
	int err = verify_logged(prog, program, flags, mem_size, &buf);

	if (err) {
		const char *core = cli_core_failure(program, buf);

		fprintf(stderr, "bpfvm: %s: the verifier refuses the program (run it with --checked "
				"to run it anyway, every access checked):\n%s%s%s", what,
			core ? core : "", core ? "\n" : "", buf && buf[0] ? buf : strerror(-err));
	}
	free(buf);
	return err ? 1 : 0;
}

bool cli_verifies(const struct bpfvm_obj_prog *program, char *why, size_t size)
{
	char *buf;
	int err = verify_logged(bpfvm_obj_prog__prog(program), program, 0, 0, &buf);

	snprintf(why, size, "the verifier refuses it: %.*s",
		 buf ? (int)strcspn(buf, "\n") : 0, buf ? buf : "");
	free(buf);
	return !err;
}

int cli_verify_object_for_run(struct bpfvm_object *obj, const char *what)
{
	struct bpfvm_obj_prog *p;
	char name[512];

	bpfvm_object__for_each_program(p, obj) {
		if (!bpfvm_obj_prog__prog(p))
			continue;
		snprintf(name, sizeof(name), "%s: %s", what, bpfvm_obj_prog__name(p));
		if (cli_verify_for_run(bpfvm_obj_prog__prog(p), p, name, 0, 0))
			return 1;
	}
	return 0;
}
