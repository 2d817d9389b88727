/*
 * test_kernel_unwind.c - the kernel's uretprobes (libbpf, the programs of
 * tests/data/uprobe/unwind.bpf.c) against bpfvm's, both modes, on
 * tests/data/uprobe/unwind.cc, one part at a time: a C++ exception caught
 * inside the probed function (the unwinder never steps out of the frame
 * whose return address is the trampoline), exceptions through probed
 * frames, a thread cancelled inside one, backtrace() inside one.  Where
 * the kernel's run prints what the untraced run prints and exits alike,
 * bpfvm's must equal it, output and return counts.  Where it does not,
 * the kernel's trampoline (in the [uprobes] mapping, with no unwind info)
 * stopped the unwinder (Linux 6.18: std::terminate; the thread's
 * destructor skipped, glibc's cancellation ending at the end of the
 * stack; a backtrace of 2 frames): a SKIP saying what the kernel did, and
 * bpfvm's runs must equal the untraced one with the right return counts.
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

struct run {
	int status;              /* the workload's exit status, 128 + a signal */
	char out[1024];          /* its output */
	uint64_t rets[7];
};

static char dir[64];

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level, (void)fmt, (void)ap;
	return 0;
}

static void slurp(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, size - 1, f) : 0;

	buf[n] = '\0';
	if (f)
		fclose(f);
}

/* cmd's exit status (128 + a signal), its output in out (lines of the program only). */
static int sh(const char *cmd, char *out, size_t size)
{
	char full[1024], path[128], raw[8192];
	int st;

	snprintf(path, sizeof(path), "%s/out", dir);
	snprintf(full, sizeof(full), "%s > %s 2>/dev/null", cmd, path);
	st = system(full);
	slurp(path, raw, sizeof(raw));
	out[0] = '\0';
	for (char *l = strtok(raw, "\n"); l; l = strtok(NULL, "\n"))
		if (!strncmp(l, "thread ", 7) || !strncmp(l, "cancelled ", 10) ||
		    !strncmp(l, "backtrace ", 10))
			snprintf(out + strlen(out), size - strlen(out), "%s;", l);
	st = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return st;
}

/* The kernel's run of part: 0, or 1 with why (it refused). */
static int kernel_run(const char *part, struct run *r, char *why, size_t size)
{
	char path[128], cmd[256];
	struct kernel_links k;
	int fd;

	snprintf(path, sizeof(path), "%s/unwind.bpf.o", dir);
	if (kernel_attach_all(path, &k, why, size))
		return 1;
	snprintf(cmd, sizeof(cmd), "%s/unwind %s", dir, part);
	r->status = sh(cmd, r->out, sizeof(r->out));
	fd = bpf_object__find_map_fd_by_name(k.obj, "rets");
	for (uint32_t i = 0; i < 7; i++)
		if (bpf_map_lookup_elem(fd, &i, &r->rets[i]))
			r->rets[i] = 0;
	kernel_detach_all(&k);
	return 0;
}

/* bpfvm's run of part in mode: its exit status, output and rets from --dump-maps. */
static void bpfvm_run(const char *mode, const char *part, struct run *r)
{
	char cmd[512], path[128], raw[16384], *p;

	snprintf(cmd, sizeof(cmd), "%s/bpfvm trace --mode %s --dump-maps %s/unwind.bpf.o -- "
		 "%s/unwind %s", getenv("BUILD") ? getenv("BUILD") : "build", mode, dir, dir, part);
	r->status = sh(cmd, r->out, sizeof(r->out));
	snprintf(path, sizeof(path), "%s/out", dir);
	slurp(path, raw, sizeof(raw));
	memset(r->rets, 0, sizeof(r->rets));
	for (p = strstr(raw, "key "); p; p = strstr(p + 4, "key ")) {
		unsigned long long k, v;

		if (sscanf(p, "key %*s (%llu)  value %*s (%llu)", &k, &v) == 2 && k < 7)
			r->rets[k] = v;
	}
}

static void rets_str(char *buf, size_t size, const uint64_t *v)
{
	snprintf(buf, size, "%llu %llu %llu %llu %llu %llu %llu", (unsigned long long)v[0],
		 (unsigned long long)v[1], (unsigned long long)v[2], (unsigned long long)v[3],
		 (unsigned long long)v[4], (unsigned long long)v[5], (unsigned long long)v[6]);
}

