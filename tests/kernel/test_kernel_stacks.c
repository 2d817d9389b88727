/*
 * test_kernel_stacks.c - user stacks and cgroup arrays, the kernel against
 * bpfvm: tests/data/trace/stacks.bpf.c loaded into the kernel with libbpf,
 * attached to sys_enter_getppid (its program keeps to the process named
 * stack_workload), and run under `bpfvm trace` on the same workload
 * (tests/data/trace/stack_workload.c: -O0, frame pointers, not PIE), both
 * times with ASLR off and the same file, arguments and (empty)
 * environment, so that the stack holds the same addresses; bpfvm runs
 * the program in the interpreter and in the JIT.  The six records (bpf_get_stack frame by frame, skipped and as build ids;
 * bpf_get_stackid's ids and errors on maps of 1024 buckets, of one, and of
 * build ids; bpf_current_task_under_cgroup on each slot) must be equal
 * byte for byte, and so must the stack maps' contents as user space reads
 * them afterwards (every id get_next_key walks to, its frames
 * zero-padded; bpfvm's through --dump-maps).  The cgroup array holds the test's own new cgroup (where
 * the workload runs), its parent, a sibling, and an empty slot.
 * Skips with the reason where bpf() or the attach is refused.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kernel_cgroup.h"
#include "test.h"

#define FRAMES 48
#define NRECS 6
#define NSLOTS 5

struct rec {
	int64_t len;
	uint64_t ips[FRAMES];
	int64_t len_skip;
	uint64_t ips_skip[4];
	int64_t len_bid;
	struct bpf_stack_build_id bid[6];
	int64_t id_big, id_tiny, id_tiny_reuse, id_tiny_fast, id_skip_all, id_bid;
	int64_t kernel_skip, bad_flags;
	int64_t under[NSLOTS];
};

#define MAX_ENTRIES 64

struct recs {
	struct rec r[NRECS + 4];
	int n;
	/* the stack maps' entries as "map key value" in hex, sorted */
	char *entries[MAX_ENTRIES];
	int nentries;
};

static const char *const stack_maps[] = { "big", "tiny", "bids" };

static void add_entry(struct recs *l, const char *map, const uint8_t *key, const uint8_t *value,
		      size_t value_size)
{
	char *e = malloc(strlen(map) + 10 + value_size * 2 + 2), *p = e;

	if (!e || l->nentries == MAX_ENTRIES) {
		free(e);
		return;
	}
	p += sprintf(p, "%s ", map);
	for (int i = 0; i < 4; i++)
		p += sprintf(p, "%02x", key[i]);
	*p++ = ' ';
	for (size_t i = 0; i < value_size; i++)
		p += sprintf(p, "%02x", value[i]);
	l->entries[l->nentries++] = e;
}

static void kernel_entries(struct bpf_object *obj, struct recs *out)
{
	for (size_t m = 0; m < sizeof(stack_maps) / sizeof(stack_maps[0]); m++) {
		struct bpf_map *map = bpf_object__find_map_by_name(obj, stack_maps[m]);
		uint8_t value[FRAMES * 8];
		uint32_t key, *prev = NULL;

		while (!bpf_map_get_next_key(bpf_map__fd(map), prev, &key)) {
			if (!bpf_map_lookup_elem(bpf_map__fd(map), &key, value))
				add_entry(out, stack_maps[m], (uint8_t *)&key, value,
					  bpf_map__value_size(map));
			prev = &key;
		}
	}
}

static char dir[64], workload[128], object[128];
static char skip_why[256];
/* cgroups: [0] the test's own (new), [1] its parent, [2] a sibling; "" where none */
static char cg[3][1100];

static int on_rec(void *ctx, void *data, size_t size)
{
	struct recs *l = ctx;

	if (size == sizeof(struct rec) && l->n < NRECS + 4)
		memcpy(&l->r[l->n++], data, sizeof(struct rec));
	return 0;
}

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level, (void)fmt, (void)ap;
	return 0;
}

