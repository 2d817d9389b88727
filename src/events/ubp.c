/*
 * ubp.c - uprobes in the ptrace supervisor: an int3 written (through
 * /proc/PID/mem) at each address usym.c resolves in each traced process,
 * the byte under it kept.  A thread's SIGTRAP at one is an event (its
 * registers, ip the probed address, as the kernel's uprobe handler sees
 * them); then the probed instruction runs without removing the
 * breakpoint, so other threads never miss it:
 *
 *   endbr64, nop               skipped
 *   jmp/call/jcc rel, ret,     emulated (a jcc's target from the flags):
 *   push r64                   one stop a hit
 *   anything else              copied to a slot of a scratch page of the
 *                              process (mapped by an mmap it is made to
 *                              call: a syscall instruction of its own code
 *                              single-stepped, registers restored after), a
 *                              RIP-relative displacement moved to stay on
 *                              its target (the page within 2 GiB), and
 *                              single-stepped there; the pushed return
 *                              address of a call is put back
 *
 * Instructions are decoded with Zydis (x86_reloc.c: lengths, relative operands).
 * Uretprobes: at the entry hit the return address on the stack becomes a
 * trampoline (an int3 in the scratch page), the real one kept on a
 * per-thread shadow stack (recursion nests; frames below the stack
 * pointer at a return were left by longjmp or an exception and are
 * dropped); at the trampoline the program runs with ax the return value
 * and ip the real return address, where the thread then goes.  The
 * process's unwinder finds the real return addresses through the
 * trampoline's unwind info and a table in the process (ubp_unwind.c).
 *
 * Processes: fork copies the int3s, the scratch pages and the forking
 * thread's shadow stack, so the child's traps are handled alike; exec
 * drops them and the new image is placed anew; a library loaded later
 * (dlopen) is placed when an mmap with PROT_EXEC returns.  Detaching
 * restores every byte, every return address and every semaphore.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <elf.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../util/log.h"
#include "../util/proc_maps.h"
#include "remote.h"
#include "ubp.h"
#include "ubp_unwind.h"
#include "uplace.h"
#include "usym.h"
#include "x86_reloc.h"

#define INT3 0xcc
#define SLOT 32
#define PAGE 4096
#define MAX_PAGES 16
#define MAX_DEPTH 64          /* the kernel's uretprobe nesting limit */
#define NR_MMAP 9
#define NEAR ((int64_t)1 << 31)

enum how { X_OOL, X_SKIP, X_JMP, X_CALL, X_JCC, X_RET, X_PUSH };

struct bp {
	uint64_t addr;
	uint64_t entry, ret;     /* probes at it, masks */
	uint8_t orig;
	uint8_t insn[16], len;
	enum how how;
	int cond;                /* X_JCC: the opcode's low nibble; X_PUSH: the register */
	uint64_t target;         /* X_JMP, X_CALL, X_JCC */
	int disp_at;             /* RIP-relative: the displacement's offset, else -1 */
	bool call;               /* an indirect call: its pushed return address is fixed */
	uint64_t slot;           /* out of line: where, 0 until first needed */
	bool jmp_back;           /* the slot jumps back by itself: no step, no second stop */
	int32_t spec;            /* a USDT site: its spec id (index in ubp's specs), else -1 */
	bool unwind;             /* no probe's: libgcc_s's _Unwind_Find_FDE, where the first
				    unwind of a process that loaded it late registers the FDE */
};

struct sema {
	uint64_t addr;
};

struct proc {
	int32_t tgid;
	struct bp *bp;
	size_t nbp;
	struct sema *sema;
	size_t nsema;
	uint64_t placed;         /* probes placed in this image */
	uint64_t page[MAX_PAGES];
	unsigned used[MAX_PAGES], npages;
	uint64_t tramp;
	uint64_t sysinsn;        /* a syscall instruction of its code */
	struct ubp_unwind *uw;   /* its uretprobe frames for its unwinder, or NULL */
};

struct frame {
	uint64_t ret, func, sp, probes;
	int tab;                 /* its entry in p->uw's table, or -1 */
};

enum pend { P_NONE, P_ENTRY, P_RETURN };

struct thr {
	int32_t tid, tgid;
	bool stepping;
	uint64_t step_addr;
	enum pend pend;
	uint64_t pend_addr;      /* P_ENTRY: the breakpoint; P_RETURN: where to return */
	siginfo_t held;          /* a signal that came while ubp ran the thread: delivered after */
	struct frame *stk;
	unsigned depth;
};

struct ubp {
	const struct ev_uprobe *p;
	size_t np;
	struct bpfvm_log *log;
	uint64_t failed;         /* probes that cannot be placed (said once) */
	uint64_t by_name;        /* probes naming a library by its name */
	struct proc *proc;
	size_t nproc;
	struct thr *thr;
	size_t nthr;
	struct uplace_specs specs;   /* USDT argument strings, by spec id */
};

struct ubp *ubp_new(const struct ev_uprobe *probes, size_t n, struct bpfvm_log *log)
{
	struct ubp *u;

	if (n > EV_MAX_UPROBES || !(u = calloc(1, sizeof(*u))))
		return NULL;
	u->p = probes;
	u->np = n;
	u->log = log;
	for (size_t i = 0; i < n; i++)
		if (usym_by_name(&probes[i].target))
			u->by_name |= 1ull << i;
	return u;
}

bool ubp_wants_mmap(const struct ubp *u)
{
	return u && u->np;    /* a path may be a library the program loads later, too */
}

