/*
 * fuzz_usym.c - libFuzzer target for what usym.c parses from untrusted
 * places: a uprobe/uretprobe/uprobe.multi/usdt section name (an object's
 * SEC()) and a .note.stapsdt argument string (a traced binary's note).
 * The input's first byte picks which; the rest is the string.  Either
 * parses or says why in a NUL-terminated message; a parsed target's
 * fields are NUL-terminated and a spec's argument count is what the
 * string holds, at most 12.
 *
 *   make fuzz && build/fuzz/fuzz_usym -max_len=600 -max_total_time=60 CORPUS_DIR
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "events/usym.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s, why[256];
	uint8_t spec[USYM_USDT_SPEC_SIZE];
	struct usym_target t;

	if (!size)
		return 0;
	s = malloc(size);       /* exactly the string: ASan sees a read past its NUL */
	if (!s)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	memset(why, 'x', sizeof(why));
	if (data[0] & 1) {
		if (usym_parse(s, &t, why, sizeof(why)) == 0) {
			if (!memchr(t.binary, 0, sizeof(t.binary)) || !memchr(t.func, 0, sizeof(t.func)) ||
			    !memchr(t.name, 0, sizeof(t.name)))
				abort();
		} else if (!memchr(why, 0, sizeof(why))) {
			abort();
		}
	} else {
		memset(spec, 0xa5, sizeof(spec));
		if (usym_usdt_spec(s, 7, spec, why, sizeof(why)) == 0) {
			int16_t cnt;

			memcpy(&cnt, spec + 200, sizeof(cnt));
			if (cnt < 0 || cnt > USYM_USDT_MAX_ARGS)
				abort();
		} else if (!memchr(why, 0, sizeof(why))) {
			abort();
		}
	}
	free(s);
	return 0;
}
