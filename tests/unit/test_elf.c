/*
 * test_elf.c - the ELF loader on objects clang builds here from small
 * sources: program types from section names, sub-programs appended and
 * calls linked, map and global data relocations with their addends,
 * legacy and BTF-defined maps (map-in-map too), global variables set
 * before load, line info, CO-RE against a target BTF of our own, and
 * malformed input (truncated, bit-flipped, an unknown relocation type, an
 * unresolved symbol, a map the kernel would refuse, a .kconfig value that
 * does not fit) refused with a message naming what is wrong.
 * Skips when clang-19 or libbpf's headers are missing.
 */
#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpfvm/hooks.h>
#include <bpfvm/object.h>

#include "test.h"

#include "elf_build.h"

/* Index of the first lddw referring to map index idx, or -1. */
static long find_map_ref(const struct bpfvm_obj_prog *p, int map, int src)
{
	const struct bpfvm_insn *in = bpfvm_obj_prog__insns(p);

	for (size_t i = 0; i + 1 < bpfvm_obj_prog__insn_cnt(p); i++)
		if (in[i].code == (BPF_LD | BPF_DW | BPF_IMM) && in[i].src_reg == src &&
		    in[i].imm == map)
			return (long)i;
	return -1;
}

static long map_index(const struct bpfvm_object *obj, const char *name)
{
	for (size_t i = 0; i < bpfvm_object__map_cnt(obj); i++)
		if (!strcmp(bpfvm_object__map_desc(obj, i)->name, name))
			return (long)i;
	return -1;
}

TEST(program_types_from_sections)
{
	static const char src[] =
		"SEC(\"xdp\") int a(void *c) { return 2; }\n"
		"SEC(\"tp/sched/sched_process_fork\") int b(void *c) { return 0; }\n"
		"SEC(\"kprobe/do_unlinkat\") int c(void *c) { return 0; }\n"
		"SEC(\"socket\") int d(void *c) { return 0; }\n"
		"SEC(\"tc\") int e(void *c) { return 0; }\n"
		"SEC(\"cgroup/connect4\") int f(void *c) { return 1; }\n"
		"SEC(\"fentry/do_exit\") int g(void *c) { return 0; }\n"
		"SEC(\"raw_tp/sys_enter\") int h(void *c) { return 0; }\n"
		"SEC(\"uretprobe\") int i(void *c) { return 0; }\n"
		"SEC(\"nonsense\") int j(void *c) { return 0; }\n"
		"char LICENSE[] SEC(\"license\") = \"Dual BSD/GPL\";\n"
		"__u32 _version SEC(\"version\") = 0x60c00;\n";
	static const struct { const char *name; uint32_t type, attach; const char *target; } want[] = {
		{ "a", BPF_PROG_TYPE_XDP, BPF_XDP, "" },
		{ "b", BPF_PROG_TYPE_TRACEPOINT, 0, "sched/sched_process_fork" },
		{ "c", BPF_PROG_TYPE_KPROBE, 0, "do_unlinkat" },
		{ "d", BPF_PROG_TYPE_SOCKET_FILTER, 0, "" },
		{ "e", BPF_PROG_TYPE_SCHED_CLS, 0, "" },
		{ "f", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET4_CONNECT, "" },
		{ "g", BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY, "do_exit" },
		{ "h", BPF_PROG_TYPE_RAW_TRACEPOINT, 0, "sys_enter" },
		{ "i", BPF_PROG_TYPE_KPROBE, 0, "" },
		{ "j", BPF_PROG_TYPE_UNSPEC, 0, "" },
	};
	char msg[1024];
	struct bpfvm_object *obj;

	SKIP_IF_NO_CLANG();
	obj = open_obj(build("types", src, ""), msg, sizeof(msg));
	if (!obj) {
		TEST_FAIL("open: %s", msg);
		return;
	}
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		struct bpfvm_obj_prog *p = bpfvm_object__find_program_by_name(obj, want[i].name);

		CHECK(p != NULL);
		if (!p)
			continue;
		CHECK_EQ_INT(bpfvm_obj_prog__type(p), want[i].type);
		CHECK_EQ_INT(bpfvm_obj_prog__expected_attach_type(p), want[i].attach);
		CHECK_STR(bpfvm_obj_prog__attach_target(p), want[i].target);
	}
	CHECK_STR(bpfvm_object__license(obj), "Dual BSD/GPL");
	CHECK_EQ_INT(bpfvm_object__kversion(obj), 0x60c00);
	CHECK_STR(bpfvm_prog_type_name(BPF_PROG_TYPE_SCHED_CLS), "sched_cls");
	bpfvm_object__destroy(obj);
}

