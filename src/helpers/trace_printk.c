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
 *   into the kernel's 512 bytes of argument space (-ENOSPC beyond), laid
 *   out as the kernel lays it out and read back in the same order.
 *
 * The text is at most 1023 bytes; the return value is the length the
 * whole text would have (snprintf: plus the NUL).  bpfvm prints %p and
 * %pK as the pointer's value (%px): the kernel hashes them, except NULL
 * and error values; %ps/%pS/%pB print "0x" and the address, as the kernel
 * does for an address without a symbol.
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

#include "../core/run.h"
#include "helpers.h"

#define BPRINTF_MAX_ARGS 12      /* MAX_BPRINTF_VARARGS */
#define BPRINTF_BIN_ARGS 512     /* MAX_BPRINTF_BIN_ARGS */
#define BPRINTF_BUF 1024         /* MAX_BPRINTF_BUF */
#define TRACE_PRINTK_ARGS 3
#define FIELD_WIDTH_MAX ((1 << 23) - 1)

/*
 * One conversion, as prepared: where it is in the format and how it
 * prints.  Its value is in the argument buffer, where the kernel puts it.
 */
struct conv {
	size_t start, end;   /* fmt[start] is its '%'; end is past it */
	char flags[8];       /* the 0 + - space flags as written */
	int width;           /* -1: none */
	char type;           /* d u x X c, s (a string), T (text formatted when prepared:
				%pI4 %pks %pB ...), P (an address), Y (a symbol) */
	int bytes;           /* integers: 4 or 8 */
	bool is_ptr;         /* a %p form: the output skips letters and digits after it */
};

/*
 * The kernel's binary argument buffer (bin_args): integers and addresses
 * 4-byte aligned, characters as one byte, strings and preformatted text
 * inline with their NUL.  The output reads it back in order, as
 * bstr_printf does, so that how much room each argument took decides what
 * the next one reads (an empty %pus string takes none).
 */
struct prepared {
	struct bpfvm *vm;
	const uint64_t *args;
	uint32_t nargs;
	struct conv conv[BPRINTF_MAX_ARGS];
	unsigned n;
	char space[BPRINTF_BIN_ARGS + 16];   /* zeros past the end: reads stay inside */
	size_t used;
};

static bool is_end_of_word(char c)
{
	return !c || isspace((unsigned char)c) || ispunct((unsigned char)c);
}

/* An integer's or an address's room: 4-byte aligned, 4 or 8 bytes. */
static int put_int(struct prepared *p, uint64_t value, int bytes)
{
	uint32_t lo = (uint32_t)value, hi = (uint32_t)(value >> 32);

	p->used = (p->used + 3) & ~(size_t)3;
	if (p->used > BPRINTF_BIN_ARGS || BPRINTF_BIN_ARGS - p->used < (size_t)bytes)
		return -ENOSPC;
	memcpy(p->space + p->used, &lo, 4);
	if (bytes == 8)
		memcpy(p->space + p->used + 4, &hi, 4);
	p->used += (size_t)bytes;
	return 0;
}

/*
 * %s, %pks, %pus: the string is copied now, as the kernel copies it.  A
 * BPF program's pointers (stack, map values, context, packet) are kernel
 * addresses in the kernel, so %s copies as from kernel memory: an empty
 * string takes its NUL.  %pus copies as from user memory, where the
 * kernel counts an empty string as 0 bytes.
 */
static int prepare_string(struct prepared *p, struct conv *c, uint64_t ptr, char ptype)
{
	char *dst = p->space + p->used;
	long n;

	if (p->used >= BPRINTF_BIN_ARGS)
		return -ENOSPC;
	n = helper_copy_str_nofault(p->vm, dst, ptr, BPRINTF_BIN_ARGS - p->used, ptype == 'u');
	if (n < 0) {
		dst[0] = '\0';
		n = 1;
	}
	c->type = 's';
	p->used += (size_t)n;
	return 0;
}

