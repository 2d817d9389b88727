/*
 * kernel_libbpf.h - one program of an object, loaded into the kernel by
 * libbpf alone (the others' autoload off, as a tool picks the programs it
 * attaches), so that a program the host kernel cannot load hides none of
 * the others; and the classification of its refusal (kernel_host.h).
 * For the tests and tools that load objects with libbpf.
 */
#ifndef BPFVM_TESTS_KERNEL_LIBBPF_H
#define BPFVM_TESTS_KERNEL_LIBBPF_H

#include <bpf/libbpf.h>

#include "kernel_host.h"

/*
 * BPFVM_TEST_KERNEL_DENY for a libbpf load of obj's programs that
 * autoload (their own instructions: the .text functions libbpf appends at
 * load are not looked at): -EINVAL with the kernel's words in log where it
 * denies one (a denied map type refuses the object, for libbpf creates
 * every map), or 0.
 */
static inline int kernel_libbpf_deny(struct bpf_object *obj, char *log, size_t size)
{
	struct bpf_program *p;
	struct bpf_map *m;
	int err;

	bpf_object__for_each_map(m, obj) {
		if (kernel_denied("map", bpf_map__type(m))) {
			snprintf(log, size, "map '%s': failed to create: %s\n", bpf_map__name(m),
				 strerror(EINVAL));
			return -EINVAL;
		}
	}
	bpf_object__for_each_program(p, obj) {
		if (!bpf_program__autoload(p))
			continue;
		err = kernel_deny_prog(bpf_program__type(p), bpf_program__insns(p),
				       bpf_program__insn_cnt(p), log, size);
		if (err)
			return err;
	}
	return 0;
}

/*
 * Load chosen alone (or, with chosen NULL, every program), chosen's
 * verifier log at log_level (0: only if it fails) into log: 0, or
 * libbpf's -errno.  BPFVM_TEST_KERNEL_DENY is honoured as kernel_prog_load
 * honours it.
 */
static inline int kernel_libbpf_load_one(struct bpf_object *obj, struct bpf_program *chosen,
					 uint32_t log_level, char *log, size_t size)
{
	struct bpf_program *p;
	int err;

	log[0] = '\0';
	if (chosen)
		bpf_object__for_each_program(p, obj)
			bpf_program__set_autoload(p, p == chosen);
	err = kernel_libbpf_deny(obj, log, size);
	if (err)
		return err;
	if (chosen) {
		bpf_program__set_log_buf(chosen, log, size);
		bpf_program__set_log_level(chosen, log_level);
	}
	return bpf_object__load(obj);
}

/*
 * After kernel_libbpf_load_one refused prog with err and log: whether the
 * host kernel cannot load it (a map type of the object, its program
 * type, a helper it calls), why saying what it lacks.
 */
static inline bool kernel_libbpf_cannot(struct bpf_object *obj, struct bpf_program *prog, int err,
					const char *log, char *why, size_t size)
{
	struct bpf_map *m;

	bpf_object__for_each_map(m, obj)
		if (kernel_cannot_create_map(bpf_map__type(m), why, size))
			return true;
	return kernel_cannot_load(bpf_program__type(prog), bpf_program__expected_attach_type(prog),
				  bpf_program__flags(prog), err, log, why, size);
}

#endif
