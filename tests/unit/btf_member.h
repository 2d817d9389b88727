/*
 * btf_member.h - for tests that read kernel objects at the offsets the
 * kernel's BTF gives: a top-level member's offset, found by a walk of its
 * struct's members (independently of what the code under test finds).
 */
#ifndef BPFVM_TESTS_BTF_MEMBER_H
#define BPFVM_TESTS_BTF_MEMBER_H

#include <string.h>

#include "../../src/btf/btf.h"

/* The byte offset of top-level member of struct name, -1 if none. */
static inline long btf_member_offset(const struct btf *btf, const char *name, const char *member)
{
	const struct btf_type *t = btf_type(btf, btf_find(btf, name, BTF_KIND_STRUCT));
	const struct btf_member *m = t ? btf_members(t) : NULL;

	for (unsigned i = 0; t && i < btf_vlen(t); i++, m++)
		if (!strcmp(btf_str(btf, m->name_off), member))
			return (long)(btf_member_bit_offset(t, m) / 8);
	return -1;
}

#endif
