/*
 * test_exec_target.c - bpfvm_exec_target__problem on files made in memory
 * (read through its callbacks, every read counted): dynamic, static, Go
 * (either section) and malformed ELF programs (a truncated header, a huge
 * e_phnum or e_shnum, tables beyond the file's end or at offsets that
 * wrap), set-ID bits against the caller's ids, file capabilities, #!
 * scripts judged by their interpreter (missing, static, a chain longer
 * than the kernel's five), and a real program read with libc's calls.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpfvm/exec_target.h>

#include "test.h"

#define MAX_FILES 24

struct mfile {
	const char *path;
	const uint8_t *data;
	size_t len;
	mode_t mode;
	uint32_t uid, gid;
	int open_err;     /* open fails with -open_err */
	const void *caps; /* security.capability's value (caps_len bytes), or NULL */
	size_t caps_len;
};

struct fs {
	struct mfile f[MAX_FILES];
	int n;
	unsigned reads, opens, closes;
};

static long fs_open(void *ctx, int dirfd, const char *path)
{
	struct fs *fs = ctx;

	(void)dirfd;
	for (int i = 0; i < fs->n; i++)
		if (!strcmp(fs->f[i].path, path)) {
			if (fs->f[i].open_err)
				return -fs->f[i].open_err;
			fs->opens++;
			return 100 + i;
		}
	return -ENOENT;
}

static long fs_pread(void *ctx, long fd, void *buf, size_t len, uint64_t off)
{
	struct fs *fs = ctx;
	const struct mfile *f = &fs->f[fd - 100];

	fs->reads++;
	if ((int64_t)off < 0)
		return -EINVAL;
	if (off >= f->len)
		return 0;
	if (len > f->len - off)
		len = f->len - off;
	memcpy(buf, f->data + off, len);
	return (long)len;
}

static long fs_fstat(void *ctx, long fd, struct stat *st)
{
	const struct mfile *f = &((struct fs *)ctx)->f[fd - 100];

	memset(st, 0, sizeof(*st));
	st->st_mode = S_IFREG | f->mode;
	st->st_uid = f->uid;
	st->st_gid = f->gid;
	st->st_size = (off_t)f->len;
	return 0;
}

static long fs_getxattr(void *ctx, long fd, const char *name, void *buf, size_t size)
{
	const struct mfile *f = &((struct fs *)ctx)->f[fd - 100];

	if (strcmp(name, "security.capability") || !f->caps)
		return -ENODATA;
	if (size < f->caps_len)
		return -ERANGE;
	memcpy(buf, f->caps, f->caps_len);
	return (long)f->caps_len;
}

static void fs_close(void *ctx, long fd)
{
	(void)fd;
	((struct fs *)ctx)->closes++;
}

/* bpfvm_exec_target__problem(path) as uid (group 100, euid as given): NULL or the reason */
static const char *judge_as(struct fs *fs, const char *path, uint32_t uid, uint32_t euid, bool nnp)
{
	static char why[256];
	BPFVM_OPTS(bpfvm_exec_target_opts, o, .ctx = fs, .open = fs_open, .pread = fs_pread,
		   .fstat = fs_fstat, .close = fs_close, .uid = uid, .euid = euid, .gid = 100,
		   .egid = 100, .no_new_privs = nnp, .getxattr = fs_getxattr);

	return bpfvm_exec_target__problem(AT_FDCWD, path, &o, why, sizeof(why));
}

/* ... as user 1000 */
static const char *judge(struct fs *fs, const char *path, uint32_t euid, bool nnp)
{
	return judge_as(fs, path, 1000, euid, nnp);
}

static bool starts(const char *s, const char *prefix)
{
	return s && !strncmp(s, prefix, strlen(prefix));
}

/*
 * An x86-64 ELF program: a header, phnum program headers at 64 (the
 * last PT_INTERP when interp), and, with a section name, a section table
 * of three (null, .shstrtab, name) after them.
 */
struct elf_img {
	uint8_t b[1024];
	size_t len;
};