static int mem_io(int32_t pid, void *buf, uint64_t addr, size_t len, bool write)
{
	return remote_mem_io(pid, buf, addr, len, write);
}

static struct proc *proc_of(struct ubp *u, int32_t tgid)
{
	for (size_t i = 0; i < u->nproc; i++)
		if (u->proc[i].tgid == tgid)
			return &u->proc[i];
	return NULL;
}

static struct proc *proc_add(struct ubp *u, int32_t tgid)
{
	struct proc *g = realloc(u->proc, (u->nproc + 1) * sizeof(*g));

	if (!g)
		return NULL;
	u->proc = g;
	memset(&g[u->nproc], 0, sizeof(*g));
	g[u->nproc].tgid = tgid;
	return &g[u->nproc++];
}

static void proc_drop(struct ubp *u, struct proc *p)
{
	free(p->bp);
	free(p->sema);
	free(p->uw);
	*p = u->proc[--u->nproc];
}

static struct thr *thr_of(struct ubp *u, int32_t tid, int32_t tgid)
{
	struct thr *g;

	for (size_t i = 0; i < u->nthr; i++)
		if (u->thr[i].tid == tid)
			return &u->thr[i];
	if (tgid <= 0 || !(g = realloc(u->thr, (u->nthr + 1) * sizeof(*g))))
		return NULL;
	u->thr = g;
	memset(&g[u->nthr], 0, sizeof(*g));
	g[u->nthr].tid = tid;
	g[u->nthr].tgid = tgid;
	return &g[u->nthr++];
}

static void thr_drop(struct ubp *u, struct thr *t)
{
	free(t->stk);
	*t = u->thr[--u->nthr];
}

static struct bp *bp_at(struct proc *p, uint64_t addr)
{
	for (size_t i = 0; p && i < p->nbp; i++)
		if (p->bp[i].addr == addr)
			return &p->bp[i];
	return NULL;
}

/* How the instruction at b->addr (its bytes in b->insn) runs: 0, or why not (a message). */
static const char *analyze(struct bp *b)
{
	struct x86_insn x;
	const char *why = x86_analyze(b->insn, sizeof(b->insn), b->addr, &x);
	static const enum how hows[] = { [X86_OOL] = X_OOL, [X86_SKIP] = X_SKIP, [X86_JMP] = X_JMP,
		[X86_CALL] = X_CALL, [X86_JCC] = X_JCC, [X86_RET] = X_RET, [X86_PUSH] = X_PUSH };

	if (why)
		return why;
	b->len = x.len;
	b->how = hows[x.how];
	b->cond = x.cond;
	b->target = x.target;
	b->disp_at = x.disp_at;
	b->call = x.call;
	return NULL;
}

/*
 * Is file offset off + rel (rel > 0, in the function at addr - rel) at an
 * instruction boundary?  1 yes, 0 no, -1 cannot tell.
 */
static int boundary(int32_t tid, uint64_t addr, uint64_t rel)
{
	uint8_t buf[PAGE + 16];

	if (rel > PAGE || mem_io(tid, buf, addr - rel, (size_t)rel + 16, false))
		return -1;
	return x86_boundary(buf, rel);
}

/* A breakpoint for probe i at addr (in tgid): false when refused (said why). */
static bool add_bp(struct ubp *u, struct proc *p, size_t i, uint64_t addr, const char *where,
		   int32_t spec)
{
	struct bp *b = bp_at(p, addr), *g;
	bool ret = u->p[i].target.ret;
	const char *why;
	uint8_t int3 = INT3;

	if (!b) {
		if (!(g = realloc(p->bp, (p->nbp + 1) * sizeof(*g))))
			return false;
		p->bp = g;
		b = &g[p->nbp];
		memset(b, 0, sizeof(*b));
		b->addr = addr;
		b->spec = spec;
		if (mem_io(p->tgid, b->insn, addr, sizeof(b->insn), false)) {
			uplace_say(u->log, u->p, i, &u->failed,
				   "cannot read the code at 0x%" PRIx64 " (%s)", addr, where);
			return false;
		}
		b->orig = b->insn[0];
		if (b->orig == INT3) {
			uplace_say(u->log, u->p, i, &u->failed,
				   "0x%" PRIx64 " (%s) already holds an int3", addr, where);
			return false;
		}
		if ((why = analyze(b))) {
			uplace_say(u->log, u->p, i, &u->failed,
				   "the instruction at 0x%" PRIx64 " (%s) cannot be stepped: %s",
				   addr, where, why);
			return false;
		}
		if (mem_io(p->tgid, &int3, addr, 1, true)) {
			uplace_say(u->log, u->p, i, &u->failed,
				   "cannot write a breakpoint at 0x%" PRIx64 " (%s)", addr, where);
			return false;
		}
		p->nbp++;
	}
	if (ret)
		b->ret |= 1ull << i;
	else
		b->entry |= 1ull << i;
	return true;
}

/* A USDT semaphore: count one more user (the program tests it to fire). */
static void sema_up(struct proc *p, uint64_t addr)
{
	uint16_t v;
	struct sema *g;

	if (!addr || mem_io(p->tgid, &v, addr, 2, false) ||
	    !(g = realloc(p->sema, (p->nsema + 1) * sizeof(*g))))
		return;
	p->sema = g;
	v++;
	if (!mem_io(p->tgid, &v, addr, 2, true))
		g[p->nsema++].addr = addr;
}

