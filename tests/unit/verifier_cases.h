/*
 * verifier_cases.h - reading the kernel's verifier selftests
 * ($SHARED/verifier-cases/kernel-selftests.jsonl: one JSON object a line)
 * and building what a case needs in bpfvm: its instructions, the maps its
 * fixups name, stubs for helpers bpfvm does not implement.  Shared by
 * test_verifier_cases.c and bench/bench_verify.c.
 */
#ifndef BPFVM_TESTS_VERIFIER_CASES_H
#define BPFVM_TESTS_VERIFIER_CASES_H

#include <ctype.h>
#include <errno.h>
#include <linux/bpf.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpfvm/bpfvm.h>
#include <bpfvm/maps.h>

#include "helpers/helpers.h"

/* ---- just enough JSON ----------------------------------------------------------- */

/* The value of top-level key in a one-line object, or NULL. */
static const char *json_find(const char *line, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\": ", key);
	for (p = strstr(line, pat); p; p = strstr(p + 1, pat))
		if (p > line && (p[-1] == '{' || (p[-1] == ' ' && p[-2] == ',')))
			return p + strlen(pat);
	return NULL;
}

/* A JSON string at p into out (unescaped); returns the end, or NULL. */
static const char *json_str(const char *p, char *out, size_t size)
{
	size_t n = 0;

	if (*p != '"')
		return NULL;
	for (p++; *p && *p != '"'; p++) {
		char c = *p;

		if (c == '\\') {
			p++;
			c = *p == 'n' ? '\n' : *p == 't' ? '\t' : *p == 'u' ? '?' : *p;
			if (*p == 'u')
				p += 4;
		}
		if (n + 1 < size)
			out[n++] = c;
	}
	out[n] = '\0';
	return *p == '"' ? p + 1 : NULL;
}

static long json_num(const char *line, const char *key, long dflt)
{
	const char *v = json_find(line, key);

	return v && (isdigit((unsigned char)*v) || *v == '-') ? strtol(v, NULL, 10) : dflt;
}

static bool json_has(const char *line, const char *key)
{
	const char *v = json_find(line, key);

	return v && strncmp(v, "null", 4) && strncmp(v, "false", 5) && strncmp(v, "0,", 2) &&
	       strncmp(v, "[]", 2);
}

/* "insns": ["7a0af8ff10010000", ...] into insns. */
static size_t json_insns(const char *line, struct bpfvm_insn *insns, size_t max)
{
	const char *p = json_find(line, "insns");
	size_t n = 0;
	char hex[32];

	if (!p || *p != '[')
		return 0;
	for (p++; *p == '"' && n < max;) {
		uint8_t b[8];

		p = json_str(p, hex, sizeof(hex));
		for (int i = 0; i < 8; i++)
			sscanf(hex + 2 * i, "%2hhx", &b[i]);
		memcpy(&insns[n++], b, 8);
		while (*p == ',' || *p == ' ')
			p++;
	}
	return n;
}

/* "map_hash_8b": [3, 7] into idx. */
static size_t json_ints(const char *v, int *idx, size_t max)
{
	size_t n = 0;

	if (!v || *v != '[')
		return 0;
	for (v++; *v && *v != ']' && n < max;) {
		idx[n++] = (int)strtol(v, (char **)&v, 10);
		while (*v == ',' || *v == ' ')
			v++;
	}
	return n;
}

/* ---- maps ------------------------------------------------------------------------ */

struct map_kind {
	const char *key;
	uint32_t type, key_size, value_size, max_entries, flags;
	const char *skip;   /* why bpfvm cannot make it */
};

