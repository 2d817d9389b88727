/*
 * records.c - ring buffer and perf buffer records decoded with the
 * object's BTF, as `bpftool map dump` prints values (bpfvm_btf__dump_data):
 * with --record-type's struct, else the one bpfvm_btf__record_type picks
 * by the record's size; raw hex, with the reason, when none fits.
 *
 * Perf buffer records (bpf_perf_event_output into a
 * BPF_MAP_TYPE_PERF_EVENT_ARRAY) arrive during a run; they are kept, up to
 * a bound, and printed after the runs.  Those past the bound are counted
 * and the count printed: none is dropped silently.
 */
#include "records.h"

#include <errno.h>
#include <inttypes.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpfvm/btf.h>
#include <bpfvm/object.h>

#include "cli.h"

#define MAX_KEPT 4096                 /* perf records kept over all runs */
#define MAX_KEPT_BYTES (16u << 20)

void print_tabbed(void *ctx, const char *text, size_t len)
{
	(void)ctx;
	for (size_t i = 0; i < len; i++) {
		putchar(text[i]);
		if (text[i] == '\n')
			putchar('\t');
	}
}

static void print_plain(void *ctx, const char *text, size_t len)
{
	(void)ctx;
	fwrite(text, 1, len, stdout);
}

static void hex(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf("%02x", p[i]);
}

int records_fmt_init(struct records_fmt *f, const struct bpfvm_object *obj, const char *type_name,
		     bool json, const char *what)
{
	int id;

	*f = (struct records_fmt){ .btf = bpfvm_object__btf(obj), .json = json };
	if (!type_name)
		return 0;
	if (!f->btf) {
		fprintf(stderr, "bpfvm: %s: --record-type %s: the object has no BTF (build it with "
				"clang -g)\n", what, type_name);
		return -1;
	}
	id = bpfvm_btf__find_type(f->btf, type_name);
	if (id < 0 || bpfvm_btf__type_size(f->btf, (uint32_t)id) < 0) {
		fprintf(stderr, "bpfvm: %s: --record-type %s: %s\n", what, type_name, id < 0
			? "no struct, union, enum or typedef of that name in the object's BTF"
			: "that type has no size");
		return -1;
	}
	f->type_id = id;
	return 0;
}

/* The type to decode a record of size bytes with: its id, or 0 with why. */
static int pick_type(const struct records_fmt *f, size_t size, char *why, size_t why_size)
{
	char name[128];
	int64_t tsize;
	int id;

	if (!f->btf) {
		snprintf(why, why_size, "the object has no BTF");
		return 0;
	}
	if (!f->type_id) {
		id = bpfvm_btf__record_type(f->btf, size, why, why_size);
		return id > 0 ? id : 0;
	}
	tsize = bpfvm_btf__type_size(f->btf, (uint32_t)f->type_id);
	if (tsize > (int64_t)size) {
		bpfvm_btf__type_name(f->btf, (uint32_t)f->type_id, name, sizeof(name));
		snprintf(why, why_size, "the record is %zu bytes, %s %" PRId64, size, name, tsize);
		return 0;
	}
	return f->type_id;
}

static void record_json(const struct records_fmt *f, int id, const char *why, const void *data,
			size_t size)
{
	BPFVM_OPTS(bpfvm_btf_dump_opts, o, .json = true);
	int64_t tsize = id ? bpfvm_btf__type_size(f->btf, (uint32_t)id) : 0;
	char name[128];

	printf("\"record\":\"");
	hex(data, size);
	printf("\"");
	if (!id) {
		printf(",\"undecoded\":");
		cli_json_str(why);
		return;
	}
	bpfvm_btf__type_name(f->btf, (uint32_t)id, name, sizeof(name));
	printf(",\"type\":");
	cli_json_str(name);
	printf(",\"fields\":");
	if (bpfvm_btf__dump_data(f->btf, (uint32_t)id, data, size, print_plain, NULL, &o))
		printf("null");
	if (tsize >= 0 && (size_t)tsize < size) {
		printf(",\"trailing\":\"");
		hex((const uint8_t *)data + tsize, size - (size_t)tsize);
		printf("\"");
	}
}

void record_print(struct records_fmt *f, size_t n, const char *label, const void *data,
		  size_t size, bool first)
{
	BPFVM_OPTS(bpfvm_btf_dump_opts, o);
	char why[256] = "", name[128];
	int id = pick_type(f, size, why, sizeof(why));
	int64_t tsize = id ? bpfvm_btf__type_size(f->btf, (uint32_t)id) : 0;

	if (f->json) {
		printf("%s{", first ? "" : ",");
		record_json(f, id, why, data, size);
		printf("}");
		return;
	}
	printf("\trecord %zu", n);
	if (id) {
		bpfvm_btf__type_name(f->btf, (uint32_t)id, name, sizeof(name));
		printf(" (%s%s%s): ", label ? label : "", label ? ", " : "", name);
		if (!bpfvm_btf__dump_data(f->btf, (uint32_t)id, data, size, print_tabbed, NULL, &o)) {
			if (tsize >= 0 && (size_t)tsize < size) {
				printf(" + %zu bytes ", size - (size_t)tsize);
				hex((const uint8_t *)data + tsize, size - (size_t)tsize);
			}
			printf("\n");
			return;
		}
		snprintf(why, sizeof(why), "%s does not fit the record", name);
		printf("\n\t");
	}
	printf(label ? " (%s): " : ": ", label);
	hex(data, size);
	printf("\n");
	snprintf(f->why, sizeof(f->why), "%s", why);
}

