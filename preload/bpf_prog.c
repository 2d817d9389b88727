/*
 * bpf_prog.c - BPF_PROG_LOAD (the instructions as libbpf relocated them:
 * map fds in ld_imm64, or indexes into fd_array; bpfvm's verifier with the
 * kernel's log levels, log buffer and errnos), BPF_BTF_LOAD (kept in the
 * object's file) and BPF_OBJ_GET_INFO_BY_FD.
 */
#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpfvm/btf.h>
#include <bpfvm/isa.h>
#include <bpfvm/object.h>
#include <fcntl.h>

#include "bpf_attr.h"
#include "preload.h"

#define LOG_LEVEL_MASK 0xf      /* BPF_LOG_LEVEL1 | LEVEL2 | STATS | FIXED */
#define LOG_FIXED 8
#define MAX_INSNS 1000000
#define MAX_MAPS 64             /* the kernel's MAX_USED_MAPS */
#define F_STRICT_ALIGNMENT 1u
#define F_TEST_STATE_FREQ 8u
#define F_SLEEPABLE 16u

struct loaded_maps {
	struct pl_obj *obj[MAX_MAPS];
	struct bpfvm_map *map[MAX_MAPS];
	size_t n;
};

/* The kernel's bpf_vlog_init: a buffer with a level, a level with a buffer. */
static int log_attr_ok(uint32_t level, uint64_t buf, uint32_t size)
{
	if (!!buf != !!size || (level && !buf) || (!level && buf) || (level & ~LOG_LEVEL_MASK) ||
	    size > UINT32_MAX >> 2)
		return -EINVAL;
	return 0;
}

/*
 * Hand text (len bytes) to the user's log as the kernel does: the last
 * size - 1 bytes and a NUL (the first ones with BPF_LOG_FIXED); -ENOSPC
 * when it did not fit.  *true_size gets what would have fit.
 */
static int put_log(uint32_t level, uint64_t ubuf, uint32_t size, const char *text, size_t len,
		   uint32_t *true_size)
{
	char *dst = (char *)(uintptr_t)ubuf;
	size_t keep;

	*true_size = (uint32_t)len + 1;
	if (!level || !ubuf)
		return 0;
	keep = len < size - 1 ? len : size - 1;
	memcpy(dst, level & LOG_FIXED ? text : text + len - keep, keep);
	dst[keep] = '\0';
	return keep < len ? -ENOSPC : 0;
}

static int map_index(struct loaded_maps *lm, int fd, struct bpfvm_log *log)
{
	struct pl_obj *o = pl_obj_get(fd, PL_MAP);

	if (!o) {
		int n = log->buf && log->len < log->size ?
			snprintf(log->buf + log->len, log->size - log->len,
				 "fd %d is not pointing to valid bpf_map\n", fd) : 0;

		log->len += n > 0 ? (size_t)n : 0;
		return fcntl(fd, F_GETFD) < 0 ? -EBADF : -EINVAL;
	}
	for (size_t i = 0; i < lm->n; i++)
		if (lm->obj[i] == o)
			return (int)i;
	if (lm->n == MAX_MAPS)
		return -E2BIG;
	lm->obj[lm->n] = o;
	lm->map[lm->n] = o->map;
	return (int)lm->n++;
}

/* ld_imm64 src 1/2 (map fd) and 5/6 (index into fd_array): imm becomes the map's index. */
static int resolve_maps(struct bpfvm_insn *insns, size_t cnt, const int32_t *fd_array,
			struct loaded_maps *lm, struct bpfvm_log *log)
{
	for (size_t i = 0; i + 1 < cnt; i++) {
		uint8_t src = insns[i].src_reg;
		int fd, idx;

		if (insns[i].code != 0x18)
			continue;
		if (src == 1 || src == 2)
			fd = insns[i].imm;
		else if ((src == 5 || src == 6) && fd_array)
			fd = fd_array[insns[i].imm];
		else {
			i++;
			continue;
		}
		if ((idx = map_index(lm, fd, log)) < 0)
			return idx;
		insns[i].imm = idx;
		i++;
	}
	return 0;
}

/*
 * libbpf poisons what it could not resolve: a call to helper 0xbad2310 for
 * a failed CO-RE relocation, 2001000000 + N for a missing kfunc, in code a
 * program guards with bpf_core_field_exists or bpf_ksym_exists.  The
 * kernel refuses such a call only where its verifier reaches it; bpfvm
 * refuses an unknown helper when the program is created.  So the call
 * becomes a read above the frame pointer, which the verifier refuses just
 * as surely where it is reached (its message differs), and which in dead
 * code is never run.
 */
#define POISON_CORE 0xbad2310
#define POISON_KFUNC_BASE 2001000000

