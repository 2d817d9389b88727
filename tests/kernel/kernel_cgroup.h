/*
 * kernel_cgroup.h - for the kernel comparisons that run their workloads in
 * a cgroup v2 of their own: where cgroup2 is mounted and which cgroup this
 * process is in, and moving a process into a cgroup.
 */
#ifndef BPFVM_TESTS_KERNEL_CGROUP_H
#define BPFVM_TESTS_KERNEL_CGROUP_H

#include <stdio.h>
#include <string.h>
#include <sys/types.h>

/* The cgroup2 mount (its root) and this process's cgroup under it ("/..."): 0, or -1. */
static inline int kernel_own_cgroup(char mnt[512], char rel[512])
{
	char line[1024], root[512], point[512], *sep;
	FILE *f = fopen("/proc/self/mountinfo", "r");

	mnt[0] = rel[0] = '\0';
	while (f && !mnt[0] && fgets(line, sizeof(line), f))
		if ((sep = strstr(line, " - ")) && !strncmp(sep + 3, "cgroup2 ", 8) &&
		    sscanf(line, "%*s %*s %*s %511s %511s", root, point) == 2 && !strcmp(root, "/"))
			snprintf(mnt, 512, "%s", point);
	if (f)
		fclose(f);
	f = fopen("/proc/self/cgroup", "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "0::", 3))
			sscanf(line + 3, "%511s", rel);
	if (f)
		fclose(f);
	return mnt[0] && rel[0] ? 0 : -1;
}

/* Write pid into the cgroup at path: 0 or -1. */
static inline int cgroup_move(const char *path, pid_t pid)
{
	char procs[1200];
	FILE *f;
	int rc;

	snprintf(procs, sizeof(procs), "%s/cgroup.procs", path);
	f = fopen(procs, "w");
	if (!f)
		return -1;
	rc = fprintf(f, "%d\n", (int)pid) > 0 ? 0 : -1;
	return fclose(f) || rc ? -1 : 0;
}

#endif
