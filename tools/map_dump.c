/*
 * map_dump.c - `bpfvm run --dump-maps`: every map of a loaded object, as
 * bpftool map dump shows one: each key and value in hex (and as a number
 * when it is 1, 2, 4 or 8 bytes), per-CPU values per CPU with their sum;
 * then, with the map's BTF, the entries as bpftool prints them ([{"key":
 * K, "value": V}, ...], bpfvm_btf__dump_map_entry; "formatted" in JSON).  A ring buffer's
 * records (consumed) are decoded with the object's BTF (records.c), a
 * global data section is one value.
 */
#include <inttypes.h>
#include <linux/bpf.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpfvm/btf.h>
#include <bpfvm/object.h>

#include "cli.h"
#include "records.h"

#define MAX_ENTRIES_SHOWN 4096

struct dump {
	struct records_fmt *f;
	bool first;
	size_t n;
};

/* The entries of one map, and how they are printed. */
struct entries {
	struct bpfvm_map *map;
	const struct bpfvm_map_desc *m;
	int ncpus;
	bool json;
	const struct bpfvm_btf *btf;  /* set when the map's BTF types fit its sizes */
};

static void hex(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf("%02x", p[i]);
}

static bool as_number(const uint8_t *p, size_t n, uint64_t *v)
{
	*v = 0;
	if (n != 1 && n != 2 && n != 4 && n != 8)
		return false;
	memcpy(v, p, n); /* little-endian host, as bpfvm requires */
	return true;
}

static void field(const char *what, const uint8_t *p, size_t n, bool json)
{
	uint64_t v;

	if (json) {
		printf("\"%s\":\"", what);
		hex(p, n);
		printf("\"");
		return;
	}
	printf("%s ", what);
	hex(p, n);
	if (as_number(p, n, &v))
		printf(" (%" PRIu64 ")", v);
}

static bool is_percpu(uint32_t type)
{
	return type == BPF_MAP_TYPE_PERCPU_HASH || type == BPF_MAP_TYPE_PERCPU_ARRAY ||
	       type == BPF_MAP_TYPE_LRU_PERCPU_HASH || type == BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE;
}

static bool is_array(uint32_t type)
{
	return type == BPF_MAP_TYPE_ARRAY || type == BPF_MAP_TYPE_PERCPU_ARRAY;
}

static bool is_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static void percpu_value(const uint8_t *v, uint32_t size, int ncpus, bool json)
{
	size_t slot = (size + 7) & ~7u;
	uint64_t sum = 0, x;
	bool numeric = as_number(v, size, &x), first = true;

	if (json)
		printf("\"values\":[");
	for (int c = 0; c < ncpus; c++) {
		const uint8_t *p = v + slot * (size_t)c;
		bool zero = true;

		for (uint32_t i = 0; i < size; i++)
			zero &= !p[i];
		if (as_number(p, size, &x))
			sum += x;
		if (json) {
			printf("%s\"", c ? "," : "");
			hex(p, size);
			printf("\"");
		} else if (!zero) {
			printf("%scpu%d ", first ? "" : "  ", c);
			hex(p, size);
			first = false;
		}
	}
	if (json)
		printf("]");
	if (numeric && json)
		printf(",\"sum\":%" PRIu64, sum);
	else if (numeric)
		printf("%ssum %" PRIu64, first ? "" : "  ", sum);
}

static int on_record(void *ctx, const void *data, size_t size)
{
	struct dump *d = ctx;

	record_print(d->f, d->n, NULL, data, size, d->first);
	d->first = false;
	d->n++;
	return 0;
}

/* Whether the map's BTF key and value types have its key and value sizes. */
static bool btf_fits(const struct bpfvm_btf *btf, const struct bpfvm_map_desc *m)
{
	return btf && m->btf_value_type_id &&
	       bpfvm_btf__type_size(btf, m->btf_value_type_id) == (int64_t)m->value_size &&
	       (!m->btf_key_type_id ||
		bpfvm_btf__type_size(btf, m->btf_key_type_id) == (int64_t)m->key_size);
}

static void print_plain(void *ctx, const char *text, size_t len)
{
	(void)ctx;
	fwrite(text, 1, len, stdout);
}

/* One entry through BTF: bpftool's {"key": ..., "value": ...}; JSON: "formatted". */
static void btf_entry(const struct entries *e, const uint8_t *key, const uint8_t *val, size_t n)
{
	BPFVM_OPTS(bpfvm_btf_dump_opts, o, .json = e->json, .indent = 1);
	struct bpfvm_btf_map_entry me = {
		e->m->btf_key_type_id, key, e->m->key_size, e->m->btf_value_type_id, val,
		e->m->value_size, is_percpu(e->m->type) ? (unsigned)e->ncpus : 0,
	};

	if (e->json)
		printf(",\"formatted\":");
	else
		printf(n ? "," : "\t[");
	if (bpfvm_btf__dump_map_entry(e->btf, &me, e->json ? print_plain : print_tabbed, NULL, &o))
		printf(e->json ? "null" : "(does not fit its BTF type)");
}

