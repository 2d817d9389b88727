/*
 * prog.c - program objects and the structural checks every program passes
 * before anything runs it: each slot decodes, functions are found from the
 * bpf-to-bpf calls and function references, jumps stay inside their
 * function and never land on the second slot of an lddw, each function
 * ends in exit or a jump, and no call chain needs more than the kernel's
 * 512 bytes of stack or 8 frames.  A write to r10 is refused here only in
 * a trusted program: the kernel's verifier refuses it on the paths it
 * walks and accepts it in dead code, so for any other program the first
 * such slot is noted and the program runs only once verified.
 *
 * Messages follow the kernel verifier's wording, prefixed with the
 * instruction index.
 */
#include "prog.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/instance.h"
#include "../util/log.h"
#include "../util/opts.h"

#define ERR(log, idx, ...)                                   \
	(log_printf(log, "instruction %u: ", (unsigned)(idx)), \
	 log_printf(log, __VA_ARGS__), log_printf(log, "\n"), -EINVAL)

static int decode_all(struct bpfvm_prog *prog, struct bpfvm_log *log)
{
	char why[96];

	for (uint32_t i = 0; i < prog->cnt; i++) {
		enum isa_op op = isa_decode(prog->insns, prog->cnt, i, why, sizeof(why));

		if (op == ISA_OP_INVALID)
			return ERR(log, i, "%s", why);
		prog->ops[i] = (uint16_t)op;
		if ((isa_regs_written(&prog->insns[i], op) & (1u << BPFVM_REG_FP)) &&
		    !prog->writes_fp_at) {
			if (prog->flags & BPFVM_PROG_TRUSTED)
				return ERR(log, i, "frame pointer is read only");
			prog->writes_fp_at = i + 1;
		}
		if (op == ISA_OP_LDDW)
			prog->ops[++i] = ISA_OP_INVALID;
	}
	return 0;
}

static bool is_lddw_tail(const struct bpfvm_prog *prog, int64_t idx)
{
	return idx > 0 && idx < prog->cnt && prog->ops[idx] == ISA_OP_INVALID;
}

/* Slots that start a function: 0, and every target of a call or reference. */
static int function_starts(struct bpfvm_prog *prog, uint8_t *is_start, struct bpfvm_log *log)
{
	is_start[0] = 1;
	for (uint32_t i = 0; i < prog->cnt; i++) {
		const struct bpfvm_insn *insn = &prog->insns[i];
		bool is_ref = prog->ops[i] == ISA_OP_CALL_LOCAL ||
			      (prog->ops[i] == ISA_OP_LDDW && insn->src_reg == BPFVM_PSEUDO_FUNC);
		int64_t target = (int64_t)i + 1 + insn->imm;

		if (!is_ref)
			continue;
		/* a call into an lddw's second slot is left to the function checks: the
		 * function before it then ends in the lddw, as the kernel reports it */
		if (target < 0 || target >= prog->cnt)
			return ERR(log, i, "call to invalid destination %lld", (long long)target);
		is_start[target] = 1;
	}
	return 0;
}

static int build_functions(struct bpfvm_prog *prog, struct bpfvm_log *log)
{
	uint8_t *is_start = calloc(prog->cnt, 1);
	uint32_t n = 0;
	int err;

	if (!is_start)
		return -ENOMEM;
	err = function_starts(prog, is_start, log);
	for (uint32_t i = 0; !err && i < prog->cnt; i++)
		n += is_start[i];
	if (!err && !(prog->funcs = calloc(n, sizeof(*prog->funcs))))
		err = -ENOMEM;
	for (uint32_t i = 0, f = 0; !err && i < prog->cnt; i++) {
		if (!is_start[i])
			continue;
		if (f)
			prog->funcs[f - 1].end = i;
		prog->funcs[f++].start = i;
	}
	if (!err) {
		prog->nfuncs = n;
		prog->funcs[n - 1].end = prog->cnt;
	}
	free(is_start);
	return err;
}

const struct prog_func *prog_func_at(const struct bpfvm_prog *prog, uint32_t idx)
{
	uint32_t lo = 0, hi = prog->nfuncs;

	while (hi - lo > 1) {
		uint32_t mid = (lo + hi) / 2;
		if (prog->funcs[mid].start <= idx)
			lo = mid;
		else
			hi = mid;
	}
	return &prog->funcs[lo];
}

static int check_jumps(const struct bpfvm_prog *prog, const struct prog_func *fn,
		       struct bpfvm_log *log)
{
	uint32_t last = fn->end - 1;
	enum isa_op last_op;

