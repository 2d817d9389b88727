/*
 * cmd_jit.c - `bpfvm jit --dump [--raw] [--blind] PROGRAM|OBJECT`: the
 * machine code the JIT emits, instruction by instruction: each BPF
 * instruction (as llvm-objdump prints it), then the x86-64 instructions
 * it became, decoded by Zydis (Intel syntax).  Offsets are from the start
 * of the code, so jump targets read as offsets too; a call out of the code
 * goes to a helper or to the run-time support.
 *
 * PROGRAM is assembly or raw bytecode (--raw, or a .bin name), as for
 * `bpfvm run`; an ELF object is loaded and each of its programs dumped.
 * Compiling runs nothing, so the program need not be trusted.  Only this
 * command links Zydis: the library does not depend on it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <Zydis/Zydis.h>

#include <bpfvm/bpfvm.h>
#include <bpfvm/object.h>

#include "cli.h"

struct jit_args {
	int raw;
	int blind;
	const char *path;
};

/* The x86 instructions in code[from, to), one a line. */
static void print_native(const uint8_t *code, size_t size, size_t from, size_t to)
{
	ZydisDisassembledInstruction insn;

	for (size_t at = from; at < to;) {
		char hex[3 * 12 + 1] = "";
		size_t len;

		if (!ZYAN_SUCCESS(ZydisDisassembleIntel(ZYDIS_MACHINE_MODE_LONG_64, at, code + at,
							to - at, &insn))) {
			printf("    %6zx:  %02x                             (bad)\n", at, code[at]);
			at++;
			continue;
		}
		len = insn.info.length;
		for (size_t i = 0; i < len && i < 10; i++)
			snprintf(hex + 3 * i, sizeof(hex) - 3 * i, "%02x ", code[at + i]);
		printf("    %6zx:  %-30s %s", at, hex, insn.text);
		if (insn.info.meta.category == ZYDIS_CATEGORY_CALL &&
		    insn.operands[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE) {
			ZyanU64 target;

			if (ZYAN_SUCCESS(ZydisCalcAbsoluteAddress(&insn.info, &insn.operands[0], at,
								  &target)) && target >= size)
				printf("    ; out of the code: a helper or the run-time support");
		}
		putchar('\n');
		at += len;
	}
}

static int dump_prog(struct bpfvm_prog *prog)
{
	char msg[4096] = "", text[256];
	struct bpfvm_log log = { msg, sizeof(msg), 0 };
	const struct bpfvm_insn *insns = bpfvm_prog__insns(prog);
	size_t cnt = bpfvm_prog__insn_cnt(prog), size;
	const void *code;
	BPFVM_OPTS(bpfvm_jit_opts, jo, .log = &log);
	int err = bpfvm_prog__jit(prog, &jo);

	if (err) {
		fprintf(stderr, "bpfvm: %s", msg[0] ? msg : strerror(-err));
		return 1;
	}
	bpfvm_prog__jit_code(prog, &code, &size);
	printf("; %s: %zu BPF instructions, %zu bytes of x86-64\n; entry\n",
	       bpfvm_prog__name(prog), cnt, size);
	print_native(code, size, 0, (size_t)bpfvm_prog__jit_insn_offset(prog, 0));
	for (size_t i = 0; i < cnt;) {
		int slots = bpfvm_disasm_insn(insns, cnt, i, BPFVM_SYNTAX_LLVM, text, sizeof(text));

		if (slots < 1)
			slots = 1;
		printf("%5zu: %s\n", i, text);
		print_native(code, size, (size_t)bpfvm_prog__jit_insn_offset(prog, i),
			     (size_t)bpfvm_prog__jit_insn_offset(prog, i + (size_t)slots));
		i += (size_t)slots;
	}
	if ((size_t)bpfvm_prog__jit_insn_offset(prog, cnt) < size) {
		printf("; out of line\n");
		print_native(code, size, (size_t)bpfvm_prog__jit_insn_offset(prog, cnt), size);
	}
	return 0;
}

static int dump_object(const struct jit_args *a)
{
	char msg[4096] = "";
	struct bpfvm_log log = { msg, sizeof(msg), 0 };
	BPFVM_OPTS(bpfvm_object_open_opts, opts, .log = &log,
		   .prog_flags = a->blind ? BPFVM_PROG_JIT_BLIND : 0);
	struct bpfvm_object *obj = bpfvm_object__open_file(a->path, &opts);
	struct bpfvm_obj_prog *p;
	int status = 0, n = 0;

	if (!obj || bpfvm_object__load(obj)) {
		fprintf(stderr, "bpfvm: %s: %s", a->path, msg[0] ? msg : "cannot load the object\n");
		bpfvm_object__destroy(obj);
		return 1;
	}
	bpfvm_object__for_each_program(p, obj) {
		if (!bpfvm_obj_prog__prog(p))
			continue;
		printf("%s; program %s, section %s\n", n++ ? "\n" : "", bpfvm_obj_prog__name(p),
		       bpfvm_obj_prog__section_name(p));
		status |= dump_prog(bpfvm_obj_prog__prog(p));
	}
	bpfvm_object__destroy(obj);
	return status;
}

static int dump_file(const struct jit_args *a)
{
	char msg[4096] = "";
	struct bpfvm_log log = { msg, sizeof(msg), 0 };
	struct bpfvm_insn *insns = NULL;
	struct bpfvm *vm = NULL;
	struct bpfvm_prog *prog;
	size_t cnt;
	int status = 1;

	if (cli_load_program(a->path, a->raw, &insns, &cnt))
		return 1;
	vm = bpfvm__new(NULL);
	if (!vm) {
		fprintf(stderr, "bpfvm: %s\n", strerror(errno));
		goto out;
	}
	BPFVM_OPTS(bpfvm_prog_opts, popts, .name = a->path, .log = &log,
		   .flags = a->blind ? BPFVM_PROG_JIT_BLIND : 0);
	prog = bpfvm_prog__new(vm, insns, cnt, &popts);
	if (!prog)
		fprintf(stderr, "bpfvm: %s: %s", a->path, msg);
	else
		status = dump_prog(prog);
out:
	bpfvm__destroy(vm);
	free(insns);
	return status;
}

static int is_elf(const char *path)
{
	FILE *f = fopen(path, "rb");
	unsigned char magic[4] = { 0 };
	size_t got = f ? fread(magic, 1, 4, f) : 0;

	if (f)
		fclose(f);
	return got == 4 && !memcmp(magic, "\177ELF", 4);
}

int cmd_jit(int argc, char **argv)
{
	struct jit_args a = { 0 };
	int dump = 0, i = 1;

	for (; i < argc && argv[i][0] == '-' && argv[i][1] == '-'; i++) {
		if (!strcmp(argv[i], "--dump"))
			dump = 1;
		else if (!strcmp(argv[i], "--raw"))
			a.raw = 1;
		else if (!strcmp(argv[i], "--blind"))
			a.blind = 1;
		else
			return cli_usage("jit");
	}
	if (!dump || i != argc - 1)
		return cli_usage("jit");
	a.path = argv[i];
	return is_elf(a.path) ? dump_object(&a) : dump_file(&a);
}
