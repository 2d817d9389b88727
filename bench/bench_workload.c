/*
 * bench_workload.c - real workloads under uprobes (`make bench`), untraced,
 * in the kernel (libbpf, attached to the workload's pid alone) and under
 * `bpfvm trace --jit` in each mode (the kernel JITs its programs too):
 *
 *   - four threads calling malloc a million times, malloc_count.bpf.o's
 *     uprobe on libc's malloc counting calls per thread.  The workload
 *     times itself (threads started to joined).  A traced mode that adds
 *     microseconds a call runs 20,000 calls and its million-call time is
 *     extrapolated (marked "est.").
 *   - an interactive bash on a pty reading 10,000 lines, readline_count.bpf.o's
 *     uretprobe on readline counting them: from bash's first prompt to its
 *     exit.
 *
 * The counts the programs kept must cover every call, or the figure is refused.
 *
 *   bench_workload DIR   (DIR: malloc_workload, *.bpf.o; $BPFVM or build/bpfvm)
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define RUNS 3
#define N_FULL 1000000L
#define N_SLOW 20000L        /* for a mode that adds more than SLOW_NS a call */
#define SLOW_NS 2000.0
#define LINES 10000L
#define BASH_LIMIT_S 300.0   /* a bash run that takes longer is killed and counted failed */

static const char *dir, *bpfvm;

struct run {
	double ns_per_call;     /* -1: failed */
	unsigned long long counted;
};

/* The workload's "ns T" and the sum of "value ... (N)" lines after "map calls" in out. */
static struct run parse(FILE *f, long n)
{
	struct run r = { -1, 0 };
	char line[512];
	int in_map = 0;

	while (fgets(line, sizeof(line), f)) {
		const char *v;

		if (!strncmp(line, "ns ", 3))
			r.ns_per_call = atof(line + 3) / (double)n;
		else if (!strncmp(line, "map ", 4))
			in_map = !strncmp(line, "map calls ", 10);
		else if (in_map && (v = strstr(line, " value ")) && (v = strchr(v, '(')))
			r.counted += strtoull(v + 1, NULL, 10);
	}
	return r;
}

static int cmp_run(const void *a, const void *b)
{
	double x = ((const struct run *)a)->ns_per_call, y = ((const struct run *)b)->ns_per_call;

	return x < y ? -1 : x > y;
}

/* The median of RUNS runs of cmd (the workload's command line, its N last): ns/call. */
static struct run median(const char *prefix, long n)
{
	struct run t[RUNS];

	for (int i = 0; i < RUNS; i++) {
		char cmd[1024];
		FILE *f;

		snprintf(cmd, sizeof(cmd), "%s %s/malloc_workload %ld 2> %s/bench_workload.err", prefix,
			 dir, n, dir);
		f = popen(cmd, "r");
		t[i] = f ? parse(f, n) : (struct run){ -1, 0 };
		if (!f || pclose(f) || t[i].ns_per_call < 0)
			return (struct run){ -1, 0 };
	}
	qsort(t, RUNS, sizeof(t[0]), cmp_run);
	return t[RUNS / 2];
}

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level, (void)fmt, (void)ap;
	return 0;
}

static unsigned long long map_sum(int fd)
{
	unsigned long long sum = 0;
	__u32 key, next, *prev = NULL;
	__u64 v;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		if (!bpf_map_lookup_elem(fd, &next, &v))
			sum += v;
		key = next;
		prev = &key;
	}
	return sum;
}

/* One run in the kernel: the workload forked, held until its uprobe is attached to its pid. */
static struct run kernel_once(struct bpf_object *obj, long n, char *why, size_t size)
{
	LIBBPF_OPTS(bpf_uprobe_opts, o, .func_name = "malloc");
	struct bpf_program *prog = bpf_object__find_program_by_name(obj, "count_malloc");
	struct bpf_map *map = bpf_object__find_map_by_name(obj, "calls");
	struct run r = { -1, 0 };
	struct bpf_link *link;
	int go[2], out[2], status;
	char path[512], arg[32];
	__u32 k;
	pid_t pid;
	FILE *f;