/* The workload with ASLR off, its own path as argv[0], no environment. */
static pid_t spawn_workload(void)
{
	pid_t child = fork();

	if (child == 0) {
		char *argv[] = { workload, NULL }, *envp[] = { NULL };

		personality(ADDR_NO_RANDOMIZE);
		execve(workload, argv, envp);
		_exit(127);
	}
	return child;
}

static void fill_cgroups(struct bpf_object *obj)
{
	int map = bpf_map__fd(bpf_object__find_map_by_name(obj, "cgs"));

	for (uint32_t i = 0; i < 3; i++) {
		int fd = cg[i][0] ? open(cg[i], O_RDONLY | O_DIRECTORY) : -1;
		uint32_t v = (uint32_t)fd;

		if (fd >= 0 && bpf_map_update_elem(map, &i, &v, BPF_ANY))
			TEST_FAIL("the kernel refuses cgroup %s in slot %u: %s", cg[i], i,
				  strerror(errno));
		if (fd >= 0)
			close(fd);
	}
}

/* 0, 1 with skip_why (the kernel refused), or -1. */
static int run_kernel(struct recs *out)
{
	struct bpf_object *obj = bpf_object__open_file(object, NULL);
	struct bpf_link *link = NULL;
	struct ring_buffer *rb = NULL;
	int err, status, rc = -1;
	pid_t child;

	if (!obj)
		return -1;
	err = bpf_object__load(obj);
	if (err) {
		snprintf(skip_why, sizeof(skip_why), "the kernel refuses to load the object: %s",
			 strerror(-err));
		rc = 1;
		goto out;
	}
	link = bpf_program__attach(bpf_object__next_program(obj, NULL));
	if (!link) {
		snprintf(skip_why, sizeof(skip_why), "the kernel refuses to attach: %s",
			 strerror(errno));
		rc = 1;
		goto out;
	}
	fill_cgroups(obj);
	rb = ring_buffer__new(bpf_map__fd(bpf_object__find_map_by_name(obj, "recs")), on_rec, out,
			      NULL);
	child = rb ? spawn_workload() : -1;
	if (child > 0 && waitpid(child, &status, 0) == child) {
		for (int i = 0; i < 5; i++)
			ring_buffer__poll(rb, 50);
		kernel_entries(obj, out);
		rc = 0;
	}
out:
	ring_buffer__free(rb);
	bpf_link__destroy(link);
	bpf_object__close(obj);
	return rc;
}

static int hexval(char c)
{
	return c >= 'a' ? c - 'a' + 10 : c - '0';
}

static void hex_to(const char *hex, uint8_t *out, size_t max, size_t *len)
{
	for (*len = 0; hex[0] && hex[0] != '"' && hex[1] && *len < max; hex += 2)
		out[(*len)++] = (uint8_t)(hexval(hex[0]) << 4 | hexval(hex[1]));
}

/* A --dump-maps line of a stack map: each "key" and "value" as add_entry's. */
static void bpfvm_entries(const char *line, struct recs *out)
{
	const char *k = line;
	char name[16];

	if (sscanf(line, "{\"type\":\"map\",\"name\":\"%15[^\"]\"", name) != 1 ||
	    !strstr(line, "\"map_type\":\"stack_trace\""))
		return;
	while ((k = strstr(k, "{\"key\":\""))) {
		static uint8_t key[4], value[FRAMES * 8];
		const char *v = strstr(k, "\"value\":\"");
		size_t klen, vlen;

		if (!v)
			return;
		hex_to(k + 8, key, sizeof(key), &klen);
		hex_to(v + 9, value, sizeof(value), &vlen);
		add_entry(out, name, key, value, vlen);
		k = v;
	}
}

