/*
 * test_jit_fusion.c - sequences the JIT emits as one, against the
 * interpreter: fused pairs and triples, sequences around dying registers,
 * a truth value times a constant, copied small joins, an operation and a
 * zero test of its result, zero-extension after 32-bit results.
 */
#include "jit_harness.h"

/*
 * The sequences the JIT fuses (shift pairs, mov + add as lea), on every
 * register pair, r10 as a base among them; and the same with a jump
 * landing in the middle, where nothing may fuse.
 */
TEST(fused_sequences)
{
	static const int32_t ks[] = { 0, 1, -1, 127, 128, -128, -129, 0x7fffffff, INT32_MIN, -512 };

	fill_input(5);
	for (size_t p = 0; p < NPAIRS && !test_failed_now; p++) {
		int d = pairs[p][0], s = pairs[p][1], x = pairs[(p + 5) % NPAIRS][1];

		if (x == d) /* the index must survive the move */
			x = d == 3 ? 4 : 3;

		begin(d, s == x ? -1 : x);
		for (size_t a = 0; a < NVALUES; a++) {
			int32_t k = ks[a % (sizeof(ks) / sizeof(ks[0]))];
			bool from_fp = a % 4 == 3;

			ld64(d, values[a]);
			emit(BPFVM_ALU64_IMM(BPFVM_LSH, d, 32));
			emit(BPFVM_ALU64_IMM(a % 2 ? BPFVM_RSH : BPFVM_ARSH, d, 32));
			save(d);
			ld64(s, values[NVALUES - 1 - a]);
			ld64(x, values[(a * 7) % NVALUES]);
			emit(BPFVM_MOV64_REG(d, from_fp ? 10 : s));
			emit(BPFVM_ALU64_IMM(BPFVM_ADD, d, k));
			if (a % 3)
				emit(BPFVM_ALU64_REG(BPFVM_ADD, d, x));
			if (from_fp) /* an address on the stack: compare what is not */
				emit(BPFVM_ALU64_REG(BPFVM_SUB, d, 10));
			save(d);
			emit(BPFVM_MOV64_REG(d, s));
			emit(BPFVM_ALU64_REG(BPFVM_ADD, d, x));
			save(d);
			/* a jump into the middle: r = s; [L:] r += k */
			emit(BPFVM_JMP_IMM(BPFVM_JGT, x, (int32_t)values[a], 1));
			emit(BPFVM_MOV64_REG(d, s));
			emit(BPFVM_ALU64_IMM(BPFVM_ADD, d, k));
			save(d);
			/* w = s; w += k or w += x: a 32-bit lea */
			emit(BPFVM_ALU32_REG(BPFVM_MOV, d, s));
			emit(BPFVM_ALU32_IMM(BPFVM_ADD, d, k));
			save(d);
			emit(BPFVM_ALU32_REG(BPFVM_MOV, d, s));
			emit(BPFVM_ALU32_REG(BPFVM_ADD, d, x));
			save(d);
			/* r = s; r &= 0xff or 0xffff, either width: a movzx */
			emit(a % 2 ? BPFVM_MOV64_REG(d, s) : BPFVM_ALU32_REG(BPFVM_MOV, d, s));
			emit(a % 3 ? BPFVM_ALU64_IMM(BPFVM_AND, d, a % 4 < 2 ? 0xff : 0xffff)
				   : BPFVM_ALU32_IMM(BPFVM_AND, d, a % 4 < 2 ? 0xff : 0xffff));
			save(d);
		}
		finish();
		compare_all("fused sequences");
	}
}

/*
 * Sequences around a register that dies (jit_live.c), each once with the
 * register dead after it and once with it read again: an address computed
 * into a register for one load or store, ~s & (s - 1), a stack slot stored
 * back as it was loaded, and results no one reads.
 */
