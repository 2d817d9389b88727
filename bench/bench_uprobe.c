/*
 * bench_uprobe.c - what a uprobe costs per hit (`make bench`): the time a
 * uprobe, and a uprobe with a uretprobe, on an empty function add to each
 * call under `bpfvm trace` (the ptrace supervisor: an int3, a stop, the
 * program, the instruction emulated), under `bpfvm trace --mode agent
 * --jit` (in process: a jmp to a trampoline, the JIT's code called) and in
 * the kernel (the same object attached by libbpf to the same binary), and
 * their ratios, in one run.
 * The workload times its own loop; each figure is the median of RUNS.
 *
 *   bench_uprobe DIR     (DIR: uprobe_workload, uprobe.bpf.o; $BPFVM or build/bpfvm)
 */
#include <bpf/libbpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RUNS 5
#define N_BASE 1000000L      /* untraced calls: about 1 ns each */
#define N_HITS 2000L         /* hits, traced: on this VM some 100 us each, in the kernel too */
#define N_AGENT 200000L      /* hits in process: some 100 ns each */

static const char *dir, *bpfvm;

/* The workload's loop of n calls under prefix: ns per call (median of RUNS), or -1. */
static double per_call(const char *prefix, long n)
{
	double t[RUNS];

	for (int r = 0; r < RUNS; r++) {
		char cmd[1024], line[256];
		FILE *f;

		snprintf(cmd, sizeof(cmd), "%s %s/uprobe_workload %ld", prefix, dir, n);
		t[r] = -1;
		f = popen(cmd, "r");
		while (f && fgets(line, sizeof(line), f))
			if (!strncmp(line, "ns ", 3))
				t[r] = atof(line + 3) / (double)n;
		if (!f || pclose(f) || t[r] < 0)
			return -1;
	}
	for (int i = 0; i < RUNS; i++)
		for (int j = i + 1; j < RUNS; j++)
			if (t[j] < t[i]) {
				double x = t[i];

				t[i] = t[j];
				t[j] = x;
			}
	return t[RUNS / 2];
}

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level, (void)fmt, (void)ap;
	return 0;
}

/* The loop with programs (entry alone, or entry and ret) attached in the kernel: ns/call or -1. */
static double kernel_per_call(bool with_ret, char *why, size_t size)
{
	struct bpf_link *links[2] = { NULL, NULL };
	struct bpf_program *prog;
	struct bpf_object *obj;
	char path[512];
	double ns = -1;
	int n = 0;

	snprintf(path, sizeof(path), "%s/uprobe.bpf.o", dir);
	libbpf_set_print(quiet);
	obj = bpf_object__open_file(path, NULL);
	if (!obj || bpf_object__load(obj)) {
		snprintf(why, size, "the kernel refuses to load it");
		bpf_object__close(obj);
		return -1;
	}
	bpf_object__for_each_program(prog, obj) {
		if (!with_ret && strcmp(bpf_program__name(prog), "entry"))
			continue;
		if (!(links[n++] = bpf_program__attach(prog))) {
			snprintf(why, size, "the kernel refuses to attach %s",
				 bpf_program__section_name(prog));
			break;
		}
	}
	if (links[n - 1])
		ns = per_call("", N_HITS);
	for (int i = 0; i < n; i++)
		bpf_link__destroy(links[i]);
	bpf_object__close(obj);
	return ns;
}

/* A row: ns per call, ns added, and the ratios of what it adds to the kernel's and the supervisor's. */
static void row(const char *name, double ns, double base, double kernel, double sup)
{
	printf("%-44s %10.1f %10.1f", name, ns, ns - base);
	if (kernel >= 0)
		printf("   /kernel %.4g", (ns - base) / (kernel - base));
	if (sup >= 0)
		printf("   /supervisor %.4g", (ns - base) / (sup - base));
	printf("\n");
}

int main(int argc, char **argv)
{
	char entry[1024], both[1024], a_entry[1024], a_both[1024], why[128] = "";
	double base, vm1, vm2, ag1, ag2, k1, k2;

	if (argc != 2)
		return 2;
	dir = argv[1];
	bpfvm = getenv("BPFVM") ? getenv("BPFVM") : "build/bpfvm";
	snprintf(entry, sizeof(entry), "%s trace --prog entry %s/uprobe.bpf.o --", bpfvm, dir);
	snprintf(both, sizeof(both), "%s trace %s/uprobe.bpf.o --", bpfvm, dir);
	snprintf(a_entry, sizeof(a_entry), "%s trace --mode agent --jit --prog entry %s/uprobe.bpf.o --",
		 bpfvm, dir);
	snprintf(a_both, sizeof(a_both), "%s trace --mode agent --jit %s/uprobe.bpf.o --", bpfvm, dir);
	base = per_call("", N_BASE);
	vm1 = per_call(entry, N_HITS);
	vm2 = per_call(both, N_HITS);
	ag1 = per_call(a_entry, N_AGENT);
	ag2 = per_call(a_both, N_AGENT);
	k1 = kernel_per_call(false, why, sizeof(why));
	k2 = k1 >= 0 ? kernel_per_call(true, why, sizeof(why)) : -1;
	printf("\n== uprobes on an empty function (bench_empty: ret), per hit\n");
	if (base < 0 || vm1 < 0 || vm2 < 0 || ag1 < 0 || ag2 < 0) {
		printf("FAIL: a workload run failed (bpfvm trace, or the workload)\n");
		return 1;
	}
	printf("%-44s %10s %10s   (added, against the kernel's and the supervisor's)\n", "",
	       "ns/call", "added");
	printf("%-44s %10.1f\n", "untraced", base);
	row("bpfvm trace: uprobe", vm1, base, k1, -1);
	row("bpfvm trace: uprobe + uretprobe", vm2, base, k2, -1);
	row("bpfvm trace --mode agent: uprobe", ag1, base, k1, vm1);
	row("bpfvm trace --mode agent: uprobe + uretprobe", ag2, base, k2, vm2);
	if (k1 < 0) {
		printf("%-44s %10s   (%s)\n", "kernel uprobe (libbpf)", "-", why);
		return 0;
	}
	row("kernel uprobe (libbpf)", k1, base, -1, -1);
	if (k2 >= 0)
		row("kernel uprobe + uretprobe", k2, base, -1, -1);
	return 0;
}
