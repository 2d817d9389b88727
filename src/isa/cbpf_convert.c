/*
 * cbpf_convert.c - classic BPF to eBPF, instruction for instruction as the
 * kernel's bpf_convert_filter (net/core/filter.c) converts: A is r0, X r7,
 * the context r6, the packet's data r8 and its linear length r9, r2 a
 * scratch register, M[k] the stack word at fp - (4k + 4).  Packet loads
 * take a fast path inside the linear data and otherwise call the kernel's
 * bpf_skb_load_helper_*; ancillary loads read the sk_buff or call the
 * kernel functions named in <bpfvm/cbpf.h>.  Jump offsets are found as
 * the kernel finds them (a pass recording where each classic instruction
 * lands, then passes until the length settles), so a jump whose offset
 * does not fit 16 bits is refused where the kernel refuses it.
 */
#include <bpfvm/cbpf.h>

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "../util/log.h"
#include "../util/opts.h"

/* Linux 6.18, x86-64: offsetof(struct sk_buff, ...), offsetof(struct net_device, ...). */
const struct bpfvm_cbpf_skb_layout bpfvm_cbpf_skb_layout_linux = {
	.len = 112, .data_len = 116, .data = 200, .protocol = 176, .pkt_type = 128, .dev = 16,
	.mark = 164, .queue_mapping = 124, .vlan_all = 152, .vlan_proto = 152, .vlan_tci = 154,
	.hash = 148, .dev_ifindex = 224, .dev_type = 536, .size = 232, .dev_size = 544,
};

enum { R_A = 0, R_ARG1 = 1, R_TMP = 2, R_ARG2 = 2, R_ARG3 = 3, R_ARG4 = 4, R_CTX = 6, R_X = 7, R_D = 8,
       R_H = 9, R_FP = 10 };
#define PKT_TYPE_MAX 7 /* the pkt_type bits, little-endian bitfield */
#define MAX_EMIT 32    /* the kernel's tmp_insns */

#define INSN(CODE, DST, SRC, OFF, IMM) BPFVM_RAW_INSN(CODE, DST, SRC, OFF, IMM)
#define ALU32_REG(OP, D, S) INSN(BPFVM_ALU | (OP) | BPFVM_X, D, S, 0, 0)
#define ALU32_IMM(OP, D, I) INSN(BPFVM_ALU | (OP) | BPFVM_K, D, 0, 0, I)
#define LDX(SIZE, D, S, OFF) INSN(BPFVM_LDX | BPFVM_MEM | (SIZE), D, S, OFF, 0)
#define FROM_BE(D, BITS) INSN(BPFVM_ALU | BPFVM_END | BPFVM_TO_BE, D, 0, 0, BITS)
#define CALL(ID) BPFVM_CALL_HELPER(ID)

struct conv {
	const struct bpfvm_sock_filter *prog;
	int len;
	const struct bpfvm_cbpf_skb_layout *lay;
	int *addrs;        /* where each classic instruction begins; NULL while sizing */
	bool seen_ld_abs;
};

/* convert_skb_access and convert_bpf_extensions: false if k is no extension. */
static bool convert_extension(const struct conv *c, const struct bpfvm_sock_filter *fp,
			      struct bpfvm_insn **pi)
{
	const struct bpfvm_cbpf_skb_layout *l = c->lay;
	struct bpfvm_insn *insn = *pi;
	int ad = (int32_t)fp->k - BPFVM_SKF_AD_OFF;

