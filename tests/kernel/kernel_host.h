/*
 * kernel_host.h - whether the host kernel's refusal is a verdict on the
 * program or something this kernel cannot do.  Kernels differ (version,
 * configuration, distribution patches): one may lack a helper for a
 * program type, a map type or a program type that Linux 6.18, which
 * bpfvm follows, has.  Such a case is skipped, with the kernel's reason
 * and version; any other difference between the kernel and bpfvm fails.
 *
 * The rule, as `bpftool feature probe` finds features: when the kernel
 * refuses a program or a map, the feature it names (the helper in its
 * log) or the one the load needs (the program type, the map type) is
 * tried alone, in a minimal program or map.  If that is refused too, the
 * host lacks the feature; if it loads, the refusal was about the program.
 * Every kernel comparison classifies its refusals here.
 */
#ifndef BPFVM_TESTS_KERNEL_HOST_H
#define BPFVM_TESTS_KERNEL_HOST_H

#include <sys/utsname.h>

#include "kernel_bpf.h"

/* "Linux 6.18.44" (uname's release), in KERNEL_VERSION_SIZE bytes. */
#define KERNEL_VERSION_SIZE (2 * sizeof(((struct utsname *)0)->release) + 2)

static inline const char *kernel_version(char *buf, size_t size)
{
	struct utsname u;

	if (uname(&u))
		snprintf(buf, size, "an unknown kernel");
	else
		snprintf(buf, size, "%s %s", u.sysname, u.release);
	return buf;
}

/*
 * The helper a refusal log says the kernel lacks, its line copied to
 * line; -1 when the log names none.
 */
static inline int kernel_refused_helper(const char *log, char *line, size_t size)
{
	/* the verifier's words for a helper the type lacks, or the kernel does not know */
	static const char *const kernel_lacks_helper_words[] = {
		"program of this type cannot use helper ", "unknown func ", "invalid func ",
	};

	for (size_t w = 0; log && w < sizeof(kernel_lacks_helper_words) / sizeof(char *); w++) {
		const char *at = strstr(log, kernel_lacks_helper_words[w]), *hash, *start;
		size_t len;

		if (!at)
			continue;
		for (start = at; start > log && start[-1] != '\n'; start--)
			;
		len = strcspn(start, "\n");
		snprintf(line, size, "%.*s", (int)len, start);
		hash = memchr(at, '#', len - (size_t)(at - start));
		return hash ? atoi(hash + 1) : -1;
	}
	return -1;
}

/*
 * Whether a minimal program of the type calling only helper id (as
 * bpftool probes helpers) is refused for lacking it.  (A helper Linux 6.18
 * itself withholds from the type is classified so too: the tests call
 * only helpers their programs' types have.)
 */
static inline bool kernel_lacks_helper(uint32_t type, uint32_t attach, uint32_t flags, int32_t id)
{
	const struct bpf_insn probe[2] = {
		{ .code = BPF_JMP | BPF_CALL, .imm = id }, { .code = BPF_JMP | BPF_EXIT },
	};
	char log[4096], line[256];
	int fd = kernel_prog_load_as(type, attach, probe, 2, flags, 1, log, sizeof(log));

	if (fd >= 0) {
		close(fd);
		return false;
	}
	return kernel_refused_helper(log, line, sizeof(line)) == id;
}

/*
 * Whether the kernel refuses every program of the type (r0 = 1; exit: 1
 * is in every type's range of return values): -errno, or 0.  Types whose programs need a kernel BTF target to load at
 * all (tracing, struct_ops, extension, LSM) cannot be probed so: 0.
 */
static inline int kernel_lacks_prog_type(uint32_t type, uint32_t attach, uint32_t flags)
{
	const struct bpf_insn probe[2] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 1 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int fd;

	if (type == BPF_PROG_TYPE_TRACING || type == BPF_PROG_TYPE_STRUCT_OPS ||
	    type == BPF_PROG_TYPE_EXT || type == BPF_PROG_TYPE_LSM)
		return 0;
	fd = kernel_prog_load_as(type, attach, probe, 2, flags, 0, NULL, 0);
	if (fd >= 0)
		close(fd);
	return fd < 0 ? fd : 0;
}

/*
 * Whether the kernel refuses a minimal map of the type (the sizes every
 * kernel with the type takes): -errno, or 0.  Types whose maps need BTF
 * or a kernel object to exist (storages, struct_ops, arena) cannot be
 * probed so: 0.
 */
