/*
 * unwind_eh.c - the DWARF unwind info (an .eh_frame: CIE, FDE, end) of a
 * uretprobe return trampoline, for the agent's (inproc_unwind.c) and the
 * supervisor's (ubp_unwind.c).  A uretprobe'd frame's return address is
 * the trampoline's; an unwinder (a C++ exception, pthread_cancel's forced
 * unwind, backtrace()) stepping out of that frame looks for unwind info at
 * the trampoline and, finding none, stops: std::terminate, a thread whose
 * cleanups never run, a short backtrace.  The kernel's uretprobes do the
 * same (its trampoline, in the [uprobes] mapping, has no unwind info).
 *
 * With this FDE registered (libgcc_s's __register_frame_info, which every
 * unwinder of the process built on it reads, glibc's backtrace and
 * cancellation included) the trampoline is a frame of its own: its return
 * address the real one, which a DWARF expression finds in a registry of
 * shadow stacks (struct unwind_eh_registry: the frame whose
 * return-address slot is just below the stack pointer the trampoline is
 * entered with; slots on the stack are unique among the threads alive),
 * its caller's stack pointer its own.  Its CFA is put 8 bytes above that
 * stack pointer: the unwinder tells frames apart by the CFA of their
 * callee, and the trampoline's caller would otherwise look like the
 * trampoline itself (the handler frame found in the search phase, reached
 * in the cleanup phase one frame early: abort).  The unwinder then goes
 * on to the real caller with the stack pointer it has there: the
 * exception is caught where it would be untraced, the frames it left
 * never return through the trampoline (their shadow entries are dropped
 * as a longjmp's are, by their stack pointer), the frame that caught it
 * still does.  A backtrace shows the trampoline as one more frame, in no
 * object, before the real caller (as perf shows the kernel's [uprobes]).
 */
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include "unwind_eh.h"

/* DWARF expression operations (DWARF 5, section 2.5) */
enum {
	OP_DEREF = 0x06, OP_CONST1U = 0x08, OP_CONST8U = 0x0e, OP_DUP = 0x12, OP_DROP = 0x13,
	OP_OVER = 0x14, OP_PICK = 0x15, OP_SWAP = 0x16, OP_MINUS = 0x1c, OP_MUL = 0x1e,
	OP_PLUS = 0x22, OP_PLUS_UCONST = 0x23, OP_BRA = 0x28, OP_NE = 0x2e, OP_SKIP = 0x2f,
	OP_LIT0 = 0x30, OP_DEREF_SIZE = 0x94,
};

enum { L_OUTER, L_OBODY, L_HAVE, L_INNER, L_IBODY, L_NEXT, L_END, NLABELS };

struct dw {
	uint8_t *p;
	size_t n, room;
	size_t label[NLABELS];
	size_t fix[32];          /* branches to patch: their offset */
	int fix_to[32], nfix;
};

static void b(struct dw *d, int n, ...)
{
	va_list ap;

	va_start(ap, n);
	for (int i = 0; i < n; i++) {
		int v = va_arg(ap, int);

		if (d->n < d->room)
			d->p[d->n] = (uint8_t)v;
		d->n++;
	}
	va_end(ap);
}

static void u64(struct dw *d, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		b(d, 1, (int)(v >> 8 * i & 0xff));
}

static void u32(struct dw *d, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		b(d, 1, (int)(v >> 8 * i & 0xff));
}

static void uleb(struct dw *d, uint64_t v)
{
	do {
		b(d, 1, (int)((v & 0x7f) | (v > 0x7f ? 0x80 : 0)));
		v >>= 7;
	} while (v);
}

/* bra or skip to a label, patched once all are known */
static void jump(struct dw *d, int op, int to)
{
	b(d, 3, op, 0, 0);
	if (d->nfix < 32) {
		d->fix[d->nfix] = d->n;
		d->fix_to[d->nfix++] = to;
	}
}

static void here(struct dw *d, int label)
{
	d->label[label] = d->n;
}

/*
 * The real return address, from the CFA (pushed first): the shadow frame
 * whose slot is CFA - 16, searched in every listed thread's; 0 (the end of
 * the stack, to the unwinder) if none.
 */
