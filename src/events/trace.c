/*
 * trace.c - bpfvm_trace (bpfvm/trace.h): programs attached by their
 * sections, an event source started on a command, and at each event the
 * programs attached to its point run on the kernel's record with the
 * traced thread as current.  Which calls the source stops at follows from
 * what is attached (struct ev_interest), so unattached calls run at full
 * speed.
 *
 * At a system call's entry the tracepoints run before the kprobes on its
 * wrapper (ksyscall), and at its return the kretprobes before the
 * tracepoints, as the kernel's entry code calls them; a
 * bpf_override_return of a ksyscall program makes the source skip the
 * call with that result, of a kretsyscall program replaces the result
 * (the sys_exit tracepoints that follow see it).
 */
#include <errno.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpfvm/trace.h>

#include "../elf/obj.h"
#include "../hooks/hooks.h"
#include "../util/hot.h"
#include "../util/log.h"
#include "../util/opts.h"
#include "../util/procfs.h"
#include "../vm/vm.h"
#include "attach.h"
#include "events.h"
#include "inproc.h"
#include "kfuncs.h"
#include "task.h"
#include "usym.h"

#define MAX_ATTACHED 64
#define RECORD_ROOM 2048      /* the kernel's PERF_MAX_TRACE_SIZE: what a program may read */
#define PRIO_OFFSET 100       /* /proc's priority is the kernel's prio minus MAX_RT_PRIO */

struct attached {
	struct bpfvm_prog *prog;
	const char *name;
	struct ev_attach at;
	char *where;   /* a uprobe's, attached by bpfvm_trace__attach_prog: owned */
	/* usdt/: libbpf's maps of its usdt.bpf.h, filled as libbpf fills them */
	struct bpfvm_map *usdt_specs, *usdt_ips;
	uint8_t usdt_written[256 / 8];   /* spec ids written to usdt_specs */
	int detached;                    /* atomic: bpfvm_trace__detach */
	size_t clear;                    /* of its record, ev_record clears these bytes */
};

struct bpfvm_trace {
	struct bpfvm_trace_opts o;
	struct attached a[MAX_ATTACHED];
	size_t n;
	size_t others;   /* attached where a system call's tracepoints and uprobes are not */
	struct ev_interest want;
	struct ev_uprobe up[EV_MAX_UPROBES];
	struct ev_source *src;
	struct inproc *inproc;       /* uprobes placed in this process (the agent's) */
	struct bpfvm_prog *policy;   /* a seccomp filter enforced (bpfvm_trace__set_seccomp) */
	struct ev_kernel kern;     /* kernel objects' layouts (bpf_get_current_task) */
	int root_status;
	uint64_t errors;
	uint64_t rec[RECORD_ROOM / 8];
};

struct bpfvm_trace *bpfvm_trace__new(const struct bpfvm_trace_opts *opts)
{
	struct bpfvm_trace *t;

	if (!OPTS_VALID(opts, bpfvm_trace_opts, OPTS_GET(opts, log, NULL))) {
		errno = EINVAL;
		return NULL;
	}
	if (!(t = calloc(1, sizeof(*t))))
		return NULL;
	OPTS_COPY(&t->o, opts);
	t->root_status = -1;
	t->kern.btf_path = t->o.btf_custom_path;
	t->kern.log = t->o.log;
	return t;
}

static void want_point(struct ev_interest *w, const struct ev_attach *at)
{
	switch (at->point) {
	case EV_SYS_ENTER_TP: ev_interest_set(w->enter, at->nr); break;
	case EV_SYS_EXIT_TP: ev_interest_set(w->exit, at->nr); break;
	case EV_RAW_SYS_ENTER:
	case EV_RAWTP_SYS_ENTER: w->all_enter = true; break;
	case EV_RAW_SYS_EXIT:
	case EV_RAWTP_SYS_EXIT: w->all_exit = true; break;
	case EV_SCHED_EXEC: w->exec_filename = true; break;
	case EV_SIG_GENERATE:
	case EV_SIG_DELIVER: w->signals = true; break;
	case EV_KSYSCALL: ev_interest_set(w->enter, at->nr); break;
	case EV_KRETSYSCALL: ev_interest_set(w->exit, at->nr); break;
	case EV_KFUNC:
	case EV_KRETFUNC: ev_kfunc_want(w, at); break;
	case EV_SCHED_FORK:
	case EV_SCHED_EXIT:
	case EV_USER_PROBE: break;   /* ptrace reports these without the filter */
	}
}

