/*
 * uplace.h - what the two placers of uprobes share (uplace.c): the
 * ptrace supervisor's (ubp.c) and the in-process agent's (inproc.c).
 * Both resolve through usym.c; both say a refusal in the same words and
 * number USDT argument strings the same way.
 */
#ifndef BPFVM_EVENTS_UPLACE_H
#define BPFVM_EVENTS_UPLACE_H

#include <stddef.h>
#include <stdint.h>

#include "events.h"

#define UPLACE_MAX_SPECS 256

/*
 * USDT argument strings by spec id, as events carry them (ev_event's
 * usdt_spec, usdt_args).  Fixed room, never moved: in process a hit on
 * one thread reads it while a rescan on another adds to it.
 */
struct uplace_specs {
	size_t n;
	char s[UPLACE_MAX_SPECS][256];
};

/* The id of args: the same string, the same id; -1 when there is no room. */
int32_t uplace_spec_id(struct uplace_specs *t, const char *args);

/*
 * Say in log that probe i of p cannot attach, and why (fmt): "PROG
 * (SEC("SEC")): cannot attach: WHY"; its bit set in *failed (not tried again).
 */
struct bpfvm_log;
__attribute__((format(printf, 5, 6))) void uplace_say(struct bpfvm_log *log,
						      const struct ev_uprobe *p, size_t i,
						      uint64_t *failed, const char *fmt, ...);

#endif
