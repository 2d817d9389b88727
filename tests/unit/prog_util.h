/*
 * prog_util.h - what the map and helper tests share: instruction
 * constructors for programs that use maps and helpers, and a runner that
 * creates a program over some maps, runs it and keeps its log.
 */
#ifndef BPFVM_TESTS_PROG_UTIL_H
#define BPFVM_TESTS_PROG_UTIL_H

#include <errno.h>

#include <bpfvm/bpfvm.h>
#include <bpfvm/maps.h>

#include "test.h"

#define I(...) ((struct bpfvm_insn[]){ __VA_ARGS__ })
#define N(ARR) (sizeof(ARR) / sizeof((ARR)[0]))

#define MOV64(d, imm) BPFVM_MOV64_IMM(d, imm)
#define MOVR(d, s) BPFVM_MOV64_REG(d, s)
#define ADDI(d, imm) BPFVM_ALU64_IMM(BPFVM_ADD, d, imm)
#define LD64(d, v) BPFVM_LD_IMM64_RAW(d, 0, v)
#define LD_MAP(d, idx) BPFVM_LD_IMM64_RAW(d, BPFVM_PSEUDO_MAP_IDX, idx)
#define LD_MAP_FD(d, idx) BPFVM_LD_IMM64_RAW(d, BPFVM_PSEUDO_MAP_FD, idx)
#define LD_MAP_VALUE(d, idx, off)                                                           \
	BPFVM_RAW_INSN(BPFVM_LD | BPFVM_DW | BPFVM_IMM, d, BPFVM_PSEUDO_MAP_IDX_VALUE, 0, idx), \
		BPFVM_RAW_INSN(0, 0, 0, 0, off)
#define LD_FUNC(d, rel) BPFVM_RAW_INSN(BPFVM_LD | BPFVM_DW | BPFVM_IMM, d, BPFVM_PSEUDO_FUNC, 0, rel), \
		BPFVM_RAW_INSN(0, 0, 0, 0, 0)
#define CALL(id) BPFVM_CALL_HELPER(id)
#define EXIT BPFVM_EXIT_INSN()
#define STW(d, off, imm) BPFVM_ST_MEM(BPFVM_W, d, off, imm)
#define STDW(d, off, imm) BPFVM_ST_MEM(BPFVM_DW, d, off, imm)
#define STXDW(d, off, s) BPFVM_STX_MEM(BPFVM_DW, d, s, off)
#define STXW(d, off, s) BPFVM_STX_MEM(BPFVM_W, d, s, off)
#define LDXDW(d, s, off) BPFVM_LDX_MEM(BPFVM_DW, d, s, off)
#define LDXW(d, s, off) BPFVM_LDX_MEM(BPFVM_W, d, s, off)
#define LDXB(d, s, off) BPFVM_LDX_MEM(BPFVM_B, d, s, off)
#define JEQI(d, imm, off) BPFVM_JMP_IMM(BPFVM_JEQ, d, imm, off)
#define JNEI(d, imm, off) BPFVM_JMP_IMM(BPFVM_JNE, d, imm, off)
#define JA(off) BPFVM_RAW_INSN(BPFVM_JMP | BPFVM_JA, 0, 0, off, 0)
#define FP BPFVM_REG_FP

/* Helper ids used in tests (enum bpf_func_id). */
enum {
	F_map_lookup_elem = 1, F_map_update_elem = 2, F_map_delete_elem = 3, F_probe_read = 4,
	F_trace_printk = 6, F_get_smp_processor_id = 8, F_skb_store_bytes = 9, F_tail_call = 12,
	F_get_current_pid_tgid = 14, F_get_current_uid_gid = 15, F_get_current_comm = 16,
	F_perf_event_output = 25, F_csum_diff = 28, F_get_current_task = 35,
	F_probe_read_str = 45, F_map_push_elem = 87, F_map_pop_elem = 88, F_map_peek_elem = 89,
	F_spin_lock = 93, F_spin_unlock = 94, F_strtol = 105, F_strtoul = 106,
	F_probe_read_user = 112, F_probe_read_kernel = 113, F_probe_read_user_str = 114,
	F_probe_read_kernel_str = 115, F_ringbuf_output = 130, F_ringbuf_reserve = 131,
	F_ringbuf_submit = 132, F_ringbuf_discard = 133, F_ringbuf_query = 134,
	F_get_current_task_btf = 158, F_for_each_map_elem = 164, F_snprintf = 165,
	F_trace_vprintk = 177, F_loop = 181, F_strncmp = 182, F_map_lookup_percpu_elem = 195,
};

static char pu_log[8192];

struct pu_run {
	int create_errno;     /* 0 when the program was created */
	int err;              /* the run's status */
	uint64_t r0;
};

/* Create (GPL, trusted, over maps) and run in mode with r1 = mem. */
static inline struct pu_run pu_run_prog(struct bpfvm *vm, const struct bpfvm_insn *insns,
					size_t cnt, struct bpfvm_map **maps, size_t nmaps,
					enum bpfvm_exec mode, void *mem, size_t len,
					const char *license)
{
	struct bpfvm_log log = { pu_log, sizeof(pu_log), 0 };
	BPFVM_OPTS(bpfvm_prog_opts, popts, .flags = BPFVM_PROG_TRUSTED, .log = &log,
		   .maps = maps, .nmaps = nmaps, .license = license);
	BPFVM_OPTS(bpfvm_run_opts, ropts, .mode = mode, .log = &log);
	struct pu_run r = { 0, 0, 0 };
	struct bpfvm_prog *prog;

	pu_log[0] = '\0';
	prog = bpfvm_prog__new(vm, insns, cnt, &popts);
	if (!prog) {
		r.create_errno = errno;
		return r;
	}
	r.err = bpfvm_prog__run(prog, mem, len, &ropts);
	r.r0 = ropts.retval;
	bpfvm_prog__destroy(prog);
	return r;
}

#define PU_RUN(vm, maps, nmaps, mode, ...) \
	pu_run_prog(vm, I(__VA_ARGS__), N(I(__VA_ARGS__)), maps, nmaps, mode, NULL, 0, "GPL")

/* Run in both interpreter modes; both must succeed and agree.  Returns r0. */
#define PU_RUN2(vm, maps, nmaps, ...)                                                         \
	({                                                                                    \
		struct pu_run a_ = PU_RUN(vm, maps, nmaps, BPFVM_EXEC_CHECKED, __VA_ARGS__);   \
		struct pu_run b_ = PU_RUN(vm, maps, nmaps, BPFVM_EXEC_UNCHECKED, __VA_ARGS__); \
		if (a_.create_errno || a_.err || b_.create_errno || b_.err)                   \
			TEST_FAIL("run failed: create %d/%d, run %d/%d: %s", a_.create_errno,   \
				  b_.create_errno, a_.err, b_.err, pu_log);                   \
		if (a_.r0 != b_.r0)                                                           \
			TEST_FAIL("modes disagree: 0x%" PRIx64 " vs 0x%" PRIx64, a_.r0, b_.r0); \
		a_.r0;                                                                        \
	})

static inline struct bpfvm_map *pu_map(struct bpfvm *vm, uint32_t type, uint32_t ks, uint32_t vs,
				       uint32_t max, uint32_t flags)
{
	BPFVM_OPTS(bpfvm_map_opts, o, .map_flags = flags);
	struct bpfvm_map *m = bpfvm_map__new(vm, type, ks, vs, max, &o);

	if (!m)
		TEST_FAIL("bpfvm_map__new(type %u): %s", type, strerror(errno));
	return m;
}

#endif
