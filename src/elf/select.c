/*
 * select.c - loading part of an object, as a libbpf user does with
 * bpf_program__set_autoload and bpf_map__set_autocreate: which maps load
 * creates, and the closure of what one program needs (the maps it uses,
 * the maps and programs those hold: tail-call targets in the program
 * arrays the object fills, inner maps of map-in-maps).
 */
#include <errno.h>
#include <stdlib.h>

#include "../isa/opcode.h"
#include "obj.h"

struct closure {
	struct bpfvm_object *obj;
	bool *prog;
	bool *map;
	bool grew;
};

static void need_map(struct closure *c, size_t i)
{
	const struct omap *m = &c->obj->maps[i];

	if (c->map[i])
		return;
	c->map[i] = true;
	c->grew = true;
	if (m->inner_map >= 0)
		need_map(c, (size_t)m->inner_map);
	for (uint32_t s = 0; s < m->nslots; s++) {
		if (m->slots[s].map >= 0)
			need_map(c, (size_t)m->slots[s].map);
		if (m->slots[s].prog >= 0 && !c->prog[m->slots[s].prog]) {
			c->prog[m->slots[s].prog] = true;
			c->grew = true;
		}
	}
}

static void need_prog_maps(struct closure *c, const struct bpfvm_obj_prog *p)
{
	for (uint32_t i = 0; i + 1 < p->cnt; i++) {
		const struct bpfvm_insn *in = &p->insns[i];

		if (in->code != (BPFVM_LD | BPFVM_DW | BPFVM_IMM))
			continue;
		i++;
		if ((in->src_reg == BPFVM_PSEUDO_MAP_FD || in->src_reg == BPFVM_PSEUDO_MAP_VALUE) &&
		    in->imm >= 0 && (size_t)in->imm < c->obj->nmaps)
			need_map(c, (size_t)in->imm);
	}
}

int bpfvm_object__load_only(struct bpfvm_object *obj, struct bpfvm_obj_prog *p)
{
	struct closure c = { .obj = obj };
	size_t rounds = 0;

	if (!obj || !p || p->obj != obj)
		return -EINVAL;
	if (obj->loaded)
		return -EBUSY;
	c.prog = calloc(obj->nprogs + 1, sizeof(bool));
	c.map = calloc(obj->nmaps + 1, sizeof(bool));
	if (!c.prog || !c.map) {
		free(c.prog);
		free(c.map);
		return -ENOMEM;
	}
	c.prog[p - obj->progs] = true;
	/* each round adds a program or map, or ends */
	for (c.grew = true; c.grew && rounds <= obj->nprogs + obj->nmaps; rounds++) {
		c.grew = false;
		for (size_t i = 0; i < obj->nprogs; i++)
			if (c.prog[i])
				need_prog_maps(&c, &obj->progs[i]);
	}
	for (size_t i = 0; i < obj->nprogs; i++)
		obj->progs[i].autoload = c.prog[i];
	for (size_t i = 0; i < obj->nmaps; i++)
		obj->maps[i].autocreate = c.map[i];
	free(c.prog);
	free(c.map);
	return 0;
}

int bpfvm_object__set_autocreate(struct bpfvm_object *obj, size_t i, bool autocreate)
{
	if (!obj || i >= obj->nmaps)
		return -EINVAL;
	if (obj->loaded)
		return -EBUSY;
	obj->maps[i].autocreate = autocreate;
	return 0;
}

bool bpfvm_object__autocreate(const struct bpfvm_object *obj, size_t i)
{
	return obj && i < obj->nmaps && obj->maps[i].autocreate;
}

const char *bpfvm_object__map_left_out(const struct bpfvm_object *obj, size_t i)
{
	return obj && i < obj->nmaps ? obj->maps[i].create_err : NULL;
}
