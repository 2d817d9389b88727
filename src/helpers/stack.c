/*
 * stack.c - bpf_get_stackid and bpf_get_stack with the user stack of the
 * run's task (run->task_ops), as the kernel's perf callchain gives it
 * for a user-space stack (perf_callchain_user on x86-64): the thread's
 * instruction pointer at the event, then the return address of each
 * frame found by following frame pointers from rbp (each frame two
 * words: the caller's rbp, the return address, read with the task's
 * read_mem); the walk stops at the depth asked for (at most the sysctl
 * perf_event_max_stack's default, 127) or at the first frame that
 * cannot be read (the kernel checks only that the frame lies below the
 * user address limit, which a read beyond it fails anyway; no alignment
 * or stack pointer check).  A 32-bit task (cs not __USER_CS) is walked
 * with 4-byte frames, as perf_callchain_user32.  At a uprobe on a
 * function's first instruction (push %rbp, or endbr64: the task's
 * at_func_entry), rbp is still the caller's, and the return address at
 * the stack pointer comes second, as the kernel takes it.
 *
 * Kernel stacks (no BPF_F_USER_STACK): bpfvm has no kernel frames, so a
 * kernel callchain is empty, and the helpers answer as the kernel does
 * for an empty one: bpf_get_stackid -EFAULT, bpf_get_stack 0 (the buffer
 * zeroed), or -EFAULT when asked to skip frames.  A run with no task
 * (bpfvm's own thread: `bpfvm run`, test runs) has an empty user stack,
 * with the same answers: the kernel's test run would walk its test
 * runner's stack, which has no meaning here.
 *
 * bpf_get_task_stack answers for the current task as bpf_get_stack does,
 * and for another as the kernel does for a task that is not current.
 *
 * BPF_F_USER_BUILD_ID / BPF_F_STACK_BUILD_ID: each frame becomes a build
 * id and file offset (util/build_id.c, from the task's /proc/PID/maps),
 * or keeps its ip with status BPF_STACK_BUILD_ID_IP where no build id is
 * found.
 */
#include <errno.h>

#include "../core/run.h"
#include "../maps/map.h"
#include "../util/build_id.h"
#include "helpers.h"

#define F_SKIP_MASK 0xffull
#define F_USER_STACK (1ull << 8)
#define F_FAST_STACK_CMP (1ull << 9)
#define F_REUSE_STACKID (1ull << 10)
#define F_USER_BUILD_ID (1ull << 11)
#define USER_CS 0x33   /* __USER_CS: 64-bit user code */

/* 32-bit frames: next_frame and return_address, u32 each. */
static uint32_t walk_compat(struct bpfvm_run_ctx *run, uint64_t fp, uint64_t *ips, uint32_t nr,
			    uint32_t max, struct vm_user_regs regs)
{
	uint32_t frame[2];

	if (regs.at_func_entry && nr < max &&   /* push %ebp only: no endbr64 in 32-bit code */
	    !run->task_ops->read_mem(run->task, frame, (uint32_t)regs.sp, 4))
		ips[nr++] = frame[0];
	while (nr < max && !run->task_ops->read_mem(run->task, frame, fp, sizeof(frame))) {
		ips[nr++] = frame[1];
		fp = frame[0];
	}
	return nr;
}

/* The task's user callchain, at most max frames: how many. */
static uint32_t user_callchain(struct bpfvm_run_ctx *run, uint64_t *ips, uint32_t max)
{
	const struct vm_task_ops *ops = run->task_ops;
	struct vm_user_regs regs;
	uint64_t frame[2], fp;
	uint32_t nr = 0;

	if (!ops || !ops->user_regs || ops->user_regs(run->task, &regs))
		return 0;
	if (nr < max)
		ips[nr++] = regs.ip;
	if (regs.cs != USER_CS)
		return walk_compat(run, (uint32_t)regs.bp, ips, nr, max, regs);
	if (regs.at_func_entry && nr < max && !ops->read_mem(run->task, frame, regs.sp, 8))
		ips[nr++] = frame[0];
	for (fp = regs.bp; nr < max; fp = frame[0]) {
		if (ops->read_mem(run->task, frame, fp, sizeof(frame)))
			break;
		ips[nr++] = frame[1];
	}
	return nr;
}

static uint32_t callchain(struct bpfvm_run_ctx *run, uint64_t flags, uint64_t *ips, uint32_t max)
{
	return flags & F_USER_STACK ? user_callchain(run, ips, max) : 0;
}

