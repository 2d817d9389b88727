/*
 * cmd_trace.c - `bpfvm trace`: the programs of BPF objects on the system
 * calls and process events of a real command (bpfvm/trace.h):
 *
 *   bpfvm trace [--prog NAME]... [--set VAR=VALUE]... [--cgroup MAP:INDEX=DIR]...
 *               [--dump-maps] [--json] [--interp|--jit]
 *               OBJECT... (-- COMMAND [ARGS...] | -p PID [-p PID]...)
 *
 * Loads and verifies every object (the kernel's rules: a refused program
 * stops everything; what only the kernel has, kernel-only maps and
 * helpers, loads as descriptors for the verifier), attaches each program
 * whose section names an attach point bpfvm has and that needs nothing
 * kernel-only (--prog: only those named), naming the others and why,
 * runs COMMAND and streams, until the traced processes have all exited
 * (-p: running processes, taken with PTRACE_SEIZE; SIGINT/SIGTERM detach,
 * leaving them as they were): bpf_printk lines as trace_pipe prints them,
 * ring buffer and perf buffer records decoded with the object's BTF (the
 * struct bpfvm_btf__record_type picks by the record's size; hex where
 * none fits), with --json one object a line ({"type":"printk"|"ringbuf"|
 * "perf"|"lost"|"exit"|"map",...}, records with their "data" in hex and,
 * decoded, "fields"); --dump-maps prints every map at the end.  A ring
 * buffer's records lost for want of room are counted after each event.  The exit status is the command's (128 + N for signal N).
 *
 * --cgroup puts the cgroup v2 directory DIR into slot INDEX of the cgroup
 * array MAP, as a tool's map update with the directory's fd does.
 *
 * A started command is not detached from on SIGINT/SIGTERM: its seccomp
 * filter cannot be taken out, and without a tracer every call it stops
 * at would fail with ENOSYS.  The signal is the command's instead, as a
 * terminal delivers Ctrl-C to the whole foreground group: one from the
 * terminal (SI_KERNEL) reached the command already, one sent to bpfvm
 * alone (kill, timeout) is passed on to it, and bpfvm serves until the
 * command exits.  (bpfvm killed outright takes the command with it:
 * PTRACE_O_EXITKILL.)
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpfvm/btf.h>
#include <bpfvm/cbpf.h>
#include <bpfvm/object.h>
#include <bpfvm/syscalls.h>
#include <bpfvm/trace.h>

#include "cli.h"
#include "records.h"
#include "trace_agent.h"

#define MAX_OBJECTS 16
#define MAX_NAMES 64

struct trace_args {
	const char *progs[MAX_NAMES];
	int nprogs;
	const char *sets[MAX_NAMES];
	int nsets;
	const char *cgroups[MAX_NAMES];   /* --cgroup MAP:INDEX=DIR */
	int ncgroups;
	bool dump_maps, json, jit;
	int pids[MAX_NAMES];
	int npids;
	const char *objects[MAX_OBJECTS];
	int nobjects;
	char **command;
	const char *seccomp;   /* a classic seccomp filter to enforce */
	const char *mode;   /* --mode: NULL (supervisor), "supervisor", "agent", "auto" */
};

struct rb_ctx {
	const struct trace_args *a;
	const char *map;
	const struct bpfvm_btf *btf;   /* its object's, to decode records with; may be NULL */
};

#define MAX_PERF_MAPS 64

struct tracer {
	const struct trace_args *a;
	struct bpfvm_object *objs[MAX_OBJECTS];
	int nobjs;
	struct rb_ctx perf[MAX_PERF_MAPS];   /* the perf event arrays' output contexts */
	int nperf;
	struct lost_seen {                   /* ring buffers' lost records reported so far */
		const struct bpfvm_map *map;
		uint64_t count;
	} lost[MAX_PERF_MAPS];
	int nlost;
	/* --mode agent: the agents' channel, and the supervisor for the processes they hand over */
	struct trace_agent_chan *chan;
	struct bpfvm_trace *t;
	uint64_t stub;
	int root, root_status;   /* the command, and its status if the supervisor reaped it */
	bool root_reaped, supervising;
};

