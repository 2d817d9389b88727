/*
 * obj.h - the loader's view of a BPF object, shared by the files of
 * src/elf/: the sections and symbols read from the ELF file, the
 * functions found in executable sections, the programs built from them,
 * the maps and externs the object defines.
 *
 * Opening fills all of it and closes the ELF file (everything needed is
 * copied); loading turns map definitions into maps and programs into
 * struct bpfvm_prog.
 */
#ifndef BPFVM_ELF_OBJ_H
#define BPFVM_ELF_OBJ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bpfvm/object.h>

#include "../btf/btf.h"
#include "sec_def.h"

enum osec_kind {
	OSEC_OTHER,
	OSEC_PROG,       /* executable: programs, or .text sub-programs */
	OSEC_DATA,       /* .data, .data.* */
	OSEC_RODATA,     /* .rodata, .rodata.* */
	OSEC_BSS,        /* .bss, .bss.* */
	OSEC_MAPS,       /* .maps: BTF-defined maps */
	OSEC_LEGACY_MAPS,/* maps: struct bpf_map_def */
	OSEC_KCONFIG,    /* the .kconfig externs' pseudo-section (no ELF section) */
};

struct osec {
	char *name;
	uint32_t idx;
	uint32_t type;           /* SHT_* */
	uint64_t flags;          /* SHF_* */
	uint64_t addr;           /* sh_addr: 0 in a relocatable object */
	uint8_t *data;           /* a copy; NULL for SHT_NOBITS */
	size_t size;
	enum osec_kind kind;
	int map;                 /* data sections: the map holding them, else -1 */
	/* executable sections: their relocations, sorted by instruction */
	struct orelo *relos;
	size_t nrelos;
};

struct osym {
	char *name;
	uint64_t value;
	uint64_t size;
	uint32_t shndx;
	uint8_t type;            /* STT_* */
	uint8_t bind;            /* STB_* */
};

struct orelo {
	uint32_t insn;           /* instruction index in its section */
	uint32_t type;           /* R_BPF_* */
	uint32_t sym;
};

/* A function in an executable section. */
struct ofunc {
	uint32_t sec;
	uint32_t start;          /* instruction index in the section */
	uint32_t cnt;
	const char *name;        /* the symbol's */
};

/* Where a function was copied to in a program. */
struct ochunk {
	uint32_t func;
	uint32_t dst;
};

struct oline {
	uint32_t insn;
	const char *file;
	const char *text;
	uint32_t line;
	uint32_t col;
};

/* A CO-RE relocation the target BTF could not satisfy: its instruction was poisoned. */
struct ocore_fail {
	uint32_t insn;
	char *why;
};

struct bpfvm_obj_prog {
	struct bpfvm_object *obj;
	char *name;
	char *sec_name;
	const struct sec_def *def;
	uint32_t type;
	uint32_t attach_type;
	uint32_t func;                 /* its own function */
	struct bpfvm_insn *insns;      /* linked: sub-programs appended */
	uint32_t cnt;
	struct ochunk *chunks;         /* [0] is the program's own function */
	uint32_t nchunks;
	struct oline *lines;           /* sorted by insn */
	uint32_t nlines;
	char *load_err;                /* why it cannot be loaded, found when linking */
	char *left_out;                /* a partial load left it out: why */
	struct ocore_fail *core_fails; /* the CO-RE relocations load poisoned */
	uint32_t ncore_fails;
	bool autoload;
	struct bpfvm_prog *prog;
};

enum omap_kind { OMAP_USER, OMAP_DATA, OMAP_RODATA, OMAP_BSS, OMAP_KCONFIG };

/* An initial slot of a map-in-map or program array (".values = { ... }"). */
struct oslot {
	uint32_t index;
	int map;                 /* or -1 */
	int prog;                /* or -1 */
};

