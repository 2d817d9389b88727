/* oob.bpf.c - an XDP program reading past its packet without a bounds check: a
 * checked run must stop at the load and name the source line (test_examples.sh). */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("xdp")
int oob(struct xdp_md *ctx)
{
	unsigned char *data = (void *)(long)ctx->data;
	return data[200];   /* no bounds check: the verifier would refuse this */
}
char LICENSE[] SEC("license") = "GPL";
