/*
 * syscall_site.c - the agent's fast path for attached system calls
 * (<bpfvm/syscall_sites.h>).  A trap (seccomp's SIGSYS) costs a signal's
 * delivery and return, some microseconds; the kernel runs a tracepoint
 * program for a fraction of that.  So at the first trap from a `syscall`
 * instruction the site is rewritten to jump, without a signal, to a
 * trampoline near it, either
 *
 *   site:  syscall            ->  jmp pad        (2 bytes)
 *   pad:   nop padding        ->  jmp trampoline (5 bytes, never executed before)
 *
 * where the pad is alignment padding after an unconditional ret/jmp
 * within a short jump after the site (x86_pad_after: glibc's wrappers,
 * `mov $NR,%eax; syscall; ret; padding`, and its syscall() qualify), or
 *
 *   site - 5:  mov $NR,%eax   ->  jmp trampoline (5 bytes; the trampoline makes the mov)
 *
 * for an inline `mov $NR,%eax; syscall`.  No instruction is moved but
 * that mov, so none needs relocating: registers at the trampoline are
 * those of the syscall instruction.  The bytes are written by text_poke.c
 * (int3 first, the tail, the first byte, every CPU synchronised between)
 * while other threads run: a thread meeting the int3 is sent to the
 * trampoline by bpfvm_syscall_sites__trap; one blocked in the call returns
 * after the site, which is unchanged or a jmp of the same length.
 *
 * The trampoline (one slot a site, in a page within 2 GiB) makes calls the
 * filter does not trap with its own syscall instruction (clone, vfork,
 * rt_sigreturn behave as at the site: nothing of the agent's is on any
 * stack) and hands trapped ones to sysite_entry, which calls enter, makes
 * the call through the gadget and calls exit.  A signal
 * arriving meanwhile runs on the stack below, and may make the attached
 * call itself (it nests, as in the SIGSYS handler).
 *
 * A site that does not qualify (no padding near and no mov before, a page
 * that is not a file's r-x code, a syscall instruction split by a cache
 * line) keeps the SIGSYS path.  Everything here runs in a signal handler:
 * system calls go through opts.call (never trapped), memory comes from
 * mmap, no locks are waited for.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>

#include <bpfvm/syscall_sites.h>

#include "../util/hot.h"
#include "../util/opts.h"
#include "inproc.h"
#include "text_poke.h"
#include "x86_reloc.h"

#define PAGE 4096ul
#define SLOT 128
#define MAX_SITES (TEXT_POOL_CHUNKS * (PAGE / SLOT))
#define SCAN 127                /* a jmp rel8's reach */
#define MAX_FAILED 256

struct bpfvm_syscall_sites {
	/* read by sysite_entry at these offsets: keep them first */
	uint64_t vsize, vsave, vrestore;   /* the vector registers' area and its two functions */
	uint64_t gadget;                   /* the caller's allowed `syscall; jmp *%rbx` */
	struct bpfvm_syscall_sites_opts o;
	text_call_fn call;
	struct text_pool code;   /* the trampolines, a page at a time */
	struct {
		uintptr_t at, slot;     /* the first byte written (where an int3 goes) and its trampoline */
	} site[MAX_SITES];
	unsigned nsites, patched;
	uintptr_t failed[MAX_FAILED];   /* sites found unpatchable: not looked at again */
	unsigned nfailed;
	int32_t busy;   /* the thread patching now (its tid), or 0 */
};

__attribute__((visibility("hidden"))) int sysite_enter(struct bpfvm_syscall_sites *s, long nr,
						       long *args, long *ret);
__attribute__((visibility("hidden"))) long sysite_exit(struct bpfvm_syscall_sites *s, long nr,
						       long *args, long ret);

