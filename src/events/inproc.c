/*
 * inproc.c - uprobes in the calling process, for the in-process agent
 * (libbpfvm-agent.so, through bpfvm_trace__place_uprobes).  The targets
 * resolve as the supervisor's do (usym.c, on /proc/self/maps).  Each site
 * is then either
 *
 *   a jmp: the instructions under its first 5 bytes copied, relocated
 *   (x86_reloc.c), after an entry trampoline (inproc_tramp.c) in a page
 *   mmap'd within 2 GiB; the 5 bytes become jmp rel32 to it.  Only where
 *   that cannot change what runs: the function's size is known, no branch
 *   of it lands inside the 5 bytes and it has no indirect jmp (a jump
 *   table could), the bytes past a short function's end are padding, and
 *   this process has one thread (one stopped inside the bytes would
 *   resume in the middle of the jmp);
 *
 *   else an int3, with the instruction under it relocated alone to a
 *   slot (then a jmp back), where the SIGTRAP handler sends the thread
 *   after running the programs.
 *
 * Bytes are written by text_poke.c, through /proc/self/mem (the code stays r-x for the
 * threads running it) in text_poke_bp's order: int3, the tail, the first
 * byte, each step made visible to every CPU (membarrier SYNC_CORE); a
 * thread meeting the int3 meanwhile goes to the trampoline.  Removing
 * runs the same steps backwards.  Trampolines and slots are never
 * unmapped: a thread may still be in one, or return through one.
 *
 * Uretprobes: at the entry the return address on the stack becomes the
 * return trampoline, the real one kept on a shadow stack of the thread
 * (thread-local); at that trampoline the programs run with ax the return
 * value, ip the real return address, where the thread goes on.  Frames
 * a longjmp or an exception went past are found there by their stack
 * pointer, below the returning one's, and dropped (as the kernel's
 * return_instance chain); an unwinder finds the real return addresses
 * through the trampoline's unwind info (inproc_unwind.c).
 * A probe hit while the thread runs programs (a probed function they call)
 * runs none, as the kernel skips a recursing program.
 *
 * Libraries come and go: a site on the dynamic linker's r_brk rescans the
 * mappings each time it maps or unmaps objects (and the agent asks again
 * after the program's own mmap of code, inproc_unmapped after its munmap).
 * A library loaded later gets its probes from the moment it is mapped,
 * before its constructors; where other threads run, as int3s.  A site
 * whose file is no longer mapped there is forgotten, never written to,
 * and the detach writes only where a site's own bytes still are.
 */
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <ucontext.h>
#include <unistd.h>

#include "../util/hot.h"
#include "../util/log.h"
#include "../util/procfs.h"
#include "inproc.h"
#include "inproc_unwind.h"
#include "text_poke.h"
#include "uplace.h"
#include "usym.h"
#include "x86_reloc.h"

#define MAX_SITES 256
#define PAGE 4096
#define TRAMP_ROOM 1024      /* an entry trampoline with its relocated bytes */
#define JMP_LEN 5
#define MAX_DEPTH 64         /* the kernel's uretprobe nesting limit */
#define INT3 0xcc

struct ip_site {
	struct inproc *ip;
	uint64_t addr, func;
	uint64_t limit;          /* the end of the mapping it is in: no byte past it is read */
	uint64_t entry, ret;     /* probes at it, masks */
	int32_t spec;            /* USDT: its spec id, else -1 */
	dev_t dev;               /* the file mapped there and the site's offset in it: */
	ino_t ino;               /* another mapped there since, the site is forgotten */
	uint64_t file_off;
	bool loader;             /* the dynamic linker's r_brk: a rescan, no probe */
	bool jmp;
	unsigned plen;           /* bytes patched */
	uint8_t orig[16];
	uint64_t code;           /* jmp: the trampoline; int3: the relocated instruction */
};

