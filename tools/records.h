/*
 * records.h - ring buffer and perf buffer records as `bpfvm run` prints
 * them: decoded with the object's BTF (records.c), and the perf buffer
 * output a run produces, kept for printing after it.
 */
#ifndef BPFVM_TOOLS_RECORDS_H
#define BPFVM_TOOLS_RECORDS_H

#include <stdbool.h>
#include <stddef.h>

struct bpfvm_btf;
struct bpfvm_object;

/* How records are printed: with --record-type's type, or one chosen per record size. */
struct records_fmt {
	const struct bpfvm_btf *btf;
	int type_id;            /* --record-type's; 0: bpfvm_btf__record_type per size */
	bool json;
	bool json_lines;        /* maps as {"type":"map",...} lines, not a ',"maps":[...]' member */
	char why[256];          /* plain text: why the last raw record stayed raw */
};

/*
 * Set up f for obj; type_name is --record-type's argument or NULL.
 * Returns 0, or -1 with the reason on stderr (no such type, no BTF).
 */
int records_fmt_init(struct records_fmt *f, const struct bpfvm_object *obj, const char *type_name,
		     bool json, const char *what);

/*
 * One record: plain text "\trecord N (TYPE): {...}" (label says more
 * before TYPE, e.g. "cpu 0"), or a JSON object with the hex, and "type"
 * and "fields", or "undecoded" and why.  first: the first in a JSON list
 * (label is for plain text only).
 */
void record_print(struct records_fmt *f, size_t n, const char *label, const void *data,
		  size_t size, bool first);
/* Plain text, after a list: why records stayed raw, and the option that decodes them. */
void records_hint(struct records_fmt *f);

/* Text through a bpfvm_btf_print_fn: stdout, each new line indented by a tab. */
void print_tabbed(void *ctx, const char *text, size_t len);

/* bpf_perf_event_output's records from the runs, per perf event array of the object. */
struct perf_records;
/* Catch the records of every perf event array of a loaded obj; NULL if out of memory. */
struct perf_records *perf_records_attach(struct bpfvm_object *obj);
/* Print them (text: a block per map; JSON: ',"perf":[...]'), then forget them. */
void perf_records_print(struct perf_records *pr, struct records_fmt *f);
void perf_records_free(struct perf_records *pr);

#endif
