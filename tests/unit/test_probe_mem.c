/*
 * test_probe_mem.c - loads through bpf_get_current_task_btf's task_struct
 * run as the kernel's BPF_PROBE_MEM loads, in the interpreter (checked and
 * not) and the JIT: a tracepoint program, verified, reads task->tgid and
 * task->real_parent->tgid directly from the task_struct hooks/kobjs.c lays
 * out (a fake /proc: thread 300 of process 200, child of 100), then
 * through a NULL mm and a NULL void * member at +4096: each gives 0,
 * never a crash.  Another event reuses the
 * objects' memory (hook_kobjs_reset) and reads the new task.
 */
#include <errno.h>
#include <linux/bpf.h>
#include <string.h>

#include <bpfvm/bpfvm.h>

#include "../../src/btf/btf.h"
#include "../../src/core/run.h"
#include "../../src/hooks/hooks.h"
#include "../../src/hooks/kobjs.h"
#include "btf_member.h"
#include "test.h"

#define VMLINUX "/sys/kernel/btf/vmlinux"

static int facts(void *ctx, int32_t tid, struct hook_task_facts *f)
{
	(void)ctx;
	memset(f, 0, sizeof(*f));
	f->pid = tid;
	switch (tid) {
	case 300: f->tgid = 200; f->ppid = 100; break;
	case 200: f->tgid = 200; f->ppid = 100; break;
	case 500: f->tgid = 500; f->ppid = 200; break;
	case 100: f->tgid = 100; f->ppid = 1; break;
	case 1: f->tgid = 1; f->ppid = 0; break;
	default: return -ESRCH;
	}
	f->has_mm = false;   /* a NULL mm, as a kernel thread's */
	return 0;
}

struct fake_task {
	struct hook_kobjs *k;
	int32_t tid;
};

static uint64_t task_struct(void *p)
{
	struct fake_task *t = p;

	return hook_kobj_task(t->k, t->tid);
}

static void kernel_span(void *p, uint64_t *start, uint64_t *size)
{
	hook_kobjs_span(((struct fake_task *)p)->k, start, size);
}

static const struct vm_task_ops ops = { .task_struct = task_struct, .kernel_span = kernel_span };

static int16_t off_of(const struct btf *btf, const char *name, const char *member)
{
	return (int16_t)btf_member_offset(btf, name, member);
}

#define LDX(SZ, D, S, O) BPFVM_LDX_MEM(BPFVM_##SZ, D, S, O)

