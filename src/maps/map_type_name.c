/*
 * map_type_name.c - the names of the kernel's map types (map_types.def),
 * for messages and listings: the kernel's "BPF_MAP_TYPE_STACK_TRACE" says
 * more to a reader than "map type 7"; bpftool's "stack_trace" is what
 * `bpfvm prog show` and map dumps print, as bpftool does.
 */
#include <bpfvm/maps.h>
#include <bpfvm/object.h>

#include <stddef.h>

static const struct {
	const char *kernel;
	const char *bpftool;
} map_type_names[] = {
#define MAP_TYPE(T, NAME) [BPFVM_MAP_TYPE_##T] = { "BPF_MAP_TYPE_" #T, #NAME },
#include "map_types.def"
#undef MAP_TYPE
};

#define KNOWN(type) ((type) < sizeof(map_type_names) / sizeof(map_type_names[0]))

const char *bpfvm_map_type_kernel_name(uint32_t type)
{
	return KNOWN(type) ? map_type_names[type].kernel : NULL;
}

const char *bpfvm_map_type_name(uint32_t type)
{
	return KNOWN(type) ? map_type_names[type].bpftool : "unknown";
}
