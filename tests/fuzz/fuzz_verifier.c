/*
 * fuzz_verifier.c - libFuzzer target for the verifier's soundness.  Every
 * program the verifier accepts runs in the checked interpreter, which stops
 * with an error at any access outside the stack, the input, the context,
 * the packet or a map value, at any read of an unwritten register, and at
 * a helper call with bad arguments: an accepted program that stops with
 * an error is a verifier bug, and the target aborts with both logs.  An
 * accepted program then also runs unchecked, as bpfvm runs verified
 * programs, under AddressSanitizer, and, when it touches no map or helper
 * (so that every run gives the same answer), in the JIT, which builds on
 * the verifier's facts (constants, dead code): its r0 and memory must be
 * the checked run's.
 *
 * Random bytes seldom make a program that gets past the first instruction,
 * so most inputs are read as a recipe instead: each few bytes choose one
 * instruction from the shapes compilers emit (ALU on small registers,
 * stack and context loads, short forward and backward jumps, helper calls,
 * map references) or an idiom that opens deeper paths (a map lookup with
 * its null check, a packet bounds check against data_end).  The first byte
 * chooses the recipe or raw mode and the calling convention: bpfvm's own
 * (r1 = input, r2 = its size), socket filter, XDP or tc.
 *
 *   make fuzz && build/fuzz/fuzz_verifier -max_len=512 -max_total_time=600 CORPUS_DIR
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/bpf.h>

#include <bpfvm/bpfvm.h>
#include <bpfvm/hooks.h>
#include <bpfvm/maps.h>

#define MEM_SIZE 64
#define PKT_SIZE 64
#define MAX_SLOTS 256
/* Verified programs terminate, but a loop may legitimately run long. */
#define INSN_LIMIT 2000000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* With FUZZ_VERIFIER_STATS set, how many inputs got how far (printed at exit). */
static struct {
	unsigned long inputs, built, accepted, ran, long_loops, jit_compared;
} stats;

static void print_stats(void)
{
	fprintf(stderr, "fuzz_verifier: %lu inputs, %lu built, %lu accepted, %lu ran clean, "
			"%lu stopped at the run's instruction limit, %lu pure ones the same in the "
			"JIT\n",
		stats.inputs, stats.built, stats.accepted, stats.ran, stats.long_loops,
		stats.jit_compared);
}

enum conv { CONV_MEM, CONV_SOCKET, CONV_XDP, CONV_TC, CONV_COUNT };

struct gen {
	const uint8_t *p, *end;
	struct bpfvm_insn *out;
	size_t n, cap;
	bool calls;   /* the program has a function: calls and bpf_loop may use it */
};

/* imm of calls and function references, fixed once the function's place is known */
#define FUNC_PLACEHOLDER 0x7ead

static uint8_t take(struct gen *g)
{
	return g->p < g->end ? *g->p++ : 0;
}

static void emit(struct gen *g, uint8_t code, int dst, int src, int16_t off, int32_t imm)
{
	if (g->n < g->cap)
		g->out[g->n++] = (struct bpfvm_insn){ code, (uint8_t)dst, (uint8_t)src, off, imm };
}

/* Immediates near the edges where bounds arithmetic goes wrong. */
static int32_t pick_imm(struct gen *g)
{
	static const int32_t table[] = { 0,  1,  -1, 2,  3,   4,    7,          8,  15,       16,
					 31, 32, 63, 64, 255, -256, 0x7fffffff, -8, INT32_MIN, 4096 };
	uint8_t b = take(g), lo, hi;

	if (b < 200)
		return table[b % (sizeof(table) / sizeof(table[0]))];
	/* One byte a statement: the order of arguments is unspecified, and a
	 * corpus must mean the same program whichever compiler built the target. */
	lo = take(g);
	hi = take(g);
	return (int32_t)((uint32_t)lo | (uint32_t)hi << 8 | (uint32_t)(b & 1) << 31);
}

/* Offsets for loads and stores: mostly the stack's 8-byte slots. */
static int16_t pick_off(struct gen *g, int base)
{
	uint8_t b = take(g);

	if (base == BPF_REG_10)
		return (int16_t)(-8 * (1 + b % 8) + (b & 0x80 ? (b >> 4) % 8 : 0));
	return (int16_t)((b % 72) - 4);
}

