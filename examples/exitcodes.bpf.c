/*
 * exitcodes.bpf.c - how each traced process ends: exit_group()'s code,
 * remembered per process at sys_enter_exit_group, printed when its last
 * thread goes (sched_process_exit with group_dead).  The bpf_printk line
 * carries the exiting task's comm and pid, as trace_pipe shows them.
 *
 *   bpfvm trace exitcodes.bpf.o -- sh -c 'sh -c "exit 3"; exit 5'
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __s32);
} codes SEC(".maps");

struct exit_group_args {
	__u64 common;
	__s32 nr;
	__u32 pad;
	__u64 error_code;
};

/* sched/sched_process_exit's record (Linux 6.16+: group_dead at 32) */
struct sched_exit {
	__u64 common;
	char comm[16];
	__s32 pid;
	__s32 prio;
	__u8 group_dead;
};

SEC("tracepoint/syscalls/sys_enter_exit_group")
int on_exit_group(struct exit_group_args *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__s32 code = (__s32)ctx->error_code;

	bpf_map_update_elem(&codes, &tgid, &code, BPF_ANY);
	return 0;
}

SEC("tracepoint/sched/sched_process_exit")
int on_exit(struct sched_exit *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__s32 *code;

	if (!ctx->group_dead)
		return 0;
	code = bpf_map_lookup_elem(&codes, &tgid);
	bpf_printk("exit pid %d code %d", tgid, code ? *code : -1);
	bpf_map_delete_elem(&codes, &tgid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