static void unpoison(struct bpfvm_insn *insns, size_t cnt)
{
	for (size_t i = 0; i < cnt; i++) {
		struct bpfvm_insn *in = &insns[i];

		if (in->code == 0x85 && in->src_reg == 0 &&
		    (in->imm == POISON_CORE || in->imm >= POISON_KFUNC_BASE)) {
			pl_debug("instruction %zu: libbpf's poisoned call #%d: refused if reached\n", i,
				 in->imm);
			*in = (struct bpfvm_insn){ .code = 0x79, .dst_reg = 0, .src_reg = 10 };
		}
	}
}

/*
 * The verifier stopped at a poisoned call: the kernel's answer is EINVAL
 * and "invalid func unknown#N", the line libbpf looks for to name the
 * relocation that failed.
 */
static int poisoned_refusal(const struct bpfvm_insn *orig, size_t cnt, struct bpfvm_log *log,
			    int err)
{
	char at[48];

	for (size_t i = 0; i < cnt && log->buf; i++) {
		if (orig[i].code != 0x85 || orig[i].src_reg ||
		    (orig[i].imm != POISON_CORE && orig[i].imm < POISON_KFUNC_BASE))
			continue;
		snprintf(at, sizeof(at), "at instruction %zu:", i);
		if (!strstr(log->buf, at))
			continue;
		int n = log->len < log->size ? snprintf(log->buf + log->len, log->size - log->len,
						       "invalid func unknown#%d\n", orig[i].imm) : 0;

		log->len += n > 0 ? (size_t)n : 0;
		return -EINVAL;
	}
	return err;
}

static uint32_t verify_flags(const struct pl_attr_prog_load *a)
{
	return (a->prog_flags & F_STRICT_ALIGNMENT ? BPFVM_VERIFY_STRICT_ALIGNMENT : 0) |
	       (a->prog_flags & F_TEST_STATE_FREQ ? BPFVM_VERIFY_STATE_FREQ : 0) |
	       (a->prog_flags & F_SLEEPABLE ? BPFVM_VERIFY_SLEEPABLE : 0) |
	       (a->func_info_cnt ? BPFVM_VERIFY_FUNC_INFO : 0);
}

static struct pl_obj *new_prog_obj(struct bpfvm_prog *prog, const struct pl_attr_prog_load *a,
				   const struct loaded_maps *lm)
{
	struct pl *s = pl_state();
	struct pl_obj *o;

	pthread_mutex_lock(&s->lock);
	o = pl_obj_new(PL_PROG, a->prog_name);
	pthread_mutex_unlock(&s->lock);
	if (!o)
		return NULL;
	o->prog = prog;
	o->prog_type = a->prog_type;
	o->expected_attach_type = a->expected_attach_type;
	memcpy(o->name, a->prog_name, 16);
	o->map_ids = calloc(lm->n + 1, sizeof(*o->map_ids));
	for (size_t i = 0; o->map_ids && i < lm->n; i++)
		o->map_ids[o->nmap_ids++] = lm->obj[i]->id;
	return o;
}

/*
 * A tool's own program (loaded with its object's BTF: not a probe, such as
 * libbpf-tools' fentry_can_attach, which a tool survives) attached by the
 * kernel's BTF to a kernel function or tracepoint: said in one line, and
 * the tool ends (biosnoop: fentry blk_account_io_start).
 */
static void refuse_kernel_attach(const struct pl_attr_prog_load *a)
{
	static const struct { uint32_t type; const char *kind, *is; } kinds[] = {
		{ BPF_TRACE_FENTRY, "fentry", "a kernel function bpfvm cannot run in user space" },
		{ BPF_TRACE_FEXIT, "fexit", "a kernel function bpfvm cannot run in user space" },
		{ BPF_MODIFY_RETURN, "fmod_ret", "a kernel function bpfvm cannot run in user space" },
		{ BPF_TRACE_RAW_TP, "tp_btf", "a kernel tracepoint whose BTF-typed arguments user "
					      "space lacks" },
		{ BPF_LSM_MAC, "lsm", "a kernel security hook user space has no part in" },
	};
	struct bpfvm_btf *btf;
	char name[128] = "";

	if ((a->prog_type != BPF_PROG_TYPE_TRACING && a->prog_type != BPF_PROG_TYPE_LSM) ||
	    !a->prog_btf_fd || !a->attach_btf_id || a->attach_prog_fd)
		return;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (kinds[i].type != a->expected_attach_type)
			continue;
		if ((btf = bpfvm_btf__load_file(NULL))) {
			bpfvm_btf__type_name(btf, a->attach_btf_id, name, sizeof(name));
			bpfvm_btf__free(btf);
		}
		/* tp_btf's type is the typedef btf_trace_NAME; lsm's function bpf_lsm_NAME */
		pl_cannot_serve(kinds[i].kind, !strncmp(name, "btf_trace_", 10) ? name + 10 :
			       !strncmp(name, "bpf_lsm_", 8) ? name + 8 : *name ? name : "(unknown)",
			       kinds[i].is);
	}
}