/*
 * A uprobe's target, parsed and, where it names a file by its path,
 * resolved now, so that a missing function is said at once (a library
 * named without a path is resolved when the process has it loaded).
 */
static int uprobe_target(struct bpfvm_trace *t, const char *sec, const char *prog, char *why,
			 size_t size)
{
	struct ev_uprobe *u = &t->up[t->want.nuprobes];
	struct usym_site *sites;
	size_t n;
	int err;

	if (t->want.nuprobes == EV_MAX_UPROBES) {
		snprintf(why, size, "more than %d uprobes", EV_MAX_UPROBES);
		return -E2BIG;
	}
	err = usym_parse(sec, &u->target, why, size);
	if (!err && !usym_by_name(&u->target)) {
		err = usym_resolve(&u->target, u->target.binary, &sites, &n, why, size);
		free(sites);
	}
	if (err)
		return err;
	u->prog = prog;
	u->sec = sec;
	return 0;
}

/* The uprobe uprobe_target parsed is attached: the sources place it. */
static void uprobe_keep(struct bpfvm_trace *t)
{
	t->want.uprobes = t->up;
	t->want.nuprobes++;
}

/*
 * Does prog read no further into its context than at gives (the
 * tracepoint's fields, a raw tracepoint's arguments)?  The kernel checks
 * at attach: EACCES for a tracepoint (perf_event_set_bpf_prog), EINVAL for
 * a raw one.  0, or the errno with why.
 */
static int reach_refused(const struct ev_attach *at, const struct bpfvm_prog *prog, char *why,
			 size_t size)
{
	size_t end = ev_record_fields(at);
	uint32_t reads = vm_ctx_reads(prog);
	bool raw = at->point == EV_RAWTP_SYS_ENTER || at->point == EV_RAWTP_SYS_EXIT;

	if (!end || reads <= end)
		return 0;
	snprintf(why, size, "it reads its context up to byte %u, past the end of the %s (%zu bytes): "
		 "the kernel refuses to attach it (%s)", reads,
		 raw ? "raw tracepoint's arguments" : "tracepoint's fields", end,
		 raw ? "EINVAL" : "EACCES");
	return raw ? -EINVAL : -EACCES;
}

/*
 * The attachment just made (t->a[t->n - 1]): what its record clears (all
 * of it for a program not verified, which may read any of it), and what
 * the events it waits for are.
 */
static void attached(struct bpfvm_trace *t)
{
	struct attached *a = &t->a[t->n - 1];
	size_t reads = vm_ctx_verified(a->prog) ? vm_ctx_reads(a->prog) : sizeof(t->rec);

	a->clear = ev_record_clear(&a->at, reads, sizeof(t->rec));
	switch (a->at.point) {
	case EV_SYS_ENTER_TP: case EV_SYS_EXIT_TP: case EV_RAW_SYS_ENTER: case EV_RAW_SYS_EXIT:
	case EV_RAWTP_SYS_ENTER: case EV_RAWTP_SYS_EXIT: case EV_USER_PROBE:
		break;
	default:
		t->others++;
	}
	want_point(&t->want, &a->at);
}