/* Probe i in process p: placed (or failed for good), or still waiting for its file. */
static void place_probe(struct ubp *u, struct proc *p, size_t i, const struct usym_map *maps,
			size_t nmaps)
{
	const struct usym_target *t = &u->p[i].target;
	char full[PATH_MAX], why[PATH_MAX + 256];
	struct usym_site *sites;
	size_t n, placed = 0;
	int err;

	if (usym_binary(t, maps, nmaps, full, sizeof(full)))
		return;
	err = usym_resolve(t, full, &sites, &n, why, sizeof(why));
	if (err) {
		uplace_say(u->log, u->p, i, &u->failed, "%s", why);
		return;
	}
	for (size_t k = 0; k < n; k++) {
		uint64_t addr = usym_addr(maps, nmaps, full, sites[k].file_off, true);
		uint64_t rel = sites[k].file_off - sites[k].func_off;

		if (!addr)
			continue;
		placed++;
		if (rel && !t->raw && boundary(p->tgid, addr, rel) == 0) {
			uplace_say(u->log, u->p, i, &u->failed,
				   "offset +0x%" PRIx64 " of %s in %s is not at an instruction "
				   "boundary", rel, t->func, full);
			break;
		}
		if (add_bp(u, p, i, addr, full, t->kind == USYM_USDT ? uplace_spec_id(&u->specs, sites[k].args) : -1) &&
		    sites[k].sema_off)
			sema_up(p, usym_addr(maps, nmaps, full, sites[k].sema_off, false));
	}
	free(sites);
	if (placed)
		p->placed |= 1ull << i;
}

static void place(struct ubp *u, struct proc *p)
{
	struct usym_map *maps;
	size_t nmaps;

	if (usym_maps(p->tgid, &maps, &nmaps))
		return;
	for (size_t i = 0; i < u->np; i++)
		if (!((p->placed | u->failed) >> i & 1))
			place_probe(u, p, i, maps, nmaps);
	free(maps);
}

/* Function fn of the process's libgcc_s: its address, or 0 (not loaded, yet). */
static uint64_t libgcc_fn(int32_t tgid, const char *fn)
{
	struct usym_target want = { .kind = USYM_UPROBE, .binary = "libgcc_s.so.1" };
	char full[PATH_MAX], why[PATH_MAX + 256];
	struct usym_site *sites = NULL;
	struct usym_map *maps;
	uint64_t at = 0;
	size_t nmaps, n;

	snprintf(want.func, sizeof(want.func), "%s", fn);
	if (usym_maps(tgid, &maps, &nmaps))
		return 0;
	if (!usym_binary(&want, maps, nmaps, full, sizeof(full)) &&
	    !usym_resolve(&want, full, &sites, &n, why, sizeof(why)) && n)
		at = usym_addr(maps, nmaps, full, sites[0].file_off, true);
	free(sites);
	free(maps);
	return at;
}

/* The breakpoint at libgcc_s's _Unwind_Find_FDE (unwind_setup), once it is mapped. */
static void unwind_bp(struct proc *p)
{
	uint64_t at = libgcc_fn(p->tgid, "_Unwind_Find_FDE");
	uint8_t int3 = INT3;
	struct bp *g;

	if (!at || bp_at(p, at) || !(g = realloc(p->bp, (p->nbp + 1) * sizeof(*g))))
		return;
	p->bp = g;
	g = &g[p->nbp];
	memset(g, 0, sizeof(*g));
	*g = (struct bp){ .addr = at, .spec = -1, .unwind = true };
	if (!mem_io(p->tgid, &g->orig, at, 1, false) && g->orig != INT3 &&
	    !mem_io(p->tgid, &int3, at, 1, true))
		p->nbp++;
}

void ubp_image(struct ubp *u, int32_t tgid, bool exec)
{
	struct proc *p;

	if (!u)
		return;
	if ((p = proc_of(u, tgid)))
		proc_drop(u, p);    /* exec: the old image is gone, bytes and all */
	for (size_t i = 0; i < u->nthr;)
		if (u->thr[i].tgid == tgid && exec)
			thr_drop(u, &u->thr[i]);
		else
			i++;
	if ((p = proc_add(u, tgid)))
		place(u, p);
}

void ubp_rescan(struct ubp *u, int32_t tgid)
{
	struct proc *p = u ? proc_of(u, tgid) : NULL;

	if (p)
		place(u, p);
	if (p && p->uw && p->uw->at && !p->uw->registered)
		unwind_bp(p);     /* libgcc_s may be the library just mapped */
}

/*
 * Forgotten, not restored: writing the original bytes back later would
 * land in whatever is mapped there next.  A probe left with no site is
 * placed again when its file is mapped again (dlclose, then dlopen), as
 * the kernel's uprobes, which belong to the file, fire again there.
 */
void ubp_unmapped(struct ubp *u, int32_t tgid, uint64_t addr, uint64_t len)
{
	struct proc *p = u ? proc_of(u, tgid) : NULL;
	uint64_t left = 0;
	size_t k = 0;

	if (!p || addr + len < addr)
		return;
	for (size_t i = 0; i < p->nbp; i++)
		if (p->bp[i].addr - addr >= len)
			p->bp[k++] = p->bp[i];
	p->nbp = k;
	k = 0;
	for (size_t i = 0; i < p->nsema; i++)
		if (p->sema[i].addr - addr >= len)
			p->sema[k++] = p->sema[i];
	p->nsema = k;
	for (size_t i = 0; i < p->nbp; i++)
		left |= p->bp[i].entry | p->bp[i].ret;
	p->placed &= left;
}

