/*
 * test_helpers.c - helpers through programs in both interpreter modes
 * (maps, tail calls, callbacks, ring buffers, perf output, trace output)
 * and called directly (formats, strings, numbers, checksums, probe
 * reads); program creation's checks (map references, helpers bpfvm lacks,
 * GPL-only helpers); checked runs stopping on bad helper arguments and on
 * writes to read-only maps.
 */
#include <sys/mman.h>
#include <unistd.h>

#include <bpfvm/hooks.h>

#include "helpers/helpers.h"
#include "maps/map.h"
#include "prog_util.h"
#include "vm/vm.h"

/* A run context for calling helpers directly (unchecked). */
static struct bpfvm_run_ctx direct_run(struct bpfvm *vm)
{
	struct bpfvm_run_ctx run;

	memset(&run, 0, sizeof(run));
	run.vm = vm;
	return run;
}

/* ---- maps through programs ---------------------------------------------------------- */

/* Count calls per key 7 in a hash map: insert 1, or add 1 to the value; r0 = the count. */
#define COUNTER_PROG(map_ld)                                                              \
	STW(FP, -4, 7), STDW(FP, -16, 1), map_ld, MOVR(2, FP), ADDI(2, -4),                 \
	CALL(F_map_lookup_elem), JEQI(0, 0, 5), LDXDW(1, 0, 0), ADDI(1, 1), STXDW(0, 0, 1), \
	MOVR(0, 1), EXIT, map_ld, MOVR(2, FP), ADDI(2, -4), MOVR(3, FP), ADDI(3, -16),       \
	MOV64(4, 0), CALL(F_map_update_elem), MOV64(0, 1), EXIT

TEST(program_counts_in_a_hash_map)
{
	struct bpfvm *vm = bpfvm__new(NULL);
	struct bpfvm_map *m = pu_map(vm, BPFVM_MAP_TYPE_HASH, 4, 8, 16, 0);
	uint32_t k = 7;
	uint64_t v = 0;

	CHECK_EQ_U64(PU_RUN(vm, &m, 1, BPFVM_EXEC_CHECKED, COUNTER_PROG(LD_MAP(1, 0))).r0, 1);
	CHECK_EQ_U64(PU_RUN(vm, &m, 1, BPFVM_EXEC_UNCHECKED, COUNTER_PROG(LD_MAP(1, 0))).r0, 2);
	CHECK_EQ_U64(PU_RUN(vm, &m, 1, BPFVM_EXEC_CHECKED, COUNTER_PROG(LD_MAP_FD(1, 0))).r0, 3);
	CHECK_EQ_U64(PU_RUN(vm, &m, 1, BPFVM_EXEC_UNCHECKED, COUNTER_PROG(LD_MAP_FD(1, 0))).r0, 4);
	CHECK_EQ_INT(bpfvm_map__lookup_elem(m, &k, &v, 0), 0);
	CHECK_EQ_U64(v, 4);
	bpfvm__destroy(vm);
}

TEST(program_reads_its_cpus_percpu_slot)
{
	struct bpfvm *vm = bpfvm__new(NULL);
	int n = bpfvm__num_possible_cpus(vm);
	struct bpfvm_map *m = pu_map(vm, BPFVM_MAP_TYPE_PERCPU_ARRAY, 4, 8, 1, 0);
	uint64_t *vals = calloc((size_t)n, 8);
	uint32_t k = 0;
	uint64_t cpu, got;

	for (int i = 0; i < n; i++)
		vals[i] = 1000 + (uint64_t)i;
	CHECK_EQ_INT(bpfvm_map__update_elem(m, &k, vals, 0), 0);
	/* r0 = value of this CPU's slot * 1000 + smp_processor_id: they must agree. */
	got = PU_RUN2(vm, &m, 1, STW(FP, -4, 0), LD_MAP(1, 0), MOVR(2, FP), ADDI(2, -4),
		      CALL(F_map_lookup_elem), JEQI(0, 0, 5), LDXDW(6, 0, 0),
		      CALL(F_get_smp_processor_id), BPFVM_ALU64_IMM(BPFVM_MUL, 6, 1000),
		      BPFVM_ALU64_REG(BPFVM_ADD, 0, 6), EXIT, MOV64(0, -1), EXIT);
	cpu = got % 1000;
	CHECK(cpu < (uint64_t)n);
	CHECK_EQ_U64(got / 1000, 1000 + cpu);
	/* lookup_percpu_elem reaches another CPU's slot; a CPU beyond the possible ones is NULL. */
	got = PU_RUN2(vm, &m, 1, STW(FP, -4, 0), LD_MAP(1, 0), MOVR(2, FP), ADDI(2, -4),
		      MOV64(3, n - 1), CALL(F_map_lookup_percpu_elem), JEQI(0, 0, 2), LDXDW(0, 0, 0),
		      EXIT, MOV64(0, -1), EXIT);
	CHECK_EQ_U64(got, 1000 + (uint64_t)n - 1);
	got = PU_RUN2(vm, &m, 1, STW(FP, -4, 0), LD_MAP(1, 0), MOVR(2, FP), ADDI(2, -4),
		      MOV64(3, n), CALL(F_map_lookup_percpu_elem), EXIT);
	CHECK_EQ_U64(got, 0);
	free(vals);
	bpfvm__destroy(vm);
}

TEST(queue_from_a_program)
{
	struct bpfvm *vm = bpfvm__new(NULL);
	struct bpfvm_map *q = pu_map(vm, BPFVM_MAP_TYPE_QUEUE, 0, 8, 4, 0);
	struct pu_run r;

	/* push 5 and 6, pop one, peek one: r0 = popped * 10 + peeked. */
	r = PU_RUN(vm, &q, 1, BPFVM_EXEC_CHECKED, STDW(FP, -8, 5), LD_MAP(1, 0), MOVR(2, FP),
		   ADDI(2, -8), MOV64(3, 0), CALL(F_map_push_elem), STDW(FP, -8, 6), LD_MAP(1, 0),
		   MOVR(2, FP), ADDI(2, -8), MOV64(3, 0), CALL(F_map_push_elem), LD_MAP(1, 0),
		   MOVR(2, FP), ADDI(2, -8), CALL(F_map_pop_elem), LDXDW(6, FP, -8),
		   BPFVM_ALU64_IMM(BPFVM_MUL, 6, 10), LD_MAP(1, 0), MOVR(2, FP), ADDI(2, -8),
		   CALL(F_map_peek_elem), LDXDW(0, FP, -8), BPFVM_ALU64_REG(BPFVM_ADD, 0, 6), EXIT);
	CHECK_EQ_INT(r.err, 0);
	CHECK_EQ_U64(r.r0, 56);
	bpfvm__destroy(vm);
}

