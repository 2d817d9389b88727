/*
 * test_elf_conventions.c - object conventions beyond libbpf 1.x's SEC()
 * names, on objects clang builds here: libbpf's '?' sections (not loaded
 * unless asked for), the section names older loaders took (the kernel's
 * old samples, bpftool --legacy), iproute2's objects (struct bpf_elf_map
 * of any size tc reads, its id and pinning, map-in-maps by inner_id and
 * inner_idx, tail-call sections "ID/SLOT" filled at load), sections
 * without FUNC symbols (assembly), a type set where the section tells
 * none, and loading part of an object (load_only, partial_load) so a
 * program needing the kernel leaves the others alone.  Bad input (a
 * bpf_elf_map of no known size, a tail-call section naming a missing map
 * or slot) is refused naming the section.
 */
#include <errno.h>
#include <inttypes.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpfvm/hooks.h>
#include <bpfvm/object.h>

#include "elf_build.h"

static struct bpfvm_obj_prog *prog_named(const struct bpfvm_object *obj, const char *name)
{
	struct bpfvm_obj_prog *p = bpfvm_object__find_program_by_name(obj, name);

	if (!p)
		TEST_FAIL("no program '%s'", name);
	return p;
}

static long map_named(const struct bpfvm_object *obj, const char *name)
{
	for (size_t i = 0; i < bpfvm_object__map_cnt(obj); i++)
		if (!strcmp(bpfvm_object__map_desc(obj, i)->name, name))
			return (long)i;
	TEST_FAIL("no map '%s'", name);
	return -1;
}

/* Run a loaded program (checked) on a zeroed 64-byte packet, with an __sk_buff's mark; r0. */
static uint64_t run_skb(struct bpfvm_obj_prog *p, uint32_t mark)
{
	uint8_t pkt[64] = { 0 };
	struct __sk_buff ctx = { .mark = mark };
	char msg[512] = "";
	struct bpfvm_log log = { msg, sizeof(msg), 0 };
	BPFVM_OPTS(bpfvm_test_run_opts, o, .data_in = pkt, .data_size_in = sizeof(pkt),
		   .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .mode = BPFVM_EXEC_CHECKED,
		   .log = &log);

	if (!bpfvm_obj_prog__prog(p)) {
		TEST_FAIL("%s is not loaded", bpfvm_obj_prog__name(p));
		return UINT64_MAX;
	}
	if (bpfvm_prog__test_run(bpfvm_obj_prog__prog(p), &o)) {
		TEST_FAIL("run %s: %s", bpfvm_obj_prog__name(p), msg);
		return UINT64_MAX;
	}
	return o.retval;
}

TEST(question_mark_sections_load_when_asked)
{
	static const char src[] =
		"SEC(\"?raw_tp/sys_enter\") int opt(void *c) { return 5; }\n"
		"SEC(\"?xdp\") int opt_xdp(void *c) { return 1; }\n"
		"SEC(\"xdp\") int main_xdp(void *c) { return 2; }\n"
		"char LICENSE[] SEC(\"license\") = \"GPL\";\n";
	const char *path;
	char msg[1024];
	struct bpfvm_object *obj;
	struct bpfvm_obj_prog *opt, *opt_xdp, *main_xdp;

	SKIP_IF_NO_CLANG();
	path = build("qmark", src, "");
	obj = open_obj(path, msg, sizeof(msg));
	if (!obj) {
		TEST_FAIL("open: %s", msg);
		return;
	}
	opt = prog_named(obj, "opt");
	opt_xdp = prog_named(obj, "opt_xdp");
	main_xdp = prog_named(obj, "main_xdp");
	if (!opt || !opt_xdp || !main_xdp)
		goto out;
	CHECK(!bpfvm_obj_prog__autoload(opt));
	CHECK(!bpfvm_obj_prog__autoload(opt_xdp));
	CHECK(bpfvm_obj_prog__autoload(main_xdp));
	CHECK_EQ_INT(bpfvm_obj_prog__type(opt), BPF_PROG_TYPE_RAW_TRACEPOINT);
	CHECK_STR(bpfvm_obj_prog__section_name(opt), "?raw_tp/sys_enter");
	CHECK_STR(bpfvm_obj_prog__attach_target(opt), "sys_enter");
	CHECK_EQ_INT(bpfvm_obj_prog__type(opt_xdp), BPF_PROG_TYPE_XDP);
	CHECK_EQ_INT(bpfvm_obj_prog__expected_attach_type(opt_xdp), BPF_XDP);
	CHECK_EQ_INT(bpfvm_obj_prog__set_autoload(opt_xdp, true), 0);
	CHECK_EQ_INT(bpfvm_object__load(obj), 0);
	CHECK(bpfvm_obj_prog__prog(opt) == NULL);
	CHECK(bpfvm_obj_prog__prog(opt_xdp) != NULL);
	CHECK(bpfvm_obj_prog__prog(main_xdp) != NULL);
	CHECK_EQ_INT(bpfvm_obj_prog__set_autoload(opt, true), -EBUSY);
out:
	bpfvm_object__destroy(obj);
}

