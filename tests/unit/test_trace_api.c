/*
 * test_trace_api.c - bpfvm/trace.h as an embedder uses it, without the
 * command line: examples/exitcodes.bpf.c (built with clang) attached,
 * commands started, their bpf_printk lines, exits and statuses seen
 * through the callbacks; attach refusals; bpfvm_trace__stop from a signal
 * handler on the tracing thread detaching from a command that would run
 * for seconds, leaving it running.  Skips where clang-19 or libbpf's headers are missing.
 * Programs made without an object (as bpfvm exec's bpf() PROG_LOAD makes
 * them) attached as uprobes and uretprobes by bpfvm_trace__attach_prog,
 * by function and by file offset: each run counted; what it refuses.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpfvm/object.h>
#include <bpfvm/trace.h>

#include "test.h"

static char objpath[64];

static bool build_object(void)
{
	static int built = -1;
	char dir[] = "/tmp/bpfvm_trace_api_XXXXXX", cmd[512];

	if (built >= 0)
		return built;
	built = 0;
	if (system("command -v clang-19 >/dev/null 2>&1") ||
	    access("/usr/include/bpf/bpf_helpers.h", R_OK) || !mkdtemp(dir))
		return false;
	snprintf(objpath, sizeof(objpath), "%s/exitcodes.bpf.o", dir);
	snprintf(cmd, sizeof(cmd), "clang-19 -O2 -g -target bpf -I/usr/include/$(uname -m)-linux-gnu "
		 "-c examples/exitcodes.bpf.c -o %s", objpath);
	built = system(cmd) == 0;
	return built;
}

struct seen {
	char printk[4096];
	size_t printk_len;
	int events, exits, last_pid, last_status;
};

static void on_printk(void *ctx, const char *text, size_t len)
{
	struct seen *s = ctx;

	if (s->printk_len + len < sizeof(s->printk)) {
		memcpy(s->printk + s->printk_len, text, len);
		s->printk_len += len;
		s->printk[s->printk_len] = '\0';
	}
}

static void on_event(void *ctx)
{
	((struct seen *)ctx)->events++;
}

static void on_exit_cb(void *ctx, int pid, int status)
{
	struct seen *s = ctx;

	s->exits++;
	s->last_pid = pid;
	s->last_status = status;
}

struct session {
	struct seen seen;
	char msg[2048];
	struct bpfvm_log log;
	struct bpfvm *vm;
	struct bpfvm_object *obj;
	struct bpfvm_trace *t;
};

/* Instance, object (loaded and verified) and tracer, every program attached; false on failure. */
static bool session_open(struct session *s)
{
	memset(s, 0, sizeof(*s));
	s->log = (struct bpfvm_log){ s->msg, sizeof(s->msg), 0 };
	BPFVM_OPTS(bpfvm_opts, vo, .trace = on_printk, .trace_ctx = &s->seen);
	s->vm = bpfvm__new(&vo);
	BPFVM_OPTS(bpfvm_object_open_opts, oo, .log = &s->log, .vm = s->vm);
	s->obj = s->vm ? bpfvm_object__open_file(objpath, &oo) : NULL;
	if (!s->obj || bpfvm_object__load(s->obj)) {
		TEST_FAIL("open or load: %s", s->msg);
		return false;
	}
	struct bpfvm_obj_prog *p;

	bpfvm_object__for_each_program(p, s->obj)
		if (bpfvm_prog__verify(bpfvm_obj_prog__prog(p), &(struct bpfvm_verify_opts){
			    .sz = sizeof(struct bpfvm_verify_opts), .log = &s->log })) {
			TEST_FAIL("%s does not verify: %s", bpfvm_obj_prog__name(p), s->msg);
			return false;
		}
	BPFVM_OPTS(bpfvm_trace_opts, to, .mode = BPFVM_EXEC_UNCHECKED, .log = &s->log,
		   .on_event = on_event, .on_exit = on_exit_cb, .ctx = &s->seen);
	s->t = bpfvm_trace__new(&to);
	bpfvm_object__for_each_program(p, s->obj)
		CHECK_EQ_INT(bpfvm_trace__attach(s->t, p), 0);
	return bpfvm_trace__attached(s->t) == 2;
}

