/*
 * test_events.c - the events layer: the system-call table (generated from
 * Linux 6.12's definitions) and the records bpfvm lays out, against this
 * kernel's tracefs format files where they can be read; attach-point names
 * and refusals; the seccomp filter's verdicts on a real process; the
 * helpers that ask about "current" answering for the run's task.
 */
#include <errno.h>
#include <linux/bpf.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdbool.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpfvm/bpfvm.h>
#include <bpfvm/syscalls.h>

#include "../../src/events/argsnap.h"
#include "../../src/events/attach.h"
#include "../../src/events/events.h"
#include "../../src/hooks/hooks.h"
#include "../../src/vm/vm.h"
#include "test.h"

#define TRACEFS "/sys/kernel/tracing/events"

struct field {
	char decl[128];   /* "const char * filename" */
	unsigned off, size;
};

/* The fields of a tracefs format file after the common ones; -1 if unreadable. */
static int read_format(const char *event, struct field *f, int max)
{
	char path[256], line[512];
	int n = 0, common = 0;
	FILE *fp;

	snprintf(path, sizeof(path), TRACEFS "/%s/format", event);
	fp = fopen(path, "r");
	if (!fp)
		return -1;
	while (fgets(line, sizeof(line), fp) && n < max) {
		char *p = strstr(line, "field:"), *semi;
		unsigned off, size;

		if (!p || !(semi = strchr(p, ';')))
			continue;
		if (sscanf(strstr(semi, "offset:"), "offset:%u;\tsize:%u;", &off, &size) != 2)
			continue;
		if (common++ < 4)
			continue;
		*semi = '\0';
		snprintf(f[n].decl, sizeof(f[n].decl), "%s", p + 6);
		f[n].off = off;
		f[n].size = size;
		n++;
	}
	fclose(fp);
	return n;
}

static bool have_tracefs(void)
{
	return access(TRACEFS "/syscalls", R_OK) == 0;
}

/* Where the n fields end (the kernel's trace_event_get_offsets): the furthest a program may read. */
static unsigned fields_end(const struct field *f, int n)
{
	unsigned end = 0;

	for (int i = 0; i < n; i++)
		end = f[i].off + f[i].size > end ? f[i].off + f[i].size : end;
	return end;
}

TEST(syscall_table_matches_tracefs)
{
	int compared = 0, absent = 0;

	if (!have_tracefs()) {
		printf("SKIP %s: %s/syscalls cannot be read (tracefs not mounted)\n",
		       test_current_name(), TRACEFS);
		return;
	}
	for (size_t i = 0; i < ev_nsyscalls; i++) {
		const struct ev_syscall *sc = &ev_syscalls[i];
		struct field f[8];
		char event[128];
		int n;

		if (sc->nargs < 0)
			continue;
		snprintf(event, sizeof(event), "syscalls/sys_enter_%s", sc->event);
		n = read_format(event, f, 8);
		if (n < 0) {   /* not built into this kernel (modules, kexec, shadow stacks) */
			absent++;
			continue;
		}
		compared++;
		if (n != sc->nargs + 1 || strcmp(f[0].decl, "int __syscall_nr") || f[0].off != 8) {
			TEST_FAIL("%s: %d fields in tracefs, table has %d args", event, n, sc->nargs);
			continue;
		}
		for (int a = 0; a < sc->nargs; a++) {
			char want[128];

			snprintf(want, sizeof(want), "%s %s", sc->args[a].type, sc->args[a].name);
			if (strcmp(f[a + 1].decl, want) || f[a + 1].off != 16 + 8u * (unsigned)a ||
			    f[a + 1].size != 8)
				TEST_FAIL("%s arg %d: tracefs '%s' at %u, table '%s' at %u", event, a,
					  f[a + 1].decl, f[a + 1].off, want, 16 + 8 * a);
		}
		struct ev_attach at = { .point = EV_SYS_ENTER_TP, .sc = sc };

		if (ev_record_fields(&at) != fields_end(f, n))
			TEST_FAIL("%s: fields end at %u in tracefs, at %zu in bpfvm", event,
				  fields_end(f, n), ev_record_fields(&at));
		snprintf(event, sizeof(event), "syscalls/sys_exit_%s", sc->event);
		n = read_format(event, f, 8);
		if (n != 2 || strcmp(f[1].decl, "long ret") || f[1].off != 16 || f[1].size != 8)
			TEST_FAIL("%s: not ret (s64) at 16", event);
		at.point = EV_SYS_EXIT_TP;
		CHECK_EQ_U64(ev_record_fields(&at), fields_end(f, n));
	}
	printf("# %d system calls compared with tracefs, %d absent from this kernel\n", compared,
	       absent);
	CHECK(compared > 300);
}