TEST(section_names_of_older_loaders)
{
	static const char src[] =
		"SEC(\"socket1\") int s1(void *c) { return 0; }\n"
		"SEC(\"socket_filter_x\") int s2(void *c) { return 0; }\n"
		"SEC(\"kprobe/sys_write\") int k(void *c) { return 0; }\n"
		"SEC(\"kretprobe/sys_write\") int kr(void *c) { return 0; }\n"
		"SEC(\"tracepoint/syscalls/sys_enter_write\") int tp(void *c) { return 0; }\n"
		"SEC(\"xdp_drop\") int xd(void *c) { return 1; }\n"
		"SEC(\"xdp_devmap/egress\") int xdm(void *c) { return 2; }\n"
		"SEC(\"cgroup/skb\") int cs(void *c) { return 1; }\n"
		"SEC(\"classifier\") int cl(void *c) { return 0; }\n"
		"SEC(\"classifier_egress\") int cle(void *c) { return 0; }\n"
		"SEC(\"action\") int ac(void *c) { return 0; }\n"
		"SEC(\"sockops_x\") int so(void *c) { return 1; }\n"
		"SEC(\"perf_event_x\") int pe(void *c) { return 0; }\n"
		"SEC(\"prog\") int pr(void *c) { return 0; }\n"
		"char LICENSE[] SEC(\"license\") = \"GPL\";\n";
	static const struct { const char *name; uint32_t type, attach; const char *target; } want[] = {
		{ "s1", BPF_PROG_TYPE_SOCKET_FILTER, 0, "" },
		{ "s2", BPF_PROG_TYPE_SOCKET_FILTER, 0, "" },
		{ "k", BPF_PROG_TYPE_KPROBE, 0, "sys_write" },
		{ "kr", BPF_PROG_TYPE_KPROBE, 0, "sys_write" },
		{ "tp", BPF_PROG_TYPE_TRACEPOINT, 0, "syscalls/sys_enter_write" },
		{ "xd", BPF_PROG_TYPE_XDP, BPF_XDP, "" },
		{ "xdm", BPF_PROG_TYPE_XDP, BPF_XDP_DEVMAP, "egress" },
		{ "cs", BPF_PROG_TYPE_CGROUP_SKB, 0, "" },
		{ "cl", BPF_PROG_TYPE_SCHED_CLS, 0, "" },
		{ "cle", BPF_PROG_TYPE_SCHED_CLS, 0, "" },
		{ "ac", BPF_PROG_TYPE_SCHED_ACT, 0, "" },
		{ "so", BPF_PROG_TYPE_SOCK_OPS, BPF_CGROUP_SOCK_OPS, "" },
		{ "pe", BPF_PROG_TYPE_PERF_EVENT, 0, "" },
		{ "pr", BPF_PROG_TYPE_UNSPEC, 0, "" }, /* tc's generic "prog": the command's type */
	};
	char msg[1024];
	struct bpfvm_object *obj;

	SKIP_IF_NO_CLANG();
	obj = open_obj(build("legacy_names", src, ""), msg, sizeof(msg));
	if (!obj) {
		TEST_FAIL("open: %s", msg);
		return;
	}
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		struct bpfvm_obj_prog *p = prog_named(obj, want[i].name);

		if (!p)
			continue;
		CHECK_EQ_INT(bpfvm_obj_prog__type(p), want[i].type);
		CHECK_EQ_INT(bpfvm_obj_prog__expected_attach_type(p), want[i].attach);
		CHECK_STR(bpfvm_obj_prog__attach_target(p), want[i].target);
	}
	bpfvm_object__destroy(obj);
}

