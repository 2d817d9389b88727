/*
 * syscall_sites.h - in process (the agent, libbpfvm-agent.so): the
 * `syscall` instructions of the calling process that a seccomp filter
 * traps (SIGSYS), rewritten at their first trap to jump to a trampoline
 * that hands the call to the caller's function directly, with no signal:
 * a trap costs a signal's delivery and return, some microseconds, the
 * jump a few dozen nanoseconds.  glibc's wrappers (`mov $NR,%eax;
 * syscall; ret` and padding) and inline `mov $NR,%eax; syscall` qualify;
 * a site that does not keeps its trap.
 */
#ifndef BPFVM_SYSCALL_SITES_H
#define BPFVM_SYSCALL_SITES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bpfvm/bpfvm.h>

#ifdef __cplusplus
extern "C" {
#endif

struct bpfvm_syscall_sites;

struct bpfvm_syscall_sites_opts {
	size_t sz;
	/* trap[nr] != 0: the filter traps call nr (a patched site hands it to enter and exit) */
	const uint8_t *trap;
	long nr_max;              /* trap's size */
	/*
	 * A system call the filter lets through (the caller's allowed stub):
	 * every call the sites make goes through it, in a signal handler.
	 */
	long (*call)(long nr, long a, long b, long c, long d, long e, long f);
	/*
	 * The bytes `syscall; jmp *%rbx` (0f 05 ff e3) where the filter lets
	 * calls through: a patched site's trapped call is made there, so that
	 * it returns with no frame to unwind (see syscall_site.c).
	 */
	const void *gadget;
	/*
	 * Before trapped call nr with args, as if at the site: 0, the sites
	 * make the call and then call exit with its result; 1, enter made it
	 * (or refused it) and left its result in *ret, and exit is not called.
	 */
	int (*enter)(void *ctx, long nr, long args[6], long *ret);
	/* After the call: the result the site gets (ret, the call's). */
	long (*exit)(void *ctx, long nr, long args[6], long ret);
	void *ctx;
};

/* NULL with errno (EINVAL: no trap, call, gadget, enter or exit; gadget not those bytes). */
BPFVM_API struct bpfvm_syscall_sites *
bpfvm_syscall_sites__new(const struct bpfvm_syscall_sites_opts *opts);
/*
 * The syscall instruction at site trapped (a SIGSYS's, on any thread, in
 * any signal context): rewrite it, where that is safe, to reach the
 * trampoline; true when site now goes the fast way.  A patch under way on
 * another thread is waited for (at most 20 ms; then false, and the next
 * trap at site tries again); one this thread was making when the signal
 * came makes it return false at once.  Threads meeting the site while it
 * changes get a SIGTRAP: hand it to bpfvm_syscall_sites__trap.
 */
BPFVM_API bool bpfvm_syscall_sites__patch(struct bpfvm_syscall_sites *s, uint64_t site);
/*
 * A SIGTRAP (the handler's ucontext_t): true when it was a site's while
 * it was being patched (handled: the thread goes on to the trampoline);
 * false: not the sites'.
 */
BPFVM_API bool bpfvm_syscall_sites__trap(struct bpfvm_syscall_sites *s, void *ucontext);
/* Sites patched so far. */
BPFVM_API unsigned bpfvm_syscall_sites__patched(const struct bpfvm_syscall_sites *s);

#ifdef __cplusplus
}
#endif

#endif
