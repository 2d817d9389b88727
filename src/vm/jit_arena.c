/*
 * jit_arena.c - the scratch memory of one compilation.
 *
 * A compilation needs a dozen per-slot arrays (register masks, liveness,
 * jump targets, labels, the first pass's code), half a megabyte for
 * 10,000 instructions, all of it dropped once the code is made.  Taken
 * from malloc afresh each time, much of it comes back as pages the C
 * library has just returned to the kernel, which faults them in and
 * zeroes them again: a quarter of the compile time in `make bench`.
 * Carved instead from one block that the vm keeps for its next
 * compilation, it stays mapped and warm.
 *
 * The first compilation has no block: each allocation is its own malloc,
 * and what they add up to sizes the block kept for the next.  A vm keeps
 * at most one arena (a compilation on another thread meanwhile makes its
 * own) and no block above KEEP_MAX: none at all under AddressSanitizer,
 * so that it checks each array's bounds.
 */
#include "jit.h"

#include <stdlib.h>
#include <string.h>

#define ALIGN 16

#if defined(__SANITIZE_ADDRESS__) /* gcc */
#define UNDER_ASAN 1
#elif defined(__has_feature)     /* clang */
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifdef UNDER_ASAN
#define KEEP_MAX ((size_t)0) /* each array its own allocation, whose bounds ASan checks */
#else
#define KEEP_MAX ((size_t)4 << 20) /* some 80,000 instructions' worth */
#endif

/* An allocation the block had no room for. */
struct overflow {
	struct overflow *next;
	_Alignas(ALIGN) unsigned char data[];
};

struct jit_arena {
	unsigned char *block;
	size_t cap, used;
	size_t asked;           /* this compilation's allocations in all */
	struct overflow *over;
};

struct jit_arena *jit_arena_take(struct bpfvm *vm)
{
	struct jit_arena *a = vm ? __atomic_exchange_n(&vm->jit_arena, NULL, __ATOMIC_ACQUIRE) : NULL;

	return a ? a : calloc(1, sizeof(*a));
}

static void drop_overflows(struct jit_arena *a)
{
	while (a->over) {
		struct overflow *o = a->over;

		a->over = o->next;
		free(o);
	}
}

void jit_arena_destroy(struct jit_arena *a)
{
	if (!a)
		return;
	drop_overflows(a);
	free(a->block);
	free(a);
}

void jit_arena_give(struct bpfvm *vm, struct jit_arena *a)
{
	struct jit_arena *none = NULL;

	if (!a)
		return;
	drop_overflows(a);
	if (a->asked > a->cap) { /* next time, room for all of it in one block */
		free(a->block);
		a->block = a->asked <= KEEP_MAX ? malloc(a->asked) : NULL;
		a->cap = a->block ? a->asked : 0;
	}
	a->used = 0;
	a->asked = 0;
	if (!vm || !__atomic_compare_exchange_n(&vm->jit_arena, &none, a, false, __ATOMIC_RELEASE,
						__ATOMIC_RELAXED))
		jit_arena_destroy(a);
}

void *jit_arena_alloc(struct jit_arena *a, size_t n)
{
	struct overflow *o;

	n = (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
	a->asked += n;
	if (n <= a->cap - a->used) {
		void *p = a->block + a->used;

		a->used += n;
		return p;
	}
	if (!(o = malloc(sizeof(*o) + n)))
		return NULL;
	o->next = a->over;
	a->over = o;
	return o->data;
}

void *jit_arena_zalloc(struct jit_arena *a, size_t n)
{
	void *p = jit_arena_alloc(a, n);

	return p ? memset(p, 0, n) : NULL;
}

void *jit_arena_grow(struct jit_arena *a, void *p, size_t old, size_t n)
{
	void *q = jit_arena_alloc(a, n);

	if (q && old)
		memcpy(q, p, old);
	return q;
}
