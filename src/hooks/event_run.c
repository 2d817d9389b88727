/*
 * event_run.c - one program run for a real event (events/): the context
 * is built by the event source (a tracepoint record, raw tracepoint
 * arguments), the kernel objects it points to (a pt_regs) are memory the
 * run may read, and the run carries the task the event is about, so
 * that the "current" helpers answer for it.  Unlike a test run, nothing
 * is mapped per run: a traced system call pays only for the program.
 */
#include <errno.h>

#include "../util/hot.h"
#include "../util/log.h"
#include "../vm/vm.h"
#include "hooks.h"

HOT int hook_run_event(struct bpfvm_prog *prog, const struct hook_event_run *ev, uint64_t *retval)
{
	struct bpfvm_run_ctx run;
	uint64_t executed = 0;
	int err;

	if ((err = vm_refuse_unrunnable(prog, ev->log)))
		return err;
	if (ev->mode != BPFVM_EXEC_CHECKED && !vm_unchecked_ctx_ok(prog)) {
		log_printf(ev->log, "program '%s' is neither verified nor trusted: "
				    "it may only run checked\n", prog->name);
		return -EPERM;
	}
	vm_run_init(&run);
	run.vm = prog->vm;
	run.prog = prog;
	run.log = ev->log;
	run.task_ops = ev->task_ops;
	run.task = ev->task;
	vm_run_add_region(&run, ev->ctx, ev->ctx_size, false, "context");
	if (ev->kobj)
		vm_run_add_region(&run, ev->kobj, ev->kobj_size, false, ev->kobj_what);
	return vm_run_prepared(&run, ev->mode, (uintptr_t)ev->ctx, 0,
			       ev->insn_limit ? ev->insn_limit : BPFVM_DEFAULT_INSN_LIMIT, retval,
			       &executed);
}
