/*
 * jit.h - what every JIT back-end shares: the compiled form attached to a
 * program, one compilation's state (a code buffer, labels at each
 * instruction and function, jumps to patch), the code memory (mapped
 * read-write, filled, then turned read-execute: never both writable and
 * executable), division by invariant integers, and the run-time support
 * the generated code calls (tail calls, callx, faults).
 *
 * A compilation makes two passes over the program.  The first emits into
 * a growable scratch buffer, with every forward jump in its long form, and
 * so learns an upper bound of each instruction's position.  The second
 * emits into the mapped memory, where the code will run: a forward jump
 * takes its short form when the first pass's distance fits, which stays
 * true because no instruction grows between passes.  Each pass patches
 * its own forward jumps, so the second pass's code is exact.
 *
 * Before them, three analyses that any back-end may use, each one data-flow
 * pass over the bytecode in a file of its own: which registers a later
 * instruction still reads (jit_live.c), which hold 0 or 1 (jit_known.c),
 * and which stack slots no pointer can reach, ranked for registers
 * (jit_promote.c); with the verifier's facts (dead code, constants) when
 * the program was verified.
 */
#ifndef BPFVM_VM_JIT_H
#define BPFVM_VM_JIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/facts.h"
#include "vm.h"

#if defined(__x86_64__)
#define VM_JIT_HAVE_ARCH 1
#else
#define VM_JIT_HAVE_ARCH 0
#endif

/*
 * The compiled program's entry: call function fn (the main function, or a
 * callback) with r1-r5 = args[0..4], for run, on a stack of 8 frames of
 * 512 bytes whose top is stack_top.
 */
typedef uint64_t (*vm_jit_entry_fn)(const uint64_t *args, const void *fn,
				    struct bpfvm_run_ctx *run, void *stack_top);

struct vm_jit {
	uint8_t *code;         /* the mapping, read + execute */
	size_t map_size;
	size_t size;           /* bytes of code in it */
	vm_jit_entry_fn entry; /* the entry sequence, at offset 0 */
	const void *main;      /* funcs[0]'s native entry: where a tail call lands */
	uintptr_t *funcs;      /* each function's entry, ascending: what callx may call */
	uint32_t nfuncs;
	uint32_t *insn_off;    /* cnt + 1 offsets: where each slot's code begins (dumps) */
	const struct verifier_facts *facts; /* what the code relies on, or NULL */
	struct bpfvm *vm;      /* whose next compilation takes the code memory when freed, or NULL */
};

/* CPU features a back-end may use; tests turn them off to cover the fallbacks. */
enum vm_jit_feature {
	VM_JIT_BMI2 = 1u << 0,  /* x86-64: shlx/shrx/sarx, shifts without cl */
	VM_JIT_BMI1 = 1u << 1,  /* x86-64: andn */
};

struct vm_jit_opts {
	uint32_t features_off;  /* enum vm_jit_feature: not to use even if present */
	/* Map size bytes read-write, or return MAP_FAILED with errno set.  NULL
	 * means mmap; tests pass a failing one. */
	void *(*map)(size_t size);
};

/*
 * Compile prog (replacing nothing: call only when prog->jit is NULL).
 * Returns 0, or a negative errno with "instruction N: reason" in log:
 * -EINVAL for what the JIT cannot translate, -ENOMEM when code memory
 * cannot be had, -ENOTSUP without a back-end for this CPU.
 */
/* The code memory vm keeps for its next compilation, released (bpfvm__destroy). */
void vm_jit_drop_spare(struct bpfvm *vm);
int vm_jit_compile(struct bpfvm_prog *prog, const struct vm_jit_opts *opts,
		   struct bpfvm_log *log);

/* Run run->prog's JIT code (compiled on first use); r0 in *retval. */
int vm_jit_run(struct bpfvm_run_ctx *run, uint64_t r1, uint64_t r2, uint64_t *retval);

/* ---- one compilation ------------------------------------------------------ */

#define JIT_NO_LABEL UINT32_MAX

enum jit_fix_kind {
	JIT_FIX_REL8,   /* 1 byte, relative to its own end */
	JIT_FIX_REL32,  /* 4 bytes, relative to their own end */
	JIT_FIX_ABS64,  /* 8 bytes: the label's run-time address */
};

struct jit_fixup {
	uint32_t pos;
	uint32_t label;
	uint32_t kind;
};

/* A cold path out of one instruction: emitted after all functions. */
struct jit_stub {
	uint32_t pos;    /* the rel32 of the jump that goes to it */
	uint32_t idx;    /* the instruction, for the message */
	uint8_t kind;    /* enum vm_jit_fault_kind */
	uint8_t reg;     /* a back-end register whose value the message shows */
};

/* Labels after the per-slot and per-function ones. */
enum jit_named_label {
	JIT_L_EXIT,      /* the entry's epilogue: return r0 to C */
	JIT_L_FAULT,     /* report a fault and unwind to the entry */
	JIT_L_PKT_OOB,   /* a legacy packet load out of bounds: r0 = 0, unwind */
	JIT_L_NAMED_COUNT,
};