TEST(direct_value_access_and_its_checks)
{
	struct bpfvm *vm = bpfvm__new(NULL);
	struct bpfvm_map *maps[3] = {
		pu_map(vm, BPFVM_MAP_TYPE_ARRAY, 4, 16, 1, 0),
		pu_map(vm, BPFVM_MAP_TYPE_HASH, 4, 16, 1, 0),
		pu_map(vm, BPFVM_MAP_TYPE_ARRAY, 4, 16, 2, 0),
	};
	uint32_t k = 0;
	uint64_t v[2] = { 11, 22 };
	struct pu_run r;

	bpfvm_map__update_elem(maps[0], &k, v, 0);
	CHECK_EQ_U64(PU_RUN2(vm, maps, 3, LD_MAP_VALUE(1, 0, 8), LDXDW(0, 1, 0), EXIT), 22);
	r = PU_RUN(vm, maps, 3, BPFVM_EXEC_CHECKED, LD_MAP_VALUE(1, 1, 0), LDXDW(0, 1, 0), EXIT);
	CHECK_EQ_INT(r.create_errno, EINVAL);
	CHECK_CONTAINS(pu_log, "no direct value access support for this map type");
	r = PU_RUN(vm, maps, 3, BPFVM_EXEC_CHECKED, LD_MAP_VALUE(1, 2, 0), LDXDW(0, 1, 0), EXIT);
	CHECK_EQ_INT(r.create_errno, EINVAL);
	CHECK_CONTAINS(pu_log, "invalid access to map value pointer, value_size=16 off=0");
	r = PU_RUN(vm, maps, 3, BPFVM_EXEC_CHECKED, LD_MAP_VALUE(1, 0, 16), LDXDW(0, 1, 0), EXIT);
	CHECK_CONTAINS(pu_log, "invalid access to map value pointer, value_size=16 off=16");
	r = PU_RUN(vm, maps, 3, BPFVM_EXEC_CHECKED, LD_MAP(1, 3), MOV64(0, 0), EXIT);
	CHECK_EQ_INT(r.create_errno, EINVAL);
	CHECK_CONTAINS(pu_log, "instruction 0: lddw refers to map 3, but the program was given 3 maps");
	r = PU_RUN(vm, NULL, 0, BPFVM_EXEC_CHECKED, LD_MAP(1, 0), MOV64(0, 0), EXIT);
	CHECK_CONTAINS(pu_log, "was given no maps");
	r = PU_RUN(vm, maps, 3, BPFVM_EXEC_CHECKED,
		   BPFVM_RAW_INSN(BPFVM_LD | BPFVM_DW | BPFVM_IMM, 1, BPFVM_PSEUDO_MAP_FD, 0, 0),
		   BPFVM_RAW_INSN(0, 0, 0, 0, 4), MOV64(0, 0), EXIT);
	CHECK_CONTAINS(pu_log, "unrecognized bpf_ld_imm64 insn");
	/* The value ends at 16 bytes: a checked read past it stops the run. */
	r = PU_RUN(vm, maps, 3, BPFVM_EXEC_CHECKED, LD_MAP_VALUE(1, 0, 8), LDXDW(0, 1, 8), EXIT);
	CHECK_EQ_INT(r.err, -EFAULT);
	CHECK_CONTAINS(pu_log, "instruction 2");
	bpfvm__destroy(vm);
}

TEST(readonly_prog_maps_refuse_writes_in_checked_runs)
{
	struct bpfvm *vm = bpfvm__new(NULL);
	struct bpfvm_map *m = pu_map(vm, BPFVM_MAP_TYPE_ARRAY, 4, 8, 1, BPFVM_F_RDONLY_PROG);
	struct pu_run r;

	CHECK_EQ_U64(PU_RUN2(vm, &m, 1, LD_MAP_VALUE(1, 0, 0), LDXDW(0, 1, 0), EXIT), 0);
	r = PU_RUN(vm, &m, 1, BPFVM_EXEC_CHECKED, LD_MAP_VALUE(1, 0, 0), STDW(1, 0, 3), MOV64(0, 0),
		   EXIT);
	CHECK_EQ_INT(r.err, -EFAULT);
	CHECK_CONTAINS(pu_log, "write of 8 bytes");
	r = PU_RUN(vm, &m, 1, BPFVM_EXEC_CHECKED, STW(FP, -4, 0), STDW(FP, -16, 0), LD_MAP(1, 0),
		   MOVR(2, FP), ADDI(2, -4), MOVR(3, FP), ADDI(3, -16), MOV64(4, 0),
		   CALL(F_map_update_elem), EXIT);
	CHECK_EQ_INT(r.err, -EACCES);
	CHECK_CONTAINS(pu_log, "write into map forbidden");
	bpfvm__destroy(vm);
}

TEST(checked_runs_check_helper_arguments)
{
	struct bpfvm *vm = bpfvm__new(NULL);
	struct bpfvm_map *m = pu_map(vm, BPFVM_MAP_TYPE_HASH, 8, 8, 4, 0);
	struct pu_run r;

	/* An 8-byte key that starts 4 bytes below the frame's top: its end is outside. */
	r = PU_RUN(vm, &m, 1, BPFVM_EXEC_CHECKED, LD_MAP(1, 0), MOVR(2, FP), ADDI(2, -4),
		   CALL(F_map_lookup_elem), EXIT);
	CHECK_EQ_INT(r.err, -EFAULT);
	CHECK_CONTAINS(pu_log, "instruction 4 (call 0x1): bpf_map_lookup_elem: R2 (key");
	CHECK_CONTAINS(pu_log, "R2 (key, 8 bytes at");
	/* A map pointer that is not a map. */
	r = PU_RUN(vm, &m, 1, BPFVM_EXEC_CHECKED, MOVR(1, FP), MOVR(2, FP), ADDI(2, -8),
		   CALL(F_map_lookup_elem), EXIT);
	CHECK_EQ_INT(r.err, -EINVAL);
	CHECK_CONTAINS(pu_log, "is not a map of this instance");
	/* A ring buffer is not for map_lookup_elem. */
	{
		struct bpfvm_map *rb = pu_map(vm, BPFVM_MAP_TYPE_RINGBUF, 0, 0, 4096, 0);

		r = PU_RUN(vm, &rb, 1, BPFVM_EXEC_CHECKED, LD_MAP(1, 0), MOVR(2, FP), ADDI(2, -8),
			   CALL(F_map_lookup_elem), EXIT);
		CHECK_EQ_INT(r.err, -EINVAL);
		CHECK_CONTAINS(pu_log, "cannot pass map_type 27 into func bpf_map_lookup_elem#1");
	}
	bpfvm__destroy(vm);
}

TEST(programs_reach_inner_maps)
{
	struct bpfvm *vm = bpfvm__new(NULL);
	struct bpfvm_map *inner = pu_map(vm, BPFVM_MAP_TYPE_ARRAY, 4, 8, 4, 0);
	BPFVM_OPTS(bpfvm_map_opts, o, .inner_map = inner);
	struct bpfvm_map *outer = bpfvm_map__new(vm, BPFVM_MAP_TYPE_ARRAY_OF_MAPS, 4, 4, 2, &o);
	uint32_t k = 1;
	uint64_t v = 77;

	CHECK_EQ_INT(bpfvm_map__set_inner(outer, &k, inner), 0);
	CHECK_EQ_INT(bpfvm_map__update_elem(inner, &k, &v, 0), 0);
	/* r0 = *lookup(lookup(outer, 1), 1), or -1 on the way */
	CHECK_EQ_U64(PU_RUN2(vm, &outer, 1, STW(FP, -4, 1), LD_MAP(1, 0), MOVR(2, FP), ADDI(2, -4),
			     CALL(F_map_lookup_elem), JEQI(0, 0, 7), MOVR(1, 0), MOVR(2, FP),
			     ADDI(2, -4), CALL(F_map_lookup_elem), JEQI(0, 0, 2), LDXDW(0, 0, 0), EXIT,
			     MOV64(0, -1), EXIT),
		     77);
	/* Slot 0 is empty: the outer lookup gives NULL. */
	CHECK_EQ_U64(PU_RUN2(vm, &outer, 1, STW(FP, -4, 0), LD_MAP(1, 0), MOVR(2, FP), ADDI(2, -4),
			     CALL(F_map_lookup_elem), EXIT),
		     0);
	bpfvm__destroy(vm);
}

