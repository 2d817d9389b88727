/*
 * argsnap.c - a program attached to a system call's entry checks the
 * call's arguments while the thread is stopped, but a path argument is a
 * pointer: another thread of the process could rewrite the string after
 * the check and before the kernel copies it in.  So, for the calls some
 * program runs at the entry of (and for them only), each path argument
 * (a table made from the syscall table: the `const char *` arguments
 * named as paths) is copied at the stop, up to PATH_MAX as getname copies
 * it; the programs' reads of it are served from that copy; and the
 * register is pointed at a read-only slot of the process holding the same
 * bytes, written by the tracer through /proc/PID/mem.  At the call's exit
 * the register gets the user's pointer back (a system call leaves its
 * argument registers as they were), so the exit's programs, the result
 * and errno are the same.
 *
 * What the copy holds follows the kernel's getname: the string and its
 * NUL; PATH_MAX bytes without one (ENAMETOOLONG); a string that runs into
 * a bad address gives the call an address the kernel refuses (EFAULT).
 * The programs' nofault reads still fail where the string's pages were
 * not present at the stop, as the kernel's probe_read_user would.
 *
 * Slots: each process maps pages of them when it first needs them, by
 * making the stopped call an mmap (at the seccomp or syscall-enter stop
 * its number and arguments are changed), then, at that mmap's exit, the
 * registers are put back one instruction earlier, so that the call
 * itself runs again and stops at its entry anew, to be made the mseal of
 * the pages the same way.  Each thread takes a
 * slot per path argument for the duration of its call.
 *
 * The slot pages are sealed (mseal, Linux 6.10): the process can neither
 * make them writable nor unmap, move or map over them.  Limit: a write
 * through its own /proc/self/mem (which goes through page protections,
 * as the tracer's own writes do) still reaches them; rewriting the string
 * it passed, the race this closes, does not.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <unistd.h>

#include "../util/log.h"
#include "../util/proc_maps.h"
#include "argsnap.h"
#include "attach.h"
#include "remote.h"

#define SLOT 4096                  /* PATH_MAX: getname copies no more */
#define SLOTS_PER_MAP 16
#define MAX_MAPS 16
#define MAX_PATHS 2                /* rename, link, symlink, mount, pivot_root: two */
#define BAD_ADDR ((uint64_t)-4096) /* above every user address: the kernel's access_ok fails */
#define PAGE 4096
#define NR_MSEAL 462
#define MAP_BYTES ((uint64_t)SLOTS_PER_MAP * SLOT)

struct pool {
	int32_t tgid;
	int mem_fd;
	bool failed;
	uint64_t map[MAX_MAPS];
	unsigned nmaps;
	uint64_t used[MAX_MAPS * SLOTS_PER_MAP / 64];
};

struct copy {
	int arg;
	uint64_t orig;       /* the user's pointer */
	int slot;            /* its slot's index, -1 for BAD_ADDR */
	uint32_t len;        /* bytes copied (the NUL included) */
	uint32_t nofault;    /* leading bytes whose pages were present at the stop */
	char *buf;           /* SLOT bytes */
};

/*
 * A thread's call becomes each step in turn, then runs again: the mmap of
 * read-only slot pages, then their mseal, so that the process can no
 * longer make them writable, unmap or move them (checked in /proc/PID/maps
 * after, as an mprotect may have come between).
 */
enum phase { PH_NONE, PH_MMAP, PH_SEAL_DUE, PH_SEAL };

struct thr {
	int32_t tid, tgid;
	unsigned n;          /* copies in force */
	struct copy c[MAX_PATHS];
	enum phase phase;    /* mapping slots for its process: which step */
	uint64_t new_map;    /* ...the pages mapped, not sealed yet */
	bool rerun;          /* ...done: its next entry stop may be the call again */
	struct user_regs_struct saved;
};

struct ev_argsnap {
	uint8_t args[EV_MAX_SYSCALL];
	struct ev_argsnap_mem mem;
	struct bpfvm_log *log;
	struct pool *pool;
	size_t npool;
	struct thr *thr;
	size_t nthr;
	unsigned active;     /* threads with copies in force */
	bool said_full, said_failed;
};

