/*
 * test_maps.c - every map type's semantics through the embedder's API
 * (bpf(BPF_MAP_*)'s behaviour), creation checks as the kernel's, the
 * per-CPU layout, LRU eviction, the LPM trie's matching and order, the
 * ring buffer's memory read back by a consumer written against the
 * kernel's documented layout, references between programs and maps, and
 * threads hammering one map.
 */
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include "maps/map.h"
#include "prog_util.h"

static struct bpfvm_map *try_map(struct bpfvm *vm, uint32_t type, uint32_t ks, uint32_t vs,
				 uint32_t max, uint32_t flags, uint64_t extra, int *err)
{
	char buf[512];
	struct bpfvm_log log = { buf, sizeof(buf), 0 };
	BPFVM_OPTS(bpfvm_map_opts, o, .map_flags = flags, .map_extra = extra, .log = &log);
	struct bpfvm_map *m = bpfvm_map__new(vm, type, ks, vs, max, &o);

	*err = m ? 0 : -errno;
	return m;
}

static int create_err(uint32_t type, uint32_t ks, uint32_t vs, uint32_t max, uint32_t flags,
		      uint64_t extra)
{
	struct bpfvm *vm = bpfvm__new(NULL);
	int err;

	try_map(vm, type, ks, vs, max, flags, extra, &err);
	bpfvm__destroy(vm);
	return err;
}

TEST(creation_checks_are_the_kernels)
{
	long page = sysconf(_SC_PAGESIZE);

	CHECK_EQ_INT(create_err(BPFVM_MAP_TYPE_HASH, 0, 8, 4, 0, 0), -EINVAL);
	CHECK_EQ_INT(create_err(BPFVM_MAP_TYPE_HASH, 4, 0, 4, 0, 0), -EINVAL);
	CHECK_EQ_INT(create_err(BPFVM_MAP_TYPE_HASH, 4, 8, 0, 0, 0), -EINVAL);
	CHECK_EQ_INT(create_err(BPFVM_MAP_TYPE_HASH, 4, 4u << 20, 4, 0, 0), -E2BIG);
	CHECK_EQ_INT(create_err(BPFVM_MAP_TYPE_HASH, 4, 8, (1u << 27) + 1, 0, 0), -E2BIG);
	CHECK_EQ_INT(create_err(BPFVM_MAP_TYPE_HASH, 4, 8, 4, BPFVM_F_NO_COMMON_LRU, 0), -EINVAL);
	CHECK_EQ_INT(create_err(BPFVM_MAP_TYPE_HASH, 4, 8, 4, 1u << 20, 0), -EINVAL);
	CHECK_EQ_INT(create_err(BPFVM_MAP_TYPE_HASH, 4, 8, 4, 0, 1), -EINVAL);
	CHECK_EQ_INT(create_err(BPFVM_MAP_TYPE_HASH, 4, 8, 4, BPFVM_F_RDONLY | BPFVM_F_WRONLY, 0),
		     -EINVAL);
	CHECK_EQ_INT(create_err(BPFVM_MAP_TYPE_HASH, 4, 8, 4,
				BPFVM_F_RDONLY_PROG | BPFVM_F_WRONLY_PROG, 0), -EINVAL);
	CHECK_EQ_INT(create_err(BPFVM_MAP_TYPE_LRU_HASH, 4, 8, 4, BPFVM_F_NO_PREALLOC, 0),
		     -BPFVM_ENOTSUPP);
	CHECK_EQ_INT(create_err(BPFVM_MAP_TYPE_PERCPU_HASH, 4, 32769, 4, 0, 0), -E2BIG);
	CHECK_EQ_INT(create_err(BPFVM_MAP_TYPE_ARRAY, 8, 8, 4, 0, 0), -EINVAL);
	CHECK_EQ_INT(create_err(BPFVM_MAP_TYPE_ARRAY, 4, 8, 0, 0, 0), -EINVAL);
	CHECK_EQ_INT(create_err(BPFVM_MAP_TYPE_ARRAY, 4, 8, 4, BPFVM_F_PRESERVE_ELEMS, 0), -EINVAL);
	CHECK_EQ_INT(create_err(BPFVM_MAP_TYPE_PERCPU_ARRAY, 4, 8, 4, BPFVM_F_MMAPABLE, 0), -EINVAL);
	CHECK_EQ_INT(create_err(BPFVM_MAP_TYPE_PERCPU_ARRAY, 4, 8, 4, BPFVM_F_NUMA_NODE, 0), -EINVAL);
	CHECK_EQ_INT(create_err(BPFVM_MAP_TYPE_PERCPU_ARRAY, 4, 32769, 4, 0, 0), -E2BIG);
	CHECK_EQ_INT(create_err(BPFVM_MAP_TYPE_ARRAY, 4, 8, 4, BPFVM_F_MMAPABLE, 0), 0);
	CHECK_EQ_INT(create_err(BPFVM_MAP_TYPE_QUEUE, 4, 8, 4, 0, 0), -EINVAL);
	CHECK_EQ_INT(create_err(BPFVM_MAP_TYPE_STACK, 0, 8, 0, 0, 0), -EINVAL);
	CHECK_EQ_INT(create_err(BPFVM_MAP_TYPE_RINGBUF, 0, 0, 3 * (uint32_t)page, 0, 0), -EINVAL);
	CHECK_EQ_INT(create_err(BPFVM_MAP_TYPE_RINGBUF, 4, 0, (uint32_t)page, 0, 0), -EINVAL);
	CHECK_EQ_INT(create_err(BPFVM_MAP_TYPE_RINGBUF, 0, 0, (uint32_t)page, 0, 0), 0);
	CHECK_EQ_INT(create_err(BPFVM_MAP_TYPE_LPM_TRIE, 8, 8, 4, 0, 0), -EINVAL);
	CHECK_EQ_INT(create_err(BPFVM_MAP_TYPE_LPM_TRIE, 4, 8, 4, BPFVM_F_NO_PREALLOC, 0), -EINVAL);
	CHECK_EQ_INT(create_err(BPFVM_MAP_TYPE_LPM_TRIE, 8, 8, 4, BPFVM_F_NO_PREALLOC, 0), 0);
	CHECK_EQ_INT(create_err(BPFVM_MAP_TYPE_BLOOM_FILTER, 0, 8, 4, 0, 16), -EINVAL);
	CHECK_EQ_INT(create_err(BPFVM_MAP_TYPE_BLOOM_FILTER, 4, 8, 4, 0, 0), -EINVAL);
	CHECK_EQ_INT(create_err(BPFVM_MAP_TYPE_PROG_ARRAY, 4, 8, 4, 0, 0), -EINVAL);
	CHECK_EQ_INT(create_err(BPFVM_MAP_TYPE_PROG_ARRAY, 4, 4, 4, BPFVM_F_RDONLY_PROG, 0), -EINVAL);
	CHECK_EQ_INT(create_err(BPFVM_MAP_TYPE_ARRAY_OF_MAPS, 4, 4, 4, 0, 0), -EINVAL);
	CHECK_EQ_INT(create_err(BPFVM_MAP_TYPE_SOCKMAP, 4, 4, 4, 0, 0), -ENOTSUP);
	CHECK_EQ_INT(create_err(99, 4, 8, 4, 0, 0), -EINVAL);
	CHECK_EQ_INT(create_err(BPFVM_MAP_TYPE_UNSPEC, 4, 8, 4, 0, 0), -EINVAL);
}