	if ((int32_t)fp->k < BPFVM_SKF_AD_OFF)
		return false;
	switch (ad) {
	case BPFVM_SKF_AD_PROTOCOL:
		*insn++ = LDX(BPFVM_H, R_A, R_CTX, l->protocol);
		*insn = FROM_BE(R_A, 16);
		break;
	case BPFVM_SKF_AD_PKTTYPE:
		*insn++ = LDX(BPFVM_B, R_A, R_CTX, l->pkt_type);
		*insn = ALU32_IMM(BPFVM_AND, R_A, PKT_TYPE_MAX);
		break;
	case BPFVM_SKF_AD_IFINDEX:
	case BPFVM_SKF_AD_HATYPE:
		*insn++ = LDX(BPFVM_DW, R_TMP, R_CTX, l->dev);
		*insn++ = BPFVM_JMP_IMM(BPFVM_JNE, R_TMP, 0, 1);
		*insn++ = BPFVM_EXIT_INSN();
		*insn = ad == BPFVM_SKF_AD_IFINDEX ? LDX(BPFVM_W, R_A, R_TMP, l->dev_ifindex)
						   : LDX(BPFVM_H, R_A, R_TMP, l->dev_type);
		break;
	case BPFVM_SKF_AD_MARK:
		*insn = LDX(BPFVM_W, R_A, R_CTX, l->mark);
		break;
	case BPFVM_SKF_AD_RXHASH:
		*insn = LDX(BPFVM_W, R_A, R_CTX, l->hash);
		break;
	case BPFVM_SKF_AD_QUEUE:
		*insn = LDX(BPFVM_H, R_A, R_CTX, l->queue_mapping);
		break;
	case BPFVM_SKF_AD_VLAN_TAG:
		*insn = LDX(BPFVM_H, R_A, R_CTX, l->vlan_tci);
		break;
	case BPFVM_SKF_AD_VLAN_TAG_PRESENT:
		*insn++ = LDX(BPFVM_W, R_A, R_CTX, l->vlan_all);
		*insn++ = BPFVM_JMP_IMM(BPFVM_JEQ, R_A, 0, 1);
		*insn = ALU32_IMM(BPFVM_MOV, R_A, 1);
		break;
	case BPFVM_SKF_AD_VLAN_TPID:
		*insn++ = LDX(BPFVM_H, R_A, R_CTX, l->vlan_proto);
		*insn = FROM_BE(R_A, 16);
		break;
	case BPFVM_SKF_AD_PAY_OFFSET:
	case BPFVM_SKF_AD_NLATTR:
	case BPFVM_SKF_AD_NLATTR_NEST:
	case BPFVM_SKF_AD_CPU:
	case BPFVM_SKF_AD_RANDOM:
		*insn++ = BPFVM_MOV64_REG(R_ARG1, R_CTX);
		*insn++ = BPFVM_MOV64_REG(R_ARG2, R_A);
		*insn++ = BPFVM_MOV64_REG(R_ARG3, R_X);
		*insn = CALL(ad == BPFVM_SKF_AD_PAY_OFFSET ? BPFVM_CBPF_FN_PAY_OFFSET
			     : ad == BPFVM_SKF_AD_NLATTR ? BPFVM_CBPF_FN_NLATTR
			     : ad == BPFVM_SKF_AD_NLATTR_NEST ? BPFVM_CBPF_FN_NLATTR_NEST
			     : ad == BPFVM_SKF_AD_CPU ? BPFVM_CBPF_FN_CPU : BPFVM_CBPF_FN_RANDOM);
		break;
	case BPFVM_SKF_AD_ALU_XOR_X:
		*insn = ALU32_REG(BPFVM_XOR, R_A, R_X);
		break;
	default:
		return false;
	}
	*pi = insn;
	return true;
}

