/*
 * cmd_seccomp.c - `bpfvm seccomp check FILTER --syscall NAME[,ARG...]` and
 * `bpfvm seccomp dump FILTER`: a seccomp filter (classic, in any form
 * cli_load_cbpf reads; libseccomp's seccomp_export_bpf writes the raw one)
 * checked as the kernel's seccomp_check_filter checks it, converted as
 * bpf_convert_filter converts it, verified, and run on struct seccomp_data
 * as the kernel fills it for an x86-64 system call.  dump runs every
 * system call number with zero arguments, and walks the classic program
 * with the arguments and instruction pointer unknown to say which calls'
 * actions depend on them.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpfvm/cbpf.h>
#include <bpfvm/syscalls.h>

#include "cli.h"

struct sc_filter {
	struct bpfvm *vm;
	struct bpfvm_prog *prog;
	struct bpfvm_sock_filter *f; /* after seccomp's rewriting */
	size_t cnt;
};

static void sc_close(struct sc_filter *s)
{
	bpfvm__destroy(s->vm);
	free(s->f);
}

static int sc_open(const char *path, struct sc_filter *s)
{
	*s = (struct sc_filter){ 0 };
	if (cli_load_cbpf(path, true, &s->f, &s->cnt))
		return -1;
	s->vm = bpfvm__new(NULL);
	if (!s->vm || !(s->prog = cli_cbpf_prog(s->vm, s->f, s->cnt, path)))
		return -1;
	/* a converted seccomp filter reads only seccomp_data and the stack: bpfvm's verifier proves it */
	return cli_verify_for_run(s->prog, NULL, path, BPFVM_VERIFY_MEM,
				  sizeof(struct bpfvm_seccomp_data)) ? -1 : 0;
}

static int sc_run(const struct sc_filter *s, const struct bpfvm_seccomp_data *sd, uint32_t *ret)
{
	char logbuf[512] = "";
	struct bpfvm_log log = { logbuf, sizeof(logbuf), 0 };
	BPFVM_OPTS(bpfvm_cbpf_opts, copts, .log = &log);
	int err = bpfvm_cbpf_run_seccomp(s->prog, sd, BPFVM_EXEC_UNCHECKED, ret, &copts);

	if (err)
		fprintf(stderr, "bpfvm: seccomp filter run failed: %s\n", logbuf);
	return err;
}

/* "openat,0x3,-1": the number and the arguments (unsigned 64-bit; -N wraps as in C). */
static int parse_syscall(const char *spec, struct bpfvm_seccomp_data *sd)
{
	char *copy = strdup(spec), *save = NULL, *tok;
	int n = 0, err = 0;

	if (!copy)
		return -1;
	for (tok = strtok_r(copy, ",", &save); tok && !err; tok = strtok_r(NULL, ",", &save), n++) {
		char *end;
		uint64_t v;

		errno = 0;
		v = *tok == '-' ? (uint64_t)strtoll(tok, &end, 0) : strtoull(tok, &end, 0);
		if (n == 0) {
			int nr = bpfvm_syscall_x86_64_nr(tok);
			if (nr < 0 && (errno || *end || end == tok)) {
				fprintf(stderr, "bpfvm seccomp: unknown x86-64 system call '%s'\n", tok);
				err = -1;
			}
			sd->nr = nr >= 0 ? nr : (int32_t)v;
		} else if (n > 6 || errno || *end || end == tok) {
			fprintf(stderr, "bpfvm seccomp: argument %d: '%s' is %s\n", n - 1, tok,
				n > 6 ? "beyond the six a system call has" : "not a number");
			err = -1;
		} else {
			sd->args[n - 1] = v;
		}
	}
	free(copy);
	return err;
}

static int cmd_check(int argc, char **argv)
{
	struct bpfvm_seccomp_data sd = { .arch = BPFVM_AUDIT_ARCH_X86_64 };
	const char *path = NULL, *spec = NULL;
	struct sc_filter s;
	uint32_t ret;
	char act[64];
	int status = 1;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--syscall") && i + 1 < argc)
			spec = argv[++i];
		else if (!strcmp(argv[i], "--arch") && i + 1 < argc) {
			if (strcmp(argv[++i], "x86_64")) {
				fprintf(stderr, "bpfvm seccomp: only --arch x86_64 is known, not '%s'\n", argv[i]);
				return 1;
			}
		} else if (argv[i][0] != '-' && !path)
			path = argv[i];
		else
			return cli_usage("seccomp");
	}
	if (!path || !spec)
		return cli_usage("seccomp");
	if (parse_syscall(spec, &sd))
		return 1;
	if (!sc_open(path, &s) && !sc_run(&s, &sd, &ret)) {
		bpfvm_seccomp_action_str(ret, act, sizeof(act));
		printf("%s (0x%08x)\n", act, ret);
		status = 0;
	}
	sc_close(&s);
	return status;
}

/*
 * The returns a classic seccomp program can reach for one nr, arch known
 * and everything else unknown: a walk of both sides of every jump that
 * tests an unknown value.  Jumps go forward, so the walk ends; its size
 * is bounded by budget.
 */
struct walk {
	const struct bpfvm_sock_filter *f;
	size_t cnt;
	uint32_t nr;
	uint32_t rets[16];
	size_t nrets;
	bool unknown_ret, depends;
	long budget;
};

struct val {
	bool known;
	uint32_t v;
};

