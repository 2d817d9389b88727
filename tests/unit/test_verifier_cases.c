/*
 * test_verifier_cases.c - the Linux kernel's own verifier tests
 * ($SHARED/verifier-cases/kernel-selftests.jsonl, default ../shared) run
 * through bpfvm's verifier: every case whose program type bpfvm supports
 * must get the verdict the Linux 6.18 kernel gave (kernel_6_18), and a
 * rejection must carry the kernel's expected message (errstr).
 *
 * Prints PASS/FAIL/SKIP per case, then the counts by program type and
 * verdict.  Cases the kernel did not run (they need kernel BTF or kfuncs),
 * or whose program type or maps bpfvm lacks, are SKIP with the reason.
 *
 * Environment: SHARED; VERIFIER_CASE=<id> runs one case and prints its
 * log (VERIFIER_LOG_LEVEL=2 for the full trace).
 */
#include "verifier_cases.h"

/* ---- one case ------------------------------------------------------------------- */

struct outcome {
	bool skip, reject;
	char why[256];
	char log[65536];
};

static void run_case(const char *line, struct outcome *o, uint32_t log_level)
{
	static struct bpfvm_insn insns[1 << 17];
	struct bpfvm_map *maps[MAX_MAPS];
	size_t cnt = json_insns(line, insns, sizeof(insns) / sizeof(insns[0])), nmaps;
	uint32_t type = (uint32_t)json_num(line, "prog_type", 0);
	struct bpfvm_log log = { o->log, sizeof(o->log), 0 };
	struct bpfvm *vm = bpfvm__new(NULL);
	struct bpfvm_prog *prog;

	o->skip = o->reject = false;
	o->log[0] = '\0';
	stub_missing_helpers(vm);
	if (fix_maps(line, vm, insns, cnt, maps, &nmaps, o->why, sizeof(o->why))) {
		o->skip = true;
		bpfvm__destroy(vm);
		return;
	}
	BPFVM_OPTS(bpfvm_prog_opts, popts, .name = "case", .log = &log, .maps = maps, .nmaps = nmaps,
		   .prog_type = type ? type : BPF_PROG_TYPE_SOCKET_FILTER,
		   .expected_attach_type = (uint32_t)json_num(line, "expected_attach_type", 0),
		   .license = "GPL");
	prog = bpfvm_prog__new(vm, insns, cnt, &popts);
	if (!prog) {
		o->reject = true;
	} else {
		BPFVM_OPTS(bpfvm_verify_opts, vopts, .log = &log, .log_level = log_level,
			   .flags = verify_flags(json_num(line, "flags", 0)));
		int err = bpfvm_prog__verify(prog, &vopts);

		if (err == -ENOTSUP) {
			o->skip = true;
			snprintf(o->why, sizeof(o->why), "%.200s", o->log); /* the first lines say why */
		}
		o->reject = err != 0;
	}
	bpfvm__destroy(vm);
}

/* Does the log contain every tab-separated part of errstr? */
static bool has_errstr(const char *log, const char *errstr)
{
	char buf[4096], *part, *save;

	snprintf(buf, sizeof(buf), "%s", errstr);
	for (part = strtok_r(buf, "\t", &save); part; part = strtok_r(NULL, "\t", &save))
		if (!strstr(log, part))
			return false;
	return true;
}

/* ---- counting ------------------------------------------------------------------------- */

struct tally {
	char type[64];
	unsigned n[2][3]; /* [kernel accepts / rejects][pass, fail, skip] */
};

static struct tally tallies[40];
static unsigned ntallies;

static void count(const char *type, bool reject, int result)
{
	unsigned i;

	for (i = 0; i < ntallies && strcmp(tallies[i].type, type); i++)
		;
	if (i == ntallies && ntallies < 40)
		snprintf(tallies[ntallies++].type, sizeof(tallies[0].type), "%s", type);
	if (i < ntallies)
		tallies[i].n[reject][result]++;
}

static void print_table(void)
{
	unsigned tot[2][3] = { { 0 } };

	printf("# %-22s %21s %21s\n", "program type", "kernel ACCEPT", "kernel REJECT");
	printf("# %-22s %7s%7s%7s %7s%7s%7s\n", "", "pass", "fail", "skip", "pass", "fail", "skip");
	for (unsigned i = 0; i < ntallies; i++) {
		printf("# %-22s", tallies[i].type);
		for (int r = 0; r < 2; r++) {
			printf(" ");
			for (int k = 0; k < 3; k++) {
				printf("%7u", tallies[i].n[r][k]);
				tot[r][k] += tallies[i].n[r][k];
			}
		}
		printf("\n");
	}
	printf("# %-22s %7u%7u%7u %7u%7u%7u\n", "total", tot[0][0], tot[0][1], tot[0][2], tot[1][0],
	       tot[1][1], tot[1][2]);
}

/* ---- the cases -------------------------------------------------------------------------- */

static void one_case(const char *line, long only)
{
	static struct outcome o;
	char descr[256] = "", verdict[16] = "null", errstr[4096] = "", type[64] = "?";
	const char *v, *why;
	long id = json_num(line, "id", -1);
	bool kreject;
	int result;

	if (only >= 0 && id != only)
		return;
	if ((v = json_find(line, "descr")))
		json_str(v, descr, sizeof(descr));
	if ((v = json_find(line, "kernel_6_18")) && *v == '"')
		json_str(v, verdict, sizeof(verdict));
	if ((v = json_find(line, "errstr")) && *v == '"')
		json_str(v, errstr, sizeof(errstr));
	if ((v = json_find(line, "prog_type_name")))
		json_str(v, type, sizeof(type));
	kreject = !strcmp(verdict, "REJECT");
	why = skip_reason(line, verdict);
	if (!why) {
		const char *lvl = getenv("VERIFIER_LOG_LEVEL");

		run_case(line, &o, only < 0 ? 0 : lvl ? (uint32_t)atoi(lvl) : 1);
		why = o.skip ? o.why : NULL;
	}
	if (why) {
		printf("SKIP case %ld (%s): %s\n", id, descr, why);
		result = 2;
	} else if (o.reject == kreject && (!kreject || has_errstr(o.log, errstr))) {
		printf("PASS case %ld (%s)\n", id, descr);
		result = 0;
	} else {
		printf("FAIL case %ld (%s): kernel %s%s%s, bpfvm %s\n", id, descr, verdict,
		       kreject ? " with " : "", kreject ? errstr : "", o.reject ? "rejects" : "accepts");
		if (o.reject)
			printf("     ... %.*s\n", (int)strcspn(o.log, "\n"), o.log);
		result = 1;
	}
	if (only >= 0)
		printf("%s", o.log);
	count(strncmp(type, "BPF_PROG_TYPE_", 14) ? type : type + 14, kreject, result);
}

int main(void)
{
	const char *shared = getenv("SHARED") ? getenv("SHARED") : "../shared";
	const char *only_s = getenv("VERIFIER_CASE");
	long only = only_s ? strtol(only_s, NULL, 10) : -1;
	static char line[1 << 20];
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/verifier-cases/kernel-selftests.jsonl", shared);
	if (!(f = fopen(path, "r"))) {
		printf("SKIP verifier cases: %s: %s\n", path, strerror(errno));
		return 0;
	}
	while (fgets(line, sizeof(line), f))
		one_case(line, only);
	fclose(f);
	print_table();
	return 0;
}