TEST(fusions_around_dying_registers)
{
	fill_input(6);
	for (size_t p = 0; p < NPAIRS && !test_failed_now; p++) {
		int d = pairs[p][0], s = pairs[p][1], x = 0;

		begin(d, s);
		while (x == d || x == s || x == pb.base)
			x++;
		for (size_t a = 0; a < NVALUES; a++) {
			bool keep = a % 2;            /* the register read again after */
			int16_t off = (int16_t)(8 * (a % 7)) - 16;
			int32_t k = (int32_t)(64 + 8 * (a % 5));

			/* d = base; d += k (or += x); load or store through d */
			ld64(x, 24 + 8 * (a % 3));
			emit(BPFVM_MOV64_REG(d, pb.base));
			emit(a % 3 ? BPFVM_ALU64_IMM(BPFVM_ADD, d, k) : BPFVM_ALU64_REG(BPFVM_ADD, d, x));
			switch (a % 4) {
			case 0:
				emit(BPFVM_LDX_MEM(BPFVM_DW, s, d, off));
				break;
			case 1:
				emit(BPFVM_RAW_INSN(BPFVM_LDX | BPFVM_MEMSX | BPFVM_B, d, d, off, 0));
				break;
			case 2:
				emit(BPFVM_STX_MEM(a % 8 < 4 ? BPFVM_B : BPFVM_H, d, s, off));
				break;
			default:
				emit(BPFVM_ST_MEM(BPFVM_W, d, off, (int32_t)values[a]));
				break;
			}
			if (keep)
				save(d);
			save(s);
			ld64(d, values[a]);

			/* d = s; d ^= -1; s += -1; s &= d */
			ld64(s, values[(a * 5) % NVALUES]);
			emit(BPFVM_MOV64_REG(d, s));
			emit(BPFVM_ALU64_IMM(BPFVM_XOR, d, -1));
			emit(BPFVM_ALU64_IMM(BPFVM_ADD, s, -1));
			emit(BPFVM_ALU64_REG(BPFVM_AND, s, d));
			save(s);
			if (keep)
				save(d);
			ld64(d, values[(a * 3) % NVALUES]);

			/* a slot loaded and stored back, then read at another width */
			ld64(s, values[a]);
			emit(BPFVM_STX_MEM(BPFVM_DW, 10, s, -16));
			emit(BPFVM_LDX_MEM(a % 2 ? BPFVM_W : BPFVM_DW, d, 10, -16));
			emit(BPFVM_STX_MEM(a % 2 ? BPFVM_W : BPFVM_DW, 10, d, -16));
			emit(BPFVM_LDX_MEM(BPFVM_DW, s, 10, -16));
			save(s);
			save(d);

			/* results no one reads: overwritten before any read */
			emit(BPFVM_ALU64_IMM(BPFVM_MUL, d, 7));
			emit(BPFVM_ALU32_IMM(BPFVM_MOV, d, (int32_t)a));
			save(d);
		}
		finish();
		compare_all("fusions around dying registers");
	}
}

/*
 * A register known to hold 0 or 1 (jit_known.c: after & 1, >> 63 or a
 * 32-bit >> 31, a move of 0 or 1 on every path, through moves), times a
 * constant: neg and and; times a register, as ever.  Also where the
 * knowledge must end: another write, a path that brings something else.
 */