static int pick_reg(struct gen *g, bool src)
{
	static const int regs[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 6, 7, 10, 3 };
	int r = regs[take(g) % 16];

	return !src && r == 10 ? 0 : r;
}

static void gen_alu(struct gen *g, uint8_t kind)
{
	static const uint8_t ops[] = { BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_OR,  BPF_AND, BPF_LSH,
				       BPF_RSH, BPF_NEG, BPF_MOD, BPF_XOR, BPF_MOV, BPF_ARSH };
	uint8_t cls = kind & 2 ? BPF_ALU : BPF_ALU64, op = ops[take(g) % 13];
	int16_t off = 0;
	int dst = pick_reg(g, false);

	/* Now and then the sign-extending and signed division forms. */
	if ((op == BPF_DIV || op == BPF_MOD) && (take(g) & 1))
		off = 1;
	if (op == BPF_MOV && (take(g) & 3) == 0)
		off = (int16_t)(8 << (take(g) % 3));
	if (kind & 1)
		emit(g, cls | op | BPF_X, dst, pick_reg(g, true), off, 0);
	else
		emit(g, cls | op | BPF_K, dst, 0, off, pick_imm(g));
}

static void gen_mem(struct gen *g, uint8_t kind)
{
	static const uint8_t sizes[] = { BPF_B, BPF_H, BPF_W, BPF_DW };
	uint8_t sz = sizes[take(g) % 4], b = take(g);
	int base = b & 1 ? BPF_REG_10 : pick_reg(g, true), reg = pick_reg(g, false);
	int16_t off = pick_off(g, base);

	if (kind == 0)
		emit(g, BPF_LDX | BPF_MEM | sz, reg, base, off, 0);
	else if (kind == 1)
		emit(g, BPF_STX | BPF_MEM | sz, base, reg, off, 0);
	else if (kind == 2)
		emit(g, BPF_ST | BPF_MEM | sz, base, 0, off, pick_imm(g));
	else {
		static const int32_t aops[] = { BPF_ADD, BPF_ADD | BPF_FETCH, BPF_XCHG, BPF_CMPXCHG,
						BPF_OR,  BPF_AND | BPF_FETCH };
		emit(g, BPF_STX | BPF_ATOMIC | (b & 2 ? BPF_DW : BPF_W), base, reg, off,
		     aops[take(g) % 6]);
	}
}

static void gen_jmp(struct gen *g)
{
	static const uint8_t ops[] = { BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET, BPF_JNE, BPF_JSGT,
				       BPF_JSGE, BPF_JLT, BPF_JLE, BPF_JSLT, BPF_JSLE, BPF_JA };
	uint8_t b = take(g), op = ops[b % 12];
	uint8_t cls = b & 0x80 ? BPF_JMP32 : BPF_JMP;
	/* Mostly forward, sometimes a short loop back. */
	int16_t off = (int16_t)((int)(take(g) % 12) - 3);

	int dst, src;

	if (op == BPF_JA) {
		emit(g, BPF_JMP | BPF_JA, 0, 0, off, 0);
		return;
	}
	dst = pick_reg(g, false);
	if (b & 0x40) {
		src = pick_reg(g, true);
		emit(g, cls | op | BPF_X, dst, src, off, 0);
	} else {
		emit(g, cls | op | BPF_K, dst, 0, off, pick_imm(g));
	}
}

static void gen_call(struct gen *g)
{
	static const int32_t ids[] = {
		BPF_FUNC_map_lookup_elem,  BPF_FUNC_map_update_elem, BPF_FUNC_map_delete_elem,
		BPF_FUNC_ktime_get_ns,     BPF_FUNC_get_prandom_u32, BPF_FUNC_ringbuf_reserve,
		BPF_FUNC_ringbuf_submit,   BPF_FUNC_ringbuf_discard, BPF_FUNC_ringbuf_output,
		BPF_FUNC_skb_load_bytes,   BPF_FUNC_xdp_adjust_head, BPF_FUNC_xdp_adjust_tail,
		BPF_FUNC_probe_read_kernel, BPF_FUNC_map_push_elem,  BPF_FUNC_get_smp_processor_id,
		BPF_FUNC_tail_call,
	};

	emit(g, BPF_JMP | BPF_CALL, 0, 0, 0, ids[take(g) % 16]);
}

