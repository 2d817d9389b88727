/*
 * task.h - the traced thread an event is about, as the run's current task
 * (task.c).
 */
#ifndef BPFVM_EVENTS_TASK_H
#define BPFVM_EVENTS_TASK_H

#include <stdbool.h>
#include <stdint.h>

#include "../core/run.h"
#include "events.h"

struct ev_task {
	struct ev_source *src;
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
};

extern const struct vm_task_ops ev_task_ops;
/* Fill t->comm (once per event). */
void ev_task_comm(struct ev_task *t);

#endif
