/*
 * enforce.c - the helpers that act on the traced task rather than
 * observe it: bpf_override_return (the system call a kprobe on its
 * wrapper is about returns rc without running) and bpf_send_signal /
 * bpf_send_signal_thread (a signal to the current process / thread);
 * with them what only a traced task's event knows: bpf_get_func_ip and
 * bpf_get_attach_cookie (a uprobe's address and cookie).
 *
 * What they act on is the run's task (run->task_ops, an event source's
 * traced thread).  A run without one has no traced task: the current
 * task would be bpfvm itself, which a program must not signal or make
 * skip its calls, so such a run stops with -EOPNOTSUPP, naming why.
 * Which program types may call them is the verifier's (the kernel's
 * kprobe and tracing prototypes).
 */
#include <errno.h>
#include <string.h>

#include "../core/run.h"
#include "../maps/map.h"
#include "helpers.h"

#define PT_REGS_AX 80   /* offsetof(struct pt_regs, ax) on x86-64 */

static uint64_t no_task(struct bpfvm_run_ctx *run, const char *name, uint32_t id)
{
	vm_run_fault(run, -EOPNOTSUPP, "%s#%u acts on a traced task: it runs under bpfvm trace "
		     "only", name, id);
	return HELPER_ERR(-EOPNOTSUPP);
}

/* As the kernel's: regs->ax = rc, and the call is skipped; always 0. */
BPF_HELPER(override_return)
{
	int err;

	if (!run->task_ops || !run->task_ops->override_return)
		return no_task(run, "bpf_override_return", HELPER_ID_override_return);
	err = run->task_ops->override_return(run->task, r2);
	if (err)
		return HELPER_ERR(err);
	if (vm_run_access_ok(run, r1 + PT_REGS_AX, 8, false))
		memcpy((void *)(uintptr_t)(r1 + PT_REGS_AX), &r2, 8);
	return 0;
}

/* The probed address of a uprobe (its function's for a uretprobe), as the kernel's. */
BPF_HELPER(get_func_ip)
{
	uint64_t ip;

	if (!run->task_ops || !run->task_ops->func_ip)
		return no_task(run, "bpf_get_func_ip", HELPER_ID_get_func_ip);
	if (run->task_ops->func_ip(run->task, &ip)) {
		vm_run_fault(run, -EOPNOTSUPP, "bpf_get_func_ip#%u: this event has no function "
			     "address in bpfvm (uprobes have)", HELPER_ID_get_func_ip);
		return HELPER_ERR(-EOPNOTSUPP);
	}
	return ip;
}

/* 0, or what the attach point was given (a USDT probe's spec id). */
BPF_HELPER(get_attach_cookie)
{
	if (!run->task_ops)
		return no_task(run, "bpf_get_attach_cookie", HELPER_ID_get_attach_cookie);
	return run->task_ops->attach_cookie ? run->task_ops->attach_cookie(run->task) : 0;
}

BPF_HELPER(send_signal)
{
	if (!run->task_ops || !run->task_ops->send_signal)
		return no_task(run, "bpf_send_signal", HELPER_ID_send_signal);
	return HELPER_ERR(run->task_ops->send_signal(run->task, (uint32_t)r1, false));
}

BPF_HELPER(send_signal_thread)
{
	if (!run->task_ops || !run->task_ops->send_signal)
		return no_task(run, "bpf_send_signal_thread", HELPER_ID_send_signal_thread);
	return HELPER_ERR(run->task_ops->send_signal(run->task, (uint32_t)r1, true));
}
