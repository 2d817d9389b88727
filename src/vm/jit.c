/*
 * jit.c - the JIT's shared layer: compiling a program in two passes over
 * a back-end (see jit.h), the code memory and its protection, the magic
 * numbers of division by a constant, the run-time support the generated
 * code calls, and the public functions bpfvm_prog__jit*().
 */
#include "../util/hot.h"
#include "jit.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "../util/log.h"
#include "../util/opts.h"

/*
 * A freed program's code memory is kept for the vm's next compilation
 * (one mapping: the last freed), still mapped and its pages in place, so
 * that a tool compiling program after program pays one mprotect each,
 * not an mmap, page faults and a munmap.  It is read + execute while it
 * waits, and made writable only to be written again: never both.
 */
void vm_jit_free(struct vm_jit *jit)
{
	if (!jit)
		return;
	free(jit->funcs);
	free(jit->insn_off);
	jit->funcs = NULL;
	jit->insn_off = NULL;
	if (jit->code && jit->vm &&
	    !(jit = __atomic_exchange_n(&jit->vm->jit_spare, jit, __ATOMIC_ACQ_REL)))
		return;
	if (jit->code)
		munmap(jit->code, jit->map_size);
	free(jit);
}

void vm_jit_drop_spare(struct bpfvm *vm)
{
	struct vm_jit *spare = __atomic_exchange_n(&vm->jit_spare, NULL, __ATOMIC_ACQ_REL);

	if (spare) {
		munmap(spare->code, spare->map_size);
		free(spare);
	}
}

/* The kept code memory, writable, when it holds size bytes and is not far bigger: else NULL. */
static uint8_t *take_spare(struct bpfvm *vm, size_t size, size_t *map_size)
{
	struct vm_jit *spare = __atomic_exchange_n(&vm->jit_spare, NULL, __ATOMIC_ACQ_REL);
	uint8_t *mem = NULL;

	if (!spare)
		return NULL;
	if (spare->map_size >= size && spare->map_size / 4 <= size &&
	    !mprotect(spare->code, spare->map_size, PROT_READ | PROT_WRITE)) {
		mem = spare->code;
		*map_size = spare->map_size;
	} else {
		munmap(spare->code, spare->map_size);
	}
	free(spare);
	return mem;
}

/* ---- the code buffer, labels and fixups ------------------------------------ */

bool jit_reserve(struct jit_ctx *c, size_t n)
{
	size_t cap;
	uint8_t *p;

	if (c->err)
		return false;
	if (c->len + n <= c->cap)
		return true;
	if (!c->can_grow) {
		/* The second pass never outgrows the first: this is a bug. */
		log_printf(c->log, "%s: the JIT's code outgrew its first pass (internal error)\n",
			   c->prog->name);
		c->err = -EFAULT;
		return false;
	}
	cap = c->cap * 2 > c->len + n ? c->cap * 2 : c->len + n;
	p = jit_arena_grow(c->arena, c->buf, c->len, cap);
	if (!p) {
		c->err = -ENOMEM;
		return false;
	}
	c->buf = p;
	c->cap = cap;
	return true;
}

void jit_place(struct jit_ctx *c, uint32_t label)
{
	c->lbl[label] = (uint32_t)c->len;
}

int64_t jit_label_distance(const struct jit_ctx *c, uint32_t label)
{
	if (c->lbl[label] != JIT_NO_LABEL)
		return (int64_t)c->lbl[label] - (int64_t)c->len;
	/*
	 * Ahead: no instruction is longer now than in the previous pass, so
	 * the distance then, from the start of this instruction, bounds it.
	 */
	if (c->prev && c->in_insn && c->prev[label] != JIT_NO_LABEL)
		return (int64_t)c->prev[label] - (int64_t)c->prev[c->cur];
	return INT64_MAX;
}

static bool grow(struct jit_arena *a, void **arr, size_t *cap, size_t n, size_t elem)
{
	size_t ncap;
	void *p;

	if (n < *cap)
		return true;
	ncap = *cap ? *cap * 2 : 64;
	p = jit_arena_grow(a, *arr, *cap * elem, ncap * elem);
	if (!p)
		return false;
	*arr = p;
	*cap = ncap;
	return true;
}

