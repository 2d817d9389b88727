/*
 * proc_maps.c - /proc/PID/maps parsed once for everyone: "start-end perms
 * offset major:minor inode path", the path (which may hold spaces) the rest
 * of the line.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "proc_maps.h"

int util_proc_maps(int32_t pid, int (*fn)(void *ctx, const struct util_mapping *m), void *ctx)
{
	char path[64], line[PATH_MAX + 128];
	int rc = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	if (!(f = fopen(path, "re")))
		return -errno;
	while (!rc && fgets(line, sizeof(line), f)) {
		struct util_mapping m = { 0 };
		unsigned long long ino;
		int pos = 0;

		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %4s %" SCNx64 " %x:%x %llu %n", &m.start,
			   &m.end, m.perms, &m.offset, &m.dev_major, &m.dev_minor, &ino, &pos) < 7)
			continue;
		line[strcspn(line, "\n")] = '\0';
		m.ino = ino;
		m.path = pos ? line + pos : "";
		rc = fn(ctx, &m);
	}
	fclose(f);
	return rc;
}
