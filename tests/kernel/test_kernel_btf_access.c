/*
 * test_kernel_btf_access.c - loads through bpf_get_current_task_btf's
 * task_struct (PTR_TO_BTF_ID), in tracepoint programs loaded into the
 * running kernel and into bpfvm's verifier: the same verdict, the same
 * instructions processed, and for a refusal the kernel's message in both
 * logs.  Offsets come from this kernel's BTF (/sys/kernel/btf/vmlinux),
 * found here by a walk of task_struct's top-level members.
 *
 *   accepted: task->tgid; task->real_parent->tgid (a trusted pointer,
 *     then an RCU one); task->mm->... (an untrusted pointer, Linux 6.18);
 *     task->comm read 8 bytes at a time (a char array as scratch);
 *     task->stack's memory at any offset (a void *: read-only untrusted
 *     memory); a NULL check of the task that the verifier decides (a
 *     trusted pointer is never NULL);
 *   refused: a store ("only read is supported", "cannot write into"), a
 *     load past the struct or a nested one ("access beyond struct"),
 *     half a pointer member, a negative or variable offset, a number
 *     loaded from a member used as a pointer.
 *
 * The level-2 log of task->real_parent->tgid types the registers as the
 * kernel does: trusted_ptr_task_struct, then rcu_ptr_task_struct.  Raw
 * tracepoints and kprobes may call the helper and load through its
 * result as tracepoints do.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpfvm/bpfvm.h>

#include "../../src/btf/btf.h"
#include "btf_member.h"
#include "kernel_host.h"
#include "test.h"

#define MAX_INSNS 32
#define LOG_SIZE 65536
#define VMLINUX "/sys/kernel/btf/vmlinux"
#define GET_TASK_BTF 158   /* BPF_FUNC_get_current_task_btf */

struct verdict {
	int err;
	uint64_t processed;
	char log[LOG_SIZE];
};

static struct btf *btf;
static long task_size;
static struct bpfvm *vm;    /* one instance: the kernel's BTF parsed once */
static uint32_t prog_type = BPF_PROG_TYPE_TRACEPOINT;

static uint64_t processed_of(const char *log)
{
	const char *p = strstr(log, "processed ");

	return p ? strtoull(p + 10, NULL, 10) : UINT64_MAX;
}

static int16_t off_of(const char *name, const char *member)
{
	return (int16_t)btf_member_offset(btf, name, member);
}

static void bpfvm_verdict(const struct bpfvm_insn *in, size_t cnt, uint32_t level,
			  struct verdict *v)
{
	struct bpfvm_log log = { v->log, sizeof(v->log), 0 };
	struct bpfvm_prog *prog;

	v->log[0] = '\0';
	BPFVM_OPTS(bpfvm_prog_opts, popts, .name = "btf", .log = &log, .prog_type = prog_type,
		   .license = "GPL");
	prog = bpfvm_prog__new(vm, in, cnt, &popts);
	if (!prog) {
		v->err = -errno;
		v->processed = 0;
	} else {
		BPFVM_OPTS(bpfvm_verify_opts, vopts, .log = &log, .log_level = level);
		v->err = bpfvm_prog__verify(prog, &vopts);
		v->processed = processed_of(v->log);
		bpfvm_prog__destroy(prog);
	}
}

/*
 * Both verdicts on p, with what the test expects of the kernel; msg, for
 * a refusal, must be in both logs.  The two logs at level 2 in *k, *b.
 */
static bool compare_logs(const char *what, const struct bpfvm_insn *p, size_t n, bool accepted,
			 const char *msg, struct verdict *k, struct verdict *b)
{
	char why[1024];
	int fd = kernel_prog_load(prog_type, p, n, 0, 2, k->log, sizeof(k->log));

	k->err = fd < 0 ? fd : 0;
	if (fd >= 0)
		close(fd);
	if (k->err && kernel_cannot_load(prog_type, 0, 0, k->err, k->log, why,
					 sizeof(why))) {
		kernel_skip(test_current_name(), what, why);
		return false;
	}
	k->processed = processed_of(k->log);
	bpfvm_verdict(p, n, 2, b);
	if (!k->err != accepted)
		TEST_FAIL("%s: the kernel %s it, the test expects otherwise: %s", what,
			  k->err ? "refuses" : "accepts", k->log);
	if (!b->err != !k->err)
		TEST_FAIL("%s: bpfvm %s it (%d), the kernel %s it:\n%s", what,
			  b->err ? "refuses" : "accepts", b->err, k->err ? "refuses" : "accepts", b->log);
	if (b->processed != k->processed)
		TEST_FAIL("%s: bpfvm processed %" PRIu64 " instructions, the kernel %" PRIu64, what,
			  b->processed, k->processed);
	if (msg && (!strstr(k->log, msg) || !strstr(b->log, msg)))
		TEST_FAIL("%s: '%s' expected in both logs:\nkernel: %s\nbpfvm: %s", what, msg, k->log,
			  b->log);
	return true;
}