/* The value of a field named name in a record laid out by ev_record. */
static const struct field *field_named(const struct field *f, int n, const char *name)
{
	for (int i = 0; i < n; i++) {
		const char *sp = strrchr(f[i].decl, ' ');
		size_t len = sp ? strcspn(sp + 1, "[") : 0;   /* "comm[16]" is comm */

		if (sp && len == strlen(name) && !strncmp(sp + 1, name, len))
			return &f[i];
	}
	return NULL;
}

static uint32_t u32_at(const uint8_t *rec, unsigned off)
{
	uint32_t v;

	memcpy(&v, rec + off, 4);
	return v;
}

/* A __data_loc string of rec at field f. */
static const char *loc_str(const uint8_t *rec, const struct field *f)
{
	uint32_t loc = u32_at(rec, f->off);

	return (const char *)rec + (loc & 0xffff);
}

/* Attach points named without a section (all but kprobes) */
static int parse(uint32_t type, const char *target, struct ev_attach *a, char *why, size_t size)
{
	return ev_attach_parse(type, NULL, target, a, why, size);
}

static void layout(enum ev_point point, const char *cat, const char *name, const char *event,
		   const struct ev_record_in *in, uint8_t *rec, struct field *f, int *n)
{
	struct ev_attach a;
	char why[256], target[128];

	snprintf(target, sizeof(target), "%s/%s", cat, name);
	CHECK_EQ_INT(parse(BPF_PROG_TYPE_TRACEPOINT, target, &a, why, sizeof(why)), 0);
	CHECK_EQ_INT(a.point, point);
	ev_record(&a, in, rec, 2048, ev_record_clear(&a, 2048, 2048));
	*n = read_format(event, f, 8);
	CHECK_EQ_U64(ev_record_fields(&a), fields_end(f, *n));
	CHECK_EQ_U64(u32_at(rec, 0) & 0xffff, ev_event_id(cat, name));
	CHECK_EQ_U64(u32_at(rec, 4), (uint32_t)in->tid);
}

TEST(sched_records_match_tracefs)
{
	static uint8_t rec[2048];
	struct ev_record_in in = { .tid = 4242, .comm = "parent-comm", .child = 4343,
				   .filename = "/usr/bin/true", .old_tid = 4244, .prio = 120,
				   .group_dead = true };
	struct field f[8];
	int n;

	if (!have_tracefs()) {
		printf("SKIP %s: tracefs not mounted\n", test_current_name());
		return;
	}
	layout(EV_SCHED_FORK, "sched", "sched_process_fork", "sched/sched_process_fork", &in, rec, f, &n);
	CHECK(n == 4 && field_named(f, n, "child_pid"));
	if (n == 4) {
		CHECK_STR(loc_str(rec, field_named(f, n, "parent_comm")), "parent-comm");
		CHECK_STR(loc_str(rec, field_named(f, n, "child_comm")), "parent-comm");
		CHECK_EQ_U64(u32_at(rec, field_named(f, n, "parent_pid")->off), 4242);
		CHECK_EQ_U64(u32_at(rec, field_named(f, n, "child_pid")->off), 4343);
	}
	layout(EV_SCHED_EXEC, "sched", "sched_process_exec", "sched/sched_process_exec", &in, rec, f, &n);
	CHECK(n == 3 && field_named(f, n, "old_pid"));
	if (n == 3) {
		CHECK_STR(loc_str(rec, field_named(f, n, "filename")), "/usr/bin/true");
		CHECK_EQ_U64(u32_at(rec, field_named(f, n, "pid")->off), 4242);
		CHECK_EQ_U64(u32_at(rec, field_named(f, n, "old_pid")->off), 4244);
	}
	layout(EV_SCHED_EXIT, "sched", "sched_process_exit", "sched/sched_process_exit", &in, rec, f, &n);
	CHECK(n >= 3 && field_named(f, n, "comm") && field_named(f, n, "prio"));
	if (n >= 3 && field_named(f, n, "comm")) {
		CHECK_STR((const char *)rec + field_named(f, n, "comm")->off, "parent-comm");
		CHECK_EQ_U64(u32_at(rec, field_named(f, n, "pid")->off), 4242);
		CHECK_EQ_U64(u32_at(rec, field_named(f, n, "prio")->off), 120);
		if (field_named(f, n, "group_dead"))
			CHECK_EQ_U64(rec[field_named(f, n, "group_dead")->off], 1);
	}
}

