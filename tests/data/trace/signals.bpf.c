/*
 * signals.bpf.c - the object test_kernel_trace loads into the kernel and
 * runs under `bpfvm trace` on tests/data/trace/signals.c: a record per
 * signal_generate and signal_deliver, and per fork (to follow the
 * workload's children).  Records are laid out as compare.bpf.c's (type,
 * pid, tid, then the event's fields) and sent to recs; filter (set in the
 * kernel run): only the processes in pids.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

enum { R_FORK = 2, R_GENERATE = 8, R_DELIVER = 9 };

struct rec {
	__u32 type;
	__u32 pid;      /* the current task's tgid */
	__u32 tid;
	__s32 a;        /* fork: the child; signals: sig */
	__s32 code, err, target, group, result, pad;
	char comm[16];  /* the current task's */
	char tcomm[16]; /* generate: the target's */
	__u64 handler, flags;
	char rest[24];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} recs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} pids SEC(".maps");

const volatile __u32 filter = 0;

static __always_inline struct rec *start(__u32 type)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;
	struct rec *r;

	if (filter && !bpf_map_lookup_elem(&pids, &tgid))
		return 0;
	r = bpf_ringbuf_reserve(&recs, sizeof(*r), 0);
	if (!r)
		return 0;
	__builtin_memset(r, 0, sizeof(*r));
	r->type = type;
	r->pid = tgid;
	r->tid = (__u32)id;
	bpf_get_current_comm(r->comm, sizeof(r->comm));
	return r;
}

struct sched_fork { __u64 common; __u32 parent_comm; __s32 parent_pid; __u32 child_comm; __s32 child_pid; };

SEC("tracepoint/sched/sched_process_fork")
int on_fork(struct sched_fork *ctx)
{
	__u32 child = ctx->child_pid;
	__u64 one = 1;
	struct rec *r = start(R_FORK);

	if (!r)
		return 0;
	bpf_map_update_elem(&pids, &child, &one, BPF_ANY);
	r->a = ctx->child_pid;
	bpf_ringbuf_submit(r, 0);
	return 0;
}

struct generate { __u64 common; int sig, err, code; char comm[16]; int pid, group, result; };

SEC("tracepoint/signal/signal_generate")
int on_generate(struct generate *ctx)
{
	struct rec *r = start(R_GENERATE);

	if (!r)
		return 0;
	r->a = ctx->sig;
	r->err = ctx->err;
	r->code = ctx->code;
	r->target = ctx->pid;
	r->group = ctx->group;
	r->result = ctx->result;
	__builtin_memcpy(r->tcomm, ctx->comm, 16);
	bpf_ringbuf_submit(r, 0);
	return 0;
}

struct deliver { __u64 common; int sig, err, code, pad; __u64 sa_handler, sa_flags; };

SEC("tracepoint/signal/signal_deliver")
int on_deliver(struct deliver *ctx)
{
	struct rec *r = start(R_DELIVER);

	if (!r)
		return 0;
	r->a = ctx->sig;
	r->err = ctx->err;
	r->code = ctx->code;
	r->handler = ctx->sa_handler;
	r->flags = ctx->sa_flags;
	bpf_ringbuf_submit(r, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