static void compare(const char *what, const struct bpfvm_insn *p, size_t n, bool accepted,
		    const char *msg)
{
	static struct verdict k, b;

	compare_logs(what, p, n, accepted, msg, &k, &b);
}

#define PROG(...) (const struct bpfvm_insn[]){ __VA_ARGS__ }, \
	sizeof((const struct bpfvm_insn[]){ __VA_ARGS__ }) / sizeof(struct bpfvm_insn)
#define TASK BPFVM_CALL_HELPER(GET_TASK_BTF)
#define RET0 BPFVM_MOV64_IMM(0, 0), BPFVM_EXIT_INSN()
#define LDX(SZ, D, S, O) BPFVM_LDX_MEM(BPFVM_##SZ, D, S, O)

TEST(loads_through_the_current_task_are_accepted)
{
	int16_t tgid = off_of("task_struct", "tgid"), rp = off_of("task_struct", "real_parent");
	int16_t mm = off_of("task_struct", "mm"), comm = off_of("task_struct", "comm");
	int16_t cred = off_of("task_struct", "cred"), euid = off_of("cred", "euid");

	CHECK(tgid > 0 && rp > 0 && mm > 0 && comm > 0 && cred > 0 && euid > 0);
	compare("task->tgid", PROG(TASK, LDX(W, 1, 0, tgid), RET0), true, NULL);
	compare("task->real_parent->tgid", PROG(TASK, LDX(DW, 1, 0, rp), LDX(W, 2, 1, tgid), RET0),
		true, NULL);
	compare("task->mm's first 4 bytes, mm being untrusted", PROG(TASK, LDX(DW, 1, 0, mm),
		LDX(W, 2, 1, 0), RET0), true, NULL);
	/* a void * member: read-only untrusted memory (Linux 6.18), any offset read by probing */
	compare("task->stack[0], [4096], [-8]", PROG(TASK, LDX(DW, 1, 0, off_of("task_struct", "stack")),
		LDX(DW, 2, 1, 0), LDX(DW, 3, 1, 4096), LDX(DW, 4, 1, -8), RET0), true, NULL);
	compare("task->cred->euid", PROG(TASK, LDX(DW, 1, 0, cred), LDX(W, 2, 1, euid), RET0), true,
		NULL);
	compare("task->comm, 8 bytes at a time", PROG(TASK, LDX(DW, 1, 0, comm),
		LDX(DW, 2, 0, (int16_t)(comm + 8)), RET0), true, NULL);
	/* the task is never NULL: the branch is decided, r2 unread on the dead side */
	compare("if (!task)", PROG(TASK, BPFVM_JMP_IMM(BPFVM_JEQ, 0, 0, 1), LDX(W, 1, 0, tgid),
		RET0), true, NULL);
	/* a plain pointer may be NULL: both sides walked */
	compare("if (!task->mm)", PROG(TASK, LDX(DW, 1, 0, mm), BPFVM_JMP_IMM(BPFVM_JEQ, 1, 0, 1),
		BPFVM_MOV64_IMM(2, 1), RET0), true, NULL);
}