/* Text formatted now (%pI4 ..., %pB): the kernel's snprintf into the buffer, its NUL after. */
static void put_text(struct prepared *p, struct conv *c, const char *text)
{
	size_t room = p->used < BPRINTF_BIN_ARGS ? BPRINTF_BIN_ARGS - p->used : 0;
	size_t len = strlen(text);

	if (room)
		snprintf(p->space + p->used, room, "%s", text);
	c->type = 'T';
	p->used += len + 1;   /* as the kernel: the length it would have had */
	if (p->used > BPRINTF_BIN_ARGS)
		p->used = BPRINTF_BIN_ARGS;
}

/* %pI4 %pi4 %pI6 %pi6: the address bytes, read now, formatted as text. */
static int prepare_ip(struct prepared *p, struct conv *c, uint64_t ptr, char kind, char ver)
{
	uint8_t ip[16];
	size_t len = ver == '4' ? 4 : 16, n = 0;
	char text[48];

	if (p->used > BPRINTF_BIN_ARGS || BPRINTF_BIN_ARGS - p->used < len)
		return -ENOSPC;
	if (helper_copy_nofault(p->vm, ip, ptr, len))
		memset(ip, 0, sizeof(ip));
	if (ver == '4')
		snprintf(text, sizeof(text), kind == 'I' ? "%u.%u.%u.%u" : "%03u.%03u.%03u.%03u",
			 ip[0], ip[1], ip[2], ip[3]);
	for (size_t i = 0; ver == '6' && i < 16; i += 2)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%s%02x%02x",
				      kind == 'I' && i ? ":" : "", ip[i], ip[i + 1]);
	put_text(p, c, text);
	return 0;
}

/* The forms of %p; *i is at the 'p' and moves to the last character of the form. */
static int prepare_pointer(struct prepared *p, struct conv *c, const char *fmt, size_t *i,
			   uint64_t value)
{
	const char *f = fmt + *i;
	char text[24];

	if (is_end_of_word(f[1]) || f[1] == 'K' || f[1] == 'x' || f[1] == 's' || f[1] == 'S') {
		c->type = (f[1] == 's' || f[1] == 'S') ? 'Y' : 'P';
		*i += !is_end_of_word(f[1]);
		return put_int(p, value, 8);
	}
	if (f[1] == 'B') {   /* no symbols here: the address, as the kernel prints one without */
		snprintf(text, sizeof(text), "0x%llx", (unsigned long long)value);
		put_text(p, c, text);
		*i += 1;
		return 0;
	}
	if ((f[1] == 'k' || f[1] == 'u') && f[2] == 's') {
		*i += 2;
		if (!is_end_of_word(f[3]))
			return -EINVAL;
		return prepare_string(p, c, value, f[1]);
	}
	if ((f[1] != 'i' && f[1] != 'I') || (f[2] != '4' && f[2] != '6'))
		return -EINVAL;
	*i += 2;
	return prepare_ip(p, c, value, f[1], f[2]);
}

/* One conversion; *i is past its '%' and moves to its last character. */
static int prepare_conv(struct prepared *p, struct conv *c, const char *fmt, size_t *i,
			uint64_t value)
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
		return prepare_pointer(p, c, fmt, i, value);
	}
	if (fmt[*i] == 's')
		return is_end_of_word(fmt[*i + 1]) ? prepare_string(p, c, value, 's') : -EINVAL;
	if (fmt[*i] == 'c') {
		c->type = 'c';
		if (p->used >= BPRINTF_BIN_ARGS)
			return -ENOSPC;
		p->space[p->used++] = (char)value;
		return 0;
	}
	c->bytes = 4;
	for (int l = 0; l < 2 && fmt[*i] == 'l'; l++, (*i)++)
		c->bytes = 8;
	if (!fmt[*i] || !strchr("iduxX", fmt[*i]))
		return -EINVAL;
	c->type = fmt[*i] == 'i' ? 'd' : fmt[*i];
	return put_int(p, value, c->bytes);
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
		err = prepare_conv(p, c, fmt, &i, p->args[p->n]);
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