struct inproc {
	const struct ev_uprobe *p;
	size_t np;
	struct bpfvm_log *log;
	inproc_run_fn run;
	void *ctx;
	struct ev_source self;
	struct inproc_cpu cpu;
	int32_t tgid;
	volatile int detached;
	uint64_t failed, placed;
	struct ip_site site[MAX_SITES];
	volatile size_t nsites;
	struct text_pool code;   /* trampolines and slots, 64 KiB at a time */
	uint64_t ret_tramp;
	bool loader;             /* r_brk's site placed, or found impossible (said) */
	void (*said)(void *ctx); /* the log grew outside a call of the caller's (a rescan) */
	void *said_ctx;
	int32_t scan_pid;        /* the process whose thread rescans (scan_lock) */
	struct uplace_specs specs;
	struct inproc_unwind *uw;     /* the trampoline's unwind info, or NULL */
};

struct ip_frame {
	uint64_t ret, sp, func, probes;   /* ret and sp where inproc_unwind.c reads them */
};
_Static_assert(offsetof(struct ip_frame, ret) == 0 && offsetof(struct ip_frame, sp) == 8,
	       "inproc_unwind.c's expression reads a frame's ret at 0, sp at 8");

/*
 * The calling thread's: its shadow stack, whether it is running programs,
 * its tid and process id (cached: gettid is a system call, in a filtered
 * process a slow one; a forked child's thread clears them, so its hits
 * say the child's ids from the first), the unwind info its shadow stack
 * is known to.  Thread-local by nature.
 */
static __thread struct {
	unsigned depth;
	int busy;
	uint64_t ids;   /* tgid << 32 | tid */
	struct inproc_unwind *uw;
	struct ip_frame f[MAX_DEPTH];
} me;

/* ---- this process's memory ---------------------------------------------- */

static int self_read(struct ev_source *src, int32_t tid, void *dst, uint64_t addr, uint64_t size)
{
	struct iovec local = { dst, size }, remote = { (void *)(uintptr_t)addr, size };

	(void)src, (void)tid;
	return process_vm_readv(getpid(), &local, 1, &remote, 1, 0) == (ssize_t)size ? 0 : -EFAULT;
}

static const struct ev_source_ops self_ops = {
	.name = "self", .in_process = true, .read_mem = self_read, .copy_user = self_read,
};

struct ev_source *inproc_source(struct inproc *ip)
{
	return &ip->self;
}

/* Code written where threads may run (text_poke.c): libc's system calls. */
static int poke(uint64_t addr, const void *buf, size_t len)
{
	return text_write(NULL, addr, buf, len);
}

/* len bytes of code space near addr (within 2 GiB when near): its address, or 0. */
static uint64_t code_room(struct inproc *ip, uint64_t addr, bool near, unsigned len)
{
	return text_alloc(&ip->code, &addr, near ? 1 : 0, len);
}

/* ---- events -------------------------------------------------------------- */

/* The thread's ids (tgid << 32 | tid), asked once. */
HOT static uint64_t my_ids(void)
{
	if (!me.ids)
		me.ids = (uint64_t)(uint32_t)syscall(SYS_getpid) << 32 | (uint32_t)syscall(SYS_gettid);
	return me.ids;
}

/* The programs of probes (mask) with regs (a struct pt_regs).  Inlined: one TLS look-up a hit. */
static inline __attribute__((always_inline)) void hit(struct inproc *ip, uint64_t probes, uint64_t func_ip, int32_t spec,
		const uint64_t *regs)
{
	struct inproc_hit h = { my_ids(), probes, func_ip, spec, spec >= 0 ? ip->specs.s[spec] : NULL,
				regs };

	ip->run(ip->ctx, &h);
}

enum { R_RIP = 16, R_RSP = 19 };   /* in struct pt_regs, by 8 bytes */

/* At a site (from its trampoline, or its int3's handler). */
HOT static void on_entry(struct ip_site *s, uint64_t *regs)
{
	struct inproc *ip = s->ip;
	uint64_t *sp = (uint64_t *)(uintptr_t)regs[R_RSP];

	if (ip->detached || me.busy)
		return;
	me.busy = 1;
	if (s->entry)
		hit(ip, s->entry, s->addr, s->spec, regs);
	/* frames at or below this call's stack pointer were left by a longjmp (the kernel's
	 * cleanup_return_instances): their functions can no longer return */
	while (s->ret && me.depth && me.f[me.depth - 1].sp <= (uint64_t)(uintptr_t)sp)
		me.depth--;
	if (s->ret && me.depth < MAX_DEPTH) {
		if (__builtin_expect(me.uw != ip->uw, 0)) {   /* the thread's first */
			me.uw = ip->uw;
			inproc_unwind_thread(ip->uw, &me.depth, me.f);
		}
		me.f[me.depth++] = (struct ip_frame){ *sp, (uint64_t)(uintptr_t)sp, s->func, s->ret };
		*sp = ip->ret_tramp;
	}
	me.busy = 0;
}

