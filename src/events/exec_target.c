/*
 * exec_target.c - can a preloaded library enter the program an execve
 * would run (see <bpfvm/exec_target.h>)?  The kernel's view, read from the
 * file through the caller's callbacks: a #! script runs its interpreter
 * (binfmt_script, no second execve: so the interpreter is judged), an
 * ELF program without PT_INTERP has no dynamic linker to load LD_PRELOAD,
 * one whose exec changes the effective ids away from the real ones is
 * AT_SECURE (commoncap.c: new euid != old uid, or new egid != old gid;
 * file capabilities for a caller other than root), where the loader
 * ignores LD_PRELOAD, and a Go program makes its own
 * system calls on goroutines' small stacks.  Every read is bounded by
 * count and checked against the file's end: a malformed file is refused,
 * never followed.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <bpfvm/exec_target.h>

#include "../util/opts.h"

#define ET_BUF 256              /* binfmts.h BINPRM_BUF_SIZE: the bytes the kernel reads first */
#define ET_DEPTH 5              /* exec_binprm: a sixth interpreter fails with ELOOP */
#define ET_PHDRS_MAX (4096 / sizeof(Elf64_Phdr))   /* load_elf_phdrs: at most ELF_MIN_ALIGN */
#define ET_CHUNK 16             /* headers read at once */

struct et_file {
	const struct bpfvm_exec_target_opts *o;
	long fd;
};

/* A reason's own text says "it" of the program; a script's interpreter is named instead. */
static const char et_script[] = "script", et_missing[] = "missing";

static bool et_read(const struct et_file *f, void *buf, size_t len, uint64_t base, uint64_t add)
{
	uint64_t off;

	if (__builtin_add_overflow(base, add, &off) || off > (uint64_t)INT64_MAX - len)
		return false;
	return f->o->pread(f->o->ctx, f->fd, buf, len, off) == (long)len;
}

/*
 * The interpreter of the #! line in buf (ET_BUF bytes and a NUL), as
 * binfmt_script finds it, into next: 0, or -1 where the kernel refuses
 * the line (ENOEXEC).
 */
static int et_shebang(char *buf, char *next, size_t size)
{
	char *end = memchr(buf, '\n', ET_BUF), *name = buf + 2;
	size_t len;

	if (!end) {   /* no newline: the name must end (space, tab, NUL) within the bytes read */
		char *last = buf + ET_BUF - 1, *p = name + strspn(name, " \t");

		if (p > last || strcspn(p, " \t") > (size_t)(last - p))
			return -1;
		end = last;
	}
	while (end > name && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	*end = '\0';
	name += strspn(name, " \t");
	len = strcspn(name, " \t");
	if (!len || len >= size)
		return -1;
	memcpy(next, name, len);
	next[len] = '\0';
	return 0;
}

/* Does exec change the effective ids away from the real ones (bprm_fill_uid, commoncap.c)? */
static const char *et_setid(const struct bpfvm_exec_target_opts *o, const struct stat *st)
{
	uint32_t euid = o->euid, egid = o->egid;
	bool setid = !o->no_new_privs && (st->st_mode & (S_ISUID | S_ISGID));

	if (setid && (st->st_mode & S_ISUID))
		euid = st->st_uid;
	if (setid && (st->st_mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP))
		egid = st->st_gid;
	if (euid == o->uid && egid == o->gid)
		return NULL;
	return setid ? "is set-user-ID or set-group-ID"
		     : "would run set-user-ID or set-group-ID (this process's effective ids are not "
		       "its real ones)";
}

/*
 * File capabilities: for a caller whose real uid is not root, the kernel
 * marks the exec AT_SECURE when they give it an effective set or any
 * permitted capability (cap_bprm_creds_from_file; the inheritable set
 * counted too, as the caller's own inheritable set is not known here).
 */
static const char *et_fcaps(const struct et_file *f)
{
	uint32_t caps[6] = { 0 };   /* vfs_cap_data: magic_etc, permitted and inheritable x 2, rootid */
	long n;

	if (!f->o->getxattr || !f->o->uid)
		return NULL;
	n = f->o->getxattr(f->o->ctx, f->fd, "security.capability", caps, sizeof(caps));
	if (n == -ERANGE || (n >= 4 && ((caps[0] & 1) || caps[1] | caps[2] | caps[3] | caps[4])))
		return "has file capabilities";   /* caps[0] & 1: VFS_CAP_FLAGS_EFFECTIVE */
	return NULL;
}

static const char *et_interp(const struct et_file *f, const Elf64_Ehdr *eh)
{
	Elf64_Phdr ph[ET_CHUNK];

	if (eh->e_phentsize != sizeof(Elf64_Phdr) || !eh->e_phnum || eh->e_phnum > ET_PHDRS_MAX)
		return "is a malformed ELF program (its program header table)";
	for (unsigned i = 0; i < eh->e_phnum; i += ET_CHUNK) {
		unsigned n = eh->e_phnum - i < ET_CHUNK ? eh->e_phnum - i : ET_CHUNK;

		if (!et_read(f, ph, n * sizeof(ph[0]), eh->e_phoff, i * sizeof(ph[0])))
			return "is a malformed ELF program (its program headers lie beyond its end)";
		for (unsigned k = 0; k < n; k++)
			if (ph[k].p_type == PT_INTERP)
				return NULL;
	}
	return "is statically linked";
}

/* Is section sh named one of Go's (strtab: the section names' header)? */
static bool et_go_section(const struct et_file *f, const Elf64_Shdr *sh, const Elf64_Shdr *strtab)
{
	static const char *const names[] = { ".note.go.buildid", ".go.buildinfo" };
	char name[24];
	uint64_t left;

	if ((sh->sh_type != SHT_NOTE && sh->sh_type != SHT_PROGBITS) || sh->sh_name >= strtab->sh_size)
		return false;
	left = strtab->sh_size - sh->sh_name;
	memset(name, 0, sizeof(name));
	if (!et_read(f, name, left < sizeof(name) - 1 ? left : sizeof(name) - 1, strtab->sh_offset,
		     sh->sh_name))
		return false;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(name, names[i]))
			return true;
	return false;
}

