/*
 * malloc_workload.c - what bench_workload times, from inside the traced
 * process: THREADS threads, each calling malloc (and free) N / THREADS
 * times, with a uprobe on libc's malloc counting calls per thread.
 *
 *   malloc_workload N    prints "ns T": the wall time from the threads'
 *                        start to the last one's end
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define THREADS 4

static long per_thread;

static void *work(void *arg)
{
	void *volatile p;

	(void)arg;
	for (long i = 0; i < per_thread; i++) {
		p = malloc(32 + (size_t)(i & 7) * 8);
		free(p);
	}
	return NULL;
}

static unsigned long long now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	long n = argc == 2 ? atol(argv[1]) : 0;
	pthread_t th[THREADS];
	unsigned long long t0;

	if (n < THREADS)
		return 2;
	per_thread = n / THREADS;
	t0 = now();
	for (int i = 0; i < THREADS; i++)
		if (pthread_create(&th[i], NULL, work, NULL))
			return 1;
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	printf("ns %llu\n", now() - t0);
	return 0;
}
