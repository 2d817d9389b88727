/*
 * clone_count.bpf.c - counts clone() calls per user id in a hash map,
 * with an atomic add once the user has an entry.
 *
 *   bpfvm run --repeat 5 --dump-maps clone_count.bpf.o   clones[uid] = 5
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} clones SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_clone")
int count_clone(void *ctx)
{
	__u32 uid = (__u32)bpf_get_current_uid_gid();
	__u64 one = 1, *n;

	n = bpf_map_lookup_elem(&clones, &uid);
	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&clones, &uid, &one, BPF_NOEXIST);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
