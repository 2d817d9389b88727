/*
 * cbpf_check.c - the kernel's checks of classic programs: bpf_check_classic
 * with check_load_and_stores (net/core/filter.c) for every classic program,
 * and seccomp_check_filter (kernel/seccomp.c) after it for seccomp filters.
 * The kernel refuses with -EINVAL and no message; bpfvm says which
 * instruction broke which rule.
 */
#include <bpfvm/cbpf.h>

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>

#include "../util/log.h"
#include "../util/opts.h"

#define SECCOMP_DATA_SIZE 64 /* sizeof(struct seccomp_data) */

/* chk_code_allowed: the opcodes classic BPF has. */
static bool code_allowed(uint16_t code)
{
	switch (code) {
	case 0x04: case 0x0c: case 0x14: case 0x1c: case 0x24: case 0x2c: /* add sub mul */
	case 0x34: case 0x3c: case 0x94: case 0x9c: case 0x54: case 0x5c: /* div mod and */
	case 0x44: case 0x4c: case 0xa4: case 0xac: case 0x64: case 0x6c: /* or xor lsh */
	case 0x74: case 0x7c: case 0x84:                                  /* rsh neg */
	case 0x20: case 0x28: case 0x30: case 0x80: case 0x40: case 0x48: /* ld abs, len, ind */
	case 0x50: case 0x00: case 0x60:                                  /* ldb ind, imm, mem */
	case 0x81: case 0xb1: case 0x01: case 0x61:                       /* ldx */
	case 0x02: case 0x03: case 0x07: case 0x87: case 0x06: case 0x16: /* st stx tax txa ret */
	case 0x05: case 0x15: case 0x1d: case 0x35: case 0x3d: case 0x25: /* jumps */
	case 0x2d: case 0x45: case 0x4d:
		return true;
	}
	return false;
}

static bool is_cond_jump(uint16_t code)
{
	switch (code) {
	case 0x15: case 0x1d: case 0x35: case 0x3d: case 0x25: case 0x2d: case 0x45: case 0x4d:
		return true;
	}
	return false;
}

/* bpf_anc_helper: the ancillary offsets the kernel knows. */
static bool anc_known(uint32_t k)
{
	int32_t ad = (int32_t)k - BPFVM_SKF_AD_OFF;

	return ad >= 0 && ad <= BPFVM_SKF_AD_VLAN_TPID && ad % 4 == 0;
}

__attribute__((format(printf, 3, 4))) static int refuse(struct bpfvm_log *log, size_t pc,
							 const char *fmt, ...)
{
	va_list ap;

	log_printf(log, "instruction %zu: ", pc);
	va_start(ap, fmt);
	log_vprintf(log, fmt, ap);
	va_end(ap);
	log_printf(log, "\n");
	return -EINVAL;
}

static int check_one(const struct bpfvm_sock_filter *f, size_t cnt, size_t pc,
		     struct bpfvm_log *log)
{
	const struct bpfvm_sock_filter *t = &f[pc];

	if (!code_allowed(t->code))
		return refuse(log, pc, "unknown opcode 0x%02x", t->code);
	switch (t->code) {
	case 0x34: case 0x94:
		if (t->k == 0)
			return refuse(log, pc, "division by zero (%s #0)", t->code == 0x34 ? "div" : "mod");
		break;
	case 0x64: case 0x74:
		if (t->k >= 32)
			return refuse(log, pc, "shift by %u (at most 31)", t->k);
		break;
	case 0x60: case 0x61: case 0x02: case 0x03:
		if (t->k >= BPFVM_CBPF_MEMWORDS)
			return refuse(log, pc, "scratch memory M[%u] out of range (M[0] to M[%d])", t->k,
				      BPFVM_CBPF_MEMWORDS - 1);
		break;
	case 0x05:
		if ((int32_t)t->k < 0)
			return refuse(log, pc, "backward jump (ja %d)", (int32_t)t->k);
		if (t->k >= cnt - pc - 1)
			return refuse(log, pc, "jump past the end (ja to %zu, the last instruction is %zu)",
				      pc + 1 + t->k, cnt - 1);
		break;
	case 0x20: case 0x28: case 0x30:
		if (t->k >= (uint32_t)BPFVM_SKF_AD_OFF && !anc_known(t->k))
			return refuse(log, pc, "unknown ancillary load (SKF_AD_OFF + %d)",
				      (int32_t)t->k - BPFVM_SKF_AD_OFF);
		break;
	default:
		if (is_cond_jump(t->code) && (pc + t->jt + 1 >= cnt || pc + t->jf + 1 >= cnt))
			return refuse(log, pc, "jump past the end (to %zu, the last instruction is %zu)",
				      pc + 1 + (t->jt > t->jf ? t->jt : t->jf), cnt - 1);
	}
	return 0;
}

