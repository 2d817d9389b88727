/*
 * build_id.c - the kernel's stack_map_get_build_id_offset for another
 * process: the mapping of an address is the first in /proc/PID/maps that
 * ends above it (find_vma, which does not check the start either), the
 * file is read through /proc/PID/map_files (the very file mapped, even
 * deleted), and its build id is the first NT_GNU_BUILD_ID note ("GNU",
 * 1 to 20 bytes) of a PT_NOTE segment among the first 256 program
 * headers of an ET_EXEC or ET_DYN ELF file, as lib/buildid.c reads it.
 * The offset is the mapping's file offset plus ip's distance from its
 * start.
 */
#include "build_id.h"
#include "proc_maps.h"

#include <elf.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define MAX_PHDR_CNT 256
#define GNU_NOTE_NAME_SIZE 4   /* "GNU" and its NUL */

static int read_at(int fd, void *buf, size_t size, uint64_t off)
{
	return pread(fd, buf, size, (off_t)off) == (ssize_t)size ? 0 : -1;
}

/* The build id among the notes of [off, off + size). */
static int note_build_id(int fd, uint64_t off, uint64_t size, uint8_t id[UTIL_BUILD_ID_SIZE])
{
	uint64_t end = off + size;
	struct {
		Elf64_Nhdr h;
		char name[GNU_NOTE_NAME_SIZE];
	} n;

	if (end < off)
		return -1;
	while (end - off > sizeof(n)) {
		uint64_t next;

		if (read_at(fd, &n, sizeof(n), off))
			return -1;
		next = off + sizeof(n.h) + ((n.h.n_namesz + 3ull) & ~3ull) +
		       ((n.h.n_descsz + 3ull) & ~3ull);
		if (next > end)
			break;
		if (n.h.n_type == NT_GNU_BUILD_ID && n.h.n_namesz == GNU_NOTE_NAME_SIZE &&
		    !memcmp(n.name, "GNU", GNU_NOTE_NAME_SIZE) && n.h.n_descsz > 0 &&
		    n.h.n_descsz <= UTIL_BUILD_ID_SIZE) {
			memset(id, 0, UTIL_BUILD_ID_SIZE);
			return read_at(fd, id, n.h.n_descsz, off + sizeof(n));
		}
		off = next;
	}
	return -1;
}

int util_elf_build_id(int fd, uint8_t id[UTIL_BUILD_ID_SIZE])
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph;

	/* 32-bit objects have no 64-bit user stack to be in: only ELFCLASS64 here */
	if (read_at(fd, &eh, sizeof(eh), 0) || memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    (eh.e_type != ET_EXEC && eh.e_type != ET_DYN) || eh.e_ident[EI_CLASS] != ELFCLASS64)
		return -1;
	for (unsigned i = 0; i < eh.e_phnum && i < MAX_PHDR_CNT; i++) {
		if (read_at(fd, &ph, sizeof(ph), eh.e_phoff + (uint64_t)i * sizeof(ph)))
			return -1;
		if (ph.p_type == PT_NOTE && !note_build_id(fd, ph.p_offset, ph.p_filesz, id))
			return 0;
	}
	return -1;
}

struct mapping_above {
	uint64_t ip, start, end, pgoff;
	int file;
};

/* The first mapping ending above ip (the kernel's find_vma): its range, offset, and whether a file backs it. */
static int ends_above(void *ctx, const struct util_mapping *m)
{
	struct mapping_above *want = ctx;

	if (m->end <= want->ip)
		return 0;
	want->start = m->start;
	want->end = m->end;
	want->pgoff = m->offset;
	want->file = m->ino != 0;
	return 1;
}

int util_build_id_at(struct util_build_id_cache *c, int32_t pid, uint64_t ip,
		     uint8_t id[UTIL_BUILD_ID_SIZE], uint64_t *offset)
{
	struct mapping_above m = { .ip = ip };
	char path[96];
	int fd;

	/* the kernel reuses the previous mapping's answer when ip lies inside it */
	if (!(c->found == 0 && c->pid == pid && ip >= c->start && ip < c->end)) {
		if (util_proc_maps(pid, ends_above, &m) != 1 || !m.file)
			return -1;
		snprintf(path, sizeof(path), "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, pid, m.start,
			 m.end);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return -1;
		c->found = util_elf_build_id(fd, c->id);
		close(fd);
		if (c->found)
			return -1;
		c->pid = pid;
		c->start = m.start;
		c->end = m.end;
		c->pgoff = m.pgoff;
	}
	memcpy(id, c->id, UTIL_BUILD_ID_SIZE);
	*offset = c->pgoff + ip - c->start;
	return 0;
}
