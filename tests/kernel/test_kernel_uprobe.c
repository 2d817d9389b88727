/*
 * test_kernel_uprobe.c - the same uprobe object (tests/data/uprobe/
 * uprobe.bpf.c) loaded into the kernel with libbpf (each program
 * auto-attached by its SEC() name: uprobes and uretprobes on the
 * workload's functions, malloc in libc.so.6) and run under `bpfvm trace`,
 * on the same workload (tests/data/uprobe/uworkload.c: 4 threads, a
 * recursive function, a fork): the maps compared.  Thread ids differ
 * between runs, so per-thread counts are compared as sorted lists;
 * addresses differ (ASLR), so bpf_get_func_ip is compared as a relation
 * (at a uretprobe it equals the entry's, at a uprobe it is the ip).
 * USDT (tests/data/uprobe/usdt.bpf.c, libbpf's usdt.bpf.h): the
 * arguments of upr:tick and of the semaphore-guarded upr:guarded as the
 * programs read them, libbpf's specs in the kernel run, bpfvm's in its own.
 * A Go program (tests/data/uprobe/goworkload.go, tests/data/uprobe/go.bpf.c):
 * calls per thread, a leaf's argument in rax, a lone ret's hits, entries of
 * a function that checks its stack; under --mode auto, which takes the
 * supervisor for a Go program.  A library mapped late (dlopen; an mmap
 * by hand), unmapped and mapped again: cbrt counted as the kernel counts
 * it, by the supervisor and the agent.
 * Skips with the kernel's reason where it refuses to load or attach.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kernel_attach.h"
#include "test.h"

#define MAX_VALS 64

/* What a run left in the maps: per-thread counts sorted, the arrays as they are. */
struct result {
	uint64_t calls[MAX_VALS], mallocs[MAX_VALS];
	int ncalls, nmallocs;
	uint64_t facts[8], info[8];
	uint64_t out[10];       /* usdt.bpf.o's */
	uint64_t hits[8];       /* go.bpf.o's and fault.bpf.o's */
	bool go_supervisor;     /* bpfvm trace said it took the supervisor for a Go program */
};

static char dir[64];
static bool have_go;

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level, (void)fmt, (void)ap;
	return 0;
}

static void read_hash(int fd, uint64_t *vals, int *n)
{
	uint32_t key, next, *prev = NULL;

	*n = 0;
	while (*n < MAX_VALS && !bpf_map_get_next_key(fd, prev, &next)) {
		if (!bpf_map_lookup_elem(fd, &next, &vals[*n]))
			(*n)++;
		key = next;
		prev = &key;
	}
	qsort(vals, (size_t)*n, sizeof(*vals), cmp_u64);
}

static void read_array(int fd, uint64_t *vals)
{
	for (uint32_t k = 0; k < 8; k++)
		if (bpf_map_lookup_elem(fd, &k, &vals[k]))
			vals[k] = 0;
}

/* workload: its name in dir, then its arguments if any (a shell line then) */
static int run_workload(const char *workload)
{
	char path[512];
	int status;
	pid_t pid;

	fflush(NULL);   /* the child's freopen would print what is buffered again */
	pid = fork();

	if (pid == 0) {
		if (!freopen("/dev/null", "w", stdout))
			_exit(127);
		snprintf(path, sizeof(path), "%s%s/%s", strchr(workload, ' ') ? "exec " : "", dir,
			 workload);
		if (strchr(workload, ' '))
			execl("/bin/sh", "sh", "-c", path, (char *)NULL);
		else
			execl(path, workload, (char *)NULL);
		_exit(127);
	}
	return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	       !WEXITSTATUS(status) ? 0 : -1;
}

/* The kernel's run: 0, 1 with why (it refused), -1. */
static int kernel_run(const char *object, const char *workload, struct result *r, char *why,
		      size_t size)
{
	char path[128];
	struct kernel_links k;
	struct bpf_object *obj;

	snprintf(path, sizeof(path), "%s/%s", dir, object);
	if (kernel_attach_all(path, &k, why, size))
		return 1;
	obj = k.obj;
	if (run_workload(workload)) {
		kernel_detach_all(&k);
		return -1;
	}
	if (bpf_object__find_map_fd_by_name(obj, "out") >= 0) {
		int fd = bpf_object__find_map_fd_by_name(obj, "out");

		for (uint32_t i = 0; i < 10; i++)
			if (bpf_map_lookup_elem(fd, &i, &r->out[i]))
				r->out[i] = 0;
	} else {
		read_hash(bpf_object__find_map_fd_by_name(obj, "calls"), r->calls, &r->ncalls);
		read_hash(bpf_object__find_map_fd_by_name(obj, "mallocs"), r->mallocs, &r->nmallocs);
		read_array(bpf_object__find_map_fd_by_name(obj, "facts"), r->facts);
		read_array(bpf_object__find_map_fd_by_name(obj, "info"), r->info);
		read_array(bpf_object__find_map_fd_by_name(obj, "hits"), r->hits);
	}
	kernel_detach_all(&k);
	return 0;
}

