/*
 * toctou.c - the race a sys_enter check must survive: thread B rewrites
 * the path buffer between "/etc/passwd" and HARMLESS in a loop while
 * thread A opens whatever it holds.  Under a program that blocks opens of
 * /etc/passwd, no open may give /etc/passwd: each fd that opens is
 * checked by what it is (/proc/self/fd) and what it reads.
 *
 *   toctou HARMLESS [ITERATIONS [SECONDS [traced]]]
 *
 * traced: first wait (5 s at most) until a tracer has it (bpfvm trace -p).
 *
 * Prints "opened N blocked N harmless N other N passwd N" (passwd: opens
 * of /etc/passwd that got through, each also said at once by a BREACH
 * line) and exits 0, or 1 when some did; 3 when openat's argument
 * registers were not as it left them after the call.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char path[64];
static const char *harmless;
static atomic_int stop;

static void *flipper(void *arg)
{
	size_t nh = strlen(harmless) + 1, np = sizeof("/etc/passwd");

	(void)arg;
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		memcpy(path, "/etc/passwd", np);
		for (volatile int i = 0; i < 50; i++)
			;
		memcpy(path, harmless, nh);
		for (volatile int i = 0; i < 50; i++)
			;
	}
	return NULL;
}

/* What fd is: 1 /etc/passwd (by its name or its first line), 0 the harmless file, 2 else. */
static int what(int fd)
{
	char link[64], target[256] = "", head[8] = "";
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	target[n > 0 ? n : 0] = '\0';
	n = pread(fd, head, 5, 0);
	head[n > 0 ? n : 0] = '\0';
	if (!strcmp(target, "/etc/passwd") || !strcmp(head, "root:"))
		return 1;
	return !strcmp(target, harmless) ? 0 : 2;
}

/*
 * openat(AT_FDCWD, p) by the syscall instruction: a system call leaves its
 * argument registers as they were, so rsi must still be p after it.
 */
static bool registers_kept(const char *p)
{
	register long r10 __asm__("r10") = 0;
	long ret, rsi = (long)p, rdi = AT_FDCWD, rdx = O_RDONLY;

	__asm__ volatile("syscall" : "=a"(ret), "+S"(rsi), "+D"(rdi), "+d"(rdx), "+r"(r10)
			 : "a"(257L) : "rcx", "r11", "memory");
	if (ret >= 0)
		close((int)ret);
	return rsi == (long)p && rdi == AT_FDCWD && rdx == O_RDONLY;
}

static bool is_traced(void)
{
	char line[128];
	bool yes = false;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "TracerPid:", 10))
			yes = atoi(line + 10) != 0;
	if (f)
		fclose(f);
	return yes;
}

int main(int argc, char **argv)
{
	long iterations = argc > 2 ? atol(argv[2]) : 3000, counts[5] = { 0 };
	int seconds = argc > 3 ? atoi(argv[3]) : 5;
	struct timespec start, now;
	pthread_t th;

	if (argc < 2 || strlen(argv[1]) >= sizeof(path))
		return 2;
	harmless = argv[1];
	for (int i = 0; argc > 4 && !strcmp(argv[4], "traced") && !is_traced(); i++)
		if (i == 500 || usleep(10000))
			return 2;
	memcpy(path, harmless, strlen(harmless) + 1);
	if (!registers_kept(harmless) || !registers_kept("/etc/passwd")) {
		printf("the argument registers changed across openat\n");
		return 3;
	}
	if (pthread_create(&th, NULL, flipper, NULL))
		return 2;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (long i = 0; i < iterations; i++) {
		int fd = open(path, O_RDONLY);

		if (fd < 0) {
			counts[errno == EPERM ? 1 : 3]++;
		} else {
			int w = what(fd);

			counts[0]++;
			counts[w == 1 ? 4 : w == 0 ? 2 : 3]++;
			if (w == 1)    /* at once: a program that kills at the check leaves no end line */
				dprintf(1, "BREACH: open %ld gave /etc/passwd\n", i);
			close(fd);
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec >= seconds)
			break;
	}
	atomic_store(&stop, 1);
	pthread_join(th, NULL);
	printf("opened %ld blocked %ld harmless %ld other %ld passwd %ld\n", counts[0], counts[1],
	       counts[2], counts[3], counts[4]);
	return counts[4] ? 1 : 0;
}