/*
 * Go's linker writes its build id into a .note.go.buildid section and its
 * build information into .go.buildinfo: either names a Go program (a
 * table it cannot read names none; e_shnum's 16 bits bound the reads).
 */
static bool et_is_go(const struct et_file *f, const Elf64_Ehdr *eh)
{
	Elf64_Shdr sh[ET_CHUNK], strtab;

	if (eh->e_shentsize != sizeof(Elf64_Shdr) || eh->e_shstrndx >= eh->e_shnum ||
	    !et_read(f, &strtab, sizeof(strtab), eh->e_shoff, eh->e_shstrndx * sizeof(strtab)))
		return false;
	for (unsigned i = 0; i < eh->e_shnum; i += ET_CHUNK) {
		unsigned n = eh->e_shnum - i < ET_CHUNK ? eh->e_shnum - i : ET_CHUNK;

		if (!et_read(f, sh, n * sizeof(sh[0]), eh->e_shoff, i * sizeof(sh[0])))
			return false;
		for (unsigned k = 0; k < n; k++)
			if (et_go_section(f, &sh[k], &strtab))
				return true;
	}
	return false;
}

/* One file's verdict: NULL, a reason, et_script (its interpreter in next). */
static const char *et_file(const struct et_file *f, char *next, size_t size)
{
	union {
		Elf64_Ehdr eh;
		char buf[ET_BUF + 1];
	} u;
	struct stat st;
	const char *why;
	long n;

	memset(&u, 0, sizeof(u));
	if ((n = f->o->pread(f->o->ctx, f->fd, u.buf, ET_BUF, 0)) < 0)
		return "cannot be read";
	if (n >= 2 && u.buf[0] == '#' && u.buf[1] == '!')
		return et_shebang(u.buf, next, size) ? "is a #! script whose first line the kernel refuses"
						      : et_script;
	if ((size_t)n < sizeof(u.eh) || memcmp(u.eh.e_ident, ELFMAG, SELFMAG) ||
	    u.eh.e_ident[EI_CLASS] != ELFCLASS64 || u.eh.e_ident[EI_DATA] != ELFDATA2LSB ||
	    u.eh.e_machine != EM_X86_64 || (u.eh.e_type != ET_EXEC && u.eh.e_type != ET_DYN))
		return "is not an x86-64 ELF program nor a #! script";
	if ((why = et_interp(f, &u.eh)))
		return why;
	if (f->o->fstat(f->o->ctx, f->fd, &st))
		return "cannot be read";
	if ((why = et_setid(f->o, &st)) || (why = et_fcaps(f)))
		return why;
	if (et_is_go(f, &u.eh))
		return "is a Go program (it makes its system calls itself, on goroutines' small stacks)";
	return NULL;
}