/*
 * Stacks of a run with no task (bpfvm's own thread): an empty user stack,
 * and no kernel stack ever; the answers are the kernel's for an empty
 * callchain (get_stackid -EFAULT; get_stack 0 with the buffer zeroed, or
 * -EFAULT when frames are to be skipped) and for bad flags and sizes.
 */
#define STACK_CALL(flags, size)                                                           \
	STDW(FP, -32, -1), MOVR(2, FP), ADDI(2, -32), MOV64(3, size), LD64(4, flags),      \
		CALL(HELPER_ID_get_stack)

TEST(stacks_without_a_task_are_empty)
{
	struct bpfvm *vm = bpfvm__new(NULL);
	struct bpfvm_map *st = pu_map(vm, BPFVM_MAP_TYPE_STACK_TRACE, 4, 64, 4, 0);
	struct bpfvm_map *cg = pu_map(vm, BPFVM_MAP_TYPE_CGROUP_ARRAY, 4, 4, 2, 0);
	const uint64_t user = 1 << 8, build_id = 1 << 11;

	CHECK_EQ_U64(PU_RUN2(vm, &st, 1, LD_MAP(2, 0), MOV64(3, 256), CALL(HELPER_ID_get_stackid),
			     EXIT), (uint64_t)-EFAULT);
	CHECK_EQ_U64(PU_RUN2(vm, &st, 1, LD_MAP(2, 0), MOV64(3, 0), CALL(HELPER_ID_get_stackid),
			     EXIT), (uint64_t)-EFAULT);
	CHECK_EQ_U64(PU_RUN2(vm, &st, 1, LD_MAP(2, 0), MOV64(3, 1 << 12),
			     CALL(HELPER_ID_get_stackid), EXIT), (uint64_t)-EINVAL);
	CHECK_EQ_U64(PU_RUN2(vm, NULL, 0, STACK_CALL(user, 32), EXIT), 0);
	CHECK_EQ_U64(PU_RUN2(vm, NULL, 0, STACK_CALL(0, 32), EXIT), 0);
	CHECK_EQ_U64(PU_RUN2(vm, NULL, 0, STACK_CALL(user, 32), LDXDW(0, FP, -32), EXIT), 0);
	CHECK_EQ_U64(PU_RUN2(vm, NULL, 0, STACK_CALL(user | 1, 32), EXIT), (uint64_t)-EFAULT);
	CHECK_EQ_U64(PU_RUN2(vm, NULL, 0, STACK_CALL(build_id, 32), EXIT), (uint64_t)-EINVAL);
	CHECK_EQ_U64(PU_RUN2(vm, NULL, 0, STACK_CALL(user, 12), EXIT), (uint64_t)-EINVAL);
	/* ...and a refusal zeroes the buffer too */
	CHECK_EQ_U64(PU_RUN2(vm, NULL, 0, STACK_CALL(user, 12), LDXDW(0, FP, -32), EXIT), 0);
	/* maps of another type (a program created unverified could pass them) */
	CHECK_EQ_U64(PU_RUN2(vm, &cg, 1, LD_MAP(2, 0), MOV64(3, 256), CALL(HELPER_ID_get_stackid),
			     EXIT), (uint64_t)-EINVAL);
	CHECK_EQ_U64(PU_RUN2(vm, &st, 1, LD_MAP(1, 0), MOV64(2, 0),
			     CALL(HELPER_ID_current_task_under_cgroup), EXIT), (uint64_t)-EINVAL);
	/* a cgroup array's empty slot, an index past its end */
	CHECK_EQ_U64(PU_RUN2(vm, &cg, 1, LD_MAP(1, 0), MOV64(2, 1),
			     CALL(HELPER_ID_current_task_under_cgroup), EXIT), (uint64_t)-EAGAIN);
	CHECK_EQ_U64(PU_RUN2(vm, &cg, 1, LD_MAP(1, 0), MOV64(2, 2),
			     CALL(HELPER_ID_current_task_under_cgroup), EXIT), (uint64_t)-E2BIG);
	bpfvm__destroy(vm);
}

/* ---- creation: helpers and licenses ----------------------------------------------------- */

TEST(programs_calling_missing_or_gpl_helpers_are_refused)
{
	struct bpfvm *vm = bpfvm__new(NULL);
	struct pu_run r;

	r = pu_run_prog(vm, I(MOV64(1, 0), CALL(F_skb_store_bytes), EXIT), 3, NULL, 0,
			BPFVM_EXEC_CHECKED, NULL, 0, "GPL");
	CHECK_EQ_INT(r.create_errno, EINVAL);
	CHECK_CONTAINS(pu_log, "program calls bpf_skb_store_bytes#9, which bpfvm does not provide");
	r = pu_run_prog(vm, I(CALL(F_get_current_task_btf), EXIT), 2, NULL, 0, BPFVM_EXEC_CHECKED,
			NULL, 0, "GPL");
	CHECK_EQ_INT(r.create_errno, 0);
	CHECK_EQ_U64(r.r0, 0);   /* provided: no traced task, NULL as bpf_get_current_task's */
	r = pu_run_prog(vm, I(CALL(400), EXIT), 2, NULL, 0, BPFVM_EXEC_CHECKED, NULL, 0, "GPL");
	CHECK_CONTAINS(pu_log, "invalid func unknown#400");
	r = pu_run_prog(vm, I(MOV64(1, 0), MOV64(2, 0), CALL(F_trace_printk), EXIT), 4, NULL, 0,
			BPFVM_EXEC_CHECKED, NULL, 0, "Proprietary");
	CHECK_EQ_INT(r.create_errno, EINVAL);
	CHECK_CONTAINS(pu_log, "cannot call GPL-restricted function from non-GPL compatible program");
	r = pu_run_prog(vm, I(CALL(F_get_current_task), EXIT), 2, NULL, 0, BPFVM_EXEC_CHECKED, NULL,
			0, NULL);
	CHECK_EQ_INT(r.create_errno, EINVAL);
	r = pu_run_prog(vm, I(CALL(F_get_current_task), EXIT), 2, NULL, 0, BPFVM_EXEC_CHECKED, NULL,
			0, "Dual BSD/GPL");
	CHECK_EQ_INT(r.create_errno, 0);
	CHECK_EQ_U64(r.r0, 0);   /* no traced task (bpfvm trace lays one out): NULL */
	r = pu_run_prog(vm, I(CALL(F_get_current_pid_tgid), EXIT), 2, NULL, 0, BPFVM_EXEC_CHECKED,
			NULL, 0, NULL);   /* not GPL-only */
	CHECK_EQ_INT(r.create_errno, 0);
	CHECK_EQ_U64(r.r0 >> 32, (uint64_t)getpid());
	CHECK_EQ_U64((uint32_t)r.r0, (uint64_t)gettid());
	bpfvm__destroy(vm);
}