void ubp_fork(struct ubp *u, int32_t parent, int32_t parent_tgid, int32_t child, bool thread,
	      bool shared)
{
	struct proc *pp, *cp;
	struct thr *pt, *ct;

	if (!u || thread || !(pp = proc_of(u, parent_tgid)) || !(cp = proc_add(u, child)))
		return;
	pp = proc_of(u, parent_tgid);   /* proc_add may have moved it */
	*cp = *pp;
	cp->tgid = child;
	cp->bp = malloc(pp->nbp * sizeof(*cp->bp) + 1);
	cp->sema = malloc(pp->nsema * sizeof(*cp->sema) + 1);   /* raised in its copy too */
	if (shared)
		cp->nsema = 0;   /* vfork: the parent's memory, whose count is the parent's */
	if (cp->bp && pp->nbp)
		memcpy(cp->bp, pp->bp, pp->nbp * sizeof(*cp->bp));
	else if (!cp->bp)
		cp->nbp = 0;
	if (cp->sema && cp->nsema)
		memcpy(cp->sema, pp->sema, pp->nsema * sizeof(*cp->sema));
	else if (!cp->sema)
		cp->nsema = 0;
	if (pp->uw && (cp->uw = malloc(sizeof(*cp->uw)))) {
		*cp->uw = *pp->uw;    /* the table and its registration are copied with the memory */
		if (shared)
			cp->uw->at = 0;   /* vfork: the parent's table, which the child must not
					     fill; nor may it map and register one of its own */
	}
	pt = thr_of(u, parent, 0);
	if (pt && pt->depth && (ct = thr_of(u, child, child)) && (ct->stk = malloc(MAX_DEPTH *
									sizeof(*ct->stk)))) {
		pt = thr_of(u, parent, 0);
		memcpy(ct->stk, pt->stk, pt->depth * sizeof(*ct->stk));
		ct->depth = pt->depth;
	}
}

void ubp_gone(struct ubp *u, int32_t tid, bool process)
{
	struct thr *t = u ? thr_of(u, tid, 0) : NULL;
	struct proc *p = t ? proc_of(u, t->tgid) : NULL;

	for (unsigned k = 0; p && p->uw && k < t->depth; k++)
		ubp_unwind_release(p->uw, t->stk[k].tab);
	if (t)
		thr_drop(u, t);
	if (u && process && (p = proc_of(u, tid)))
		proc_drop(u, p);
}

struct gap_search {
	uint64_t addr, prev, best;
};

/* The gap before m: its pages next to either side, if nearer addr than the best so far. */
static int gap_before(void *ctx, const struct util_mapping *m)
{
	struct gap_search *g = ctx;
	uint64_t cand[2];

	cand[0] = m->start >= g->prev + PAGE ? m->start - PAGE : 0;   /* just below this mapping */
	cand[1] = m->start >= g->prev + PAGE ? g->prev : 0;           /* just above the last */
	for (int k = 0; k < 2; k++) {
		int64_t d = (int64_t)(cand[k] - g->addr), bd = (int64_t)(g->best - g->addr);

		if (cand[k] && (d < 0 ? -d : d) < NEAR - 2 * PAGE &&
		    (!g->best || (d < 0 ? -d : d) < (bd < 0 ? -bd : bd)))
			g->best = cand[k];
	}
	g->prev = m->end > g->prev ? m->end : g->prev;
	return 0;
}

/* A free page within 2 GiB of addr, from /proc/PID/maps' gaps: 0 if none. */
static uint64_t near_gap(int32_t tgid, uint64_t addr)
{
	struct gap_search g = { .addr = addr, .prev = 0x10000 };

	return util_proc_maps(tgid, gap_before, &g) ? 0 : g.best;
}

/*
 * A syscall instruction in the code tgid maps, as a system call stub has
 * it: mov $nr,%eax (nr < 512), then 0f 05.  The two bytes alone are found
 * inside other instructions too (libm's, mapped before libc in a C++
 * program, has them): stepped there, the mmap never came.  0 if none.
 */
static uint64_t find_syscall(int32_t tgid)
{
	struct usym_map *maps;
	size_t n;
	uint64_t found = 0;
	uint8_t buf[PAGE];

	if (usym_maps(tgid, &maps, &n))
		return 0;
	for (size_t i = 0; i < n && !found; i++)
		for (uint64_t a = maps[i].start; maps[i].exec && a < maps[i].end && !found; a += PAGE - 1)
			if (!mem_io(tgid, buf, a, PAGE, false))
				for (size_t k = 5; k + 1 < PAGE && !found; k++)
					if (buf[k] == 0x0f && buf[k + 1] == 0x05 && buf[k - 5] == 0xb8 &&
					    buf[k - 3] < 2 && !buf[k - 2] && !buf[k - 1])
						found = a + k;
	free(maps);
	return found;
}

/*
 * Thread t stopped for a signal while ubp made it run something (a call
 * of its own, the probed instruction's step): the signal, with its
 * siginfo, waits until the thread goes on (release_held).
 */
static void hold_signal(struct thr *t)
{
	if (!t->held.si_signo && ptrace(PTRACE_GETSIGINFO, t->tid, 0, &t->held))
		t->held.si_signo = 0;
}

/*
 * Make stopped thread tid (at a signal stop) call mmap for len bytes
 * (prot) at hint: its address, or 0.  Its registers come back as they were.
 */
