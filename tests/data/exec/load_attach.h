/*
 * load_attach.h - what the small libbpf tools of tests/data/exec do first:
 * load OBJECT and attach every program, as libbpf's auto-attach would.
 * NULL, with the reason on stderr after "WHO: ", when either fails.
 */
#ifndef EXEC_LOAD_ATTACH_H
#define EXEC_LOAD_ATTACH_H

#include <bpf/libbpf.h>
#include <stdio.h>

static struct bpf_object *load_attach(const char *who, const char *path)
{
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	struct bpf_program *prog;

	if (!obj || bpf_object__load(obj)) {
		fprintf(stderr, "%s: cannot load %s\n", who, path);
		return NULL;
	}
	bpf_object__for_each_program(prog, obj)
		if (!bpf_program__attach(prog)) {
			fprintf(stderr, "%s: cannot attach %s\n", who, bpf_program__name(prog));
			return NULL;
		}
	return obj;
}

#endif