/*
 * What only the kernel can do: a kernel-only map (a descriptor) and the
 * stand-in of a kernel-only helper let a program be created and verified;
 * every operation on the map fails, and the program never runs, in any mode.
 */
TEST(kernel_only_maps_and_helpers_verify_but_never_run)
{
	struct bpfvm *vm = bpfvm__new(NULL);
	BPFVM_OPTS(bpfvm_map_opts, mopts, .name = "sock_map", .kernel_only = true);
	struct bpfvm_map *stack = bpfvm_map__new(vm, BPFVM_MAP_TYPE_SOCKMAP, 4, 4, 64, &mopts);
	struct bpfvm_insn insns[] = {
		BPFVM_LD_IMM64_RAW(2, BPFVM_PSEUDO_MAP_FD, 0),
		MOV64(1, 1),
		CALL(HELPER_ID_get_current_ancestor_cgroup_id),
		MOV64(0, 0),
		EXIT,
	};
	static const enum bpfvm_exec modes[] = { BPFVM_EXEC_CHECKED, BPFVM_EXEC_UNCHECKED,
						 BPFVM_EXEC_JIT };
	char msg[512] = "", value[8] = { 0 };
	struct bpfvm_log log = { msg, sizeof(msg), 0 };
	BPFVM_OPTS(bpfvm_prog_opts, popts, .name = "stacks", .maps = &stack, .nmaps = 1,
		   .prog_type = 2 /* kprobe */, .license = "GPL", .log = &log);
	BPFVM_OPTS(bpfvm_verify_opts, vopts, .log = &log);
	struct bpfvm_prog *prog;
	uint32_t key = 0;

	CHECK(stack != NULL);
	CHECK(bpfvm_map__kernel_only(stack));
	CHECK_STR(bpfvm_map_type_kernel_name(BPFVM_MAP_TYPE_SOCKMAP), "BPF_MAP_TYPE_SOCKMAP");
	CHECK_EQ_INT(bpfvm_map__lookup_elem(stack, &key, value, 0), -EOPNOTSUPP);
	CHECK_EQ_INT(bpfvm_map__update_elem(stack, &key, value, 0), -EOPNOTSUPP);
	/* without a stand-in the helper is missing */
	CHECK(!bpfvm_prog__new(vm, insns, sizeof(insns) / sizeof(insns[0]), &popts));
	CHECK_CONTAINS(msg, "bpf_get_current_ancestor_cgroup_id#123");
	helpers_register_kernel_only(vm);
	msg[0] = '\0';
	prog = bpfvm_prog__new(vm, insns, sizeof(insns) / sizeof(insns[0]), &popts);
	CHECK(prog != NULL);
	CHECK_EQ_INT(bpfvm_prog__verify(prog, &vopts), 0);
	for (size_t m = 0; prog && m < sizeof(modes) / sizeof(modes[0]); m++) {
		uint8_t ctx[168] = { 0 };
		BPFVM_OPTS(bpfvm_run_opts, ropts, .mode = modes[m], .log = &log);

		msg[0] = '\0';
		log.len = 0;
		CHECK_EQ_INT(bpfvm_prog__run(prog, ctx, sizeof(ctx), &ropts), -EOPNOTSUPP);
		CHECK_CONTAINS(msg, "program 'stacks' cannot run in bpfvm: instruction 0 refers to "
				    "map 'sock_map', a BPF_MAP_TYPE_SOCKMAP: only the kernel has "
				    "its content");
	}
	/* nor as its program type's test run */
	if (prog) {
		uint8_t regs[168] = { 0 };
		BPFVM_OPTS(bpfvm_test_run_opts, to, .ctx_in = regs, .ctx_size_in = sizeof(regs),
			   .mode = BPFVM_EXEC_UNCHECKED, .log = &log);

		msg[0] = '\0';
		log.len = 0;
		CHECK_EQ_INT(bpfvm_prog__test_run(prog, &to), -EOPNOTSUPP);
		CHECK_CONTAINS(msg, "program 'stacks' cannot run in bpfvm: instruction 0 refers to "
				    "map 'sock_map'");
	}
	/* a kernel-only helper alone */
	{
		struct bpfvm_insn cg[] = { MOV64(1, 1), CALL(HELPER_ID_get_current_ancestor_cgroup_id),
					   EXIT };
		BPFVM_OPTS(bpfvm_prog_opts, o, .name = "cgroup", .prog_type = 2, .license = "GPL");
		BPFVM_OPTS(bpfvm_run_opts, ropts, .mode = BPFVM_EXEC_CHECKED, .log = &log);
		struct bpfvm_prog *p = bpfvm_prog__new(vm, cg, 3, &o);
		uint8_t ctx[168] = { 0 };

		CHECK(p != NULL);
		msg[0] = '\0';
		log.len = 0;
		CHECK_EQ_INT(bpfvm_prog__run(p, ctx, sizeof(ctx), &ropts), -EOPNOTSUPP);
		CHECK_CONTAINS(msg, "program 'cgroup' cannot run in bpfvm: instruction 1 calls "
				    "bpf_get_current_ancestor_cgroup_id#123, which needs cgroups");
	}
	bpfvm__destroy(vm);
}

/* ---- tail calls ----------------------------------------------------------------------------- */

TEST(tail_calls_chain_at_most_33)
{
	struct bpfvm *vm = bpfvm__new(NULL);
	struct bpfvm_map *maps[2] = {
		pu_map(vm, BPFVM_MAP_TYPE_PROG_ARRAY, 4, 4, 2, 0),
		pu_map(vm, BPFVM_MAP_TYPE_ARRAY, 4, 8, 1, 0),
	};
	struct bpfvm_log log = { pu_log, sizeof(pu_log), 0 };
	BPFVM_OPTS(bpfvm_prog_opts, po, .maps = maps, .nmaps = 2, .log = &log, .license = "GPL",
		   .flags = BPFVM_PROG_TRUSTED);
	/* Add 1 to the counter, then tail-call slot 0 (itself); r0 = the counter. */
	struct bpfvm_insn self[] = {
		MOVR(6, 1), LD_MAP_VALUE(7, 1, 0), LDXDW(0, 7, 0), ADDI(0, 1), STXDW(7, 0, 0),
		MOVR(1, 6), LD_MAP(2, 0), MOV64(3, 0), CALL(F_tail_call), LDXDW(0, 7, 0), EXIT,
	};
	struct bpfvm_prog *p = bpfvm_prog__new(vm, self, N(self), &po);
	uint32_t zero = 0;
	uint64_t count;

	CHECK(p != NULL);
	CHECK_EQ_INT(bpfvm_map__set_prog(maps[0], 0, p), 0);
	CHECK_EQ_INT(bpfvm_map__set_prog(maps[0], 2, p), -E2BIG);
	for (int mode = BPFVM_EXEC_CHECKED; mode <= BPFVM_EXEC_UNCHECKED; mode++) {
		BPFVM_OPTS(bpfvm_run_opts, ro, .mode = (enum bpfvm_exec)mode, .log = &log);

		count = 0;
		bpfvm_map__update_elem(maps[1], &zero, &count, 0);
		CHECK_EQ_INT(bpfvm_prog__run(p, NULL, 0, &ro), 0);
		CHECK_EQ_U64(ro.retval, 34);   /* the first run and 33 tail calls */
	}
	/* An empty slot falls through. */
	CHECK_EQ_INT(bpfvm_map__delete_elem(maps[0], &zero), 0);
	CHECK_EQ_INT(bpfvm_map__delete_elem(maps[0], &zero), -ENOENT);
	{
		BPFVM_OPTS(bpfvm_run_opts, ro);

		CHECK_EQ_INT(bpfvm_prog__run(p, NULL, 0, &ro), 0);
		CHECK_EQ_U64(ro.retval, 35);
	}
	/* A program of another type may not join the array. */
	po.prog_type = 6;
	CHECK(bpfvm_prog__new(vm, self, N(self), &po) == NULL);
	CHECK_CONTAINS(pu_log, "cannot use program array");
	bpfvm__destroy(vm);
}

