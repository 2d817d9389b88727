/*
 * kprobe_regs.h - what kprobe programs need without a generated vmlinux.h:
 * the kernel's x86-64 struct pt_regs, as vmlinux.h declares it (CO-RE
 * reads its fields by name, so the loader relocates them against the
 * kernel's BTF), and libbpf's tracing macros with the kernel's register
 * names.  Include it instead of <bpf/bpf_tracing.h>.
 */
#ifndef BPFVM_EXAMPLES_KPROBE_REGS_H
#define BPFVM_EXAMPLES_KPROBE_REGS_H

struct pt_regs {
	unsigned long r15, r14, r13, r12, bp, bx, r11, r10, r9, r8;
	unsigned long ax, cx, dx, si, di, orig_ax, ip, cs, flags, sp, ss;
} __attribute__((preserve_access_index));
#define __VMLINUX_H__

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#endif