/*
 * Entered from a trampoline: the red zone skipped, the flags and then the
 * return address (after the site) pushed, r11 the sites' object, rax the
 * call's number, the arguments in rdi, rsi, rdx, r10, r8, r9.  What must
 * survive is what a syscall instruction keeps: every register but rax
 * (the result), rcx and r11, the flags, and all vector state, since the
 * code around a site may keep values anywhere across it (an inline
 * syscall clobbers only rcx, r11 and memory).  The C code called clobbers
 * by its ABI the caller-saved registers: rdi, rsi, rdx, r8-r10 (saved
 * here; rbx, rbp, r12-r15 it keeps itself), the flags (saved by the
 * trampoline before its own compares; DF is cleared for the C code), and
 * every vector register (libc's string functions use zmm16-31 and
 * vzeroupper): saved by plain moves (inproc_tramp.c's functions, the
 * uprobes' own: XSAVEC + XRSTOR of the AVX-512 state cost some 200 ns a
 * call here, the moves a few).  Not saved: the x87 stack, MXCSR and the
 * x87 control word (the ABI has the callee keep the control words, and
 * neither libbpfvm nor the agent executes an x87 instruction).
 *
 * The call itself is made here, between the two C calls, through the
 * caller's gadget (its seccomp filter lets only its own page's calls
 * through), returning by rbx: no frame made before the call returns after
 * it.  A kernel that refills the return-stack predictor at each return
 * to user space (as this VM's does) makes every such `ret` mispredict,
 * some 20 ns each: making the call from inside the C code cost four of
 * them, 80 ns a call.  The frame: rbp, then the result, the number, the
 * six arguments (args[] for the C code), the object, rbx; below, the
 * vector area, 64-byte aligned.
 */
__asm__(HOT_TEXT ".globl sysite_entry\n.hidden sysite_entry\n.type sysite_entry,@function\n"
	"sysite_entry:\n"
	"push %rbp\n mov %rsp, %rbp\n sub $80, %rsp\n"
	"mov %r11, -72(%rbp)\n mov %rbx, -80(%rbp)\n"
	"mov %rdi, -64(%rbp)\n mov %rsi, -56(%rbp)\n mov %rdx, -48(%rbp)\n"
	"mov %r10, -40(%rbp)\n mov %r8, -32(%rbp)\n mov %r9, -24(%rbp)\n"
	"mov %rax, -16(%rbp)\n cld\n"
	"sub (%r11), %rsp\n and $-64, %rsp\n mov %rsp, %rdi\n call *8(%r11)\n"
	"mov -72(%rbp), %rdi\n mov -16(%rbp), %rsi\n lea -64(%rbp), %rdx\n lea -8(%rbp), %rcx\n"
	"call sysite_enter\n test %eax, %eax\n jnz 2f\n"
	"mov -64(%rbp), %rdi\n mov -56(%rbp), %rsi\n mov -48(%rbp), %rdx\n"
	"mov -40(%rbp), %r10\n mov -32(%rbp), %r8\n mov -24(%rbp), %r9\n mov -16(%rbp), %rax\n"
	"mov -72(%rbp), %r11\n lea 1f(%rip), %rbx\n jmp *24(%r11)\n"
	"1: mov -72(%rbp), %rdi\n mov -16(%rbp), %rsi\n lea -64(%rbp), %rdx\n mov %rax, %rcx\n"
	"call sysite_exit\n mov %rax, -8(%rbp)\n"
	"2: mov -72(%rbp), %r11\n mov %rsp, %rdi\n call *16(%r11)\n"
	"mov -64(%rbp), %rdi\n mov -56(%rbp), %rsi\n mov -48(%rbp), %rdx\n"
	"mov -40(%rbp), %r10\n mov -32(%rbp), %r8\n mov -24(%rbp), %r9\n mov -80(%rbp), %rbx\n"
	"mov -8(%rbp), %rax\n mov %rbp, %rsp\n pop %rbp\n pop %r11\n popfq\n"
	"lea 128(%rsp), %rsp\n jmp *%r11\n"
	".size sysite_entry, .-sysite_entry\n" HOT_TEXT_END);
extern char sysite_entry[];

HOT int sysite_enter(struct bpfvm_syscall_sites *s, long nr, long *args, long *ret)
{
	return s->o.enter(s->o.ctx, nr, args, ret);
}

