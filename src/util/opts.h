/*
 * opts.h - how every public entry point reads its options struct, as
 * libbpf's OPTS_VALID / OPTS_GET / OPTS_SET do, so that a program built
 * against an older or newer bpfvm.h keeps working where it can and is told
 * where it cannot:
 *
 *   NULL options             every field takes its default;
 *   sz < sizeof(size_t)      refused (-EINVAL): not even sz itself fits;
 *   sz < sizeof(struct)      the fields sz covers are read, the rest take
 *                            their defaults, outputs beyond sz are not written;
 *   sz > sizeof(struct)      accepted only when the bytes this library does
 *                            not know are all zero (the caller asked for
 *                            nothing new), else -EINVAL with a message
 *                            naming the struct.
 *
 *   struct bpfvm_log *log = OPTS_GET(opts, log, NULL);
 *   if (!OPTS_VALID(opts, bpfvm_run_opts, log))
 *           return -EINVAL;
 *   mode = OPTS_GET(opts, mode, BPFVM_EXEC_CHECKED);
 *   OPTS_SET(opts, retval, r0);
 */
#ifndef BPFVM_UTIL_OPTS_H
#define BPFVM_UTIL_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include <bpfvm/bpfvm.h>

/* Is the caller's struct (of sz opts->sz, this library's known_sz) acceptable? */
bool opts_valid(const void *opts, size_t known_sz, const char *type_name, struct bpfvm_log *log);

#define OPTS_VALID(opts, type, log) opts_valid((opts), sizeof(struct type), "struct " #type, (log))

/* Does the caller's struct reach to the end of field? */
#define OPTS_HAS(opts, field)                                                           \
	((opts) && (opts)->sz >= offsetof(__typeof__(*(opts)), field) + sizeof((opts)->field))

#define OPTS_GET(opts, field, fallback) (OPTS_HAS(opts, field) ? (opts)->field : (fallback))

#define OPTS_SET(opts, field, value)                   \
	do {                                           \
		if (OPTS_HAS(opts, field))             \
			(opts)->field = (value);       \
	} while (0)

/*
 * Every field at once, for an entry point that hands its options on: *dst
 * (this library's struct) gets what the caller's covers and zeroes, every
 * field's default, for the rest; dst->sz becomes the full size.  Call after
 * OPTS_VALID.
 */
#define OPTS_COPY(dst, opts)                                                             \
	do {                                                                             \
		memset((dst), 0, sizeof(*(dst)));                                        \
		if (opts)                                                                \
			memcpy((dst), (opts), (opts)->sz < sizeof(*(dst)) ? (opts)->sz   \
									  : sizeof(*(dst))); \
		(dst)->sz = sizeof(*(dst));                                              \
	} while (0)

#endif