TEST(signal_records_match_tracefs)
{
	static uint8_t rec[2048];
	struct ev_record_in in = { .tid = 11, .sig = 10, .si_errno = 3, .si_code = -6,
				   .target_comm = "target-comm", .target = 4545, .group = 1,
				   .result = 2, .act_handler = 0x401234, .act_flags = 0x14000000 };
	struct field f[8];
	uint64_t v;
	int n;

	if (!have_tracefs()) {
		printf("SKIP %s: tracefs not mounted\n", test_current_name());
		return;
	}
	layout(EV_SIG_GENERATE, "signal", "signal_generate", "signal/signal_generate", &in, rec, f, &n);
	CHECK(n == 7 && field_named(f, n, "result") && field_named(f, n, "comm"));
	if (n == 7 && field_named(f, n, "result") && field_named(f, n, "comm")) {
		CHECK_EQ_U64(u32_at(rec, field_named(f, n, "sig")->off), 10);
		CHECK_EQ_U64(u32_at(rec, field_named(f, n, "errno")->off), 3);
		CHECK_EQ_U64(u32_at(rec, field_named(f, n, "code")->off), (uint32_t)-6);
		CHECK_STR((const char *)rec + field_named(f, n, "comm")->off, "target-comm");
		CHECK_EQ_U64(u32_at(rec, field_named(f, n, "pid")->off), 4545);
		CHECK_EQ_U64(u32_at(rec, field_named(f, n, "group")->off), 1);
		CHECK_EQ_U64(u32_at(rec, field_named(f, n, "result")->off), 2);
	}
	layout(EV_SIG_DELIVER, "signal", "signal_deliver", "signal/signal_deliver", &in, rec, f, &n);
	CHECK(n == 5 && field_named(f, n, "sa_handler") && field_named(f, n, "sa_flags"));
	if (n == 5 && field_named(f, n, "sa_handler") && field_named(f, n, "sa_flags")) {
		CHECK_EQ_U64(u32_at(rec, field_named(f, n, "sig")->off), 10);
		CHECK_EQ_U64(u32_at(rec, field_named(f, n, "code")->off), (uint32_t)-6);
		memcpy(&v, rec + field_named(f, n, "sa_handler")->off, 8);
		CHECK_EQ_U64(v, 0x401234);
		memcpy(&v, rec + field_named(f, n, "sa_flags")->off, 8);
		CHECK_EQ_U64(v, 0x14000000);
	}
}

