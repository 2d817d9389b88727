/*
 * fuzz_maps.c - libFuzzer target for the maps.  The first input bytes
 * pick a map type, its sizes and flags; the rest is a sequence of
 * operations (update, lookup, delete, lookup-and-delete, get_next_key,
 * ring buffer reserve/commit/consume) with keys, values and flags taken
 * from the input.  No input may crash, hang, leak or trip
 * AddressSanitizer/UBSan.  Hash maps and arrays are also checked against
 * a plain model of what they should hold: every return code and every
 * value read back must match it.
 *
 *   make fuzz && build/fuzz/fuzz_maps -max_len=4096 -max_total_time=120 CORPUS_DIR
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <bpfvm/maps.h>

#include "maps/map.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct input {
	const uint8_t *p;
	size_t left;
};

static uint8_t take(struct input *in)
{
	if (!in->left)
		return 0;
	in->left--;
	return *in->p++;
}

static void take_bytes(struct input *in, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = take(in);
}

static const uint32_t types[] = {
	BPFVM_MAP_TYPE_HASH, BPFVM_MAP_TYPE_ARRAY, BPFVM_MAP_TYPE_PERCPU_HASH,
	BPFVM_MAP_TYPE_PERCPU_ARRAY, BPFVM_MAP_TYPE_LRU_HASH, BPFVM_MAP_TYPE_LRU_PERCPU_HASH,
	BPFVM_MAP_TYPE_LPM_TRIE, BPFVM_MAP_TYPE_QUEUE, BPFVM_MAP_TYPE_STACK,
	BPFVM_MAP_TYPE_BLOOM_FILTER, BPFVM_MAP_TYPE_RINGBUF, BPFVM_MAP_TYPE_PROG_ARRAY,
	BPFVM_MAP_TYPE_PERF_EVENT_ARRAY,
};

/* The model of a hash map or array with 1-byte keys: which keys hold what. */
struct model {
	bool on;
	bool array;
	uint32_t max, count;
	bool present[256];
	uint8_t value[256][16];
};

static void model_update(struct model *md, uint8_t key, const uint8_t *v, uint32_t vs,
			 uint64_t flags, int got)
{
	int want = 0;

	if (flags & BPFVM_F_LOCK)   /* no bpf_spin_lock in the value */
		want = -EINVAL;
	else if (md->array)
		want = flags > BPFVM_EXIST ? -EINVAL
		       : key >= md->max ? -E2BIG
		       : (flags & BPFVM_NOEXIST) ? -EEXIST : 0;
	else if (flags > BPFVM_EXIST)
		want = -EINVAL;
	else if (md->present[key] && flags == BPFVM_NOEXIST)
		want = -EEXIST;
	else if (!md->present[key] && flags == BPFVM_EXIST)
		want = -ENOENT;
	else if (!md->present[key] && md->count == md->max)
		want = -E2BIG;
	if (got != want)
		abort();
	if (got)
		return;
	if (!md->present[key])
		md->count++;
	md->present[key] = true;
	memcpy(md->value[key], v, vs);
}

static void model_lookup(struct model *md, uint8_t key, const uint8_t *v, uint32_t vs, int got)
{
	bool present = md->array ? key < md->max : md->present[key];

	if ((got == 0) != present || (present && memcmp(md->value[key], v, vs)))
		abort();
}

static void model_delete(struct model *md, uint8_t key, int got)
{
	if (md->array) {
		if (got != -EINVAL)
			abort();
		return;
	}
	if (got != (md->present[key] ? 0 : -ENOENT))
		abort();
	if (!got) {
		md->present[key] = false;
		md->count--;
	}
}

static int consume_cb(void *ctx, const void *d, size_t n)
{
	(void)ctx, (void)d, (void)n;
	return 0;
}

static void one_op(struct bpfvm_map *m, struct input *in, struct model *md, uint32_t ks,
		   uint32_t vs, size_t vbytes)
{
	uint8_t key[64] = { 0 }, value[4096] = { 0 }, out[4096];
	uint8_t op = take(in) % 8;
	uint64_t flags = take(in) % 8;
	const void *k = ks ? key : NULL;
	int err;

	take_bytes(in, key, ks < sizeof(key) ? ks : sizeof(key));
	if (md->on)
		memset(key + 1, 0, ks - 1);   /* the model knows 1-byte keys */
	take_bytes(in, value, vbytes < 16 ? vbytes : 16);
	switch (op) {
	case 0:
	case 1:
		err = bpfvm_map__update_elem(m, k, value, flags);
		if (md->on)
			model_update(md, key[0], value, vs, flags, err);
		break;
	case 2:
		err = bpfvm_map__lookup_elem(m, k, out, 0);
		if (md->on)
			model_lookup(md, key[0], out, vs, err);
		break;
	case 3:
		err = bpfvm_map__delete_elem(m, k);
		if (md->on)
			model_delete(md, key[0], err);
		break;
	case 4:
		err = bpfvm_map__lookup_and_delete_elem(m, k, out, flags & 1);
		if (md->on && !md->array) {
			if (!(flags & 1))
				model_lookup(md, key[0], out, vs, err);
			if (!err) {
				md->present[key[0]] = false;
				md->count--;
			}
		}
		break;
	case 5:
		bpfvm_map__get_next_key(m, take(in) & 1 ? k : NULL, out);
		break;
	default:
		if (m->type == BPFVM_MAP_TYPE_RINGBUF) {
			void *rec = ringbuf_reserve(m, (uint64_t)take(in) * 17);

			if (rec)
				ringbuf_commit(rec, 0, take(in) & 1);
			bpfvm_map__ringbuf_consume(m, consume_cb, NULL);
		}
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	uint32_t type = types[take(&in) % (sizeof(types) / sizeof(types[0]))];
	uint32_t ks = take(&in) % 40, vs = take(&in) % 40, max = 1 + take(&in) % 64;
	uint32_t flags = (uint32_t)take(&in) << 8 | take(&in);
	struct bpfvm *vm = bpfvm__new(NULL);
	struct model *md = calloc(1, sizeof(*md));
	BPFVM_OPTS(bpfvm_map_opts, o, .map_flags = flags & 0x1fff, .map_extra = take(&in) % 20);
	struct bpfvm_map *m;
	size_t vbytes;

	if (type == BPFVM_MAP_TYPE_RINGBUF)
		max = 4096u << (max % 3), ks = vs = 0;
	if (type == BPFVM_MAP_TYPE_LPM_TRIE)
		o.map_flags |= BPFVM_F_NO_PREALLOC;
	m = bpfvm_map__new(vm, type, ks, vs, max, &o);
	if (m) {
		vbytes = (size_t)m->value_stride * (size_t)m->ncpus;
		/* Model plain hash maps and arrays with 1-byte keys (arrays: 4-byte keys < 256). */
		md->on = (type == BPFVM_MAP_TYPE_HASH || type == BPFVM_MAP_TYPE_ARRAY) && vs &&
			 vs <= 16 && ks && !(m->map_flags & (BPFVM_F_RDONLY | BPFVM_F_WRONLY));
		md->array = type == BPFVM_MAP_TYPE_ARRAY;
		md->max = m->max_entries;
		for (int n = 0; in.left && n < 2000 && vbytes <= 4096; n++)
			one_op(m, &in, md, ks, vs, vbytes);
	}
	free(md);
	bpfvm__destroy(vm);
	return 0;
}