static Elf64_Ehdr *make_elf(struct elf_img *m, int phnum, bool interp, const char *section)
{
	Elf64_Ehdr *eh = (Elf64_Ehdr *)m->b;
	Elf64_Phdr *ph = (Elf64_Phdr *)(m->b + 64);

	memset(m, 0, sizeof(*m));
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_type = ET_DYN;
	eh->e_machine = EM_X86_64;
	eh->e_phoff = 64;
	eh->e_phentsize = sizeof(Elf64_Phdr);
	eh->e_phnum = (uint16_t)phnum;
	eh->e_shentsize = sizeof(Elf64_Shdr);
	for (int i = 0; i < phnum; i++)
		ph[i].p_type = interp && i == phnum - 1 ? PT_INTERP : PT_LOAD;
	m->len = 64 + (size_t)phnum * sizeof(Elf64_Phdr);
	if (section) {
		Elf64_Shdr *sh = (Elf64_Shdr *)(m->b + m->len);
		size_t strs = m->len + 3 * sizeof(Elf64_Shdr);
		char *names = (char *)m->b + strs;

		eh->e_shoff = m->len;
		eh->e_shnum = 3;
		eh->e_shstrndx = 1;
		strcpy(names + 1, ".shstrtab");
		strcpy(names + 11, section);
		sh[1] = (Elf64_Shdr){ .sh_name = 1, .sh_type = SHT_STRTAB, .sh_offset = strs,
				      .sh_size = 12 + strlen(section) };
		sh[2] = (Elf64_Shdr){ .sh_name = 11, .sh_type = SHT_NOTE, .sh_offset = strs, .sh_size = 4 };
		m->len = strs + sh[1].sh_size;
	}
	return eh;
}

static void add(struct fs *fs, const char *path, const void *data, size_t len, mode_t mode,
		uint32_t uid)
{
	if (fs->n < MAX_FILES)
		fs->f[fs->n++] = (struct mfile){ path, data, len, mode, uid, 100, 0, NULL, 0 };
}

TEST(exec_target_elf_kinds)
{
	struct elf_img dyn, stat_, go, goinfo, other;
	struct fs fs = { 0 };

	make_elf(&dyn, 3, true, NULL);
	make_elf(&stat_, 3, false, NULL);
	make_elf(&go, 2, true, ".note.go.buildid");
	make_elf(&goinfo, 2, true, ".go.buildinfo");
	make_elf(&other, 2, true, ".note.gnu.build-id");
	add(&fs, "dyn", dyn.b, dyn.len, 0755, 0);
	add(&fs, "static", stat_.b, stat_.len, 0755, 0);
	add(&fs, "go", go.b, go.len, 0755, 0);
	add(&fs, "goinfo", goinfo.b, goinfo.len, 0755, 0);
	add(&fs, "other", other.b, other.len, 0755, 0);
	CHECK(judge(&fs, "dyn", 1000, false) == NULL);
	CHECK(judge(&fs, "other", 1000, false) == NULL);
	CHECK(starts(judge(&fs, "static", 1000, false), "it is statically linked"));
	CHECK(starts(judge(&fs, "go", 1000, false), "it is a Go program"));
	CHECK(starts(judge(&fs, "goinfo", 1000, false), "it is a Go program"));
	CHECK(judge(&fs, "missing", 1000, false) == NULL);   /* the execve fails itself */
	CHECK_EQ_U64(fs.opens, fs.closes);
}

