/*
 * elf_list.c - bpfvm_elf__read: an ELF file's sections, symbols and
 * relocations as the object reader (elf_read.c) finds them, for tools that
 * list or extract code instead of loading it.  The reader fills a scratch
 * object; its tables become the answer and the object goes.
 */
#include <bpfvm/object.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../util/opts.h"
#include "obj.h"

struct elf_listing {
	struct bpfvm_elf pub;
	struct bpfvm_object *obj;     /* owns names, data */
	struct bpfvm_elf_section *secs;
	struct bpfvm_elf_symbol *syms;
	struct bpfvm_elf_reloc *relocs;
};

void bpfvm_elf__free(struct bpfvm_elf *elf)
{
	struct elf_listing *l = (struct elf_listing *)elf;

	if (!l)
		return;
	if (l->obj) {
		obj_free_elf_tables(l->obj);
		free(l->obj->name);
		free(l->obj);
	}
	free(l->secs);
	free(l->syms);
	free(l->relocs);
	free(l);
}

/* The public rows over the object's tables. */
static int fill(struct elf_listing *l)
{
	const struct bpfvm_object *obj = l->obj;
	size_t nrelocs = 0, r = 0;

	for (size_t i = 0; i < obj->nsecs; i++)
		nrelocs += obj->secs[i].nrelos;
	l->secs = calloc(obj->nsecs ? obj->nsecs : 1, sizeof(*l->secs));
	l->syms = calloc(obj->nsyms ? obj->nsyms : 1, sizeof(*l->syms));
	l->relocs = calloc(nrelocs ? nrelocs : 1, sizeof(*l->relocs));
	if (!l->secs || !l->syms || !l->relocs)
		return -ENOMEM;
	for (size_t i = 0; i < obj->nsecs; i++) {
		const struct osec *s = &obj->secs[i];

		l->secs[i] = (struct bpfvm_elf_section){ s->name ? s->name : "", s->type, s->flags,
							 s->addr, s->data, s->size,
							 &l->relocs[r], s->nrelos };
		for (size_t j = 0; j < s->nrelos; j++, r++)
			l->relocs[r] = (struct bpfvm_elf_reloc){ (uint64_t)s->relos[j].insn * 8,
								 s->relos[j].type, s->relos[j].sym };
	}
	for (size_t i = 0; i < obj->nsyms; i++) {
		const struct osym *y = &obj->syms[i];

		l->syms[i] = (struct bpfvm_elf_symbol){ y->name, y->value, y->size, y->shndx,
							y->type, y->bind };
	}
	l->pub = (struct bpfvm_elf){ obj->e_type, l->secs, obj->nsecs, l->syms, obj->nsyms };
	return 0;
}

struct bpfvm_elf *bpfvm_elf__read(const void *buf, size_t size, const char *name,
				  const struct bpfvm_elf_read_opts *opts)
{
	struct bpfvm_log *log = OPTS_GET(opts, log, NULL);
	struct elf_listing *l;
	void *copy;
	int err = -ENOMEM;

	if (!OPTS_VALID(opts, bpfvm_elf_read_opts, log)) {
		errno = EINVAL;
		return NULL;
	}
	l = calloc(1, sizeof(*l));
	copy = malloc(size ? size : 1);
	if (!l || !copy || !(l->obj = calloc(1, sizeof(*l->obj))) ||
	    !(l->obj->name = strdup(name ? name : "ELF file")))
		goto out;
	l->obj->log = log;
	/* libelf wants a writable image; the caller's stays untouched */
	memcpy(copy, buf, size);
	err = obj_read_elf_tables(l->obj, copy, size, true);
	if (!err)
		err = fill(l);
out:
	free(copy);
	if (!err)
		return &l->pub;
	bpfvm_elf__free(l ? &l->pub : NULL);
	errno = -err;
	return NULL;
}
