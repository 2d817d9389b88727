/*
 * helpers.c - the helper functions built into every instance, by the
 * kernel's helper id.  These are the ones that need nothing but the run
 * itself: time, random numbers, the CPU.  Helpers over maps and contexts
 * join this table with their layers.
 */
#include <sched.h>
#include <time.h>

#include "../vm/vm.h"

/* The kernel's helper ids (enum bpf_func_id in <linux/bpf.h>). */
enum {
	BPF_FUNC_ktime_get_ns = 5,
	BPF_FUNC_get_prandom_u32 = 7,
	BPF_FUNC_get_smp_processor_id = 8,
	BPF_FUNC_get_numa_node_id = 42,
	BPF_FUNC_jiffies64 = 118,
	BPF_FUNC_ktime_get_boot_ns = 125,
	BPF_FUNC_ktime_get_coarse_ns = 160,
	BPF_FUNC_ktime_get_tai_ns = 208,
};

#define UNUSED_ARGS (void)r1, (void)r2, (void)r3, (void)r4, (void)r5

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t ktime_get_ns(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
			     struct bpfvm_run_ctx *run)
{
	UNUSED_ARGS, (void)run;
	return clock_ns(CLOCK_MONOTONIC);
}

static uint64_t ktime_get_boot_ns(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
				  struct bpfvm_run_ctx *run)
{
	UNUSED_ARGS, (void)run;
	return clock_ns(CLOCK_BOOTTIME);
}

static uint64_t ktime_get_coarse_ns(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
				    struct bpfvm_run_ctx *run)
{
	UNUSED_ARGS, (void)run;
	return clock_ns(CLOCK_MONOTONIC_COARSE);
}

static uint64_t ktime_get_tai_ns(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
				 struct bpfvm_run_ctx *run)
{
	UNUSED_ARGS, (void)run;
	return clock_ns(CLOCK_TAI);
}

/* jiffies at the kernel's usual HZ of 250, counted from boot. */
static uint64_t jiffies64(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
			  struct bpfvm_run_ctx *run)
{
	UNUSED_ARGS, (void)run;
	return clock_ns(CLOCK_BOOTTIME) / (1000000000ull / 250);
}

/* xorshift64*, per instance: not for cryptography, as in the kernel. */
static uint64_t get_prandom_u32(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
				struct bpfvm_run_ctx *run)
{
	uint64_t x = __atomic_load_n(&run->vm->prandom_state, __ATOMIC_RELAXED);

	UNUSED_ARGS;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	__atomic_store_n(&run->vm->prandom_state, x, __ATOMIC_RELAXED);
	return (uint32_t)((x * 0x2545f4914f6cdd1dull) >> 32);
}

static uint64_t get_smp_processor_id(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
				     uint64_t r5, struct bpfvm_run_ctx *run)
{
	int cpu = sched_getcpu();

	UNUSED_ARGS, (void)run;
	return cpu < 0 ? 0 : (uint64_t)cpu;
}

static uint64_t get_numa_node_id(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
				 struct bpfvm_run_ctx *run)
{
	UNUSED_ARGS, (void)run;
	return 0;
}

void helpers_register_builtin(struct bpfvm *vm)
{
	static const struct {
		uint32_t id;
		const char *name;
		bpfvm_helper_fn fn;
	} builtin[] = {
		{ BPF_FUNC_ktime_get_ns, "bpf_ktime_get_ns", ktime_get_ns },
		{ BPF_FUNC_get_prandom_u32, "bpf_get_prandom_u32", get_prandom_u32 },
		{ BPF_FUNC_get_smp_processor_id, "bpf_get_smp_processor_id", get_smp_processor_id },
		{ BPF_FUNC_get_numa_node_id, "bpf_get_numa_node_id", get_numa_node_id },
		{ BPF_FUNC_jiffies64, "bpf_jiffies64", jiffies64 },
		{ BPF_FUNC_ktime_get_boot_ns, "bpf_ktime_get_boot_ns", ktime_get_boot_ns },
		{ BPF_FUNC_ktime_get_coarse_ns, "bpf_ktime_get_coarse_ns", ktime_get_coarse_ns },
		{ BPF_FUNC_ktime_get_tai_ns, "bpf_ktime_get_tai_ns", ktime_get_tai_ns },
	};

	for (size_t i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++)
		bpfvm__set_helper(vm, builtin[i].id, builtin[i].name, builtin[i].fn);
}
