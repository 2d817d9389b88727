/*
 * trace_agent.h - `bpfvm trace --mode agent|auto` (trace_agent.c).
 */
#ifndef BPFVM_TOOLS_TRACE_AGENT_H
#define BPFVM_TOOLS_TRACE_AGENT_H

#include <stdbool.h>
#include <stdint.h>

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
		    const char *const *progs, int nprogs, bool jit, int chan);
/* The agents' stub page for vm's arena (the same address in every program), 0 for none. */
uint64_t trace_agent_stub(struct bpfvm *vm);

/*
 * What the agents send back over a datagram socket (chan, its other end
 * passed on: -1 for none): the lines their programs print with
 * bpf_printk, and each process they enter (its pidfd), whose end this
 * process then reports as the supervisor does (PIDFD_INFO_EXIT: Linux
 * 6.15; before it, none but the command's own).
 */
#define TRACE_AGENT_MAX_PROCS 1024
struct trace_agent_chan {
	int sock, n;
	int pid[TRACE_AGENT_MAX_PROCS], pidfd[TRACE_AGENT_MAX_PROCS];
};
struct trace_agent_chan_ops {
	void (*printk)(void *ctx, const char *line, size_t len);
	void (*exited)(void *ctx, int pid, int status);   /* status as waitpid gives it */
	/*
	 * Process pid is about to exec path, which the agent cannot enter
	 * (why): 0 once the supervisor has it (then the exec goes on), else
	 * the exec fails with EPERM.  May be NULL.
	 */
	int (*handover)(void *ctx, int pid, const char *why, const char *path);
};
/* 0 and the end the command's agents write to, or a negative errno. */
int trace_agent_chan_open(struct trace_agent_chan *c, int *child_end);
/* What came and who ended, but root (the command, whose end its waitpid gives). */
void trace_agent_chan_poll(struct trace_agent_chan *c, int root,
			   const struct trace_agent_chan_ops *ops, void *ctx);
void trace_agent_chan_close(struct trace_agent_chan *c);
/* pid's end is reported elsewhere (the supervisor reaped it): not through the channel. */
void trace_agent_chan_forget(struct trace_agent_chan *c, int pid);

#endif
