/*
 * opts.c - the check behind OPTS_VALID (opts.h).
 */
#include "opts.h"

#include <stdint.h>

#include "log.h"

bool opts_valid(const void *opts, size_t known_sz, const char *type_name, struct bpfvm_log *log)
{
	const uint8_t *p = opts;
	size_t sz;

	if (!opts)
		return true;
	sz = *(const size_t *)opts;
	if (sz < sizeof(size_t)) {
		log_printf(log, "%s: sz %zu is too small (at least %zu, the size of sz)\n", type_name,
			   sz, sizeof(size_t));
		return false;
	}
	for (size_t i = known_sz; i < sz; i++) {
		if (p[i]) {
			log_printf(log, "%s: sz %zu is larger than the %zu bytes this bpfvm knows, "
					"and byte %zu past them is not zero (an option it does not have)\n",
				   type_name, sz, known_sz, i);
			return false;
		}
	}
	return true;
}