/*
 * check_load_and_stores: M[k] is read only where every path stored it.
 * Jumps go forward only, so one pass in order sees every predecessor.
 */
static int check_mem(const struct bpfvm_sock_filter *f, size_t cnt, struct bpfvm_log *log)
{
	uint16_t *masks = malloc(cnt * sizeof(*masks));
	uint16_t valid = 0;
	int err = 0;

	if (!masks)
		return -ENOMEM;
	for (size_t i = 0; i < cnt; i++)
		masks[i] = 0xffff;
	for (size_t pc = 0; pc < cnt && !err; pc++) {
		const struct bpfvm_sock_filter *t = &f[pc];

		valid &= masks[pc];
		if (t->code == 0x02 || t->code == 0x03) {
			valid |= (uint16_t)(1u << t->k);
		} else if (t->code == 0x60 || t->code == 0x61) {
			if (!(valid & (1u << t->k)))
				err = refuse(log, pc, "load from M[%u], which is not stored on every path here",
					     t->k);
		} else if (t->code == 0x05) {
			masks[pc + 1 + t->k] &= valid;
			valid = 0xffff;
		} else if (is_cond_jump(t->code)) {
			masks[pc + 1 + t->jt] &= valid;
			masks[pc + 1 + t->jf] &= valid;
			valid = 0xffff;
		}
	}
	free(masks);
	return err;
}

int bpfvm_cbpf_check(const struct bpfvm_sock_filter *f, size_t cnt, const struct bpfvm_cbpf_opts *opts)
{
	struct bpfvm_log *log = OPTS_GET(opts, log, NULL);
	int err;

	if (!OPTS_VALID(opts, bpfvm_cbpf_opts, log))
		return -EINVAL;

	if (!f || cnt == 0 || cnt > BPFVM_CBPF_MAXINSNS) {
		log_printf(log, "classic program of %zu instructions: the kernel takes 1 to %d\n", cnt,
			   BPFVM_CBPF_MAXINSNS);
		return -EINVAL;
	}
	for (size_t pc = 0; pc < cnt; pc++)
		if ((err = check_one(f, cnt, pc, log)))
			return err;
	if (f[cnt - 1].code != 0x06 && f[cnt - 1].code != 0x16)
		return refuse(log, cnt - 1, "the last instruction is not a return (ret)");
	return check_mem(f, cnt, log);
}

/* seccomp_check_filter's list, besides the loads it rewrites. */
static bool seccomp_allowed(uint16_t code)
{
	switch (code) {
	case 0x06: case 0x16:                                             /* ret */
	case 0x04: case 0x0c: case 0x14: case 0x1c: case 0x24: case 0x2c: /* add sub mul */
	case 0x34: case 0x3c: case 0x54: case 0x5c: case 0x44: case 0x4c: /* div and or */
	case 0xa4: case 0xac: case 0x64: case 0x6c: case 0x74: case 0x7c: /* xor lsh rsh */
	case 0x84: case 0x00: case 0x01: case 0x07: case 0x87:            /* neg ld/ldx #k tax txa */
	case 0x60: case 0x61: case 0x02: case 0x03:                       /* M[] */
	case 0x05: case 0x15: case 0x1d: case 0x35: case 0x3d: case 0x25: /* jumps */
	case 0x2d: case 0x45: case 0x4d:
		return true;
	}
	return false;
}

int bpfvm_cbpf_seccomp_check(struct bpfvm_sock_filter *f, size_t cnt, const struct bpfvm_cbpf_opts *opts)
{
	struct bpfvm_log *log = OPTS_GET(opts, log, NULL);

	if (!OPTS_VALID(opts, bpfvm_cbpf_opts, log))
		return -EINVAL;
	for (size_t pc = 0; pc < cnt; pc++) {
		struct bpfvm_sock_filter *t = &f[pc];

		switch (t->code) {
		case 0x20: /* ld [k]: a word of seccomp_data */
			if (t->k >= SECCOMP_DATA_SIZE || (t->k & 3))
				return refuse(log, pc, "ld [%u] is not an aligned word of struct "
					      "seccomp_data (%d bytes)", t->k, SECCOMP_DATA_SIZE);
			t->code = BPFVM_LDX | BPFVM_W | BPFVM_ABS;
			break;
		case 0x80: /* ld #pktlen */
			t->code = BPFVM_LD | BPFVM_IMM;
			t->k = SECCOMP_DATA_SIZE;
			break;
		case 0x81:
			t->code = BPFVM_LDX | BPFVM_IMM;
			t->k = SECCOMP_DATA_SIZE;
			break;
		default:
			if (!seccomp_allowed(t->code))
				return refuse(log, pc, "opcode 0x%02x is not allowed in a seccomp filter",
					      t->code);
		}
	}
	return 0;
}
