/*
 * vm.c - instances and the entry point that runs a program: it sets up
 * the run (regions, packet), picks the execution mode the program is
 * allowed, and reports how the run ended.
 */
#include "vm.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "../util/log.h"

struct bpfvm *bpfvm__new(const struct bpfvm_opts *opts)
{
	struct bpfvm *vm = calloc(1, sizeof(*vm));
	struct timespec ts;

	if (!vm) {
		errno = ENOMEM;
		return NULL;
	}
	if (opts && opts->sz >= offsetof(struct bpfvm_opts, trace_ctx) + sizeof(void *)) {
		vm->trace = opts->trace;
		vm->trace_ctx = opts->trace_ctx;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	vm->prandom_state = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^ (uintptr_t)vm;
	helpers_register_builtin(vm);
	return vm;
}

void bpfvm__destroy(struct bpfvm *vm)
{
	if (!vm)
		return;
	while (vm->progs)
		bpfvm_prog__destroy(vm->progs);
	free(vm);
}

int bpfvm__set_helper(struct bpfvm *vm, uint32_t id, const char *name, bpfvm_helper_fn fn)
{
	if (!vm || id > BPFVM_MAX_HELPER_ID)
		return -EINVAL;
	vm->helpers[id].fn = fn;
	vm->helpers[id].name = name;
	return 0;
}

void vm_add_prog(struct bpfvm *vm, struct bpfvm_prog *prog)
{
	prog->next = vm->progs;
	vm->progs = prog;
}

void vm_remove_prog(struct bpfvm *vm, struct bpfvm_prog *prog)
{
	for (struct bpfvm_prog **p = &vm->progs; *p; p = &(*p)->next) {
		if (*p == prog) {
			*p = prog->next;
			return;
		}
	}
}

bool vm_run_add_region(struct bpfvm_run_ctx *run, const void *start, uint64_t len,
		       bool writable, const char *what)
{
	if (run->nregions == VM_MAX_REGIONS)
		return false;
	run->regions[run->nregions++] = (struct vm_region){
		(uintptr_t)start, (uintptr_t)start + len, writable, what,
	};
	return true;
}

bool vm_run_access_ok(const struct bpfvm_run_ctx *run, uint64_t addr, uint64_t size, bool write)
{
	for (unsigned i = 0; i < run->nregions; i++) {
		const struct vm_region *r = &run->regions[i];

		if (addr >= r->start && addr <= r->end && size <= r->end - addr)
			return !write || r->writable;
	}
	return false;
}

int bpfvm_prog__run(struct bpfvm_prog *prog, void *mem, size_t len, struct bpfvm_run_opts *opts)
{
	struct bpfvm_run_ctx run = { 0 };
	enum bpfvm_exec mode = opts ? opts->mode : BPFVM_EXEC_CHECKED;
	struct bpfvm_log *log = opts ? opts->log : NULL;
	uint64_t retval = 0, executed = 0;
	int err;

	if (!prog || (!mem && len))
		return -EINVAL;
	if (mode == BPFVM_EXEC_JIT) {
		log_printf(log, "the JIT is not built yet: run with the interpreter\n");
		return -ENOTSUP;
	}
	if (mode == BPFVM_EXEC_UNCHECKED && !(prog->flags & BPFVM_PROG_TRUSTED)) {
		log_printf(log, "program '%s' is neither verified nor trusted: "
				"it may only run checked\n", prog->name);
		return -EPERM;
	}
	run.vm = prog->vm;
	run.prog = prog;
	run.checked = mode == BPFVM_EXEC_CHECKED;
	run.log = log;
	run.pkt = mem;
	run.pkt_len = len;
	if (len)
		vm_run_add_region(&run, mem, len, true, "input");
	err = vm_interp_run(&run, run.checked, (uintptr_t)mem, len,
			    opts && opts->insn_limit ? opts->insn_limit : BPFVM_DEFAULT_INSN_LIMIT,
			    &retval, &executed);
	if (opts) {
		opts->retval = retval;
		opts->insns_executed = executed;
	}
	return err;
}
