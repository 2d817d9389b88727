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
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "procfs.h"
#include "task.h"

static uint64_t task_pid_tgid(void *p)
{
	struct ev_task *t = p;

	return (uint64_t)(uint32_t)t->tgid << 32 | (uint32_t)t->tid;
}

static uint64_t task_uid_gid(void *p)
{
	struct ev_task *t = p;

	if (!t->have_ids) {
		t->uid_gid = (uint64_t)(uint32_t)ev_proc_status(t->tid, "Gid:", 10) << 32 |
			     (uint32_t)ev_proc_status(t->tid, "Uid:", 10);
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
		t->cpu = (uint32_t)ev_proc_stat(t->tid, 39);
		t->have_cpu = true;
	}
	return t->cpu;
}

static int task_read_mem(void *p, void *dst, uint64_t addr, uint64_t size)
{
	struct ev_task *t = p;

	return t->src->ops->read_mem(t->src, t->tid, dst, addr, size);
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

const struct vm_task_ops ev_task_ops = {
	.pid_tgid = task_pid_tgid,
	.uid_gid = task_uid_gid,
	.comm = task_comm,
	.cpu = task_cpu,
	.read_mem = task_read_mem,
	.override_return = task_override_return,
	.send_signal = task_send_signal,
	.func_ip = task_func_ip,
	.attach_cookie = task_attach_cookie,
};
