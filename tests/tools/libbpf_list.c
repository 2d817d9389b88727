/*
 * libbpf_list.c - what libbpf sees in a BPF object, printed in the form of
 * `bpfvm prog show --relocs`, for tests/scripts/test_libbpf_objects.sh to
 * compare: programs (type, name, section, expected attach type), maps
 * (type, name, flags, sizes, entries), and, with --load, each program's
 * instruction count and map references after libbpf has relocated it for
 * the kernel.  libbpf appears only here, in the tests.
 *
 *   libbpf_list [--load|--load-insns] OBJECT
 *
 * --load-insns prints every relocated instruction instead of the
 * references, as `bpfvm prog load --insns` does.
 *
 *   libbpf_list --verdicts OBJECT
 *
 * loads each program alone (the others' autoload off, as a tool picks
 * the programs it attaches) and prints the kernel's verdict on it:
 * "verdict NAME accept" or "verdict NAME reject: " and the first line of
 * libbpf's or the kernel verifier's reason; or "verdict NAME cannot: " and
 * why, where the host kernel cannot load it (a helper, map type or
 * program type it lacks, probed alone: tests/kernel/kernel_host.h).
 * BPFVM_TEST_KERNEL_DENY simulates such a kernel (tests/kernel/kernel_bpf.h).
 *
 *   libbpf_list --processed OBJECT
 *
 * loads each program alone in the same way, its statistics asked for
 * (log level 4), and prints "processed NAME N" for each the kernel
 * accepts: the instructions its verifier processed.
 *
 *   libbpf_list --verdicts-processed OBJECT
 *
 * both, in one load of each program the kernel accepts.
 *
 *   libbpf_list --kernel-verdicts OBJECT
 *
 * the same as --verdicts, for the kernel's verifier selftests
 * (tests/scripts/test_verifier_selftests.sh): section names newer than
 * this libbpf (tc/ingress, cgroup/connect_unix, ...) get their program
 * type set by hand; a program whose prog_array initial values name
 * programs not loaded is loaded with the whole object; and a program the
 * kernel never saw (libbpf or a map refused first) is "verdict NAME host: "
 * and libbpf's reason, not a verdict of the kernel's.  An accepted
 * program's line ends in the instructions the kernel processed.
 *
 * Exits 0; 1 when libbpf cannot open the object; 3 when --load was asked
 * and the kernel refused the object (the open-time part is printed).
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../kernel/kernel_libbpf.h"

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level, (void)fmt, (void)ap;
	return 0;
}

/* --verdicts: libbpf's warnings of one load, to find the first reason in. */
static char reasons[1 << 16];
static size_t reasons_len;

static int keep_warnings(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_WARN && reasons_len < sizeof(reasons) - 1) {
		int n = vsnprintf(reasons + reasons_len, sizeof(reasons) - reasons_len, fmt, ap);

		if (n > 0)
			reasons_len += (size_t)n;
		if (reasons_len > sizeof(reasons) - 1)
			reasons_len = sizeof(reasons) - 1;
	}
	return 0;
}

/*
 * The line that says why: the verifier's own message (the line before
 * "processed N insns" in the log libbpf prints) or, without a verifier
 * log, libbpf's first warning.
 */
static void print_reason(void)
{
	char *processed = strstr(reasons, "\nprocessed "), *start, *end;

	if (processed) {
		for (end = processed; end > reasons && end[-1] == '\n'; end--)
			;
		*end = '\0';
		start = strrchr(reasons, '\n');
		printf("%s\n", start ? start + 1 : reasons);
		return;
	}
	end = strchr(reasons, '\n');
	if (end)
		*end = '\0';
	printf("%s\n", reasons[0] ? reasons : "(no reason given)");
}

static char stats[1 << 16], klog[1 << 20];

/* Section names libbpf 1.1 does not know: their type and attach type. */
static const struct {
	const char *sec;
	enum bpf_prog_type type;
	int attach;
} newer_sections[] = {
	{ "tc/ingress", BPF_PROG_TYPE_SCHED_CLS, 46 },
	{ "tc/egress", BPF_PROG_TYPE_SCHED_CLS, 47 },
	{ "tcx/ingress", BPF_PROG_TYPE_SCHED_CLS, 46 },
	{ "tcx/egress", BPF_PROG_TYPE_SCHED_CLS, 47 },
	{ "cgroup/connect_unix", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, 49 },
	{ "cgroup/sendmsg_unix", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, 50 },
	{ "cgroup/recvmsg_unix", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, 51 },
	{ "cgroup/getpeername_unix", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, 52 },
	{ "cgroup/getsockname_unix", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, 53 },
};

