/*
 * bpf_attr.h - the parts of the kernel's union bpf_attr (Linux 6.18's
 * layout: 168 bytes) that the library answers.  The system's
 * <linux/bpf.h> may be older than the kernel libbpf talks to, so the
 * layouts are written out here, field for field as the kernel has them.
 */
#ifndef BPFVM_PRELOAD_BPF_ATTR_H
#define BPFVM_PRELOAD_BPF_ATTR_H

#include <stdint.h>

#define PL_ATTR_SIZE 168   /* sizeof(union bpf_attr) in 6.18: bigger and non-zero is E2BIG */

enum pl_bpf_cmd {
	PL_MAP_CREATE, PL_MAP_LOOKUP_ELEM, PL_MAP_UPDATE_ELEM, PL_MAP_DELETE_ELEM,
	PL_MAP_GET_NEXT_KEY, PL_PROG_LOAD, PL_OBJ_PIN, PL_OBJ_GET, PL_PROG_ATTACH,
	PL_PROG_DETACH, PL_PROG_TEST_RUN, PL_PROG_GET_NEXT_ID, PL_MAP_GET_NEXT_ID,
	PL_PROG_GET_FD_BY_ID, PL_MAP_GET_FD_BY_ID, PL_OBJ_GET_INFO_BY_FD, PL_PROG_QUERY,
	PL_RAW_TRACEPOINT_OPEN, PL_BTF_LOAD, PL_BTF_GET_FD_BY_ID, PL_TASK_FD_QUERY,
	PL_MAP_LOOKUP_AND_DELETE_ELEM, PL_MAP_FREEZE, PL_BTF_GET_NEXT_ID, PL_MAP_LOOKUP_BATCH,
	PL_MAP_LOOKUP_AND_DELETE_BATCH, PL_MAP_UPDATE_BATCH, PL_MAP_DELETE_BATCH,
	PL_LINK_CREATE, PL_LINK_UPDATE, PL_LINK_GET_FD_BY_ID, PL_LINK_GET_NEXT_ID,
	PL_ENABLE_STATS, PL_ITER_CREATE, PL_LINK_DETACH, PL_PROG_BIND_MAP, PL_TOKEN_CREATE,
	PL_PROG_STREAM_READ_BY_FD,
};

struct pl_attr_map_create {
	uint32_t map_type, key_size, value_size, max_entries, map_flags, inner_map_fd, numa_node;
	char map_name[16];
	uint32_t map_ifindex, btf_fd, btf_key_type_id, btf_value_type_id,
		btf_vmlinux_value_type_id;
	uint64_t map_extra;
	int32_t value_type_btf_obj_fd, map_token_fd;
	uint64_t excl_prog_hash;
	uint32_t excl_prog_hash_size;
};
#define PL_MAP_CREATE_END 92

struct pl_attr_elem {
	uint32_t map_fd, pad;
	uint64_t key;
	uint64_t value;   /* or next_key */
	uint64_t flags;
};

struct pl_attr_prog_load {
	uint32_t prog_type, insn_cnt;
	uint64_t insns, license;
	uint32_t log_level, log_size;
	uint64_t log_buf;
	uint32_t kern_version, prog_flags;
	char prog_name[16];
	uint32_t prog_ifindex, expected_attach_type, prog_btf_fd, func_info_rec_size;
	uint64_t func_info;
	uint32_t func_info_cnt, line_info_rec_size;
	uint64_t line_info;
	uint32_t line_info_cnt, attach_btf_id, attach_prog_fd, core_relo_cnt;
	uint64_t fd_array, core_relos;
	uint32_t core_relo_rec_size, log_true_size;
	int32_t prog_token_fd;
	uint32_t fd_array_cnt;
	uint64_t signature;
	uint32_t signature_size;
	int32_t keyring_id;
};

struct pl_attr_info {
	uint32_t bpf_fd, info_len;
	uint64_t info;
};

struct pl_attr_btf_load {
	uint64_t btf, btf_log_buf;
	uint32_t btf_size, btf_log_size, btf_log_level, btf_log_true_size, btf_flags;
	int32_t btf_token_fd;
};
#define PL_BTF_LOAD_END 40

struct pl_attr_link_create {
	uint32_t prog_fd, target_fd, attach_type, flags;
	uint64_t bpf_cookie;   /* perf_event.bpf_cookie */
};

struct pl_attr_raw_tp {
	uint64_t name;
	uint32_t prog_fd, pad;
	uint64_t cookie;
};

/* The kernel's info structs, as far as libbpf reads them. */
struct pl_prog_info {
	uint32_t type, id;
	uint8_t tag[8];
	uint32_t jited_prog_len, xlated_prog_len;
	uint64_t jited_prog_insns, xlated_prog_insns, load_time;
	uint32_t created_by_uid, nr_map_ids;
	uint64_t map_ids;
	char name[16];
	uint32_t ifindex, gpl_compatible;
	uint64_t netns_dev, netns_ino;
	uint32_t nr_jited_ksyms, nr_jited_func_lens;
	uint64_t jited_ksyms, jited_func_lens;
	uint32_t btf_id, func_info_rec_size;
	uint64_t func_info;
	uint32_t nr_func_info, nr_line_info;
	uint64_t line_info, jited_line_info;
	uint32_t nr_jited_line_info, line_info_rec_size, jited_line_info_rec_size, nr_prog_tags;
	uint64_t prog_tags, run_time_ns, run_cnt, recursion_misses;
	uint32_t verified_insns, attach_btf_obj_id, attach_btf_id, pad;
};

struct pl_map_info {
	uint32_t type, id, key_size, value_size, max_entries, map_flags;
	char name[16];
	uint32_t ifindex, btf_vmlinux_value_type_id;
	uint64_t netns_dev, netns_ino;
	uint32_t btf_id, btf_key_type_id, btf_value_type_id, btf_vmlinux_id;
	uint64_t map_extra, hash;
	uint32_t hash_size, pad;
};

struct pl_btf_info {
	uint64_t btf;
	uint32_t btf_size, id;
	uint64_t name;
	uint32_t name_len, kernel_btf;
};

struct pl_link_info {
	uint32_t type, id, prog_id, pad;
	uint32_t perf_event_type, pad2;   /* BPF_LINK_TYPE_PERF_EVENT: bpf_perf_event_type */
};

#endif
