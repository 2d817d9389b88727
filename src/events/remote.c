/*
 * remote.c - a stopped traced process's memory: process_vm_readv/writev
 * (no file to open: a uretprobe's entry reads and writes the stack at
 * every hit), else /proc/PID/mem, whose writes go through page
 * protections as ptrace's pokes do (code); and the registers of an mmap
 * it is made to call.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "remote.h"

int remote_mem_io(int32_t pid, void *buf, uint64_t addr, size_t len, bool write)
{
	struct iovec local = { buf, len }, remote = { (void *)(uintptr_t)addr, len };
	char path[64];
	ssize_t n;
	int fd;

	n = write ? process_vm_writev(pid, &local, 1, &remote, 1, 0)
		  : process_vm_readv(pid, &local, 1, &remote, 1, 0);
	if (n == (ssize_t)len)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	fd = open(path, (write ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write ? pwrite(fd, buf, len, (off_t)addr) : pread(fd, buf, len, (off_t)addr);
	close(fd);
	return n == (ssize_t)len ? 0 : -EFAULT;
}

void remote_mmap_args(struct user_regs_struct *r, uint64_t hint, uint64_t len, int prot)
{
	r->orig_rax = REMOTE_NR_MMAP;
	r->rdi = hint;
	r->rsi = len;
	r->rdx = (unsigned long long)prot;
	r->r10 = MAP_PRIVATE | MAP_ANONYMOUS | (hint ? MAP_FIXED_NOREPLACE : 0);
	r->r8 = (unsigned long long)-1;
	r->r9 = 0;
}