static const struct map_kind kinds[] = {
	{ "map_hash_8b", BPFVM_MAP_TYPE_HASH, 8, 8, 1, BPFVM_F_NO_PREALLOC, NULL },
	{ "map_hash_16b", BPFVM_MAP_TYPE_HASH, 8, 16, 1, BPFVM_F_NO_PREALLOC, NULL },
	{ "map_hash_48b", BPFVM_MAP_TYPE_HASH, 8, 48, 1, BPFVM_F_NO_PREALLOC, NULL },
	{ "map_array_48b", BPFVM_MAP_TYPE_ARRAY, 4, 48, 1, 0, NULL },
	{ "map_array_small", BPFVM_MAP_TYPE_ARRAY, 4, 1, 1, 0, NULL },
	{ "map_array_ro", BPFVM_MAP_TYPE_ARRAY, 4, 48, 1, 1u << 7, NULL },
	{ "map_array_wo", BPFVM_MAP_TYPE_ARRAY, 4, 48, 1, 1u << 8, NULL },
	{ "prog1", BPFVM_MAP_TYPE_PROG_ARRAY, 4, 4, 4, 0, NULL },
	{ "prog2", BPFVM_MAP_TYPE_PROG_ARRAY, 4, 4, 8, 0, NULL },
	{ "prog3", BPFVM_MAP_TYPE_PROG_ARRAY, 4, 4, 4, 0, NULL },
	{ "map_event_output", BPFVM_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4, 0, 0, NULL },
	{ "map_ringbuf", BPFVM_MAP_TYPE_RINGBUF, 0, 0, 4096, 0, NULL },
	{ "map_stacktrace", BPFVM_MAP_TYPE_STACK_TRACE, 4, 8, 1, 0, NULL },
	{ "map_in_map", BPFVM_MAP_TYPE_ARRAY_OF_MAPS, 4, 4, 1, 0, NULL },
	{ "map_sockmap", BPFVM_MAP_TYPE_SOCKMAP, 4, 4, 1, 0, NULL },
	{ "map_sockhash", BPFVM_MAP_TYPE_SOCKHASH, 4, 4, 1, 0, NULL },
	{ "map_xskmap", BPFVM_MAP_TYPE_XSKMAP, 4, 4, 1, 0, NULL },
	{ "map_spin_lock", 0, 0, 0, 0, 0, "needs a BTF value type (bpf_spin_lock)" },
	{ "map_timer", 0, 0, 0, 0, 0, "needs a BTF value type (bpf_timer)" },
	{ "map_kptr", 0, 0, 0, 0, 0, "needs a BTF value type (kptr) and kernel BTF" },
	{ "sk_storage_map", 0, 0, 0, 0, 0, "needs a BTF value type" },
};

#define MAX_MAPS 16

static struct bpfvm_map *make_map(struct bpfvm *vm, const struct map_kind *k, char *why, size_t n)
{
	BPFVM_OPTS(bpfvm_map_opts, o, .map_flags = k->flags);
	struct bpfvm_map *inner = NULL, *m;
	uint32_t max = k->max_entries;

	if (k->type == BPFVM_MAP_TYPE_PERF_EVENT_ARRAY)
		max = (uint32_t)bpfvm__num_possible_cpus(vm);
	if (k->type == BPFVM_MAP_TYPE_ARRAY_OF_MAPS) {
		inner = bpfvm_map__new(vm, BPFVM_MAP_TYPE_ARRAY, 4, 4, 1, NULL);
		o.inner_map = inner;
	}
	m = bpfvm_map__new(vm, k->type, k->key_size, k->value_size, max, &o);
	if (!m)
		snprintf(why, n, "bpfvm cannot create %s (map type %u): %s", k->key, k->type,
			 strerror(errno));
	return m;
}

static uint64_t stub_helper(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e,
			    struct bpfvm_run_ctx *ctx)
{
	(void)a, (void)b, (void)c, (void)d, (void)e, (void)ctx;
	return 0;
}

/* Helpers bpfvm's runtime lacks still have kernel prototypes to verify against. */
static void stub_missing_helpers(struct bpfvm *vm)
{
	for (int id = 1; id <= HELPER_ID_MAX_KNOWN; id++) {
		const struct helper_info *h = helper_info(id);

		if (h && h->name && !h->provided)
			bpfvm__set_helper(vm, (uint32_t)id, h->name, stub_helper);
	}
}

static int fix_maps(const char *line, struct bpfvm *vm, struct bpfvm_insn *insns, size_t cnt,
		    struct bpfvm_map **maps, size_t *nmaps, char *why, size_t whylen)
{
	*nmaps = 0;
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		int idx[32];
		size_t n = json_ints(json_find(line, kinds[k].key), idx, 32);

		if (!n)
			continue;
		if (kinds[k].skip) {
			snprintf(why, whylen, "%s %s", kinds[k].key, kinds[k].skip);
			return -1;
		}
		if (!(maps[*nmaps] = make_map(vm, &kinds[k], why, whylen)))
			return -1;
		for (size_t i = 0; i < n; i++)
			if ((size_t)idx[i] < cnt)
				insns[idx[i]].imm = (int32_t)*nmaps;
		(*nmaps)++;
	}
	return 0;
}

static uint32_t verify_flags(long flags)
{
	return (flags & 2 ? BPFVM_VERIFY_STRICT_ALIGNMENT : 0) |
	       (flags & 8 ? BPFVM_VERIFY_STATE_FREQ : 0) | (flags & 16 ? BPFVM_VERIFY_SLEEPABLE : 0);
}

static const char *skip_reason(const char *line, const char *verdict)
{
	static char why[256];
	const char *u;

	if (!strcmp(verdict, "null"))
		return "not run on Linux 6.18 (needs kernel BTF or kfuncs)";
	if (json_has(line, "kfunc") || json_has(line, "kfunc_btf_id") || json_has(line, "has_btf_types") ||
	    json_has(line, "func_info_cnt"))
		return "needs kernel BTF, kfuncs or BTF function info";
	if ((u = bpfvm_verify_unsupported((uint32_t)json_num(line, "prog_type", 0)))) {
		snprintf(why, sizeof(why), "program type not supported: %s", u);
		return why;
	}
	return NULL;
}

#endif
