/*
 * vm.c - instances (created with execution's hooks, core/instance.h) and
 * the entry point that runs a program: it sets up the run (regions,
 * packet), picks the execution mode the program is allowed, and reports
 * how the run ended.
 */
#include "../util/hot.h"
#include "vm.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "../btf/btf.h"
#include "../core/facts.h"
#include "../helpers/helpers.h"
#include "../maps/map.h"
#include "../maps/shm.h"
#include "../util/log.h"
#include "../util/opts.h"
#include "jit.h"

/* What the layers beneath execution ask of it (core/instance.h). */
static void free_caches(struct bpfvm_prog *prog)
{
	vm_code_free(prog->code);
	vm_jit_free(prog->jit);
}

/* Maps in a shared arena: a new one, or another process's (bpfvm_opts). */
static int vm_init_shared_maps(struct bpfvm *vm, const struct bpfvm_opts *opts)
{
	uint64_t size = OPTS_GET(opts, shared_maps_size, 0);
	uint64_t addr = OPTS_GET(opts, shared_maps_addr, 0);
	struct bpfvm_log *log = OPTS_GET(opts, log, NULL);
	int err = 0;

	if (size && addr) {
		log_printf(log, "shared maps: either a new arena (size) or one to join (address)\n");
		err = -EINVAL;
	} else if (size) {
		err = map_shm_create(vm, size, log);
	} else if (addr) {
		err = map_shm_join(vm, OPTS_GET(opts, shared_maps_fd, -1), addr, log);
		if (!err)
			err = maps_join_shared(vm);
	}
	errno = -err;
	return err;
}

struct bpfvm *bpfvm__new(const struct bpfvm_opts *opts)
{
	struct timespec ts;
	struct bpfvm *vm;

	if (!OPTS_VALID(opts, bpfvm_opts, NULL)) {
		errno = EINVAL;
		return NULL;
	}
	if (!(vm = calloc(1, sizeof(*vm)))) {
		errno = ENOMEM;
		return NULL;
	}
	vm->trace = OPTS_GET(opts, trace, NULL);
	vm->trace_ctx = OPTS_GET(opts, trace_ctx, NULL);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	vm->prandom_state = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^ (uintptr_t)vm;
	vm->probe_pipe[0] = vm->probe_pipe[1] = -1;
	pthread_mutex_init(&vm->probe_lock, NULL);
	pthread_mutex_init(&vm->kernel_btf_lock, NULL);
	vm->jit_features = VM_JIT_HAVE_ARCH ? jit_arch_features() : 0;
	vm->exec = (struct vm_exec_hooks){ free_caches, vm_interp_call_function };
	helpers_register_builtin(vm);
	maps_init_vm(vm);
	if (vm_init_shared_maps(vm, opts)) {
		int err = errno;

		bpfvm__destroy(vm);
		errno = err;
		return NULL;
	}
	return vm;
}

