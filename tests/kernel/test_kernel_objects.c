/*
 * test_kernel_objects.c - BPF objects built with clang, run by the kernel
 * and by bpfvm on the same packets: the kernel loads each object with
 * libbpf and runs it with BPF_PROG_TEST_RUN; bpfvm loads it with its own
 * loader and runs it with bpfvm_prog__test_run (checked, then unchecked).
 * Return values and output packets must be equal, and so must every
 * hash and array map afterwards (per-CPU maps by their sum over CPUs: the
 * two runs need not use the same CPU).  Objects: the XDP examples
 * (the examples, with .rodata set before load as a skeleton does) and the
 * __sk_buff programs of tests/data/kernel/skb.bpf.c (tc, socket filter,
 * XDP head and tail moves).
 *
 * A case's program loads into the kernel with its object or, where the
 * kernel refuses the object, alone, so that a program the host kernel
 * cannot load (a helper, map type or program type it lacks:
 * kernel_host.h) skips its own cases, with the kernel's reason, and no
 * other.  Skips (exit 0) where clang or libbpf is missing.
 */
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpfvm/hooks.h>
#include <bpfvm/object.h>

#include "kernel_libbpf.h"
#include "test.h"

#define MAX_PKTS 16
#define PKT_ROOM 4096

struct packets {
	uint8_t data[MAX_PKTS][PKT_ROOM];
	size_t len[MAX_PKTS];
	int n;
};

struct setting {
	const char *name;
	uint32_t value;
};

struct diff_case {
	const char *object;    /* in the build directory */
	const char *prog;
	const char *input;     /* a pcap or one packet */
	struct setting sets[2];
};

static char objdir[64];

/* A pcap file (classic format, little-endian) or a raw packet. */
static int read_packets(const char *path, struct packets *p)
{
	FILE *f = fopen(path, "rb");
	uint8_t hdr[24], rec[16];
	uint32_t magic = 0;

	p->n = 0;
	if (!f)
		return -1;
	if (fread(hdr, 1, 24, f) == 24 && (memcpy(&magic, hdr, 4), magic == 0xa1b2c3d4)) {
		while (p->n < MAX_PKTS && fread(rec, 1, 16, f) == 16) {
			uint32_t caplen;

			memcpy(&caplen, rec + 8, 4);
			if (caplen > PKT_ROOM || fread(p->data[p->n], 1, caplen, f) != caplen)
				break;
			p->len[p->n++] = caplen;
		}
	} else {
		rewind(f);
		p->len[0] = fread(p->data[0], 1, PKT_ROOM, f);
		p->n = 1;
	}
	fclose(f);
	return p->n ? 0 : -1;
}

struct result {
	uint32_t retval;
	uint8_t out[PKT_ROOM];
	uint32_t out_len;
};

/* libbpf's .rodata: set a variable by its DATASEC entry, as a skeleton does. */
static int kernel_set(struct bpf_object *obj, const struct setting *s)
{
	struct btf *btf = bpf_object__btf(obj);
	struct bpf_map *m;
	int ds = btf ? btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC) : -1;
	const struct btf_type *t = ds > 0 ? btf__type_by_id(btf, ds) : NULL;

	if (!t)
		return -1;
	bpf_object__for_each_map(m, obj) {
		size_t size;
		const uint8_t *cinit;
		uint8_t *init;
		const struct btf_var_secinfo *vi = btf_var_secinfos(t);

		if (!strstr(bpf_map__name(m), ".rodata") || !(cinit = bpf_map__initial_value(m, &size)))
			continue;
		init = (uint8_t *)cinit; /* libbpf's own copy, writable before load */
		for (int i = 0; i < btf_vlen(t); i++, vi++) {
			const struct btf_type *v = btf__type_by_id(btf, vi->type);

			if (!strcmp(btf__name_by_offset(btf, v->name_off), s->name) && vi->size == 4) {
				memcpy(init + vi->offset, &s->value, 4);
				return 0;
			}
		}
	}
	return -1;
}

/* The case's object opened by libbpf, its settings made (NULL where libbpf cannot open it). */
static struct bpf_object *kernel_open(const struct diff_case *c, const char *path)
{
	struct bpf_object *obj = bpf_object__open_file(path, NULL);