static uint64_t remote_mmap(struct ubp *u, struct proc *p, struct thr *t, uint64_t hint,
			    uint64_t len, int prot)
{
	struct user_regs_struct saved, r;
	uint64_t got = 0;
	int status;

	if (!p->sysinsn && !(p->sysinsn = find_syscall(p->tgid)))
		return 0;
	if (ptrace(PTRACE_GETREGS, t->tid, 0, &saved))
		return 0;
	r = saved;
	remote_mmap_args(&r, hint, len, prot);
	r.rip = p->sysinsn;
	r.rax = NR_MMAP;
	r.orig_rax = (unsigned long long)-1;
	if (ptrace(PTRACE_SETREGS, t->tid, 0, &r) || ptrace(PTRACE_SINGLESTEP, t->tid, 0, 0))
		return 0;
	for (int tries = 0; tries < 16; tries++) {
		pid_t got_pid;

		while ((got_pid = waitpid(t->tid, &status, __WALL)) < 0 && errno == EINTR)
			;     /* bpfvm's own SIGINT: the thread must come back first */
		if (got_pid != t->tid || !WIFSTOPPED(status))
			return 0;     /* it died meanwhile */
		if (WSTOPSIG(status) == SIGTRAP && !(status >> 16))
			break;
		if (WSTOPSIG(status) != SIGTRAP)
			hold_signal(t);
		ptrace(PTRACE_SINGLESTEP, t->tid, 0, 0);
	}
	if (!ptrace(PTRACE_GETREGS, t->tid, 0, &r) && r.rax < (uint64_t)-4096)
		got = r.rax;
	ptrace(PTRACE_SETREGS, t->tid, 0, &saved);
	(void)u;
	return got;
}

/* size bytes of scratch code for p (near addr when near), written: their address or 0. */
static uint64_t scratch(struct ubp *u, struct proc *p, struct thr *t, uint64_t addr, bool near,
			const uint8_t *code, unsigned size)
{
	unsigned k;
	uint64_t at;

	for (k = 0; k < p->npages; k++) {
		int64_t d = (int64_t)(p->page[k] - addr);

		if (p->used[k] + size <= PAGE && (!near || (d < 0 ? -d : d) < NEAR - 2 * PAGE))
			break;
	}
	if (k == p->npages) {
		uint64_t page;

		if (k == MAX_PAGES)
			return 0;
		page = remote_mmap(u, p, t, near ? near_gap(p->tgid, addr) : 0, PAGE,
				   PROT_READ | PROT_EXEC);
		if (!page)
			return 0;
		p->page[k] = page;
		p->used[k] = 0;
		p->npages++;
	}
	at = p->page[k] + p->used[k];
	if (mem_io(p->tgid, (void *)code, at, size, true))
		return 0;
	p->used[k] += size;
	return at;
}

/*
 * The out-of-line copy of b.  Within 2 GiB of b the instruction is
 * relocated (x86_reloc.c) and followed by a jmp back, so the thread runs
 * it and goes on with no stop of its own (the kernel's uprobe needs a
 * single step there; this saves a ptrace stop a hit).  Else, or where it
 * cannot be relocated, the instruction alone, its displacement moved, then
 * an int3: it is stepped.
 */
static uint64_t slot_for(struct ubp *u, struct proc *p, struct thr *t, struct bp *b)
{
	uint8_t insn[16], code[SLOT];
	size_t n;
	uint64_t at;

	if (b->slot)
		return b->slot;
	memcpy(insn, b->insn, b->len);
	insn[0] = b->orig;
	memset(code, INT3, sizeof(code));
	/* write once to learn where, then write the code made for that place */
	at = scratch(u, p, t, b->addr, true, code, SLOT);
	if (at && !x86_relocate(insn, b->len, b->addr, at, code, sizeof(code), &n)) {
		b->jmp_back = true;
	} else {
		if (!at)
			at = scratch(u, p, t, b->addr, b->disp_at >= 0, code, SLOT);
		memset(code, INT3, sizeof(code));
		memcpy(code, insn, b->len);
		if (at && b->disp_at >= 0) {
			int32_t disp;

			memcpy(&disp, code + b->disp_at, 4);
			disp = (int32_t)((int64_t)disp + (int64_t)(b->addr - at));
			memcpy(code + b->disp_at, &disp, 4);
		}
	}
	if (at && mem_io(p->tgid, code, at, SLOT, true))
		at = 0;
	return b->slot = at;
}

/* Where the process of t returns through for uretprobes: an int3 of its scratch page. */
static uint64_t tramp_for(struct ubp *u, struct proc *p, struct thr *t)
{
	static const uint8_t code[8] = { INT3, INT3, INT3, INT3, INT3, INT3, INT3, INT3 };

	if (!p->tramp)
		p->tramp = scratch(u, p, t, 0, false, code, sizeof(code));
	return p->tramp;
}

/*
 * Make stopped thread t (at a signal stop) call fn(a0, a1), returning to
 * an int3 of the scratch page: 0, or -1 (it did not come back there: a
 * probe hit on the way, say; what it did stays).  Its registers, vector
 * ones included, come back as they were; a signal meanwhile is delivered
 * later.
 */