/* bpfvm's run, from --dump-maps: "map NAME (...)" then "key HEX (K)  value HEX (V)" lines. */
static int bpfvm_run(const char *object, const char *workload, const char *mode, struct result *r)
{
	char cmd[1024], line[512], map[32] = "";
	FILE *f;

	snprintf(cmd, sizeof(cmd), "%s/bpfvm trace --mode %s --dump-maps %s/%s -- %s/%s 2>&1",
		 getenv("BUILD") ? getenv("BUILD") : "build", mode, dir, object, dir, workload);
	if (!(f = popen(cmd, "r")))
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long k, v;
		char *p;

		if (sscanf(line, "map %31s", map) == 1)
			continue;
		if (strstr(line, "bpfvm trace: mode supervisor: it is a Go program"))
			r->go_supervisor = true;
		if (!(p = strstr(line, "key ")) || sscanf(p, "key %*s (%llu)  value %*s (%llu)", &k, &v) != 2)
			continue;
		if (!strcmp(map, "calls") && r->ncalls < MAX_VALS)
			r->calls[r->ncalls++] = v;
		else if (!strcmp(map, "mallocs") && r->nmallocs < MAX_VALS)
			r->mallocs[r->nmallocs++] = v;
		else if (!strcmp(map, "facts") && k < 8)
			r->facts[k] = v;
		else if (!strcmp(map, "info") && k < 8)
			r->info[k] = v;
		else if (!strcmp(map, "out") && k < 10)
			r->out[k] = v;
		else if (!strcmp(map, "hits") && k < 8)
			r->hits[k] = v;
	}
	qsort(r->calls, (size_t)r->ncalls, sizeof(uint64_t), cmp_u64);
	qsort(r->mallocs, (size_t)r->nmallocs, sizeof(uint64_t), cmp_u64);
	return pclose(f) ? -1 : 0;
}

static void list(char *buf, size_t size, const uint64_t *v, int n)
{
	size_t len = 0;

	buf[0] = '\0';
	for (int i = 0; i < n && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%llu", i ? " " : "",
					(unsigned long long)v[i]);
}

TEST(uprobe_maps_match_kernel)
{
	static struct result k, b;
	char why[256], kl[512], bl[512];
	struct utsname u;
	int rc = kernel_run("uprobe.bpf.o", "uworkload", &k, why, sizeof(why));

	uname(&u);
	if (rc > 0) {
		printf("SKIP %s: %s (Linux %s)\n", test_current_name(), why, u.release);
		return;
	}
	CHECK(rc == 0);
	CHECK(bpfvm_run("uprobe.bpf.o", "uworkload", "supervisor", &b) == 0);
	list(kl, sizeof(kl), k.calls, k.ncalls);
	list(bl, sizeof(bl), b.calls, b.ncalls);
	if (strcmp(kl, bl))
		TEST_FAIL("calls per thread: kernel '%s', bpfvm '%s'", kl, bl);
	CHECK(!strcmp(kl, "1 1000 1000 1000 1000"));
	list(kl, sizeof(kl), k.mallocs, k.nmallocs);
	list(bl, sizeof(bl), b.mallocs, b.nmallocs);
	if (strcmp(kl, bl))
		TEST_FAIL("mallocs per thread: kernel '%s', bpfvm '%s'", kl, bl);
	for (int i = 0; i < 8; i++)
		if (k.facts[i] != b.facts[i])
			TEST_FAIL("upr_fact's returns [%d]: kernel %llu, bpfvm %llu", i,
				  (unsigned long long)k.facts[i], (unsigned long long)b.facts[i]);
	for (int i = 0; i < 8; i++) {
		bool addr = i == 2 || i == 4;   /* func_ip values: ASLR */

		if (!addr && k.info[i] != b.info[i])
			TEST_FAIL("info[%d]: kernel %llu, bpfvm %llu", i,
				  (unsigned long long)k.info[i], (unsigned long long)b.info[i]);
	}
	if (k.info[2] != k.info[4] || b.info[2] != b.info[4] || !b.info[2])
		TEST_FAIL("func_ip at upr_global's entry and return: kernel %llx %llx, bpfvm %llx %llx",
			  (unsigned long long)k.info[2], (unsigned long long)k.info[4],
			  (unsigned long long)b.info[2], (unsigned long long)b.info[4]);
}