/* Create and verify; 0 or the kernel's errno, with the log text in log. */
static int build(struct pl_attr_prog_load *a, struct bpfvm_insn *insns, struct bpfvm_log *log,
		 struct bpfvm_prog **out, struct loaded_maps *lm)
{
	struct pl *s = pl_state();
	struct bpfvm_prog *prog;
	const char *why;
	int err;

	err = resolve_maps(insns, a->insn_cnt, (const int32_t *)(uintptr_t)a->fd_array, lm, log);
	if (err)
		return err;
	unpoison(insns, a->insn_cnt);
	if ((why = bpfvm_verify_unsupported(a->prog_type))) {
		refuse_kernel_attach(a);
		/* in the log, which libbpf prints for a program that fails (not for its probes) */
		pl_debug("PROG_LOAD %s (%s): %s\n", a->prog_name, bpfvm_prog_type_name(a->prog_type),
			 why);
		int n = log->buf && log->len < log->size ?
			snprintf(log->buf + log->len, log->size - log->len, "%s\n", why) : 0;

		log->len += n > 0 ? (size_t)n : 0;
		return -EINVAL;
	}
	BPFVM_OPTS(bpfvm_prog_opts, po, .name = a->prog_name, .log = log, .maps = lm->map,
		   .nmaps = lm->n, .prog_type = a->prog_type,
		   .expected_attach_type = a->expected_attach_type,
		   .license = (const char *)(uintptr_t)a->license);
	if (!(prog = bpfvm_prog__new(s->vm, insns, a->insn_cnt, &po)))
		return -errno;
	BPFVM_OPTS(bpfvm_verify_opts, vo, .log_level = a->log_level & 3, .log = log,
		   .flags = verify_flags(a));
	if ((err = bpfvm_prog__verify(prog, &vo))) {
		bpfvm_prog__destroy(prog);
		err = poisoned_refusal((const struct bpfvm_insn *)(uintptr_t)a->insns, a->insn_cnt, log,
				       err);
		return err == -ENOTSUP ? -EINVAL : err;
	}
	*out = prog;
	return 0;
}

long pl_prog_load(void *attr)
{
	struct pl_attr_prog_load *a = attr;
	struct loaded_maps lm = { .n = 0 };
	struct bpfvm_log log = { 0 };
	struct bpfvm_prog *prog = NULL;
	struct bpfvm_insn *insns;
	struct pl_obj *o;
	int err, lerr;

	if (log_attr_ok(a->log_level, a->log_buf, a->log_size))
		return -EINVAL;
	if (!a->insn_cnt || a->insn_cnt > MAX_INSNS)
		return -E2BIG;
	if (!a->insns || !a->license)
		return -EFAULT;
	log.size = 1u << 24;
	if (!(insns = malloc(a->insn_cnt * sizeof(*insns))) || !(log.buf = calloc(1, log.size))) {
		free(insns);
		return -ENOMEM;
	}
	memcpy(insns, (const void *)(uintptr_t)a->insns, a->insn_cnt * sizeof(*insns));
	err = build(a, insns, &log, &prog, &lm);
	free(insns);
	if (err)
		pl_debug("PROG_LOAD %s: %d: %.300s\n", a->prog_name, err, log.buf);
	lerr = put_log(a->log_level, a->log_buf, a->log_size, log.buf,
		       log.len < log.size ? log.len : log.size - 1, &a->log_true_size);
	free(log.buf);
	if (err)
		return err;
	if (lerr) {
		bpfvm_prog__destroy(prog);
		return lerr;
	}
	if (!(o = new_prog_obj(prog, a, &lm)))
		return -ENOMEM;
	return pl_obj_fd(o);
}