TEST(raw_syscalls_records_match_tracefs)
{
	static uint8_t rec[2048];
	struct ev_record_in in = { .tid = 7, .nr = 257, .args = { 1, 2, 3, 4, 5, 6 }, .ret = -2 };
	struct field f[8];
	int n;
	uint64_t v;

	if (!have_tracefs()) {
		printf("SKIP %s: tracefs not mounted\n", test_current_name());
		return;
	}
	layout(EV_RAW_SYS_ENTER, "raw_syscalls", "sys_enter", "raw_syscalls/sys_enter", &in, rec, f, &n);
	CHECK(n == 2 && !strcmp(f[0].decl, "long id") && f[0].off == 8 && f[1].off == 16 &&
	      f[1].size == 48);
	memcpy(&v, rec + 8, 8);
	CHECK_EQ_U64(v, 257);
	memcpy(&v, rec + 16 + 5 * 8, 8);
	CHECK_EQ_U64(v, 6);
	layout(EV_RAW_SYS_EXIT, "raw_syscalls", "sys_exit", "raw_syscalls/sys_exit", &in, rec, f, &n);
	CHECK(n == 2 && !strcmp(f[1].decl, "long ret") && f[1].off == 16);
	memcpy(&v, rec + 16, 8);
	CHECK_EQ_U64(v, (uint64_t)-2);
}

TEST(attach_points_by_kernel_names)
{
	struct ev_attach a;
	char why[256];

	CHECK_EQ_INT(parse(BPF_PROG_TYPE_TRACEPOINT, "syscalls/sys_enter_openat", &a, why,
				     sizeof(why)), 0);
	CHECK(a.point == EV_SYS_ENTER_TP && a.nr == 257 && a.sc->nargs == 4);
	/* the tracepoint is named after the definition: stat's is sys_enter_newstat */
	CHECK_EQ_INT(parse(BPF_PROG_TYPE_TRACEPOINT, "syscalls/sys_exit_newstat", &a, why,
				     sizeof(why)), 0);
	CHECK(a.point == EV_SYS_EXIT_TP && a.nr == 4);
	CHECK_EQ_INT(parse(BPF_PROG_TYPE_RAW_TRACEPOINT, "sys_exit", &a, why, sizeof(why)), 0);
	CHECK(a.point == EV_RAWTP_SYS_EXIT);
	CHECK_EQ_INT(parse(BPF_PROG_TYPE_TRACEPOINT, "syscalls/sys_enter_nosuch", &a, why,
				     sizeof(why)), -EOPNOTSUPP);
	CHECK_CONTAINS(why, "no such x86-64 system call");
	CHECK_EQ_INT(parse(BPF_PROG_TYPE_TRACEPOINT, "sched/sched_switch", &a, why,
				     sizeof(why)), -EOPNOTSUPP);
	CHECK_CONTAINS(why, "sched/sched_switch");
	CHECK_EQ_INT(parse(BPF_PROG_TYPE_RAW_TRACEPOINT, "sched_switch", &a, why,
				     sizeof(why)), -EOPNOTSUPP);
	CHECK_EQ_INT(ev_attach_parse(BPF_PROG_TYPE_KPROBE, "kprobe/vfs_unlink", "vfs_unlink", &a,
				     why, sizeof(why)), -EOPNOTSUPP);
	CHECK_CONTAINS(why, "kprobes on kernel functions other than the system call wrappers");
	/* the functions a system call enters directly */
	CHECK_EQ_INT(ev_attach_parse(BPF_PROG_TYPE_KPROBE, "kprobe/do_unlinkat", "do_unlinkat", &a,
				     why, sizeof(why)), 0);
	CHECK(a.point == EV_KFUNC && a.kfunc == EV_KF_UNLINKAT);
	CHECK_EQ_INT(ev_attach_parse(BPF_PROG_TYPE_KPROBE, "kretprobe/do_sys_openat2",
				     "do_sys_openat2", &a, why, sizeof(why)), 0);
	CHECK(a.point == EV_KRETFUNC && a.kfunc == EV_KF_OPENAT2);
	CHECK_EQ_INT(ev_attach_parse(BPF_PROG_TYPE_KPROBE, "kprobe/do_execveat_common",
				     "do_execveat_common", &a, why, sizeof(why)), 0);
	CHECK(a.point == EV_KFUNC && a.kfunc == EV_KF_EXECVEAT);
	CHECK_EQ_INT(ev_attach_parse(BPF_PROG_TYPE_KPROBE, "kprobe/do_exit", "do_exit", &a, why,
				     sizeof(why)), 0);
	CHECK(a.point == EV_KFUNC && a.kfunc == EV_KF_EXIT);
	CHECK_EQ_INT(ev_attach_parse(BPF_PROG_TYPE_KPROBE, "kretprobe/do_exit", "do_exit", &a, why,
				     sizeof(why)), -EOPNOTSUPP);
	CHECK_CONTAINS(why, "never returns");
	/* libbpf's ksyscall: the wrapper __x64_sys_NAME, named as the tracepoints are */
	CHECK_EQ_INT(ev_attach_parse(BPF_PROG_TYPE_KPROBE, "ksyscall/unlinkat", "unlinkat", &a, why,
				     sizeof(why)), 0);
	CHECK(a.point == EV_KSYSCALL && a.nr == 263);
	CHECK_EQ_INT(ev_attach_parse(BPF_PROG_TYPE_KPROBE, "kretprobe/__x64_sys_newstat",
				     "__x64_sys_newstat", &a, why, sizeof(why)), 0);
	CHECK(a.point == EV_KRETSYSCALL && a.nr == 4);
	CHECK_EQ_INT(ev_attach_parse(BPF_PROG_TYPE_KPROBE, "kretsyscall/openat", "openat", &a, why,
				     sizeof(why)), 0);
	CHECK(a.point == EV_KRETSYSCALL && a.nr == 257);
	/* the kernel has no __x64_sys_stat */
	CHECK_EQ_INT(ev_attach_parse(BPF_PROG_TYPE_KPROBE, "ksyscall/stat", "stat", &a, why,
				     sizeof(why)), -EOPNOTSUPP);
	CHECK_CONTAINS(why, "no such x86-64 system call");
	/* uprobes, uretprobes and USDT attach (their targets are usym_parse's: test_usym) */
	CHECK_EQ_INT(ev_attach_parse(BPF_PROG_TYPE_KPROBE, "uprobe/bin:main", "bin:main", &a, why,
				     sizeof(why)), 0);
	CHECK(a.point == EV_USER_PROBE);
	CHECK_EQ_INT(ev_attach_parse(BPF_PROG_TYPE_KPROBE, "kprobe.multi/vfs_*", "vfs_*", &a, why,
				     sizeof(why)), -EOPNOTSUPP);
	CHECK_CONTAINS(why, "multi-kprobes");
	CHECK_EQ_INT(parse(BPF_PROG_TYPE_XDP, "", &a, why, sizeof(why)), -EOPNOTSUPP);
	CHECK_CONTAINS(why, "xdp");
	CHECK_EQ_INT(parse(BPF_PROG_TYPE_TRACEPOINT, "", &a, why, sizeof(why)), -EOPNOTSUPP);
}