/* At the return trampoline: the real return address. */
HOT static uint64_t on_return(struct inproc *ip, uint64_t *regs)
{
	uint64_t sp = regs[R_RSP];
	struct ip_frame f;

	while (me.depth > 1 && me.f[me.depth - 1].sp + 8 < sp)
		me.depth--;    /* frames a longjmp (or an exception) went past */
	if (!me.depth)
		abort();       /* a return address bpfvm never wrote: nothing to go back to */
	f = me.f[--me.depth];
	regs[R_RIP] = f.ret;
	if (!ip->detached && !me.busy) {
		me.busy = 1;
		hit(ip, f.probes, f.func, -1, regs);
		me.busy = 0;
	}
	return f.ret;
}

static void forked_child(void)
{
	me.ids = 0;
	inproc_unwind_forked(me.uw, &me.depth);
}

static void on_loader(struct ip_site *s, uint64_t *regs);

bool inproc_trap(struct inproc *ip, void *ucv)
{
	ucontext_t *uc = ucv;
	greg_t *g = uc->uc_mcontext.gregs;
	uint64_t addr = (uint64_t)g[REG_RIP] - 1;
	static const int order[21] = { REG_R15, REG_R14, REG_R13, REG_R12, REG_RBP, REG_RBX,
		REG_R11, REG_R10, REG_R9, REG_R8, REG_RAX, REG_RCX, REG_RDX, REG_RSI, REG_RDI, -1,
		REG_RIP, -2, REG_EFL, REG_RSP, -3 };
	uint64_t regs[21];
	struct ip_site *s = NULL;

	for (size_t i = 0; ip && i < ip->nsites && !s; i++)
		if (ip->site[i].addr == addr)
			s = &ip->site[i];
	if (!s)
		return false;
	if (s->jmp) {          /* its jmp is being written or removed: the trampoline runs */
		g[REG_RIP] = (greg_t)s->code;
		return true;
	}
	for (int k = 0; k < 21; k++)
		regs[k] = order[k] >= 0 ? (uint64_t)g[order[k]] : order[k] == -1 ? (uint64_t)-1
			  : order[k] == -2 ? 0x33 : 0x2b;
	regs[R_RIP] = addr;
	(s->loader ? on_loader : on_entry)(s, regs);
	g[REG_RIP] = (greg_t)s->code;
	return true;
}

/* ---- placing -------------------------------------------------------------- */

struct inproc *inproc_new(const struct ev_uprobe *probes, size_t n, struct bpfvm_log *log,
			  inproc_run_fn run, void *ctx)
{
	struct inproc *ip;

	if (n > EV_MAX_UPROBES || !(ip = calloc(1, sizeof(*ip))))
		return NULL;
	ip->p = probes;
	ip->np = n;
	ip->log = log;
	ip->run = run;
	ip->ctx = ctx;
	ip->code.chunk = PAGE * 16;
	ip->self.ops = &self_ops;
	ip->tgid = getpid();
	ip->self.root = ip->tgid;
	inproc_cpu_state(&ip->cpu);
	return ip;
}

/*
 * Sites are never moved (a trampoline holds its site's address): a
 * forgotten one (addr 0) leaves its slot to the next.  A slot past the
 * last counts once its int3 may be met.
 */
static struct ip_site *free_slot(struct inproc *ip)
{
	for (size_t k = 0; k < ip->nsites; k++)
		if (!ip->site[k].addr)
			return &ip->site[k];
	return ip->nsites < MAX_SITES ? &ip->site[ip->nsites] : NULL;
}

static void publish(struct inproc *ip, struct ip_site *s)
{
	if (s == &ip->site[ip->nsites])
		ip->nsites++;
}

static void unpublish(struct inproc *ip, struct ip_site *s)
{
	if (s == &ip->site[ip->nsites - 1])
		ip->nsites--;
}