static const char *et_open(const struct bpfvm_exec_target_opts *o, int dirfd, const char *path,
			   char *next, size_t size)
{
	struct et_file f = { o, o->open(o->ctx, dirfd, path) };
	const char *why;

	if (f.fd == -ENOENT || f.fd == -ENOTDIR)
		return et_missing;
	if (f.fd < 0)
		return "cannot be read";
	why = et_file(&f, next, size);
	o->close(o->ctx, f.fd);
	return why;
}

static long libc_open(void *ctx, int dirfd, const char *path)
{
	int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);

	(void)ctx;
	return fd < 0 ? -errno : fd;
}

static long libc_pread(void *ctx, long fd, void *buf, size_t len, uint64_t off)
{
	ssize_t n = pread((int)fd, buf, len, (off_t)off);

	(void)ctx;
	return n < 0 ? -errno : n;
}

static long libc_fstat(void *ctx, long fd, struct stat *st)
{
	(void)ctx;
	return fstat((int)fd, st) ? -errno : 0;
}

static void libc_close(void *ctx, long fd)
{
	(void)ctx;
	close((int)fd);
}

static long libc_getxattr(void *ctx, long fd, const char *name, void *buf, size_t size)
{
	ssize_t n = fgetxattr((int)fd, name, buf, size);

	(void)ctx;
	return n < 0 ? -errno : n;
}

/* The caller's callbacks and ids, or libc's and this process's: false if opts are invalid. */
static bool et_opts(const struct bpfvm_exec_target_opts *opts, struct bpfvm_exec_target_opts *o)
{
	uid_t r, e, s;
	gid_t gr, ge, gs;

	if (!OPTS_VALID(opts, bpfvm_exec_target_opts, NULL))
		return false;
	memset(o, 0, sizeof(*o));
	if (OPTS_GET(opts, open, NULL)) {
		*o = (struct bpfvm_exec_target_opts){
			sizeof(*o), OPTS_GET(opts, ctx, NULL), opts->open, OPTS_GET(opts, pread, NULL),
			OPTS_GET(opts, fstat, NULL), OPTS_GET(opts, close, NULL),
			OPTS_GET(opts, uid, 0), OPTS_GET(opts, euid, 0), OPTS_GET(opts, gid, 0),
			OPTS_GET(opts, egid, 0), OPTS_GET(opts, no_new_privs, false),
			OPTS_GET(opts, getxattr, NULL),
		};
		return o->pread && o->fstat && o->close && OPTS_HAS(opts, no_new_privs);
	}
	if (getresuid(&r, &e, &s) || getresgid(&gr, &ge, &gs))
		return false;
	*o = (struct bpfvm_exec_target_opts){ sizeof(*o), NULL, libc_open, libc_pread, libc_fstat,
					      libc_close, r, e, gr, ge,
					      prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1,
					      libc_getxattr };
	return true;
}

const char *bpfvm_exec_target__problem(int dirfd, const char *path,
				       const struct bpfvm_exec_target_opts *opts, char *why,
				       size_t size)
{
	struct bpfvm_exec_target_opts o;
	char name[2][ET_BUF];
	const char *r;

	if (!why || !size)
		return "it was not judged (no room for the reason)";
	if (!path || !et_opts(opts, &o)) {
		snprintf(why, size, "it was not judged (invalid arguments)");
		return why;
	}
	for (int depth = 0; depth <= ET_DEPTH; depth++) {
		r = et_open(&o, depth ? AT_FDCWD : dirfd, depth ? name[(depth - 1) & 1] : path,
			    name[depth & 1], sizeof(name[0]));
		if (r == et_missing || !r)
			return NULL;   /* execve fails itself on a missing file or interpreter */
		if (r != et_script) {
			if (depth)
				snprintf(why, size, "its #! interpreter %s %s", name[(depth - 1) & 1], r);
			else
				snprintf(why, size, "it %s", r);
			return why;
		}
	}
	return NULL;   /* one interpreter too many: execve fails with ELOOP */
}
