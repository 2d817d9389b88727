/*
 * kernel_types.h - the kernel structs the examples read through pointers
 * the kernel hands them (bpf_get_current_task, a kprobe's arguments),
 * without a generated vmlinux.h: only the fields they read, marked for
 * CO-RE (preserve_access_index), so the loader finds each one's offset in
 * the kernel's BTF by name.  The same objects load into the kernel with
 * libbpf and into bpfvm, which lays these structs out per the same BTF.
 */
#ifndef BPFVM_EXAMPLES_KERNEL_TYPES_H
#define BPFVM_EXAMPLES_KERNEL_TYPES_H

#include <linux/types.h>

#define PF_EXITING 0x00000004
#define PF_SUPERPRIV 0x00000100
#define PF_KTHREAD 0x00200000

typedef struct { __u32 val; } kuid_t;
typedef struct { __u32 val; } kgid_t;

struct cred {
	kuid_t uid, suid, euid, fsuid;
	kgid_t gid, sgid, egid, fsgid;
} __attribute__((preserve_access_index));

struct pid_namespace {
	unsigned int level;
} __attribute__((preserve_access_index));

struct nsproxy {
	struct pid_namespace *pid_ns_for_children;
} __attribute__((preserve_access_index));

struct mm_struct {
	unsigned long start_stack;
} __attribute__((preserve_access_index));

struct task_struct {
	unsigned int flags;
	int exit_code;
	int pid, tgid;
	struct task_struct *real_parent, *parent, *group_leader;
	const struct cred *real_cred, *cred;
	char comm[16];
	struct nsproxy *nsproxy;
	struct mm_struct *mm;
	__u64 start_time, start_boottime;
} __attribute__((preserve_access_index));

struct filename {
	const char *name;
	const char *uptr;
} __attribute__((preserve_access_index));

struct open_how {
	__u64 flags, mode, resolve;
} __attribute__((preserve_access_index));

#endif
