/*
 * trace_agent.h - `bpfvm trace --mode agent|auto` (trace_agent.c).
 */
#ifndef BPFVM_TOOLS_TRACE_AGENT_H
#define BPFVM_TOOLS_TRACE_AGENT_H

#include <stdbool.h>

#include <bpfvm/bpfvm.h>

struct bpfvm_object;

/* The arena for the shared maps of an instance the agent may use. */
#define TRACE_AGENT_ARENA (256ull << 20)

/*
 * The system calls the dynamic linker makes before a preloaded library's
 * constructors run (x86-64): with one of them attached, a program the
 * command execs would meet the agent's filter before its agent is loaded.
 */
#define TRACE_AGENT_LDSO_CALLS { 0, 2, 3, 4, 5, 9, 10, 11, 12, 17, 21, 158, 218, 257, 262, 273, \
				 302, 318, 334 }

/* Why the agent cannot run the wanted programs of objs or use their maps, or NULL. */
const char *trace_agent_cannot_serve(struct bpfvm_object *const *objs, int nobjs,
				     bool (*wanted)(const void *ctx, const char *name),
				     const void *ctx);
/* For auto: why a command under the agent could not exec (see agent.c), or NULL. */
struct bpfvm_trace;
const char *trace_agent_cannot_exec(const struct bpfvm_trace *t);
/* Why the agent cannot enter command cmd (PATH searched), or NULL when it can. */
const char *trace_agent_cannot_enter(const char *cmd);
/*
 * This process's environment for a command started under the agent: the
 * agent preloaded, vm's shared maps (an inherited descriptor), the objects
 * and --prog names.  0, or a negative errno with the reason on stderr.
 */
int trace_agent_env(struct bpfvm *vm, const char *const *objects, int nobjects,
		    const char *const *progs, int nprogs, bool jit);

#endif