/*
 * The filter in a real process, without a tracer: SECCOMP_RET_TRACE makes
 * the kernel fail a call with ENOSYS, ALLOW runs it.  getppid is attached,
 * getpid and getuid are not.
 */
TEST(seccomp_filter_traces_only_attached_calls)
{
	struct ev_interest want = { 0 };
	unsigned short len;
	struct sock_filter *f;
	int status = -1;
	pid_t pid;

	ev_interest_set(want.exit, SYS_getppid);
	f = ev_seccomp_filter(&want, &len);
	CHECK(f != NULL);
	if (!f)
		return;
	pid = fork();
	if (pid == 0) {
		struct sock_fprog prog = { len, f };
		int code = 0;

		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
		    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog))
			_exit(10);
		if (syscall(SYS_getppid) != -1 || errno != ENOSYS)
			code |= 1;
		if (syscall(SYS_getpid) != getpid() || syscall(SYS_getuid) < 0)
			code |= 2;
		_exit(code);
	}
	free(f);
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status));
	CHECK_EQ_INT(WEXITSTATUS(status), 0);
}


/* ---- the current-task hook (vm/vm.h): helpers answer for the run's task ---- */

struct fake_task {
	int reads;
	uint64_t override;
	uint32_t sig;
	bool thread;
};

