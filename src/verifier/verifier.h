/*
 * verifier.h - the verifier's model of a running program, shared by its
 * files.  The verifier walks the program path by path, as the Linux
 * kernel's does, carrying an abstract state: for every register and every
 * 8-byte stack slot of every active frame, what it may hold (a scalar's
 * range, or a pointer's kind, object and offset), plus the references the
 * program holds.  At instructions where paths meet it keeps checkpoints
 * and stops a path whose state an explored, safe checkpoint already
 * covers (prune.c), tracking which registers later code reads (liveness)
 * and which scalars' exact values matter (precise.c) so that covering is
 * judged as loosely as is safe.
 *
 * Files, by concern:
 *   verify.c   the entry point, passes, statistics, the public API
 *   cfg.c      control flow: reachability, loops, calls, stack depth
 *   state.c    states, frames, registers: creation, copies, branches
 *   explore.c  the walk: one instruction at a time, exits, limits
 *   alu.c      arithmetic, moves, pointer arithmetic
 *   jump.c     conditional jumps: outcomes, refinement, null checks,
 *              packet ranges
 *   mem.c      loads, stores, atomics, legacy packet loads
 *   stack.c    the stack: spills, fills, slot kinds, helper memory
 *   ctx.c      program types: context layouts and return values
 *   call.c     helper calls: prototypes, arguments, results, references
 *   subprog.c  bpf-to-bpf calls, callbacks, returns
 *   prune.c    checkpoints, state equivalence, liveness
 *   precise.c  precision backtracking
 *   loop.c     iterations of constant-driven loops summarized
 *   vlog.c     the log: states, instructions, error context
 *   facts.c    what execution may rely on after verification
 *   btf_access.c  pointers to kernel objects typed by the kernel's BTF
 *   kernel_btf.c  that BTF, loaded once per instance
 */
#ifndef BPFVM_VERIFIER_VERIFIER_H
#define BPFVM_VERIFIER_VERIFIER_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include <bpfvm/bpfvm.h>

#include "../isa/opcode.h"
#include "../prog/prog.h"
#include "range.h"

/* The kernel's limits (BPF_COMPLEXITY_LIMIT_*, MAX_BPF_STACK, ...). */
#define V_INSN_LIMIT 1000000
#define V_JMP_SEQ_LIMIT 8192
#define V_MAX_FRAMES BPFVM_MAX_CALL_FRAMES
#define V_STACK 512
#define V_MAX_SLOTS (V_STACK / 8)
#define V_MAX_REFS 256
#define V_MAX_PACKET_OFF 0xffff  /* MAX_PACKET_OFF */
#define V_MAX_VAR_OFF (1 << 29)  /* BPF_MAX_VAR_OFF */
#define V_MAX_VAR_SIZ (1 << 29)  /* BPF_MAX_VAR_SIZ */
/* When is_state_visited takes a checkpoint (the kernel's heuristics). */
#define V_CP_JMPS 2              /* jumps and ... */
#define V_CP_INSNS 8             /* ... instructions since the last one */
#define V_LOOP_CP_JMPS 20        /* the same inside a loop being explored */
#define V_LOOP_CP_INSNS 100
#define V_CP_FORCE_HIST 40       /* history entries that force one */
#define V_NREGS BPFVM_NREGS
#define V_FP BPFVM_REG_FP

/* ---- registers ------------------------------------------------------------ */

/* What a register holds: the kernel's enum bpf_reg_type (base types). */
enum vtype {
	VT_NOT_INIT,
	VT_SCALAR,
	VT_CTX,          /* the program's context */
	VT_MAP_PTR,      /* a map (CONST_PTR_TO_MAP) */
	VT_MAP_VALUE,
	VT_MAP_KEY,      /* a key, in for_each_map_elem callbacks */
	VT_STACK,        /* a frame's stack */
	VT_PACKET_META,
	VT_PACKET,
	VT_PACKET_END,
	VT_FLOW_KEYS,
	VT_SOCKET,
	VT_SOCK_COMMON,
	VT_TCP_SOCK,
	VT_XDP_SOCK,
	VT_TP_BUFFER,    /* raw tracepoint writable buffer */
	VT_MEM,          /* memory of known size: ring buffer records, helper results */
	VT_BUF,
	VT_FUNC,         /* a function of the program (callbacks) */
	VT_BTF_ID,       /* a kernel object described by BTF */
	VT_COUNT
};

