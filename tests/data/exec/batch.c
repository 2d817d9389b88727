/*
 * batch.c - libbpf's batch calls (bpf_map_lookup_batch,
 * lookup_and_delete, update, delete) on hash, per-CPU hash, LRU hash,
 * array and per-CPU array maps, each answer printed one a line (the
 * errno, count, out_batch token and the elements), run in the kernel and
 * under the preload library by test_exec_session.sh, which compares the
 * two.  Hash maps with BPF_F_ZERO_SEED put keys in the same buckets in
 * both, so their batches are compared call by call; a randomly seeded
 * one only by what a whole walk gives, sorted.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N 12
#define MAXV 64
#define F_ZERO_SEED (1u << 6)

static int ncpus;

static const char *err_name(int r)
{
	static char buf[32];

	if (r >= 0)
		return "0";
	switch (errno) {
	case ENOENT: return "ENOENT";
	case EINVAL: return "EINVAL";
	case EFAULT: return "EFAULT";
	case ENOSPC: return "ENOSPC";
	case EPERM: return "EPERM";
	case EEXIST: return "EEXIST";
	case E2BIG: return "E2BIG";
	case 524: return "ENOTSUPP";
	default: snprintf(buf, sizeof(buf), "errno %d", errno); return buf;
	}
}

static size_t vsize(int percpu)
{
	return percpu ? 8 * (size_t)ncpus : 8;
}

static void show(const char *what, int r, uint32_t count, const uint32_t *keys,
		 const uint64_t *vals, int percpu)
{
	printf("%s: %s count %u", what, err_name(r), count);
	for (uint32_t i = 0; keys && i < count && r != -EFAULT; i++) {
		printf(" %u=%llx", keys[i], (unsigned long long)vals[i * vsize(percpu) / 8]);
		for (int c = 1; percpu && c < ncpus; c++)
			printf("/%llx", (unsigned long long)vals[i * vsize(percpu) / 8 + c]);
	}
	printf("\n");
}

static void fill(int fd, int percpu, const char *what)
{
	uint32_t keys[N], count = N;
	uint64_t vals[N * MAXV] = { 0 };

	for (uint32_t i = 0; i < N; i++) {
		keys[i] = i * 7 + 1;
		for (int c = 0; c < (percpu ? ncpus : 1); c++)
			vals[i * vsize(percpu) / 8 + c] = 0x100ull * keys[i] + (uint64_t)c;
	}
	int r = bpf_map_update_batch(fd, keys, vals, &count, NULL);
	printf("%s update_batch: %s count %u\n", what, err_name(r), count);
}

/* Walk with batches of step elements; print each call (exact) or the sorted total. */
static void walk(int fd, uint32_t step, int percpu, int del, int exact, const char *what)
{
	uint32_t keys[N + 4], count, out = 0, total = 0, all[N + 4];
	uint64_t vals[(N + 4) * MAXV], allv[N + 4];
	void *in = NULL;
	int r, calls = 0;
	char line[64];

	do {
		uint32_t want = step;

		do {   /* a random seed may put more in a bucket than fit: ask for more, as a user would */
			count = want;
			memset(keys, 0, sizeof(keys));
			r = del ? bpf_map_lookup_and_delete_batch(fd, in, &out, keys, vals, &count, NULL)
				: bpf_map_lookup_batch(fd, in, &out, keys, vals, &count, NULL);
		} while (!exact && r < 0 && errno == ENOSPC && (want *= 2) <= N);
		snprintf(line, sizeof(line), "%s %s step %u call %d", what,
			 del ? "lookup_and_delete" : "lookup", step, ++calls);
		if (exact)
			show(line, r, count, keys, vals, percpu);
		for (uint32_t i = 0; i < count && r != -EFAULT && total < N + 4; i++, total++) {
			all[total] = keys[i];
			allv[total] = vals[i * vsize(percpu) / 8];
		}
		in = &out;
	} while (r == 0 && calls < 40);
	if (!exact) {
		for (uint32_t i = 0; i < total; i++)   /* sort by key */
			for (uint32_t j = i + 1; j < total; j++)
				if (all[j] < all[i]) {
					uint32_t k = all[i];
					uint64_t v = allv[i];

					all[i] = all[j], allv[i] = allv[j], all[j] = k, allv[j] = v;
				}
		snprintf(line, sizeof(line), "%s %s step %u all", what,
			 del ? "lookup_and_delete" : "lookup", step);
		show(line, r, total, all, allv, 0);
	}
}

