/*
 * test_shared_maps.c - maps in a shared arena (bpfvm_opts.shared_maps_size,
 * src/maps/shm.c): forked children run one JIT-compiled program that
 * updates a hash map (inserting its own keys), an array and a per-CPU
 * array (atomic adds) and writes a ring buffer, all at once, while the
 * parent drains the ring buffer; the parent then sees the exact totals and
 * every record once.  A process started with exec joins the arena
 * (bpfvm_opts.shared_maps_addr/fd) and does the same; bad arguments to
 * joining get a clear error.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "prog_util.h"

#define CHILDREN 4
#define ITERS 3000
#define KEYS_PER_CHILD 8
#define EXEC_CHILD CHILDREN   /* the child id of the process that joins after exec */
#define ARENA_SIZE (64ull << 20)

#define ATOMIC_ADD64(d, s, off) BPFVM_RAW_INSN(BPFVM_STX | BPFVM_DW | BPFVM_ATOMIC, d, s, off, BPFVM_ADD)

/* r1 = { u64 child, u64 seq }.  Maps: 0 array, 1 per-CPU array, 2 hash, 3 ring buffer. */
static const struct bpfvm_insn prog_insns[] = {
	MOVR(6, 1),
	STW(FP, -4, 0),
	LD_MAP(1, 0), MOVR(2, FP), ADDI(2, -4), CALL(F_map_lookup_elem),
	JNEI(0, 0, 2), MOV64(0, 1), EXIT,
	MOV64(1, 1), ATOMIC_ADD64(0, 1, 0),
	LD_MAP(1, 1), MOVR(2, FP), ADDI(2, -4), CALL(F_map_lookup_elem),
	JNEI(0, 0, 2), MOV64(0, 2), EXIT,
	MOV64(1, 1), ATOMIC_ADD64(0, 1, 0),
	/* key = child * 8 + seq % 8: each child inserts its own keys, all at the same time */
	LDXDW(7, 6, 0), BPFVM_ALU64_IMM(BPFVM_LSH, 7, 3),
	LDXDW(8, 6, 8), BPFVM_ALU64_IMM(BPFVM_AND, 8, 7), BPFVM_ALU64_REG(BPFVM_ADD, 7, 8),
	STXW(FP, -8, 7), STDW(FP, -16, 0),
	LD_MAP(1, 2), MOVR(2, FP), ADDI(2, -8), CALL(F_map_lookup_elem),
	JNEI(0, 0, 16),
	LD_MAP(1, 2), MOVR(2, FP), ADDI(2, -8), MOVR(3, FP), ADDI(3, -16), MOV64(4, 1),
	CALL(F_map_update_elem),
	LD_MAP(1, 2), MOVR(2, FP), ADDI(2, -8), CALL(F_map_lookup_elem),
	JNEI(0, 0, 2), MOV64(0, 3), EXIT,
	MOV64(1, 1), ATOMIC_ADD64(0, 1, 0),
	LD_MAP(1, 3), MOVR(2, 6), MOV64(3, 16), MOV64(4, 0), CALL(F_ringbuf_output),
	EXIT,
};

struct shared_maps {
	struct bpfvm *vm;
	struct bpfvm_map *maps[4];
};

static const char *const map_names[4] = { "counts", "pcpu", "per_key", "events" };

/* Run the program ITERS times as child id; the exit status says what failed. */
static int run_child(struct bpfvm *vm, struct bpfvm_map **maps, uint64_t child)
{
	BPFVM_OPTS(bpfvm_prog_opts, popts, .flags = BPFVM_PROG_TRUSTED, .maps = maps, .nmaps = 4,
		   .license = "GPL");
	BPFVM_OPTS(bpfvm_run_opts, ropts, .mode = BPFVM_EXEC_JIT);
	struct bpfvm_prog *prog = bpfvm_prog__new(vm, prog_insns, N(prog_insns), &popts);

	if (!prog)
		return 10;
	for (uint64_t i = 0; i < ITERS; i++) {
		uint64_t ctx[2] = { child, i };

		if (bpfvm_prog__run(prog, ctx, sizeof(ctx), &ropts))
			return 11;
		if (ropts.retval)
			return 20 + (int)ropts.retval;
	}
	bpfvm_prog__destroy(prog);
	return 0;
}

