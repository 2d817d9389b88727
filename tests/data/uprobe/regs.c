/*
 * regs.c - does a probed function's caller see every register as it left
 * it?  check_call() (assembly) loads a known value into each general
 * register but rsp, the arithmetic flags, every vector register (zmm0-31
 * and k0-7 with AVX-512, else ymm0-15) and calls probed(), whose code
 * touches none; back, it stores them all.  A caller may keep values in
 * call-clobbered registers across the call when it knows the callee (GCC's
 * -fipa-ra on a local one): this one keeps them in all.  rdi holds the
 * address of a 4 KiB buffer, which the programs of regs.bpf.c read (a
 * helper's memcpy in vector registers).  Uprobes at probed (the agent's
 * jmp), at probed+5 (an int3: no size is known there) and a uretprobe.
 *
 *   regs N     N calls; prints "regs ok N" or the first difference
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* rax rbx rcx rdx rsi rdi rbp r8-r15, flags, rsp */
#define NGPR 15
struct state {
	uint64_t gpr[NGPR], flags, rsp;
	uint8_t vec[32 * 64] __attribute__((aligned(64)));
	uint64_t k[8];
};

/* the offsets the assembly below uses */
_Static_assert(offsetof(struct state, flags) == 120 && offsetof(struct state, rsp) == 128 &&
	       offsetof(struct state, vec) == 192 && offsetof(struct state, k) == 2240, "layout");

struct state in __attribute__((aligned(64))), out __attribute__((aligned(64)));
uint64_t saved_rsp;
char big[4096];

void probed(void);
void check_call_avx512(void);
void check_call_avx(void);

__asm__(".text\n"
	".globl probed\n.type probed,@function\n.p2align 4\n"
	"probed:\n\tnopl 0(%rax)\n\tnop\n\tnop\n\tret\n"
	".size probed, .-probed\n"
	/* what one call needs of rsp's value: 16-aligned at the call */
	".macro chk_enter\n"
	"\tpush %rbx\n\tpush %rbp\n\tpush %r12\n\tpush %r13\n\tpush %r14\n\tpush %r15\n"
	"\tsub $8, %rsp\n\tmov %rsp, saved_rsp(%rip)\n"
	".endm\n"
	".macro gprs_in\n"
	"\tpushq in+120(%rip)\n\tpopfq\n"
	"\tmov in+0(%rip), %rax\n\tmov in+8(%rip), %rbx\n\tmov in+16(%rip), %rcx\n"
	"\tmov in+24(%rip), %rdx\n\tmov in+32(%rip), %rsi\n\tmov in+40(%rip), %rdi\n"
	"\tmov in+48(%rip), %rbp\n\tmov in+56(%rip), %r8\n\tmov in+64(%rip), %r9\n"
	"\tmov in+72(%rip), %r10\n\tmov in+80(%rip), %r11\n\tmov in+88(%rip), %r12\n"
	"\tmov in+96(%rip), %r13\n\tmov in+104(%rip), %r14\n\tmov in+112(%rip), %r15\n"
	".endm\n"
	".macro gprs_out\n"
	"\tpushfq\n\tpopq out+120(%rip)\n\tmov %rsp, out+128(%rip)\n"
	"\tmov %rax, out+0(%rip)\n\tmov %rbx, out+8(%rip)\n\tmov %rcx, out+16(%rip)\n"
	"\tmov %rdx, out+24(%rip)\n\tmov %rsi, out+32(%rip)\n\tmov %rdi, out+40(%rip)\n"
	"\tmov %rbp, out+48(%rip)\n\tmov %r8, out+56(%rip)\n\tmov %r9, out+64(%rip)\n"
	"\tmov %r10, out+72(%rip)\n\tmov %r11, out+80(%rip)\n\tmov %r12, out+88(%rip)\n"
	"\tmov %r13, out+96(%rip)\n\tmov %r14, out+104(%rip)\n\tmov %r15, out+112(%rip)\n"
	".endm\n"
	".macro chk_leave\n"
	"\tmov saved_rsp(%rip), %rsp\n\tadd $8, %rsp\n"
	"\tpop %r15\n\tpop %r14\n\tpop %r13\n\tpop %r12\n\tpop %rbp\n\tpop %rbx\n"
	"\tvzeroupper\n\tret\n"
	".endm\n"
	/* struct state: vec at 192, k at 192 + 2048 */
	".globl check_call_avx512\n.type check_call_avx512,@function\n"
	"check_call_avx512:\n\tchk_enter\n"
	".irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
	"\tvmovdqu64 in+192+\\n*64(%rip), %zmm\\n\n.endr\n"
	".irp n,0,1,2,3,4,5,6,7\n\tkmovq in+2240+\\n*8(%rip), %k\\n\n.endr\n"
	"\tgprs_in\n\tcall probed\n\tgprs_out\n"
	".irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
	"\tvmovdqu64 %zmm\\n, out+192+\\n*64(%rip)\n.endr\n"
	".irp n,0,1,2,3,4,5,6,7\n\tkmovq %k\\n, out+2240+\\n*8(%rip)\n.endr\n"
	"\tchk_leave\n"
	".size check_call_avx512, .-check_call_avx512\n"
	".globl check_call_avx\n.type check_call_avx,@function\n"
	"check_call_avx:\n\tchk_enter\n"
	".irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
	"\tvmovdqu in+192+\\n*64(%rip), %ymm\\n\n.endr\n"
	"\tgprs_in\n\tcall probed\n\tgprs_out\n"
	".irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
	"\tvmovdqu %ymm\\n, out+192+\\n*64(%rip)\n.endr\n"
	"\tchk_leave\n"
	".size check_call_avx, .-check_call_avx\n");