int bpfvm_trace__attach(struct bpfvm_trace *t, struct bpfvm_obj_prog *program)
{
	struct bpfvm_prog *prog = program ? bpfvm_obj_prog__prog(program) : NULL;
	const char *name = program ? bpfvm_obj_prog__name(program) : "";
	char why[256];
	struct ev_attach at;
	int err;

	if (!t || !prog || t->src)
		return -EINVAL;
	if (t->n == MAX_ATTACHED)
		return -E2BIG;
	err = ev_attach_parse(bpfvm_obj_prog__type(program), bpfvm_obj_prog__section_name(program),
			      bpfvm_obj_prog__attach_target(program), &at, why, sizeof(why));
	if (!err && bpfvm_obj_prog__kernel_only(program, why, sizeof(why)) > 0)
		err = -EOPNOTSUPP;
	if (!err)
		err = ev_kfunc_refuse(&at, prog, why, sizeof(why));
	if (!err)
		err = reach_refused(&at, prog, why, sizeof(why));
	if (!err && at.point == EV_USER_PROBE) {
		at.uprobe = (int)t->want.nuprobes;
		err = uprobe_target(t, bpfvm_obj_prog__section_name(program), name, why, sizeof(why));
	}
	if (!err && at.point == EV_USER_PROBE && t->up[at.uprobe].target.kind == USYM_USDT &&
	    (!bpfvm_object__find_map_by_name(program->obj, "__bpf_usdt_specs") ||
	     !bpfvm_object__find_map_by_name(program->obj, "__bpf_usdt_ip_to_spec_id"))) {
		snprintf(why, sizeof(why), "a usdt program without libbpf's __bpf_usdt_specs and "
			 "__bpf_usdt_ip_to_spec_id maps (include <bpf/usdt.bpf.h>, use BPF_USDT)");
		err = -EINVAL;
	}
	if (!err && at.point == EV_USER_PROBE)
		uprobe_keep(t);
	if (err) {
		log_printf(t->o.log, "%s (SEC(\"%s\")): cannot attach: %s\n", name,
			   bpfvm_obj_prog__section_name(program), why);
		return err;
	}
	t->a[t->n] = (struct attached){ .prog = prog, .name = name, .at = at };
	if (at.point == EV_USER_PROBE && t->up[at.uprobe].target.kind == USYM_USDT) {
		t->a[t->n].usdt_specs = bpfvm_object__find_map_by_name(program->obj, "__bpf_usdt_specs");
		t->a[t->n].usdt_ips = bpfvm_object__find_map_by_name(program->obj,
								     "__bpf_usdt_ip_to_spec_id");
	}
	t->n++;
	attached(t);
	return 0;
}

/* The policy's return value for a call; a run that fails is the kernel's fail-closed kill. */
static uint32_t judge(void *ctx, int32_t tid, int32_t tgid, const struct bpfvm_seccomp_data *sd)
{
	struct bpfvm_trace *t = ctx;
	BPFVM_OPTS(bpfvm_cbpf_opts, co, .log = t->o.log);
	uint32_t ret = BPFVM_SECCOMP_RET_KILL_PROCESS;

	if (bpfvm_cbpf_run_seccomp(t->policy, sd, t->o.mode, &ret, &co) && !t->errors++)
		log_printf(t->o.log, "the seccomp filter failed to run at a call of pid %d\n", tid);
	if ((ret & BPFVM_SECCOMP_RET_ACTION_FULL) != BPFVM_SECCOMP_RET_ALLOW && t->o.on_seccomp) {
		struct bpfvm_trace_seccomp rec = { .tid = tid, .pid = tgid, .data = *sd, .ret = ret };

		t->o.on_seccomp(t->o.ctx, &rec);
	}
	return ret;
}

int bpfvm_trace__set_seccomp(struct bpfvm_trace *t, struct bpfvm_prog *filter,
			     const struct bpfvm_sock_filter *insns, size_t cnt)
{
	if (!t || !filter || t->src || cnt > 4096 || (cnt && !insns))
		return -EINVAL;
	t->policy = filter;
	t->want.judge = judge;
	t->want.judge_ctx = t;
	t->want.policy = cnt ? insns : NULL;
	t->want.policy_len = (unsigned)cnt;
	return 0;
}