TEST(subprograms_linked_and_relocations)
{
	static const char src[] =
		"struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 8);\n"
		"  __type(key, __u32); __type(value, __u64); } counts SEC(\".maps\");\n"
		"__u32 table[4] = { 1, 2, 3, 4 };\n"
		"const volatile __u64 limit = 7;\n"
		"static volatile __u32 s1 = 5, s2 = 6;\n"
		"static __attribute__((noinline)) int twice(int x) { return x * 2 + table[1] + s2 + 0 * s1; }\n"
		"__attribute__((noinline)) int thrice(int x) { return x * 3; }\n"
		"static long cb(__u32 i, void *ctx) { return 0; }\n"
		"SEC(\"xdp\") int one(void *c) {\n"
		"  __u32 k = 0; __u64 *v = bpf_map_lookup_elem(&counts, &k);\n"
		"  bpf_loop(4, cb, 0, 0);\n"
		"  return twice(v ? *v : 1) + (int)limit; }\n"
		"SEC(\"xdp\") int two(void *c) { return thrice(twice(3)); }\n"
		"char LICENSE[] SEC(\"license\") = \"GPL\";\n";
	char msg[1024];
	struct bpfvm_object *obj;
	struct bpfvm_obj_prog *one, *two;
	long counts, data, rodata, at;

	SKIP_IF_NO_CLANG();
	obj = open_obj(build("link", src, "-g"), msg, sizeof(msg));
	if (!obj) {
		TEST_FAIL("open: %s", msg);
		return;
	}
	one = bpfvm_object__find_program_by_name(obj, "one");
	two = bpfvm_object__find_program_by_name(obj, "two");
	CHECK(one && two);
	CHECK(bpfvm_object__find_program_by_name(obj, "twice") == NULL); /* .text: sub-programs */
	counts = map_index(obj, "counts");
	data = map_index(obj, "link.data");
	rodata = map_index(obj, "link.rodata");
	CHECK(counts >= 0 && data >= 0 && rodata >= 0);
	if (!one || !two || counts < 0 || data < 0 || rodata < 0)
		goto out;
	CHECK(find_map_ref(one, (int)counts, BPF_PSEUDO_MAP_FD) >= 0);
	CHECK(find_map_ref(one, (int)rodata, BPF_PSEUDO_MAP_VALUE) >= 0);
	/* every bpf-to-bpf call and function reference lands inside the program */
	for (int k = 0; k < 2; k++) {
		struct bpfvm_obj_prog *p = k ? two : one;
		const struct bpfvm_insn *in = bpfvm_obj_prog__insns(p);
		size_t n = bpfvm_obj_prog__insn_cnt(p), calls = 0;

		for (size_t i = 0; i < n; i++) {
			bool call = in[i].code == (BPF_JMP | BPF_CALL) && in[i].src_reg == BPF_PSEUDO_CALL;
			bool ref = in[i].code == (BPF_LD | BPF_DW | BPF_IMM) && in[i].src_reg == BPF_PSEUDO_FUNC;

			if (call || ref) {
				long t = (long)i + 1 + in[i].imm;
				calls++;
				if (t < 0 || (size_t)t >= n)
					TEST_FAIL("%s: call at %zu goes to %ld of %zu", bpfvm_obj_prog__name(p), i, t, n);
			}
		}
		CHECK(calls >= 2); /* one: twice + cb; two: thrice + twice */
	}
	CHECK_EQ_INT(bpfvm_object__map_desc(obj, (size_t)rodata)->map_flags & BPF_F_RDONLY_PROG,
		     BPF_F_RDONLY_PROG);
	/* run both: table[1] (an offset in the load), s2 (an addend in the lddw), limit */
	at = bpfvm_object__load(obj);
	if (at) {
		TEST_FAIL("load: %s", msg);
		goto out;
	}
	for (int k = 0; k < 2; k++) {
		uint8_t pkt[64] = { 0 };
		char rmsg[512] = "";
		struct bpfvm_log rlog = { rmsg, sizeof(rmsg), 0 };
		BPFVM_OPTS(bpfvm_test_run_opts, ro, .data_in = pkt, .data_size_in = sizeof(pkt),
			   .log = &rlog);

		if (bpfvm_prog__test_run(bpfvm_obj_prog__prog(k ? two : one), &ro))
			TEST_FAIL("run %s: %s", k ? "two" : "one", rmsg);
		/* one: twice(1) + 7 = 2 + 2 + 6 + 7; two: thrice(twice(3)) = 3 * (6 + 2 + 6) */
		CHECK_EQ_U64(ro.retval, k ? 42 : 17);
	}
out:
	bpfvm_object__destroy(obj);
}

