/*
 * test_kernel_verdicts.c - small programs on the edges of verifier rules,
 * loaded into the running kernel and into bpfvm's verifier as XDP
 * programs: the verdicts, and the instructions processed, must be the
 * same.
 *
 *   - An array map's bpf_map_lookup_elem with a key the verifier knows,
 *     inside the array, returns a value that cannot be NULL (Linux 6.14+),
 *     so the program may use it without a check.  The key is known from
 *     zeros the stack tracks as such, or from a constant spilled at the
 *     key's exact size.  Each program looks the key up in an array of 4
 *     and writes through the result unchecked; it is accepted or refused
 *     by whether the key is known and below 4.
 *   - A kernel-function call with imm 0 is a placeholder: the walk passes
 *     it, and it is refused after the walk if a path reached it.
 *   - Which registers of a checkpoint matter is what some path of the
 *     program may read (static liveness, Linux 6.18), not what the paths
 *     walked read: a read on a branch the verifier never takes counts, and
 *     a function's exit reads r0 even where every caller overwrites it.
 *   - A frozen array that programs cannot write (.rodata) holds constants:
 *     a branch on a value read from it is decided, and the other side is
 *     dead code that may be invalid.  Only an array of one entry can be
 *     read so; the kernel refuses a read of a larger one (EOPNOTSUPP).
 *
 *   - bpf_fastcall (Linux 6.12+): the spill/fill pairs around a call the
 *     kernel inlines (bpf_get_smp_processor_id on x86-64) leave the
 *     stack a function counts, when nothing else touches their slots; a
 *     function that keeps them (another access, a call not inlined)
 *     counts them.  A main program of 512 bytes calls one whose only
 *     stack is such a pair: accepted (512+0), else "combined stack size".
 *
 * A case the host kernel cannot load (a helper or map type it lacks:
 * kernel_host.h) is skipped, with the kernel's reason.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpfvm/bpfvm.h>
#include <bpfvm/maps.h>

#include "kernel_host.h"
#include "test.h"

#define MAX_INSNS 32
#define LOG_SIZE 65536

struct verdict {
	int err;            /* 0: accepted */
	uint64_t processed; /* from the statistics line */
	char log[LOG_SIZE];
};

static uint64_t processed_of(const char *log)
{
	const char *p = strstr(log, "processed ");

	return p ? strtoull(p + 10, NULL, 10) : UINT64_MAX;
}

#define NO_MAP SIZE_MAX

/* The map a program refers to: key 4 bytes, value 8, entry 0 set to value. */
struct map_spec {
	uint32_t type, entries, flags;
	uint64_t value;
	bool frozen;
};

static const struct map_spec array4 = { BPF_MAP_TYPE_ARRAY, 4, 0, 0, false };

static int kernel_map(const struct map_spec *s)
{
	uint32_t zero = 0;
	union bpf_attr a;
	int fd = kernel_map_create(s->type, 4, 8, s->entries, s->flags, 0);

	if (fd < 0)
		return fd;
	memset(&a, 0, sizeof(a));
	a.map_fd = (uint32_t)fd;
	a.key = (uint64_t)(uintptr_t)&zero;
	a.value = (uint64_t)(uintptr_t)&s->value;
	if (s->type == BPF_MAP_TYPE_ARRAY && sys_bpf(BPF_MAP_UPDATE_ELEM, &a) < 0)
		return -errno;
	memset(&a, 0, sizeof(a));
	a.map_fd = (uint32_t)fd;
	if (s->frozen && sys_bpf(BPF_MAP_FREEZE, &a) < 0)
		return -errno;
	return fd;
}

static struct bpfvm_map *bpfvm_map(struct bpfvm *vm, const struct map_spec *s)
{
	struct bpfvm_map *m = bpfvm_map__new(vm, s->type, 4, 8, s->entries,
					      &(struct bpfvm_map_opts){ .sz = sizeof(struct bpfvm_map_opts),
									.map_flags = s->flags });
	uint32_t zero = 0;

