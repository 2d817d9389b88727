/*
 * bpfvm/bpfvm.h - the public C API of bpfvm, a user-space eBPF runtime.
 *
 * Shaped like libbpf's: opaque objects with type__verb names, options
 * structs whose first field is their size (made with BPFVM_OPTS), 0 or a
 * negative errno from functions returning int, NULL with errno set from
 * functions returning pointers.  The library never prints: messages go into
 * a struct bpfvm_log the caller supplies in the options (as libbpf's
 * kernel_log_buf).  Options are read as libbpf reads them: NULL means every
 * default; a smaller sz (an older header) reads the fields it covers and
 * defaults the rest; a larger sz (a newer header) is refused with -EINVAL,
 * and a message naming the struct, unless the bytes past this library's
 * struct are all zero.
 *
 * Ownership: a struct bpfvm owns the programs created in it;
 * bpfvm__destroy() frees them all, bpfvm_prog__destroy() frees one early.
 */
#ifndef BPFVM_BPFVM_H
#define BPFVM_BPFVM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <bpfvm/isa.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && !defined(BPFVM_NO_VISIBILITY)
#define BPFVM_API __attribute__((visibility("default")))
#else
#define BPFVM_API
#endif

/*
 * Declare an options struct NAME of type TYPE, zeroed, with its size set
 * and the given fields: BPFVM_OPTS(bpfvm_run_opts, o, .mode = ...).
 */
#define BPFVM_OPTS(TYPE, NAME, ...)                                    \
	struct TYPE NAME = ({                                          \
		memset(&NAME, 0, sizeof(struct TYPE));                 \
		(struct TYPE){ .sz = sizeof(struct TYPE), __VA_ARGS__ }; \
	})

/*
 * A message sink the caller owns.  Messages are appended to buf (always
 * NUL-terminated, truncated when full); len counts what was appended,
 * including what did not fit.  A NULL log or NULL buf discards messages.
 */
struct bpfvm_log {
	char *buf;
	size_t size;
	size_t len;
};

BPFVM_API void bpfvm_log__reset(struct bpfvm_log *log);

/* ---- Assembly and disassembly ------------------------------------------ */

struct bpfvm_asm_opts {
	size_t sz;
	const char *filename;     /* names the text in messages; default "<input>" */
	struct bpfvm_log *log;
};

/*
 * Assemble eBPF assembly text: llvm-objdump's syntax ("r0 = *(u32 *)(r1 +
 * 0x4)", "if r1 > 0x5 goto +3") or the conformance suite's ("ldxw %r0,
 * [%r1+4]"), one instruction a line, with labels ("name:") and comments
 * ("#", "//", ";").  On success returns 0 and a malloc'd array in *insns
 * (the caller frees it) holding *cnt slots.  On error returns -EINVAL and
 * logs "FILE:LINE:COL: message".
 */
BPFVM_API int bpfvm_asm(const char *text, size_t len, struct bpfvm_insn **insns, size_t *cnt,
			const struct bpfvm_asm_opts *opts);

enum bpfvm_syntax {
	BPFVM_SYNTAX_LLVM = 0, /* llvm-objdump: r0 = *(u32 *)(r1 + 0x4) */
	BPFVM_SYNTAX_CONFORMANCE = 1, /* ldxw %r0, [%r1+4] */
	BPFVM_SYNTAX_KERNEL = 2, /* the kernel's verifier log: r0 = *(u32 *)(r1 +4); output only */
};

/*
 * Write instruction idx of insns[0..cnt) as text into buf (NUL-terminated,
 * truncated to size).  Returns the number of slots the instruction takes
 * (2 for lddw, else 1), or -EINVAL if it does not decode; then buf holds
 * what is wrong with it.
 */
BPFVM_API int bpfvm_disasm_insn(const struct bpfvm_insn *insns, size_t cnt, size_t idx,
				enum bpfvm_syntax syntax, char *buf, size_t size);

/*
 * What bpfvm_disasm_insn_opts asks its caller, all optional (a zeroed
 * struct, or NULL, disassembles as bpfvm_disasm_insn does).  ctx is passed
 * to every callback.
 */