TEST(array_semantics)
{
	struct bpfvm *vm = bpfvm__new(NULL);
	struct bpfvm_map *m = pu_map(vm, BPFVM_MAP_TYPE_ARRAY, 4, 12, 3, 0);
	uint32_t k = 1, next;
	uint8_t v[12] = { 1, 2, 3 }, out[12];

	CHECK_EQ_INT(bpfvm_map__lookup_elem(m, &k, out, 0), 0);
	CHECK_EQ_INT(out[0], 0);   /* zeroed at creation */
	CHECK_EQ_INT(bpfvm_map__update_elem(m, &k, v, BPFVM_ANY), 0);
	CHECK_EQ_INT(bpfvm_map__update_elem(m, &k, v, BPFVM_EXIST), 0);
	CHECK_EQ_INT(bpfvm_map__update_elem(m, &k, v, BPFVM_NOEXIST), -EEXIST);
	CHECK_EQ_INT(bpfvm_map__update_elem(m, &k, v, 3), -EINVAL);
	CHECK_EQ_INT(bpfvm_map__update_elem(m, &k, v, BPFVM_F_LOCK), -EINVAL);
	CHECK_EQ_INT(bpfvm_map__lookup_elem(m, &k, out, 0), 0);
	CHECK(!memcmp(out, v, 12));
	k = 3;
	CHECK_EQ_INT(bpfvm_map__update_elem(m, &k, v, BPFVM_ANY), -E2BIG);
	CHECK_EQ_INT(bpfvm_map__lookup_elem(m, &k, out, 0), -ENOENT);
	CHECK_EQ_INT(bpfvm_map__delete_elem(m, &k), -EINVAL);
	k = 0;
	CHECK_EQ_INT(bpfvm_map__delete_elem(m, &k), -EINVAL);
	CHECK_EQ_INT(bpfvm_map__lookup_and_delete_elem(m, &k, out, 0), -BPFVM_ENOTSUPP);
	CHECK_EQ_INT(bpfvm_map__lookup_elem(m, &k, out, 2), -EINVAL);
	CHECK_EQ_INT(bpfvm_map__get_next_key(m, NULL, &next), 0);
	CHECK_EQ_INT(next, 0);
	k = 1;
	CHECK_EQ_INT(bpfvm_map__get_next_key(m, &k, &next), 0);
	CHECK_EQ_INT(next, 2);
	k = 2;
	CHECK_EQ_INT(bpfvm_map__get_next_key(m, &k, &next), -ENOENT);
	k = 77;   /* a missing key: the first one */
	CHECK_EQ_INT(bpfvm_map__get_next_key(m, &k, &next), 0);
	CHECK_EQ_INT(next, 0);
	bpfvm__destroy(vm);
}

TEST(syscall_side_permissions)
{
	struct bpfvm *vm = bpfvm__new(NULL);
	struct bpfvm_map *ro = pu_map(vm, BPFVM_MAP_TYPE_HASH, 4, 4, 4, BPFVM_F_RDONLY);
	struct bpfvm_map *wo = pu_map(vm, BPFVM_MAP_TYPE_HASH, 4, 4, 4, BPFVM_F_WRONLY);
	uint32_t k = 1, v = 2, next;

	CHECK_EQ_INT(bpfvm_map__update_elem(ro, &k, &v, 0), -EPERM);
	CHECK_EQ_INT(bpfvm_map__delete_elem(ro, &k), -EPERM);
	CHECK_EQ_INT(bpfvm_map__lookup_elem(ro, &k, &v, 0), -ENOENT);
	CHECK_EQ_INT(bpfvm_map__update_elem(wo, &k, &v, 0), 0);
	CHECK_EQ_INT(bpfvm_map__lookup_elem(wo, &k, &v, 0), -EPERM);
	CHECK_EQ_INT(bpfvm_map__get_next_key(wo, NULL, &next), -EPERM);
	CHECK_EQ_INT(bpfvm_map__lookup_and_delete_elem(wo, &k, &v, 0), -EPERM);
	CHECK_EQ_INT(bpfvm_map__lookup_elem(NULL, &k, &v, 0), -EINVAL);
	CHECK_EQ_INT(bpfvm_map__lookup_elem(wo, NULL, &v, 0), -EFAULT);
	bpfvm__destroy(vm);
}

