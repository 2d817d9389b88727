/*
 * cgroup.c - the kernel's cgroup id of a thread: that of its cgroup in
 * the default (v2) hierarchy, which is the inode number of the cgroup's
 * directory in a cgroup2 mount (kernfs numbers its nodes by id).  The
 * path comes from /proc/TID/cgroup's "0::" line, the mount from
 * /proc/self/mountinfo; a system that mounts no cgroup2 still has the
 * default hierarchy's root, id 1, which is where every task then is.
 * (Inside a cgroup namespace the paths are the namespace's, so the id is
 * found only when bpfvm sees the same cgroup2 root as the kernel.)
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cgroup.h"

#define ROOT_CGROUP_ID 1

/* Where cgroup2 is mounted (its root), into mnt: 0, or -1 where it is not. */
static int cgroup2_mount(char *mnt, size_t size)
{
	char line[1024], point[512], root[512], *sep;
	FILE *f = fopen("/proc/self/mountinfo", "re");
	int found = -1;

	while (f && found && fgets(line, sizeof(line), f)) {
		sep = strstr(line, " - ");
		if (!sep || strncmp(sep + 3, "cgroup2 ", 8) ||
		    sscanf(line, "%*s %*s %*s %511s %511s", root, point) != 2 || strcmp(root, "/"))
			continue;
		snprintf(mnt, size, "%s", point);
		found = 0;
	}
	if (f)
		fclose(f);
	return found;
}

uint64_t util_cgroup_id(int32_t tid)
{
	char path[128], line[1024], mnt[512], dir[1600];
	const char *rel = NULL;
	struct stat st;
	FILE *f;

	if (tid)
		snprintf(path, sizeof(path), "/proc/%d/cgroup", tid);
	else
		snprintf(path, sizeof(path), "/proc/thread-self/cgroup");
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (!rel && fgets(line, sizeof(line), f))
		if (!strncmp(line, "0::", 3)) {
			line[strcspn(line, "\n")] = '\0';
			rel = line + 3;
		}
	fclose(f);
	if (!rel || cgroup2_mount(mnt, sizeof(mnt)))
		return ROOT_CGROUP_ID;   /* no v2 hierarchy in use: its root */
	snprintf(dir, sizeof(dir), "%s%s", mnt, rel);
	return stat(dir, &st) ? 0 : (uint64_t)st.st_ino;
}