/* Why s cannot take a jmp (its function fsize bytes at func), or NULL with s->plen. */
static const char *jmp_refused(const struct ip_site *s, uint64_t fsize, bool one_thread,
			       unsigned *plen)
{
	const uint8_t *code = (const uint8_t *)(uintptr_t)s->addr;
	uint64_t end, fend = s->func + fsize;
	unsigned len = 0;

	if (!one_thread)
		return "other threads run";
	if (s->addr != s->func)     /* the trampoline keeps flags as a call leaves them (DF clear) */
		return "it is not a function's entry";
	if (!fsize)
		return "its function's size is unknown";
	if (fend + 32 > s->limit || s->addr + 32 > s->limit)
		return "it is too near the end of its mapping";
	/* the function's instructions under the jmp; what follows its end is never run */
	while (len < JMP_LEN && s->addr + len < fend) {
		struct x86_insn x;
		const char *why = x86_analyze(code + len, 16, s->addr + len, &x);

		if (why)
			return why;
		len += x.len;
	}
	end = s->addr + (len < JMP_LEN ? JMP_LEN : len);
	if (end > fend && (end > ((fend + 15) & ~15ull) ||
			   !x86_is_padding((const uint8_t *)(uintptr_t)fend, end - fend)))
		return "its function is too short";
	if (x86_branch_into((const uint8_t *)(uintptr_t)s->func, s->func, fsize, s->addr, end))
		return "a branch may land inside the bytes a jmp would take";
	*plen = len;
	return NULL;
}

/* s as a jmp to a trampoline: 0, or why not (nothing written then). */
static const char *place_jmp(struct inproc *ip, struct ip_site *s, uint64_t fsize, bool one_thread)
{
	uint8_t code[TRAMP_ROOM], jmp[JMP_LEN] = { 0xe9 };
	const char *why;
	unsigned plen;
	size_t n, k;
	uint64_t at;
	int32_t rel;

	if ((why = jmp_refused(s, fsize, one_thread, &plen)))
		return why;
	if (!(at = code_room(ip, s->addr, true, TRAMP_ROOM)))
		return "no code space within 2 GiB";
	n = inproc_tramp_entry(code, sizeof(code), &ip->cpu, s->addr,
			       (uint64_t)(uintptr_t)(s->loader ? on_loader : on_entry), (uint64_t)(uintptr_t)s);
	if (!n || (why = x86_relocate((const uint8_t *)(uintptr_t)s->addr, plen, s->addr, at + n,
				      code + n, sizeof(code) - n, &k)))
		return why ? why : "the trampoline does not fit";
	if (poke(at, code, n + k))
		return "cannot write the trampoline";
	s->plen = plen < JMP_LEN ? JMP_LEN : plen;   /* a short function's padding too */
	s->code = at;
	s->jmp = true;
	rel = (int32_t)(at - (s->addr + JMP_LEN));
	memcpy(jmp + 1, &rel, 4);
	publish(ip, s);     /* the SIGTRAP handler knows it before its int3 is there */
	if (text_replace(NULL, s->addr, jmp, JMP_LEN)) {
		unpublish(ip, s);
		return "cannot write the code";
	}
	return NULL;
}

/* s as an int3, its instruction relocated alone to a slot: 0, or why not. */
static const char *place_int3(struct inproc *ip, struct ip_site *s)
{
	uint8_t code[64], int3 = INT3;
	struct x86_insn x;
	const char *why = x86_analyze(s->orig, sizeof(s->orig), s->addr, &x);
	uint64_t at;
	size_t k;

	if (why)
		return why;
	if (!(at = code_room(ip, s->addr, true, sizeof(code))))
		return "no code space within 2 GiB";
	if ((why = x86_relocate(s->orig, x.len, s->addr, at, code, sizeof(code), &k)))
		return why;
	if (poke(at, code, k))
		return "cannot write the relocated instruction";
	s->code = at;
	s->plen = 1;
	publish(ip, s);
	if (poke(s->addr, &int3, 1)) {
		unpublish(ip, s);
		return "cannot write the breakpoint";
	}
	return NULL;
}

