/*
 * bashreadline.bpf.c - the lines bash reads, as libbpf-tools' bashreadline
 * gets them: a uretprobe on readline() in /bin/bash, whose return value
 * (ax) is the line; each line goes out as a ring buffer record.
 *
 *   bpfvm trace bashreadline.bpf.o -- bash -i     one record per line typed
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include "kprobe_regs.h"

#define MAX_LINE 80

struct event {
	__u32 pid;
	char str[MAX_LINE];
};

const struct event *unused_event __attribute__((unused));   /* the record's type in BTF */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} lines SEC(".maps");

SEC("uretprobe//bin/bash:readline")
int BPF_KRETPROBE(printret, const char *ret)
{
	struct event *l;

	if (!ret)
		return 0;
	l = bpf_ringbuf_reserve(&lines, sizeof(*l), 0);
	if (!l)
		return 0;
	l->pid = bpf_get_current_pid_tgid() >> 32;
	bpf_probe_read_user_str(l->str, sizeof(l->str), ret);
	bpf_ringbuf_submit(l, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