static int remote_call(struct proc *p, struct thr *t, uint64_t fn, uint64_t a0, uint64_t a1)
{
	uint8_t xsave[8192];             /* the XSAVE area: some 2.7 KiB with AVX-512 */
	struct iovec xs = { xsave, sizeof(xsave) };
	struct user_regs_struct saved, r;
	uint64_t back = p->tramp + 4;
	int status, ok = -1;
	pid_t got;

	if (ptrace(PTRACE_GETREGS, t->tid, 0, &saved) ||
	    ptrace(PTRACE_GETREGSET, t->tid, (void *)NT_X86_XSTATE, &xs))
		return -1;
	r = saved;
	r.rsp = ((saved.rsp - 256) & ~15ull) - 8;    /* past the red zone, as after a call */
	r.rip = fn;
	r.rdi = a0;
	r.rsi = a1;
	r.rax = 0;
	r.orig_rax = (unsigned long long)-1;
	if (mem_io(t->tgid, &back, r.rsp, 8, true) || ptrace(PTRACE_SETREGS, t->tid, 0, &r) ||
	    ptrace(PTRACE_CONT, t->tid, 0, 0))
		goto out;
	for (int tries = 0; tries < 64; tries++) {
		while ((got = waitpid(t->tid, &status, __WALL)) < 0 && errno == EINTR)
			;
		if (got != t->tid || !WIFSTOPPED(status))
			return -1;     /* it died meanwhile */
		if (WSTOPSIG(status) == SIGTRAP && !(status >> 16)) {
			ok = !ptrace(PTRACE_GETREGS, t->tid, 0, &r) && r.rip == back + 1 ? 0 : -1;
			break;
		}
		if (WSTOPSIG(status) != SIGTRAP)
			hold_signal(t);
		ptrace(PTRACE_CONT, t->tid, 0, 0);
	}
out:
	ptrace(PTRACE_SETREGSET, t->tid, (void *)NT_X86_XSTATE, &xs);
	ptrace(PTRACE_SETREGS, t->tid, 0, &saved);
	return ok;
}

/* p's FDE registered with its libgcc_s, by t (stopped), if that is loaded. */
static void unwind_register(struct proc *p, struct thr *t)
{
	uint64_t fn = libgcc_fn(p->tgid, "__register_frame_info");

	if (fn)
		p->uw->registered = !remote_call(p, t, fn, ubp_unwind_eh(p->uw->at),
						 ubp_unwind_object(p->uw->at));
}

/*
 * p's frame table (ubp_unwind.c) mapped and its FDE registered with p's
 * libgcc_s: an exception or a backtrace then unwinds through frames
 * returning to the trampoline.  A C program's libgcc_s comes late, when
 * glibc first needs it (backtrace, pthread_cancel), and cannot be called
 * while it is being loaded: then a breakpoint at its _Unwind_Find_FDE,
 * which the first unwind calls first, registers it (unwind_bp).
 */
static void unwind_setup(struct ubp *u, struct proc *p, struct thr *t)
{
	size_t size = ubp_unwind_size();
	uint8_t *image = malloc(size);

	if (!image || !(p->uw = calloc(1, sizeof(*p->uw)))) {
		free(image);
		return;
	}
	p->uw->at = remote_mmap(u, p, t, 0, size, PROT_READ | PROT_WRITE);
	if (!p->uw->at || ubp_unwind_image(image, size, p->uw->at, p->tramp) ||
	    mem_io(p->tgid, image, p->uw->at, size, true))
		p->uw->at = 0;
	free(image);
	if (p->uw->at)
		unwind_register(p, t);
}

/*
 * The registers of a thread stepping b out of line, as if it had run b in
 * place: at the slot, not run yet (back to b); past it, or at the int3
 * after it, after b; elsewhere, a branch taken (its call's pushed return
 * address put back).
 */
static void step_done(struct proc *p, const struct bp *b, struct user_regs_struct *r)
{
	uint64_t back = b->addr + b->len;

	if (r->rip == b->slot) {
		r->rip = b->addr;
		return;
	}
	if (r->rip == b->slot + b->len || r->rip == b->slot + b->len + 1)
		r->rip = back;
	if (b->call)
		mem_io(p->tgid, &back, r->rsp, 8, true);
}

enum ubp_trap ubp_trap(struct ubp *u, int32_t tid, int32_t tgid, struct ev_event *ev)
{
	struct proc *p = u ? proc_of(u, tgid) : NULL;
	struct thr *t = p ? thr_of(u, tid, tgid) : NULL;
	struct user_regs_struct r;
	struct bp *b;

	if (!t || ptrace(PTRACE_GETREGS, tid, 0, &r))
		return UBP_NOT_OURS;
	if (t->stepping && (b = bp_at(p, t->step_addr))) {
		t->stepping = false;
		step_done(p, b, &r);
		ptrace(PTRACE_SETREGS, tid, 0, &r);
		return UBP_DONE;
	}
	memset(ev, 0, sizeof(*ev));
	ev->kind = EV_UPROBE;
	ev->tid = tid;
	ev->tgid = tgid;
	if (p->tramp && r.rip == p->tramp + 1 && t->depth) {
		struct frame f;

		while (t->depth > 1 && t->stk[t->depth - 1].sp + 8 < r.rsp)
			ubp_unwind_release(p->uw, t->stk[--t->depth].tab);   /* left by a longjmp
										  or an exception */
		f = t->stk[--t->depth];
		ubp_unwind_release(p->uw, f.tab);
		r.rip = f.ret;
		ev->uret = true;
		ev->usdt_spec = -1;
		ev->probes = f.probes;
		ev->func_ip = f.func;
		ev->regs = r;
		t->pend = P_RETURN;
		t->pend_addr = f.ret;
		return UBP_EVENT;
	}
	if (!(b = bp_at(p, r.rip - 1)))
		return UBP_NOT_OURS;
	r.rip = b->addr;
	if (b->unwind) {          /* the process's first unwind: its FDE, then on, once */
		mem_io(tgid, &b->orig, b->addr, 1, true);
		*b = p->bp[--p->nbp];
		ptrace(PTRACE_SETREGS, tid, 0, &r);
		if (p->uw && !p->uw->registered)
			unwind_register(p, t);
		return UBP_DONE;
	}
	ev->probes = b->entry;
	ev->func_ip = b->addr;
	ev->usdt_spec = b->spec;
	ev->usdt_args = b->spec >= 0 ? u->specs.s[b->spec] : NULL;
	ev->regs = r;
	t->pend = P_ENTRY;
	t->pend_addr = b->addr;
	ptrace(PTRACE_SETREGS, tid, 0, &r);
	return UBP_EVENT;
}

