/*
 * kobjs.c - task_struct, cred, nsproxy, pid_namespace, pid, mm_struct,
 * filename and open_how as the kernel's BTF lays them out, in memory
 * bpfvm owns, with what user space knows filled in and zeros elsewhere
 * (kobjs.h).  A field the BTF does not have is left out, as a CO-RE read
 * of it would be.
 *
 * A task's real_parent and parent are its parent process's leader (a
 * traced task's parent is its tracer in the kernel, but programs running
 * in the kernel on an untraced workload see the parent that started it);
 * the chain ends at the idle task, pid 0, which is its own parent, as
 * init_task is.  cred and real_cred are one object, as they are unless
 * a task overrides its creds.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "../btf/btf.h"
#include "../util/log.h"
#include "kobjs.h"

#define MAX_DEPTH 64           /* parents followed: deeper trees end in a NULL parent */
/*
 * The objects of an event lie in one span (2 MB reserved, pages touched as
 * used: a task with its cred, nsproxy and pid is some 5 KB on Linux 6.18),
 * so that a load through a BTF-typed pointer checks its address against
 * one range (hook_kobjs_span).  SLACK bytes stay free past the last
 * object: such a check looks at where a load starts, and up to 8 bytes
 * may follow.
 */
#define ARENA_SIZE (2u << 20)
#define ARENA_SLACK 16
#define MAX_ANON_DEPTH 8       /* anonymous structs and unions searched for a member */

enum kstruct { KS_TASK, KS_CRED, KS_NSPROXY, KS_PIDNS, KS_PID, KS_UPID, KS_MM, KS_FILENAME,
	       KS_OPEN_HOW, KS_MNTNS, KS_NSCOMMON, KS_N };

static const char *const struct_names[KS_N] = {
	"task_struct", "cred", "nsproxy", "pid_namespace", "pid", "upid", "mm_struct", "filename",
	"open_how", "mnt_namespace", "ns_common",
};

enum kfield {
	F_PID, F_TGID, F_COMM, F_FLAGS, F_EXIT_CODE, F_REAL_PARENT, F_PARENT, F_GROUP_LEADER,
	F_REAL_CRED, F_CRED, F_START_TIME, F_START_BOOTTIME, F_NSPROXY, F_THREAD_PID, F_MM,
	F_CRED_USAGE, F_UID, F_GID, F_SUID, F_SGID, F_EUID, F_EGID, F_FSUID, F_FSGID,
	F_NS_PIDNS, F_PIDNS_LEVEL, F_PIDNS_PARENT, F_PID_COUNT, F_PID_LEVEL, F_PID_NUMBERS,
	F_UPID_NR, F_UPID_NS, F_FN_NAME, F_FN_UPTR, F_FN_REFCNT, F_FN_INAME, F_HOW_FLAGS,
	F_HOW_MODE, F_HOW_RESOLVE, F_NS_MNTNS, F_MNTNS_NS, F_NSC_INUM, F_N
};