/* iproute2's bpf_elf.h, as tc objects spell it. */
#define ELF_MAP_DEF \
	"struct bpf_elf_map { __u32 type, size_key, size_value, max_elem, flags, id, pinning,\n" \
	"  inner_id, inner_idx; };\n"

static const char tc_src[] = ELF_MAP_DEF
	"struct bpf_elf_map SEC(\"maps\") jmp = { .type = BPF_MAP_TYPE_PROG_ARRAY,\n"
	"  .size_key = 4, .size_value = 4, .max_elem = 4, .id = 1, .pinning = 2 };\n"
	"struct bpf_elf_map SEC(\"maps\") counts = { .type = BPF_MAP_TYPE_ARRAY,\n"
	"  .size_key = 4, .size_value = 8, .max_elem = 1 };\n"
	/* iproute2's BPF_ANNOTATE_KV_PAIR(counts, __u32, __u64) */
	"struct ____btf_map_counts { __u32 key; __u64 value; };\n"
	"struct ____btf_map_counts __attribute__((section(\".maps.counts\"), used))\n"
	"  ____btf_map_counts = { };\n"
	"SEC(\"1/0\") int t0(struct __sk_buff *s) { return 7; }\n"
	"SEC(\"0x1/2\") int t2(struct __sk_buff *s) {\n"
	"  __u32 k = 0; __u64 *v = bpf_map_lookup_elem(&counts, &k); if (v) *v += 1; return 9; }\n"
	"SEC(\"classifier\") int cls(struct __sk_buff *skb) {\n"
	"  bpf_tail_call(skb, &jmp, skb->mark); return 1; }\n"
	"char __license[] SEC(\"license\") = \"GPL\";\n";

TEST(iproute2_maps_and_tail_call_sections)
{
	char msg[1024];
	struct bpfvm_object *obj;
	const struct bpfvm_map_desc *jmp, *counts;
	struct bpfvm_obj_prog *t0, *t2, *cls;
	long j, c;

	SKIP_IF_NO_CLANG();
	obj = open_obj(build("tc", tc_src, "-g"), msg, sizeof(msg));
	if (!obj) {
		TEST_FAIL("open: %s", msg);
		return;
	}
	j = map_named(obj, "jmp");
	c = map_named(obj, "counts");
	t0 = prog_named(obj, "t0");
	t2 = prog_named(obj, "t2");
	cls = prog_named(obj, "cls");
	if (j < 0 || c < 0 || !t0 || !t2 || !cls)
		goto out;
	jmp = bpfvm_object__map_desc(obj, (size_t)j);
	counts = bpfvm_object__map_desc(obj, (size_t)c);
	CHECK_STR(jmp->section, "maps");
	CHECK_EQ_INT(jmp->type, BPF_MAP_TYPE_PROG_ARRAY);
	CHECK_EQ_INT(jmp->max_entries, 4);
	CHECK_EQ_INT(jmp->id, 1);
	CHECK_EQ_INT(jmp->pinning, 2);
	CHECK_EQ_INT(counts->id, 0);
	CHECK_EQ_INT(counts->value_size, 8);
	CHECK(counts->btf_key_type_id != 0 && counts->btf_value_type_id != 0); /* the KV pair, with -g */
	CHECK(jmp->btf_key_type_id == 0);
	/* the tail-call sections take the type of the object's other programs, as tc loads them */
	CHECK_EQ_INT(bpfvm_obj_prog__type(t0), BPF_PROG_TYPE_SCHED_CLS);
	CHECK_EQ_INT(bpfvm_obj_prog__type(t2), BPF_PROG_TYPE_SCHED_CLS);
	CHECK_EQ_INT(bpfvm_obj_prog__type(cls), BPF_PROG_TYPE_SCHED_CLS);
	if (bpfvm_object__load(obj)) {
		TEST_FAIL("load: %s", msg);
		goto out;
	}
	CHECK_EQ_U64(run_skb(cls, 0), 7);  /* slot 0: t0 */
	CHECK_EQ_U64(run_skb(cls, 1), 1);  /* slot 1 empty: falls through */
	CHECK_EQ_U64(run_skb(cls, 2), 9);  /* slot 2: t2 */
	CHECK_EQ_U64(run_skb(cls, 3), 1);
out:
	bpfvm_object__destroy(obj);
}