/* r1 = map (0 array, 1 hash, 2 ring buffer, 3 queue), or its value address. */
static void gen_ld_map(struct gen *g, int dst)
{
	uint8_t b = take(g);
	int idx = b % 4, value = idx == 0 && (b & 0x10);

	emit(g, BPF_LD | BPF_DW | BPF_IMM, dst, value ? BPF_PSEUDO_MAP_VALUE : BPF_PSEUDO_MAP_FD, 0,
	     idx);
	emit(g, 0, 0, 0, 0, value ? (b >> 5) % 16 : 0);
}

/*
 * The lookup idiom: key on the stack, call, null check, then use.  The
 * key is stored 8 or 4 bytes wide, as an immediate or from a register:
 * the verifier knows some of these keys (zeros, a constant spilled at the
 * array's key size), and a known key inside the array needs no null
 * check; 4 is past the array.
 */
static void gen_lookup(struct gen *g)
{
	uint8_t b = take(g), k = b % 5;

	if ((b & 0x60) == 0x00) {
		emit(g, BPF_ST | BPF_MEM | BPF_DW, BPF_REG_10, 0, -8, k);
	} else if ((b & 0x60) == 0x20) {
		emit(g, BPF_ST | BPF_MEM | BPF_W, BPF_REG_10, 0, -8, k);
	} else {
		emit(g, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_3, 0, 0, k);
		emit(g, BPF_STX | BPF_MEM | (b & 0x20 ? BPF_W : BPF_DW), BPF_REG_10, BPF_REG_3, -8, 0);
	}
	emit(g, BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_2, BPF_REG_10, 0, 0);
	emit(g, BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_2, 0, 0, -8);
	gen_ld_map(g, BPF_REG_1);
	emit(g, BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_lookup_elem);
	if (b & 0x80)
		emit(g, BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_0, 0, (int16_t)(take(g) % 6), 0);
}

/* The packet idiom: data, data_end, a bounds check of a few bytes. */
static void gen_pkt(struct gen *g, enum conv conv)
{
	int16_t d = conv == CONV_XDP ? 0 : offsetof(struct __sk_buff, data);
	int16_t e = conv == CONV_XDP ? 4 : offsetof(struct __sk_buff, data_end);
	uint8_t b = take(g);

	emit(g, BPF_LDX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_1, d, 0);
	emit(g, BPF_LDX | BPF_MEM | BPF_W, BPF_REG_3, BPF_REG_1, e, 0);
	emit(g, BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_4, BPF_REG_2, 0, 0);
	emit(g, BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_4, 0, 0, b % 24);
	emit(g, BPF_JMP | (b & 0x80 ? BPF_JGT : BPF_JLE) | BPF_X, BPF_REG_4, BPF_REG_3,
	     (int16_t)(take(g) % 6), 0);
}

/* A call of the program's function, or bpf_loop with it as the callback. */
static void gen_func_use(struct gen *g)
{
	uint8_t b = take(g);

	if (b & 1) {
		emit(g, BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0, FUNC_PLACEHOLDER);
		return;
	}
	emit(g, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_1, 0, 0, (b >> 1) % 8);
	emit(g, BPF_LD | BPF_DW | BPF_IMM, BPF_REG_2, BPF_PSEUDO_FUNC, 0, FUNC_PLACEHOLDER);
	emit(g, 0, 0, 0, 0, 0);
	emit(g, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_3, 0, 0, 0);
	emit(g, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_4, 0, 0, 0);
	emit(g, BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_loop);
}