long pl_btf_load(void *attr)
{
	struct pl_attr_btf_load *a = attr;
	const uint8_t *btf = (const uint8_t *)(uintptr_t)a->btf;
	struct pl *s = pl_state();
	struct pl_obj *o;
	uint32_t true_size;

	for (size_t i = PL_BTF_LOAD_END; i < PL_ATTR_SIZE; i++)
		if (((const uint8_t *)attr)[i])
			return -EINVAL;
	if (log_attr_ok(a->btf_log_level, a->btf_log_buf, a->btf_log_size))
		return -EINVAL;
	/* the header: magic 0xeb9f, version 1 */
	if (!btf || a->btf_size < 24 || btf[0] != 0x9f || btf[1] != 0xeb || btf[2] != 1) {
		put_log(a->btf_log_level, a->btf_log_buf, a->btf_log_size, "Invalid magic\n", 14,
			&a->btf_log_true_size);
		return -EINVAL;
	}
	pthread_mutex_lock(&s->lock);
	o = pl_obj_new(PL_BTF, "btf");
	pthread_mutex_unlock(&s->lock);
	if (!o || pwrite(o->fd, btf, a->btf_size, 0) != (ssize_t)a->btf_size)
		return -ENOMEM;
	o->btf_size = a->btf_size;
	put_log(a->btf_log_level, a->btf_log_buf, a->btf_log_size, "", 0, &true_size);
	a->btf_log_true_size = true_size;
	return pl_obj_fd(o);
}

/* The user's nr_map_ids and map_ids ask for the program's maps' ids (as many as fit). */
static void fill_prog_info(const struct pl_obj *o, struct pl_prog_info *in, const void *user,
			   size_t ulen)
{
	struct pl_prog_info ucopy = { 0 }, *u = &ucopy;
	uint32_t want;

	memcpy(&ucopy, user, ulen < sizeof(ucopy) ? ulen : sizeof(ucopy));
	want = u->nr_map_ids;

	in->type = o->prog_type;
	in->id = o->id;
	in->xlated_prog_len = (uint32_t)(bpfvm_prog__insn_cnt(o->prog) * 8);
	in->jited_prog_len = in->xlated_prog_len;
	memcpy(in->name, o->name, 16);
	in->gpl_compatible = 1;
	in->nr_map_ids = o->nmap_ids;
	if (u->map_ids && want)
		memcpy((void *)(uintptr_t)u->map_ids, o->map_ids,
		       (want < o->nmap_ids ? want : o->nmap_ids) * 4);
	in->map_ids = u->map_ids;
}

static void fill_map_info(const struct pl_obj *o, struct pl_map_info *in)
{
	in->type = o->map_type;
	in->id = o->id;
	in->key_size = bpfvm_map__key_size(o->map);
	in->value_size = bpfvm_map__value_size(o->map);
	in->max_entries = bpfvm_map__max_entries(o->map);
	in->map_flags = bpfvm_map__flags(o->map);
	memcpy(in->name, o->name, 16);
	in->btf_id = o->btf_id;
	in->btf_key_type_id = o->btf_key_type_id;
	in->btf_value_type_id = o->btf_value_type_id;
	in->map_extra = o->map_extra;
}

long pl_obj_info(void *attr)
{
	struct pl_attr_info *a = attr;
	uint8_t info[256] = { 0 };
	void *user = (void *)(uintptr_t)a->info;
	size_t have = 0, len;
	struct pl_obj *o;

	if (!user)
		return -EINVAL;
	if ((o = pl_obj_get((int)a->bpf_fd, PL_PROG))) {
		have = sizeof(struct pl_prog_info);
		fill_prog_info(o, (struct pl_prog_info *)info, user, a->info_len);
	} else if ((o = pl_obj_get((int)a->bpf_fd, PL_MAP))) {
		have = sizeof(struct pl_map_info);
		fill_map_info(o, (struct pl_map_info *)info);
	} else if ((o = pl_obj_get((int)a->bpf_fd, PL_BTF))) {
		struct pl_btf_info *b = (struct pl_btf_info *)info;

		have = sizeof(*b);
		b->btf_size = o->btf_size;
		b->id = o->id;
		if (a->info_len >= 12 && ((const struct pl_btf_info *)user)->btf &&
		    ((const struct pl_btf_info *)user)->btf_size >= o->btf_size &&
		    pread(o->fd, (void *)(uintptr_t)((const struct pl_btf_info *)user)->btf,
			  o->btf_size, 0) < 0)
			return -EFAULT;
	} else if ((o = pl_obj_get((int)a->bpf_fd, PL_LINK))) {
		struct pl_link_info *l = (struct pl_link_info *)info;

		have = sizeof(*l);
		l->type = o->link_perf ? 7 : 1;   /* BPF_LINK_TYPE_PERF_EVENT, _RAW_TRACEPOINT */
		l->id = o->id;
		l->prog_id = o->link_prog->id;
	} else {
		return -EBADF;
	}
	/* the kernel's bpf_check_uarg_tail_zero: what it does not know must be zero */
	for (size_t i = have; i < a->info_len; i++)
		if (((const uint8_t *)user)[i])
			return -E2BIG;
	len = a->info_len < have ? a->info_len : have;
	memcpy(user, info, len);
	a->info_len = (uint32_t)len;
	return 0;
}
