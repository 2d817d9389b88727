/*
 * mixed.bpf.c - for `bpfvm trace`'s tests: a program bpfvm cannot attach
 * (a kprobe) next to ones it can; the user stack of each close (its id in
 * a stack map, its size in bytes) and a kernel stack, which bpfvm has
 * none of (the kernel's answers for an empty one: bpf_get_stackid
 * -EFAULT, bpf_get_stack 0), printed with bpf_printk; a read of a bad user address, whose
 * result (the kernel's -EFAULT, -14) is printed with bpf_printk; the
 * opening process's pid through a perf event array.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, 4);
	__uint(value_size, 4);
} opens SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 16);
	__uint(key_size, 4);
	__uint(value_size, 127 * 8);
} stacks SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_close")
int stack_of_close(void *ctx)
{
	__u64 ips[4];
	long id = bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK);
	long len = bpf_get_stack(ctx, ips, sizeof(ips), BPF_F_USER_STACK);
	long kid = bpf_get_stackid(ctx, &stacks, 0);
	long klen = bpf_get_stack(ctx, ips, sizeof(ips), 0);

	bpf_printk("close stack %ld %ld kernel %ld %ld", id, len, kid, klen);
	return 0;
}

SEC("kprobe/vfs_unlink")
int unlink_probe(void *ctx)
{
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_openat")
int bad_read(void *ctx)
{
	char buf[16];
	long r = bpf_probe_read_user_str(buf, sizeof(buf), (void *)8);
	long c = bpf_copy_from_user(buf, sizeof(buf), (void *)8);

	__u32 pid = bpf_get_current_pid_tgid() >> 32;

	bpf_printk("bad read %ld copy %ld", r, c);
	bpf_perf_event_output(ctx, &opens, BPF_F_CURRENT_CPU, &pid, sizeof(pid));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
