/*
 * syscall_patch.h - the agent's fast path for attached system calls
 * (syscall_patch.c): a `syscall` instruction that trapped is rewritten to
 * jump to a trampoline that calls the agent directly, with no signal.
 */
#ifndef BPFVM_AGENT_SYSCALL_PATCH_H
#define BPFVM_AGENT_SYSCALL_PATCH_H

#include <stdbool.h>
#include <stdint.h>

typedef long (*sp_call_fn)(long nr, long a, long b, long c, long d, long e, long f);

struct sp_config {
	const uint8_t *trap;   /* trap[nr]: the filter traps nr; the trampoline hands it to run */
	long nr_max;           /* trap's size */
	sp_call_fn call;       /* a system call from the agent's allowed stub */
	/* Make trapped call nr with args as if the site had made it: its result. */
	long (*run)(long nr, long args[6]);
};

/* Ready to patch (0), or -ENOTSUP without XSAVE (the fast path saves vector state with it). */
int sp_init(const struct sp_config *c);
/*
 * The syscall instruction at site trapped (a SIGSYS, any thread, any
 * signal context): rewrite it, if it can be done safely, to reach the
 * trampoline.  true when site now goes the fast way.  Never blocks: a
 * patch under way on another thread makes it return false (the next trap
 * at site tries again).
 */
bool sp_patch(uintptr_t site);
/* Sites patched so far. */
unsigned sp_patched(void);

#endif