/*
 * BPF_MAP_FREEZE: the embedder's writes are refused from then on, its
 * reads are not; freezing again, or a read-only map, is -EPERM; a value
 * with a bpf_spin_lock cannot be frozen.
 */
TEST(frozen_maps_refuse_the_embedders_writes)
{
	struct bpfvm *vm = bpfvm__new(NULL);
	struct bpfvm_map *a = pu_map(vm, BPFVM_MAP_TYPE_ARRAY, 4, 8, 2, BPFVM_F_RDONLY_PROG);
	struct bpfvm_map *h = pu_map(vm, BPFVM_MAP_TYPE_HASH, 4, 4, 4, 0);
	struct bpfvm_map *ro = pu_map(vm, BPFVM_MAP_TYPE_HASH, 4, 4, 4, BPFVM_F_RDONLY);
	uint32_t k = 1, v4 = 2;
	uint64_t v = 7, got = 0;

	CHECK_EQ_INT(bpfvm_map__update_elem(a, &k, &v, 0), 0);
	CHECK(!bpfvm_map__frozen(a));
	CHECK_EQ_INT(bpfvm_map__freeze(a), 0);
	CHECK(bpfvm_map__frozen(a));
	CHECK_EQ_INT(bpfvm_map__update_elem(a, &k, &v, 0), -EPERM);
	CHECK_EQ_INT(bpfvm_map__lookup_elem(a, &k, &got, 0), 0);
	CHECK_EQ_U64(got, 7);
	CHECK_EQ_INT(bpfvm_map__freeze(a), -EPERM);
	CHECK_EQ_INT(bpfvm_map__update_elem(h, &k, &v4, 0), 0);
	CHECK_EQ_INT(bpfvm_map__freeze(h), 0);
	CHECK_EQ_INT(bpfvm_map__delete_elem(h, &k), -EPERM);
	CHECK_EQ_INT(bpfvm_map__lookup_and_delete_elem(h, &k, &v4, 0), -EPERM);
	CHECK_EQ_INT(bpfvm_map__freeze(ro), -EPERM);
	CHECK_EQ_INT(bpfvm_map__freeze(NULL), -EINVAL);
	bpfvm__destroy(vm);
}

TEST(percpu_array_has_a_slot_per_possible_cpu)
{
	struct bpfvm *vm = bpfvm__new(NULL);
	int n = bpfvm__num_possible_cpus(vm);
	struct bpfvm_map *m = pu_map(vm, BPFVM_MAP_TYPE_PERCPU_ARRAY, 4, 4, 2, 0);
	uint64_t *vals = calloc((size_t)n, 8), *out = calloc((size_t)n, 8);
	uint32_t k = 1;

	CHECK(n >= 1);
	for (int i = 0; i < n; i++)
		vals[i] = 100 + (uint64_t)i;
	CHECK_EQ_INT(bpfvm_map__update_elem(m, &k, vals, 0), 0);
	CHECK_EQ_INT(bpfvm_map__lookup_elem(m, &k, out, 0), 0);
	for (int i = 0; i < n; i++)
		CHECK_EQ_U64(out[i], 100 + (uint64_t)i);
	CHECK_EQ_INT(bpfvm_map__update_elem(m, &k, vals, BPFVM_NOEXIST), -EEXIST);
	k = 2;
	CHECK_EQ_INT(bpfvm_map__update_elem(m, &k, vals, 0), -E2BIG);
	free(vals);
	free(out);
	bpfvm__destroy(vm);
}

/* Every key the iteration gives, counted; each must be given once. */
static int count_keys(struct bpfvm_map *m, uint32_t *seen, uint32_t range)
{
	uint32_t key, next;
	int n = 0, err;

	memset(seen, 0, range * sizeof(*seen));
	for (err = bpfvm_map__get_next_key(m, NULL, &next); !err;
	     err = bpfvm_map__get_next_key(m, &key, &next)) {
		if (next < range)
			seen[next]++;
		key = next;
		if (++n > (int)range + 5)
			break;
	}
	return n;
}

