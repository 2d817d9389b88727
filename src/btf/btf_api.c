/*
 * btf_api.c - the public questions about an object's types (bpfvm/btf.h),
 * or a BTF file's (the kernel's): a type by name, its size and C name, and
 * which struct an untyped record (a ring buffer's, a perf buffer's) most likely is.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <bpfvm/btf.h>

#include "btf.h"

#define MAX_NAMED 4   /* candidates a message names */

static const struct btf *cbtf(const struct bpfvm_btf *b) { return (const struct btf *)b; }

struct bpfvm_btf *bpfvm_btf__load_file(const char *path)
{
	return (struct bpfvm_btf *)btf_load_file(path ? path : "/sys/kernel/btf/vmlinux", NULL);
}

void bpfvm_btf__free(struct bpfvm_btf *btf)
{
	btf_free((struct btf *)btf);
}

uint32_t bpfvm_btf__type_cnt(const struct bpfvm_btf *btf)
{
	return btf ? btf_type_cnt(cbtf(btf)) : 0;
}

int bpfvm_btf__find_type(const struct bpfvm_btf *btf, const char *name)
{
	static const struct { const char *prefix; unsigned kind; } kinds[] = {
		{ "struct ", BTF_KIND_STRUCT }, { "union ", BTF_KIND_UNION }, { "enum ", BTF_KIND_ENUM },
	};
	static const unsigned any[] = { BTF_KIND_STRUCT, BTF_KIND_UNION, BTF_KIND_TYPEDEF,
					BTF_KIND_ENUM, BTF_KIND_ENUM64 };
	uint32_t id;

	if (!btf || !name)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		size_t n = strlen(kinds[i].prefix);

		if (strncmp(name, kinds[i].prefix, n))
			continue;
		id = btf_find(cbtf(btf), name + n, kinds[i].kind);
		if (!id && kinds[i].kind == BTF_KIND_ENUM)
			id = btf_find(cbtf(btf), name + n, BTF_KIND_ENUM64);
		return id ? (int)id : -ENOENT;
	}
	for (size_t i = 0; i < sizeof(any) / sizeof(any[0]); i++)
		if ((id = btf_find(cbtf(btf), name, any[i])))
			return (int)id;
	return -ENOENT;
}

int64_t bpfvm_btf__type_size(const struct bpfvm_btf *btf, uint32_t id)
{
	return btf ? btf_type_size(cbtf(btf), id) : -EINVAL;
}

int bpfvm_btf__type_name(const struct bpfvm_btf *btf, uint32_t id, char *buf, size_t size)
{
	const struct btf_type *t = btf ? btf_type(cbtf(btf), id) : NULL;
	const char *kind = "";

	if (!t)
		return snprintf(buf, size, "%s", id ? "(unknown)" : "void");
	switch (btf_kind(t)) {
	case BTF_KIND_STRUCT: kind = "struct "; break;
	case BTF_KIND_UNION: kind = "union "; break;
	case BTF_KIND_ENUM: case BTF_KIND_ENUM64: kind = "enum "; break;
	default: break;
	}
	return snprintf(buf, size, "%s%s", kind,
			*btf_name(cbtf(btf), t) ? btf_name(cbtf(btf), t) : "(anon)");
}

static bool is_record_kind(const struct btf_type *t)
{
	return t && (btf_kind(t) == BTF_KIND_STRUCT || btf_kind(t) == BTF_KIND_UNION);
}

int bpfvm_btf__record_type(const struct bpfvm_btf *btf, size_t size, char *why, size_t why_size)
{
	const struct btf *b = cbtf(btf);
	uint32_t ev = btf ? btf_find(b, "event", BTF_KIND_STRUCT) : 0, found = 0, n = 0;
	char names[256] = "";
	size_t len = 0;

	if (ev && btf_type(b, ev)->size == size)
		return (int)ev;
	for (uint32_t id = 1; btf && id < btf_type_cnt(b); id++) {
		const struct btf_type *t = btf_type(b, id);

		if (!is_record_kind(t) || t->size != size || !*btf_name(b, t))
			continue;
		if (n++ < MAX_NAMED && len < sizeof(names))
			len += (size_t)snprintf(names + len, sizeof(names) - len, "%s%s %s",
						n > 1 ? ", " : "", btf_kind(t) == BTF_KIND_UNION
						? "union" : "struct", btf_name(b, t));
		found = id;
	}
	if (n == 1)
		return (int)found;
	if (why && !btf)
		snprintf(why, why_size, "the object has no BTF");
	else if (why && !n)
		snprintf(why, why_size, "no struct in the object's BTF is %zu bytes%s", size,
			 ev ? " (struct event is not)" : "");
	else if (why)
		snprintf(why, why_size, "%u structs in the object's BTF are %zu bytes: %s%s", n, size,
			 names, n > MAX_NAMED ? ", ..." : "");
	return n ? -ENOTUNIQ : -ENOENT;
}