TEST(truth_value_times_a_constant)
{
	fill_input(8);
	for (size_t p = 0; p < NPAIRS && !test_failed_now; p++) {
		int d = pairs[p][0], s = pairs[p][1];

		if (s == d)
			s = d == 3 ? 4 : 3;
		begin(d, s);
		for (size_t a = 0; a < NVALUES; a++) {
			int32_t k = imms[(a * 7) % NIMMS];
			bool w = a % 2;

			ld64(s, values[a]);
			switch (a % 4) {
			case 0:
				emit(BPFVM_MOV64_REG(d, s));
				emit(w ? BPFVM_ALU64_IMM(BPFVM_AND, d, 1) : BPFVM_ALU32_IMM(BPFVM_AND, d, 1));
				break;
			case 1:
				emit(BPFVM_MOV64_REG(d, s));
				emit(BPFVM_ALU64_IMM(BPFVM_RSH, d, 63));
				break;
			case 2:
				emit(BPFVM_ALU32_IMM(BPFVM_RSH, s, 31));
				emit(BPFVM_ALU32_REG(BPFVM_MOV, d, s));
				break;
			default:
				emit(BPFVM_MOV64_REG(d, s));
				emit(BPFVM_ALU64_IMM(BPFVM_AND, d, 1));
				emit(BPFVM_ALU64_IMM(BPFVM_ADD, s, 5)); /* another register: d stays known */
				break;
			}
			emit(w ? BPFVM_ALU64_IMM(BPFVM_MUL, d, k) : BPFVM_ALU32_IMM(BPFVM_MUL, d, k));
			save(d);
			/* s = 1; if d > v goto L; s = 0; L: s *= k, or d *= s, s *= d, s *= s */
			ld64(d, values[(a * 5) % NVALUES]);
			emit(BPFVM_ALU64_IMM(BPFVM_MOV, s, 1));
			emit(BPFVM_JMP_IMM(BPFVM_JGT, d, (int32_t)values[a], 1));
			emit(BPFVM_ALU32_IMM(BPFVM_MOV, s, 0));
			switch (a % 4) {
			case 0: emit(w ? BPFVM_ALU64_IMM(BPFVM_MUL, s, k) : BPFVM_ALU32_IMM(BPFVM_MUL, s, k)); break;
			case 1: emit(w ? BPFVM_ALU64_REG(BPFVM_MUL, d, s) : BPFVM_ALU32_REG(BPFVM_MUL, d, s)); break;
			case 2: emit(w ? BPFVM_ALU64_REG(BPFVM_MUL, s, d) : BPFVM_ALU32_REG(BPFVM_MUL, s, d)); break;
			default: emit(w ? BPFVM_ALU64_REG(BPFVM_MUL, s, s) : BPFVM_ALU32_REG(BPFVM_MUL, s, s)); break;
			}
			save(d);
			save(s);
			/* not known: written since, or a path brings another value */
			ld64(s, values[(a * 3) % NVALUES]);
			emit(BPFVM_MOV64_REG(d, s));
			emit(BPFVM_ALU64_IMM(BPFVM_AND, d, 1));
			if (a % 2) {
				emit(BPFVM_ALU64_IMM(BPFVM_ADD, d, 2));
			} else {
				emit(BPFVM_JMP_IMM(BPFVM_JGT, s, (int32_t)values[a], 1));
				emit(BPFVM_ALU64_IMM(BPFVM_MOV, d, 2));
			}
			emit(w ? BPFVM_ALU64_IMM(BPFVM_MUL, d, k) : BPFVM_ALU32_IMM(BPFVM_MUL, d, k));
			save(d);
		}
		finish();
		compare_all("a truth value times a constant");
	}
}

/*
 * Jumps to a small join, whose code the JIT copies to the jump (a goto,
 * or a != that usually holds): a loop's latch reached by `continue`s, a
 * join that exits, one that ends in a goto, one that jumps to itself, a
 * gotol; and joins that are not copied (a load, a division) or are
 * reached by == (not copied either).
 */