	for (int i = 0; obj && i < 2 && c->sets[i].name; i++)
		if (kernel_set(obj, &c->sets[i]))
			TEST_FAIL("%s: cannot set %s for the kernel", c->object, c->sets[i].name);
	return obj;
}

/* Program n of the object (libbpf's order). */
static struct bpf_program *nth_program(struct bpf_object *obj, int n)
{
	struct bpf_program *p;

	bpf_object__for_each_program(p, obj)
		if (n-- == 0)
			return p;
	return NULL;
}

/*
 * Whether another program of the object is one the host kernel cannot
 * load (a tail call's target, say, that the case's program needs): why
 * names it and says why.
 */
static bool other_cannot(const struct diff_case *c, const char *path, char *why, size_t size)
{
	static char log[65536];
	char reason[512];

	for (int n = 0;; n++) {
		struct bpf_object *obj = kernel_open(c, path);
		struct bpf_program *p = obj ? nth_program(obj, n) : NULL;
		bool cannot = false;
		int err;

		if (!p) {
			bpf_object__close(obj);
			return false;
		}
		if (strcmp(bpf_program__name(p), c->prog) &&
		    (err = kernel_libbpf_load_one(obj, p, 0, log, sizeof(log))) &&
		    (cannot = kernel_libbpf_cannot(obj, p, err, log, reason, sizeof(reason))))
			snprintf(why, size, "the object's %s: %s", bpf_program__name(p), reason);
		bpf_object__close(obj);
		if (cannot)
			return true;
	}
}

/*
 * Load the case's program into the kernel: with the whole object (a tail
 * call needs its targets), or, where the kernel refuses the object, alone,
 * so that a program the host cannot load stops no case but its own.  0
 * (the object in *out); 1 when the host kernel cannot load it (why says
 * why); -1 when it refuses it (why holds its reason).
 */
static int kernel_load(const struct diff_case *c, const char *path, struct bpf_object **out,
		       char *why, size_t size)
{
	static char log[65536];
	struct bpf_object *obj = kernel_open(c, path);
	struct bpf_program *prog;
	char line[512];
	int err;

	if (obj && !kernel_libbpf_load_one(obj, NULL, 0, log, sizeof(log)) &&
	    bpf_object__find_program_by_name(obj, c->prog)) {
		*out = obj;
		return 0;
	}
	bpf_object__close(obj);
	obj = kernel_open(c, path);
	prog = obj ? bpf_object__find_program_by_name(obj, c->prog) : NULL;
	if (!prog) {
		snprintf(why, size, "libbpf cannot open it, or it has no program %s", c->prog);
		bpf_object__close(obj);
		return -1;
	}
	err = kernel_libbpf_load_one(obj, prog, 0, log, sizeof(log));
	if (!err) {
		*out = obj;
		return 0;
	}
	/* refused without a verifier's verdict (libbpf could not fill a program array,
	 * say): a program of the object it needs may be one the host cannot load */
	if (kernel_libbpf_cannot(obj, prog, err, log, why, size) ||
	    (!strstr(log, "processed ") && other_cannot(c, path, why, size))) {
		bpf_object__close(obj);
		return 1;
	}
	kernel_log_reason(log, line, sizeof(line));
	snprintf(why, size, "%s (%s)", line[0] ? line : "no verifier log", strerror(-err));
	bpf_object__close(obj);
	return -1;
}

/* Run every packet through the case's program in the kernel. */
static void run_kernel(const struct diff_case *c, struct bpf_object *obj, const struct packets *pk,
		       struct result *res)
{
	struct bpf_program *prog = bpf_object__find_program_by_name(obj, c->prog);

	for (int i = 0; i < pk->n; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pk->data[i],
			    .data_size_in = (uint32_t)pk->len[i], .data_out = res[i].out,
			    .data_size_out = PKT_ROOM, .repeat = 1);

		if (bpf_prog_test_run_opts(bpf_program__fd(prog), &o))
			TEST_FAIL("%s: kernel test run of packet %d failed: %s", c->object, i, strerror(errno));
		res[i].retval = o.retval;
		res[i].out_len = o.data_size_out;
	}
}