/* Put s's bytes back, if they are still its own (not a file mapped there since).  Async-signal-safe. */
static void unpatch(const struct ip_site *s)
{
	uint8_t now[JMP_LEN];
	int32_t rel = (int32_t)(s->code - (s->addr + JMP_LEN));

	if (!s->plen || self_read(NULL, 0, now, s->addr, s->plen > 1 ? JMP_LEN : 1) ||
	    !(now[0] == INT3 || (s->plen > 1 && now[0] == 0xe9 && !memcmp(now + 1, &rel, 4))))
		return;
	text_replace(NULL, s->addr, s->orig, s->plen);   /* backwards: int3, the tail, the first byte */
}

/* Probe i at addr, in mapping m: false when refused (said why). */
static bool add_site(struct inproc *ip, size_t i, uint64_t addr, const struct usym_map *m,
		     const struct usym_site *u, uint64_t func, bool one_thread)
{
	struct ip_site *s = NULL;
	const char *why;

	for (size_t k = 0; k < ip->nsites && !s; k++)
		if (ip->site[k].addr == addr)
			s = &ip->site[k];
	if (!s) {
		if (!(s = free_slot(ip))) {
			uplace_say(ip->log, ip->p, i, &ip->failed,
				   "more than %d probed addresses", MAX_SITES);
			return false;
		}
		memset(s, 0, sizeof(*s));
		*s = (struct ip_site){ .ip = ip, .addr = addr, .func = func, .limit = m->end, .spec = -1,
				       .dev = m->dev, .ino = m->ino,
				       .file_off = m->file_off + (addr - m->start) };
		memcpy(s->orig, (const void *)(uintptr_t)addr,
		       m->end - addr < sizeof(s->orig) ? m->end - addr : sizeof(s->orig));
		if (s->orig[0] == INT3) {
			uplace_say(ip->log, ip->p, i, &ip->failed,
				   "0x%llx already holds an int3", (unsigned long long)addr);
			goto refused;
		}
		if (ip->p[i].target.kind == USYM_USDT)
			s->spec = uplace_spec_id(&ip->specs, u->args);
		if (place_jmp(ip, s, addr == func ? u->func_size : 0, one_thread) &&
		    (why = place_int3(ip, s))) {
			uplace_say(ip->log, ip->p, i, &ip->failed,
				   "the instruction at 0x%llx cannot run elsewhere: %s",
				   (unsigned long long)addr, why);
			goto refused;
		}
		if (ip->detached)     /* the detach came meanwhile and missed it */
			unpatch(s);
	}
	if (ip->p[i].target.ret)
		s->ret |= 1ull << i;
	else
		s->entry |= 1ull << i;
	return true;
refused:
	__atomic_store_n(&s->addr, 0, __ATOMIC_RELEASE);
	return false;
}

/* The mapping holding addr, or NULL. */
static const struct usym_map *map_of(const struct usym_map *maps, size_t n, uint64_t addr)
{
	for (size_t i = 0; i < n; i++)
		if (addr >= maps[i].start && addr < maps[i].end)
			return &maps[i];
	return NULL;
}

static void place_probe(struct inproc *ip, size_t i, const struct usym_map *maps, size_t nmaps,
			bool one_thread)
{
	const struct usym_target *t = &ip->p[i].target;
	char full[PATH_MAX], why[PATH_MAX + 256];
	struct usym_site *sites;
	size_t n, placed = 0;

	if (usym_binary(t, maps, nmaps, full, sizeof(full)))
		return;
	if (usym_resolve(t, full, &sites, &n, why, sizeof(why))) {
		uplace_say(ip->log, ip->p, i, &ip->failed, "%s", why);
		return;
	}
	for (size_t k = 0; k < n; k++) {
		uint64_t addr = usym_addr(maps, nmaps, full, sites[k].file_off, true);
		uint64_t rel = sites[k].file_off - sites[k].func_off, sema;
		const struct usym_map *m = map_of(maps, nmaps, addr);

		if (!addr || !m)
			continue;
		placed++;
		if (rel && !t->raw && rel <= PAGE && addr + 16 <= m->end &&
		    x86_boundary((const uint8_t *)(uintptr_t)(addr - rel), rel) == 0) {
			uplace_say(ip->log, ip->p, i, &ip->failed,
				   "offset +0x%llx of %s in %s is not at an instruction boundary",
				   (unsigned long long)rel, t->func, full);
			break;
		}
		if (add_site(ip, i, addr, m, &sites[k], t->raw ? addr : addr - rel, one_thread) &&
		    sites[k].sema_off &&
		    (sema = usym_addr(maps, nmaps, full, sites[k].sema_off, false)))
			__atomic_add_fetch((uint16_t *)(uintptr_t)sema, 1, __ATOMIC_RELAXED);
	}
	free(sites);
	if (placed)
		ip->placed |= 1ull << i;
}

