/*
 * preload_target.c - the questions asked before preloading one of bpfvm's
 * libraries into a command: where the command is and where the library
 * is (whether the library can enter the command is the library's
 * question: bpfvm_exec_target__problem, which the agent asks too).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "preload_target.h"

int preload_find_command(const char *name, char *out, size_t size)
{
	const char *path = getenv("PATH");

	if (strchr(name, '/')) {
		if (snprintf(out, size, "%s", name) >= (int)size)
			return -ENAMETOOLONG;
		return access(out, X_OK) ? -errno : 0;
	}
	for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
		size_t len = strcspn(p, ":");

		if (snprintf(out, size, "%.*s/%s", (int)len, p, name) < (int)size && !access(out, X_OK))
			return 0;
		p += len + (p[len] == ':');
	}
	return -ENOENT;
}

int preload_find_library(const char *lib, char *out, size_t size)
{
	static const char *const rel[] = { "", "../lib/" };
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (n <= 0)
		return -ENOENT;
	self[n] = '\0';
	if ((slash = strrchr(self, '/')))
		slash[1] = '\0';
	for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++)
		if (snprintf(out, size, "%s%s%s", self, rel[i], lib) < (int)size && !access(out, R_OK))
			return 0;
	return -ENOENT;
}