/* Argument names the syscall table gives paths (a `char *` named "name" is a path only in these). */
static bool path_name(const char *call, const char *name)
{
	static const char *const names[] = {
		"filename", "pathname", "path", "oldname", "newname", "new_root", "put_old",
		"specialfile", "special", "from_pathname", "to_pathname", "dev_name", "dir_name",
		"library",
	};
	static const char *const named[] = { "acct", "umount2", "name_to_handle_at" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(name, names[i]))
			return true;
	for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++)
		if (!strcmp(name, "name") && !strcmp(call, named[i]))
			return true;
	return false;
}

unsigned ev_path_args(long nr)
{
	const struct ev_syscall *sc = ev_syscall_by_nr(nr);
	unsigned mask = 0;

	for (int i = 0; sc && i < sc->nargs; i++)
		if ((!strcmp(sc->args[i].type, "const char *") || !strcmp(sc->args[i].type, "char *")) &&
		    path_name(sc->name, sc->args[i].name))
			mask |= 1u << i;
	return mask;
}

struct ev_argsnap *ev_argsnap_new(const struct ev_interest *want, const struct ev_argsnap_mem *mem,
				  struct bpfvm_log *log)
{
	struct ev_argsnap *a;
	bool any = false;
	uint8_t args[EV_MAX_SYSCALL];

	for (long nr = 0; nr < EV_MAX_SYSCALL; nr++) {
		args[nr] = want->all_enter || ev_interest_has(want->enter, nr) ? (uint8_t)ev_path_args(nr)
									       : 0;
		any |= args[nr] != 0;
	}
	errno = 0;
	if (!any || !(a = calloc(1, sizeof(*a))))
		return NULL;
	memcpy(a->args, args, sizeof(args));
	a->mem = *mem;
	a->log = log;
	return a;
}

static void pool_drop(struct ev_argsnap *a, struct pool *p)
{
	if (p->mem_fd >= 0)
		close(p->mem_fd);
	*p = a->pool[--a->npool];
}

void ev_argsnap_free(struct ev_argsnap *a)
{
	if (!a)
		return;
	while (a->npool)
		pool_drop(a, &a->pool[0]);
	for (size_t i = 0; i < a->nthr; i++)
		for (int k = 0; k < MAX_PATHS; k++)
			free(a->thr[i].c[k].buf);
	free(a->pool);
	free(a->thr);
	free(a);
}

static struct pool *pool_of(struct ev_argsnap *a, int32_t tgid, bool make)
{
	char path[64];
	struct pool *g;

	for (size_t i = 0; i < a->npool; i++)
		if (a->pool[i].tgid == tgid)
			return &a->pool[i];
	if (!make || !(g = realloc(a->pool, (a->npool + 1) * sizeof(*g))))
		return NULL;
	a->pool = g;
	g = &a->pool[a->npool++];
	memset(g, 0, sizeof(*g));
	g->tgid = tgid;
	snprintf(path, sizeof(path), "/proc/%d/mem", tgid);
	g->mem_fd = open(path, O_RDWR | O_CLOEXEC);
	g->failed = g->mem_fd < 0;
	return g;
}

static struct thr *thr_of(struct ev_argsnap *a, int32_t tid, int32_t tgid)
{
	struct thr *g;

	for (size_t i = 0; i < a->nthr; i++)
		if (a->thr[i].tid == tid)
			return &a->thr[i];
	if (tgid <= 0 || !(g = realloc(a->thr, (a->nthr + 1) * sizeof(*g))))
		return NULL;
	a->thr = g;
	g = &a->thr[a->nthr++];
	memset(g, 0, sizeof(*g));
	g->tid = tid;
	g->tgid = tgid;
	return g;
}

static unsigned free_slots(const struct pool *p)
{
	unsigned n = 0;

	for (unsigned i = 0; i < p->nmaps * SLOTS_PER_MAP; i++)
		n += !(p->used[i / 64] >> (i % 64) & 1);
	return n;
}

static int take_slot(struct pool *p)
{
	for (unsigned i = 0; i < p->nmaps * SLOTS_PER_MAP; i++)
		if (!(p->used[i / 64] >> (i % 64) & 1)) {
			p->used[i / 64] |= (uint64_t)1 << (i % 64);
			return (int)i;
		}
	return -1;
}

static uint64_t slot_addr(const struct pool *p, int i)
{
	return p->map[i / SLOTS_PER_MAP] + (uint64_t)(i % SLOTS_PER_MAP) * SLOT;
}