	if (!prog || !map || pipe(go) || pipe(out))
		return r;
	snprintf(path, sizeof(path), "%s/malloc_workload", dir);
	snprintf(arg, sizeof(arg), "%ld", n);
	if ((pid = fork()) == 0) {
		char c;

		close(go[1]);
		dup2(out[1], 1);
		if (read(go[0], &c, 1) == 1)
			execl(path, "malloc_workload", arg, (char *)NULL);
		_exit(127);
	}
	close(go[0]);
	close(out[1]);
	while (!bpf_map_get_next_key(bpf_map__fd(map), NULL, &k))   /* empty it */
		bpf_map_delete_elem(bpf_map__fd(map), &k);
	link = pid > 0 ? bpf_program__attach_uprobe_opts(prog, pid, "libc.so.6", 0, &o) : NULL;
	if (!link)
		snprintf(why, size, "the kernel refuses to attach a uprobe to libc.so.6:malloc");
	else if (write(go[1], "g", 1) == 1 && (f = fdopen(out[0], "r"))) {
		r = parse(f, n);
		fclose(f);
		out[0] = -1;
	}
	close(go[1]);
	if (out[0] >= 0)
		close(out[0]);
	if (pid > 0 && (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status)))
		r.ns_per_call = -1;
	if (link)
		r.counted = map_sum(bpf_map__fd(map));
	bpf_link__destroy(link);
	return r;
}

static struct run kernel_median(long n, char *why, size_t size)
{
	struct run t[RUNS];
	struct bpf_object *obj;
	char path[512];

	snprintf(path, sizeof(path), "%s/malloc_count.bpf.o", dir);
	libbpf_set_print(quiet);
	obj = bpf_object__open_file(path, NULL);
	if (!obj || bpf_object__load(obj)) {
		snprintf(why, size, "the kernel refuses to load malloc_count.bpf.o");
		bpf_object__close(obj);
		return (struct run){ -1, 0 };
	}
	for (int i = 0; i < RUNS; i++)
		if ((t[i] = kernel_once(obj, n, why, size)).ns_per_call < 0) {
			bpf_object__close(obj);
			return t[i];
		}
	bpf_object__close(obj);
	qsort(t, RUNS, sizeof(t[0]), cmp_run);
	return t[RUNS / 2];
}

/* A mode: slow ones at N_SLOW calls, the others at N_FULL; *n the calls it ran. */
static struct run measure(const char *prefix, long *n, double base)
{
	struct run r = median(prefix, N_SLOW);

	*n = N_SLOW;
	if (r.ns_per_call >= 0 && r.ns_per_call - base < SLOW_NS) {
		*n = N_FULL;
		r = median(prefix, N_FULL);
	}
	return r;
}

static void row(const char *name, struct run r, long n, double base, double kernel_added)
{
	double added = r.ns_per_call - base;

	if (r.ns_per_call < 0) {
		char path[512], why[256] = "failed";
		FILE *f;

		snprintf(path, sizeof(path), "%s/bench_workload.err", dir);
		if ((f = fopen(path, "r"))) {
			if (fgets(why, sizeof(why), f))
				why[strcspn(why, "\n")] = '\0';
			fclose(f);
		}
		printf("%-34s %8s   (%s)\n", name, "-", why);
		return;
	}
	if (r.counted && r.counted < (unsigned long long)n) {
		printf("%-34s %10s   (counted %llu of %ld calls: refused)\n", name, "-", r.counted, n);
		return;
	}
	printf("%-34s %8ld %10.1f %10.1f %9.2f s%s", name, n, r.ns_per_call, added,
	       r.ns_per_call * (double)N_FULL * 1e-9, n < N_FULL ? " est." : "     ");
	if (kernel_added > 0 && added > 0)
		printf("   %.2f of the kernel's added", added / kernel_added);
	printf("\n");
}

/* ---- bash reading lines on a pty --------------------------------------------------------- */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Called with the child's pid before it may exec: 0 to let it, else it is killed. */
typedef int (*before_exec_fn)(pid_t child, void *arg);

/* Type what is left of LINES "true" lines and an exit into the pty (non-blocking). */
static size_t type_some(int master, size_t sent)
{
	static const char line[] = "true\n", bye[] = "exit\n";
	size_t lines = (size_t)LINES * (sizeof(line) - 1);
	const char *what = sent < lines ? line + sent % (sizeof(line) - 1) : bye + (sent - lines);
	ssize_t n = write(master, what, strlen(what));

	return n > 0 ? sent + (size_t)n : sent;
}

/*
 * Drive argv (a bash, or bpfvm trace running one) on a pty: wait for the
 * first prompt, type the lines and exit, read what it prints (the tail
 * kept in *out, malloc'd).  Seconds from the first prompt to its exit,
 * or -1.
 */