TEST(load_only_takes_what_a_program_needs)
{
	char msg[1024];
	struct bpfvm_object *obj;
	struct bpfvm_obj_prog *t0, *t2, *cls;
	long j, c;

	SKIP_IF_NO_CLANG();
	/* cls: itself, the program array and both targets (t2's map too) */
	obj = open_obj(build("tc_only", tc_src, ""), msg, sizeof(msg));
	if (!obj) {
		TEST_FAIL("open: %s", msg);
		return;
	}
	t0 = prog_named(obj, "t0");
	t2 = prog_named(obj, "t2");
	cls = prog_named(obj, "cls");
	j = map_named(obj, "jmp");
	c = map_named(obj, "counts");
	if (!t0 || !t2 || !cls || j < 0 || c < 0)
		goto out;
	CHECK_EQ_INT(bpfvm_object__load_only(obj, t0), 0);
	CHECK(bpfvm_obj_prog__autoload(t0) && !bpfvm_obj_prog__autoload(t2) &&
	      !bpfvm_obj_prog__autoload(cls));
	CHECK(!bpfvm_object__autocreate(obj, (size_t)j) && !bpfvm_object__autocreate(obj, (size_t)c));
	CHECK_EQ_INT(bpfvm_object__load_only(obj, cls), 0);
	CHECK(bpfvm_obj_prog__autoload(t0) && bpfvm_obj_prog__autoload(t2) &&
	      bpfvm_obj_prog__autoload(cls));
	CHECK(bpfvm_object__autocreate(obj, (size_t)j) && bpfvm_object__autocreate(obj, (size_t)c));
	if (bpfvm_object__load(obj)) {
		TEST_FAIL("load: %s", msg);
		goto out;
	}
	CHECK_EQ_U64(run_skb(cls, 2), 9);
	CHECK_EQ_INT(bpfvm_object__load_only(obj, cls), -EBUSY);
out:
	bpfvm_object__destroy(obj);
}