static struct bpfvm_object *run_bpfvm(const struct diff_case *c, const char *path,
				      const struct packets *pk, struct result *res,
				      enum bpfvm_exec mode, struct bpfvm_log *log)
{
	BPFVM_OPTS(bpfvm_object_open_opts, oo, .log = log, .prog_flags = BPFVM_PROG_TRUSTED);
	struct bpfvm_object *obj = bpfvm_object__open_file(path, &oo);
	struct bpfvm_obj_prog *p;

	if (!obj)
		return NULL;
	for (int i = 0; i < 2 && c->sets[i].name; i++)
		bpfvm_object__set_global(obj, c->sets[i].name, &c->sets[i].value, 4);
	if (bpfvm_object__load(obj) || !(p = bpfvm_object__find_program_by_name(obj, c->prog))) {
		bpfvm_object__destroy(obj);
		return NULL;
	}
	for (int i = 0; i < pk->n; i++) {
		BPFVM_OPTS(bpfvm_test_run_opts, o, .data_in = pk->data[i], .data_size_in = pk->len[i],
			   .data_out = res[i].out, .data_size_out = PKT_ROOM, .mode = mode, .log = log);

		if (bpfvm_prog__test_run(bpfvm_obj_prog__prog(p), &o))
			TEST_FAIL("%s: bpfvm run of packet %d failed: %s", c->object, i, log->buf);
		res[i].retval = (uint32_t)o.retval;
		res[i].out_len = (uint32_t)o.data_size_out;
	}
	return obj;
}

/* A map's value under key: per-CPU values summed (as 8-byte counters). */
static uint64_t sum_value(const uint8_t *v, uint32_t size, int ncpus, bool percpu)
{
	uint64_t sum = 0;

	for (int c = 0; c < (percpu ? ncpus : 1); c++) {
		uint64_t x = 0;
		memcpy(&x, v + (size_t)c * ((size + 7) & ~7u), size < 8 ? size : 8);
		sum += x;
	}
	return sum;
}

static void compare_maps(const char *what, struct bpf_object *kobj, struct bpfvm_object *vobj)
{
	int kcpus = libbpf_num_possible_cpus(), vcpus = bpfvm__num_possible_cpus(bpfvm_object__vm(vobj));
	struct bpf_map *km;

	bpf_object__for_each_map(km, kobj) {
		enum bpf_map_type t = bpf_map__type(km);
		bool percpu = t == BPF_MAP_TYPE_PERCPU_ARRAY || t == BPF_MAP_TYPE_PERCPU_HASH;
		struct bpfvm_map *vm = bpfvm_object__find_map_by_name(vobj, bpf_map__name(km));
		uint8_t key[64], next[64], kv[8192], vv[8192];
		uint32_t ks = bpf_map__key_size(km), vs = bpf_map__value_size(km);
		bool have = false;

		if (!vm) {
			TEST_FAIL("%s: bpfvm has no map %s", what, bpf_map__name(km));
			continue;
		}
		if ((t != BPF_MAP_TYPE_HASH && t != BPF_MAP_TYPE_ARRAY && !percpu) || ks > 64)
			continue;
		while (bpf_map_get_next_key(bpf_map__fd(km), have ? key : NULL, next) == 0) {
			memcpy(key, next, ks);
			have = true;
			if (bpf_map_lookup_elem(bpf_map__fd(km), key, kv))
				continue;
			if (bpfvm_map__lookup_elem(vm, key, vv, 0)) {
				TEST_FAIL("%s: map %s: a key the kernel has is missing", what, bpf_map__name(km));
				break;
			}
			if (percpu ? sum_value(kv, vs, kcpus, true) != sum_value(vv, vs, vcpus, true)
				   : memcmp(kv, vv, vs)) {
				TEST_FAIL("%s: map %s: values differ (kernel %llu, bpfvm %llu)", what,
					  bpf_map__name(km),
					  (unsigned long long)sum_value(kv, vs, kcpus, percpu),
					  (unsigned long long)sum_value(vv, vs, vcpus, percpu));
				break;
			}
		}
	}
}

