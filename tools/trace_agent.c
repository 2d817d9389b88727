/*
 * trace_agent.c - `bpfvm trace --mode agent|auto`: choosing the in-process
 * agent, and starting the command with it (libbpfvm-agent.so preloaded,
 * what to load and the shared maps passed in the environment: see
 * agent/agent.c).  The maps live in the instance's shared arena
 * (bpfvm_opts.shared_maps_size), so the agent's programs update the maps
 * this process reads and fill the ring buffers it drains.  The agents'
 * channel brings their bpf_printk lines, the processes they enter, and
 * their requests to hand a process over to the supervisor before it
 * execs a program the agent cannot enter (answered once it is seized).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpfvm/exec_target.h>
#include <bpfvm/maps.h>
#include <bpfvm/object.h>
#include <bpfvm/trace.h>

#include "preload_target.h"
#include "trace_agent.h"

/* Sections the agent serves: system-call tracepoints, raw or not... */
static bool syscall_section(const char *sec)
{
	static const char *const prefixes[] = {
		"tracepoint/syscalls/sys_", "tp/syscalls/sys_", "tracepoint/raw_syscalls/sys_",
		"tp/raw_syscalls/sys_", "raw_tracepoint/sys_enter", "raw_tracepoint/sys_exit",
		"raw_tp/sys_enter", "raw_tp/sys_exit",
	};

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(sec, prefixes[i], strlen(prefixes[i])))
			return true;
	return false;
}

/* ...and uprobes, uretprobes, USDT probes (placed in the process: agent/uprobe.c). */
static bool uprobe_section(const char *sec)
{
	return !strncmp(sec, "uprobe", 6) || !strncmp(sec, "uretprobe", 9) || !strncmp(sec, "usdt/", 5);
}

const char *trace_agent_cannot_serve(struct bpfvm_object *const *objs, int nobjs,
				     bool (*wanted)(const void *ctx, const char *name),
				     const void *ctx)
{
	static char why[256];

	for (int i = 0; i < nobjs; i++) {
		struct bpfvm_obj_prog *p;
		struct bpfvm_map *m;

		/* What a map holds of one process: output callbacks, programs for tail calls. */
		bpfvm_object__for_each_map(m, objs[i]) {
			uint32_t type = bpfvm_map__type(m);

			if (type != 3 /* PROG_ARRAY */ && type != 4 /* PERF_EVENT_ARRAY */)
				continue;
			snprintf(why, sizeof(why), "map %s is a %s, which holds %s of this process only",
				 bpfvm_map__name(m), type == 3 ? "program array" : "perf event array",
				 type == 3 ? "programs" : "its output callback");
			return why;
		}

		bpfvm_object__for_each_program(p, objs[i]) {
			const char *sec = bpfvm_obj_prog__section_name(p);

			if (!bpfvm_obj_prog__prog(p) || !wanted(ctx, bpfvm_obj_prog__name(p)) ||
			    syscall_section(sec) || uprobe_section(sec))
				continue;
			snprintf(why, sizeof(why), "program %s (SEC(\"%s\")) is neither on a system-call "
				 "tracepoint nor a uprobe", bpfvm_obj_prog__name(p), sec);
			return why;
		}
	}
	return NULL;
}

const char *trace_agent_cannot_exec(const struct bpfvm_trace *t)
{
	static const long ldso[] = TRACE_AGENT_LDSO_CALLS;
	static char why[160];

	for (size_t i = 0; i < sizeof(ldso) / sizeof(ldso[0]); i++)
		if (bpfvm_trace__wants_syscall(t, ldso[i])) {
			snprintf(why, sizeof(why), "system call %ld is attached, which the dynamic linker "
				 "makes: a program the command execs could not load the agent", ldso[i]);
			return why;
		}
	return NULL;
}

const char *trace_agent_cannot_enter(const char *cmd)
{
	static char why[512];
	char path[PATH_MAX];

	if (preload_find_command(cmd, path, sizeof(path)))
		return "it cannot be found";
	return bpfvm_exec_target__problem(AT_FDCWD, path, NULL, why, sizeof(why));
}

/*
 * The sanitizer runtimes this process runs with (a build with ASan/UBSan):
 * the agent, built the same way, needs them loaded before it, first in
 * LD_PRELOAD.  Appended to buf as "PATH:".
 */