void records_hint(struct records_fmt *f)
{
	if (f->json || !f->why[0])
		return;
	printf("\t(records in hex: %s; decode them with --record-type STRUCT)\n", f->why);
	f->why[0] = '\0';
}

/* ---- perf buffer output ------------------------------------------------------ */

struct perf_record {
	size_t map;        /* index of the map in the object */
	int cpu;
	size_t size;
	uint8_t *data;
};

struct perf_sink {
	struct perf_records *all;
	size_t map;
};

struct perf_records {
	const struct bpfvm_object *obj;
	struct perf_sink *sinks;       /* one per map of the object */
	struct perf_record *recs;
	size_t n, cap, bytes;
	uint64_t dropped;
};

static void on_perf(void *ctx, int cpu, const void *data, size_t size)
{
	struct perf_sink *s = ctx;
	struct perf_records *pr = s->all;
	struct perf_record *r;

	if (pr->n == MAX_KEPT || size > MAX_KEPT_BYTES - pr->bytes) {
		pr->dropped++;
		return;
	}
	if (pr->n == pr->cap) {
		size_t cap = pr->cap ? pr->cap * 2 : 64;
		struct perf_record *grown = realloc(pr->recs, cap * sizeof(*grown));

		if (!grown) {
			pr->dropped++;
			return;
		}
		pr->recs = grown;
		pr->cap = cap;
	}
	r = &pr->recs[pr->n];
	*r = (struct perf_record){ s->map, cpu, size, malloc(size ? size : 1) };
	if (!r->data) {
		pr->dropped++;
		return;
	}
	memcpy(r->data, data, size);
	pr->bytes += size;
	pr->n++;
}

struct perf_records *perf_records_attach(struct bpfvm_object *obj)
{
	struct perf_records *pr = calloc(1, sizeof(*pr));
	size_t nmaps = bpfvm_object__map_cnt(obj);

	if (!pr || !(pr->sinks = calloc(nmaps ? nmaps : 1, sizeof(*pr->sinks)))) {
		free(pr);
		return NULL;
	}
	pr->obj = obj;
	for (size_t i = 0; i < nmaps; i++) {
		struct bpfvm_map *map = bpfvm_object__map(obj, i);

		pr->sinks[i] = (struct perf_sink){ pr, i };
		if (map && bpfvm_map__type(map) == BPF_MAP_TYPE_PERF_EVENT_ARRAY)
			bpfvm_map__set_perf_output(map, on_perf, &pr->sinks[i]);
	}
	return pr;
}

static void forget(struct perf_records *pr)
{
	for (size_t i = 0; i < pr->n; i++)
		free(pr->recs[i].data);
	pr->n = pr->bytes = 0;
	pr->dropped = 0;
}

static void print_map_records(struct perf_records *pr, struct records_fmt *f, size_t map,
			      bool *first)
{
	size_t k = 0;

	for (size_t i = 0; i < pr->n; i++) {
		const struct perf_record *r = &pr->recs[i];
		char label[32], why[256] = "";

		if (r->map != map)
			continue;
		if (!f->json) {
			snprintf(label, sizeof(label), "cpu %d", r->cpu);
			record_print(f, k++, label, r->data, r->size, false);
			continue;
		}
		printf("%s{\"map\":", *first ? "" : ",");
		cli_json_str(bpfvm_object__map_desc(pr->obj, map)->name);
		printf(",\"cpu\":%d,", r->cpu);
		record_json(f, pick_type(f, r->size, why, sizeof(why)), why, r->data, r->size);
		printf("}");
		*first = false;
	}
}

void perf_records_print(struct perf_records *pr, struct records_fmt *f)
{
	bool first = true;

	if (!pr)
		return;
	if (f->json)
		printf(",\"perf\":[");
	for (size_t m = 0; m < bpfvm_object__map_cnt(pr->obj); m++) {
		const struct bpfvm_map_desc *d = bpfvm_object__map_desc(pr->obj, m);
		size_t count = 0;

		if (d->type != BPF_MAP_TYPE_PERF_EVENT_ARRAY)
			continue;
		for (size_t i = 0; i < pr->n; i++)
			count += pr->recs[i].map == m;
		if (!f->json)
			printf("perf event array %s: %zu record%s\n", d->name, count,
			       count == 1 ? "" : "s");
		print_map_records(pr, f, m, &first);
		records_hint(f);
	}
	if (f->json)
		printf("],\"perf_dropped\":%" PRIu64, pr->dropped);
	else if (pr->dropped)
		printf("perf event arrays: %" PRIu64 " more records not kept (only the first %d "
		       "are)\n", pr->dropped, MAX_KEPT);
	forget(pr);
}

void perf_records_free(struct perf_records *pr)
{
	if (!pr)
		return;
	forget(pr);
	free(pr->recs);
	free(pr->sinks);
	free(pr);
}
