/*
 * usym.c - uprobe and USDT targets resolved to file offsets and
 * addresses (usym.h), by libbpf's rules:
 *
 *   uprobe/PATH:FUNC[+OFF]   FUNC an STT_FUNC or STT_GNU_IFUNC symbol of
 *                            .dynsym, else .symtab ("name@VER" / "name@@VER"
 *                            pick a version); two non-weak symbols of the
 *                            name at different places are ambiguous; a
 *                            uretprobe takes no offset.  A FUNC that is a
 *                            number (0x1234) is a file offset (bpfvm's).
 *   uprobe.multi/PATH:GLOB   every function matching the glob (* and ?)
 *   usdt/PATH:PROVIDER:NAME  every .note.stapsdt note of that provider and
 *                            name; its pc moved by .stapsdt.base's address
 *                            against the note's base (prelink)
 *
 * A symbol's file offset is its value less its section's address plus
 * the section's offset, as the kernel's uprobes count; where the process
 * maps that file offset is what /proc/PID/maps says.  A PATH without '/'
 * is a library of the process: the loaded file whose name starts with it
 * (libbpf searches LD_LIBRARY_PATH and the system directories; what the
 * process has loaded is the file it runs).
 */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <gelf.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <zlib.h>

#include "../util/log.h"
#include "../util/proc_maps.h"
#include "usym.h"

#define NT_STAPSDT 3
#define USYM_DEBUG_ROOT "/usr/lib/debug"
#define BUILD_ID_HEX_MAX 129   /* a build id of up to 64 bytes, in hex */
#define MAX_SITES 4096

static int bad(char *why, size_t size, const char *fmt, const char *a, const char *b)
{
	snprintf(why, size, fmt, a, b);
	return -EINVAL;
}

/* "0x1234" or "4660" and nothing after: a number. */
static bool number(const char *s, uint64_t *v)
{
	char *end;

	if (!*s || *s == '-')
		return false;
	errno = 0;
	*v = strtoull(s, &end, 0);
	return !*end && !errno;
}

int usym_parse(const char *sec, struct usym_target *t, char *why, size_t size)
{
	static const struct { const char *prefix; enum usym_kind kind; bool ret; } kinds[] = {
		{ "uprobe.multi", USYM_MULTI, false }, { "uretprobe.multi", USYM_MULTI, true },
		{ "uprobe", USYM_UPROBE, false }, { "uretprobe", USYM_UPROBE, true },
		{ "usdt", USYM_USDT, false },
	};
	const char *slash = strchr(sec, '/'), *rest, *colon;
	size_t plen = slash ? (size_t)(slash - sec) : strlen(sec), i;
	uint64_t raw;
	char *plus;

	memset(t, 0, sizeof(*t));
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		size_t k = strlen(kinds[i].prefix);

		if (!strncmp(sec, kinds[i].prefix, k) &&
		    (plen == k || (plen == k + 2 && !strncmp(sec + k, ".s", 2))))
			break;
	}
	if (i == sizeof(kinds) / sizeof(kinds[0]))
		return bad(why, size, "section '%s': not a uprobe, uretprobe, uprobe.multi or usdt "
			   "section%s", sec, "");
	t->kind = kinds[i].kind;
	t->ret = kinds[i].ret;
	/* the path runs to the last ':' before the function (usdt: before provider:name) */
	rest = slash ? slash + 1 : "";
	colon = strchr(rest, ':');
	if (t->kind == USYM_USDT)
		colon = colon ? strchr(colon + 1, ':') ? colon : NULL : NULL;
	if (!*rest || !colon || colon == rest || !colon[1])
		return bad(why, size, "section '%s': missing %s (libbpf cannot auto-attach it "
			   "either)", sec, t->kind == USYM_USDT ? "'PATH:PROVIDER:NAME'" :
			   "':function[+offset]' after the binary's path");
	if ((size_t)(colon - rest) >= sizeof(t->binary))
		return bad(why, size, "section '%s': the path is too long%s", sec, "");
	memcpy(t->binary, rest, (size_t)(colon - rest));
	if (t->kind == USYM_USDT) {
		const char *name = strchr(colon + 1, ':');

		if (!name || !name[1] || strchr(name + 1, ':') ||
		    (size_t)(name - colon - 1) >= sizeof(t->func) || strlen(name + 1) >= sizeof(t->name))
			return bad(why, size, "section '%s': not usdt/PATH:PROVIDER:NAME%s", sec, "");
		memcpy(t->func, colon + 1, (size_t)(name - colon - 1));
		strcpy(t->name, name + 1);
		return 0;
	}
	if (strlen(colon + 1) >= sizeof(t->func))
		return bad(why, size, "section '%s': the function name is too long%s", sec, "");
	strcpy(t->func, colon + 1);
	if (t->kind == USYM_MULTI)
		return 0;
	plus = strrchr(t->func, '+');
	if (plus && number(plus + 1, &t->offset))
		*plus = '\0';
	else
		t->offset = 0;
	if (number(t->func, &raw)) {   /* uprobe/PATH:0x1234: a file offset */
		t->raw = true;
		t->offset = raw;
		t->func[0] = '\0';
	}
	if (t->ret && t->offset && !t->raw)
		return bad(why, size, "section '%s': uretprobes do not support offset "
			   "specification%s", sec, "");
	return 0;
}

