/*
 * remote.h - acting inside a stopped traced process (remote.c): its
 * memory read or written through /proc/PID/mem (which writes pages the
 * process itself may not), and the registers of an mmap it is made to
 * call.  Shared by the uprobes (ubp.c) and the argument snapshots
 * (argsnap.c), which each make a process map pages of theirs.
 */
#ifndef BPFVM_EVENTS_REMOTE_H
#define BPFVM_EVENTS_REMOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/user.h>

#define REMOTE_NR_MMAP 9

/* len bytes at addr of pid's memory to or from buf: 0, or a negative errno. */
int remote_mem_io(int32_t pid, void *buf, uint64_t addr, size_t len, bool write);
/* r's system call becomes mmap(hint, len, prot, private anonymous (fixed, not replacing, at hint)). */
void remote_mmap_args(struct user_regs_struct *r, uint64_t hint, uint64_t len, int prot);

#endif
