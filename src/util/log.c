/*
 * log.c - the library's only output channel: messages appended to a buffer
 * the caller owns, truncated (never overflowing) when it is full.
 */
#include "log.h"

#include <stdio.h>

void log_vprintf(struct bpfvm_log *log, const char *fmt, va_list ap)
{
	size_t room;
	int n;

	if (!log || !log->buf || !log->size)
		return;
	room = log->len < log->size ? log->size - log->len : 0;
	n = vsnprintf(room ? log->buf + log->len : NULL, room, fmt, ap);
	if (n > 0)
		log->len += (size_t)n;
	if (log->len >= log->size)
		log->buf[log->size - 1] = '\0';
}

void log_printf(struct bpfvm_log *log, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vprintf(log, fmt, ap);
	va_end(ap);
}

void bpfvm_log__reset(struct bpfvm_log *log)
{
	if (!log)
		return;
	log->len = 0;
	if (log->buf && log->size)
		log->buf[0] = '\0';
}
