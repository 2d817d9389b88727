/*
 * trace_printk.c - bpf_trace_printk, bpf_trace_vprintk and bpf_snprintf,
 * with the kernel's format rules (bpf_bprintf_prepare) and output
 * (bstr_printf):
 *
 *   %d %i %u %x %X with l or ll, %c, %s, %%, flags 0 + - space and a
 *   width, %p %px %pK %ps %pS %pB, %pks %pus (strings), %pI4 %pi4 %pI6
 *   %pi6 (addresses read through the pointer); anything else (precision,
 *   #, h, z, ...) is -EINVAL, and so are more conversions than arguments
 *   (trace_printk has 3), a format without a NUL within its size, and
 *   ASCII control characters other than whitespace.  %s must be followed
 *   by a space, punctuation or the end.  Strings and addresses are read
 *   as probe_read does (a bad pointer prints an empty string or zeros),
 *   into the kernel's 512 bytes of argument space (-ENOSPC beyond).
 *
 * The text is at most 1023 bytes; the return value is the length the
 * whole text would have (snprintf: plus the NUL).  bpfvm prints %p as the
 * pointer's value (%px): the kernel hashes it to hide its own addresses;
 * %ps/%pS/%pB print "0x" and the address, as the kernel does for an
 * address without a symbol.
 *
 * Trace output goes to the instance's trace function as one line, the way
 * /sys/kernel/tracing/trace_pipe shows it (a newline always ends it):
 *   "<comm>-<tid> [<cpu>] ..... <sec>.<usec>: bpf_trace_printk: <text>\n"
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "../vm/vm.h"
#include "helpers.h"

#define BPRINTF_MAX_ARGS 12      /* MAX_BPRINTF_VARARGS */
#define BPRINTF_BIN_ARGS 512     /* MAX_BPRINTF_BIN_ARGS */
#define BPRINTF_BUF 1024         /* MAX_BPRINTF_BUF */
#define TRACE_PRINTK_ARGS 3
#define FIELD_WIDTH_MAX ((1 << 23) - 1)

/* One conversion, as prepared: where it is in the format and what it prints. */
struct conv {
	size_t start, end;   /* fmt[start] is its '%'; end is past it */
	char flags[8];       /* the 0 + - space flags as written */
	int width;           /* -1: none */
	char type;           /* d u x X c, s (text in str), P (an address), Y (a symbol) */
	int bytes;           /* integers: 4 or 8 */
	bool is_ptr;         /* a %p form: the output skips letters and digits after it */
	uint64_t value;
	const char *str;
};

struct prepared {
	struct bpfvm *vm;
	const uint64_t *args;
	uint32_t nargs;
	struct conv conv[BPRINTF_MAX_ARGS];
	unsigned n;
	char space[BPRINTF_BIN_ARGS + 1];
	size_t used;         /* the kernel's bookkeeping of its 512 bytes */
};

static bool is_end_of_word(char c)
{
	return !c || isspace((unsigned char)c) || ispunct((unsigned char)c);
}

/* An integer's room: 4-byte aligned, 4 or 8 bytes. */
static int take_int_space(struct prepared *p, int bytes)
{
	p->used = (p->used + 3) & ~(size_t)3;
	if (BPRINTF_BIN_ARGS - p->used < (size_t)bytes)
		return -ENOSPC;
	p->used += (size_t)bytes;
	return 0;
}

/* %s, %pks, %pus: the string is copied now, as the kernel copies it. */
static int prepare_string(struct prepared *p, struct conv *c, char ptype)
{
	char *dst = p->space + p->used;
	long n;

	if (p->used == BPRINTF_BIN_ARGS)
		return -ENOSPC;
	n = helper_copy_str_nofault(p->vm, dst, c->value, BPRINTF_BIN_ARGS - p->used, ptype != 'k');
	if (n < 0) {
		dst[0] = '\0';
		n = 1;
	}
	c->type = 's';
	c->str = dst;
	p->used += (size_t)n;
	if (p->used >= BPRINTF_BIN_ARGS)   /* a truncated string keeps its NUL */
		p->space[BPRINTF_BIN_ARGS - 1] = '\0';
	return 0;
}

