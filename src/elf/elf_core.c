/*
 * elf_core.c - applying CO-RE relocations to the programs being loaded:
 * each .BTF.ext CO-RE record names an instruction of a section; every
 * program that holds a copy of that instruction gets the value the target
 * BTF gives (src/btf/btf_core.c), in the instruction's immediate (ALU,
 * lddw) or offset (loads and stores), with a load's size adjusted when
 * the field's size changed.  A relocation the target cannot satisfy
 * poisons its instruction, as libbpf does: the program still loads, and
 * fails only if it reaches that instruction.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/log.h"
#include "obj.h"

#define POISON_HELPER BPFVM_MAX_HELPER_ID
#define DEFAULT_TARGET_BTF "/sys/kernel/btf/vmlinux"

static bool needs_target(const struct bpfvm_object *obj)
{
	for (uint32_t s = 0; obj->ext && s < obj->ext->nsecs; s++)
		for (uint32_t i = 0; i < obj->ext->secs[s].ncore; i++)
			if (obj->ext->secs[s].core[i].kind != BTF_CORE_TYPE_ID_LOCAL)
				return true;
	return false;
}

static struct btf *load_target(struct bpfvm_object *obj)
{
	const char *path = obj->btf_custom_path ? obj->btf_custom_path : DEFAULT_TARGET_BTF;
	struct btf *btf;

	errno = 0;
	btf = btf_load_file(path, obj->log);
	if (!btf && errno != EINVAL && errno != ENOMEM)
		obj_err(obj, "CO-RE relocations need the target kernel's BTF, and %s cannot be "
			     "read (%s): name a BTF file with btf_custom_path\n", path, strerror(errno));
	return btf;
}

static int access_bytes(uint8_t code)
{
	static const int sizes[4] = { 4, 2, 1, 8 };
	return sizes[(code >> 3) & 3];
}

static int size_bits(uint32_t bytes)
{
	switch (bytes) {
	case 1: return BPFVM_B;
	case 2: return BPFVM_H;
	case 4: return BPFVM_W;
	case 8: return BPFVM_DW;
	default: return -1;
	}
}

#define PATCH_ERR(...) (obj_err(obj, "program %s: instruction %u: CO-RE relocation %s: ", \
				p->name, idx, btf_core_kind_name(kind)),                  \
			log_printf(obj->log, __VA_ARGS__), -EINVAL)

static int patch(struct bpfvm_object *obj, struct bpfvm_obj_prog *p, uint32_t idx,
		 enum btf_core_kind kind, const struct btf_core_res *res)
{
	struct bpfvm_insn *insn = &p->insns[idx];
	uint8_t cls = BPFVM_CLASS(insn->code);
	bool lddw = insn->code == (BPFVM_LD | BPFVM_DW | BPFVM_IMM);

	if (lddw && idx + 1 >= p->cnt)
		return PATCH_ERR("lddw cut short\n");
	if (res->poison) {
		*insn = BPFVM_CALL_HELPER(POISON_HELPER);
		if (lddw)
			insn[1] = BPFVM_RAW_INSN(BPFVM_JMP | BPFVM_JA, 0, 0, 0, 0);
		return 0;
	}
	if ((cls == BPFVM_ALU || cls == BPFVM_ALU64) && BPFVM_SRC(insn->code) == BPFVM_K) {
		if (res->validate && (uint32_t)insn->imm != (uint32_t)res->orig)
			return PATCH_ERR("expected immediate %llu, found %d\n",
					 (unsigned long long)res->orig, insn->imm);
		if (res->value > UINT32_MAX)
			return PATCH_ERR("value %llu does not fit an immediate\n",
					 (unsigned long long)res->value);
		insn->imm = (int32_t)(uint32_t)res->value;
		return 0;
	}
	if (cls == BPFVM_LDX || cls == BPFVM_ST || cls == BPFVM_STX) {
		if ((res->validate && insn->off != (int64_t)res->orig) || res->value > INT16_MAX)
			return PATCH_ERR("offset %d (expected %llu) cannot become %llu\n", insn->off,
					 (unsigned long long)res->orig, (unsigned long long)res->value);
		insn->off = (int16_t)res->value;
		if (kind == BTF_CORE_FIELD_BYTE_OFFSET && res->new_size != res->orig_size) {
			int bits = size_bits(res->new_size);

			if (access_bytes(insn->code) != (int)res->orig_size || bits < 0)
				return PATCH_ERR("the field's size changed from %u to %u bytes\n",
						 res->orig_size, res->new_size);
			insn->code = (uint8_t)((insn->code & ~0x18) | bits);
		}
		return 0;
	}
	if (lddw) {
		insn[0].imm = (int32_t)(uint32_t)res->value;
		insn[1].imm = (int32_t)(uint32_t)(res->value >> 32);
		return 0;
	}
	return PATCH_ERR("instruction (opcode 0x%02x) takes no relocated value\n", insn->code);
}

/*
 * Remember why instruction idx was poisoned, for the verifier's refusal
 * to name the relocation rather than the poison (as libbpf rewrites the
 * kernel's log).
 */