TEST(iproute2_map_in_map_and_short_definitions)
{
	static const char mim[] = ELF_MAP_DEF
		"struct bpf_elf_map SEC(\"maps\") inner = { .type = BPF_MAP_TYPE_ARRAY,\n"
		"  .size_key = 4, .size_value = 4, .max_elem = 1, .id = 42, .inner_idx = 1 };\n"
		"struct bpf_elf_map SEC(\"maps\") outer = { .type = BPF_MAP_TYPE_ARRAY_OF_MAPS,\n"
		"  .size_key = 4, .size_value = 4, .max_elem = 2, .inner_id = 42 };\n"
		"SEC(\"classifier\") int cls(struct __sk_buff *skb) { __u32 k = 1;\n"
		"  void *in = bpf_map_lookup_elem(&outer, &k); if (!in) return 0;\n"
		"  __u32 *v = bpf_map_lookup_elem(in, &(__u32){0}); return v ? 3 : 2; }\n"
		"char __license[] SEC(\"license\") = \"GPL\";\n";
	/* an older bpf_elf_map, without inner_id and inner_idx: tc zero-extends it */
	static const char short_def[] =
		"struct bpf_elf_map { __u32 type, size_key, size_value, max_elem, flags, id, pinning; };\n"
		"struct bpf_elf_map SEC(\"maps\") a = { BPF_MAP_TYPE_HASH, 4, 8, 16, 0, 3, 1 };\n"
		"struct bpf_elf_map SEC(\"maps\") b = { BPF_MAP_TYPE_ARRAY, 4, 4, 2, 0, 0, 0 };\n"
		"SEC(\"action\") int act(struct __sk_buff *skb) { __u32 k = 0;\n"
		"  return bpf_map_lookup_elem(&a, &k) != 0 || bpf_map_lookup_elem(&b, &k) != 0; }\n"
		"char __license[] SEC(\"license\") = \"GPL\";\n";
	char msg[1024];
	struct bpfvm_object *obj;
	const struct bpfvm_map_desc *d;
	struct bpfvm_obj_prog *p;
	long i;

	SKIP_IF_NO_CLANG();
	obj = open_obj(build("tc_mim", mim, ""), msg, sizeof(msg));
	if (!obj) {
		TEST_FAIL("open: %s", msg);
		return;
	}
	if ((i = map_named(obj, "outer")) >= 0) {
		d = bpfvm_object__map_desc(obj, (size_t)i);
		CHECK(d->inner != NULL);
		if (d->inner)
			CHECK_STR(d->inner->name, "inner");
	}
	if (bpfvm_object__load(obj))
		TEST_FAIL("load: %s", msg);
	else if ((p = prog_named(obj, "cls")))
		CHECK_EQ_U64(run_skb(p, 0), 3); /* the inner map sits in slot 1, as inner_idx says */
	bpfvm_object__destroy(obj);

	obj = open_obj(build("tc_short", short_def, ""), msg, sizeof(msg));
	if (!obj) {
		TEST_FAIL("open 28-byte definitions: %s", msg);
		return;
	}
	if ((i = map_named(obj, "a")) >= 0) {
		d = bpfvm_object__map_desc(obj, (size_t)i);
		CHECK_EQ_INT(d->type, BPF_MAP_TYPE_HASH);
		CHECK_EQ_INT(d->value_size, 8);
		CHECK_EQ_INT(d->max_entries, 16);
		CHECK_EQ_INT(d->id, 3);
		CHECK_EQ_INT(d->pinning, 1);
	}
	if ((p = prog_named(obj, "act")))
		CHECK_EQ_INT(bpfvm_obj_prog__type(p), BPF_PROG_TYPE_SCHED_ACT);
	CHECK_EQ_INT(bpfvm_object__load(obj), 0);
	bpfvm_object__destroy(obj);
}

/* Opening fails, and the message has each of the words. */
static void check_refused(const char *name, const char *src, const char *const *words)
{
	char msg[1024];
	struct bpfvm_object *obj = open_obj(build(name, src, ""), msg, sizeof(msg));

	if (obj) {
		TEST_FAIL("%s: opened", name);
		bpfvm_object__destroy(obj);
		return;
	}
	for (; *words; words++)
		if (!strstr(msg, *words))
			TEST_FAIL("%s: '%s' not in: %s", name, *words, msg);
}

