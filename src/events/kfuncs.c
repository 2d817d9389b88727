/*
 * kfuncs.c - kprobes on the kernel functions a system call enters
 * directly, whose arguments follow from the call's (kfuncs.h):
 *
 *   do_unlinkat(int dfd, struct filename *name)
 *       unlink(path): AT_FDCWD; unlinkat(dfd, path, 0) (AT_REMOVEDIR goes
 *       to do_rmdir, any other flag fails before)
 *   do_sys_openat2(int dfd, const char __user *filename, struct open_how *how)
 *       open, openat (how from build_open_how: flags | O_LARGEFILE masked
 *       to VALID_OPEN_FLAGS, O_PATH's own, mode only for a create), creat,
 *       openat2 (the user's how once copy_struct_from_user accepts it)
 *   do_execveat_common(int fd, struct filename *filename, struct
 *       user_arg_ptr argv, struct user_arg_ptr envp, int flags)
 *       execve, execveat; each user_arg_ptr takes two registers (is_compat,
 *       then the pointer), so flags is on the stack, which is not there
 *   do_exit(long code)
 *       every thread's exit (exit, exit_group, a fatal signal): code in
 *       the form wait() reports it; do_exit does not return
 *
 * struct filename is laid out per the kernel's BTF (hooks/kobjs.c) with
 * the path read as getname() reads it, faulting pages in; where getname
 * fails the function gets its ERR_PTR, as in the kernel: -EFAULT, -ENOENT
 * for an empty path (unless execveat's AT_EMPTY_PATH), -ENAMETOOLONG.
 */
#include <errno.h>
#include <limits.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/program.h"
#include "../helpers/helper_ids.h"
#include "../hooks/kobjs.h"
#include "kfuncs.h"

#define AT_FDCWD_ (-100)
#define AT_REMOVEDIR_ 0x200
#define AT_EMPTY_PATH_ 0x1000
#define O_CREAT_ 0100
#define O_WRONLY_ 01
#define O_TRUNC_ 01000
#define O_LARGEFILE_ 0100000
#define O_DIRECTORY_ 0200000
#define O_NOFOLLOW_ 0400000
#define O_CLOEXEC_ 02000000
#define O_PATH_ 010000000
#define O_TMPFILE_ONLY_ 020000000       /* __O_TMPFILE */
#define VALID_OPEN_FLAGS_ 037777703u    /* the kernel's VALID_OPEN_FLAGS on x86-64 */
#define S_IALLUGO_ 07777
#define OPEN_HOW_SIZE_VER0 24
#define PAGE_SIZE_ 4096

static const struct { const char *name; enum ev_kfunc f; const char *calls[4]; } funcs[] = {
	{ "do_unlinkat", EV_KF_UNLINKAT, { "unlink", "unlinkat" } },
	{ "do_sys_openat2", EV_KF_OPENAT2, { "open", "openat", "openat2", "creat" } },
	{ "do_execveat_common", EV_KF_EXECVEAT, { "execve", "execveat" } },
	{ "do_exit", EV_KF_EXIT, { NULL } },
};

enum ev_kfunc ev_kfunc_by_name(const char *name)
{
	for (size_t i = 0; i < sizeof(funcs) / sizeof(funcs[0]); i++)
		if (!strcmp(funcs[i].name, name))
			return funcs[i].f;
	return EV_KF_NONE;
}

int ev_kfunc_refuse(const struct ev_attach *a, const struct bpfvm_prog *prog, char *why,
		    size_t size)
{
	if (a->point != EV_KFUNC && a->point != EV_KRETFUNC)
		return 0;
	for (uint32_t i = 0; i < prog->cnt; i++) {
		const struct bpfvm_insn *in = &prog->insns[i];

		if (in->code == (BPF_JMP | BPF_CALL) && !in->src_reg &&
		    in->imm == HELPER_ID_override_return) {
			for (size_t f = 0; f < sizeof(funcs) / sizeof(funcs[0]); f++)
				if (funcs[f].f == a->kfunc)
					snprintf(why, size, "it calls bpf_override_return, and %s is not "
						 "a function the kernel lets a kprobe override (not "
						 "ALLOW_ERROR_INJECTION): the kernel refuses this attach "
						 "too", funcs[f].name);
			return -EOPNOTSUPP;
		}
	}
	return 0;
}

/* Is nr one of the system calls that enter f? */
static bool enters(enum ev_kfunc f, long nr)
{
	for (size_t i = 0; i < sizeof(funcs) / sizeof(funcs[0]); i++)
		for (int c = 0; funcs[i].f == f && c < 4 && funcs[i].calls[c]; c++) {
			const struct ev_syscall *sc = ev_syscall_by_event(funcs[i].calls[c]);

			if (sc && sc->nr == nr)
				return true;
		}
	return false;
}

void ev_kfunc_want(struct ev_interest *w, const struct ev_attach *a)
{
	for (long nr = 0; nr < EV_MAX_SYSCALL; nr++)
		if (enters(a->kfunc, nr))
			ev_interest_set(a->point == EV_KRETFUNC ? w->exit : w->enter, nr);
}

static bool named(long nr, const char *name)
{
	const struct ev_syscall *sc = ev_syscall_by_event(name);

	return sc && sc->nr == nr;
}

