/*
 * embedded.c - BPF objects inside other files.  A libbpf skeleton
 * (`bpftool gen skeleton`) carries its object as a byte array in the
 * program's read-only data, so a tool such as Debian's opensnoop is an
 * x86-64 ELF binary with a whole BPF relocatable ELF file somewhere inside.
 *
 * An embedded object is found by its ELF header, at any offset: 64-bit,
 * little-endian, version 1, relocatable, e_machine 247, 64-byte file and
 * section headers.  Those six fields together do not occur by chance in
 * code or data.  Its size is the furthest byte its section header table
 * or its sections reach; a header whose tables reach past the end of the
 * file is a truncated object, reported as such rather than skipped.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../util/log.h"
#include "../util/opts.h"
#include "obj.h"

#define EHDR_SIZE 64
#define SHDR_SIZE 64
#define EM_BPF_ 247
#define ET_REL_ 1
#define SHT_NOBITS_ 8
#define MAX_LISTED 64

static uint64_t le(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static bool is_bpf_header(const uint8_t *p, size_t avail)
{
	return avail >= EHDR_SIZE && !memcmp(p, "\177ELF", 4) && p[4] == 2 /* 64-bit */ &&
	       p[5] == 1 /* little-endian */ && p[6] == 1 /* EV_CURRENT */ &&
	       le(p + 16, 2) == ET_REL_ && le(p + 18, 2) == EM_BPF_ && le(p + 52, 2) == EHDR_SIZE &&
	       le(p + 58, 2) == SHDR_SIZE;
}

/*
 * The object at p: how far its section headers and sections reach (the
 * size), and whether that is past avail, the bytes the file has left.
 */
static struct bpfvm_embedded_object measure(const uint8_t *p, size_t avail)
{
	uint64_t shoff = le(p + 40, 8), shnum = le(p + 60, 2);
	uint64_t end = shoff + shnum * SHDR_SIZE;
	struct bpfvm_embedded_object o = { 0 };

	if (shoff > avail || shnum > (avail - shoff) / SHDR_SIZE) {
		/* The section header table itself is cut off. */
		o.size = shoff > SIZE_MAX - shnum * SHDR_SIZE ? SIZE_MAX : (size_t)end;
		o.truncated = true;
		return o;
	}
	for (uint64_t i = 0; i < shnum; i++) {
		const uint8_t *sh = p + shoff + i * SHDR_SIZE;
		uint64_t off = le(sh + 24, 8), size = le(sh + 32, 8);

		if (le(sh + 4, 4) == SHT_NOBITS_)
			continue;
		if (off > avail || size > avail - off) {
			o.truncated = true;
			end = off > UINT64_MAX - size ? UINT64_MAX : off + size;
		} else if (off + size > end) {
			end = off + size;
		}
	}
	o.size = end > SIZE_MAX ? SIZE_MAX : (size_t)end;
	return o;
}

size_t bpfvm_embedded_objects(const void *buf, size_t size, struct bpfvm_embedded_object *objs,
			      size_t max)
{
	const uint8_t *b = buf;
	size_t n = 0;

	if (!buf)
		return 0;
	for (size_t at = 0; size >= EHDR_SIZE && at <= size - EHDR_SIZE; at++) {
		const uint8_t *magic = memchr(b + at, 0x7f, size - EHDR_SIZE + 1 - at);
		struct bpfvm_embedded_object o;

		if (!magic)
			break;
		at = (size_t)(magic - b);
		if (!is_bpf_header(b + at, size - at))
			continue;
		o = measure(b + at, size - at);
		o.offset = at;
		if (n < max)
			objs[n] = o;
		n++;
		/* A whole object is skipped; a truncated one may hide the next header. */
		if (!o.truncated && o.size > 0)
			at += o.size - 1;
	}
	return n;
}

/* The architecture an ELF header names, as file(1) calls it, with its article. */
static const char *machine_name(unsigned machine, char *buf, size_t size)
{
	static const struct { unsigned id; const char *name; } names[] = {
		{ 2, "a SPARC" }, { 3, "an x86" }, { 8, "a MIPS" }, { 20, "a PowerPC" },
		{ 21, "a PowerPC64" }, { 22, "an S/390" }, { 40, "an ARM" }, { 43, "a SPARC V9" },
		{ 62, "an x86-64" }, { 183, "an AArch64" }, { 243, "a RISC-V" },
		{ 258, "a LoongArch" },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].id == machine)
			return names[i].name;
	snprintf(buf, size, "a machine-%u", machine);
	return buf;
}

static unsigned header_u16(const uint8_t *buf, size_t at)
{
	return buf[5] == 2 /* big-endian */ ? (unsigned)buf[at] << 8 | buf[at + 1]
					    : (unsigned)le(buf + at, 2);
}