static void bad_calls(int fd, int exact, const char *what)
{
	uint32_t keys[N], count, out, big = 1u << 20, missing[2] = { 1000, 1001 };
	uint64_t vals[N * MAXV];
	LIBBPF_OPTS(bpf_map_batch_opts, lock, .elem_flags = 4 /* BPF_F_LOCK */);
	LIBBPF_OPTS(bpf_map_batch_opts, flags, .flags = 1);
	LIBBPF_OPTS(bpf_map_batch_opts, any, .elem_flags = 1 /* BPF_NOEXIST */);
	int r;

	count = 4;
	r = bpf_map_lookup_batch(fd, NULL, &out, keys, vals, &count, &lock);
	printf("%s lookup BPF_F_LOCK: %s count %u\n", what, err_name(r), count);
	count = 4;
	r = bpf_map_lookup_batch(fd, NULL, &out, keys, vals, &count, &flags);
	printf("%s lookup flags 1: %s count %u\n", what, err_name(r), count);
	count = 2;
	r = bpf_map_update_batch(fd, missing, vals, &count, &any);
	printf("%s update elem_flags NOEXIST: %s count %u\n", what, err_name(r), count);
	count = 0;
	r = bpf_map_lookup_batch(fd, NULL, &out, keys, vals, &count, NULL);
	printf("%s lookup count 0: %s count %u\n", what, err_name(r), count);
	count = 4;
	r = bpf_map_lookup_batch(fd, NULL, &out, NULL, vals, &count, NULL);
	printf("%s lookup keys NULL: %s count %u\n", what, err_name(r), count);
	count = 4;
	r = bpf_map_lookup_batch(fd, NULL, NULL, keys, vals, &count, NULL);
	printf("%s lookup out_batch NULL: %s count %u\n", what, err_name(r), count);
	count = 4;
	r = bpf_map_lookup_batch(fd, &big, &out, keys, vals, &count, NULL);
	printf("%s lookup in_batch %u: %s count %u\n", what, big, err_name(r), count);
	count = 2;
	r = bpf_map_delete_batch(fd, missing, &count, NULL);
	printf("%s delete missing: %s count %u\n", what, err_name(r), count);
	count = 2;
	r = bpf_map_delete_batch(fd, NULL, &count, NULL);
	printf("%s delete keys NULL: %s count %u\n", what, err_name(r), count);
	count = 2;
	r = bpf_map_update_batch(fd, keys, NULL, &count, NULL);
	printf("%s update values NULL: %s count %u\n", what, err_name(r), count);
	count = 4;
	r = bpf_map_lookup_and_delete_batch(fd, NULL, &out, keys, vals, &count, NULL);
	/* how many a randomly seeded table gives depends on its buckets */
	printf("%s lookup_and_delete: %s count %u\n", what, err_name(r), exact ? count : 0);
}