static void set_newer_type(struct bpf_program *p)
{
	const char *sec = bpf_program__section_name(p);

	for (size_t i = 0; i < sizeof(newer_sections) / sizeof(newer_sections[0]); i++)
		if (!strcmp(sec, newer_sections[i].sec)) {
			bpf_program__set_type(p, newer_sections[i].type);
			bpf_program__set_expected_attach_type(p, newer_sections[i].attach);
		}
}

/*
 * One program of the object loaded alone (or, with all, every program),
 * its log asked for; prints its verdict line.  Returns 1 when libbpf
 * refused before the kernel saw it because a prog_array names a program
 * left out.
 */
static char full_log[1 << 22];

/* Opens the object with only program WANT (or, with ALL, every program) to load. */
static struct bpf_object *open_for(const char *path, int want, const bool *all,
				   struct bpf_program **chosen)
{
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	struct bpf_program *p;
	int i = 0;

	if (!obj)
		return NULL;
	bpf_object__for_each_program(p, obj) {
		set_newer_type(p);
		if (i++ == want)
			*chosen = p;
		else if (!all || all[i - 1])
			bpf_program__set_autoload(p, false);
	}
	return obj;
}

/* The verifier's reason: the last line of its log before "processed N insns". */
static void print_log_reason(const char *name)
{
	char *end = full_log + strlen(full_log), *start;
	char *processed = strstr(full_log, "\nprocessed ");

	if (processed)
		end = processed;
	while (end > full_log && end[-1] == '\n')
		end--;
	*end = '\0';
	start = strrchr(full_log, '\n');
	printf("verdict %s reject: %s\n", name,
	       start ? start + 1 : full_log[0] ? full_log : "(no log)");
}

/*
 * One program of the object loaded alone (or, with ALL, every program),
 * its statistics asked for; prints its verdict line.  A refused one is
 * loaded again with the whole log (its tail kept) for the reason.
 * Returns 1 when libbpf refused before the kernel saw it because a
 * prog_array names a program left out.
 */
static int kernel_verdict(const char *path, int want, const bool *all)
{
	struct bpf_program *chosen = NULL;
	struct bpf_object *obj = open_for(path, want, all, &chosen);
	char failed[256];
	const char *line;
	int err;

	if (!obj)
		return -1;
	stats[0] = '\0';
	bpf_program__set_log_buf(chosen, stats, sizeof(stats));
	bpf_program__set_log_level(chosen, 4);
	reasons_len = 0;
	reasons[0] = '\0';
	libbpf_set_print(keep_warnings);
	err = bpf_object__load(obj);
	libbpf_set_print(quiet);
	if (err && !all && strstr(reasons, "failed to initialize slot")) {
		bpf_object__close(obj);
		return 1;
	}
	snprintf(failed, sizeof(failed), "prog '%s': BPF program load failed",
		 bpf_program__name(chosen));
	line = strstr(stats, "processed ");
	/* with all, another program's refusal fails the load after this one loaded */
	if (!err || (all && line && !strstr(reasons, failed))) {
		printf("verdict %s accept %lu\n", bpf_program__name(chosen),
		       line ? strtoul(line + 10, NULL, 10) : 0);
	} else if (strstr(reasons, failed)) {
		bpf_object__close(obj);
		if (!(obj = open_for(path, want, all, &chosen)))
			return -1;
		full_log[0] = '\0';
		bpf_program__set_log_buf(chosen, full_log, sizeof(full_log));
		bpf_program__set_log_level(chosen, 1);
		bpf_object__load(obj);
		print_log_reason(bpf_program__name(chosen));
	} else {
		printf("verdict %s host: ", bpf_program__name(chosen));
		print_reason();
	}
	bpf_object__close(obj);
	return 0;
}

/*
 * Which other program's refusal failed a load of the whole object: its
 * index, or -1 when it was CHOSEN or none.
 */
static int other_refused(struct bpf_object *obj, const struct bpf_program *chosen)
{
	struct bpf_program *p;
	char failed[256];
	int i = 0;

	bpf_object__for_each_program(p, obj) {
		snprintf(failed, sizeof(failed), "prog '%s': BPF program load failed",
			 bpf_program__name(p));
		if (strstr(reasons, failed))
			return p == chosen ? -1 : i;
		i++;
	}
	return -1;
}

/*
 * WANT with every program but those the kernel refused, one more left
 * out on each try, until WANT's verdict is known (prog_array slots name
 * programs, so those must load too).
 */
