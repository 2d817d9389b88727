/*
 * sec_def.h - what an ELF section's name says about the programs in it:
 * libbpf's SEC() naming convention ("xdp", "tp/sched/sched_process_fork",
 * "kprobe/do_unlinkat", "cgroup/connect4", ...) mapped to the kernel's
 * program type and expected attach type.  One table, in sec_def.c.
 */
#ifndef BPFVM_ELF_SEC_DEF_H
#define BPFVM_ELF_SEC_DEF_H

#include <stdbool.h>
#include <stdint.h>

enum sec_def_flags {
	SEC_EXACT = 1u << 0,     /* the name must equal the prefix */
	SEC_PLUS = 1u << 1,      /* the prefix alone, or followed by '/' and a target */
	SEC_SLEEPABLE = 1u << 2, /* ".s" forms: BPF_F_SLEEPABLE */
	SEC_XDP_FRAGS = 1u << 3, /* "xdp.frags": BPF_F_XDP_HAS_FRAGS */
	SEC_LEGACY_PFX = 1u << 4,  /* older loaders: any name starting with the prefix */
	SEC_LEGACY_ONLY = 1u << 5, /* a name only older loaders knew (prefix match) */
};

struct sec_def {
	const char *prefix;
	uint32_t prog_type;      /* BPF_PROG_TYPE_* */
	uint32_t attach_type;    /* BPF_* attach type */
	uint32_t flags;          /* enum sec_def_flags */
};

/* The definition a section name matches ('?' first is ignored), or NULL (unknown type). */
const struct sec_def *sec_def_find(const char *sec_name);
/* The name without libbpf's leading '?' (not autoloaded). */
const char *sec_def_strip(const char *sec_name);
/*
 * iproute2's tail-call sections: "ID/SLOT" (numbers as sscanf's %i reads
 * them) puts the section's program in slot SLOT of the program array
 * whose struct bpf_elf_map has id ID.  True, with both, for such a name.
 */
bool sec_def_tail_call(const char *sec_name, uint32_t *map_id, uint32_t *slot);
/* What follows the prefix and its '/', "" if nothing: the attach target. */
const char *sec_def_target(const struct sec_def *def, const char *sec_name);

#endif