TEST(hash_semantics)
{
	struct bpfvm *vm = bpfvm__new(NULL);
	struct bpfvm_map *m = pu_map(vm, BPFVM_MAP_TYPE_HASH, 4, 8, 4, 0);
	uint32_t seen[16], k, next;
	uint64_t v = 7, out;

	k = 1;
	CHECK_EQ_INT(bpfvm_map__get_next_key(m, NULL, &next), -ENOENT);
	CHECK_EQ_INT(bpfvm_map__update_elem(m, &k, &v, BPFVM_EXIST), -ENOENT);
	CHECK_EQ_INT(bpfvm_map__update_elem(m, &k, &v, BPFVM_NOEXIST), 0);
	CHECK_EQ_INT(bpfvm_map__update_elem(m, &k, &v, BPFVM_NOEXIST), -EEXIST);
	v = 8;
	CHECK_EQ_INT(bpfvm_map__update_elem(m, &k, &v, BPFVM_EXIST), 0);
	CHECK_EQ_INT(bpfvm_map__lookup_elem(m, &k, &out, 0), 0);
	CHECK_EQ_U64(out, 8);
	for (k = 2; k <= 4; k++)
		CHECK_EQ_INT(bpfvm_map__update_elem(m, &k, &v, 0), 0);
	CHECK_EQ_INT(bpfvm_map__update_elem(m, &k, &v, 0), -E2BIG);   /* full */
	k = 3;
	v = 33;
	CHECK_EQ_INT(bpfvm_map__update_elem(m, &k, &v, 0), 0);        /* replacing still works */
	CHECK_EQ_INT(bpfvm_map__lookup_elem(m, &k, &out, 0), 0);
	CHECK_EQ_U64(out, 33);
	CHECK_EQ_INT(count_keys(m, seen, 16), 4);
	for (k = 1; k <= 4; k++)
		CHECK_EQ_INT(seen[k], 1);
	k = 99;   /* a missing key: the first key */
	CHECK_EQ_INT(bpfvm_map__get_next_key(m, &k, &next), 0);
	CHECK_EQ_INT(bpfvm_map__get_next_key(m, NULL, &k), 0);
	CHECK_EQ_INT(next, k);
	k = 2;
	CHECK_EQ_INT(bpfvm_map__lookup_and_delete_elem(m, &k, &out, 0), 0);
	CHECK_EQ_U64(out, 8);
	CHECK_EQ_INT(bpfvm_map__delete_elem(m, &k), -ENOENT);
	CHECK_EQ_INT(bpfvm_map__lookup_and_delete_elem(m, &k, &out, 0), -ENOENT);
	CHECK_EQ_INT(bpfvm_map__update_elem(m, &k, &v, 0), 0);   /* room again */
	CHECK_EQ_INT(bpfvm_map__update_elem(m, &k, &v, 4 | 8), -EINVAL);
	bpfvm__destroy(vm);
}

TEST(hash_odd_key_sizes_and_many_keys)
{
	struct bpfvm *vm = bpfvm__new(NULL);
	struct bpfvm_map *m = pu_map(vm, BPFVM_MAP_TYPE_HASH, 7, 3, 1000, BPFVM_F_NO_PREALLOC);
	uint8_t key[7], val[3], out[3];
	int n = 0;

	for (int i = 0; i < 1000; i++) {
		memset(key, i * 7, sizeof(key));
		memcpy(key, &i, sizeof(i));
		memcpy(val, &i, 3);
		CHECK_EQ_INT(bpfvm_map__update_elem(m, key, val, BPFVM_NOEXIST), 0);
	}
	for (int i = 0; i < 1000; i++) {
		memset(key, i * 7, sizeof(key));
		memcpy(key, &i, sizeof(i));
		if (bpfvm_map__lookup_elem(m, key, out, 0) == 0 && !memcmp(out, &i, 3))
			n++;
	}
	CHECK_EQ_INT(n, 1000);
	bpfvm__destroy(vm);
}

TEST(percpu_hash_values)
{
	struct bpfvm *vm = bpfvm__new(NULL);
	int n = bpfvm__num_possible_cpus(vm);
	struct bpfvm_map *m = pu_map(vm, BPFVM_MAP_TYPE_PERCPU_HASH, 4, 4, 4, 0);
	uint64_t *vals = calloc((size_t)n, 8), *out = calloc((size_t)n, 8);
	uint32_t k = 5;

	for (int i = 0; i < n; i++)
		vals[i] = 0x1000 + (uint64_t)i;
	CHECK_EQ_INT(bpfvm_map__update_elem(m, &k, vals, 0), 0);
	CHECK_EQ_INT(bpfvm_map__lookup_elem(m, &k, out, 0), 0);
	for (int i = 0; i < n; i++)
		CHECK_EQ_U64(out[i], 0x1000 + (uint64_t)i);
	CHECK_EQ_INT(bpfvm_map__update_elem(m, &k, vals, BPFVM_F_LOCK), -EINVAL);
	memset(out, 0, (size_t)n * 8);
	CHECK_EQ_INT(bpfvm_map__lookup_and_delete_elem(m, &k, out, 0), 0);
	CHECK_EQ_U64(out[n - 1], 0x1000 + (uint64_t)n - 1);
	CHECK_EQ_INT(bpfvm_map__lookup_elem(m, &k, out, 0), -ENOENT);
	free(vals);
	free(out);
	bpfvm__destroy(vm);
}

TEST(lru_evicts_least_recently_used)
{
	struct bpfvm *vm = bpfvm__new(NULL);
	struct bpfvm_map *m = pu_map(vm, BPFVM_MAP_TYPE_LRU_HASH, 4, 8, 4, 0);
	uint32_t seen[128], k;
	uint64_t v = 1;

	for (k = 1; k <= 4; k++)
		CHECK_EQ_INT(bpfvm_map__update_elem(m, &k, &v, 0), 0);
	/* A program's lookup marks key 1 used; the syscall side's does not. */
	k = 1;
	CHECK(m->ops->lookup(m, &k, 0) != NULL);
	k = 5;
	CHECK_EQ_INT(bpfvm_map__update_elem(m, &k, &v, 0), 0);   /* no -E2BIG: eviction */
	CHECK_EQ_INT(count_keys(m, seen, 16), 4);
	CHECK_EQ_INT(seen[1], 1);
	CHECK_EQ_INT(seen[2], 0);   /* the oldest one not used since */
	CHECK_EQ_INT(seen[5], 1);
	for (k = 10; k < 100; k++)
		CHECK_EQ_INT(bpfvm_map__update_elem(m, &k, &v, 0), 0);
	CHECK_EQ_INT(count_keys(m, seen, 128), 4);
	CHECK_EQ_INT(seen[99], 1);   /* the newest survives */
	k = 99;
	CHECK_EQ_INT(bpfvm_map__update_elem(m, &k, &v, BPFVM_NOEXIST), -EEXIST);
	CHECK_EQ_INT(bpfvm_map__update_elem(m, &k, &v, BPFVM_F_LOCK), -EINVAL);
	bpfvm__destroy(vm);
}