/* Modifiers of a type (the kernel's type flags). */
enum vflag {
	VF_NULL = 1u << 0,      /* may be NULL: "_or_null" */
	VF_RDONLY = 1u << 1,    /* "rdonly_" */
	VF_RINGBUF = 1u << 2,   /* "ringbuf_": a ring buffer record */
	VF_ADD_CONST = 1u << 3, /* scalar: equals its id's base plus off */
	VF_ALLOC = 1u << 4,
	/* VT_BTF_ID (the kernel's PTR_TRUSTED, PTR_UNTRUSTED, MEM_RCU); untrusted VT_MEM too:
	 * what a BTF pointer's char * or void * member points to, read by probing */
	VF_TRUSTED = 1u << 5,
	VF_UNTRUSTED = 1u << 6,
	VF_RCU = 1u << 7,
};

/* Liveness marks (the kernel's REG_LIVE_*). */
enum vlive {
	LIVE_READ = 1u << 0,
	LIVE_WRITTEN = 1u << 1,
	LIVE_DONE = 1u << 2,    /* a finished checkpoint: marks are final */
};

/* Packet pointer range markers, for comparisons with packet end. */
#define AT_PKT_END (-1)
#define BEYOND_PKT_END (-2)  /* the kernel's values: state comparisons order them */

struct vreg {
	struct vrange r;     /* a scalar's value; a pointer's variable offset */
	int32_t off;         /* a pointer's fixed offset; a linked scalar's delta */
	uint32_t id;         /* shared by copies: null checks, packet ranges, linked scalars */
	uint32_t ref_obj_id; /* the reference this pointer came with */
	union {
		int32_t range;     /* packet: bytes from off known to be in the packet */
		uint32_t mem_size; /* VT_MEM, VT_BUF */
		uint32_t subprog;  /* VT_FUNC */
		uint32_t btf_id;   /* VT_BTF_ID: its struct in the kernel's BTF (env->kbtf) */
	};
	uint32_t map;        /* map pointer, value, key: index in env->maps */
	uint8_t type;        /* enum vtype */
	uint8_t flags;       /* enum vflag */
	uint8_t frameno;     /* VT_STACK: the frame pointed to */
	uint8_t precise;     /* a scalar whose exact range matters */
	uint8_t live;        /* enum vlive */
	struct vreg *parent; /* the same register in the parent checkpoint */
};

/* ---- the stack -------------------------------------------------------------- */

enum vslot_kind {
	SLOT_INVALID,  /* never written: '?' */
	SLOT_SPILL,    /* part of a spilled register: 'r' */
	SLOT_MISC,     /* some data: 'm' */
	SLOT_ZERO,     /* known zero: '0' */
};

/* 8 bytes of stack: what each byte is, and the register spilled there. */
struct vslot {
	struct vreg spilled;
	uint8_t kind[8];     /* the byte at fp+off is kind[(-off - 1) % 8] of slot (-off - 1) / 8 */
};

/* ---- frames and states --------------------------------------------------------- */

struct vframe {
	struct vreg regs[V_NREGS];
	struct vslot *stack;     /* stack[i] holds fp-(i+1)*8 .. fp-i*8-1 */
	uint32_t nslots;         /* allocated */
	int32_t callsite;        /* the call that made the frame; -1 for the main one */
	uint32_t frameno;
	uint32_t subprog;        /* index in prog->funcs */
	uint8_t in_callback;     /* a callback: its return value is checked */
	int64_t cb_ret_min, cb_ret_max;
	uint32_t callback_depth; /* how often a bpf_loop-style callback was entered */
};

/* A reference the program holds and must release. */
enum vref_kind { REF_PTR, REF_LOCK };

struct vref {
	uint32_t id;
	uint32_t insn;   /* where it was acquired */
	uint8_t kind;
	uint8_t cb_frame; /* acquired in a callback running in this frame (0: not) */
};

/* An entry of the path's history, for precision backtracking. */
struct vhist {
	uint32_t idx;
	uint32_t prev_idx;
	uint32_t flags;  /* HIST_STACK_* below */
	uint64_t linked; /* scalars linked at a conditional jump (jump.c's packing) */
};