TEST(exec_target_malformed)
{
	struct elf_img m[8];
	struct fs fs = { 0 };
	Elf64_Ehdr *eh;

	make_elf(&m[0], 2, true, NULL);
	add(&fs, "truncated", m[0].b, 40, 0755, 0);
	eh = make_elf(&m[1], 2, true, NULL);
	eh->e_phnum = 65535;
	add(&fs, "phnum", m[1].b, m[1].len, 0755, 0);
	eh = make_elf(&m[2], 2, true, NULL);
	eh->e_phoff = 1 << 20;
	add(&fs, "phoff", m[2].b, m[2].len, 0755, 0);
	eh = make_elf(&m[3], 2, true, NULL);
	eh->e_phoff = UINT64_MAX - 8;
	add(&fs, "phoff_wraps", m[3].b, m[3].len, 0755, 0);
	eh = make_elf(&m[4], 2, true, ".note.go.buildid");
	eh->e_shoff = 1 << 20;   /* sections out of the file: not seen as Go */
	add(&fs, "shoff", m[4].b, m[4].len, 0755, 0);
	eh = make_elf(&m[5], 2, true, ".note.go.buildid");
	eh->e_shnum = 65535;     /* a count far beyond the file: the first short read ends it */
	eh->e_shstrndx = 1;
	add(&fs, "shnum", m[5].b, m[5].len, 0755, 0);
	eh = make_elf(&m[6], 2, true, ".note.go.buildid");
	((Elf64_Shdr *)(m[6].b + eh->e_shoff))[2].sh_name = 4000;   /* beyond .shstrtab */
	add(&fs, "sh_name", m[6].b, m[6].len, 0755, 0);
	eh = make_elf(&m[7], 2, true, NULL);
	eh->e_phentsize = 32;
	add(&fs, "phentsize", m[7].b, m[7].len, 0755, 0);

	CHECK(starts(judge(&fs, "truncated", 1000, false), "it is not an x86-64 ELF program"));
	CHECK(starts(judge(&fs, "phnum", 1000, false), "it is a malformed ELF program"));
	CHECK(starts(judge(&fs, "phoff", 1000, false), "it is a malformed ELF program"));
	CHECK(starts(judge(&fs, "phoff_wraps", 1000, false), "it is a malformed ELF program"));
	CHECK(starts(judge(&fs, "phentsize", 1000, false), "it is a malformed ELF program"));
	CHECK(judge(&fs, "shoff", 1000, false) == NULL);
	CHECK(judge(&fs, "sh_name", 1000, false) == NULL);
	fs.reads = 0;
	CHECK(judge(&fs, "shnum", 1000, false) == NULL);
	CHECK(fs.reads < 10);
	CHECK_EQ_U64(fs.opens, fs.closes);
}

TEST(exec_target_setid)
{
	struct elf_img dyn;
	struct fs fs = { 0 };

	make_elf(&dyn, 2, true, NULL);
	add(&fs, "suid_other", dyn.b, dyn.len, 04755, 0);
	add(&fs, "suid_own", dyn.b, dyn.len, 04755, 1000);
	add(&fs, "sgid_other", dyn.b, dyn.len, 02755, 0);
	fs.f[fs.n - 1].gid = 0;
	add(&fs, "sgid_noexec", dyn.b, dyn.len, 02745, 0);   /* S_ISGID without g+x: no set-group-ID */
	fs.f[fs.n - 1].gid = 0;
	add(&fs, "plain", dyn.b, dyn.len, 0755, 0);
	CHECK(starts(judge(&fs, "suid_other", 1000, false), "it is set-user-ID or set-group-ID"));
	CHECK(judge(&fs, "suid_own", 1000, false) == NULL);   /* the ids do not change */
	CHECK(starts(judge(&fs, "sgid_other", 1000, false), "it is set-user-ID or set-group-ID"));
	CHECK(judge(&fs, "sgid_noexec", 1000, false) == NULL);
	CHECK(judge(&fs, "suid_other", 1000, true) == NULL);   /* no_new_privs: the bits are ignored */
	/* a caller whose effective id is not its real one: any exec is AT_SECURE */
	CHECK(starts(judge(&fs, "plain", 0, false), "it would run set-user-ID or set-group-ID"));
	CHECK(starts(judge(&fs, "suid_other", 0, false), "it is set-user-ID or set-group-ID"));
	CHECK(judge(&fs, "suid_own", 0, false) == NULL);   /* back to the real id */
}

/* security.capability (v2, 20 bytes; v3 with a root id, 24): AT_SECURE unless the caller is root */
TEST(exec_target_file_caps)
{
	static const uint32_t net_raw[5] = { 0x02000001, 1u << 13, 0, 0, 0 },   /* cap_net_raw+ep */
			      none[6] = { 0x03000000, 0, 0, 0, 0, 0 };
	struct elf_img dyn;
	struct fs fs = { 0 };

	make_elf(&dyn, 2, true, NULL);
	add(&fs, "ping", dyn.b, dyn.len, 0755, 0);
	fs.f[0].caps = net_raw, fs.f[0].caps_len = sizeof(net_raw);
	add(&fs, "empty", dyn.b, dyn.len, 0755, 0);
	fs.f[1].caps = none, fs.f[1].caps_len = sizeof(none);
	CHECK(starts(judge(&fs, "ping", 1000, false), "it has file capabilities"));
	CHECK(judge_as(&fs, "ping", 0, 0, false) == NULL);   /* root's exec is not marked secure */
	CHECK(judge(&fs, "empty", 1000, false) == NULL);
}

