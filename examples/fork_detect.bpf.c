/*
 * fork_detect.bpf.c - a tracepoint program: on sched/sched_process_fork,
 * print "fork detected" when the new process's pid is 13.
 *
 *   bpfvm run --ctx fork_pid13.ctx fork_detect.bpf.o    prints the line
 */
#include <linux/types.h>
#include <bpf/bpf_helpers.h>

/* The tracepoint's record (/sys/kernel/tracing/events/sched/sched_process_fork/format). */
struct sched_process_fork {
	__u16 common_type;
	__u8 common_flags;
	__u8 common_preempt_count;
	__s32 common_pid;
	char parent_comm[16];
	__s32 parent_pid;
	char child_comm[16];
	__s32 child_pid;
};

SEC("tracepoint/sched/sched_process_fork")
int fork_detect(struct sched_process_fork *ctx)
{
	if (ctx->child_pid == 13)
		bpf_printk("fork detected");
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
