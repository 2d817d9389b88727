/*
 * helpers.c - the helper table, indexed by the kernel's helper id and
 * built from helpers.def, and what every instance starts with: each
 * helper bpfvm provides, registered under its id and kernel name.
 *
 * Also the checked-run argument checks (helper_args_ok): the prototype
 * says which register is a map, a key, a value, a buffer and its size;
 * each must be a map of this instance or memory the program may touch,
 * as the kernel's verifier proves before a call (check_func_arg).
 */
#include "helpers.h"

#include <errno.h>
#include <inttypes.h>

#include "../core/run.h"
#include "../maps/map.h"

#define HELPER_FN_Y(NAME) helper_##NAME
#define HELPER_FN_N(NAME) NULL
#define PROVIDED_Y true
#define PROVIDED_N false

static const struct helper_info helper_table[] = {
#define HELPER(ID, NAME, P, GPL, RET, A1, A2, A3, A4, A5, FA, FS, FACTS)                  \
	[ID] = { "bpf_" #NAME, PROVIDED_##P, GPL, RET, { A1, A2, A3, A4, A5 }, FA, FS,     \
		 FACTS, HELPER_FN_##P(NAME) },
#include "helpers.def"
#undef HELPER
};

const struct helper_info *helper_info(int64_t id)
{
	if (id <= 0 || id >= (int64_t)(sizeof(helper_table) / sizeof(helper_table[0])) ||
	    !helper_table[id].name)
		return NULL;
	return &helper_table[id];
}

bool helper_has(int64_t id, uint32_t fact)
{
	const struct helper_info *h = helper_info(id);

	return h && (h->facts & fact);
}

void helpers_register_builtin(struct bpfvm *vm)
{
	for (uint32_t id = 1; id < sizeof(helper_table) / sizeof(helper_table[0]); id++)
		if (helper_table[id].fn)
			bpfvm__set_helper(vm, id, helper_table[id].name, helper_table[id].fn);
}

/* bpf_tail_call: the interpreter jumps itself; only callx could get here. */
BPF_HELPER(tail_call)
{
	vm_run_fault(run, -EINVAL, "bpf_tail_call cannot be reached through callx");
	return HELPER_ERR(-EINVAL);
}

/* ---- checked runs: arguments against the prototype ----------------------------- */

static bool mem_ok(struct bpfvm_run_ctx *run, const struct helper_info *h, int reg, uint64_t addr,
		   uint64_t size, bool write, const char *what)
{
	if (!size || vm_run_access_ok(run, addr, size, write))
		return true;
	vm_run_fault(run, -EFAULT,
		     "%s: R%d (%s, %" PRIu64 " bytes at 0x%" PRIx64 ") is outside the memory "
		     "the program may %s",
		     h->name, reg, what, size, addr, write ? "write" : "read");
	return false;
}

/* A NUL-terminated string the program may read (ARG_PTR_TO_CONST_STR). */
static bool const_str_ok(struct bpfvm_run_ctx *run, const struct helper_info *h, int reg,
			 uint64_t addr)
{
	for (uint64_t p = addr;; p++) {
		if (!vm_run_access_ok(run, p, 1, false)) {
			vm_run_fault(run, -EFAULT, "%s: R%d (string at 0x%" PRIx64 ") is not a "
						   "NUL-terminated string the program may read",
				     h->name, reg, addr);
			return false;
		}
		if (!*(const char *)(uintptr_t)p)
			return true;
	}
}

static bool record_ok(struct bpfvm_run_ctx *run, const struct helper_info *h, int reg,
		      uint64_t addr)
{
	for (unsigned i = 0; i < run->nrecords; i++)
		if (run->records[i].start == addr)
			return true;
	vm_run_fault(run, -EINVAL, "%s: R%d (0x%" PRIx64 ") is not a ring buffer record this run "
				   "reserved and has not submitted or discarded",
		     h->name, reg, addr);
	return false;
}

/* Pointer arguments; sizes come from the next argument or the prototype. */
static bool ptr_arg_ok(struct bpfvm_run_ctx *run, const struct helper_info *h, int i,
		       const uint64_t r[5], const struct bpfvm_map *map)
{
	uint32_t t = h->args[i], base = HELPER_BASE_TYPE(t);
	bool write = (t & (MEM_WRITE | MEM_UNINIT)) || !(t & MEM_RDONLY);
	uint64_t size;

	if (!r[i] && (t & PTR_MAYBE_NULL))
		return true;
	switch (base) {
	case ARG_PTR_TO_MAP_KEY:
		return !map || mem_ok(run, h, i + 1, r[i], map->key_size, false, "key");
	case ARG_PTR_TO_MAP_VALUE:
		return !map || mem_ok(run, h, i + 1, r[i], map->value_size,
			      (t & (MEM_WRITE | MEM_UNINIT)) != 0, "value");
	case ARG_PTR_TO_MEM:
		size = (t & MEM_FIXED_SIZE) ? h->fixed_size : (i < 4 ? r[i + 1] : 0);
		if (!size && i < 4 && HELPER_BASE_TYPE(h->args[i + 1]) == ARG_CONST_SIZE) {
			vm_run_fault(run, -EINVAL, "%s: R%d invalid zero-sized read", h->name, i + 2);
			return false;
		}
		return mem_ok(run, h, i + 1, r[i], size, write, "buffer");
	case ARG_PTR_TO_CONST_STR:
		return const_str_ok(run, h, i + 1, r[i]);
	case ARG_PTR_TO_SPIN_LOCK:
		if (r[i] % 4) {
			vm_run_fault(run, -EFAULT, "%s: R%d (0x%" PRIx64 ") is not 4-byte aligned",
				     h->name, i + 1, r[i]);
			return false;
		}
		return mem_ok(run, h, i + 1, r[i], 4, true, "bpf_spin_lock");
	case ARG_PTR_TO_RINGBUF_MEM:
		return record_ok(run, h, i + 1, r[i]);
	default:
		return true;   /* contexts, callbacks' ctx, scalars: nothing to check here */
	}
}

bool helper_args_ok(struct bpfvm_run_ctx *run, uint32_t id, const uint64_t r[5])
{
	const struct helper_info *h = helper_info(id);
	const struct bpfvm_map *map = NULL;

	if (!h)
		return true;
	for (int i = 0; i < 5 && h->args[i] != ARG_DONTCARE; i++) {
		if (HELPER_BASE_TYPE(h->args[i]) == ARG_CONST_MAP_PTR) {
			if (!map_is_live(run->vm, r[i])) {
				vm_run_fault(run, -EINVAL, "%s: R%d (0x%" PRIx64 ") is not a map of "
							   "this instance",
					     h->name, i + 1, r[i]);
				return false;
			}
			map = (const struct bpfvm_map *)(uintptr_t)r[i];
			continue;
		}
		if (!ptr_arg_ok(run, h, i, r, map))
			return false;
	}
	return true;
}