static void gen_one(struct gen *g, enum conv conv)
{
	uint8_t k = take(g) % 24;
	int dst;

	if (k < 7)
		gen_alu(g, k);
	else if (k < 13)
		gen_mem(g, (uint8_t)((k - 7) % 4));
	else if (k < 17)
		gen_jmp(g);
	else if (k < 19)
		gen_call(g);
	else if (k == 19)
		gen_ld_map(g, pick_reg(g, false));
	else if (k == 20)
		gen_lookup(g);
	else if (k == 21 && conv != CONV_MEM)
		gen_pkt(g, conv);
	else if (k == 22)
		emit(g, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	else if (k == 23 && g->calls)
		gen_func_use(g);
	else {
		dst = pick_reg(g, false);
		emit(g, BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, pick_imm(g));
	}
}

/* Jumps kept inside [start, end): out of range, they go to its last instruction. */
static void clamp_jumps(struct bpfvm_insn *out, size_t start, size_t end)
{
	for (size_t i = start; i < end; i++) {
		uint8_t cls = out[i].code & 7, op = out[i].code & 0xf0;
		long t = (long)i + 1 + out[i].off;

		if ((cls == BPF_JMP || cls == BPF_JMP32) && op != BPF_CALL && op != BPF_EXIT &&
		    (t < (long)start || t >= (long)end))
			out[i].off = (int16_t)((long)end - 1 - (long)i - 1);
	}
}

/* Calls and references of the function: now that it has a place. */
static void link_function(struct bpfvm_insn *out, size_t main_end, size_t func)
{
	for (size_t i = 0; i < main_end; i++)
		if (out[i].imm == FUNC_PLACEHOLDER &&
		    (out[i].code == (BPF_JMP | BPF_CALL) || out[i].code == (BPF_LD | BPF_DW | BPF_IMM)))
			out[i].imm = (int32_t)((long)func - (long)i - 1);
}

/*
 * The main function ends with r0 = 0; exit.  With the first byte odd, a
 * second function follows, which main may call or pass to bpf_loop; it
 * ends with r0 = 0 or 1 (a valid callback result) and exit.
 */
/*
 * The program an input's recipe makes; *stack_written tells that it begins
 * by zeroing its whole stack (and calls no function, whose frame it could
 * not), so that no run of it reads what an earlier one left there.
 */
static size_t generate(const uint8_t *data, size_t size, enum conv conv, struct bpfvm_insn *out,
		       bool *stack_written)
{
	struct gen g = { data, data + size, out, 0, MAX_SLOTS - 2, false };
	size_t main_end, func;
	uint8_t first;

	first = take(&g);
	g.calls = first & 1;
	if (g.calls)
		g.cap = MAX_SLOTS / 2;
	*stack_written = !g.calls && (first & 2);
	for (int off = -8; *stack_written && off >= -512; off -= 8) /* nothing reads garbage */
		emit(&g, BPF_ST | BPF_MEM | BPF_DW, BPF_REG_10, 0, (int16_t)off, 0);
	while (g.p < g.end && g.n < g.cap)
		gen_one(&g, conv);
	emit(&g, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0);
	g.cap += 2;
	emit(&g, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	main_end = g.n;
	clamp_jumps(out, 0, main_end);
	if (!g.calls)
		return g.n;
	/* the function: what the rest of the input says, without calls of its own */
	func = g.n;
	g.calls = false;
	g.cap = MAX_SLOTS - 2;
	g.p -= (size_t)(g.p - data) / 2; /* reuse the input's second half */
	for (int i = 0; i < 12 && g.n < g.cap; i++)
		gen_one(&g, conv);
	g.cap += 2;
	emit(&g, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, take(&g) & 1);
	emit(&g, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	clamp_jumps(out, func, g.n);
	link_function(out, main_end, func);
	return g.n;
}

struct maps {
	struct bpfvm_map *m[4];
};

static void make_maps(struct bpfvm *vm, struct maps *ms)
{
	static const uint8_t key[4] = { 0 }, val[16] = { 1, 2, 3 };

	ms->m[0] = bpfvm_map__new(vm, BPFVM_MAP_TYPE_ARRAY, 4, 16, 4, NULL);
	ms->m[1] = bpfvm_map__new(vm, BPFVM_MAP_TYPE_HASH, 8, 8, 4, NULL);
	ms->m[2] = bpfvm_map__new(vm, BPFVM_MAP_TYPE_RINGBUF, 0, 0, 4096, NULL);
	ms->m[3] = bpfvm_map__new(vm, BPFVM_MAP_TYPE_QUEUE, 0, 8, 4, NULL);
	for (int i = 0; i < 4; i++)
		if (!ms->m[i])
			abort();
	bpfvm_map__update_elem(ms->m[0], key, val, 0);
}

/* Callbacks are allowed as for a clang -g object, which has BTF function info. */
static uint32_t verify_flags(enum conv conv)
{
	return BPFVM_VERIFY_FUNC_INFO | (conv == CONV_MEM ? BPFVM_VERIFY_MEM : 0);
}

/* Report with the verifier's state at every instruction, which shows the bug. */
static _Noreturn void unsound(struct bpfvm_prog *prog, enum conv conv, const char *what,
			      const char *rlog)
{
	static char vbuf[1 << 20];
	struct bpfvm_log vlog = { vbuf, sizeof(vbuf), 0 };
	BPFVM_OPTS(bpfvm_verify_opts, vo, .log = &vlog, .log_level = 2,
		   .flags = verify_flags(conv), .mem_size = MEM_SIZE);

	bpfvm_prog__verify(prog, &vo);
	fprintf(stderr, "UNSOUND: verifier accepted a program that %s\n--- verifier log\n%s\n"
			"--- run log\n%s\n", what, vbuf, rlog);
	abort();
}

/*
 * Does every run of the program give the same answer?  It touches nothing
 * that outlives a run (maps, helpers), reads no stack it did not write (a
 * privileged program may, and gets what is there), and lets no stack
 * address out (each engine has its own stack): r10 is only the base of
 * loads and stores.  Then the JIT, building on the verifier's facts
 * (constants, dead code), must give the checked run's answer.
 * stack_written: the program zeroes its stack first.
 */
static bool is_pure(const struct bpfvm_insn *insns, size_t cnt, bool stack_written)
{
	if (!stack_written)
		return false;
	for (size_t i = 0; i < cnt; i++) {
		uint8_t code = insns[i].code, cls = BPF_CLASS(code);
		bool base_only = (cls == BPF_LDX && insns[i].dst_reg != BPF_REG_10) ||
				 ((cls == BPF_ST || cls == BPF_STX) && insns[i].src_reg != BPF_REG_10);

		if (code == (BPF_JMP | BPF_CALL))
			return false;
		if (code == (BPF_LD | BPF_DW | BPF_IMM) && insns[i].src_reg)
			return false;
		if (!base_only && (insns[i].dst_reg == BPF_REG_10 || insns[i].src_reg == BPF_REG_10))
			return false;
	}
	return true;
}

/*
 * Run an accepted program checked, unchecked and (pure programs) in the
 * JIT; any error but the instruction limit is a verifier bug, and so is a
 * JIT answer other than the checked run's.
 */
static void run_accepted(struct bpfvm_prog *prog, enum conv conv, const uint8_t *data, size_t size,
			 bool pure)
{
	static char rbuf[4096];
	struct bpfvm_log rlog = { rbuf, sizeof(rbuf), 0 };
	uint8_t *mem = calloc(1, MEM_SIZE), *first = calloc(1, MEM_SIZE), pkt[PKT_SIZE];
	uint64_t r0 = 0, first_r0 = 0;
	int err;

	if (!mem || !first)
		abort();
	for (int pass = 0; pass < (pure ? 3 : 2); pass++) {
		enum bpfvm_exec mode = pass == 2 ? BPFVM_EXEC_JIT
				       : pass  ? BPFVM_EXEC_UNCHECKED : BPFVM_EXEC_CHECKED;
		uint8_t *out = conv == CONV_MEM ? mem : pkt;
		size_t out_size = conv == CONV_MEM ? MEM_SIZE : PKT_SIZE;

		memset(mem, 0, MEM_SIZE);
		memcpy(mem, data, size < MEM_SIZE ? size : MEM_SIZE);
		memset(pkt, 0, sizeof(pkt));
		memcpy(pkt, data, size < PKT_SIZE ? size : PKT_SIZE);
		bpfvm_log__reset(&rlog);
		if (conv == CONV_MEM) {
			BPFVM_OPTS(bpfvm_run_opts, ro, .mode = mode, .insn_limit = INSN_LIMIT,
				   .log = &rlog);
			err = bpfvm_prog__run(prog, mem, MEM_SIZE, &ro);
			r0 = ro.retval;
		} else {
			BPFVM_OPTS(bpfvm_test_run_opts, to, .data_in = pkt, .data_size_in = PKT_SIZE,
				   .data_out = pkt, .data_size_out = PKT_SIZE, .mode = mode,
				   .insn_limit = INSN_LIMIT, .log = &rlog);
			err = bpfvm_prog__test_run(prog, &to);
			r0 = to.retval;
		}
		if (err == -E2BIG && !pass) {
			stats.long_loops++;
			break; /* a long loop: the unchecked run would not stop either */
		}
		if (err)
			unsound(prog, conv,
				pass == 2 ? "the JIT refused" : pass ? "the unchecked run refused"
								     : "faults in the checked interpreter",
				rbuf);
		if (pass == 0) {
			first_r0 = r0;
			memcpy(first, out, out_size);
		} else if (pass == 2) {
			if (r0 != first_r0 || memcmp(first, out, out_size))
				unsound(prog, conv, "the JIT, on the verifier's facts, runs "
						    "differently from the checked interpreter", rbuf);
			stats.jit_compared++;
		}
		stats.ran += pass == 1;
	}
	free(mem);
	free(first);
}

/* With FUZZ_VERIFIER_LOG set (replaying one input), the verifier's full log. */
static void print_log(struct bpfvm_prog *prog, enum conv conv)
{
	static char buf[1 << 22];
	struct bpfvm_log log = { buf, sizeof(buf), 0 };
	BPFVM_OPTS(bpfvm_verify_opts, vo, .log = &log, .log_level = 2,
		   .flags = verify_flags(conv), .mem_size = MEM_SIZE);

	bpfvm_prog__verify(prog, &vo);
	fprintf(stderr, "%s", buf);
}

static uint32_t prog_type_of(enum conv conv)
{
	static const uint32_t types[] = { BPF_PROG_TYPE_SOCKET_FILTER, BPF_PROG_TYPE_SOCKET_FILTER,
					  BPF_PROG_TYPE_XDP, BPF_PROG_TYPE_SCHED_CLS };

	return types[conv];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct bpfvm_insn insns[MAX_SLOTS];
	static char vbuf[4096];
	struct bpfvm_log vlog = { vbuf, sizeof(vbuf), 0 };
	enum conv conv;
	struct maps ms;
	struct bpfvm *vm;
	struct bpfvm_prog *prog;
	size_t cnt;
	bool stack_written = false;

	if (!stats.inputs++ && getenv("FUZZ_VERIFIER_STATS"))
		atexit(print_stats);
	if (size < 2)
		return 0;
	conv = (enum conv)(data[0] % CONV_COUNT);
	if (data[0] & 0x80) {
		cnt = (size - 1) / sizeof(struct bpfvm_insn);
		if (cnt == 0 || cnt > MAX_SLOTS)
			return 0;
		memcpy(insns, data + 1, cnt * sizeof(struct bpfvm_insn));
	} else {
		cnt = generate(data + 1, size - 1, conv, insns, &stack_written);
	}
	vm = bpfvm__new(NULL);
	if (!vm)
		abort();
	make_maps(vm, &ms);
	if (conv != CONV_MEM)
		bpfvm__add_context_helpers(vm);
	BPFVM_OPTS(bpfvm_prog_opts, popts, .name = "fuzz", .log = &vlog, .maps = ms.m, .nmaps = 4,
		   .prog_type = prog_type_of(conv), .license = "GPL");
	prog = bpfvm_prog__new(vm, insns, cnt, &popts);
	stats.built += prog != NULL;
	if (prog) {
		BPFVM_OPTS(bpfvm_verify_opts, vo, .log = &vlog,
			   .flags = verify_flags(conv), .mem_size = MEM_SIZE);

		bpfvm_log__reset(&vlog);
		if (getenv("FUZZ_VERIFIER_LOG"))
			print_log(prog, conv);
		if (bpfvm_prog__verify(prog, &vo) == 0) {
			stats.accepted++;
			run_accepted(prog, conv, data, size,
				     conv == CONV_MEM && is_pure(insns, cnt, stack_written));
		}
	}
	bpfvm__destroy(vm);
	return 0;
}
