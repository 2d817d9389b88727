/*
 * instance.h - the instance (struct bpfvm) as every layer above the ISA
 * sees it: its helpers, programs and maps, its output, and what execution
 * lends the layers beneath it.  Execution (vm/) creates the instance and
 * fills in struct vm_exec_hooks, so that a program can free what the
 * interpreter and the JIT cached on it, and a helper can call back into
 * the program, without either including execution.
 */
#ifndef BPFVM_CORE_INSTANCE_H
#define BPFVM_CORE_INSTANCE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <bpfvm/bpfvm.h>

struct bpfvm_map;
struct bpfvm_prog;
struct bpfvm_run_ctx;
struct btf;
struct jit_arena;
struct vm_jit;

/* A helper of the instance: called as bpfvm_helper_fn with the run as its context. */
struct vm_helper {
	bpfvm_helper_fn fn;
	const char *name;
};

/* What execution does for the layers beneath it (installed by bpfvm__new). */
struct vm_exec_hooks {
	/* Free what the interpreter and the JIT built for prog (on its destruction). */
	void (*free_caches)(struct bpfvm_prog *prog);
	/* The interpreter's vm_call_function (core/run.h). */
	int (*call_function)(struct bpfvm_run_ctx *run, uint64_t fn, const uint64_t args[5],
			     uint64_t *ret);
};

struct bpfvm {
	struct vm_helper helpers[BPFVM_MAX_HELPER_ID + 1];
	struct bpfvm_prog *progs;
	bpfvm_trace_fn trace;
	void *trace_ctx;
	uint64_t prandom_state;
	/*
	 * Resolves bpf_tail_call(ctx, map, index) to a program, or NULL when
	 * the slot is empty.  Set by the maps layer, which owns program arrays.
	 */
	struct bpfvm_prog *(*tail_call_lookup)(struct bpfvm *vm, uint64_t map, uint64_t index);
	/* The maps of the instance (maps/map.c), and what guards the list. */
	struct bpfvm_map *maps;
	pthread_mutex_t maps_lock;
	uint32_t last_map_id;
	int ncpus;                   /* possible CPUs: per-CPU map slots */
	/* Where the maps live when they are shared between processes (maps/shm.h); NULL:
	 * the heap and private pages. */
	struct map_shm *shm;
	/* The JIT back-end's CPU features, read once: cpuid leaves a virtual
	 * machine (some 10 us a call), too slow to ask at every compilation. */
	uint32_t jit_features;
	/* The JIT's scratch memory, kept warm between compilations (jit_arena.c). */
	struct jit_arena *jit_arena;
	/* The code memory the last freed program left, for the next compilation (jit.c). */
	struct vm_jit *jit_spare;
	/* probe_read's fallback where process_vm_readv is refused: a pipe. */
	int probe_pipe[2];
	pthread_mutex_t probe_lock;
	struct vm_exec_hooks exec;
	/*
	 * The kernel's BTF, by which the verifier types pointers to kernel
	 * objects (verifier/kernel_btf.c): parsed at the first need (5 MB,
	 * some 150 ms) and kept for the instance's life, with its path; the
	 * lock guards the first parse.
	 */
	struct btf *kernel_btf;
	char *kernel_btf_path;
	pthread_mutex_t kernel_btf_lock;
};

/* The instance's list of programs (a program joins it when created). */
void vm_add_prog(struct bpfvm *vm, struct bpfvm_prog *prog);
void vm_remove_prog(struct bpfvm *vm, struct bpfvm_prog *prog);

#endif
