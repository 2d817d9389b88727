/*
 * test_constants.c - bpfvm's numbers are the kernel's: instruction classes,
 * modes, operations, pseudo sources and helper ids, checked against
 * <linux/bpf.h> (Debian's, from Linux 6.1: names it lacks are checked
 * where it has them).
 */
#include <linux/bpf.h>

#include <bpfvm/bpfvm.h>

#include "isa/opcode.h"
#include "vm/vm.h"
#include "test.h"

TEST(classes_modes_sizes)
{
	CHECK_EQ_INT(BPFVM_LD, BPF_LD);
	CHECK_EQ_INT(BPFVM_LDX, BPF_LDX);
	CHECK_EQ_INT(BPFVM_ST, BPF_ST);
	CHECK_EQ_INT(BPFVM_STX, BPF_STX);
	CHECK_EQ_INT(BPFVM_ALU, BPF_ALU);
	CHECK_EQ_INT(BPFVM_JMP, BPF_JMP);
	CHECK_EQ_INT(BPFVM_JMP32, BPF_JMP32);
	CHECK_EQ_INT(BPFVM_ALU64, BPF_ALU64);
	CHECK_EQ_INT(BPFVM_W, BPF_W);
	CHECK_EQ_INT(BPFVM_H, BPF_H);
	CHECK_EQ_INT(BPFVM_B, BPF_B);
	CHECK_EQ_INT(BPFVM_DW, BPF_DW);
	CHECK_EQ_INT(BPFVM_IMM, BPF_IMM);
	CHECK_EQ_INT(BPFVM_ABS, BPF_ABS);
	CHECK_EQ_INT(BPFVM_IND, BPF_IND);
	CHECK_EQ_INT(BPFVM_MEM, BPF_MEM);
	CHECK_EQ_INT(BPFVM_ATOMIC, BPF_ATOMIC);
#ifdef BPF_MEMSX
	CHECK_EQ_INT(BPFVM_MEMSX, BPF_MEMSX);
#endif
}

TEST(operations)
{
	CHECK_EQ_INT(BPFVM_ADD, BPF_ADD);
	CHECK_EQ_INT(BPFVM_SUB, BPF_SUB);
	CHECK_EQ_INT(BPFVM_MUL, BPF_MUL);
	CHECK_EQ_INT(BPFVM_DIV, BPF_DIV);
	CHECK_EQ_INT(BPFVM_OR, BPF_OR);
	CHECK_EQ_INT(BPFVM_AND, BPF_AND);
	CHECK_EQ_INT(BPFVM_LSH, BPF_LSH);
	CHECK_EQ_INT(BPFVM_RSH, BPF_RSH);
	CHECK_EQ_INT(BPFVM_NEG, BPF_NEG);
	CHECK_EQ_INT(BPFVM_MOD, BPF_MOD);
	CHECK_EQ_INT(BPFVM_XOR, BPF_XOR);
	CHECK_EQ_INT(BPFVM_MOV, BPF_MOV);
	CHECK_EQ_INT(BPFVM_ARSH, BPF_ARSH);
	CHECK_EQ_INT(BPFVM_END, BPF_END);
	CHECK_EQ_INT(BPFVM_TO_LE, BPF_TO_LE);
	CHECK_EQ_INT(BPFVM_TO_BE, BPF_TO_BE);
	CHECK_EQ_INT(BPFVM_K, BPF_K);
	CHECK_EQ_INT(BPFVM_X, BPF_X);
	CHECK_EQ_INT(BPFVM_JA, BPF_JA);
	CHECK_EQ_INT(BPFVM_JEQ, BPF_JEQ);
	CHECK_EQ_INT(BPFVM_JGT, BPF_JGT);
	CHECK_EQ_INT(BPFVM_JGE, BPF_JGE);
	CHECK_EQ_INT(BPFVM_JSET, BPF_JSET);
	CHECK_EQ_INT(BPFVM_JNE, BPF_JNE);
	CHECK_EQ_INT(BPFVM_JSGT, BPF_JSGT);
	CHECK_EQ_INT(BPFVM_JSGE, BPF_JSGE);
	CHECK_EQ_INT(BPFVM_JLT, BPF_JLT);
	CHECK_EQ_INT(BPFVM_JLE, BPF_JLE);
	CHECK_EQ_INT(BPFVM_JSLT, BPF_JSLT);
	CHECK_EQ_INT(BPFVM_JSLE, BPF_JSLE);
	CHECK_EQ_INT(BPFVM_CALL, BPF_CALL);
	CHECK_EQ_INT(BPFVM_EXIT, BPF_EXIT);
	CHECK_EQ_INT(BPFVM_FETCH, BPF_FETCH);
	CHECK_EQ_INT(BPFVM_XCHG, BPF_XCHG);
	CHECK_EQ_INT(BPFVM_CMPXCHG, BPF_CMPXCHG);
#ifdef BPF_JCOND
	CHECK_EQ_INT(BPFVM_JCOND, BPF_JCOND);
#endif
#ifdef BPF_LOAD_ACQ
	CHECK_EQ_INT(BPFVM_LOAD_ACQ, BPF_LOAD_ACQ);
	CHECK_EQ_INT(BPFVM_STORE_REL, BPF_STORE_REL);
#endif
}