static int add_runtime(struct dl_phdr_info *info, size_t size, void *buf)
{
	const char *name = info->dlpi_name;
	size_t len = strlen(buf);

	(void)size;
	if (name && (strstr(name, "/libasan.so") || strstr(name, "/libubsan.so")))
		snprintf((char *)buf + len, PATH_MAX + 4096 - len, "%s:", name);
	return 0;
}

/* Append "name\n" to buf; false when it does not fit. */
static bool add_line(char *buf, size_t size, const char *name)
{
	size_t len = strlen(buf);

	return snprintf(buf + len, size - len, "%s%s", len ? "\n" : "", name) < (int)(size - len);
}

uint64_t trace_agent_stub(struct bpfvm *vm)
{
	uint64_t addr;
	int fd;

	/* 64 KiB below the arena, free wherever the arena is */
	return bpfvm__shared_maps(vm, &fd, &addr) ? 0 : addr - 0x10000;
}

int trace_agent_env(struct bpfvm *vm, const char *const *objects, int nobjects,
		    const char *const *progs, int nprogs, bool jit, int chan)
{
	static char objs[16384], names[8192];
	char agent[PATH_MAX], spec[128], preload[PATH_MAX + 4096], tracer[16];
	const char *old = getenv("LD_PRELOAD");
	uint64_t addr;
	int fd, ifd, cfd = -1;

	if (preload_find_library("libbpfvm-agent.so", agent, sizeof(agent))) {
		fprintf(stderr, "bpfvm trace: libbpfvm-agent.so is neither beside bpfvm nor in ../lib\n");
		return -ENOENT;
	}
	/* high: the command's descriptors keep the numbers they would have untraced */
	if (bpfvm__shared_maps(vm, &fd, &addr) || (ifd = fcntl(fd, F_DUPFD, 900)) < 0 ||
	    (chan >= 0 && (cfd = fcntl(chan, F_DUPFD, 900)) < 0))
		return -EINVAL;
	objs[0] = names[0] = '\0';
	for (int i = 0; i < nobjects; i++) {
		char abs[PATH_MAX];

		if (!realpath(objects[i], abs) || !add_line(objs, sizeof(objs), abs))
			return -ENAMETOOLONG;
	}
	for (int i = 0; i < nprogs; i++)
		if (!add_line(names, sizeof(names), progs[i]))
			return -ENAMETOOLONG;
	snprintf(spec, sizeof(spec), "%d %llx %llx %d %d", ifd, (unsigned long long)addr,
		 (unsigned long long)trace_agent_stub(vm), jit ? 1 : 0, cfd);
	preload[0] = '\0';
	dl_iterate_phdr(add_runtime, preload);
	/*
	 * With them, the command's own leaks are not bpfvm's to check, and LeakSanitizer's
	 * stop-the-world at exit was seen never to finish in a program the command execs (the
	 * agent's filter inherited): no leak check in the command.
	 */
	if (preload[0] && setenv("ASAN_OPTIONS", "detect_leaks=0", 1))
		return -errno;
	snprintf(preload + strlen(preload), sizeof(preload) - strlen(preload), "%s", agent);
	/* what of LD_PRELOAD is ours: a program handed over to the supervisor goes without it */
	if (setenv("BPFVM_AGENT_PRELOAD", preload, 1))
		return -errno;
	snprintf(preload + strlen(preload), sizeof(preload) - strlen(preload), "%s%s",
		 old && *old ? ":" : "", old ? old : "");
	snprintf(tracer, sizeof(tracer), "%d", (int)getppid());   /* bpfvm trace: see agent_init */
	if (setenv("BPFVM_AGENT", spec, 1) || setenv("BPFVM_AGENT_OBJECTS", objs, 1) ||
	    setenv("BPFVM_AGENT_TRACER", tracer, 1) ||
	    setenv("BPFVM_AGENT_PROGS", names, 1) || setenv("LD_PRELOAD", preload, 1))
		return -errno;
	unsetenv("BPFVM_AGENT_FILTERED");
	return 0;
}

/* ---- the channel: bpf_printk lines and the processes the agent entered ---- */

/* struct pidfd_info of Linux 6.15 (PIDFD_GET_INFO, with PIDFD_INFO_EXIT), for older headers */
struct agent_pidfd_info {
	uint64_t mask, cgroupid;
	uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
	int32_t exit_code;
};
#define AGENT_PIDFD_INFO_EXIT (1ull << 3)
#define AGENT_PIDFD_GET_INFO _IOWR(0xff, 11, struct agent_pidfd_info)

