/*
 * test_kernel_maps.c - bpfvm's maps against the kernel's.  The same map
 * is created in both (bpf(BPF_MAP_CREATE) and bpfvm_map__new), the same
 * random sequence of update / lookup / delete / lookup-and-delete /
 * get_next_key with random (also invalid) flags is applied to both, and
 * every return code and every byte returned must agree.  Hash tables and
 * bloom filters use BPF_F_ZERO_SEED, so that the jhash bucket order (and
 * so get_next_key's order, and the bloom filter's false positives) is
 * comparable to the bit.  Creation is compared too: the error (or
 * success) for random combinations of type, sizes, flags and map_extra.
 *
 * LRU maps are compared while they are not full: which element the
 * kernel's LRU evicts is an approximation bpfvm does not reproduce.  The
 * test pins itself to one CPU, as the kernel's LRU lists and per-CPU
 * values depend on it.
 *
 * Environment: BPFVM_MAPS_SEED (default: from the clock; printed),
 * BPFVM_MAPS_OPS (operations per map, default 3000).
 * Skips (exit 0) unless bpf() works (root, or CAP_BPF); a map type the
 * host kernel lacks (kernel_host.h) skips its cases, with the reason.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/bpf.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <bpfvm/maps.h>

#include "kernel_host.h"
#include "test.h"

#define MAX_BUF 65536
#define MAX_REPORTS 5

static uint64_t seed;
static uint64_t nops = 3000;
static int ncpus;

/* splitmix64 */
static uint64_t rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint32_t below(uint64_t *s, uint32_t n)
{
	return (uint32_t)(rnd(s) % n);
}

static int kmap_op(int cmd, int fd, const void *key, void *value, uint64_t flags)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.map_fd = (uint32_t)fd;
	a.key = (uintptr_t)key;
	if (cmd == BPF_MAP_GET_NEXT_KEY)
		a.next_key = (uintptr_t)value;
	else
		a.value = (uintptr_t)value;
	a.flags = flags;
	return sys_bpf(cmd, &a) < 0 ? -errno : 0;
}

static const char *kernel_unusable(char *why, size_t size)
{
	int fd = kernel_map_create(BPF_MAP_TYPE_ARRAY, 4, 4, 1, 0, 0);
	char version[KERNEL_VERSION_SIZE];

	if (fd < 0) {
		snprintf(why, size, "bpf(BPF_MAP_CREATE) fails: %s (%s; not root, or no CAP_BPF?)",
			 strerror(-fd), kernel_version(version, sizeof(version)));
		return why;
	}
	close(fd);
	return NULL;
}

/* ---- one map, both sides ---------------------------------------------------------- */

struct pair {
	uint32_t type, ks, vs, max, flags;
	int fd;
	struct bpfvm *vm;
	struct bpfvm_map *m;
	uint32_t key_space;
	uint64_t s;
	int reports;
	uint64_t ops, mismatches;
	bool lru_full;       /* stop comparing contents: the LRUs may differ now */
};

static bool is_keyless(uint32_t t)
{
	return t == BPF_MAP_TYPE_QUEUE || t == BPF_MAP_TYPE_STACK || t == BPF_MAP_TYPE_BLOOM_FILTER;
}