struct bpfvm_disasm_opts {
	size_t sz;
	/*
	 * Name the target of the jump in slot from: target is the slot it goes
	 * to, perhaps outside the program.  Write the name ("LBB0_2",
	 * "prog+0x18") into buf and return true, or false to print the offset
	 * alone.  Printed as " <name>" after the instruction (" # <name>" in
	 * the conformance syntax).
	 */
	bool (*jump_target)(void *ctx, size_t from, int64_t target, char *buf, size_t size);
	/* The same for the callee of a bpf-to-bpf call (target = from + 1 + imm). */
	bool (*call_target)(void *ctx, size_t from, int64_t target, char *buf, size_t size);
	/*
	 * The kernel syntax's name of helper id, or NULL ("unknown#id").
	 * Unset: bpfvm_helper_name.
	 */
	const char *(*helper_name)(void *ctx, int32_t id);
	/*
	 * Name what the lddw in slot idx loads: src is its pseudo source (1: a
	 * map by fd, 2: a map value, ...), value the 64 bits it holds.  Printed
	 * like a jump target; return false to print nothing.
	 */
	bool (*map_name)(void *ctx, size_t idx, uint8_t src, int64_t value, char *buf,
			 size_t size);
	void *ctx;
	/*
	 * Decode as llvm-objdump 19 -d does, for a listing that compares
	 * byte for byte: unused fields ignored, r11 accepted, and what it
	 * cannot decode (32-bit atomics other than add) printed as
	 * "<unknown>" with -EINVAL; an lddw whose second slot is missing
	 * returns -ENODATA (llvm-objdump then steps one byte, not eight).
	 */
	bool objdump19;
};

/*
 * bpfvm_disasm_insn with names from the caller.  Returns the slots the
 * instruction takes (1 or 2), or a negative errno as above; -EINVAL also
 * for opts whose sz is too small to hold sz or that set fields this
 * version does not know.
 */
BPFVM_API int bpfvm_disasm_insn_opts(const struct bpfvm_insn *insns, size_t cnt, size_t idx,
				     enum bpfvm_syntax syntax, const struct bpfvm_disasm_opts *opts,
				     char *buf, size_t size);

/* The kernel's name of helper id ("bpf_map_lookup_elem"), or NULL for an id it lacks. */
BPFVM_API const char *bpfvm_helper_name(int32_t id);

/* ---- Instances ---------------------------------------------------------- */

struct bpfvm;

/* Where bpf_trace_printk and friends write; NULL means discard. */
typedef void (*bpfvm_trace_fn)(void *ctx, const char *text, size_t len);

struct bpfvm_opts {
	size_t sz;
	bpfvm_trace_fn trace;
	void *trace_ctx;
	/*
	 * Maps in shared memory: every map of the instance (its object, its
	 * elements, a ring buffer's pages) lives in one arena of this many
	 * bytes, a memfd mapped MAP_SHARED (committed as it is used), so that
	 * a forked child's programs update the same maps, and another process
	 * can join them (shared_maps_fd).  Locks in maps are atomics, valid
	 * across processes.  0: private memory.
	 */
	uint64_t shared_maps_size;
	/*
	 * Join the arena another instance made (bpfvm__shared_maps(): its fd,
	 * inherited or passed, and address): mapped at the same address
	 * (refused if that range is taken in this process), with that
	 * instance's maps, in its order, as this one's.  The maps stay that
	 * instance's to free.  0: no arena to join.
	 */
	uint64_t shared_maps_addr;
	int shared_maps_fd;
	struct bpfvm_log *log;
};

/* Returns a new instance, or NULL with errno set (the reason in opts->log). */
BPFVM_API struct bpfvm *bpfvm__new(const struct bpfvm_opts *opts);
/*
 * The shared arena of vm's maps (bpfvm_opts.shared_maps_size): its memfd
 * (owned by vm, close-on-exec) and address.  0, or -ENOENT when the
 * instance's maps are private.
 */