void jit_fixup(struct jit_ctx *c, uint32_t pos, uint32_t label, enum jit_fix_kind kind)
{
	if (!grow(c->arena, (void **)&c->fix, &c->capfix, c->nfix, sizeof(*c->fix))) {
		c->err = -ENOMEM;
		return;
	}
	c->fix[c->nfix++] = (struct jit_fixup){ pos, label, kind };
}

void jit_stub(struct jit_ctx *c, uint32_t pos, uint8_t kind, uint8_t reg)
{
	if (!grow(c->arena, (void **)&c->stubs, &c->capstubs, c->nstubs, sizeof(*c->stubs))) {
		c->err = -ENOMEM;
		return;
	}
	c->stubs[c->nstubs++] = (struct jit_stub){ pos, c->cur, kind, reg };
}

int jit_refuse(struct jit_ctx *c, uint32_t idx, const char *fmt, ...)
{
	va_list ap;

	log_printf(c->log, "%s: instruction %u: ", c->prog->name, idx);
	va_start(ap, fmt);
	log_vprintf(c->log, fmt, ap);
	va_end(ap);
	log_printf(c->log, "\n");
	return -EINVAL;
}

uint64_t jit_blind_key(struct jit_ctx *c)
{
	/* splitmix64: the keys only need to be unpredictable from outside. */
	uint64_t z = (c->blind_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static int patch_fixups(struct jit_ctx *c)
{
	for (size_t i = 0; i < c->nfix; i++) {
		const struct jit_fixup *f = &c->fix[i];
		uint32_t target = c->lbl[f->label];
		int64_t rel;
		uint64_t abs;
		int32_t rel32;

		if (target == JIT_NO_LABEL)
			return -EFAULT;
		switch (f->kind) {
		case JIT_FIX_REL8:
			rel = (int64_t)target - (int64_t)(f->pos + 1);
			if (rel < -128 || rel > 127)
				return -EFAULT;
			c->buf[f->pos] = (uint8_t)(int8_t)rel;
			break;
		case JIT_FIX_REL32:
			rel32 = (int32_t)((int64_t)target - (int64_t)(f->pos + 4));
			memcpy(c->buf + f->pos, &rel32, 4);
			break;
		default:
			abs = (uint64_t)c->base + target;
			memcpy(c->buf + f->pos, &abs, 8);
			break;
		}
	}
	return 0;
}

/* ---- division by invariant integers ---------------------------------------- */

void jit_udiv_magic(uint64_t d, unsigned bits, struct jit_udiv_magic *out)
{
	unsigned l = 64 - (unsigned)__builtin_clzll(d - 1); /* ceil(log2(d)) */
	unsigned __int128 one = 1, m, p;

	/* The smallest shift whose multiplier fits and whose error stays below 1/d. */
	for (unsigned s = 0; s <= l; s++) {
		p = one << (bits + s);
		m = p / d + 1; /* ceil(p / d): d, not a power of two, never divides p */
		if (m >> bits)
			break;
		if (m * d - p <= one << s) {
			*out = (struct jit_udiv_magic){ (uint64_t)m, s, false };
			return;
		}
	}
	/* The multiplier takes bits + 1 bits: its top bit is added separately. */
	m = (one << (bits + l)) / d + 1 - (one << bits);
	*out = (struct jit_udiv_magic){ (uint64_t)m, l - 1, true };
}

void jit_sdiv_magic(int64_t d, unsigned bits, struct jit_sdiv_magic *out)
{
	const uint64_t mask = bits == 64 ? ~0ull : (1ull << bits) - 1;
	const uint64_t two = 1ull << (bits - 1);
	uint64_t ad = (d < 0 ? -(uint64_t)d : (uint64_t)d) & mask;
	uint64_t t = two + (((uint64_t)d & mask) >> (bits - 1));
	uint64_t anc = t - 1 - t % ad; /* |nc|: the largest multiple of d, minus 1, below 2^(bits-1) */
	uint64_t q1 = two / anc, r1 = two - q1 * anc;
	uint64_t q2 = two / ad, r2 = two - q2 * ad, delta, m;
	unsigned p = bits - 1;

	/* Hacker's Delight, 10-1: raise p until 2^p / |nc| outgrows |d| - rem(2^p, |d|). */
	do {
		p++;
		q1 = (q1 * 2) & mask;
		r1 = (r1 * 2) & mask;
		if (r1 >= anc) {
			q1 = (q1 + 1) & mask;
			r1 -= anc;
		}
		q2 = (q2 * 2) & mask;
		r2 = (r2 * 2) & mask;
		if (r2 >= ad) {
			q2 = (q2 + 1) & mask;
			r2 -= ad;
		}
		delta = ad - r2;
	} while (q1 < delta || (q1 == delta && r1 == 0));
	m = (q2 + 1) & mask;
	if (d < 0)
		m = -m & mask;
	if (bits < 64 && (m & two))
		m |= ~mask; /* sign-extend */
	out->m = (int64_t)m;
	out->shift = p - bits;
}

/* ---- code memory ------------------------------------------------------------- */

static void *map_code(size_t size)
{
	/*
	 * Near this library's own code, so that calls to helpers and to the
	 * run-time support can be direct (rel32); only a hint.
	 */
	uintptr_t near = ((uintptr_t)&map_code & ~(uintptr_t)0xfffff) - ((uintptr_t)64 << 20);

	return mmap((void *)near, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

static size_t page_round(size_t n)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t p = page > 0 ? (size_t)page : 4096;

	return (n + p - 1) / p * p;
}

/* ---- the compiler ------------------------------------------------------------ */

static int run_pass(struct jit_ctx *c)
{
	int err;

	memset(c->lbl, 0xff, c->nlbl * sizeof(*c->lbl));
	c->len = 0;
	c->nfix = 0;
	c->nstubs = 0;
	c->err = 0;
	c->blind_state = c->blind_seed;
	err = jit_arch_emit(c);
	if (!err)
		err = c->err;
	if (!err && patch_fixups(c)) {
		log_printf(c->log, "%s: a JIT jump does not reach its target (internal error)\n",
			   c->prog->name);
		err = -EFAULT;
	}
	return err;
}

static uint64_t blind_seed(void)
{
	uint64_t seed;
	struct timespec ts;

	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) == (ssize_t)sizeof(seed))
		return seed;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^ (uint64_t)ts.tv_sec;
}

HOT const struct verifier_facts *vm_jit_facts(const struct bpfvm_prog *prog)
{
	if (!prog->facts || (prog->flags & BPFVM_PROG_TRUSTED) || prog->facts->cnt != prog->cnt)
		return NULL;
	return prog->facts;
}

/*
 * The loop heads worth aligning (JIT_ALIGN): padding before a head runs
 * whenever the code before it falls into it.  That is once per entry for
 * a loop's preheader, but every iteration of an enclosing loop when the
 * head lies inside one (the continue targets of a state machine, an inner
 * loop's head): those heads stay where they fall, unless nothing falls in.
 * One pass marks the slots inside a loop (the back edge j -> h covers
 * h + 1 .. j), through a running count of the loops open at each slot.
 */
static int mark_aligned_heads(const struct bpfvm_prog *prog, struct jit_arena *a, uint8_t *t)
{
	int32_t *opened = jit_arena_zalloc(a, (prog->cnt + 2) * sizeof(*opened)), open = 0;

	if (!opened)
		return -ENOMEM;
	for (uint32_t j = 0; j < prog->cnt; j++) {
		int64_t to;

		if (prog->ops[j] == ISA_OP_INVALID || !isa_op_is_jump(prog->ops[j]))
			continue;
		to = isa_jump_target(&prog->insns[j], j);
		if (to <= j) {
			opened[to + 1]++;
			opened[j + 1]--;
		}
	}
	for (uint32_t h = 0; h < prog->cnt; h++) {
		uint32_t prev = h && prog->ops[h - 1] == ISA_OP_INVALID && h > 1 ? h - 2 : h - 1;
		bool falls = false;

		open += opened[h];
		if (!(t[h] & JIT_LOOP_HEAD))
			continue;
		if (h && !(t[h] & JIT_FUNC_START))
			falls = isa_op_falls_through((enum isa_op)prog->ops[prev]);
		if (!falls || !open) /* no enclosing loop: h - 1 and h inside one back edge */
			t[h] |= JIT_ALIGN;
	}
	return 0;
}

/* Slots a jump lands on (JIT_TARGET), and the heads of loops (JIT_LOOP_HEAD). */
static uint8_t *jump_targets(const struct bpfvm_prog *prog, struct jit_arena *a)
{
	uint8_t *t = jit_arena_zalloc(a, prog->cnt + 1);

	for (uint32_t i = 0; t && i < prog->cnt; i++) {
		int64_t to;

		if (prog->ops[i] == ISA_OP_INVALID || !isa_op_is_jump(prog->ops[i]))
			continue;
		to = isa_jump_target(&prog->insns[i], i);
		t[to] |= JIT_TARGET | (to <= i ? JIT_LOOP_HEAD : 0);
	}
	for (uint32_t f = 0; t && f < prog->nfuncs; f++)
		t[prog->funcs[f].start] |= JIT_TARGET | JIT_FUNC_START;
	return t && !mark_aligned_heads(prog, a, t) ? t : NULL;
}

/* The compiled form, from the final pass's labels. */
static struct vm_jit *build_jit(struct jit_ctx *c, uint8_t *mem, size_t map_size)
{
	const struct bpfvm_prog *prog = c->prog;
	struct vm_jit *jit = calloc(1, sizeof(*jit));

	if (!jit)
		return NULL;
	jit->funcs = malloc(prog->nfuncs * sizeof(*jit->funcs));
	jit->insn_off = malloc((prog->cnt + 1) * sizeof(*jit->insn_off));
	if (!jit->funcs || !jit->insn_off) {
		vm_jit_free(jit);
		return NULL;
	}
	jit->code = mem;
	jit->map_size = map_size;
	jit->size = c->len;
	jit->entry = (vm_jit_entry_fn)(void *)mem;
	jit->nfuncs = prog->nfuncs;
	for (uint32_t i = 0; i <= prog->cnt; i++)
		jit->insn_off[i] = c->lbl[i];
	for (uint32_t f = 0; f < prog->nfuncs; f++) {
		uint32_t off = c->lbl[jit_lbl_func(c, f)];
		jit->funcs[f] = (uintptr_t)mem + off;
		/* A dump shows a function's prologue with its first instruction. */
		jit->insn_off[prog->funcs[f].start] = off;
	}
	jit->main = (const void *)jit->funcs[0];
	jit->facts = c->facts;
	return jit;
}

/* The second pass, into the memory the code will run from. */
static int final_pass(struct jit_ctx *c, uint32_t *spare, const struct vm_jit_opts *opts)
{
	size_t map_size = page_round(c->len + 512);
	bool own_map = opts && opts->map;
	uint8_t *mem = own_map ? NULL : take_spare(c->prog->vm, map_size, &map_size);
	struct vm_jit *jit = NULL;
	int err;

	if (!mem)
		mem = (own_map ? opts->map : map_code)(map_size);

	c->prev = c->lbl; /* the first pass's layout bounds this one's */
	c->lbl = spare;
	if (mem == MAP_FAILED) {
		err = errno;
		log_printf(c->log, "%s: cannot map %zu bytes for the JIT's code: %s\n",
			   c->prog->name, map_size, strerror(err));
		return -(err ? err : ENOMEM);
	}
	c->buf = mem; /* the first pass's stays in the arena */
	c->cap = map_size;
	c->can_grow = false;
	c->base = (uintptr_t)mem;
	err = run_pass(c);
	if (!err) {
		memset(mem + c->len, 0xcc, map_size - c->len); /* int3 past the end */
		if (mprotect(mem, map_size, PROT_READ | PROT_EXEC)) {
			err = -errno;
			log_printf(c->log, "%s: cannot make the JIT's code executable: %s\n",
				   c->prog->name, strerror(errno));
		}
	}
	c->buf = NULL;
	if (!err && !(jit = build_jit(c, mem, map_size)))
		err = -ENOMEM;
	if (err) {
		munmap(mem, map_size);
		return err;
	}
	jit->vm = own_map ? NULL : c->prog->vm;
	c->prog->jit = jit;
	return 0;
}

int vm_jit_compile(struct bpfvm_prog *prog, const struct vm_jit_opts *opts, struct bpfvm_log *log)
{
	struct jit_ctx c = { .prog = prog, .log = log };
	uint32_t *spare;
	int err;

	if (!VM_JIT_HAVE_ARCH) {
		log_printf(log, "%s: the JIT has no back-end for this CPU\n", prog->name);
		return -ENOTSUP;
	}
	c.features = prog->vm->jit_features & ~(opts ? opts->features_off : 0);
	c.blind = prog->flags & BPFVM_PROG_JIT_BLIND;
	c.facts = vm_jit_facts(prog);
	if (c.blind)
		c.blind_seed = blind_seed();
	c.nlbl = prog->cnt + 1 + prog->nfuncs + JIT_L_NAMED_COUNT;
	if (!(c.arena = jit_arena_take(prog->vm))) {
		log_printf(log, "%s: out of memory compiling the program\n", prog->name);
		return -ENOMEM;
	}
	c.is_target = jump_targets(prog, c.arena);
	c.lbl = jit_arena_alloc(c.arena, c.nlbl * sizeof(*c.lbl));
	spare = jit_arena_alloc(c.arena, c.nlbl * sizeof(*spare));
	c.cap = 256 + (size_t)prog->cnt * 12;
	c.buf = jit_arena_alloc(c.arena, c.cap);
	c.memo = jit_arena_zalloc(c.arena, prog->cnt + 1);
	c.can_grow = true;
	if (!jit_reg_masks(prog, c.arena, &c.reads, &c.writes, &c.func_use)) {
		c.live_out = jit_liveness(prog, c.arena, c.reads, c.writes);
		c.known_bool = jit_known_bool(prog, c.arena, c.writes);
	}
	err = c.lbl && spare && c.buf && c.memo && c.is_target && c.live_out && c.known_bool
		      ? jit_promote_plan(prog, c.reads, c.writes, &c.promo)
		      : -ENOMEM;
	if (!err)
		err = run_pass(&c);
	if (!err)
		err = final_pass(&c, spare, opts);
	if (err == -ENOMEM && !(log && log->len))
		log_printf(log, "%s: out of memory compiling the program\n", prog->name);
	jit_promote_free(&c.promo);
	jit_arena_give(prog->vm, c.arena);
	return err;
}

/* ---- running ----------------------------------------------------------------- */

/*
 * The program's code, compiled now if it is not, or again if it relied on
 * facts the program no longer has (verified anew, or made trusted).
 */
HOT static int ensure_compiled(struct bpfvm_prog *prog, struct bpfvm_log *log)
{
	if (prog->jit && prog->jit->facts == vm_jit_facts(prog))
		return 0;
	vm_jit_free(prog->jit);
	prog->jit = NULL;
	return vm_jit_compile(prog, NULL, log);
}

static bool is_function(const struct vm_jit *jit, uint64_t addr)
{
	uint32_t lo = 0, hi = jit->nfuncs;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;

		if (jit->funcs[mid] == addr)
			return true;
		if (jit->funcs[mid] < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

#define VM_JIT_MAX_CALLBACK_DEPTH 8

/*
 * run->call_function for JIT runs: a callback (bpf_loop, for_each_map_elem)
 * on a fresh stack, through the entry.  A fault inside it unwinds to that
 * entry only; the helper returns, and the check after the helper call
 * stops the run.
 */
static int vm_jit_call_function(struct bpfvm_run_ctx *run, uint64_t fn, const uint64_t args[5],
				uint64_t *ret)
{
	uint8_t stack[BPFVM_MAX_CALL_FRAMES * BPFVM_STACK_SIZE] __attribute__((aligned(16)));
	struct bpfvm_prog *prog = run->prog;

	if (!prog->jit || !is_function(prog->jit, fn)) {
		vm_run_fault(run, -EINVAL, "callback 0x%" PRIx64 " is not a function of the program",
			     fn);
		return -EINVAL;
	}
	if (run->cb_depth >= VM_JIT_MAX_CALLBACK_DEPTH) {
		vm_run_fault(run, -EINVAL, "callbacks nested %u deep: too deep", run->cb_depth);
		return -EINVAL;
	}
	run->cb_depth++;
	*ret = prog->jit->entry(args, (const void *)(uintptr_t)fn, run, stack + sizeof(stack));
	run->cb_depth--;
	run->prog = prog; /* a tail call inside the callback does not outlive it */
	return run->fault;
}

HOT int vm_jit_run(struct bpfvm_run_ctx *run, uint64_t r1, uint64_t r2, uint64_t *retval)
{
	/* Frame i's 512 bytes lie below frame i-1's, as in the interpreter. */
	uint8_t stack[BPFVM_MAX_CALL_FRAMES * BPFVM_STACK_SIZE] __attribute__((aligned(16)));
	const uint64_t args[5] = { r1, r2, 0, 0, 0 };
	struct vm_jit *jit;
	int err;

	if ((err = ensure_compiled(run->prog, run->log)))
		return err;
	jit = run->prog->jit;
	run->fault = 0;
	run->call_function = vm_jit_call_function;
	*retval = jit->entry(args, jit->main, run, stack + sizeof(stack));
	if (run->fault)
		*retval = 0;
	return run->fault;
}

const void *vm_jit_tail_call(struct bpfvm_run_ctx *run, uint64_t map, uint64_t index)
{
	struct bpfvm *vm = run->vm;
	struct bpfvm_prog *next;

	if (!vm->tail_call_lookup || run->tail_calls >= BPFVM_MAX_TAIL_CALLS)
		return NULL;
	next = vm->tail_call_lookup(vm, map, index);
	/* The JIT runs only trusted or verified programs, the target of a tail call too. */
	if (!next || !vm_prog_runnable(next) || !vm_unchecked_ctx_ok(next))
		return NULL;
	if (ensure_compiled(next, run->log))
		return NULL;
	run->tail_calls++;
	run->prog = next;
	return next->jit->main;
}

struct vm_jit_callee vm_jit_callx(struct bpfvm_run_ctx *run, uint64_t target)
{
	if (target <= BPFVM_MAX_HELPER_ID && run->vm->helpers[target].fn)
		return (struct vm_jit_callee){ (uintptr_t)run->vm->helpers[target].fn, 1 };
	if (is_function(run->prog->jit, target))
		return (struct vm_jit_callee){ target, 2 };
	return (struct vm_jit_callee){ 0, 0 };
}

void vm_jit_fault(struct bpfvm_run_ctx *run, uint32_t kind, uint32_t idx, uint64_t value)
{
	const struct bpfvm_prog *prog = run->prog;
	char text[128];

	if (idx >= prog->cnt || bpfvm_disasm_insn(prog->insns, prog->cnt, idx, BPFVM_SYNTAX_LLVM,
						  text, sizeof(text)) < 0)
		snprintf(text, sizeof(text), "?");
	if (kind == VM_JIT_FAULT_HELPER && !run->fault_msg[0])
		return; /* the callee logged why */
	log_printf(run->log, "%s: instruction %" PRIu32 " (%s): ", prog->name, idx, text);
	if (kind == VM_JIT_FAULT_HELPER) {
		log_printf(run->log, "%s\n", run->fault_msg);
		run->fault_msg[0] = '\0';
		return;
	}
	if (kind == VM_JIT_FAULT_DEAD) {
		/* a wrong fact must end the run, never the process that embeds bpfvm */
		log_printf(run->log, "reached code the verifier found unreachable: a bug of "
				     "bpfvm's verifier; the run is stopped\n");
		run->fault = -EFAULT;
		return;
	}
	if (kind == VM_JIT_FAULT_DEPTH)
		log_printf(run->log, "the call stack of %u frames is too deep !\n",
			   BPFVM_MAX_CALL_FRAMES + 1);
	else
		log_printf(run->log, "callx to 0x%" PRIx64
				     ": neither a helper id nor the address of a function\n", value);
	run->fault = -EINVAL;
}

/* ---- the public API ------------------------------------------------------------ */

int bpfvm_prog__jit(struct bpfvm_prog *prog, const struct bpfvm_jit_opts *opts)
{
	struct bpfvm_log *log = OPTS_GET(opts, log, NULL);

	if (!OPTS_VALID(opts, bpfvm_jit_opts, log) || !prog)
		return -EINVAL;
	return ensure_compiled(prog, log);
}

int bpfvm_prog__jit_code(const struct bpfvm_prog *prog, const void **code, size_t *size)
{
	if (!prog || !code || !size)
		return -EINVAL;
	if (!prog->jit)
		return -ENOENT;
	*code = prog->jit->code;
	*size = prog->jit->size;
	return 0;
}

long bpfvm_prog__jit_insn_offset(const struct bpfvm_prog *prog, size_t idx)
{
	if (!prog || idx > prog->cnt)
		return -EINVAL;
	if (!prog->jit)
		return -ENOENT;
	return (long)prog->jit->insn_off[idx];
}

#if !VM_JIT_HAVE_ARCH
int jit_arch_emit(struct jit_ctx *c)
{
	(void)c;
	return -ENOTSUP;
}

uint32_t jit_arch_features(void)
{
	return 0;
}
#endif
