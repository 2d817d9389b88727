/*
 * helpers.h - the helper table: the kernel's helper ids, names and
 * prototypes (helpers.def), the implementations bpfvm provides, and how
 * an implementation is written (BPF_HELPER) so that a checked run has
 * its pointer arguments checked against the run's memory first, from the
 * prototype, the way the kernel's verifier checks them before the call.
 */
#ifndef BPFVM_HELPERS_HELPERS_H
#define BPFVM_HELPERS_HELPERS_H

#include <stdbool.h>
#include <stdint.h>

#include <bpfvm/bpfvm.h>

#include "helper_ids.h"

struct bpfvm_run_ctx;

/* The kernel's type flags (enum bpf_type_flag), above 8 bits of base type. */
#define HELPER_BASE_TYPE_BITS 8
#define HELPER_BASE_TYPE(t) ((t) & ((1u << HELPER_BASE_TYPE_BITS) - 1))
enum helper_type_flag {
	PTR_MAYBE_NULL = 1u << 8,
	MEM_RDONLY = 1u << 9,
	MEM_RINGBUF = 1u << 10,
	MEM_USER = 1u << 11,
	MEM_PERCPU = 1u << 12,
	OBJ_RELEASE = 1u << 13,
	PTR_UNTRUSTED = 1u << 14,
	MEM_UNINIT = 1u << 15,
	DYNPTR_TYPE_LOCAL = 1u << 16,
	DYNPTR_TYPE_RINGBUF = 1u << 17,
	MEM_FIXED_SIZE = 1u << 18,
	MEM_ALLOC = 1u << 19,
	PTR_TRUSTED = 1u << 20,
	MEM_RCU = 1u << 21,
	NON_OWN_REF = 1u << 22,
	DYNPTR_TYPE_SKB = 1u << 23,
	DYNPTR_TYPE_XDP = 1u << 24,
	MEM_ALIGNED = 1u << 25,
	MEM_WRITE = 1u << 26,
};

/* enum bpf_arg_type. */
enum helper_arg_type {
	ARG_DONTCARE = 0,
	ARG_CONST_MAP_PTR,
	ARG_PTR_TO_MAP_KEY,
	ARG_PTR_TO_MAP_VALUE,
	ARG_PTR_TO_MEM,
	ARG_PTR_TO_ARENA,
	ARG_CONST_SIZE,
	ARG_CONST_SIZE_OR_ZERO,
	ARG_PTR_TO_CTX,
	ARG_ANYTHING,
	ARG_SCALAR,
	ARG_PTR_TO_SPIN_LOCK,
	ARG_PTR_TO_SOCK_COMMON,
	ARG_PTR_TO_SOCKET,
	ARG_PTR_TO_BTF_ID,
	ARG_PTR_TO_RINGBUF_MEM,
	ARG_CONST_ALLOC_SIZE_OR_ZERO,
	ARG_PTR_TO_BTF_ID_SOCK_COMMON,
	ARG_PTR_TO_PERCPU_BTF_ID,
	ARG_PTR_TO_FUNC,
	ARG_PTR_TO_STACK,
	ARG_PTR_TO_CONST_STR,
	ARG_PTR_TO_TIMER,
	ARG_KPTR_XCHG_DEST,
	ARG_PTR_TO_DYNPTR,
	ARG_PTR_TO_MAP_VALUE_OR_NULL = PTR_MAYBE_NULL | ARG_PTR_TO_MAP_VALUE,
	ARG_PTR_TO_MEM_OR_NULL = PTR_MAYBE_NULL | ARG_PTR_TO_MEM,
	ARG_PTR_TO_CTX_OR_NULL = PTR_MAYBE_NULL | ARG_PTR_TO_CTX,
	ARG_PTR_TO_SOCKET_OR_NULL = PTR_MAYBE_NULL | ARG_PTR_TO_SOCKET,
	ARG_PTR_TO_STACK_OR_NULL = PTR_MAYBE_NULL | ARG_PTR_TO_STACK,
	ARG_PTR_TO_BTF_ID_OR_NULL = PTR_MAYBE_NULL | ARG_PTR_TO_BTF_ID,
	ARG_PTR_TO_UNINIT_MEM = MEM_UNINIT | MEM_WRITE | ARG_PTR_TO_MEM,
	ARG_PTR_TO_FIXED_SIZE_MEM = MEM_FIXED_SIZE | ARG_PTR_TO_MEM,
};

