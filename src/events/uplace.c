/*
 * uplace.c - what the supervisor's uprobes (ubp.c) and the agent's
 * (inproc.c) share: a refusal said once in one wording, and the USDT
 * spec table (see uplace.h).
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../util/log.h"
#include "uplace.h"

int32_t uplace_spec_id(struct uplace_specs *t, const char *args)
{
	size_t n = __atomic_load_n(&t->n, __ATOMIC_ACQUIRE);

	for (size_t i = 0; i < n; i++)
		if (!strcmp(t->s[i], args))
			return (int32_t)i;
	if (n == UPLACE_MAX_SPECS)
		return -1;
	snprintf(t->s[n], sizeof(t->s[n]), "%s", args);
	__atomic_store_n(&t->n, n + 1, __ATOMIC_RELEASE);   /* the string first */
	return (int32_t)n;
}

void uplace_say(struct bpfvm_log *log, const struct ev_uprobe *p, size_t i, uint64_t *failed,
		const char *fmt, ...)
{
	char msg[PATH_MAX + 512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_printf(log, "%s (SEC(\"%s\")): cannot attach: %s\n", p[i].prog, p[i].sec, msg);
	*failed |= 1ull << i;
}
