/*
 * prog_refs.c - what a program refers to outside itself, checked when it
 * is created, with the kernel verifier's wording where it has one:
 *
 *   maps      lddw src 1/5 names bpfvm_prog_opts.maps[imm], src 2/6 the
 *             value at an offset of such a map (one-element arrays only,
 *             as the kernel's map_direct_value_addr); the program holds a
 *             reference on every map it is given
 *   helpers   every helper the program calls exists in this instance, and
 *             a GPL-only helper is called only under a GPL-compatible
 *             license
 *   programs  a program array the program uses is of its program type
 */
#include "prog.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/instance.h"
#include "../helpers/helpers.h"
#include "../maps/map.h"
#include "../util/log.h"

#define ERR(log, idx, ...)                                   \
	(log_printf(log, "instruction %u: ", (unsigned)(idx)), \
	 log_printf(log, __VA_ARGS__), log_printf(log, "\n"), -EINVAL)

/* The kernel's license_is_gpl_compatible(). */
static bool license_is_gpl(const char *license)
{
	static const char *const gpl[] = {
		"GPL", "GPL v2", "GPL and additional rights", "Dual BSD/GPL", "Dual MIT/GPL",
		"Dual MPL/GPL",
	};

	for (size_t i = 0; license && i < sizeof(gpl) / sizeof(gpl[0]); i++)
		if (!strcmp(license, gpl[i]))
			return true;
	return false;
}

bool prog_lddw_is_map(const struct bpfvm_insn *insn)
{
	return insn->src_reg == BPFVM_PSEUDO_MAP_FD || insn->src_reg == BPFVM_PSEUDO_MAP_VALUE ||
	       insn->src_reg == BPFVM_PSEUDO_MAP_IDX || insn->src_reg == BPFVM_PSEUDO_MAP_IDX_VALUE;
}

static bool is_value_ref(const struct bpfvm_insn *insn)
{
	return insn->src_reg == BPFVM_PSEUDO_MAP_VALUE ||
	       insn->src_reg == BPFVM_PSEUDO_MAP_IDX_VALUE;
}

uint64_t prog_lddw_map_value(const struct bpfvm_prog *prog, uint32_t idx)
{
	const struct bpfvm_insn *insn = &prog->insns[idx];
	struct bpfvm_map *map = prog->maps[insn->imm];
	uint64_t addr = 0;

	if (!is_value_ref(insn))
		return (uintptr_t)map;
	map->ops->direct_value_addr(map, (uint32_t)insn[1].imm, &addr);
	return addr + (uint32_t)insn[1].imm;
}

static int check_map_ref(const struct bpfvm_prog *prog, uint32_t i, struct bpfvm_log *log)
{
	const struct bpfvm_insn *insn = &prog->insns[i];
	uint32_t off = (uint32_t)insn[1].imm;
	struct bpfvm_map *map;
	uint64_t addr;

	if (!is_value_ref(insn) && off)
		return ERR(log, i, "unrecognized bpf_ld_imm64 insn");
	if (!prog->nmaps)
		return ERR(log, i, "fd %d is not pointing to valid bpf_map: the program was given "
				   "no maps (bpfvm_prog_opts.maps)", insn->imm);
	if (insn->imm < 0 || (size_t)insn->imm >= prog->nmaps || !prog->maps[insn->imm])
		return ERR(log, i, "lddw refers to map %d, but the program was given %zu maps",
			   insn->imm, prog->nmaps);
	map = prog->maps[insn->imm];
	if (map->type == BPFVM_MAP_TYPE_PROG_ARRAY &&
	    !prog_array_compatible(map, prog->prog_type))
		return ERR(log, i, "program of type %u cannot use program array '%s', which holds "
				   "programs of another type", prog->prog_type, map->name);
	if (!is_value_ref(insn))
		return 0;
	if (off >= MAP_BPF_MAX_VAR_OFF)
		return ERR(log, i, "direct value offset of %u is not allowed", off);
	if (!map->ops->direct_value_addr)
		return ERR(log, i, "no direct value access support for this map type");
	if (map->ops->direct_value_addr(map, off, &addr))
		return ERR(log, i, "invalid access to map value pointer, value_size=%u off=%u",
			   map->value_size, off);
	return 0;
}

