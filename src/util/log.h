/*
 * log.h - appending formatted messages to a caller's struct bpfvm_log.
 */
#ifndef BPFVM_UTIL_LOG_H
#define BPFVM_UTIL_LOG_H

#include <stdarg.h>

#include <bpfvm/bpfvm.h>

__attribute__((format(printf, 2, 3))) void log_printf(struct bpfvm_log *log, const char *fmt, ...);
void log_vprintf(struct bpfvm_log *log, const char *fmt, va_list ap);

#endif
