/*
 * uprobe.bpf.c - uprobes on tests/data/uprobe/uworkload.c (WORKLOAD is
 * its path, given at compile time, as SEC() names need it): calls of
 * upr_target per thread and the sum of its argument, every return of the
 * recursive upr_fact (value and depth order), malloc calls per thread in
 * libc, upr_global run out of line, bpf_get_func_ip at each; info[5]:
 * upr_target's hits whose tgid is their tid (the forked child's); info[6]:
 * cbrt in libm.so.6, which the workload loads with dlopen (1), unloads and
 * loads again (2 more).
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include "../../../examples/kprobe_regs.h"

#ifndef LIBM
#define LIBM "libm.so.6"   /* by its name, found among the loaded libraries */
#endif
#ifndef WORKLOAD
#error "WORKLOAD: the path of uworkload"
#endif

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} calls SEC(".maps"), mallocs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} facts SEC(".maps"), info SEC(".maps");

static void count(void *map)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 one = 1, *n = bpf_map_lookup_elem(map, &tid);

	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(map, &tid, &one, BPF_NOEXIST);
}

static void put(void *map, __u32 k, __u64 v)
{
	bpf_map_update_elem(map, &k, &v, BPF_ANY);
}

SEC("uprobe/" WORKLOAD ":upr_target")
int BPF_KPROBE(target_entry, long i)
{
	__u32 k = 0;
	__u64 *sum = bpf_map_lookup_elem(&info, &k);

	count(&calls);
	if (sum)
		__sync_fetch_and_add(sum, i);
	put(&info, 1, bpf_get_func_ip(ctx) - PT_REGS_IP(ctx));   /* 0: ip is the probed address */
	/* info[5]: hits on a process's first thread, its tgid its tid (the forked child's one) */
	if (bpf_get_current_pid_tgid() >> 32 == (__u32)bpf_get_current_pid_tgid()) {
		__u64 *main_hits = bpf_map_lookup_elem(&info, &(__u32){ 5 });

		if (main_hits)
			__sync_fetch_and_add(main_hits, 1);
	}
	return 0;
}

SEC("uretprobe/" WORKLOAD ":upr_fact")
int BPF_KRETPROBE(fact_return, long ret)
{
	__u32 k = 7;
	__u64 *depth = bpf_map_lookup_elem(&facts, &k);

	if (!depth || *depth >= 6)
		return 0;
	put(&facts, (__u32)*depth, ret);   /* innermost first: 1, 2, 6, 24, 120 */
	*depth += 1;
	return 0;
}

SEC("uprobe/" WORKLOAD ":upr_global")
int global_entry(struct pt_regs *ctx)
{
	put(&info, 2, bpf_get_func_ip(ctx));
	return 0;
}

SEC("uretprobe/" WORKLOAD ":upr_global")
int BPF_KRETPROBE(global_return, long ret)
{
	put(&info, 3, ret);
	put(&info, 4, bpf_get_func_ip(ctx));    /* the function's address, as at entry */
	return 0;
}

/* the kernel's uprobe on libc fires in every process: the workload's only */
SEC("uprobe/libc.so.6:malloc")
int malloc_entry(struct pt_regs *ctx)
{
	char comm[16];

	bpf_get_current_comm(comm, sizeof(comm));
	if (comm[0] == 'u' && comm[1] == 'w' && comm[2] == 'o' && comm[3] == 'r' && comm[4] == 'k')
		count(&mallocs);
	return 0;
}

SEC("uprobe/" LIBM ":cbrt")
int cbrt_entry(struct pt_regs *ctx)
{
	char comm[16];
	__u32 k = 6;
	__u64 *n = bpf_map_lookup_elem(&info, &k);

	bpf_get_current_comm(comm, sizeof(comm));
	if (n && comm[0] == 'u' && comm[1] == 'w' && comm[2] == 'o' && comm[3] == 'r')
		__sync_fetch_and_add(n, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
