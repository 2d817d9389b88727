/*
 * verify.c - bpfvm_prog__verify: the verifier's passes in the kernel's
 * order (the graph, then the walk, then the stack along call chains), the
 * initial state a program type gives its entry, and what the log ends
 * with: on a rejection the context of the error, and always the kernel's
 * statistics line.  On success the program keeps what the walk proved
 * (facts.h) and may run unchecked.
 */
#include <bpfvm/bpfvm.h>

#include <inttypes.h>
#include <linux/bpf.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../btf/btf.h"
#include "../core/facts.h"
#include "../maps/map.h"
#include "../util/log.h"
#include "../util/opts.h"
#include "ctx.h"
#include "verifier.h"

/* bpfvm_prog__run's convention: r1 is the input, r2 its size. */
static const struct vctx_desc mem_desc = {
	UINT32_MAX, 0, NULL, PKT_NONE, true, NULL,
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The maps of the program, and after them their inner maps' templates. */
static int load_maps(struct venv *env)
{
	struct bpfvm_prog *prog = env->prog;
	uint32_t n = (uint32_t)prog->nmaps;

	env->nmaps = n;
	env->maps = calloc(n ? 2 * n : 1, sizeof(*env->maps));
	if (!env->maps)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		const struct bpfvm_map *m = prog->maps[i];
		struct vmap *v = &env->maps[i], *inner = &env->maps[n + i];

		if (!m)
			continue;
		*v = (struct vmap){ m, m->type, m->key_size, m->value_size, m->max_entries, m->map_flags,
				    m->inner.type, m->inner.key_size, m->inner.value_size,
				    m->inner.max_entries, m->inner.map_flags,
				    m->has_spin_lock ? (int)m->spin_lock_off : -1, m->name };
		*inner = (struct vmap){ NULL, m->inner.type, m->inner.key_size, m->inner.value_size,
					m->inner.max_entries, m->inner.map_flags, 0, 0, 0, 0, 0,
					m->inner.has_spin_lock ? (int)m->inner.spin_lock_off : -1, "inner" };
	}
	return 0;
}

static int env_init(struct venv *env, struct bpfvm_prog *prog, const struct bpfvm_verify_opts *o)
{
	memset(env, 0, sizeof(*env));
	env->prog = prog;
	env->insns = prog->insns;
	env->ops = prog->ops;
	env->cnt = prog->cnt;
	env->log = o->log;
	env->log_level = o->log_level;
	env->err_insn = -1;
	env->prog_type = prog->prog_type ? prog->prog_type : BPF_PROG_TYPE_SOCKET_FILTER;
	env->attach_type = prog->expected_attach_type;
	env->gpl = prog->gpl_compatible;
	env->strict_alignment = o->flags & BPFVM_VERIFY_STRICT_ALIGNMENT;
	env->test_state_freq = o->flags & BPFVM_VERIFY_STATE_FREQ;
	env->sleepable = o->flags & BPFVM_VERIFY_SLEEPABLE;
	env->walk_loops = o->flags & BPFVM_VERIFY_WALK_LOOPS;
	env->func_info = o->flags & BPFVM_VERIFY_FUNC_INFO;
	env->mem_size = o->mem_size;
	env->kbtf_path = o->btf_custom_path;
	env->source_line = o->source_line;
	env->source_ctx = o->source_ctx;
	env->func_returns_scalar = o->func_returns_scalar;
	env->ctx = (o->flags & BPFVM_VERIFY_MEM) ? &mem_desc : ctx_desc_for(env->prog_type);
	env->aux = calloc(env->cnt, sizeof(*env->aux));
	env->explored = calloc(env->cnt, sizeof(*env->explored));
	env->stack_depth = calloc(prog->nfuncs, sizeof(*env->stack_depth));
	env->fastcall_off = calloc(prog->nfuncs, sizeof(*env->fastcall_off));
	env->fastcall_keep = calloc(prog->nfuncs, sizeof(*env->fastcall_keep));
	if (!env->aux || !env->explored || !env->stack_depth || !env->fastcall_off ||
	    !env->fastcall_keep)
		return -ENOMEM;
	return load_maps(env);
}