static void session_close(struct session *s)
{
	bpfvm_trace__destroy(s->t);
	bpfvm_object__destroy(s->obj);
	bpfvm__destroy(s->vm);
}

/* The object built and a session open, or false (SKIP printed, or the failure). */
static bool session_begin(struct session *s)
{
	if (!build_object()) {
		printf("SKIP %s: clang-19 or libbpf-dev missing\n", test_current_name());
		return false;
	}
	if (!session_open(s)) {
		session_close(s);
		return false;
	}
	return true;
}

TEST(embedder_traces_a_command)
{
	char *const argv[] = { "/bin/sh", "-c", "/bin/sh -c 'exit 3'; exit 4", NULL };
	struct session s;
	char want[64];
	int status = 0;

	if (!session_begin(&s))
		return;
	CHECK_EQ_INT(bpfvm_trace__start(s.t, argv), 0);
	/* attaching after the start is refused: the filter is already in the process */
	CHECK_EQ_INT(bpfvm_trace__attach(s.t, bpfvm_object__next_program(s.obj, NULL)), -EINVAL);
	CHECK_EQ_INT(bpfvm_trace__run(s.t, &status), 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 4);
	CHECK_EQ_INT(s.seen.exits, 2);
	CHECK(WIFEXITED(s.seen.last_status) && WEXITSTATUS(s.seen.last_status) == 4);
	CHECK(s.seen.events >= 4);      /* two exit_group calls, two group exits */
	snprintf(want, sizeof(want), "exit pid %d code 4\n", s.seen.last_pid);
	CHECK_CONTAINS(s.seen.printk, want);
	CHECK_CONTAINS(s.seen.printk, "code 3\n");
	CHECK_EQ_U64(bpfvm_trace__errors(s.t), 0);
	session_close(&s);
}

static struct bpfvm_trace *to_stop;

static void on_usr1(int sig)
{
	(void)sig;
	bpfvm_trace__stop(to_stop);
}

/* Signal the tracing thread a little later: its handler stops the trace, as bpfvm trace's does. */
static void *signal_later(void *arg)
{
	nanosleep(&(struct timespec){ 0, 300 * 1000000 }, NULL);
	pthread_kill(*(pthread_t *)arg, SIGUSR1);
	return NULL;
}

/* Linux's /proc/PID/stat state letter, '?' when gone. */
static char proc_state(pid_t pid)
{
	char path[64], buf[256], *p;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return '?';
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p && p[1] && p[2] ? p[2] : '?';
}

/* TracerPid of /proc/PID/status, -1 when unreadable. */
static int tracer_of(pid_t pid)
{
	char path[64], line[128];
	int tracer = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "TracerPid: %d", &tracer) == 1)
			break;
	if (f)
		fclose(f);
	return tracer;
}