static void expression(struct dw *d, uint64_t reg, unsigned frame_size)
{
	/* the CFA stays below S: libgcc's pick reaches all but the bottom element */
	b(d, 3, OP_DUP, OP_LIT0 + 16, OP_MINUS);                  /* S */
	b(d, 1, OP_CONST8U), u64(d, reg + offsetof(struct unwind_eh_registry, n)), b(d, 1, OP_DEREF);   /* S i */
	here(d, L_OUTER);
	b(d, 1, OP_DUP), jump(d, OP_BRA, L_OBODY);
	b(d, 3, OP_DROP, OP_DROP, OP_LIT0), jump(d, OP_SKIP, L_END);
	here(d, L_OBODY);
	b(d, 2, OP_LIT0 + 1, OP_MINUS);
	b(d, 4, OP_DUP, OP_CONST1U, (int)sizeof(struct unwind_eh_slot), OP_MUL);
	b(d, 1, OP_CONST8U), u64(d, reg + offsetof(struct unwind_eh_registry, slot)), b(d, 1, OP_PLUS);   /* S i a */
	b(d, 3, OP_DUP, OP_DEREF, OP_DUP), jump(d, OP_BRA, L_HAVE);         /* S i a depth@ */
	b(d, 2, OP_DROP, OP_DROP), jump(d, OP_SKIP, L_OUTER);
	here(d, L_HAVE);
	b(d, 2, OP_DEREF_SIZE, 4);                                /* S i a depth */
	b(d, 5, OP_SWAP, OP_PLUS_UCONST, 8, OP_DEREF, OP_SWAP);   /* S i frames j */
	here(d, L_INNER);
	b(d, 1, OP_DUP), jump(d, OP_BRA, L_IBODY);
	b(d, 2, OP_DROP, OP_DROP), jump(d, OP_SKIP, L_OUTER);
	here(d, L_IBODY);
	b(d, 2, OP_LIT0 + 1, OP_MINUS);
	b(d, 6, OP_OVER, OP_OVER, OP_CONST1U, (int)frame_size, OP_MUL, OP_PLUS);   /* S i f j e */
	b(d, 6, OP_DUP, OP_PLUS_UCONST, 8, OP_DEREF, OP_PICK, 5);  /* ... e e.sp S */
	b(d, 1, OP_NE), jump(d, OP_BRA, L_NEXT);
	b(d, 1, OP_DEREF), jump(d, OP_SKIP, L_END);               /* e.ret */
	here(d, L_NEXT);
	b(d, 1, OP_DROP), jump(d, OP_SKIP, L_INNER);
	here(d, L_END);
}

size_t unwind_eh_build(uint8_t *out, size_t room, uint64_t tramp, uint64_t registry,
		       unsigned frame_size)
{
	uint8_t expr[256];
	struct dw e = { expr, 0, sizeof(expr), { 0 }, { 0 }, { 0 }, 0 };
	struct dw d = { out, 0, room, { 0 }, { 0 }, { 0 }, 0 };
	size_t fde;

	expression(&e, registry, frame_size);
	if (e.n > e.room)
		return 0;
	for (int i = 0; i < e.nfix; i++) {
		int16_t off = (int16_t)((int64_t)e.label[e.fix_to[i]] - (int64_t)e.fix[i]);

		memcpy(expr + e.fix[i] - 2, &off, 2);
	}
	u32(&d, 0);                                       /* length, below */
	u32(&d, 0);                                       /* a CIE */
	b(&d, 5, 1, 0, 1, 0x78, 16);      /* version 1, no augmentation, code align 1, data -8, ra 16 */
	b(&d, 3, 0x0c, 7, 8);                             /* DW_CFA_def_cfa rsp, 8 */
	b(&d, 3, 0x14, 7, 1);                             /* DW_CFA_val_offset rsp, -8 */
	b(&d, 2, 0x16, 16);                               /* DW_CFA_val_expression ra */
	uleb(&d, e.n);
	for (size_t i = 0; i < e.n; i++)
		b(&d, 1, expr[i]);
	while (d.n % 8)
		b(&d, 1, 0);                              /* DW_CFA_nop */
	fde = d.n;
	u32(&d, 4 + 8 + 8);
	u32(&d, (uint32_t)(fde + 4));                     /* back to the CIE */
	u64(&d, tramp - 1);       /* the unwinder looks up a return address less one */
	u64(&d, 2);
	u32(&d, 0);
	if (d.n > d.room)
		return 0;
	out[0] = (uint8_t)(fde - 4);
	out[1] = (uint8_t)((fde - 4) >> 8);
	return d.n;
}