/* convert_bpf_ld_abs, x86-64 (efficient unaligned access): *pi ends on the last insn. */
static void convert_ld_abs(const struct bpfvm_sock_filter *fp, struct bpfvm_insn **pi)
{
	uint8_t size = fp->code & 0x18;
	int bytes = size == BPFVM_B ? 1 : size == BPFVM_H ? 2 : 4;
	bool endian = size != BPFVM_B;
	bool indirect = (fp->code & 0xe0) == BPFVM_IND;
	int32_t off = (int32_t)fp->k;
	struct bpfvm_insn *insn = *pi;

	if (!indirect && off >= 0) {
		bool ldx_off_ok = off <= 32767;

		*insn++ = BPFVM_MOV64_REG(R_TMP, R_H);
		if (off)
			*insn++ = BPFVM_ALU64_IMM(BPFVM_SUB, R_TMP, off);
		*insn++ = BPFVM_JMP_IMM(BPFVM_JSLT, R_TMP, bytes, 2 + endian + (!ldx_off_ok * 2));
		if (ldx_off_ok) {
			*insn++ = LDX(size, R_A, R_D, (int16_t)off);
		} else {
			*insn++ = BPFVM_MOV64_REG(R_TMP, R_D);
			*insn++ = BPFVM_ALU64_IMM(BPFVM_ADD, R_TMP, off);
			*insn++ = LDX(size, R_A, R_TMP, 0);
		}
		if (endian)
			*insn++ = FROM_BE(R_A, bytes * 8);
		*insn++ = INSN(BPFVM_JMP | BPFVM_JA, 0, 0, 8, 0);
	}
	*insn++ = BPFVM_MOV64_REG(R_ARG1, R_CTX);
	*insn++ = BPFVM_MOV64_REG(R_ARG2, R_D);
	*insn++ = BPFVM_MOV64_REG(R_ARG3, R_H);
	if (!indirect) {
		*insn++ = BPFVM_MOV64_IMM(R_ARG4, off);
	} else {
		*insn++ = BPFVM_MOV64_REG(R_ARG4, R_X);
		if (fp->k)
			*insn++ = BPFVM_ALU64_IMM(BPFVM_ADD, R_ARG4, off);
	}
	*insn++ = CALL(size == BPFVM_B ? BPFVM_CBPF_FN_LOAD_8
		       : size == BPFVM_H ? BPFVM_CBPF_FN_LOAD_16 : BPFVM_CBPF_FN_LOAD_32);
	*insn++ = BPFVM_JMP_IMM(BPFVM_JSGE, R_A, 0, 2);
	*insn++ = ALU32_REG(BPFVM_XOR, R_A, R_A);
	*insn = BPFVM_EXIT_INSN();
	*pi = insn;
}

/* BPF_EMIT_JMP: the offset to classic instruction target from slot insn of tmp. */
static bool emit_jmp(const struct conv *c, int i, int target, struct bpfvm_insn *insn,
		     const struct bpfvm_insn *tmp)
{
	int32_t off;

	if (target >= c->len || target < 0)
		return false;
	off = c->addrs ? c->addrs[target] - c->addrs[i] - 1 : 0;
	off -= (int32_t)(insn - tmp);
	if (off < -32768 || off > 32767)
		return false;
	insn->off = (int16_t)off;
	return true;
}

static bool convert_cond_jump(const struct conv *c, int i, struct bpfvm_insn **pi,
			      struct bpfvm_insn *tmp)
{
	const struct bpfvm_sock_filter *fp = &c->prog[i];
	struct bpfvm_insn *insn = *pi;
	uint8_t op = fp->code & 0xf0, src;

	if ((fp->code & BPFVM_X) == BPFVM_K && (int32_t)fp->k < 0) {
		/* eBPF immediates are signed: compare with the zero-extended value in tmp */
		*insn++ = ALU32_IMM(BPFVM_MOV, R_TMP, (int32_t)fp->k);
		insn->dst_reg = R_A;
		insn->src_reg = R_TMP;
		src = BPFVM_X;
	} else {
		insn->dst_reg = R_A;
		insn->imm = (int32_t)fp->k;
		src = fp->code & BPFVM_X;
		insn->src_reg = src == BPFVM_X ? R_X : 0;
	}
	*pi = insn;
	if (fp->jf == 0) {
		insn->code = BPFVM_JMP | op | src;
		return emit_jmp(c, i, i + fp->jt + 1, insn, tmp);
	}
	if (fp->jt == 0 && op != BPFVM_JSET) {
		op = op == BPFVM_JEQ ? BPFVM_JNE : op == BPFVM_JGT ? BPFVM_JLE : BPFVM_JLT;
		insn->code = BPFVM_JMP | op | src;
		return emit_jmp(c, i, i + fp->jf + 1, insn, tmp);
	}
	insn->code = BPFVM_JMP | op | src;
	if (!emit_jmp(c, i, i + fp->jt + 1, insn, tmp))
		return false;
	insn++;
	insn->code = BPFVM_JMP | BPFVM_JA;
	*pi = insn;
	return emit_jmp(c, i, i + fp->jf + 1, insn, tmp);
}