TEST(legacy_maps_without_btf)
{
	static const char src[] =
		"struct bpf_map_def { unsigned int type, key_size, value_size, max_entries, map_flags; };\n"
		"struct bpf_map_def SEC(\"maps\") legacy = { BPF_MAP_TYPE_ARRAY, 4, 16, 32, 0 };\n"
		"SEC(\"socket\") int s(void *c) { __u32 k = 0; return bpf_map_lookup_elem(&legacy, &k) != 0; }\n"
		"char LICENSE[] SEC(\"license\") = \"GPL\";\n";
	char msg[1024];
	struct bpfvm_object *obj;
	const struct bpfvm_map_desc *m;

	SKIP_IF_NO_CLANG();
	obj = open_obj(build("legacy", src, ""), msg, sizeof(msg));
	if (!obj) {
		TEST_FAIL("open: %s", msg);
		return;
	}
	m = bpfvm_object__map_desc(obj, 0);
	CHECK(m != NULL);
	if (m) {
		CHECK_STR(m->name, "legacy");
		CHECK_STR(m->section, "maps");
		CHECK_EQ_INT(m->type, BPF_MAP_TYPE_ARRAY);
		CHECK_EQ_INT(m->value_size, 16);
		CHECK_EQ_INT(m->max_entries, 32);
	}
	bpfvm_object__destroy(obj);
}