	if (m && s->type == BPF_MAP_TYPE_ARRAY && bpfvm_map__update_elem(m, &zero, &s->value, 0))
		return NULL;
	if (m && s->frozen && bpfvm_map__freeze(m))
		return NULL;
	return m;
}

/*
 * The kernel's verdict; the lddw at map_at (or none: NO_MAP) gets the fd
 * of a map made to spec.  0; 1 when the host kernel cannot load it (why
 * says why: kernel_host.h); -1 when the map cannot be made (why).
 */
static int kernel_verdict(const struct bpfvm_insn *in, size_t cnt, size_t map_at,
			  const struct map_spec *spec, bool freq, struct verdict *v, char *why,
			  size_t why_size)
{
	struct bpfvm_insn insns[MAX_INSNS];
	int map = map_at == NO_MAP ? 0 : kernel_map(spec), fd;

	if (map < 0) {
		if (kernel_cannot_create_map(spec->type, why, why_size))
			return 1;
		snprintf(why, why_size, "the kernel refuses the map (type %u): %s", spec->type,
			 strerror(-map));
		return -1;
	}
	memcpy(insns, in, cnt * sizeof(*in));
	if (map_at != NO_MAP)
		insns[map_at].imm = map;
	fd = kernel_prog_load(BPF_PROG_TYPE_XDP, insns, cnt, freq ? BPF_F_TEST_STATE_FREQ : 0, 1 | 4,
			      v->log, sizeof(v->log));
	v->err = fd < 0 ? fd : 0;
	if (fd >= 0)
		close(fd);
	if (map_at != NO_MAP)
		close(map);
	if (v->err && kernel_cannot_load(BPF_PROG_TYPE_XDP, 0, freq ? BPF_F_TEST_STATE_FREQ : 0,
					 v->err, v->log, why, why_size))
		return 1;
	v->processed = processed_of(v->log);
	return 0;
}

static void bpfvm_verdict(const struct bpfvm_insn *in, size_t cnt, size_t map_at,
			  const struct map_spec *spec, bool freq, struct verdict *v)
{
	struct bpfvm_insn insns[MAX_INSNS];
	struct bpfvm *vm = bpfvm__new(NULL);
	struct bpfvm_map *map = map_at == NO_MAP ? NULL : bpfvm_map(vm, spec);
	struct bpfvm_log log = { v->log, sizeof(v->log), 0 };
	struct bpfvm_prog *prog;

	memcpy(insns, in, cnt * sizeof(*in));
	if (map_at != NO_MAP)
		insns[map_at].imm = 0;
	v->log[0] = '\0';
	BPFVM_OPTS(bpfvm_prog_opts, popts, .name = "edge", .log = &log, .maps = &map,
		   .nmaps = map ? 1 : 0, .prog_type = BPF_PROG_TYPE_XDP, .license = "GPL");
	prog = map || map_at == NO_MAP ? bpfvm_prog__new(vm, insns, cnt, &popts) : NULL;
	if (!prog) { /* refused as it loads: no instruction walked */
		v->err = -errno;
		v->processed = 0;
	} else {
		BPFVM_OPTS(bpfvm_verify_opts, vopts, .log = &log, .log_level = 1,
			   .flags = freq ? BPFVM_VERIFY_STATE_FREQ : 0);
		v->err = bpfvm_prog__verify(prog, &vopts);
		v->processed = processed_of(v->log);
	}
	bpfvm__destroy(vm);
}

/*
 * Both verdicts on program p, against what the test expects of the kernel;
 * freq: a checkpoint at every prune point (BPF_F_TEST_STATE_FREQ), so that
 * small programs prune.
 */