static const struct { enum kstruct s; const char *name; } fields[F_N] = {
	[F_PID] = { KS_TASK, "pid" }, [F_TGID] = { KS_TASK, "tgid" },
	[F_COMM] = { KS_TASK, "comm" }, [F_FLAGS] = { KS_TASK, "flags" },
	[F_EXIT_CODE] = { KS_TASK, "exit_code" }, [F_REAL_PARENT] = { KS_TASK, "real_parent" },
	[F_PARENT] = { KS_TASK, "parent" }, [F_GROUP_LEADER] = { KS_TASK, "group_leader" },
	[F_REAL_CRED] = { KS_TASK, "real_cred" }, [F_CRED] = { KS_TASK, "cred" },
	[F_START_TIME] = { KS_TASK, "start_time" },
	[F_START_BOOTTIME] = { KS_TASK, "start_boottime" },
	[F_NSPROXY] = { KS_TASK, "nsproxy" }, [F_THREAD_PID] = { KS_TASK, "thread_pid" },
	[F_MM] = { KS_TASK, "mm" },
	[F_CRED_USAGE] = { KS_CRED, "usage" }, [F_UID] = { KS_CRED, "uid" },
	[F_GID] = { KS_CRED, "gid" }, [F_SUID] = { KS_CRED, "suid" }, [F_SGID] = { KS_CRED, "sgid" },
	[F_EUID] = { KS_CRED, "euid" }, [F_EGID] = { KS_CRED, "egid" },
	[F_FSUID] = { KS_CRED, "fsuid" }, [F_FSGID] = { KS_CRED, "fsgid" },
	[F_NS_PIDNS] = { KS_NSPROXY, "pid_ns_for_children" },
	[F_PIDNS_LEVEL] = { KS_PIDNS, "level" }, [F_PIDNS_PARENT] = { KS_PIDNS, "parent" },
	[F_PID_COUNT] = { KS_PID, "count" }, [F_PID_LEVEL] = { KS_PID, "level" },
	[F_PID_NUMBERS] = { KS_PID, "numbers" },
	[F_UPID_NR] = { KS_UPID, "nr" }, [F_UPID_NS] = { KS_UPID, "ns" },
	[F_FN_NAME] = { KS_FILENAME, "name" }, [F_FN_UPTR] = { KS_FILENAME, "uptr" },
	[F_FN_REFCNT] = { KS_FILENAME, "refcnt" }, [F_FN_INAME] = { KS_FILENAME, "iname" },
	[F_HOW_FLAGS] = { KS_OPEN_HOW, "flags" }, [F_HOW_MODE] = { KS_OPEN_HOW, "mode" },
	[F_HOW_RESOLVE] = { KS_OPEN_HOW, "resolve" },
	[F_NS_MNTNS] = { KS_NSPROXY, "mnt_ns" }, [F_MNTNS_NS] = { KS_MNTNS, "ns" },
	[F_NSC_INUM] = { KS_NSCOMMON, "inum" },
};

struct hook_kobj_layout {
	uint32_t size[KS_N];   /* 0: the BTF has no such struct */
	int32_t off[F_N];      /* -1: no such member (or a bitfield) */
	uint32_t fsize[F_N];
};

struct hook_kobjs {
	const struct hook_kobj_layout *l;
	hook_task_facts_fn facts;
	void *ctx;
	uint8_t *arena;
	size_t used;
	struct { int32_t tid; uint8_t *task; } *tasks;
	size_t ntasks, cap;
	uint8_t *pidns[HOOK_MAX_PIDNS];
};

/* ---- offsets, once per BTF -------------------------------------------------- */

/* name's byte offset and size in struct or union id (anonymous members searched), or -1. */
static int32_t member_off(const struct btf *btf, uint32_t id, const char *name, uint32_t *size,
			  unsigned depth)
{
	const struct btf_type *t = btf_type(btf, btf_skip_mods(btf, id));
	const struct btf_member *m;

	if (!t || (btf_kind(t) != BTF_KIND_STRUCT && btf_kind(t) != BTF_KIND_UNION) ||
	    depth > MAX_ANON_DEPTH)
		return -1;
	m = btf_members(t);
	for (unsigned i = 0; i < btf_vlen(t); i++, m++) {
		uint32_t bits = btf_member_bit_offset(t, m);
		const char *mname = btf_str(btf, m->name_off);
		int32_t inner;
		int64_t sz;

		if (bits % 8 || btf_member_bitfield_size(t, m))
			continue;
		if (!*mname && (inner = member_off(btf, m->type, name, size, depth + 1)) >= 0)
			return (int32_t)(bits / 8) + inner;
		if (strcmp(mname, name))
			continue;
		sz = btf_type_size(btf, m->type);
		*size = sz > 0 ? (uint32_t)sz : 0;   /* a flexible array: 0 */
		return (int32_t)(bits / 8);
	}
	return -1;
}