TEST(exec_target_scripts)
{
	static const char sh_dyn[] = "#! /i/dyn -e\n", sh_static[] = "#!/i/static\n",
			  sh_missing[] = "#!/i/none\n", sh_blank[] = "#!   \n";
	struct elf_img dyn, stat_;
	char chain[7][16], next[7][16], longline[300];
	struct fs fs = { 0 };

	make_elf(&dyn, 2, true, NULL);
	make_elf(&stat_, 2, false, NULL);
	add(&fs, "/i/dyn", dyn.b, dyn.len, 0755, 0);
	add(&fs, "/i/static", stat_.b, stat_.len, 0755, 0);
	add(&fs, "s_dyn", sh_dyn, strlen(sh_dyn), 0755, 0);
	add(&fs, "s_static", sh_static, strlen(sh_static), 04755, 0);   /* a script's bits count not */
	add(&fs, "s_missing", sh_missing, strlen(sh_missing), 0755, 0);
	add(&fs, "s_blank", sh_blank, strlen(sh_blank), 0755, 0);
	/* 256 bytes with no newline and no end to the name: the kernel refuses it */
	memset(longline, 'a', sizeof(longline));
	memcpy(longline, "#!/", 3);
	add(&fs, "s_long", longline, sizeof(longline), 0755, 0);
	CHECK(judge(&fs, "s_dyn", 1000, false) == NULL);
	CHECK(judge(&fs, "s_missing", 1000, false) == NULL);
	CHECK(judge(&fs, "s_static", 1000, false) &&
	      !strcmp(judge(&fs, "s_static", 1000, false), "its #! interpreter /i/static is statically linked"));
	CHECK(starts(judge(&fs, "s_blank", 1000, false), "it is a #! script whose first line"));
	CHECK(starts(judge(&fs, "s_long", 1000, false), "it is a #! script whose first line"));
	/* c0 -> c1 -> ... -> c6 -> /i/static: past the kernel's five interpreters execve fails */
	for (int i = 0; i < 7; i++) {
		snprintf(chain[i], sizeof(chain[i]), "c%d", i);
		snprintf(next[i], sizeof(next[i]), i < 6 ? "#!c%d\n" : "#!/i/static\n", i + 1);
		add(&fs, chain[i], next[i], strlen(next[i]), 0755, 0);
	}
	CHECK(judge(&fs, "c0", 1000, false) == NULL);
	CHECK(starts(judge(&fs, "c2", 1000, false), "its #! interpreter /i/static is statically"));
	CHECK_EQ_U64(fs.opens, fs.closes);
}

TEST(exec_target_unreadable_and_opts)
{
	struct fs fs = { 0 };
	char why[128];
	BPFVM_OPTS(bpfvm_exec_target_opts, bad, .ctx = &fs, .open = fs_open);

	fs.f[fs.n++] = (struct mfile){ "secret", NULL, 0, 0711, 0, 0, EACCES, NULL, 0 };
	CHECK(starts(judge(&fs, "secret", 1000, false), "it cannot be read"));
	CHECK(bpfvm_exec_target__problem(AT_FDCWD, "x", &bad, why, sizeof(why)) == why);
}

/* libc's calls (opts NULL): this test program is dynamically linked, /proc is not a program */
TEST(exec_target_real_files)
{
	char self[4096], why[256];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	CHECK(n > 0);
	self[n > 0 ? n : 0] = '\0';
	CHECK(bpfvm_exec_target__problem(AT_FDCWD, self, NULL, why, sizeof(why)) == NULL);
	CHECK(starts(bpfvm_exec_target__problem(AT_FDCWD, "/proc/self/status", NULL, why, sizeof(why)),
		     "it is not an x86-64 ELF program"));
}

TEST_MAIN()
