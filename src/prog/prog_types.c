/*
 * prog_types.c - the names of the kernel's program types
 * (prog_types.def), as bpftool prints them.
 */
#include "prog_types.h"

#include <bpfvm/object.h>

static const char *const prog_type_names[] = {
#define PROG_TYPE(ID, T, NAME, CTX) [ID] = #NAME,
#include "prog_types.def"
#undef PROG_TYPE
};

const char *prog_type_name(uint32_t type)
{
	return type < sizeof(prog_type_names) / sizeof(prog_type_names[0]) ? prog_type_names[type]
									    : NULL;
}

const char *bpfvm_prog_type_name(uint32_t type)
{
	const char *name = prog_type_name(type);

	return name ? name : "unknown";
}