int bpfvm_trace__attach_prog(struct bpfvm_trace *t, struct bpfvm_prog *prog, uint32_t prog_type,
			     const char *where)
{
	const char *slash = where ? strchr(where, '/') : NULL;
	const char *name = prog && bpfvm_prog__name(prog) ? bpfvm_prog__name(prog) : "";
	char why[256], *copy = NULL;
	struct ev_attach at;
	int err;

	if (!t || !prog || !where || t->src)
		return -EINVAL;
	if (t->n == MAX_ATTACHED)
		return -E2BIG;
	err = ev_attach_parse(prog_type, where, slash ? slash + 1 : "", &at, why, sizeof(why));
	if (!err)
		err = ev_kfunc_refuse(&at, prog, why, sizeof(why));
	if (!err)
		err = reach_refused(&at, prog, why, sizeof(why));
	if (!err && at.point == EV_USER_PROBE && !(copy = strdup(where)))
		err = -ENOMEM;
	if (!err && at.point == EV_USER_PROBE) {
		at.uprobe = (int)t->want.nuprobes;
		err = uprobe_target(t, copy, name, why, sizeof(why));
	}
	if (!err && at.point == EV_USER_PROBE && t->up[at.uprobe].target.kind != USYM_UPROBE) {
		snprintf(why, sizeof(why), "uprobe.multi and usdt programs are attached from objects "
			 "(bpfvm trace) only");
		err = -EOPNOTSUPP;
	}
	if (err) {
		log_printf(t->o.log, "%s (%s): cannot attach: %s\n", name, where, why);
		free(copy);
		return err;
	}
	if (at.point == EV_USER_PROBE)
		uprobe_keep(t);
	t->a[t->n++] = (struct attached){ .prog = prog, .name = name, .at = at, .where = copy };
	attached(t);
	return 0;
}

size_t bpfvm_trace__attached(const struct bpfvm_trace *t)
{
	return t ? t->n : 0;
}

int bpfvm_trace__start(struct bpfvm_trace *t, char *const argv[])
{
	int err;

	if (!t || t->src || !argv || !argv[0])
		return -EINVAL;
	t->src = ev_ptrace_new(&t->want);
	if (!t->src)
		return -errno;
	t->src->on_wake = t->o.on_wake;
	t->src->wake_ctx = t->o.ctx;
	err = t->src->ops->start(t->src, argv, t->o.log);
	if (err) {
		t->src->ops->destroy(t->src);
		t->src = NULL;
		return err;
	}
	return 0;
}

/* The supervisor for attach_pid and adopt_pid: 0 or a negative errno. */
static int seizing_source(struct bpfvm_trace *t)
{
	if (!t->src) {
		t->src = ev_ptrace_new(&t->want);
		if (!t->src)
			return -errno;
		t->src->on_wake = t->o.on_wake;
		t->src->wake_ctx = t->o.ctx;
	}
	return 0;
}

int bpfvm_trace__attach_pid(struct bpfvm_trace *t, int pid)
{
	int err;

	if (!t || pid <= 0)
		return -EINVAL;
	if ((err = seizing_source(t)))
		return err;
	return t->src->ops->seize(t->src, pid, t->o.log);
}

int bpfvm_trace__adopt_pid(struct bpfvm_trace *t, int pid, uint64_t stub)
{
	int err;

	if (!t || pid <= 0 || !stub)
		return -EINVAL;
	if ((err = seizing_source(t)))
		return err;
	return t->src->ops->adopt ? t->src->ops->adopt(t->src, pid, stub, t->o.log) : -EOPNOTSUPP;
}

/* Does attach point a fire at ev? */
HOT static bool fires(const struct ev_attach *a, const struct ev_event *ev, struct ev_task *task)
{
	if (a->point == EV_KFUNC || a->point == EV_KRETFUNC)
		return ev_kfunc_fires(a, ev, task);
	switch (ev->kind) {
	case EV_SYS_ENTER:
		return ((a->point == EV_SYS_ENTER_TP || a->point == EV_KSYSCALL) &&
			a->nr == ev->nr) || a->point == EV_RAW_SYS_ENTER || a->point == EV_RAWTP_SYS_ENTER;
	case EV_SYS_EXIT:
		if (ev->skipped && ev_attach_is_kprobe(a))
			return false;   /* a call the policy denied: its function never ran */
		return ((a->point == EV_SYS_EXIT_TP || a->point == EV_KRETSYSCALL) &&
			a->nr == ev->nr) || a->point == EV_RAW_SYS_EXIT || a->point == EV_RAWTP_SYS_EXIT;
	case EV_FORK: return a->point == EV_SCHED_FORK;
	case EV_EXEC: return a->point == EV_SCHED_EXEC;
	case EV_EXIT: return a->point == EV_SCHED_EXIT;
	case EV_SIGNAL_GENERATE: return a->point == EV_SIG_GENERATE;
	case EV_SIGNAL_DELIVER: return a->point == EV_SIG_DELIVER;
	case EV_UPROBE: return a->point == EV_USER_PROBE && (ev->probes >> a->uprobe & 1);
	case EV_GONE: return false;
	}
	return false;
}