/* The thread's copies end (its slots free again); its registers are the caller's business. */
static void thr_release(struct ev_argsnap *a, struct thr *t)
{
	struct pool *p = pool_of(a, t->tgid, false);

	for (unsigned k = 0; k < t->n; k++)
		if (p && t->c[k].slot >= 0)
			p->used[t->c[k].slot / 64] &= ~((uint64_t)1 << (t->c[k].slot % 64));
	if (t->n)
		a->active--;
	t->n = 0;
}

static unsigned long long *arg_reg(struct user_regs_struct *r, int arg)
{
	switch (arg) {
	case 0: return &r->rdi;
	case 1: return &r->rsi;
	case 2: return &r->rdx;
	case 3: return &r->r10;
	case 4: return &r->r8;
	default: return &r->r9;
	}
}

/*
 * Copy the string at c->orig as getname would: into c->buf, c->len bytes
 * (its NUL included, or SLOT without one); false when it runs into an
 * address that cannot be read.  c->nofault: how much of it was in pages
 * present (the programs' nofault reads get no more).
 */
static bool copy_string(struct ev_argsnap *a, int32_t tid, struct copy *c)
{
	bool present = true;

	c->len = c->nofault = 0;
	while (c->len < SLOT) {
		uint32_t n = SLOT - c->len, left = PAGE - (uint32_t)((c->orig + c->len) % PAGE);
		char *at = c->buf + c->len, *nul;

		n = n < left ? n : left;
		present = present && !a->mem.read(a->mem.src, tid, at, c->orig + c->len, n);
		if (!present && a->mem.copy(a->mem.src, tid, at, c->orig + c->len, n))
			return false;
		nul = memchr(at, 0, n);
		n = nul ? (uint32_t)(nul - at) + 1 : n;
		c->len += n;
		if (present)
			c->nofault = c->len;
		if (nul)
			break;
	}
	return true;
}

/* The call becomes the next step of mapping slots (mmap, or mseal): true when it was made so. */
static bool start_mapping(struct ev_argsnap *a, struct thr *t, const struct user_regs_struct *r)
{
	struct user_regs_struct m = *r;
	uint8_t insn[2];

	/* its rerun goes back over the syscall instruction: it must be one (0f 05) */
	if (a->mem.copy(a->mem.src, t->tid, insn, r->rip - 2, 2) || insn[0] != 0x0f || insn[1] != 0x05)
		return false;
	if (t->phase == PH_SEAL_DUE) {
		m.orig_rax = NR_MSEAL;
		m.rdi = t->new_map;
		m.rsi = MAP_BYTES;
		m.rdx = 0;
	} else {
		remote_mmap_args(&m, 0, MAP_BYTES, PROT_READ);
	}
	if (ptrace(PTRACE_SETREGS, t->tid, 0, &m))
		return false;
	t->saved = *r;
	t->phase = t->phase == PH_SEAL_DUE ? PH_SEAL : PH_MMAP;
	return true;
}

struct ro_check {
	uint64_t start, end, covered;
	bool writable;
};

static int ro_part(void *ctx, const struct util_mapping *m)
{
	struct ro_check *c = ctx;

	if (m->end <= c->start || m->start >= c->end)
		return 0;
	c->covered += (m->end < c->end ? m->end : c->end) - (m->start > c->start ? m->start : c->start);
	c->writable |= m->perms[1] == 'w' || m->perms[3] == 's';
	return 0;
}

/* Are the pages at addr still what was mapped: all there, private, not writable? */
static bool still_read_only(int32_t tgid, uint64_t addr)
{
	struct ro_check c = { .start = addr, .end = addr + MAP_BYTES };

	return !util_proc_maps(tgid, ro_part, &c) && c.covered == MAP_BYTES && !c.writable;
}

/* Copy argument arg's string and point the register at a slot holding it (or at BAD_ADDR). */
static bool swap_one(struct ev_argsnap *a, struct thr *t, struct pool *p, int arg,
		     struct user_regs_struct *regs)
{
	struct copy *c = &t->c[t->n];
	uint64_t to = BAD_ADDR;