TEST(map_in_map_definition)
{
	static const char src[] =
		"struct inner { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 2);\n"
		"  __type(key, __u32); __type(value, __u32); } in1 SEC(\".maps\");\n"
		"struct { __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS); __uint(max_entries, 4);\n"
		"  __type(key, __u32); __array(values, struct inner); } outer SEC(\".maps\") =\n"
		"  { .values = { [3] = &in1 } };\n"
		"SEC(\"xdp\") int x(void *c) { __u32 k = 3; return bpf_map_lookup_elem(&outer, &k) != 0; }\n"
		"char LICENSE[] SEC(\"license\") = \"GPL\";\n";
	char msg[1024];
	struct bpfvm_object *obj;
	const struct bpfvm_map_desc *m;
	long o;

	SKIP_IF_NO_CLANG();
	obj = open_obj(build("mim", src, "-g"), msg, sizeof(msg));
	if (!obj) {
		TEST_FAIL("open: %s", msg);
		return;
	}
	o = map_index(obj, "outer");
	m = o >= 0 ? bpfvm_object__map_desc(obj, (size_t)o) : NULL;
	CHECK(m && m->inner);
	if (m && m->inner) {
		CHECK_EQ_INT(m->type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
		CHECK_EQ_INT(m->value_size, 4);
		CHECK_EQ_INT(m->inner->type, BPF_MAP_TYPE_ARRAY);
		CHECK_EQ_INT(m->inner->max_entries, 2);
	}
	CHECK_EQ_INT(bpfvm_object__load(obj), 0);
	bpfvm_object__destroy(obj);
}

TEST(globals_set_before_load)
{
	static const char src[] =
		"const volatile __u32 port = 80;\n"
		"__u64 hits;\n"
		"SEC(\"xdp\") int x(void *c) { hits++; return port; }\n"
		"char LICENSE[] SEC(\"license\") = \"GPL\";\n";
	char msg[1024];
	struct bpfvm_object *obj;
	uint32_t port = 8080, got = 0;
	uint64_t big = 1;

	SKIP_IF_NO_CLANG();
	obj = open_obj(build("globals", src, "-g"), msg, sizeof(msg));
	if (!obj) {
		TEST_FAIL("open: %s", msg);
		return;
	}
	CHECK_EQ_INT(bpfvm_object__set_global(obj, "port", &port, sizeof(port)), 0);
	CHECK_EQ_INT(bpfvm_object__get_global(obj, "port", &got, sizeof(got)), 0);
	CHECK_EQ_INT(got, 8080);
	CHECK_EQ_INT(bpfvm_object__set_global(obj, "port", &big, sizeof(big)), -EINVAL);
	CHECK_CONTAINS(msg, "'port'");
	CHECK_CONTAINS(msg, "is 4 bytes");
	CHECK_EQ_INT(bpfvm_object__set_global(obj, "nosuch", &port, sizeof(port)), -ENOENT);
	CHECK_EQ_INT(bpfvm_object__load(obj), 0);
	CHECK_EQ_INT(bpfvm_object__set_global(obj, "port", &port, sizeof(port)), -EBUSY);
	got = 0;
	CHECK_EQ_INT(bpfvm_object__get_global(obj, "port", &got, sizeof(got)), 0);
	CHECK_EQ_INT(got, 8080);
	bpfvm_object__destroy(obj);
}

TEST(line_info_names_the_source)
{
	static const char src[] =
		"SEC(\"xdp\") int x(struct xdp_md *c) {\n"
		"  return c->ingress_ifindex == 7 ? XDP_DROP : XDP_PASS;\n}\n"
		"char LICENSE[] SEC(\"license\") = \"GPL\";\n";
	char msg[1024];
	struct bpfvm_object *obj;
	const char *file = NULL, *text = NULL;
	uint32_t line = 0;

	SKIP_IF_NO_CLANG();
	obj = open_obj(build("lines", src, "-g"), msg, sizeof(msg));
	if (!obj) {
		TEST_FAIL("open: %s", msg);
		return;
	}
	CHECK_EQ_INT(bpfvm_obj_prog__source_line(bpfvm_object__next_program(obj, NULL), 0, &file,
						&line, NULL, &text), 0);
	CHECK_CONTAINS(file, "lines.c");
	CHECK_CONTAINS(text, "ingress_ifindex == 7");
	CHECK_EQ_INT(line, 5); /* three include lines come first */
	bpfvm_object__destroy(obj);
}

TEST(kconfig_externs_get_values)
{
	static const char src[] =
		"extern unsigned int LINUX_KERNEL_VERSION __kconfig;\n"
		"extern int CONFIG_BPFVM_NUM __kconfig;\n"
		"extern _Bool CONFIG_BPFVM_ON __kconfig;\n"
		"extern int CONFIG_BPFVM_ABSENT __kconfig __weak;\n"
		"SEC(\"xdp\") int x(void *c) {\n"
		"  if (LINUX_KERNEL_VERSION < (2 << 16)) return 1;\n"
		"  return CONFIG_BPFVM_NUM + CONFIG_BPFVM_ON * 1000 + CONFIG_BPFVM_ABSENT; }\n"
		"char LICENSE[] SEC(\"license\") = \"GPL\";\n";
	char msg[1024] = "";
	struct bpfvm_log log = { msg, sizeof(msg), 0 };
	BPFVM_OPTS(bpfvm_object_open_opts, o, .log = &log,
		   .kconfig = "CONFIG_BPFVM_NUM=-7\nCONFIG_BPFVM_ON=y\n");
	uint8_t pkt[64] = { 0 };
	struct bpfvm_object *obj;
	const char *path;

	SKIP_IF_NO_CLANG();
	if (!(path = build("kconfig", src, "-g"))) {
		TEST_FAIL("does not build");
		return;
	}
	obj = bpfvm_object__open_file(path, &o);
	if (!obj || bpfvm_object__load(obj)) {
		TEST_FAIL("open/load: %s", msg);
	} else {
		BPFVM_OPTS(bpfvm_test_run_opts, ro, .data_in = pkt, .data_size_in = sizeof(pkt),
			   .log = &log);
		CHECK_EQ_INT(bpfvm_prog__test_run(bpfvm_obj_prog__prog(bpfvm_object__next_program(obj, NULL)), &ro), 0);
		CHECK_EQ_INT((int32_t)ro.retval, 1000 - 7);
	}
	bpfvm_object__destroy(obj);
}

/* CO-RE: the program's struct has b at 4; the target (another object's BTF) at 8. */
TEST(core_against_custom_btf)
{
	static const char prog[] =
		"struct thing { int a; int b; } __attribute__((preserve_access_index));\n"
		"SEC(\"raw_tp/x\") int r(struct thing *t) { return __builtin_preserve_access_index(t->b); }\n"
		"char LICENSE[] SEC(\"license\") = \"GPL\";\n";
	static const char target[] =
		"struct thing { long pad; int b; int a; };\n"
		"struct thing used;\n";
	char msg[1024], cmd[512], btfpath[300], path[300];
	struct bpfvm_log log = { msg, sizeof(msg), 0 };
	struct bpfvm_object *obj;
	const char *t;
	long at = -1;

	SKIP_IF_NO_CLANG();
	if (!(t = build("core_target", target, "-g")))
		{ TEST_FAIL("target does not build"); return; }
	snprintf(btfpath, sizeof(btfpath), "%s/target.btf", tmpdir);
	snprintf(cmd, sizeof(cmd), "llvm-objcopy-19 --dump-section .BTF=%s %s 2>/dev/null", btfpath, t);
	if (system(cmd)) {
		printf("SKIP %s: llvm-objcopy-19 missing\n", test_current_name());
		return;
	}
	snprintf(path, sizeof(path), "%s", build("core_prog", prog, "-g"));
	BPFVM_OPTS(bpfvm_object_open_opts, o, .log = &log, .btf_custom_path = btfpath);
	msg[0] = '\0';
	obj = bpfvm_object__open_file(path, &o);
	if (!obj)
		{ TEST_FAIL("open: %s", msg); return; }
	CHECK_EQ_INT(bpfvm_object__load(obj), 0);
	for (size_t i = 0; i < bpfvm_obj_prog__insn_cnt(bpfvm_object__next_program(obj, NULL)); i++) {
		const struct bpfvm_insn *in = &bpfvm_obj_prog__insns(bpfvm_object__next_program(obj, NULL))[i];
		if (BPF_CLASS(in->code) == BPF_LDX)
			at = in->off;
	}
	CHECK_EQ_INT(at, 8);
	bpfvm_object__destroy(obj);
	/* a target without the struct: the load still works, the access is poisoned */
}

/* ---- malformed input ---------------------------------------------------------------- */

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = malloc(1 << 20);

	*len = f && buf ? fread(buf, 1, 1 << 20, f) : 0;
	if (f)
		fclose(f);
	return buf;
}

