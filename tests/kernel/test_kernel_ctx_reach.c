/*
 * test_kernel_ctx_reach.c - how far into its context a program attached to
 * a tracepoint may read, against the kernel: at attach, the kernel refuses
 * a tracepoint program whose furthest context access (the verifier's
 * max_ctx_offset) passes the end of the event's fields with EACCES
 * (perf_event_set_bpf_prog), and a raw tracepoint program reading past the
 * tracepoint's arguments with EINVAL (bpf_probe_register).  The same
 * one-load program is attached in the kernel (perf_event_open + SET_BPF,
 * BPF_RAW_TRACEPOINT_OPEN) and in bpfvm (bpfvm_trace__attach_prog), just
 * inside and just past each bound, and both must answer the same.  Skips
 * (exit 0) without bpf() or tracefs.
 */
#include <errno.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpfvm/bpfvm.h>
#include <bpfvm/trace.h>

#include "kernel_bpf.h"
#include "test.h"

#define TRACEFS "/sys/kernel/tracing/events"

struct reach_case {
	const char *event;   /* tracefs's category/name; NULL: the raw tracepoint */
	const char *raw;     /* the raw tracepoint's name */
	int16_t off;
	uint8_t size;        /* BPFVM_B, _H, _W, _DW */
};

static const struct reach_case cases[] = {
	{ "syscalls/sys_enter_getppid", NULL, 8, BPFVM_W },     /* __syscall_nr: the last field */
	{ "syscalls/sys_enter_getppid", NULL, 8, BPFVM_DW },    /* past it: libbpf's long id */
	{ "syscalls/sys_enter_getppid", NULL, 12, BPFVM_B },
	{ "syscalls/sys_enter_openat", NULL, 40, BPFVM_DW },    /* mode, the fourth argument */
	{ "syscalls/sys_enter_openat", NULL, 48, BPFVM_DW },
	{ "syscalls/sys_exit_getppid", NULL, 16, BPFVM_DW },
	{ "syscalls/sys_exit_getppid", NULL, 24, BPFVM_B },
	{ "raw_syscalls/sys_enter", NULL, 56, BPFVM_DW },
	{ "raw_syscalls/sys_enter", NULL, 64, BPFVM_W },
	{ "sched/sched_process_exec", NULL, 16, BPFVM_W },
	{ "sched/sched_process_exec", NULL, 20, BPFVM_W },
	{ "signal/signal_deliver", NULL, 32, BPFVM_DW },
	{ "signal/signal_deliver", NULL, 40, BPFVM_B },
	{ NULL, "sys_enter", 8, BPFVM_DW },
	{ NULL, "sys_enter", 16, BPFVM_DW },
};

static int event_id(const char *event)
{
	char path[256];
	int id = -1;
	FILE *f;

	snprintf(path, sizeof(path), TRACEFS "/%s/id", event);
	if (!(f = fopen(path, "r")))
		return -1;
	if (fscanf(f, "%d", &id) != 1)
		id = -1;
	fclose(f);
	return id;
}

