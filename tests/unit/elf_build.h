/*
 * elf_build.h - for the loader's tests: BPF objects built here by clang
 * from small sources (C, or assembly), in a temporary folder removed at
 * exit, and opened with a log that outlives them.
 */
#ifndef BPFVM_TESTS_ELF_BUILD_H
#define BPFVM_TESTS_ELF_BUILD_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpfvm/object.h>

#include "test.h"

static char tmpdir[64];
static int have_clang = -1;

static void remove_tmpdir(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd))
		fprintf(stderr, "could not remove %s\n", tmpdir);
}

static bool clang_ok(void)
{
	if (have_clang < 0) {
		have_clang = system("command -v clang-19 >/dev/null 2>&1") == 0 &&
			     access("/usr/include/bpf/bpf_helpers.h", R_OK) == 0;
		snprintf(tmpdir, sizeof(tmpdir), "/tmp/bpfvm_test_elf_XXXXXX");
		if (have_clang && !mkdtemp(tmpdir))
			have_clang = 0;
		if (have_clang)
			atexit(remove_tmpdir);
	}
	return have_clang;
}

/* Write prologue and src into TMP/name.ext, then run clang with flags on it into TMP/name.o. */
static const char *build_file(const char *name, const char *ext, const char *prologue,
			      const char *src, const char *flags)
{
	static char obj[256];
	char path[256], cmd[2048];
	FILE *f;

	if (!clang_ok())
		return NULL;
	snprintf(path, sizeof(path), "%s/%s.%s", tmpdir, name, ext);
	snprintf(obj, sizeof(obj), "%s/%s.o", tmpdir, name);
	f = fopen(path, "w");
	if (!f)
		return NULL;
	fprintf(f, "%s%s", prologue, src);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "clang-19 -target bpf %s -c %s -o %s", flags, path, obj);
	return system(cmd) == 0 ? obj : NULL;
}

/* Compile src into TMP/name.o; its path, or NULL. */
__attribute__((unused)) static const char *build(const char *name, const char *src,
						 const char *flags)
{
	char all[512];

	snprintf(all, sizeof(all), "-O2 %s -I/usr/include/x86_64-linux-gnu", flags);
	return build_file(name, "c", "#include <linux/types.h>\n#include <linux/bpf.h>\n"
				     "#include <bpf/bpf_helpers.h>\n", src, all);
}

#define SKIP_IF_NO_CLANG()                                                      \
	do {                                                                    \
		if (!clang_ok()) {                                              \
			printf("SKIP %s: clang-19 or libbpf-dev missing\n", test_current_name()); \
			return;                                                 \
		}                                                               \
	} while (0)

/* The object keeps its log: it must outlive the object, hence static. */
static struct bpfvm_log obj_log;

__attribute__((unused)) static struct bpfvm_object *open_obj(const char *path, char *msg, size_t size)
{
	BPFVM_OPTS(bpfvm_object_open_opts, o, .log = &obj_log);

	obj_log = (struct bpfvm_log){ msg, size, 0 };

	msg[0] = '\0';
	return path ? bpfvm_object__open_file(path, &o) : NULL;
}

/* Assemble BPF assembly (llvm-mc's syntax, clang's integrated assembler) into TMP/name.o. */
__attribute__((unused)) static const char *build_asm(const char *name, const char *src)
{
	return build_file(name, "s", "", src, "");
}

#endif