TEST(truncated_and_flipped_never_crash)
{
	static const char src[] =
		"struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 8);\n"
		"  __type(key, __u32); __type(value, __u64); } m SEC(\".maps\");\n"
		"int g = 3;\n"
		"static __attribute__((noinline)) int sub(int x) { return x + g; }\n"
		"SEC(\"xdp\") int x(void *c) { __u32 k = 0; return sub(bpf_map_lookup_elem(&m, &k) != 0); }\n"
		"char LICENSE[] SEC(\"license\") = \"GPL\";\n";
	const char *path;
	uint8_t *buf, *copy;
	size_t len;
	unsigned seed = 1;

	SKIP_IF_NO_CLANG();
	if (!(path = build("fuzzme", src, "-g")))
		{ TEST_FAIL("does not build"); return; }
	buf = slurp(path, &len);
	copy = malloc(len);
	for (size_t cut = 0; cut < len; cut += 7) {
		struct bpfvm_object *obj = bpfvm_object__open_mem(buf, cut, NULL);
		bpfvm_object__destroy(obj);
	}
	for (int round = 0; round < 3000; round++) {
		struct bpfvm_object *obj;

		memcpy(copy, buf, len);
		for (int k = 0; k < 1 + round % 4; k++) {
			seed = seed * 1103515245 + 12345;
			copy[(seed >> 8) % len] ^= (uint8_t)(1u << (seed % 8));
		}
		obj = bpfvm_object__open_mem(copy, len, NULL);
		if (obj && round % 8 == 0)
			bpfvm_object__load(obj);
		bpfvm_object__destroy(obj);
	}
	free(copy);
	free(buf);
}