/*
 * Stack slots a back-end may keep in registers (jit_promote.c): per
 * function, the candidates best first (a back-end takes as many as it has
 * registers for); per slot of the program, the candidate an access reads
 * or writes (1-based, 0 for none), and whether a 4-byte store must keep
 * the upper half a later 8-byte load reads.
 */
#define JIT_PROMO_MAX 8
#define JIT_PROMO_SLOT 0x0f
#define JIT_PROMO_MERGE 0x80

struct jit_promo_func {
	uint8_t n;
	int16_t off[JIT_PROMO_MAX]; /* from r10 */
	uint16_t regs_used;         /* the BPF registers the function names */
};

struct jit_promo {
	uint8_t *at;
	struct jit_promo_func *funcs;
};

int jit_promote_plan(const struct bpfvm_prog *prog, const uint16_t *reads,
		     const uint16_t *writes, struct jit_promo *out);
void jit_promote_free(struct jit_promo *p);

/*
 * The scratch memory of one compilation (jit_arena.c): taken from the vm,
 * carved up, given back whole.  Allocations are 16-byte aligned; NULL
 * when memory runs out.  jit_arena_grow moves p (old bytes) to a larger
 * allocation of n.
 */
struct jit_arena;
struct jit_arena *jit_arena_take(struct bpfvm *vm);
void jit_arena_give(struct bpfvm *vm, struct jit_arena *a);
void jit_arena_destroy(struct jit_arena *a);
void *jit_arena_alloc(struct jit_arena *a, size_t n);
void *jit_arena_zalloc(struct jit_arena *a, size_t n);
void *jit_arena_grow(struct jit_arena *a, void *p, size_t old, size_t n);

/* What a function's code does that its prologue must provide for. */
enum jit_func_does {
	JIT_FN_CALLS = 1,       /* calls a helper, a function or a kfunc */
	JIT_FN_MAY_GOTO = 2,    /* keeps a loop budget */
	JIT_FN_DIVIDES = 4,     /* divides or takes a remainder */
	JIT_FN_FETCH_LOGIC = 8, /* an atomic fetch-and-or, -and or -xor */
};

/* What op makes a function's prologue provide for (enum jit_func_does). */
uint8_t jit_op_does(enum isa_op op);

struct jit_func_use {
	uint16_t written;       /* the BPF registers it writes */
	uint8_t does;           /* enum jit_func_does */
};

/*
 * Per slot, the BPF registers its code reads and writes (bit n for rn), a
 * call's arguments and clobbers included, and per function what its code
 * writes and does (jit_live.c); -ENOMEM or 0.
 */
int jit_reg_masks(const struct bpfvm_prog *prog, struct jit_arena *a, uint16_t **reads,
		  uint16_t **writes, struct jit_func_use **funcs);

/*
 * Per slot, the BPF registers whose value some path reads after it
 * (jit_live.c); NULL when out of memory.
 */
uint16_t *jit_liveness(const struct bpfvm_prog *prog, struct jit_arena *a, const uint16_t *reads,
		       const uint16_t *writes);

/*
 * Per slot, the BPF registers known to hold 0 or 1 when it starts, on
 * every path to it (jit_known.c); NULL when out of memory.
 */
uint16_t *jit_known_bool(const struct bpfvm_prog *prog, struct jit_arena *a,
			 const uint16_t *writes);

struct jit_ctx {
	struct bpfvm_prog *prog;
	struct bpfvm_log *log;
	struct jit_arena *arena; /* every array below but the mapping's code */
	uint8_t *buf;
	size_t len, cap;
	bool can_grow;       /* the first pass's scratch buffer; the mapping cannot */
	int err;
	uintptr_t base;      /* where buf runs; 0 in the first pass */
	uint32_t *lbl;       /* this pass's label offsets, JIT_NO_LABEL until placed */
	uint32_t *prev;      /* the previous pass's, or NULL */
	uint32_t nlbl;
	struct jit_fixup *fix;
	size_t nfix, capfix;
	struct jit_stub *stubs;
	size_t nstubs, capstubs;
	uint32_t cur;        /* the slot being emitted */
	bool in_insn;        /* cur is meaningful */
	const uint8_t *is_target; /* per slot: JIT_TARGET, JIT_LOOP_HEAD, JIT_ALIGN, ... */
	uint32_t features;   /* enum vm_jit_feature */
	bool blind;          /* BPFVM_PROG_JIT_BLIND */
	const struct verifier_facts *facts; /* see vm_jit_facts; NULL: none to use */
	struct jit_promo promo;
	uint16_t *reads, *writes; /* jit_reg_masks */
	struct jit_func_use *func_use; /* jit_reg_masks */
	uint16_t *live_out;  /* jit_liveness */
	uint16_t *known_bool; /* jit_known_bool */
	uint8_t *memo;       /* per slot, what the back-end's first pass found (cleared before it) */
	uint64_t blind_seed, blind_state;
};

/*
 * Does slot i load through a BTF-typed pointer (the verifier's
 * FACT_MEM_PROBE)?  Asked of the program's facts even where the JIT uses
 * none (a trusted program): such a load must never fault.
 */
