/*
 * syscall_patch.c - the agent's fast path for attached system calls.  A
 * trap (seccomp's SIGSYS) costs a signal's delivery and return, some
 * microseconds; the kernel runs a tracepoint program for a fraction of
 * that.  So at the first trap from a `syscall` instruction the site is
 * rewritten to jump, without a signal, to a trampoline near it:
 *
 *   site:  syscall            ->  jmp pad        (2 bytes, one atomic store)
 *   pad:   nop padding        ->  jmp trampoline (5 bytes, never executed before)
 *
 * The pad is alignment padding after an unconditional ret/jmp within a
 * short jump (127 bytes) after the site: nops or int3s up to the next
 * 16-byte boundary, which no code reaches (the next function or loop
 * head starts at the boundary).  Writing the pad first and then the two
 * bytes of the site makes the change safe with other threads running: a
 * thread sees the old instruction or the new, never half of one, and a
 * thread blocked in the call returns after the site, which is unchanged
 * (glibc's wrappers, `mov $NR,%eax; syscall; ret; padding`, and its
 * syscall() all qualify).  No instruction is moved, so none needs
 * relocating: registers at the pad are those of the syscall instruction.
 *
 * The trampoline (one 64-byte slot a site, in a page within 2 GiB) makes
 * calls the filter does not trap with its own syscall instruction (clone,
 * vfork, rt_sigreturn behave as at the site: nothing of the agent's is on
 * any stack) and hands trapped ones to sp_entry: below the red zone it
 * saves the registers a syscall keeps (all but rax, rcx, r11), the flags
 * and the vector state (XSAVE), and calls cfg.run, which runs the
 * programs and makes the call from the agent's allowed stub.  A signal
 * arriving meanwhile runs on the stack below, and may make the attached
 * call itself (it nests, as in the SIGSYS handler).
 *
 * A site that does not qualify (no padding near, a page that is not a
 * file's r-x code, a syscall instruction split by a cache line) keeps the
 * SIGSYS path.  Everything here runs in a signal handler: system calls go
 * through cfg.call (never trapped), memory comes from mmap, no locks are
 * waited for.
 */
#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include <Zydis/Zydis.h>

#include "syscall_patch.h"

#define PAGE 4096ul
#define SLOT 64
#define MAX_TPAGES 64
#define NEAR ((int64_t)1 << 31)
#define SCAN 127                /* a jmp rel8's reach */
#define MAX_FAILED 256
/* Vector state saved around the agent: x87, SSE, AVX, AVX-512 (not MPX, PKRU, AMX). */
#define XMASK 0xe7ull

/* Read by sp_entry (hidden: reached RIP-relative from the assembly). */
__attribute__((visibility("hidden"))) uint64_t sp_xsize, sp_xmask;
__attribute__((visibility("hidden"))) long sp_dispatch(long nr, long *args);

static struct {
	struct sp_config c;
	uintptr_t entry;             /* sp_entry_xsave or sp_entry_xsavec */
	uintptr_t tpage[MAX_TPAGES];
	unsigned tused[MAX_TPAGES], ntpages, patched;
	uintptr_t failed[MAX_FAILED];   /* sites found unpatchable: not looked at again */
	unsigned nfailed;
	int busy;
} sp;

/*
 * Entered from a trampoline: rax the call's number, r11 where to return
 * (after the site), the arguments in rdi, rsi, rdx, r10, r8, r9.  The
 * frame: the return address and flags below the red zone, then rbp, the
 * six arguments (args[] for cfg.run), the number, the result, then the
 * XSAVE area, 64-byte aligned, its header zeroed as XRSTOR wants it.
 */
