/*
 * btf.h - BPF Type Format: the type graph clang writes into .BTF and the
 * kernel exposes as /sys/kernel/btf/vmlinux, and the .BTF.ext records
 * (function info, line info, CO-RE relocations) that tie instructions to
 * it.  The layouts are the kernel's (<linux/btf.h>).
 *
 * A parsed struct btf is validated once: every record lies inside the
 * data, every type id it refers to exists, every name offset lies in the
 * string section.  Code above can then follow ids without bounds checks;
 * only cycles (a typedef chain that loops) need a depth limit, which the
 * resolving functions here apply.
 */
#ifndef BPFVM_BTF_BTF_H
#define BPFVM_BTF_BTF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/btf.h>

#include <bpfvm/bpfvm.h>

struct btf;

/*
 * Parse BTF from data (copied).  what names the data in messages (".BTF",
 * "/sys/kernel/btf/vmlinux").  Returns NULL with errno = EINVAL and the
 * reason in log for malformed data, ENOMEM when out of memory.
 */
struct btf *btf_parse(const void *data, size_t size, const char *what, struct bpfvm_log *log);
void btf_free(struct btf *btf);
/*
 * Read and parse the BTF file at path (/sys/kernel/btf/vmlinux).  NULL
 * with errno: that of fopen() when it cannot be opened (nothing logged),
 * EINVAL with the reason in log when it is empty or malformed, ENOMEM.
 */
struct btf *btf_load_file(const char *path, struct bpfvm_log *log);

/* Types are ids 1..btf_type_cnt()-1; id 0 is void. */
uint32_t btf_type_cnt(const struct btf *btf);
/* The type of an id, NULL for 0 (void) and ids out of range. */
const struct btf_type *btf_type(const struct btf *btf, uint32_t id);
/* A string of the string section; "" for an offset out of range. */
const char *btf_str(const struct btf *btf, uint32_t off);
static inline unsigned btf_kind(const struct btf_type *t) { return BTF_INFO_KIND(t->info); }
static inline unsigned btf_vlen(const struct btf_type *t) { return BTF_INFO_VLEN(t->info); }
static inline bool btf_kflag(const struct btf_type *t) { return BTF_INFO_KFLAG(t->info); }
const char *btf_name(const struct btf *btf, const struct btf_type *t);
/*
 * Fill in a DATASEC as libbpf does before loading: clang leaves its size
 * and its variables' offsets for the loader (size 0, offsets 0).  size is
 * the section's; offsets[i] variable i's (its symbol's value).  The
 * variables end up in offset order.  Returns 0, or -EINVAL if id is not a
 * DATASEC.
 */
int btf_fix_datasec(struct btf *btf, uint32_t id, uint32_t size, const uint32_t *offsets);
/* The raw bytes, as parsed (for handing BTF on). */
const void *btf_raw(const struct btf *btf, size_t *size);

/* The records after a type header, by kind. */
static inline const struct btf_member *btf_members(const struct btf_type *t)
{
	return (const struct btf_member *)(t + 1);
}
static inline const struct btf_array *btf_array(const struct btf_type *t)
{
	return (const struct btf_array *)(t + 1);
}
static inline const struct btf_enum *btf_enums(const struct btf_type *t)
{
	return (const struct btf_enum *)(t + 1);
}
static inline const struct btf_enum64 *btf_enums64(const struct btf_type *t)
{
	return (const struct btf_enum64 *)(t + 1);
}
static inline const struct btf_param *btf_params(const struct btf_type *t)
{
	return (const struct btf_param *)(t + 1);
}
static inline const struct btf_var_secinfo *btf_secinfos(const struct btf_type *t)
{
	return (const struct btf_var_secinfo *)(t + 1);
}
static inline const struct btf_var *btf_var(const struct btf_type *t)
{
	return (const struct btf_var *)(t + 1);
}
/* BTF_INT_SIGNED, BTF_INT_CHAR, BTF_INT_BOOL bits of an INT. */
static inline uint32_t btf_int_encoding(const struct btf_type *t)
{
	return BTF_INT_ENCODING(*(const uint32_t *)(t + 1));
}
static inline uint32_t btf_member_bit_offset(const struct btf_type *t, const struct btf_member *m)
{
	return btf_kflag(t) ? BTF_MEMBER_BIT_OFFSET(m->offset) : m->offset;
}
static inline uint32_t btf_member_bitfield_size(const struct btf_type *t,
						const struct btf_member *m)
{
	return btf_kflag(t) ? BTF_MEMBER_BITFIELD_SIZE(m->offset) : 0;
}

