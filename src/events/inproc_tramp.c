/*
 * inproc_tramp.c - the machine code of the in-process probes (inproc.c):
 * a trampoline saves the thread's state as the kernel's uprobe handler
 * finds it (a struct pt_regs on the stack, the flags, the vector
 * registers, since the C code it calls may use any of them), calls
 * a C function with (arg, &pt_regs), and puts everything back.
 *
 * An entry trampoline first steps over the red zone (a probe inside a
 * function may sit where the function keeps data below its stack
 * pointer), with ip the probed address; the relocated instructions and
 * the jmp back follow it (x86_reloc.c).  The return trampoline is reached
 * by a ret in place of the real return address: it keeps a slot for that
 * address, which its C function returns, and leaves through it with ret.
 */
#include <string.h>

#include "inproc.h"

#define PT_REGS 168          /* 21 registers of 8 bytes, struct pt_regs */
#define RED_ZONE 128
#define OFF_RAX 80
#define OFF_ORIG_RAX 120
#define OFF_RIP 128
#define OFF_CS 136
#define OFF_FLAGS 144
#define OFF_RSP 152
#define OFF_SS 160

struct emit {
	uint8_t *p;
	size_t n, room;
};

static void eb(struct emit *e, const void *b, size_t n)
{
	if (e->n + n <= e->room)
		memcpy(e->p + e->n, b, n);
	e->n += n;
}

static void e32(struct emit *e, uint32_t v)
{
	eb(e, &v, 4);
}

static void e64(struct emit *e, uint64_t v)
{
	eb(e, &v, 8);
}

/* mov %reg,d(%rsp) (store) or mov d(%rsp),%reg: disp32 form, SIB on rsp */
static void mov_rsp(struct emit *e, int reg, int32_t d, bool store)
{
	uint8_t b[4] = { (uint8_t)(0x48 | (reg >= 8 ? 4 : 0)), store ? 0x89 : 0x8b,
			 (uint8_t)(0x84 | (reg & 7) << 3), 0x24 };

	eb(e, b, 4);
	e32(e, (uint32_t)d);
}

/* lea d(%rsp),%reg */
static void lea_rsp(struct emit *e, int reg, int32_t d)
{
	uint8_t b[4] = { 0x48, 0x8d, (uint8_t)(0x84 | (reg & 7) << 3), 0x24 };

	eb(e, b, 4);
	e32(e, (uint32_t)d);
}

/* movq $imm32 (sign-extended),d(%rsp) */
static void movq_imm(struct emit *e, int32_t d, int32_t imm)
{
	eb(e, "\x48\xc7\x84\x24", 4);
	e32(e, (uint32_t)d);
	e32(e, (uint32_t)imm);
}

/* movabs $v,%reg (reg < 8) */
static void movabs(struct emit *e, int reg, uint64_t v)
{
	uint8_t b[2] = { 0x48, (uint8_t)(0xb8 | reg) };

	eb(e, b, 2);
	e64(e, v);
}

/* pt_regs' order: r15 r14 r13 r12 rbp rbx r11 r10 r9 r8 rax rcx rdx rsi rdi (encodings) */
static const int gpr_order[15] = { 15, 14, 13, 12, 5, 3, 11, 10, 9, 8, 0, 1, 2, 6, 7 };

/*
 * The vector registers, saved and restored around the C code by plain
 * moves (xsave/xrstor of the AVX-512 state cost some 150 ns a hit here):
 * all of them, as the kernel keeps them, since a caller may keep values in
 * any register a local callee does not touch (-fipa-ra).  The x87 stack
 * and the control registers (MXCSR, the x87 control word) are left: the C
 * code uses no x87 and changes no control register.  rdi: a 64-byte
 * aligned area.
 */
__attribute__((naked, hot)) static void save_zmm(void)
{
	__asm__ volatile(
		".irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
		"vmovdqu64 %%zmm\\n, \\n*64(%%rdi)\n"
		".endr\n"
		".irp n,0,1,2,3,4,5,6,7\n"
		"kmovq %%k\\n, 2048+\\n*8(%%rdi)\n"
		".endr\n"
		"ret\n" ::: "memory");
}

__attribute__((naked, hot)) static void restore_zmm(void)
{
	__asm__ volatile(
		".irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
		"vmovdqu64 \\n*64(%%rdi), %%zmm\\n\n"
		".endr\n"
		".irp n,0,1,2,3,4,5,6,7\n"
		"kmovq 2048+\\n*8(%%rdi), %%k\\n\n"
		".endr\n"
		"ret\n" ::: "memory");
}

__attribute__((naked, hot)) static void save_ymm(void)
{
	__asm__ volatile(
		".irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
		"vmovdqu %%ymm\\n, \\n*32(%%rdi)\n"
		".endr\n"
		"ret\n" ::: "memory");
}

__attribute__((naked, hot)) static void restore_ymm(void)
{
	__asm__ volatile(
		".irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
		"vmovdqu \\n*32(%%rdi), %%ymm\\n\n"
		".endr\n"
		"ret\n" ::: "memory");
}

__attribute__((naked, hot)) static void save_xmm(void)
{
	__asm__ volatile(
		".irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
		"movdqu %%xmm\\n, \\n*16(%%rdi)\n"
		".endr\n"
		"ret\n" ::: "memory");
}

__attribute__((naked, hot)) static void restore_xmm(void)
{
	__asm__ volatile(
		".irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
		"movdqu \\n*16(%%rdi), %%xmm\\n\n"
		".endr\n"
		"ret\n" ::: "memory");
}

