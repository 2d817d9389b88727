/*
 * time.c - helpers that need nothing but the run itself: clocks
 * (ktime_get_*_ns, jiffies64), random numbers, the CPU and NUMA node.
 */
#include <sched.h>
#include <time.h>

#include "../core/run.h"
#include "helpers.h"

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

BPF_HELPER(ktime_get_ns)
{
	return clock_ns(CLOCK_MONOTONIC);
}

BPF_HELPER(ktime_get_boot_ns)
{
	return clock_ns(CLOCK_BOOTTIME);
}

BPF_HELPER(ktime_get_coarse_ns)
{
	return clock_ns(CLOCK_MONOTONIC_COARSE);
}

BPF_HELPER(ktime_get_tai_ns)
{
	return clock_ns(CLOCK_TAI);
}

/* jiffies at the kernel's usual HZ of 250, counted from boot. */
BPF_HELPER(jiffies64)
{
	return clock_ns(CLOCK_BOOTTIME) / (1000000000ull / 250);
}

/* xorshift64*, per instance: not for cryptography, as in the kernel. */
BPF_HELPER(get_prandom_u32)
{
	uint64_t x = __atomic_load_n(&run->vm->prandom_state, __ATOMIC_RELAXED);

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	__atomic_store_n(&run->vm->prandom_state, x, __ATOMIC_RELAXED);
	return (uint32_t)((x * 0x2545f4914f6cdd1dull) >> 32);
}

/*
 * The CPU the run started on: the one whose per-CPU map slots it uses; for
 * a traced task's event, the CPU that task last ran on.
 */
BPF_HELPER(get_smp_processor_id)
{
	if (run->task_ops)
		return run->task_ops->cpu(run->task);
	return (uint64_t)run->cpu;
}

BPF_HELPER(get_numa_node_id)
{
	return 0;
}