struct omap {
	struct bpfvm_map_desc desc;
	char *name;
	char *section;
	enum omap_kind kind;
	int sec;                 /* the ELF section it comes from, -1 for .kconfig */
	uint64_t sec_off;        /* where its symbol or definition lies in it */
	uint8_t *init;           /* global data: the initial value (value_size bytes) */
	struct omap *inner;      /* map-in-map template; not created itself */
	int inner_map;           /* iproute2's map-in-map: the map it takes as template, or -1 */
	uint32_t elf_inner_id;   /* struct bpf_elf_map's inner_id and inner_idx */
	uint32_t elf_inner_idx;
	bool autocreate;         /* load creates it (default true) */
	bool reused;             /* the instance's map (reuse_maps): not initialized here */
	char *create_err;        /* a partial load left it out: why */
	struct oslot *slots;
	uint32_t nslots;
	struct bpfvm_map *map;
};

enum oext_kind { OEXT_KCONFIG, OEXT_KSYM };

struct oextern {
	char *name;
	enum oext_kind kind;
	uint32_t sym;            /* its symbol */
	uint32_t btf_type;       /* its BTF type (VAR or FUNC), 0 without BTF */
	uint32_t size;
	uint32_t offset;         /* kconfig: in the .kconfig map */
	bool weak;
	bool is_func;
};

struct bpfvm_object {
	char *name;
	struct bpfvm_log *log;
	struct bpfvm *vm;
	bool own_vm;
	bool loaded;
	char *btf_custom_path;
	char *kconfig;
	uint32_t prog_flags;
	bool kernel_only;        /* open option: kernel-only maps and helpers load */
	bool partial;            /* open option: what cannot load is left out */
	bool reuse_maps;         /* open option: the instance's maps of the same names */
	char license[128];
	uint32_t kversion;
	struct btf *btf;
	struct btf_ext *ext;
	uint16_t e_type;               /* ET_REL; only listing reads others */
	struct osec *secs;
	size_t nsecs;
	struct osym *syms;
	size_t nsyms;
	struct ofunc *funcs;
	size_t nfuncs;
	struct bpfvm_obj_prog *progs;
	size_t nprogs;
	struct omap *maps;
	size_t nmaps;
	struct oextern *externs;
	size_t nexterns;
	int kconfig_map;         /* -1 when no .kconfig extern */
};

/* Append to the object's log, prefixed with its name. */
__attribute__((format(printf, 2, 3))) void obj_err(struct bpfvm_object *obj, const char *fmt, ...);

/* elf_read.c: sections, symbols, relocations, license, version, BTF. */
int obj_read_elf(struct bpfvm_object *obj, const void *buf, size_t size);
/* What obj_read_elf_tables allocates: sections (names, data, relocations) and symbols. */
void obj_free_elf_tables(struct bpfvm_object *obj);
/* Only the header, sections, symbols and relocations; listing: any ELF type, no symtab needed. */
int obj_read_elf_tables(struct bpfvm_object *obj, const void *buf, size_t size, bool listing);
const struct osec *obj_sec(const struct bpfvm_object *obj, uint32_t idx);
int obj_sec_by_name(const struct bpfvm_object *obj, const char *name);

/* elf_maps.c: map definitions, global data, externs. */
int obj_collect_maps(struct bpfvm_object *obj);
int obj_collect_externs(struct bpfvm_object *obj);
/* The initial slots of map-in-maps and program arrays (after the programs). */
int obj_collect_map_slots(struct bpfvm_object *obj);
/* The map a symbol defines or whose data it lies in: its index, or -1. */
int obj_map_of_sym(const struct bpfvm_object *obj, const struct osym *sym);
void obj_free_map(struct omap *map);

/* elf_progs.c: functions, programs, linking and relocation. */
int obj_collect_progs(struct bpfvm_object *obj);
int obj_link_progs(struct bpfvm_object *obj);
/* The function starting at instruction insn of section sec: its index, or -1. */
int obj_func_at(const struct bpfvm_object *obj, uint32_t sec, uint32_t insn);

/* elf_core.c: CO-RE relocations of the loaded programs. */
int obj_core_relocate(struct bpfvm_object *obj);
/* Free what obj_core_relocate noted of p's poisoned relocations. */
void obj_core_forget_failures(struct bpfvm_obj_prog *p);

/* kconfig.c: the .kconfig map's contents. */
int obj_kconfig_fill(struct bpfvm_object *obj, uint8_t *data, size_t size);

#endif
