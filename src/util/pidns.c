/*
 * pidns.c - a thread's active pid namespace (the innermost, the one it
 * was created in) and its ids there, from /proc: the namespace's device
 * and inode are those of /proc/TID/ns/pid, as the kernel's ns_match
 * compares them, and its ids the last entries of /proc/TID/status's NSpid
 * and NStgid lines (one entry per level, outermost first).  The device is
 * turned into the kernel's own encoding, which is what a program's dev
 * argument is compared with.
 */
#include <errno.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "pidns.h"
#include "procfs.h"

/* The last number of status's line that starts with key, or -1. */
static int64_t last_entry(const char *status, const char *key)
{
	uint64_t v[32];
	int n = util_proc_status_nums(status, key, 10, v, 32);

	return n > 0 ? (int64_t)v[n - 1] : -1;
}

int util_pid_ns(int32_t tid, struct util_pid_ns *ns)
{
	char path[64], status[4096];
	int64_t pid, tgid;
	struct stat st;

	util_proc_path(tid, "ns/pid", path, sizeof(path));
	if (stat(path, &st))
		return -ENOENT;
	ns->dev = (uint64_t)major(st.st_dev) << 20 | minor(st.st_dev);
	ns->ino = st.st_ino;
	if (!util_proc_read(tid, "status", status, sizeof(status)))
		return -ENOENT;
	pid = last_entry(status, "NSpid:");
	tgid = last_entry(status, "NStgid:");
	if (pid < 0 || tgid < 0)
		return -ENOENT;
	ns->pid = (uint32_t)pid;
	ns->tgid = (uint32_t)tgid;
	return 0;
}