#define HIST_STACK_ACCESS (1u << 31)
/* Not a jump: loop.c summarized iterations here, env->loops[flags & HIST_REC_MASK]. */
#define HIST_REPEAT (1u << 30)
#define HIST_REC_MASK (HIST_REPEAT - 1)
#define HIST_FRAME(f) ((f) & 0x7)
#define HIST_SPI(f) (((f) >> 3) & 0x3f)
#define HIST_MAKE_STACK(frame, spi) (HIST_STACK_ACCESS | ((uint32_t)(spi) << 3) | (frame))

struct vstate {
	struct vframe *frames[V_MAX_FRAMES];
	uint32_t curframe;
	struct vstate *parent;   /* the checkpoint this path continues */
	uint32_t branches;       /* paths from here not yet finished */
	uint32_t insn_idx;       /* for checkpoints: where */
	uint32_t first_insn;     /* first instruction since the parent checkpoint */
	uint32_t last_insn;
	uint32_t hist_start, hist_end; /* this state's part of env->hist */
	int32_t hist_adj;        /* loop.c: the kernel's history is longer by this */
	struct vref *refs;
	uint32_t nrefs;
	uint32_t lock_id;        /* a held bpf_spin_lock's id, 0 without */
	uint32_t lock_map;       /* ... its map, and value offset */
	uint32_t lock_off;
	uint32_t may_goto_depth;
	uint32_t dfs_depth;
	uint32_t callback_unroll_depth;
	bool in_sleepable;
};

static inline struct vframe *cur_frame(const struct vstate *st)
{
	return st->frames[st->curframe];
}

/* ---- the environment ----------------------------------------------------------- */

/* A map the program refers to, as the verifier sees it. */
struct vmap {
	const struct bpfvm_map *map;
	uint32_t type, key_size, value_size, max_entries, flags;
	uint32_t inner_type, inner_key_size, inner_value_size, inner_max_entries, inner_flags;
	int spin_lock_off;       /* -1 without a bpf_spin_lock in the value */
	const char *name;
};

/* What the verifier learned about one instruction. */
struct vaux {
	uint8_t seen;            /* explored on some path */
	uint8_t prune_point;     /* a checkpoint may be taken here */
	uint8_t jmp_point;       /* reached other than from the previous instruction */
	uint8_t force_checkpoint;
	uint8_t calls_callback;
	uint8_t loop_head;       /* the target of a back edge */
	uint8_t ptr_type;        /* loads/stores: the pointer kind every path used */
	uint8_t mem_kinds;       /* loads/stores: bit per vtype class accessed (facts.c) */
	uint8_t pruned;          /* a path stopped here, covered by another (facts.c) */
	uint8_t const_state;     /* result register: 0 unseen, 1 one constant, 2 varies */
	uint64_t const_val;
	uint32_t map_state;      /* tail calls: the map used (+1), or MAP_POISON */
	uint64_t key_state;      /* tail calls: the constant index (+1), or KEY_POISON */
	uint32_t cfg_state;      /* cfg.c's walk */
	uint16_t live_regs;      /* registers some path may read from here on (live_regs.c) */
	uint8_t fastcall_pattern; /* a spill or fill of a bpf_fastcall pattern (fastcall.c) */
	uint8_t fastcall_spills;  /* at a call: the pairs around it that leave the stack */
};

#define MAP_POISON 0xffffffffu
#define KEY_POISON UINT64_MAX

struct vctx_desc;
struct vhelper;

/* A pending branch: the state to explore from insn. */
struct vbranch {
	struct vstate *st;
	uint32_t insn, prev_insn;
	size_t log_pos;
	uint32_t path_len, path_end;  /* the path so far, to restore */
};

/* A run of consecutive instructions on the path being explored. */
struct vseg {
	uint32_t start, end;
};

/* A vseg's start for iterations loop.c summarized; end is the env->loops index. */
#define PATH_LOOP UINT32_MAX

/* Where an instruction came from in the source (verify opts' callback). */
typedef int (*vsource_fn)(void *ctx, uint32_t insn, const char **file, uint32_t *line,
			  uint32_t *col, const char **text);

/* A checkpoint kept at an instruction. */
struct vcheckpoint {
	struct vstate st;
	struct vcheckpoint *next;
	uint32_t miss, hit;
	bool in_free_list;
};

