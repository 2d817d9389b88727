/*
 * bpfvm/object.h - BPF objects: the relocatable ELF files clang writes for
 * `-target bpf` (with or without -g), opened and loaded as libbpf does.
 *
 *   struct bpfvm_object *obj = bpfvm_object__open_file("prog.bpf.o", &opts);
 *   bpfvm_object__set_global(obj, "target_port", &port, sizeof(port));
 *   bpfvm_object__load(obj);          -- maps created, programs relocated
 *   struct bpfvm_obj_prog *p = bpfvm_object__find_program_by_name(obj, "xdp_main");
 *   bpfvm_prog__test_run(bpfvm_obj_prog__prog(p), &run_opts);   (bpfvm/hooks.h)
 *   bpfvm_object__destroy(obj);
 *
 * Opening reads everything the file says: programs (every function of an
 * executable section; .text functions are sub-programs, appended to each
 * program that calls them; a section without FUNC symbols is cut at its
 * global labels, or is one program named after it), their types from the
 * section names (libbpf's SEC() conventions, then the older loaders':
 * "socket1", "xdp_drop", iproute2's "classifier", "action" and its
 * tail-call sections "ID/SLOT"), maps (BTF-defined in .maps; in "maps",
 * libbpf's struct bpf_map_def or iproute2's struct bpf_elf_map),
 * global data (.data, .rodata, .bss and their .* variants, as one-entry
 * array maps), externs (.kconfig), the license and version sections, BTF
 * and .BTF.ext (function and line info, CO-RE relocations).  Loading
 * creates the maps in the object's instance, resolves CO-RE relocations
 * against the target BTF (/sys/kernel/btf/vmlinux unless the options name
 * another file) and creates each program with bpfvm_prog__new().
 *
 * Errors name the section, symbol or field at fault; like the rest of the
 * API, functions return NULL + errno or a negative errno, and messages go
 * to the log given in the open options.
 */
#ifndef BPFVM_OBJECT_H
#define BPFVM_OBJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bpfvm/bpfvm.h>
#include <bpfvm/maps.h>