/* ---- callbacks ------------------------------------------------------------------------------ */

TEST(bpf_loop_calls_back)
{
	struct bpfvm *vm = bpfvm__new(NULL);

	/* sum of i for i < 10 into *(u64 *)ctx; the callback stops at i == 7 the second time. */
	CHECK_EQ_U64(PU_RUN2(vm, NULL, 0, STDW(FP, -8, 0), MOV64(1, 10), LD_FUNC(2, 9), MOVR(3, FP),
			     ADDI(3, -8), MOV64(4, 0), CALL(F_loop), LDXDW(1, FP, -8),
			     BPFVM_ALU64_IMM(BPFVM_LSH, 1, 8), BPFVM_ALU64_REG(BPFVM_OR, 0, 1), EXIT,
			     /* callback(i, ctx) */
			     LDXDW(3, 2, 0), BPFVM_ALU64_REG(BPFVM_ADD, 3, 1), STXDW(2, 0, 3),
			     MOV64(0, 0), EXIT),
		     (45u << 8) | 10);
	/* Stop early: the callback returns 1 at i == 3; bpf_loop returns 4. */
	CHECK_EQ_U64(PU_RUN2(vm, NULL, 0, MOV64(1, 10), LD_FUNC(2, 5), MOV64(3, 0), MOV64(4, 0),
			     CALL(F_loop), EXIT,
			     MOV64(0, 0), JNEI(1, 3, 1), MOV64(0, 1), EXIT),
		     4);
	CHECK_EQ_U64(PU_RUN2(vm, NULL, 0, MOV64(1, 1), LD_FUNC(2, 5), MOV64(3, 0), MOV64(4, 1),
			     CALL(F_loop), EXIT, MOV64(0, 0), EXIT),
		     (uint64_t)-EINVAL);
	CHECK_EQ_U64(PU_RUN2(vm, NULL, 0, LD64(1, (1u << 23) + 1), LD_FUNC(2, 5), MOV64(3, 0),
			     MOV64(4, 0), CALL(F_loop), EXIT, MOV64(0, 0), EXIT),
		     (uint64_t)-E2BIG);
	bpfvm__destroy(vm);
}

TEST(callbacks_fault_in_checked_runs)
{
	struct bpfvm *vm = bpfvm__new(NULL);
	struct pu_run r;

	/* The callback reads through its ctx, which is NULL. */
	r = PU_RUN(vm, NULL, 0, BPFVM_EXEC_CHECKED, MOV64(1, 2), LD_FUNC(2, 5), MOV64(3, 0),
		   MOV64(4, 0), CALL(F_loop), EXIT, LDXDW(0, 2, 0), EXIT);
	CHECK_EQ_INT(r.err, -EFAULT);
	CHECK_CONTAINS(pu_log, "instruction 7");
	/* A callback that is not a function. */
	r = PU_RUN(vm, NULL, 0, BPFVM_EXEC_CHECKED, MOV64(1, 2), LD64(2, 0x1234), MOV64(3, 0),
		   MOV64(4, 0), CALL(F_loop), EXIT);
	CHECK_EQ_INT(r.err, -EINVAL);
	CHECK_CONTAINS(pu_log, "is not a function of the program");
	bpfvm__destroy(vm);
}

TEST(for_each_map_elem_visits_every_element)
{
	struct bpfvm *vm = bpfvm__new(NULL);
	struct bpfvm_map *maps[2] = {
		pu_map(vm, BPFVM_MAP_TYPE_ARRAY, 4, 8, 5, 0),
		pu_map(vm, BPFVM_MAP_TYPE_HASH, 4, 8, 8, 0),
	};
	/* callback(map, key, value, ctx): *ctx += *key * 100 + *value; visited count in r0. */
#define EACH_PROG(map)                                                                      \
	STDW(FP, -8, 0), LD_MAP(1, map), LD_FUNC(2, 9), MOVR(3, FP), ADDI(3, -8), MOV64(4, 0), \
	CALL(F_for_each_map_elem), LDXDW(1, FP, -8), BPFVM_ALU64_IMM(BPFVM_LSH, 1, 8),         \
	BPFVM_ALU64_REG(BPFVM_OR, 0, 1), EXIT,                                                 \
	LDXW(5, 2, 0), BPFVM_ALU64_IMM(BPFVM_MUL, 5, 100), LDXDW(6, 3, 0),                     \
	BPFVM_ALU64_REG(BPFVM_ADD, 5, 6), LDXDW(6, 4, 0), BPFVM_ALU64_REG(BPFVM_ADD, 6, 5),     \
	STXDW(4, 0, 6), MOV64(0, 0), EXIT

	for (uint32_t k = 0; k < 5; k++) {
		uint64_t v = k + 1;

		bpfvm_map__update_elem(maps[0], &k, &v, 0);
		if (k % 2)
			bpfvm_map__update_elem(maps[1], &k, &v, 0);
	}
	/* array: keys 0..4 and values 1..5: 1000 + 15 */
	CHECK_EQ_U64(PU_RUN2(vm, maps, 2, EACH_PROG(0)), (1015u << 8) | 5);
	/* hash: keys 1 and 3, values 2 and 4: 400 + 6 */
	CHECK_EQ_U64(PU_RUN2(vm, maps, 2, EACH_PROG(1)), (406u << 8) | 2);
#undef EACH_PROG
	bpfvm__destroy(vm);
}

/* ---- ring buffers and perf events ------------------------------------------------------- */

static int sum_cb(void *ctx, const void *data, size_t size)
{
	uint64_t v;

	memcpy(&v, data, size < 8 ? size : 8);
	*(uint64_t *)ctx += v;
	return 0;
}