/*
 * Part's runs compared; right: the return counts by the rule (frames an
 * exception or a cancellation unwound give none), what bpfvm must give
 * where the kernel's run breaks.
 */
static void compare(const char *part, const char *right)
{
	static struct run plain, k, b, asan;
	char why[256], ks[128], bs[128];
	const char *modes[] = { "supervisor", "agent" };
	struct utsname u;
	int rc;

	uname(&u);
	snprintf(why, sizeof(why), "%s/unwind %s", dir, part);
	plain.status = sh(why, plain.out, sizeof(plain.out));
	CHECK(plain.status == 0);
	rc = kernel_run(part, &k, why, sizeof(why));
	if (rc || k.status != plain.status || strcmp(k.out, plain.out)) {
		if (rc)
			printf("SKIP %s: %s (Linux %s)\n", test_current_name(), why, u.release);
		else
			printf("SKIP %s: the kernel's uretprobes break the unwinding here (Linux "
			       "%s): exit %d, output '%s' where the untraced run exits %d with "
			       "'%s'; bpfvm's run checked against the untraced one and the right "
			       "counts\n", test_current_name(), u.release, k.status, k.out,
			       plain.status, plain.out);
		k = plain;
		snprintf(ks, sizeof(ks), "%s", right);
	} else {
		rets_str(ks, sizeof(ks), k.rets);
		CHECK(!strcmp(ks, right));
	}
	asan = k;
	if (getenv("SANITIZED")) {     /* the sanitized agent brings ASan into the program, whose
					  backtrace() interceptor is one frame more: its reference */
		snprintf(why, sizeof(why), "LD_PRELOAD=$(cc -print-file-name=libasan.so) "
			 "ASAN_OPTIONS=detect_leaks=0 %s/unwind %s", dir, part);
		asan.status = sh(why, asan.out, sizeof(asan.out));
	}
	for (int m = 0; m < 2; m++) {
		const struct run *want = m == 1 ? &asan : &k;

		bpfvm_run(modes[m], part, &b);
		rets_str(bs, sizeof(bs), b.rets);
		if (b.status != want->status || strcmp(b.out, want->out) || strcmp(bs, ks))
			TEST_FAIL("%s %s: exit %d, output '%s', returns '%s'; the kernel's (or the "
				  "untraced run's and the right counts): exit %d, '%s', '%s'",
				  modes[m], part, b.status, b.out, bs, want->status, want->out, ks);
	}
}

/* rets: uw_probed uw_catcher uw_rethrow uw_nest uw_block uw_bt, uw_catcher's values summed */
TEST(kernel_unwind_caught_inside) { compare("inside", "0 200 0 0 0 0 1000"); }
TEST(kernel_unwind_throw_through) { compare("throw", "0 200 0 400 0 0 1000"); }
TEST(kernel_unwind_cancel) { compare("cancel", "0 0 0 0 0 0 0"); }
TEST(kernel_unwind_backtrace) { compare("backtrace", "0 0 0 0 0 1 0"); }

int main(void)
{
	char cmd[1024];
	int rc;

	snprintf(dir, sizeof(dir), "/tmp/bpfvm_kunwind_XXXXXX");
	if (system("command -v clang-19 >/dev/null 2>&1 && command -v g++ >/dev/null 2>&1") ||
	    !mkdtemp(dir)) {
		printf("SKIP kernel_unwind: clang-19 or g++ is missing\n");
		return 0;
	}
	snprintf(cmd, sizeof(cmd), "g++ -O2 -pthread -o %s/unwind tests/data/uprobe/unwind.cc"
		 " && clang-19 -O2 -g -target bpf -D__TARGET_ARCH_x86 -I/usr/include/$(uname -m)-linux-gnu"
		 " -DWORKLOAD='\"%s/unwind\"' -c tests/data/uprobe/unwind.bpf.c -o %s/unwind.bpf.o",
		 dir, dir, dir);
	if (system(cmd)) {
		printf("FAIL kernel_unwind: the object or the workload does not build\n");
		return 1;
	}
	libbpf_set_print(quiet);
	alarm(120);   /* bound the whole test */
	rc = test_main();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		fprintf(stderr, "cannot remove %s\n", dir);
	return rc;
}
