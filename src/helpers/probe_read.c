/*
 * probe_read.c - bpf_probe_read{,_user,_kernel}{,_str} and
 * bpf_copy_from_user: copies from any address of this process that
 * either succeed or return -EFAULT (with the destination zeroed), never
 * fault.  bpfvm has no kernel memory: the _kernel forms read the
 * process's memory like the _user ones.
 *
 * The copy is process_vm_readv() on ourselves, which the kernel answers
 * with EFAULT for an unmapped address instead of a signal.  Where that
 * call is refused (seccomp, no ptrace permission), a pipe does the same:
 * write(2) from an unreadable address fails with EFAULT.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include "../vm/vm.h"
#include "helpers.h"

#define PROBE_PAGE 4096u   /* chunks never cross a page: readable or not as a whole */

static int read_by_pipe(struct bpfvm *vm, void *dst, uint64_t src, uint64_t size)
{
	int err = 0;

	pthread_mutex_lock(&vm->probe_lock);
	if (vm->probe_pipe[0] < 0 && pipe2(vm->probe_pipe, O_CLOEXEC | O_NONBLOCK)) {
		vm->probe_pipe[0] = vm->probe_pipe[1] = -1;
		err = -EFAULT;
	}
	for (uint64_t done = 0; !err && done < size;) {
		size_t n = size - done < PROBE_PAGE ? (size_t)(size - done) : PROBE_PAGE;
		ssize_t w = write(vm->probe_pipe[1], (const void *)(uintptr_t)(src + done), n);

		if (w <= 0) {
			err = -EFAULT;
			break;
		}
		if (read(vm->probe_pipe[0], (char *)dst + done, (size_t)w) != w)
			err = -EFAULT;
		done += (uint64_t)w;
	}
	pthread_mutex_unlock(&vm->probe_lock);
	return err;
}

static int read_nofault(struct bpfvm *vm, void *dst, uint64_t src, uint64_t size)
{
	struct iovec local = { dst, (size_t)size }, remote = { (void *)(uintptr_t)src, (size_t)size };
	ssize_t n;

	if (src + size < src)
		return -EFAULT;
	n = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
	if (n == (ssize_t)size)
		return 0;
	if (n < 0 && (errno == ENOSYS || errno == EPERM))
		return read_by_pipe(vm, dst, src, size);
	return -EFAULT;
}

int helper_copy_nofault(struct bpfvm *vm, void *dst, uint64_t src, uint64_t size)
{
	int err;

	if (!size)
		return 0;
	err = read_nofault(vm, dst, src, size);
	if (err)
		memset(dst, 0, size);
	return err;
}

long helper_copy_str_nofault(struct bpfvm *vm, char *dst, uint64_t src, uint64_t size, bool user)
{
	uint64_t done = 0;

	if (!size)
		return 0;
	while (done < size) {
		uint64_t page_left = PROBE_PAGE - (src + done) % PROBE_PAGE;
		uint64_t n = size - done < page_left ? size - done : page_left;
		const char *nul;

		if (read_nofault(vm, dst + done, src + done, n)) {
			memset(dst, 0, size);
			return -EFAULT;
		}
		nul = memchr(dst + done, 0, n);
		if (nul) {
			long len = (long)(nul - dst) + 1;

			return user && len == 1 ? 0 : len;
		}
		done += n;
	}
	dst[size - 1] = '\0';
	return (long)size;
}

BPF_HELPER(probe_read)
{
	return HELPER_ERR(helper_copy_nofault(run->vm, (void *)(uintptr_t)r1, r3, (uint32_t)r2));
}

BPF_HELPER(probe_read_user)
{
	return HELPER_ERR(helper_copy_nofault(run->vm, (void *)(uintptr_t)r1, r3, (uint32_t)r2));
}

BPF_HELPER(probe_read_kernel)
{
	return HELPER_ERR(helper_copy_nofault(run->vm, (void *)(uintptr_t)r1, r3, (uint32_t)r2));
}

BPF_HELPER(copy_from_user)
{
	return HELPER_ERR(helper_copy_nofault(run->vm, (void *)(uintptr_t)r1, r3, (uint32_t)r2));
}

BPF_HELPER(probe_read_str)
{
	return HELPER_ERR(helper_copy_str_nofault(run->vm, (char *)(uintptr_t)r1, r3, (uint32_t)r2,
						  true));
}

BPF_HELPER(probe_read_user_str)
{
	return HELPER_ERR(helper_copy_str_nofault(run->vm, (char *)(uintptr_t)r1, r3, (uint32_t)r2,
						  true));
}

BPF_HELPER(probe_read_kernel_str)
{
	return HELPER_ERR(helper_copy_str_nofault(run->vm, (char *)(uintptr_t)r1, r3, (uint32_t)r2,
						  false));
}
