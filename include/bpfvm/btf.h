/*
 * bpfvm/btf.h - a BPF object's types (BTF), and values printed through
 * them as `bpftool map dump` prints map values:
 *
 *   const struct bpfvm_btf *btf = bpfvm_object__btf(obj);
 *   int id = bpfvm_btf__find_type(btf, "event");      -- or bpfvm_btf__record_type()
 *   bpfvm_btf__dump_data(btf, id, data, size, print, ctx, &opts);
 *
 * The text is bpftool's: structs and unions as objects of their members,
 * arrays as lists, char arrays holding a NUL-terminated printable string
 * as that string, enums by enumerator name (the number when none
 * matches), bitfields and 128-bit integers in hex, bools as true/false,
 * pointers as hex strings, a data section ({".data": [{"var": value},
 * ...]}) as its variables.  The plain layout is bpftool's too (one member
 * a line, four spaces a level); opts.json gives compact JSON with the
 * same values, where bpftool's plain text has bare hex (bitfields,
 * non-printable chars) JSON has strings.
 */
#ifndef BPFVM_BTF_H
#define BPFVM_BTF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bpfvm/bpfvm.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Types as an object's .BTF section holds them (see bpfvm_object__btf). */
struct bpfvm_btf;

/*
 * A BTF file read whole (a raw .BTF as /sys/kernel/btf/vmlinux is; NULL:
 * that one), for naming the kernel's types, as a program's attach_btf_id
 * does; NULL with errno.  Free with bpfvm_btf__free.
 */
BPFVM_API struct bpfvm_btf *bpfvm_btf__load_file(const char *path);
BPFVM_API void bpfvm_btf__free(struct bpfvm_btf *btf);
/* Type ids are 1..count-1 (0 is void). */
BPFVM_API uint32_t bpfvm_btf__type_cnt(const struct bpfvm_btf *btf);
/*
 * A named struct, union, enum or typedef: name is "event" or "struct
 * event" (the kind then must match).  Returns the id, or -ENOENT.
 */
BPFVM_API int bpfvm_btf__find_type(const struct bpfvm_btf *btf, const char *name);
/* A type's size in bytes, or a negative errno (-EINVAL: it has none). */
BPFVM_API int64_t bpfvm_btf__type_size(const struct bpfvm_btf *btf, uint32_t id);
/* "struct event", "enum state", "u32", ... into buf (snprintf's return). */
BPFVM_API int bpfvm_btf__type_name(const struct bpfvm_btf *btf, uint32_t id, char *buf,
				   size_t size);
/*
 * The type to decode an untyped record of size bytes with (a ring buffer
 * or perf buffer record): the struct named "event" if it has that size,
 * else the only named struct or union of that size.  Returns its id;
 * -ENOENT when there is none, -ENOTUNIQ when several fit, with why (when
 * not NULL) saying so and naming them.
 */
BPFVM_API int bpfvm_btf__record_type(const struct bpfvm_btf *btf, size_t size, char *why,
				     size_t why_size);

/* Receives the text piece by piece (not NUL-terminated). */
typedef void (*bpfvm_btf_print_fn)(void *ctx, const char *text, size_t len);

struct bpfvm_btf_dump_opts {
	size_t sz;
	bool json;        /* compact JSON; default: bpftool's plain text */
	unsigned indent;  /* plain text: the level the value starts at (4 spaces each) */
};

/*
 * Print data[0..size) as type id.  Returns 0; -EINVAL for a type without
 * a size or a kind values do not have (func, fwd); -E2BIG when size is
 * smaller than the type (nothing printed); -ELOOP for types nested deeper
 * than 32 levels or a value of more than 2^20 values (malformed BTF: a
 * struct that holds itself).  On -EINVAL or -ELOOP part may be printed.  Bytes past the type's size are not printed.
 */
BPFVM_API int bpfvm_btf__dump_data(const struct bpfvm_btf *btf, uint32_t id, const void *data,
				   size_t size, bpfvm_btf_print_fn print, void *ctx,
				   const struct bpfvm_btf_dump_opts *opts);

/* One entry of a map, for bpfvm_btf__dump_map_entry. */
struct bpfvm_btf_map_entry {
	uint32_t key_type_id;      /* 0: the key is not printed (global data maps) */
	const void *key;
	size_t key_size;
	uint32_t value_type_id;
	const void *value;         /* per-CPU: ncpus values, each 8-byte aligned */
	size_t value_size;         /* of one value */
	unsigned ncpus;            /* 0: not a per-CPU map */
};

/*
 * A map entry as bpftool map dump prints one with BTF: {"key": K,
 * "value": V}, or for a per-CPU map {"key": K, "values": [{"cpu": 0,
 * "value": V}, ...]}; in the plain layout with opts.indent 1, as inside
 * bpftool's list.  Returns as bpfvm_btf__dump_data.
 */
BPFVM_API int bpfvm_btf__dump_map_entry(const struct bpfvm_btf *btf,
					const struct bpfvm_btf_map_entry *e,
					bpfvm_btf_print_fn print, void *ctx,
					const struct bpfvm_btf_dump_opts *opts);

#ifdef __cplusplus
}
#endif

#endif