/* openat2's struct open_how as copy_struct_from_user takes it: 0, or the call fails first. */
static int user_how(struct ev_task *task, const struct user_regs_struct *r, uint64_t how[3])
{
	uint8_t rest[PAGE_SIZE_ - OPEN_HOW_SIZE_VER0];
	uint64_t usize = r->r10;

	if (usize < OPEN_HOW_SIZE_VER0 || usize > PAGE_SIZE_ ||
	    ev_task_copy_user(task, how, r->rdx, OPEN_HOW_SIZE_VER0))
		return -1;
	/* a larger struct than the kernel's: what it does not know must be zero */
	if (usize > OPEN_HOW_SIZE_VER0 &&
	    (ev_task_copy_user(task, rest, r->rdx + OPEN_HOW_SIZE_VER0, usize - OPEN_HOW_SIZE_VER0) ||
	     memchr(rest, 0, usize - OPEN_HOW_SIZE_VER0) != rest ||
	     memcmp(rest, rest + 1, usize - OPEN_HOW_SIZE_VER0 - 1)))
		return -1;
	return 0;
}

/* Does the call of ev (still held, its arguments in ev->regs) enter a->kfunc? */
bool ev_kfunc_fires(const struct ev_attach *a, const struct ev_event *ev, struct ev_task *task)
{
	const struct user_regs_struct *r = &ev->regs;
	uint64_t how[3];

	if (a->kfunc == EV_KF_EXIT)
		return a->point == EV_KFUNC && ev->kind == EV_EXIT;
	if (ev->kind != (a->point == EV_KFUNC ? EV_SYS_ENTER : EV_SYS_EXIT) || !enters(a->kfunc, ev->nr))
		return false;
	if (named(ev->nr, "unlinkat"))
		return (int)r->rdx == 0;
	if (named(ev->nr, "openat2"))
		return a->point == EV_KRETFUNC || !user_how(task, r, how);
	return true;
}

/* getname(): the path at uptr as a struct filename, or the ERR_PTR the function gets. */
static uint64_t getname(struct ev_task *task, uint64_t uptr, bool empty_ok)
{
	struct hook_kobjs *k = ev_task_kobjs(task);
	char *path = malloc(PATH_MAX);
	uint64_t fn = 0;
	int err = 0;
	size_t len;

	if (!path)
		return 0;
	for (len = 0; len < PATH_MAX;) {
		size_t page_left = PAGE_SIZE_ - (uptr + len) % PAGE_SIZE_;
		size_t n = PATH_MAX - len < page_left ? PATH_MAX - len : page_left;
		const char *nul;

		/* page by page: never past the page where the string ends */
		if (ev_task_copy_user(task, path + len, uptr + len, n)) {
			err = -EFAULT;
			break;
		}
		if ((nul = memchr(path + len, 0, n))) {
			len = (size_t)(nul - path);
			break;
		}
		len += n;
	}
	if (!err && len >= PATH_MAX)
		err = -ENAMETOOLONG;
	else if (!err && !len && !empty_ok)
		err = -ENOENT;
	if (!err && k)
		fn = hook_kobj_filename(k, path, uptr);
	free(path);
	return err ? (uint64_t)(int64_t)err : fn;
}

static uint64_t open_how(struct ev_task *task, uint64_t flags, uint64_t mode, uint64_t resolve)
{
	struct hook_kobjs *k = ev_task_kobjs(task);

	return k ? hook_kobj_open_how(k, flags, mode, resolve) : 0;
}

/* build_open_how() of open, openat and creat, their O_LARGEFILE added. */
static uint64_t built_how(struct ev_task *task, int flags, uint64_t mode)
{
	uint64_t f = (uint64_t)(uint32_t)((flags | O_LARGEFILE_) & (int)VALID_OPEN_FLAGS_);

	if (f & O_PATH_)
		f &= O_DIRECTORY_ | O_NOFOLLOW_ | O_PATH_ | O_CLOEXEC_;
	if (!(f & (O_CREAT_ | O_TMPFILE_ONLY_)))
		mode = 0;
	return open_how(task, f, mode & S_IALLUGO_, 0);
}

void ev_kfunc_args(const struct ev_attach *a, const struct ev_event *ev, struct ev_task *task,
		   uint64_t args[6])
{
	const struct user_regs_struct *r = &ev->regs;
	uint64_t fdcwd = (uint64_t)(int64_t)AT_FDCWD_, how[3];
	bool at = named(ev->nr, "unlinkat") || named(ev->nr, "openat") ||
		  named(ev->nr, "openat2") || named(ev->nr, "execveat");

	memset(args, 0, 6 * sizeof(args[0]));
	if (a->point != EV_KFUNC)
		return;
	/* an int argument: sign-extended, as a program reading the whole register expects */
	args[0] = at ? (uint64_t)(int64_t)(int)r->rdi : fdcwd;
	switch (a->kfunc) {
	case EV_KF_UNLINKAT:
		args[1] = getname(task, at ? r->rsi : r->rdi, false);
		break;
	case EV_KF_OPENAT2:
		args[1] = at ? r->rsi : r->rdi;
		if (named(ev->nr, "openat2"))
			args[2] = user_how(task, r, how) ? 0 :
				  open_how(task, how[0] & O_PATH_ ? how[0] : how[0] | O_LARGEFILE_,
					   how[1], how[2]);
		else if (named(ev->nr, "creat"))
			args[2] = built_how(task, O_CREAT_ | O_WRONLY_ | O_TRUNC_, r->rsi);
		else
			args[2] = built_how(task, (int)(at ? r->rdx : r->rsi), at ? r->r10 : r->rdx);
		break;
	case EV_KF_EXECVEAT:
		args[1] = getname(task, at ? r->rsi : r->rdi, at && (r->r8 & AT_EMPTY_PATH_));
		args[3] = at ? r->rdx : r->rsi;   /* argv.ptr (argv.is_compat: 0 in dx) */
		args[5] = at ? r->r10 : r->rdx;   /* envp.ptr */
		break;
	case EV_KF_EXIT:
		args[0] = (uint64_t)(int64_t)ev->status;
		break;
	case EV_KF_NONE:
		break;
	}
}