struct elf_file {
	int fd;
	Elf *elf;
};

static int elf_open(const char *path, struct elf_file *f, char *why, size_t size)
{
	GElf_Ehdr eh;

	elf_version(EV_CURRENT);
	f->elf = NULL;
	f->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (f->fd < 0) {
		snprintf(why, size, "%s: %s", path, strerror(errno));
		return -errno;
	}
	f->elf = elf_begin(f->fd, ELF_C_READ_MMAP, NULL);
	if (!f->elf || elf_kind(f->elf) != ELF_K_ELF || !gelf_getehdr(f->elf, &eh)) {
		snprintf(why, size, "%s: not an ELF file", path);
		if (f->elf)
			elf_end(f->elf);
		close(f->fd);
		return -ENOEXEC;
	}
	return 0;
}

static void elf_close(struct elf_file *f)
{
	elf_end(f->elf);
	close(f->fd);
}

static Elf_Scn *section_of_type(Elf *elf, Elf64_Word type)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(elf, scn)))
		if (gelf_getshdr(scn, &sh) && sh.sh_type == type)
			return scn;
	return NULL;
}

/* Does symbol sname (maybe "f@@VER", .symtab's spelling) match want ("f" or "f@VER")? */
static bool symbol_match(const char *sname, const char *want)
{
	const char *want_at = strchr(want, '@'), *s_at = strchr(sname, '@');
	size_t wlen = want_at ? (size_t)(want_at - want) : strlen(want);
	size_t slen = s_at ? (size_t)(s_at - sname) : strlen(sname);

	if (wlen != slen || strncmp(sname, want, wlen))
		return false;
	if (!want_at || !s_at)
		return true;    /* .dynsym's names carry no version: any */
	while (*want_at == '@')
		want_at++;
	while (*s_at == '@')
		s_at++;
	return !strcmp(want_at, s_at);
}

static uint64_t vaddr_to_off(Elf *elf, uint64_t vaddr);