TEST(stop_detaches_and_leaves_the_command_running)
{
	char *const argv[] = { "/bin/sleep", "5", NULL };
	struct timespec t0, t1;
	struct session s;
	pthread_t th;
	int status = 0;
	pid_t pid;

	if (!session_begin(&s))
		return;
	struct sigaction sa = { .sa_handler = on_usr1 };   /* no SA_RESTART: waitpid returns */
	pthread_t self = pthread_self();

	sigaction(SIGUSR1, &sa, NULL);
	to_stop = s.t;
	CHECK_EQ_INT(bpfvm_trace__start(s.t, argv), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pthread_create(&th, NULL, signal_later, &self);
	CHECK_EQ_INT(bpfvm_trace__run(s.t, &status), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	pthread_join(th, NULL);
	CHECK_EQ_INT(status, -1);                        /* not seen to exit */
	CHECK(t1.tv_sec - t0.tv_sec < 4);                /* stopped well before sleep ends */
	/* the command (our child) runs on: not exited, not stopped, traced by no one */
	pid = bpfvm_trace__pid(s.t);
	CHECK(pid > 0);
	CHECK_EQ_INT(waitpid(pid, &status, WNOHANG), 0);
	if (proc_state(pid) != 'S' && proc_state(pid) != 'R')
		TEST_FAIL("pid %d is in state %c, not running or sleeping", pid, proc_state(pid));
	CHECK_EQ_INT(tracer_of(pid), 0);
	session_close(&s);
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
}

/* bash -c runs execute_command once per command but the last, which it execs */
#define BASH "/bin/bash"
#define BASH_CMDS "true; true; true; /bin/true"

/* The first line of cmd's output, or false. */
static bool first_line(const char *cmd, char *line, size_t size)
{
	FILE *f = popen(cmd, "r");
	bool ok = f && fgets(line, (int)size, f);

	if (f)
		pclose(f);
	return ok;
}

/*
 * "uretprobe//bin/bash:0xOFF": execute_command's file offset, as libbpf
 * gives it to the uprobe PMU (its address less its LOAD segment's, plus
 * the segment's offset in the file).
 */
static bool bash_offset(char *where, size_t size, const char *kind)
{
	unsigned long long addr, off = 0, vaddr = 0, memsz;
	char line[256];
	bool found = false;
	FILE *f;

	if (!first_line("nm -D --defined-only " BASH " 2>/dev/null | "
			"awk '$3 == \"execute_command\" { print $1 }'", line, sizeof(line)))
		return false;
	addr = strtoull(line, NULL, 16);
	f = popen("readelf -lW " BASH " 2>/dev/null", "r");
	while (f && !found && fgets(line, sizeof(line), f))
		found = sscanf(line, " LOAD %llx %llx %*s %*s %llx", &off, &vaddr, &memsz) == 3 &&
			vaddr <= addr && addr - vaddr < memsz;
	if (f)
		pclose(f);
	if (!found)
		return false;
	snprintf(where, size, "%s/" BASH ":0x%llx", kind, addr - vaddr + off);
	return true;
}

TEST(attach_prog_places_uprobes_by_function_and_offset)
{
	struct bpfvm_insn ret0[] = { { .code = 0xb7 }, { .code = 0x95 } };   /* r0 = 0; exit */
	char *const argv[] = { BASH, "-c", BASH_CMDS, NULL };
	char msg[1024], where[PATH_MAX + 32];
	struct bpfvm_log log = { msg, sizeof(msg), 0 };
	struct seen seen = { 0 };
	struct bpfvm *vm = bpfvm__new(NULL);
	BPFVM_OPTS(bpfvm_prog_opts, po, .name = "count", .prog_type = 2 /* KPROBE */, .log = &log);
	struct bpfvm_prog *p = vm ? bpfvm_prog__new(vm, ret0, 2, &po) : NULL;
	BPFVM_OPTS(bpfvm_trace_opts, to, .mode = BPFVM_EXEC_UNCHECKED, .log = &log,
		   .on_event = on_event, .ctx = &seen);
	struct bpfvm_trace *t = bpfvm_trace__new(&to);
	int status = -1;

	if (access(BASH, X_OK) || !bash_offset(where, sizeof(where), "uretprobe")) {
		printf("SKIP %s: no " BASH " exporting execute_command (nm)\n", test_current_name());
		goto out;
	}
	CHECK(p && t);
	CHECK_EQ_INT(bpfvm_prog__verify(p, NULL), 0);
	CHECK_EQ_INT(bpfvm_trace__attach_prog(t, p, 2, "uprobe/" BASH ":execute_command"), 0);
	CHECK_EQ_INT(bpfvm_trace__attach_prog(t, p, 2, where), 0);
	/* refused, named: a function bash lacks, a multi-uprobe (its specs come with an object) */
	log.len = 0;
	CHECK_EQ_INT(bpfvm_trace__attach_prog(t, p, 2, "uprobe/" BASH ":no_such_function"), -ENOENT);
	CHECK(strstr(msg, "no_such_function") != NULL);
	log.len = 0;
	CHECK_EQ_INT(bpfvm_trace__attach_prog(t, p, 2, "uprobe.multi/" BASH ":execute_*"),
		     -EOPNOTSUPP);
	CHECK(strstr(msg, "uprobe.multi") != NULL);
	CHECK_EQ_INT(bpfvm_trace__attached(t), 2);
	CHECK_EQ_INT(bpfvm_trace__start(t, argv), 0);
	CHECK_EQ_INT(bpfvm_trace__run(t, &status), 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* three calls, each entered and returned from */
	CHECK_EQ_INT(seen.events, 6);
out:
	bpfvm_trace__destroy(t);
	bpfvm_prog__destroy(p);
	bpfvm__destroy(vm);
}

TEST_MAIN()