	if (!c->buf && !(c->buf = malloc(SLOT)))
		return false;
	c->arg = arg;
	c->orig = *arg_reg(regs, arg);
	c->slot = -1;
	if (copy_string(a, t->tid, c)) {
		c->slot = take_slot(p);
		to = slot_addr(p, c->slot);
		if (pwrite(p->mem_fd, c->buf, c->len, (off_t)to) != (ssize_t)c->len) {
			p->used[c->slot / 64] &= ~((uint64_t)1 << (c->slot % 64));
			return false;
		}
	}
	*arg_reg(regs, arg) = to;
	t->n++;
	return true;
}

enum ev_argsnap_enter ev_argsnap_enter(struct ev_argsnap *a, int32_t tid, int32_t tgid,
				       const struct user_regs_struct *r)
{
	long nr = (long)r->orig_rax;
	unsigned mask = nr >= 0 && nr < EV_MAX_SYSCALL ? a->args[nr] : 0, need = 0;
	struct user_regs_struct regs = *r;
	struct thr *t;
	struct pool *p;

	for (int i = 0; i < 6; i++)
		need += (mask >> i & 1) && *arg_reg(&regs, i);   /* NULL stays NULL */
	if (!need || !(t = thr_of(a, tid, tgid)) || !(p = pool_of(a, tgid, true)) || p->failed)
		return EV_ARGSNAP_NONE;
	thr_release(a, t);
	if (t->phase == PH_SEAL_DUE || free_slots(p) < need) {
		if (p->nmaps < MAX_MAPS)
			return start_mapping(a, t, r) ? EV_ARGSNAP_MAPPING : EV_ARGSNAP_NONE;
		if (!a->said_full)
			log_printf(a->log, "pid %d: more than %d path arguments in calls at once: the "
					   "paths of the others are not copied\n", tgid,
				   MAX_MAPS * SLOTS_PER_MAP);
		a->said_full = true;
		return EV_ARGSNAP_NONE;
	}
	for (int i = 0; i < 6; i++)
		if ((mask >> i & 1) && *arg_reg(&regs, i) && !swap_one(a, t, p, i, &regs))
			break;
	a->active += t->n > 0;
	if (t->n < need || ptrace(PTRACE_SETREGS, tid, 0, &regs)) {
		thr_release(a, t);    /* the slots taken so far go back */
		return EV_ARGSNAP_NONE;
	}
	return EV_ARGSNAP_TAKEN;
}

/*
 * A step of mapping slots returned: after the mmap, the mseal is due; after
 * the mseal (refused by a kernel before 6.10: the pages still serve), the
 * pages are the process's slots if they are still read-only.  Then the
 * call goes back to its entry.
 */
static enum ev_argsnap_exit mapped(struct ev_argsnap *a, struct thr *t)
{
	struct pool *p = pool_of(a, t->tgid, false);
	struct user_regs_struct r;
	uint64_t got = 0;
	int err = ESRCH;

	if (!ptrace(PTRACE_GETREGS, t->tid, 0, &r)) {
		got = r.rax < (uint64_t)-4096 ? r.rax : 0;
		err = got || t->phase == PH_SEAL ? 0 : (int)-r.rax;
	}
	if (t->phase == PH_MMAP && got) {
		t->new_map = got;
		t->phase = PH_SEAL_DUE;
	} else if (t->phase == PH_SEAL && err != ESRCH && still_read_only(t->tgid, t->new_map) && p &&
		   p->nmaps < MAX_MAPS) {
		p->map[p->nmaps++] = t->new_map;
		t->phase = PH_NONE;
	} else if (p) {
		if (t->phase == PH_SEAL && err != ESRCH)
			err = EACCES;   /* made writable or moved before it was sealed */
		t->phase = PH_NONE;
		p->failed = true;
		if (!a->said_failed)
			log_printf(a->log, "pid %d: no pages for copies of path arguments (%s): "
					   "its paths are not copied\n", t->tgid,
				   strerror(err));
		a->said_failed = true;
	}
	if (t->phase != PH_SEAL_DUE)
		t->phase = PH_NONE;
	r = t->saved;
	r.rip -= 2;
	r.rax = r.orig_rax;
	t->rerun = !ptrace(PTRACE_SETREGS, t->tid, 0, &r);
	return EV_ARGSNAP_RERUN;
}

enum ev_argsnap_exit ev_argsnap_exit(struct ev_argsnap *a, int32_t tid)
{
	struct thr *t = thr_of(a, tid, 0);
	struct user_regs_struct r;