/* The id pairs states_equal matches old to current. */
struct vidmap {
	uint32_t old_id[V_MAX_FRAMES * (V_NREGS + V_MAX_SLOTS) + 16];
	uint32_t cur_id[V_MAX_FRAMES * (V_NREGS + V_MAX_SLOTS) + 16];
	uint32_t n;
	uint32_t tmp_gen;
};

/* loop.c: the loop whose iterations are being watched for a summary. */
struct vloop_watch {
	uint32_t head;           /* UINT32_MAX: none */
	uint32_t frame;
	bool pure;               /* only constant arithmetic and decided jumps so far */
	struct vreg snap[V_NREGS]; /* the registers on arrival at head */
	uint32_t *trace;         /* the instructions since then */
	uint32_t ntrace, trace_cap;
};

/* A checkpoint the kernel would hold, of an iteration loop.c summarized. */
struct vvirtual {
	uint32_t idx;
	uint32_t miss;
	const struct vstate *owner;  /* in progress while this has branches */
};

/* Iterations loop.c summarized: count times the instructions of body. */
struct vloop_rec {
	uint32_t *body;
	uint32_t len;
	uint64_t count;
};

/* The registers and slots precision backtracking looks for, per frame. */
struct vbacktrack {
	uint32_t frame;
	uint16_t regs[V_MAX_FRAMES];
	uint64_t slots[V_MAX_FRAMES];
};

struct venv {
	struct bpfvm_prog *prog;
	const struct bpfvm_insn *insns;
	const uint16_t *ops;
	uint32_t cnt;
	struct bpfvm_log *log;
	uint32_t log_level;
	uint32_t prog_type, attach_type;
	bool gpl;
	bool strict_alignment;
	bool test_state_freq;
	bool sleepable;
	bool walk_loops;             /* no loop summaries (BPFVM_VERIFY_WALK_LOOPS) */
	bool func_info;              /* BTF function info came with it (BPFVM_VERIFY_FUNC_INFO) */
	uint64_t mem_size;           /* the memory model's input size (verify opts) */
	const char *kbtf_path;       /* the kernel's BTF (verify opts; NULL: vmlinux's) */
	const struct btf *kbtf;      /* ... once needed (kernel_btf.c) */
	struct btf *kbtf_own;        /* ... when it is not the instance's: freed with env */
	uint32_t max_ctx_offset;     /* past the furthest context byte a load or store reaches */
	const struct vctx_desc *ctx;
	struct vmap *maps;
	uint32_t nmaps;
	struct vaux *aux;
	uint32_t *stack_depth;       /* per function (prog->funcs), exact */
	int16_t *fastcall_off;       /* per function: the top of its bpf_fastcall slots */
	uint8_t *fastcall_keep;      /* per function: a pattern whose call is not inlined */

	/* the walk */
	struct vstate *cur;
	uint32_t insn_idx, prev_insn_idx;
	struct vbranch *branches;
	uint32_t nbranches, branches_cap;
	struct vcheckpoint **explored; /* per instruction */
	struct vcheckpoint *free_list;
	struct vcheckpoint *hidden;    /* loop.c's copies, see hidden_checkpoint */
	struct vcheckpoint *adopt;     /* ... one the next checkpoint is to be */
	struct vhist *hist;
	uint32_t hist_cap;
	bool hist_fresh;             /* the current instruction has a history entry */
	uint32_t id_gen;
	struct vidmap idmap;
	struct vbacktrack bt;
	bool scratched;              /* log: state changed since printed */
	uint16_t scratched_regs;
	uint64_t scratched_slots;

	struct vloop_watch lw;
	struct vvirtual *virt;       /* checkpoints the kernel has, summarized away */
	uint32_t nvirt, virt_cap;
	struct vloop_rec *loops;
	uint32_t nloops, loops_cap;
	uint64_t loop_iterations;    /* summarized, in all */

	/* statistics, as the kernel counts them */
	uint64_t insn_processed, prev_insn_processed;
	uint64_t jmps_processed, prev_jmps_processed;
	uint32_t max_states_per_insn, total_states, peak_states;