/* enum bpf_return_type. */
enum helper_ret_type {
	RET_INTEGER = 0,
	RET_VOID,
	RET_PTR_TO_MAP_VALUE,
	RET_PTR_TO_SOCKET,
	RET_PTR_TO_TCP_SOCK,
	RET_PTR_TO_SOCK_COMMON,
	RET_PTR_TO_MEM,
	RET_PTR_TO_MEM_OR_BTF_ID,
	RET_PTR_TO_BTF_ID,
	RET_PTR_TO_MAP_VALUE_OR_NULL = PTR_MAYBE_NULL | RET_PTR_TO_MAP_VALUE,
	RET_PTR_TO_SOCKET_OR_NULL = PTR_MAYBE_NULL | RET_PTR_TO_SOCKET,
	RET_PTR_TO_TCP_SOCK_OR_NULL = PTR_MAYBE_NULL | RET_PTR_TO_TCP_SOCK,
	RET_PTR_TO_SOCK_COMMON_OR_NULL = PTR_MAYBE_NULL | RET_PTR_TO_SOCK_COMMON,
	RET_PTR_TO_RINGBUF_MEM_OR_NULL = PTR_MAYBE_NULL | MEM_RINGBUF | RET_PTR_TO_MEM,
	RET_PTR_TO_DYNPTR_MEM_OR_NULL = PTR_MAYBE_NULL | RET_PTR_TO_MEM,
	RET_PTR_TO_BTF_ID_OR_NULL = PTR_MAYBE_NULL | RET_PTR_TO_BTF_ID,
	RET_PTR_TO_BTF_ID_TRUSTED = PTR_TRUSTED | RET_PTR_TO_BTF_ID,
};

/* One row of helpers.def, and bpfvm's implementation (NULL if none). */
struct helper_info {
	const char *name;           /* "bpf_map_lookup_elem" */
	bool provided;
	bool gpl_only;
	uint32_t ret;
	uint32_t args[5];
	uint8_t fixed_size_arg;     /* 1-5, or 0 */
	uint32_t fixed_size;
	uint32_t facts;             /* enum helper_fact (helper_ids.h) */
	bpfvm_helper_fn fn;
};

/* The row of a kernel helper id, or NULL for an id the kernel does not have. */
const struct helper_info *helper_info(int64_t id);

/*
 * Checked runs: are r1-r5 what helper id's prototype asks (maps of this
 * instance, memory the program may read or write of the sizes given)?
 * On a violation, the run's fault is set (vm_run_fault) and false returned.
 */
bool helper_args_ok(struct bpfvm_run_ctx *run, uint32_t id, const uint64_t r[5]);

/* The implementations bpfvm provides (helper_<name>), one per Y row. */
#define HELPER_DECL_Y(NAME)                                                              \
	uint64_t helper_##NAME(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5, \
			       struct bpfvm_run_ctx *run);
#define HELPER_DECL_N(NAME)
#define HELPER(ID, NAME, PROVIDED, ...) HELPER_DECL_##PROVIDED(NAME)
#include "helpers.def"
#undef HELPER
#undef HELPER_DECL_Y
#undef HELPER_DECL_N

/*
 * Define helper NAME: BPF_HELPER(map_lookup_elem) { ... body using r1-r5
 * and run ... }.  In a checked run the arguments are checked against the
 * prototype first; a bad one stops the run without calling the body.
 */
#define BPF_HELPER(NAME)                                                                       \
	static uint64_t NAME##_impl(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5, \
				    struct bpfvm_run_ctx *run);                                 \
	uint64_t helper_##NAME(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,      \
			       struct bpfvm_run_ctx *run)                                       \
	{                                                                                       \
		if (run->checked) {                                                             \
			const uint64_t r_[5] = { r1, r2, r3, r4, r5 };                          \
			if (!helper_args_ok(run, HELPER_ID_##NAME, r_))                         \
				return 0;                                                       \
		}                                                                               \
		return NAME##_impl(r1, r2, r3, r4, r5, run);                                    \
	}                                                                                       \
	static uint64_t NAME##_impl(uint64_t r1 __attribute__((unused)),                        \
				    uint64_t r2 __attribute__((unused)),                        \
				    uint64_t r3 __attribute__((unused)),                        \
				    uint64_t r4 __attribute__((unused)),                        \
				    uint64_t r5 __attribute__((unused)),                        \
				    struct bpfvm_run_ctx *run __attribute__((unused)))

/* A negative errno as a helper's r0. */
#define HELPER_ERR(e) ((uint64_t)(int64_t)(e))

/* Register the built-in helpers in a new instance (helpers.c). */
void helpers_register_builtin(struct bpfvm *vm);

/*
 * kernel_only.c: the helpers only the kernel carries out.  Register, in
 * each id of vm that has none, a stand-in that stops the run (so that a
 * program calling them can be created and verified, never run); is id
 * such a helper in vm (no implementation, or the stand-in); and what it
 * needs ("kernel stacks"), for messages.
 */
void helpers_register_kernel_only(struct bpfvm *vm);
bool helper_is_kernel_only(const struct bpfvm *vm, int64_t id);
const char *helper_kernel_need(int64_t id);

/* probe_read.c: copy from this process's memory without faulting; -EFAULT if unreadable. */
int helper_copy_nofault(struct bpfvm *vm, void *dst, uint64_t src, uint64_t size);
/*
 * Copy a NUL-terminated string of at most size bytes (the last becomes a
 * NUL if none came): returns the bytes copied including the NUL, or
 * -EFAULT with dst zeroed.  user: strncpy_from_user_nofault's count,
 * which is 0, not 1, for an empty string.
 */
long helper_copy_str_nofault(struct bpfvm *vm, char *dst, uint64_t src, uint64_t size, bool user);

/* trace_printk.c: the kernel's bpf_bprintf_prepare + bstr_printf. */
long helper_bprintf(struct bpfvm *vm, char *out, size_t out_size, const char *fmt,
		    uint64_t fmt_size, const uint64_t *args, uint32_t nargs);

#endif