	if (!t)
		return EV_ARGSNAP_NOTHING;
	if (t->phase == PH_MMAP || t->phase == PH_SEAL)
		return mapped(a, t);
	if (!t->n)
		return EV_ARGSNAP_NOTHING;
	if (!ptrace(PTRACE_GETREGS, tid, 0, &r)) {
		for (unsigned k = 0; k < t->n; k++)
			*arg_reg(&r, t->c[k].arg) = t->c[k].orig;
		ptrace(PTRACE_SETREGS, tid, 0, &r);
	}
	thr_release(a, t);
	return EV_ARGSNAP_RESTORED;
}

bool ev_argsnap_rerun(struct ev_argsnap *a, int32_t tid, const struct user_regs_struct *r)
{
	struct thr *t = thr_of(a, tid, 0);
	const struct user_regs_struct *s = t ? &t->saved : NULL;

	if (!t || !t->rerun)
		return false;
	t->rerun = false;
	return r->orig_rax == s->orig_rax && r->rip == s->rip && r->rdi == s->rdi &&
	       r->rsi == s->rsi && r->rdx == s->rdx && r->r10 == s->r10 && r->r8 == s->r8 &&
	       r->r9 == s->r9;
}

int ev_argsnap_read(struct ev_argsnap *a, int32_t tid, void *dst, uint64_t addr, uint64_t size,
		    bool nofault)
{
	int (*live)(struct ev_source *, int32_t, void *, uint64_t, uint64_t) =
		nofault ? a->mem.read : a->mem.copy;
	struct thr *t = a->active ? thr_of(a, tid, 0) : NULL;
	uint64_t end = addr + size;

	for (unsigned k = 0; t && k < t->n; k++) {
		const struct copy *c = &t->c[k];
		uint64_t lo = addr > c->orig ? addr : c->orig;
		uint64_t hi = end < c->orig + c->len ? end : c->orig + c->len;
		char *d = dst;

		if (lo >= hi)
			continue;
		if (nofault && hi > c->orig + c->nofault)
			return -EFAULT;
		if ((lo > addr && live(a->mem.src, tid, d, addr, lo - addr)) ||
		    (hi < end && live(a->mem.src, tid, d + (hi - addr), hi, end - hi)))
			return -EFAULT;
		memcpy(d + (lo - addr), c->buf + (lo - c->orig), hi - lo);
		return 0;
	}
	return live(a->mem.src, tid, dst, addr, size);
}

static void thr_drop(struct ev_argsnap *a, struct thr *t)
{
	thr_release(a, t);
	for (int k = 0; k < MAX_PATHS; k++)
		free(t->c[k].buf);
	*t = a->thr[--a->nthr];
}

void ev_argsnap_gone(struct ev_argsnap *a, int32_t tid)
{
	struct thr *t = a ? thr_of(a, tid, 0) : NULL;
	struct pool *p = a ? pool_of(a, tid, false) : NULL;

	if (t)
		thr_drop(a, t);
	if (p)     /* the leader goes last: the process is gone */
		pool_drop(a, p);
}

void ev_argsnap_exec(struct ev_argsnap *a, int32_t tgid)
{
	struct pool *p = a ? pool_of(a, tgid, false) : NULL;

	for (size_t i = 0; a && i < a->nthr;)
		if (a->thr[i].tgid == tgid)
			thr_drop(a, &a->thr[i]);   /* the copies were of the old memory */
		else
			i++;
	if (p)
		pool_drop(a, p);
}

void ev_argsnap_undo(struct ev_argsnap *a, int32_t tid)
{
	struct thr *t = a ? thr_of(a, tid, 0) : NULL;
	struct user_regs_struct r;

	if (!t || ptrace(PTRACE_GETREGS, tid, 0, &r))
		return;
	if (t->phase == PH_MMAP || t->phase == PH_SEAL) {   /* at its step's exit: the call runs again */
		r = t->saved;
		r.rip -= 2;
		r.rax = r.orig_rax;
	}
	t->phase = PH_NONE;
	for (unsigned k = 0; k < t->n; k++)
		*arg_reg(&r, t->c[k].arg) = t->c[k].orig;
	ptrace(PTRACE_SETREGS, tid, 0, &r);
	thr_release(a, t);
}
