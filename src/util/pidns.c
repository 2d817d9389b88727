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
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "pidns.h"

/* The last number of status's line that starts with key, or -1. */
static long last_entry(const char *line, const char *key)
{
	const char *p;
	long v = -1;
	int n;

	if (strncmp(line, key, strlen(key)))
		return -1;
	for (p = line + strlen(key); sscanf(p, "%ld%n", &v, &n) == 1; p += n)
		;
	return v;
}

int util_pid_ns(int32_t tid, struct util_pid_ns *ns)
{
	char dir[32], path[64], line[256];
	long pid = -1, tgid = -1, v;
	struct stat st;
	FILE *f;

	if (tid)
		snprintf(dir, sizeof(dir), "/proc/%d", tid);
	else
		snprintf(dir, sizeof(dir), "/proc/thread-self");
	snprintf(path, sizeof(path), "%s/ns/pid", dir);
	if (stat(path, &st))
		return -ENOENT;
	ns->dev = (uint64_t)major(st.st_dev) << 20 | minor(st.st_dev);
	ns->ino = st.st_ino;
	snprintf(path, sizeof(path), "%s/status", dir);
	f = fopen(path, "re");
	if (!f)
		return -ENOENT;
	while (fgets(line, sizeof(line), f)) {
		if ((v = last_entry(line, "NSpid:")) >= 0)
			pid = v;
		if ((v = last_entry(line, "NStgid:")) >= 0)
			tgid = v;
	}
	fclose(f);
	if (pid < 0 || tgid < 0)
		return -ENOENT;
	ns->pid = (uint32_t)pid;
	ns->tgid = (uint32_t)tgid;
	return 0;
}
