/*
 * extract_bpf_objs.c - find the eBPF ELF objects embedded in a program
 * (libbpf skeletons carry their object as a byte array) and write each to
 * a file of its own, for tests/scripts/test_disasm_llvm.sh.
 *
 *   extract_bpf_objs OUTDIR FILE...
 *
 * An object is an ELF header (64-bit, little-endian, e_machine 247) found
 * anywhere in the file; its size is the furthest byte its section headers
 * or sections reach.  Writes OUTDIR/<file name>_<n>.o and prints how many
 * objects it wrote.  Exits 1 on an I/O error.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EM_BPF 247
#define EHDR_SIZE 64
#define SHDR_SIZE 64
#define SHT_NOBITS 8

static uint64_t le(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* The size of the object at p (avail bytes left), or 0 if it is not one. */
static uint64_t object_size(const uint8_t *p, uint64_t avail)
{
	uint64_t shoff, end, shentsize, shnum;

	if (avail < EHDR_SIZE || memcmp(p, "\177ELF", 4) || p[4] != 2 /* 64-bit */ ||
	    p[5] != 1 /* little-endian */ || le(p + 18, 2) != EM_BPF)
		return 0;
	shoff = le(p + 40, 8);
	shentsize = le(p + 58, 2);
	shnum = le(p + 60, 2);
	if (shentsize != SHDR_SIZE || shoff > avail || shnum > (avail - shoff) / SHDR_SIZE)
		return 0;
	end = shoff + shnum * SHDR_SIZE;
	for (uint64_t i = 0; i < shnum; i++) {
		const uint8_t *sh = p + shoff + i * SHDR_SIZE;
		uint64_t off = le(sh + 24, 8), size = le(sh + 32, 8);

		if (le(sh + 4, 4) == SHT_NOBITS)
			continue;
		if (off > avail || size > avail - off)
			return 0;
		if (off + size > end)
			end = off + size;
	}
	return end;
}

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
		uint64_t len = 0, size;
		uint8_t *buf = read_all(argv[a], &len);
		int n = 0;

		if (!buf) {
			perror(argv[a]);
			return 1;
		}
		for (uint64_t at = 0; at + EHDR_SIZE <= len; at++) {
			if (buf[at] != 0x7f || !(size = object_size(buf + at, len - at)))
				continue;
			/* The program itself is an ELF file too, but not an eBPF one. */
			if (write_object(argv[1], argv[a], n++, buf + at, size)) {
				free(buf);
				return 1;
			}
			at += size - 1;
		}
		total += n;
		free(buf);
	}
	printf("%d\n", total);
	return 0;
}
