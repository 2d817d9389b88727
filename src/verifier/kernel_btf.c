/*
 * kernel_btf.c - the kernel's BTF as the verifier types pointers to kernel
 * objects by (btf_access.c): the instance parses it at the first program
 * that needs it and keeps it (5 MB, some 150 ms to parse: every program
 * of an object, every object of a trace, shares one).  A program that
 * names another file than the kept one gets its own copy, freed with its
 * verification.
 */
#include "verifier.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../btf/btf.h"
#include "../core/instance.h"

#define DEFAULT_KERNEL_BTF "/sys/kernel/btf/vmlinux"

static struct btf *load(struct venv *env, const char *path)
{
	struct btf *btf;

	errno = 0;
	btf = btf_load_file(path, NULL);
	if (!btf)
		verr(env, -EINVAL, "pointers to kernel objects are typed by the kernel's BTF, and %s "
				   "cannot be read (%s)\n", path,
		     errno == EINVAL ? "malformed BTF" : strerror(errno));
	return btf;
}

const struct btf *kernel_btf(struct venv *env)
{
	struct bpfvm *vm = env->prog->vm;
	const char *path = env->kbtf_path ? env->kbtf_path : DEFAULT_KERNEL_BTF;
	bool other = false;

	if (env->kbtf)
		return env->kbtf;
	pthread_mutex_lock(&vm->kernel_btf_lock);
	if (!vm->kernel_btf && (vm->kernel_btf = load(env, path)) &&
	    !(vm->kernel_btf_path = strdup(path))) {
		btf_free(vm->kernel_btf);
		vm->kernel_btf = NULL;
		verr(env, -ENOMEM, "out of memory\n");
	}
	if (vm->kernel_btf && !strcmp(vm->kernel_btf_path, path))
		env->kbtf = vm->kernel_btf;
	else
		other = vm->kernel_btf != NULL;
	pthread_mutex_unlock(&vm->kernel_btf_lock);
	if (other && (env->kbtf_own = load(env, path)))
		env->kbtf = env->kbtf_own;
	return env->kbtf;
}
