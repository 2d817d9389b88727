/*
 * run.c - what a helper does to the run it is called in: add a region,
 * stop the run with a reason, note the maps whose values it handed out,
 * call back into the program.
 */
#include "../util/hot.h"
#include "run.h"

#include <stdarg.h>
#include <stdio.h>

HOT bool vm_run_add_region(struct bpfvm_run_ctx *run, const void *start, uint64_t len,
		       bool writable, const char *what)
{
	if (run->nregions == VM_MAX_REGIONS)
		return false;
	run->regions[run->nregions++] = (struct vm_region){
		(uintptr_t)start, (uintptr_t)start + len, writable, what,
	};
	return true;
}

void vm_run_fault(struct bpfvm_run_ctx *run, int err, const char *fmt, ...)
{
	va_list ap;

	if (run->fault)   /* the first reason is the one to report */
		return;
	run->fault = err;
	va_start(ap, fmt);
	vsnprintf(run->fault_msg, sizeof(run->fault_msg), fmt, ap);
	va_end(ap);
}

void vm_run_note_map(struct bpfvm_run_ctx *run, struct bpfvm_map *map)
{
	for (unsigned i = 0; i < run->nvalue_maps; i++)
		if (run->value_maps[i] == map)
			return;
	/* A full table only costs speed: maps_access_ok also scans the instance. */
	if (run->nvalue_maps < VM_MAX_VALUE_MAPS)
		run->value_maps[run->nvalue_maps++] = map;
}

int vm_call_function(struct bpfvm_run_ctx *run, uint64_t fn, const uint64_t args[5],
		     uint64_t *ret)
{
	if (run->call_function)   /* native code calls its own functions */
		return run->call_function(run, fn, args, ret);
	return run->vm->exec.call_function(run, fn, args, ret);
}
