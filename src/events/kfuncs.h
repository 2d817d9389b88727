/*
 * kfuncs.h - kprobes on the kernel functions a system call enters
 * directly (do_unlinkat, do_sys_openat2, do_execveat_common, do_exit):
 * which calls enter them and with what arguments (kfuncs.c).
 */
#ifndef BPFVM_EVENTS_KFUNCS_H
#define BPFVM_EVENTS_KFUNCS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attach.h"
#include "events.h"
#include "task.h"

/* The function called name, EV_KF_NONE if bpfvm serves no kprobe on it. */
enum ev_kfunc ev_kfunc_by_name(const char *name);
/*
 * 0, or -EOPNOTSUPP with why when prog may not attach at a: a kprobe on
 * one of these functions that calls bpf_override_return.
 */
struct bpfvm_prog;
int ev_kfunc_refuse(const struct ev_attach *a, const struct bpfvm_prog *prog, char *why,
		    size_t size);
/* The system calls a source must stop at for a (EV_KFUNC: entry, EV_KRETFUNC: exit). */
void ev_kfunc_want(struct ev_interest *w, const struct ev_attach *a);
/* Does a fire at ev (the held call enters its function; do_exit: a thread's exit)? */
bool ev_kfunc_fires(const struct ev_attach *a, const struct ev_event *ev, struct ev_task *task);
/* The function's arguments at ev, in register order (di, si, dx, cx, r8, r9). */
void ev_kfunc_args(const struct ev_attach *a, const struct ev_event *ev, struct ev_task *task,
		   uint64_t args[6]);

#endif
