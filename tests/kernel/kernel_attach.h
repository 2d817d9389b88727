/*
 * kernel_attach.h - an object opened, loaded into the kernel by libbpf and
 * each of its programs attached by its SEC() name, for the tests that run
 * a workload under the kernel's probes and then under bpfvm's.
 */
#ifndef BPFVM_TESTS_KERNEL_ATTACH_H
#define BPFVM_TESTS_KERNEL_ATTACH_H

#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#define KERNEL_MAX_LINKS 16

struct kernel_links {
	struct bpf_object *obj;
	struct bpf_link *link[KERNEL_MAX_LINKS];
	int n;
};

static inline void kernel_detach_all(struct kernel_links *k)
{
	while (k->n)
		bpf_link__destroy(k->link[--k->n]);
	bpf_object__close(k->obj);
	k->obj = NULL;
}

/* 0 with every program attached; 1 with why where the kernel refuses (nothing left open). */
static inline int kernel_attach_all(const char *path, struct kernel_links *k, char *why,
				    size_t size)
{
	struct bpf_program *prog;

	memset(k, 0, sizeof(*k));
	k->obj = bpf_object__open_file(path, NULL);
	if (!k->obj || bpf_object__load(k->obj)) {
		snprintf(why, size, "the kernel refuses to load the object: %s", strerror(errno));
		kernel_detach_all(k);
		return 1;
	}
	bpf_object__for_each_program(prog, k->obj) {
		struct bpf_link *l = k->n < KERNEL_MAX_LINKS ? bpf_program__attach(prog) : NULL;

		if (!l) {
			snprintf(why, size, "the kernel refuses to attach %s: %s",
				 bpf_program__section_name(prog), strerror(errno));
			kernel_detach_all(k);
			return 1;
		}
		k->link[k->n++] = l;
	}
	return 0;
}

#endif