static void compare_with(const char *what, const struct bpfvm_insn *p, size_t n, size_t map_at,
			 const struct map_spec *spec, bool freq, bool accepted)
{
	static struct verdict k, b;
	char why[1024];
	int rc = kernel_verdict(p, n, map_at, spec, freq, &k, why, sizeof(why));

	if (rc > 0)
		kernel_skip(test_current_name(), what, why);
	if (rc < 0)
		TEST_FAIL("%s: %s", what, why);
	if (rc)
		return;
	bpfvm_verdict(p, n, map_at, spec, freq, &b);
	if (!k.err != accepted)
		TEST_FAIL("%s: the kernel %s it, the test expects otherwise: %s", what,
			  k.err ? "refuses" : "accepts", k.log);
	if (!b.err != !k.err)
		TEST_FAIL("%s: bpfvm %s it (%d), the kernel %s it:\n%s", what,
			  b.err ? "refuses" : "accepts", b.err, k.err ? "refuses" : "accepts", b.log);
	else if (b.processed != k.processed)
		TEST_FAIL("%s: bpfvm processed %" PRIu64 " instructions, the kernel %" PRIu64, what,
			  b.processed, k.processed);
}

static void compare(const char *what, const struct bpfvm_insn *p, size_t n, size_t map_at,
		    const struct map_spec *spec, bool accepted)
{
	compare_with(what, p, n, map_at, spec, false, accepted);
}

/* The key's stores (at most 4 instructions), then the lookup and an unchecked write. */
static void check(const char *what, uint32_t map_type, const struct bpfvm_insn *key, size_t nkey,
		  bool accepted)
{
	struct bpfvm_insn p[MAX_INSNS];
	size_t n = 0, map_at;

	for (size_t i = 0; i < nkey; i++)
		p[n++] = key[i];
	map_at = n;
	p[n++] = BPFVM_RAW_INSN(BPFVM_LD | BPFVM_DW | BPFVM_IMM, 1, BPF_PSEUDO_MAP_FD, 0, 0);
	p[n++] = BPFVM_RAW_INSN(0, 0, 0, 0, 0);
	p[n++] = BPFVM_MOV64_REG(2, BPFVM_REG_FP);
	p[n++] = BPFVM_ALU64_IMM(BPFVM_ADD, 2, -8);
	p[n++] = BPFVM_CALL_HELPER(1); /* bpf_map_lookup_elem */
	p[n++] = BPFVM_ST_MEM(BPFVM_DW, 0, 0, 7);
	p[n++] = BPFVM_MOV64_IMM(0, 2);
	p[n++] = BPFVM_EXIT_INSN();
	compare(what, p, n, map_at, &(struct map_spec){ map_type, 4, 0, 0, false }, accepted);
}

#define KEY(...) (const struct bpfvm_insn[]){ __VA_ARGS__ }, \
	sizeof((const struct bpfvm_insn[]){ __VA_ARGS__ }) / sizeof(struct bpfvm_insn)

TEST(array_lookup_with_a_known_key_is_not_null)
{
	/* zeros the stack tracks: a 4-byte store of 0 at the key */
	check("key 0 stored as an immediate", BPF_MAP_TYPE_ARRAY,
	      KEY(BPFVM_ST_MEM(BPFVM_W, BPFVM_REG_FP, -8, 0)), true);
	check("key 0 from a register known zero", BPF_MAP_TYPE_ARRAY,
	      KEY(BPFVM_MOV64_IMM(3, 0), BPFVM_STX_MEM(BPFVM_W, BPFVM_REG_FP, 3, -8)), true);
	/* a constant spilled at the key's size */
	check("key 3 spilled as 4 bytes", BPF_MAP_TYPE_ARRAY,
	      KEY(BPFVM_MOV64_IMM(3, 3), BPFVM_STX_MEM(BPFVM_W, BPFVM_REG_FP, 3, -8)), true);
	check("key 3 in a per-CPU array", BPF_MAP_TYPE_PERCPU_ARRAY,
	      KEY(BPFVM_MOV64_IMM(3, 3), BPFVM_STX_MEM(BPFVM_W, BPFVM_REG_FP, 3, -8)), true);
}

