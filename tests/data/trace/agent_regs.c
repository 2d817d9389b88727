/*
 * agent_regs.c - the workload of test_trace_agent.sh's regs test: what a
 * `syscall` instruction keeps (every general register but rax, rcx and
 * r11, the arithmetic flags, every vector and mask register) is kept
 * across an attached getppid, trapped or at a patched site, at both kinds
 * of site the agent patches: an inline `mov $NR,%eax; syscall` (long code
 * after it) and a glibc-like wrapper (`syscall; ret` and padding).  Each
 * loads known values into all of them, makes the call, stores them back;
 * CALLS calls each.  Prints "regs ok N" (N calls), or what differed and
 * exits 1.  The widest vector registers the CPU has: zmm0-31 and k0-7,
 * else ymm0-15, else xmm0-15.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define CALLS 100
#define FLAGS 0x8d5     /* CF PF AF ZF SF OF: all set */

/* rbx rbp rdx rsi rdi r8 r9 r10 r12 r13 r14 r15, flags; vectors; masks */
struct state {
	uint64_t gpr[12], flags;
	uint8_t vec[32 * 64] __attribute__((aligned(64)));
	uint64_t k[8];
};
struct state g_in, g_out;
_Static_assert(__builtin_offsetof(struct state, vec) == 128 &&
	       __builtin_offsetof(struct state, k) == 128 + 2048, "the assembly's offsets");

#define GPRS(op, base) \
	op " " base "+0(%rip), %rbx\n" op " " base "+8(%rip), %rbp\n" op " " base "+16(%rip), %rdx\n" \
	op " " base "+24(%rip), %rsi\n" op " " base "+32(%rip), %rdi\n" op " " base "+40(%rip), %r8\n" \
	op " " base "+48(%rip), %r9\n" op " " base "+56(%rip), %r10\n" op " " base "+64(%rip), %r12\n" \
	op " " base "+72(%rip), %r13\n" op " " base "+80(%rip), %r14\n" op " " base "+88(%rip), %r15\n"
#define GPRS_OUT \
	"mov %rbx, g_out+0(%rip)\nmov %rbp, g_out+8(%rip)\nmov %rdx, g_out+16(%rip)\n" \
	"mov %rsi, g_out+24(%rip)\nmov %rdi, g_out+32(%rip)\nmov %r8, g_out+40(%rip)\n" \
	"mov %r9, g_out+48(%rip)\nmov %r10, g_out+56(%rip)\nmov %r12, g_out+64(%rip)\n" \
	"mov %r13, g_out+72(%rip)\nmov %r14, g_out+80(%rip)\nmov %r15, g_out+88(%rip)\n"
#define VEC_ZMM(dir) \
	".irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n" \
	dir ".endr\n"
#define ZMM_IN VEC_ZMM("vmovdqu64 g_in+128+\\n*64(%rip), %zmm\\n\n") \
	".irp n,0,1,2,3,4,5,6,7\nkmovq g_in+128+2048+\\n*8(%rip), %k\\n\n.endr\n"
#define ZMM_OUT VEC_ZMM("vmovdqu64 %zmm\\n, g_out+128+\\n*64(%rip)\n") \
	".irp n,0,1,2,3,4,5,6,7\nkmovq %k\\n, g_out+128+2048+\\n*8(%rip)\n.endr\n"
#define VEC16(dir) ".irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n" dir ".endr\n"
#define YMM_IN VEC16("vmovdqu g_in+128+\\n*32(%rip), %ymm\\n\n")
#define YMM_OUT VEC16("vmovdqu %ymm\\n, g_out+128+\\n*32(%rip)\n")
#define XMM_IN VEC16("movdqu g_in+128+\\n*16(%rip), %xmm\\n\n")
#define XMM_OUT VEC16("movdqu %xmm\\n, g_out+128+\\n*16(%rip)\n")