/* %pI4 %pi4 %pI6 %pi6: the address bytes, read now, formatted as text. */
static int prepare_ip(struct prepared *p, struct conv *c, char kind, char ver)
{
	uint8_t ip[16];
	size_t len = ver == '4' ? 4 : 16, n = 0;
	char *dst = p->space + p->used;
	size_t room = BPRINTF_BIN_ARGS - p->used;

	if (room < len)
		return -ENOSPC;
	if (helper_copy_nofault(p->vm, ip, c->value, len))
		memset(ip, 0, sizeof(ip));
	if (ver == '4')
		n = (size_t)snprintf(dst, room, kind == 'I' ? "%u.%u.%u.%u" : "%03u.%03u.%03u.%03u",
				     ip[0], ip[1], ip[2], ip[3]);
	for (size_t i = 0; ver == '6' && i < 16; i += 2)
		n += (size_t)snprintf(dst + (n < room ? n : room), n < room ? room - n : 0, "%s%02x%02x",
				      kind == 'I' && i ? ":" : "", ip[i], ip[i + 1]);
	c->type = 's';
	c->str = dst;
	p->used += (n + 1 < room ? n + 1 : room);
	return 0;
}

/* The forms of %p; *i is at the 'p' and moves to the last character of the form. */
static int prepare_pointer(struct prepared *p, struct conv *c, const char *fmt, size_t *i)
{
	const char *f = fmt + *i;

	if (is_end_of_word(f[1]) || f[1] == 'K' || f[1] == 'x' || f[1] == 's' || f[1] == 'S' ||
	    f[1] == 'B') {
		c->type = (f[1] == 's' || f[1] == 'S' || f[1] == 'B') ? 'Y' : 'P';
		*i += !is_end_of_word(f[1]);
		return f[1] == 'B' ? 0 : take_int_space(p, 8);
	}
	if ((f[1] == 'k' || f[1] == 'u') && f[2] == 's') {
		*i += 2;
		if (!is_end_of_word(f[3]))
			return -EINVAL;
		return prepare_string(p, c, f[1]);
	}
	if ((f[1] != 'i' && f[1] != 'I') || (f[2] != '4' && f[2] != '6'))
		return -EINVAL;
	*i += 2;
	return prepare_ip(p, c, f[1], f[2]);
}

/* One conversion; *i is past its '%' and moves to its last character. */
static int prepare_conv(struct prepared *p, struct conv *c, const char *fmt, size_t *i)
{
	size_t nflags = 0;

	if (fmt[*i] & 0x80)
		return -EINVAL;
	while (strchr("0+- ", fmt[*i]) && fmt[*i]) {
		if (nflags < sizeof(c->flags) - 1)
			c->flags[nflags++] = fmt[*i];
		(*i)++;
	}
	c->width = -1;
	if (fmt[*i] >= '1' && fmt[*i] <= '9')
		for (c->width = 0; isdigit((unsigned char)fmt[*i]); (*i)++)
			c->width = c->width >= FIELD_WIDTH_MAX / 10 ? FIELD_WIDTH_MAX
								    : c->width * 10 + (fmt[*i] - '0');
	if (fmt[*i] == 'p') {
		c->is_ptr = true;
		return prepare_pointer(p, c, fmt, i);
	}
	if (fmt[*i] == 's')
		return is_end_of_word(fmt[*i + 1]) ? prepare_string(p, c, 's') : -EINVAL;
	if (fmt[*i] == 'c') {
		c->type = 'c';
		return p->used == BPRINTF_BIN_ARGS ? -ENOSPC : (p->used++, 0);
	}
	c->bytes = 4;
	for (int l = 0; l < 2 && fmt[*i] == 'l'; l++, (*i)++)
		c->bytes = 8;
	if (!fmt[*i] || !strchr("iduxX", fmt[*i]))
		return -EINVAL;
	c->type = fmt[*i] == 'i' ? 'd' : fmt[*i];
	return take_int_space(p, c->bytes);
}