TEST(bad_iproute2_objects_name_the_section)
{
	static const char odd_size[] =
		"struct __attribute__((packed)) def { __u32 type, size_key, size_value, max_elem;\n"
		"  __u16 flags; };\n"
		"struct def SEC(\"maps\") m = { BPF_MAP_TYPE_ARRAY, 4, 4, 1, 0 };\n"
		"SEC(\"classifier\") int cls(void *c) { return bpf_map_lookup_elem(&m, &(__u32){0}) != 0; }\n";
	static const char too_small[] =
		"struct def { __u32 type, size_key, size_value; };\n"
		"struct def SEC(\"maps\") m = { BPF_MAP_TYPE_ARRAY, 4, 4 };\n"
		"SEC(\"classifier\") int cls(void *c) { return bpf_map_lookup_elem(&m, &(__u32){0}) != 0; }\n";
	static const char no_map[] = ELF_MAP_DEF
		"struct bpf_elf_map SEC(\"maps\") jmp = { .type = BPF_MAP_TYPE_PROG_ARRAY,\n"
		"  .size_key = 4, .size_value = 4, .max_elem = 4, .id = 1 };\n"
		"SEC(\"5/0\") int t(void *c) { return 1; }\n"
		"SEC(\"classifier\") int cls(void *c) { bpf_tail_call(c, &jmp, 0); return 0; }\n";
	static const char past_end[] = ELF_MAP_DEF
		"struct bpf_elf_map SEC(\"maps\") jmp = { .type = BPF_MAP_TYPE_PROG_ARRAY,\n"
		"  .size_key = 4, .size_value = 4, .max_elem = 4, .id = 1 };\n"
		"SEC(\"1/4\") int t(void *c) { return 1; }\n"
		"SEC(\"classifier\") int cls(void *c) { bpf_tail_call(c, &jmp, 0); return 0; }\n";
	static const char not_array[] = ELF_MAP_DEF
		"struct bpf_elf_map SEC(\"maps\") h = { .type = BPF_MAP_TYPE_HASH,\n"
		"  .size_key = 4, .size_value = 4, .max_elem = 4, .id = 1 };\n"
		"SEC(\"1/0\") int t(void *c) { return 1; }\n"
		"SEC(\"classifier\") int cls(void *c) { return bpf_map_lookup_elem(&h, &(__u32){0}) != 0; }\n";
	static const char no_inner[] = ELF_MAP_DEF
		"struct bpf_elf_map SEC(\"maps\") outer = { .type = BPF_MAP_TYPE_ARRAY_OF_MAPS,\n"
		"  .size_key = 4, .size_value = 4, .max_elem = 2, .inner_id = 9 };\n"
		"SEC(\"classifier\") int cls(void *c) { return bpf_map_lookup_elem(&outer, &(__u32){0}) != 0; }\n";
	static const char nested[] = ELF_MAP_DEF
		"struct bpf_elf_map SEC(\"maps\") a = { .type = BPF_MAP_TYPE_ARRAY_OF_MAPS,\n"
		"  .size_key = 4, .size_value = 4, .max_elem = 2, .id = 1, .inner_id = 2 };\n"
		"struct bpf_elf_map SEC(\"maps\") b = { .type = BPF_MAP_TYPE_ARRAY_OF_MAPS,\n"
		"  .size_key = 4, .size_value = 4, .max_elem = 2, .id = 2, .inner_id = 1 };\n"
		"SEC(\"classifier\") int cls(void *c) { return bpf_map_lookup_elem(&a, &(__u32){0}) != 0; }\n";

	SKIP_IF_NO_CLANG();
	check_refused("odd_size", odd_size, (const char *[]){ "section maps", "18 bytes per map",
							     "bpf_elf_map", NULL });
	check_refused("too_small", too_small, (const char *[]){ "section maps", "12 bytes per map",
							       NULL });
	check_refused("no_map", no_map, (const char *[]){ "section 5/0", "id 5",
							 "no map of section maps has that id", NULL });
	check_refused("past_end", past_end, (const char *[]){ "section 1/4", "slot 4",
							     "4 slots of program array 'jmp'", NULL });
	check_refused("not_array", not_array, (const char *[]){ "section 1/0",
							       "not a program array", NULL });
	check_refused("no_inner", no_inner, (const char *[]){ "map 'outer'", "inner_id 9", NULL });
	check_refused("nested", nested, (const char *[]){ "map 'a'", "inner_id 2", "map 'b'",
							 "itself a map-in-map", NULL });
}