static uint64_t fake_pid_tgid(void *t) { (void)t; return 0x1234ull << 32 | 0x5678; }
static uint64_t fake_uid_gid(void *t) { (void)t; return 7ull << 32 | 9; }
static void fake_comm(void *t, char comm[16]) { (void)t; memset(comm, 0, 16); strcpy(comm, "traced"); }
static uint32_t fake_cpu(void *t) { (void)t; return 3; }
static int fake_read(void *t, void *dst, uint64_t addr, uint64_t size)
{
	((struct fake_task *)t)->reads++;
	if (addr != 0x10000)
		return -EFAULT;
	memset(dst, 'x', size);
	return 0;
}

static int fake_override(void *t, uint64_t rc)
{
	((struct fake_task *)t)->override = rc;
	return 0;
}

static int fake_signal(void *t, uint32_t sig, bool thread)
{
	((struct fake_task *)t)->sig = sig;
	((struct fake_task *)t)->thread = thread;
	return sig > 64 ? -EINVAL : 0;
}

static const struct vm_task_ops fake_ops = {
	.pid_tgid = fake_pid_tgid, .uid_gid = fake_uid_gid, .comm = fake_comm, .cpu = fake_cpu,
	.read_mem = fake_read, .override_return = fake_override, .send_signal = fake_signal,
};

/* A task with a task_struct and a user stack of two frames: ip, then one return address. */
static uint64_t fake_task_struct(void *t) { (void)t; return 0xabc000; }
static int fake_user_regs(void *t, struct vm_user_regs *regs)
{
	(void)t;
	*regs = (struct vm_user_regs){ .ip = 0x401000, .sp = 0x10000, .bp = 0x10000, .cs = 0x33 };
	return 0;
}

static const struct vm_task_ops stack_ops = {
	.pid_tgid = fake_pid_tgid, .uid_gid = fake_uid_gid, .comm = fake_comm, .cpu = fake_cpu,
	.read_mem = fake_read, .task_struct = fake_task_struct, .user_regs = fake_user_regs,
};

static const struct vm_task_ops *task_ops = &fake_ops;

/* Run asm as a program of type (checked) on a zeroed 168-byte record, about task. */
static uint64_t run_typed(uint32_t type, const char *asm_text, struct fake_task *task,
			  const char *want_err)
{
	static uint8_t rec[168];
	struct bpfvm *vm = bpfvm__new(NULL);
	struct bpfvm_insn *insns = NULL;
	size_t cnt = 0;
	char msg[512] = "";
	struct bpfvm_log log = { msg, sizeof(msg), 0 };
	BPFVM_OPTS(bpfvm_prog_opts, po, .prog_type = type, .license = "GPL", .log = &log);
	struct hook_event_run ev = { .mode = BPFVM_EXEC_CHECKED, .log = &log, .ctx = rec,
				     .ctx_size = sizeof(rec), .task_ops = task ? task_ops : NULL,
				     .task = task };
	struct bpfvm_prog *prog;
	uint64_t r0 = ~0ull;

	CHECK_EQ_INT(bpfvm_asm(asm_text, strlen(asm_text), &insns, &cnt,
			       &(struct bpfvm_asm_opts){ .sz = sizeof(struct bpfvm_asm_opts),
							 .filename = "t.s", .log = &log }), 0);
	prog = insns ? bpfvm_prog__new(vm, insns, cnt, &po) : NULL;
	CHECK(prog != NULL);
	memset(rec, 0, sizeof(rec));
	if (prog && hook_run_event(prog, &ev, &r0) && !want_err)
		TEST_FAIL("run failed: %s", msg);
	if (want_err)
		CHECK_CONTAINS(msg, want_err);
	free(insns);
	bpfvm__destroy(vm);
	return r0;
}

static uint64_t run_about(const char *asm_text, struct fake_task *task)
{
	return run_typed(BPF_PROG_TYPE_TRACEPOINT, asm_text, task, NULL);
}