	/* the log */
	uint32_t insn_text_len;      /* of the last instruction line */
	size_t insn_log_end;         /* where that line ended */
	vsource_fn source_line;
	void *source_ctx;
	int (*func_returns_scalar)(void *ctx, uint32_t insn);
	struct vseg *path;           /* the path being explored */
	uint32_t npath, path_cap;

	/* the error, for the context after its message */
	int err_insn;
	uint16_t err_regs;           /* registers the message speaks of */
	char err_hint[256];
};

/* ---- messages (vlog.c) ------------------------------------------------------- */

__attribute__((format(printf, 2, 3))) void vlog(struct venv *env, const char *fmt, ...);
/* Log a message about registers regs (a mask) and return err. */
__attribute__((format(printf, 4, 5))) int verr_regs(struct venv *env, int err, uint16_t regs,
						    const char *fmt, ...);
#define verr(env, err, ...) verr_regs(env, err, 0, __VA_ARGS__)
/* A hint for the user, printed after the error's context. */
__attribute__((format(printf, 2, 3))) void vhint(struct venv *env, const char *fmt, ...);
const char *vtype_str(const struct vreg *reg, char *buf, size_t size);
void vlog_reg(struct venv *env, const struct vframe *frame, const struct vreg *reg);
void vlog_frame(struct venv *env, const struct vframe *frame, bool all);
void vlog_insn(struct venv *env, uint32_t idx);
/* The same line, but not one the state after the instruction is appended to. */
void vlog_insn_line(struct venv *env, uint32_t idx);
/* Print the registers the current instruction changed (level 2). */
void vlog_insn_state(struct venv *env);
void vlog_error_context(struct venv *env);
static inline void mark_scratched(struct venv *env, uint32_t regno)
{
	env->scratched_regs |= (uint16_t)(1u << regno);
}

/* ---- states (state.c) ------------------------------------------------------- */

struct vstate *state_new(struct venv *env);
int state_copy(struct venv *env, struct vstate *dst, const struct vstate *src);
void state_free(struct vstate *st, bool free_self);
struct vframe *frame_new(uint32_t callsite, uint32_t frameno, uint32_t subprog);
int frame_grow_stack(struct vframe *f, uint32_t nslots);
int push_branch(struct venv *env, uint32_t insn, uint32_t prev_insn, struct vstate **out);
int pop_branch(struct venv *env, uint32_t *insn, uint32_t *prev_insn);
void update_branch_counts(struct venv *env, struct vstate *st);
uint32_t new_id(struct venv *env);

void reg_not_init(struct vreg *reg);
void reg_copy(struct vreg *dst, const struct vreg *src);
void assign_scalar_id_before_mov(struct venv *env, struct vreg *src);
void reg_unknown(struct venv *env, struct vreg *reg);
void reg_const(struct vreg *reg, uint64_t v);
void reg_const32(struct vreg *reg, uint32_t v);
void reg_ptr(struct vreg *reg, uint8_t type);
bool reg_is_pointer(const struct vreg *reg);
bool reg_is_pkt(const struct vreg *reg);
bool reg_is_const(const struct vreg *reg, bool is32);
uint64_t reg_const_value(const struct vreg *reg, bool is32);
bool reg_may_be_null(const struct vreg *reg);
struct vframe *reg_frame(struct venv *env, const struct vreg *reg);
/* Apply fn to every register and spilled register of every frame of st. */
#define for_each_reg_in_state(st, frame_var, reg_var, BODY)                               \
	for (uint32_t fi_ = 0; fi_ <= (st)->curframe; fi_++) {                           \
		struct vframe *frame_var = (st)->frames[fi_];                           \
		for (uint32_t ri_ = 0; ri_ < V_NREGS; ri_++) {                           \
			struct vreg *reg_var = &frame_var->regs[ri_];                    \
			BODY                                                             \
		}                                                                        \
		for (uint32_t si_ = 0; si_ < frame_var->nslots; si_++) {                 \
			if (frame_var->stack[si_].kind[7] != SLOT_SPILL)                 \
				continue;                                                \
			struct vreg *reg_var = &frame_var->stack[si_].spilled;          \
			BODY                                                             \
		}                                                                        \
	}