/* bpf_bprintf_prepare: check the format, take the arguments. */
static int prepare(struct prepared *p, const char *fmt, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)fmt[i];
		struct conv *c;
		int err;

		if (ch < 0x80 && !isprint(ch) && !isspace(ch))
			return -EINVAL;
		if (ch != '%')
			continue;
		if (fmt[i + 1] == '%') {
			i++;
			continue;
		}
		if (p->n >= p->nargs)
			return -EINVAL;
		c = &p->conv[p->n];
		memset(c, 0, sizeof(*c));
		c->start = i++;
		c->value = p->args[p->n];
		err = prepare_conv(p, c, fmt, &i);
		if (err)
			return err;
		c->end = i + 1;
		while (c->is_ptr && isalnum((unsigned char)fmt[c->end]))   /* as bstr_printf */
			c->end++;
		p->n++;
	}
	return 0;
}

/* ---- output -------------------------------------------------------------- */

/* Text into a buffer of size bytes, counting what does not fit. */
struct sink {
	char *buf;
	size_t size;
	size_t len;
};

static char *sink_pos(const struct sink *o, size_t *room)
{
	*room = o->len < o->size ? o->size - o->len : 0;
	return *room ? o->buf + o->len : NULL;
}

__attribute__((format(printf, 2, 3))) static void sink_printf(struct sink *o, const char *f, ...)
{
	size_t room;
	char *dst = sink_pos(o, &room);
	va_list ap;
	int n;

	va_start(ap, f);
	n = vsnprintf(dst, room, f, ap);
	va_end(ap);
	if (n > 0)
		o->len += (size_t)n;
}

static void sink_putc(struct sink *o, char ch)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = ch;
	o->len++;
}

/* Text between conversions: "%%" prints one '%'. */
static void render_text(struct sink *o, const char *fmt, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++) {
		sink_putc(o, fmt[i]);
		if (fmt[i] == '%' && fmt[i + 1] == '%')
			i++;
	}
}

static void render_conv(struct sink *o, const struct conv *c)
{
	const char *left = strchr(c->flags, '-') ? "-" : "";
	char spec[32], text[24];

	switch (c->type) {
	case 'c':
		sink_printf(o, left[0] ? "%-*c" : "%*c", c->width < 0 ? 0 : c->width,
			    (unsigned char)c->value);
		return;
	case 'Y':
		snprintf(text, sizeof(text), "0x%016llx", (unsigned long long)c->value);
		sink_printf(o, left[0] ? "%-*s" : "%*s", c->width < 0 ? 0 : c->width, text);
		return;
	case 's':
		sink_printf(o, left[0] ? "%-*s" : "%*s", c->width < 0 ? 0 : c->width, c->str);
		return;
	case 'P':
		if (c->width < 0) {
			sink_printf(o, "%016llx", (unsigned long long)c->value);
			return;
		}
		snprintf(spec, sizeof(spec), "%%%s%dllx", c->flags, c->width);
		break;
	default:
		snprintf(spec, sizeof(spec), "%%%s%.0d%s%c", c->flags, c->width < 0 ? 0 : c->width,
			 c->bytes == 8 ? "ll" : "", c->type);
		break;
	}
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	if (c->type == 'd' && c->bytes == 4)
		sink_printf(o, spec, (int)(int32_t)c->value);
	else if (c->type == 'd')
		sink_printf(o, spec, (long long)c->value);
	else if (c->bytes == 4)
		sink_printf(o, spec, (unsigned)c->value);
	else
		sink_printf(o, spec, (unsigned long long)c->value);
#pragma GCC diagnostic pop
}

