/*
 * attach.c - the attach points bpfvm serves, by the kernel's names (what
 * libbpf's SEC() names say: "tracepoint/syscalls/sys_enter_openat",
 * "raw_tp/sys_enter"), and the x86-64 system-call table they name.  The
 * context each hands its programs is laid out by hooks/records.c.
 */
#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attach.h"
#include "kfuncs.h"

const struct ev_syscall ev_syscalls[] = {
#define SYSCALL(NR, NAME, EVENT, NARGS, ...) { NR, #NAME, #EVENT, NARGS, { __VA_ARGS__ } },
#include "../util/syscalls_x86_64.def"
#undef SYSCALL
};
const size_t ev_nsyscalls = sizeof(ev_syscalls) / sizeof(ev_syscalls[0]);

const struct ev_syscall *ev_syscall_by_event(const char *event)
{
	for (size_t i = 0; i < ev_nsyscalls; i++)
		if (ev_syscalls[i].nargs >= 0 && !strcmp(ev_syscalls[i].event, event))
			return &ev_syscalls[i];
	return NULL;
}

const struct ev_syscall *ev_syscall_by_nr(long nr)
{
	for (size_t i = 0; i < ev_nsyscalls; i++)
		if (ev_syscalls[i].nr == nr)
			return &ev_syscalls[i];
	return NULL;
}

/* This kernel's id of tracepoint CATEGORY/NAME, 0 where tracefs cannot be read. */
uint16_t ev_event_id(const char *category, const char *name)
{
	static const char *const roots[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };
	char path[256];
	unsigned id = 0;

	for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]) && !id; i++) {
		FILE *f;

		snprintf(path, sizeof(path), "%s/events/%s/%s/id", roots[i], category, name);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (fscanf(f, "%u", &id) != 1)
			id = 0;
		fclose(f);
	}
	return (uint16_t)id;
}

static int unsupported(char *why, size_t size, const char *fmt, const char *what)
{
	snprintf(why, size, fmt, what);
	return -EOPNOTSUPP;
}

static int parse_tracepoint(const char *target, struct ev_attach *a, char *why, size_t size)
{
	static const struct { const char *name; enum ev_point point; } sched[] = {
		{ "sched_process_fork", EV_SCHED_FORK },
		{ "sched_process_exec", EV_SCHED_EXEC },
		{ "sched_process_exit", EV_SCHED_EXIT },
		{ "signal_generate", EV_SIG_GENERATE },
		{ "signal_deliver", EV_SIG_DELIVER },
	};
	const char *name = strchr(target, '/');
	size_t cat_len = name ? (size_t)(name - target) : 0;
	char category[64];

	if (!name || cat_len >= sizeof(category) || !name[1])
		return unsupported(why, size, "tracepoint '%s': not CATEGORY/NAME", target);
	memcpy(category, target, cat_len);
	category[cat_len] = '\0';
	name++;
	a->nr = -1;
	if (!strcmp(category, "syscalls") && (!strncmp(name, "sys_enter_", 10) ||
					      !strncmp(name, "sys_exit_", 9))) {
		bool enter = name[4] == 'e' && name[5] == 'n';
		const struct ev_syscall *sc = ev_syscall_by_event(name + (enter ? 10 : 9));

		if (!sc)
			return unsupported(why, size, "tracepoint '%s': no such x86-64 system call",
					   target);
		a->point = enter ? EV_SYS_ENTER_TP : EV_SYS_EXIT_TP;
		a->nr = sc->nr;
		a->sc = sc;
	} else if (!strcmp(category, "raw_syscalls") && !strcmp(name, "sys_enter")) {
		a->point = EV_RAW_SYS_ENTER;
	} else if (!strcmp(category, "raw_syscalls") && !strcmp(name, "sys_exit")) {
		a->point = EV_RAW_SYS_EXIT;
	} else {
		size_t i = 0;

		while (i < sizeof(sched) / sizeof(sched[0]) &&
		       (strcmp(category, strncmp(name, "signal_", 7) ? "sched" : "signal") ||
			strcmp(name, sched[i].name)))
			i++;
		if (i == sizeof(sched) / sizeof(sched[0]))
			return unsupported(why, size, "tracepoint '%s': no event source for it in "
					   "bpfvm yet (syscalls/*, raw_syscalls/*, sched_process_"
					   "fork/exec/exit, signal_generate/deliver)", target);
		a->point = sched[i].point;
	}
	a->event_id = ev_event_id(category, name);
	return 0;
}

