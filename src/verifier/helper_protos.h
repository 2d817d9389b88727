/*
 * helper_protos.h - helper prototypes as the verifier checks calls: the
 * kernel's bpf_func_proto (argument and return types, gpl_only) and which
 * program types may call each helper (the kernel's per-type func_proto
 * callbacks).
 */
#ifndef BPFVM_VERIFIER_HELPER_PROTOS_H
#define BPFVM_VERIFIER_HELPER_PROTOS_H

#include <stdbool.h>
#include <stdint.h>

#include "../helpers/helper_ids.h"

/* Argument kinds (the kernel's enum bpf_arg_type, base part). */
enum varg {
	V_ARG_NONE,
	V_ARG_ANYTHING,
	V_ARG_SCALAR,             /* a number, but not any register: a scalar */
	V_ARG_CONST_MAP_PTR,
	V_ARG_PTR_TO_MAP_KEY,
	V_ARG_PTR_TO_MAP_VALUE,
	V_ARG_PTR_TO_MEM,         /* readable memory, size in the next argument */
	V_ARG_PTR_TO_UNINIT_MEM,  /* memory the helper fills */
	V_ARG_CONST_SIZE,
	V_ARG_CONST_SIZE_OR_ZERO,
	V_ARG_PTR_TO_CTX,
	V_ARG_PTR_TO_SOCK_COMMON,
	V_ARG_PTR_TO_SOCKET,
	V_ARG_PTR_TO_BTF_SOCK,    /* ARG_PTR_TO_BTF_ID_SOCK_COMMON */
	V_ARG_PTR_TO_FUNC,
	V_ARG_PTR_TO_STACK,
	V_ARG_PTR_TO_RINGBUF_MEM,
	V_ARG_CONST_ALLOC_SIZE_OR_ZERO,
	V_ARG_PTR_TO_SPIN_LOCK,
	V_ARG_PTR_TO_LONG,        /* 8 bytes the helper fills, aligned */
	V_ARG_PTR_TO_INT,         /* 4 bytes the helper fills, aligned */
	V_ARG_PTR_TO_CONST_STR,
	V_ARG_PTR_TO_TIMER,
	V_ARG_PTR_TO_BTF_ID,      /* kernel objects: not supported in user space */
	V_ARG_PTR_TO_DYNPTR,
};

/* Modifiers, or'ed into an argument. */
#define ARGF_NULL 0x100u     /* NULL is fine (PTR_MAYBE_NULL) */
#define ARGF_RDONLY 0x200u   /* the helper only reads (MEM_RDONLY) */
#define ARGF_RELEASE 0x400u  /* the helper releases the reference (OBJ_RELEASE) */
#define ARGF_UNINIT 0x800u   /* the helper fills the memory (MEM_UNINIT) */
#define ARG_BASE(a) ((a) & 0xffu)

/* Return kinds (the kernel's enum bpf_return_type). */
enum vret {
	V_RET_INTEGER,
	V_RET_VOID,
	V_RET_MAP_VALUE_OR_NULL,
	V_RET_RINGBUF_MEM_OR_NULL,  /* acquires a reference; size from the size argument */
	V_RET_SOCKET_OR_NULL,       /* acquires a reference */
	V_RET_TCP_SOCK_OR_NULL,
	V_RET_SOCK_COMMON_OR_NULL,  /* acquires a reference (skc_lookup_tcp) */
	V_RET_SOCK_OR_NULL_NOREF,   /* sk_fullsock and friends: no new reference */
	V_RET_MAP_VALUE,            /* never NULL */
	V_RET_BTF_ID,               /* kernel object: not supported */
};

struct vhelper {
	const char *name;     /* "bpf_map_lookup_elem" */
	uint8_t ret;          /* enum vret */
	uint16_t args[5];     /* enum varg | ARGF_* */
	bool gpl_only;
	bool pkt_access;      /* may take packet pointers as memory arguments */
	bool changes_pkt;     /* invalidates packet pointers */
	bool acquires_ref;    /* returns a pointer the program must release */
	bool sleepable_only;
};

/* The prototype of helper id into *out; false for an id the kernel lacks. */
bool helper_proto(int32_t id, struct vhelper *out);
/* May a program of this type (and attach type) call helper id? */
bool helper_allowed(int32_t id, uint32_t prog_type, uint32_t attach_type);

#endif
