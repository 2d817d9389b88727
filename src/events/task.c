/*
 * task.c - "current" for a run about a traced thread (struct vm_task_ops
 * of core/run.h): its ids from the event, and what else a helper asks about
 * read from /proc when first asked, once per event (comm changes at exec
 * and prctl, ids at setuid), and its memory through the event source.
 *
 * Enforcement: bpf_override_return is noted here and carried out by the
 * caller (the source makes the held call return the value without
 * running); bpf_send_signal(_thread) signals the process (kill) or the
 * thread (tgkill) at once, while the thread is held at its event, with
 * the kernel's refusals (-EPERM for an exiting task or init, -EINVAL for
 * a signal number above 64).  The signal's si_code is SI_USER from
 * bpfvm, where the kernel's is SI_KERNEL: user space cannot send that.
 *
 * bpf_get_current_task: the task_struct hooks/kobjs.c lays out, from
 * what /proc says of the thread and its parents (task_facts), with the
 * layout read once from the kernel's BTF.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../btf/btf.h"
#include "../hooks/kobjs.h"
#include "../util/log.h"
#include "../util/procfs.h"
#include "task.h"

#define DEFAULT_KERNEL_BTF "/sys/kernel/btf/vmlinux"

static bool in_process(const struct ev_task *t)
{
	return t->src && t->src->ops->in_process;
}

static uint64_t task_pid_tgid(void *p)
{
	struct ev_task *t = p;

	return (uint64_t)(uint32_t)t->tgid << 32 | (uint32_t)t->tid;
}

static uint64_t task_uid_gid(void *p)
{
	struct ev_task *t = p;

	if (!t->have_ids && in_process(t)) {
		t->uid_gid = (uint64_t)getgid() << 32 | getuid();
		t->have_ids = true;
	}
	if (!t->have_ids) {
		t->uid_gid = (uint64_t)(uint32_t)util_proc_status(t->tid, "Gid:", 10) << 32 |
			     (uint32_t)util_proc_status(t->tid, "Uid:", 10);
		t->have_ids = true;
	}
	return t->uid_gid;
}

void ev_task_comm(struct ev_task *t)
{
	char path[64];
	size_t n = 0;
	FILE *f;

	if (t->have_comm)
		return;
	memset(t->comm, 0, sizeof(t->comm));
	if (in_process(t)) {   /* a uprobe's hit in process: /proc would cost some 10 us */
		prctl(PR_GET_NAME, t->comm);
		t->have_comm = true;
		return;
	}
	snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", t->tgid, t->tid);
	f = fopen(path, "re");
	if (f) {
		n = fread(t->comm, 1, sizeof(t->comm) - 1, f);
		fclose(f);
	}
	if (n && t->comm[n - 1] == '\n')
		t->comm[n - 1] = '\0';
	t->have_comm = true;
}

static void task_comm(void *p, char comm[16])
{
	struct ev_task *t = p;

	ev_task_comm(t);
	memcpy(comm, t->comm, 16);
}

static uint32_t task_cpu(void *p)
{
	struct ev_task *t = p;

	if (!t->have_cpu) {
		t->cpu = in_process(t) ? (uint32_t)sched_getcpu() : (uint32_t)util_proc_stat(t->tid, 39);
		t->have_cpu = true;
	}
	return t->cpu;
}

static int task_read_mem(void *p, void *dst, uint64_t addr, uint64_t size)
{
	struct ev_task *t = p;

	return t->src->ops->read_mem(t->src, t->tid, dst, addr, size);
}

int ev_task_copy_user(struct ev_task *t, void *dst, uint64_t addr, uint64_t size)
{
	const struct ev_source_ops *ops = t->src->ops;

	return (ops->copy_user ? ops->copy_user : ops->read_mem)(t->src, t->tid, dst, addr, size);
}

static int task_override_return(void *p, uint64_t rc)
{
	struct ev_task *t = p;

	if (!t->can_override)
		return -EOPNOTSUPP;
	t->overridden = true;
	t->override_rc = (int64_t)rc;
	return 0;
}