/* ldxb 4*([k]&0xf): six instructions around a byte load. */
static void convert_msh(struct conv *c, const struct bpfvm_sock_filter *fp, struct bpfvm_insn **pi)
{
	struct bpfvm_sock_filter ld = { BPFVM_LD | BPFVM_ABS | BPFVM_B, 0, 0, fp->k };
	struct bpfvm_insn *insn = *pi;

	c->seen_ld_abs = true;
	*insn++ = BPFVM_MOV64_REG(R_X, R_A);
	convert_ld_abs(&ld, &insn);
	insn++;
	*insn++ = ALU32_IMM(BPFVM_AND, R_A, 0xf);
	*insn++ = ALU32_IMM(BPFVM_LSH, R_A, 2);
	*insn++ = BPFVM_MOV64_REG(R_TMP, R_X);
	*insn++ = BPFVM_MOV64_REG(R_X, R_A);
	*insn = BPFVM_MOV64_REG(R_A, R_TMP);
	*pi = insn;
}

/* ALU operations and packet loads (the kernel's first group of cases). */
static void convert_alu_ld(struct conv *c, const struct bpfvm_sock_filter *fp, struct bpfvm_insn **pi)
{
	struct bpfvm_insn *insn = *pi;
	uint8_t cls = fp->code & 7, mode = fp->code & 0xe0;

	if (cls == BPFVM_LD && mode == BPFVM_ABS && convert_extension(c, fp, &insn)) {
		*pi = insn;
		return;
	}
	if (cls == BPFVM_LD) {
		convert_ld_abs(fp, &insn);
		c->seen_ld_abs = true;
		*pi = insn;
		return;
	}
	if (fp->code == (BPFVM_ALU | BPFVM_DIV | BPFVM_X) || fp->code == (BPFVM_ALU | BPFVM_MOD | BPFVM_X)) {
		/* classic division by X = 0 returns 0 */
		*insn++ = ALU32_REG(BPFVM_MOV, R_X, R_X);
		*insn++ = BPFVM_JMP_IMM(BPFVM_JNE, R_X, 0, 2);
		*insn++ = ALU32_REG(BPFVM_XOR, R_A, R_A);
		*insn++ = BPFVM_EXIT_INSN();
	}
	*insn = INSN((uint8_t)fp->code, R_A, R_X, 0, (int32_t)fp->k);
	*pi = insn;
}