/*
 * libbpf's kprobe sections: ksyscall/NAME and kretsyscall/NAME attach to
 * the wrapper __x64_sys_NAME (what libbpf picks on x86-64), as do
 * kprobe/ and kretprobe/ naming the wrapper.  A system call's wrapper is
 * named by its SYSCALL_DEFINE, as its tracepoints are (stat's is
 * __x64_sys_newstat).  kprobe/ and kretprobe/ also attach to the kernel
 * functions a system call enters directly (kfuncs.c); other kernel
 * functions have no event here yet.
 */
static int parse_kprobe(const char *sec, const char *target, struct ev_attach *a, char *why,
			size_t size)
{
	static const struct { const char *prefix; bool ret, wrapper; } kinds[] = {
		{ "ksyscall/", false, false }, { "kretsyscall/", true, false },
		{ "kprobe/", false, true }, { "kretprobe/", true, true },
	};
	const struct ev_syscall *sc;
	size_t i = 0;

	if (*sec == '?')
		sec++;
	while (i < sizeof(kinds) / sizeof(kinds[0]) &&
	       strncmp(sec, kinds[i].prefix, strlen(kinds[i].prefix)))
		i++;
	if (i == sizeof(kinds) / sizeof(kinds[0]) && (!strncmp(sec, "uprobe", 6) ||
						       !strncmp(sec, "uretprobe", 9) ||
						       !strncmp(sec, "usdt", 4))) {
		a->point = EV_USER_PROBE;   /* the target is usym_parse's */
		return 0;
	}
	if (i == sizeof(kinds) / sizeof(kinds[0]))
		return unsupported(why, size, "section '%s': multi-kprobes are "
				   "not attached by bpfvm yet", sec);
	if (!target || !*target)
		return unsupported(why, size, "%sa kprobe section without a function (libbpf "
				   "cannot auto-attach it either)", "");
	if (kinds[i].wrapper && (a->kfunc = ev_kfunc_by_name(target))) {
		if (kinds[i].ret && a->kfunc == EV_KF_EXIT)
			return unsupported(why, size, "kretprobe on '%s': it never returns, so the "
					   "kernel never runs the program either", target);
		a->point = kinds[i].ret ? EV_KRETFUNC : EV_KFUNC;
		return 0;
	}
	if (kinds[i].wrapper && strncmp(target, "__x64_sys_", 10))
		return unsupported(why, size, "kprobes on kernel functions other than the system "
				   "call wrappers (__x64_sys_NAME) and do_unlinkat, do_sys_openat2, "
				   "do_execveat_common, do_exit are not attached by bpfvm yet: "
				   "'%s'", target);
	sc = ev_syscall_by_event(target + (kinds[i].wrapper ? 10 : 0));
	if (!sc)
		return unsupported(why, size, "'%s': no such x86-64 system call", target);
	a->point = kinds[i].ret ? EV_KRETSYSCALL : EV_KSYSCALL;
	a->nr = sc->nr;
	a->sc = sc;
	return 0;
}

int ev_attach_parse(uint32_t prog_type, const char *sec_name, const char *target,
		    struct ev_attach *a, char *why, size_t size)
{
	memset(a, 0, sizeof(*a));
	a->nr = -1;
	switch (prog_type) {
	case BPF_PROG_TYPE_TRACEPOINT:
		if (!target || !*target)
			return unsupported(why, size, "%sa tracepoint section without a target "
					   "(libbpf cannot auto-attach it either)", "");
		return parse_tracepoint(target, a, why, size);
	case BPF_PROG_TYPE_RAW_TRACEPOINT:
		if (target && !strcmp(target, "sys_enter")) {
			a->point = EV_RAWTP_SYS_ENTER;
			return 0;
		}
		if (target && !strcmp(target, "sys_exit")) {
			a->point = EV_RAWTP_SYS_EXIT;
			return 0;
		}
		return unsupported(why, size, "raw tracepoint '%s': bpfvm serves sys_enter and "
				   "sys_exit only", target ? target : "");
	case BPF_PROG_TYPE_KPROBE:
		return parse_kprobe(sec_name ? sec_name : "", target, a, why, size);
	default:
		return unsupported(why, size, "program type %s has no event source in bpfvm",
				   bpfvm_prog_type_name(prog_type));
	}
}