static int add_site(struct usym_site **sites, size_t *n, uint64_t off)
{
	struct usym_site *grown;

	for (size_t i = 0; i < *n; i++)
		if ((*sites)[i].func_off == off)
			return 0;
	if (*n == MAX_SITES)
		return -E2BIG;
	grown = realloc(*sites, (*n + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	*sites = grown;
	memset(&grown[*n], 0, sizeof(grown[*n]));
	grown[*n].func_off = grown[*n].file_off = off;
	(*n)++;
	return 0;
}

/*
 * The functions of one symbol table matching t: one (ambiguity refused
 * as libbpf refuses it, weak symbols yielding) or, for multi, every one.
 */
static int scan_symbols(Elf *elf, Elf_Scn *scn, Elf *code, const struct usym_target *t,
			const char *path, struct usym_site **sites, size_t *n, char *why, size_t size)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	GElf_Shdr sh;
	int last_bind = -1;

	if (!data || !gelf_getshdr(scn, &sh) || !sh.sh_entsize)
		return 0;
	for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
		GElf_Sym sym;
		GElf_Shdr ssh;
		const char *name;
		int type, bind, err;
		uint64_t off;

		if (!gelf_getsym(data, (int)i, &sym) || sym.st_shndx == SHN_UNDEF || !sym.st_value)
			continue;
		type = GELF_ST_TYPE(sym.st_info);
		bind = GELF_ST_BIND(sym.st_info);
		name = elf_strptr(elf, sh.sh_link, sym.st_name);
		if ((type != STT_FUNC && type != STT_GNU_IFUNC) || !name ||
		    !gelf_getshdr(elf_getscn(elf, sym.st_shndx), &ssh))
			continue;
		if (t->kind == USYM_MULTI ? fnmatch(t->func, name, 0) : !symbol_match(name, t->func))
			continue;
		/* a debug file's sections hold no code: the binary's segments say where it is */
		off = code ? vaddr_to_off(code, sym.st_value) : sym.st_value - ssh.sh_addr + ssh.sh_offset;
		if (!off)
			continue;
		if (t->kind != USYM_MULTI && *n) {
			if ((*sites)[0].func_off == off || bind == STB_WEAK)
				continue;
			if (last_bind != STB_WEAK) {
				snprintf(why, size, "ambiguous match for '%s' in %s: two functions "
					 "of that name", t->func, path);
				return -ENOENT;
			}
			*n = 0;   /* a strong one after a weak one wins */
		}
		if ((err = add_site(sites, n, off)))
			return err;
		for (size_t k = 0; k < *n; k++)
			if ((*sites)[k].func_off == off)
				(*sites)[k].func_size = sym.st_size;
		last_bind = bind;
	}
	return 0;
}

/* A link-time address's file offset, through the PT_LOAD segment holding it: 0 if none. */
static uint64_t vaddr_to_off(Elf *elf, uint64_t vaddr)
{
	size_t nph;

	if (elf_getphdrnum(elf, &nph))
		return 0;
	for (size_t i = 0; i < nph; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_LOAD &&
		    vaddr >= ph.p_vaddr && vaddr < ph.p_vaddr + ph.p_filesz)
			return vaddr - ph.p_vaddr + ph.p_offset;
	}
	return 0;
}

/* The address of section name, 0 when there is none. */
static uint64_t section_addr(Elf *elf, const char *name)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return 0;
	while ((scn = elf_nextscn(elf, scn))) {
		const char *n = gelf_getshdr(scn, &sh) ? elf_strptr(elf, shstrndx, sh.sh_name) : NULL;

		if (n && !strcmp(n, name))
			return sh.sh_addr;
	}
	return 0;
}

/* One stapsdt note's descriptor: pc, base, semaphore, then provider, name, args. */
static int usdt_note(Elf *elf, const uint8_t *desc, size_t len, const struct usym_target *t,
		     uint64_t base_addr, struct usym_site **sites, size_t *n)
{
	uint64_t v[3];
	const char *prov = (const char *)desc + 24, *end = (const char *)desc + len;
	const char *name, *args;
	int err;

	if (len < 27)
		return 0;
	memcpy(v, desc, sizeof(v));
	name = memchr(prov, 0, (size_t)(end - prov));
	args = name ? memchr(name + 1, 0, (size_t)(end - name - 1)) : NULL;
	if (!name || !args || memchr(args + 1, 0, (size_t)(end - args - 1)) == NULL)
		return 0;
	name++;
	args++;
	if (strcmp(prov, t->func) || strcmp(name, t->name))
		return 0;
	if (base_addr)
		v[0] += base_addr - v[1];   /* prelinked: the note's base against the section's */
	if ((err = add_site(sites, n, vaddr_to_off(elf, v[0]))))
		return err;
	(*sites)[*n - 1].sema_vaddr = v[2];
	(*sites)[*n - 1].sema_off = v[2] ? vaddr_to_off(elf, v[2]) : 0;
	snprintf((*sites)[*n - 1].args, sizeof((*sites)[*n - 1].args), "%s", args);
	return 0;
}