static double drive_bash(char *const argv[], before_exec_fn before, void *arg, char **out)
{
	size_t len = 0, cap = 1 << 18, sent = 0, total = (size_t)LINES * 5 + 5;
	double start = -1, t0 = now_s();
	int master, status = -1, hold[2] = { -1, -1 };
	char *buf = malloc(cap);
	pid_t pid;

	*out = buf;
	if (!buf || pipe(hold))
		return -1;
	buf[0] = '\0';
	if ((pid = forkpty(&master, NULL, NULL, NULL)) == 0) {
		char c;

		setenv("PS1", "$ ", 1);
		close(hold[1]);
		if (read(hold[0], &c, 1) == 1)
			execvp(argv[0], argv);
		_exit(127);
	}
	close(hold[0]);
	if (pid < 0 || (before && before(pid, arg)) || write(hold[1], "g", 1) != 1) {
		close(hold[1]);
		if (pid > 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			close(master);
		}
		return -1;
	}
	close(hold[1]);
	fcntl(master, F_SETFL, O_NONBLOCK);
	while (now_s() - t0 < BASH_LIMIT_S) {
		struct pollfd p = { master, POLLIN | (start >= 0 && sent < total ? POLLOUT : 0), 0 };
		ssize_t n;

		if (poll(&p, 1, 100) < 0 && errno != EINTR)
			break;
		if (p.revents & POLLIN) {
			if (len > cap - 4097) {   /* keep the tail: the map dump comes last */
				memmove(buf, buf + len - 4096, 4096);
				len = 4096;
			}
			n = read(master, buf + len, cap - 1 - len);
			if (n > 0) {
				len += (size_t)n;
				buf[len] = '\0';
				if (start < 0 && strstr(buf, "$ "))
					start = now_s();
			}
		}
		if ((p.revents & POLLOUT) && sent < total)
			sent = type_some(master, sent);
		if (waitpid(pid, &status, WNOHANG) == pid) {
			while ((n = read(master, buf + len, cap - 1 - len)) > 0)   /* what is left */
				len += (size_t)n;
			buf[len] = '\0';
			pid = -1;
			break;
		}
	}
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		status = -1;
	}
	close(master);
	return start >= 0 && status >= 0 && WIFEXITED(status) && !WEXITSTATUS(status) ?
		       now_s() - start : -1;
}

/* bash's lines under bpfvm trace in mode: seconds; *counted from its --dump-maps. */
static double bash_bpfvm(const char *mode, unsigned long long *counted, char *why, size_t size)
{
	char obj[512], *out = NULL, *v;
	char *argv[] = { (char *)bpfvm, "trace", "--jit", "--mode", (char *)mode, "--dump-maps", obj,
			 "--", "bash", "--norc", "--noprofile", "-i", NULL };
	double s;

	*counted = 0;
	snprintf(obj, sizeof(obj), "%s/readline_count.bpf.o", dir);
	s = drive_bash(argv, NULL, NULL, &out);
	/* "map lines (array, ...):", then "\tkey 00000000 (0)  value ... (N)" */
	if (out && (v = strstr(out, "map lines ")) && (v = strstr(v, ")  value ")) && (v = strchr(v + 1, '(')))
		*counted = strtoull(v + 1, NULL, 10);
	if (s < 0 && out && (v = strstr(out, "bpfvm trace: ")))
		snprintf(why, size, "%.*s", (int)strcspn(v, "\r\n"), v);
	free(out);
	return s;
}

struct kernel_bash {
	struct bpf_program *prog;
	struct bpf_link *link;
};

static int attach_readline(pid_t child, void *arg)
{
	LIBBPF_OPTS(bpf_uprobe_opts, o, .func_name = "readline", .retprobe = true);
	struct kernel_bash *k = arg;

	k->link = bpf_program__attach_uprobe_opts(k->prog, child, "/bin/bash", 0, &o);
	return k->link ? 0 : -1;
}