static void hex_entry(const struct entries *e, const uint8_t *key, const uint8_t *val)
{
	field("key", key, e->m->key_size, e->json);
	printf(e->json ? "," : "  ");
	if (is_percpu(e->m->type))
		percpu_value(val, e->m->value_size, e->ncpus, e->json);
	else
		field("value", val, e->m->value_size, e->json);
}

/*
 * The entries, in hex (plain text, JSON with "formatted" when the map has
 * BTF); block: plain text's second pass, the same entries through BTF.
 */
static void dump_entries(const struct entries *e, bool block)
{
	const struct bpfvm_map_desc *m = e->m;
	size_t vsize = is_percpu(m->type) ? ((m->value_size + 7) & ~7u) * (size_t)e->ncpus : m->value_size;
	uint8_t *key = calloc(1, m->key_size + 1), *next = calloc(1, m->key_size + 1);
	uint8_t *val = calloc(1, vsize + 1);
	bool have = false;
	size_t n = 0, zeros = 0;

	while (key && next && val && n < MAX_ENTRIES_SHOWN &&
	       bpfvm_map__get_next_key(e->map, have ? key : NULL, next) == 0) {
		memcpy(key, next, m->key_size);
		have = true;
		if (bpfvm_map__lookup_elem(e->map, key, val, 0))
			continue;
		if (is_array(m->type) && is_zero(val, vsize)) {
			zeros++; /* an array's untouched slots: counted, not listed */
			continue;
		}
		if (block) {
			btf_entry(e, key, val, n);
		} else if (e->json) {
			printf("%s{", n ? "," : "");
			hex_entry(e, key, val);
			if (e->btf)
				btf_entry(e, key, val, n);
			printf("}");
		} else {
			printf("\t");
			hex_entry(e, key, val);
			printf("\n");
		}
		n++;
	}
	if (block)
		printf(n ? "\n\t]\n" : "\t[]\n");
	else if (zeros && !e->json)
		printf("\t(%zu zero-valued slots not shown)\n", zeros);
	free(key);
	free(next);
	free(val);
}

static void dump_map(const struct entries *e)
{
	dump_entries(e, false);
	/* then as bpftool map dump prints them */
	if (e->btf && !e->json) {
		printf("\tby BTF:\n");
		dump_entries(e, true);
	}
}

int obj_dump_maps(const struct bpfvm_object *obj, struct records_fmt *f)
{
	int ncpus = bpfvm__num_possible_cpus(bpfvm_object__vm(obj));
	bool json = f->json, lines = json && f->json_lines;

	if (json && !lines)
		printf(",\"maps\":[");
	for (size_t i = 0; i < bpfvm_object__map_cnt(obj); i++) {
		const struct bpfvm_map_desc *m = bpfvm_object__map_desc(obj, i);
		struct bpfvm_map *map = bpfvm_object__map(obj, i);
		struct dump d = { .f = f, .first = true };
		struct entries e = { map, m, ncpus, json,
				     btf_fits(bpfvm_object__btf(obj), m) ? bpfvm_object__btf(obj) : NULL };

		if (!map)
			continue;
		if (lines)
			printf("{\"type\":\"map\",\"name\":\"%s\",\"map_type\":\"%s\",\"entries\":[",
			       m->name, bpfvm_map_type_name(m->type));
		else if (json)
			printf("%s{\"name\":\"%s\",\"type\":\"%s\",\"entries\":[", i ? "," : "", m->name,
			       bpfvm_map_type_name(m->type));
		else
			printf("map %s (%s, key %uB, value %uB):\n", m->name,
			       bpfvm_map_type_name(m->type), m->key_size, m->value_size);
		if (m->type == BPF_MAP_TYPE_RINGBUF) {
			bpfvm_map__ringbuf_consume(map, on_record, &d);
			records_hint(f);
		}
		else if (m->type != BPF_MAP_TYPE_PERF_EVENT_ARRAY && m->type != BPF_MAP_TYPE_PROG_ARRAY &&
			 m->type != BPF_MAP_TYPE_ARRAY_OF_MAPS && m->type != BPF_MAP_TYPE_HASH_OF_MAPS &&
			 m->key_size)
			dump_map(&e);
		if (json)
			printf(lines ? "]}\n" : "]}");
	}
	if (json && !lines)
		printf("]");
	return 0;
}