static int kernel_verdict_with_others(const char *path, int want, int n)
{
	bool out[256] = { false };

	for (int tries = 0; tries < n && n <= 256; tries++) {
		struct bpf_program *chosen = NULL;
		struct bpf_object *obj = open_for(path, want, out, &chosen);
		int other;

		if (!obj)
			return -1;
		libbpf_set_print(keep_warnings);
		reasons_len = 0;
		reasons[0] = '\0';
		other = bpf_object__load(obj) ? other_refused(obj, chosen) : -1;
		libbpf_set_print(quiet);
		bpf_object__close(obj);
		if (other < 0 || other == want)
			break;
		out[other] = true;
	}
	return kernel_verdict(path, want, out);
}

/* How many programs the object has, or -1 when libbpf cannot open it. */
static int program_count(const char *path)
{
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	struct bpf_program *p;
	int n = 0;

	if (!obj)
		return -1;
	bpf_object__for_each_program(p, obj)
		n++;
	bpf_object__close(obj);
	return n;
}

static int kernel_verdicts(const char *path)
{
	int n = program_count(path);

	if (n < 0)
		return 1;
	for (int want = 0; want < n; want++) {
		int r = kernel_verdict(path, want, NULL);

		if (r == 1)
			r = kernel_verdict_with_others(path, want, n);
		if (r < 0)
			return 1;
	}
	return 0;
}

/* Open path with only its want-th program to load; NULL if libbpf cannot open it. */
static struct bpf_object *open_one(const char *path, int want, struct bpf_program **chosen)
{
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	struct bpf_program *p;
	int i = 0;

	*chosen = NULL;
	if (!obj)
		return NULL;
	bpf_object__for_each_program(p, obj) {
		if (i++ == want)
			*chosen = p;
		else
			bpf_program__set_autoload(p, false);
	}
	return obj;
}

/* "verdict NAME ..." for the want-th program, loaded alone: 0, or 1 if libbpf cannot open it. */
static int print_verdict(const char *path, int want)
{
	struct bpf_program *chosen;
	struct bpf_object *obj = open_one(path, want, &chosen);
	char why[1024];
	int err;

	if (!obj)
		return 1;
	reasons_len = 0;
	reasons[0] = '\0';
	libbpf_set_print(keep_warnings);
	err = kernel_libbpf_load_one(obj, chosen, 0, klog, sizeof(klog));
	libbpf_set_print(quiet);
	if (!err) {
		printf("verdict %s accept\n", bpf_program__name(chosen));
	} else if (kernel_libbpf_cannot(obj, chosen, err, klog, why, sizeof(why))) {
		printf("verdict %s cannot: %s\n", bpf_program__name(chosen), why);
	} else if (klog[0]) {
		kernel_log_reason(klog, why, sizeof(why));
		printf("verdict %s reject: %s\n", bpf_program__name(chosen), why);
	} else {
		printf("verdict %s reject: ", bpf_program__name(chosen));
		print_reason();
	}
	bpf_object__close(obj);
	return 0;
}

/*
 * --verdicts, --processed, or both (one load per program where the kernel
 * accepts it: its statistics asked for; a refused one is loaded again
 * without them, for the reason).
 */
static int verdicts(const char *path, bool verdict, bool processed)
{
	int n = program_count(path);

	if (n < 0)
		return 1;
	for (int want = 0; want < n; want++) {
		struct bpf_program *chosen;
		struct bpf_object *obj;
		const char *line;
		int err;

		if (verdict && !processed) {
			if (print_verdict(path, want))
				return 1;
			continue;
		}
		if (!(obj = open_one(path, want, &chosen)))
			return 1;
		err = kernel_libbpf_load_one(obj, chosen, 4, stats, sizeof(stats));
		if (!err && verdict)
			printf("verdict %s accept\n", bpf_program__name(chosen));
		if (!err && (line = strstr(stats, "processed ")))
			printf("processed %s %lu\n", bpf_program__name(chosen),
			       strtoul(line + 10, NULL, 10));
		bpf_object__close(obj);
		if (err && verdict && print_verdict(path, want))
			return 1;
	}
	return 0;
}

static void print_prog(const struct bpf_program *p, int idx)
{
	enum bpf_attach_type at = bpf_program__expected_attach_type(p);

	printf("prog %d: %s  name %s  section %s", idx,
	       libbpf_bpf_prog_type_str(bpf_program__type(p)) ?: "unknown",
	       bpf_program__name(p), bpf_program__section_name(p));
	if (at)
		printf("  attach_type %s", libbpf_bpf_attach_type_str(at) ?: "unknown");
	printf("\n");
}

