/*
 * kernel_xdp.c - load the benchmark's XDP objects into the kernel and run
 * them there; see kernel_xdp.h.
 */
#include "kernel_xdp.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The kernel's log levels (kernel/bpf: BPF_LOG_LEVEL1, BPF_LOG_STATS); not in the uapi header. */
enum { LOG_LEVEL1 = 1, LOG_STATS = 4 };

/* Big enough for a full (level 1) log up to the error of the programs here. */
#define LOG_SIZE (64u << 20)

/* libbpf's own messages would interleave with the tables: the log is read here. */
static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

/* r0 = 2 (XDP_PASS); exit: the smallest XDP program. */
static int load_pass(void)
{
	struct bpf_insn prog[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 2 },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	libbpf_set_print(quiet);
	return bpf_prog_load(BPF_PROG_TYPE_XDP, "pass", "GPL", prog, 2, NULL);
}

int kernel_xdp_available(char *why, size_t size)
{
	int fd = load_pass(), err;

	if (fd >= 0) {
		close(fd);
		return 0;
	}
	err = errno;
	snprintf(why, size, "bpf(BPF_PROG_LOAD): %s%s", strerror(err),
		 err == EPERM ? " (EPERM: not root, no CAP_BPF?)"
		 : err == ENOSYS ? " (ENOSYS: no bpf() in this kernel)" : "");
	return -err;
}

void kernel_xdp_load_pass(struct kernel_xdp *k)
{
	memset(k, 0, sizeof(*k));
	k->fd = load_pass();
	if (k->fd < 0) {
		k->err = -errno;
		snprintf(k->reason, sizeof(k->reason), "%s", strerror(errno));
	}
}

/* The figure after key in log ("processed 123 insns"), 0 if absent. */
static uint64_t log_figure(const char *log, const char *key)
{
	const char *p = strstr(log, key);

	return p ? strtoull(p + strlen(key), NULL, 10) : 0;
}

/* The last non-empty line of log that is not a statistics line: the verifier's reason. */
static void log_reason(const char *log, char *out, size_t size)
{
	const char *end = log + strlen(log), *best_start = NULL, *best_end = NULL;

	while (end > log) {
		const char *line_end = end, *start;

		while (line_end > log && line_end[-1] == '\n')
			line_end--;
		start = line_end;
		while (start > log && start[-1] != '\n')
			start--;
		if (line_end > start && strncmp(start, "processed ", 10) &&
		    strncmp(start, "verification time", 17) && strncmp(start, "stack depth", 11)) {
			best_start = start;
			best_end = line_end;
			break;
		}
		end = start;
	}
	if (!best_start)
		snprintf(out, size, "(no verifier log)");
	else
		snprintf(out, size, "%.*s", (int)(best_end - best_start), best_start);
}

/* One open and load at log level; 0 or -errno, log filled. */
static int load_once(const char *path, uint32_t level, char *log, struct kernel_xdp *k)
{
	struct bpf_program *prog;
	int err;

	log[0] = '\0';
	k->obj = bpf_object__open_file(path, NULL);
	if (!k->obj) {
		err = -errno;
		snprintf(log, 256, "cannot open: %s", strerror(errno));
		return err;
	}
	prog = bpf_object__next_program(k->obj, NULL);
	if (!prog) {
		snprintf(log, 256, "no program in the object");
		bpf_object__close(k->obj);
		k->obj = NULL;
		return -ENOENT;
	}
	bpf_program__set_type(prog, BPF_PROG_TYPE_XDP);
	bpf_program__set_log_buf(prog, log, LOG_SIZE);
	bpf_program__set_log_level(prog, level);
	err = bpf_object__load(k->obj);
	if (err) {
		bpf_object__close(k->obj);
		k->obj = NULL;
		return err;
	}
	k->fd = bpf_program__fd(prog);
	return 0;
}

void kernel_xdp_load(const char *path, struct kernel_xdp *k)
{
	char *log = malloc(LOG_SIZE);

	memset(k, 0, sizeof(*k));
	k->fd = -1;
	if (!log) {
		k->err = -ENOMEM;
		snprintf(k->reason, sizeof(k->reason), "no memory for the verifier's log");
		return;
	}
	libbpf_set_print(quiet);
	/* Statistics only (LOG_STATS): a full log of a loop is large and costs time. */
	k->err = load_once(path, LOG_STATS, log, k);
	k->insns = log_figure(log, "processed ");
	k->verify_us = log_figure(log, "verification time ");
	if (k->err) {
		/* Again with the full log (level 1) for the reason. */
		int err2 = load_once(path, LOG_LEVEL1 | LOG_STATS, log, k);

		if (!err2) { /* loaded the second time: should not happen, keep it */
			k->err = 0;
		} else {
			log_reason(log, k->reason, sizeof(k->reason));
			if (!k->insns)
				k->insns = log_figure(log, "processed ");
		}
	}
	free(log);
}

void kernel_xdp_unload(struct kernel_xdp *k)
{
	if (k->obj)
		bpf_object__close(k->obj); /* closes the program's fd */
	else if (k->fd >= 0)
		close(k->fd);
	k->obj = NULL;
	k->fd = -1;
}

int kernel_xdp_test_run(const struct kernel_xdp *k, const void *data, uint32_t size,
			uint32_t repeat, uint32_t *retval, uint32_t *ns)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = data, .data_size_in = size, .repeat = repeat);
	int err;

	err = bpf_prog_test_run_opts(k->fd, &o);
	if (err)
		return -errno;
	*retval = o.retval;
	*ns = o.duration;
	return 0;
}
