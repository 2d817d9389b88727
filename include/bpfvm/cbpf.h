/*
 * bpfvm/cbpf.h - classic BPF (struct sock_filter): reading, the kernel's
 * checks, conversion to eBPF as the kernel converts it, and running the
 * converted program as a socket filter or a seccomp filter.
 *
 * Classic BPF has two 32-bit registers (A, X), 16 scratch words M[] and
 * instructions of 64 bits:
 *
 *   15        0 23   16 31   24 63                  32
 *  +-----------+-------+-------+----------------------+
 *  | code (u16)| jt u8 | jf u8 | k (u32)              |
 *  +-----------+-------+-------+----------------------+
 *
 * Linux never runs classic programs as such: bpf_check_classic (and, for
 * seccomp, seccomp_check_filter) checks them, then bpf_convert_filter
 * (net/core/filter.c) rewrites them into eBPF.  bpfvm does the same, with
 * the same instruction sequence.  The kernel's conversion reads the
 * kernel's struct sk_buff directly (not __sk_buff), so the converter takes
 * the layout of the few sk_buff fields it reads; bpfvm_cbpf_skb_layout_linux
 * is Linux 6.18's on x86-64.  The kernel's converted program also calls
 * functions internal to the kernel (bpf_skb_load_helper_8, ...); bpfvm
 * emits them as calls of the helper ids BPFVM_CBPF_FN_* below, which
 * bpfvm_cbpf__register_fns puts into an instance.
 */
#ifndef BPFVM_CBPF_H
#define BPFVM_CBPF_H

#include <stddef.h>
#include <stdint.h>

#include <bpfvm/bpfvm.h>
#include <bpfvm/isa.h>