TEST(array_lookup_with_another_key_may_be_null)
{
	check("key 4: past the array", BPF_MAP_TYPE_ARRAY,
	      KEY(BPFVM_MOV64_IMM(3, 4), BPFVM_STX_MEM(BPFVM_W, BPFVM_REG_FP, 3, -8)), false);
	check("key -1: past the array", BPF_MAP_TYPE_ARRAY,
	      KEY(BPFVM_MOV64_IMM(3, -1), BPFVM_STX_MEM(BPFVM_W, BPFVM_REG_FP, 3, -8)), false);
	check("key spilled as 8 bytes, not the key's 4", BPF_MAP_TYPE_ARRAY,
	      KEY(BPFVM_MOV64_IMM(3, 1), BPFVM_STX_MEM(BPFVM_DW, BPFVM_REG_FP, 3, -8)), false);
	check("key not constant", BPF_MAP_TYPE_ARRAY,
	      KEY(BPFVM_LDX_MEM(BPFVM_W, 3, 1, 0), BPFVM_ALU64_IMM(BPFVM_AND, 3, 3),
		  BPFVM_STX_MEM(BPFVM_W, BPFVM_REG_FP, 3, -8)), false);
	check("key 0 in a hash map", BPF_MAP_TYPE_HASH,
	      KEY(BPFVM_ST_MEM(BPFVM_W, BPFVM_REG_FP, -8, 0)), false);
}

#define KFUNC_PLACEHOLDER BPFVM_RAW_INSN(BPFVM_JMP | BPFVM_CALL, 0, 2 /* kfunc */, 0, 0)

TEST(placeholder_kernel_call)
{
	const struct bpfvm_insn reached[] = {
		KFUNC_PLACEHOLDER, BPFVM_MOV64_IMM(0, 2), BPFVM_EXIT_INSN(),
	};
	const struct bpfvm_insn dead[] = {
		BPFVM_MOV64_IMM(0, 2), BPFVM_JMP_IMM(BPFVM_JEQ, 0, 1, 1), BPFVM_EXIT_INSN(),
		KFUNC_PLACEHOLDER, BPFVM_EXIT_INSN(),
	};

	compare("a placeholder call a path reaches", reached, 3, NO_MAP, &array4, false);
	compare("a placeholder call in dead code", dead, 5, NO_MAP, &array4, true);
}

/* A write to r10 is refused on a path the verifier walks, and accepted in dead code. */
TEST(frame_pointer_writes_count_where_reached)
{
	const struct bpfvm_insn reached[] = {
		BPFVM_MOV64_IMM(0, 2), BPFVM_MOV64_IMM(BPFVM_REG_FP, 0), BPFVM_EXIT_INSN(),
	};
	const struct bpfvm_insn dead[] = {
		BPFVM_MOV64_IMM(0, 2), BPFVM_JMP_IMM(BPFVM_JEQ, 0, 2, 1),
		BPFVM_MOV64_IMM(BPFVM_REG_FP, 0), BPFVM_EXIT_INSN(),
	};

	compare("r10 written on the path", reached, 3, NO_MAP, &array4, false);
	compare("r10 written in dead code", dead, 4, NO_MAP, &array4, true);
}

/*
 * Two paths join at 6 with r6 a number on one and the frame pointer on the
 * other; only a branch the verifier knows is never taken (r1 is 0) reads
 * r6.  No walked path reads it, but the program may: the join's
 * checkpoint does not cover the second path, and the kernel walks 6-8
 * twice.
 */
TEST(a_read_on_a_branch_never_taken_counts)
{
	const struct bpfvm_insn p[] = {
		BPFVM_CALL_HELPER(7), /* bpf_get_prandom_u32 */
		BPFVM_MOV64_IMM(1, 0),
		BPFVM_JMP_IMM(BPFVM_JGT, 0, 5, 2),
		BPFVM_MOV64_IMM(6, 1),
		BPFVM_JMP_IMM(BPFVM_JA, 0, 0, 1),
		BPFVM_MOV64_REG(6, BPFVM_REG_FP),
		BPFVM_JMP_IMM(BPFVM_JNE, 1, 0, 2),
		BPFVM_MOV64_IMM(0, 2),
		BPFVM_EXIT_INSN(),
		BPFVM_MOV64_REG(0, 6),
		BPFVM_EXIT_INSN(),
	};

	compare_with("r6 read only where r1 != 0", p, sizeof(p) / sizeof(p[0]), NO_MAP, &array4, true,
		     true);
}