static int scan_usdt(Elf *elf, const struct usym_target *t, struct usym_site **sites, size_t *n)
{
	uint64_t base_addr = section_addr(elf, ".stapsdt.base");
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	int err;

	while ((scn = elf_nextscn(elf, scn))) {
		Elf_Data *data;
		GElf_Nhdr nh;
		size_t off = 0, name_off, desc_off;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE || !(data = elf_getdata(scn, NULL)))
			continue;
		while ((off = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
			if (nh.n_type != NT_STAPSDT || nh.n_namesz != 8 ||
			    memcmp((char *)data->d_buf + name_off, "stapsdt", 8))
				continue;
			err = usdt_note(elf, (uint8_t *)data->d_buf + desc_off, nh.n_descsz, t,
					base_addr, sites, n);
			if (err)
				return err;
		}
	}
	return 0;
}

/* Elf's GNU build id note, in hex: its length in bytes, 0 when it has none. */
static size_t build_id_hex(Elf *elf, char *hex, size_t size)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(elf, scn))) {
		Elf_Data *d = gelf_getshdr(scn, &sh) && sh.sh_type == SHT_NOTE ?
			      elf_getdata(scn, NULL) : NULL;
		size_t off = 0, name_off, desc_off;
		GElf_Nhdr nh;

		while (d && (off = gelf_getnote(d, off, &nh, &name_off, &desc_off)) > 0) {
			if (nh.n_type != NT_GNU_BUILD_ID || nh.n_namesz != 4 ||
			    memcmp((char *)d->d_buf + name_off, "GNU", 4) || !nh.n_descsz ||
			    nh.n_descsz * 2 + 1 > size)
				continue;
			for (size_t i = 0; i < nh.n_descsz; i++)
				snprintf(hex + 2 * i, 3, "%02x", ((uint8_t *)d->d_buf)[desc_off + i]);
			return nh.n_descsz;
		}
	}
	return 0;
}

/* Elf's .gnu_debuglink: the debug file's name and the CRC-32 of its bytes. */
static bool debuglink(Elf *elf, char *name, size_t size, uint32_t *crc)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return false;
	while ((scn = elf_nextscn(elf, scn))) {
		const char *n = gelf_getshdr(scn, &sh) ? elf_strptr(elf, shstrndx, sh.sh_name) : NULL;
		Elf_Data *d = n && !strcmp(n, ".gnu_debuglink") ? elf_getdata(scn, NULL) : NULL;
		size_t len = d ? strnlen(d->d_buf, d->d_size) : 0;
		size_t at = (len + 4) & ~(size_t)3;   /* the name, its NUL, padding to 4 */

		if (!d || !len || len >= size || at + 4 > d->d_size)
			continue;
		memcpy(name, d->d_buf, len + 1);
		memcpy(crc, (char *)d->d_buf + at, 4);
		return true;
	}
	return false;
}

static bool file_crc_is(const char *path, uint32_t want)
{
	uint8_t buf[65536];
	uLong crc = crc32(0, Z_NULL, 0);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t got;

	if (fd < 0)
		return false;
	while ((got = read(fd, buf, sizeof(buf))) > 0)
		crc = crc32(crc, buf, (uInt)got);
	close(fd);
	return got == 0 && (uint32_t)crc == want;
}