TEST(loads_through_null_members_give_zero_in_every_engine)
{
	struct btf *btf = btf_load_file(VMLINUX, NULL);
	struct hook_kobj_layout *l = btf ? hook_kobj_layout_new(btf, NULL) : NULL;
	int16_t tgid, rp, mm, stack;
	static const enum bpfvm_exec modes[] = { BPFVM_EXEC_CHECKED, BPFVM_EXEC_UNCHECKED,
						 BPFVM_EXEC_JIT };
	static char logbuf[65536];
	struct bpfvm_log log = { logbuf, sizeof(logbuf), 0 };
	uint64_t ctx[8] = { 0 }, ret;
	struct fake_task task = { 0, 300 };
	struct bpfvm *vm = bpfvm__new(NULL);
	struct bpfvm_prog *prog;

	if (!btf || !l) {
		printf("SKIP %s: %s cannot be read\n", test_current_name(), VMLINUX);
		btf_free(btf);
		hook_kobj_layout_free(l);
		bpfvm__destroy(vm);
		return;
	}
	tgid = off_of(btf, "task_struct", "tgid");
	rp = off_of(btf, "task_struct", "real_parent");
	mm = off_of(btf, "task_struct", "mm");
	stack = off_of(btf, "task_struct", "stack");
	btf_free(btf);
	CHECK(tgid > 0 && rp > 0 && mm > 0 && stack >= 0);
	{
		/* r0 = task->real_parent->tgid * 1000 + task->tgid + the NULL reads (0 each) */
		struct bpfvm_insn insns[] = {
			BPFVM_CALL_HELPER(158), BPFVM_MOV64_REG(6, 0),
			LDX(DW, 1, 6, rp), LDX(W, 7, 1, tgid), BPFVM_ALU64_IMM(BPFVM_MUL, 7, 1000),
			LDX(W, 2, 6, tgid), BPFVM_ALU64_REG(BPFVM_ADD, 7, 2),
			LDX(DW, 3, 6, mm), LDX(W, 3, 3, 0), BPFVM_ALU64_REG(BPFVM_ADD, 7, 3),
			LDX(DW, 4, 6, stack), LDX(DW, 4, 4, 4096), BPFVM_ALU64_REG(BPFVM_ADD, 7, 4),
			LDX(DW, 5, 3, 0), /* r3 is 0 here: a number, not read through */
			BPFVM_MOV64_REG(0, 7), BPFVM_EXIT_INSN(),
		};
		const struct bpfvm_insn *p = insns;
		size_t n = sizeof(insns) / sizeof(insns[0]);

		BPFVM_OPTS(bpfvm_prog_opts, popts, .name = "probe", .log = &log,
			   .prog_type = BPF_PROG_TYPE_TRACEPOINT, .license = "GPL");
		/* the last load goes through a number: refused; without it, accepted */
		prog = bpfvm_prog__new(vm, p, n, &popts);
		CHECK(prog != NULL);
		BPFVM_OPTS(bpfvm_verify_opts, vopts, .log = &log);
		CHECK(bpfvm_prog__verify(prog, &vopts) < 0);
		CHECK_CONTAINS(logbuf, "R3 invalid mem access 'scalar'");
		bpfvm_prog__destroy(prog);
		memmove(insns + 13, insns + 14, 2 * sizeof(insns[0]));
		prog = bpfvm_prog__new(vm, p, n - 1, &popts);
		CHECK(prog != NULL);
		log.len = 0;
		CHECK_EQ_INT(bpfvm_prog__verify(prog, &vopts), 0);
	}
	task.k = hook_kobjs_new(l, facts, NULL);
	CHECK(task.k != NULL);
	for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		struct hook_event_run ev = { .mode = modes[m], .log = &log, .ctx = ctx,
					     .ctx_size = sizeof(ctx), .task_ops = &ops, .task = &task };

		task.tid = 300;
		ret = 1;
		CHECK_EQ_INT(hook_run_event(prog, &ev, &ret), 0);
		CHECK_EQ_U64(ret, 100 * 1000 + 200);
		/* the next event: the same memory, another task */
		hook_kobjs_reset(task.k, facts, NULL);
		task.tid = 500;
		CHECK_EQ_INT(hook_run_event(prog, &ev, &ret), 0);
		CHECK_EQ_U64(ret, 200 * 1000 + 500);
		hook_kobjs_reset(task.k, facts, NULL);
	}
	hook_kobjs_free(task.k);
	hook_kobj_layout_free(l);
	bpfvm__destroy(vm);
}

/* Without a task (no event source) the task is NULL, and every load through it gives 0. */
TEST(loads_through_a_missing_task_give_zero)
{
	struct bpfvm *vm = bpfvm__new(NULL);
	static char logbuf[65536];
	struct bpfvm_log log = { logbuf, sizeof(logbuf), 0 };
	const struct bpfvm_insn insns[] = {
		BPFVM_CALL_HELPER(158), LDX(DW, 1, 0, 0), LDX(W, 0, 0, 8),
		BPFVM_ALU64_REG(BPFVM_ADD, 0, 1), BPFVM_EXIT_INSN(),
	};
	static const enum bpfvm_exec modes[] = { BPFVM_EXEC_CHECKED, BPFVM_EXEC_UNCHECKED,
						 BPFVM_EXEC_JIT };
	uint64_t ctx[8] = { 0 }, ret;
	struct bpfvm_prog *prog;

	BPFVM_OPTS(bpfvm_prog_opts, popts, .name = "notask", .log = &log,
		   .prog_type = BPF_PROG_TYPE_TRACEPOINT, .license = "GPL");
	BPFVM_OPTS(bpfvm_verify_opts, vopts, .log = &log);
	prog = bpfvm_prog__new(vm, insns, sizeof(insns) / sizeof(insns[0]), &popts);
	CHECK(prog != NULL);
	if (bpfvm_prog__verify(prog, &vopts) && strstr(logbuf, "cannot be read")) {
		printf("SKIP %s: %s", test_current_name(), logbuf);
		bpfvm__destroy(vm);
		return;
	}
	CHECK_EQ_INT(bpfvm_prog__verify(prog, &vopts), 0);
	for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		struct hook_event_run ev = { .mode = modes[m], .log = &log, .ctx = ctx,
					     .ctx_size = sizeof(ctx) };

		ret = 1;
		CHECK_EQ_INT(hook_run_event(prog, &ev, &ret), 0);
		CHECK_EQ_U64(ret, 0);
	}
	bpfvm__destroy(vm);
}

TEST_MAIN()