/* "an x86-64 ELF binary": what the ELF file in buf is, for messages. */
static void describe_host(const uint8_t *buf, size_t size, char *out, size_t out_size)
{
	unsigned type = size >= 20 ? header_u16(buf, 16) : 0;
	char tmp[32];

	snprintf(out, out_size, "%s ELF %s",
		 size >= 20 ? machine_name(header_u16(buf, 18), tmp, sizeof(tmp)) : "a truncated",
		 type == ET_REL_ ? "object file" : type == 4 ? "core file" : "binary");
}

/* Whether buf is an ELF file for another machine than BPF: a program. */
static bool is_foreign_elf(const uint8_t *buf, size_t size)
{
	unsigned machine;

	if (size < 20 || memcmp(buf, "\177ELF", 4))
		return false;
	machine = header_u16(buf, 18);
	return machine != EM_BPF_;
}

/* "programs a, b, c" of the object, as far as it opens; "" if not. */
static void program_names(const uint8_t *buf, const struct bpfvm_embedded_object *o, char *out,
			  size_t size)
{
	BPFVM_OPTS(bpfvm_object_open_opts, oo, .object_name = "embedded");
	struct bpfvm_object *obj = o->truncated ? NULL : bpfvm_object__open_mem(buf + o->offset,
										 o->size, &oo);
	size_t len = 0;

	out[0] = '\0';
	for (size_t i = 0; obj && i < obj->nprogs && len < size; i++)
		len += (size_t)snprintf(out + len, size - len, "%s%s", i ? ", " : "programs ",
					obj->progs[i].name);
	if (obj && !obj->nprogs)
		snprintf(out, size, "no programs");
	if (!obj && !o->truncated)
		snprintf(out, size, "does not open");
	bpfvm_object__destroy(obj);
}

static void list_objects(const uint8_t *buf, const struct bpfvm_embedded_object *objs, size_t n,
			 struct bpfvm_log *log)
{
	for (size_t i = 0; i < n && i < MAX_LISTED; i++) {
		char names[256];

		program_names(buf, &objs[i], names, sizeof(names));
		log_printf(log, "  %zu: %zu bytes at offset 0x%zx%s%s\n", i, objs[i].size,
			   objs[i].offset, objs[i].truncated ? ", truncated" : names[0] ? ": " : "",
			   objs[i].truncated ? "" : names);
	}
	if (n > MAX_LISTED)
		log_printf(log, "  ... and %zu more\n", n - MAX_LISTED);
}

int bpfvm_embedded_object__select(const void *buf, size_t size, const char *what, int index,
				  const struct bpfvm_embedded_select_opts *opts, size_t *offset, size_t *len)
{
	struct bpfvm_log *log = OPTS_GET(opts, log, NULL);
	struct bpfvm_embedded_object objs[MAX_LISTED];
	size_t n = buf ? bpfvm_embedded_objects(buf, size, objs, MAX_LISTED) : 0;
	char host[64];

	if (!OPTS_VALID(opts, bpfvm_embedded_select_opts, log))
		return -EINVAL;

	what = what ? what : "input";
	if (!is_foreign_elf(buf, size)) {
		/* A BPF object (or not ELF at all: its reader says so) is its own object 0. */
		if (index > 0 && size >= 4 && !memcmp(buf, "\177ELF", 4)) {
			log_printf(log, "%s is a BPF object, not a program embedding several: it has "
					"no object %d (only 0)\n", what, index);
			return -ERANGE;
		}
		*offset = 0;
		*len = size;
		return 0;
	}
	describe_host(buf, size, host, sizeof(host));
	if (!n) {
		log_printf(log, "%s is %s with no embedded BPF object\n", what, host);
		return -ENOENT;
	}
	if (index < 0 && n > 1) {
		log_printf(log, "%s is %s with %zu embedded BPF objects; choose one by its index:\n",
			   what, host, n);
		list_objects(buf, objs, n, log);
		return -ENOTUNIQ;
	}
	if (index >= 0 && (size_t)index >= n) {
		if (n == 1)
			log_printf(log, "%s has no embedded BPF object %d: it holds one (index 0):\n",
				   what, index);
		else
			log_printf(log, "%s has no embedded BPF object %d: it holds %zu (index 0 "
					"to %zu):\n", what, index, n, n - 1);
		list_objects(buf, objs, n, log);
		return -ERANGE;
	}
	if (index < 0)
		index = 0;
	if ((size_t)index >= MAX_LISTED) {
		log_printf(log, "%s: embedded BPF object %d: only the first %d can be opened\n",
			   what, index, MAX_LISTED);
		return -ERANGE;
	}
	if (objs[index].truncated) {
		log_printf(log, "%s: the BPF object embedded at offset 0x%zx is truncated: its "
				"section headers and sections reach %zu bytes, the file has %zu "
				"bytes left from there\n",
			   what, objs[index].offset, objs[index].size, size - objs[index].offset);
		return -EINVAL;
	}
	*offset = objs[index].offset;
	*len = objs[index].size;
	return 0;
}