static bool make_maps(struct shared_maps *s)
{
	BPFVM_OPTS(bpfvm_opts, vo, .shared_maps_size = ARENA_SIZE);
	static const uint32_t types[4] = { BPFVM_MAP_TYPE_ARRAY, BPFVM_MAP_TYPE_PERCPU_ARRAY,
					   BPFVM_MAP_TYPE_HASH, BPFVM_MAP_TYPE_RINGBUF };
	static const uint32_t ks[4] = { 4, 4, 4, 0 }, vs[4] = { 8, 8, 8, 0 };
	static const uint32_t max[4] = { 1, 1, (CHILDREN + 1) * KEYS_PER_CHILD, 1u << 20 };

	s->vm = bpfvm__new(&vo);
	if (!s->vm) {
		TEST_FAIL("bpfvm__new with a shared arena: %s", strerror(errno));
		return false;
	}
	for (int i = 0; i < 4; i++) {
		BPFVM_OPTS(bpfvm_map_opts, mo, .name = map_names[i]);

		s->maps[i] = bpfvm_map__new(s->vm, types[i], ks[i], vs[i], max[i], &mo);
		if (!s->maps[i]) {
			TEST_FAIL("map %s: %s", map_names[i], strerror(errno));
			return false;
		}
	}
	return true;
}

struct drain {
	uint8_t seen[CHILDREN + 1][ITERS];
	unsigned records, bad;
};

static int on_record(void *ctx, const void *data, size_t size)
{
	struct drain *d = ctx;
	uint64_t rec[2];

	if (size != sizeof(rec)) {
		d->bad++;
		return 0;
	}
	memcpy(rec, data, sizeof(rec));
	if (rec[0] > CHILDREN || rec[1] >= ITERS || d->seen[rec[0]][rec[1]]++)
		d->bad++;
	d->records++;
	return 0;
}

/* Drain while the children run; their statuses in status[] (-1: not reaped). */
static void drain_until_exit(struct bpfvm_map *rb, struct drain *d, pid_t *pids, int *status,
			     int n)
{
	int left = n;

	for (int i = 0; i < n; i++)
		if (pids[i] <= 0) {   /* fork failed: a failure, nothing to wait for */
			status[i] = 127 << 8;
			left--;
		}
	for (int round = 0; left && round < 60000; round++) {   /* at most some 60 s */
		struct timespec ms = { 0, 1000000 };

		bpfvm_map__ringbuf_consume(rb, on_record, d);
		for (int i = 0; i < n; i++)
			if (status[i] == -1 && waitpid(pids[i], &status[i], WNOHANG) == pids[i])
				left--;
		nanosleep(&ms, NULL);
	}
	for (int i = 0; i < n; i++)
		if (status[i] == -1) {
			kill(pids[i], SIGKILL);
			waitpid(pids[i], &status[i], 0);
		}
	bpfvm_map__ringbuf_consume(rb, on_record, d);
}

/* Totals of CHILDREN processes whose ids are ids[]: every count, every key, every record. */
static void check_totals(struct shared_maps *s, struct drain *d, const uint64_t *ids)
{
	int ncpus = bpfvm__num_possible_cpus(s->vm);
	uint64_t total = 0, *pcpu = calloc((size_t)ncpus, 8);
	uint32_t key = 0;

	CHECK(bpfvm_map__lookup_elem(s->maps[0], &key, &total, 0) == 0);
	CHECK_EQ_U64(total, (uint64_t)CHILDREN * ITERS);
	CHECK(pcpu && bpfvm_map__lookup_elem(s->maps[1], &key, pcpu, 0) == 0);
	total = 0;
	for (int c = 0; pcpu && c < ncpus; c++)
		total += pcpu[c];
	CHECK_EQ_U64(total, (uint64_t)CHILDREN * ITERS);
	free(pcpu);
	for (int i = 0; i < CHILDREN * KEYS_PER_CHILD && !test_failed_now; i++) {
		uint32_t k = (uint32_t)(ids[i / KEYS_PER_CHILD] * KEYS_PER_CHILD + i % KEYS_PER_CHILD);
		uint64_t v = 0;

		if (bpfvm_map__lookup_elem(s->maps[2], &k, &v, 0) || v != ITERS / KEYS_PER_CHILD)
			TEST_FAIL("hash key %u: %llu, expected %u", k, (unsigned long long)v,
				  ITERS / KEYS_PER_CHILD);
	}
	for (int i = 0; i < CHILDREN && !test_failed_now; i++)
		for (uint64_t r = 0; r < ITERS; r++)
			if (!d->seen[ids[i]][r]) {
				TEST_FAIL("child %llu's record %llu is missing",
					  (unsigned long long)ids[i], (unsigned long long)r);
				break;
			}
	CHECK_EQ_INT(d->bad, 0);
	CHECK_EQ_INT(d->records, CHILDREN * ITERS);
	CHECK_EQ_U64(bpfvm_map__ringbuf_lost(s->maps[3]), 0);
}

