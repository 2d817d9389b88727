/*
 * unwind.cc - C++ unwinding through uretprobe'd functions (the uw_*
 * functions, probed by unwind.bpf.c): an exception caught by the caller,
 * caught inside the probed function from a callee, rethrown, caught in
 * the middle of a recursion, all in 4 threads; a thread cancelled
 * (pthread_cancel, a forced unwind) while inside a probed function, with a
 * destructor in its caller that must run; backtrace() inside a probed
 * function, which must show its caller.  Prints what it caught and saw;
 * the same lines traced or not.
 */
#include <execinfo.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backtrace_check.h"

#define ROUNDS 50
#define THREADS 4

#define NOINLINE extern "C" __attribute__((noinline))

static volatile int sink;

NOINLINE void uw_throw(int v)
{
	sink = v;
	if (v >= 0)
		throw v;
}

/* unwound: the exception passes through it to its caller */
NOINLINE int uw_probed(int v)
{
	uw_throw(v);
	return sink;
}

/* catches its callee's exception, then returns normally */
NOINLINE int uw_catcher(int v)
{
	try {
		uw_throw(v);
	} catch (int e) {
		return e + 1;
	}
	return -1;
}

/* catches, then rethrows: unwound */
NOINLINE int uw_rethrow(int v)
{
	try {
		uw_throw(v);
	} catch (...) {
		sink = 1;
		throw;
	}
	return -1;
}

/* depth 0 throws; depth 2 catches: 3 and 2 return, 1 and 0 are unwound */
NOINLINE int uw_nest(int d)
{
	int r;

	if (d <= 0) {
		uw_throw(100);
		return 0;
	}
	if (d == 2) {
		try {
			return uw_nest(d - 1);
		} catch (int e) {
			return e + d;
		}
	}
	r = uw_nest(d - 1);
	sink = r;                     /* no tail recursion: a call at each depth */
	return r + 1;
}

static int round_trip(void)
{
	int got = 0;

	try {
		uw_probed(3);
	} catch (int e) {
		got += e;             /* 3 */
	}
	got += uw_catcher(4);         /* 5 */
	try {
		uw_rethrow(6);
	} catch (int e) {
		got += e;             /* 6 */
	}
	got += uw_nest(3);            /* 103: 102 from depth 2, + 1 */
	return got;                   /* 117 */
}

/* only what the kernel's uretprobes survive: the exception never leaves the probed function */
static int inside_only;

static void *worker(void *arg)
{
	long sum = 0;

	for (int i = 0; i < ROUNDS; i++)
		sum += inside_only ? uw_catcher(4) : round_trip();
	*(long *)arg = sum;
	return NULL;
}

/* ---- pthread_cancel inside a probed function ---- */

static volatile int cleaned, blocked;

struct guard {
	~guard() { cleaned = 1; }
};

NOINLINE void uw_block(void)
{
	blocked = 1;
	for (;;)
		pause();              /* a cancellation point */
}

static void *victim(void *arg)
{
	guard g;

	(void)arg;
	uw_block();
	return NULL;
}

/* ---- backtrace() inside a probed function ---- */

static void *frames[32];
static int nframes;

NOINLINE int uw_bt(void)
{
	nframes = backtrace(frames, 32);
	return nframes;
}

NOINLINE int uw_bt_caller(void)
{
	return uw_bt() + sink;
}

static void threads(void)
{
	pthread_t t[THREADS];
	long sums[THREADS];

	for (int i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, worker, &sums[i]);
	for (int i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		printf("thread %d caught %ld\n", i, sums[i]);
	}
}

static void cancel(void)
{
	pthread_t t;
	void *ret;

	pthread_create(&t, NULL, victim, NULL);
	for (int i = 0; i < 5000 && !blocked; i++)
		usleep(1000);
	usleep(10000);                /* into pause() */
	pthread_cancel(t);
	pthread_join(t, &ret);
	printf("cancelled %s, destructor %s\n", ret == PTHREAD_CANCELED ? "yes" : "no",
	       cleaned ? "ran" : "skipped");
}

static void trace_back(void)
{
	sink = 0;
	uw_bt_caller();
	print_backtrace(frames, nframes, (const void *)uw_bt_caller);
}

/* argv[1]: all (the default), or one part: inside (uw_catcher alone, in the threads), throw
 * (all the exceptions, in the threads), cancel, backtrace */
int main(int argc, char **argv)
{
	const char *part = argc > 1 ? argv[1] : "all";
	bool all = !strcmp(part, "all");

	inside_only = !strcmp(part, "inside");
	if (all || inside_only || !strcmp(part, "throw"))
		threads();
	if (all || !strcmp(part, "cancel"))
		cancel();
	if (all || !strcmp(part, "backtrace"))
		trace_back();
	return 0;
}