TEST(lru_per_cpu_lists_round_max_entries)
{
	struct bpfvm *vm = bpfvm__new(NULL);
	int n = bpfvm__num_possible_cpus(vm);
	struct bpfvm_map *m = pu_map(vm, BPFVM_MAP_TYPE_LRU_HASH, 4, 8, 3, BPFVM_F_NO_COMMON_LRU);
	uint32_t k;
	uint64_t v = 0;

	CHECK_EQ_INT(bpfvm_map__max_entries(m) % (uint32_t)n, 0);
	CHECK(bpfvm_map__max_entries(m) >= 3);
	for (k = 0; k < 50; k++)
		CHECK_EQ_INT(bpfvm_map__update_elem(m, &k, &v, 0), 0);
	bpfvm__destroy(vm);
}

/* An LPM key: prefix length and an IPv4 address. */
struct lpm4 {
	uint32_t plen;
	uint8_t a[4];
};

static int lpm_put(struct bpfvm_map *m, uint32_t plen, uint8_t a, uint8_t b, uint8_t c,
		   uint8_t d, uint64_t v, uint64_t flags)
{
	struct lpm4 k = { plen, { a, b, c, d } };

	return bpfvm_map__update_elem(m, &k, &v, flags);
}

static int64_t lpm_get(struct bpfvm_map *m, uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	struct lpm4 k = { 32, { a, b, c, d } };
	uint64_t v;

	return bpfvm_map__lookup_elem(m, &k, &v, 0) ? -1 : (int64_t)v;
}

TEST(lpm_trie_longest_match_and_postorder)
{
	struct bpfvm *vm = bpfvm__new(NULL);
	struct bpfvm_map *m = pu_map(vm, BPFVM_MAP_TYPE_LPM_TRIE, 8, 8, 5, BPFVM_F_NO_PREALLOC);
	struct lpm4 key, next;
	static const struct lpm4 order[] = {
		{ 24, { 192, 168, 0, 0 } }, { 24, { 192, 168, 1, 0 } },
		{ 24, { 192, 168, 128, 0 } }, { 16, { 192, 168, 0, 0 } },
	};
	int i = 0, err;

	CHECK_EQ_INT(lpm_put(m, 16, 192, 168, 0, 0, 1, 0), 0);
	CHECK_EQ_INT(lpm_put(m, 24, 192, 168, 0, 0, 2, 0), 0);
	CHECK_EQ_INT(lpm_put(m, 24, 192, 168, 1, 0, 3, 0), 0);
	CHECK_EQ_INT(lpm_put(m, 24, 192, 168, 128, 0, 4, 0), 0);
	CHECK_EQ_INT(lpm_get(m, 192, 168, 0, 1), 2);
	CHECK_EQ_INT(lpm_get(m, 192, 168, 1, 200), 3);
	CHECK_EQ_INT(lpm_get(m, 192, 168, 128, 9), 4);
	CHECK_EQ_INT(lpm_get(m, 192, 168, 200, 1), 1);
	CHECK_EQ_INT(lpm_get(m, 10, 0, 0, 1), -1);
	/* The kernel's documented order: more specific prefixes first. */
	for (err = bpfvm_map__get_next_key(m, NULL, &next); !err && i < 4;
	     err = bpfvm_map__get_next_key(m, &key, &next), i++) {
		CHECK(!memcmp(&next, &order[i], sizeof(next)));
		key = next;
	}
	CHECK_EQ_INT(i, 4);
	CHECK_EQ_INT(err, -ENOENT);
	CHECK_EQ_INT(lpm_put(m, 24, 192, 168, 1, 0, 9, BPFVM_NOEXIST), -EEXIST);
	CHECK_EQ_INT(lpm_put(m, 8, 10, 0, 0, 0, 9, BPFVM_EXIST), -ENOENT);
	CHECK_EQ_INT(lpm_put(m, 33, 10, 0, 0, 0, 9, 0), -EINVAL);
	CHECK_EQ_INT(lpm_put(m, 8, 10, 0, 0, 0, 9, 0), 0);
	CHECK_EQ_INT(lpm_put(m, 8, 11, 0, 0, 0, 9, 0), -ENOSPC);   /* full */
	key = (struct lpm4){ 24, { 192, 168, 0, 0 } };
	CHECK_EQ_INT(bpfvm_map__delete_elem(m, &key), 0);
	CHECK_EQ_INT(bpfvm_map__delete_elem(m, &key), -ENOENT);
	CHECK_EQ_INT(lpm_get(m, 192, 168, 0, 1), 1);
	key = (struct lpm4){ 16, { 192, 168, 0, 0 } };
	CHECK_EQ_INT(bpfvm_map__delete_elem(m, &key), 0);
	CHECK_EQ_INT(lpm_get(m, 192, 168, 200, 1), -1);
	CHECK_EQ_INT(lpm_get(m, 192, 168, 1, 1), 3);
	CHECK_EQ_INT(bpfvm_map__lookup_and_delete_elem(m, &key, &next, 0), -BPFVM_ENOTSUPP);
	bpfvm__destroy(vm);
}

