/*
 * prog_types.c - the kernel's program types by number
 * (src/prog/prog_types.def): the name bpftool prints, and the context a
 * program of the type receives in r1 (see hooks.h for how each context is
 * laid out and run).
 */
#include "hooks.h"

static const struct hook_prog_type prog_types[] = {
#define PROG_TYPE(ID, T, NAME, CTX) [ID] = { #NAME, HOOK_CTX_##CTX },
#include "../prog/prog_types.def"
#undef PROG_TYPE
};

const struct hook_prog_type *hook_prog_type(uint32_t type)
{
	return type < sizeof(prog_types) / sizeof(prog_types[0]) ? &prog_types[type] : NULL;
}
