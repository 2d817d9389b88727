/*
 * procfs.c - a thread's files under /proc, and the fields of its status
 * and stat.  A thread id names its thread's files at /proc/TID as well as
 * its process's leader's (the directory is only left out of listings);
 * tid 0 names the calling thread's, /proc/thread-self.  stat's fields are
 * counted after the comm's closing parenthesis: a comm may hold spaces
 * and parentheses itself.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "procfs.h"

void util_proc_path(int32_t tid, const char *file, char *path, size_t size)
{
	if (tid)
		snprintf(path, size, "/proc/%d/%s", tid, file);
	else
		snprintf(path, size, "/proc/thread-self/%s", file);
}

size_t util_proc_read(int32_t tid, const char *file, char *buf, size_t size)
{
	char path[64];
	size_t n;
	FILE *f;

	buf[0] = '\0';
	util_proc_path(tid, file, path, sizeof(path));
	f = fopen(path, "re");
	if (!f)
		return 0;
	n = fread(buf, 1, size - 1, f);
	fclose(f);
	buf[n] = '\0';
	return n;
}

int util_proc_status_nums(const char *status, const char *key, int base, uint64_t *vals, int max)
{
	size_t klen = strlen(key);
	const char *line = status;
	int n = 0;

	while (line && strncmp(line, key, klen))
		if ((line = strchr(line, '\n')))
			line++;
	if (!line)
		return 0;
	for (char *p = (char *)line + klen, *end; n < max; p = end) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\n' || !*p)
			break;
		vals[n++] = strtoull(p, &end, base);
		if (end == p)
			break;
	}
	return n;
}

uint64_t util_proc_status(int32_t tid, const char *key, int base)
{
	char buf[4096];
	uint64_t v = 0;

	util_proc_read(tid, "status", buf, sizeof(buf));
	util_proc_status_nums(buf, key, base, &v, 1);
	return v;
}

long util_proc_stat_field(const char *stat, int field)
{
	const char *p = strrchr(stat, ')');
	long v = 0;

	for (int i = 2; p && i < field; i++)
		p = strchr(p + 1, ' ');
	if (p)
		sscanf(p + 1, "%ld", &v);
	return v;
}

long util_proc_stat(int32_t tid, int field)
{
	char buf[1024];

	util_proc_read(tid, "stat", buf, sizeof(buf));
	return util_proc_stat_field(buf, field);
}

static int by_pid_down(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

	return x < y ? 1 : x > y ? -1 : 0;
}

size_t util_proc_pgrp(int32_t pgid, int32_t *pids, size_t max)
{
	DIR *dir = opendir("/proc");
	struct dirent *d;
	size_t n = 0;

	while (dir && n < max && (d = readdir(dir))) {
		int32_t pid = (int32_t)atoi(d->d_name);

		if (pid > 0 && util_proc_stat(pid, 5) == pgid)
			pids[n++] = pid;
	}
	if (dir)
		closedir(dir);
	qsort(pids, n, sizeof(*pids), by_pid_down);
	return n;
}