/* Registers as operands: check a read, mark a write (the kernel's check_reg_arg). */
enum reg_arg { SRC_OP, DST_OP, DST_OP_NO_MARK };
int check_reg_arg(struct venv *env, uint32_t regno, enum reg_arg t);
int mark_reg_read(struct venv *env, const struct vreg *state, struct vreg *parent);

/* ---- control flow (cfg.c) ----------------------------------------------------------- */

int cfg_check(struct venv *env);
int cfg_check_stack_depth(struct venv *env);
uint32_t subprog_of(const struct venv *env, uint32_t insn);

/* ---- the walk (explore.c) -------------------------------------------------------- */

int explore(struct venv *env);

/* live_regs.c: aux[i].live_regs for every instruction. */
int compute_live_regs(struct venv *env);
int check_placeholder_calls(struct venv *env);
int push_hist(struct venv *env, struct vstate *st, uint32_t flags);
int path_add_seg(struct venv *env, uint32_t start, uint32_t end);

/* ---- loop summaries (loop.c) ------------------------------------------------------ */

/* Returns 1 when the path ends (a checkpoint covers it), as is_state_visited. */
int loop_before_insn(struct venv *env, uint32_t idx);
/* is_state_visited: the checkpoints summarized iterations would have left at idx. */
uint32_t loop_virtual_checkpoints(struct venv *env, uint32_t idx, bool force, bool *add_new);
void loop_forget(struct venv *env);      /* the walk switched paths */
void loop_free(struct venv *env);

/* ---- instructions -------------------------------------------------------------- */

int check_alu(struct venv *env, const struct bpfvm_insn *insn, enum isa_op op);
int check_cond_jmp(struct venv *env, const struct bpfvm_insn *insn, enum isa_op op,
		   uint32_t *insn_idx);
int check_ld_imm(struct venv *env, const struct bpfvm_insn *insn);
int check_ldx(struct venv *env, const struct bpfvm_insn *insn, enum isa_op op);
int check_stx(struct venv *env, const struct bpfvm_insn *insn);
int check_st(struct venv *env, const struct bpfvm_insn *insn);
int check_atomic(struct venv *env, const struct bpfvm_insn *insn, enum isa_op op);
int check_ld_abs(struct venv *env, const struct bpfvm_insn *insn, enum isa_op op);

/* Memory access through register regno: the kernel's check_mem_access. */
enum vaccess { ACC_READ, ACC_WRITE };
int check_mem_access(struct venv *env, uint32_t insn_idx, uint32_t regno, int32_t off,
		     uint32_t size, enum vaccess t, int value_regno, bool strict_align_once,
		     bool is_ldsx);
/* A helper argument: [reg, reg + size) must be accessible (and initialized to read). */
int check_helper_mem_access(struct venv *env, uint32_t regno, int64_t access_size,
			    enum vaccess t, bool zero_size_allowed);
int check_map_access(struct venv *env, uint32_t regno, int32_t off, uint32_t size,
		     bool zero_size_allowed);
int check_mem_region_access(struct venv *env, uint32_t regno, int32_t off, int64_t size,
			    uint64_t mem_size, bool zero_size_allowed);
int check_packet_access(struct venv *env, uint32_t regno, int32_t off, int64_t size,
			bool zero_size_allowed);
int check_ptr_off_reg(struct venv *env, const struct vreg *reg, uint32_t regno);
void mark_pkt_end(struct vstate *st, uint32_t regno, bool range_open);
void clear_all_pkt_pointers(struct venv *env);

/* stack.c */
int check_stack_write(struct venv *env, struct vreg *ptr, int32_t off, uint32_t size,
		      int value_regno, uint32_t insn_idx);
int check_stack_read(struct venv *env, uint32_t ptr_regno, int32_t off, uint32_t size,
		     int dst_regno);
int check_stack_access_within_bounds(struct venv *env, uint32_t regno, int32_t off,
				     uint32_t access_size, enum vaccess t);
/*
 * How memory on the stack is used: by an instruction, by a helper that
 * only reads it, by one that may write it, by one that fills it.
 */
enum vstack_use { STACK_DIRECT, STACK_HELPER_READ, STACK_HELPER, STACK_HELPER_RAW };
/* Returns 0, 1 for a raw-mode range the caller marks written after the call, or an error. */
int check_stack_range_initialized(struct venv *env, uint32_t regno, int32_t off,
				  int64_t access_size, bool zero_size_allowed, enum vstack_use use);
