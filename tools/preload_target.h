/*
 * preload_target.h - what `bpfvm exec` (libbpfvm-preload.so) and `bpfvm
 * trace --mode agent` (libbpfvm-agent.so) both ask before preloading a
 * library into a command (preload_target.c).
 */
#ifndef BPFVM_TOOLS_PRELOAD_TARGET_H
#define BPFVM_TOOLS_PRELOAD_TARGET_H

#include <stddef.h>

/* name's path as execvp finds it (PATH searched unless it has a '/'): 0, or a negative errno. */
int preload_find_command(const char *name, char *out, size_t size);

/* The library lib beside the bpfvm command (build tree) or in ../lib (installed): 0 or -ENOENT. */
int preload_find_library(const char *lib, char *out, size_t size);

#endif
