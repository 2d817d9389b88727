/*
 * probe_read.c - bpf_probe_read{,_user,_kernel}{,_str} and
 * bpf_copy_from_user: copies from any address of this process that
 * either succeed or return -EFAULT (with the destination zeroed), never
 * fault.  bpfvm has no kernel memory: the _kernel forms read the
 * process's memory like the _user ones.
 *
 * A run about a traced task (run->task_ops, events/) reads user memory
 * in that task: probe_read_user(_str), copy_from_user, and the legacy
 * probe_read(_str) on an address outside the memory the run was handed
 * (its context and the kernel objects an event lays out, which stand for
 * kernel memory); the _kernel forms still read bpfvm's own.  The task's
 * reader answers -EFAULT for a bad address, as the kernel does.
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

#include "../core/run.h"
#include "../maps/map.h"
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

/* Where a read goes: bpfvm's memory (task NULL) or a traced task's. */
struct reader {
	struct bpfvm *vm;
	const struct vm_task_ops *ops;
	void *task;
};

static int read_from(const struct reader *r, void *dst, uint64_t src, uint64_t size)
{
	if (!r->ops)
		return read_nofault(r->vm, dst, src, size);
	if (src + size < src)
		return -EFAULT;
	return r->ops->read_mem(r->task, dst, src, size) ? -EFAULT : 0;
}

static int copy_from(const struct reader *r, void *dst, uint64_t src, uint64_t size)
{
	int err;

	if (!size)
		return 0;
	err = read_from(r, dst, src, size);
	if (err)
		memset(dst, 0, size);
	return err;
}

int helper_copy_nofault(struct bpfvm *vm, void *dst, uint64_t src, uint64_t size)
{
	struct reader self = { vm, NULL, NULL };

	return copy_from(&self, dst, src, size);
}

static long copy_str_from(const struct reader *r, char *dst, uint64_t src, uint64_t size, bool user)
{
	uint64_t done = 0;

	if (!size)
		return 0;
	while (done < size) {
		uint64_t page_left = PROBE_PAGE - (src + done) % PROBE_PAGE;
		uint64_t n = size - done < page_left ? size - done : page_left;
		char chunk[PROBE_PAGE];   /* nothing past the NUL reaches dst, as in the kernel */
		const char *nul;

		if (read_from(r, chunk, src + done, n)) {
			memset(dst, 0, size);
			return -EFAULT;
		}
		nul = memchr(chunk, 0, n);
		memcpy(dst + done, chunk, nul ? (size_t)(nul - chunk) + 1 : n);
		if (nul) {
			long len = (long)(done + (uint64_t)(nul - chunk)) + 1;

			return user && len == 1 ? 0 : len;
		}
		done += n;
	}
	dst[size - 1] = '\0';
	return (long)size;
}

long helper_copy_str_nofault(struct bpfvm *vm, char *dst, uint64_t src, uint64_t size, bool user)
{
	struct reader self = { vm, NULL, NULL };

	return copy_str_from(&self, dst, src, size, user);
}

/* The run's user memory: the traced task's, else bpfvm's. */
static struct reader user_reader(struct bpfvm_run_ctx *run)
{
	return (struct reader){ run->vm, run->task_ops, run->task };
}

/*
 * The legacy probe_read: the kernel reads user memory below TASK_SIZE and
 * kernel memory above; here what the run was handed (its context, the
 * pt_regs and the kernel objects an event lays out) is the "kernel" side.
 */
static struct reader compat_reader(struct bpfvm_run_ctx *run, uint64_t src, uint64_t size)
{
	if (run->task_ops && (vm_run_access_ok(run, src, size ? size : 1, false) ||
			      (run->task_ops->kernel_mem &&
			       run->task_ops->kernel_mem(run->task, src, size ? size : 1))))
		return (struct reader){ run->vm, NULL, NULL };
	return user_reader(run);
}

BPF_HELPER(probe_read)
{
	struct reader r = compat_reader(run, r3, (uint32_t)r2);

	return HELPER_ERR(copy_from(&r, (void *)(uintptr_t)r1, r3, (uint32_t)r2));
}

BPF_HELPER(probe_read_user)
{
	struct reader r = user_reader(run);

	return HELPER_ERR(copy_from(&r, (void *)(uintptr_t)r1, r3, (uint32_t)r2));
}

BPF_HELPER(probe_read_kernel)
{
	return HELPER_ERR(helper_copy_nofault(run->vm, (void *)(uintptr_t)r1, r3, (uint32_t)r2));
}

BPF_HELPER(copy_from_user)
{
	struct reader r = user_reader(run);

	return HELPER_ERR(copy_from(&r, (void *)(uintptr_t)r1, r3, (uint32_t)r2));
}

BPF_HELPER(probe_read_str)
{
	struct reader r = compat_reader(run, r3, 1);

	return HELPER_ERR(copy_str_from(&r, (char *)(uintptr_t)r1, r3, (uint32_t)r2, true));
}

BPF_HELPER(probe_read_user_str)
{
	struct reader r = user_reader(run);

	return HELPER_ERR(copy_str_from(&r, (char *)(uintptr_t)r1, r3, (uint32_t)r2, true));
}

BPF_HELPER(probe_read_kernel_str)
{
	return HELPER_ERR(helper_copy_str_nofault(run->vm, (char *)(uintptr_t)r1, r3, (uint32_t)r2,
						  false));
}