HOT long sysite_exit(struct bpfvm_syscall_sites *s, long nr, long *args, long ret)
{
	return s->o.exit(s->o.ctx, nr, args, ret);
}

static const uint8_t syscall_jmp_rbx[] = { 0x0f, 0x05, 0xff, 0xe3 };

/* What follows glibc's syscall(): cmp $-4095,%rax; jae (error); ret; nop padding. */
static const uint8_t glibc_wrapper_tail[] = { 0x48, 0x3d, 0x01, 0xf0, 0xff, 0xff, 0x73, 0x01, 0xc3,
					      0x0f, 0x1f, 0x44, 0x00, 0x00 };

struct bpfvm_syscall_sites *bpfvm_syscall_sites__new(const struct bpfvm_syscall_sites_opts *opts)
{
	struct bpfvm_syscall_sites *s;
	struct inproc_cpu cpu;

	if (!OPTS_VALID(opts, bpfvm_syscall_sites_opts, NULL) || !OPTS_GET(opts, trap, NULL) ||
	    !OPTS_GET(opts, call, NULL) || !OPTS_GET(opts, enter, NULL) || !OPTS_GET(opts, exit, NULL) ||
	    OPTS_GET(opts, nr_max, 0) <= 0 || !OPTS_GET(opts, gadget, NULL) ||
	    memcmp(opts->gadget, syscall_jmp_rbx, sizeof(syscall_jmp_rbx))) {
		errno = EINVAL;
		return NULL;
	}
	if (!(s = calloc(1, sizeof(*s))))
		return NULL;
	memcpy(&s->o, opts, opts->sz < sizeof(s->o) ? opts->sz : sizeof(s->o));
	s->call = s->o.call;
	s->gadget = (uintptr_t)s->o.gadget;
	s->code = (struct text_pool){ .call = s->call, .chunk = PAGE };
	inproc_cpu_state(&cpu);
	s->vsize = cpu.size + 64;
	s->vsave = cpu.save;
	s->vrestore = cpu.restore;
	text_sync_register(s->call);
	/*
	 * The decoder's code and tables paged in now, at the agent's start,
	 * rather than at the first trap, where their page faults cost some
	 * 140-220 us here (the search warm: 8).
	 */
	x86_pad_after(glibc_wrapper_tail, 0x1005, sizeof(glibc_wrapper_tail), SCAN, 5);
	return s;
}

unsigned bpfvm_syscall_sites__patched(const struct bpfvm_syscall_sites *s)
{
	return s ? __atomic_load_n(&s->patched, __ATOMIC_RELAXED) : 0;
}

bool bpfvm_syscall_sites__trap(struct bpfvm_syscall_sites *s, void *ucontext)
{
	greg_t *g = ((ucontext_t *)ucontext)->uc_mcontext.gregs;
	uintptr_t at = (uintptr_t)g[REG_RIP] - 1;
	unsigned n = s ? __atomic_load_n(&s->nsites, __ATOMIC_ACQUIRE) : 0;

	for (unsigned i = 0; i < n; i++)
		if (s->site[i].at == at) {
			g[REG_RIP] = (greg_t)s->site[i].slot;
			return true;
		}
	return false;
}

/* ---- where the site is --------------------------------------------------- */

struct mapping {
	uintptr_t start, end;
	bool code;    /* r-xp and a file's */
};

static bool parse_line(const char *l, uintptr_t addr, struct mapping *m)
{
	char *e;
	uintptr_t start = strtoul(l, &e, 16), end;

	if (*e != '-')
		return false;
	end = strtoul(e + 1, &e, 16);
	if (addr < start || addr >= end)
		return false;
	m->start = start;
	m->end = end;
	m->code = !strncmp(e, " r-xp ", 6) && strchr(e, '/') != NULL;
	return true;
}

/*
 * Linux 6.11's PROCMAP_QUERY ioctl of /proc/PID/maps (uapi linux/fs.h,
 * which Debian's headers may predate): one mapping by address.
 */
