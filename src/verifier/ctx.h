/*
 * ctx.h - program types as the verifier knows them: the context a program
 * gets in r1 (which offsets it may read or write, in which sizes, and what
 * a load gives: a number, or a pointer to the packet, its end, a socket),
 * whether it may read the packet directly or with legacy loads, and the
 * values its exit may return.  The layouts are the kernel's UAPI structs.
 */
#ifndef BPFVM_VERIFIER_CTX_H
#define BPFVM_VERIFIER_CTX_H

#include <stdbool.h>
#include <stdint.h>

#include "../prog/prog_types.h"

struct venv;

/* What a valid context access gives the loaded register. */
struct vctx_result {
	uint8_t reg_type;   /* enum vtype: VT_SCALAR for plain fields */
	uint8_t reg_flags;  /* enum vflag: VF_NULL for "sk" fields that may be NULL */
};

/*
 * Is a `size`-byte access at off, reading (write false) or writing, valid?
 * ldsx: a sign-extending load.
 */
typedef bool (*ctx_access_fn)(const struct venv *env, int off, int size, bool write, bool ldsx,
			      struct vctx_result *res);

enum vpkt_access { PKT_NONE, PKT_READ, PKT_READ_WRITE };

struct vctx_desc {
	uint32_t prog_type;
	uint32_t ctx_size;        /* bytes r1 points to */
	ctx_access_fn access;
	uint8_t pkt_access;       /* enum vpkt_access: direct packet access */
	bool ld_abs;              /* legacy packet loads (LD_ABS/LD_IND) */
	/* The values exit may return: set *checked and the range; NULL: any. */
	void (*retval)(const struct venv *env, bool *checked, int32_t *min, int32_t *max);
};

/* What messages call a context: "sched_cls", as bpftool names the type; "bpfvm_run". */
const char *ctx_name(const struct vctx_desc *desc);

/* The program types the verifier supports, NULL-terminated by type 0 ... */
const struct vctx_desc *ctx_desc_for(uint32_t prog_type);
/* Why a type is not supported ("needs kernel BTF"), or NULL when it is. */
const char *ctx_unsupported_reason(uint32_t prog_type);

#endif