/*
 * f's two paths join at 8 with r0 a number on one and the context on the
 * other; main ignores what f returns.  The join's checkpoint (r0 = 1)
 * does not cover the second path (r0 = ctx), for f's exit reads r0: the
 * kernel walks 8 and 9 twice.
 */
TEST(a_functions_result_is_live_at_its_exit)
{
	const struct bpfvm_insn p[] = {
		BPFVM_RAW_INSN(BPFVM_JMP | BPFVM_CALL, 0, 1 /* function */, 0, 2),
		BPFVM_MOV64_IMM(0, 2),
		BPFVM_EXIT_INSN(),
		/* f(ctx) */
		BPFVM_MOV64_REG(6, 1),
		BPFVM_CALL_HELPER(7), /* bpf_get_prandom_u32 */
		BPFVM_JMP_IMM(BPFVM_JGT, 0, 5, 2),
		BPFVM_MOV64_IMM(0, 1),
		BPFVM_JMP_IMM(BPFVM_JA, 0, 0, 1),
		BPFVM_MOV64_REG(0, 6),
		BPFVM_MOV64_IMM(2, 3),
		BPFVM_EXIT_INSN(),
	};

	compare_with("f's result ignored by main", p, sizeof(p) / sizeof(p[0]), NO_MAP, &array4, true,
		     true);
}

/*
 * r1 = the map's value (a direct value address, as .rodata's are), load
 * the 8 bytes at 0 (or the byte at 7, sign-extended), and read r5, which
 * no one wrote, unless the value is the expected one.
 */
static void check_frozen(const char *what, const struct map_spec *spec, bool sx, int64_t want,
			 bool accepted)
{
	const struct bpfvm_insn p[] = {
		BPFVM_RAW_INSN(BPFVM_LD | BPFVM_DW | BPFVM_IMM, 1, BPF_PSEUDO_MAP_VALUE, 0, 0),
		BPFVM_RAW_INSN(0, 0, 0, 0, 0),
		sx ? BPFVM_RAW_INSN(BPFVM_LDX | 0x80 /* BPF_MEMSX */ | BPFVM_B, 2, 1, 7, 0)
		   : BPFVM_LDX_MEM(BPFVM_DW, 2, 1, 0),
		BPFVM_MOV64_IMM(0, 2),
		BPFVM_JMP_IMM(BPFVM_JEQ, 2, (int32_t)want, 1),
		BPFVM_MOV64_REG(0, 5),
		BPFVM_EXIT_INSN(),
	};

	compare(what, p, sizeof(p) / sizeof(p[0]), 0, spec, accepted);
}

TEST(frozen_read_only_arrays_hold_constants)
{
	const uint32_t ro = BPF_F_RDONLY_PROG;

	check_frozen("frozen, read-only, the value expected",
		     &(struct map_spec){ BPF_MAP_TYPE_ARRAY, 1, ro, 42, true }, false, 42, true);
	check_frozen("frozen, read-only, another value",
		     &(struct map_spec){ BPF_MAP_TYPE_ARRAY, 1, ro, 41, true }, false, 42, false);
	check_frozen("a byte 0x80 sign-extended is -128",
		     &(struct map_spec){ BPF_MAP_TYPE_ARRAY, 1, ro, 0x8000000000000000ull, true },
		     true, -128, true);
	check_frozen("not frozen",
		     &(struct map_spec){ BPF_MAP_TYPE_ARRAY, 1, ro, 42, false }, false, 42, false);
	check_frozen("frozen but writable by programs",
		     &(struct map_spec){ BPF_MAP_TYPE_ARRAY, 1, 0, 42, true }, false, 42, false);
	/* a direct value address needs one entry: refused before the walk */
	check_frozen("a direct value address into two entries",
		     &(struct map_spec){ BPF_MAP_TYPE_ARRAY, 2, ro, 42, true }, false, 42, false);
}