struct procmap_query {
	uint64_t size, query_flags, query_addr, vma_start, vma_end, vma_flags, vma_page_size,
		 vma_offset, inode;
	uint32_t dev_major, dev_minor, vma_name_size, build_id_size;
	uint64_t vma_name_addr, build_id_addr;
};
#define PROCMAP_QUERY_CMD _IOWR('f', 17, struct procmap_query)
#define PROCMAP_R 0x01
#define PROCMAP_W 0x02
#define PROCMAP_X 0x04
#define PROCMAP_SHARED 0x08

/* By the ioctl (one call, where reading the text took some 100 us here): 1 found, 0 not, -1 no ioctl. */
static int mapping_by_query(struct bpfvm_syscall_sites *s, long fd, uintptr_t addr, struct mapping *m)
{
	struct procmap_query q = { .size = sizeof(q), .query_addr = addr };
	long err = s->call(SYS_ioctl, fd, (long)PROCMAP_QUERY_CMD, (long)&q, 0, 0, 0);

	if (err == -ENOENT)
		return 0;
	if (err)
		return -1;
	m->start = q.vma_start;
	m->end = q.vma_end;
	m->code = (q.vma_flags & (PROCMAP_R | PROCMAP_W | PROCMAP_X | PROCMAP_SHARED)) ==
			  (PROCMAP_R | PROCMAP_X) && q.inode != 0;
	return 1;
}

/* The mapping of /proc/self/maps holding addr: true when found. */
static bool mapping_of(struct bpfvm_syscall_sites *s, uintptr_t addr, struct mapping *m)
{
	char buf[4096 + 512];
	size_t have = 0;
	long fd = s->call(SYS_openat, AT_FDCWD, (long)"/proc/self/maps", O_RDONLY | O_CLOEXEC, 0, 0, 0);
	int by_query;
	bool found = false;

	if (fd < 0)
		return false;
	if ((by_query = mapping_by_query(s, fd, addr, m)) >= 0) {
		s->call(SYS_close, fd, 0, 0, 0, 0, 0);
		return by_query;
	}
	for (int rounds = 0; rounds < 4096 && !found; rounds++) {
		long n = s->call(SYS_read, fd, (long)(buf + have), (long)(sizeof(buf) - 1 - have), 0, 0, 0);
		char *line = buf, *nl;

		if (n <= 0)
			break;
		have += (size_t)n;
		buf[have] = '\0';
		while (!found && (nl = strchr(line, '\n'))) {
			*nl = '\0';
			found = parse_line(line, addr, m);
			line = nl + 1;
		}
		have -= (size_t)(line - buf);
		memmove(buf, line, have);
		if (have == sizeof(buf) - 1)
			have = 0;    /* a line longer than the buffer: its path is of no use */
	}
	s->call(SYS_close, fd, 0, 0, 0, 0, 0);
	return found;
}

/* ---- where the jump goes --------------------------------------------------- */

static void put32(uint8_t *p, int64_t v)
{
	int32_t x = (int32_t)v;

	memcpy(p, &x, 4);
}

/*
 * The trampoline of the site at site (see the file's comment) into slot
 * at, after pre (the moved `mov $NR,%eax` of an inline site, or nothing).
 */
