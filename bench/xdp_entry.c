/*
 * xdp_entry.c - one benchmark program as an XDP program, so that the same
 * bytecode runs in the kernel (BPF_PROG_TEST_RUN) and in bpfvm
 * (bpfvm_prog__test_run).  Built once per program:
 *
 *   clang -target bpf -mcpu=v3 -DBENCH_XDP -DBENCH_PROG='"progs/NAME.c"' -c xdp_entry.c
 *
 * The program's bench_main is inlined here (BENCH_MAIN in bench_prog.h).
 * The packet must hold the whole frame: the check below is what lets a
 * verifier prove every access of bench_main inside the packet.  The result
 * is 64 bits and XDP returns 32, so it is folded (r ^ r >> 32); the runner
 * folds the native result the same way to compare.
 */
#ifndef BENCH_XDP
#error "build with -DBENCH_XDP -DBENCH_PROG='\"progs/NAME.c\"'"
#endif

#include BENCH_PROG

/* The first two fields of the kernel's struct xdp_md (uapi linux/bpf.h). */
struct xdp_md {
	uint32_t data;
	uint32_t data_end;
};

#define SEC(name) __attribute__((section(name), used))

SEC("xdp") int bench_xdp(struct xdp_md *ctx)
{
	uint8_t *data = (uint8_t *)(unsigned long)ctx->data;
	uint8_t *data_end = (uint8_t *)(unsigned long)ctx->data_end;
	uint64_t r;

	if (data + BENCH_MEM_LEN > data_end)
		return 0;
	r = bench_main(data, BENCH_MEM_LEN);
	return (int)(uint32_t)(r ^ r >> 32);
}

/* The kernel takes any program without it; GPL in case a helper is added. */
char _license[] SEC("license") = "GPL";