TEST(sections_without_func_symbols)
{
	static const char src[] =
		"\t.section classifier,\"ax\",@progbits\n"
		"\t.globl cls\ncls:\n\tr0 = 1\n\texit\n"
		"\t.globl cls2\ncls2:\n\tr0 = 2\n\texit\n"
		"\t.section socket,\"ax\",@progbits\n"
		"\tr0 = 3\n\texit\n"
		"\t.section license,\"a\",@progbits\n\t.asciz \"GPL\"\n";
	static const struct { const char *name; uint64_t ret; } want[] = {
		{ "cls", 1 }, { "cls2", 2 }, { "socket", 3 } };
	char msg[1024];
	struct bpfvm_object *obj;

	SKIP_IF_NO_CLANG();
	obj = open_obj(build_asm("asm", src), msg, sizeof(msg));
	if (!obj) {
		TEST_FAIL("open: %s", msg);
		return;
	}
	if (bpfvm_object__load(obj)) {
		TEST_FAIL("load: %s", msg);
		goto out;
	}
	for (size_t i = 0; i < 3; i++) {
		struct bpfvm_obj_prog *p = prog_named(obj, want[i].name);

		if (!p)
			continue;
		CHECK_EQ_INT(bpfvm_obj_prog__insn_cnt(p), 2);
		CHECK_EQ_U64(run_skb(p, 0), want[i].ret);
	}
out:
	bpfvm_object__destroy(obj);
}

TEST(assembly_with_a_legacy_map)
{
	/* a map reference relocated against a NOTYPE symbol in "maps"; no symbol in the code */
	static const char src[] =
		"\t.section socket_count,\"ax\",@progbits\n"
		"\tr1 = 0\n\t*(u32 *)(r10 - 4) = r1\n\tr2 = r10\n\tr2 += -4\n"
		"\tr1 = counts ll\n\tcall 1\n\tr1 = r0\n\tr0 = 1\n"
		"\tif r1 != 0 goto .Lout\n\tr0 = 0\n.Lout:\n\texit\n"
		"\t.section maps,\"aw\",@progbits\n\t.globl counts\n\t.p2align 2\n"
		"counts:\n\t.long 2\n\t.long 4\n\t.long 8\n\t.long 1\n\t.long 0\n"
		"\t.section license,\"a\",@progbits\n\t.asciz \"GPL\"\n";
	char msg[1024];
	struct bpfvm_object *obj;
	struct bpfvm_obj_prog *p;
	const struct bpfvm_map_desc *m;

	SKIP_IF_NO_CLANG();
	obj = open_obj(build_asm("asm_map", src), msg, sizeof(msg));
	if (!obj) {
		TEST_FAIL("open: %s", msg);
		return;
	}
	m = bpfvm_object__map_desc(obj, 0);
	CHECK(m && !strcmp(m->name, "counts") && m->type == BPF_MAP_TYPE_ARRAY &&
	      m->value_size == 8 && m->max_entries == 1);
	p = prog_named(obj, "socket_count");
	if (p) {
		CHECK_EQ_INT(bpfvm_obj_prog__type(p), BPF_PROG_TYPE_SOCKET_FILTER);
		CHECK_EQ_INT(bpfvm_obj_prog__insn_cnt(p), 12);
	}
	if (bpfvm_object__load(obj))
		TEST_FAIL("load: %s", msg);
	else if (p)
		CHECK_EQ_U64(run_skb(p, 0), 1); /* the lookup found the array's element */
	bpfvm_object__destroy(obj);
}