static int task_send_signal(void *p, uint32_t sig, bool thread)
{
	struct ev_task *t = p;
	long rc;

	if (t->exiting || t->tgid == 1)
		return -EPERM;
	if (sig > 64)
		return -EINVAL;
	if (!sig)
		return 0;
	rc = thread ? syscall(SYS_tgkill, t->tgid, t->tid, (int)sig) : kill(t->tgid, (int)sig);
	return rc ? -errno : 0;
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* stat's starttime (clock ticks since boot) in the kernel's two clocks. */
static void start_times(const char *stat, struct hook_task_facts *f)
{
	long tick = sysconf(_SC_CLK_TCK);

	f->start_boottime = (uint64_t)util_proc_stat_field(stat, 22) *
			    (1000000000u / (uint64_t)(tick > 0 ? tick : 100));
	/* CLOCK_MONOTONIC stops while suspended; BOOTTIME does not */
	f->start_time = f->start_boottime - (clock_ns(CLOCK_BOOTTIME) - clock_ns(CLOCK_MONOTONIC));
}

/* The inode /proc/TID/ns/mnt links to ("mnt:[4026531841]"), 0 when it cannot be read. */
static uint32_t mnt_ns_inum(int32_t tid)
{
	char path[64], link[64];
	unsigned long inum = 0;
	ssize_t n;

	util_proc_path(tid, "ns/mnt", path, sizeof(path));
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return 0;
	link[n] = '\0';
	if (sscanf(link, "mnt:[%lu]", &inum) != 1)
		return 0;
	return (uint32_t)inum;
}

static int task_facts(void *ctx, int32_t tid, struct hook_task_facts *f)
{
	const struct ev_task *t = ctx;
	char status[4096], stat[1024];
	const char *open, *close;
	uint64_t v[HOOK_MAX_PIDNS];
	int n;

	memset(f, 0, sizeof(*f));
	if (!util_proc_read(tid, "status", status, sizeof(status)) ||
	    !util_proc_read(tid, "stat", stat, sizeof(stat)))
		return -ESRCH;
	f->pid = tid;
	f->tgid = util_proc_status_nums(status, "Tgid:", 10, v, 1) ? (int32_t)v[0] : tid;
	f->ppid = util_proc_status_nums(status, "PPid:", 10, v, 1) ? (int32_t)v[0] : 0;
	if (util_proc_status_nums(status, "Uid:", 10, v, 4) == 4)
		f->uid = (uint32_t)v[0], f->euid = (uint32_t)v[1], f->suid = (uint32_t)v[2],
		f->fsuid = (uint32_t)v[3];
	if (util_proc_status_nums(status, "Gid:", 10, v, 4) == 4)
		f->gid = (uint32_t)v[0], f->egid = (uint32_t)v[1], f->sgid = (uint32_t)v[2],
		f->fsgid = (uint32_t)v[3];
	n = util_proc_status_nums(status, "NSpid:", 10, v, HOOK_MAX_PIDNS);
	f->ns_level = n > 0 ? (uint32_t)n - 1 : 0;
	for (int i = 0; i < n; i++)
		f->ns_pids[i] = (int32_t)v[i];
	open = strchr(stat, '(');
	close = strrchr(stat, ')');
	if (open && close > open)
		memcpy(f->comm, open + 1, (size_t)(close - open - 1) < 15 ? (size_t)(close - open - 1)
									    : 15);
	f->flags = (uint32_t)util_proc_stat_field(stat, 9);
	start_times(stat, f);
	f->has_mm = util_proc_stat_field(stat, 23) != 0;   /* vsize: 0 without an mm */
	f->mnt_ns = mnt_ns_inum(tid);
	if (tid == t->tid && t->exiting) {
		/* Linux 6.18's sched_process_exit runs after exit_signals and exit_code, before exit_mm */
		f->flags |= HOOK_PF_EXITING;
		f->exit_code = t->exit_code;
	}
	return 0;
}

struct hook_kobjs *ev_task_kobjs(struct ev_task *t)
{
	struct ev_kernel *kern = t->kern;

	if (t->kobjs || !kern)
		return t->kobjs;
	if (!kern->layout && !kern->tried) {
		const char *path = kern->btf_path ? kern->btf_path : DEFAULT_KERNEL_BTF;
		struct btf *btf;

		kern->tried = true;
		errno = 0;
		btf = btf_load_file(path, kern->log);
		if (!btf && errno != EINVAL && errno != ENOMEM)
			log_printf(kern->log, "%s cannot be read (%s): bpf_get_current_task returns 0 "
					      "and kprobes on kernel functions get no objects\n", path,
				   strerror(errno));
		kern->layout = btf ? hook_kobj_layout_new(btf, kern->log) : NULL;
		btf_free(btf);
	}
	if (kern->spare) {
		t->kobjs = kern->spare;
		kern->spare = NULL;
		hook_kobjs_reset(t->kobjs, task_facts, t);
	} else if (kern->layout) {
		t->kobjs = hook_kobjs_new(kern->layout, task_facts, t);
	}
	return t->kobjs;
}

void ev_task_end(struct ev_task *t)
{
	if (t->kobjs && t->kern && !t->kern->spare)
		t->kern->spare = t->kobjs;
	else
		hook_kobjs_free(t->kobjs);
	t->kobjs = NULL;
}

void ev_kernel_free(struct ev_kernel *k)
{
	hook_kobjs_free(k->spare);
	k->spare = NULL;
	hook_kobj_layout_free(k->layout);
	k->layout = NULL;
}

static uint64_t task_task_struct(void *p)
{
	struct ev_task *t = p;

	return hook_kobj_task(ev_task_kobjs(t), t->tid);
}

static bool task_kernel_mem(void *p, uint64_t addr, uint64_t size)
{
	const struct ev_task *t = p;

	return hook_kobjs_contain(t->kobjs, addr, size);
}

static void task_kernel_span(void *p, uint64_t *start, uint64_t *size)
{
	const struct ev_task *t = p;

	hook_kobjs_span(t->kobjs, start, size);
}

static int task_func_ip(void *p, uint64_t *ip)
{
	struct ev_task *t = p;

	*ip = t->func_ip;
	return t->has_func_ip ? 0 : -EOPNOTSUPP;
}

static uint64_t task_attach_cookie(void *p)
{
	return ((struct ev_task *)p)->cookie;
}

static int task_user_regs(void *p, struct vm_user_regs *regs)
{
	struct ev_task *t = p;

	if (!t->have_regs && !t->regs_asked && t->src && t->src->ops->get_regs) {
		t->regs_asked = true;
		t->have_regs = !t->src->ops->get_regs(t->src, t->tid, &t->regs);
	}
	if (!t->have_regs)
		return -ENODATA;
	*regs = (struct vm_user_regs){ t->regs.rip, t->regs.rsp, t->regs.rbp, t->regs.cs,
				       t->at_func_entry };
	return 0;
}

const struct vm_task_ops ev_task_ops = {
	.pid_tgid = task_pid_tgid,
	.uid_gid = task_uid_gid,
	.comm = task_comm,
	.cpu = task_cpu,
	.read_mem = task_read_mem,
	.override_return = task_override_return,
	.send_signal = task_send_signal,
	.task_struct = task_task_struct,
	.kernel_mem = task_kernel_mem,
	.kernel_span = task_kernel_span,
	.func_ip = task_func_ip,
	.attach_cookie = task_attach_cookie,
	.user_regs = task_user_regs,
};