/* mode: "--interp" or "--jit" */
static int run_bpfvm(struct recs *out, const char *mode)
{
	char cmd[4096], *line = NULL;
	size_t cap = 0;
	int n = 0;
	FILE *f;

	n += snprintf(cmd + n, sizeof(cmd) - (size_t)n, "%s/bpfvm trace %s --json --dump-maps",
		      getenv("BUILD") ? getenv("BUILD") : "build", mode);
	for (int i = 0; i < 3; i++)
		if (cg[i][0])
			n += snprintf(cmd + n, sizeof(cmd) - (size_t)n, " --cgroup cgs:%d=%s", i, cg[i]);
	snprintf(cmd + n, sizeof(cmd) - (size_t)n, " %s -- setarch -R env -i %s", object, workload);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	while (getline(&line, &cap, f) > 0) {
		char *d = strstr(line, "\"data\":\"");
		uint8_t buf[sizeof(struct rec)];
		size_t len;

		if (!d) {
			bpfvm_entries(line, out);
			continue;
		}
		hex_to(d + 8, buf, sizeof(buf), &len);
		on_rec(out, buf, len);
	}
	free(line);
	return pclose(f) == 0 ? 0 : -1;
}

#define FIELD(NAME)                                                                           \
	if (k->NAME != v->NAME)                                                               \
		TEST_FAIL("record %d: " #NAME ": kernel %lld, bpfvm %lld", i, (long long)k->NAME, \
			  (long long)v->NAME)

/* Name what differs between two records. */
static void compare_rec(int i, const struct rec *k, const struct rec *v)
{
	FIELD(len);
	for (int f = 0; f < FRAMES; f++)
		if (k->ips[f] != v->ips[f])
			TEST_FAIL("record %d frame %d: kernel %#llx, bpfvm %#llx", i, f,
				  (unsigned long long)k->ips[f], (unsigned long long)v->ips[f]);
	FIELD(len_skip);
	for (int f = 0; f < 4; f++)
		FIELD(ips_skip[f]);
	FIELD(len_bid);
	for (int f = 0; f < 6; f++) {
		FIELD(bid[f].status);
		FIELD(bid[f].offset);
		if (memcmp(k->bid[f].build_id, v->bid[f].build_id, BPF_BUILD_ID_SIZE))
			TEST_FAIL("record %d build id %d differs", i, f);
	}
	FIELD(id_big);
	FIELD(id_tiny);
	FIELD(id_tiny_reuse);
	FIELD(id_tiny_fast);
	FIELD(id_skip_all);
	FIELD(id_bid);
	FIELD(kernel_skip);
	FIELD(bad_flags);
	for (int s = 0; s < NSLOTS; s++)
		FIELD(under[s]);
}

