/*
 * helper_ids.h - the names of the kernel's helper ids and of the facts
 * helpers.def records per helper, for every layer that must single out a
 * helper (the verifier, the interpreter, the JIT, the loader): each says
 * HELPER_ID_tail_call or asks helper_has(id, HF_CHANGES_PKT), never 12.
 * Nothing here needs the run context, so it stays below everything.
 */
#ifndef BPFVM_HELPERS_HELPER_IDS_H
#define BPFVM_HELPERS_HELPER_IDS_H

#include <stdbool.h>
#include <stdint.h>

/* The helper ids: HELPER_ID_map_lookup_elem = 1, ... */
enum helper_id {
#define HELPER(ID, NAME, ...) HELPER_ID_##NAME = ID,
#include "helpers.def"
#undef HELPER
	HELPER_ID_MAX_KNOWN = HELPER_ID_cgrp_storage_delete,
};

/* The facts column of helpers.def: what the kernel's verifier tests per helper. */
enum helper_fact {
	HF_PKT_ACCESS = 1u << 0,       /* bpf_func_proto.pkt_access: may take packet memory */
	HF_CHANGES_PKT = 1u << 1,      /* bpf_helper_changes_pkt_data(); tail_call too (6.13+):
					* the program it runs may */
	HF_ACQUIRE = 1u << 2,          /* is_acquire_function(): returns a pointer to release */
	HF_PTR_CAST = 1u << 3,         /* is_ptr_cast_function(): its socket result is the
					* argument seen anew, holding the argument's reference
					* and no new one (bpfvm counts get_listener_sock too) */
	HF_SYNC_CALLBACK = 1u << 4,    /* calls a callback of the program before it returns */
	HF_ASYNC_CALLBACK = 1u << 5,   /* registers a callback run later (timers) */
	HF_RET_SIZE_BOUNDED = 1u << 6, /* do_refine_retval_range: returns at most its
					* buffer's size, or an error */
	HF_FASTCALL_INLINED = 1u << 7, /* bpf_fastcall, and the kernel's x86-64 build
					* inlines it (verifier_inlines_helper_call) */
};

/* Does helper id have fact (HF_*)?  False for an id the kernel lacks. */
bool helper_has(int64_t id, uint32_t fact);

#endif
