/*
 * kobjs.h - kernel objects laid out in memory bpfvm owns, per the
 * kernel's BTF (the one CO-RE relocates against), so that a program that
 * follows a pointer the kernel would hand it (bpf_get_current_task, a
 * kprobe's struct filename *) with bpf_probe_read_kernel or
 * BPF_CORE_READ finds what user space knows at the offsets its
 * relocations name, and zeros elsewhere (kobjs.c).
 *
 * The offsets are looked up once per BTF (struct hook_kobj_layout); the
 * objects of one event are allocated in a struct hook_kobjs, which
 * remembers each task it laid out (by thread id) for the rest of the
 * event, and frees them all at its end.
 */
#ifndef BPFVM_HOOKS_KOBJS_H
#define BPFVM_HOOKS_KOBJS_H

#include <stdbool.h>
#include <stdint.h>

struct btf;
struct bpfvm_log;

/* The kernel's PF_ flags of task_struct.flags that bpfvm sets itself. */
#define HOOK_PF_IDLE 0x00000002u
#define HOOK_PF_EXITING 0x00000004u
#define HOOK_PF_KTHREAD 0x00200000u
#define HOOK_MAX_PIDNS 8   /* pid namespace levels laid out */

/* What user space knows of one thread (events/ reads it from /proc). */
struct hook_task_facts {
	int32_t pid, tgid;          /* the thread's id and its process's */
	int32_t ppid;               /* the parent process's tgid, 0 for none (init's parent) */
	char comm[16];
	uint32_t uid, euid, suid, fsuid, gid, egid, sgid, fsgid;
	uint32_t flags;             /* PF_* */
	int32_t exit_code;
	uint64_t start_time;        /* CLOCK_MONOTONIC ns at its creation */
	uint64_t start_boottime;    /* CLOCK_BOOTTIME ns */
	uint32_t ns_level;          /* depth of its pid namespace */
	int32_t ns_pids[HOOK_MAX_PIDNS];   /* its pid in each, from the root */
	bool has_mm;                /* a user process whose memory is still there */
	uint32_t mnt_ns;            /* its mount namespace's inode (/proc/PID/ns/mnt), 0: unknown */
};

/* Where task is asked about: 0 with *out filled, or a negative errno (gone). */
typedef int (*hook_task_facts_fn)(void *ctx, int32_t tid, struct hook_task_facts *out);

struct hook_kobj_layout;
struct hook_kobjs;

/*
 * The offsets of the fields bpfvm fills, from btf (which may be freed
 * afterwards).  NULL with errno: EINVAL (btf has no struct task_struct;
 * the reason in log), ENOMEM.
 */
struct hook_kobj_layout *hook_kobj_layout_new(const struct btf *btf, struct bpfvm_log *log);
void hook_kobj_layout_free(struct hook_kobj_layout *l);

/* The objects of one event; NULL when out of memory. */
struct hook_kobjs *hook_kobjs_new(const struct hook_kobj_layout *l, hook_task_facts_fn facts,
				  void *ctx);
/* Free every object laid out (NULL allowed). */
void hook_kobjs_free(struct hook_kobjs *k);
/* Forget every object laid out (their memory zeroed), for another event. */
void hook_kobjs_reset(struct hook_kobjs *k, hook_task_facts_fn facts, void *ctx);

/* Does [addr, addr + size) lie inside the objects laid out so far? */
bool hook_kobjs_contain(const struct hook_kobjs *k, uint64_t addr, uint64_t size);
/*
 * The one span the objects laid out so far lie in (0, 0 for k NULL): a
 * load that starts inside may read 8 bytes, zeros past the last object.
 */
void hook_kobjs_span(const struct hook_kobjs *k, uint64_t *start, uint64_t *size);
/*
 * The address of thread tid's task_struct, laid out at the first call
 * of the event with its group leader, its parents up to the idle task
 * (pid 0), its creds, nsproxy and struct pid; 0 when its facts cannot be
 * read or memory runs out.
 */
uint64_t hook_kobj_task(struct hook_kobjs *k, int32_t tid);
/*
 * A struct filename for path (the kernel's copy, name pointing at it;
 * uptr the user's address): its address, or 0.
 */
uint64_t hook_kobj_filename(struct hook_kobjs *k, const char *path, uint64_t uptr);
/* A struct open_how: its address, or 0. */
uint64_t hook_kobj_open_how(struct hook_kobjs *k, uint64_t flags, uint64_t mode, uint64_t resolve);

#endif
