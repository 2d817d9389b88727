/*
 * map_type_name.c - the kernel's names of its map types (enum
 * bpf_map_type in <linux/bpf.h>), for messages: "BPF_MAP_TYPE_STACK_TRACE"
 * says more to a reader than "map type 7".
 */
#include <bpfvm/maps.h>

#include <stddef.h>

#define NAME(t) [BPFVM_MAP_TYPE_##t] = "BPF_MAP_TYPE_" #t

static const char *const map_type_names[] = {
	NAME(UNSPEC), NAME(HASH), NAME(ARRAY), NAME(PROG_ARRAY), NAME(PERF_EVENT_ARRAY),
	NAME(PERCPU_HASH), NAME(PERCPU_ARRAY), NAME(STACK_TRACE), NAME(CGROUP_ARRAY),
	NAME(LRU_HASH), NAME(LRU_PERCPU_HASH), NAME(LPM_TRIE), NAME(ARRAY_OF_MAPS),
	NAME(HASH_OF_MAPS), NAME(DEVMAP), NAME(SOCKMAP), NAME(CPUMAP), NAME(XSKMAP),
	NAME(SOCKHASH), NAME(CGROUP_STORAGE), NAME(REUSEPORT_SOCKARRAY),
	NAME(PERCPU_CGROUP_STORAGE), NAME(QUEUE), NAME(STACK), NAME(SK_STORAGE),
	NAME(DEVMAP_HASH), NAME(STRUCT_OPS), NAME(RINGBUF), NAME(INODE_STORAGE),
	NAME(TASK_STORAGE), NAME(BLOOM_FILTER), NAME(USER_RINGBUF), NAME(CGRP_STORAGE),
	NAME(ARENA),
};

const char *bpfvm_map_type_kernel_name(uint32_t type)
{
	return type < sizeof(map_type_names) / sizeof(map_type_names[0]) ? map_type_names[type]
									  : NULL;
}