int grow_stack_for(struct venv *env, struct vframe *f, int64_t lowest_off);
bool slot_is_spilled_reg(const struct vslot *s);
bool slot_is_spilled_scalar64(const struct vslot *s);
/* Zero-extend a scalar spilled in fewer than 8 bytes? */
void mark_stack_slots_misc(struct venv *env, struct vframe *f, int64_t off, uint32_t size);

/* ctx.c */
int check_ctx_access(struct venv *env, uint32_t insn_idx, uint32_t regno, int32_t off,
		     uint32_t size, enum vaccess t, struct vreg *dst);
int check_return_code(struct venv *env, uint32_t regno, const char *reg_name);
bool ctx_may_access_direct_pkt(const struct venv *env, bool write);
bool ctx_sock_access_ok(uint8_t type, int off, int size);

/* call.c */
/* bpf_fastcall patterns (fastcall.c). */
int fastcall_mark(struct venv *env);
void fastcall_check_access(struct venv *env, uint32_t f, uint32_t insn, int64_t off);
void fastcall_apply(struct venv *env);

/* What a lookup returns (or NULL) from sockmap, sockhash and xskmap: a socket; else 0. */
uint8_t map_lookup_sock_type(uint32_t map_type);
int check_helper_call(struct venv *env, const struct bpfvm_insn *insn, uint32_t *insn_idx);
int check_reference_leak(struct venv *env, bool exception_exit);
int acquire_ref(struct venv *env, uint32_t insn, uint8_t kind);
int release_ref(struct venv *env, uint32_t id);

/* subprog.c */
int check_func_call(struct venv *env, const struct bpfvm_insn *insn, uint32_t *insn_idx);
int prepare_func_exit(struct venv *env, uint32_t *insn_idx);
int setup_callback(struct venv *env, uint32_t callsite, uint32_t subprog, uint32_t helper,
		   uint32_t *insn_idx);
void widen_after_callback(struct venv *env, uint32_t insn);
void init_func_state(struct venv *env, struct vframe *f);

/* prune.c */
int is_state_visited(struct venv *env, uint32_t insn_idx);
void free_explored(struct venv *env);
void checkpoints_missed(struct venv *env, uint32_t insn_idx);
int hidden_checkpoint(struct venv *env, uint32_t insn_idx, struct vcheckpoint **out);
/* Misses after which a checkpoint at insn_idx is dropped (times its hits + 1). */
static inline uint32_t checkpoint_miss_limit(const struct venv *env, uint32_t insn_idx,
					     bool in_progress)
{
	return env->aux[insn_idx].force_checkpoint && in_progress ? 64 : 3;
}

/* precise.c */
int mark_chain_precision(struct venv *env, uint32_t regno);
int mark_chain_precision_batch(struct venv *env);
void mark_all_scalars_precise(struct venv *env, struct vstate *st);
void mark_all_scalars_imprecise(struct venv *env, struct vstate *st);

/* facts.c */
void facts_note_access(struct venv *env, uint32_t insn_idx, const struct vreg *ptr);
void facts_note_result(struct venv *env, uint32_t insn_idx);
int facts_finish(struct venv *env);

/* kernel_btf.c: the kernel's BTF, or NULL with the reason logged. */
struct btf;
const struct btf *kernel_btf(struct venv *env);

/* btf_access.c */
/* r0 as bpf_get_current_task_btf leaves it: a trusted pointer to task_struct. */
int btf_mark_current_task(struct venv *env, struct vreg *r0);
/* A load or store at off through VT_BTF_ID register regno (the kernel's check_ptr_to_btf_access). */
int check_ptr_to_btf_access(struct venv *env, uint32_t regno, int32_t off, uint32_t size,
			    enum vaccess t, int value_regno);
/* The struct a VT_BTF_ID register points to, for the log ("task_struct"). */
const char *btf_reg_struct_name(const struct venv *env, const struct vreg *reg);
/* The kernel's is_trusted_reg. */
bool btf_reg_trusted(const struct vreg *reg);

/* jump.c */
void mark_ptr_or_null_regs(struct venv *env, struct vstate *st, uint32_t regno, bool is_null);
void sync_linked_regs(struct vstate *st, struct vreg *known);

#endif
