/*
 * bench_trace.c - what tracing a real process costs (`make bench`): the
 * time per attached system call that `bpfvm trace` adds (a program on
 * sys_enter_getppid), against `strace -f --seccomp-bpf -e trace=getppid`
 * (which stops the same calls and runs no program) and against the
 * kernel's own tracepoint program (the same object through libbpf); and
 * the slowdown of calls that are not attached (the seccomp filter alone),
 * on a bare getuid() loop and on one with some work between calls.  The
 * same under the in-process agent (--mode agent: the call's site patched
 * to jump to the agent after its first seccomp trap; and with
 * BPFVM_AGENT_PATCH=0, a trap to a SIGSYS handler every call), compared
 * with the kernel's program on loops 30 times longer (the supervisor's
 * 3,000 calls are too few for the difference of two costs under 1% of a
 * call each; the kernel's program is attached for its runs alone, since
 * it sees every process's calls).  The workload times its own loop, so
 * starting a tracer is not counted, but the agent's first trap and its
 * patching are.  Each figure is the median of 5 runs, the runs of the
 * compared set interleaved.
 *
 *   bench_trace DIR     (DIR: workload, count.bpf.o; bpfvm beside DIR/..)
 */
#include <bpf/libbpf.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RUNS 5
#define N_TRACED 3000L
#define N_AGENT 100000L
#define N_BARE 200000L
#define N_WORK 20000L

static const char *dir, *bpfvm;

/* One run of the workload's loop under prefix (a tracer command, or ""): ns, or -1. */
static double one_run(const char *prefix, const char *mode, long n)
{
	char cmd[1024], line[256];
	double t = -1;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "%s %s/workload %s %ld", prefix, dir, mode, n);
	f = popen(cmd, "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "ns ", 3))
			t = atof(line + 3);
	if (!f || pclose(f))
		return -1;
	return t;
}

static double median(double *t, int n)
{
	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++)
			if (t[j] < t[i]) {
				double x = t[i];

				t[i] = t[j];
				t[j] = x;
			}
	return t[n / 2];
}

/*
 * The loop under each of k prefixes, their runs interleaved (a, b, c, a,
 * b, c, ...) so that a change in the machine's load falls on all of them:
 * the median of each into out[], -1 where a run failed.
 */
static void loop_ns(const char *const *prefix, int k, const char *mode, long n, double *out)
{
	double t[5][RUNS];

	for (int r = 0; r < RUNS; r++)
		for (int i = 0; i < k; i++)
			t[i][r] = prefix[i] ? one_run(prefix[i], mode, n) : -1;
	for (int i = 0; i < k; i++) {
		out[i] = median(t[i], RUNS);
		for (int r = 0; r < RUNS; r++)
			if (t[i][r] < 0)
				out[i] = -1;
	}
}

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level, (void)fmt, (void)ap;
	return 0;
}

/*
 * The loop under each of k prefixes and, last, with the object attached
 * in the kernel (attached for that run alone), the runs interleaved: the
 * median of each into out[0..k]; out[k] -1 where the kernel refuses (why
 * says so).
 */
static void with_kernel_ns(const char *const *prefix, int k, const char *mode, long n, double *out,
			   char *why, size_t size)
{
	char path[512];
	struct bpf_object *obj;
	double t[5][RUNS];
	bool refused = false;

	snprintf(path, sizeof(path), "%s/count.bpf.o", dir);
	libbpf_set_print(quiet);
	obj = bpf_object__open_file(path, NULL);
	if (!obj || bpf_object__load(obj)) {
		snprintf(why, size, "the kernel refuses to load it (bpf() unavailable?)");
		refused = true;
	}
	for (int r = 0; r < RUNS; r++) {
		struct bpf_link *link;

		for (int i = 0; i < k; i++)
			t[i][r] = one_run(prefix[i], mode, n);
		t[k][r] = -1;
		if (refused)
			continue;
		if (!(link = bpf_program__attach(bpf_object__next_program(obj, NULL)))) {
			snprintf(why, size, "the kernel refuses to attach it");
			refused = true;
			continue;
		}
		t[k][r] = one_run("", mode, n);
		bpf_link__destroy(link);
	}
	bpf_object__close(obj);
	for (int i = 0; i <= k; i++) {
		out[i] = median(t[i], RUNS);
		for (int r = 0; r < RUNS; r++)
			if (t[i][r] < 0)
				out[i] = -1;
	}
}

/* One line of the agent's figures: its cost added per call and its ratio to the kernel's. */
static void agent_line(const char *what, double t, double base, double k)
{
	if (t < 0) {
		printf("%-44s %10s   (the agent failed)\n", what, "-");
		return;
	}
	printf("%-44s %10.1f %10.1f", what, t / N_AGENT, (t - base) / N_AGENT);
	if (k > base)
		printf("   agent/kernel %.2f\n", (t - base) / (k - base));
	else
		printf("   (the kernel's cost is below this run's noise)\n");
}