static void fill_input(const struct ev_event *ev, struct ev_task *task, struct ev_record_in *in,
		       struct ev_task *target)
{
	const struct user_regs_struct *r = &ev->regs;

	memset(in, 0, sizeof(*in));
	in->tid = ev->tid;
	in->nr = ev->nr;
	in->ret = ev->ret;
	in->regs = r;
	ev_syscall_args(r, in->args);
	in->child = ev->child;
	in->old_tid = ev->old_tid;
	in->filename = ev->filename;
	in->group_dead = ev->group_dead;
	if (ev->kind == EV_FORK || ev->kind == EV_EXIT) {
		ev_task_comm(task);
		in->comm = task->comm;
	}
	if (ev->kind == EV_EXIT)
		in->prio = (int32_t)util_proc_stat(task->tid, 18) + PRIO_OFFSET;
	in->sig = ev->sig;
	in->si_errno = ev->si_errno;
	in->si_code = ev->si_code;
	in->target = ev->target;
	in->group = ev->group;
	in->result = ev->result;
	in->act_handler = ev->act_handler;
	in->act_flags = ev->act_flags;
	if (ev->kind == EV_SIGNAL_GENERATE) {
		ev_task_comm(target);
		in->target_comm = target->comm;
	}
}

/*
 * A USDT site's spec in the program's __bpf_usdt_specs under its id (the
 * cookie BPF_USDT() reads it by), and its address in
 * __bpf_usdt_ip_to_spec_id, as libbpf writes them at attach time; here at
 * the site's first hit, when bpfvm has the site.  The cookie, or 0.
 */
HOT static uint64_t usdt_cookie(struct bpfvm_trace *t, struct attached *a, int32_t id,
			    const char *args, uint64_t ip)
{
	uint8_t spec[USYM_USDT_SPEC_SIZE];
	uint32_t uid = (uint32_t)id;
	char why[256];

	if (id < 0 || !a->usdt_specs)
		return 0;
	if (!(a->usdt_written[id / 8] >> (id % 8) & 1)) {
		a->usdt_written[id / 8] |= (uint8_t)(1u << (id % 8));
		if (usym_usdt_spec(args, 0, spec, why, sizeof(why)) ||
		    bpfvm_map__update_elem(a->usdt_specs, &id, spec, BPFVM_ANY))
			log_printf(t->o.log, "%s: USDT site at 0x%llx: %s\n", a->name,
				   (unsigned long long)ip, why);
	}
	if (a->usdt_ips)
		bpfvm_map__update_elem(a->usdt_ips, &ip, &uid, BPFVM_ANY);
	return (uint64_t)id;
}

HOT static void run_one(struct bpfvm_trace *t, struct attached *a, const struct ev_event *ev,
		    struct ev_task *task, const struct ev_record_in *in, uint64_t *rec)
{
	bool rawtp = a->at.point == EV_RAWTP_SYS_ENTER || a->at.point == EV_RAWTP_SYS_EXIT;
	bool kprobe = ev_attach_is_kprobe(&a->at) || a->at.point == EV_KFUNC ||
		      a->at.point == EV_KRETFUNC || a->at.point == EV_USER_PROBE;
	struct hook_event_run hev = {
		.mode = t->o.mode, .log = t->o.log, .ctx = rec,
		/* a program may read any of the kernel's record room; raw tracepoints: 12 args */
		.ctx_size = rawtp ? 12 * 8 : kprobe ? EV_PT_REGS_SIZE : sizeof(t->rec),
		/* the user's pt_regs, which raw tracepoints and ksyscall's di point to */
		.kobj = rawtp || a->at.point == EV_KSYSCALL ? (void *)&ev->regs : NULL,
		.kobj_size = rawtp ? sizeof(ev->regs) : EV_PT_REGS_SIZE,
		.kobj_what = "pt_regs",
		/* in process (no source): the current task is the calling thread, the helpers' own */
		.task_ops = task->src ? &ev_task_ops : NULL, .task = task->src ? task : NULL,
	};
	uint64_t retval;