#define SP_ENTRY(name, save)                                                  \
	".text\n.globl " name "\n.hidden " name "\n.type " name ",@function\n" \
	name ":\n"                                                            \
	"lea -128(%rsp), %rsp\n push %r11\n pushfq\n push %rbp\n"             \
	"mov %rsp, %rbp\n sub $64, %rsp\n"                                    \
	"mov %rdi, -64(%rbp)\n mov %rsi, -56(%rbp)\n mov %rdx, -48(%rbp)\n"   \
	"mov %r10, -40(%rbp)\n mov %r8, -32(%rbp)\n mov %r9, -24(%rbp)\n"     \
	"mov %rax, -16(%rbp)\n cld\n"                                         \
	"sub sp_xsize(%rip), %rsp\n and $-64, %rsp\n"                         \
	"movq $0, 512(%rsp)\n movq $0, 520(%rsp)\n movq $0, 528(%rsp)\n"      \
	"movq $0, 536(%rsp)\n movq $0, 544(%rsp)\n movq $0, 552(%rsp)\n"      \
	"movq $0, 560(%rsp)\n movq $0, 568(%rsp)\n"                           \
	"mov sp_xmask(%rip), %eax\n mov sp_xmask+4(%rip), %edx\n"             \
	save " (%rsp)\n"                                                      \
	"mov -16(%rbp), %rdi\n lea -64(%rbp), %rsi\n call sp_dispatch\n"      \
	"mov %rax, -8(%rbp)\n"                                                \
	"mov sp_xmask(%rip), %eax\n mov sp_xmask+4(%rip), %edx\n"             \
	"xrstor64 (%rsp)\n"                                                   \
	"mov -64(%rbp), %rdi\n mov -56(%rbp), %rsi\n mov -48(%rbp), %rdx\n"   \
	"mov -40(%rbp), %r10\n mov -32(%rbp), %r8\n mov -24(%rbp), %r9\n"     \
	"mov -8(%rbp), %rax\n mov %rbp, %rsp\n pop %rbp\n popfq\n pop %r11\n" \
	"lea 128(%rsp), %rsp\n jmp *%r11\n"                                   \
	".size " name ", .-" name "\n"

__asm__(SP_ENTRY("sp_entry_xsave", "xsave64") SP_ENTRY("sp_entry_xsavec", "xsavec64"));
extern char sp_entry_xsave[], sp_entry_xsavec[];

long sp_dispatch(long nr, long *args)
{
	return sp.c.run(nr, args);
}

int sp_init(const struct sp_config *c)
{
	unsigned a, b, cx, d, lo, hi;
	uint64_t size = 576;

	if (!__get_cpuid(1, &a, &b, &cx, &d) || !(cx & bit_OSXSAVE))
		return -ENOTSUP;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	sp_xmask = ((uint64_t)hi << 32 | lo) & XMASK;
	for (unsigned i = 2; i < 8; i++)
		if (sp_xmask >> i & 1) {
			__cpuid_count(0xd, i, a, b, cx, d);
			if (b + a > size)
				size = b + a;
		}
	sp_xsize = size + 64;
	__cpuid_count(0xd, 1, a, b, cx, d);
	sp.entry = (uintptr_t)(a & 2 ? sp_entry_xsavec : sp_entry_xsave);
	sp.c = *c;
	return 0;
}