static void fill_slot(struct bpfvm_syscall_sites *s, uint8_t *slot, uintptr_t at, uintptr_t site,
		      const uint8_t *pre, unsigned npre)
{
	static const uint8_t tmpl[88] = {
		0x48, 0x8d, 0x64, 0x24, 0x80,           /*  0: lea -128(%rsp),%rsp (the red zone) */
		0x9c,                                   /*  5: pushfq (the compares change them) */
		0x48, 0x3d, 0, 0, 0, 0,                 /*  6: cmp $nr_max,%rax */
		0x73, 59 - 14,                          /* 12: jae inline */
		0x49, 0xbb, 0, 0, 0, 0, 0, 0, 0, 0,     /* 14: movabs $trap,%r11 */
		0x41, 0x80, 0x3c, 0x03, 0x00,           /* 24: cmpb $0,(%r11,%rax) */
		0x74, 59 - 31,                          /* 29: je inline */
		0x49, 0xbb, 0, 0, 0, 0, 0, 0, 0, 0,     /* 31: movabs $site+2,%r11 */
		0x41, 0x53,                             /* 41: push %r11 */
		0x49, 0xbb, 0, 0, 0, 0, 0, 0, 0, 0,     /* 43: movabs $sites,%r11 */
		0xff, 0x25, 80 - 59, 0, 0, 0,           /* 53: jmp *entry(%rip) */
		0x9d,                                   /* 59: inline: popfq */
		0x48, 0x8d, 0xa4, 0x24, 0x80, 0, 0, 0,  /* 60: lea 128(%rsp),%rsp */
		0x0f, 0x05,                             /* 68: syscall */
		0xe9, 0, 0, 0, 0,                       /* 70: jmp site+2 */
		0xcc, 0xcc, 0xcc, 0xcc, 0xcc,
		0, 0, 0, 0, 0, 0, 0, 0,                 /* 80: entry */
	};
	uint64_t trap = (uintptr_t)s->o.trap, ret = site + 2, self = (uintptr_t)s,
		 entry = (uintptr_t)sysite_entry;
	uint8_t *code = slot + npre;

	memset(slot, 0xcc, SLOT);
	if (npre)
		memcpy(slot, pre, npre);
	memcpy(code, tmpl, sizeof(tmpl));
	put32(code + 8, s->o.nr_max);
	memcpy(code + 16, &trap, 8);
	memcpy(code + 33, &ret, 8);
	memcpy(code + 45, &self, 8);
	put32(code + 71, (int64_t)(ret - (at + npre + 75)));
	memcpy(code + 80, &entry, 8);
}

/* A trampoline for site written near pad (after pre): its address, or 0. */
static uintptr_t trampoline(struct bpfvm_syscall_sites *s, uintptr_t site, uintptr_t pad,
			    const uint8_t *pre, unsigned npre)
{
	const uint64_t near[2] = { pad, site };
	uint8_t code[SLOT];
	uintptr_t at = (uintptr_t)text_alloc(&s->code, near, 2, SLOT);

	if (!at)
		return 0;
	fill_slot(s, code, at, site, pre, npre);
	/* as all code: the page stays r-x for the other slots' threads */
	return text_write(s->call, at, code, SLOT) ? 0 : at;
}

/* ---- the patch ----------------------------------------------------------------- */

/*
 * Is the instruction before the syscall at site a `mov $NR,%eax` (b8 and
 * 4 bytes, NR a system call's number)?  Decoded from each of the 24 bytes
 * before it (x86 code falls into step with its real instructions within a
 * few): the decodings that reach site must pass site - 5 more than twice
 * as often as not, so that the 5 bytes are that one instruction and not
 * the end of a longer one.
 */
static bool mov_before(struct bpfvm_syscall_sites *s, uintptr_t site, uintptr_t start)
{
	const uint8_t *b = (const uint8_t *)site - 5;
	uint32_t nr;
	unsigned through = 0, around = 0;

	if (site < start + 24 || b[0] != 0xb8 || (memcpy(&nr, b + 1, 4), nr >= (uint32_t)s->o.nr_max))
		return false;
	for (uintptr_t from = site - 24; from < site - 5; from++) {
		uintptr_t at = from;
		bool via = false;
		unsigned len;

		while (at < site && (len = x86_insn_len((const uint8_t *)at, site + 2 - at))) {
			via |= at == site - 5;
			at += len;
		}
		through += at == site && via;
		around += at == site && !via;
	}
	return through > 2 * around;
}

/*
 * The bytes at at become code (len of them), the site known to the SIGTRAP
 * handler before its int3 is there (its trampoline at slot).  A handler of
 * this thread's own that meets the int3 is sent on like any thread.
 */
static bool rewrite(struct bpfvm_syscall_sites *s, uintptr_t at, uintptr_t slot, const uint8_t *code,
		    size_t len)
{
	if (s->nsites == MAX_SITES)
		return false;
	s->site[s->nsites].at = at;
	s->site[s->nsites].slot = slot;
	__atomic_store_n(&s->nsites, s->nsites + 1, __ATOMIC_RELEASE);
	return !text_replace(s->call, at, code, len);
}