TEST(queue_and_stack)
{
	struct bpfvm *vm = bpfvm__new(NULL);
	struct bpfvm_map *q = pu_map(vm, BPFVM_MAP_TYPE_QUEUE, 0, 4, 3, 0);
	struct bpfvm_map *s = pu_map(vm, BPFVM_MAP_TYPE_STACK, 0, 4, 3, 0);
	uint32_t v, out = 99;

	CHECK_EQ_INT(bpfvm_map__lookup_elem(q, NULL, &out, 0), -ENOENT);
	CHECK_EQ_INT(out, 0);   /* zeroed */
	for (v = 1; v <= 3; v++) {
		CHECK_EQ_INT(bpfvm_map__update_elem(q, NULL, &v, 0), 0);
		CHECK_EQ_INT(bpfvm_map__update_elem(s, NULL, &v, 0), 0);
	}
	CHECK_EQ_INT(bpfvm_map__update_elem(q, NULL, &v, 0), -E2BIG);
	CHECK_EQ_INT(bpfvm_map__update_elem(q, NULL, &v, BPFVM_NOEXIST), -EINVAL);
	CHECK_EQ_INT(bpfvm_map__update_elem(q, NULL, &v, BPFVM_EXIST), 0);   /* drops 1 */
	CHECK_EQ_INT(bpfvm_map__update_elem(s, NULL, &v, BPFVM_EXIST), 0);   /* drops 1 */
	CHECK_EQ_INT(bpfvm_map__lookup_elem(q, NULL, &out, 0), 0);
	CHECK_EQ_INT(out, 2);
	CHECK_EQ_INT(bpfvm_map__lookup_and_delete_elem(q, NULL, &out, 0), 0);
	CHECK_EQ_INT(out, 2);
	CHECK_EQ_INT(bpfvm_map__lookup_and_delete_elem(s, NULL, &out, 0), 0);
	CHECK_EQ_INT(out, 4);
	CHECK_EQ_INT(bpfvm_map__lookup_and_delete_elem(s, NULL, &out, 0), 0);
	CHECK_EQ_INT(out, 3);
	CHECK_EQ_INT(bpfvm_map__lookup_and_delete_elem(s, NULL, &out, 0), 0);
	CHECK_EQ_INT(out, 2);
	CHECK_EQ_INT(bpfvm_map__lookup_and_delete_elem(s, NULL, &out, 0), -ENOENT);
	CHECK_EQ_INT(bpfvm_map__lookup_and_delete_elem(s, NULL, &out, 1), -EINVAL);
	CHECK_EQ_INT(bpfvm_map__delete_elem(q, NULL), -EINVAL);
	CHECK_EQ_INT(bpfvm_map__get_next_key(q, NULL, &out), -EINVAL);
	bpfvm__destroy(vm);
}

TEST(bloom_filter)
{
	struct bpfvm *vm = bpfvm__new(NULL);
	BPFVM_OPTS(bpfvm_map_opts, o, .map_extra = 3);
	struct bpfvm_map *b = bpfvm_map__new(vm, BPFVM_MAP_TYPE_BLOOM_FILTER, 0, 8, 100, &o);
	uint64_t v;
	int fp = 0;

	for (v = 0; v < 100; v++)
		CHECK_EQ_INT(bpfvm_map__update_elem(b, NULL, &v, 0), 0);
	for (v = 0; v < 100; v++)
		CHECK_EQ_INT(bpfvm_map__lookup_elem(b, NULL, &v, 0), 0);
	for (v = 1000; v < 2000; v++)
		fp += bpfvm_map__lookup_elem(b, NULL, &v, 0) == 0;
	CHECK(fp < 200);   /* 7/5 bits per entry and hash: a few percent */
	CHECK_EQ_INT(bpfvm_map__update_elem(b, NULL, &v, BPFVM_EXIST), -EINVAL);
	CHECK_EQ_INT(bpfvm_map__delete_elem(b, NULL), -EOPNOTSUPP);
	CHECK_EQ_INT(bpfvm_map__lookup_and_delete_elem(b, NULL, &v, 0), -BPFVM_ENOTSUPP);
	CHECK_EQ_INT(bpfvm_map__get_next_key(b, NULL, &v), -EOPNOTSUPP);
	bpfvm__destroy(vm);
}

/* ---- ring buffer: a consumer written against the kernel's layout -------------- */

struct rb_view {
	unsigned long *consumer_pos, *producer_pos;
	uint8_t *data;
	uint64_t mask;
};

static struct rb_view rb_view_of(struct bpfvm_map *m)
{
	size_t size, page = (size_t)sysconf(_SC_PAGESIZE);
	uint8_t *area = bpfvm_map__ringbuf_area(m, &size);
	struct rb_view v = { (unsigned long *)area, (unsigned long *)(area + page), area + 2 * page,
			     bpfvm_map__max_entries(m) - 1 };

	return v;
}

/* Consume like Documentation/bpf/ringbuf.rst describes: lengths, busy, discard. */
static int rb_consume_raw(struct rb_view *v, uint8_t *got, size_t *got_len, int max)
{
	unsigned long cons = __atomic_load_n(v->consumer_pos, __ATOMIC_ACQUIRE);
	unsigned long prod = __atomic_load_n(v->producer_pos, __ATOMIC_ACQUIRE);
	int n = 0;

	while (cons < prod && n < max) {
		uint32_t *hdr = (uint32_t *)(v->data + (cons & v->mask));
		uint32_t len = __atomic_load_n(hdr, __ATOMIC_ACQUIRE);

		if (len & BPFVM_RINGBUF_BUSY_BIT)
			break;
		if (!(len & BPFVM_RINGBUF_DISCARD_BIT)) {
			memcpy(got + *got_len, hdr + 2, len);   /* contiguous even when it wraps */
			*got_len += len;
			n++;
		}
		cons += ((len & ~BPFVM_RINGBUF_DISCARD_BIT) + 8 + 7) & ~7u;
		__atomic_store_n(v->consumer_pos, cons, __ATOMIC_RELEASE);
	}
	return n;
}

