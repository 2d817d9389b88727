/*
 * fuzz_elf.c - libFuzzer target for the ELF loader: the input is opened
 * as a BPF object (sections, symbols, relocations, BTF, .BTF.ext, maps,
 * programs, linking); what opens is listed, has a global variable set,
 * and is loaded (maps created, CO-RE against a small target BTF, programs
 * checked) and destroyed.  Any crash, leak or undefined behaviour is a bug:
 * bad input must only ever give an error.
 *
 *   make fuzz && build/fuzz/fuzz_elf -max_len=65536 -max_total_time=300 CORPUS_DIR
 *
 * A good seed corpus: the objects tests/tools/extract_bpf_objs.c pulls out
 * of libbpf-tools, and examples/*.bpf.c built with clang.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpfvm/object.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct bpfvm *fuzz_vm;
static char target_btf[64];

/*
 * A small target BTF (one int, one struct task_struct { int pid; }) so
 * that CO-RE relocations resolve, mostly to poison, and loading goes on
 * to maps and programs.
 */
static void remove_target_btf(void)
{
	unlink(target_btf);
}

static void write_target_btf(void)
{
	static const uint32_t types[] = {
		1, 0x01000000, 4, 0x01000020,           /* [1] int: 4 bytes, signed 32 bits */
		5, 0x04000001, 4, 17, 1, 0,            /* [2] struct task_struct { int pid; } */
	};
	static const char strs[] = "\0int\0task_struct\0pid";
	uint32_t hdr[6] = { 0xeB9F | 1u << 16, 24, 0, sizeof(types), sizeof(types), sizeof(strs) };
	FILE *f;

	snprintf(target_btf, sizeof(target_btf), "/tmp/bpfvm_fuzz_target_%d.btf", (int)getpid());
	f = fopen(target_btf, "wb");
	if (!f)
		return;
	fwrite(hdr, sizeof(hdr), 1, f);
	fwrite(types, sizeof(types), 1, f);
	fwrite(strs, sizeof(strs), 1, f);
	fclose(f);
	atexit(remove_target_btf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char msg[4096];
	struct bpfvm_log log = { msg, sizeof(msg), 0 };
	struct bpfvm_object *obj;
	struct bpfvm_obj_prog *p;
	uint32_t v = 1;

	if (!fuzz_vm) {
		fuzz_vm = bpfvm__new(NULL);
		write_target_btf();
	}
	{
		BPFVM_OPTS(bpfvm_object_open_opts, o, .log = &log, .vm = fuzz_vm,
			   .btf_custom_path = target_btf, .kconfig = "CONFIG_X=y\n");
		obj = bpfvm_object__open_mem(data, size, &o);
	}
	if (!obj)
		return 0;
	bpfvm_object__for_each_program(p, obj) {
		const char *file, *text;
		uint32_t line, col;

		(void)bpfvm_obj_prog__attach_target(p);
		bpfvm_obj_prog__source_line(p, bpfvm_obj_prog__insn_cnt(p) / 2, &file, &line, &col, &text);
	}
	for (size_t i = 0; i < bpfvm_object__map_cnt(obj); i++)
		(void)bpfvm_object__map_desc(obj, i);
	bpfvm_object__set_global(obj, "x", &v, sizeof(v));
	bpfvm_object__load(obj);
	bpfvm_object__destroy(obj);
	return 0;
}