BPFVM_API int bpfvm__shared_maps(const struct bpfvm *vm, int *fd, uint64_t *addr);
/* Frees the instance and every program in it.  NULL is allowed. */
BPFVM_API void bpfvm__destroy(struct bpfvm *vm);

/*
 * A helper function an embedder adds, or overrides, under an id.  It gets
 * r1-r5 and returns r0.  ctx is the run's context (see bpfvm_helper_ctx).
 */
struct bpfvm_run_ctx;
typedef uint64_t (*bpfvm_helper_fn)(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
				    uint64_t r5, struct bpfvm_run_ctx *ctx);
/* Returns 0, or -EINVAL for an id out of range (0..BPFVM_MAX_HELPER_ID). */
#define BPFVM_MAX_HELPER_ID 511
BPFVM_API int bpfvm__set_helper(struct bpfvm *vm, uint32_t id, const char *name,
				bpfvm_helper_fn fn);

/* ---- Programs ----------------------------------------------------------- */

struct bpfvm_prog;

enum bpfvm_prog_flags {
	/*
	 * The caller vouches that the program is safe: it may run unchecked
	 * (BPFVM_EXEC_UNCHECKED).  Until a program is verified, this is the
	 * only way to run it without run-time memory checks.
	 */
	BPFVM_PROG_TRUSTED = 1u << 0,
	/*
	 * Constant blinding: the JIT never writes an immediate of the program
	 * into executable memory as is, but XORed with a random key, undone by
	 * one more instruction at run time (the kernel's bpf_jit_harden), so
	 * that chosen constants cannot plant instruction bytes.  Slower, and
	 * division by a constant is no longer a multiplication.
	 */
	BPFVM_PROG_JIT_BLIND = 1u << 1,
};

struct bpfvm_map;

struct bpfvm_prog_opts {
	size_t sz;
	const char *name;   /* for messages; copied */
	uint32_t flags;     /* enum bpfvm_prog_flags */
	struct bpfvm_log *log;
	/*
	 * The maps the program refers to.  An lddw with src 1 (map fd) or 5
	 * (map index) names maps[imm]; with src 2 or 6 (map value), the value
	 * at offset (second slot's imm) of maps[imm].  The program holds a
	 * reference: destroying a map a program uses is deferred until the
	 * program goes.
	 */
	struct bpfvm_map *const *maps;
	size_t nmaps;
	uint32_t prog_type;            /* BPF_PROG_TYPE_*; 0 is socket filter, as in the kernel */
	uint32_t expected_attach_type; /* BPF_* attach type */
	const char *license;           /* "GPL", ...; NULL is not GPL-compatible */
};

/*
 * Create a program from cnt instruction slots (copied).  The program is
 * decoded and checked for structure: every opcode known and its unused
 * fields zero, registers valid, jumps inside their function and not into
 * the second slot of an lddw, every function ending in exit or a jump.
 * Returns NULL with errno = EINVAL and a message naming the instruction
 * index on failure.
 */
BPFVM_API struct bpfvm_prog *bpfvm_prog__new(struct bpfvm *vm, const struct bpfvm_insn *insns,
					    size_t cnt, const struct bpfvm_prog_opts *opts);
BPFVM_API void bpfvm_prog__destroy(struct bpfvm_prog *prog);
BPFVM_API size_t bpfvm_prog__insn_cnt(const struct bpfvm_prog *prog);
BPFVM_API const struct bpfvm_insn *bpfvm_prog__insns(const struct bpfvm_prog *prog);
BPFVM_API const char *bpfvm_prog__name(const struct bpfvm_prog *prog);

enum bpfvm_exec {
	/*
	 * Every memory access is checked against the regions the program may
	 * touch (its stack, its input, memory helpers hand out), every register
	 * read against registers written, and the instruction count against a
	 * limit.  A violation stops the run with an error naming the
	 * instruction and the address.
	 */
	BPFVM_EXEC_CHECKED = 0,
	/* No run-time checks: only for trusted (or verified) programs. */
	BPFVM_EXEC_UNCHECKED = 1,
	/*
	 * Native code (x86-64), compiled on first use: no run-time checks, so
	 * only for trusted (or verified) programs, like BPFVM_EXEC_UNCHECKED.
	 */
	BPFVM_EXEC_JIT = 2,
};