static bool has_build_id(const char *path, const char *hex)
{
	char its[BUILD_ID_HEX_MAX];
	struct elf_file f;
	char why[64];
	bool same;

	if (elf_open(path, &f, why, sizeof(why)))
		return false;
	same = build_id_hex(f.elf, its, sizeof(its)) && !strcmp(its, hex);
	elf_close(&f);
	return same;
}

/*
 * Where the separate debug file of the binary open as elf (at path) is,
 * looked for as gdb and elfutils look: root/.build-id/xx/rest.debug by
 * its build id, then by its .gnu_debuglink beside it, in .debug/ beside
 * it, and under root; each must carry the same build id, or the CRC the
 * link names.  0, or -ENOENT.
 */
static int debug_file(Elf *elf, const char *path, const char *root, char *out, size_t size)
{
	char hex[BUILD_ID_HEX_MAX], name[NAME_MAX + 1], dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	uint32_t crc;
	int len;

	if (build_id_hex(elf, hex, sizeof(hex)) > 1) {
		len = snprintf(out, size, "%s/.build-id/%.2s/%s.debug", root, hex, hex + 2);
		if (len > 0 && (size_t)len < size && has_build_id(out, hex))
			return 0;
	}
	if (!debuglink(elf, name, sizeof(name), &crc) || !slash)
		return -ENOENT;
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	for (int i = 0; i < 3; i++) {
		len = snprintf(out, size, "%s%s%s/%s", i == 2 ? root : "", dir, i == 1 ? "/.debug" : "",
			       name);
		if (len > 0 && (size_t)len < size && strcmp(out, path) && file_crc_is(out, crc))
			return 0;
	}
	return -ENOENT;
}

int usym_debug_file(const char *path, const char *root, char *out, size_t size)
{
	struct elf_file f;
	char why[PATH_MAX + 64];
	int err;

	if ((err = elf_open(path, &f, why, sizeof(why))))
		return err;
	err = debug_file(f.elf, path, root, out, size);
	elf_close(&f);
	return err;
}

/*
 * A stripped binary's functions from its debug file (.symtab there),
 * placed by the binary's own segments.
 */
static int scan_debug_file(Elf *elf, const struct usym_target *t, const char *path,
			   struct usym_site **sites, size_t *n, char *why, size_t size)
{
	char dbg[PATH_MAX];
	struct elf_file f;
	Elf_Scn *scn;
	int err;

	if (debug_file(elf, path, USYM_DEBUG_ROOT, dbg, sizeof(dbg)) ||
	    elf_open(dbg, &f, why, size))
		return 0;
	scn = section_of_type(f.elf, SHT_SYMTAB);
	err = scn ? scan_symbols(f.elf, scn, elf, t, dbg, sites, n, why, size) : 0;
	elf_close(&f);
	return err;
}

int usym_resolve(const struct usym_target *t, const char *path, struct usym_site **sites,
		 size_t *n, char *why, size_t size)
{
	static const Elf64_Word tables[] = { SHT_DYNSYM, SHT_SYMTAB };
	struct elf_file f;
	int err;

	*sites = NULL;
	*n = 0;
	if ((err = elf_open(path, &f, why, size)))
		return err;
	if (t->kind == USYM_UPROBE && t->raw) {
		err = add_site(sites, n, t->offset);
	} else if (t->kind == USYM_USDT) {
		err = scan_usdt(f.elf, t, sites, n);
		if (!err && !*n)
			snprintf(why, size, "USDT probe %s:%s not found in %s (.note.stapsdt)",
				 t->func, t->name, path);
	} else {
		for (size_t i = 0; i < 2 && !err && !*n; i++) {
			Elf_Scn *scn = section_of_type(f.elf, tables[i]);

			if (scn)
				err = scan_symbols(f.elf, scn, NULL, t, path, sites, n, why, size);
		}
		if (!err && !*n && !section_of_type(f.elf, SHT_SYMTAB))
			err = scan_debug_file(f.elf, t, path, sites, n, why, size);
		if (!err && !*n)
			snprintf(why, size, "%s '%s' not found in %s (.dynsym, .symtab%s)",
				 t->kind == USYM_MULTI ? "no function matching" : "function", t->func,
				 path, section_of_type(f.elf, SHT_SYMTAB) ? "" :
				 ": it is stripped, and no debug file of it was found by build id or "
				 ".gnu_debuglink");
		for (size_t i = 0; i < *n; i++)
			(*sites)[i].file_off += t->offset;
	}
	elf_close(&f);
	if (!err && !*n)
		err = -ENOENT;
	if (err) {
		free(*sites);
		*sites = NULL;
		*n = 0;
	}
	return err;
}

