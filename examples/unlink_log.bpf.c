/*
 * unlink_log.bpf.c - every unlinkat() of the traced processes, seen by a
 * kprobe on the system call's wrapper as libbpf's SEC("ksyscall/NAME")
 * and BPF_KSYSCALL write it: the wrapper's pt_regs point at the user's
 * registers, whose arguments BPF_KSYSCALL reads (CO-RE).  Sends pid,
 * thread, dfd, flags, comm and path through a ring buffer and prints a
 * line.  In the kernel the same object needs kprobes (CONFIG_KPROBES).
 *
 *   bpfvm trace unlink_log.bpf.o -- rm -f /tmp/no-such-file
 */
#include <linux/types.h>
#include <linux/bpf.h>

#include "kprobe_regs.h"   /* struct pt_regs, BPF_KSYSCALL */

#define PATH_LEN 128

struct unlink_event {
	__u32 pid;
	__u32 tid;
	__s32 dfd;
	__u32 flag;
	char comm[16];
	char path[PATH_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

/* The records' type in the object's BTF (no global otherwise names it): bpfvm trace decodes them */
struct unlink_event *unused_unlink_event __attribute__((unused));

SEC("ksyscall/unlinkat")
int BPF_KSYSCALL(unlinkat_entry, int dfd, const char *pathname, int flag)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct unlink_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e)
		return 0;
	e->pid = id >> 32;
	e->tid = (__u32)id;
	e->dfd = dfd;
	e->flag = flag;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_probe_read_user_str(e->path, sizeof(e->path), pathname);
	bpf_printk("unlinkat pid %u path %s", e->pid, e->path);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