/* The one tracer a signal handler may stop, and whether it started its command. */
static struct bpfvm_trace *volatile stoppable;
static volatile sig_atomic_t started_command;

static void on_signal(int sig, siginfo_t *info, void *uc)
{
	struct bpfvm_trace *t = stoppable;
	int pid = t ? bpfvm_trace__pid(t) : 0;

	(void)uc;
	if (!t)
		return;
	if (!started_command)
		bpfvm_trace__stop(t);
	else if (pid > 0 && info->si_code != SI_KERNEL)   /* not the terminal's: pass it on */
		kill(pid, sig);
}

static void json_string(FILE *f, const char *s, size_t len)
{
	fputc('"', f);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void on_printk(void *ctx, const char *text, size_t len)
{
	const struct trace_args *a = ctx;

	if (!a->json) {
		fwrite(text, 1, len, stdout);
		return;
	}
	if (len && text[len - 1] == '\n')
		len--;
	printf("{\"type\":\"printk\",\"text\":");
	json_string(stdout, text, len);
	printf("}\n");
}

static void print_hex(const void *data, size_t size)
{
	for (size_t i = 0; i < size; i++)
		printf("%02x", ((const uint8_t *)data)[i]);
}

static void print_out(void *ctx, const char *text, size_t len)
{
	(void)ctx;
	fwrite(text, 1, len, stdout);
}

/*
 * A record's fields, as one line of JSON, by the struct of the object's
 * BTF that its size picks: true when printed.
 */
static bool print_fields(const struct rb_ctx *rb, const void *data, size_t size)
{
	BPFVM_OPTS(bpfvm_btf_dump_opts, o, .json = true);
	int id = rb->btf ? bpfvm_btf__record_type(rb->btf, size, NULL, 0) : -1;

	if (id <= 0)
		return false;
	if (rb->a->json)
		printf(",\"fields\":");
	return !bpfvm_btf__dump_data(rb->btf, (uint32_t)id, data, size, print_out, NULL, &o);
}

/* One record: {"type":KIND,"map":NAME[,"cpu":N],"data":HEX[,"fields":{...}]}, or a line. */
static void print_record(const struct rb_ctx *rb, const char *kind, int cpu, const void *data,
			 size_t size)
{
	if (!rb->a->json) {
		printf("%s %s", kind, rb->map);
		if (cpu >= 0)
			printf(" cpu %d", cpu);
		printf(": ");
		if (!print_fields(rb, data, size))
			print_hex(data, size);
		printf("\n");
		return;
	}
	printf("{\"type\":\"%s\",\"map\":", kind);
	json_string(stdout, rb->map, strlen(rb->map));
	if (cpu >= 0)
		printf(",\"cpu\":%d", cpu);
	printf(",\"data\":\"");
	print_hex(data, size);
	printf("\"");
	print_fields(rb, data, size);
	printf("}\n");
}

static int on_record(void *ctx, const void *data, size_t size)
{
	print_record(ctx, "ringbuf", -1, data, size);
	return 0;
}

/* bpf_perf_event_output's records, as they are written. */
static void on_perf(void *ctx, int cpu, const void *data, size_t size)
{
	print_record(ctx, "perf", cpu, data, size);
}

static void set_perf_outputs(struct tracer *tr)
{
	for (int i = 0; i < tr->nobjs; i++) {
		struct bpfvm_map *m;

		bpfvm_object__for_each_map(m, tr->objs[i]) {
			if (bpfvm_map__type(m) != 4 /* BPF_MAP_TYPE_PERF_EVENT_ARRAY */ ||
			    tr->nperf == MAX_PERF_MAPS)
				continue;
			tr->perf[tr->nperf] = (struct rb_ctx){ tr->a, bpfvm_map__name(m),
							       bpfvm_object__btf(tr->objs[i]) };
			bpfvm_map__set_perf_output(m, on_perf, &tr->perf[tr->nperf++]);
		}
	}
}

/*
 * Records a ring buffer had no room for since the last report, as libbpf
 * reports a perf buffer's lost samples: a line (stderr, so records on
 * stdout stay records) or {"type":"lost","map":NAME,"count":N}.
 */
static void report_lost(struct tracer *tr, const struct bpfvm_map *m)
{
	uint64_t now = bpfvm_map__ringbuf_lost(m), *seen = NULL;

	for (int i = 0; i < tr->nlost && !seen; i++)
		if (tr->lost[i].map == m)
			seen = &tr->lost[i].count;
	if (!seen && now && tr->nlost < MAX_PERF_MAPS) {
		tr->lost[tr->nlost] = (struct lost_seen){ m, 0 };
		seen = &tr->lost[tr->nlost++].count;
	}
	if (!seen || now == *seen)
		return;
	if (tr->a->json) {
		printf("{\"type\":\"lost\",\"map\":");
		json_string(stdout, bpfvm_map__name(m), strlen(bpfvm_map__name(m)));
		printf(",\"count\":%llu}\n", (unsigned long long)(now - *seen));
	} else {
		fprintf(stderr, "bpfvm trace: ring buffer %s: %llu record%s lost (no room)\n",
			bpfvm_map__name(m), (unsigned long long)(now - *seen), now - *seen == 1 ? "" : "s");
	}
	*seen = now;
}

static void drain_ringbufs(void *ctx)
{
	struct tracer *tr = ctx;

	for (int i = 0; i < tr->nobjs; i++) {
		struct bpfvm_map *m;

		bpfvm_object__for_each_map(m, tr->objs[i]) {
			struct rb_ctx rb = { tr->a, bpfvm_map__name(m),
					     bpfvm_object__btf(tr->objs[i]) };

			if (bpfvm_map__type(m) != 27 /* BPF_MAP_TYPE_RINGBUF */)
				continue;
			bpfvm_map__ringbuf_consume(m, on_record, &rb);
			report_lost(tr, m);
		}
	}
	fflush(stdout);
}

static void report_exit(void *ctx, int pid, int status)
{
	struct tracer *tr = ctx;

	drain_ringbufs(ctx);
	if (!tr->a->json)
		return;
	if (WIFSIGNALED(status))
		printf("{\"type\":\"exit\",\"pid\":%d,\"signal\":%d%s}\n", pid, WTERMSIG(status),
		       WCOREDUMP(status) ? ",\"core_dumped\":true" : "");
	else
		printf("{\"type\":\"exit\",\"pid\":%d,\"status\":%d}\n", pid, WEXITSTATUS(status));
	fflush(stdout);
}

/* The supervisor's report of a process's end (with the agent: it reaped it, not the channel). */
static void on_exit_status(void *ctx, int pid, int status)
{
	struct tracer *tr = ctx;

	if (tr->chan)
		trace_agent_chan_forget(tr->chan, pid);
	if (tr->chan && pid == tr->root) {
		tr->root_status = status;
		tr->root_reaped = true;
	}
	report_exit(ctx, pid, status);
}

/*
 * The policy's action at a call: "seccomp ERRNO(1): pid P tid T getuid(ARGS) ip 0x..."
 * or {"type":"seccomp","pid":P,"tid":T,"nr":N,"syscall":NAME,"arch":"x86_64",...}.
 */
static void on_seccomp(void *ctx, const struct bpfvm_trace_seccomp *r)
{
	const struct tracer *tr = ctx;
	const struct bpfvm_seccomp_data *d = &r->data;
	bool x86_64 = d->arch == BPFVM_AUDIT_ARCH_X86_64;
	const char *name = x86_64 ? bpfvm_syscall_x86_64_name(d->nr) : NULL;
	char act[64];

	bpfvm_seccomp_action_str(r->ret, act, sizeof(act));
	if (tr->a->json) {
		printf("{\"type\":\"seccomp\",\"pid\":%d,\"tid\":%d,\"nr\":%d,\"syscall\":", r->pid,
		       r->tid, d->nr);
		json_string(stdout, name ? name : "?", strlen(name ? name : "?"));
		printf(",\"arch\":%u,\"ip\":%llu,\"args\":[", d->arch,
		       (unsigned long long)d->instruction_pointer);
		for (int i = 0; i < 6; i++)
			printf("%s%llu", i ? "," : "", (unsigned long long)d->args[i]);
		printf("],\"action\":\"%s\",\"ret\":%u}\n", act, r->ret);
	} else {
		printf("seccomp %s: pid %d tid %d ", act, r->pid, r->tid);
		if (name)
			printf("%s(", name);
		else
			printf("syscall %d (arch 0x%08x)(", d->nr, d->arch);
		for (int i = 0; i < 6; i++)
			printf("%s0x%llx", i ? ", " : "", (unsigned long long)d->args[i]);
		printf(") ip 0x%llx\n", (unsigned long long)d->instruction_pointer);
	}
	fflush(stdout);
}

enum { O_PROG = 256, O_SET, O_DUMP, O_JSON, O_INTERP, O_JIT, O_SECCOMP, O_MODE, O_CGROUP };

/* 0, or EXIT_USAGE with the reason printed. */
static int parse_args(int argc, char **argv, struct trace_args *a)
{
	static const struct option opts[] = {
		{ "prog", required_argument, NULL, O_PROG }, { "set", required_argument, NULL, O_SET },
		{ "dump-maps", no_argument, NULL, O_DUMP }, { "json", no_argument, NULL, O_JSON },
		{ "interp", no_argument, NULL, O_INTERP }, { "jit", no_argument, NULL, O_JIT },
		{ "seccomp", required_argument, NULL, O_SECCOMP },
		{ "mode", required_argument, NULL, O_MODE },
		{ "cgroup", required_argument, NULL, O_CGROUP }, { NULL, 0, NULL, 0 },
	};
	int c, end = cli_split_command(argc, argv, &a->command);

	optind = 1;
	while ((c = getopt_long(end, argv, "p:", opts, NULL)) != -1) {
		switch (c) {
		case O_PROG: if (a->nprogs < MAX_NAMES) a->progs[a->nprogs++] = optarg; break;
		case O_SET: if (a->nsets < MAX_NAMES) a->sets[a->nsets++] = optarg; break;
		case O_CGROUP: if (a->ncgroups < MAX_NAMES) a->cgroups[a->ncgroups++] = optarg; break;
		case O_DUMP: a->dump_maps = true; break;
		case O_JSON: a->json = true; break;
		case O_INTERP: a->jit = false; break;
		case O_JIT: a->jit = true; break;
		case O_SECCOMP: a->seccomp = optarg; break;
		case O_MODE:
			if (strcmp(optarg, "auto") && strcmp(optarg, "agent") && strcmp(optarg, "supervisor")) {
				fprintf(stderr, "bpfvm trace: --mode is auto, agent or supervisor, not '%s'\n",
					optarg);
				return EXIT_USAGE;
			}
			a->mode = optarg;
			break;
		case 'p': {
			char *e;
			long pid = strtol(optarg, &e, 10);

			if (*e || pid <= 0 || pid > INT32_MAX || a->npids == MAX_NAMES) {
				fprintf(stderr, "bpfvm trace: -p takes a process id, not '%s'\n", optarg);
				return EXIT_USAGE;
			}
			a->pids[a->npids++] = (int)pid;
			break;
		}
		default: return cli_usage("trace");
		}
	}
	for (int i = optind; i < end; i++) {
		if (a->nobjects == MAX_OBJECTS) {
			fprintf(stderr, "bpfvm trace: at most %d objects\n", MAX_OBJECTS);
			return EXIT_USAGE;
		}
		a->objects[a->nobjects++] = argv[i];
	}
	if ((!a->nobjects && !a->seccomp) ||
	    (a->npids ? !!a->command : !a->command || !a->command[0]))
		return cli_usage("trace");
	if (a->seccomp && a->npids) {
		fprintf(stderr, "bpfvm trace: --seccomp needs a COMMAND bpfvm starts: no filter can be "
				"put into a running process (-p)\n");
		return EXIT_USAGE;
	}
	return 0;
}

/* Open, set, load and verify one object in vm: 0, or 1 with the reason printed. */
static int load_object(struct bpfvm *vm, const struct trace_args *a, const char *path,
		       struct bpfvm_object **out)
{
	static char msg[65536];
	struct bpfvm_log log = { msg, sizeof(msg), 0 };
	BPFVM_OPTS(bpfvm_object_open_opts, oo, .log = &log, .vm = vm, .kernel_only = true);
	struct bpfvm_object *obj = bpfvm_object__open_file(path, &oo);
	int err;

	msg[0] = '\0';
	if (!obj) {
		fprintf(stderr, "bpfvm trace: %s: %s", path, msg[0] ? msg : "cannot open\n");
		return 1;
	}
	for (int i = 0; i < a->nsets; i++)
		if (cli_apply_set(obj, a->sets[i], &log, a->nobjects > 1) < 0) {
			bpfvm_object__destroy(obj);
			return 1;
		}
	err = bpfvm_object__load(obj);
	if (err) {
		fprintf(stderr, "bpfvm trace: %s: %s", path, msg[0] ? msg : strerror(-err));
		bpfvm_object__destroy(obj);
		return 1;
	}
	if (cli_verify_object_for_run(obj, path)) {
		bpfvm_object__destroy(obj);
		return 1;
	}
	*out = obj;
	return 0;
}

/* --cgroup MAP:INDEX=DIR: 0, or 1 with the reason printed. */
static int fill_cgroup(const struct tracer *tr, const char *spec)
{
	char name[128];
	unsigned index;
	int n = 0, fd, err = -ENOENT;
	struct bpfvm_map *map = NULL;

	if (sscanf(spec, "%127[^:]:%u=%n", name, &index, &n) != 2 || !n || !spec[n]) {
		fprintf(stderr, "bpfvm trace: --cgroup takes MAP:INDEX=DIR, not '%s'\n", spec);
		return 1;
	}
	for (int i = 0; i < tr->nobjs && !map; i++)
		map = bpfvm_object__find_map_by_name(tr->objs[i], name);
	if (!map || bpfvm_map__type(map) != BPFVM_MAP_TYPE_CGROUP_ARRAY) {
		fprintf(stderr, "bpfvm trace: --cgroup %s: no cgroup array named '%s'\n", spec, name);
		return 1;
	}
	fd = open(spec + n, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		uint32_t v = (uint32_t)fd;

		err = bpfvm_map__update_elem(map, &index, &v, 0);
		close(fd);
	} else {
		err = -errno;
	}
	if (err)
		fprintf(stderr, "bpfvm trace: --cgroup %s: %s\n", spec,
			err == -EBADF ? "not a cgroup v2 directory" : strerror(-err));
	return err ? 1 : 0;
}

static bool wanted(const struct trace_args *a, const char *name)
{
	if (!a->nprogs)
		return true;
	for (int i = 0; i < a->nprogs; i++)
		if (!strcmp(a->progs[i], name))
			return true;
	return false;
}

/* Attach what can be: the number attached; why the others cannot on stderr. */
static size_t attach_all(struct bpfvm_trace *t, struct tracer *tr, struct bpfvm_log *log)
{
	for (int i = 0; i < tr->nobjs; i++) {
		struct bpfvm_obj_prog *p;

		bpfvm_object__for_each_program(p, tr->objs[i]) {
			if (!bpfvm_obj_prog__prog(p) || !wanted(tr->a, bpfvm_obj_prog__name(p)))
				continue;
			log->len = 0;
			log->buf[0] = '\0';
			if (bpfvm_trace__attach(t, p))
				fprintf(stderr, "bpfvm trace: %s: %s", tr->a->objects[i],
					log->buf[0] ? log->buf : "cannot attach\n");
		}
	}
	return bpfvm_trace__attached(t);
}

/* --seccomp FILE: read, checked as seccomp filters are, converted and verified; NULL with why printed. */
static struct bpfvm_prog *load_policy(struct bpfvm *vm, const char *path, struct bpfvm_sock_filter **f,
				      size_t *cnt)
{
	struct bpfvm_prog *prog;

	if (cli_load_cbpf(path, true, f, cnt) || !(prog = cli_cbpf_prog(vm, *f, *cnt, path)))
		return NULL;
	/* a converted seccomp filter reads only seccomp_data and the stack: the verifier proves it */
	if (cli_verify_for_run(prog, NULL, path, BPFVM_VERIFY_MEM, sizeof(struct bpfvm_seccomp_data))) {
		bpfvm_prog__destroy(prog);
		return NULL;
	}
	return prog;
}

static int exit_code(int status)
{
	if (status < 0)
		return 0;   /* detached before it ended */
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

static bool wanted_ctx(const void *ctx, const char *name)
{
	return wanted(ctx, name);
}

/* --mode agent|auto: NULL for the supervisor, else why not the agent ("" when it is used). */
static const char *choose_agent(const struct tracer *tr, const struct bpfvm_trace *t)
{
	const struct trace_args *a = tr->a;
	const char *why;

	if (!a->mode || !strcmp(a->mode, "supervisor"))
		return NULL;
	why = a->npids ? "-p: the agent enters only a command it starts"
	      : a->seccomp ? "--seccomp: the supervisor enforces the filter"
		       : trace_agent_cannot_serve(tr->objs, tr->nobjs, wanted_ctx, a);
	if (!why)
		why = trace_agent_cannot_enter(a->command[0]);
	if (!why && !strcmp(a->mode, "auto"))
		why = trace_agent_cannot_exec(t);
	if (!strcmp(a->mode, "auto"))
		fprintf(stderr, "bpfvm trace: mode %s%s%s\n", why ? "supervisor" : "agent",
			why ? ": " : "", why ? why : "");
	return why ? why : "";
}

static void agent_printk(void *ctx, const char *line, size_t len)
{
	on_printk((void *)((struct tracer *)ctx)->a, line, len);
}

/* An agent's process execs what its agent cannot enter: the supervisor takes it (0), or not. */
static int agent_handover(void *ctx, int pid, const char *why, const char *path)
{
	struct tracer *tr = ctx;
	int err = bpfvm_trace__adopt_pid(tr->t, pid, tr->stub);

	if (err)
		fprintf(stderr, "bpfvm trace: %d execs %s, which the agent cannot enter (%s), and the "
			"supervisor cannot take it: %s\n", pid, path, why, strerror(-err));
	else
		fprintf(stderr, "bpfvm trace: %d execs %s, which the agent cannot enter (%s): the "
			"supervisor follows it\n", pid, path, why);
	tr->supervising |= !err;
	return err;
}

static const struct trace_agent_chan_ops agent_ops = { agent_printk, report_exit, agent_handover };

/* The supervisor's wait woke (SIGALRM, below): what the agents sent, what they wrote. */
static void agent_wake(void *ctx)
{
	struct tracer *tr = ctx;

	if (!tr->chan)
		return;
	drain_ringbufs(tr);
	trace_agent_chan_poll(tr->chan, tr->root, &agent_ops, tr);
}

static void on_alarm(int sig)
{
	(void)sig;   /* only interrupts the supervisor's wait: agent_wake */
}

/*
 * Processes handed over: the supervisor serves them until they have all
 * exited, woken every 10 ms to serve the agents too (their channel, the
 * ring buffers); it reaps the untraced ones that end meanwhile (their
 * ends are reported from there).
 */
static void supervise(struct tracer *tr)
{
	struct sigaction sa = { .sa_handler = on_alarm }, old;   /* no SA_RESTART */
	struct itimerval every = { { 0, 10000 }, { 0, 10000 } }, off = { { 0, 0 }, { 0, 0 } };
	int status, err;

	sigaction(SIGALRM, &sa, &old);
	setitimer(ITIMER_REAL, &every, NULL);
	err = bpfvm_trace__run(tr->t, &status);
	setitimer(ITIMER_REAL, &off, NULL);
	sigaction(SIGALRM, &old, NULL);
	tr->supervising = false;
	if (err)
		fprintf(stderr, "bpfvm trace: supervisor: %s\n", strerror(-err));
}

/*
 * The command under the agent (agent/agent.c): drain the shared ring
 * buffers and the agents' channel (their bpf_printk lines, the ends of
 * the processes they entered) until it exits.  A subreaper, so that
 * orphans are reaped and their ends known too.
 */
static int run_under_agent(struct tracer *tr, struct bpfvm *vm)
{
	const struct trace_args *a = tr->a;
	struct timespec ms = { 0, 1000000 };
	struct trace_agent_chan *chan = calloc(1, sizeof(*chan));
	int status = -1, child_end = -1, detach[2] = { -1, -1 };
	pid_t pid, got;

	if (!chan || trace_agent_chan_open(chan, &child_end)) {
		free(chan);
		return 1;
	}
	/* its write end ours alone: when this process ends, the agent puts back its uprobes' bytes */
	if (pipe2(detach, O_CLOEXEC))
		detach[0] = detach[1] = -1;
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	pid = fork();
	if (pid == 0) {
		char fd[16];

		snprintf(fd, sizeof(fd), "%d", detach[0] >= 0 ? fcntl(detach[0], F_DUPFD, 950) : -1);
		if (!setenv("BPFVM_AGENT_DETACH", fd, 1) &&
		    !trace_agent_env(vm, a->objects, a->nobjects, a->progs, a->nprogs, a->jit, child_end))
			execvp(a->command[0], a->command);
		fprintf(stderr, "bpfvm trace: %s: %s\n", a->command[0], strerror(errno));
		_exit(127);
	}
	close(child_end);
	close(detach[0]);
	detach[0] = -1;
	tr->chan = chan;
	tr->root = pid;
	tr->stub = trace_agent_stub(vm);
	signal(SIGINT, SIG_IGN);   /* the terminal's Ctrl-C is the command's; bpfvm reports its end */
	while (pid > 0) {
		int st;

		drain_ringbufs(tr);
		trace_agent_chan_poll(chan, pid, &agent_ops, tr);
		if (tr->supervising)
			supervise(tr);
		if (tr->root_reaped)
			break;
		while ((got = waitpid(-1, &st, WNOHANG)) > 0 && got != pid)
			;   /* an orphan: its end comes through its pidfd */
		if (got == pid || (got < 0 && errno == ECHILD)) {
			status = got == pid ? st : -1;
			break;
		}
		nanosleep(&ms, NULL);
	}
	drain_ringbufs(tr);
	trace_agent_chan_poll(chan, pid, &agent_ops, tr);
	trace_agent_chan_close(chan);
	tr->chan = NULL;
	free(chan);
	close(detach[1]);
	if (pid < 0)
		return 1;
	if (tr->root_reaped)
		return exit_code(tr->root_status);   /* reported when the supervisor reaped it */
	report_exit(tr, pid, status);
	return exit_code(status);
}

static int trace_run(struct tracer *tr, struct bpfvm *vm)
{
	const struct trace_args *a = tr->a;
	char msg[4096] = "";
	struct bpfvm_log log = { msg, sizeof(msg), 0 };
	BPFVM_OPTS(bpfvm_trace_opts, to, .mode = a->jit ? BPFVM_EXEC_JIT : BPFVM_EXEC_UNCHECKED,
		   .log = &log, .on_event = drain_ringbufs, .on_exit = on_exit_status, .ctx = tr,
		   .on_seccomp = on_seccomp, .on_wake = agent_wake);
	struct bpfvm_trace *t = bpfvm_trace__new(&to);
	struct sigaction sa = { .sa_sigaction = on_signal, .sa_flags = SA_SIGINFO };
	struct bpfvm_sock_filter *f = NULL;
	struct bpfvm_prog *policy = NULL;
	size_t nf = 0;
	int status = -1, err, rc = 1;
	const char *agent_why;

	if (!t)
		return 1;
	if (a->seccomp && !(policy = load_policy(vm, a->seccomp, &f, &nf)))
		goto out;
	if (policy)
		bpfvm_trace__set_seccomp(t, policy, f, nf);
	if (a->nobjects && !attach_all(t, tr, &log)) {
		fprintf(stderr, "bpfvm trace: no program could be attached\n");
		goto out;
	}
	set_perf_outputs(tr);
	if ((agent_why = choose_agent(tr, t)) && !strcmp(a->mode, "agent") && *agent_why) {
		fprintf(stderr, "bpfvm trace: --mode agent: %s\n", agent_why);
		goto out;
	}
	if (agent_why && !*agent_why) {
		tr->t = t;
		rc = run_under_agent(tr, vm);
		goto dump;
	}
	log.len = 0;
	msg[0] = '\0';
	err = a->npids ? 0 : bpfvm_trace__start(t, a->command);
	for (int i = 0; i < a->npids && !err; i++)
		err = bpfvm_trace__attach_pid(t, a->pids[i]);
	if (err) {
		fprintf(stderr, "bpfvm trace: %s%s%s", a->npids ? "" : a->command[0],
			a->npids ? "" : ": ", msg[0] ? msg : strerror(-err));
		if (!msg[0])
			fputc('\n', stderr);
		goto out;
	}
	started_command = !a->npids;
	stoppable = t;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	err = bpfvm_trace__run(t, &status);
	stoppable = NULL;
	drain_ringbufs(tr);
	if (msg[0])
		fprintf(stderr, "bpfvm trace: %s", msg);
	if (err)
		fprintf(stderr, "bpfvm trace: %s\n", strerror(-err));
	rc = err ? 1 : exit_code(status);
dump:
	if (rc != 1 && a->dump_maps)
		for (int i = 0; i < tr->nobjs; i++) {
			struct records_fmt rf;

			records_fmt_init(&rf, tr->objs[i], NULL, a->json, "trace");
			rf.json_lines = true;
			obj_dump_maps(tr->objs[i], &rf);
		}
out:
	bpfvm_trace__destroy(t);
	bpfvm_prog__destroy(policy);
	free(f);
	return rc;
}

int cmd_trace(int argc, char **argv)
{
	struct trace_args a = { 0 };
	struct tracer tr = { .a = &a };
	BPFVM_OPTS(bpfvm_opts, vo, .trace = on_printk, .trace_ctx = &a);
	struct bpfvm *vm;
	int rc;

	rc = parse_args(argc, argv, &a);
	if (rc)
		return rc;
	/*
	 * A line at a time: the traced command writes to the same stdout, and
	 * a full buffer flushed mid-line would cut a record (or the command's
	 * own line) in two
	 */
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (a.mode && strcmp(a.mode, "supervisor"))   /* the agent's programs update these maps */
		vo.shared_maps_size = TRACE_AGENT_ARENA;
	vm = bpfvm__new(&vo);
	if (!vm) {
		fprintf(stderr, "bpfvm trace: %s\n", strerror(errno));
		return 1;
	}
	rc = 0;
	for (int i = 0; i < a.nobjects && !rc; i++)
		rc = load_object(vm, &a, a.objects[i], &tr.objs[tr.nobjs++]);
	if (rc)
		tr.nobjs--;
	for (int i = 0; i < a.ncgroups && !rc; i++)
		rc = fill_cgroup(&tr, a.cgroups[i]);
	if (!rc)
		rc = trace_run(&tr, vm);
	for (int i = 0; i < tr.nobjs; i++)
		bpfvm_object__destroy(tr.objs[i]);
	bpfvm__destroy(vm);
	return rc;
}