struct hook_kobj_layout *hook_kobj_layout_new(const struct btf *btf, struct bpfvm_log *log)
{
	struct hook_kobj_layout *l = calloc(1, sizeof(*l));
	uint32_t ids[KS_N];

	if (!l)
		return NULL;
	for (int s = 0; s < KS_N; s++) {
		int64_t sz;

		ids[s] = btf_find(btf, struct_names[s], BTF_KIND_STRUCT);
		sz = ids[s] ? btf_type_size(btf, ids[s]) : 0;
		l->size[s] = sz > 0 ? (uint32_t)sz : 0;
	}
	if (!l->size[KS_TASK]) {
		log_printf(log, "the kernel's BTF has no struct task_struct: no task can be laid out\n");
		free(l);
		errno = EINVAL;
		return NULL;
	}
	for (int f = 0; f < F_N; f++)
		l->off[f] = l->size[fields[f].s] ? member_off(btf, ids[fields[f].s], fields[f].name,
							      &l->fsize[f], 0) : -1;
	return l;
}

void hook_kobj_layout_free(struct hook_kobj_layout *l)
{
	free(l);
}

/* ---- the objects of one event ----------------------------------------------- */

struct hook_kobjs *hook_kobjs_new(const struct hook_kobj_layout *l, hook_task_facts_fn facts,
				  void *ctx)
{
	struct hook_kobjs *k = calloc(1, sizeof(*k));
	void *arena;

	if (!k)
		return NULL;
	arena = mmap(NULL, ARENA_SIZE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (arena == MAP_FAILED) {
		free(k);
		return NULL;
	}
	*k = (struct hook_kobjs){ .l = l, .facts = facts, .ctx = ctx, .arena = arena };
	return k;
}

void hook_kobjs_reset(struct hook_kobjs *k, hook_task_facts_fn facts, void *ctx)
{
	memset(k->arena, 0, k->used);
	k->used = 0;
	k->ntasks = 0;
	memset(k->pidns, 0, sizeof(k->pidns));
	k->facts = facts;
	k->ctx = ctx;
}

void hook_kobjs_free(struct hook_kobjs *k)
{
	if (!k)
		return;
	munmap(k->arena, ARENA_SIZE);
	free(k->tasks);
	free(k);
}

/* Zeroed memory of the arena (mmap's zero pages, or zeroed by the last reset), or NULL when full. */
static uint8_t *alloc(struct hook_kobjs *k, size_t size)
{
	size_t at = (k->used + 15) & ~(size_t)15;
	uint8_t *p;

	if (size > ARENA_SIZE || at > ARENA_SIZE - ARENA_SLACK - size)
		return NULL;
	p = k->arena + at;
	k->used = at + size;
	return p;
}

/* Store v in field f of obj, in the field's size (an integer, an id, a pointer). */
static void put(const struct hook_kobjs *k, uint8_t *obj, enum kfield f, uint64_t v)
{
	int32_t off = k->l->off[f];
	uint32_t size = k->l->fsize[f];

	if (!obj || off < 0 || (size != 1 && size != 2 && size != 4 && size != 8))
		return;
	/* little-endian: the low bytes of v are the field's value */
	memcpy(obj + off, &v, size);
}

static void put_ptr(const struct hook_kobjs *k, uint8_t *obj, enum kfield f, const void *p)
{
	put(k, obj, f, (uint64_t)(uintptr_t)p);
}

static uint8_t *new_obj(struct hook_kobjs *k, enum kstruct s)
{
	return k->l->size[s] ? alloc(k, k->l->size[s]) : NULL;
}

static uint8_t *pid_namespace(struct hook_kobjs *k, uint32_t level)
{
	if (level >= HOOK_MAX_PIDNS)
		level = HOOK_MAX_PIDNS - 1;
	if (!k->pidns[level] && (k->pidns[level] = new_obj(k, KS_PIDNS))) {
		put(k, k->pidns[level], F_PIDNS_LEVEL, level);
		put_ptr(k, k->pidns[level], F_PIDNS_PARENT, level ? pid_namespace(k, level - 1) : NULL);
	}
	return k->pidns[level];
}

static uint8_t *cred(struct hook_kobjs *k, const struct hook_task_facts *f)
{
	uint8_t *c = new_obj(k, KS_CRED);

	put(k, c, F_CRED_USAGE, 1);
	put(k, c, F_UID, f->uid);
	put(k, c, F_EUID, f->euid);
	put(k, c, F_SUID, f->suid);
	put(k, c, F_FSUID, f->fsuid);
	put(k, c, F_GID, f->gid);
	put(k, c, F_EGID, f->egid);
	put(k, c, F_SGID, f->sgid);
	put(k, c, F_FSGID, f->fsgid);
	return c;
}

/* struct pid with numbers[0..level]: the thread's id in each pid namespace. */
static uint8_t *thread_pid(struct hook_kobjs *k, const struct hook_task_facts *f)
{
	const struct hook_kobj_layout *l = k->l;
	uint32_t level = f->ns_level < HOOK_MAX_PIDNS ? f->ns_level : HOOK_MAX_PIDNS - 1;
	uint8_t *p;

	if (!l->size[KS_PID] || l->off[F_PID_NUMBERS] < 0 || !l->size[KS_UPID])
		return new_obj(k, KS_PID);
	p = alloc(k, (size_t)l->off[F_PID_NUMBERS] + (level + 1) * (size_t)l->size[KS_UPID] +
			     l->size[KS_PID]);
	put(k, p, F_PID_COUNT, 1);
	put(k, p, F_PID_LEVEL, level);
	for (uint32_t i = 0; p && i <= level; i++) {
		uint8_t *upid = p + l->off[F_PID_NUMBERS] + i * l->size[KS_UPID];

		put(k, upid, F_UPID_NR, (uint32_t)(i == level ? f->pid : f->ns_pids[i]));
		put_ptr(k, upid, F_UPID_NS, pid_namespace(k, i));
	}
	return p;
}

/* mnt_namespace with its ns.inum: what /proc/PID/ns/mnt names (mountsnoop's MNT_NS). */
static uint8_t *mnt_namespace(struct hook_kobjs *k, uint32_t inum)
{
	const struct hook_kobj_layout *l = k->l;
	uint8_t *m;

	if (!inum || l->off[F_MNTNS_NS] < 0 || l->off[F_NSC_INUM] < 0 ||
	    !(m = new_obj(k, KS_MNTNS)))
		return NULL;
	if ((size_t)l->off[F_MNTNS_NS] + (size_t)l->off[F_NSC_INUM] + 4 <= l->size[KS_MNTNS])
		memcpy(m + l->off[F_MNTNS_NS] + l->off[F_NSC_INUM], &inum, 4);
	return m;
}

static void idle_facts(struct hook_task_facts *f)
{
	memset(f, 0, sizeof(*f));
	memcpy(f->comm, "swapper/0", 10);
	f->flags = HOOK_PF_KTHREAD | HOOK_PF_IDLE;
}

static bool remember(struct hook_kobjs *k, int32_t tid, uint8_t *task)
{
	if (k->ntasks == k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 8;
		void *grown = realloc(k->tasks, cap * sizeof(*k->tasks));

		if (!grown)
			return false;
		k->tasks = grown;
		k->cap = cap;
	}
	k->tasks[k->ntasks].tid = tid;
	k->tasks[k->ntasks++].task = task;
	return true;
}

static void fill_task(struct hook_kobjs *k, uint8_t *t, const struct hook_task_facts *f)
{
	const struct hook_kobj_layout *l = k->l;
	uint8_t *c = cred(k, f), *ns = new_obj(k, KS_NSPROXY);

	put(k, t, F_PID, (uint32_t)f->pid);
	put(k, t, F_TGID, (uint32_t)f->tgid);
	if (l->off[F_COMM] >= 0)
		memcpy(t + l->off[F_COMM], f->comm, l->fsize[F_COMM] < 16 ? l->fsize[F_COMM] : 16);
	put(k, t, F_FLAGS, f->flags);
	put(k, t, F_EXIT_CODE, (uint32_t)f->exit_code);
	put(k, t, F_START_TIME, f->start_time);
	put(k, t, F_START_BOOTTIME, f->start_boottime);
	put_ptr(k, t, F_REAL_CRED, c);
	put_ptr(k, t, F_CRED, c);
	put_ptr(k, ns, F_NS_PIDNS, pid_namespace(k, f->ns_level));
	put_ptr(k, ns, F_NS_MNTNS, mnt_namespace(k, f->mnt_ns));
	put_ptr(k, t, F_NSPROXY, ns);
	put_ptr(k, t, F_THREAD_PID, thread_pid(k, f));
	if (f->has_mm)
		put_ptr(k, t, F_MM, new_obj(k, KS_MM));
}

static uint8_t *task_at(struct hook_kobjs *k, int32_t tid, unsigned depth)
{
	struct hook_task_facts f;
	uint8_t *t;

	for (size_t i = 0; i < k->ntasks; i++)
		if (k->tasks[i].tid == tid)
			return k->tasks[i].task;
	if (depth > MAX_DEPTH || tid < 0)
		return NULL;
	if (!tid)
		idle_facts(&f);
	else if (k->facts(k->ctx, tid, &f))
		return NULL;
	if (!(t = new_obj(k, KS_TASK)) || !remember(k, tid, t))
		return NULL;
	fill_task(k, t, &f);
	put_ptr(k, t, F_GROUP_LEADER, f.tgid == tid ? t : task_at(k, f.tgid, depth + 1));
	put_ptr(k, t, F_REAL_PARENT, tid ? task_at(k, f.ppid, depth + 1) : t);
	put_ptr(k, t, F_PARENT, tid ? task_at(k, f.ppid, depth + 1) : t);
	return t;
}

bool hook_kobjs_contain(const struct hook_kobjs *k, uint64_t addr, uint64_t size)
{
	uint64_t start = k ? (uint64_t)(uintptr_t)k->arena : 0;

	return k && addr >= start && size <= k->used && addr - start <= k->used - size;
}

void hook_kobjs_span(const struct hook_kobjs *k, uint64_t *start, uint64_t *size)
{
	*start = k ? (uint64_t)(uintptr_t)k->arena : 0;
	*size = k ? k->used : 0;
}

uint64_t hook_kobj_task(struct hook_kobjs *k, int32_t tid)
{
	return k ? (uint64_t)(uintptr_t)task_at(k, tid, 0) : 0;
}

uint64_t hook_kobj_filename(struct hook_kobjs *k, const char *path, uint64_t uptr)
{
	const struct hook_kobj_layout *l = k->l;
	size_t head = l->off[F_FN_INAME] >= 0 ? (size_t)l->off[F_FN_INAME] : l->size[KS_FILENAME];
	size_t len = strlen(path);
	uint8_t *fn;

	if (!l->size[KS_FILENAME] || !(fn = alloc(k, head + len + 1 + l->size[KS_FILENAME])))
		return 0;
	/* the path follows the struct, in iname, as getname() keeps a short one */
	memcpy(fn + head, path, len + 1);
	put_ptr(k, fn, F_FN_NAME, fn + head);
	put(k, fn, F_FN_UPTR, uptr);
	put(k, fn, F_FN_REFCNT, 1);
	return (uint64_t)(uintptr_t)fn;
}

uint64_t hook_kobj_open_how(struct hook_kobjs *k, uint64_t flags, uint64_t mode, uint64_t resolve)
{
	uint8_t *how = new_obj(k, KS_OPEN_HOW);

	put(k, how, F_HOW_FLAGS, flags);
	put(k, how, F_HOW_MODE, mode);
	put(k, how, F_HOW_RESOLVE, resolve);
	return (uint64_t)(uintptr_t)how;
}