TEST(jumps_to_small_joins)
{
	fill_input(10);
	PROG(BPFVM_MOV64_REG(6, 1), BPFVM_MOV64_IMM(0, 0), BPFVM_MOV64_IMM(2, 0),
	     BPFVM_MOV64_IMM(7, 0),
	     /* 4: loop head: a state machine over r2 = 0..99 */
	     BPFVM_MOV64_REG(3, 2), BPFVM_ALU64_IMM(BPFVM_AND, 3, 3),
	     BPFVM_JMP_IMM(BPFVM_JNE, 3, 0, 2),          /* != to the latch below: copied */
	     BPFVM_ALU64_IMM(BPFVM_ADD, 0, 1), BPFVM_JMP_IMM(BPFVM_JA, 0, 0, 5),
	     BPFVM_JMP_IMM(BPFVM_JEQ, 3, 1, 2),          /* == : a plain jump */
	     BPFVM_ALU64_IMM(BPFVM_ADD, 7, 3), BPFVM_JMP_IMM(BPFVM_JA, 0, 0, 2),
	     BPFVM_ALU64_IMM(BPFVM_MUL, 7, 3), BPFVM_JMP_IMM(BPFVM_JA, 0, 0, 0),
	     /* 14: the latch: r2++; if r2 != 100 goto head */
	     BPFVM_ALU64_IMM(BPFVM_ADD, 2, 1), BPFVM_JMP_IMM(BPFVM_JNE, 2, 100, -12),
	     /* 16: a join that ends in a goto, reached by goto */
	     BPFVM_JMP_IMM(BPFVM_JA, 0, 0, 3),
	     BPFVM_ALU64_IMM(BPFVM_XOR, 0, 0x55), BPFVM_ALU32_IMM(BPFVM_LSH, 0, 3),
	     BPFVM_JMP_IMM(BPFVM_JA, 0, 0, 3),
	     BPFVM_ALU64_IMM(BPFVM_ADD, 7, 9), BPFVM_JMP_IMM(BPFVM_JA, 0, 0, -4),
	     BPFVM_JMP_IMM(BPFVM_JA, 0, 0, 0),
	     /* 23: a join that jumps to itself, reached by goto: r4 counts to 5 */
	     BPFVM_MOV64_IMM(4, 0), BPFVM_JMP_IMM(BPFVM_JA, 0, 0, 0),
	     BPFVM_ALU64_IMM(BPFVM_ADD, 4, 1), BPFVM_JMP_IMM(BPFVM_JNE, 4, 5, -2),
	     /* 27: gotol to a join that is a load: not copied */
	     BPFVM_RAW_INSN(BPFVM_JMP32 | BPFVM_JA, 0, 0, 0, 1), BPFVM_ALU64_IMM(BPFVM_ADD, 0, 1000),
	     BPFVM_LDX_MEM(BPFVM_DW, 5, 6, 0), BPFVM_ALU64_REG(BPFVM_ADD, 7, 4),
	     /* 31: goto to a join with a division: not copied */
	     BPFVM_JMP_IMM(BPFVM_JA, 0, 0, 1), BPFVM_ALU64_IMM(BPFVM_ADD, 7, 1),
	     BPFVM_ALU64_IMM(BPFVM_DIV, 7, 3), BPFVM_JMP_IMM(BPFVM_JNE, 5, 0, 0),
	     /* 35: != to a join that exits */
	     BPFVM_STX_MEM(BPFVM_DW, 6, 7, OUT), BPFVM_STX_MEM(BPFVM_DW, 6, 5, OUT + 8),
	     BPFVM_JMP_IMM(BPFVM_JNE, 0, 12345, 1), BPFVM_MOV64_IMM(0, -1),
	     BPFVM_ALU64_IMM(BPFVM_ADD, 0, 7), BPFVM_EXIT_INSN());
	compare_all("jumps to small joins");
	CHECK(want.r0 != (uint64_t)-1 + 7);
}

/*
 * An ALU operation with a constant, then == 0 / != 0 of its result: the
 * JIT leaves the flags of the operation to the jump.  Results that are
 * zero, zero in the low half only (64-bit: not zero), and wrap-arounds;
 * both widths, every operation that fuses, and a jump landing between.
 */