/* Find the .rel section entry of an lddw and set its relocation type. */
TEST(unknown_relocation_type_names_the_section)
{
	static const char src[] =
		"int g = 3;\nSEC(\"xdp\") int x(void *c) { return g; }\n"
		"char LICENSE[] SEC(\"license\") = \"GPL\";\n";
	char msg[1024] = "";
	struct bpfvm_log log = { msg, sizeof(msg), 0 };
	BPFVM_OPTS(bpfvm_object_open_opts, o, .log = &log);
	const char *path;
	uint8_t *buf;
	size_t len;
	struct bpfvm_object *obj;
	bool patched = false;

	SKIP_IF_NO_CLANG();
	if (!(path = build("relo", src, "")))
		{ TEST_FAIL("does not build"); return; }
	buf = slurp(path, &len);
	/* The one Elf64_Rel of .relxdp: r_info = sym << 32 | R_BPF_64_64 (1) */
	for (size_t i = 0; i + 16 <= len && !patched; i += 8) {
		uint64_t off, info;

		memcpy(&off, buf + i, 8);
		memcpy(&info, buf + i + 8, 8);
		if (off == 0 && (info & 0xffffffff) == 1 && (info >> 32) > 0 && (info >> 32) < 32) {
			info = (info & ~0xffffffffull) | 99;
			memcpy(buf + i + 8, &info, 8);
			patched = true;
		}
	}
	CHECK(patched);
	obj = bpfvm_object__open_mem(buf, len, &o);
	CHECK(obj == NULL);
	CHECK_CONTAINS(msg, "section xdp");
	CHECK_CONTAINS(msg, "type 99");
	bpfvm_object__destroy(obj);
	free(buf);
}

TEST(bad_objects_say_why)
{
	static const struct { const char *name, *src, *flags, *kconfig, *at_open, *at_load; } cases[] = {
		{ "unresolved", "extern int bar;\nSEC(\"xdp\") int x(void *c) { return bar; }\n",
		  "-g", NULL, "unresolved symbol 'bar'", NULL },
		{ "kfunc", "extern void bpf_rcu_read_lock(void) __ksym;\n"
			   "SEC(\"tc\") int x(void *c) { bpf_rcu_read_lock(); return 0; }\n",
		  "-g", NULL, NULL, "kernel function 'bpf_rcu_read_lock'" },
		{ "badmap", "struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 0);\n"
			    "  __type(key, __u32); __type(value, __u32); } m SEC(\".maps\");\n"
			    "SEC(\"xdp\") int x(void *c) { __u32 k = 0; return bpf_map_lookup_elem(&m, &k) != 0; }\n",
		  "-g", NULL, NULL, "map 'm'" },
		{ "kconfig", "extern unsigned char CONFIG_BPFVM_TEST __kconfig;\n"
			     "SEC(\"xdp\") int x(void *c) { return CONFIG_BPFVM_TEST; }\n",
		  "-g", "CONFIG_BPFVM_TEST=300\n", NULL, "does not fit" },
		{ "kconfig_missing", "extern int CONFIG_BPFVM_NOPE __kconfig;\n"
				     "SEC(\"xdp\") int x(void *c) { return CONFIG_BPFVM_NOPE; }\n",
		  "-g", NULL, NULL, "'CONFIG_BPFVM_NOPE'" },
		{ "unknown_field", "struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(colour, 3); } m SEC(\".maps\");\n"
				   "SEC(\"xdp\") int x(void *c) { return 0; }\n",
		  "-g", NULL, "unknown field 'colour'", NULL },
	};

	SKIP_IF_NO_CLANG();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char src[2048], msg[2048] = "";
		struct bpfvm_log log = { msg, sizeof(msg), 0 };
		BPFVM_OPTS(bpfvm_object_open_opts, o, .log = &log, .kconfig = cases[i].kconfig);
		const char *path;
		struct bpfvm_object *obj;

		snprintf(src, sizeof(src), "%schar LICENSE[] SEC(\"license\") = \"GPL\";\n", cases[i].src);
		if (!(path = build(cases[i].name, src, cases[i].flags))) {
			TEST_FAIL("%s: does not build", cases[i].name);
			continue;
		}
		obj = bpfvm_object__open_file(path, &o);
		if (cases[i].at_open) {
			if (obj)
				TEST_FAIL("%s: opened", cases[i].name);
			CHECK_CONTAINS(msg, cases[i].at_open);
		} else if (!obj) {
			TEST_FAIL("%s: does not open: %s", cases[i].name, msg);
		} else {
			if (bpfvm_object__load(obj) == 0)
				TEST_FAIL("%s: loaded", cases[i].name);
			CHECK_CONTAINS(msg, cases[i].at_load);
		}
		bpfvm_object__destroy(obj);
	}
}

