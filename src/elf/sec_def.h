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
};

struct sec_def {
	const char *prefix;
	uint32_t prog_type;      /* BPF_PROG_TYPE_* */
	uint32_t attach_type;    /* BPF_* attach type */
	uint32_t flags;          /* enum sec_def_flags */
};

/* The definition a section name matches, or NULL (libbpf: unknown type). */
const struct sec_def *sec_def_find(const char *sec_name);
/* What follows the prefix and its '/', "" if nothing: the attach target. */
const char *sec_def_target(const struct sec_def *def, const char *sec_name);

#endif