	if (is_lddw_tail(prog, last))
		last--;
	last_op = prog->ops[last];
	if (last_op != ISA_OP_EXIT && last_op != ISA_OP_JA && last_op != ISA_OP_JA32)
		return ERR(log, last, "last insn is not an exit or jmp");
	for (uint32_t i = fn->start; i < fn->end; i++) {
		int64_t target;

		if (prog->ops[i] == ISA_OP_INVALID || !isa_op_is_jump(prog->ops[i]))
			continue;
		target = isa_jump_target(&prog->insns[i], i);
		if (target < fn->start || target >= fn->end)
			return ERR(log, i, "jump out of range from insn %u to %lld", i, (long long)target);
		if (is_lddw_tail(prog, target))
			return ERR(log, i, "jump into the middle of ldimm64 insn %lld", (long long)target - 1);
	}
	return 0;
}

/*
 * The stack a function uses below its r10, estimated from the code: the
 * deepest r10-relative access, following r10 through copies and constant
 * additions within straight-line code.  The verifier computes the exact
 * depth; this estimate serves programs run before verification, where it
 * only feeds the call-chain budget check (each frame gets 512 bytes).
 */
static void estimate_stack(struct bpfvm_prog *prog, struct prog_func *fn, const uint8_t *is_target,
			   const uint8_t *fastcall)
{
	int64_t fp_off[BPFVM_NREGS];
	bool known[BPFVM_NREGS];
	int64_t depth = 0;

	for (uint32_t i = fn->start; i < fn->end; i++) {
		const struct bpfvm_insn *insn = &prog->insns[i];
		enum isa_op op = prog->ops[i];
		uint16_t written;
		int base = -1;

		if (i == fn->start || is_target[i])
			for (int r = 0; r < BPFVM_NREGS; r++)
				known[r] = r == BPFVM_REG_FP, fp_off[r] = 0;
		if (op == ISA_OP_INVALID)
			continue;
		switch (isa_ops[op].form) {
		case F_LDX: base = insn->src_reg; break;
		case F_ST:
		case F_STX: base = insn->dst_reg; break;
		case F_ATOMIC: base = insn->imm == BPFVM_LOAD_ACQ ? insn->src_reg : insn->dst_reg; break;
		default: break;
		}
		if (base >= 0 && known[base] && fp_off[base] + insn->off < -depth && !fastcall[i])
			depth = -(fp_off[base] + insn->off);
		written = isa_regs_written(insn, op);
		if (op == ISA_OP_MOV64_X && known[insn->src_reg]) {
			known[insn->dst_reg] = true;
			fp_off[insn->dst_reg] = fp_off[insn->src_reg];
		} else if ((op == ISA_OP_ADD64_K || op == ISA_OP_SUB64_K) && known[insn->dst_reg]) {
			fp_off[insn->dst_reg] += op == ISA_OP_ADD64_K ? insn->imm : -(int64_t)insn->imm;
			if (fp_off[insn->dst_reg] < -depth)
				depth = -fp_off[insn->dst_reg];
		} else {
			for (int r = 0; r < BPFVM_NREGS - 1; r++)
				if (written & (1u << r))
					known[r] = false;
			if (op == ISA_OP_CALL_HELPER || op == ISA_OP_CALL_LOCAL || op == ISA_OP_CALLX)
				for (int r = 1; r <= 5; r++)
					known[r] = false;
		}
	}
	if (depth > BPFVM_STACK_SIZE)
		depth = BPFVM_STACK_SIZE;
	fn->stack_depth = (uint32_t)((depth + 7) & ~7);
}

/* The kernel's rounding of a frame for the combined stack check (JIT on: verifier/cfg.c). */
static uint32_t frame_size(const struct prog_func *fn)
{
	return (fn->stack_depth + 15) & ~15u;
}

/* Walk the call graph depth-first: the deepest chain's frames and stack. */
static int check_call_chain(const struct bpfvm_prog *prog, const struct prog_func *fn,
			    uint32_t depth, uint32_t stack, struct bpfvm_log *log)
{
	stack += frame_size(fn);
	if (depth > BPFVM_MAX_CALL_FRAMES) {
		log_printf(log, "the call stack of %u frames is too deep !\n", depth);
		return -EINVAL;
	}
	if (stack > BPFVM_STACK_SIZE) {
		log_printf(log, "combined stack size of %u calls is %u. Too large\n", depth, stack);
		return -EINVAL;
	}
	for (uint32_t i = fn->start; i < fn->end; i++) {
		int err;

		if (prog->ops[i] != ISA_OP_CALL_LOCAL)
			continue;
		err = check_call_chain(prog, prog_func_at(prog, i + 1 + prog->insns[i].imm),
				       depth + 1, stack, log);
		if (err)
			return err;
	}
	return 0;
}

/*
 * The slots of bpf_fastcall spill/fill pairs: not counted in the estimate
 * (prog_fastcall.c), which errs low; the verifier counts them where the
 * kernel does (a call it does not inline, another access to the slots).
 */