/* Register n of x86-64's encoding order (rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8...). */
static unsigned long long *gpr(struct user_regs_struct *r, int n)
{
	unsigned long long *const regs[16] = { &r->rax, &r->rcx, &r->rdx, &r->rbx, &r->rsp, &r->rbp,
		&r->rsi, &r->rdi, &r->r8, &r->r9, &r->r10, &r->r11, &r->r12, &r->r13, &r->r14,
		&r->r15 };

	return regs[n & 15];
}

/*
 * A uretprobe's entry: the return address becomes the trampoline, the
 * frame entered in the table the process's unwinder reads (one write).
 */
static void hijack_return(struct ubp *u, struct proc *p, struct thr *t, struct bp *b,
			  const struct user_regs_struct *r)
{
	uint64_t tramp = tramp_for(u, p, t), real, entry[2];
	struct iovec local[2] = { { &tramp, 8 }, { entry, 16 } }, remote[2];
	int k = -1;

	/* frames at or below this call's stack pointer were left by a longjmp: never returning,
	 * and their slots reused (the detach must not write their return addresses back) */
	while (t->depth && t->stk[t->depth - 1].sp <= r->rsp)
		ubp_unwind_release(p->uw, t->stk[--t->depth].tab);
	if (!tramp || t->depth == MAX_DEPTH || mem_io(t->tgid, &real, r->rsp, 8, false) ||
	    (!t->stk && !(t->stk = malloc(MAX_DEPTH * sizeof(*t->stk)))))
		return;
	if (!p->uw)
		unwind_setup(u, p, t);
	if (p->uw && p->uw->at && (k = ubp_unwind_claim(p->uw, r->rsp)) >= 0) {
		entry[0] = real;
		entry[1] = r->rsp;
		remote[0] = (struct iovec){ (void *)(uintptr_t)r->rsp, 8 };
		remote[1] = (struct iovec){ (void *)(uintptr_t)ubp_unwind_entry(p->uw, k), 16 };
		if (process_vm_writev(t->tgid, local, 2, remote, 2, 0) != 24) {
			ubp_unwind_release(p->uw, k);
			k = -1;
		}
	}
	if (k < 0 && mem_io(t->tgid, &tramp, r->rsp, 8, true))
		return;
	t->stk[t->depth++] = (struct frame){ real, b->addr, r->rsp, b->ret, k };
}

/*
 * The held signal, delivered as the thread goes on, with its own siginfo
 * (the stop is a SIGTRAP's: the restart's signal replaces it, and the
 * kernel keeps a siginfo whose number is the restart's); sent again where
 * the resume already delivers another.
 */
static void release_held(struct thr *t, int *sig)
{
	if (!t->held.si_signo)
		return;
	if (*sig || ptrace(PTRACE_SETSIGINFO, t->tid, 0, &t->held))
		tgkill(t->tgid, t->tid, t->held.si_signo);
	else
		*sig = t->held.si_signo;
	t->held.si_signo = 0;
}

bool ubp_resume(struct ubp *u, int32_t tid, int *resume_sig)
{
	struct thr *t = u ? thr_of(u, tid, 0) : NULL;
	struct proc *p = t ? proc_of(u, t->tgid) : NULL;
	struct user_regs_struct r;
	struct bp *b;
	enum pend pend;

	if (p && t->stepping) {   /* stopped on the way (a signal, an interrupt): the step goes on */
		if (*resume_sig) {
			hold_signal(t);
			if (!t->held.si_signo)
				t->held = (siginfo_t){ .si_signo = *resume_sig, .si_code = SI_USER };
		}
		ptrace(PTRACE_SINGLESTEP, tid, 0, 0);
		return true;
	}
	if (!p || t->pend == P_NONE || ptrace(PTRACE_GETREGS, tid, 0, &r))
		goto done;
	pend = t->pend;
	t->pend = P_NONE;
	if (pend == P_RETURN) {
		r.rip = t->pend_addr;
		ptrace(PTRACE_SETREGS, tid, 0, &r);
		goto done;
	}
	if (!(b = bp_at(p, t->pend_addr)))
		goto done;
	if (b->ret)
		hijack_return(u, p, t, b, &r);
	switch (b->how) {
	case X_SKIP: r.rip = b->addr + b->len; break;
	case X_JMP: r.rip = b->target; break;
	case X_JCC: r.rip = x86_cond_true(b->cond, r.eflags) ? b->target : b->addr + b->len; break;
	case X_RET: {
		uint64_t to;

		if (mem_io(t->tgid, &to, r.rsp, 8, false))
			goto out_of_line;    /* it faults there, as it would have */
		r.rip = to;
		r.rsp += 8;
		break;
	}
	case X_PUSH: {
		uint64_t v = *gpr(&r, b->cond);

		r.rsp -= 8;
		mem_io(t->tgid, &v, r.rsp, 8, true);
		r.rip = b->addr + b->len;
		break;
	}
	case X_CALL: {
		uint64_t back = b->addr + b->len;

		r.rsp -= 8;
		mem_io(t->tgid, &back, r.rsp, 8, true);
		r.rip = b->target;
		break;
	}
	case X_OOL:
out_of_line:
		if (!slot_for(u, p, t, b)) {
			log_printf(u->log, "uprobe at 0x%" PRIx64 ": no scratch page in pid %d for "
					   "the probed instruction: the process stops here\n",
				   b->addr, t->tgid);
			goto done;
		}
		r.rip = b->slot;
		if (b->jmp_back)
			break;
		t->stepping = true;     /* a held signal waits for the step's end */
		t->step_addr = b->addr;
		ptrace(PTRACE_SETREGS, tid, 0, &r);
		ptrace(PTRACE_SINGLESTEP, tid, 0, 0);
		return true;
	}
	ptrace(PTRACE_SETREGS, tid, 0, &r);
done:
	if (t)
		release_held(t, resume_sig);
	return false;
}

