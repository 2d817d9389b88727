/*
 * preload_target.c - the questions asked before preloading one of bpfvm's
 * libraries into a command: where the command is, whether the dynamic
 * linker will load a preloaded library into it at all (it must have an ELF
 * interpreter, and not run set-user-ID or set-group-ID to someone else,
 * where the loader ignores LD_PRELOAD), whether it is a Go program, and
 * where the library is.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "preload_target.h"

int preload_find_command(const char *name, char *out, size_t size)
{
	const char *path = getenv("PATH");

	if (strchr(name, '/')) {
		if (snprintf(out, size, "%s", name) >= (int)size)
			return -ENAMETOOLONG;
		return access(out, X_OK) ? -errno : 0;
	}
	for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
		size_t len = strcspn(p, ":");

		if (snprintf(out, size, "%.*s/%s", (int)len, p, name) < (int)size && !access(out, X_OK))
			return 0;
		p += len + (p[len] == ':');
	}
	return -ENOENT;
}

const char *preload_blocked(const char *path)
{
	struct stat st;
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	bool interp = false;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) || pread(fd, &eh, sizeof(eh), 0) != sizeof(eh)) {
		if (fd >= 0)
			close(fd);
		return "it cannot be read";
	}
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) || eh.e_ident[EI_CLASS] != ELFCLASS64) {
		close(fd);
		return "it is not a 64-bit ELF program (a script's interpreter would be preloaded "
		       "instead)";
	}
	for (int i = 0; i < eh.e_phnum && !interp; i++)
		if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + (uint64_t)i * eh.e_phentsize)) ==
		    sizeof(ph))
			interp = ph.p_type == PT_INTERP;
	close(fd);
	if (!interp)
		return "it is statically linked (no ELF interpreter loads a preloaded library into it)";
	if (((st.st_mode & S_ISUID) && st.st_uid != geteuid()) ||
	    ((st.st_mode & S_ISGID) && st.st_gid != getegid()))
		return "it is set-user-ID or set-group-ID (the loader ignores LD_PRELOAD for it)";
	return NULL;
}

/*
 * Go's linker writes its build id into a .note.go.buildid section (a note
 * segment of its own only when it links alone) and its build information
 * into .go.buildinfo: either names a Go program.
 */
bool preload_is_go(const char *path)
{
	static const char *const names[] = { ".note.go.buildid", ".go.buildinfo" };
	Elf64_Ehdr eh;
	Elf64_Shdr sh, strtab;
	char name[32];
	bool go = false;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	if (pread(fd, &eh, sizeof(eh), 0) != sizeof(eh) || memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_shentsize != sizeof(sh) ||
	    eh.e_shstrndx >= eh.e_shnum ||
	    pread(fd, &strtab, sizeof(strtab), (off_t)(eh.e_shoff + eh.e_shstrndx * sizeof(sh))) !=
		    sizeof(strtab)) {
		close(fd);
		return false;
	}
	for (unsigned i = 0; i < eh.e_shnum && !go; i++) {
		if (pread(fd, &sh, sizeof(sh), (off_t)(eh.e_shoff + i * sizeof(sh))) != sizeof(sh) ||
		    sh.sh_name >= strtab.sh_size ||
		    pread(fd, name, sizeof(name), (off_t)(strtab.sh_offset + sh.sh_name)) <= 0)
			continue;
		name[sizeof(name) - 1] = '\0';
		for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
			go = go || !strcmp(name, names[k]);
	}
	close(fd);
	return go;
}

int preload_find_library(const char *lib, char *out, size_t size)
{
	static const char *const rel[] = { "", "../lib/" };
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (n <= 0)
		return -ENOENT;
	self[n] = '\0';
	if ((slash = strrchr(self, '/')))
		slash[1] = '\0';
	for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++)
		if (snprintf(out, size, "%s%s%s", self, rel[i], lib) < (int)size && !access(out, R_OK))
			return 0;
	return -ENOENT;
}