/* stack_map_get_build_id_offset for the run's task. */
static void resolve_build_ids(void *ctx, struct stack_build_id *ids, uint32_t n, bool user)
{
	struct bpfvm_run_ctx *run = ctx;
	struct util_build_id_cache cache = { .found = -1 };
	int32_t pid = run->task_ops ? (int32_t)(run->task_ops->pid_tgid(run->task) >> 32) : 0;

	for (uint32_t i = 0; i < n; i++) {
		if (user && pid && !util_build_id_at(&cache, pid, ids[i].ip, ids[i].build_id,
						      &ids[i].ip)) {
			ids[i].status = STACK_BUILD_ID_VALID;
			continue;
		}
		ids[i].status = STACK_BUILD_ID_IP;
		memset(ids[i].build_id, 0, sizeof(ids[i].build_id));
	}
}

BPF_HELPER(get_stackid)
{
	struct bpfvm_map *map = (struct bpfvm_map *)(uintptr_t)r2;
	uint64_t flags = r3, ips[STACK_MAX_DEPTH];
	uint32_t nr;

	/* the verifier lets only stack trace maps through; a trusted program is not verified */
	if (map->type != BPFVM_MAP_TYPE_STACK_TRACE ||
	    (flags & ~(F_SKIP_MASK | F_USER_STACK | F_FAST_STACK_CMP | F_REUSE_STACKID)))
		return HELPER_ERR(-EINVAL);
	nr = callchain(run, flags,
		       ips, stack_max_depth(map->value_size, stack_map_elem_size(map), flags));
	return (uint64_t)stack_map_get_id(map, ips, nr, flags, resolve_build_ids, run);
}

/*
 * __bpf_get_stack: the frames written, in bytes, or the kernel's error.
 * cross: for a task that is not the current one, whose user stack the
 * kernel's perf callchain does not walk (-EOPNOTSUPP) and whose kernel
 * stack bpfvm does not have (empty).
 */
static uint64_t get_stack_of(struct bpfvm_run_ctx *run, void *buf, uint32_t size, uint64_t flags,
			     bool cross)
{
	uint32_t skip = (uint32_t)(flags & F_SKIP_MASK), elem, nr;
	uint64_t ips[STACK_MAX_DEPTH];
	bool build_id = flags & F_USER_BUILD_ID;
	long err = -EINVAL;

	if ((flags & ~(F_SKIP_MASK | F_USER_STACK | F_USER_BUILD_ID)) ||
	    (build_id && !(flags & F_USER_STACK)))
		goto clear;
	elem = build_id ? STACK_BUILD_ID_SIZE : 8;
	if (size % elem)
		goto clear;
	err = -EOPNOTSUPP;
	if (cross && (flags & F_USER_STACK))
		goto clear;
	nr = cross ? 0 : callchain(run, flags, ips, stack_max_depth(size, elem, flags));
	err = -EFAULT;
	if (nr < skip)
		goto clear;
	nr -= skip;
	if (build_id) {
		struct stack_build_id ids[STACK_MAX_DEPTH];

		for (uint32_t i = 0; i < nr; i++)
			ids[i].ip = ips[skip + i];
		resolve_build_ids(run, ids, nr, true);
		memcpy(buf, ids, nr * sizeof(ids[0]));   /* buf need not be aligned */
	} else {
		memcpy(buf, ips + skip, nr * 8ull);
	}
	memset((char *)buf + nr * elem, 0, size - nr * elem);
	return nr * elem;
clear:
	memset(buf, 0, size);
	return HELPER_ERR(err);
}

BPF_HELPER(get_stack)
{
	(void)r1;
	return get_stack_of(run, (void *)(uintptr_t)r2, (uint32_t)r3, r4, false);
}

/*
 * bpf_get_task_stack(task, ...): the current task is the one whose
 * task_struct bpf_get_current_task hands out; for it, what bpf_get_stack
 * gives (the kernel walks its user registers, task_pt_regs, which are
 * where the event stopped it).  Any other task is another thread: its
 * user stack is refused and its kernel stack empty, as above.  No task
 * (which the kernel's verifier rules out) faults, as a task whose stack
 * is gone does.
 */
BPF_HELPER(get_task_stack)
{
	void *buf = (void *)(uintptr_t)r2;
	uint32_t size = (uint32_t)r3;
	const struct vm_task_ops *ops = run->task_ops;
	bool current = r1 && ops && ops->task_struct && r1 == ops->task_struct(run->task);

	if (!r1) {
		memset(buf, 0, size);
		return HELPER_ERR(-EFAULT);
	}
	return get_stack_of(run, buf, size, r4, !current);
}