long helper_bprintf(struct bpfvm *vm, char *out, size_t out_size, const char *fmt,
		    uint64_t fmt_size, const uint64_t *args, uint32_t nargs)
{
	struct prepared *p;
	struct sink o = { out, out_size, 0 };
	size_t len = strnlen(fmt, fmt_size < SIZE_MAX ? (size_t)fmt_size : SIZE_MAX), pos = 0;
	int err;

	if (len == fmt_size)   /* no NUL within the size */
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->vm = vm;
	p->args = args;
	p->nargs = nargs;
	err = prepare(p, fmt, len);
	for (unsigned k = 0; !err && k < p->n; k++) {
		render_text(&o, fmt, pos, p->conv[k].start);
		render_conv(&o, &p->conv[k]);
		pos = p->conv[k].end;
	}
	if (!err)
		render_text(&o, fmt, pos, len);
	if (!err && out_size)
		out[o.len < out_size ? o.len : out_size - 1] = '\0';
	free(p);
	return err ? err : (long)o.len;
}

/* The trace_pipe line of a bpf_trace_printk event. */
static void trace_emit(struct bpfvm_run_ctx *run, const char *text)
{
	struct bpfvm *vm = run->vm;
	char comm[17] = { 0 }, line[BPRINTF_BUF + 128];
	struct timespec ts;
	int n, tid = (int)gettid(), cpu = run->cpu;

	if (!vm->trace)
		return;
	if (run->task_ops) {   /* the traced task's comm, tid and CPU, as trace_pipe shows them */
		run->task_ops->comm(run->task, comm);
		tid = (int)(uint32_t)run->task_ops->pid_tgid(run->task);
		cpu = (int)run->task_ops->cpu(run->task);
	} else {
		prctl(PR_GET_NAME, comm);
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	n = snprintf(line, sizeof(line), "%16s-%-7d [%03d] ..... %5llu.%06llu: bpf_trace_printk: %s\n",
		     comm, tid, cpu, (unsigned long long)ts.tv_sec,
		     (unsigned long long)ts.tv_nsec / 1000, text);
	if (n >= (int)sizeof(line))
		n = (int)sizeof(line) - 1;
	vm->trace(vm->trace_ctx, line, (size_t)n);
}

BPF_HELPER(trace_printk)
{
	const uint64_t args[TRACE_PRINTK_ARGS] = { r3, r4, r5 };
	char buf[BPRINTF_BUF];
	long n = helper_bprintf(run->vm, buf, sizeof(buf), (const char *)(uintptr_t)r1,
				(uint32_t)r2, args, TRACE_PRINTK_ARGS);

	if (n >= 0)
		trace_emit(run, buf);
	return HELPER_ERR(n);
}

/* vprintk and snprintf: up to 12 arguments in an array of u64. */
static int load_args(uint64_t *args, uint64_t ptr, uint64_t data_len)
{
	if ((data_len & 7) || data_len > BPRINTF_MAX_ARGS * 8 || (data_len && !ptr))
		return -EINVAL;
	if (data_len)
		memcpy(args, (const void *)(uintptr_t)ptr, data_len);
	return (int)(data_len / 8);
}

BPF_HELPER(trace_vprintk)
{
	uint64_t args[BPRINTF_MAX_ARGS];
	char buf[BPRINTF_BUF];
	int nargs = load_args(args, r3, (uint32_t)r4);
	long n;

	if (nargs < 0)
		return HELPER_ERR(nargs);
	n = helper_bprintf(run->vm, buf, sizeof(buf), (const char *)(uintptr_t)r1, (uint32_t)r2,
			   args, (uint32_t)nargs);
	if (n >= 0)
		trace_emit(run, buf);
	return HELPER_ERR(n);
}

BPF_HELPER(snprintf)
{
	uint64_t args[BPRINTF_MAX_ARGS];
	int nargs = load_args(args, r4, (uint32_t)r5);
	long n;

	if (nargs < 0)
		return HELPER_ERR(nargs);
	n = helper_bprintf(run->vm, (char *)(uintptr_t)r1, (uint32_t)r2,
			   (const char *)(uintptr_t)r3, UINT64_MAX, args, (uint32_t)nargs);
	return HELPER_ERR(n < 0 ? n : n + 1);
}
