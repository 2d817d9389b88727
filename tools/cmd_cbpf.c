/*
 * cmd_cbpf.c - classic BPF on the command line: `bpfvm run --filter EXPR
 * --pcap FILE` (EXPR compiled by libpcap for the capture's link type and
 * snap length, as tcpdump -r compiles it), `bpfvm run --cbpf FILE --pcap
 * FILE`, and `bpfvm disasm --cbpf FILE` (the classic program as tcpdump -d
 * prints it, then the eBPF program the kernel converts it to).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpfvm/cbpf.h>

#include "cli.h"

int cli_cbpf_check(struct bpfvm_sock_filter *f, size_t cnt, bool seccomp, const char *what)
{
	char logbuf[1024] = "";
	struct bpfvm_log log = { logbuf, sizeof(logbuf), 0 };
	BPFVM_OPTS(bpfvm_cbpf_opts, copts, .log = &log);
	int err = bpfvm_cbpf_check(f, cnt, &copts);

	if (!err && seccomp)
		err = bpfvm_cbpf_seccomp_check(f, cnt, &copts);
	if (err)
		fprintf(stderr, "bpfvm: %s: classic program refused (the kernel: EINVAL): %s", what, logbuf);
	return err ? -1 : 0;
}

int cli_load_cbpf(const char *path, bool seccomp, struct bpfvm_sock_filter **f, size_t *cnt)
{
	char logbuf[1024] = "";
	struct bpfvm_log log = { logbuf, sizeof(logbuf), 0 };
	BPFVM_OPTS(bpfvm_cbpf_opts, copts, .log = &log);
	size_t len;
	uint8_t *data = cli_read_file(path, &len);
	int err;

	if (!data)
		return -1;
	err = bpfvm_cbpf_parse(data, len, f, cnt, &copts);
	free(data);
	if (err) {
		fprintf(stderr, "bpfvm: %s: %s", path, logbuf);
		return -1;
	}
	if (cli_cbpf_check(*f, *cnt, seccomp, path)) {
		free(*f);
		*f = NULL;
		return -1;
	}
	return 0;
}

struct bpfvm_prog *cli_cbpf_prog(struct bpfvm *vm, const struct bpfvm_sock_filter *f, size_t cnt,
				 const char *name)
{
	char logbuf[1024] = "";
	struct bpfvm_log log = { logbuf, sizeof(logbuf), 0 };
	BPFVM_OPTS(bpfvm_cbpf_opts, copts, .log = &log);
	struct bpfvm_insn *insns;
	struct bpfvm_prog *prog;
	size_t n;

	if (bpfvm_cbpf__register_fns(vm) || bpfvm_cbpf_convert(f, cnt, NULL, &insns, &n, NULL, &copts)) {
		fprintf(stderr, "bpfvm: %s: %s", name, logbuf[0] ? logbuf : "cannot convert\n");
		return NULL;
	}
	bpfvm_cbpf_prepare(insns, n);
	/* the kernel runs converted classic programs unverified: the classic checks are their proof */
	BPFVM_OPTS(bpfvm_prog_opts, popts, .name = name, .log = &log, .flags = BPFVM_PROG_TRUSTED);
	prog = bpfvm_prog__new(vm, insns, n, &popts);
	free(insns);
	if (!prog)
		fprintf(stderr, "bpfvm: %s: %s", name, logbuf);
	return prog;
}

struct cbpf_run_args {
	const char *filter, *cbpf, *pcap;
	enum bpfvm_exec mode;
};

static int run_pcap(pcap_t *pc, struct bpfvm_prog *prog, const struct cbpf_run_args *a)
{
	char logbuf[1024] = "";
	struct bpfvm_log log = { logbuf, sizeof(logbuf), 0 };
	BPFVM_OPTS(bpfvm_cbpf_opts, copts, .log = &log);
	struct pcap_pkthdr *h;
	const u_char *pkt;
	size_t n = 0, accepted = 0;
	int rc;

	while ((rc = pcap_next_ex(pc, &h, &pkt)) == 1) {
		struct bpfvm_cbpf_skb_info info;
		uint32_t v;

		bpfvm_cbpf_skb_info_ether(pkt, h->caplen, &info);
		info.wire_len = h->len;
		if (bpfvm_cbpf_run_skb(prog, NULL, pkt, h->caplen, &info, a->mode, &v, &copts)) {
			fprintf(stderr, "bpfvm: %s: packet %zu: %s", a->pcap, n + 1, logbuf);
			return 1;
		}
		n++;
		accepted += v != 0;
		printf("packet %zu (%u bytes): %u%s\n", n, h->len, v, v ? "" : " (dropped)");
	}
	if (rc == PCAP_ERROR) {
		fprintf(stderr, "bpfvm: %s: %s\n", a->pcap, pcap_geterr(pc));
		return 1;
	}
	printf("%zu packets, %zu accepted\n", n, accepted);
	return 0;
}

/* The classic program: EXPR compiled for the capture, or read from a file. */
static int get_filter(pcap_t *pc, const struct cbpf_run_args *a, struct bpfvm_sock_filter **f,
		      size_t *cnt)
{
	struct bpf_program bp;

	if (a->cbpf)
		return cli_load_cbpf(a->cbpf, false, f, cnt);
	/* as tcpdump -r: optimized, netmask 0 */
	if (pcap_compile(pc, &bp, a->filter, 1, 0)) {
		fprintf(stderr, "bpfvm: --filter '%s': %s\n", a->filter, pcap_geterr(pc));
		return -1;
	}
	*cnt = bp.bf_len;
	*f = malloc(bp.bf_len * sizeof(**f));
	if (*f)
		memcpy(*f, bp.bf_insns, bp.bf_len * sizeof(**f));
	pcap_freecode(&bp);
	if (!*f)
		return -1;
	return cli_cbpf_check(*f, *cnt, false, a->filter);
}