static inline bool jit_probes(const struct jit_ctx *c, uint32_t i)
{
	const struct verifier_facts *f = c->prog->facts;

	return f && f->cnt == c->prog->cnt && (f->f[i].mem & FACT_MEM_PROBE);
}

enum {
	JIT_TARGET = 1,     /* a jump lands here: nothing fuses into it */
	JIT_LOOP_HEAD = 2,  /* a jump back lands here */
	JIT_ALIGN = 4,      /* a loop head worth aligning (jit.c) */
	JIT_FUNC_START = 8, /* a function starts here */
};

static inline uint32_t jit_lbl_func(const struct jit_ctx *c, uint32_t f)
{
	return c->prog->cnt + 1 + f;
}

static inline uint32_t jit_lbl_named(const struct jit_ctx *c, enum jit_named_label l)
{
	return c->prog->cnt + 1 + c->prog->nfuncs + l;
}

/* Room for n more bytes; false (and c->err set) when there is none. */
bool jit_reserve(struct jit_ctx *c, size_t n);
void jit_place(struct jit_ctx *c, uint32_t label);
/*
 * How far a jump emitted now travels to label: exact and <= 0 when the
 * label is behind, an upper bound when it is ahead and a previous pass
 * placed it, INT64_MAX when nothing is known.
 */
int64_t jit_label_distance(const struct jit_ctx *c, uint32_t label);
void jit_fixup(struct jit_ctx *c, uint32_t pos, uint32_t label, enum jit_fix_kind kind);
void jit_stub(struct jit_ctx *c, uint32_t pos, uint8_t kind, uint8_t reg);
/* Refuse the program: "instruction N: ..." in the log; returns -EINVAL. */
__attribute__((format(printf, 3, 4))) int jit_refuse(struct jit_ctx *c, uint32_t idx,
						     const char *fmt, ...);
/* The next blinding key: the same sequence in every pass. */
uint64_t jit_blind_key(struct jit_ctx *c);

/*
 * What the verifier proved that the code may rely on: the facts of a
 * program that may run only as it was verified (not trusted: a trusted
 * program may also run on inputs the proof did not cover).  NULL: none.
 */
const struct verifier_facts *vm_jit_facts(const struct bpfvm_prog *prog);

/*
 * The fact about slot idx, for back-ends to emit less code: an
 * instruction no path runs needs none, an operation whose result is
 * always one constant becomes a move of it.  NULL when nothing is known.
 */
static inline const struct verifier_fact *jit_fact(const struct jit_ctx *c, uint32_t idx)
{
	return c->facts ? &c->facts->f[idx] : NULL;
}

/* Does BPF register reg hold a value some path reads after slot i? */
static inline bool jit_live_after(const struct jit_ctx *c, uint32_t i, unsigned reg)
{
	return c->live_out[i] >> reg & 1;
}

/*
 * Division by an invariant integer d (Granlund and Montgomery, 1994), for
 * `bits`-bit operands.  Unsigned, d >= 3, not a power of two, below
 * 2^(bits-1):  t = mulhi(x, m);  q = add ? (((x - t) >> 1) + t) >> shift
 * : t >> shift.  Signed, |d| >= 3 and not a power of two:  t = mulhs(x, m);
 * t += x if d > 0 and m < 0;  t -= x if d < 0 and m > 0;  t >>= shift
 * (arithmetic);  q = t + (t < 0).
 */
struct jit_udiv_magic {
	uint64_t m;
	unsigned shift;
	bool add;
};
struct jit_sdiv_magic {
	int64_t m;
	unsigned shift;
};
void jit_udiv_magic(uint64_t d, unsigned bits, struct jit_udiv_magic *out);
void jit_sdiv_magic(int64_t d, unsigned bits, struct jit_sdiv_magic *out);

/* ---- the back-end ---------------------------------------------------------- */

/* One pass over the whole program: entry, functions, stubs. */
int jit_arch_emit(struct jit_ctx *c);
/* Features of this CPU the back-end can use. */
uint32_t jit_arch_features(void);

/* ---- run-time support the generated code calls ------------------------------ */

enum vm_jit_fault_kind {
	VM_JIT_FAULT_DEPTH = 1,  /* a call past the 8th frame */
	VM_JIT_FAULT_CALLX = 2,  /* callx to neither a helper nor a function */
	VM_JIT_FAULT_HELPER = 3, /* a helper set run->fault (a callback of it faulted) */
	VM_JIT_FAULT_DEAD = 4,   /* code the verifier found unreachable was reached */
};

/* Where a tail call goes (the target's entry), or NULL to fall through. */
const void *vm_jit_tail_call(struct bpfvm_run_ctx *run, uint64_t map, uint64_t index);

/* What callx calls: kind 1 a helper, 2 a function of the program, 0 nothing. */
struct vm_jit_callee {
	uint64_t addr;
	uint64_t kind;
};
struct vm_jit_callee vm_jit_callx(struct bpfvm_run_ctx *run, uint64_t target);

/* Log a fault in the run's log and record it in run->fault. */
void vm_jit_fault(struct bpfvm_run_ctx *run, uint32_t kind, uint32_t idx, uint64_t value);

#endif