/* The argument buffer read back in order, as bstr_printf's get_arg reads it. */
struct reader {
	const char *space;
	size_t at;
};

static uint64_t get_int(struct reader *r, int bytes)
{
	uint32_t lo = 0, hi = 0;

	r->at = (r->at + 3) & ~(size_t)3;
	if (r->at + (size_t)bytes <= BPRINTF_BIN_ARGS) {
		memcpy(&lo, r->space + r->at, 4);
		if (bytes == 8)
			memcpy(&hi, r->space + r->at + 4, 4);
	}
	r->at += (size_t)bytes;
	return (uint64_t)hi << 32 | lo;
}

/* The string at the reader (the space ends in zeros: never past it). */
static const char *get_str(struct reader *r, size_t *len)
{
	size_t at = r->at < BPRINTF_BIN_ARGS ? r->at : BPRINTF_BIN_ARGS;

	*len = strnlen(r->space + at, BPRINTF_BIN_ARGS - at);
	return r->space + at;
}

static void render_number(struct sink *o, const struct conv *c, uint64_t value)
{
	char spec[32];

	if (c->type == 'P' && c->width < 0) {   /* pointer_string: 16 digits */
		sink_printf(o, "%016llx", (unsigned long long)value);
		return;
	}
	if (c->type == 'P')
		snprintf(spec, sizeof(spec), "%%%s%dllx", c->flags, c->width);
	else
		snprintf(spec, sizeof(spec), "%%%s%.0d%s%c", c->flags, c->width < 0 ? 0 : c->width,
			 c->bytes == 8 ? "ll" : "", c->type);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	if (c->type == 'd' && c->bytes == 4)
		sink_printf(o, spec, (int)(int32_t)value);
	else if (c->type == 'd')
		sink_printf(o, spec, (long long)value);
	else if (c->bytes == 4 && c->type != 'P')
		sink_printf(o, spec, (unsigned)value);
	else
		sink_printf(o, spec, (unsigned long long)value);
#pragma GCC diagnostic pop
}

static void render_conv(struct sink *o, const struct conv *c, struct reader *r)
{
	int width = c->width < 0 ? 0 : c->width;
	bool left = strchr(c->flags, '-');
	char text[24];
	const char *str;
	size_t len;

	switch (c->type) {
	case 'c':
		sink_printf(o, left ? "%-*c" : "%*c", width,
			    (unsigned char)(r->at < BPRINTF_BIN_ARGS ? r->space[r->at] : 0));
		r->at++;
		return;
	case 'Y':   /* no symbols here: the address, as the kernel prints one without */
		snprintf(text, sizeof(text), "0x%llx", (unsigned long long)get_int(r, 8));
		sink_printf(o, left ? "%-*s" : "%*s", width, text);
		return;
	case 's':
		str = get_str(r, &len);
		r->at += len + 1;
		sink_printf(o, left ? "%-*s" : "%*s", width, str);
		return;
	case 'T':   /* preformatted: no width; and where the output is full, not even read */
		if (o->len >= o->size)
			return;
		str = get_str(r, &len);
		r->at += len + 1;
		sink_printf(o, "%s", str);
		return;
	default:
		render_number(o, c, get_int(r, c->type == 'P' || c->type == 'Y' ? 8 : c->bytes));
	}
}

long helper_bprintf(struct bpfvm *vm, char *out, size_t out_size, const char *fmt,
		    uint64_t fmt_size, const uint64_t *args, uint32_t nargs)
{
	struct prepared *p;
	struct sink o = { out, out_size, 0 };
	struct reader r;
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
	r.space = p->space;
	r.at = 0;
	err = prepare(p, fmt, len);
	for (unsigned k = 0; !err && k < p->n; k++) {
		render_text(&o, fmt, pos, p->conv[k].start);
		render_conv(&o, &p->conv[k], &r);
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