/*
 * Forget the sites gone(s, arg) says are no longer what was patched (a
 * dlclose, a munmap or an mmap over them): nothing is written there, it
 * is some other file's now, or nothing.  A probe left with no site is
 * placed again when its file comes back (dlopen again), as the kernel's
 * uprobes, which belong to the file, fire in every new mapping of it.
 */
static void forget(struct inproc *ip, bool (*gone)(const struct ip_site *s, const void *arg),
		   const void *arg)
{
	uint64_t left = 0;

	for (size_t i = 0; i < ip->nsites; i++) {
		struct ip_site *s = &ip->site[i];

		if (s->addr && !s->loader && gone(s, arg))
			__atomic_store_n(&s->addr, 0, __ATOMIC_RELEASE);
		if (s->addr)
			left |= s->entry | s->ret;
	}
	__atomic_and_fetch(&ip->placed, left, __ATOMIC_RELAXED);
}

struct map_list {
	const struct usym_map *v;
	size_t n;
};

/* Not the same file at the same offset any more (or not executable). */
static bool remapped(const struct ip_site *s, const void *arg)
{
	const struct map_list *l = arg;
	const struct usym_map *m = map_of(l->v, l->n, s->addr);

	return !m || !m->exec || m->dev != s->dev || m->ino != s->ino ||
	       m->file_off + (s->addr - m->start) != s->file_off;
}

static bool in_range(const struct ip_site *s, const void *arg)
{
	const uint64_t *r = arg;

	return s->addr - r[0] < r[1];
}

void inproc_unmapped(struct inproc *ip, uint64_t addr, uint64_t len)
{
	const uint64_t r[2] = { addr, len };

	if (ip && !ip->detached)
		forget(ip, in_range, r);
}

/*
 * The dynamic linker calls its r_brk (_dl_debug_state), as debuggers
 * know, before and after it maps or unmaps objects: dlopen, dlclose, its
 * own loads (NSS modules, libgcc_s).  A site there rescans, so a library
 * loaded later is probed from the moment it is mapped (before its
 * constructors run, as in the kernel) and one unloaded is forgotten.
 * Found by its symbol for its size (a jmp where it fits), else an int3.
 */
static void place_loader(struct inproc *ip, const struct usym_map *maps, size_t n, bool one_thread)
{
	uint64_t addr = (uint64_t)_r_debug.r_brk, fsize = 0;
	const struct usym_map *m = addr ? map_of(maps, n, addr) : NULL;
	struct usym_target t = { .kind = USYM_UPROBE };
	struct usym_site *sites;
	struct ip_site *s;
	char why[PATH_MAX + 256];
	size_t ns;

	ip->loader = true;
	if (!m || !(s = free_slot(ip))) {
		log_printf(ip->log, "uprobes: the dynamic linker's r_brk is not found: libraries "
				    "loaded later are not probed\n");
		return;
	}
	snprintf(t.binary, sizeof(t.binary), "%s", m->path);
	snprintf(t.func, sizeof(t.func), "_dl_debug_state");
	if (!usym_resolve(&t, m->path, &sites, &ns, why, sizeof(why))) {
		if (ns == 1 && usym_addr(maps, n, m->path, sites[0].file_off, true) == addr)
			fsize = sites[0].func_size;
		free(sites);
	}
	memset(s, 0, sizeof(*s));
	*s = (struct ip_site){ .ip = ip, .addr = addr, .func = addr, .limit = m->end, .spec = -1,
			       .loader = true };
	memcpy(s->orig, (const void *)(uintptr_t)addr,
	       m->end - addr < sizeof(s->orig) ? m->end - addr : sizeof(s->orig));
	if (s->orig[0] == INT3 || (place_jmp(ip, s, fsize, one_thread) && place_int3(ip, s))) {
		log_printf(ip->log, "uprobes: the dynamic linker's r_brk at 0x%llx cannot be "
				    "probed: libraries loaded later are not probed\n",
			   (unsigned long long)addr);
		__atomic_store_n(&s->addr, 0, __ATOMIC_RELEASE);
	}
}