static int by_text(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_entries(struct recs *l)
{
	for (int i = 0; i < l->nentries; i++)
		free(l->entries[i]);
	l->nentries = 0;
}

static void compare_entries(struct recs *k, struct recs *v)
{
	qsort(k->entries, (size_t)k->nentries, sizeof(char *), by_text);
	qsort(v->entries, (size_t)v->nentries, sizeof(char *), by_text);
	CHECK(k->nentries >= 6);   /* big: 3 stacks, tiny: 1, bids: 3 */
	for (int i = 0; i < k->nentries || i < v->nentries; i++)
		if (i >= k->nentries || i >= v->nentries || strcmp(k->entries[i], v->entries[i]))
			TEST_FAIL("stack map entry %d: kernel '%.120s', bpfvm '%.120s'", i,
				  i < k->nentries ? k->entries[i] : "(none)",
				  i < v->nentries ? v->entries[i] : "(none)");
}

/* bpfvm in mode against the kernel's records and entries k. */
static void compare_mode(struct recs *k, const char *mode)
{
	static struct recs v;

	memset(&v, 0, sizeof(v));
	CHECK_EQ_INT(run_bpfvm(&v, mode), 0);
	CHECK_EQ_INT(v.n, NRECS);
	for (int i = 0; i < k->n && i < v.n; i++) {
		if (!memcmp(&k->r[i], &v.r[i], sizeof(struct rec)))
			continue;
		compare_rec(i, &k->r[i], &v.r[i]);
		if (!test_failed_now)
			TEST_FAIL("record %d differs in its padding", i);
	}
	compare_entries(k, &v);
	free_entries(&v);
	printf("# %s: %d records and %d stack map entries agree\n", mode, k->n, k->nentries);
}

TEST(kernel_and_bpfvm_give_the_same_user_stacks)
{
	static struct recs k;
	const struct rec *r = k.r;
	int rc = run_kernel(&k);

	if (rc == 1) {
		printf("SKIP %s: %s\n", test_current_name(), skip_why);
		return;
	}
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_INT(k.n, NRECS);
	/* the kernel's own answers make sense: sys, c, b, a, main at least; c's two call sites */
	CHECK(r[0].len >= 5 * 8);
	CHECK(r[0].ips[1] != r[1].ips[1] && r[0].id_big != r[1].id_big);
	CHECK_EQ_INT(r[0].id_big, r[3].id_big);   /* the same stack again: its id */
	CHECK_EQ_INT(r[1].id_big, r[4].id_big);
	CHECK_EQ_INT(r[2].id_big, r[5].id_big);
	compare_mode(&k, "--interp");
	compare_mode(&k, "--jit");
	printf("# %lld frames, ids %lld/%lld, tiny %lld %lld %lld, build-id status %d, "
	       "under %lld %lld %lld %lld %lld\n", (long long)r[0].len / 8, (long long)r[0].id_big,
	       (long long)r[1].id_big, (long long)r[1].id_tiny, (long long)r[1].id_tiny_reuse,
	       (long long)r[1].id_tiny_fast, r[0].bid[0].status, (long long)r[0].under[0],
	       (long long)r[0].under[1], (long long)r[0].under[2], (long long)r[0].under[3],
	       (long long)r[0].under[4]);
	free_entries(&k);
}

/* A new cgroup for this test (and so the workloads) and a sibling; else none. */
static void enter_cgroups(void)
{
	char mnt[512], rel[512];

	if (kernel_own_cgroup(mnt, rel))
		return;
	snprintf(cg[1], sizeof(cg[1]), "%.511s%.511s", mnt, strcmp(rel, "/") ? rel : "");
	snprintf(cg[0], sizeof(cg[0]), "%.1040s/bpfvm_kstacks_%d", cg[1], (int)getpid());
	snprintf(cg[2], sizeof(cg[2]), "%.1040s/bpfvm_kstacks_other_%d", cg[1], (int)getpid());
	if (mkdir(cg[0], 0755) || mkdir(cg[2], 0755) || cgroup_move(cg[0], getpid())) {
		rmdir(cg[0]);
		rmdir(cg[2]);
		cg[0][0] = cg[2][0] = '\0';
	}
}

static void leave_cgroups(void)
{
	if (cg[0][0] && (cgroup_move(cg[1], getpid()) || rmdir(cg[0]) || rmdir(cg[2])))
		fprintf(stderr, "cannot remove cgroups %s, %s\n", cg[0], cg[2]);
}

int main(void)
{
	char cmd[1024];
	int rc;

	snprintf(dir, sizeof(dir), "/tmp/bpfvm_kstacks_XXXXXX");
	if (system("command -v clang-19 >/dev/null 2>&1") || !mkdtemp(dir)) {
		printf("SKIP kernel_stacks: clang-19 is missing\n");
		return 0;
	}
	snprintf(object, sizeof(object), "%s/stacks.bpf.o", dir);
	snprintf(workload, sizeof(workload), "%s/stack_workload", dir);
	snprintf(cmd, sizeof(cmd), "clang-19 -O2 -g -target bpf -I/usr/include/$(uname -m)-linux-gnu"
		 " -c tests/data/trace/stacks.bpf.c -o %s && cc -O0 -fno-omit-frame-pointer -no-pie"
		 " -o %s tests/data/trace/stack_workload.c", object, workload);
	if (system(cmd)) {
		printf("FAIL kernel_stacks: the object or the workload does not build\n");
		return 1;
	}
	libbpf_set_print(quiet);
	alarm(60);   /* bound the whole test */
	enter_cgroups();
	rc = test_main();
	leave_cgroups();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		fprintf(stderr, "cannot remove %s\n", dir);
	return rc;
}
