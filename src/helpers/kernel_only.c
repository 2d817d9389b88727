/*
 * kernel_only.c - the helpers only the kernel can carry out (the N rows
 * of helpers.def: kernel stacks, cgroups, sockets, perf events, ...).
 * Their prototypes are the kernel's, so a program calling them can still
 * be verified; to let such a program be created at all, an instance may
 * register a stand-in for each (helpers_register_kernel_only).  A
 * stand-in computes nothing: a run that reaches it stops (a checked run
 * at once, naming the helper), and r0 gets -EOPNOTSUPP, never a made-up
 * result.  helper_kernel_need says, for messages, what the helper needs.
 */
#include <errno.h>
#include <string.h>

#include "../core/run.h"
#include "helpers.h"

static uint64_t kernel_only_call(struct bpfvm_run_ctx *run, uint32_t id)
{
	const struct helper_info *h = helper_info(id);

	vm_run_fault(run, -EOPNOTSUPP, "%s#%u needs the kernel (%s): bpfvm cannot run it",
		     h->name, id, helper_kernel_need(id));
	return HELPER_ERR(-EOPNOTSUPP);
}

/* One stand-in per kernel-only helper, each knowing its id. */
#define STAND_IN_Y(ID, NAME)
#define STAND_IN_N(ID, NAME)                                                                  \
	static uint64_t kernel_only_##NAME(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, \
					   uint64_t r5, struct bpfvm_run_ctx *run)             \
	{                                                                                      \
		(void)r1, (void)r2, (void)r3, (void)r4, (void)r5;                              \
		return kernel_only_call(run, ID);                                              \
	}
#define HELPER(ID, NAME, P, ...) STAND_IN_##P(ID, NAME)
#include "helpers.def"
#undef HELPER

#define ENTRY_Y(ID, NAME)
#define ENTRY_N(ID, NAME) [ID] = kernel_only_##NAME,
static const bpfvm_helper_fn stand_ins[] = {
#define HELPER(ID, NAME, P, ...) ENTRY_##P(ID, NAME)
#include "helpers.def"
#undef HELPER
};

void helpers_register_kernel_only(struct bpfvm *vm)
{
	for (uint32_t id = 1; id < sizeof(stand_ins) / sizeof(stand_ins[0]); id++)
		if (stand_ins[id] && !vm->helpers[id].fn)
			bpfvm__set_helper(vm, id, helper_info(id)->name, stand_ins[id]);
}

bool helper_is_kernel_only(const struct bpfvm *vm, int64_t id)
{
	if (id <= 0 || id > BPFVM_MAX_HELPER_ID || !helper_info(id))
		return false;
	if (!vm->helpers[id].fn)
		return !helper_info(id)->provided;
	return (size_t)id < sizeof(stand_ins) / sizeof(stand_ins[0]) &&
	       vm->helpers[id].fn == stand_ins[id];
}

/*
 * What a helper needs, by the families of the kernel's helper names;
 * the first rule whose pattern the name (without "bpf_") contains wins.
 */
static const struct {
	const char *pattern;
	const char *need;
} needs[] = {
	{ "stack", "kernel stacks" },
	{ "cgroup", "cgroups" },
	{ "cgrp", "cgroups" },
	{ "perf_", "perf events" },
	{ "branch", "the CPU's branch records" },
	{ "storage", "kernel object storage" },
	{ "dynptr", "dynamic pointers" },
	{ "xdp_", "XDP packets" },
	{ "skb_", "socket buffers" },
	{ "user_ringbuf", "user ring buffers" },
	{ "user", "another process's memory" },
	{ "task", "kernel task objects" },
	{ "sk_", "sockets" },
	{ "skc_", "sockets" },
	{ "sock", "sockets" },
	{ "tcp_", "sockets" },
	{ "msg_", "sockets" },
	{ "hdr_opt", "sockets" },
	{ "bind", "sockets" },
	{ "netns", "network namespaces" },
	{ "redirect", "network devices" },
	{ "check_mtu", "network devices" },
	{ "csum", "socket buffers" },
	{ "lwt_", "socket buffers" },
	{ "hash", "socket buffers" },
	{ "fib_", "the kernel's routing tables" },
	{ "route", "the kernel's routing tables" },
	{ "sysctl_", "sysctls" },
	{ "rc_", "infrared devices" },
	{ "timer_", "kernel timers" },
	{ "signal", "kernel signals" },
	{ "override_return", "kprobes on the kernel" },
	{ "func_", "kernel functions' attach points" },
	{ "retval", "kernel functions' attach points" },
	{ "attach_cookie", "kernel attach points" },
	{ "seq_", "kernel seq files" },
	{ "btf", "kernel BTF" },
	{ "ima_", "the kernel's integrity measurement" },
	{ "bprm", "the kernel's exec state" },
	{ "d_path", "kernel file objects" },
	{ "find_vma", "kernel memory maps" },
	{ "cpu_ptr", "kernel per-CPU data" },
	{ "kallsyms", "kernel symbols" },
	{ "sys_", "the bpf() system call" },
	{ "kptr", "kernel objects" },
};

const char *helper_kernel_need(int64_t id)
{
	const struct helper_info *h = helper_info(id);
	const char *name = h ? h->name + 4 : "";   /* after "bpf_" */

	for (size_t i = 0; i < sizeof(needs) / sizeof(needs[0]); i++)
		if (strstr(name, needs[i].pattern))
			return needs[i].need;
	return "the kernel";
}