TEST(ringbuf_layout_is_the_kernels)
{
	struct bpfvm *vm = bpfvm__new(NULL);
	uint32_t page = (uint32_t)sysconf(_SC_PAGESIZE);
	struct bpfvm_map *m = pu_map(vm, BPFVM_MAP_TYPE_RINGBUF, 0, 0, page, 0);
	struct rb_view v = rb_view_of(m);
	uint8_t got[65536];
	size_t got_len = 0, expect_len = 0;
	uint8_t expect[65536];
	int records = 0;

	CHECK(bpfvm_map__ringbuf_fd(m) >= 0);
	/* Records of odd sizes, consumed as they go, so that several wrap around. */
	for (int i = 0; i < 200; i++) {
		uint32_t size = 1 + (uint32_t)(i * 37) % 300;
		uint8_t *rec = ringbuf_reserve(m, size);
		uint32_t *hdr = (uint32_t *)rec - 2;

		CHECK(rec != NULL);
		if (!rec)
			break;
		CHECK_EQ_U64(hdr[0], size | BPFVM_RINGBUF_BUSY_BIT);
		CHECK_EQ_U64(hdr[1], (((uintptr_t)hdr & ~(uintptr_t)(page - 1)) -
				      ((uintptr_t)v.consumer_pos - page)) / page);
		for (uint32_t j = 0; j < size; j++)
			rec[j] = (uint8_t)(i + j);
		CHECK_EQ_INT(rb_consume_raw(&v, got, &got_len, 100), 0);   /* busy blocks */
		ringbuf_commit(rec, 0, i % 5 == 4);
		if (i % 5 != 4) {
			memcpy(expect + expect_len, rec, size);
			expect_len += size;
		}
		records += rb_consume_raw(&v, got, &got_len, 100);
	}
	CHECK_EQ_INT(records, 160);
	CHECK_EQ_U64(got_len, expect_len);
	CHECK(!memcmp(got, expect, expect_len));
	CHECK(*v.producer_pos > page);   /* it wrapped */
	/* Too big for the ring, or with the consumer behind: no record. */
	CHECK(ringbuf_reserve(m, page) == NULL);
	bpfvm__destroy(vm);
}

static int count_cb(void *ctx, const void *data, size_t size)
{
	(void)data;
	*(size_t *)ctx += size;
	return 0;
}

TEST(ringbuf_consume_api_and_full_ring)
{
	struct bpfvm *vm = bpfvm__new(NULL);
	uint32_t page = (uint32_t)sysconf(_SC_PAGESIZE);
	struct bpfvm_map *m = pu_map(vm, BPFVM_MAP_TYPE_RINGBUF, 0, 0, page, 0);
	size_t total = 0;
	int n = 0;
	void *rec;

	while ((rec = ringbuf_reserve(m, 100))) {
		ringbuf_commit(rec, 0, false);
		n++;
	}
	CHECK_EQ_INT(n, (int)(page - 8) / 112);   /* 108 rounded to 112, less than the ring */
	CHECK_EQ_U64(ringbuf_query(m, 0), (uint64_t)n * 112);
	CHECK_EQ_U64(ringbuf_query(m, 1), page);
	CHECK_EQ_INT(bpfvm_map__ringbuf_consume(m, count_cb, &total), n);
	CHECK_EQ_U64(total, (uint64_t)n * 100);
	CHECK_EQ_U64(ringbuf_query(m, 0), 0);
	CHECK(ringbuf_reserve(m, 100) != NULL);   /* room again */
	CHECK_EQ_INT(bpfvm_map__ringbuf_consume(m, count_cb, &total), 0);   /* it is busy */
	bpfvm__destroy(vm);
}

/* ---- references ------------------------------------------------------------------ */

TEST(programs_keep_their_maps)
{
	struct bpfvm *vm = bpfvm__new(NULL);
	struct bpfvm_map *m = pu_map(vm, BPFVM_MAP_TYPE_ARRAY, 4, 8, 1, 0);
	struct bpfvm_log log = { pu_log, sizeof(pu_log), 0 };
	BPFVM_OPTS(bpfvm_prog_opts, po, .maps = &m, .nmaps = 1, .log = &log);
	BPFVM_OPTS(bpfvm_run_opts, ro);
	struct bpfvm_insn insns[] = {
		LD_MAP_VALUE(1, 0, 0), MOV64(2, 41), STXDW(1, 0, 2), LDXDW(0, 1, 0), ADDI(0, 1), EXIT,
	};
	struct bpfvm_prog *p = bpfvm_prog__new(vm, insns, N(insns), &po);

	CHECK(p != NULL);
	bpfvm_map__destroy(m);   /* deferred: the program holds it */
	CHECK_EQ_INT(bpfvm_prog__run(p, NULL, 0, &ro), 0);
	CHECK_EQ_U64(ro.retval, 42);
	bpfvm_prog__destroy(p);   /* now the map goes too (ASan would see a leak) */
	bpfvm__destroy(vm);
}