static int check_helper(const struct bpfvm_prog *prog, uint32_t i, struct bpfvm_log *log)
{
	int32_t id = prog->insns[i].imm;
	const struct helper_info *h = helper_info(id);
	const struct vm_helper *vh;

	if (id == HELPER_ID_tail_call)
		return 0;
	if (id < 0 || id > BPFVM_MAX_HELPER_ID || !prog->vm->helpers[id].fn) {
		if (!h)
			return ERR(log, i, "invalid func unknown#%d", id);
		return ERR(log, i, "program calls %s#%d, which bpfvm does not provide", h->name, id);
	}
	vh = &prog->vm->helpers[id];
	/* The license matters for bpfvm's own helpers, not for an embedder's. */
	if (h && h->gpl_only && vh->fn == h->fn && !prog->gpl_compatible)
		return ERR(log, i, "cannot call GPL-restricted function from non-GPL compatible "
				   "program");
	return 0;
}

bool prog_slot_needs_kernel(const struct bpfvm_prog *prog, uint32_t i)
{
	const struct bpfvm_insn *in = &prog->insns[i];

	if (prog->ops[i] == ISA_OP_CALL_HELPER)
		return helper_is_kernel_only(prog->vm, in->imm);
	return prog->ops[i] == ISA_OP_LDDW && prog_lddw_is_map(in) &&
	       bpfvm_map__kernel_only(prog->maps[in->imm]);
}

int prog_attach_refs(struct bpfvm_prog *prog, const struct bpfvm_prog_opts *opts,
		     struct bpfvm_log *log)
{
	size_t nmaps = opts && opts->maps ? opts->nmaps : 0;
	int err = 0;

	if (opts) {
		prog->prog_type = opts->prog_type;
		prog->expected_attach_type = opts->expected_attach_type;
		prog->gpl_compatible = license_is_gpl(opts->license);
	}
	if (nmaps) {
		prog->maps = calloc(nmaps, sizeof(*prog->maps));
		if (!prog->maps)
			return -ENOMEM;
		for (size_t i = 0; i < nmaps; i++) {
			prog->maps[i] = opts->maps[i];
			if (prog->maps[i])
				map_get(prog->maps[i]);
		}
		prog->nmaps = nmaps;
		for (size_t i = 0; i < nmaps; i++) {
			if (prog->maps[i] && prog->maps[i]->vm != prog->vm) {
				log_printf(log, "map %zu ('%s') belongs to another instance\n", i,
					   prog->maps[i]->name);
				return -EINVAL;
			}
		}
	}
	for (uint32_t i = 0; !err && i < prog->cnt; i++) {
		if (prog->ops[i] == ISA_OP_LDDW && prog_lddw_is_map(&prog->insns[i]))
			err = check_map_ref(prog, i, log);
		else if (prog->ops[i] == ISA_OP_CALL_HELPER)
			err = check_helper(prog, i, log);
		if (!err && !prog->needs_kernel_at && prog_slot_needs_kernel(prog, i))
			prog->needs_kernel_at = i + 1;
	}
	return err;
}

void prog_needs_kernel_reason(const struct bpfvm_prog *prog, char *buf, size_t size)
{
	uint32_t i = prog->needs_kernel_at - 1;
	const struct bpfvm_insn *in = &prog->insns[i];

	if (prog->ops[i] == ISA_OP_CALL_HELPER)
		snprintf(buf, size, "instruction %u calls %s#%d, which needs %s", i,
			 helper_info(in->imm)->name, in->imm, helper_kernel_need(in->imm));
	else
		snprintf(buf, size, "instruction %u refers to map '%s', a %s: only the kernel has "
			 "its content", i, prog->maps[in->imm]->name ? prog->maps[in->imm]->name : "",
			 bpfvm_map_type_kernel_name(prog->maps[in->imm]->type));
}

void prog_release_refs(struct bpfvm_prog *prog)
{
	if (prog->vm)
		maps_forget_prog(prog->vm, prog);
	for (size_t i = 0; i < prog->nmaps; i++)
		if (prog->maps[i])
			map_put(prog->maps[i]);
	free(prog->maps);
	prog->maps = NULL;
	prog->nmaps = 0;
}
