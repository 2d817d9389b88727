/*
 * extract_bpf_objs.c - find the eBPF ELF objects embedded in a program
 * (libbpf skeletons carry their object as a byte array) and write each to
 * a file of its own, for tests/scripts/test_disasm_llvm.sh.
 *
 *   extract_bpf_objs OUTDIR FILE...
 *
 * The finding is the library's (bpfvm_embedded_objects, src/elf/embedded.c),
 * the one `bpfvm prog show BINARY` uses.  Writes OUTDIR/<file name>_<n>.o
 * and prints how many objects it wrote.  A truncated object is reported on
 * stderr and skipped.  Exits 1 on an I/O error.
 *
 * Built by the Makefile (build/tests/extract_bpf_objs), linked with libbpfvm.a.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpfvm/object.h>

#define MAX_OBJECTS 256

static uint8_t *read_all(const char *path, uint64_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n + 1);
		if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		}
		*len = (uint64_t)n;
	}
	fclose(f);
	return buf;
}

static int write_object(const char *dir, const char *path, int n, const uint8_t *p, uint64_t size)
{
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	char out[4096];
	FILE *f;
	int ok;

	snprintf(out, sizeof(out), "%s/%s_%d.o", dir, base, n);
	f = fopen(out, "wb");
	if (!f) {
		perror(out);
		return -1;
	}
	ok = fwrite(p, 1, size, f) == size;
	ok = fclose(f) == 0 && ok;
	if (!ok)
		perror(out);
	return ok ? 0 : -1;
}

int main(int argc, char **argv)
{
	int total = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: %s OUTDIR FILE...\n", argv[0]);
		return 2;
	}
	for (int a = 2; a < argc; a++) {
		static struct bpfvm_embedded_object objs[MAX_OBJECTS];
		uint64_t len = 0;
		uint8_t *buf = read_all(argv[a], &len);
		size_t n;
		int written = 0;

		if (!buf) {
			perror(argv[a]);
			return 1;
		}
		n = bpfvm_embedded_objects(buf, len, objs, MAX_OBJECTS);
		for (size_t i = 0; i < n && i < MAX_OBJECTS; i++) {
			if (objs[i].truncated) {
				fprintf(stderr, "%s: the object at offset 0x%zx is truncated\n",
					argv[a], objs[i].offset);
				continue;
			}
			if (write_object(argv[1], argv[a], written++, buf + objs[i].offset,
					 objs[i].size)) {
				free(buf);
				return 1;
			}
		}
		total += written;
		free(buf);
	}
	printf("%d\n", total);
	return 0;
}