struct bpfvm_run_opts {
	size_t sz;
	enum bpfvm_exec mode;
	/* Checked mode: stop after this many instructions; 0 means the default. */
	uint64_t insn_limit;
	struct bpfvm_log *log;
	/* Out: r0 at exit, and the instructions executed (checked mode only). */
	uint64_t retval;
	uint64_t insns_executed;
};

#define BPFVM_DEFAULT_INSN_LIMIT 100000000ull

/*
 * Run the program with r1 = mem and r2 = len (as the conformance suite and
 * `bpfvm run` do).  mem may be NULL when len is 0.  Returns 0 and sets
 * opts->retval, or a negative errno with the reason in opts->log:
 * -EFAULT for a memory fault, -E2BIG for the instruction limit, -EPERM
 * when an unchecked mode or the JIT is asked of an untrusted program,
 * -ENOTSUP for the JIT on a CPU it has no back-end for, -EINVAL for a
 * run-time error such as reading an uninitialized register, calling an
 * unknown helper or a call stack deeper than 8 frames, or what
 * bpfvm_prog__jit returns when the JIT cannot compile the program.
 */
BPFVM_API int bpfvm_prog__run(struct bpfvm_prog *prog, void *mem, size_t len,
			      struct bpfvm_run_opts *opts);

/* ---- Verification ------------------------------------------------------- */

/* What a verification cost, as the kernel's log counts it. */
struct bpfvm_verify_stats {
	uint64_t insns_processed;      /* "processed N insns (limit 1000000)" */
	uint32_t max_states_per_insn;
	uint32_t total_states;
	uint32_t peak_states;
	uint32_t stack_depth;          /* of the main function, bytes */
	uint64_t time_ns;
};

enum bpfvm_verify_flags {
	/* Alignment as BPF_F_STRICT_ALIGNMENT asks (the kernel's strict mode). */
	BPFVM_VERIFY_STRICT_ALIGNMENT = 1u << 0,
	/* A checkpoint at every prune point (BPF_F_TEST_STATE_FREQ). */
	BPFVM_VERIFY_STATE_FREQ = 1u << 1,
	/*
	 * Verify for bpfvm_prog__run's calling convention instead of the
	 * program type's: r1 points to mem_size bytes of input (read and
	 * write), r2 holds mem_size.  Only base helpers (maps, time, random,
	 * ring buffers, bpf_loop, ...) are available.
	 */
	BPFVM_VERIFY_MEM = 1u << 2,
	/* The program may sleep (BPF_F_SLEEPABLE). */
	BPFVM_VERIFY_SLEEPABLE = 1u << 3,
	/*
	 * Walk every iteration of every loop, as the kernel does.  Without
	 * it, iterations that only count with constants are summarized
	 * (same verdict and instruction count, a fraction of the time).
	 */
	BPFVM_VERIFY_WALK_LOOPS = 1u << 4,
	/*
	 * The program came with BTF function information, as a clang -g
	 * object's .BTF.ext gives it.  The kernel takes callbacks (ld_imm64
	 * BPF_PSEUDO_FUNC, for bpf_loop, ...) only from such programs:
	 * without it they are refused with "missing btf func_info".
	 */
	BPFVM_VERIFY_FUNC_INFO = 1u << 5,
};

/* Where instruction insn came from: 0 and the file, line, column and text. */
typedef int (*bpfvm_source_line_fn)(void *ctx, uint32_t insn, const char **file, uint32_t *line,
				    uint32_t *col, const char **text);

