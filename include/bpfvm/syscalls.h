/*
 * bpfvm/syscalls.h - system call names and numbers of x86-64, from the one
 * table src/util/syscalls_x86_64.def (generated from the kernel's
 * syscall_64.tbl and SYSCALL_DEFINEs by scripts/gen_syscalls.py).
 */
#ifndef BPFVM_SYSCALLS_H
#define BPFVM_SYSCALLS_H

#include <bpfvm/bpfvm.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The number of a system call by name ("openat"), or -1. */
BPFVM_API int bpfvm_syscall_x86_64_nr(const char *name);
/* The name of system call nr, or NULL for a number no system call has. */
BPFVM_API const char *bpfvm_syscall_x86_64_name(int nr);
/* One more than the highest number in the table. */
BPFVM_API int bpfvm_syscall_x86_64_max(void);

#ifdef __cplusplus
}
#endif

#endif