static int note_failure(struct bpfvm_object *obj, struct bpfvm_obj_prog *p, uint32_t idx,
			enum btf_core_kind kind, const struct btf_core_res *res)
{
	const char *target = obj->btf_custom_path ? obj->btf_custom_path : DEFAULT_TARGET_BTF;
	struct ocore_fail *grown = realloc(p->core_fails, (p->ncore_fails + 1) * sizeof(*grown));
	char why[512];

	if (!grown)
		return -ENOMEM;
	p->core_fails = grown;
	snprintf(why, sizeof(why), "CO-RE relocation %s failed at instruction %u: %s not found in %s",
		 btf_core_kind_name(kind), idx, res->why, target);
	if (!(grown[p->ncore_fails].why = strdup(why)))
		return -ENOMEM;
	grown[p->ncore_fails++].insn = idx;
	return 0;
}

void obj_core_forget_failures(struct bpfvm_obj_prog *p)
{
	for (uint32_t i = 0; i < p->ncore_fails; i++)
		free(p->core_fails[i].why);
	free(p->core_fails);
	p->core_fails = NULL;
	p->ncore_fails = 0;
}

const char *bpfvm_obj_prog__core_failure(const struct bpfvm_obj_prog *p, size_t insn)
{
	for (uint32_t i = 0; p && i < p->ncore_fails; i++)
		if (p->core_fails[i].insn == insn)
			return p->core_fails[i].why;
	return NULL;
}

static int relocate_prog(struct bpfvm_object *obj, struct bpfvm_obj_prog *p,
			 const struct btf *target)
{
	obj_core_forget_failures(p);
	for (uint32_t c = 0; c < p->nchunks; c++) {
		const struct ofunc *f = &obj->funcs[p->chunks[c].func];
		const struct btf_ext_sec *es = btf_ext_sec(obj->ext, obj->secs[f->sec].name);

		for (uint32_t i = 0; es && i < es->ncore; i++) {
			const struct btf_ext_rec *r = &es->core[i];
			const char *spec = btf_str(obj->btf, r->file_off);
			struct btf_core_res res;
			uint32_t idx;
			int err;

			if (r->insn < f->start || r->insn >= f->start + f->cnt)
				continue;
			idx = p->chunks[c].dst + r->insn - f->start;
			err = btf_core_resolve(obj->btf, r->type_id, spec, r->kind, target, &res,
					       obj->log);
			if (!err)
				err = patch(obj, p, idx, r->kind, &res);
			if (!err && res.poison)
				err = note_failure(obj, p, idx, r->kind, &res);
			if (err) {
				obj_err(obj, "program %s: CO-RE relocation at instruction %u failed\n",
					p->name, idx);
				return err;
			}
		}
	}
	return 0;
}

int obj_core_relocate(struct bpfvm_object *obj)
{
	struct btf *target = NULL;
	int err = 0;

	if (!obj->ext || !obj->btf)
		return 0;
	if (needs_target(obj) && !(target = load_target(obj)))
		return -ENOENT;
	for (size_t i = 0; !err && i < obj->nprogs; i++)
		if (obj->progs[i].autoload)
			err = relocate_prog(obj, &obj->progs[i], target ? target : obj->btf);
	btf_free(target);
	return err;
}