TEST(current_task_hook_answers_for_the_task)
{
	struct fake_task task = { 0 };

	CHECK_EQ_U64(run_about("call 14\nexit\n", &task), 0x123400005678ull);   /* pid_tgid */
	CHECK_EQ_U64(run_about("call 15\nexit\n", &task), 0x700000009ull);      /* uid_gid */
	CHECK_EQ_U64(run_about("call 8\nexit\n", &task), 3);                   /* smp_processor_id */
	/* get_current_comm into the stack, then its first 8 bytes */
	CHECK_EQ_U64(run_about("r1 = r10\nr1 += -16\nr2 = 16\ncall 16\nr0 = *(u64 *)(r10 - 16)\nexit\n",
			       &task), 0x646563617274ull);   /* "traced" */
	/* probe_read_user and copy_from_user read the task: a bad address is -EFAULT */
	CHECK_EQ_U64(run_about("r1 = r10\nr1 += -8\nr2 = 8\nr3 = 0x20000\ncall 112\nexit\n", &task),
		     (uint64_t)-EFAULT);
	CHECK_EQ_U64(run_about("r1 = r10\nr1 += -8\nr2 = 8\nr3 = 0x10000\ncall 112\n"
			       "r0 = *(u64 *)(r10 - 8)\nexit\n", &task), 0x7878787878787878ull);
	CHECK_EQ_U64(run_about("r1 = r10\nr1 += -8\nr2 = 8\nr3 = 8\ncall 148\nexit\n", &task),
		     (uint64_t)-EFAULT);
	CHECK_EQ_INT(task.reads, 3);
	/* the legacy probe_read of the record itself (the run's own memory) does not ask the task */
	CHECK_EQ_U64(run_about("r3 = r1\nr1 = r10\nr1 += -8\nr2 = 8\ncall 4\nexit\n", &task), 0);
	CHECK_EQ_INT(task.reads, 3);
}

/* bpf_override_return and bpf_send_signal(_thread) act on the run's task, never on bpfvm */
TEST(enforcement_helpers_act_on_the_task)
{
	struct fake_task task = { 0 };

	/* override_return(ctx, -1): the task is told, and the context's ax holds it */
	CHECK_EQ_U64(run_typed(BPF_PROG_TYPE_KPROBE, "r6 = r1\nr2 = -1\ncall 58\n"
			       "r0 = *(u64 *)(r6 + 80)\nexit\n", &task, NULL), (uint64_t)-1);
	CHECK_EQ_U64(task.override, (uint64_t)-1);
	CHECK_EQ_U64(run_about("r1 = 9\ncall 109\nexit\n", &task), 0);
	CHECK(task.sig == 9 && !task.thread);
	CHECK_EQ_U64(run_about("r1 = 10\ncall 117\nexit\n", &task), 0);
	CHECK(task.sig == 10 && task.thread);
	CHECK_EQ_U64(run_about("r1 = 65\ncall 109\nexit\n", &task), (uint64_t)-EINVAL);
	/* without a traced task the run stops: the current task would be bpfvm itself */
	run_typed(BPF_PROG_TYPE_TRACEPOINT, "r1 = 9\ncall 109\nexit\n", NULL,
		  "bpf_send_signal#109 acts on a traced task: it runs under bpfvm trace only");
	run_typed(BPF_PROG_TYPE_KPROBE, "r2 = 0\ncall 58\nexit\n", NULL,
		  "bpf_override_return#58 acts on a traced task");
}

/*
 * The path arguments whose strings a sys_enter check freezes (argsnap.c),
 * from the syscall table: every `const char *` path the kernel copies,
 * never a buffer (write's), an xattr name, a mount type or argv.
 */