static void diff_one(const struct diff_case *c)
{
	static struct packets pk;
	static struct result kres[MAX_PKTS], vres[MAX_PKTS];
	char path[256], msg[4096], what[128], why[1024];
	struct bpfvm_log log = { msg, sizeof(msg), 0 };
	struct bpf_object *kobj = NULL;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", objdir, c->object);
	snprintf(what, sizeof(what), "%s:%s on %s", c->object, c->prog, c->input);
	if (read_packets(c->input, &pk)) {
		TEST_FAIL("%s: no packets", what);
		return;
	}
	rc = kernel_load(c, path, &kobj, why, sizeof(why));
	if (!rc)
		run_kernel(c, kobj, &pk, kres);
	if (rc > 0)
		kernel_skip(test_current_name(), what, why);
	if (rc < 0)
		TEST_FAIL("%s: the kernel does not load it: %s", what, why);
	if (rc)
		return;
	for (int mode = 0; mode < 2; mode++) {
		struct bpfvm_object *vobj;

		msg[0] = '\0', log.len = 0;
		memset(vres, 0, sizeof(vres));
		vobj = run_bpfvm(c, path, &pk, vres, mode ? BPFVM_EXEC_UNCHECKED : BPFVM_EXEC_CHECKED, &log);
		if (!vobj) {
			TEST_FAIL("%s: bpfvm does not load it: %s", what, msg);
			break;
		}
		for (int i = 0; i < pk.n; i++) {
			if (kres[i].retval != vres[i].retval)
				TEST_FAIL("%s: packet %d: kernel returned %u, bpfvm %u", what, i,
					  kres[i].retval, vres[i].retval);
			if (kres[i].out_len != vres[i].out_len ||
			    memcmp(kres[i].out, vres[i].out, kres[i].out_len))
				TEST_FAIL("%s: packet %d: output packets differ (%u and %u bytes)", what, i,
					  kres[i].out_len, vres[i].out_len);
		}
		compare_maps(what, kobj, vobj);
		bpfvm_object__destroy(vobj);
	}
	bpf_object__close(kobj);
	if (!test_failed_now)
		printf("# %s: the kernel and bpfvm agree\n", what);
}

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level, (void)fmt, (void)ap;
	return 0;
}

static const struct diff_case cases[] = {
	{ "xdp_filter.bpf.o", "xdp_filter", "examples/data/three.pcap", { { 0 } } },
	{ "tail_calls.bpf.o", "entry", "examples/data/tcp80.bin", { { 0 } } },
	{ "rodata_config.bpf.o", "size_filter", "examples/data/three.pcap", { { 0 } } },
	{ "rodata_config.bpf.o", "size_filter", "examples/data/three.pcap",
	  { { "min_len", 50 }, { "verdict", 3 } } },
	{ "skb.bpf.o", "tc_rewrite", "examples/data/three.pcap", { { 0 } } },
	{ "skb.bpf.o", "sock_filter", "examples/data/three.pcap", { { 0 } } },
	{ "skb.bpf.o", "xdp_trim", "examples/data/three.pcap", { { 0 } } },
	{ "skb.bpf.o", "xdp_meta", "examples/data/three.pcap", { { 0 } } },
};

TEST(kernel_and_bpfvm_agree_on_objects)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		diff_one(&cases[i]);
}

int main(void)
{
	char cmd[512];

	snprintf(objdir, sizeof(objdir), "/tmp/bpfvm_kobj_XXXXXX");
	if (system("command -v clang-19 >/dev/null 2>&1") || !mkdtemp(objdir)) {
		printf("SKIP kernel_objects: clang-19 is missing\n");
		return 0;
	}
	snprintf(cmd, sizeof(cmd), "sh examples/build.sh %s >/dev/null 2>&1 && clang-19 -O2 -g "
		 "-target bpf -I/usr/include/$(uname -m)-linux-gnu -c tests/data/kernel/skb.bpf.c "
		 "-o %s/skb.bpf.o", objdir, objdir);
	if (system(cmd)) {
		printf("FAIL kernel_objects: the objects do not build\n");
		return 1;
	}
	libbpf_set_print(quiet);
	int rc = test_main();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", objdir);
	if (system(cmd))
		fprintf(stderr, "cannot remove %s\n", objdir);
	return rc;
}
