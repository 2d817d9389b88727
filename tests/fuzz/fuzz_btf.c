/*
 * fuzz_btf.c - libFuzzer target for BTF: the input is split into a BTF
 * blob and a .BTF.ext blob (the first two bytes say where); the BTF is
 * parsed and every type queried (size, alignment, name, modifiers, the
 * input printed through it as bpfvm_btf__dump_data does), the
 * .BTF.ext parsed against it, and each of its CO-RE relocations resolved
 * against the same BTF as target.  Bad input must only give an error.
 *
 *   make fuzz && build/fuzz/fuzz_btf -max_len=16384 -max_total_time=300 CORPUS_DIR
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <bpfvm/btf.h>

#include "btf/btf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void discard(void *ctx, const char *text, size_t len)
{
	(void)ctx, (void)text, (void)len;
}

static void query_types(const struct btf *btf, const uint8_t *data, size_t size)
{
	const struct bpfvm_btf *pub = (const struct bpfvm_btf *)btf;

	for (uint32_t id = 0; id < btf_type_cnt(btf) && id < 4096; id++) {
		const struct btf_type *t = btf_type(btf, id);
		const uint32_t *ids;

		(void)btf_type_size(btf, id);
		(void)btf_type_align(btf, id);
		(void)btf_skip_mods(btf, id);
		if (t)
			(void)btf_find_by_ess_name(btf, btf_name(btf, t),
						   btf_essential_len(btf_name(btf, t)), &ids);
		/* the input's bytes printed as each type, plainly and as JSON */
		(void)bpfvm_btf__dump_data(pub, id, data, size, discard, NULL, NULL);
		(void)bpfvm_btf__record_type(pub, size % 64, NULL, 0);
	}
}

static void resolve_all(const struct btf *btf, const struct btf_ext *ext)
{
	for (uint32_t s = 0; s < ext->nsecs; s++) {
		for (uint32_t i = 0; i < ext->secs[s].ncore && i < 256; i++) {
			const struct btf_ext_rec *r = &ext->secs[s].core[i];
			struct btf_core_res res;

			btf_core_resolve(btf, r->type_id, btf_str(btf, r->file_off), r->kind, btf, &res,
					 NULL);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char msg[1024];
	struct bpfvm_log log = { msg, sizeof(msg), 0 };
	size_t split;
	struct btf *btf;
	struct btf_ext *ext;

	if (size < 2)
		return 0;
	split = (size_t)(data[0] | data[1] << 8) % (size - 1);
	btf = btf_parse(data + 2, split, ".BTF", &log);
	if (!btf)
		return 0;
	query_types(btf, data, size);
	ext = btf_ext_parse(data + 2 + split, size - 2 - split, btf, &log);
	if (ext) {
		resolve_all(btf, ext);
		btf_ext_free(ext);
	}
	btf_free(btf);
	return 0;
}