	ev_record(&a->at, in, (uint8_t *)rec, sizeof(t->rec), a->clear);
	task->cookie = ev->kind == EV_UPROBE ? usdt_cookie(t, a, ev->usdt_spec, ev->usdt_args,
							   ev->func_ip) : 0;
	task->can_override = ev_attach_is_kprobe(&a->at);
	if (hook_run_event(a->prog, &hev, &retval) && !t->errors++)
		log_printf(t->o.log, "%s: run failed at an event of pid %d (later failures are "
				     "only counted)\n", a->name, ev->tid);
	task->can_override = false;
}

/*
 * The programs of ev in the kernel's order, by how deep in the call each
 * point is: at a call's entry tracepoints, then kprobes on its wrapper
 * (ksyscall), then on the function the wrapper calls; at its exit the
 * reverse.  At a thread's exit do_exit's kprobe runs first:
 * sched_process_exit is inside it.
 */
static bool runs_in_pass(const struct ev_event *ev, const struct attached *a, int pass)
{
	int depth = a->at.point == EV_KFUNC || a->at.point == EV_KRETFUNC ? 2
		    : ev_attach_is_kprobe(&a->at) ? 1 : 0;

	return (ev->kind == EV_SYS_EXIT || ev->kind == EV_EXIT ? 2 - depth : depth) == pass;
}

/* src: the event's source (in process: NULL, or the uprobes' own, whose memory is this process's) */
static void dispatch(struct bpfvm_trace *t, struct ev_source *src, const struct ev_event *ev,
		     uint64_t *rec)
{
	struct ev_task task = { .src = src, .kern = &t->kern, .tid = ev->tid, .tgid = ev->tgid,
				.exiting = ev->kind == EV_EXIT, .exit_code = ev->status,
				.has_func_ip = ev->kind == EV_UPROBE, .func_ip = ev->func_ip };
	struct ev_task target = { .tid = ev->target, .tgid = ev->target };
	struct ev_record_in in;
	bool filled = false, kargs = false;

	/* an event that carries registers (a stack pointer is never 0) gives them */
	task.have_regs = ev->regs.rsp != 0;
	if (task.have_regs)
		task.regs = ev->regs;

	for (int pass = 0; pass < 3 && !(task.overridden && ev->kind == EV_SYS_ENTER); pass++) {
		if (ev->kind == EV_EXIT && task.exiting != (pass == 2)) {
			/* PF_EXITING and exit_code are set between do_exit's entry and the tracepoint */
			ev_task_end(&task);
			task.exiting = pass == 2;
		}
		for (size_t i = 0; i < t->n; i++) {
			if (!runs_in_pass(ev, &t->a[i], pass) || !fires(&t->a[i].at, ev, &task) ||
			    __atomic_load_n(&t->a[i].detached, __ATOMIC_ACQUIRE))
				continue;
			if (!filled)
				fill_input(ev, &task, &in, &target);
			filled = true;
			if (t->a[i].at.point == EV_KFUNC && !kargs)
				ev_kfunc_args(&t->a[i].at, ev, &task, in.kargs);
			kargs |= t->a[i].at.point == EV_KFUNC;
			run_one(t, &t->a[i], ev, &task, &in, rec);
		}
		/* what the tracepoints after the wrapper's kretprobes see */
		if (task.overridden && ev->kind == EV_SYS_EXIT)
			in.ret = task.override_rc;
	}
	if (task.overridden && t->src && src == t->src)
		t->src->ops->set_return(t->src, ev->tid, task.override_rc,
					ev->kind == EV_SYS_ENTER);
	if (filled && t->o.on_event)
		t->o.on_event(t->o.ctx);
	ev_task_end(&task);
}

