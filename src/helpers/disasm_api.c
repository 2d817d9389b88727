/*
 * disasm_api.c - the public disassembler and helper-name lookup.  The ISA's
 * disassembler knows no helper: it asks through a callback, which here
 * answers from helpers.def, the lowest layer that knows the names.
 */
#include <errno.h>
#include <stddef.h>

#include <bpfvm/bpfvm.h>

#include "../isa/disasm.h"
#include "helpers.h"

const char *bpfvm_helper_name(int32_t id)
{
	const struct helper_info *h = helper_info(id);

	return h && h->name ? h->name : NULL;
}

static const char *kernel_helper_name(void *ctx, int32_t id)
{
	(void)ctx;
	return bpfvm_helper_name(id);
}

int bpfvm_disasm_insn(const struct bpfvm_insn *insns, size_t cnt, size_t idx,
		      enum bpfvm_syntax syntax, char *buf, size_t size)
{
	const struct disasm_cbs cbs = { .helper_name = kernel_helper_name };

	return disasm_insn(insns, cnt, idx, syntax, DISASM_STRICT, &cbs, buf, size);
}

/* Are the bytes of opts past what this version knows all zero? */
static bool opts_tail_zero(const struct bpfvm_disasm_opts *opts)
{
	const unsigned char *p = (const unsigned char *)opts;

	for (size_t i = sizeof(*opts); i < opts->sz; i++)
		if (p[i])
			return false;
	return true;
}

/* Field f of opts if its sz covers it, else zero. */
#define DISASM_OPT(opts, f) \
	((opts)->sz >= offsetof(struct bpfvm_disasm_opts, f) + sizeof((opts)->f) ? (opts)->f : 0)

int bpfvm_disasm_insn_opts(const struct bpfvm_insn *insns, size_t cnt, size_t idx,
			   enum bpfvm_syntax syntax, const struct bpfvm_disasm_opts *opts,
			   char *buf, size_t size)
{
	struct disasm_cbs cbs = { .helper_name = kernel_helper_name };
	bool objdump19 = false;

	if (opts) {
		if (opts->sz < sizeof(opts->sz) || !opts_tail_zero(opts)) {
			if (size)
				buf[0] = '\0';
			return -EINVAL;
		}
		cbs.jump_target = DISASM_OPT(opts, jump_target);
		cbs.call_target = DISASM_OPT(opts, call_target);
		if (DISASM_OPT(opts, helper_name))
			cbs.helper_name = opts->helper_name;
		cbs.map_name = DISASM_OPT(opts, map_name);
		cbs.ctx = DISASM_OPT(opts, ctx);
		objdump19 = DISASM_OPT(opts, objdump19);
	}
	return disasm_insn(insns, cnt, idx, syntax, objdump19 ? DISASM_OBJDUMP19 : DISASM_STRICT,
			   &cbs, buf, size);
}
#undef DISASM_OPT