/* A signal the kernel raised for the instruction itself: a fault, not one sent. */
static bool fault_of_step(const siginfo_t *si)
{
	switch (si->si_signo) {
	case SIGSEGV: case SIGBUS: case SIGFPE: case SIGILL: case SIGTRAP:
		return si->si_code > 0;
	}
	return false;
}

void ubp_signal(struct ubp *u, int32_t tid, const siginfo_t *si)
{
	struct thr *t = u ? thr_of(u, tid, 0) : NULL;
	struct user_regs_struct r;

	struct proc *p = t ? proc_of(u, t->tgid) : NULL;
	struct bp *b;

	if (!p || !fault_of_step(si) || ptrace(PTRACE_GETREGS, tid, 0, &r))
		return;
	if (!t->stepping) {
		/* a slot that jumps back, faulting before it ran anything: the fault is b's */
		for (size_t i = 0; i < p->nbp; i++)
			if (p->bp[i].jmp_back && p->bp[i].slot == r.rip) {
				r.rip = p->bp[i].addr;
				ptrace(PTRACE_SETREGS, tid, 0, &r);
			}
		return;
	}
	if (!(b = bp_at(p, t->step_addr)))
		return;
	t->stepping = false;
	step_done(p, b, &r);       /* not run yet: the int3 again once the signal is handled */
	ptrace(PTRACE_SETREGS, tid, 0, &r);
}

void ubp_release_thread(struct ubp *u, int32_t tid)
{
	struct thr *t = u ? thr_of(u, tid, 0) : NULL;
	struct proc *p = t ? proc_of(u, t->tgid) : NULL;
	struct user_regs_struct r;
	siginfo_t si;
	bool int3;
	struct bp *b;

	if (!p || ptrace(PTRACE_GETREGS, tid, 0, &r))
		return;
	/* an int3's trap (not a single step's, nor an interrupt): ip is one past it */
	int3 = !ptrace(PTRACE_GETSIGINFO, tid, 0, &si) && si.si_signo == SIGTRAP &&
	       si.si_code == SI_KERNEL;
	if (t->stepping && (b = bp_at(p, t->step_addr)))
		step_done(p, b, &r);
	else if (t->pend != P_NONE)
		r.rip = t->pend_addr;      /* the original instruction runs, restored */
	else if (int3 && p->tramp && r.rip == p->tramp + 1 && t->depth)
		r.rip = t->stk[t->depth - 1].ret;   /* a return not handled yet */
	else if (int3 && bp_at(p, r.rip - 1))
		r.rip--;                   /* a hit not handled yet: the restored instruction */
	t->stepping = false;
	t->pend = P_NONE;
	ptrace(PTRACE_SETREGS, tid, 0, &r);
	if (t->held.si_signo)     /* held back: sent again, to come after the detach */
		tgkill(t->tgid, tid, t->held.si_signo);
	t->held.si_signo = 0;
}

void ubp_remove_all(struct ubp *u)
{
	if (!u)
		return;
	for (size_t i = 0; i < u->nproc; i++) {
		struct proc *p = &u->proc[i];

		for (size_t k = 0; k < p->nbp; k++)
			mem_io(p->tgid, &p->bp[k].orig, p->bp[k].addr, 1, true);
		for (size_t k = 0; k < p->nsema; k++) {
			uint16_t v;

			if (!mem_io(p->tgid, &v, p->sema[k].addr, 2, false) && v) {
				v--;
				mem_io(p->tgid, &v, p->sema[k].addr, 2, true);
			}
		}
		p->nsema = 0;
	}
	for (size_t i = 0; i < u->nthr; i++)   /* the real return addresses back on the stack */
		for (unsigned k = 0; k < u->thr[i].depth; k++)
			mem_io(u->thr[i].tgid, &u->thr[i].stk[k].ret, u->thr[i].stk[k].sp, 8, true);
}

void ubp_free(struct ubp *u)
{
	if (!u)
		return;
	while (u->nproc)
		proc_drop(u, &u->proc[0]);
	while (u->nthr)
		thr_drop(u, &u->thr[0]);
	free(u->proc);
	free(u->thr);
	free(u);
}
