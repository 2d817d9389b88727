/*
 * inproc_unwind.c - unwind info for the in-process agent's return
 * trampoline.  A uretprobe'd frame's return address is the trampoline's
 * (inproc.c); an unwinder (a C++ exception, pthread_cancel's forced
 * unwind, backtrace()) stepping out of that frame looks for unwind info
 * at the trampoline and, finding none, stops: std::terminate, a thread
 * whose cleanups never run, a short backtrace.  The kernel's uretprobes
 * do the same (its trampoline, in the [uprobes] mapping, has no unwind
 * info either).
 *
 * Here the trampoline gets a DWARF FDE, registered with libgcc_s
 * (__register_frame, which every unwinder of the process built on it
 * reads, glibc's backtrace and cancellation included).  Its rules: the
 * trampoline is a frame of its own, its return address the real one,
 * which a DWARF expression finds on the shadow stacks (the frame whose
 * return-address slot is just below the stack pointer the trampoline is
 * entered with), its caller's stack pointer its own.  Its CFA is put 8
 * bytes above that stack pointer: the unwinder tells frames apart by the
 * CFA of their callee, and the trampoline's caller would otherwise look
 * like the trampoline itself (the handler frame found in the search
 * phase, reached in the cleanup phase one frame early: abort).  An expression cannot read thread-local storage,
 * so each thread's shadow stack is listed here (a slot claimed on the
 * thread's first uretprobe, given back when it exits); slots on the
 * stack are unique among the threads alive.  The unwinder then goes on
 * to the real caller with the stack pointer it will have there: the
 * exception is caught where it would be untraced, the frames it left
 * never return through the trampoline (their shadow entries are dropped
 * as a longjmp's are, by their stack pointer), the frame that caught it
 * still does.  A backtrace shows the trampoline as one more frame, in no
 * object, before the real caller (as perf shows the kernel's [uprobes]).
 *
 * The unwinder of a program that links libgcc's statically
 * (-static-libgcc) is its own copy and does not see this.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inproc_unwind.h"

#define MAX_THREADS 1024

struct uw_slot {
	uint64_t depth;          /* the address of a thread's depth (a u32), 0 when free */
	uint64_t frames;
	uint64_t claimed;
};

struct inproc_unwind {
	uint64_t n;                          /* slots ever claimed: the expression's bound */
	struct uw_slot slot[MAX_THREADS];
	pthread_key_t key;
	uint8_t eh[512];                     /* CIE, FDE, end: what libgcc reads */
};

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
static void expression(struct dw *d, struct inproc_unwind *uw, unsigned frame_size)
{
	/* the CFA stays below S: libgcc's pick reaches all but the bottom element */
	b(d, 3, OP_DUP, OP_LIT0 + 16, OP_MINUS);                  /* S */
	b(d, 1, OP_CONST8U), u64(d, (uint64_t)(uintptr_t)&uw->n), b(d, 1, OP_DEREF);   /* S i */
	here(d, L_OUTER);
	b(d, 1, OP_DUP), jump(d, OP_BRA, L_OBODY);
	b(d, 3, OP_DROP, OP_DROP, OP_LIT0), jump(d, OP_SKIP, L_END);
	here(d, L_OBODY);
	b(d, 2, OP_LIT0 + 1, OP_MINUS);
	b(d, 4, OP_DUP, OP_CONST1U, (int)sizeof(struct uw_slot), OP_MUL);
	b(d, 1, OP_CONST8U), u64(d, (uint64_t)(uintptr_t)uw->slot), b(d, 1, OP_PLUS);   /* S i a */
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

/* The CIE with the trampoline's one rule, the FDE covering it, the terminator: 0 or -1. */
static int build_eh(struct inproc_unwind *uw, uint64_t tramp, unsigned frame_size)
{
	uint8_t expr[256];
	struct dw e = { expr, 0, sizeof(expr), { 0 }, { 0 }, { 0 }, 0 };
	struct dw d = { uw->eh, 0, sizeof(uw->eh), { 0 }, { 0 }, { 0 }, 0 };
	size_t fde;

	expression(&e, uw, frame_size);
	if (e.n > e.room)
		return -1;
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
		return -1;
	uw->eh[0] = (uint8_t)(fde - 4);
	uw->eh[1] = (uint8_t)((fde - 4) >> 8);
	return 0;
}

static void thread_gone(void *slot)
{
	struct uw_slot *s = slot;

	__atomic_store_n(&s->depth, 0, __ATOMIC_RELEASE);
	s->frames = 0;
	__atomic_store_n(&s->claimed, 0, __ATOMIC_RELEASE);
}

struct inproc_unwind *inproc_unwind_new(uint64_t tramp, unsigned frame_size, char *why,
					size_t size)
{
	struct inproc_unwind *uw;
	void (*reg)(void *);
	void *gcc = dlopen("libgcc_s.so.1", RTLD_NOW);    /* glibc's backtrace and cancellation
							     load the same one */

	if (!gcc || !(reg = (void (*)(void *))dlsym(gcc, "__register_frame"))) {
		snprintf(why, size, "no libgcc_s.so.1 to register unwind info with: %s", dlerror());
		return NULL;
	}
	if (!(uw = calloc(1, sizeof(*uw))) || pthread_key_create(&uw->key, thread_gone)) {
		free(uw);
		snprintf(why, size, "out of memory");
		return NULL;
	}
	if (build_eh(uw, tramp, frame_size)) {
		snprintf(why, size, "the unwind info does not fit");
		pthread_key_delete(uw->key);
		free(uw);
		return NULL;
	}
	reg(uw->eh);
	return uw;
}

void inproc_unwind_thread(struct inproc_unwind *uw, const unsigned *depth, const void *frames)
{
	for (uint64_t i = 0; i < MAX_THREADS; i++) {
		struct uw_slot *s = &uw->slot[i];
		uint64_t no = 0, n;

		if (!__atomic_compare_exchange_n(&s->claimed, &no, 1, false, __ATOMIC_ACQUIRE,
						 __ATOMIC_RELAXED))
			continue;
		s->frames = (uint64_t)(uintptr_t)frames;
		__atomic_store_n(&s->depth, (uint64_t)(uintptr_t)depth, __ATOMIC_RELEASE);
		while ((n = __atomic_load_n(&uw->n, __ATOMIC_RELAXED)) <= i &&
		       !__atomic_compare_exchange_n(&uw->n, &n, i + 1, false, __ATOMIC_RELEASE,
						    __ATOMIC_RELAXED))
			;
		pthread_setspecific(uw->key, s);
		return;
	}
}

void inproc_unwind_forked(struct inproc_unwind *uw, const unsigned *depth)
{
	for (size_t i = 0; uw && i < MAX_THREADS; i++)
		if (uw->slot[i].depth != (uint64_t)(uintptr_t)depth)
			thread_gone(&uw->slot[i]);
}