int main(int argc, char **argv)
{
	char tr[1024], st[256], ag[1024], ags[1100], why[128] = "";
	double t[5], base, vm, sc, bare, bare_vm, work, work_vm, bare_ag;

	if (argc != 2)
		return 2;
	dir = argv[1];
	bpfvm = getenv("BPFVM") ? getenv("BPFVM") : "build/bpfvm";
	snprintf(tr, sizeof(tr), "%s trace %s/count.bpf.o --", bpfvm, dir);
	snprintf(st, sizeof(st), "strace -f --seccomp-bpf -e trace=getppid -o /dev/null");
	snprintf(ag, sizeof(ag), "%s trace --jit --mode agent %s/count.bpf.o --", bpfvm, dir);
	snprintf(ags, sizeof(ags), "BPFVM_AGENT_PATCH=0 %s", ag);
	const char *const traced[] = { "", tr, st }, *const in_process[] = { "", ag, ags },
		   *const pair[] = { "", tr, ag };

	loop_ns(traced, 3, "getppid", N_TRACED, t);
	base = t[0], vm = t[1], sc = t[2];
	printf("\n== tracing a real process: a program on sys_enter_getppid (bpfvm trace: ptrace + seccomp)\n");
	if (base < 0 || vm < 0) {
		printf("FAIL: a workload run failed (bpfvm trace, or the workload)\n");
		return 1;
	}
	printf("%-44s %10s %10s\n", "per attached getppid(), 3,000 calls", "ns/call", "added");
	printf("%-44s %10.1f %10s\n", "untraced", base / N_TRACED, "");
	printf("%-44s %10.1f %10.1f\n", "bpfvm trace (program runs)", vm / N_TRACED,
	       (vm - base) / N_TRACED);
	if (sc >= 0)
		printf("%-44s %10.1f %10.1f   bpfvm/strace %.2f\n", "strace -f --seccomp-bpf (no program)",
		       sc / N_TRACED, (sc - base) / N_TRACED, (vm - base) / (sc - base));
	else
		printf("%-44s %10s   (strace missing or failed)\n", "strace -f --seccomp-bpf", "-");

	with_kernel_ns(in_process, 3, "getppid", N_AGENT, t, why, sizeof(why));
	printf("%-44s %10s %10s\n", "per attached getppid(), 100,000 calls", "ns/call", "added");
	if (t[0] < 0) {
		printf("FAIL: a workload run failed\n");
		return 1;
	}
	printf("%-44s %10.1f %10s\n", "untraced", t[0] / N_AGENT, "");
	if (t[3] >= 0)
		printf("%-44s %10.1f %10.1f   bpfvm trace/kernel %.0f\n", "kernel tracepoint program",
		       t[3] / N_AGENT, (t[3] - t[0]) / N_AGENT,
		       t[3] > t[0] ? (vm - base) / N_TRACED / ((t[3] - t[0]) / N_AGENT) : 0.0);
	else
		printf("%-44s %10s   (%s)\n", "kernel tracepoint program", "-", why);
	agent_line("bpfvm trace --mode agent (in process, JIT)", t[1], t[0], t[3]);
	agent_line("  the same, every call trapping (no patching)", t[2], t[0], t[3]);

	loop_ns(pair, 3, "getuid", N_BARE, t);
	bare = t[0], bare_vm = t[1], bare_ag = t[2];
	loop_ns(pair, 2, "work", N_WORK, t);
	work = t[0], work_vm = t[1];
	if (bare < 0 || bare_vm < 0 || work < 0 || work_vm < 0) {
		printf("FAIL: a workload run failed (bpfvm trace, or the workload)\n");
		return 1;
	}
	printf("%-44s %10.1f %10.1f   slowdown %.1f%%\n", "unattached getuid(), bare loop",
	       bare_vm / N_BARE, (bare_vm - bare) / N_BARE, 100 * (bare_vm / bare - 1));
	if (bare_ag >= 0)
		printf("%-44s %10.1f %10.1f   slowdown %.1f%%\n", "unattached getuid() under the agent",
		       bare_ag / N_BARE, (bare_ag - bare) / N_BARE, 100 * (bare_ag / bare - 1));
	printf("%-44s %10.1f %10.1f   slowdown %.1f%%\n", "unattached getuid(), ~2 us work between",
	       work_vm / N_WORK, (work_vm - work) / N_WORK, 100 * (work_vm / work - 1));
	return 0;
}