struct bpfvm_verify_opts {
	size_t sz;
	/*
	 * 0: the error only (with its context: source line, path, registers,
	 * hint); 1: also every instruction of the path to it, as the kernel's
	 * log level 1; 2: also the state after every instruction, as level 2;
	 * 3: also precision backtracking ("mark_precise: ..."), which the
	 * kernel's level 2 includes.  Every log ends with the statistics line.
	 */
	uint32_t log_level;
	struct bpfvm_log *log;
	struct bpfvm_verify_stats *stats;  /* out; may be NULL */
	uint32_t flags;                    /* enum bpfvm_verify_flags */
	uint64_t mem_size;                 /* BPFVM_VERIFY_MEM's input size */
	bpfvm_source_line_fn source_line;  /* for error messages; may be NULL */
	void *source_ctx;
	/*
	 * With BPFVM_VERIFY_FUNC_INFO: does the function starting at insn
	 * return an int or an enum, by its BTF (1), another type (0), or is
	 * it not known (< 0)?  A sub-program with LD_ABS or a tail call must
	 * return an int.  May be NULL; called with source_ctx.
	 */
	int (*func_returns_scalar)(void *ctx, uint32_t insn);
	/*
	 * The kernel's BTF, by which pointers to kernel objects are typed
	 * (bpf_get_current_task_btf's task_struct and what loads through it
	 * reach), read at the first program that needs it and kept by the
	 * instance.  NULL: /sys/kernel/btf/vmlinux.
	 */
	const char *btf_custom_path;
};

/*
 * Prove the program safe as the Linux kernel's verifier does, for its
 * program type (bpfvm_prog_opts.prog_type; 0 is a socket filter) or, with
 * BPFVM_VERIFY_MEM, for bpfvm_prog__run's convention.  Returns 0 and marks
 * the program verified (with BPFVM_VERIFY_MEM it may then run unchecked on
 * inputs of mem_size bytes), -EACCES or -EINVAL for a program the kernel
 * would refuse (the reason, in the kernel's words, in opts->log), -E2BIG
 * when it is too complex (1,000,000 instructions processed, 8,192 pending
 * branches), -ENOTSUP for a program type bpfvm cannot verify (needs kernel
 * BTF), -ENOMEM.
 */
BPFVM_API int bpfvm_prog__verify(struct bpfvm_prog *prog, const struct bpfvm_verify_opts *opts);
/* Has the program been verified (by the last bpfvm_prog__verify)? */
BPFVM_API bool bpfvm_prog__verified(const struct bpfvm_prog *prog);
/* Why a program type cannot be verified, or NULL when it can. */
BPFVM_API const char *bpfvm_verify_unsupported(uint32_t prog_type);

struct bpfvm_jit_opts {
	size_t sz;
	struct bpfvm_log *log;
};

/*
 * Compile the program to native code now, rather than on its first
 * BPFVM_EXEC_JIT run; compiling twice does nothing.  Compiling needs no
 * trust (running does).  Returns 0, or a negative errno with the reason in
 * opts->log: -EINVAL naming the instruction the JIT cannot translate
 * ("instruction N: ..."), -ENOMEM when no code memory can be had, -ENOTSUP
 * without a back-end for this CPU.  The code is never writable and
 * executable at once.
 */
BPFVM_API int bpfvm_prog__jit(struct bpfvm_prog *prog, const struct bpfvm_jit_opts *opts);

/*
 * The compiled code, for disassembly: its address and length in bytes.
 * Returns 0, -ENOENT when the program is not compiled, -EINVAL for NULLs.
 */
BPFVM_API int bpfvm_prog__jit_code(const struct bpfvm_prog *prog, const void **code,
				   size_t *size);

/*
 * Where the code of instruction slot idx begins, as an offset into the code
 * bpfvm_prog__jit_code gives; the first slot of a function includes its
 * prologue, and idx == bpfvm_prog__insn_cnt gives where the out-of-line
 * code after the last function begins.  Code before slot 0's is the entry
 * sequence.  Returns the offset, -ENOENT when the program is not compiled,
 * -EINVAL for an index out of range.
 */
BPFVM_API long bpfvm_prog__jit_insn_offset(const struct bpfvm_prog *prog, size_t idx);

#ifdef __cplusplus
}
#endif

#endif