void inproc_cpu_state(struct inproc_cpu *c)
{
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")) {   /* kmovq */
		*c = (struct inproc_cpu){ 2048 + 64, (uint64_t)(uintptr_t)save_zmm,
					  (uint64_t)(uintptr_t)restore_zmm };
	} else if (__builtin_cpu_supports("avx")) {
		*c = (struct inproc_cpu){ 512, (uint64_t)(uintptr_t)save_ymm,
					  (uint64_t)(uintptr_t)restore_ymm };
	} else {
		*c = (struct inproc_cpu){ 256, (uint64_t)(uintptr_t)save_xmm,
					  (uint64_t)(uintptr_t)restore_xmm };
	}
}

/* Save: the vector state below the registers, 64-byte aligned; rbx keeps where pt_regs is. */
static void save_state(struct emit *e, const struct inproc_cpu *c)
{
	eb(e, "\x48\x89\xe3", 3);                 /* mov %rsp,%rbx */
	eb(e, "\x48\x81\xec", 3);                 /* sub $size,%rsp */
	e32(e, c->size);
	eb(e, "\x48\x83\xe4\xc0", 4);             /* and $-64,%rsp */
	eb(e, "\x48\x89\xe7", 3);                 /* mov %rsp,%rdi */
	movabs(e, 0, c->save);
	eb(e, "\xff\xd0", 2);                     /* call *%rax */
}

static void restore_state(struct emit *e, const struct inproc_cpu *c)
{
	eb(e, "\x48\x89\xe7", 3);                 /* mov %rsp,%rdi */
	movabs(e, 0, c->restore);
	eb(e, "\xff\xd0", 2);                     /* call *%rax */
	eb(e, "\x48\x89\xdc", 3);                 /* mov %rbx,%rsp */
}

/*
 * The flags, without pushfq and popfq (some 4 and 5 ns here): a trampoline
 * runs at an ABI call boundary (a function's entry, a return), where DF
 * is clear, IF set, and the thread sets no other system flag; the
 * arithmetic flags (a caller may keep them across a call it knows) are
 * read by lahf and seto, and put back by an add that overflows as OF was
 * and sahf.  pt_regs' flags: those, IF and the reserved bit 1.  rax, rcx:
 * saved before, restored after.
 */
static void save_flags(struct emit *e)
{
	eb(e, "\x0f\x90\xc0\x9f", 4);                   /* seto %al; lahf */
	eb(e, "\x0f\xb6\xcc\x0f\xb6\xc0\xc1\xe0\x0b", 9);   /* movzbl %ah,%ecx; movzbl %al,%eax; shl $11,%eax */
	eb(e, "\x09\xc8\x0d\x02\x02\x00\x00", 7);       /* or %ecx,%eax; or $0x202,%eax */
	mov_rsp(e, 0, OFF_FLAGS, true);
}

static void restore_flags(struct emit *e)
{
	mov_rsp(e, 0, OFF_FLAGS, false);
	eb(e, "\x89\xc1\xc1\xe9\x0b\x83\xe1\x01", 8);   /* mov %eax,%ecx; shr $11,%ecx; and $1,%ecx */
	eb(e, "\x88\xc4\x88\xc8\x04\x7f\x9e", 7);       /* mov %al,%ah; mov %cl,%al; add $0x7f,%al; sahf */
}

/*
 * The frame: skip bytes stepped over, pt_regs saved (ip = rip, or 0), fn(arg,
 * &pt_regs) called with the other state saved, everything restored.  ret:
 * fn's result goes to the slot above pt_regs first.
 */
static void frame(struct emit *e, const struct inproc_cpu *c, int32_t skip, uint64_t rip,
		  uint64_t fn, uint64_t arg, bool ret)
{
	lea_rsp(e, 4, -(skip + PT_REGS));
	for (int k = 0; k < 15; k++)
		mov_rsp(e, gpr_order[k], 8 * k, true);
	save_flags(e);
	lea_rsp(e, 0, skip + PT_REGS + (ret ? 8 : 0));   /* the return trampoline: above its slot */
	mov_rsp(e, 0, OFF_RSP, true);
	movabs(e, 0, rip);
	mov_rsp(e, 0, OFF_RIP, true);
	movq_imm(e, OFF_ORIG_RAX, -1);
	movq_imm(e, OFF_CS, 0x33);
	movq_imm(e, OFF_SS, 0x2b);
	save_state(e, c);
	eb(e, "\x48\x89\xde", 3);                 /* mov %rbx,%rsi */
	movabs(e, 7, arg);
	movabs(e, 0, fn);
	eb(e, "\xff\xd0", 2);                     /* call *%rax */
	if (ret) {
		eb(e, "\x48\x89\x83", 3);         /* mov %rax,PT_REGS(%rbx) */
		e32(e, PT_REGS);
	}
	restore_state(e, c);
	restore_flags(e);
	for (int k = 0; k < 15; k++)
		mov_rsp(e, gpr_order[k], 8 * k, false);
	lea_rsp(e, 4, skip + PT_REGS);
}

size_t inproc_tramp_entry(uint8_t *out, size_t room, const struct inproc_cpu *c, uint64_t rip,
			  uint64_t fn, uint64_t arg)
{
	struct emit e = { out, 0, room };

	frame(&e, c, RED_ZONE, rip, fn, arg, false);
	return e.n <= room ? e.n : 0;
}

size_t inproc_tramp_return(uint8_t *out, size_t room, const struct inproc_cpu *c, uint64_t fn,
			   uint64_t arg)
{
	struct emit e = { out, 0, room };

	eb(&e, "\x6a\x00", 2);                    /* push $0: the real return address's slot */
	frame(&e, c, 0, 0, fn, arg, true);
	eb(&e, "\xc3", 1);
	return e.n <= room ? e.n : 0;
}