/* Follow typedef, const, volatile, restrict and type tags; the id reached. */
uint32_t btf_skip_mods(const struct btf *btf, uint32_t id);

/* The size in bytes of a type, or a negative errno (-EINVAL: it has none). */
int64_t btf_type_size(const struct btf *btf, uint32_t id);
/* The alignment the C compiler gives a type (for .kconfig layouts). */
int64_t btf_type_align(const struct btf *btf, uint32_t id);

/* The length of name without a CO-RE flavour suffix ("___old"). */
size_t btf_essential_len(const char *name);
/*
 * The types whose essential name is name[0..len): their count, and in
 * *ids a pointer to their ids (sorted, owned by btf).
 */
uint32_t btf_find_by_ess_name(const struct btf *btf, const char *name, size_t len,
			      const uint32_t **ids);

/* The first type of a kind with a name: its id, or 0. */
uint32_t btf_find(const struct btf *btf, const char *name, unsigned kind);

/* The name of a kind, "struct", "typedef", ... for messages. */
const char *btf_kind_name(unsigned kind);

/* ---- .BTF.ext ---------------------------------------------------------- */

/* The kernel's bpf_core_relo_kind values. */
enum btf_core_kind {
	BTF_CORE_FIELD_BYTE_OFFSET = 0,
	BTF_CORE_FIELD_BYTE_SIZE = 1,
	BTF_CORE_FIELD_EXISTS = 2,
	BTF_CORE_FIELD_SIGNED = 3,
	BTF_CORE_FIELD_LSHIFT_U64 = 4,
	BTF_CORE_FIELD_RSHIFT_U64 = 5,
	BTF_CORE_TYPE_ID_LOCAL = 6,
	BTF_CORE_TYPE_ID_TARGET = 7,
	BTF_CORE_TYPE_EXISTS = 8,
	BTF_CORE_TYPE_SIZE = 9,
	BTF_CORE_ENUMVAL_EXISTS = 10,
	BTF_CORE_ENUMVAL_VALUE = 11,
	BTF_CORE_TYPE_MATCHES = 12,
};

/* One record of any of the three kinds, with the instruction as an index. */
struct btf_ext_rec {
	uint32_t insn;       /* instruction index in its section */
	uint32_t type_id;    /* func info: the FUNC; core: the local root type */
	uint32_t file_off;   /* line info: file name; core: access string */
	uint32_t line_off;   /* line info: the source line's text */
	uint32_t line_col;   /* line info: line << 10 | column */
	uint32_t kind;       /* core: enum btf_core_kind */
};

/* The records of one ELF section. */
struct btf_ext_sec {
	const char *name;              /* points into the BTF's strings */
	struct btf_ext_rec *func, *line, *core;
	uint32_t nfunc, nline, ncore;
};

struct btf_ext {
	struct btf_ext_sec *secs;
	uint32_t nsecs;
};

/*
 * Parse .BTF.ext against its .BTF (names and types are checked against
 * it).  Returns NULL with errno and the reason in log.
 */
struct btf_ext *btf_ext_parse(const void *data, size_t size, const struct btf *btf,
			      struct bpfvm_log *log);
void btf_ext_free(struct btf_ext *ext);
const struct btf_ext_sec *btf_ext_sec(const struct btf_ext *ext, const char *name);

/* ---- CO-RE ------------------------------------------------------------- */

/*
 * The outcome of resolving one CO-RE relocation: the value the local
 * program was compiled with (orig) and the one the target needs (value).
 * When the target lacks what the relocation asks for, poison is set and
 * why says what is missing (for field/type/enum existence, value is 0 and
 * poison stays false).  For a field access whose size differs, new_size
 * holds the target's field size.
 */
struct btf_core_res {
	uint64_t orig;
	uint64_t value;
	uint32_t orig_size;
	uint32_t new_size;
	bool poison;
	/*
	 * Whether the instruction must hold orig: not for bitfields, where
	 * the compiler may pick another load size and offset than ours.
	 */
	bool validate;
	char why[256];   /* "struct task_struct.se.cfs_rq (access 0:55:1)" */
};

/*
 * Resolve a relocation of kind with local root type_id and access string
 * spec ("0:1:2") from local BTF against target.  Returns 0 with res
 * filled (res->poison when the target lacks it), or -EINVAL with the
 * reason in log for a malformed relocation.
 */
int btf_core_resolve(const struct btf *local, uint32_t type_id, const char *spec,
		     enum btf_core_kind kind, const struct btf *target,
		     struct btf_core_res *res, struct bpfvm_log *log);
const char *btf_core_kind_name(enum btf_core_kind kind);

#endif