/* Two entries, frozen and read-only, reached by a lookup of key 0: the read is refused. */
TEST(frozen_read_only_array_of_two_is_refused)
{
	const struct bpfvm_insn p[] = {
		BPFVM_ST_MEM(BPFVM_W, BPFVM_REG_FP, -8, 0),
		BPFVM_RAW_INSN(BPFVM_LD | BPFVM_DW | BPFVM_IMM, 1, BPF_PSEUDO_MAP_FD, 0, 0),
		BPFVM_RAW_INSN(0, 0, 0, 0, 0),
		BPFVM_MOV64_REG(2, BPFVM_REG_FP),
		BPFVM_ALU64_IMM(BPFVM_ADD, 2, -8),
		BPFVM_CALL_HELPER(1), /* bpf_map_lookup_elem: not NULL, key 0 of 2 */
		BPFVM_LDX_MEM(BPFVM_DW, 0, 0, 0),
		BPFVM_EXIT_INSN(),
	};
	const struct map_spec two = { BPF_MAP_TYPE_ARRAY, 2, BPF_F_RDONLY_PROG, 42, true };
	const struct map_spec thawed = { BPF_MAP_TYPE_ARRAY, 2, BPF_F_RDONLY_PROG, 42, false };

	compare("a frozen read-only array of two entries", p, sizeof(p) / sizeof(p[0]), 1, &two,
		false);
	compare("the same, not frozen", p, sizeof(p) / sizeof(p[0]), 1, &thawed, true);
}

/*
 * main: 512 bytes of stack, then a call of sub; sub: r1 spilled and
 * filled around a call of helper, then extra (n instructions).
 */
static void fastcall_case(const char *what, int32_t helper, const struct bpfvm_insn *extra,
			  size_t n, bool accepted)
{
	struct bpfvm_insn p[MAX_INSNS] = {
		BPFVM_MOV64_IMM(1, 42),
		BPFVM_STX_MEM(BPFVM_DW, BPFVM_REG_FP, 1, -512),
		BPFVM_RAW_INSN(BPFVM_JMP | BPFVM_CALL, 0, BPF_PSEUDO_CALL, 0, 2),
		BPFVM_MOV64_IMM(0, 2),
		BPFVM_EXIT_INSN(),
		BPFVM_STX_MEM(BPFVM_DW, BPFVM_REG_FP, 1, -8),
		BPFVM_CALL_HELPER(helper),
		BPFVM_LDX_MEM(BPFVM_DW, 1, BPFVM_REG_FP, -8),
	};
	size_t cnt = 8;

	for (size_t i = 0; i < n; i++)
		p[cnt++] = extra[i];
	p[cnt++] = BPFVM_MOV64_IMM(0, 0);
	p[cnt++] = BPFVM_EXIT_INSN();
	compare(what, p, cnt, NO_MAP, &array4, accepted);
}

TEST(bpf_fastcall_spills_leave_the_stack)
{
	fastcall_case("a fastcall pair around bpf_get_smp_processor_id", 8,
		      KEY(BPFVM_MOV64_REG(2, 1)), true);
	/* read again through r2 after a branch, where only the walk sees it */
	fastcall_case("a fastcall pair whose slot is read again", 8,
		      KEY(BPFVM_MOV64_REG(2, BPFVM_REG_FP), BPFVM_JMP_IMM(BPFVM_JGT, 1, 0, 0),
			  BPFVM_ALU64_IMM(BPFVM_ADD, 2, -8), BPFVM_LDX_MEM(BPFVM_DW, 3, 2, 0)),
		      false);
	fastcall_case("a fastcall pair around bpf_ktime_get_ns (not inlined)", 5,
		      KEY(BPFVM_MOV64_REG(2, 1)), false);
}

TEST_MAIN()
