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