static const char *const names[NGPR] = { "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "r8",
					 "r9", "r10", "r11", "r12", "r13", "r14", "r15" };

/* The first register that differs, said; 0 when none. */
static int differs(int avx512, long call)
{
	int nvec = avx512 ? 32 : 16, width = avx512 ? 64 : 32;

	for (int i = 0; i < NGPR; i++)
		if (out.gpr[i] != in.gpr[i])
			return printf("call %ld: %s 0x%llx, was 0x%llx\n", call, names[i],
				      (unsigned long long)out.gpr[i], (unsigned long long)in.gpr[i]);
	/* the arithmetic flags and DF (the ABI's 0) */
	if ((out.flags & 0xcd5) != (in.flags & 0xcd5))
		return printf("call %ld: flags 0x%llx, were 0x%llx\n", call,
			      (unsigned long long)out.flags, (unsigned long long)in.flags);
	if (out.rsp != saved_rsp)
		return printf("call %ld: rsp moved\n", call);
	for (int v = 0; v < nvec; v++)
		if (memcmp(out.vec + v * 64, in.vec + v * 64, (size_t)width))
			return printf("call %ld: %smm%d differs\n", call, avx512 ? "z" : "y", v);
	for (int k = 0; avx512 && k < 8; k++)
		if (out.k[k] != in.k[k])
			return printf("call %ld: k%d 0x%llx, was 0x%llx\n", call, k,
				      (unsigned long long)out.k[k], (unsigned long long)in.k[k]);
	return 0;
}

int main(int argc, char **argv)
{
	long n = argc == 2 ? atol(argv[1]) : 0;
	int avx512;

	__builtin_cpu_init();
	avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
	if (n <= 0 || !__builtin_cpu_supports("avx"))
		return 2;
	memset(big, 'x', sizeof(big));
	big[200] = '\0';   /* bpf_snprintf's %s ends there */
	for (long c = 0; c < n; c++) {
		/* values each call anew, none 0, none a register's neighbour's */
		for (int i = 0; i < NGPR; i++)
			in.gpr[i] = 0x0101010101010101ull * (uint64_t)(i + 1) ^ (uint64_t)c << 20;
		in.gpr[5] = (uint64_t)(uintptr_t)big;    /* rdi: what the programs read */
		in.flags = 0x202 | (c & 1 ? 0x8d5 : 0x880);   /* CF PF AF ZF SF OF set, or SF OF */
		for (int b = 0; b < (int)sizeof(in.vec); b++)
			in.vec[b] = (uint8_t)(b * 7 + c + 1);
		for (int k = 0; k < 8; k++)
			in.k[k] = 0x1234567890abcdefull * (uint64_t)(k + 1) + (uint64_t)c;
		if (avx512)
			check_call_avx512();
		else
			check_call_avx();
		if (differs(avx512, c))
			return 1;
	}
	printf("regs ok %ld (%s)\n", n, avx512 ? "zmm0-31, k0-7" : "ymm0-15");
	return 0;
}