#ifdef __cplusplus
extern "C" {
#endif

struct bpfvm_sock_filter {
	uint16_t code;
	uint8_t jt;
	uint8_t jf;
	uint32_t k;
};

/* Classic opcodes beyond eBPF's (<linux/filter.h>, <linux/bpf_common.h>). */
#define BPFVM_CBPF_RET 0x06
#define BPFVM_CBPF_MISC 0x07
#define BPFVM_CBPF_LEN 0x80
#define BPFVM_CBPF_MSH 0xa0
#define BPFVM_CBPF_A 0x10     /* BPF_RVAL: return A */
#define BPFVM_CBPF_TAX 0x00
#define BPFVM_CBPF_TXA 0x80
#define BPFVM_CBPF_MAXINSNS 4096
#define BPFVM_CBPF_MEMWORDS 16

/* Ancillary loads: ld [SKF_AD_OFF + SKF_AD_x] (<linux/filter.h>). */
#define BPFVM_SKF_AD_OFF (-0x1000)
#define BPFVM_SKF_AD_PROTOCOL 0
#define BPFVM_SKF_AD_PKTTYPE 4
#define BPFVM_SKF_AD_IFINDEX 8
#define BPFVM_SKF_AD_NLATTR 12
#define BPFVM_SKF_AD_NLATTR_NEST 16
#define BPFVM_SKF_AD_MARK 20
#define BPFVM_SKF_AD_QUEUE 24
#define BPFVM_SKF_AD_HATYPE 28
#define BPFVM_SKF_AD_RXHASH 32
#define BPFVM_SKF_AD_CPU 36
#define BPFVM_SKF_AD_ALU_XOR_X 40
#define BPFVM_SKF_AD_VLAN_TAG 44
#define BPFVM_SKF_AD_VLAN_TAG_PRESENT 48
#define BPFVM_SKF_AD_PAY_OFFSET 52
#define BPFVM_SKF_AD_RANDOM 56
#define BPFVM_SKF_AD_VLAN_TPID 60
#define BPFVM_SKF_NET_OFF (-0x100000)
#define BPFVM_SKF_LL_OFF (-0x200000)

/*
 * The kernel functions a converted program calls, as helper ids of their
 * own (the kernel calls them by address; no helper id names them).
 */
enum bpfvm_cbpf_fn {
	BPFVM_CBPF_FN_LOAD_8 = 496,    /* bpf_skb_load_helper_8(skb, data, headlen, off) */
	BPFVM_CBPF_FN_LOAD_16,         /* bpf_skb_load_helper_16 */
	BPFVM_CBPF_FN_LOAD_32,         /* bpf_skb_load_helper_32 */
	BPFVM_CBPF_FN_PAY_OFFSET,      /* bpf_skb_get_pay_offset(skb) */
	BPFVM_CBPF_FN_NLATTR,          /* bpf_skb_get_nlattr(skb, a, x) */
	BPFVM_CBPF_FN_NLATTR_NEST,     /* bpf_skb_get_nlattr_nest(skb, a, x) */
	BPFVM_CBPF_FN_CPU,             /* bpf_get_raw_cpu_id() */
	BPFVM_CBPF_FN_RANDOM,          /* bpf_user_rnd_u32() */
	BPFVM_CBPF_FN_END,
};

/* The kernel function's name for a BPFVM_CBPF_FN_* id, NULL for another id. */
BPFVM_API const char *bpfvm_cbpf_fn_name(uint32_t id);

/* Offsets of the struct sk_buff and net_device fields the conversion reads. */
struct bpfvm_cbpf_skb_layout {
	uint16_t len, data_len, data, protocol, pkt_type, dev, mark, queue_mapping;
	uint16_t vlan_all, vlan_proto, vlan_tci, hash;
	uint16_t dev_ifindex, dev_type;
	uint16_t size;          /* bytes of the sk_buff a run lays out (>= every field) */
	uint16_t dev_size;      /* bytes of the net_device */
};
/* Linux 6.18, x86-64 (from the kernel's BTF; tests/unit/test_cbpf.c checks it there). */
BPFVM_API extern const struct bpfvm_cbpf_skb_layout bpfvm_cbpf_skb_layout_linux;

/*
 * Options of the classic BPF functions below (the library's convention:
 * BPFVM_OPTS(bpfvm_cbpf_opts, o, .log = &log); NULL for none).
 */
struct bpfvm_cbpf_opts {
	size_t sz;
	struct bpfvm_log *log;  /* why a call failed */
};

/*
 * Read a classic program: tcpdump -dd's C array ("{ 0x28, 0, 0, 0x0000000c },"),
 * tcpdump -ddd's decimal lines (the count first, then "code jt jf k" a line),
 * or raw 8-byte struct sock_filter records (host byte order; taken when
 * the bytes are not text).  Returns 0 with a malloc'd array in *out, or
 * -EINVAL naming the line (or record) at fault in log.
 */
BPFVM_API int bpfvm_cbpf_parse(const void *buf, size_t len, struct bpfvm_sock_filter **out,
			       size_t *cnt, const struct bpfvm_cbpf_opts *opts);

/*
 * The kernel's bpf_check_classic: known opcodes, shifts below 32, no
 * division by constant 0, scratch words below 16, jumps forward and inside
 * the program, ancillary offsets the kernel knows, a return at the end,
 * M[] read only after a store on every path, 1..4096 instructions.
 * Returns 0 or -EINVAL (the kernel's errno) with "instruction N: why" in log.
 */
BPFVM_API int bpfvm_cbpf_check(const struct bpfvm_sock_filter *f, size_t cnt,
			       const struct bpfvm_cbpf_opts *opts);

/*
 * The kernel's seccomp_check_filter, after bpfvm_cbpf_check: only the
 * instructions seccomp allows; ld [k] (32-bit, aligned, inside struct
 * seccomp_data) becomes a load of the context, len loads sizeof(struct
 * seccomp_data).  Rewrites f in place as the kernel does.  0 or -EINVAL.
 */
BPFVM_API int bpfvm_cbpf_seccomp_check(struct bpfvm_sock_filter *f, size_t cnt,
				       const struct bpfvm_cbpf_opts *opts);

/*
 * bpf_convert_filter: the eBPF program the kernel runs for f (already
 * checked).  layout: the sk_buff offsets (NULL: Linux's); a seccomp
 * program (after bpfvm_cbpf_seccomp_check) reads no sk_buff field.
 * Returns 0 with a malloc'd program in *out and the stack bytes it uses in
 * *stack_depth (may be NULL), or -EINVAL (a jump whose offset does not fit)
 * / -ENOMEM.
 */
BPFVM_API int bpfvm_cbpf_convert(const struct bpfvm_sock_filter *f, size_t cnt,
				 const struct bpfvm_cbpf_skb_layout *layout,
				 struct bpfvm_insn **out, size_t *out_cnt, uint32_t *stack_depth,
				 const struct bpfvm_cbpf_opts *opts);

/*
 * The two changes between bpfvm_cbpf_convert's output (the kernel's
 * program) and a program bpfvm's decoder and verifier take, neither
 * changing what it computes: the kernel copies classic ALU instructions
 * whole, src_reg = X (r7) and imm = k in every form, so the immediate
 * forms (BPF_K, BPF_NEG) carry a source register and the register forms
 * (BPF_X) an immediate, as do its conditional jumps on X: fields its
 * interpreter ignores and bpfvm's decoder refuses as reserved, cleared here;
 * and its prologue zeroes A and X with "w0 ^= w0; w7 ^= w7", which read
 * registers never written (the kernel never runs an eBPF verifier on a
 * converted classic program; an eBPF verifier refuses that read), here
 * "w0 = 0; w7 = 0".
 */
BPFVM_API void bpfvm_cbpf_prepare(struct bpfvm_insn *insns, size_t cnt);

/*
 * Instruction idx as tcpdump -d prints it ("(002) jeq #0x800 jt 3 jf 5"),
 * into buf (NUL-terminated, truncated to size).  Returns the length.
 */
BPFVM_API int bpfvm_cbpf_disasm(const struct bpfvm_sock_filter *f, size_t cnt, size_t idx,
				char *buf, size_t size);

/* Register the BPFVM_CBPF_FN_* functions in vm.  0 or -EINVAL. */
BPFVM_API int bpfvm_cbpf__register_fns(struct bpfvm *vm);

/* What a socket filter sees of a packet besides its bytes (the kernel's sk_buff). */
struct bpfvm_cbpf_skb_info {
	uint16_t protocol;      /* host order, e.g. 0x0800 (ETH_P_IP) */
	uint8_t pkt_type;       /* PACKET_HOST 0, BROADCAST 1, MULTICAST 2, OTHERHOST 3, OUTGOING 4 */
	uint16_t hatype;        /* net_device type: ARPHRD_ETHER 1 */
	int32_t ifindex;        /* 0: no device */
	uint32_t mark, hash;
	uint16_t queue_mapping;
	uint16_t vlan_proto, vlan_tci; /* vlan_proto 0: no tag outside the packet */
	uint16_t network_offset; /* where SKF_NET_OFF loads begin (14 on Ethernet) */
	uint32_t wire_len;      /* skb->len when only the first len bytes are at hand; 0: len */
};

/* The facts of an Ethernet frame as the kernel's receive path sets them (no vlan offload). */
BPFVM_API void bpfvm_cbpf_skb_info_ether(const void *pkt, size_t len,
					 struct bpfvm_cbpf_skb_info *info);

/*
 * Run a converted socket filter (bpfvm_prog__new'd from bpfvm_cbpf_convert's
 * output with BPFVM_PROG_TRUSTED, in an instance with the functions
 * registered) on one packet, with the given layout (NULL: Linux's) and
 * skb facts (NULL: derived from an Ethernet frame).  mode: the interpreter
 * unchecked or the JIT.  On success returns 0 with the filter's return
 * value (the bytes to keep; 0 drops) in *verdict; else a negative errno.
 */
BPFVM_API int bpfvm_cbpf_run_skb(struct bpfvm_prog *prog, const struct bpfvm_cbpf_skb_layout *layout,
				 const void *pkt, size_t len, const struct bpfvm_cbpf_skb_info *info,
				 enum bpfvm_exec mode, uint32_t *verdict, const struct bpfvm_cbpf_opts *opts);

/* struct seccomp_data, as <linux/seccomp.h> lays it out. */
struct bpfvm_seccomp_data {
	int32_t nr;
	uint32_t arch;
	uint64_t instruction_pointer;
	uint64_t args[6];
};
#define BPFVM_AUDIT_ARCH_X86_64 0xc000003eu

/* Seccomp return values (<linux/seccomp.h>). */
#define BPFVM_SECCOMP_RET_KILL_PROCESS 0x80000000u
#define BPFVM_SECCOMP_RET_KILL_THREAD 0x00000000u
#define BPFVM_SECCOMP_RET_TRAP 0x00030000u
#define BPFVM_SECCOMP_RET_ERRNO 0x00050000u
#define BPFVM_SECCOMP_RET_USER_NOTIF 0x7fc00000u
#define BPFVM_SECCOMP_RET_TRACE 0x7ff00000u
#define BPFVM_SECCOMP_RET_LOG 0x7ffc0000u
#define BPFVM_SECCOMP_RET_ALLOW 0x7fff0000u
#define BPFVM_SECCOMP_RET_ACTION_FULL 0xffff0000u
#define BPFVM_SECCOMP_RET_DATA 0x0000ffffu

/*
 * Run a converted seccomp filter on one system call; *ret is the filter's
 * 32-bit return value.  0 or a negative errno.
 */
BPFVM_API int bpfvm_cbpf_run_seccomp(struct bpfvm_prog *prog, const struct bpfvm_seccomp_data *sd,
				     enum bpfvm_exec mode, uint32_t *ret, const struct bpfvm_cbpf_opts *opts);

/*
 * The action the kernel takes for a filter's return value, as text
 * ("ALLOW", "ERRNO(1)", "KILL_PROCESS", "TRAP", "TRACE(5)", "USER_NOTIF",
 * "LOG", "KILL_THREAD"); an unknown action is the kernel's KILL_PROCESS.
 * Returns the length written to buf.
 */
BPFVM_API int bpfvm_seccomp_action_str(uint32_t ret, char *buf, size_t size);

#ifdef __cplusplus
}
#endif

#endif