/*
 * Rescans one at a time: r_brk's hold the loader's lock, the agent's
 * after an mmap do not.  The word names the process whose thread
 * rescans: a forked child finds its parent's there, of a thread it does
 * not have, and takes it.
 */
static void scan_lock(struct inproc *ip, int32_t pid)
{
	for (;;) {
		int32_t cur = 0;

		if (__atomic_compare_exchange_n(&ip->scan_pid, &cur, pid, false, __ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED) ||
		    (cur != pid && __atomic_compare_exchange_n(&ip->scan_pid, &cur, pid, false,
							       __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)))
			return;
		sched_yield();
	}
}

/* Forget what is no longer mapped, place what is not placed: how many sites, or -errno. */
static int rescan(struct inproc *ip)
{
	struct usym_map *maps = NULL;
	size_t nmaps, live = 0;
	int32_t pid = getpid();
	int busy = me.busy, err;
	bool one_thread;

	scan_lock(ip, pid);
	me.busy = 1;     /* the probed functions it calls (malloc) are not the program's */
	ip->tgid = pid;  /* a forked child's own */
	ip->self.root = pid;
	one_thread = util_proc_status(pid, "Threads:", 10) == 1;
	if ((err = usym_maps(pid, &maps, &nmaps)) || ip->detached)
		goto out;
	forget(ip, remapped, &(struct map_list){ maps, nmaps });
	if (!ip->loader)
		place_loader(ip, maps, nmaps, one_thread);
	for (size_t i = 0; i < ip->np; i++)
		if (!((ip->placed | ip->failed) >> i & 1))
			place_probe(ip, i, maps, nmaps, one_thread);
	for (size_t i = 0; i < ip->nsites; i++)
		live += ip->site[i].addr != 0;
out:
	free(maps);
	me.busy = busy;
	__atomic_store_n(&ip->scan_pid, 0, __ATOMIC_RELEASE);
	return err ? err : (int)live;
}

/*
 * At r_brk, on the thread loading or unloading, the loader's lock held
 * (rescans never run at once).  From the int3's SIGTRAP handler where a
 * jmp could not be placed: the thread is in _dl_debug_state, in none of
 * the locks the rescan's calls take (malloc's, stdio's).
 */
static void on_loader(struct ip_site *s, uint64_t *regs)
{
	struct inproc *ip = s->ip;
	size_t len = ip->log ? ip->log->len : 0;

	(void)regs;
	if (ip->detached)
		return;
	rescan(ip);
	if (ip->said && ip->log && ip->log->len != len)
		ip->said(ip->said_ctx);
}

void inproc_on_log(struct inproc *ip, void (*said)(void *ctx), void *ctx)
{
	ip->said = said;
	ip->said_ctx = ctx;
}

int inproc_place(struct inproc *ip)
{
	uint8_t code[1024];
	size_t n;

	if (!ip->ret_tramp) {
		n = inproc_tramp_return(code, sizeof(code), &ip->cpu, (uint64_t)(uintptr_t)on_return,
					(uint64_t)(uintptr_t)ip);
		if (!n || !(ip->ret_tramp = code_room(ip, 0, false, (unsigned)n)) ||
		    poke(ip->ret_tramp, code, n))
			return -ENOMEM;
		text_sync_register(NULL);
		pthread_atfork(NULL, NULL, forked_child);
		ip->uw = inproc_unwind_new(ip->ret_tramp, sizeof(struct ip_frame));
	}
	inproc_unwind_register(ip->uw);
	return rescan(ip);
}

void inproc_remove(struct inproc *ip)
{
	if (!ip || ip->detached)
		return;
	ip->detached = 1;
	for (size_t i = 0; i < ip->nsites; i++)
		if (ip->site[i].addr)
			unpatch(&ip->site[i]);
}

void inproc_free(struct inproc *ip)
{
	if (!ip)
		return;
	inproc_remove(ip);
	if (!ip->code.n)
		free(ip);     /* else a thread may yet return through its code: kept */
}
