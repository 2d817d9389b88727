/*
 * task.h - the traced thread an event is about, as the run's current task
 * (task.c).
 */
#ifndef BPFVM_EVENTS_TASK_H
#define BPFVM_EVENTS_TASK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/user.h>

#include "../core/run.h"
#include "events.h"

struct hook_kobj_layout;
struct hook_kobjs;

/* The kernel's object layouts, read from its BTF at the first need (one per trace). */
struct ev_kernel {
	const char *btf_path;             /* NULL: /sys/kernel/btf/vmlinux */
	struct bpfvm_log *log;
	struct hook_kobj_layout *layout;
	bool tried;
	/* An event's objects kept for the next (its arena reserved once): NULL while in use. */
	struct hook_kobjs *spare;
};

struct ev_task {
	struct ev_source *src;
	struct ev_kernel *kern;           /* NULL: no kernel objects */
	struct hook_kobjs *kobjs;         /* laid out for this event (ev_task_end frees them) */
	int32_t exit_code;                /* while exiting: the code do_exit got */
	int32_t tid, tgid;
	bool have_comm, have_ids, have_cpu;
	char comm[16];
	uint64_t uid_gid;
	uint32_t cpu;
	bool exiting;           /* at sched_process_exit: the kernel's PF_EXITING */
	bool can_override;      /* the running program is a kprobe on the call's wrapper */
	bool overridden;        /* ...and called bpf_override_return(override_rc) */
	int64_t override_rc;
	bool has_func_ip;       /* a uprobe: bpf_get_func_ip answers func_ip */
	uint64_t func_ip, cookie;
	/* The registers at the event (the event's own; else asked of the source once). */
	struct user_regs_struct regs;
	bool have_regs, regs_asked;
	bool at_func_entry;     /* a uprobe's probed instruction is push %rbp or endbr64 */
};

extern const struct vm_task_ops ev_task_ops;
/* Fill t->comm (once per event). */
void ev_task_comm(struct ev_task *t);
/* The kernel objects of t's event (created at the first call), or NULL without a layout. */
struct hook_kobjs *ev_task_kobjs(struct ev_task *t);
/* Copy user memory of t as the kernel's copy_from_user does (pages faulted in): 0 or -EFAULT. */
int ev_task_copy_user(struct ev_task *t, void *dst, uint64_t addr, uint64_t size);
/* The event is over: free what was laid out for it. */
void ev_task_end(struct ev_task *t);
void ev_kernel_free(struct ev_kernel *k);

#endif
