/*
 * ubp.h - uprobes in the ptrace supervisor (ubp.c): int3 breakpoints at
 * the addresses usym.c resolves, the instruction under each run out of
 * line, return-address trampolines for uretprobes.  ptrace.c calls it at
 * the stops that matter (exec, mmap, fork, a SIGTRAP, resume, detach).
 */
#ifndef BPFVM_EVENTS_UBP_H
#define BPFVM_EVENTS_UBP_H

#include <stdbool.h>
#include <signal.h>
#include <stdint.h>
#include <sys/user.h>

#include "events.h"

struct ubp;
struct bpfvm_log;

struct ubp *ubp_new(const struct ev_uprobe *probes, size_t n, struct bpfvm_log *log);
void ubp_free(struct ubp *u);
/* Does some probe wait for a library or file not loaded yet (stop at mmap)? */
bool ubp_wants_mmap(const struct ubp *u);

/* Process tgid has a new image (exec, or taken by seize): place what it maps. */
void ubp_image(struct ubp *u, int32_t tgid, bool exec);
/* Thread tid of tgid mapped code (an mmap with PROT_EXEC returned): place what is new. */
void ubp_rescan(struct ubp *u, int32_t tgid);
/*
 * Process tgid unmapped [addr, addr + len) (munmap, or an mmap MAP_FIXED over
 * it): its breakpoints and semaphores there went with the pages.
 */
void ubp_unmapped(struct ubp *u, int32_t tgid, uint64_t addr, uint64_t len);
/* child was created by parent: a thread of it, or a process with its memory copied or shared (vfork). */
void ubp_fork(struct ubp *u, int32_t parent, int32_t parent_tgid, int32_t child, bool thread,
	      bool shared);
/* Thread tid is gone (gone_tgid: and its process). */
void ubp_gone(struct ubp *u, int32_t tid, bool process);

enum ubp_trap {
	UBP_NOT_OURS,   /* a SIGTRAP of the program's own: deliver it */
	UBP_EVENT,      /* a probe hit: *ev filled; resume through ubp_resume */
	UBP_DONE,       /* a step finished or a hit with nothing to run: resume normally */
};

/* Thread tid (of tgid) stopped with SIGTRAP: whose is it? */
enum ubp_trap ubp_trap(struct ubp *u, int32_t tid, int32_t tgid, struct ev_event *ev);
/*
 * Resume thread tid, stopped (*sig: the signal the resume would deliver,
 * 0 for none): true when ubp resumed it (stepping out of line, or at the
 * real return address); false: resume as usual with *sig, which may have
 * become a signal ubp held back while the thread stepped.
 */
bool ubp_resume(struct ubp *u, int32_t tid, int *sig);
/*
 * Thread tid stopped for signal sig: a fault of the instruction it steps
 * out of line undoes the step (the signal is the instruction's, in place;
 * the probe refires after it); any other signal waits for the step's end
 * (ubp_resume), as the kernel holds signals back while a uprobe steps.
 */
void ubp_signal(struct ubp *u, int32_t tid, const siginfo_t *si);
/* Before detaching stopped thread tid (after ubp_remove_all): its registers free of ubp's. */
void ubp_release_thread(struct ubp *u, int32_t tid);
/* Restore every byte ubp changed in every process (before detaching). */
void ubp_remove_all(struct ubp *u);

#endif
