/*
 * argsnap.h - the paths a system call gets are the paths its programs
 * checked (argsnap.c): at the entry stop of a call some program runs at,
 * each path argument is copied, the programs' reads of it are served
 * from the copy, and the call is given a read-only copy in a page of the
 * process's own, so that another thread rewriting the string after the
 * check changes nothing; at the call's exit the registers are put back.
 */
#ifndef BPFVM_EVENTS_ARGSNAP_H
#define BPFVM_EVENTS_ARGSNAP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/user.h>

#include "events.h"

struct ev_argsnap;
struct bpfvm_log;

/* Reads of a traced thread's memory (ptrace.c's): nofault as probe_read_user, or as copy_from_user. */
struct ev_argsnap_mem {
	int (*read)(struct ev_source *src, int32_t tid, void *dst, uint64_t addr, uint64_t size);
	int (*copy)(struct ev_source *src, int32_t tid, void *dst, uint64_t addr, uint64_t size);
	struct ev_source *src;
};

/* Bit i: argument i of system call nr is a path the kernel copies in (from the syscall table). */
unsigned ev_path_args(long nr);

/* NULL with errno 0 when no call a program runs at the entry of has a path argument; ENOMEM. */
struct ev_argsnap *ev_argsnap_new(const struct ev_interest *want, const struct ev_argsnap_mem *mem,
				  struct bpfvm_log *log);
void ev_argsnap_free(struct ev_argsnap *a);

enum ev_argsnap_enter {
	EV_ARGSNAP_NONE,     /* nothing to do: no path argument, or none can be protected */
	EV_ARGSNAP_TAKEN,    /* copied and swapped: the exit must stop, to put the registers back */
	EV_ARGSNAP_MAPPING,  /* the call became an mmap of slots: resume to its exit, then it reruns */
};

/*
 * Thread tid of tgid, stopped at the entry of the call in r (as the
 * programs will see it): copy its path arguments, and swap in slots.
 */
enum ev_argsnap_enter ev_argsnap_enter(struct ev_argsnap *a, int32_t tid, int32_t tgid,
				       const struct user_regs_struct *r);

enum ev_argsnap_exit {
	EV_ARGSNAP_NOTHING,
	EV_ARGSNAP_RESTORED,  /* a swapped call's registers are the user's again */
	EV_ARGSNAP_RERUN,     /* the mmap is done, the call goes back to its entry: resume */
};

/* Thread tid stopped at a system call's exit. */
enum ev_argsnap_exit ev_argsnap_exit(struct ev_argsnap *a, int32_t tid);

/*
 * Is the entry stop in r the rerun of a call whose entry was seen
 * already (before its mmap)?  Asked once per stop.
 */
bool ev_argsnap_rerun(struct ev_argsnap *a, int32_t tid, const struct user_regs_struct *r);

/*
 * Read [addr, addr + size) of thread tid as the programs see it: the
 * copies where they cover it (nofault: -EFAULT where the copy came from
 * pages absent at the stop), the rest through mem.
 */
int ev_argsnap_read(struct ev_argsnap *a, int32_t tid, void *dst, uint64_t addr, uint64_t size,
		    bool nofault);

/* Thread tid is gone or exec'd (exec: the whole process tgid has a new memory). */
void ev_argsnap_gone(struct ev_argsnap *a, int32_t tid);
void ev_argsnap_exec(struct ev_argsnap *a, int32_t tgid);
/* Stopped thread tid is about to be detached: its registers as the user had them. */
void ev_argsnap_undo(struct ev_argsnap *a, int32_t tid);

#endif