TEST(partial_load_leaves_out_what_needs_the_kernel)
{
	static const char src[] =
		"struct { __uint(type, BPF_MAP_TYPE_SOCKMAP); __uint(max_entries, 16);\n"
		"  __uint(key_size, 4); __uint(value_size, 4); } socks SEC(\".maps\");\n"
		"SEC(\"sk_skb\") int needs_socks(struct __sk_buff *s) { return bpf_sk_redirect_map(s, &socks, 0, 0); }\n"
		"SEC(\"prog\") int untyped(void *c) { return 4; }\n"
		"SEC(\"xdp\") int plain(struct xdp_md *c) { return 2; }\n"
		"char LICENSE[] SEC(\"license\") = \"GPL\";\n";
	const char *path;
	char msg[2048];
	struct bpfvm_object *obj;
	struct bpfvm_obj_prog *p;
	BPFVM_OPTS(bpfvm_object_open_opts, o, .log = &obj_log, .partial_load = true);

	SKIP_IF_NO_CLANG();
	path = build("partial", src, "-g");
	/* libbpf's way: the whole load fails, naming the map */
	obj = open_obj(path, msg, sizeof(msg));
	if (!obj) {
		TEST_FAIL("open: %s", msg);
		return;
	}
	CHECK(bpfvm_object__load(obj) < 0);
	CHECK(strstr(msg, "SOCKMAP") != NULL);
	bpfvm_object__destroy(obj);
	/* partial: the others load; each one left out says why */
	obj_log = (struct bpfvm_log){ msg, sizeof(msg), 0 };
	obj = bpfvm_object__open_file(path, &o);
	if (!obj) {
		TEST_FAIL("open: %s", msg);
		return;
	}
	CHECK_EQ_INT(bpfvm_object__load(obj), 0);
	if ((p = prog_named(obj, "needs_socks"))) {
		CHECK(!bpfvm_obj_prog__prog(p));
		CHECK(bpfvm_obj_prog__left_out(p) && strstr(bpfvm_obj_prog__left_out(p), "'socks'") &&
		      strstr(bpfvm_obj_prog__left_out(p), "SOCKMAP"));
	}
	if ((p = prog_named(obj, "untyped"))) {
		CHECK(!bpfvm_obj_prog__prog(p));
		CHECK(bpfvm_obj_prog__left_out(p) &&
		      strstr(bpfvm_obj_prog__left_out(p), "follows no known convention"));
	}
	if ((p = prog_named(obj, "plain"))) {
		CHECK(bpfvm_obj_prog__left_out(p) == NULL);
		CHECK(bpfvm_obj_prog__prog(p) != NULL);
	}
	CHECK(bpfvm_object__map_left_out(obj, 0) && strstr(bpfvm_object__map_left_out(obj, 0),
							   "kernel-only"));
	CHECK(bpfvm_object__next_map(obj, NULL) == NULL); /* the only map was not created */
	bpfvm_object__destroy(obj);
	/* load_only, libbpf's way otherwise: the stack map is not needed, so not created */
	obj = open_obj(path, msg, sizeof(msg));
	if (obj && (p = prog_named(obj, "plain"))) {
		CHECK_EQ_INT(bpfvm_object__load_only(obj, p), 0);
		CHECK_EQ_INT(bpfvm_object__load(obj), 0);
		CHECK(bpfvm_obj_prog__prog(p) != NULL);
	}
	bpfvm_object__destroy(obj);
	/* a type given where the section tells none */
	obj = open_obj(path, msg, sizeof(msg));
	if (obj && (p = prog_named(obj, "untyped"))) {
		CHECK_EQ_INT(bpfvm_obj_prog__set_type(p, BPF_PROG_TYPE_SCHED_CLS), 0);
		CHECK_EQ_INT(bpfvm_object__load_only(obj, p), 0);
		if (bpfvm_object__load(obj))
			TEST_FAIL("load untyped as sched_cls: %s", msg);
		else
			CHECK_EQ_U64(run_skb(p, 0), 4);
	}
	bpfvm_object__destroy(obj);
}

TEST_MAIN()