static inline int kernel_lacks_map_type(uint32_t type)
{
	uint32_t ks = 4, vs = 4, max = 1, flags = 0;
	int inner = -1, fd;

	switch (type) {
	case BPF_MAP_TYPE_LPM_TRIE:
		ks = 8, vs = 8, flags = BPF_F_NO_PREALLOC;
		break;
	case BPF_MAP_TYPE_QUEUE: case BPF_MAP_TYPE_STACK: case BPF_MAP_TYPE_BLOOM_FILTER:
		ks = 0;
		break;
	case BPF_MAP_TYPE_RINGBUF: case BPF_MAP_TYPE_USER_RINGBUF:
		ks = 0, vs = 0, max = (uint32_t)sysconf(_SC_PAGESIZE);
		break;
	case BPF_MAP_TYPE_STACK_TRACE:
		vs = 8;
		break;
	case BPF_MAP_TYPE_ARRAY_OF_MAPS: case BPF_MAP_TYPE_HASH_OF_MAPS:
		inner = kernel_map_create(BPF_MAP_TYPE_ARRAY, 4, 4, 1, 0, 0);
		if (inner < 0)
			return inner;
		break;
	case BPF_MAP_TYPE_CGROUP_STORAGE: case BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE:
	case BPF_MAP_TYPE_SK_STORAGE: case BPF_MAP_TYPE_INODE_STORAGE:
	case BPF_MAP_TYPE_TASK_STORAGE: case BPF_MAP_TYPE_STRUCT_OPS:
	case 32 /* cgrp storage */: case 33 /* arena */:
		return 0;
	default:
		if (type == BPF_MAP_TYPE_UNSPEC || type > 33)
			return 0; /* no such type in Linux 6.18: a verdict, not a lack */
	}
	fd = kernel_map_create_inner(type, ks, vs, max, flags, 0, inner);
	if (inner >= 0)
		close(inner);
	if (fd >= 0)
		close(fd);
	return fd < 0 ? fd : 0;
}

/*
 * After the kernel refused to load a program of type (attach, flags) with
 * err and log: whether the host cannot do it (then why says what it
 * lacks, in its words, and its version) rather than judged the program.
 */
static inline bool kernel_cannot_load(uint32_t type, uint32_t attach, uint32_t flags, int err,
				      const char *log, char *why, size_t size)
{
	char line[256], version[KERNEL_VERSION_SIZE];
	int helper = kernel_refused_helper(log, line, sizeof(line)), lack;

	kernel_version(version, sizeof(version));
	if (helper >= 0) {
		if (!kernel_lacks_helper(type, attach, flags, helper))
			return false;
		snprintf(why, size, "%s (%s; a program of type %u calling only %s#%d is refused too)",
			 line, version, type, kernel_helper_name(helper), helper);
		return true;
	}
	lack = kernel_lacks_prog_type(type, attach, flags);
	if (!lack)
		return false;
	snprintf(why, size, "the kernel loads no program of type %u (attach type %u): %s (%s; "
		 "this load: %s)", type, attach, strerror(-lack), version, strerror(err < 0 ? -err : err));
	return true;
}

/* After the kernel refused a map of type: whether it cannot create any map of the type. */
static inline bool kernel_cannot_create_map(uint32_t type, char *why, size_t size)
{
	char version[KERNEL_VERSION_SIZE];
	int lack = kernel_lacks_map_type(type);

	if (!lack)
		return false;
	snprintf(why, size, "the kernel creates no map of type %u: %s (%s)", type, strerror(-lack),
		 kernel_version(version, sizeof(version)));
	return true;
}

/* The line of a refusal log that says why: the last before "processed N insns", or the first. */
static inline void kernel_log_reason(const char *log, char *line, size_t size)
{
	const char *processed = strstr(log, "\nprocessed "), *start = log;
	size_t len;

	if (processed) {
		while (processed > log && processed[-1] == '\n')
			processed--;
		for (start = processed; start > log && start[-1] != '\n'; start--)
			;
		len = (size_t)(processed - start);
	} else {
		len = strcspn(log, "\n");
	}
	snprintf(line, size, "%.*s", (int)len, start);
}

/*
 * A case the host kernel cannot run: "SKIP test: what: why".  A reason
 * the test already gave is not repeated in full (a helper the kernel lacks may
 * stop hundreds of cases): the case is named on a comment line.
 */
static inline void kernel_skip(const char *test, const char *what, const char *why)
{
	static char given[16][256];
	static unsigned ngiven;
	char name[256], key[256];
	size_t i;

	/* one line each: a case's name may hold the control characters it tests */
	for (i = 0; what[i] && i < sizeof(name) - 1; i++)
		name[i] = (unsigned char)what[i] < ' ' ? '?' : what[i];
	name[i] = '\0';
	/* (the test's name and the reason's start: a reason is given once a test) */
	i = strlen(test) < 64 ? strlen(test) : 64;
	memcpy(key, test, i);
	key[i++] = '\t';
	for (size_t j = 0; why[j] && i < sizeof(key) - 1; )
		key[i++] = why[j++];
	key[i] = '\0';
	for (i = 0; i < ngiven && i < 16; i++) {
		if (!strcmp(given[i], key)) {
			printf("# %s: %s: skipped too, for the same reason\n", test, name);
			return;
		}
	}
	memcpy(given[ngiven++ % 16], key, sizeof(key));
	printf("SKIP %s: %s: the host kernel cannot: %s\n", test, name, why);
}

#endif