static int parse_run(int argc, char **argv, struct cbpf_run_args *a)
{
	static const struct option opts[] = {
		{ "filter", required_argument, NULL, 'f' }, { "cbpf", required_argument, NULL, 'c' },
		{ "pcap", required_argument, NULL, 'p' },   { "interp", no_argument, NULL, 'i' },
		{ "jit", no_argument, NULL, 'j' },           { NULL, 0, NULL, 0 },
	};
	int c;

	*a = (struct cbpf_run_args){ .mode = BPFVM_EXEC_UNCHECKED };
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'f': a->filter = optarg; break;
		case 'c': a->cbpf = optarg; break;
		case 'p': a->pcap = optarg; break;
		case 'i': a->mode = BPFVM_EXEC_UNCHECKED; break;
		case 'j': a->mode = BPFVM_EXEC_JIT; break;
		default: return -1;
		}
	}
	if (optind != argc || !a->pcap || !a->filter == !a->cbpf) {
		fprintf(stderr, "bpfvm run: one of --filter EXPR or --cbpf FILE, and --pcap FILE\n");
		return -1;
	}
	return 0;
}

static bool has_opt(int argc, char **argv, const char *opt)
{
	size_t n = strlen(opt);

	for (int i = 1; i < argc; i++)
		if (!strncmp(argv[i], opt, n) && (argv[i][n] == '\0' || argv[i][n] == '='))
			return true;
	return false;
}

int cmd_run_cbpf(int argc, char **argv)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	struct cbpf_run_args a;
	struct bpfvm_sock_filter *f = NULL;
	struct bpfvm *vm = NULL;
	struct bpfvm_prog *prog;
	pcap_t *pc;
	size_t cnt;
	int status = 1;

	if (!has_opt(argc, argv, "--filter") && !has_opt(argc, argv, "--cbpf"))
		return -1;
	if (parse_run(argc, argv, &a))
		return cli_usage("run");
	pc = pcap_open_offline(a.pcap, errbuf);
	if (!pc) {
		fprintf(stderr, "bpfvm: %s: %s\n", a.pcap, errbuf);
		return 1;
	}
	if (get_filter(pc, &a, &f, &cnt))
		goto out;
	vm = bpfvm__new(NULL);
	prog = vm ? cli_cbpf_prog(vm, f, cnt, a.filter ? a.filter : a.cbpf) : NULL;
	if (prog)
		status = run_pcap(pc, prog, &a);
out:
	bpfvm__destroy(vm);
	free(f);
	pcap_close(pc);
	return status;
}

static void print_converted(const struct bpfvm_insn *insns, size_t n, enum bpfvm_syntax syntax)
{
	for (size_t i = 0; i < n;) {
		char buf[256];
		const char *fn = insns[i].code == (BPFVM_JMP | BPFVM_CALL) ? bpfvm_cbpf_fn_name((uint32_t)insns[i].imm)
									      : NULL;
		int k = bpfvm_disasm_insn(insns, n, i, syntax, buf, sizeof(buf));

		printf("%5zu: %s%s%s\n", i, buf, fn ? "  ; the kernel's " : "", fn ? fn : "");
		i += k > 0 ? (size_t)k : 1;
	}
}

int cmd_disasm_cbpf(int argc, char **argv)
{
	enum bpfvm_syntax syntax = BPFVM_SYNTAX_LLVM;
	const char *path = NULL;
	struct bpfvm_sock_filter *f;
	struct bpfvm_insn *insns;
	bool seccomp = false;
	size_t cnt, n;
	char logbuf[1024] = "";
	struct bpfvm_log log = { logbuf, sizeof(logbuf), 0 };
	BPFVM_OPTS(bpfvm_cbpf_opts, copts, .log = &log);

	if (!has_opt(argc, argv, "--cbpf"))
		return -1;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--cbpf") && i + 1 < argc)
			path = argv[++i];
		else if (!strcmp(argv[i], "--seccomp"))
			seccomp = true;
		else if (!strcmp(argv[i], "--syntax") && i + 1 < argc) {
			const char *s = argv[++i];
			if (!strcmp(s, "llvm")) syntax = BPFVM_SYNTAX_LLVM;
			else if (!strcmp(s, "conformance")) syntax = BPFVM_SYNTAX_CONFORMANCE;
			else if (!strcmp(s, "kernel")) syntax = BPFVM_SYNTAX_KERNEL;
			else return cli_usage("disasm");
		} else
			return cli_usage("disasm");
	}
	if (!path || cli_load_cbpf(path, false, &f, &cnt))
		return path ? 1 : cli_usage("disasm");
	printf("classic program, %zu instructions:\n", cnt);
	for (size_t i = 0; i < cnt; i++) {
		char buf[128];
		bpfvm_cbpf_disasm(f, cnt, i, buf, sizeof(buf));
		printf("%s\n", buf);
	}
	if (seccomp && bpfvm_cbpf_seccomp_check(f, cnt, &copts)) {
		fprintf(stderr, "bpfvm: %s: %s", path, logbuf);
		free(f);
		return 1;
	}
	if (bpfvm_cbpf_convert(f, cnt, NULL, &insns, &n, NULL, &copts)) {
		fprintf(stderr, "bpfvm: %s: %s", path, logbuf);
		free(f);
		return 1;
	}
	printf("\nconverted (the kernel's bpf_convert_filter%s), %zu instructions:\n",
	       seccomp ? ", for seccomp" : "", n);
	print_converted(insns, n, syntax);
	free(insns);
	free(f);
	return 0;
}
