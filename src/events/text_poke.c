/*
 * text_poke.c - code written while threads may run it (text_poke.h).
 * Through /proc/self/mem rather than mprotect: the pages never lose their
 * execute permission under a running thread, and no other thread can find
 * them writable.  The order of text_replace is the kernel's (text_poke_bp):
 * x86 allows another CPU to see a multi-byte rewrite of an instruction
 * half done, but a one-byte store of int3 is seen whole, so the int3 fences
 * off the instruction while its other bytes change.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/membarrier.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "text_poke.h"

#define INT3 0xcc

static long libc_call(long nr, long a, long b, long c, long d, long e, long f)
{
	long r = syscall(nr, a, b, c, d, e, f);

	return r == -1 ? -errno : r;
}

static long open_mem(text_call_fn c)
{
	return c(SYS_openat, AT_FDCWD, (long)"/proc/self/mem", O_RDWR | O_CLOEXEC, 0, 0, 0);
}

static int put(text_call_fn c, long fd, uint64_t addr, const void *buf, size_t len)
{
	return c(SYS_pwrite64, fd, (long)buf, (long)len, (long)addr, 0, 0) == (long)len ? 0 : -EFAULT;
}

int text_write(text_call_fn call, uint64_t addr, const void *buf, size_t len)
{
	text_call_fn c = call ? call : libc_call;
	long fd = open_mem(c);
	int err;

	if (fd < 0)
		return (int)fd;
	err = put(c, fd, addr, buf, len);
	c(SYS_close, fd, 0, 0, 0, 0, 0);
	return err;
}

void text_sync(text_call_fn call)
{
	(call ? call : libc_call)(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE, 0, 0, 0, 0, 0);
}

void text_sync_register(text_call_fn call)
{
	(call ? call : libc_call)(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE,
				  0, 0, 0, 0, 0);
}

int text_replace(text_call_fn call, uint64_t addr, const uint8_t *code, size_t len)
{
	text_call_fn c = call ? call : libc_call;
	uint8_t int3 = INT3;
	long fd = open_mem(c);
	int err = 0;

	if (fd < 0)
		return (int)fd;
	if (len > 1) {
		if ((err = put(c, fd, addr, &int3, 1)))
			goto out;
		text_sync(c);
		put(c, fd, addr + 1, code + 1, len - 1);
		text_sync(c);
	}
	err = put(c, fd, addr, code, 1);
	text_sync(c);
out:
	c(SYS_close, fd, 0, 0, 0, 0, 0);
	return err;
}

/* Does all of [at, at + size) lie within a rel32 jump of each address of near? */
static bool in_reach(uint64_t at, uint64_t size, const uint64_t *near, unsigned nnear)
{
	const int64_t reach = ((int64_t)1 << 31) - 2 * (int64_t)size;

	for (unsigned i = 0; i < nnear; i++) {
		int64_t d = (int64_t)(at - near[i]);

		if ((d < 0 ? -d : d) >= reach)
			return false;
	}
	return true;
}

/* A fresh chunk in reach of near: the nearest free MiB below near[0], then above. */
static uint64_t map_chunk(struct text_pool *p, const uint64_t *near, unsigned nnear)
{
	text_call_fn c = p->call ? p->call : libc_call;
	uint64_t base = nnear ? near[0] & ~0xfffffull : 0;

	if (!nnear) {
		long got = c(SYS_mmap, 0, (long)p->chunk, PROT_READ | PROT_EXEC,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		return got < 0 ? 0 : (uint64_t)got;
	}
	for (uint64_t step = 1; step <= 1024; step++)
		for (int above = 0; above < 2; above++) {
			uint64_t hint = above ? base + step * 0x100000 : base - step * 0x100000;
			long got;

			if (hint < 0x10000 || !in_reach(hint, p->chunk, near, nnear))
				continue;
			got = c(SYS_mmap, (long)hint, (long)p->chunk, PROT_READ | PROT_EXEC,
				MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
			if (got == (long)hint)
				return hint;
			if (got >= 0)   /* elsewhere: a kernel without MAP_FIXED_NOREPLACE took a hint */
				c(SYS_munmap, got, (long)p->chunk, 0, 0, 0, 0);
		}
	return 0;
}

uint64_t text_alloc(struct text_pool *p, const uint64_t *near, unsigned nnear, uint64_t len)
{
	unsigned k;

	len = (len + 15) & ~15ull;
	for (k = 0; k < p->n; k++)
		if (p->used[k] + len <= p->chunk && in_reach(p->base[k], p->chunk, near, nnear))
			break;
	if (k == p->n) {
		if (k == TEXT_POOL_CHUNKS || len > p->chunk || !(p->base[k] = map_chunk(p, near, nnear)))
			return 0;
		p->used[k] = 0;
		p->n++;
	}
	p->used[k] += len;
	return p->base[k] + p->used[k] - len;
}