static void print_map(const struct bpf_map *m, int idx)
{
	printf("map %d: %s  name %s  flags 0x%x\n", idx,
	       libbpf_bpf_map_type_str(bpf_map__type(m)) ?: "unknown", bpf_map__name(m),
	       bpf_map__map_flags(m));
	printf("\tkey %uB  value %uB  max_entries %u\n", bpf_map__key_size(m),
	       bpf_map__value_size(m), bpf_map__max_entries(m));
}

/* After load: the instructions libbpf handed the kernel, map fds named back. */
static void print_relocs(struct bpf_object *obj, const struct bpf_program *p)
{
	const struct bpf_insn *in = bpf_program__insns(p);
	size_t cnt = bpf_program__insn_cnt(p);

	printf("\tinsns %zu\n", cnt);
	for (size_t i = 0; in && i < cnt; i++) {
		struct bpf_map *m;
		const char *name = NULL;

		if (in[i].code == (BPF_LD | BPF_DW | BPF_IMM) &&
		    (in[i].src_reg == BPF_PSEUDO_MAP_FD || in[i].src_reg == BPF_PSEUDO_MAP_VALUE)) {
			bpf_object__for_each_map(m, obj)
				if (bpf_map__fd(m) == in[i].imm)
					name = bpf_map__name(m);
			printf("\treloc insn %zu map %s", i, name ? name : "?");
			if (in[i].src_reg == BPF_PSEUDO_MAP_VALUE)
				printf(" off %d", in[i + 1].imm);
			printf("\n");
		} else if (in[i].code == (BPF_JMP | BPF_CALL) && in[i].src_reg == BPF_PSEUDO_CALL) {
			printf("\treloc insn %zu call %lld\n", i, (long long)i + 1 + in[i].imm);
		}
		if (in[i].code == (BPF_LD | BPF_DW | BPF_IMM))
			i++;
	}
}

/* After load: every instruction, map references by name (`bpfvm prog load --insns`'s form). */
static void print_insns(struct bpf_object *obj, const struct bpf_program *p)
{
	const struct bpf_insn *in = bpf_program__insns(p);

	for (size_t i = 0; in && i < bpf_program__insn_cnt(p); i++) {
		const char *name = NULL;
		struct bpf_map *m;

		if (in[i].code == (BPF_LD | BPF_DW | BPF_IMM) &&
		    (in[i].src_reg == BPF_PSEUDO_MAP_FD || in[i].src_reg == BPF_PSEUDO_MAP_VALUE))
			bpf_object__for_each_map(m, obj)
				if (bpf_map__fd(m) == in[i].imm)
					name = bpf_map__name(m);
		printf("\t%zu: %02x %u %u %d ", i, in[i].code, in[i].dst_reg, in[i].src_reg, in[i].off);
		if (name)
			printf("map %s\n", name);
		else
			printf("%d\n", in[i].imm);
	}
}

int main(int argc, char **argv)
{
	int load = argc > 2 && !strncmp(argv[1], "--load", 6);
	int insns = load && !strcmp(argv[1], "--load-insns");
	const char *path = argv[argc - 1];
	struct bpf_object *obj;
	struct bpf_program *p;
	struct bpf_map *m;
	int i = 0, err = 0;

	if (argc < 2)
		return 2;
	libbpf_set_print(quiet);
	if (!strcmp(argv[1], "--kernel-verdicts"))
		return argc == 3 ? kernel_verdicts(path) : 2;
	if (!strcmp(argv[1], "--verdicts") || !strcmp(argv[1], "--processed") ||
	    !strcmp(argv[1], "--verdicts-processed"))
		return argc == 3 ? verdicts(path, strcmp(argv[1], "--processed"),
					    strcmp(argv[1], "--verdicts")) : 2;
	obj = bpf_object__open_file(path, NULL);
	if (!obj) {
		fprintf(stderr, "libbpf cannot open %s\n", path);
		return 1;
	}
	bpf_object__for_each_program(p, obj)
		print_prog(p, i++);
	i = 0;
	bpf_object__for_each_map(m, obj)
		print_map(m, i++);
	if (load && (err = kernel_libbpf_load_one(obj, NULL, 0, klog, sizeof(klog))) == 0) {
		i = 0;
		bpf_object__for_each_program(p, obj) {
			printf("loaded prog %d\n", i++);
			if (insns)
				print_insns(obj, p);
			else
				print_relocs(obj, p);
		}
	}
	bpf_object__close(obj);
	return load && err ? 3 : 0;
}