/* Where register name (64, 32, 16 or 8 bits of it) is in struct pt_regs: -1 if none. */
static int pt_regs_off(const char *name)
{
	static const struct { const char *names[4]; int off; } regs[] = {
		{ { "rip", "eip", "", "" }, 128 }, { { "rax", "eax", "ax", "al" }, 80 },
		{ { "rbx", "ebx", "bx", "bl" }, 40 }, { { "rcx", "ecx", "cx", "cl" }, 88 },
		{ { "rdx", "edx", "dx", "dl" }, 96 }, { { "rsi", "esi", "si", "sil" }, 104 },
		{ { "rdi", "edi", "di", "dil" }, 112 }, { { "rbp", "ebp", "bp", "bpl" }, 32 },
		{ { "rsp", "esp", "sp", "spl" }, 152 }, { { "r8", "r8d", "r8w", "r8b" }, 72 },
		{ { "r9", "r9d", "r9w", "r9b" }, 64 }, { { "r10", "r10d", "r10w", "r10b" }, 56 },
		{ { "r11", "r11d", "r11w", "r11b" }, 48 }, { { "r12", "r12d", "r12w", "r12b" }, 24 },
		{ { "r13", "r13d", "r13w", "r13b" }, 16 }, { { "r14", "r14d", "r14w", "r14b" }, 8 },
		{ { "r15", "r15d", "r15w", "r15b" }, 0 },
	};

	for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
		for (int k = 0; k < 4; k++)
			if (regs[i].names[k][0] && !strcmp(name, regs[i].names[k]))
				return regs[i].off;
	return -1;
}

/* One argument "SIZE@LOCATION" into its 16 bytes of the spec: 0 or -EINVAL. */
static int usdt_arg(const char *arg, uint8_t *out)
{
	char reg[16], *end;
	long long off = 0;
	long sz = strtol(arg, &end, 10);   /* not %d: it takes 444...4 as a size of -1 */
	uint32_t type;
	int size, n = 0, roff = 0;

	if (end == arg || *end != '@' || !sz || sz > 8 || sz < -8)
		return -EINVAL;
	size = (int)sz;
	arg = end + 1;
	/* n is set only when a form matches to its end: reset before each try */
	if ((n = 0, sscanf(arg, "$%lld%n", &off, &n) == 1) && n && !arg[n]) {
		type = 0;
	} else if ((n = 0, sscanf(arg, "%%%15[a-z0-9]%n", reg, &n) == 1) && n && !arg[n]) {
		type = 1;
		roff = pt_regs_off(reg);
	} else if (((n = 0, sscanf(arg, "%lld(%%%15[a-z0-9])%n", &off, reg, &n) == 2) ||
		    (off = 0, n = 0, sscanf(arg, "(%%%15[a-z0-9])%n", reg, &n) == 1)) && n && !arg[n]) {
		type = 2;
		roff = pt_regs_off(reg);
	} else {
		return -EINVAL;
	}
	if (roff < 0)
		return -EINVAL;
	memcpy(out, &off, 8);
	memcpy(out + 8, &type, 4);
	out[12] = (uint8_t)roff;
	out[13] = (uint8_t)(roff >> 8);
	out[14] = size < 0;
	out[15] = (uint8_t)(64 - 8 * (size < 0 ? -size : size));
	return 0;
}

