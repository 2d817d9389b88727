/*
 * records.c - the context a program attached to a tracepoint or a kprobe
 * gets for a real event (ev_record of records.h), laid out as the kernel lays
 * it out:
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
 *   kprobe/FUNC               struct pt_regs at the entry of a kernel function a
 *                             system call enters: its arguments in di, si, dx,
 *                             cx, r8, r9 (the kernel's calling convention)
 *   kretprobe/FUNC            ax: what it returned (the call's result)
 *   uprobe/, uretprobe/, usdt/ struct pt_regs: the thread's registers (events/ubp.c)
 *
 * common_type is the event's id where tracefs can be read, else 0;
 * common_flags and common_preempt_count are 0, common_pid the thread.
 */
#include <string.h>

#include "../util/hot.h"
#include "records.h"

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

size_t ev_record_fields(const struct ev_attach *a)
{
	int nargs = a->sc ? a->sc->nargs : 6;

	switch (a->point) {
	case EV_SYS_ENTER_TP:  return nargs > 0 ? 16 + 8 * (size_t)nargs : 12;   /* __syscall_nr: s32 at 8 */
	case EV_SYS_EXIT_TP:   return 24;
	case EV_RAW_SYS_ENTER: return 64;
	case EV_RAW_SYS_EXIT:  return 24;
	case EV_RAWTP_SYS_ENTER:
	case EV_RAWTP_SYS_EXIT: return 16;
	case EV_SCHED_FORK:    return 24;
	case EV_SCHED_EXEC:    return 20;
	case EV_SCHED_EXIT:    return 33;   /* group_dead: a bool at 32 */
	case EV_SIG_GENERATE:  return 48;
	case EV_SIG_DELIVER:   return 40;
	default:               return 0;
	}
}

size_t ev_record_clear(const struct ev_attach *a, size_t readable, size_t room)
{
	size_t clear = ev_record_fields(a) ? ev_record_fields(a) : EV_PT_REGS_SIZE;

	clear = readable > clear ? readable : clear;
	return clear < room ? clear : room;
}

HOT size_t ev_record(const struct ev_attach *a, const struct ev_record_in *in, uint8_t *rec,
		     size_t room, size_t clear)
{
	size_t end;
	int nargs = a->sc ? a->sc->nargs : 6;

	memset(rec, 0, clear);
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
	case EV_KRETFUNC:
		put64(rec, 10 * 8, (uint64_t)in->ret);               /* ax */
		return EV_PT_REGS_SIZE;
	case EV_KFUNC: {
		static const uint8_t slot[6] = { 14, 13, 12, 11, 9, 8 };   /* di si dx cx r8 r9 */

		for (int i = 0; i < 6; i++)
			put64(rec, slot[i] * 8u, in->kargs[i]);
		return EV_PT_REGS_SIZE;
	}
	case EV_USER_PROBE:   /* user_regs_struct begins with pt_regs' 21 registers, in its order */
		memcpy(rec, in->regs, EV_PT_REGS_SIZE);
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