TEST(operation_then_zero_test)
{
	static const uint8_t alus[] = { BPFVM_ADD, BPFVM_SUB, BPFVM_AND, BPFVM_OR, BPFVM_XOR };
	static const int32_t ks[] = { 0, 1, -1, 0x7fffffff, INT32_MIN, 0x100, -0x100 };
	static const uint64_t starts[] = { 0, 1, (uint64_t)-1, 0xffffffffull, 0x100000000ull,
					   0xffffffff00000001ull, 0x80000000ull, 0xff00ull };

	fill_input(9);
	begin(3, 4);
	for (size_t a = 0; a < sizeof(alus); a++) {
		for (size_t k = 0; k < sizeof(ks) / sizeof(ks[0]); k++) {
			for (size_t v = 0; v < sizeof(starts) / sizeof(starts[0]); v++) {
				bool w64 = (a + k + v) % 2, jne = (k + v) % 3 == 0;

				ld64(3, starts[v]);
				if ((a + v) % 4 == 1) /* a jump landing on the test: no fusion there */
					emit(BPFVM_JMP_IMM(BPFVM_JEQ, 4, 12345, 1));
				emit(w64 ? BPFVM_ALU64_IMM(alus[a], 3, ks[k])
					 : BPFVM_ALU32_IMM(alus[a], 3, ks[k]));
				emit(BPFVM_RAW_INSN((w64 ? BPFVM_JMP : BPFVM_JMP32) |
							    (jne ? BPFVM_JNE : BPFVM_JEQ) | BPFVM_K,
						    3, 0, 1, 0));
				emit(BPFVM_ALU64_IMM(BPFVM_ADD, 3, 1000));
				save(3);
			}
		}
	}
	finish();
	compare_all("operation then zero test");
}

/*
 * clang's zero-extension (<<32 >>32) after what already left the upper
 * half zero (32-bit operations, narrow loads: the JIT emits nothing) and
 * after what did not (64-bit operations, sign-extending loads, 64-bit byte
 * swaps, a jump landing in between), and a move fused into it.
 */
TEST(zero_extension_after_32_bit_results)
{
	const struct bpfvm_insn producers[] = {
		BPFVM_ALU32_IMM(BPFVM_ADD, 3, -5), BPFVM_ALU32_IMM(BPFVM_LSH, 3, 0),
		BPFVM_ALU32_IMM(BPFVM_MOV, 3, -1), BPFVM_ALU32_REG(BPFVM_MUL, 3, 4),
		BPFVM_RAW_INSN(BPFVM_ALU | BPFVM_NEG, 3, 0, 0, 0),
		BPFVM_RAW_INSN(BPFVM_ALU | BPFVM_END | BPFVM_TO_BE, 3, 0, 0, 32),
		BPFVM_RAW_INSN(BPFVM_ALU | BPFVM_END | BPFVM_TO_BE, 3, 0, 0, 64),
		BPFVM_RAW_INSN(BPFVM_ALU64 | BPFVM_END, 3, 0, 0, 32),
		BPFVM_LDX_MEM(BPFVM_W, 3, 1, 8), BPFVM_LDX_MEM(BPFVM_B, 3, 1, 9),
		BPFVM_RAW_INSN(BPFVM_LDX | BPFVM_MEMSX | BPFVM_W, 3, 1, 12, 0),
		BPFVM_ALU64_IMM(BPFVM_ADD, 3, -5), BPFVM_ALU64_REG(BPFVM_MOV, 3, 4),
	};

	fill_input(11);
	begin(3, 4);
	emit(BPFVM_MOV64_REG(1, pb.base));
	for (size_t p = 0; p < sizeof(producers) / sizeof(producers[0]); p++) {
		for (int landing = 0; landing <= 1; landing++) {
			ld64(3, 0xfedcba9876543210ull);
			ld64(4, 0x8000000180000003ull);
			if (landing) /* taken: r3 arrives 64 bits wide, the producer skipped */
				emit(BPFVM_JMP_IMM(BPFVM_JNE, 4, 0, 1));
			emit(producers[p]);
			emit(BPFVM_ALU64_IMM(BPFVM_LSH, 3, 32));
			emit(BPFVM_ALU64_IMM(BPFVM_RSH, 3, 32));
			save(3);
		}
		/* r3 = r4; r3 <<= 32; r3 >>= 32 */
		emit(BPFVM_MOV64_REG(3, 4));
		emit(BPFVM_ALU64_IMM(BPFVM_LSH, 3, 32));
		emit(BPFVM_ALU64_IMM(BPFVM_RSH, 3, 32));
		save(3);
	}
	finish();
	compare_all("zero-extension after 32-bit results");
}

TEST_MAIN()
