/*
 * prog_types.h - the kernel's program types (prog_types.def) by id and
 * name, below every layer that singles one out: the verifier's context
 * rules, the hooks' contexts, the loader's section names.
 */
#ifndef BPFVM_PROG_PROG_TYPES_H
#define BPFVM_PROG_PROG_TYPES_H

#include <stdint.h>

/* PROG_TYPE_ID_XDP = 6, ...: also the types <linux/bpf.h> may be too old to name. */
enum prog_type_id {
#define PROG_TYPE(ID, T, ...) PROG_TYPE_ID_##T = ID,
#include "prog_types.def"
#undef PROG_TYPE
};

/* bpftool's name of a program type ("sched_cls"), NULL for one the kernel lacks. */
const char *prog_type_name(uint32_t type);

#endif