#ifdef __cplusplus
extern "C" {
#endif

struct bpfvm_object;
/*
 * There are two kinds of program, one inside the other.  A struct
 * bpfvm_obj_prog is a program of an object, as the ELF file describes it
 * (libbpf's struct bpf_program): its name, section, type, autoload,
 * instructions with sub-programs linked, source lines.  Loading the object
 * creates from it a struct bpfvm_prog (bpfvm/bpfvm.h), the bytecode that
 * bpfvm_prog__verify, __run, __test_run and __jit take; get it with
 * bpfvm_obj_prog__prog().  A bpfvm_prog can also be made without any
 * object, by bpfvm_prog__new.
 */
struct bpfvm_obj_prog;

struct bpfvm_object_open_opts {
	size_t sz;
	/*
	 * The object's name, for messages and the names of its global data
	 * maps ("name.rodata").  Default: the file's base name up to its first
	 * '.', as libbpf names it; for open_mem, "obj".
	 */
	const char *object_name;
	/* Target BTF for CO-RE relocations; default /sys/kernel/btf/vmlinux. */
	const char *btf_custom_path;
	/* Where messages go, from open to destroy: it must outlive the object. */
	struct bpfvm_log *log;
	/*
	 * The instance the maps and programs are created in at load.  NULL:
	 * the object makes one of its own, freed with it (bpfvm_object__vm).
	 * With an instance given, destroy the object before the instance.
	 */
	struct bpfvm *vm;
	uint32_t prog_flags;     /* enum bpfvm_prog_flags, for every program */
	/* Extra "CONFIG_X=y" lines for .kconfig externs, taking precedence. */
	const char *kconfig;
	/*
	 * Load for verification what only the kernel can run: maps of types
	 * bpfvm does not provide become descriptors (bpfvm_map_opts.
	 * kernel_only), and each kernel helper bpfvm lacks gets, in the
	 * instance, a stand-in that stops a run reaching it.  Such programs
	 * verify as in the kernel; bpfvm_obj_prog__kernel_only says what they
	 * need and why they cannot run.  Default: such an object fails to
	 * load, naming the map type or helper.
	 */
	bool kernel_only;
	/*
	 * Load what can be loaded: a program that cannot be created (a
	 * kfunc, a kernel-only helper without stand-in, a map it uses that
	 * could not be created, a type no section name or set_type gave) or
	 * a map that cannot be created is left out instead of failing the
	 * load, with the reason in bpfvm_obj_prog__left_out and
	 * bpfvm_object__map_left_out.  Default: the whole load fails, as
	 * libbpf's does.
	 */
	bool partial_load;
	/*
	 * Take the instance's own map where it has one of a map's name (the
	 * same type and sizes, else the load fails naming it), as libbpf's
	 * bpf_map__reuse_fd: an instance that joined another process's maps
	 * (bpfvm_opts.shared_maps_addr) loads that process's object onto
	 * them.  A taken map keeps its values; .rodata is frozen here too.
	 */
	bool reuse_maps;
};

/* Returns the object, or NULL with errno (EINVAL for malformed input) and a message in opts->log. */
BPFVM_API struct bpfvm_object *bpfvm_object__open_file(const char *path,
						     const struct bpfvm_object_open_opts *opts);
/* The same from memory (copied). */
BPFVM_API struct bpfvm_object *bpfvm_object__open_mem(const void *buf, size_t size,
						    const struct bpfvm_object_open_opts *opts);
/* ---- objects inside programs ----------------------------------------------- */

/*
 * A BPF object found inside another file: a libbpf skeleton's program
 * (Debian's opensnoop, ...) carries its object as a byte array.
 */
struct bpfvm_embedded_object {
	size_t offset;    /* where its ELF header starts in the file */
	size_t size;      /* how far its section headers and sections reach */
	bool truncated;   /* they reach past the end of the file */
};

/*
 * The BPF objects embedded in buf[0..size), in file order: ELF headers of
 * 64-bit little-endian BPF relocatable objects at any offset.  Writes the
 * first max into objs and returns how many there are (0 for NULL).
 */
BPFVM_API size_t bpfvm_embedded_objects(const void *buf, size_t size,
					struct bpfvm_embedded_object *objs, size_t max);
/*
 * Which embedded object of buf[0..size) index names (from 0, in file
 * order; -1: the only one): 0 with its *offset and *len, or a negative
 * errno with a message in log naming what (the file): -ENOENT (none;
 * "FILE is an x86-64 ELF binary with no embedded BPF object"), -ENOTUNIQ
 * (index -1 and several), -ERANGE (no such index), both listing the
 * objects (size, offset, program names), -EINVAL (that object is
 * truncated).  A BPF object file, or anything that is not an ELF file,
 * is its own object 0: *offset 0, *len size.
 */
struct bpfvm_embedded_select_opts {
	size_t sz;
	struct bpfvm_log *log;  /* why no object was selected */
};
BPFVM_API int bpfvm_embedded_object__select(const void *buf, size_t size, const char *what,
					    int index, const struct bpfvm_embedded_select_opts *opts,
					    size_t *offset, size_t *len);
/*
 * Open a BPF object file, or the object a program embeds (see
 * bpfvm_embedded_object__select for index and errors).  bpfvm_object__open_file(path, opts) is
 * open_embedded(path, -1, opts).  NULL with errno (ENOTUNIQ, ERANGE,
 * ENOENT as above) and the message in opts->log.
 */
BPFVM_API struct bpfvm_object *bpfvm_object__open_embedded(const char *path, int index,
							 const struct bpfvm_object_open_opts *opts);

/*
 * Create the maps and the programs (those whose autoload is on).  Returns
 * 0, or a negative errno with the reason in the open options' log: the
 * map the kernel would refuse, the CO-RE relocation the target lacks, the
 * kernel function or symbol user space cannot provide.  Loading twice
 * returns -EBUSY.
 */
BPFVM_API int bpfvm_object__load(struct bpfvm_object *obj);
/* Frees the object, its programs and its maps.  NULL is allowed. */
BPFVM_API void bpfvm_object__destroy(struct bpfvm_object *obj);

BPFVM_API const char *bpfvm_object__name(const struct bpfvm_object *obj);
/* The "license" section's text ("" without one). */
BPFVM_API const char *bpfvm_object__license(const struct bpfvm_object *obj);
/* The "version" section's value (0 without one). */
BPFVM_API uint32_t bpfvm_object__kversion(const struct bpfvm_object *obj);
BPFVM_API struct bpfvm *bpfvm_object__vm(const struct bpfvm_object *obj);
/* The object's types (its .BTF section, see bpfvm/btf.h); NULL without. */
struct bpfvm_btf;
BPFVM_API const struct bpfvm_btf *bpfvm_object__btf(const struct bpfvm_object *obj);

/* ---- programs ----------------------------------------------------------- */

/* The program after prev (the first when prev is NULL), or NULL. */
BPFVM_API struct bpfvm_obj_prog *bpfvm_object__next_program(const struct bpfvm_object *obj,
							 const struct bpfvm_obj_prog *prev);
#define bpfvm_object__for_each_program(pos, obj)                       \
	for ((pos) = bpfvm_object__next_program((obj), NULL); (pos);   \
	     (pos) = bpfvm_object__next_program((obj), (pos)))
/* NULL with errno = ENOENT when there is none. */
BPFVM_API struct bpfvm_obj_prog *bpfvm_object__find_program_by_name(const struct bpfvm_object *obj,
								  const char *name);

BPFVM_API const char *bpfvm_obj_prog__name(const struct bpfvm_obj_prog *prog);
BPFVM_API const char *bpfvm_obj_prog__section_name(const struct bpfvm_obj_prog *prog);
/* BPF_PROG_TYPE_* (0, unspec, for a section name no convention covers). */
BPFVM_API uint32_t bpfvm_obj_prog__type(const struct bpfvm_obj_prog *prog);
BPFVM_API uint32_t bpfvm_obj_prog__expected_attach_type(const struct bpfvm_obj_prog *prog);
/* What the section name says to attach to ("sched/sched_process_fork"), or "". */
BPFVM_API const char *bpfvm_obj_prog__attach_target(const struct bpfvm_obj_prog *prog);
/* Override the type the section name gave, before load. */
BPFVM_API int bpfvm_obj_prog__set_type(struct bpfvm_obj_prog *prog, uint32_t type);
/*
 * Whether load creates this program, before load: libbpf's autoload,
 * true unless its section name starts with '?' (SEC("?xdp")).
 */
BPFVM_API int bpfvm_obj_prog__set_autoload(struct bpfvm_obj_prog *prog, bool autoload);
BPFVM_API bool bpfvm_obj_prog__autoload(const struct bpfvm_obj_prog *prog);
/* Is it sleepable, as libbpf loads it (BPF_F_SLEEPABLE: "lsm.s/", "syscall", ...)? */
BPFVM_API bool bpfvm_obj_prog__sleepable(const struct bpfvm_obj_prog *prog);
/*
 * Load only what program prog needs: prog, the programs it can reach by
 * tail calls through the program arrays the object fills (.values of a
 * BTF-defined map, iproute2's "ID/SLOT" sections), and the maps these use
 * or hold; every other program's autoload and map's autocreate are
 * turned off.  Before load; 0 or a negative errno.
 */
BPFVM_API int bpfvm_object__load_only(struct bpfvm_object *obj, struct bpfvm_obj_prog *prog);
/* After a partial load (open option partial_load): why prog was left out, or NULL. */
BPFVM_API const char *bpfvm_obj_prog__left_out(const struct bpfvm_obj_prog *prog);
/*
 * The program's instructions with its sub-programs appended and calls
 * linked; map references hold the map's index in the object (lddw src 1,
 * or src 2 with the offset in the second slot).  After load they also
 * carry the CO-RE relocations.
 */
BPFVM_API const struct bpfvm_insn *bpfvm_obj_prog__insns(const struct bpfvm_obj_prog *prog);
BPFVM_API size_t bpfvm_obj_prog__insn_cnt(const struct bpfvm_obj_prog *prog);
/* The loaded program, NULL before load or when autoload is off. */
BPFVM_API struct bpfvm_prog *bpfvm_obj_prog__prog(const struct bpfvm_obj_prog *prog);
/*
 * The source line instruction insn came from, from BTF line info: 0 with
 * the file, line, column and the line's text (any pointer may be NULL), or
 * -ENOENT without line info.
 */
BPFVM_API int bpfvm_obj_prog__source_line(const struct bpfvm_obj_prog *prog, size_t insn,
					 const char **file, uint32_t *line, uint32_t *col,
					 const char **text);
/*
 * Does the function that starts at instruction insn of the loaded program
 * return an int or an enum, by the BTF FUNC of its name: 1, 0 for another
 * type (void, a pointer, a struct), -ENOENT without BTF for it.
 */
BPFVM_API int bpfvm_obj_prog__func_returns_scalar(const struct bpfvm_obj_prog *prog, size_t insn);

/* ---- maps ---------------------------------------------------------------- */

/* A map as the object defines it: known from open on. */
struct bpfvm_map_desc {
	const char *name;         /* "counts"; global data: "obj.rodata" as libbpf names it */
	const char *section;      /* ".maps", "maps", ".rodata", ".kconfig", ... */
	uint32_t type;            /* BPF_MAP_TYPE_* */
	uint32_t key_size;
	uint32_t value_size;
	uint32_t max_entries;
	uint32_t map_flags;
	uint64_t map_extra;
	uint32_t numa_node;
	uint32_t pinning;         /* LIBBPF_PIN_*: accepted, and ignored */
	uint32_t btf_key_type_id;
	uint32_t btf_value_type_id;
	/* map-in-map: the inner map's definition; NULL otherwise */
	const struct bpfvm_map_desc *inner;
	bool global_data;         /* .data/.rodata/.bss/.kconfig */
	uint32_t id;              /* iproute2's struct bpf_elf_map id (0 for other maps) */
};

BPFVM_API size_t bpfvm_object__map_cnt(const struct bpfvm_object *obj);
/* Map i's definition, NULL past the end. */
BPFVM_API const struct bpfvm_map_desc *bpfvm_object__map_desc(const struct bpfvm_object *obj,
							    size_t i);
/* Map i as created by load; NULL before. */
BPFVM_API struct bpfvm_map *bpfvm_object__map(const struct bpfvm_object *obj, size_t i);
/* Created maps in order: the one after prev (the first for NULL), or NULL. */
BPFVM_API struct bpfvm_map *bpfvm_object__next_map(const struct bpfvm_object *obj,
						 const struct bpfvm_map *prev);
#define bpfvm_object__for_each_map(pos, obj)                       \
	for ((pos) = bpfvm_object__next_map((obj), NULL); (pos);   \
	     (pos) = bpfvm_object__next_map((obj), (pos)))
/* After load; NULL with errno = ENOENT when there is none. */
BPFVM_API struct bpfvm_map *bpfvm_object__find_map_by_name(const struct bpfvm_object *obj,
							  const char *name);
/* Whether load creates map i (libbpf's autocreate, default true); before load. */
BPFVM_API int bpfvm_object__set_autocreate(struct bpfvm_object *obj, size_t i, bool autocreate);
BPFVM_API bool bpfvm_object__autocreate(const struct bpfvm_object *obj, size_t i);
/* After a partial load: why map i was not created though asked for, or NULL. */
BPFVM_API const char *bpfvm_object__map_left_out(const struct bpfvm_object *obj, size_t i);
/* Change a map's size before load (ring buffers are sized this way). */
BPFVM_API int bpfvm_object__set_max_entries(struct bpfvm_object *obj, const char *map_name,
					    uint32_t max_entries);

/* ---- what only the kernel can do ------------------------------------------- */

/*
 * After a load with kernel_only: why program p cannot run in bpfvm, into
 * buf ("calls bpf_get_stackid (kernel stacks); map 'stack_map' is
 * BPF_MAP_TYPE_STACK_TRACE: kernel-only"): the kernel-only helpers it
 * calls and the kernel-only maps it uses.  Returns how many such needs
 * there are (0: it can run; buf is then "").
 */
BPFVM_API int bpfvm_obj_prog__kernel_only(const struct bpfvm_obj_prog *p, char *buf, size_t size);
/*
 * The CO-RE relocation that failed at instruction insn of p, as load
 * left it (the poison call, unknown#511, in its place): "CO-RE
 * relocation byte_off failed: struct task_struct.se.cfs_rq (access
 * 0:55:1) not found in /sys/kernel/btf/vmlinux"; NULL if none there.
 */
BPFVM_API const char *bpfvm_obj_prog__core_failure(const struct bpfvm_obj_prog *p, size_t insn);

/* ---- global variables ----------------------------------------------------- */

/*
 * Set a global variable's initial value before load, as a skeleton's
 * `skel->rodata->name = value` does: name is the variable of .rodata,
 * .data, .bss (or one of their .* variants); size must be its size.
 * Returns 0, -ENOENT (no such variable), -EINVAL (size differs; the
 * message gives the variable's size), -EBUSY (already loaded).
 */
BPFVM_API int bpfvm_object__set_global(struct bpfvm_object *obj, const char *name,
				       const void *data, size_t size);
/* Read a global variable: its initial value before load, the map's after. */
BPFVM_API int bpfvm_object__get_global(const struct bpfvm_object *obj, const char *name,
				       void *data, size_t size);

/* ---- an ELF file's tables, for listing -------------------------------------- */

/*
 * What bpfvm's ELF reader (the one object open uses) finds in a 64-bit
 * little-endian EM_BPF file, for tools that list or extract code
 * (`bpfvm disasm`, the benchmark's extractor) rather than load it: every
 * section by ELF index, every symbol, and the relocations of executable
 * sections and .maps.  Unlike object open it takes any ELF type (not only
 * ET_REL) and a file without a symbol table, and reads no BTF.
 */
struct bpfvm_elf_reloc {
	uint64_t offset;          /* in its section, in bytes */
	uint32_t type;            /* R_BPF_* */
	uint32_t sym;             /* index into syms */
};

struct bpfvm_elf_section {
	const char *name;
	uint32_t type;            /* SHT_* */
	uint64_t flags;           /* SHF_* */
	uint64_t addr;            /* sh_addr: 0 in a relocatable object */
	const uint8_t *data;      /* NULL if none (SHT_NOBITS, empty) */
	size_t size;
	const struct bpfvm_elf_reloc *relocs;   /* sorted by offset */
	size_t nrelocs;
};

struct bpfvm_elf_symbol {
	const char *name;
	uint64_t value;           /* an offset in ET_REL, an address elsewhere */
	uint64_t size;
	uint32_t shndx;           /* its section's ELF index (extended indexes resolved) */
	uint8_t type;             /* STT_* */
	uint8_t bind;             /* STB_* */
};

struct bpfvm_elf {
	uint16_t type;            /* e_type: ET_REL, ET_EXEC, ... */
	const struct bpfvm_elf_section *secs;   /* [0] is the null section */
	size_t nsecs;
	const struct bpfvm_elf_symbol *syms;    /* [0] is the null symbol */
	size_t nsyms;
};

/*
 * Read buf[0..size) (copied: the caller's may go).  On error NULL, errno
 * set, and "name: why" in log.
 */
struct bpfvm_elf_read_opts {
	size_t sz;
	struct bpfvm_log *log;  /* "name: why" */
};
BPFVM_API struct bpfvm_elf *bpfvm_elf__read(const void *buf, size_t size, const char *name,
					    const struct bpfvm_elf_read_opts *opts);
BPFVM_API void bpfvm_elf__free(struct bpfvm_elf *elf);

/* ---- names ------------------------------------------------------------------ */

/* "xdp", "sched_cls", "kprobe", ... as bpftool prints them; "unknown" otherwise. */
BPFVM_API const char *bpfvm_prog_type_name(uint32_t prog_type);
/* "xdp", "cgroup_inet_ingress", ... as bpftool prints them; "unknown" otherwise. */
BPFVM_API const char *bpfvm_attach_type_name(uint32_t attach_type);
/* "hash", "array", "ringbuf", ... as bpftool prints them; "unknown" otherwise. */
BPFVM_API const char *bpfvm_map_type_name(uint32_t map_type);

#ifdef __cplusplus
}
#endif

#endif