/* One classic instruction into tmp; the number of eBPF instructions, or -1. */
static int convert_one(struct conv *c, int i, struct bpfvm_insn *tmp, uint32_t *stack)
{
	const struct bpfvm_sock_filter *fp = &c->prog[i];
	struct bpfvm_insn *insn = tmp;
	bool is_ld = (fp->code & 7) == BPFVM_LD;
	/* M[k]'s slot; k < 16 where it is used (bpf_check_classic) */
	int stack_off = (int)(fp->k & 0xff) * 4 + 4;

	switch (fp->code) {
	case 0x04: case 0x0c: case 0x14: case 0x1c: case 0x54: case 0x5c: case 0x44: case 0x4c:
	case 0x64: case 0x6c: case 0x74: case 0x7c: case 0xa4: case 0xac: case 0x24: case 0x2c:
	case 0x34: case 0x3c: case 0x94: case 0x9c: case 0x84:
	case 0x20: case 0x28: case 0x30: case 0x40: case 0x48: case 0x50:
		convert_alu_ld(c, fp, &insn);
		break;
	case 0x05:
		insn->code = fp->code;
		if (!emit_jmp(c, i, i + (int)fp->k + 1, insn, tmp))
			return -1;
		break;
	case 0x15: case 0x1d: case 0x45: case 0x4d: case 0x25: case 0x2d: case 0x35: case 0x3d:
		if (!convert_cond_jump(c, i, &insn, tmp))
			return -1;
		break;
	case 0xb1:
		convert_msh(c, fp, &insn);
		break;
	case 0x16: case 0x06:
		if (fp->code == 0x06)
			*insn++ = ALU32_IMM(BPFVM_MOV, R_A, (int32_t)fp->k);
		*insn = BPFVM_EXIT_INSN();
		break;
	case 0x02: case 0x03:
		*insn = BPFVM_STX_MEM(BPFVM_W, R_FP, fp->code == 0x02 ? R_A : R_X, (int16_t)-stack_off);
		if (*stack < (uint32_t)stack_off)
			*stack = (uint32_t)stack_off;
		break;
	case 0x60: case 0x61:
		*insn = LDX(BPFVM_W, is_ld ? R_A : R_X, R_FP, (int16_t)-stack_off);
		break;
	case 0x00: case 0x01:
		*insn = ALU32_IMM(BPFVM_MOV, is_ld ? R_A : R_X, (int32_t)fp->k);
		break;
	case 0x07:
		*insn = BPFVM_MOV64_REG(R_X, R_A);
		break;
	case 0x87:
		*insn = BPFVM_MOV64_REG(R_A, R_X);
		break;
	case 0x80: case 0x81:
		*insn = LDX(BPFVM_W, is_ld ? R_A : R_X, R_CTX, c->lay->len);
		break;
	case 0x21: /* seccomp's rewritten ld [k]: A = *(u32 *)(ctx + k) */
		*insn = LDX(BPFVM_W, R_A, R_CTX, (int16_t)fp->k);
		break;
	default:
		return -1;
	}
	return (int)(insn - tmp) + 1;
}

static int prologue(const struct conv *c, struct bpfvm_insn *out)
{
	int n = 0;

	out[n++] = ALU32_REG(BPFVM_XOR, R_A, R_A);
	out[n++] = ALU32_REG(BPFVM_XOR, R_X, R_X);
	out[n++] = BPFVM_MOV64_REG(R_CTX, R_ARG1);
	if (c->seen_ld_abs) {
		out[n++] = LDX(BPFVM_DW, R_D, R_CTX, c->lay->data);
		out[n++] = LDX(BPFVM_W, R_H, R_CTX, c->lay->len);
		out[n++] = LDX(BPFVM_W, R_TMP, R_CTX, c->lay->data_len);
		out[n++] = ALU32_REG(BPFVM_SUB, R_H, R_TMP);
	}
	return n;
}

/* One pass over the program; out NULL only sizes it.  Length, or -1. */
static int convert_pass(struct conv *c, struct bpfvm_insn *out, uint32_t *stack)
{
	struct bpfvm_insn pro[8], tmp[MAX_EMIT];
	int n = prologue(c, pro);

	if (out)
		memcpy(out, pro, (size_t)n * sizeof(*out));
	for (int i = 0; i < c->len; i++) {
		int k;

		if (c->addrs)
			c->addrs[i] = n;
		memset(tmp, 0, sizeof(tmp));
		k = convert_one(c, i, tmp, stack);
		if (k < 0)
			return -1;
		if (out)
			memcpy(out + n, tmp, (size_t)k * sizeof(*out));
		n += k;
	}
	return n;
}