TEST(stores_and_wild_loads_are_refused_in_the_kernels_words)
{
	int16_t tgid = off_of("task_struct", "tgid"), rp = off_of("task_struct", "real_parent");
	char msg[160];

	compare("task->tgid = 1", PROG(TASK, BPFVM_ST_MEM(BPFVM_W, 0, tgid, 1), RET0), false,
		"only read is supported");
	compare("task->tgid = r1", PROG(TASK, BPFVM_MOV64_IMM(1, 1),
		BPFVM_STX_MEM(BPFVM_W, 0, 1, tgid), RET0), false, "only read is supported");
	snprintf(msg, sizeof(msg), "access beyond struct task_struct at off %ld size 1", task_size);
	compare("a byte past the task", PROG(TASK, LDX(B, 1, 0, (int16_t)task_size), RET0), false,
		msg);
	snprintf(msg, sizeof(msg), "cannot access ptr member real_parent with moff %d in struct "
		 "task_struct with off %d size 4", rp, rp + 4);
	compare("half of real_parent", PROG(TASK, LDX(W, 1, 0, (int16_t)(rp + 4)), RET0), false, msg);
	compare("task - 8", PROG(TASK, LDX(DW, 1, 0, -8), RET0), false,
		"R0 is ptr_task_struct invalid negative access: off=-8");
	compare("*task->stack = 1", PROG(TASK, LDX(DW, 1, 0, off_of("task_struct", "stack")),
		BPFVM_ST_MEM(BPFVM_DW, 1, 0, 1), RET0), false, "R1 cannot write into rdonly_untrusted_mem");
	/* mm_struct's members lie in an anonymous struct, its first one 4 bytes long */
	compare("8 bytes at mm + 0", PROG(TASK, LDX(DW, 1, 0, off_of("task_struct", "mm")),
		LDX(DW, 2, 1, 0), RET0), false, "access beyond struct (anon) at off 0 size 8");
	compare("tgid used as a pointer", PROG(TASK, LDX(W, 1, 0, tgid), LDX(W, 2, 1, 0), RET0),
		false, "R1 invalid mem access 'scalar'");
	compare("task + a variable offset", PROG(TASK, BPFVM_MOV64_REG(6, 0),
		BPFVM_CALL_HELPER(7 /* get_prandom_u32 */), BPFVM_ALU64_IMM(BPFVM_AND, 0, 8),
		BPFVM_ALU64_REG(BPFVM_ADD, 6, 0), LDX(W, 1, 6, 0), RET0), false,
		"R6 is ptr_task_struct invalid variable offset: off=0, var_off=(0x0; 0x8)");
}

TEST(walked_pointers_are_typed_as_the_kernel_types_them)
{
	static struct verdict k, b;
	int16_t tgid = off_of("task_struct", "tgid"), rp = off_of("task_struct", "real_parent");
	int16_t mm = off_of("task_struct", "mm");
	static const char *const want[] = { "R0=trusted_ptr_task_struct()",
					    "R1=rcu_ptr_task_struct()",
					    "R3=untrusted_ptr_mm_struct()" };

	if (!compare_logs("task->real_parent->tgid at level 2", PROG(TASK, LDX(DW, 1, 0, rp),
			  LDX(W, 2, 1, tgid), LDX(DW, 3, 0, mm), RET0), true, NULL, &k, &b))
		return;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!strstr(k.log, want[i]) || !strstr(b.log, want[i]))
			TEST_FAIL("'%s' expected in both logs:\nkernel: %s\nbpfvm: %s", want[i], k.log,
				  b.log);
}

/* The helper and the loads in the other tracing types the kernel allows it in. */
TEST(raw_tracepoints_and_kprobes_load_through_the_task_too)
{
	static const uint32_t types[] = { BPF_PROG_TYPE_RAW_TRACEPOINT, BPF_PROG_TYPE_KPROBE };
	int16_t tgid = off_of("task_struct", "tgid"), rp = off_of("task_struct", "real_parent");

	for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
		prog_type = types[t];
		compare("task->real_parent->tgid", PROG(TASK, LDX(DW, 1, 0, rp), LDX(W, 2, 1, tgid),
			RET0), true, NULL);
		compare("task->tgid = 1", PROG(TASK, BPFVM_ST_MEM(BPFVM_W, 0, tgid, 1), RET0), false,
			"only read is supported");
	}
	prog_type = BPF_PROG_TYPE_TRACEPOINT;
}

int main(void)
{
	int rc;

	btf = btf_load_file(VMLINUX, NULL);
	if (!btf || !btf_find(btf, "task_struct", BTF_KIND_STRUCT)) {
		printf("SKIP kernel_btf_access: %s has no struct task_struct\n", VMLINUX);
		btf_free(btf);
		return 0;
	}
	task_size = (long)btf_type_size(btf, btf_find(btf, "task_struct", BTF_KIND_STRUCT));
	vm = bpfvm__new(NULL);
	rc = test_main();
	bpfvm__destroy(vm);
	btf_free(btf);
	return rc;
}
