/*
 * run.h - the state of one run of a program, which helpers receive as their
 * context (the helper calling convention: bpfvm_helper_fn's ctx is a
 * struct bpfvm_run_ctx): the memory regions a checked run may touch, the
 * packet the legacy packet loads read, the task the run is about, and how
 * a run that stops early says why.  Each way in fills one per run
 * (bpfvm_prog__run in vm/, test and event runs in hooks/).
 */
#ifndef BPFVM_CORE_RUN_H
#define BPFVM_CORE_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <bpfvm/bpfvm.h>

#include "instance.h"

struct bpfvm_log;
struct bpfvm_map;
struct bpfvm_prog;

/* A span of host memory a checked run may read, and perhaps write. */
struct vm_region {
	uintptr_t start;
	uintptr_t end;
	bool writable;
	const char *what;   /* "stack", "input", ... for messages */
};

/*
 * The task a run is about, for the helpers that ask about "current"
 * (get_current_pid_tgid, _uid_gid, _comm, get_smp_processor_id, bpf_printk's
 * line) and that read user memory (probe_read_user(_str), copy_from_user,
 * the legacy probe_read on a user address).  An event source (events/) sets
 * one per event for the traced thread; without one, current is the thread
 * running bpfvm.  Each operation gets the task pointer the run carries.
 */
/* The registers a user stack walk starts from (the kernel's task_pt_regs). */
struct vm_user_regs {
	uint64_t ip, sp, bp;
	uint64_t cs;    /* 0x33 (__USER_CS): 64-bit code */
	/* A uprobe on push %rbp or endbr64 (is_uprobe_at_func_entry): rbp is still the
	 * caller's, so the walk takes the return address at sp first. */
	bool at_func_entry;
};

struct vm_task_ops {
	uint64_t (*pid_tgid)(void *task);       /* tgid << 32 | tid */
	uint64_t (*uid_gid)(void *task);        /* gid << 32 | uid (real ids) */
	void (*comm)(void *task, char comm[16]); /* NUL-padded */
	uint32_t (*cpu)(void *task);            /* where it last ran */
	/* Copy size bytes at addr of the task's memory: 0, or -EFAULT (dst then undefined). */
	int (*read_mem)(void *task, void *dst, uint64_t addr, uint64_t size);
	/* Enforcement (NULL where the source cannot): bpf_override_return's rc for the
	 * system call the event is about; bpf_send_signal(_thread): 0 or the kernel's error. */
	int (*override_return)(void *task, uint64_t rc);
	int (*send_signal)(void *task, uint32_t sig, bool thread);
	/* bpf_get_current_task: the address of a task_struct laid out for the task
	 * in memory bpfvm owns, valid until the event ends; 0 where none can be. */
	uint64_t (*task_struct)(void *task);
	/* Does [addr, addr + size) lie in a kernel object laid out for the event
	 * (a task_struct, a struct filename), which the legacy probe_read reads as
	 * kernel memory, not the task's?  NULL: nothing is. */
	bool (*kernel_mem)(void *task, uint64_t addr, uint64_t size);
	/* The one span those objects lie in so far (0, 0: none), which loads through
	 * BTF-typed pointers may read (bpfvm_run_ctx's kmem).  NULL: none. */
	void (*kernel_span)(void *task, uint64_t *start, uint64_t *size);
	/* A uprobe's: bpf_get_func_ip's address (0 or -EOPNOTSUPP where the event has none)
	 * and bpf_get_attach_cookie's value (NULL: the cookie is 0). */
	int (*func_ip)(void *task, uint64_t *ip);
	uint64_t (*attach_cookie)(void *task);
	/* The thread's user registers at the event (bpf_get_stack(id)'s walk): 0, or a
	 * negative errno where the source has none.  NULL: the source cannot tell. */
	int (*user_regs)(void *task, struct vm_user_regs *regs);
};

#define VM_MAX_REGIONS 16
#define VM_MAX_VALUE_MAPS 8
#define VM_MAX_RECORDS 32