int bpfvm_cbpf_convert(const struct bpfvm_sock_filter *f, size_t cnt,
		       const struct bpfvm_cbpf_skb_layout *layout, struct bpfvm_insn **out,
		       size_t *out_cnt, uint32_t *stack_depth, const struct bpfvm_cbpf_opts *opts)
{
	struct bpfvm_log *log = OPTS_GET(opts, log, NULL);
	struct conv c = { f, (int)cnt, layout ? layout : &bpfvm_cbpf_skb_layout_linux, NULL, false };
	struct bpfvm_insn *prog = NULL;
	uint32_t stack = 0;
	int len, flen = 0;

	if (!OPTS_VALID(opts, bpfvm_cbpf_opts, log))
		return -EINVAL;

	if (!f || !out || !out_cnt || cnt == 0 || cnt > BPFVM_CBPF_MAXINSNS)
		return -EINVAL;
	/* sizing pass: finds whether packets are read (the prologue depends on it) */
	len = convert_pass(&c, NULL, &stack);
	if (len < 0)
		goto bad;
	if (c.seen_ld_abs)
		len += 4; /* the prologue's packet bits, which this pass did not know it needed */
	c.addrs = calloc(cnt, sizeof(*c.addrs));
	prog = malloc((size_t)len * sizeof(*prog));
	if (!c.addrs || !prog) {
		free(c.addrs);
		free(prog);
		return -ENOMEM;
	}
	/*
	 * As the kernel: pass 0 records the addresses (a forward jump there
	 * sees 0 for its target, and fails as the kernel's does when that
	 * does not fit), pass 1 uses them; the length never changes.  Each
	 * pass runs dry first so that nothing is written past len.
	 */
	for (int pass = 0;; pass++) {
		int n = convert_pass(&c, NULL, &stack);

		if (n != len || pass > 2 || convert_pass(&c, prog, &stack) != n)
			goto bad;
		if (flen == n)
			break;
		flen = n;
	}
	free(c.addrs);
	*out = prog;
	*out_cnt = (size_t)len;
	if (stack_depth)
		*stack_depth = stack;
	return 0;
bad:
	log_printf(log, "classic program: cannot convert (a jump beyond 16 bits of eBPF offset, or an "
			"instruction the conversion does not know)\n");
	free(c.addrs);
	free(prog);
	return -EINVAL;
}

void bpfvm_cbpf_prepare(struct bpfvm_insn *insns, size_t cnt)
{
	if (cnt >= 2 && insns[0].code == (BPFVM_ALU | BPFVM_XOR | BPFVM_X) && insns[0].dst_reg == R_A &&
	    insns[0].src_reg == R_A && insns[1].code == insns[0].code && insns[1].dst_reg == R_X &&
	    insns[1].src_reg == R_X) {
		insns[0] = ALU32_IMM(BPFVM_MOV, R_A, 0);
		insns[1] = ALU32_IMM(BPFVM_MOV, R_X, 0);
	}
	for (size_t i = 0; insns && i < cnt; i++) {
		uint8_t cls = insns[i].code & 7, op = insns[i].code & 0xf0;

		/* conditional jumps on X keep k in imm too */
		if (cls == BPFVM_JMP && (insns[i].code & BPFVM_X) && op != BPFVM_JA && op != BPFVM_CALL &&
		    op != BPFVM_EXIT)
			insns[i].imm = 0;

		/* END's source bit is its byte order and imm its width */
		if ((cls != BPFVM_ALU && cls != BPFVM_ALU64) || (insns[i].code & 0xf0) == BPFVM_END)
			continue;
		if ((insns[i].code & BPFVM_X) == BPFVM_K || (insns[i].code & 0xf0) == BPFVM_NEG)
			insns[i].src_reg = 0;
		if ((insns[i].code & BPFVM_X) == BPFVM_X || (insns[i].code & 0xf0) == BPFVM_NEG)
			insns[i].imm = 0;
	}
}
