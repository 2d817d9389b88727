/*
 * unwind_bt.c - backtrace() inside a uretprobe'd function (uw_bt) of a C
 * program, twice: glibc loads libgcc_s, the unwinder, only there, at the
 * first call, after the probe's entry.  unwind.bpf.c probes the other
 * uw_* functions of unwind.cc too: they are here, never called.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <execinfo.h>
#include <stdio.h>

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
		int in_caller = 0, in_objects = 0;

		uw_bt_caller();
		for (int i = 0; i < nframes; i++) {
			Dl_info d;

			if ((char *)frames[i] > (char *)uw_bt_caller &&
			    (char *)frames[i] < (char *)uw_bt_caller + 64)
				in_caller = 1;
			in_objects += dladdr(frames[i], &d) != 0;
		}
		printf("backtrace %s the caller, %d frames in objects\n",
		       in_caller ? "shows" : "misses", in_objects);
	}
	return 0;
}
