/*
 * trace_agent.c - `bpfvm trace --mode agent|auto`: choosing the in-process
 * agent, and starting the command with it (libbpfvm-agent.so preloaded,
 * what to load and the shared maps passed in the environment: see
 * agent/agent.c).  The maps live in the instance's shared arena
 * (bpfvm_opts.shared_maps_size), so the agent's programs update the maps
 * this process reads and fill the ring buffers it drains.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
	char path[PATH_MAX];

	if (preload_find_command(cmd, path, sizeof(path)))
		return "it cannot be found";
	return preload_blocked(path);
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

int trace_agent_env(struct bpfvm *vm, const char *const *objects, int nobjects,
		    const char *const *progs, int nprogs, bool jit)
{
	static char objs[16384], names[8192];
	char agent[PATH_MAX], spec[128], preload[PATH_MAX + 4096];
	const char *old = getenv("LD_PRELOAD");
	uint64_t addr;
	int fd, ifd;

	if (preload_find_library("libbpfvm-agent.so", agent, sizeof(agent))) {
		fprintf(stderr, "bpfvm trace: libbpfvm-agent.so is neither beside bpfvm nor in ../lib\n");
		return -ENOENT;
	}
	/* high: the command's descriptors keep the numbers they would have untraced */
	if (bpfvm__shared_maps(vm, &fd, &addr) || (ifd = fcntl(fd, F_DUPFD, 900)) < 0)
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
	/* the stub's page: 64 KiB below the arena, free wherever the arena is */
	snprintf(spec, sizeof(spec), "%d %llx %llx %d", ifd, (unsigned long long)addr,
		 (unsigned long long)(addr - 0x10000), jit ? 1 : 0);
	preload[0] = '\0';
	dl_iterate_phdr(add_runtime, preload);
	/*
	 * With them, the command's own leaks are not bpfvm's to check, and LeakSanitizer's
	 * stop-the-world at exit was seen never to finish in a program the command execs (the
	 * agent's filter inherited): no leak check in the command.
	 */
	if (preload[0] && setenv("ASAN_OPTIONS", "detect_leaks=0", 1))
		return -errno;
	snprintf(preload + strlen(preload), sizeof(preload) - strlen(preload), "%s%s%s", agent,
		 old && *old ? ":" : "", old ? old : "");
	if (setenv("BPFVM_AGENT", spec, 1) || setenv("BPFVM_AGENT_OBJECTS", objs, 1) ||
	    setenv("BPFVM_AGENT_PROGS", names, 1) || setenv("LD_PRELOAD", preload, 1))
		return -errno;
	unsetenv("BPFVM_AGENT_FILTERED");
	return 0;
}
