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
 * Prints "opened N blocked N harmless N other N passwd N failed N"
 * (other: opens of neither file; passwd: opens of /etc/passwd that got
 * through, each also said at once by a BREACH line; failed: opens that
 * failed but not with EPERM, of a path read half flipped) and exits 0,
 * or 1 when some got through; 3 when openat's argument
 * registers were not as it left them after the call.  Then "sealed N
 * refused N": bpfvm's sealed slot pages, and how many of them refused
 * to be made writable or unmapped.
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
#include <sys/mman.h>
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

/*
 * The pages bpfvm gave the opens their paths in (anonymous, read-only,
 * 64 KiB, sealed: "sl" in smaps): how many, and how many of them an
 * mprotect to writable and an munmap both failed on (EPERM).
 */
static void sealed_slots(int *n, int *refused)
{
	char line[256];
	unsigned long start = 0, end = 0;
	bool anon_ro = false;
	FILE *f = fopen("/proc/self/smaps", "r");

	*n = *refused = 0;
	while (f && fgets(line, sizeof(line), f)) {
		char perms[8], path[64] = "";
		unsigned long s, e;

		if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %63s", &s, &e, perms, path) >= 3) {
			start = s;
			end = e;
			anon_ro = !strcmp(perms, "r--p") && !path[0] && end - start == 65536;
		} else if (anon_ro && !strncmp(line, "VmFlags:", 8) && strstr(line, " sl")) {
			(*n)++;
			*refused += mprotect((void *)start, end - start, PROT_READ | PROT_WRITE) &&
				    errno == EPERM && munmap((void *)start, end - start) && errno == EPERM;
		}
	}
	if (f)
		fclose(f);
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
	long iterations = argc > 2 ? atol(argv[2]) : 3000, counts[6] = { 0 };
	int seconds = argc > 3 ? atoi(argv[3]) : 5;
	struct timespec start, now;
	int sealed, refused;
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
			counts[errno == EPERM ? 1 : 5]++;   /* 5: a path caught half flipped (ENOENT) */
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
	printf("opened %ld blocked %ld harmless %ld other %ld passwd %ld failed %ld\n", counts[0],
	       counts[1], counts[2], counts[3], counts[4], counts[5]);
	sealed_slots(&sealed, &refused);
	printf("sealed %d refused %d\n", sealed, refused);
	return counts[4] ? 1 : 0;
}
