/*
 * procfs.c - fields of /proc/TID/status and /proc/TID/stat.  A thread id
 * names its thread's files at /proc/TID as well as its process's leader's
 * (the directory is only left out of listings).  stat's fields are
 * counted after the comm's closing parenthesis: a comm may hold spaces
 * and parentheses itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "procfs.h"

uint64_t ev_proc_status(int32_t tid, const char *key, int base)
{
	char path[64], line[256];
	size_t klen = strlen(key);
	uint64_t v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", tid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen)) {
			v = strtoull(line + klen, NULL, base);
			break;
		}
	fclose(f);
	return v;
}

long ev_proc_stat(int32_t tid, int field)
{
	char path[64], buf[1024], *p;
	long v = 0;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", tid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	for (int i = 2; p && i < field; i++)
		p = strchr(p + 1, ' ');
	if (p)
		sscanf(p + 1, "%ld", &v);
	return v;
}
