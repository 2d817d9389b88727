/*
 * uprobe.h - the agent's uprobes (uprobe.c): placed in the process at
 * start-up, a SIGTRAP handler for the sites that take an int3, and the
 * detach when bpfvm trace goes.
 */
#ifndef BPFVM_AGENT_UPROBE_H
#define BPFVM_AGENT_UPROBE_H

#include <bpfvm/syscall_sites.h>
#include <bpfvm/trace.h>

/* The log the agent's trace writes to (its uprobes' refusals). */
struct bpfvm_log *agent_uprobe_log(void);
/* The trace's on_log: what its log says, on stderr. */
void agent_uprobe_said(void *ctx);
/*
 * Place t's uprobes in this process (none attached: nothing): 0, or -1 with
 * why on stderr.  The SIGTRAP handler also serves the system call sites
 * being patched (may be NULL).
 */
int agent_uprobes_start(struct bpfvm_trace *t, struct bpfvm_syscall_sites *sites);

#endif
