/*
 * cmd_asm.c - `bpfvm asm [-o OUT] FILE`: assemble FILE (either syntax,
 * "-" for standard input).  With -o, OUT gets the raw bytecode; without,
 * each instruction slot is printed as the 16 hex digits of its 8 bytes in
 * memory order, one a line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void print_hex(const struct bpfvm_insn *insns, size_t cnt)
{
	for (size_t i = 0; i < cnt; i++) {
		const uint8_t *b = (const uint8_t *)&insns[i];

		for (size_t j = 0; j < sizeof(insns[i]); j++)
			printf("%02x", b[j]);
		printf("\n");
	}
}

int cmd_asm(int argc, char **argv)
{
	const char *out = NULL, *path = NULL;
	struct bpfvm_insn *insns;
	size_t cnt;
	int ret = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-o") && i + 1 < argc)
			out = argv[++i];
		else if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "bpfvm asm: unknown option '%s'\n", argv[i]);
			return cli_usage("asm");
		} else if (path)
			return cli_usage("asm");
		else
			path = argv[i];
	}
	if (!path)
		return cli_usage("asm");
	/* As everywhere, a .bin name is raw bytecode: then this just copies it. */
	if (cli_load_program(path, 0, &insns, &cnt))
		return 1;
	if (out)
		ret = cli_write_file(out, insns, cnt * sizeof(*insns)) ? 1 : 0;
	else
		print_hex(insns, cnt);
	free(insns);
	return ret;
}
