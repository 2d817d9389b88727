/*
 * fuzz_cbpf.c - libFuzzer target for classic BPF: the reader (text forms
 * and raw records), the kernel's checks, the conversion and what runs it.
 * A program the checks accept must convert into one bpfvm takes; it runs
 * as a socket filter on a packet cut from the input (an allocation of its
 * exact size, so that ASan sees a load the conversion let through out of
 * bounds) in the interpreter and the JIT, which must agree; if seccomp's
 * checks accept it too, its conversion is verified and, if the verifier
 * accepts it, run on a seccomp_data in both back-ends.
 *
 *   make fuzz && build/fuzz/fuzz_cbpf -max_len=8192 -max_total_time=60 CORPUS_DIR
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpfvm/bpfvm.h>
#include <bpfvm/cbpf.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The program's results may differ between runs only through these. */
static bool nondeterministic(const struct bpfvm_sock_filter *f, size_t cnt)
{
	for (size_t i = 0; i < cnt; i++)
		if ((f[i].code & 0xe7) == 0x20 && (f[i].k == (uint32_t)(BPFVM_SKF_AD_OFF + BPFVM_SKF_AD_RANDOM) ||
						   f[i].k == (uint32_t)(BPFVM_SKF_AD_OFF + BPFVM_SKF_AD_CPU)))
			return true;
	return false;
}

static struct bpfvm_prog *load(struct bpfvm *vm, const struct bpfvm_sock_filter *f, size_t cnt, bool trusted)
{
	char logbuf[512];
	struct bpfvm_log log = { logbuf, sizeof(logbuf), 0 };
	struct bpfvm_insn *insns;
	struct bpfvm_prog *prog;
	size_t n;

	if (bpfvm_cbpf_convert(f, cnt, NULL, &insns, &n, NULL, &(struct bpfvm_cbpf_opts){ .sz = sizeof(struct bpfvm_cbpf_opts), .log = &log }))
		return NULL; /* a jump the kernel cannot encode either */
	bpfvm_cbpf_prepare(insns, n);
	BPFVM_OPTS(bpfvm_prog_opts, po, .log = &log, .flags = trusted ? BPFVM_PROG_TRUSTED : 0);
	prog = bpfvm_prog__new(vm, insns, n, &po);
	free(insns);
	if (!prog) {
		fprintf(stderr, "an accepted classic program converts into one bpfvm refuses: %s", logbuf);
		abort();
	}
	return prog;
}

static void run_skb(struct bpfvm *vm, const struct bpfvm_sock_filter *f, size_t cnt, const uint8_t *data,
		    size_t size)
{
	struct bpfvm_prog *prog = load(vm, f, cnt, true);
	size_t len = size < 256 ? size : 256;
	uint8_t *pkt = malloc(len ? len : 1);
	uint32_t vi = 0, vj = 0;
	int ei, ej;

	if (!prog || !pkt) {
		free(pkt);
		return;
	}
	memcpy(pkt, data, len);
	ei = bpfvm_cbpf_run_skb(prog, NULL, pkt, len, NULL, BPFVM_EXEC_UNCHECKED, &vi, NULL);
	ej = bpfvm_cbpf_run_skb(prog, NULL, pkt, len, NULL, BPFVM_EXEC_JIT, &vj, NULL);
	if (ei != ej || (!ei && vi != vj && !nondeterministic(f, cnt))) {
		fprintf(stderr, "interpreter %d/%u, JIT %d/%u\n", ei, vi, ej, vj);
		abort();
	}
	free(pkt);
	bpfvm_prog__destroy(prog);
}

static void run_seccomp(struct bpfvm *vm, struct bpfvm_sock_filter *f, size_t cnt, const uint8_t *data,
			size_t size)
{
	struct bpfvm_seccomp_data sd = { .arch = BPFVM_AUDIT_ARCH_X86_64 };
	struct bpfvm_prog *prog;
	uint32_t ri = 0, rj = 0;

	if (bpfvm_cbpf_seccomp_check(f, cnt, NULL) || !(prog = load(vm, f, cnt, false)))
		return;
	memcpy(&sd, data, size < sizeof(sd) ? size : sizeof(sd));
	BPFVM_OPTS(bpfvm_verify_opts, vo, .flags = BPFVM_VERIFY_MEM, .mem_size = sizeof(sd));
	if (!bpfvm_prog__verify(prog, &vo)) {
		int ei = bpfvm_cbpf_run_seccomp(prog, &sd, BPFVM_EXEC_UNCHECKED, &ri, NULL);
		int ej = bpfvm_cbpf_run_seccomp(prog, &sd, BPFVM_EXEC_JIT, &rj, NULL);
		if (ei || ej || ri != rj) {
			fprintf(stderr, "seccomp: interpreter %d/%u, JIT %d/%u\n", ei, ri, ej, rj);
			abort();
		}
	}
	bpfvm_prog__destroy(prog);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bpfvm_sock_filter *f = NULL;
	struct bpfvm *vm;
	char buf[128];
	size_t cnt;

	if (bpfvm_cbpf_parse(data, size, &f, &cnt, NULL))
		return 0;
	for (size_t i = 0; i < cnt; i++)
		bpfvm_cbpf_disasm(f, cnt, i, buf, sizeof(buf));
	vm = bpfvm__new(NULL);
	if (vm && !bpfvm_cbpf_check(f, cnt, NULL) && !bpfvm_cbpf__register_fns(vm)) {
		run_skb(vm, f, cnt, data, size);
		run_seccomp(vm, f, cnt, data, size);
	}
	bpfvm__destroy(vm);
	free(f);
	return 0;
}