TEST(usdt_args_match_kernel)
{
	static struct result k, b;
	char why[256];
	struct utsname u;
	int rc = kernel_run("usdt.bpf.o", "uworkload", &k, why, sizeof(why));

	uname(&u);
	if (rc > 0) {
		printf("SKIP %s: %s (Linux %s)\n", test_current_name(), why, u.release);
		return;
	}
	CHECK(rc == 0);
	CHECK(bpfvm_run("usdt.bpf.o", "uworkload", "supervisor", &b) == 0);
	for (int i = 0; i < 10; i++)
		if (k.out[i] != b.out[i])
			TEST_FAIL("out[%d] (0-2 ints, 3-5 longs, 6 through the pointer, 7 count, "
				  "8 guarded, 9 hits): kernel %lld, bpfvm %lld", i, (long long)k.out[i],
				  (long long)b.out[i]);
	CHECK(k.out[8] == 99 && k.out[9] == 3);
}

/*
 * A library the workload loads after start-up (dlopen), unloads (dlclose)
 * and loads again, with a second thread waiting meanwhile ("late"), and
 * one it maps by hand (mmap of libm's file, no dynamic linker), unmaps
 * and maps again ("mapped"): cbrt's probe fires in every new mapping, as
 * the kernel's uprobe, which belongs to the file, does; in the supervisor
 * and in the agent.
 */
TEST(library_mapped_late_matches_kernel)
{
	static const char *const modes[] = { "supervisor", "agent" };
	char mapped[512], line[400] = "", why[256];
	FILE *f = popen("p=$(realpath /lib/$(uname -m)-linux-gnu/libm.so.6) && echo \"$p\" "
			"0x$(readelf -sW \"$p\" | awk '$8 == \"cbrt@@GLIBC_2.2.5\" { print $2; exit }')",
			"r");
	struct utsname u;

	uname(&u);
	if (!f || !fgets(line, sizeof(line), f) || pclose(f) || !strchr(line, ' ') ||
	    strlen(line) < 6) {
		TEST_FAIL("libm.so.6's path and cbrt's offset: '%s'", line);
		return;
	}
	line[strcspn(line, "\n")] = '\0';
	snprintf(mapped, sizeof(mapped), "uworkload mapped %s", line);
	for (int w = 0; w < 2; w++) {
		const char *workload = w ? mapped : "uworkload late";
		static struct result k;
		int rc;

		memset(&k, 0, sizeof(k));
		if ((rc = kernel_run("uprobe.bpf.o", workload, &k, why, sizeof(why))) > 0) {
			printf("SKIP %s: %s (Linux %s)\n", test_current_name(), why, u.release);
			return;
		}
		CHECK(rc == 0);
		if (k.info[6] != (w ? 2 : 3))
			TEST_FAIL("%s: the kernel counts %llu calls of cbrt", workload,
				  (unsigned long long)k.info[6]);
		for (int m = 0; m < 2; m++) {
			static struct result b;

			if (w && m && getenv("SANITIZED")) {
				printf("SKIP library_mapped_by_hand_agent: the sanitized agent brings ASan "
				       "into the command, whose mmap calls libc's, around the agent's\n");
				continue;
			}
			memset(&b, 0, sizeof(b));
			CHECK(bpfvm_run("uprobe.bpf.o", workload, modes[m], &b) == 0);
			if (b.info[6] != k.info[6])
				TEST_FAIL("%s: cbrt's calls, kernel %llu, bpfvm's %s %llu", workload,
					  (unsigned long long)k.info[6], modes[m],
					  (unsigned long long)b.info[6]);
		}
	}
}

/*
 * Entries of outer are calls plus the runs again of its entry after a
 * stack check that failed (a stack grown, a preemption request): some
 * dozens at most, as the run's timing makes them, in the kernel as here.
 */