static double bash_kernel(unsigned long long *counted, char *why, size_t size)
{
	char *argv[] = { "bash", "--norc", "--noprofile", "-i", NULL }, path[512], *out = NULL;
	struct kernel_bash k = { NULL, NULL };
	struct bpf_object *obj;
	struct bpf_map *map;
	double s = -1;
	__u32 key = 0;
	__u64 v = 0;

	*counted = 0;
	snprintf(path, sizeof(path), "%s/readline_count.bpf.o", dir);
	libbpf_set_print(quiet);
	obj = bpf_object__open_file(path, NULL);
	if (!obj || bpf_object__load(obj) || !(k.prog = bpf_object__find_program_by_name(obj, "count_line")) ||
	    !(map = bpf_object__find_map_by_name(obj, "lines"))) {
		snprintf(why, size, "the kernel refuses to load readline_count.bpf.o");
		bpf_object__close(obj);
		return -1;
	}
	s = drive_bash(argv, attach_readline, &k, &out);
	if (!k.link)
		snprintf(why, size, "the kernel refuses a uretprobe on /bin/bash:readline");
	*counted = !bpf_map_lookup_elem(bpf_map__fd(map), &key, &v) ? v : 0;
	bpf_link__destroy(k.link);
	bpf_object__close(obj);
	free(out);
	return s;
}

static void bash_row(const char *name, double s, unsigned long long counted, double base,
		     double kernel, const char *why)
{
	if (s < 0) {
		printf("%-34s %10s   (%s)\n", name, "-", why[0] ? why : "failed");
		return;
	}
	if (base >= 0 && counted < (unsigned long long)LINES) {   /* untraced: nothing counts */
		printf("%-34s %10s   (counted %llu of %ld lines: refused)\n", name, "-", counted, LINES);
		return;
	}
	printf("%-34s %9.3f s %9.1f us", name, s, (s - (base >= 0 ? base : s)) / LINES * 1e6);
	if (kernel > base && base >= 0 && s > base)
		printf("   %.2f of the kernel's added", (s - base) / (kernel - base));
	printf("\n");
}

static void bash_table(void)
{
	static const char *const modes[] = { "supervisor", "agent" };
	char why[256] = "";
	unsigned long long counted = 0;
	char *argv[] = { "bash", "--norc", "--noprofile", "-i", NULL }, *out = NULL;
	double base = drive_bash(argv, NULL, NULL, &out), kernel;

	free(out);
	printf("\n== a real workload: an interactive bash on a pty reading %ld lines, a uretprobe on "
	       "readline counting them\n", LINES);
	printf("%-34s %11s %12s\n", "", "wall", "added/line");
	bash_row("untraced", base, 0, -1, 0, "the untraced bash failed");
	if (base < 0)
		return;
	kernel = bash_kernel(&counted, why, sizeof(why));
	bash_row("kernel uretprobe (libbpf, this pid)", kernel, counted, base, 0, why);
	for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		char name[64];
		double s;

		why[0] = '\0';
		s = bash_bpfvm(modes[m], &counted, why, sizeof(why));
		snprintf(name, sizeof(name), "bpfvm trace --mode %s", modes[m]);
		bash_row(name, s, counted, base, kernel, why);
	}
}

int main(int argc, char **argv)
{
	static const char *const modes[] = { "supervisor", "agent" };
	char why[160] = "", prefix[1024];
	struct run base, k;
	long nk = N_SLOW;

	if (argc != 2)
		return 2;
	dir = argv[1];
	bpfvm = getenv("BPFVM") ? getenv("BPFVM") : "build/bpfvm";
	base = median("", N_FULL);
	if (base.ns_per_call < 0) {
		printf("FAIL: the workload does not run\n");
		return 1;
	}
	k = kernel_median(nk, why, sizeof(why));
	if (k.ns_per_call >= 0 && k.ns_per_call - base.ns_per_call < SLOW_NS)
		k = kernel_median(nk = N_FULL, why, sizeof(why));
	printf("\n== a real workload: 4 threads, 1,000,000 malloc calls, a uprobe counting them per thread\n");
	printf("%-34s %8s %10s %10s %11s\n", "", "calls", "ns/call", "added", "1M calls");
	row("untraced", base, N_FULL, base.ns_per_call, 0);
	if (k.ns_per_call < 0)
		printf("%-34s %10s   (%s)\n", "kernel uprobe (libbpf, this pid)", "-",
		       why[0] ? why : "failed");
	else
		row("kernel uprobe (libbpf, this pid)", k, nk, base.ns_per_call, 0);
	for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		char name[64];
		long n;
		struct run r;

		snprintf(prefix, sizeof(prefix), "%s trace --jit --mode %s --dump-maps %s/malloc_count.bpf.o -- ",
			 bpfvm, modes[m], dir);
		snprintf(name, sizeof(name), "bpfvm trace --mode %s", modes[m]);
		r = measure(prefix, &n, base.ns_per_call);
		row(name, r, n, base.ns_per_call, k.ns_per_call >= 0 ? k.ns_per_call - base.ns_per_call : 0);
	}
	bash_table();
	return 0;
}
