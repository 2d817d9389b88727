/*
 * workload.c - what bench_trace times, from inside the traced process so
 * that starting the tracer is not counted:
 *
 *   workload getppid N   N getppid() calls (the attached call)
 *   workload getuid N    N getuid() calls (never attached: the filter's cost alone)
 *   workload work N      N getuid() calls with some 2 us of work between them
 *   workload openat N    N opens (and closes) of /etc/hostname: what opensnoop sees
 *
 * Prints "ns T": the loop's wall time.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static volatile unsigned long sink;

static unsigned long long now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	long n = argc == 3 ? atol(argv[2]) : 0, call = SYS_getuid;
	int work = argc == 3 && !strcmp(argv[1], "work");
	unsigned long long t0;

	if (n <= 0)
		return 2;
	if (!strcmp(argv[1], "getppid"))
		call = SYS_getppid;
	t0 = now();
	for (long i = 0; !strcmp(argv[1], "openat") && i < n; i++)
		close(open("/etc/hostname", O_RDONLY));
	for (long i = 0; strcmp(argv[1], "openat") && i < n; i++) {
		syscall(call);
		for (int j = 0; work && j < 2000; j++)
			sink += (unsigned long)j * 2654435761u;
	}
	printf("ns %llu\n", now() - t0);
	return 0;
}