TEST(go_program_matches_kernel)
{
	static struct result k, b;
	char why[256], kl[512], bl[512];
	struct utsname u;
	int rc;

	if (!have_go) {
		printf("SKIP %s: go (golang-go) is missing or cannot build goworkload.go\n",
		       test_current_name());
		return;
	}
	rc = kernel_run("go.bpf.o", "goworkload", &k, why, sizeof(why));
	uname(&u);
	if (rc > 0) {
		printf("SKIP %s: %s (Linux %s)\n", test_current_name(), why, u.release);
		return;
	}
	CHECK(rc == 0);
	CHECK(bpfvm_run("go.bpf.o", "goworkload", "auto", &b) == 0);
	CHECK(b.go_supervisor);
	list(kl, sizeof(kl), k.calls, k.ncalls);
	list(bl, sizeof(bl), b.calls, b.ncalls);
	if (strcmp(kl, bl))
		TEST_FAIL("work's calls per thread: kernel '%s', bpfvm '%s'", kl, bl);
	CHECK(!strcmp(kl, "1000 1000 1000 1000"));
	for (int i = 0; i < 3; i++)
		if (k.hits[i] != b.hits[i])
			TEST_FAIL("hits[%d] (work's calls, its arguments' sum, tiny's calls): kernel "
				  "%llu, bpfvm %llu", i, (unsigned long long)k.hits[i],
				  (unsigned long long)b.hits[i]);
	CHECK_EQ_U64(k.hits[1], 4 * 499500);
	if (k.hits[3] < 4000 || k.hits[3] > 4200 || b.hits[3] < 4000 || b.hits[3] > 4200)
		TEST_FAIL("outer's entries: kernel %llu, bpfvm %llu (4000 calls, some entries again)",
			  (unsigned long long)k.hits[3], (unsigned long long)b.hits[3]);
}

/*
 * A probed instruction that faults (tests/data/uprobe/fault.c): the
 * program's handler sees the fault at the function's first byte, where
 * the instruction is, and the probe fires again when the call is made
 * again: the workload's status and the hits, as in the kernel.
 */
TEST(fault_in_probed_instruction_matches_kernel)
{
	static struct result k, b;
	char why[256];
	struct utsname u;
	int rc = kernel_run("fault.bpf.o", "fault", &k, why, sizeof(why));

	uname(&u);
	if (rc > 0) {
		printf("SKIP %s: %s (Linux %s)\n", test_current_name(), why, u.release);
		return;
	}
	CHECK(rc == 0);   /* the workload saw both faults at load+0 */
	CHECK(bpfvm_run("fault.bpf.o", "fault", "supervisor", &b) == 0);
	CHECK_EQ_U64(b.hits[0], k.hits[0]);
	CHECK_EQ_U64(k.hits[0], 4);
}

int main(void)
{
	char cmd[2048];
	int rc;

	snprintf(dir, sizeof(dir), "/tmp/bpfvm_kuprobe_XXXXXX");
	if (system("command -v clang-19 >/dev/null 2>&1") || !mkdtemp(dir)) {
		printf("SKIP kernel_uprobe: clang-19 is missing\n");
		return 0;
	}
	snprintf(cmd, sizeof(cmd), "cc -O2 -pthread -o %s/uworkload tests/data/uprobe/uworkload.c"
		 " && clang-19 -O2 -g -target bpf -D__TARGET_ARCH_x86 -I/usr/include/$(uname -m)-linux-gnu"
		 /* the host's libbpf looks for libraries by name where Debian has none */
		 " -DLIBM=\\\"$(realpath /lib/$(uname -m)-linux-gnu/libm.so.6)\\\""
		 " -DWORKLOAD='\"%s/uworkload\"' -c tests/data/uprobe/uprobe.bpf.c -o %s/uprobe.bpf.o"
		 " && clang-19 -O2 -g -target bpf -D__TARGET_ARCH_x86 -I/usr/include/$(uname -m)-linux-gnu"
		 " -DWORKLOAD='\"%s/uworkload\"' -c tests/data/uprobe/usdt.bpf.c -o %s/usdt.bpf.o"
		 " && cc -O2 -o %s/fault tests/data/uprobe/fault.c"
		 " && clang-19 -O2 -g -target bpf -I/usr/include/$(uname -m)-linux-gnu"
		 " -DFAULTWORKLOAD='\"%s/fault\"' -c tests/data/uprobe/fault.bpf.c -o %s/fault.bpf.o",
		 dir, dir, dir, dir, dir, dir, dir, dir);
	if (system(cmd)) {
		printf("FAIL kernel_uprobe: the object or the workload does not build\n");
		return 1;
	}
	snprintf(cmd, sizeof(cmd), "command -v go >/dev/null 2>&1 && GOCACHE=%s/gocache GO111MODULE=off"
		 " go build -o %s/goworkload tests/data/uprobe/goworkload.go >/dev/null 2>&1"
		 " && clang-19 -O2 -g -target bpf -D__TARGET_ARCH_x86 -I/usr/include/$(uname -m)-linux-gnu"
		 " -DGOWORKLOAD='\"%s/goworkload\"' -c tests/data/uprobe/go.bpf.c -o %s/go.bpf.o",
		 dir, dir, dir, dir);
	have_go = !system(cmd);
	libbpf_set_print(quiet);
	alarm(120);   /* bound the whole test */
	rc = test_main();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		fprintf(stderr, "cannot remove %s\n", dir);
	return rc;
}