/* One test function: callee-saved registers kept, everything loaded, the site, everything stored. */
#define TEST_FN(name, vin, vout, site)                                                         \
	__asm__(".text\n.p2align 4\n.globl " name "\n.type " name ",@function\n" name ":\n"   \
		"push %rbx\npush %rbp\npush %r12\npush %r13\npush %r14\npush %r15\n"          \
		vin GPRS("mov", "g_in") "push g_in+96(%rip)\npopfq\n" site                    \
		"pushfq\npop g_out+96(%rip)\n" GPRS_OUT vout                                  \
		"pop %r15\npop %r14\npop %r13\npop %r12\npop %rbp\npop %rbx\nret\n"          \
		".size " name ", .-" name "\n")

/* The wrapper: the call's site followed by ret and padding to the 16-byte boundary. */
__asm__(".text\n.p2align 4\nwrapped_getppid:\nmov $110, %eax\nsyscall\nret\n.p2align 4, 0xcc\n");
#define INLINE "mov $110, %eax\nsyscall\n"
#define WRAPPED "call wrapped_getppid\n"

TEST_FN("inline_zmm", ZMM_IN, ZMM_OUT, INLINE);
TEST_FN("wrapped_zmm", ZMM_IN, ZMM_OUT, WRAPPED);
TEST_FN("inline_ymm", YMM_IN, YMM_OUT, INLINE);
TEST_FN("wrapped_ymm", YMM_IN, YMM_OUT, WRAPPED);
TEST_FN("inline_xmm", XMM_IN, XMM_OUT, INLINE);
TEST_FN("wrapped_xmm", XMM_IN, XMM_OUT, WRAPPED);
void inline_zmm(void), wrapped_zmm(void), inline_ymm(void), wrapped_ymm(void), inline_xmm(void),
	wrapped_xmm(void);

int main(void)
{
	__builtin_cpu_init();
	int zmm = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
	int ymm = !zmm && __builtin_cpu_supports("avx");
	size_t vbytes = zmm ? 32 * 64 : ymm ? 16 * 32 : 16 * 16;
	void (*fn[2])(void) = { zmm ? inline_zmm : ymm ? inline_ymm : inline_xmm,
				zmm ? wrapped_zmm : ymm ? wrapped_ymm : wrapped_xmm };
	int calls = 0;

	for (int i = 0; i < CALLS; i++)
		for (int f = 0; f < 2; f++, calls++) {
			memset(&g_in, 0, sizeof(g_in));
			for (int r = 0; r < 12; r++)
				g_in.gpr[r] = 0x1111111111111111ull * (uint64_t)(r + 1) + (uint64_t)i;
			g_in.flags = FLAGS | 0x202;   /* IF and the always-set bit, as popfq leaves them */
			for (size_t b = 0; b < vbytes; b++)
				g_in.vec[b] = (uint8_t)(b * 7 + (size_t)i + 1);
			for (int k = 0; zmm && k < 8; k++)
				g_in.k[k] = 0x0123456789abcdefull ^ (uint64_t)(k + i);
			memset(&g_out, 0, sizeof(g_out));
			fn[f]();
			if (memcmp(g_in.gpr, g_out.gpr, sizeof(g_in.gpr)) || (g_out.flags & FLAGS) != FLAGS ||
			    memcmp(g_in.vec, g_out.vec, vbytes) || memcmp(g_in.k, g_out.k, sizeof(g_in.k))) {
				printf("regs differ at call %d of %s:", i, f ? "the wrapper" : "the inline site");
				for (int r = 0; r < 12; r++)
					if (g_in.gpr[r] != g_out.gpr[r])
						printf(" gpr %d", r);
				if ((g_out.flags & FLAGS) != FLAGS)
					printf(" flags %#llx", (unsigned long long)g_out.flags);
				for (size_t b = 0; b < vbytes; b++)
					if (g_in.vec[b] != g_out.vec[b]) {
						printf(" vector byte %zu (register %zu)", b, b / (vbytes / (zmm ? 32 : 16)));
						break;
					}
				if (memcmp(g_in.k, g_out.k, sizeof(g_in.k)))
					printf(" mask registers");
				printf("\n");
				return 1;
			}
		}
	printf("regs ok %d\n", calls);
	return 0;
}
