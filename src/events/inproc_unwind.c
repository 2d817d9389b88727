/*
 * inproc_unwind.c - unwind info for the in-process agent's return
 * trampoline (inproc.c), so that a C++ exception, pthread_cancel's forced
 * unwind or backtrace() goes through a uretprobe'd frame: the FDE of
 * unwind_eh.c, registered with the process's libgcc_s, whose registry of
 * shadow stacks lists each thread's (inproc.c's thread-local one): an
 * expression cannot read thread-local storage, so a thread's slot is
 * claimed on its first uretprobe and given back when it exits.
 *
 * The unwinder of a program that links libgcc's statically
 * (-static-libgcc) is its own copy and does not see this.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inproc_unwind.h"
#include "unwind_eh.h"

#define MAX_THREADS 1024

struct inproc_unwind {
	uint8_t eh[512];                     /* CIE, FDE, end: what libgcc reads */
	uint8_t object[128];                 /* libgcc's struct object for it */
	pthread_key_t key;
	bool registered;
	struct unwind_eh_registry reg;       /* last: its slots follow */
};

/*
 * The slot given back.  Its frames pointer is left as it was: another
 * thread's unwinder may be inside the expression, having read the depth
 * pointer before it was cleared, and reads frames next (cleared, it read
 * frame 0's slot address at address 8: SIGSEGV, one exception in some
 * thousands with threads ending around it).  The memory it points to is
 * the ended thread's, which glibc keeps for its next thread.
 */
static void thread_gone(void *slot)
{
	struct unwind_eh_slot *s = slot;

	__atomic_store_n(&s->depth, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&s->claimed, 0, __ATOMIC_RELEASE);
}

struct inproc_unwind *inproc_unwind_new(uint64_t tramp, unsigned frame_size)
{
	struct inproc_unwind *uw = calloc(1, sizeof(*uw) + MAX_THREADS *
					  sizeof(struct unwind_eh_slot));

	if (!uw || pthread_key_create(&uw->key, thread_gone)) {
		free(uw);
		return NULL;
	}
	if (!unwind_eh_build(uw->eh, sizeof(uw->eh), tramp, (uint64_t)(uintptr_t)&uw->reg,
			     frame_size)) {
		pthread_key_delete(uw->key);
		free(uw);
		return NULL;
	}
	return uw;
}

/*
 * Loading libgcc_s here would change what the program's own first dlopen
 * allocates (its malloc calls, which a uprobe may count): only one
 * already loaded is used (inproc_place).  A C program's comes when glibc
 * first needs it (backtrace, pthread_cancel), inside the call that
 * unwinds, where the loader has not relocated it yet at r_brk: not
 * registered then.
 */
bool inproc_unwind_register(struct inproc_unwind *uw)
{
	void (*reg)(void *, void *);
	void *gcc;

	if (!uw || uw->registered)
		return uw != NULL;
	gcc = dlopen("libgcc_s.so.1", RTLD_NOW | RTLD_NOLOAD);
	if (!gcc)
		return false;
	reg = (void (*)(void *, void *))dlsym(gcc, "__register_frame_info");
	dlclose(gcc);         /* the program's reference keeps it */
	if (!reg)
		return false;
	reg(uw->eh, uw->object);
	uw->registered = true;
	return true;
}

void inproc_unwind_thread(struct inproc_unwind *uw, const unsigned *depth, const void *frames)
{
	for (uint64_t i = 0; i < MAX_THREADS; i++) {
		struct unwind_eh_slot *s = &uw->reg.slot[i];
		uint64_t no = 0, n;

		if (!__atomic_compare_exchange_n(&s->claimed, &no, 1, false, __ATOMIC_ACQUIRE,
						 __ATOMIC_RELAXED))
			continue;
		s->frames = (uint64_t)(uintptr_t)frames;
		__atomic_store_n(&s->depth, (uint64_t)(uintptr_t)depth, __ATOMIC_RELEASE);
		while ((n = __atomic_load_n(&uw->reg.n, __ATOMIC_RELAXED)) <= i &&
		       !__atomic_compare_exchange_n(&uw->reg.n, &n, i + 1, false, __ATOMIC_RELEASE,
						    __ATOMIC_RELAXED))
			;
		pthread_setspecific(uw->key, s);
		return;
	}
}

void inproc_unwind_forked(struct inproc_unwind *uw, const unsigned *depth)
{
	for (size_t i = 0; uw && i < MAX_THREADS; i++)
		if (uw->reg.slot[i].depth != (uint64_t)(uintptr_t)depth)
			thread_gone(&uw->reg.slot[i]);
}