static struct val alu(uint16_t op, struct val a, struct val b)
{
	if (!a.known || !b.known)
		return (struct val){ false, 0 };
	switch (op) {
	case 0x00: return (struct val){ true, a.v + b.v };
	case 0x10: return (struct val){ true, a.v - b.v };
	case 0x20: return (struct val){ true, a.v * b.v };
	case 0x30: return (struct val){ true, b.v ? a.v / b.v : 0 };
	case 0x40: return (struct val){ true, a.v | b.v };
	case 0x50: return (struct val){ true, a.v & b.v };
	case 0x60: return (struct val){ true, b.v < 32 ? a.v << b.v : 0 };
	case 0x70: return (struct val){ true, b.v < 32 ? a.v >> b.v : 0 };
	case 0x80: return (struct val){ true, -a.v };
	case 0xa0: return (struct val){ true, a.v ^ b.v };
	}
	return (struct val){ false, 0 };
}

static void add_ret(struct walk *w, uint32_t r)
{
	for (size_t i = 0; i < w->nrets; i++)
		if (w->rets[i] == r)
			return;
	if (w->nrets < 16)
		w->rets[w->nrets++] = r;
}

static void walk_from(struct walk *w, size_t pc, struct val a, struct val x, struct val *mem)
{
	struct val m[BPFVM_CBPF_MEMWORDS];

	memcpy(m, mem, sizeof(m));
	for (; pc < w->cnt; pc++) {
		const struct bpfvm_sock_filter *t = &w->f[pc];
		struct val k = { true, t->k }, src = (t->code & 0x08) ? x : k;
		uint8_t cls = t->code & 7;

		if (--w->budget < 0)
			return;
		if (t->code == 0x21) /* ld [k] of seccomp_data: nr and arch are known */
			a = t->k == 0 ? (struct val){ true, w->nr }
			  : t->k == 4 ? (struct val){ true, BPFVM_AUDIT_ARCH_X86_64 } : (struct val){ false, 0 };
		else if (cls == BPFVM_ALU) {
			/* the conversion returns 0 on division by X = 0 */
			if (t->code == (BPFVM_ALU | BPFVM_DIV | BPFVM_X) && (!x.known || !x.v)) {
				add_ret(w, 0);
				if (x.known)
					return;
				w->depends = true;
			}
			a = alu(t->code & 0xf0, a, src);
		}
		else if (t->code == 0x00 || t->code == 0x01)
			*(t->code ? &x : &a) = k;
		else if (t->code == 0x60 || t->code == 0x61)
			*(t->code == 0x61 ? &x : &a) = m[t->k];
		else if (t->code == 0x02 || t->code == 0x03)
			m[t->k] = t->code == 0x02 ? a : x;
		else if (t->code == 0x07)
			x = a;
		else if (t->code == 0x87)
			a = x;
		else if (t->code == 0x06 || t->code == 0x16) {
			if (t->code == 0x16 && !a.known)
				w->unknown_ret = true;
			else
				add_ret(w, t->code == 0x06 ? t->k : a.v);
			return;
		} else if (t->code == 0x05)
			pc += t->k;
		else if (cls == BPFVM_JMP) {
			bool taken;

			if (!a.known || !src.known) {
				w->depends = true;
				walk_from(w, pc + 1 + t->jt, a, x, m);
				pc += t->jf;
				continue;
			}
			switch (t->code & 0xf0) {
			case 0x10: taken = a.v == src.v; break;
			case 0x20: taken = a.v > src.v; break;
			case 0x30: taken = a.v >= src.v; break;
			default: taken = (a.v & src.v) != 0; break;
			}
			pc += taken ? t->jt : t->jf;
		}
	}
}

static void print_row(const struct sc_filter *s, int nr, const char *name)
{
	struct bpfvm_seccomp_data sd = { .nr = nr, .arch = BPFVM_AUDIT_ARCH_X86_64 };
	struct val mem[BPFVM_CBPF_MEMWORDS] = { 0 };
	struct walk w = { s->f, s->cnt, (uint32_t)nr, { 0 }, 0, false, false, 1L << 20 };
	char act[64], other[64];
	uint32_t ret;

	if (sc_run(s, &sd, &ret))
		return;
	bpfvm_seccomp_action_str(ret, act, sizeof(act));
	walk_from(&w, 0, (struct val){ true, 0 }, (struct val){ true, 0 }, mem);
	printf("%4d  %-24s %s", nr, name, act);
	if (w.budget < 0)
		printf("  (too many paths to say whether it depends on the arguments)");
	else if (w.nrets > 1 || w.unknown_ret) {
		printf("  (depends on the arguments:");
		for (size_t i = 0; i < w.nrets; i++) {
			bpfvm_seccomp_action_str(w.rets[i], other, sizeof(other));
			printf(" %s", other);
		}
		printf("%s)", w.unknown_ret ? " or a computed value" : "");
	}
	printf("\n");
}

static int cmd_dump(int argc, char **argv)
{
	struct sc_filter s;
	int max = bpfvm_syscall_x86_64_max(), status = 1;

	if (argc != 2 || argv[1][0] == '-')
		return cli_usage("seccomp");
	if (!sc_open(argv[1], &s)) {
		printf("  nr  %-24s action (arch x86_64, arguments 0)\n", "system call");
		for (int nr = 0; nr < max; nr++) {
			const char *name = bpfvm_syscall_x86_64_name(nr);
			if (name)
				print_row(&s, nr, name);
		}
		status = 0;
	}
	sc_close(&s);
	return status;
}

int cmd_seccomp(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "check"))
		return cmd_check(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "dump"))
		return cmd_dump(argc - 1, argv + 1);
	return cli_usage("seccomp");
}