TEST(ringbuf_from_programs)
{
	struct bpfvm *vm = bpfvm__new(NULL);
	struct bpfvm_map *rb = pu_map(vm, BPFVM_MAP_TYPE_RINGBUF, 0, 0, 4096, 0);
	uint64_t sum = 0;
	struct pu_run r;

	/* reserve 8, write 40, submit; output 8 bytes of 2 from the stack; discard one. */
	CHECK_EQ_U64(PU_RUN2(vm, &rb, 1, LD_MAP(1, 0), MOV64(2, 8), MOV64(3, 0),
			     CALL(F_ringbuf_reserve), JEQI(0, 0, 13), STDW(0, 0, 40), MOVR(1, 0),
			     MOV64(2, 0), CALL(F_ringbuf_submit), STDW(FP, -8, 2), LD_MAP(1, 0),
			     MOVR(2, FP), ADDI(2, -8), MOV64(3, 8), MOV64(4, 0), CALL(F_ringbuf_output),
			     EXIT, MOV64(0, -1), EXIT),
		     0);
	CHECK_EQ_INT(bpfvm_map__ringbuf_consume(rb, sum_cb, &sum), 4);
	CHECK_EQ_U64(sum, 84);
	/* Writing past the reservation stops a checked run. */
	r = PU_RUN(vm, &rb, 1, BPFVM_EXEC_CHECKED, LD_MAP(1, 0), MOV64(2, 8), MOV64(3, 0),
		   CALL(F_ringbuf_reserve), JEQI(0, 0, 4), STDW(0, 8, 1), MOVR(1, 0), MOV64(2, 0),
		   CALL(F_ringbuf_submit), MOV64(0, 0), EXIT);
	CHECK_EQ_INT(r.err, -EFAULT);
	/* Submitting what was not reserved, or forgetting to submit. */
	r = PU_RUN(vm, &rb, 1, BPFVM_EXEC_CHECKED, MOVR(1, FP), ADDI(1, -8), MOV64(2, 0),
		   CALL(F_ringbuf_submit), MOV64(0, 0), EXIT);
	CHECK_EQ_INT(r.err, -EINVAL);
	CHECK_CONTAINS(pu_log, "is not a ring buffer record this run reserved");
	r = PU_RUN(vm, &rb, 1, BPFVM_EXEC_CHECKED, LD_MAP(1, 0), MOV64(2, 8), MOV64(3, 0),
		   CALL(F_ringbuf_reserve), MOV64(0, 0), EXIT);
	CHECK_EQ_INT(r.err, -EINVAL);
	CHECK_CONTAINS(pu_log, "Unreleased reference");
	CHECK_EQ_INT(bpfvm_map__ringbuf_consume(rb, sum_cb, &sum), 0);   /* discarded: not stuck */
	CHECK(ringbuf_reserve(rb, 8) != NULL);
	bpfvm__destroy(vm);
}

struct perf_seen {
	int n, cpu;
	uint64_t v;
};

static void perf_cb(void *ctx, int cpu, const void *data, size_t size)
{
	struct perf_seen *s = ctx;

	s->n++;
	s->cpu = cpu;
	memcpy(&s->v, data, size < 8 ? size : 8);
}

TEST(perf_event_output_goes_to_the_callback)
{
	struct bpfvm *vm = bpfvm__new(NULL);
	int ncpus = bpfvm__num_possible_cpus(vm);
	struct bpfvm_map *pe = pu_map(vm, BPFVM_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4, (uint32_t)ncpus, 0);
	struct perf_seen seen = { 0, -1, 0 };
	/* perf_event_output(ctx, map, flags in r6, &v, 8) */
#define PERF_PROG(flags)                                                                    \
	STDW(FP, -8, 99), LD64(3, flags), LD_MAP(2, 0), MOVR(4, FP), ADDI(4, -8), MOV64(5, 8),  \
	CALL(F_perf_event_output), EXIT

	CHECK_EQ_U64(PU_RUN2(vm, &pe, 1, PERF_PROG(0xffffffffull)), (uint64_t)-ENOENT);
	CHECK_EQ_INT(bpfvm_map__set_perf_output(pe, perf_cb, &seen), 0);
	CHECK_EQ_U64(PU_RUN2(vm, &pe, 1, PERF_PROG(0xffffffffull)), 0);
	CHECK_EQ_INT(seen.n, 2);
	CHECK(seen.cpu >= 0 && seen.cpu < ncpus);
	CHECK_EQ_U64(seen.v, 99);
	CHECK_EQ_U64(PU_RUN2(vm, &pe, 1, PERF_PROG((uint64_t)ncpus)), (uint64_t)-E2BIG);
	CHECK_EQ_U64(PU_RUN2(vm, &pe, 1, PERF_PROG(1ull << 32)), (uint64_t)-EINVAL);
#undef PERF_PROG
	bpfvm__destroy(vm);
}

TEST(spin_lock_in_a_value)
{
	struct bpfvm *vm = bpfvm__new(NULL);
	BPFVM_OPTS(bpfvm_map_opts, o, .has_spin_lock = true, .spin_lock_off = 0);
	struct bpfvm_map *m = bpfvm_map__new(vm, BPFVM_MAP_TYPE_ARRAY, 4, 16, 1, &o);
	uint32_t k = 0;
	uint64_t v[2] = { 0xffffffff, 5 }, out[2];

	CHECK(m != NULL);
	CHECK_EQ_INT(bpfvm_map__update_elem(m, &k, v, BPFVM_F_LOCK), 0);
	CHECK_EQ_INT(bpfvm_map__lookup_elem(m, &k, out, BPFVM_F_LOCK), 0);
	CHECK_EQ_U64(out[0], 0);   /* the lock word is not copied */
	CHECK_EQ_U64(out[1], 5);
	/* lock, add 1 to the counter after the lock, unlock; r0 = counter */
#define LOCK_PROG                                                                      \
	LD_MAP_VALUE(6, 0, 0), MOVR(1, 6), CALL(F_spin_lock), LDXDW(7, 6, 8), ADDI(7, 1),   \
	STXDW(6, 8, 7), MOVR(1, 6), CALL(F_spin_unlock), MOVR(0, 7), EXIT
	CHECK_EQ_U64(PU_RUN(vm, &m, 1, BPFVM_EXEC_CHECKED, LOCK_PROG).r0, 6);
	CHECK_EQ_U64(PU_RUN(vm, &m, 1, BPFVM_EXEC_UNCHECKED, LOCK_PROG).r0, 7);
#undef LOCK_PROG
	CHECK_EQ_INT(bpfvm_map__lookup_elem(m, &k, out, 0), 0);
	CHECK_EQ_U64(out[0], 0);   /* unlocked */
	o.spin_lock_off = 14;      /* misaligned */
	CHECK(bpfvm_map__new(vm, BPFVM_MAP_TYPE_ARRAY, 4, 16, 1, &o) == NULL);
	bpfvm__destroy(vm);
}

/* ---- trace output --------------------------------------------------------------------------- */

static char trace_text[2048];

static void trace_cb(void *ctx, const char *text, size_t len)
{
	(void)ctx;
	snprintf(trace_text, sizeof(trace_text), "%.*s", (int)len, text);
}

TEST(trace_printk_writes_a_trace_pipe_line)
{
	BPFVM_OPTS(bpfvm_opts, vo, .trace = trace_cb);
	struct bpfvm *vm = bpfvm__new(&vo);
	char comm[17] = { 0 }, expect[64];

	{
		FILE *f = fopen("/proc/self/comm", "r");

		if (f && fgets(comm, sizeof(comm), f))
			comm[strcspn(comm, "\n")] = 0;
		if (f)
			fclose(f);
	}
	/* "x=%d\n" on the stack: 0x0a64253d78 */
	CHECK_EQ_U64(PU_RUN2(vm, NULL, 0, LD64(1, 0x0a64253d78ull), STXDW(FP, -8, 1), MOVR(1, FP),
			     ADDI(1, -8), MOV64(2, 6), MOV64(3, -42), CALL(F_trace_printk), EXIT),
		     6);
	snprintf(expect, sizeof(expect), "%16s-%-7d [", comm, (int)gettid());
	CHECK(!strncmp(trace_text, expect, strlen(expect)));
	CHECK_CONTAINS(trace_text, "] ..... ");
	CHECK_CONTAINS(trace_text, ": bpf_trace_printk: x=-42\n\n");
	bpfvm__destroy(vm);
}

