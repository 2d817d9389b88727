/*
 * kernel_only.c - what keeps a loaded program from running in bpfvm
 * though it verifies: the helpers only the kernel carries out (their
 * stand-ins, registered by a kernel_only load) and the maps of types
 * only the kernel provides (descriptors).  Said in one line for `bpfvm
 * verify`'s verdict and `bpfvm run`'s refusal.
 */
#include <stdio.h>
#include <string.h>

#include "../helpers/helpers.h"
#include "../isa/opcode.h"
#include "../prog/prog.h"
#include "obj.h"

struct needs {
	char *buf;
	size_t size, len;
	int count;
};

/* Append one need, unless the line already holds it. */
static void add_need(struct needs *n, const char *text)
{
	if (n->len && strstr(n->buf, text))
		return;
	n->count++;
	if (n->len < n->size)
		n->len += (size_t)snprintf(n->buf + n->len, n->size - n->len, "%s%s",
					   n->count > 1 ? "; " : "", text);
}

int bpfvm_obj_prog__kernel_only(const struct bpfvm_obj_prog *p, char *buf, size_t size)
{
	struct needs n = { buf, buf ? size : 0, 0, 0 };
	char text[256];

	if (n.size)
		buf[0] = '\0';
	if (!p || !p->prog)
		return 0;
	for (uint32_t i = 0; i < p->prog->cnt; i++) {
		const struct bpfvm_prog *prog = p->prog;
		const struct bpfvm_insn *in = &prog->insns[i];

		if (!prog_slot_needs_kernel(prog, i))
			continue;
		if (prog->ops[i] == ISA_OP_CALL_HELPER) {
			snprintf(text, sizeof(text), "calls %s (%s)", helper_info(in->imm)->name,
				 helper_kernel_need(in->imm));
		} else {
			const struct bpfvm_map *m = prog->maps[in->imm];

			snprintf(text, sizeof(text), "map '%s' is %s: kernel-only", bpfvm_map__name(m),
				 bpfvm_map_type_kernel_name(bpfvm_map__type(m)));
		}
		add_need(&n, text);
	}
	return n.count;
}
