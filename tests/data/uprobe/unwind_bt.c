/*
 * unwind_bt.c - backtrace() inside a uretprobe'd function (uw_bt) of a C
 * program, twice: glibc loads libgcc_s, the unwinder, only there, at the
 * first call, after the probe's entry.  unwind.bpf.c probes the other
 * uw_* functions of unwind.cc too: they are here, never called.
 */
#define _GNU_SOURCE
#include <execinfo.h>

#include "backtrace_check.h"

#define NOINLINE __attribute__((noinline))

static void *frames[32];
static int nframes;
static volatile int sink;

NOINLINE int uw_bt(void)
{
	nframes = backtrace(frames, 32);
	return nframes;
}

NOINLINE int uw_bt_caller(void)
{
	return uw_bt() + sink;
}

NOINLINE void uw_probed(void) { sink = 1; }
NOINLINE void uw_catcher(void) { sink = 2; }
NOINLINE void uw_rethrow(void) { sink = 3; }
NOINLINE void uw_nest(void) { sink = 4; }
NOINLINE void uw_block(void) { sink = 5; }

int main(void)
{
	for (int round = 0; round < 2; round++) {
		uw_bt_caller();
		print_backtrace(frames, nframes, (const void *)uw_bt_caller);
	}
	return 0;
}