/* ---- formats, called directly ------------------------------------------------------------ */

static long fmt(char *out, size_t size, const char *f, uint64_t a, uint64_t b, uint64_t c)
{
	struct bpfvm *vm = bpfvm__new(NULL);
	const uint64_t args[3] = { a, b, c };
	long n = helper_bprintf(vm, out, size, f, strlen(f) + 1, args, 3);

	bpfvm__destroy(vm);
	return n;
}

#define CHECK_FMT(F, A, B, C, EXPECT)                                          \
	do {                                                                   \
		char out_[1024];                                               \
		long n_ = fmt(out_, sizeof(out_), F, A, B, C);                 \
		CHECK_EQ_INT(n_, (long)strlen(EXPECT));                        \
		if (n_ >= 0)                                                   \
			CHECK_STR(out_, EXPECT);                               \
	} while (0)

TEST(bprintf_follows_the_kernels_rules)
{
	static const uint8_t ip4[4] = { 10, 1, 20, 255 };
	static const uint8_t ip6[16] = { 0xfe, 0x80, [15] = 1 };
	char out[64];

	CHECK_FMT("%d %i %u", (uint64_t)-1, 7, (uint64_t)-1, "-1 7 4294967295");
	CHECK_FMT("%x %X %lx", 0xabcdef12, 0xabcdef12, 0x1234567890ull, "abcdef12 ABCDEF12 1234567890");
	CHECK_FMT("%ld %lld %llu", (uint64_t)-5, 1ull << 40, (uint64_t)-1,
		  "-5 1099511627776 18446744073709551615");
	CHECK_FMT("[%5d|%-5d|%05d]", 42, 42, (uint64_t)-42, "[   42|42   |-0042]");
	CHECK_FMT("[%+d|% d|%c]", 5, 5, 'A', "[+5| 5|A]");
	CHECK_FMT("%s!", (uintptr_t)"str", 0, 0, "str!");
	CHECK_FMT("[%6s|%-6s]", (uintptr_t)"ab", (uintptr_t)"cd", 0, "[    ab|cd    ]");
	CHECK_FMT("%s.", 16, 0, 0, ".");   /* a bad pointer prints nothing */
	CHECK_FMT("%px", 0xff, 0, 0, "00000000000000ff");
	CHECK_FMT("%p %pK", 0x10, 0x20, 0, "0000000000000010 0000000000000020");
	CHECK_FMT("%pS", 0x10, 0, 0, "0x10");
	CHECK_FMT("a=[%s] b=[%s]", (uintptr_t)"", (uintptr_t)"xyz", 0, "a=[] b=[xyz]");
	/* An empty user string takes no room: the next string overwrites it (the
	 * kernel then reads on into what its buffer held before: zeros here). */
	CHECK_FMT("[%pus][%s]", (uintptr_t)"", (uintptr_t)"xyz", 0, "[xyz][]");
	CHECK_FMT("%pI4 %pi4", (uintptr_t)ip4, (uintptr_t)ip4, 0, "10.1.20.255 010.001.020.255");
	CHECK_FMT("%pI6", (uintptr_t)ip6, 0, 0, "fe80:0000:0000:0000:0000:0000:0000:0001");
	CHECK_FMT("%pi6", (uintptr_t)ip6, 0, 0, "fe800000000000000000000000000001");
	CHECK_FMT("%pI4", 8, 0, 0, "0.0.0.0");
	CHECK_FMT("%pI4xyz!", (uintptr_t)ip4, 0, 0, "10.1.20.255!");
	CHECK_FMT("%pks %pus", (uintptr_t)"k", (uintptr_t)"u", 0, "k u");
	CHECK_FMT("100%%", 0, 0, 0, "100%");
	CHECK_FMT("\xc3\xa9t\xc3\xa9 %d", 1, 0, 0, "\xc3\xa9t\xc3\xa9 1");
	CHECK_EQ_INT(fmt(out, sizeof(out), "%d %d %d %d", 1, 2, 3), -EINVAL);
	CHECK_EQ_INT(fmt(out, sizeof(out), "%.2d", 1, 2, 3), -EINVAL);
	CHECK_EQ_INT(fmt(out, sizeof(out), "%#x", 1, 2, 3), -EINVAL);
	CHECK_EQ_INT(fmt(out, sizeof(out), "%hd", 1, 2, 3), -EINVAL);
	CHECK_EQ_INT(fmt(out, sizeof(out), "%zu", 1, 2, 3), -EINVAL);
	CHECK_EQ_INT(fmt(out, sizeof(out), "%lu%", 1, 2, 3), -EINVAL);
	CHECK_EQ_INT(fmt(out, sizeof(out), "%sx", 1, 2, 3), -EINVAL);
	CHECK_EQ_INT(fmt(out, sizeof(out), "%pz", 1, 2, 3), -EINVAL);
	CHECK_EQ_INT(fmt(out, sizeof(out), "a\x01", 1, 2, 3), -EINVAL);
	CHECK_EQ_INT(fmt(out, sizeof(out), "%\xc3", 1, 2, 3), -EINVAL);
	/* Truncation: the length of the whole text, and a NUL at the end of what fits. */
	CHECK_EQ_INT(fmt(out, 4, "%d", 123456, 0, 0), 6);
	CHECK_STR(out, "123");
	{
		struct bpfvm *vm = bpfvm__new(NULL);
		const uint64_t args[1] = { 1 };

		/* No NUL within the size. */
		CHECK_EQ_INT(helper_bprintf(vm, out, sizeof(out), "abc", 3, args, 1), -EINVAL);
		CHECK_EQ_INT(helper_bprintf(vm, out, sizeof(out), "abc", 4, args, 1), 3);
		bpfvm__destroy(vm);
	}
}

TEST(snprintf_and_vprintk_helpers)
{
	struct bpfvm *vm = bpfvm__new(NULL);
	struct bpfvm_run_ctx run = direct_run(vm);
	uint64_t args[13] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13 };
	char out[64];

	CHECK_EQ_U64(helper_snprintf((uintptr_t)out, sizeof(out), (uintptr_t)"%d-%d", (uintptr_t)args,
				     16, &run),
		     4);
	CHECK_STR(out, "1-2");
	CHECK_EQ_U64(helper_snprintf((uintptr_t)out, sizeof(out), (uintptr_t)"%d", (uintptr_t)args, 12,
				     &run),
		     (uint64_t)-EINVAL);
	CHECK_EQ_U64(helper_snprintf((uintptr_t)out, sizeof(out), (uintptr_t)"%d", (uintptr_t)args,
				     13 * 8, &run),
		     (uint64_t)-EINVAL);
	CHECK_EQ_U64(helper_snprintf(0, 0, (uintptr_t)"%d%d", (uintptr_t)args, 16, &run), 3);
	CHECK_EQ_U64(helper_trace_vprintk((uintptr_t)"%d %d %d %d %d %d %d %d %d %d %d %d", 36,
					  (uintptr_t)args, 96, 0, &run),
		     26);
	bpfvm__destroy(vm);
}