void bpfvm__destroy(struct bpfvm *vm)
{
	if (!vm)
		return;
	while (vm->progs)
		bpfvm_prog__destroy(vm->progs);
	maps_destroy_all(vm);
	if (vm->probe_pipe[0] >= 0) {
		close(vm->probe_pipe[0]);
		close(vm->probe_pipe[1]);
	}
	pthread_mutex_destroy(&vm->probe_lock);
	pthread_mutex_destroy(&vm->kernel_btf_lock);
	btf_free(vm->kernel_btf);
	free(vm->kernel_btf_path);
	jit_arena_destroy(vm->jit_arena);
	vm_jit_drop_spare(vm);
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

/*
 * A checked run that ends holding ring buffer records it reserved: the
 * kernel's verifier refuses such a program ("Unreleased reference"); the
 * records are discarded so the consumer is not blocked behind them.
 */
static int release_records(struct bpfvm_run_ctx *run, int err)
{
	if (!err)
		log_printf(run->log, "%s: the program exited holding %u ring buffer record(s) it "
				     "reserved and did not submit or discard (Unreleased reference); "
				     "discarded\n",
			   run->prog->name, run->nrecords);
	for (unsigned i = 0; i < run->nrecords; i++)
		ringbuf_commit((void *)run->records[i].start, 0, true);
	run->nrecords = 0;
	return err ? err : -EINVAL;
}

/* The CPU this run's per-CPU map slots belong to. */
HOT static int run_cpu(const struct bpfvm *vm)
{
	int cpu = sched_getcpu();

	/* no division where none is needed: it is a probe hit's slowest instruction */
	return cpu < 0 ? 0 : cpu < vm->ncpus ? cpu : cpu % vm->ncpus;
}

HOT bool vm_prog_runnable(const struct bpfvm_prog *prog)
{
	return !prog->needs_kernel_at && (!prog->writes_fp_at || prog->facts);
}

HOT int vm_refuse_unrunnable(const struct bpfvm_prog *prog, struct bpfvm_log *log)
{
	char why[256];

	if (vm_prog_runnable(prog))
		return 0;
	if (prog->needs_kernel_at) {
		prog_needs_kernel_reason(prog, why, sizeof(why));
		log_printf(log, "program '%s' cannot run in bpfvm: %s\n", prog->name, why);
		return -EOPNOTSUPP;
	}
	log_printf(log, "program '%s' writes the frame pointer (r10) at instruction %u: it may run "
			"only verified, where the verifier proves no path reaches that write\n",
		   prog->name, prog->writes_fp_at - 1);
	return -EACCES;
}

HOT int vm_run_prepared(struct bpfvm_run_ctx *run, enum bpfvm_exec mode, uint64_t r1, uint64_t r2,
		    uint64_t insn_limit, uint64_t *retval, uint64_t *executed)
{
	int err;

	run->checked = mode == BPFVM_EXEC_CHECKED;
	run->cpu = run_cpu(run->vm);
	if (mode == BPFVM_EXEC_JIT)
		err = vm_jit_run(run, r1, r2, retval);
	else
		err = vm_interp_run(run, run->checked, r1, r2, insn_limit, retval, executed);
	if (run->nrecords)   /* after a fault too: the consumer must not wait for them */
		err = release_records(run, err);
	if (run->held_lock) { /* checked runs only: release it, so no one waits forever */
		__atomic_store_n((uint32_t *)(uintptr_t)run->held_lock, 0, __ATOMIC_RELEASE);
		run->held_lock = 0;
		if (!err) {
			log_printf(run->log, "%s: bpf_spin_unlock is missing\n", run->prog->name);
			err = -EINVAL;
		}
	}
	return err;
}

/*
 * May prog run without run-time checks on len bytes of input?  When the
 * caller vouches for it (trusted), or when the verifier proved it safe for
 * this calling convention: r1 pointing to exactly the input size it was
 * verified with (core/facts.h).
 */
bool vm_unchecked_ok(const struct bpfvm_prog *prog, size_t len)
{
	if (prog->flags & BPFVM_PROG_TRUSTED)
		return true;
	return prog->facts && prog->facts->mem_mode && prog->facts->mem_size == len;
}

/* ...and for a run with its program type's context (hooks' test runs, tail calls). */
/* Was prog verified for the context of program type type (not a memory run's)? */
static bool verified_for(const struct bpfvm_prog *prog, uint32_t type)
{
	const struct verifier_facts *f = prog->facts;

	return f && !f->mem_mode && f->prog_type == type;
}

HOT bool vm_unchecked_ctx_ok(const struct bpfvm_prog *prog)
{
	return (prog->flags & BPFVM_PROG_TRUSTED) ||
	       verified_for(prog, prog->prog_type ? prog->prog_type : 1 /* socket filter */);
}

bool vm_ctx_verified(const struct bpfvm_prog *prog)
{
	return verified_for(prog, prog->prog_type);
}

uint32_t vm_ctx_reads(const struct bpfvm_prog *prog)
{
	return vm_ctx_verified(prog) ? prog->facts->max_ctx_offset : 0;
}

int bpfvm_prog__run(struct bpfvm_prog *prog, void *mem, size_t len, struct bpfvm_run_opts *opts)
{
	struct bpfvm_run_ctx run = { 0 };
	enum bpfvm_exec mode = OPTS_GET(opts, mode, BPFVM_EXEC_CHECKED);
	struct bpfvm_log *log = OPTS_GET(opts, log, NULL);
	uint64_t limit = OPTS_GET(opts, insn_limit, 0);
	uint64_t retval = 0, executed = 0;
	int err;

	if (!OPTS_VALID(opts, bpfvm_run_opts, log) || !prog || (!mem && len))
		return -EINVAL;
	if ((err = vm_refuse_unrunnable(prog, log)))
		return err;
	if (mode == BPFVM_EXEC_JIT && !vm_unchecked_ok(prog, len)) {
		log_printf(log, "program '%s' is neither verified nor trusted: "
				"the JIT runs only verified or trusted programs\n", prog->name);
		return -EPERM;
	}
	if (mode == BPFVM_EXEC_UNCHECKED && !vm_unchecked_ok(prog, len)) {
		log_printf(log, "program '%s' is neither verified nor trusted: "
				"it may only run checked\n", prog->name);
		return -EPERM;
	}
	run.vm = prog->vm;
	run.prog = prog;
	run.log = log;
	run.pkt = mem;
	run.pkt_len = len;
	if (len)
		vm_run_add_region(&run, mem, len, true, "input");
	err = vm_run_prepared(&run, mode, (uintptr_t)mem, len,
			      limit ? limit : BPFVM_DEFAULT_INSN_LIMIT, &retval, &executed);
	OPTS_SET(opts, retval, retval);
	OPTS_SET(opts, insns_executed, executed);
	return err;
}