static void mark_fastcall(void *ctx, uint32_t func, uint32_t call, uint32_t pairs, int16_t above)
{
	uint8_t *fastcall = ctx;

	(void)func, (void)above;
	for (uint32_t k = 1; k <= pairs; k++)
		fastcall[call - k] = fastcall[call + k] = 1;
}

static int check_stack(struct bpfvm_prog *prog, struct bpfvm_log *log)
{
	uint8_t *is_target = calloc(prog->cnt, 1), *fastcall = calloc(prog->cnt, 1);

	if (!is_target || !fastcall || prog_fastcall_each(prog, mark_fastcall, fastcall)) {
		free(is_target);
		free(fastcall);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < prog->cnt; i++) {
		if (prog->ops[i] == ISA_OP_INVALID || !isa_op_is_jump(prog->ops[i]))
			continue;
		is_target[isa_jump_target(&prog->insns[i], i)] = 1;
		if (i + 1 < prog->cnt)
			is_target[i + 1] = 1;
	}
	for (uint32_t f = 0; f < prog->nfuncs; f++)
		estimate_stack(prog, &prog->funcs[f], is_target, fastcall);
	free(is_target);
	free(fastcall);
	return check_call_chain(prog, &prog->funcs[0], 1, 0, log);
}

int prog_check_structure(struct bpfvm_prog *prog, struct bpfvm_log *log)
{
	uint8_t last;
	int err;

	if (prog->cnt == 0) {
		log_printf(log, "the program is empty: it has no instructions\n");
		return -EINVAL;
	}
	/* The kernel checks the last instruction before decoding any. */
	last = prog->insns[prog->cnt - 1].code;
	if (last != (BPFVM_JMP | BPFVM_EXIT) && last != (BPFVM_JMP | BPFVM_JA) &&
	    last != (BPFVM_JMP32 | BPFVM_JA))
		return ERR(log, prog->cnt - 1, "last insn is not an exit or jmp");
	err = decode_all(prog, log);
	if (!err)
		err = build_functions(prog, log);
	for (uint32_t f = 0; !err && f < prog->nfuncs; f++)
		err = check_jumps(prog, &prog->funcs[f], log);
	if (!err)
		err = check_stack(prog, log);
	return err;
}

struct bpfvm_prog *bpfvm_prog__new(struct bpfvm *vm, const struct bpfvm_insn *insns, size_t cnt,
				   const struct bpfvm_prog_opts *opts)
{
	struct bpfvm_log *log = OPTS_GET(opts, log, NULL);
	struct bpfvm_prog_opts o;
	struct bpfvm_prog *prog;
	int err;

	if (!OPTS_VALID(opts, bpfvm_prog_opts, log) || !vm || (!insns && cnt)) {
		errno = EINVAL;
		return NULL;
	}
	if (cnt > UINT32_MAX / 2) {
		log_printf(log, "the program has %zu instructions: too many\n", cnt);
		errno = E2BIG;
		return NULL;
	}
	prog = calloc(1, sizeof(*prog));
	if (!prog) {
		errno = ENOMEM;
		return NULL;
	}
	prog->vm = vm;
	prog->cnt = (uint32_t)cnt;
	OPTS_COPY(&o, opts);
	prog->flags = o.flags;
	prog->name = strdup(o.name ? o.name : "prog");
	prog->insns = malloc((cnt ? cnt : 1) * sizeof(*insns));
	prog->ops = malloc((cnt ? cnt : 1) * sizeof(*prog->ops));
	if (!prog->name || !prog->insns || !prog->ops) {
		err = -ENOMEM;
		goto fail;
	}
	if (cnt)
		memcpy(prog->insns, insns, cnt * sizeof(*insns));
	err = prog_check_structure(prog, log);
	if (!err)
		err = prog_attach_refs(prog, &o, log);
	if (err)
		goto fail;
	vm_add_prog(vm, prog);
	return prog;
fail:
	prog->vm = NULL;
	bpfvm_prog__destroy(prog);
	errno = -err;
	return NULL;
}

void bpfvm_prog__destroy(struct bpfvm_prog *prog)
{
	if (!prog)
		return;
	if (prog->vm)
		vm_remove_prog(prog->vm, prog);
	prog_release_refs(prog);
	if (prog->vm)   /* what the interpreter and the JIT built for it */
		prog->vm->exec.free_caches(prog);
	free(prog->facts);
	free(prog->funcs);
	free(prog->ops);
	free(prog->insns);
	free(prog->name);
	free(prog);
}

size_t bpfvm_prog__insn_cnt(const struct bpfvm_prog *prog)
{
	return prog ? prog->cnt : 0;
}

const struct bpfvm_insn *bpfvm_prog__insns(const struct bpfvm_prog *prog)
{
	return prog ? prog->insns : NULL;
}

const char *bpfvm_prog__name(const struct bpfvm_prog *prog)
{
	return prog ? prog->name : NULL;
}