static bool in_arena(struct bpfvm *vm, const void *p)
{
	uint64_t addr;
	int fd;

	return !bpfvm__shared_maps(vm, &fd, &addr) && (uintptr_t)p >= addr &&
	       (uintptr_t)p < addr + ARENA_SIZE;
}

/* The last process starts with exec and joins the arena (joiner()): a fresh address space. */
static pid_t start_joiner(struct bpfvm *vm)
{
	char fd_s[16], addr_s[32];
	uint64_t addr;
	int fd;
	pid_t pid;

	if (bpfvm__shared_maps(vm, &fd, &addr))
		return -1;
	snprintf(addr_s, sizeof(addr_s), "0x%llx", (unsigned long long)addr);
	pid = fork();
	if (pid == 0) {
		snprintf(fd_s, sizeof(fd_s), "%d", dup(fd));   /* without close-on-exec */
		execl("/proc/self/exe", "test_shared_maps", "--join", fd_s, addr_s, (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* CHILDREN processes at once (the last one joining after exec, if asked), drained meanwhile. */
static void run_children(bool exec_last)
{
	static struct drain d;
	struct shared_maps s;
	uint64_t ids[CHILDREN];
	pid_t pids[CHILDREN];
	int status[CHILDREN];

	memset(&d, 0, sizeof(d));
	if (!make_maps(&s))
		return;
	for (int i = 0; i < 4; i++)
		CHECK(in_arena(s.vm, s.maps[i]));
	CHECK_EQ_INT(bpfvm_map__ringbuf_fd(s.maps[3]), -EOPNOTSUPP);
	for (int i = 0; i < CHILDREN; i++) {
		status[i] = -1;
		ids[i] = exec_last && i == CHILDREN - 1 ? EXEC_CHILD : (uint64_t)i;
		if (ids[i] == EXEC_CHILD)
			pids[i] = start_joiner(s.vm);
		else if ((pids[i] = fork()) == 0)
			_exit(run_child(s.vm, s.maps, ids[i]));
	}
	drain_until_exit(s.maps[3], &d, pids, status, CHILDREN);
	for (int i = 0; i < CHILDREN; i++)
		if (!WIFEXITED(status[i]) || WEXITSTATUS(status[i]))
			TEST_FAIL("child %llu: status 0x%x", (unsigned long long)ids[i], status[i]);
	check_totals(&s, &d, ids);
	bpfvm__destroy(s.vm);
}

TEST(forked_children_update_shared_maps)
{
	run_children(false);
}

/* The joiner: a fresh process (after exec) maps the arena and takes its maps by name. */
static int joiner(const char *fd_s, const char *addr_s)
{
	BPFVM_OPTS(bpfvm_opts, vo, .shared_maps_fd = atoi(fd_s),
		   .shared_maps_addr = strtoull(addr_s, NULL, 0));
	struct bpfvm *vm = bpfvm__new(&vo);
	struct bpfvm_map *maps[4] = { 0 };
	int rc;

	if (!vm)
		return 30;
	for (int i = 0; i < 4; i++)
		if (!(maps[i] = bpfvm__map_by_name(vm, map_names[i])))
			return 31;
	rc = run_child(vm, maps, EXEC_CHILD);
	bpfvm__destroy(vm);   /* the arena's maps stay: they are the creator's */
	return rc;
}

TEST(exec_joins_the_arena)
{
	run_children(true);
}

TEST(joining_refuses_what_is_not_an_arena)
{
	char log_buf[512];
	struct bpfvm_log log = { log_buf, sizeof(log_buf), 0 };
	BPFVM_OPTS(bpfvm_opts, taken, .shared_maps_fd = 0, .log = &log);
	BPFVM_OPTS(bpfvm_opts, both, .shared_maps_size = 1 << 20, .shared_maps_addr = 0x1000,
		   .log = &log);
	int memfd = memfd_create("not-an-arena", MFD_CLOEXEC);
	void *here = mmap(NULL, 1 << 16, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	CHECK(memfd >= 0 && ftruncate(memfd, 1 << 16) == 0 && here != MAP_FAILED);
	/* an address already in use in this process */
	taken.shared_maps_fd = memfd;
	taken.shared_maps_addr = (uintptr_t)here;
	bpfvm_log__reset(&log);
	CHECK(bpfvm__new(&taken) == NULL && errno == EEXIST);
	CHECK_CONTAINS(log_buf, "is taken in this process");
	/* a free address, but a file that is no arena */
	munmap(here, 1 << 16);
	bpfvm_log__reset(&log);
	CHECK(bpfvm__new(&taken) == NULL && errno == EINVAL);
	CHECK_CONTAINS(log_buf, "is not an arena");
	bpfvm_log__reset(&log);
	CHECK(bpfvm__new(&both) == NULL && errno == EINVAL);
	CHECK_CONTAINS(log_buf, "either a new arena");
	close(memfd);
}

/* Every type's storage (LRU lists, devmap buckets, slots, trie nodes) comes from the
 * arena and goes back to it: creating and destroying maps over and over never fills it. */
TEST(arena_memory_is_reused)
{
	BPFVM_OPTS(bpfvm_opts, vo, .shared_maps_size = 8ull << 20);
	static const struct { uint32_t type, ks, vs, max, flags; } kinds[] = {
		{ BPFVM_MAP_TYPE_LRU_HASH, 4, 64, 4096, 0 },
		{ BPFVM_MAP_TYPE_LRU_PERCPU_HASH, 4, 8, 512, BPFVM_F_NO_COMMON_LRU },
		{ BPFVM_MAP_TYPE_HASH, 8, 64, 4096, BPFVM_F_NO_PREALLOC },
		{ BPFVM_MAP_TYPE_DEVMAP_HASH, 4, 4, 1024, 0 },
		{ BPFVM_MAP_TYPE_PROG_ARRAY, 4, 4, 1024, 0 },
		{ BPFVM_MAP_TYPE_LPM_TRIE, 8, 8, 1024, BPFVM_F_NO_PREALLOC },
		{ BPFVM_MAP_TYPE_RINGBUF, 0, 0, 1u << 18, 0 },
		{ BPFVM_MAP_TYPE_QUEUE, 0, 16, 1024, 0 },
	};
	struct bpfvm *vm = bpfvm__new(&vo);
	uint64_t addr;
	int fd;

	CHECK(vm && bpfvm__shared_maps(vm, &fd, &addr) == 0);
	for (int round = 0; vm && round < 60 && !test_failed_now; round++)
		for (size_t k = 0; k < N(kinds); k++) {
			struct bpfvm_map *m = pu_map(vm, kinds[k].type, kinds[k].ks, kinds[k].vs,
						     kinds[k].max, kinds[k].flags);
			uint64_t key = 1, value[8] = { 7 };

			if (!m)
				break;
			CHECK((uintptr_t)m >= addr && (uintptr_t)m < addr + (8ull << 20));
			if (kinds[k].type == BPFVM_MAP_TYPE_LRU_HASH ||
			    kinds[k].type == BPFVM_MAP_TYPE_HASH)
				CHECK(bpfvm_map__update_elem(m, &key, value, 0) == 0);
			bpfvm_map__destroy(m);
		}
	bpfvm__destroy(vm);
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "--join"))
		return joiner(argv[2], argv[3]);
	return test_main();
}