int usym_usdt_spec(const char *args, uint64_t usdt_cookie, uint8_t *spec, char *why, size_t size)
{
	char buf[256], *save = NULL, *a;
	int16_t cnt = 0;

	memset(spec, 0, USYM_USDT_SPEC_SIZE);
	snprintf(buf, sizeof(buf), "%s", args);
	for (a = strtok_r(buf, " ", &save); a; a = strtok_r(NULL, " ", &save)) {
		if (cnt == USYM_USDT_MAX_ARGS) {
			snprintf(why, size, "USDT arguments '%s': more than %d", args, USYM_USDT_MAX_ARGS);
			return -EINVAL;
		}
		if (usdt_arg(a, spec + 16 * cnt)) {
			snprintf(why, size, "USDT argument '%s' of '%s': not SIZE@%%reg, SIZE@OFF(%%reg) "
				 "or SIZE@$CONST", a, args);
			return -EINVAL;
		}
		cnt++;
	}
	memcpy(spec + 192, &usdt_cookie, 8);
	memcpy(spec + 200, &cnt, 2);
	return 0;
}

struct map_list {
	struct usym_map *v;
	size_t n, cap;
};

/* Keep m if a file backs it. */
static int add_file_map(void *ctx, const struct util_mapping *m)
{
	struct map_list *l = ctx;
	struct usym_map *u;

	if (!m->ino || m->path[0] != '/')
		return 0;
	if (l->n == l->cap) {
		struct usym_map *g = realloc(l->v, (l->cap = l->cap ? 2 * l->cap : 32) * sizeof(*g));

		if (!g)
			return -ENOMEM;
		l->v = g;
	}
	u = &l->v[l->n++];
	memset(u, 0, sizeof(*u));
	u->start = m->start;
	u->end = m->end;
	u->file_off = m->offset;
	u->exec = m->perms[2] == 'x';
	u->write = m->perms[1] == 'w';
	u->dev = makedev(m->dev_major, m->dev_minor);
	u->ino = (ino_t)m->ino;
	snprintf(u->path, sizeof(u->path), "%s", m->path);
	return 0;
}

int usym_maps(pid_t pid, struct usym_map **maps, size_t *n)
{
	struct map_list l = { 0 };
	int err = util_proc_maps((int32_t)pid, add_file_map, &l);

	if (err) {
		free(l.v);
		return err;
	}
	*maps = l.v;
	*n = l.n;
	return 0;
}

/* Is the library file at path what name names ("libc.so.6", "libc", "libc.so")? */
static bool library_named(const char *path, const char *name)
{
	const char *base = strrchr(path, '/');
	size_t len = strlen(name);

	base = base ? base + 1 : path;
	return !strncmp(base, name, len) && (!base[len] || base[len] == '.' || base[len] == '-');
}

int usym_binary(const struct usym_target *t, const struct usym_map *maps, size_t n, char *full,
		size_t size)
{
	if (!usym_by_name(t)) {
		char *real = realpath(t->binary, NULL);

		snprintf(full, size, "%s", real ? real : t->binary);
		free(real);
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		if (maps[i].exec && library_named(maps[i].path, t->binary)) {
			snprintf(full, size, "%s", maps[i].path);
			return 0;
		}
	return -ENOENT;
}

uint64_t usym_addr(const struct usym_map *maps, size_t n, const char *path, uint64_t file_off,
		   bool want_exec)
{
	struct stat st;

	if (stat(path, &st))
		return 0;
	for (size_t i = 0; i < n; i++) {
		const struct usym_map *m = &maps[i];

		/* overlayfs: maps may give the lower file's device; the path is the same */
		if ((strcmp(m->path, path) && (m->ino != st.st_ino || m->dev != st.st_dev)) ||
		    (want_exec && !m->exec))
			continue;
		if (file_off >= m->file_off && file_off - m->file_off < m->end - m->start)
			return m->start + (file_off - m->file_off);
	}
	return 0;
}