/* The kernel's answer: 0 or -errno; *skip set where it cannot be asked. */
static int kernel_attach(const struct reach_case *c, const struct bpfvm_insn *insns, size_t cnt,
			 bool *skip)
{
	uint32_t type = c->event ? BPF_PROG_TYPE_TRACEPOINT : BPF_PROG_TYPE_RAW_TRACEPOINT;
	char log[4096];
	int fd = kernel_prog_load(type, insns, cnt, 0, 1, log, sizeof(log)), pfd, err;
	union bpf_attr a;

	if (fd < 0) {
		TEST_FAIL("the kernel refuses the program (%s): %s", strerror(-fd), log);
		*skip = true;
		return fd;
	}
	if (!c->event) {
		memset(&a, 0, sizeof(a));
		a.raw_tracepoint.name = (uintptr_t)c->raw;
		a.raw_tracepoint.prog_fd = (uint32_t)fd;
		err = (pfd = (int)sys_bpf(BPF_RAW_TRACEPOINT_OPEN, &a)) < 0 ? -errno : 0;
	} else {
		struct perf_event_attr pa = { .type = PERF_TYPE_TRACEPOINT, .size = sizeof(pa),
					      .sample_period = 1, .wakeup_events = 1 };
		int id = event_id(c->event);

		if (id < 0) {
			printf("SKIP %s: %s has no id in %s\n", test_current_name(), c->event, TRACEFS);
			*skip = true;
			close(fd);
			return 0;
		}
		pa.config = (uint64_t)id;
		pfd = (int)syscall(SYS_perf_event_open, &pa, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
		if (pfd < 0) {
			printf("SKIP %s: perf_event_open(%s): %s\n", test_current_name(), c->event,
			       strerror(errno));
			*skip = true;
			close(fd);
			return 0;
		}
		err = ioctl(pfd, PERF_EVENT_IOC_SET_BPF, fd) ? -errno : 0;
	}
	if (pfd >= 0)
		close(pfd);
	close(fd);
	return err;
}

/* bpfvm's answer: 0 or -errno, the log in msg. */
static int bpfvm_attach(const struct reach_case *c, const struct bpfvm_insn *insns, size_t cnt,
			char *msg, size_t size)
{
	uint32_t type = c->event ? BPF_PROG_TYPE_TRACEPOINT : BPF_PROG_TYPE_RAW_TRACEPOINT;
	struct bpfvm_log log = { msg, size, 0 };
	struct bpfvm *vm = bpfvm__new(NULL);
	BPFVM_OPTS(bpfvm_prog_opts, po, .prog_type = type, .license = "GPL", .log = &log);
	BPFVM_OPTS(bpfvm_verify_opts, vo, .log = &log);
	BPFVM_OPTS(bpfvm_trace_opts, to, .log = &log);
	struct bpfvm_prog *p = vm ? bpfvm_prog__new(vm, insns, cnt, &po) : NULL;
	struct bpfvm_trace *t = NULL;
	char where[128];
	int err = -EINVAL;

	msg[0] = '\0';
	snprintf(where, sizeof(where), "%s/%s", c->event ? "tracepoint" : "raw_tracepoint",
		 c->event ? c->event : c->raw);
	if (!p || bpfvm_prog__verify(p, &vo))
		TEST_FAIL("bpfvm refuses the program: %s", msg);
	else if (!(t = bpfvm_trace__new(&to)))
		TEST_FAIL("bpfvm_trace__new: %s", strerror(errno));
	else
		err = bpfvm_trace__attach_prog(t, p, type, where);
	bpfvm_trace__destroy(t);
	bpfvm__destroy(vm);
	return err;
}

TEST(context_reads_past_the_fields_refused_as_by_the_kernel)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct reach_case *c = &cases[i];
		static const int bytes[] = { [BPFVM_B] = 1, [BPFVM_H] = 2, [BPFVM_W] = 4, [BPFVM_DW] = 8 };
		struct bpfvm_insn insns[] = {
			BPFVM_LDX_MEM(c->size, 0, 1, c->off),
			BPFVM_MOV64_IMM(0, 0),
			BPFVM_EXIT_INSN(),
		};
		char msg[2048];
		bool skip = false;
		int k = kernel_attach(c, insns, 3, &skip), v;

		if (skip)
			continue;
		v = bpfvm_attach(c, insns, 3, msg, sizeof(msg));
		if (k != v)
			TEST_FAIL("%s, %d bytes at %d: kernel %s, bpfvm %s (%s)",
				  c->event ? c->event : c->raw, bytes[c->size], c->off,
				  k ? strerror(-k) : "attaches", v ? strerror(-v) : "attaches", msg);
		else if (v && !strstr(msg, "past the end of the"))
			TEST_FAIL("%s, %d bytes at %d: the message does not say why: %s",
				  c->event ? c->event : c->raw, bytes[c->size], c->off, msg);
		else
			printf("# %s, %d bytes at %d: %s\n", c->event ? c->event : c->raw,
			       bytes[c->size], c->off, k ? strerror(-k) : "attaches");
	}
}

int main(void)
{
	struct bpfvm_insn insns[2] = { BPFVM_MOV64_IMM(0, 0), BPFVM_EXIT_INSN() };
	int fd = kernel_prog_load(BPF_PROG_TYPE_TRACEPOINT, insns, 2, 0, 0, NULL, 0);

	if (fd < 0) {
		printf("SKIP kernel_ctx_reach: bpf(BPF_PROG_LOAD) is not available here: %s\n",
		       strerror(-fd));
		return 0;
	}
	close(fd);
	if (access(TRACEFS "/syscalls", R_OK)) {
		printf("SKIP kernel_ctx_reach: %s/syscalls cannot be read (tracefs not mounted)\n",
		       TRACEFS);
		return 0;
	}
	return test_main();
}
