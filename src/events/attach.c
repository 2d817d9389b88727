/*
 * attach.c - the attach points bpfvm serves, by the kernel's names (what
 * libbpf's SEC() names say: "tracepoint/syscalls/sys_enter_openat",
 * "raw_tp/sys_enter"), and the context each hands its programs, laid out
 * as the kernel lays it out:
 *
 *   syscalls/sys_enter_NAME   8 common bytes, __syscall_nr (s32) at 8, the
 *                             arguments as u64 from 16 (the table generated
 *                             from Linux's SYSCALL_DEFINEs, util/syscalls_x86_64.def)
 *   syscalls/sys_exit_NAME    ..., ret (s64) at 16
 *   raw_syscalls/sys_enter    id (s64) at 8, args[6] at 16;  sys_exit: ret at 16
 *   raw_tracepoint sys_enter  u64 args[2]: struct pt_regs *, id;  sys_exit: pt_regs *, ret
 *   sched/sched_process_fork  __data_loc parent_comm, parent_pid, __data_loc
 *                             child_comm, child_pid (Linux 6.10's layout)
 *   sched/sched_process_exec  __data_loc filename, pid, old_pid
 *   sched/sched_process_exit  comm[16], pid, prio, group_dead (6.16's)
 *   signal/signal_generate    sig, errno, code, comm[16] and pid of the task
 *                             signalled, group, result (from 8; this kernel's)
 *   signal/signal_deliver     sig, errno, code, sa_handler (at 24), sa_flags
 *   ksyscall/NAME             struct pt_regs of the wrapper __x64_sys_NAME's entry:
 *   kprobe/__x64_sys_NAME     di (its one argument) points at the user's pt_regs,
 *                             as libbpf's BPF_KSYSCALL and PT_REGS_SYSCALL_REGS read
 *                             them; the other registers are the kernel's, zero here
 *   kretsyscall/NAME          struct pt_regs at the wrapper's return: ax is the
 *   kretprobe/__x64_sys_NAME  call's result
 *
 * common_type is the event's id where tracefs can be read, else 0;
 * common_flags and common_preempt_count are 0, common_pid the thread.
 */
#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attach.h"

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
 * __x64_sys_newstat).  Other kernel functions have no event here yet.
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
	if (i == sizeof(kinds) / sizeof(kinds[0]))
		return unsupported(why, size, "section '%s': uprobes, USDT and multi-kprobes are "
				   "not attached by bpfvm yet", sec);
	if (!target || !*target)
		return unsupported(why, size, "%sa kprobe section without a function (libbpf "
				   "cannot auto-attach it either)", "");
	if (kinds[i].wrapper && strncmp(target, "__x64_sys_", 10))
		return unsupported(why, size, "kprobes on kernel functions other than the system "
				   "call wrappers (__x64_sys_NAME) are not attached by bpfvm yet: "
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

static void common(uint8_t *rec, uint16_t id, int32_t tid)
{
	memset(rec, 0, 8);
	memcpy(rec, &id, 2);
	memcpy(rec + 4, &tid, 4);
}

static void put32(uint8_t *rec, size_t off, uint32_t v)
{
	memcpy(rec + off, &v, 4);
}

static void put64(uint8_t *rec, size_t off, uint64_t v)
{
	memcpy(rec + off, &v, 8);
}

/* The call's number at 8: __syscall_nr (s32) for syscalls, id (s64) for raw_syscalls. */
static void put_nr(uint8_t *rec, enum ev_point point, long nr)
{
	if (point == EV_SYS_ENTER_TP || point == EV_SYS_EXIT_TP)
		put32(rec, 8, (uint32_t)nr);
	else
		put64(rec, 8, (uint64_t)nr);
}

/* A __data_loc string at *end: offset in the low 16 bits, length (with the NUL) in the high. */
static void put_str(uint8_t *rec, size_t loc_off, size_t *end, const char *str, size_t room)
{
	size_t len = strnlen(str, room - *end - 1) + 1;

	memcpy(rec + *end, str, len - 1);
	rec[*end + len - 1] = '\0';
	put32(rec, loc_off, (uint32_t)(len << 16 | *end));
	*end += len;
}

size_t ev_record(const struct ev_attach *a, const struct ev_record_in *in, uint8_t *rec,
		 size_t room)
{
	size_t end;
	int nargs = a->sc ? a->sc->nargs : 6;

	memset(rec, 0, room);
	common(rec, a->event_id, in->tid);
	switch (a->point) {
	case EV_SYS_ENTER_TP:
	case EV_RAW_SYS_ENTER:
		put_nr(rec, a->point, in->nr);
		for (int i = 0; i < nargs; i++)
			put64(rec, 16 + 8 * (size_t)i, in->args[i]);
		return 16 + 8 * (size_t)nargs;
	case EV_SYS_EXIT_TP:
	case EV_RAW_SYS_EXIT:
		put_nr(rec, a->point, in->nr);
		put64(rec, 16, (uint64_t)in->ret);
		return 24;
	case EV_RAWTP_SYS_ENTER:
	case EV_RAWTP_SYS_EXIT:
		memset(rec, 0, 16);
		put64(rec, 0, (uint64_t)(uintptr_t)in->regs);
		put64(rec, 8, a->point == EV_RAWTP_SYS_ENTER ? (uint64_t)in->nr : (uint64_t)in->ret);
		return 16;
	case EV_SCHED_FORK:
		end = 24;
		put_str(rec, 8, &end, in->comm, room);
		put32(rec, 12, (uint32_t)in->tid);
		put_str(rec, 16, &end, in->comm, room);  /* a child starts with its parent's comm */
		put32(rec, 20, (uint32_t)in->child);
		return end;
	case EV_SCHED_EXEC:
		end = 20;
		put_str(rec, 8, &end, in->filename ? in->filename : "", room);
		put32(rec, 12, (uint32_t)in->tid);
		put32(rec, 16, (uint32_t)in->old_tid);
		return end;
	case EV_SIG_GENERATE:
		put32(rec, 8, (uint32_t)in->sig);
		put32(rec, 12, (uint32_t)in->si_errno);
		put32(rec, 16, (uint32_t)in->si_code);
		memcpy(rec + 20, in->target_comm, strnlen(in->target_comm, 15));
		put32(rec, 36, (uint32_t)in->target);
		put32(rec, 40, (uint32_t)in->group);
		put32(rec, 44, (uint32_t)in->result);
		return 48;
	case EV_SIG_DELIVER:
		put32(rec, 8, (uint32_t)in->sig);
		put32(rec, 12, (uint32_t)in->si_errno);
		put32(rec, 16, (uint32_t)in->si_code);
		put64(rec, 24, in->act_handler);
		put64(rec, 32, in->act_flags);
		return 40;
	case EV_KSYSCALL:
		put64(rec, 14 * 8, (uint64_t)(uintptr_t)in->regs);   /* di */
		return EV_PT_REGS_SIZE;
	case EV_KRETSYSCALL:
		put64(rec, 10 * 8, (uint64_t)in->ret);               /* ax */
		return EV_PT_REGS_SIZE;
	case EV_SCHED_EXIT:
		memcpy(rec + 8, in->comm, strnlen(in->comm, 15));
		put32(rec, 24, (uint32_t)in->tid);
		put32(rec, 28, (uint32_t)in->prio);
		rec[32] = in->group_dead;
		return 36;
	}
	return 8;
}
