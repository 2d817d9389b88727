/*
 * usym.h - where a uprobe or USDT probe lands (usym.c): libbpf's SEC()
 * names parsed, the binary found (a path, or a library as the target
 * process has it loaded), its ELF symbols and .note.stapsdt notes read,
 * and file offsets turned into addresses through /proc/PID/maps.  It
 * knows nothing of how a breakpoint is placed: the ptrace supervisor
 * (ubp.c) and an in-process agent resolve through the same code.
 */
#ifndef BPFVM_EVENTS_USYM_H
#define BPFVM_EVENTS_USYM_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

enum usym_kind {
	USYM_UPROBE,   /* uprobe/PATH:FUNC[+OFF], uprobe/PATH:0xOFF (a file offset) */
	USYM_MULTI,    /* uprobe.multi/PATH:GLOB */
	USYM_USDT,     /* usdt/PATH:PROVIDER:NAME */
};

struct usym_target {
	enum usym_kind kind;
	bool ret;                 /* uretprobe */
	char binary[PATH_MAX];    /* as named: a path, or a name without '/' */
	char func[256];           /* the function, the glob, or the USDT provider */
	char name[128];           /* the USDT probe's name */
	uint64_t offset;          /* +OFF after the function, or the raw file offset */
	bool raw;                 /* no function: offset is a file offset */
};

/*
 * Parse a uprobe / uretprobe / uprobe.multi / usdt section name (with its
 * optional ".s"): 0, or -EINVAL with why (size bytes) naming what is wrong.
 */
int usym_parse(const char *sec, struct usym_target *t, char *why, size_t size);

/* Does the target name a library found through the loaded ones (no '/' in it)? */
static inline bool usym_by_name(const struct usym_target *t)
{
	return !strchr(t->binary, '/');
}

/* One place a target resolves to, in one file. */
struct usym_site {
	uint64_t file_off;        /* of the probed instruction */
	uint64_t func_off;        /* of the function it is in (uretprobes: func_ip) */
	uint64_t func_size;       /* ...its symbol's size, 0: unknown (USDT, raw offsets) */
	uint64_t sema_off;        /* USDT: the semaphore's file offset, 0: none */
	uint64_t sema_vaddr;      /* ...and its link-time address (it lives in .data) */
	char args[256];           /* USDT: the note's argument string ("-4@%eax 8@-8(%rbp)") */
};

/*
 * The sites of t in ELF file path (already resolved): *sites (malloc'd,
 * *n of them).  0, or a negative errno with why saying what is missing
 * and where ("'nosuch' not found in /bin/bash (.symtab, .dynsym)").
 */
int usym_resolve(const struct usym_target *t, const char *path, struct usym_site **sites,
		 size_t *n, char *why, size_t size);

/*
 * The separate debug file of ELF binary path (a stripped binary's symbols,
 * as Debian's -dbgsym packages install them under root, /usr/lib/debug):
 * by build id under root/.build-id/, else by its .gnu_debuglink beside
 * it, in .debug/ beside it, or under root.  0 with its path in out, or
 * -ENOENT.  usym_resolve looks there when a stripped binary lacks a function.
 */
int usym_debug_file(const char *path, const char *root, char *out, size_t size);

/*
 * libbpf's struct __bpf_usdt_spec (usdt.bpf.h), as BPF_USDT() programs
 * read it from the map __bpf_usdt_specs: 12 argument specs of 16 bytes
 * (val_off u64, arg_type u32: 0 constant, 1 register, 2 memory at
 * register + val_off; reg_off s16 into struct pt_regs, arg_signed u8,
 * arg_bitshift u8), then usdt_cookie u64 at 192, arg_cnt s16 at 200.
 */
#define USYM_USDT_SPEC_SIZE 208
#define USYM_USDT_MAX_ARGS 12

/*
 * Encode a .note.stapsdt argument string ("-4@%eax 8@-8(%rbp) 4@$5") as
 * that spec into spec (USYM_USDT_SPEC_SIZE bytes): 0, or -EINVAL with why.
 */
int usym_usdt_spec(const char *args, uint64_t usdt_cookie, uint8_t *spec, char *why, size_t size);

/* One mapping of /proc/PID/maps backed by a file. */
struct usym_map {
	uint64_t start, end, file_off;
	bool exec, write;
	dev_t dev;
	ino_t ino;
	char path[PATH_MAX];
};

/* The file mappings of pid: 0 with *maps (malloc'd) and *n, or a negative errno. */
int usym_maps(pid_t pid, struct usym_map **maps, size_t *n);

/*
 * Which loaded file t's binary is: a path is itself (made absolute
 * through pid's root), a name ("libc.so.6", "libc") is the loaded
 * library whose file name starts with it.  0 with full (size bytes), or
 * -ENOENT when no mapping of pid has it (it may come with a dlopen).
 */
int usym_binary(const struct usym_target *t, const struct usym_map *maps, size_t n, char *full,
		size_t size);

/*
 * The address in the process of file offset file_off of file path (a
 * mapping of maps with its device and inode): 0 where it is not mapped.
 * want_exec: only in an executable mapping (code), else any (data).
 */
uint64_t usym_addr(const struct usym_map *maps, size_t n, const char *path, uint64_t file_off,
		   bool want_exec);

#endif
