/*
 * backtrace_check.h - what unwind.cc and unwind_bt.c print of a
 * backtrace() taken in uw_bt: whether it shows uw_bt's caller (an address
 * within its first 64 bytes), and how many of its frames are in loaded
 * objects (a uretprobe's trampoline may show as one more frame, in none).
 */
#ifndef UPROBE_BACKTRACE_CHECK_H
#define UPROBE_BACKTRACE_CHECK_H

#include <dlfcn.h>
#include <stdio.h>

static void print_backtrace(void *const *frames, int n, const void *caller)
{
	int in_caller = 0, in_objects = 0;

	for (int i = 0; i < n; i++) {
		Dl_info d;

		if ((const char *)frames[i] > (const char *)caller &&
		    (const char *)frames[i] < (const char *)caller + 64)
			in_caller = 1;
		in_objects += dladdr(frames[i], &d) != 0;
	}
	printf("backtrace %s the caller, %d frames in objects\n", in_caller ? "shows" : "misses",
	       in_objects);
}

#endif