static void env_free(struct venv *env)
{
	free_explored(env);
	while (env->nbranches)
		state_free(env->branches[--env->nbranches].st, true);
	free(env->branches);
	state_free(env->cur, true);
	free(env->hist);
	free(env->path);
	free(env->aux);
	free(env->explored);
	free(env->stack_depth);
	free(env->fastcall_off);
	free(env->fastcall_keep);
	free(env->maps);
	btf_free(env->kbtf_own);
	loop_free(env);
}

/* The entry's state: r1 is the context (or the input), r10 the stack. */
static int initial_state(struct venv *env)
{
	struct vstate *st = state_new(env);
	struct vframe *f;

	if (!st || !(f = frame_new(UINT32_MAX, 0, 0))) {
		free(st);
		return -ENOMEM;
	}
	f->callsite = -1;
	st->frames[0] = f;
	st->branches = 1;
	st->first_insn = 0;
	st->last_insn = UINT32_MAX;
	st->in_sleepable = env->sleepable;
	env->cur = st;
	init_func_state(env, f);
	if (env->ctx == &mem_desc) {
		reg_ptr(&f->regs[1], VT_MEM);
		f->regs[1].mem_size = (uint32_t)env->mem_size;
		reg_const(&f->regs[2], env->mem_size);
	} else {
		reg_ptr(&f->regs[1], VT_CTX);
	}
	return 0;
}

/*
 * The kernel's statistics line.  Linux 6.18 tracks liveness without read
 * marks along the path, so its mark_read, still printed, is always 0
 * (every statistics line of the selftests it verifies says so).
 */
static void log_stats(struct venv *env, uint64_t ns)
{
	vlog(env, "processed %" PRIu64 " insns (limit %d) max_states_per_insn %u total_states %u "
		  "peak_states %u mark_read 0 verification time %" PRIu64 " usec\n",
	     env->insn_processed, V_INSN_LIMIT, env->max_states_per_insn, env->total_states,
	     env->peak_states, ns / 1000);
}

static int run_passes(struct venv *env)
{
	int err;

	if ((err = cfg_check(env)))
		return err;
	/* the kernel's check_attach_btf_id: a syscall program runs where it may sleep */
	if (env->prog_type == BPF_PROG_TYPE_SYSCALL && !env->sleepable)
		return verr(env, -EINVAL, "Syscall programs can only be sleepable\n");
	if ((err = fastcall_mark(env)) || (err = compute_live_regs(env)) || (err = initial_state(env)))
		return err;
	env->insn_idx = 0;
	if ((err = explore(env)))
		return err;
	fastcall_apply(env);
	if ((err = cfg_check_stack_depth(env)) || (err = check_placeholder_calls(env)))
		return err;
	return facts_finish(env);
}

int bpfvm_prog__verify(struct bpfvm_prog *prog, const struct bpfvm_verify_opts *opts)
{
	struct bpfvm_verify_opts o;
	uint64_t start = now_ns(), ns;
	struct venv env;
	int err;

	if (!OPTS_VALID(opts, bpfvm_verify_opts, OPTS_GET(opts, log, NULL)) || !prog)
		return -EINVAL;
	OPTS_COPY(&o, opts);
	free(prog->facts);
	prog->facts = NULL;
	err = env_init(&env, prog, &o);
	if (!err && !env.ctx) {
		log_printf(o.log, "cannot verify programs of type %u: %s\n", env.prog_type,
			   ctx_unsupported_reason(env.prog_type));
		err = -ENOTSUP;
	} else if (!err) {
		err = run_passes(&env);
		if (err && err != -ENOMEM)
			vlog_error_context(&env);
	}
	ns = now_ns() - start;
	if (env.ctx)
		log_stats(&env, ns);
	if (o.stats) {
		*o.stats = (struct bpfvm_verify_stats){ env.insn_processed, env.max_states_per_insn,
							env.total_states, env.peak_states,
							env.stack_depth ? env.stack_depth[0] : 0, ns };
	}
	env_free(&env);
	return err;
}

bool bpfvm_prog__verified(const struct bpfvm_prog *prog)
{
	return prog && prog->facts;
}

const char *bpfvm_verify_unsupported(uint32_t prog_type)
{
	return ctx_unsupported_reason(prog_type ? prog_type : BPF_PROG_TYPE_SOCKET_FILTER);
}