static void one_type(enum bpf_map_type type, uint32_t flags, int percpu, int exact,
		     const char *what)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = flags);
	int hash = type != BPF_MAP_TYPE_ARRAY && type != BPF_MAP_TYPE_PERCPU_ARRAY;
	int fd = bpf_map_create(type, "batch", 4, 8, hash ? 16 : N, &o);

	if (fd < 0) {
		printf("%s create: %s\n", what, err_name(fd));
		return;
	}
	fill(fd, percpu, what);
	walk(fd, 3, percpu, 0, exact, what);
	walk(fd, 5, percpu, 0, exact, what);
	walk(fd, 100, percpu, 0, exact, what);
	if (hash && exact)
		walk(fd, 1, percpu, 0, 1, what);   /* a bucket of two does not fit: ENOSPC */
	bad_calls(fd, exact, what);
	if (hash) {
		fill(fd, percpu, what);
		walk(fd, 4, percpu, 1, exact, what);
		walk(fd, 4, percpu, 0, exact, what);   /* empty now */
	}
	if (bpf_map_freeze(fd) == 0) {
		uint32_t keys[1] = { 1 }, count = 1;
		uint64_t vals[MAXV] = { 0 };
		int r = bpf_map_update_batch(fd, keys, vals, &count, NULL);

		printf("%s frozen update: %s count %u\n", what, err_name(r), count);
	}
}

/* LPM tries: generic batches over {prefixlen, data} keys, walked in the trie's order. */
static void lpm(void)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = 1 /* BPF_F_NO_PREALLOC */);
	uint32_t keys[8][2] = { { 8, 0x0a }, { 16, 0x010a }, { 24, 0x02010a }, { 8, 0x0b },
				{ 32, 0x0302010a } }, got[8][2], count = 5, out[2], i;
	uint64_t vals[8] = { 1, 2, 3, 4, 5 }, gotv[8];
	int fd = bpf_map_create(BPF_MAP_TYPE_LPM_TRIE, "lpm", 8, 8, 16, &o), r, calls = 0;
	void *in = NULL;

	if (fd < 0) {
		printf("lpm create: %s\n", err_name(fd));
		return;
	}
	r = bpf_map_update_batch(fd, keys, vals, &count, NULL);
	printf("lpm update_batch: %s count %u\n", err_name(r), count);
	do {
		count = 2;
		r = bpf_map_lookup_batch(fd, in, out, got, gotv, &count, NULL);
		printf("lpm lookup step 2 call %d: %s count %u", ++calls, err_name(r), count);
		for (i = 0; i < count && r != -EFAULT; i++)
			printf(" %u/%x=%llu", got[i][0], got[i][1], (unsigned long long)gotv[i]);
		printf("\n");
		in = out;
	} while (r == 0 && calls < 10);
	count = 2;
	r = bpf_map_delete_batch(fd, keys[1], &count, NULL);
	printf("lpm delete_batch: %s count %u\n", err_name(r), count);
	count = 2;
	r = bpf_map_delete_batch(fd, keys[1], &count, NULL);
	printf("lpm delete_batch again: %s count %u\n", err_name(r), count);
	count = 8;
	r = bpf_map_lookup_batch(fd, NULL, out, got, gotv, &count, NULL);
	printf("lpm lookup all: %s count %u", err_name(r), count);
	for (i = 0; i < count && r != -EFAULT; i++)
		printf(" %u/%x=%llu", got[i][0], got[i][1], (unsigned long long)gotv[i]);
	printf("\n");
	count = 8;
	r = bpf_map_lookup_and_delete_batch(fd, NULL, out, got, gotv, &count, NULL);
	printf("lpm lookup_and_delete: %s count %u\n", err_name(r), count);
}

int main(void)
{
	ncpus = libbpf_num_possible_cpus();
	if (ncpus <= 0 || ncpus > MAXV) {
		printf("possible cpus: %d\n", ncpus);
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	one_type(BPF_MAP_TYPE_HASH, F_ZERO_SEED, 0, 1, "hash zero-seed");
	one_type(BPF_MAP_TYPE_HASH, 0, 0, 0, "hash");
	one_type(BPF_MAP_TYPE_PERCPU_HASH, F_ZERO_SEED, 1, 1, "percpu_hash zero-seed");
	one_type(BPF_MAP_TYPE_LRU_HASH, 0, 0, 0, "lru_hash");
	one_type(BPF_MAP_TYPE_ARRAY, 0, 0, 1, "array");
	one_type(BPF_MAP_TYPE_PERCPU_ARRAY, 0, 1, 1, "percpu_array");
	lpm();
	return 0;
}