TEST(pseudo_sources)
{
	CHECK_EQ_INT(BPFVM_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_FD);
	CHECK_EQ_INT(BPFVM_PSEUDO_MAP_VALUE, BPF_PSEUDO_MAP_VALUE);
	CHECK_EQ_INT(BPFVM_PSEUDO_BTF_ID, BPF_PSEUDO_BTF_ID);
	CHECK_EQ_INT(BPFVM_PSEUDO_FUNC, BPF_PSEUDO_FUNC);
	CHECK_EQ_INT(BPFVM_PSEUDO_MAP_IDX, BPF_PSEUDO_MAP_IDX);
	CHECK_EQ_INT(BPFVM_PSEUDO_MAP_IDX_VALUE, BPF_PSEUDO_MAP_IDX_VALUE);
	CHECK_EQ_INT(BPFVM_PSEUDO_CALL, BPF_PSEUDO_CALL);
	CHECK_EQ_INT(BPFVM_PSEUDO_KFUNC_CALL, BPF_PSEUDO_KFUNC_CALL);
	CHECK_EQ_INT(BPFVM_MAX_TAIL_CALLS, 33);
	CHECK_EQ_INT(sizeof(struct bpfvm_insn), sizeof(struct bpf_insn));
}

/* Every opcode byte in the table is the kernel's composition of its parts. */
TEST(table_codes_compose)
{
	CHECK_EQ_INT(isa_ops[ISA_OP_ADD64_K].code, BPF_ALU64 | BPF_ADD | BPF_K);
	CHECK_EQ_INT(isa_ops[ISA_OP_ARSH32_X].code, BPF_ALU | BPF_ARSH | BPF_X);
	CHECK_EQ_INT(isa_ops[ISA_OP_BE64].code, BPF_ALU | BPF_END | BPF_TO_BE);
	CHECK_EQ_INT(isa_ops[ISA_OP_BSWAP16].code, BPF_ALU64 | BPF_END | BPF_TO_LE);
	CHECK_EQ_INT(isa_ops[ISA_OP_LDDW].code, BPF_LD | BPF_IMM | BPF_DW);
	CHECK_EQ_INT(isa_ops[ISA_OP_LDABS_H].code, BPF_LD | BPF_ABS | BPF_H);
	CHECK_EQ_INT(isa_ops[ISA_OP_LDIND_B].code, BPF_LD | BPF_IND | BPF_B);
	CHECK_EQ_INT(isa_ops[ISA_OP_LDX_DW].code, BPF_LDX | BPF_MEM | BPF_DW);
	CHECK_EQ_INT(isa_ops[ISA_OP_LDXS_H].code, BPF_LDX | 0x80 | BPF_H);
	CHECK_EQ_INT(isa_ops[ISA_OP_ST_B].code, BPF_ST | BPF_MEM | BPF_B);
	CHECK_EQ_INT(isa_ops[ISA_OP_STX_W].code, BPF_STX | BPF_MEM | BPF_W);
	CHECK_EQ_INT(isa_ops[ISA_OP_ATOMIC_DW_CMPXCHG].code, BPF_STX | BPF_ATOMIC | BPF_DW);
	CHECK_EQ_INT(isa_ops[ISA_OP_ATOMIC_DW_CMPXCHG].vvalue, BPF_CMPXCHG);
	CHECK_EQ_INT(isa_ops[ISA_OP_ATOMIC_W_FETCH_XOR].vvalue, BPF_XOR | BPF_FETCH);
	CHECK_EQ_INT(isa_ops[ISA_OP_JSLE32_X].code, BPF_JMP32 | BPF_JSLE | BPF_X);
	CHECK_EQ_INT(isa_ops[ISA_OP_JA32].code, BPF_JMP32 | BPF_JA);
	CHECK_EQ_INT(isa_ops[ISA_OP_CALLX].code, BPF_JMP | BPF_CALL | BPF_X);
	CHECK_EQ_INT(isa_ops[ISA_OP_EXIT].code, BPF_JMP | BPF_EXIT);
	CHECK_EQ_INT(isa_ops[ISA_OP_MAY_GOTO].code, BPF_JMP | 0xe0);
}

/* The built-in helpers sit under the kernel's ids for their names. */
TEST(helper_ids)
{
	static const struct { const char *name; int id; } kernel[] = {
#define KERNEL_HELPER(x, ...) { "bpf_" #x, BPF_FUNC_##x }
		__BPF_FUNC_MAPPER(KERNEL_HELPER)
#undef KERNEL_HELPER
	};
	struct bpfvm *vm = bpfvm__new(NULL);
	int checked = 0;

	for (int id = 0; id <= BPFVM_MAX_HELPER_ID; id++) {
		const char *name = vm->helpers[id].name;
		int found = 0;

		if (!name)
			continue;
		for (size_t k = 0; k < sizeof(kernel) / sizeof(kernel[0]); k++) {
			if (strcmp(kernel[k].name, name))
				continue;
			found = 1;
			if (kernel[k].id != id)
				TEST_FAIL("%s is id %d in bpfvm, %d in the kernel", name, id, kernel[k].id);
		}
		if (!found)
			TEST_FAIL("helper %s (id %d) is not in <linux/bpf.h>", name, id);
		checked++;
	}
	CHECK(checked > 0);
	bpfvm__destroy(vm);
}

TEST_MAIN()