static bool is_percpu(uint32_t t)
{
	return t == BPF_MAP_TYPE_PERCPU_HASH || t == BPF_MAP_TYPE_PERCPU_ARRAY ||
	       t == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

static bool is_lru(uint32_t t)
{
	return t == BPF_MAP_TYPE_LRU_HASH || t == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

static size_t value_bytes(const struct pair *p)
{
	return is_percpu(p->type) ? (size_t)((p->vs + 7) & ~7u) * (size_t)ncpus : p->vs;
}

static void gen_key(struct pair *p, uint8_t *key)
{
	uint32_t k = below(&p->s, p->key_space);

	memset(key, 0, p->ks);
	if (p->type == BPF_MAP_TYPE_LPM_TRIE) {
		uint32_t maxlen = (p->ks - 4) * 8;
		uint32_t plen = below(&p->s, 50) ? below(&p->s, maxlen + 1) : maxlen + 1;

		memcpy(key, &plen, 4);
		for (uint32_t i = 4; i < p->ks; i++)   /* few distinct bit patterns */
			key[i] = (uint8_t)((k >> (i % 3)) & 1 ? 0xc0 | k : k << 4);
		return;
	}
	for (uint32_t i = 0; i < p->ks; i++)
		key[i] = (uint8_t)(k >> (8 * (i % 4)));
}

/*
 * Devmaps: an ifindex that exists (loopback, 1), none (0) or one that does
 * not; cpumaps: a queue size in and out of range.  With 8-byte values a
 * program fd, mostly none (bpfvm refuses programs on entries).
 */
static void gen_redirect_value(struct pair *p, uint8_t *v)
{
	static const uint32_t ifindexes[] = { 1, 1, 1, 0, 0, 999999 };
	static const uint32_t qsizes[] = { 1, 64, 16384, 0, 0, 16385 };
	static const int32_t fds[] = { 0, 0, 0, -1, -1 };
	uint32_t first = p->type == BPF_MAP_TYPE_CPUMAP ? qsizes[below(&p->s, 6)]
						       : ifindexes[below(&p->s, 6)];
	int32_t fd = fds[below(&p->s, 5)];

	memcpy(v, &first, 4);
	if (p->vs == 8)
		memcpy(v + 4, &fd, 4);
}

static void gen_value(struct pair *p, uint8_t *v)
{
	size_t n = value_bytes(p);

	for (size_t i = 0; i < n; i++)
		v[i] = (uint8_t)rnd(&p->s);
	if (p->type == BPF_MAP_TYPE_BLOOM_FILTER)   /* a small set, so lookups hit */
		memset(v, (int)below(&p->s, 64), n);
	if (p->type == BPF_MAP_TYPE_DEVMAP || p->type == BPF_MAP_TYPE_DEVMAP_HASH ||
	    p->type == BPF_MAP_TYPE_CPUMAP)
		gen_redirect_value(p, v);
}

static uint64_t gen_flags(struct pair *p)
{
	static const uint64_t common[] = { 0, 0, 0, 1, 2, 0, 1, 2, 4, 3, 5, 8, 1ull << 40 };

	return common[below(&p->s, sizeof(common) / sizeof(common[0]))];
}

static void report(struct pair *p, const char *what, int kerr, int verr)
{
	p->mismatches++;
	if (p->reports++ >= MAX_REPORTS)
		return;
	TEST_FAIL("map type %u (key %u, value %u, max %u, flags 0x%x), op %" PRIu64 ": %s: "
		  "kernel %d, bpfvm %d (BPFVM_MAPS_SEED=0x%" PRIx64 ")",
		  p->type, p->ks, p->vs, p->max, p->flags, p->ops, what, kerr, verr, seed);
}

static void compare(struct pair *p, const char *what, int kerr, int verr, const void *kbuf,
		    const void *vbuf, size_t n)
{
	if (kerr != verr)
		report(p, what, kerr, verr);
	else if (!kerr && n && memcmp(kbuf, vbuf, n))
		report(p, what, 0, 0);
}

/* How many keys the kernel's map holds now (for LRU maps: stop when it is full). */
static uint32_t kernel_count(struct pair *p)
{
	uint8_t key[512], next[512];
	uint32_t n = 0;
	int err;

	for (err = kmap_op(BPF_MAP_GET_NEXT_KEY, p->fd, NULL, next, 0); !err && n <= p->max;
	     err = kmap_op(BPF_MAP_GET_NEXT_KEY, p->fd, key, next, 0)) {
		memcpy(key, next, p->ks);
		n++;
	}
	return n;
}

static void one_op(struct pair *p, uint8_t *kb, uint8_t *vb)
{
	uint8_t key[512], value[MAX_BUF];
	uint64_t flags = gen_flags(p);
	size_t n = value_bytes(p);
	const void *k = is_keyless(p->type) ? NULL : key;
	int op = (int)below(&p->s, 10), ke, ve;

	gen_key(p, key);
	gen_value(p, value);
	memcpy(kb, value, n);
	memcpy(vb, value, n);
	if (is_lru(p->type) && op < 4 && !p->lru_full && kernel_count(p) >= p->max)
		p->lru_full = true;
	if (p->lru_full && op < 4)
		op = 6;   /* only removals once an LRU map is full */
	switch (op) {
	case 0: case 1: case 2: case 3:
		ke = kmap_op(BPF_MAP_UPDATE_ELEM, p->fd, k, value, flags);
		ve = bpfvm_map__update_elem(p->m, k, value, flags);
		compare(p, "update", ke, ve, NULL, NULL, 0);
		break;
	case 4: case 5:
		flags = below(&p->s, 4) ? 0 : flags;
		ke = kmap_op(BPF_MAP_LOOKUP_ELEM, p->fd, k, kb, flags);
		ve = bpfvm_map__lookup_elem(p->m, k, vb, flags);
		compare(p, "lookup", ke, ve, kb, vb, p->type == BPF_MAP_TYPE_BLOOM_FILTER ? 0 : n);
		break;
	case 6:
		ke = kmap_op(BPF_MAP_DELETE_ELEM, p->fd, k, NULL, 0);
		ve = bpfvm_map__delete_elem(p->m, k);
		compare(p, "delete", ke, ve, NULL, NULL, 0);
		break;
	case 7:
		flags = below(&p->s, 4) ? 0 : flags;
		ke = kmap_op(BPF_MAP_LOOKUP_AND_DELETE_ELEM, p->fd, k, kb, flags);
		ve = bpfvm_map__lookup_and_delete_elem(p->m, k, vb, flags);
		compare(p, "lookup_and_delete", ke, ve, kb, vb, n);
		break;
	default:
		k = below(&p->s, 8) ? k : NULL;
		ke = kmap_op(BPF_MAP_GET_NEXT_KEY, p->fd, k, kb, 0);
		ve = bpfvm_map__get_next_key(p->m, k, vb);
		compare(p, "get_next_key", ke, ve, kb, vb, p->ks);
		break;
	}
}

/* The whole content, in iteration order, must be the same. */
static void compare_contents(struct pair *p, uint8_t *kb, uint8_t *vb)
{
	uint8_t kkey[512], vkey[512], knext[512], vnext[512];
	int ke, ve, n = 0;

	if (is_keyless(p->type))
		return;
	ke = kmap_op(BPF_MAP_GET_NEXT_KEY, p->fd, NULL, knext, 0);
	ve = bpfvm_map__get_next_key(p->m, NULL, vnext);
	while (!ke && !ve && n++ <= (int)p->max + 1) {
		compare(p, "contents: key", 0, 0, knext, vnext, p->ks);
		ke = kmap_op(BPF_MAP_LOOKUP_ELEM, p->fd, knext, kb, 0);
		ve = bpfvm_map__lookup_elem(p->m, knext, vb, 0);
		compare(p, "contents: value", ke, ve, kb, vb, value_bytes(p));
		memcpy(kkey, knext, p->ks);
		memcpy(vkey, vnext, p->ks);
		ke = kmap_op(BPF_MAP_GET_NEXT_KEY, p->fd, kkey, knext, 0);
		ve = bpfvm_map__get_next_key(p->m, vkey, vnext);
	}
	compare(p, "contents: end", ke, ve, NULL, NULL, 0);
}

static void run_pair_keys(uint32_t type, uint32_t ks, uint32_t vs, uint32_t max, uint32_t flags,
			  uint64_t extra, uint64_t pseed, uint32_t key_space)
{
	BPFVM_OPTS(bpfvm_map_opts, o, .map_flags = flags, .map_extra = extra);
	struct pair p = { type, ks, vs, max, flags, -1, NULL, NULL, 0, pseed, 0, 0, 0, false };
	uint8_t *kb = calloc(1, MAX_BUF), *vb = calloc(1, MAX_BUF);
	char why[1024], what[96];

	p.fd = kernel_map_create(type, ks, vs, max, flags, extra);
	p.vm = bpfvm__new(NULL);
	p.m = bpfvm_map__new(p.vm, type, ks, vs, max, &o);
	p.key_space = key_space ? key_space : max + max / 2 + 2;
	if (p.fd < 0 && kernel_cannot_create_map(type, why, sizeof(why))) {
		snprintf(what, sizeof(what), "map type %u, key %u, value %u", type, ks, vs);
		kernel_skip(test_current_name(), what, why);
	} else if (p.fd < 0 || !p.m) {
		TEST_FAIL("map type %u: kernel %d, bpfvm %s", type, p.fd, p.m ? "ok" : strerror(errno));
	} else {
		for (p.ops = 0; p.ops < nops && p.mismatches < 20; p.ops++) {
			one_op(&p, kb, vb);
			if (p.ops % 97 == 0 && !p.lru_full)
				compare_contents(&p, kb, vb);
		}
		if (!p.lru_full)
			compare_contents(&p, kb, vb);
	}
	if (p.fd >= 0)
		close(p.fd);
	bpfvm__destroy(p.vm);
	free(kb);
	free(vb);
}

static void run_pair(uint32_t type, uint32_t ks, uint32_t vs, uint32_t max, uint32_t flags,
		     uint64_t extra, uint64_t pseed)
{
	run_pair_keys(type, ks, vs, max, flags, extra, pseed, 0);
}

TEST(hash_maps_agree)
{
	run_pair(BPF_MAP_TYPE_HASH, 4, 8, 16, BPF_F_ZERO_SEED, 0, seed + 1);
	run_pair(BPF_MAP_TYPE_HASH, 7, 5, 33, BPF_F_ZERO_SEED | BPF_F_NO_PREALLOC, 0, seed + 2);
	run_pair(BPF_MAP_TYPE_HASH, 16, 64, 100, BPF_F_ZERO_SEED, 0, seed + 3);
	run_pair(BPF_MAP_TYPE_HASH, 4, 8, 8, BPF_F_ZERO_SEED | BPF_F_RDONLY, 0, seed + 4);
	run_pair(BPF_MAP_TYPE_PERCPU_HASH, 8, 12, 12, BPF_F_ZERO_SEED, 0, seed + 5);
	run_pair(BPF_MAP_TYPE_PERCPU_HASH, 3, 4, 5, BPF_F_ZERO_SEED | BPF_F_NO_PREALLOC, 0, seed + 6);
}

/*
 * The kernel's common LRU moves free elements to a CPU's list 128 at a
 * time and evicts to make up a short batch, long before the map is full;
 * with 1024 elements and 100 keys no batch runs short, so nothing is
 * evicted on either side and everything must agree.
 */
TEST(lru_maps_agree_while_nothing_is_evicted)
{
	run_pair_keys(BPF_MAP_TYPE_LRU_HASH, 4, 8, 1024, BPF_F_ZERO_SEED, 0, seed + 10, 100);
	run_pair_keys(BPF_MAP_TYPE_LRU_PERCPU_HASH, 4, 8, 1024, BPF_F_ZERO_SEED, 0, seed + 11, 100);
	run_pair_keys(BPF_MAP_TYPE_LRU_HASH, 6, 8, 64 * (uint32_t)ncpus,
		      BPF_F_ZERO_SEED | BPF_F_NO_COMMON_LRU, 0, seed + 12, 40);
}

TEST(arrays_agree)
{
	run_pair(BPF_MAP_TYPE_ARRAY, 4, 12, 10, 0, 0, seed + 20);
	run_pair(BPF_MAP_TYPE_ARRAY, 4, 1, 3, BPF_F_WRONLY, 0, seed + 21);
	run_pair(BPF_MAP_TYPE_PERCPU_ARRAY, 4, 20, 6, 0, 0, seed + 22);
}

TEST(lpm_tries_agree)
{
	run_pair(BPF_MAP_TYPE_LPM_TRIE, 8, 8, 16, BPF_F_NO_PREALLOC, 0, seed + 30);
	run_pair(BPF_MAP_TYPE_LPM_TRIE, 5, 3, 8, BPF_F_NO_PREALLOC, 0, seed + 31);
	run_pair(BPF_MAP_TYPE_LPM_TRIE, 20, 4, 40, BPF_F_NO_PREALLOC, 0, seed + 32);
}

TEST(queues_stacks_and_bloom_filters_agree)
{
	run_pair(BPF_MAP_TYPE_QUEUE, 0, 8, 5, 0, 0, seed + 40);
	run_pair(BPF_MAP_TYPE_STACK, 0, 3, 7, 0, 0, seed + 41);
	run_pair(BPF_MAP_TYPE_BLOOM_FILTER, 0, 8, 10, BPF_F_ZERO_SEED, 0, seed + 42);
	run_pair(BPF_MAP_TYPE_BLOOM_FILTER, 0, 5, 3, BPF_F_ZERO_SEED, 2, seed + 43);
}

TEST(redirect_maps_agree)
{
	uint32_t cpus = ncpus < 4 ? (uint32_t)ncpus : 4;

	run_pair(BPF_MAP_TYPE_DEVMAP, 4, 4, 8, 0, 0, seed + 50);
	run_pair(BPF_MAP_TYPE_DEVMAP, 4, 8, 5, 0, 0, seed + 51);
	run_pair(BPF_MAP_TYPE_DEVMAP_HASH, 4, 4, 6, 0, 0, seed + 52);
	run_pair_keys(BPF_MAP_TYPE_DEVMAP_HASH, 4, 8, 5, 0, 0, seed + 53, 40);
	/* a cpumap entry is a kernel thread: few operations, few CPUs */
	run_pair(BPF_MAP_TYPE_CPUMAP, 4, 4, cpus + 1, 0, 0, seed + 54);
	run_pair(BPF_MAP_TYPE_CPUMAP, 4, 8, cpus, 0, 0, seed + 55);
}

/* ---- creation ------------------------------------------------------------------------ */

static void create_both(uint32_t type, uint32_t ks, uint32_t vs, uint32_t max, uint32_t flags,
			uint64_t extra, int *reports)
{
	BPFVM_OPTS(bpfvm_map_opts, o, .map_flags = flags, .map_extra = extra);
	struct bpfvm *vm = bpfvm__new(NULL);
	struct bpfvm_map *m = bpfvm_map__new(vm, type, ks, vs, max, &o);
	int verr = m ? 0 : -errno, kerr = kernel_map_create(type, ks, vs, max, flags, extra);
	char why[1024], what[160];

	if (kerr >= 0) {
		close(kerr);
		kerr = 0;
	}
	/* a type this kernel lacks refuses everything: not a verdict on the sizes */
	if (kerr && kerr != verr && kernel_cannot_create_map(type, why, sizeof(why))) {
		snprintf(what, sizeof(what), "create type %u key %u value %u max %u flags 0x%x",
			 type, ks, vs, max, flags);
		kernel_skip(test_current_name(), what, why);
		bpfvm__destroy(vm);
		return;
	}
	/* bpfvm says ENOTSUP for kernel types it lacks; the kernel then knows better. */
	if (verr != kerr && verr != -ENOTSUP && (*reports)++ < MAX_REPORTS)
		TEST_FAIL("create type %u key %u value %u max %u flags 0x%x extra %" PRIu64
			  ": kernel %d, bpfvm %d (BPFVM_MAPS_SEED=0x%" PRIx64 ")",
			  type, ks, vs, max, flags, extra, kerr, verr, seed);
	bpfvm__destroy(vm);
}

TEST(creation_agrees)
{
	static const uint32_t types[] = {
		BPF_MAP_TYPE_HASH, BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_PROG_ARRAY,
		BPF_MAP_TYPE_PERF_EVENT_ARRAY, BPF_MAP_TYPE_PERCPU_HASH, BPF_MAP_TYPE_PERCPU_ARRAY,
		BPF_MAP_TYPE_LRU_HASH, BPF_MAP_TYPE_LRU_PERCPU_HASH, BPF_MAP_TYPE_LPM_TRIE,
		BPF_MAP_TYPE_QUEUE, BPF_MAP_TYPE_STACK, BPF_MAP_TYPE_RINGBUF,
		BPF_MAP_TYPE_BLOOM_FILTER, 40,
	};
	static const uint32_t sizes[] = { 0, 1, 3, 4, 5, 8, 16, 260, 261, 32768, 32769,
					  (4u << 20) - 49, (4u << 20) - 48, 4u << 20, (4u << 20) + 1 };
	static const uint32_t maxes[] = { 0, 1, 2, 3, 4, 100, 4096, 8192, 12288, 1u << 20 };
	static const uint32_t flag_bits[] = {
		BPF_F_NO_PREALLOC, BPF_F_NO_COMMON_LRU, BPF_F_RDONLY, BPF_F_WRONLY, BPF_F_ZERO_SEED,
		BPF_F_RDONLY_PROG, BPF_F_WRONLY_PROG, BPF_F_MMAPABLE, BPF_F_PRESERVE_ELEMS,
		BPF_F_INNER_MAP, BPF_F_NUMA_NODE, BPF_F_CLONE, 1u << 20,
	};
	uint64_t s = seed + 100;
	int reports = 0;

	for (int i = 0; i < 3000; i++) {
		uint32_t type = types[below(&s, sizeof(types) / 4)];
		uint32_t ks = sizes[below(&s, 9)], vs = sizes[below(&s, sizeof(sizes) / 4)];
		uint32_t max = maxes[below(&s, sizeof(maxes) / 4)], flags = 0;
		uint64_t extra = below(&s, 8) ? 0 : below(&s, 20);

		for (int b = 0; b < 2; b++)
			if (below(&s, 3) == 0)
				flags |= flag_bits[below(&s, sizeof(flag_bits) / 4)];
		/* Keep what either side allocates small: big values only in small maps. */
		if ((uint64_t)(ks + vs + 64) * max * (is_percpu(type) ? (uint32_t)ncpus : 1) > (64u << 20))
			max = 2;
		create_both(type, ks, vs, max, flags, extra, &reports);
	}
}

TEST(redirect_map_creation_agrees)
{
	static const uint32_t types[] = { BPF_MAP_TYPE_DEVMAP, BPF_MAP_TYPE_DEVMAP_HASH,
					  BPF_MAP_TYPE_CPUMAP, BPF_MAP_TYPE_XSKMAP };
	static const uint32_t sizes[] = { 0, 3, 4, 4, 8, 8, 12 };
	static const uint32_t maxes[] = { 0, 1, 4, 256, 257, 1000, 100000 };
	static const uint32_t flag_bits[] = { BPF_F_NO_PREALLOC, BPF_F_RDONLY, BPF_F_WRONLY,
					      BPF_F_RDONLY_PROG, BPF_F_WRONLY_PROG, BPF_F_NUMA_NODE,
					      BPF_F_MMAPABLE, BPF_F_INNER_MAP, 1u << 20 };
	uint64_t s = seed + 200;
	int reports = 0;

	for (int i = 0; i < 600; i++) {
		uint32_t type = types[below(&s, 4)], flags = 0;
		uint32_t ks = sizes[below(&s, 7)], vs = sizes[below(&s, 7)];
		uint32_t max = maxes[below(&s, 7)];
		uint64_t extra = below(&s, 10) ? 0 : 1;

		if (below(&s, 2))
			flags |= flag_bits[below(&s, sizeof(flag_bits) / 4)];
		create_both(type, ks, vs, max, flags, extra, &reports);
	}
}

TEST(stack_and_cgroup_map_creation_agrees)
{
	static const uint32_t types[] = { BPF_MAP_TYPE_STACK_TRACE, BPF_MAP_TYPE_CGROUP_ARRAY };
	static const uint32_t sizes[] = { 0, 3, 4, 8, 12, 16, 32, 96, 127 * 8, 128 * 8,
					  127 * 32, 128 * 32 };
	static const uint32_t maxes[] = { 0, 1, 3, 1000, 1u << 20, (1u << 31) + 1 };
	static const uint32_t flag_bits[] = { BPF_F_STACK_BUILD_ID, BPF_F_RDONLY, BPF_F_WRONLY,
					      BPF_F_RDONLY_PROG, BPF_F_WRONLY_PROG, BPF_F_NUMA_NODE,
					      BPF_F_NO_PREALLOC, BPF_F_MMAPABLE, 1u << 20 };
	uint64_t s = seed + 300;
	int reports = 0;

	for (int i = 0; i < 600; i++) {
		uint32_t type = types[below(&s, 2)], flags = 0;
		uint32_t ks = sizes[below(&s, 4)], vs = sizes[below(&s, sizeof(sizes) / 4)];
		uint32_t max = maxes[below(&s, 4)];

		if (below(&s, 8) == 0)
			max = maxes[4 + below(&s, 2)], vs = 8;   /* entry limits, small values */
		if (below(&s, 2))
			flags |= flag_bits[below(&s, sizeof(flag_bits) / 4)];
		create_both(type, ks, vs, max, flags, 0, &reports);
	}
}

/* One user-space operation on both: the kernel's error (or 0) must be bpfvm's. */
static void op_both(const char *what, int cmd, int kfd, struct bpfvm_map *m, const void *key,
		    void *value, uint64_t flags)
{
	uint8_t kv[64] = { 0 }, *vv = value;
	int kerr, verr;

	if (value && cmd == BPF_MAP_UPDATE_ELEM)
		memcpy(kv, value, bpfvm_map__value_size(m));
	kerr = kmap_op(cmd, kfd, key, value ? kv : NULL, flags);
	switch (cmd) {
	case BPF_MAP_LOOKUP_ELEM: verr = bpfvm_map__lookup_elem(m, key, vv, flags); break;
	case BPF_MAP_UPDATE_ELEM: verr = bpfvm_map__update_elem(m, key, vv, flags); break;
	case BPF_MAP_DELETE_ELEM: verr = bpfvm_map__delete_elem(m, key); break;
	default: verr = bpfvm_map__get_next_key(m, key, vv); break;
	}
	if (kerr != verr)
		TEST_FAIL("%s: kernel %d, bpfvm %d", what, kerr, verr);
	if (getenv("MAPS_SHOW"))
		printf("#   %s: %d\n", what, kerr);
}

/* A directory of the cgroup2 mount (its root) and of a v1 hierarchy, opened (or -1). */
static void cgroup_dirs(int *v2, int *v1)
{
	char line[1024], root[512], point[512], *sep;
	FILE *f = fopen("/proc/self/mountinfo", "r");

	*v2 = *v1 = -1;
	while (f && fgets(line, sizeof(line), f)) {
		if (!(sep = strstr(line, " - ")) ||
		    sscanf(line, "%*s %*s %*s %511s %511s", root, point) != 2 || strcmp(root, "/"))
			continue;
		if (*v2 < 0 && !strncmp(sep + 3, "cgroup2 ", 8))
			*v2 = open(point, O_RDONLY | O_DIRECTORY);
		else if (*v1 < 0 && !strncmp(sep + 3, "cgroup ", 7))
			*v1 = open(point, O_RDONLY | O_DIRECTORY);
	}
	if (f)
		fclose(f);
}

/* What user space can do to a stack map no program filled, and to a cgroup array. */
TEST(stack_and_cgroup_map_operations_agree)
{
	struct bpfvm *vm = bpfvm__new(NULL);
	struct bpfvm_map *st = bpfvm_map__new(vm, BPF_MAP_TYPE_STACK_TRACE, 4, 16, 3, NULL);
	struct bpfvm_map *cg = bpfvm_map__new(vm, BPF_MAP_TYPE_CGROUP_ARRAY, 4, 4, 2, NULL);
	int kst = kernel_map_create(BPF_MAP_TYPE_STACK_TRACE, 4, 16, 3, 0, 0);
	int kcg = kernel_map_create(BPF_MAP_TYPE_CGROUP_ARRAY, 4, 4, 2, 0, 0);
	int root, v1, null = open("/dev/null", O_RDONLY);
	uint32_t k0 = 0, k3 = 3, k4 = 4, k1 = 1, next = 0, fd;
	uint8_t value[16] = { 0 };

	cgroup_dirs(&root, &v1);
	CHECK(st && cg && kst >= 0 && kcg >= 0 && null >= 0);
	/* 3 entries: 4 buckets; ids past them are E2BIG to delete, ENOENT to look up */
	op_both("stack lookup 0", BPF_MAP_LOOKUP_ELEM, kst, st, &k0, value, 0);
	op_both("stack lookup 4", BPF_MAP_LOOKUP_ELEM, kst, st, &k4, value, 0);
	op_both("stack update", BPF_MAP_UPDATE_ELEM, kst, st, &k0, value, 0);
	op_both("stack delete 3", BPF_MAP_DELETE_ELEM, kst, st, &k3, NULL, 0);
	op_both("stack delete 4", BPF_MAP_DELETE_ELEM, kst, st, &k4, NULL, 0);
	op_both("stack next of none", BPF_MAP_GET_NEXT_KEY, kst, st, NULL, &next, 0);
	fd = (uint32_t)null;
	op_both("cgroup array: not a cgroup", BPF_MAP_UPDATE_ELEM, kcg, cg, &k0, &fd, 0);
	fd = 999999;
	op_both("cgroup array: no such fd", BPF_MAP_UPDATE_ELEM, kcg, cg, &k0, &fd, 0);
	if (v1 >= 0) {
		fd = (uint32_t)v1;
		op_both("cgroup array: a v1 cgroup", BPF_MAP_UPDATE_ELEM, kcg, cg, &k0, &fd, 0);
		close(v1);
	}
	if (root >= 0) {
		fd = (uint32_t)root;
		op_both("cgroup array: flags", BPF_MAP_UPDATE_ELEM, kcg, cg, &k0, &fd, BPF_NOEXIST);
		op_both("cgroup array: index 4", BPF_MAP_UPDATE_ELEM, kcg, cg, &k4, &fd, 0);
		op_both("cgroup array: the root", BPF_MAP_UPDATE_ELEM, kcg, cg, &k1, &fd, 0);
		op_both("cgroup array lookup", BPF_MAP_LOOKUP_ELEM, kcg, cg, &k1, value, 0);
		op_both("cgroup array next of 0", BPF_MAP_GET_NEXT_KEY, kcg, cg, &k0, &next, 0);
		op_both("cgroup array delete 1", BPF_MAP_DELETE_ELEM, kcg, cg, &k1, NULL, 0);
		op_both("cgroup array delete 1 again", BPF_MAP_DELETE_ELEM, kcg, cg, &k1, NULL, 0);
		op_both("cgroup array delete 4", BPF_MAP_DELETE_ELEM, kcg, cg, &k4, NULL, 0);
		close(root);
	}
	close(null);
	close(kst);
	close(kcg);
	bpfvm__destroy(vm);
}

int main(void)
{
	char why[512];
	const char *skip = kernel_unusable(why, sizeof(why));
	cpu_set_t set;
	char *env;

	if (skip) {
		printf("SKIP kernel_maps: %s\n", skip);
		return 0;
	}
	seed = (env = getenv("BPFVM_MAPS_SEED")) ? strtoull(env, NULL, 0)
						 : (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ull;
	if ((env = getenv("BPFVM_MAPS_OPS")))
		nops = strtoull(env, NULL, 0);
	printf("# kernel_maps: BPFVM_MAPS_SEED=0x%016" PRIx64 ", %" PRIu64 " operations a map\n",
	       seed, nops);
	/* One CPU: the per-CPU slot and LRU list the syscall side uses stay put. */
	CPU_ZERO(&set);
	CPU_SET(sched_getcpu() < 0 ? 0 : sched_getcpu(), &set);
	sched_setaffinity(0, sizeof(set), &set);
	ncpus = bpfvm__num_possible_cpus(NULL);
	return test_main();
}
