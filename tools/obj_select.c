/*
 * obj_select.c - what `run`, `verify` and `prog` share about which
 * programs of an object they load: --type for the programs whose section
 * name tells no type, and the line per program a partial load left out.
 */
#include <stdio.h>
#include <string.h>

#include <bpfvm/object.h>

#include "cli.h"

uint32_t cli_prog_type_by_name(const char *name)
{
	for (uint32_t t = 0; t < 64; t++)
		if (!strcmp(bpfvm_prog_type_name(t), name))
			return t;
	return UINT32_MAX;
}

int cli_parse_type(const char *cmd, const char *name, uint32_t *type)
{
	*type = 0;
	if (!name)
		return 0;
	*type = cli_prog_type_by_name(name);
	if (*type == UINT32_MAX || !*type) {
		fprintf(stderr, "bpfvm %s: unknown program type '%s' (bpftool's names: xdp, "
				"sched_cls, sched_act, socket_filter, kprobe, tracepoint, ...)\n", cmd, name);
		return -1;
	}
	return 0;
}

void cli_default_type(struct bpfvm_object *obj, uint32_t type)
{
	struct bpfvm_obj_prog *p;

	if (!type)
		return;
	bpfvm_object__for_each_program(p, obj)
		if (!bpfvm_obj_prog__type(p))
			bpfvm_obj_prog__set_type(p, type);
}

int cli_print_left_out(const struct bpfvm_object *obj, const char *what,
		       const struct bpfvm_obj_prog *except, bool only_failed)
{
	struct bpfvm_obj_prog *p;
	int n = 0;

	bpfvm_object__for_each_program(p, obj) {
		const char *why = bpfvm_obj_prog__left_out(p);

		if (p == except || (!why && bpfvm_obj_prog__autoload(p)))
			continue;
		if (!why && (only_failed || bpfvm_obj_prog__section_name(p)[0] != '?'))
			continue;
		fprintf(stderr, "bpfvm: %s: left out %s (%s): %s\n", what, bpfvm_obj_prog__name(p),
			bpfvm_obj_prog__section_name(p), why ? why
			: "not loaded unless asked for (its section name starts with '?'): "
			  "name it with --prog");
		n++;
	}
	return n;
}