static bool patch_site(struct bpfvm_syscall_sites *s, uintptr_t site, const struct mapping *m)
{
	uintptr_t pad = x86_pad_after((const uint8_t *)site + 2, site + 2, m->end - (site + 2), SCAN, 5),
		  tramp;
	uint8_t jmp[5] = { 0xe9 }, shortjmp[2] = { 0xeb };

	if (pad) {
		if (!(tramp = trampoline(s, site, pad, NULL, 0)))
			return false;
		put32(jmp + 1, (int64_t)(tramp - (pad + 5)));
		shortjmp[1] = (uint8_t)(pad - (site + 2));
		/* the pad first: no thread runs it, and the site's int3 leads to the trampoline */
		return !text_write(s->call, pad, jmp, sizeof(jmp)) &&
		       rewrite(s, site, tramp, shortjmp, sizeof(shortjmp));
	}
	if (!mov_before(s, site, m->start) ||
	    !(tramp = trampoline(s, site, site, (const uint8_t *)site - 5, 5)))
		return false;
	put32(jmp + 1, (int64_t)(tramp - site));
	return rewrite(s, site - 5, tramp, jmp, sizeof(jmp));
}

/*
 * The patch lock, for thread tid: true once held.  A thread that finds
 * another patching waits for it (some 0.3 ms, more under load), since
 * each call it made meanwhile from an unpatched site would trap again:
 * four threads in a loop over one site trapped some 5% of their calls
 * before, once each now.  Not for long (20 ms: the holder may have been
 * stopped), nor for itself (a handler that interrupted its own patch), nor
 * for a holder gone (a fork child's copy of a lock another thread held).
 */
static bool lock_patching(struct bpfvm_syscall_sites *s, int32_t tid)
{
	struct timespec nap = { 0, 50000 };

	for (int waited = 0; waited < 400; waited++) {
		int32_t holder = 0;

		if (__atomic_compare_exchange_n(&s->busy, &holder, tid, false, __ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			return true;
		if (holder == tid)
			return false;
		if (s->call(SYS_tgkill, s->call(SYS_getpid, 0, 0, 0, 0, 0, 0), holder, 0, 0, 0, 0) ==
		    -ESRCH)
			__atomic_compare_exchange_n(&s->busy, &holder, 0, false, __ATOMIC_RELAXED,
						    __ATOMIC_RELAXED);
		else
			s->call(SYS_nanosleep, (long)&nap, 0, 0, 0, 0, 0);
	}
	return false;
}

bool bpfvm_syscall_sites__patch(struct bpfvm_syscall_sites *s, uint64_t site)
{
	struct mapping m;
	bool done = false;

	if (!s || !lock_patching(s, (int32_t)s->call(SYS_gettid, 0, 0, 0, 0, 0, 0)))
		return false;
	for (unsigned i = 0; i < s->nfailed; i++)
		if (s->failed[i] == site)
			goto out;
	if (s->nfailed == MAX_FAILED)
		goto out;   /* too many: stop looking (each look reads /proc/self/maps) */
	/*
	 * Not failures, tried again at the next trap: a site another thread
	 * patched since this one trapped there, and a read of /proc/self/maps
	 * that missed the site's mapping (the file is read in pieces, and
	 * threads that map their stacks meanwhile move the lines under it).
	 */
	if (((const uint8_t *)site)[0] != 0x0f || ((const uint8_t *)site)[1] != 0x05 ||
	    !mapping_of(s, site, &m))
		goto out;
	if (m.code && site + 2 <= m.end)
		done = patch_site(s, site, &m);
	if (done)
		__atomic_fetch_add(&s->patched, 1, __ATOMIC_RELAXED);
	else
		s->failed[s->nfailed++] = site;
out:
	__atomic_store_n(&s->busy, 0, __ATOMIC_RELEASE);
	return done;
}