/* One run of a program; helpers receive it as their context. */
struct bpfvm_run_ctx {
	struct bpfvm *vm;
	struct bpfvm_prog *prog;     /* the program running now (changes on a tail call) */
	bool checked;
	unsigned nregions;
	const uint8_t *pkt;          /* what LD_ABS / LD_IND read */
	uint64_t pkt_len;
	uint32_t tail_calls;
	/* A helper that finds its arguments bad in a checked run calls
	 * vm_run_fault(): fault (a negative errno) and fault_msg say why,
	 * and the interpreter stops the run naming the instruction. */
	int fault;
	struct bpfvm_log *log;
	int cpu;                     /* the CPU the run started on: its per-CPU map slots */
	uint64_t budget;             /* checked runs: instructions left, across helper calls */
	uint32_t cb_depth;           /* callbacks (bpf_loop, for_each_map_elem) running now */
	/* Checked runs: memory helpers handed out (map values, ring buffer records). */
	unsigned nvalue_maps;
	unsigned nrecords;
	/* Checked runs: the bpf_spin_lock this run holds (0: none), so that a
	 * second lock, a foreign unlock or an exit while locked is an error
	 * and not a hang, as the kernel's verifier refuses them. */
	uint64_t held_lock;
	/* Set by an execution engine whose functions are not the interpreter's
	 * (the JIT): how vm_call_function calls one.  NULL: the interpreter. */
	int (*call_function)(struct bpfvm_run_ctx *run, uint64_t fn, const uint64_t args[5],
			     uint64_t *ret);
	/* The JIT's (jit.c): the native stack pointer its entry unwinds to on
	 * a fault, and the lowest r10 from which a call may still add a frame. */
	uint64_t jit_rsp;
	uint64_t jit_stack_limit;
	/* The program type's context of a test run (hooks/), for its helpers. */
	void *hook;
	/* The current task (see struct vm_task_ops); NULL: bpfvm's own thread. */
	const struct vm_task_ops *task_ops;
	void *task;
	/*
	 * Where kernel objects laid out for the run lie (task_ops->kernel_span,
	 * as bpf_get_current_task_btf last saw it): a load through a BTF-typed
	 * pointer (the kernel's BPF_PROBE_MEM, facts' FACT_MEM_PROBE) reads
	 * memory only where it starts in [kmem_start, kmem_start + kmem_size),
	 * and gives 0 elsewhere, as a faulting load does in the kernel.
	 */
	uint64_t kmem_start, kmem_size;
	/*
	 * The tables last, each read only below its count (or, fault_msg,
	 * from its first byte on): vm_run_init clears what comes before them.
	 */
	struct vm_region regions[VM_MAX_REGIONS];
	struct bpfvm_map *value_maps[VM_MAX_VALUE_MAPS];
	struct vm_region records[VM_MAX_RECORDS];
	char fault_msg[256];
};

/* Stop a checked run from a helper: err (negative errno) and the reason. */
__attribute__((format(printf, 3, 4))) void vm_run_fault(struct bpfvm_run_ctx *run, int err,
							const char *fmt, ...);
/* Remember that the run got values of map (checked runs). */
void vm_run_note_map(struct bpfvm_run_ctx *run, struct bpfvm_map *map);

/*
 * Call the bpf function at fn (an address from lddw src 4, as the program
 * holds it) with r1-r5, in the run's mode, on a fresh frame: the callback
 * of bpf_loop and for_each_map_elem.  Returns 0 with r0 in *ret, or a
 * negative errno when fn is not a function of the running program or the
 * callee faults (then the run stops too).  Native code calls its own
 * functions (run->call_function); else the interpreter does
 * (vm->exec.call_function).
 */
int vm_call_function(struct bpfvm_run_ctx *run, uint64_t fn, const uint64_t args[5],
		     uint64_t *ret);

/*
 * A fresh run, as a zeroed struct but for the tables' unused entries (some
 * 2 KiB a run need not clear: an event run is on the hot path of a probe).
 */
static inline void vm_run_init(struct bpfvm_run_ctx *run)
{
	memset(run, 0, offsetof(struct bpfvm_run_ctx, regions));
	run->fault_msg[0] = '\0';
}

/* Add a region to a checked run; returns false when the table is full. */
bool vm_run_add_region(struct bpfvm_run_ctx *run, const void *start, uint64_t len,
		       bool writable, const char *what);

#endif