TEST(not_bpf_objects)
{
	static const uint8_t junk[] = "this is not an ELF file at all";
	char msg[512] = "";
	struct bpfvm_log log = { msg, sizeof(msg), 0 };
	BPFVM_OPTS(bpfvm_object_open_opts, o, .log = &log);

	CHECK(bpfvm_object__open_mem(junk, sizeof(junk), &o) == NULL);
	CHECK_CONTAINS(msg, "not an ELF file");
	msg[0] = '\0', log.len = 0;
	/* A program is searched for the objects it embeds (a libbpf skeleton's): none here. */
	CHECK(bpfvm_object__open_file("/bin/sh", &o) == NULL);
	CHECK_EQ_INT(errno, ENOENT);
	CHECK_CONTAINS(msg, "/bin/sh is an ");
	CHECK_CONTAINS(msg, " ELF binary with no embedded BPF object");
	/* From memory, its bytes are taken as the object itself. */
	{
		size_t len = 0;
		uint8_t *sh = slurp("/bin/sh", &len);

		msg[0] = '\0', log.len = 0;
		CHECK(sh && bpfvm_object__open_mem(sh, len, &o) == NULL);
		CHECK_CONTAINS(msg, "not BPF");
		free(sh);
	}
	CHECK(bpfvm_object__open_file("/nonexistent.o", &o) == NULL);
}

/* bpfvm_elf__read: the loader's reader, listing what an object holds. */
TEST(elf_read_lists_sections_symbols_relocations)
{
	static const char src[] =
		"struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 1);\n"
		"  __type(key, __u32); __type(value, __u64); } m SEC(\".maps\");\n"
		"__attribute__((noinline)) int helper_fn(int x) { return x + 1; }\n"
		"SEC(\"xdp\") int entry(void *c) { __u32 k = 0; return helper_fn(bpf_map_lookup_elem(&m, &k) != 0); }\n"
		"char LICENSE[] SEC(\"license\") = \"GPL\";\n";
	static const uint8_t junk[] = "this is not an ELF file at all";
	char msg[512] = "";
	struct bpfvm_log log = { msg, sizeof(msg), 0 };
	const struct bpfvm_elf_section *xdp = NULL, *text = NULL;
	size_t xdp_idx = 0, text_idx = 0, len = 0;
	bool entry = false, helper = false, map_reloc = false, call_reloc = false;
	struct bpfvm_elf *elf;
	const char *path;
	uint8_t *buf;

	CHECK(bpfvm_elf__read(junk, sizeof(junk), "junk", &(struct bpfvm_elf_read_opts){ .sz = sizeof(struct bpfvm_elf_read_opts), .log = &log }) == NULL);
	CHECK_EQ_INT(errno, EINVAL);
	CHECK_CONTAINS(msg, "junk: not an ELF file");
	SKIP_IF_NO_CLANG();
	if (!(path = build("listing", src, "")))
		{ TEST_FAIL("does not build"); return; }
	buf = slurp(path, &len);
	elf = bpfvm_elf__read(buf, len, path, &(struct bpfvm_elf_read_opts){ .sz = sizeof(struct bpfvm_elf_read_opts), .log = &log });
	free(buf); /* the listing holds copies */
	if (!elf) {
		TEST_FAIL("read: %s", msg);
		return;
	}
	CHECK_EQ_INT(elf->type, 1 /* ET_REL */);
	for (size_t i = 1; i < elf->nsecs; i++) {
		if (!strcmp(elf->secs[i].name, "xdp"))
			xdp = &elf->secs[i], xdp_idx = i;
		if (!strcmp(elf->secs[i].name, ".text"))
			text = &elf->secs[i], text_idx = i;
	}
	CHECK(xdp && text);
	if (!xdp || !text)
		goto out;
	CHECK(xdp->data && xdp->size && xdp->size % 8 == 0);
	for (size_t i = 0; i < elf->nsyms; i++) {
		entry |= !strcmp(elf->syms[i].name, "entry") && elf->syms[i].shndx == xdp_idx &&
			 elf->syms[i].value == 0;
		helper |= !strcmp(elf->syms[i].name, "helper_fn") && elf->syms[i].shndx == text_idx;
	}
	CHECK(entry && helper);
	for (size_t i = 0; i < xdp->nrelocs; i++) {
		const struct bpfvm_elf_symbol *s = &elf->syms[xdp->relocs[i].sym];

		CHECK(xdp->relocs[i].offset < xdp->size && xdp->relocs[i].offset % 8 == 0);
		map_reloc |= !strcmp(s->name, "m");
		call_reloc |= !strcmp(s->name, "helper_fn");
	}
	CHECK(map_reloc && call_reloc);
out:
	bpfvm_elf__free(elf);
}

TEST_MAIN()