int trace_agent_chan_open(struct trace_agent_chan *c, int *child_end)
{
	int sv[2];

	memset(c, 0, sizeof(*c));
	c->sock = -1;
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv))
		return -errno;
	c->sock = sv[0];
	*child_end = sv[1];
	return 0;
}

/* A process the agent entered, its pidfd passed along: kept to learn its end (once a pid). */
static void add_proc(struct trace_agent_chan *c, int pid, int pidfd)
{
	for (int i = 0; i < c->n; i++)
		if (c->pid[i] == pid) {   /* again after an exec */
			close(pidfd);
			return;
		}
	if (c->n == TRACE_AGENT_MAX_PROCS) {
		close(pidfd);
		return;
	}
	c->pid[c->n] = pid;
	c->pidfd[c->n++] = pidfd;
}

/* 'h' PID \n WHY \n PATH and a pipe: the agent's process waits for '1' (taken) on it. */
static void hand_over(const char *msg, int reply, const struct trace_agent_chan_ops *ops, void *ctx)
{
	const char *why = strchr(msg, '\n'), *path = why ? strchr(why + 1, '\n') : NULL;
	char what[512];
	int pid = atoi(msg);

	if (path && pid > 0 && ops->handover) {
		snprintf(what, sizeof(what), "%.*s", (int)(path - why - 1), why + 1);
		if (!ops->handover(ctx, pid, what, path + 1) && write(reply, "1", 1) != 1)
			fprintf(stderr, "bpfvm trace: %d went away before its exec\n", pid);
	}
	close(reply);
}

void trace_agent_chan_forget(struct trace_agent_chan *c, int pid)
{
	for (int i = 0; i < c->n; i++)
		if (c->pid[i] == pid) {
			close(c->pidfd[i]);
			c->pid[i] = c->pid[--c->n];
			c->pidfd[i] = c->pidfd[c->n];
			return;
		}
}

/* The messages waiting: 'p' and a bpf_printk line, 'x' and a pid with its pidfd, 'h' (hand_over). */
static void receive(struct trace_agent_chan *c, const struct trace_agent_chan_ops *ops, void *ctx)
{
	char buf[8192];
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(sizeof(int))];
	} ctl;

	for (int i = 0; i < 100000; i++) {
		struct iovec iov = { buf, sizeof(buf) - 1 };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &ctl,
				     .msg_controllen = sizeof(ctl) };
		struct cmsghdr *cm;
		ssize_t n = recvmsg(c->sock, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		int fd = -1;

		if (n <= 0)
			return;
		for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
			if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
				memcpy(&fd, CMSG_DATA(cm), sizeof(fd));
		buf[n] = '\0';
		if (buf[0] == 'p')
			ops->printk(ctx, buf + 1, (size_t)n - 1);
		else if (buf[0] == 'x' && fd >= 0)
			add_proc(c, atoi(buf + 1), fd);
		else if (buf[0] == 'h' && fd >= 0)
			hand_over(buf + 1, fd, ops, ctx);
		else if (fd >= 0)
			close(fd);
	}
}

void trace_agent_chan_poll(struct trace_agent_chan *c, int root,
			   const struct trace_agent_chan_ops *ops, void *ctx)
{
	receive(c, ops, ctx);
	for (int i = 0; i < c->n; i++) {
		struct agent_pidfd_info info = { .mask = AGENT_PIDFD_INFO_EXIT };

		if (c->pid[i] == root || ioctl(c->pidfd[i], AGENT_PIDFD_GET_INFO, &info) ||
		    !(info.mask & AGENT_PIDFD_INFO_EXIT))
			continue;   /* running, or not reaped yet, or a kernel before 6.15 */
		ops->exited(ctx, c->pid[i], info.exit_code);
		close(c->pidfd[i]);
		c->pid[i] = c->pid[--c->n];
		c->pidfd[i] = c->pidfd[c->n];
		i--;
	}
}

void trace_agent_chan_close(struct trace_agent_chan *c)
{
	for (int i = 0; i < c->n; i++)
		close(c->pidfd[i]);
	if (c->sock >= 0)
		close(c->sock);
	c->n = 0;
	c->sock = -1;
}
