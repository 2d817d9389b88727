/*
 * map_util.c - tools the map types share: the spin lock they guard short
 * critical sections with, BPF_F_LOCK value copies under a value's own
 * bpf_spin_lock, slab memory, the number of possible CPUs, hash seeds.
 */
#include "map.h"

#include "../core/instance.h"
#include "shm.h"

#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ volatile("yield");
#endif
}

/*
 * Contended: spin a little (the holder is usually running on another CPU
 * and about to let go), then yield, since in user space the holder may
 * have been preempted, which the kernel's raw spinlocks never see.
 */
void map_lock_slow(uint32_t *lock)
{
	for (unsigned spins = 0;; spins++) {
		if (!__atomic_load_n(lock, __ATOMIC_RELAXED) &&
		    !__atomic_exchange_n(lock, 1, __ATOMIC_ACQUIRE))
			return;
		if (spins < 64)
			cpu_relax();
		else
			sched_yield();
	}
}

void map_copy_value_locked(const struct bpfvm_map *map, void *dst, const void *src, bool to_map)
{
	uint32_t *lock = (uint32_t *)((char *)(to_map ? dst : (void *)src) + map->spin_lock_off);

	map_lock(lock);
	map_copy_value(map, dst, src);
	map_unlock(lock);
}

/* Refuse slabs larger than the machine's memory, as the kernel's allocator would. */
static bool area_too_big(uint64_t size)
{
	long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);

	return size > (1ull << 46) || (pages > 0 && page > 0 && size > (uint64_t)pages * page);
}

void *map_area_alloc(const struct bpfvm_map *map, uint64_t size, bool populate)
{
	void *p;

	if (map->vm->shm)
		return area_too_big(size) ? NULL : map_shm_alloc(map->vm->shm, size, populate);
	if (!size)
		size = 1;
	if (area_too_big(size))
		return NULL;
	/* Lazily committed unless populate: a map that never fills costs nothing. */
	p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | (populate ? MAP_POPULATE : 0), -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

void map_area_free(const struct bpfvm_map *map, void *area, uint64_t size)
{
	if (map->vm->shm && !map->shm_guest)
		map_shm_free(map->vm->shm, area, size);
	else if (area && !map->vm->shm)
		munmap(area, size ? size : 1);
}

/* "0-3,8-11": the highest CPU number plus one, as num_possible_cpus() counts slots. */
static int parse_cpu_list(const char *s)
{
	int max = -1;

	while (*s) {
		char *end;
		long v = strtol(s, &end, 10);

		if (end == s)
			break;
		if (v > max)
			max = (int)v;
		s = end;
		if (*s == '-' || *s == ',')
			s++;
	}
	return max + 1;
}

int maps_possible_cpus(void)
{
	char buf[256];
	int n = 0;
	FILE *f = fopen("/sys/devices/system/cpu/possible", "r");

	if (f) {
		if (fgets(buf, sizeof(buf), f))
			n = parse_cpu_list(buf);
		fclose(f);
	}
	if (n <= 0)
		n = (int)sysconf(_SC_NPROCESSORS_CONF);
	return n > 0 ? n : 1;
}

/* Seeds for hash tables and bloom filters (the kernel's get_random_u32). */
uint32_t map_random_seed(void)
{
	uint32_t seed;
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	struct timespec ts;

	if (fd >= 0) {
		ssize_t n = read(fd, &seed, sizeof(seed));

		close(fd);
		if (n == sizeof(seed))
			return seed;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint32_t)(ts.tv_nsec ^ ((uintptr_t)&seed >> 4));
}
