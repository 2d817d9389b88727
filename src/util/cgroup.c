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
#include "procfs.h"

#define ROOT_CGROUP_ID 1
#define DIR_ROOM 4608         /* a mount (512) and a cgroup path (/proc/TID/cgroup, read in 4096) */

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

/*
 * The directory of tid's cgroup v2 (0: bpfvm's own thread) into dir, and
 * the mount's length in *mnt_len: 0; 1 where no cgroup2 is in use (the
 * root's, id 1, holds every task); -1 where it cannot be found.
 */
static int cgroup_dir(int32_t tid, char *dir, size_t size, size_t *mnt_len)
{
	char text[4096], mnt[512];
	char *rel;

	if (!util_proc_read(tid, "cgroup", text, sizeof(text)))
		return -1;
	/* the "0::" line, the first or after a newline */
	if (!strncmp(text, "0::", 3))
		rel = text + 3;
	else if ((rel = strstr(text, "\n0::")))
		rel += 4;
	if (rel)
		rel[strcspn(rel, "\n")] = '\0';
	if (!rel || cgroup2_mount(mnt, sizeof(mnt)))
		return 1;
	*mnt_len = strlen(mnt);
	snprintf(dir, size, "%s%s", mnt, rel);
	return 0;
}

uint64_t util_cgroup_id(int32_t tid)
{
	char dir[DIR_ROOM];
	size_t mnt_len;
	struct stat st;
	int r = cgroup_dir(tid, dir, sizeof(dir), &mnt_len);

	if (r)
		return r > 0 ? ROOT_CGROUP_ID : 0;
	return stat(dir, &st) ? 0 : (uint64_t)st.st_ino;
}

int util_cgroup_under(int32_t tid, uint64_t ancestor)
{
	char dir[DIR_ROOM], *slash;
	size_t mnt_len;
	struct stat st;
	int r = cgroup_dir(tid, dir, sizeof(dir), &mnt_len);

	if (r)
		return r > 0 && ancestor == ROOT_CGROUP_ID;
	/* from the task's cgroup up to the mount's root, the hierarchy's */
	for (;;) {
		if (!stat(dir, &st) && (uint64_t)st.st_ino == ancestor)
			return 1;
		slash = strrchr(dir, '/');
		if (!slash || (size_t)(slash - dir) < mnt_len)
			return 0;
		*slash = '\0';
	}
}