TEST(maps_of_maps)
{
	struct bpfvm *vm = bpfvm__new(NULL);
	struct bpfvm_map *tmpl = pu_map(vm, BPFVM_MAP_TYPE_HASH, 4, 8, 8, 0);
	struct bpfvm_map *inner = pu_map(vm, BPFVM_MAP_TYPE_HASH, 4, 8, 8, 0);
	struct bpfvm_map *other = pu_map(vm, BPFVM_MAP_TYPE_HASH, 4, 16, 8, 0);
	BPFVM_OPTS(bpfvm_map_opts, o, .inner_map = tmpl);
	struct bpfvm_map *aom = bpfvm_map__new(vm, BPFVM_MAP_TYPE_ARRAY_OF_MAPS, 4, 4, 2, &o);
	struct bpfvm_map *hom = bpfvm_map__new(vm, BPFVM_MAP_TYPE_HASH_OF_MAPS, 4, 4, 2, &o);
	uint32_t k = 0, id;
	uint64_t v = 5;

	CHECK(aom && hom);
	CHECK_EQ_INT(bpfvm_map__set_inner(aom, &k, other), -EINVAL);   /* not the template's shape */
	CHECK_EQ_INT(bpfvm_map__set_inner(aom, &k, inner), 0);
	CHECK_EQ_INT(bpfvm_map__set_inner(hom, &k, inner), 0);
	k = 9;
	CHECK_EQ_INT(bpfvm_map__set_inner(aom, &k, inner), -E2BIG);
	k = 0;
	CHECK_EQ_INT(bpfvm_map__lookup_elem(aom, &k, &id, 0), 0);
	CHECK_EQ_INT(id, inner->id);
	CHECK_EQ_INT(bpfvm_map__update_elem(aom, &k, &id, 0), -BPFVM_ENOTSUPP);
	CHECK(aom->ops->lookup(aom, &k, 0) == inner);
	CHECK(hom->ops->lookup(hom, &k, 0) == inner);
	bpfvm_map__destroy(inner);   /* the outer maps still hold it */
	CHECK_EQ_INT(bpfvm_map__update_elem(aom->ops->lookup(aom, &k, 0), &k, &v, 0), 0);
	CHECK_EQ_INT(bpfvm_map__delete_elem(aom, &k), 0);
	CHECK_EQ_INT(bpfvm_map__delete_elem(aom, &k), -ENOENT);
	CHECK_EQ_INT(bpfvm_map__delete_elem(hom, &k), 0);   /* the last reference */
	/* A template that is itself a map of maps, or a program array, is refused. */
	o.inner_map = aom;
	CHECK(bpfvm_map__new(vm, BPFVM_MAP_TYPE_ARRAY_OF_MAPS, 4, 4, 2, &o) == NULL);
	CHECK_EQ_INT(errno, EINVAL);
	bpfvm__destroy(vm);
}

/* ---- threads ---------------------------------------------------------------------- */

struct hammer {
	struct bpfvm_map *map;
	int id;
	int errors;
	char first[160];
};

static void hammer_error(struct hammer *h, const char *op, uint32_t key, int err, uint64_t out)
{
	if (!h->errors++)
		snprintf(h->first, sizeof(h->first), "%s key %u: %d (value %" PRIu64 ")", op, key,
			 err, out);
}

#define HAMMER_KEYS 256
#define HAMMER_ROUNDS 20000

/* Values are key * 1000 + anything below 1000: a torn or misplaced value shows. */
static void *hammer_thread(void *arg)
{
	struct hammer *h = arg;
	uint64_t seed = (uint64_t)h->id * 0x9e3779b97f4a7c15ull + 1;

	for (int i = 0; i < HAMMER_ROUNDS; i++) {
		uint32_t key;
		uint64_t v, out;
		int err;

		seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
		key = (uint32_t)(seed % HAMMER_KEYS);
		v = (uint64_t)key * 1000 + (seed >> 40) % 1000;
		switch ((seed >> 20) % 4) {
		case 0:
		case 1:
			err = bpfvm_map__update_elem(h->map, &key, &v, 0);
			if (err && err != -E2BIG)
				hammer_error(h, "update", key, err, 0);
			break;
		case 2:
			err = bpfvm_map__delete_elem(h->map, &key);
			if (err && err != -ENOENT)
				hammer_error(h, "delete", key, err, 0);
			break;
		default:
			out = 0;
			err = bpfvm_map__lookup_elem(h->map, &key, &out, 0);
			if ((err && err != -ENOENT) || (!err && out / 1000 != key))
				hammer_error(h, "lookup", key, err, out);
			break;
		}
	}
	return NULL;
}

static void hammer(uint32_t type, uint32_t max)
{
	struct bpfvm *vm = bpfvm__new(NULL);
	struct bpfvm_map *m = pu_map(vm, type, 4, 8, max, 0);
	struct hammer h[8];
	pthread_t t[8];
	uint32_t seen[HAMMER_KEYS];
	int errors = 0, n;

	for (int i = 0; i < 8; i++) {
		h[i] = (struct hammer){ .map = m, .id = i };
		pthread_create(&t[i], NULL, hammer_thread, &h[i]);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		if (h[i].errors)
			TEST_FAIL("thread %d: %d errors, the first: %s", i, h[i].errors, h[i].first);
		errors += h[i].errors;
	}
	CHECK_EQ_INT(errors, 0);
	n = count_keys(m, seen, HAMMER_KEYS);
	CHECK(n <= (int)max);
	for (int i = 0; i < HAMMER_KEYS; i++)
		CHECK(seen[i] <= 1);
	bpfvm__destroy(vm);
}

TEST(threads_hammer_a_hash_map)
{
	hammer(BPFVM_MAP_TYPE_HASH, HAMMER_KEYS);
	hammer(BPFVM_MAP_TYPE_HASH, HAMMER_KEYS / 4);   /* full most of the time */
}

TEST(threads_hammer_an_lru_map)
{
	hammer(BPFVM_MAP_TYPE_LRU_HASH, HAMMER_KEYS / 4);
}

TEST_MAIN()
