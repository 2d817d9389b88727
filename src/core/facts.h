/*
 * facts.h - what verification proved about each instruction, kept with the
 * program so that execution can rely on it: which kinds of memory a load
 * or store reaches (all of them proven in bounds), and the value an
 * instruction's result has on every path that reaches it, when that is
 * one constant.  A program with facts has been verified and may run
 * unchecked under the conditions recorded here.
 */
#ifndef BPFVM_CORE_FACTS_H
#define BPFVM_CORE_FACTS_H

#include <stdbool.h>
#include <stdint.h>

enum {
	FACT_SEEN = 1u << 0,   /* some path executes the instruction */
	FACT_CONST = 1u << 1,  /* its result register holds `value` on every path */
	FACT_MEM = 1u << 2,    /* a load/store/atomic proven in bounds */
};

/* Memory kinds of FACT_MEM accesses (bits of mem). */
enum {
	FACT_MEM_STACK = 1u << 0,
	FACT_MEM_CTX = 1u << 1,
	FACT_MEM_MAP = 1u << 2,    /* a map value or key */
	FACT_MEM_PACKET = 1u << 3,
	FACT_MEM_OTHER = 1u << 4,  /* helper memory, sockets, the run's input */
	/* A load through a BTF-typed pointer (PTR_TO_BTF_ID), the kernel's BPF_PROBE_MEM:
	 * not proven in bounds; it reads only the run's kernel objects (run->kmem_*) and
	 * gives 0 for any other address, as a faulting load does in the kernel. */
	FACT_MEM_PROBE = 1u << 5,
};

struct verifier_fact {
	uint8_t flags;
	uint8_t mem;
	uint64_t value;
};

struct verifier_facts {
	uint32_t prog_type;
	bool mem_mode;          /* verified for bpfvm_prog__run's convention */
	uint64_t mem_size;      /* ... with r1 -> mem_size bytes and r2 == mem_size */
	uint64_t insn_processed;
	uint32_t max_ctx_offset;  /* the context bytes a run must give: past the furthest accessed */
	uint32_t cnt;
	struct verifier_fact f[];
};

#endif