unsigned sp_patched(void)
{
	return __atomic_load_n(&sp.patched, __ATOMIC_RELAXED);
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

/* The mapping of /proc/self/maps holding addr: true when found. */
static bool mapping_of(uintptr_t addr, struct mapping *m)
{
	char buf[4096 + 512];
	size_t have = 0;
	long fd = sp.c.call(SYS_openat, AT_FDCWD, (long)"/proc/self/maps", O_RDONLY | O_CLOEXEC, 0, 0, 0);
	bool found = false;

	if (fd < 0)
		return false;
	for (int rounds = 0; rounds < 4096 && !found; rounds++) {
		long n = sp.c.call(SYS_read, fd, (long)(buf + have), (long)(sizeof(buf) - 1 - have), 0, 0, 0);
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
	sp.c.call(SYS_close, fd, 0, 0, 0, 0, 0);
	return found;
}

/* ---- where the jump goes --------------------------------------------------- */

/*
 * Padding within a short jump after the syscall instruction at site: the
 * first boundary after an unconditional ret/jmp from which nops or int3s
 * alone reach the next 16-byte boundary, 5 bytes or more.  0 if none
 * (decoding stops at the mapping's end or at what it cannot decode).
 */
static uintptr_t find_pad(uintptr_t site, uintptr_t end)
{
	ZydisDecoder dec;
	uintptr_t at = site + 2, pad = 0;
	bool after_uncond = false;

	ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
	while (at < end && at + 5 <= site + 2 + SCAN) {
		ZydisDecodedInstruction in;
		ZydisMnemonic m;
		bool filler;

		if (!ZYAN_SUCCESS(ZydisDecoderDecodeInstruction(&dec, NULL, (const void *)at, end - at, &in)))
			return 0;
		m = in.mnemonic;
		filler = m == ZYDIS_MNEMONIC_NOP || m == ZYDIS_MNEMONIC_INT3;
		if (after_uncond && filler && !pad)
			pad = at;
		else if (!filler)
			pad = 0;
		at += in.length;
		if (!filler)
			after_uncond = m == ZYDIS_MNEMONIC_RET ||
				       (m == ZYDIS_MNEMONIC_JMP && in.meta.category == ZYDIS_CATEGORY_UNCOND_BR);
		if (!(at & 15)) {
			if (pad && at - pad >= 5)
				return pad;
			/* what starts at a boundary is reached (a function, a loop head), nops or not */
			pad = 0;
			after_uncond = false;
		}
	}
	return 0;
}

static bool near(uintptr_t a, uintptr_t b)
{
	int64_t d = (int64_t)(a - b);

	return (d < 0 ? -d : d) < NEAR - (int64_t)(2 * PAGE);
}

/* A fresh r-x page within 2 GiB of addr: 0 if none could be had. */
static uintptr_t map_near(uintptr_t addr)
{
	uintptr_t base = addr & ~(uintptr_t)0xfffff;

	for (uintptr_t k = 1; k <= 256; k++)
		for (int side = 0; side < 2; side++) {
			uintptr_t hint = side ? base + k * 0x100000 : base - k * 0x100000;
			long got;

			if (!near(hint, addr) || hint < 0x10000)
				continue;
			got = sp.c.call(SYS_mmap, (long)hint, PAGE, PROT_READ | PROT_EXEC,
					MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
			if (got == (long)hint)
				return hint;
			if (got >= 0 && (unsigned long)got < -4096ul)
				sp.c.call(SYS_munmap, got, PAGE, 0, 0, 0, 0);  /* an old kernel's hint */
		}
	return 0;
}

static void put32(uint8_t *p, int64_t v)
{
	int32_t x = (int32_t)v;

	memcpy(p, &x, 4);
}

/*
 * The trampoline of the site at site (see the file's comment) into slot
 * at, after pre (the moved `mov $NR,%eax` of a site patched before it, or
 * nothing).
 */
static void fill_slot(uint8_t *slot, uintptr_t at, uintptr_t site, const uint8_t *pre, unsigned npre)
{
	static const uint8_t tmpl[48] = {
		0x48, 0x3d, 0, 0, 0, 0,                 /*  0: cmp $nr_max,%rax */
		0x73, 41 - 8,                           /*  6: jae inline */
		0x49, 0xbb, 0, 0, 0, 0, 0, 0, 0, 0,     /*  8: movabs $trap,%r11 */
		0x41, 0x80, 0x3c, 0x03, 0x00,           /* 18: cmpb $0,(%r11,%rax) */
		0x74, 41 - 25,                          /* 23: je inline */
		0x49, 0xbb, 0, 0, 0, 0, 0, 0, 0, 0,     /* 25: movabs $site+2,%r11 */
		0xff, 0x25, 48 - 41, 0, 0, 0,           /* 35: jmp *entry(%rip) */
		0x0f, 0x05,                             /* 41: inline: syscall */
		0xe9, 0, 0, 0, 0,                       /* 43: jmp site+2 */
	};
	uint64_t trap = (uintptr_t)sp.c.trap, ret = site + 2;
	uint8_t *code = slot + npre;

	memset(slot, 0xcc, SLOT);
	if (npre)
		memcpy(slot, pre, npre);
	memcpy(code, tmpl, sizeof(tmpl));
	put32(code + 2, sp.c.nr_max);
	memcpy(code + 10, &trap, 8);
	memcpy(code + 27, &ret, 8);
	put32(code + 44, (int64_t)(ret - (at + npre + 48)));
	memcpy(code + 48, &sp.entry, 8);           /* 48: entry */
}

/* A trampoline for site written near pad (after pre): its address, or 0. */
static uintptr_t trampoline(uintptr_t site, uintptr_t pad, const uint8_t *pre, unsigned npre)
{
	uint8_t code[SLOT];
	unsigned k;
	uintptr_t at;

	for (k = 0; k < sp.ntpages; k++)
		if (sp.tused[k] + SLOT <= PAGE && near(sp.tpage[k], pad) && near(sp.tpage[k], site))
			break;
	if (k == sp.ntpages) {
		if (k == MAX_TPAGES || !(sp.tpage[k] = map_near(pad)))
			return 0;
		sp.tused[k] = 0;
		sp.ntpages++;
	}
	at = sp.tpage[k] + sp.tused[k];
	fill_slot(code, at, site, pre, npre);
	/* the page stays executable throughout: other slots in it may be running */
	if (sp.c.call(SYS_mprotect, (long)sp.tpage[k], PAGE, PROT_READ | PROT_WRITE | PROT_EXEC, 0, 0, 0))
		return 0;
	memcpy((void *)at, code, SLOT);
	sp.c.call(SYS_mprotect, (long)sp.tpage[k], PAGE, PROT_READ | PROT_EXEC, 0, 0, 0);
	sp.tused[k] += SLOT;
	return at;
}

/* ---- the patch ----------------------------------------------------------------- */

static bool rewrite(uintptr_t site, uintptr_t pad, uintptr_t tramp)
{
	uintptr_t lo = site & ~(PAGE - 1), hi = (pad + 5 + PAGE - 1) & ~(PAGE - 1);
	uint8_t jmp[5] = { 0xe9 };
	uint16_t shortjmp = (uint16_t)(0xeb | (pad - (site + 2)) << 8);

	put32(jmp + 1, (int64_t)(tramp - (pad + 5)));
	if (sp.c.call(SYS_mprotect, (long)lo, (long)(hi - lo), PROT_READ | PROT_WRITE | PROT_EXEC, 0, 0, 0))
		return false;
	memcpy((void *)pad, jmp, sizeof(jmp));
	/* one store (the two bytes share a cache line): old or new, never half */
	__asm__ volatile("movw %1, (%0)" : : "r"(site), "r"(shortjmp) : "memory");
	sp.c.call(SYS_mprotect, (long)lo, (long)(hi - lo), PROT_READ | PROT_EXEC, 0, 0, 0);
	return true;
}

/*
 * Is the instruction before the syscall at site a `mov $NR,%eax` (b8 and
 * 4 bytes, NR a system call's number)?  Decoded from each of the 24 bytes
 * before it (x86 code falls into step with its real instructions within a
 * few): the decodings that reach site must pass site - 5 more than twice
 * as often as not, so that the 5 bytes are that one instruction and not
 * the end of a longer one.
 */
static bool mov_before(uintptr_t site, uintptr_t start)
{
	const uint8_t *b = (const uint8_t *)site - 5;
	ZydisDecoder dec;
	uint32_t nr;
	unsigned through = 0, around = 0;

	if (site < start + 24 || b[0] != 0xb8 || (memcpy(&nr, b + 1, 4), nr >= (uint32_t)sp.c.nr_max))
		return false;
	ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
	for (uintptr_t from = site - 24; from < site - 5; from++) {
		uintptr_t at = from;
		bool via = false;

		while (at < site) {
			ZydisDecodedInstruction in;

			if (!ZYAN_SUCCESS(ZydisDecoderDecodeInstruction(&dec, NULL, (const void *)at,
									 site + 2 - at, &in)))
				break;
			via |= at == site - 5;
			at += in.length;
		}
		through += at == site && via;
		around += at == site && !via;
	}
	return through > 2 * around;
}

/*
 * The mov before site becomes `jmp trampoline` (which makes the mov
 * itself first).  A thread can be at the mov's first byte, never inside
 * it: that byte and the next become `jmp .` (one store), so a thread
 * arriving spins while the other three bytes are written, then the first
 * two.  This thread blocks signals meanwhile (a handler of its own would
 * spin for ever); the syscall instruction is left as it was, so a thread
 * past the mov still makes its call (and traps).
 */
static bool rewrite_mov(uintptr_t site, uintptr_t tramp)
{
	uintptr_t w = site - 5, lo = w & ~(PAGE - 1), hi = (site + PAGE - 1) & ~(PAGE - 1);
	uint8_t jmp[5] = { 0xe9 };
	uint16_t spin = 0xfeeb, head;
	uint64_t all = ~0ull, old;

	if ((w & 63) == 63)
		return false;
	put32(jmp + 1, (int64_t)(tramp - site));
	memcpy(&head, jmp, 2);
	sp.c.call(SYS_rt_sigprocmask, SIG_SETMASK, (long)&all, (long)&old, sizeof(all), 0, 0);
	if (sp.c.call(SYS_mprotect, (long)lo, (long)(hi - lo), PROT_READ | PROT_WRITE | PROT_EXEC, 0, 0, 0)) {
		sp.c.call(SYS_rt_sigprocmask, SIG_SETMASK, (long)&old, 0, sizeof(old), 0, 0);
		return false;
	}
	__asm__ volatile("movw %1, (%0)" : : "r"(w), "r"(spin) : "memory");
	memcpy((void *)(w + 2), jmp + 2, 3);
	__asm__ volatile("movw %1, (%0)" : : "r"(w), "r"(head) : "memory");
	sp.c.call(SYS_mprotect, (long)lo, (long)(hi - lo), PROT_READ | PROT_EXEC, 0, 0, 0);
	sp.c.call(SYS_rt_sigprocmask, SIG_SETMASK, (long)&old, 0, sizeof(old), 0, 0);
	return true;
}

static bool patch_site(uintptr_t site, const struct mapping *m)
{
	uintptr_t pad = find_pad(site, m->end), tramp;

	if (pad)
		return (tramp = trampoline(site, pad, NULL, 0)) && rewrite(site, pad, tramp);
	if (!mov_before(site, m->start))
		return false;
	return (tramp = trampoline(site, site, (const uint8_t *)site - 5, 5)) && rewrite_mov(site, tramp);
}

bool sp_patch(uintptr_t site)
{
	struct mapping m;
	bool done = false;

	if (!sp.c.call || __atomic_exchange_n(&sp.busy, 1, __ATOMIC_ACQUIRE))
		return false;
	for (unsigned i = 0; i < sp.nfailed; i++)
		if (sp.failed[i] == site)
			goto out;
	if (sp.nfailed == MAX_FAILED)
		goto out;   /* too many: stop looking (each look reads /proc/self/maps) */
	/*
	 * Not failures, tried again at the next trap: a site another thread
	 * patched since this one trapped there, and a read of /proc/self/maps
	 * that missed the site's mapping (the file is read in pieces, and
	 * threads that map their stacks meanwhile move the lines under it).
	 */
	if ((site & 63) != 63 && (((const uint8_t *)site)[0] != 0x0f || ((const uint8_t *)site)[1] != 0x05 ||
				  !mapping_of(site, &m)))
		goto out;
	if ((site & 63) != 63 && m.code && site + 2 <= m.end)
		done = patch_site(site, &m);
	if (done)
		__atomic_fetch_add(&sp.patched, 1, __ATOMIC_RELAXED);
	else
		sp.failed[sp.nfailed++] = site;
out:
	__atomic_store_n(&sp.busy, 0, __ATOMIC_RELEASE);
	return done;
}
