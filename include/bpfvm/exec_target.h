/*
 * exec_target.h - can a library preloaded into a program's environment
 * (LD_PRELOAD: the agent of `bpfvm trace --mode agent`, the library of
 * `bpfvm exec`) enter it, and do its work there?  Asked by bpfvm trace and
 * bpfvm exec before they start a command, and by the agent inside a traced
 * process as it calls execve: a program it cannot enter is handed over to
 * bpfvm trace's supervisor.  Answered from the file alone, read through
 * the caller's callbacks (inside the agent every system call goes through
 * its own stub, which its seccomp filter lets through).
 */
#ifndef BPFVM_EXEC_TARGET_H
#define BPFVM_EXEC_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include <bpfvm/bpfvm.h>

#ifdef __cplusplus
extern "C" {
#endif

/* How bpfvm_exec_target__problem reads files: every callback set, or none. */
struct bpfvm_exec_target_opts {
	size_t sz;
	void *ctx;                 /* the callbacks' first argument */
	/* opens path for reading, as openat(dirfd, path): a descriptor, or -errno */
	long (*open)(void *ctx, int dirfd, const char *path);
	/* up to len bytes of fd from offset off: the count read (short at the end), or -errno */
	long (*pread)(void *ctx, long fd, void *buf, size_t len, uint64_t off);
	/* fd's status (mode, owner): 0, or -errno */
	long (*fstat)(void *ctx, long fd, struct stat *st);
	void (*close)(void *ctx, long fd);
	/* the execing process's real and effective ids (read only with the callbacks) */
	uint32_t uid, euid, gid, egid;
	bool no_new_privs;         /* it has no_new_privs: the kernel ignores set-ID bits */
	/*
	 * fd's extended attribute name into buf, as fgetxattr: its length, or
	 * -errno (-ENODATA: none).  Optional: without it file capabilities
	 * (security.capability) go unseen.
	 */
	long (*getxattr)(void *ctx, long fd, const char *name, void *buf, size_t size);
};

/*
 * Why a program execve(dirfd, path) would run is one a preloaded library
 * cannot enter: NULL if it can, else the reason in words ("it is
 * statically linked (...)"), written into why (size bytes).  Not entered:
 * a program with no ELF interpreter (the dynamic linker loads LD_PRELOAD),
 * one that runs set-user-ID or set-group-ID to other ids than the
 * caller's real ones, or with file capabilities for a caller other than
 * root (the kernel marks it AT_SECURE, and the loader ignores
 * LD_PRELOAD), a Go program (its own system calls, goroutines'
 * small stacks), anything but an x86-64 ELF program or a #! script, and
 * what cannot be read.  A script is judged by its interpreter, as the
 * kernel runs that without another execve (up to its 5 levels).  A path
 * that does not exist (ENOENT, ENOTDIR: the execve fails) is NULL.
 * opts NULL or without callbacks: libc's calls and this process's ids.
 * Invalid opts give a reason too (nothing is entered that was not read).
 */
BPFVM_API const char *bpfvm_exec_target__problem(int dirfd, const char *path,
						 const struct bpfvm_exec_target_opts *opts,
						 char *why, size_t size);

#ifdef __cplusplus
}
#endif

#endif