TEST(path_arguments_from_the_syscall_table)
{
	static const struct { const char *name; unsigned mask; } want[] = {
		{ "open", 1 }, { "openat", 2 }, { "openat2", 2 }, { "execve", 1 }, { "execveat", 2 },
		{ "unlinkat", 2 }, { "mkdir", 1 }, { "rename", 3 }, { "renameat2", 0xa },
		{ "symlinkat", 5 }, { "linkat", 0xa }, { "stat", 1 }, { "newfstatat", 2 },
		{ "statx", 2 }, { "truncate", 1 }, { "chdir", 1 }, { "mount", 3 }, { "umount2", 1 },
		{ "utimensat", 2 }, { "utimes", 1 }, { "setxattr", 1 }, { "name_to_handle_at", 2 },
		{ "acct", 1 }, { "pivot_root", 3 }, { "move_mount", 0xa }, { "write", 0 },
		{ "read", 0 }, { "fsetxattr", 0 }, { "sethostname", 0 }, { "memfd_create", 0 },
		{ "getcwd", 0 },
	};
	unsigned n = 0;

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		int nr = bpfvm_syscall_x86_64_nr(want[i].name);

		CHECK(nr >= 0);
		if (ev_path_args(nr) != want[i].mask)
			TEST_FAIL("%s: path arguments %#x, want %#x", want[i].name, ev_path_args(nr),
				  want[i].mask);
	}
	for (long nr = 0; nr < EV_MAX_SYSCALL; nr++)
		n += ev_path_args(nr) != 0;
	printf("# %u system calls take a path\n", n);
	CHECK(n >= 60);   /* 65 in Linux 6.12's table */
}

/*
 * bpf_get_task_stack: for the current task (get_current_task's pointer)
 * what bpf_get_stack gives; for another task what the kernel gives for a
 * task that is not current (__bpf_get_stack's crosstask): its user stack
 * -EOPNOTSUPP, its kernel stack empty (0; -EFAULT when frames are to be
 * skipped), the buffer zeroed; no task -EFAULT.
 */
#define TASK_STACK(task_expr, flags) \
	"call 35\nr1 = r0\n" task_expr "r2 = r10\nr2 += -64\nr3 = 64\nr4 = " flags "\n"

TEST(task_stack_of_current_and_other_tasks)
{
	struct fake_task task = { 0 };

	task_ops = &stack_ops;
	CHECK_EQ_U64(run_about("r1 = r10\nr1 += -64\nr2 = r1\nr3 = 64\nr4 = 256\ncall 67\nexit\n",
			       &task), 16);
	CHECK_EQ_U64(run_about(TASK_STACK("", "256") "call 141\nexit\n", &task), 16);
	CHECK_EQ_U64(run_about(TASK_STACK("", "256") "call 141\nr0 = *(u64 *)(r10 - 64)\nexit\n",
			       &task), 0x401000);
	CHECK_EQ_U64(run_about(TASK_STACK("", "256") "call 141\nr0 = *(u64 *)(r10 - 56)\nexit\n",
			       &task), 0x7878787878787878ull);
	CHECK_EQ_U64(run_about(TASK_STACK("", "257") "call 141\nexit\n", &task), 8);   /* skip 1 */
	CHECK_EQ_U64(run_about(TASK_STACK("", "0") "call 141\nexit\n", &task), 0);     /* kernel */
	CHECK_EQ_U64(run_about(TASK_STACK("r1 += 8\n", "256") "call 141\nexit\n", &task),
		     (uint64_t)-EOPNOTSUPP);
	CHECK_EQ_U64(run_about(TASK_STACK("r1 += 8\n", "0") "call 141\nexit\n", &task), 0);
	CHECK_EQ_U64(run_about(TASK_STACK("r1 += 8\n", "1") "call 141\nexit\n", &task),
		     (uint64_t)-EFAULT);
	CHECK_EQ_U64(run_about(TASK_STACK("r1 = 0\n", "256") "call 141\nexit\n", &task),
		     (uint64_t)-EFAULT);
	CHECK_EQ_U64(run_about(TASK_STACK("", "4096") "call 141\nexit\n", &task),
		     (uint64_t)-EINVAL);
	task_ops = &fake_ops;
}

TEST_MAIN()
