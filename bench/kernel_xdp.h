/*
 * kernel_xdp.h - the benchmark programs' XDP builds (build/bench/xdp/NAME.o,
 * from xdp_entry.c) in the Linux kernel, through libbpf: load (with the
 * verifier's verdict and statistics) and BPF_PROG_TEST_RUN.  Used by
 * bench_runner (the kernel's column) and bench_verify (its verdicts).
 */
#ifndef BENCH_KERNEL_XDP_H
#define BENCH_KERNEL_XDP_H

#include <stddef.h>
#include <stdint.h>

struct kernel_xdp {
	struct bpf_object *obj; /* NULL when not loaded */
	int fd;                 /* the XDP program's */
	int err;                /* 0, or the negative errno loading failed with */
	uint64_t insns;         /* "processed N insns" from the verifier's log; 0 unknown */
	uint64_t verify_us;     /* "verification time N usec"; 0 unknown */
	char reason[256];       /* when err: why, the last line of the verifier's log */
};

/*
 * Can this process load programs into the kernel at all?  0, or a negative
 * errno with the reason in why ("bpf() not permitted (EPERM): not root?").
 */
int kernel_xdp_available(char *why, size_t size);

/* Open and load path; fills k (k->err says whether it loaded). */
void kernel_xdp_load(const char *path, struct kernel_xdp *k);
/* The program that returns XDP_PASS (2) at once: what a test run costs around a program. */
void kernel_xdp_load_pass(struct kernel_xdp *k);
void kernel_xdp_unload(struct kernel_xdp *k);

/*
 * One BPF_PROG_TEST_RUN of repeat runs over data: *retval the program's
 * return value, *ns the kernel's figure (its average duration per run).
 * 0 or a negative errno.
 */
int kernel_xdp_test_run(const struct kernel_xdp *k, const void *data, uint32_t size,
			uint32_t repeat, uint32_t *retval, uint32_t *ns);

#endif