int bpfvm_trace__detach(struct bpfvm_trace *t, size_t index)
{
	if (!t || index >= t->n)
		return -EINVAL;
	__atomic_store_n(&t->a[index].detached, 1, __ATOMIC_RELEASE);
	return 0;
}

int bpfvm_trace__run(struct bpfvm_trace *t, int *status)
{
	struct ev_event ev;
	int err;

	if (!t || !t->src)
		return -EINVAL;
	while ((err = t->src->ops->next(t->src, &ev)) > 0) {
		if (ev.kind != EV_GONE) {
			dispatch(t, t->src, &ev, t->rec);
			continue;
		}
		if (t->o.on_exit)
			t->o.on_exit(t->o.ctx, ev.tgid, ev.status);
		if (ev.tgid == t->src->root)
			t->root_status = ev.status;
	}
	if (status)
		*status = t->root_status;
	return err;
}

/*
 * dispatch for such programs, without what other events and points need
 * (the task's and a signal target's state, the passes, an override): the
 * agent runs it at every attached call, on the caller's stack.
 */
HOT static void syscall_tracepoints(struct bpfvm_trace *t, const struct ev_event *ev, uint64_t *rec)
{
	struct ev_task task;   /* run_one's fields alone: no source, so no task is read */
	struct ev_record_in in = { .tid = ev->tid, .nr = ev->nr, .ret = ev->ret, .regs = &ev->regs };
	bool ran = false;

	task.src = NULL;
	ev_syscall_args(&ev->regs, in.args);
	for (size_t i = 0; i < t->n; i++) {
		if (!fires(&t->a[i].at, ev, &task) || __atomic_load_n(&t->a[i].detached, __ATOMIC_ACQUIRE))
			continue;
		run_one(t, &t->a[i], ev, &task, &in, rec);
		ran = true;
	}
	if (ran && t->o.on_event)
		t->o.on_event(t->o.ctx);
}

HOT void bpfvm_trace__syscall(struct bpfvm_trace *t, bool enter, long nr, const uint64_t args[6],
			  int64_t ret, uint64_t pid_tgid)
{
	uint64_t rec[RECORD_ROOM / 8];   /* per call: threads and nested signals run at once */
	struct ev_event ev = { .kind = enter ? EV_SYS_ENTER : EV_SYS_EXIT, .nr = nr, .ret = ret };

	if (!t || t->src)
		return;
	ev.tid = pid_tgid ? (int32_t)pid_tgid : (int32_t)gettid();
	ev.tgid = pid_tgid ? (int32_t)(pid_tgid >> 32) : (int32_t)getpid();
	ev.regs.orig_rax = (uint64_t)nr;
	ev.regs.rax = enter ? (uint64_t)-ENOSYS : (uint64_t)ret;
	ev.regs.rdi = args[0], ev.regs.rsi = args[1], ev.regs.rdx = args[2];
	ev.regs.r10 = args[3], ev.regs.r8 = args[4], ev.regs.r9 = args[5];
	/*
	 * Every program one of a system call's tracepoints (sys_enter and
	 * sys_exit, raw_syscalls, raw_tracepoint), or a uprobe, which no call
	 * fires: a call's programs all run in one of dispatch's passes, in the
	 * order attached, and need nothing of a task (in process the helpers
	 * ask the calling thread)
	 */
	if (!t->others)
		syscall_tracepoints(t, &ev, rec);
	else
		dispatch(t, NULL, &ev, rec);
}

/*
 * A uprobe hit in this process (inproc.c): dispatch's work, for the one
 * kind of event, without what the others need (their records, passes):
 * the context is the registers as the trampoline saved them, read-only.
 */
