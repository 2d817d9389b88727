/*
 * unlink_kprobe.bpf.c - the best-known eBPF example there is (libbpf-bootstrap's
 * kprobe): a kprobe on do_unlinkat, the kernel function unlink() and
 * unlinkat() enter, reading the path from its struct filename with CO-RE
 * (BPF_CORE_READ(name, name)), and a kretprobe on it for the result.
 * Each prints a line and sends a record (type 1: entry, with dfd, comm
 * and path; type 2: return, with ret) through a ring buffer.  Under
 * bpfvm the struct filename is laid out per the kernel's BTF; in the
 * kernel the same object needs kprobes (CONFIG_KPROBES).
 *
 *   bpfvm trace unlink_kprobe.bpf.o -- rm -f /tmp/no-such-file
 */
#include <linux/types.h>
#include <linux/bpf.h>

#include "kprobe_regs.h"    /* struct pt_regs, BPF_KPROBE */
#include "kernel_types.h"   /* struct filename */

struct unlink_kevent {
	__u32 type;          /* 1: entry, 2: return */
	__u32 pid;
	__u32 tid;
	__s32 dfd;
	__s64 ret;
	char comm[16];
	char path[96];       /* 168 bytes in all would be pt_regs' size, for BTF decoding */
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} recs SEC(".maps");

/* The records' type in the object's BTF (no global otherwise names it): bpfvm trace decodes them */
struct unlink_kevent *unused_unlink_kevent __attribute__((unused));

static __always_inline struct unlink_kevent *start(__u32 type)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct unlink_kevent *e = bpf_ringbuf_reserve(&recs, sizeof(*e), 0);

	if (!e)
		return 0;
	__builtin_memset(e, 0, sizeof(*e));
	e->type = type;
	e->pid = id >> 32;
	e->tid = (__u32)id;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	return e;
}

SEC("kprobe/do_unlinkat")
int BPF_KPROBE(do_unlinkat, int dfd, struct filename *name)
{
	struct unlink_kevent *e = start(1);
	const char *filename = BPF_CORE_READ(name, name);

	if (!e)
		return 0;
	e->dfd = dfd;
	bpf_probe_read_kernel_str(e->path, sizeof(e->path), filename);
	bpf_printk("KPROBE ENTRY pid = %d, filename = %s", e->pid, e->path);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("kretprobe/do_unlinkat")
int BPF_KRETPROBE(do_unlinkat_exit, long ret)
{
	struct unlink_kevent *e = start(2);

	if (!e)
		return 0;
	e->ret = ret;
	bpf_printk("KPROBE EXIT: pid = %d, ret = %ld", e->pid, ret);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
