/*
 * handover.bpf.c - test_trace_agent.sh's object for the agent's hand-over
 * to the supervisor (a process execs a static program): agent.bpf.c's
 * programs, and records at the entry (ret 1) and exit of execve, whose
 * comm is the old program's at the entry and the new one's at the exit.
 */
#include "agent.bpf.c"

struct sys_enter_args {
	__u64 common;
	int nr;
};

SEC("tracepoint/syscalls/sys_enter_execve")
int enter_execve(struct sys_enter_args *args)
{
	struct sys_exit_args entry = { .nr = args->nr, .ret = 1 };

	return record(&entry);
}

SEC("tracepoint/syscalls/sys_exit_execve")
int exit_execve(struct sys_exit_args *args)
{
	return record(args);
}