HOT static void inproc_run(void *ctx, const struct inproc_hit *h)
{
	struct bpfvm_trace *t = ctx;
	struct ev_task task;
	struct hook_event_run hev = {
		.mode = t->o.mode, .log = t->o.log, .ctx = (void *)h->regs,
		.ctx_size = EV_PT_REGS_SIZE, .task_ops = &ev_task_ops, .task = &task,
	};
	uint64_t retval;

	memset(&task, 0, offsetof(struct ev_task, regs));
	task.src = inproc_source(t->inproc);
	task.kern = &t->kern;
	/* one 8-byte store, as the helpers may read the pair in one load */
	_Static_assert(offsetof(struct ev_task, tgid) == offsetof(struct ev_task, tid) + 4,
		       "ev_task's tid and tgid: one u64, tid low");
	memcpy(&task.tid, &h->ids, sizeof(h->ids));
	task.has_func_ip = true;
	task.func_ip = h->func_ip;
	/* what a user stack walk starts from (pt_regs: ip 16, cs 17, sp 19, bp 4) */
	task.regs.rip = h->regs[16], task.regs.cs = h->regs[17];
	task.regs.rsp = h->regs[19], task.regs.rbp = h->regs[4];
	task.have_regs = true;
	task.regs_asked = task.at_func_entry = false;
	for (size_t i = 0; i < t->n; i++) {
		struct attached *a = &t->a[i];

		if (a->at.point != EV_USER_PROBE || !(h->probes >> a->at.uprobe & 1))
			continue;
		task.cookie = usdt_cookie(t, a, h->usdt_spec, h->usdt_args, h->func_ip);
		if (hook_run_event(a->prog, &hev, &retval) && !t->errors++)
			log_printf(t->o.log, "%s: run failed at an event of pid %d (later failures "
					     "are only counted)\n", a->name, (int32_t)h->ids);
	}
	if (t->o.on_event)
		t->o.on_event(t->o.ctx);
	ev_task_end(&task);
}

int bpfvm_trace__place_uprobes(struct bpfvm_trace *t)
{
	if (!t || t->src)
		return -EINVAL;
	if (!t->want.nuprobes)
		return 0;
	if (!t->inproc) {
		if (!(t->inproc = inproc_new(t->up, t->want.nuprobes, t->o.log, inproc_run, t)))
			return -ENOMEM;
		if (t->o.on_log)
			inproc_on_log(t->inproc, t->o.on_log, t->o.ctx);
	}
	return inproc_place(t->inproc);
}

bool bpfvm_trace__uprobe_trap(struct bpfvm_trace *t, void *ucontext)
{
	return t && t->inproc && inproc_trap(t->inproc, ucontext);
}

void bpfvm_trace__remove_uprobes(struct bpfvm_trace *t)
{
	if (t)
		inproc_remove(t->inproc);
}

void bpfvm_trace__uprobes_unmapped(struct bpfvm_trace *t, uint64_t addr, uint64_t len)
{
	if (t)
		inproc_unmapped(t->inproc, addr, len);
}

int bpfvm_trace__wants_syscall(const struct bpfvm_trace *t, long nr)
{
	if (!t || nr < 0 || nr >= EV_MAX_SYSCALL)
		return 0;
	return (t->want.all_enter || ev_interest_has(t->want.enter, nr) ? 1 : 0) |
	       (t->want.all_exit || ev_interest_has(t->want.exit, nr) ? 2 : 0);
}

void bpfvm_trace__stop(struct bpfvm_trace *t)
{
	if (t && t->src)
		t->src->ops->stop(t->src);
}

int bpfvm_trace__pid(const struct bpfvm_trace *t)
{
	return t && t->src ? t->src->root : 0;
}

uint64_t bpfvm_trace__errors(const struct bpfvm_trace *t)
{
	return t ? t->errors : 0;
}

void bpfvm_trace__destroy(struct bpfvm_trace *t)
{
	if (!t)
		return;
	if (t->src)
		t->src->ops->destroy(t->src);
	ev_kernel_free(&t->kern);
	for (size_t i = 0; i < t->n; i++)
		free(t->a[i].where);
	inproc_free(t->inproc);
	free(t);
}