/* ---- strings, numbers, checksums, probe reads -------------------------------------------- */

static int64_t call_strtol(const char *s, uint64_t flags, int64_t *res, bool unsigned_)
{
	struct bpfvm *vm = bpfvm__new(NULL);
	struct bpfvm_run_ctx run = direct_run(vm);
	uint64_t r = (unsigned_ ? helper_strtoul : helper_strtol)((uintptr_t)s, strlen(s), flags,
								   (uintptr_t)res, 0, &run);

	bpfvm__destroy(vm);
	return (int64_t)r;
}

TEST(strtol_and_strtoul)
{
	int64_t res;

	CHECK_EQ_INT(call_strtol("  -123abc", 0, &res, false), 6);
	CHECK_EQ_INT(res, -123);
	CHECK_EQ_INT(call_strtol("0x1f", 0, &res, false), 4);
	CHECK_EQ_INT(res, 31);
	CHECK_EQ_INT(call_strtol("0x1f", 10, &res, false), 1);
	CHECK_EQ_INT(res, 0);
	CHECK_EQ_INT(call_strtol("017", 0, &res, false), 3);
	CHECK_EQ_INT(res, 15);
	CHECK_EQ_INT(call_strtol("ff", 16, &res, false), 2);
	CHECK_EQ_INT(res, 255);
	CHECK_EQ_INT(call_strtol("0xg", 0, &res, false), 1);   /* "0", octal */
	CHECK_EQ_INT(call_strtol("9223372036854775807", 0, &res, false), 19);
	CHECK_EQ_INT(call_strtol("9223372036854775808", 0, &res, false), -ERANGE);
	CHECK_EQ_INT(call_strtol("-9223372036854775808", 0, &res, false), 20);
	CHECK_EQ_INT(res, INT64_MIN);
	CHECK_EQ_INT(call_strtol("99999999999999999999", 0, &res, true), -ERANGE);
	CHECK_EQ_INT(call_strtol("18446744073709551615", 0, &res, true), 20);
	CHECK_EQ_INT(call_strtol("-1", 0, &res, true), -EINVAL);
	CHECK_EQ_INT(call_strtol("abc", 10, &res, false), -EINVAL);
	CHECK_EQ_INT(call_strtol("   ", 10, &res, false), -EINVAL);
	CHECK_EQ_INT(call_strtol("12", 7, &res, false), -EINVAL);
	CHECK_EQ_INT(call_strtol("12", 32, &res, false), -EINVAL);
}

TEST(strncmp_and_csum_diff)
{
	struct bpfvm *vm = bpfvm__new(NULL);
	struct bpfvm_run_ctx run = direct_run(vm);
	uint32_t from[2] = { 0x01020304, 0x05060708 }, to[2] = { 0x01020305, 0x05060708 };

	CHECK_EQ_INT((int64_t)helper_strncmp((uintptr_t)"abc", 3, (uintptr_t)"abd", 0, 0, &run), -1);
	CHECK_EQ_INT((int64_t)helper_strncmp((uintptr_t)"abc", 2, (uintptr_t)"abd", 0, 0, &run), 0);
	CHECK_EQ_INT((int64_t)helper_strncmp((uintptr_t)"b", 5, (uintptr_t)"a", 0, 0, &run), 1);
	CHECK_EQ_INT((int64_t)helper_strncmp((uintptr_t)"ab", 5, (uintptr_t)"ab", 0, 0, &run), 0);
	/* 64-bit words with end-around carry, folded to 16 bits (Linux 6.13 and later). */
	CHECK_EQ_U64(helper_csum_diff(0, 0, (uintptr_t)to, 8, 0, &run), 0x1015);
	CHECK_EQ_U64(helper_csum_diff((uintptr_t)from, 8, (uintptr_t)to, 8, 0, &run), 1);
	CHECK(helper_csum_diff((uintptr_t)from, 8, 0, 0, 0x1015, &run) < 0x10000);
	CHECK(helper_csum_diff((uintptr_t)from, 6, (uintptr_t)to, 8, 0, &run) < 0x10000);
	bpfvm__destroy(vm);
}

TEST(probe_read_never_faults)
{
	struct bpfvm *vm = bpfvm__new(NULL);
	struct bpfvm_run_ctx run = direct_run(vm);
	long page = sysconf(_SC_PAGESIZE);
	char *two = mmap(NULL, 2 * (size_t)page, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char buf[16];
	uint64_t v = 0x1122334455667788ull, out = 1;

	CHECK_EQ_U64(helper_probe_read((uintptr_t)&out, 8, (uintptr_t)&v, 0, 0, &run), 0);
	CHECK_EQ_U64(out, v);
	CHECK_EQ_U64(helper_probe_read_kernel((uintptr_t)&out, 8, 8, 0, 0, &run), (uint64_t)-EFAULT);
	CHECK_EQ_U64(out, 0);   /* zeroed */
	/* A string that runs into an unmapped page. */
	munmap(two + page, (size_t)page);
	memset(two + page - 3, 'x', 3);
	CHECK_EQ_U64(helper_probe_read_user_str((uintptr_t)buf, 16, (uintptr_t)(two + page - 3), 0, 0,
						&run),
		     (uint64_t)-EFAULT);
	CHECK_EQ_INT(buf[0], 0);
	two[page - 1] = 0;
	CHECK_EQ_U64(helper_probe_read_user_str((uintptr_t)buf, 16, (uintptr_t)(two + page - 3), 0, 0,
						&run),
		     3);
	CHECK_STR(buf, "xx");
	/* The empty string: 0 for the _user form, 1 for _kernel (the kernel's quirk). */
	CHECK_EQ_U64(helper_probe_read_user_str((uintptr_t)buf, 16, (uintptr_t)"", 0, 0, &run), 0);
	CHECK_EQ_U64(helper_probe_read_kernel_str((uintptr_t)buf, 16, (uintptr_t)"", 0, 0, &run), 1);
	/* Truncated: size bytes, the last one a NUL. */
	CHECK_EQ_U64(helper_probe_read_kernel_str((uintptr_t)buf, 4, (uintptr_t)"abcdef", 0, 0, &run),
		     4);
	CHECK_STR(buf, "abc");
	CHECK_EQ_U64(helper_probe_read_str((uintptr_t)buf, 0, (uintptr_t)"abc", 0, 0, &run), 0);
	munmap(two, (size_t)page);
	bpfvm__destroy(vm);
}

TEST(current_task_helpers)
{
	struct bpfvm *vm = bpfvm__new(NULL);
	struct bpfvm_run_ctx run = direct_run(vm);
	char comm[8];

	CHECK_EQ_U64(helper_get_current_uid_gid(0, 0, 0, 0, 0, &run),
		     (uint64_t)getgid() << 32 | getuid());
	memset(comm, 'z', sizeof(comm));
	CHECK_EQ_U64(helper_get_current_comm((uintptr_t)comm, sizeof(comm), 0, 0, 0, &run), 0);
	CHECK_EQ_INT(comm[7], 0);
	CHECK(!strncmp(comm, "test_he", 7));
	bpfvm__destroy(vm);
}

TEST_MAIN()
