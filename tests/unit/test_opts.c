/*
 * test_opts.c - every public entry point that takes an options struct
 * reads it as libbpf does (src/util/opts.h): NULL means the defaults; a
 * smaller sz (an older header) reads the fields it covers, defaults the
 * rest and writes no output past it; a larger sz (a newer header) is taken
 * when the bytes past the struct are zero and refused with -EINVAL, and a
 * message naming the struct, when they are not; an sz too small for sz
 * itself is refused.  For each: smaller, larger-zeroed, larger-non-zero,
 * NULL.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include <bpfvm/bpfvm.h>
#include <bpfvm/btf.h>
#include <bpfvm/cbpf.h>
#include <bpfvm/hooks.h>
#include <bpfvm/maps.h>
#include <bpfvm/object.h>
#include <bpfvm/trace.h>

#include "elf_build.h"
#include "test.h"

#define OFFSETOFEND(T, F) (offsetof(struct T, F) + sizeof(((struct T *)0)->F))

/* An options struct from a newer header: 16 more bytes, zero unless set. */
#define BIGGER(T)                      \
	struct {                       \
		struct T o;            \
		uint64_t newer[2];     \
	}

static char msg[1024];
static struct bpfvm_log log_ = { msg, sizeof(msg), 0 };

static struct bpfvm_log *fresh_log(void)
{
	msg[0] = '\0';
	log_.len = 0;
	return &log_;
}

#define CHECK_EQ_STR(A, B)                                                    \
	do {                                                                  \
		const char *a_ = (A), *b_ = (B);                              \
		if (strcmp(a_, b_))                                           \
			TEST_FAIL("%s is \"%s\", expected \"%s\"", #A, a_, b_); \
	} while (0)

#define CHECK_REFUSED_MSG(T) CHECK_CONTAINS(msg, "struct " #T)

static const struct bpfvm_insn ret5[] = { BPFVM_MOV64_IMM(0, 5), BPFVM_EXIT_INSN() };

/* bpf_trace_printk("hi\n") then r0 = 0, for the instance's trace callback. */
static const struct bpfvm_insn printk[] = {
	BPFVM_ST_MEM(BPFVM_W, BPFVM_REG_FP, -8, 0x000a6968),   /* "hi\n\0" */
	BPFVM_MOV64_REG(1, BPFVM_REG_FP),
	BPFVM_ALU64_IMM(BPFVM_ADD, 1, -8),
	BPFVM_MOV64_IMM(2, 4),
	BPFVM_CALL_HELPER(6),
	BPFVM_MOV64_IMM(0, 0),
	BPFVM_EXIT_INSN(),
};

static int traced;
static void on_trace(void *ctx, const char *text, size_t len)
{
	(void)text, (void)len;
	traced += ctx == &traced ? 1 : 100;
}

/* Run printk in an instance made with opts; how often the trace callback saw it. */
static int trace_calls(const struct bpfvm_opts *opts)
{
	struct bpfvm *vm = bpfvm__new(opts);
	BPFVM_OPTS(bpfvm_prog_opts, po, .flags = BPFVM_PROG_TRUSTED, .log = fresh_log(),
		   .license = "GPL");
	struct bpfvm_prog *p = vm ? bpfvm_prog__new(vm, printk, 7, &po) : NULL;

	traced = 0;
	if (!p)
		TEST_FAIL("bpfvm_prog__new: %s", msg);
	CHECK_EQ_INT(p ? bpfvm_prog__run(p, NULL, 0, NULL) : -1, 0);
	bpfvm__destroy(vm);
	return traced;
}

TEST(instance_opts)
{
	BIGGER(bpfvm_opts) big = { .o = { .sz = sizeof(big), .trace = on_trace, .trace_ctx = &traced } };
	BPFVM_OPTS(bpfvm_opts, full, .trace = on_trace, .trace_ctx = &traced);
	BPFVM_OPTS(bpfvm_opts, small, .trace = on_trace, .trace_ctx = &traced);

	CHECK_EQ_INT(trace_calls(&full), 1);
	CHECK_EQ_INT(trace_calls(NULL), 0);
	/* trace covered, trace_ctx not: the callback with its default, NULL */
	small.sz = OFFSETOFEND(bpfvm_opts, trace);
	CHECK_EQ_INT(trace_calls(&small), 100);
	small.sz = sizeof(size_t);
	CHECK_EQ_INT(trace_calls(&small), 0);
	CHECK_EQ_INT(trace_calls(&big.o), 1);
	big.newer[1] = 1;
	errno = 0;
	CHECK(bpfvm__new(&big.o) == NULL);
	CHECK_EQ_INT(errno, EINVAL);
	small.sz = 4;
	errno = 0;
	CHECK(bpfvm__new(&small) == NULL);
	CHECK_EQ_INT(errno, EINVAL);
}

TEST(prog_new_opts)
{
	struct bpfvm *vm = bpfvm__new(NULL);
	BPFVM_OPTS(bpfvm_prog_opts, small, .name = "small", .flags = BPFVM_PROG_TRUSTED);
	BIGGER(bpfvm_prog_opts) big = { .o = { .sz = sizeof(big), .name = "big",
					       .flags = BPFVM_PROG_TRUSTED, .log = fresh_log() } };
	BPFVM_OPTS(bpfvm_run_opts, unchecked, .mode = BPFVM_EXEC_UNCHECKED);
	struct bpfvm_prog *p;

	/* name covered, flags not: an untrusted program named "small" */
	small.sz = OFFSETOFEND(bpfvm_prog_opts, name);
	p = bpfvm_prog__new(vm, ret5, 2, &small);
	CHECK(p != NULL);
	CHECK_EQ_STR(p ? bpfvm_prog__name(p) : "", "small");
	CHECK_EQ_INT(bpfvm_prog__run(p, NULL, 0, &unchecked), -EPERM);
	p = bpfvm_prog__new(vm, ret5, 2, &big.o);
	CHECK(p != NULL);
	CHECK_EQ_INT(bpfvm_prog__run(p, NULL, 0, &unchecked), 0);
	CHECK_EQ_U64(unchecked.retval, 5);
	p = bpfvm_prog__new(vm, ret5, 2, NULL);
	CHECK_EQ_STR(p ? bpfvm_prog__name(p) : "", "prog");
	big.newer[0] = 1;
	errno = 0;
	CHECK(bpfvm_prog__new(vm, ret5, 2, &big.o) == NULL);
	CHECK_EQ_INT(errno, EINVAL);
	CHECK_REFUSED_MSG(bpfvm_prog_opts);
	small.sz = 0;
	CHECK(bpfvm_prog__new(vm, ret5, 2, &small) == NULL);
	bpfvm__destroy(vm);
}

TEST(prog_run_opts)
{
	struct bpfvm *vm = bpfvm__new(NULL);
	struct bpfvm_prog *p = bpfvm_prog__new(vm, ret5, 2, NULL);
	BPFVM_OPTS(bpfvm_run_opts, small, .retval = 77);
	BIGGER(bpfvm_run_opts) big = { .o = { .sz = sizeof(big), .log = fresh_log() } };

	/* outputs past sz stay as they were */
	small.sz = OFFSETOFEND(bpfvm_run_opts, log);
	CHECK_EQ_INT(bpfvm_prog__run(p, NULL, 0, &small), 0);
	CHECK_EQ_U64(small.retval, 77);
	small.sz = OFFSETOFEND(bpfvm_run_opts, retval);
	CHECK_EQ_INT(bpfvm_prog__run(p, NULL, 0, &small), 0);
	CHECK_EQ_U64(small.retval, 5);
	CHECK_EQ_U64(small.insns_executed, 0);
	CHECK_EQ_INT(bpfvm_prog__run(p, NULL, 0, &big.o), 0);
	CHECK_EQ_U64(big.o.retval, 5);
	CHECK_EQ_U64(big.o.insns_executed, 2);
	CHECK_EQ_INT(bpfvm_prog__run(p, NULL, 0, NULL), 0);
	big.newer[1] = 0x100;
	CHECK_EQ_INT(bpfvm_prog__run(p, NULL, 0, &big.o), -EINVAL);
	CHECK_REFUSED_MSG(bpfvm_run_opts);
	small.sz = 1;
	CHECK_EQ_INT(bpfvm_prog__run(p, NULL, 0, &small), -EINVAL);
	bpfvm__destroy(vm);
}

TEST(verify_opts)
{
	struct bpfvm *vm = bpfvm__new(NULL);
	struct bpfvm_prog *p = bpfvm_prog__new(vm, ret5, 2, NULL);
	struct bpfvm_verify_stats stats = { 0 };
	BPFVM_OPTS(bpfvm_verify_opts, small, .stats = &stats);
	BIGGER(bpfvm_verify_opts) big = { .o = { .sz = sizeof(big), .log = fresh_log(),
						 .stats = &stats } };

	/* stats not covered: not written */
	small.sz = OFFSETOFEND(bpfvm_verify_opts, log);
	CHECK_EQ_INT(bpfvm_prog__verify(p, &small), 0);
	CHECK_EQ_U64(stats.insns_processed, 0);
	CHECK(bpfvm_prog__verified(p));
	CHECK_EQ_INT(bpfvm_prog__verify(p, &big.o), 0);
	CHECK_EQ_U64(stats.insns_processed, 2);
	CHECK_EQ_INT(bpfvm_prog__verify(p, NULL), 0);
	big.newer[0] = 1;
	CHECK_EQ_INT(bpfvm_prog__verify(p, &big.o), -EINVAL);
	CHECK_REFUSED_MSG(bpfvm_verify_opts);
	bpfvm__destroy(vm);
}

TEST(jit_opts)
{
	struct bpfvm *vm = bpfvm__new(NULL);
	struct bpfvm_prog *p = bpfvm_prog__new(vm, ret5, 2, NULL);
	BPFVM_OPTS(bpfvm_jit_opts, small);
	BIGGER(bpfvm_jit_opts) big = { .o = { .sz = sizeof(big), .log = fresh_log() } };
	const void *code;
	size_t size;

	big.newer[1] = 1;
	CHECK_EQ_INT(bpfvm_prog__jit(p, &big.o), -EINVAL);
	CHECK_REFUSED_MSG(bpfvm_jit_opts);
	CHECK_EQ_INT(bpfvm_prog__jit_code(p, &code, &size), -ENOENT);
	small.sz = 2;
	CHECK_EQ_INT(bpfvm_prog__jit(p, &small), -EINVAL);
	small.sz = sizeof(size_t);
	big.newer[1] = 0;
	CHECK_EQ_INT(bpfvm_prog__jit(p, &small), 0);
	CHECK_EQ_INT(bpfvm_prog__jit(p, &big.o), 0);
	CHECK_EQ_INT(bpfvm_prog__jit(p, NULL), 0);
	CHECK_EQ_INT(bpfvm_prog__jit_code(p, &code, &size), 0);
	bpfvm__destroy(vm);
}

TEST(asm_opts)
{
	BPFVM_OPTS(bpfvm_asm_opts, small, .filename = "small.s", .log = fresh_log());
	BIGGER(bpfvm_asm_opts) big = { .o = { .sz = sizeof(big), .filename = "big.s",
					      .log = &log_ } };
	struct bpfvm_insn *insns = NULL;
	size_t cnt = 0;

	/* filename covered, log not: no message */
	small.sz = OFFSETOFEND(bpfvm_asm_opts, filename);
	CHECK_EQ_INT(bpfvm_asm("bad", 3, &insns, &cnt, &small), -EINVAL);
	CHECK_EQ_STR(msg, "");
	CHECK_EQ_INT(bpfvm_asm("bad", 3, &insns, &cnt, &big.o), -EINVAL);
	CHECK_CONTAINS(msg, "big.s:1:");
	CHECK_EQ_INT(bpfvm_asm("r0 = 1\nexit", 11, &insns, &cnt, NULL), 0);
	CHECK_EQ_U64(cnt, 2);
	free(insns);
	big.newer[1] = 1;
	fresh_log();
	CHECK_EQ_INT(bpfvm_asm("r0 = 1\nexit", 11, &insns, &cnt, &big.o), -EINVAL);
	CHECK_REFUSED_MSG(bpfvm_asm_opts);
}

TEST(map_opts)
{
	struct bpfvm *vm = bpfvm__new(NULL);
	BPFVM_OPTS(bpfvm_map_opts, small, .name = "small", .map_flags = BPFVM_F_RDONLY);
	BIGGER(bpfvm_map_opts) big = { .o = { .sz = sizeof(big), .map_flags = BPFVM_F_RDONLY,
					      .log = fresh_log() } };
	struct bpfvm_map *m;
	uint32_t k = 0;
	uint64_t v = 1;

	/* name covered, map_flags not: a writable map */
	small.sz = OFFSETOFEND(bpfvm_map_opts, name);
	m = bpfvm_map__new(vm, BPFVM_MAP_TYPE_ARRAY, 4, 8, 1, &small);
	CHECK_EQ_STR(m ? bpfvm_map__name(m) : "", "small");
	CHECK_EQ_INT(bpfvm_map__update_elem(m, &k, &v, BPFVM_ANY), 0);
	m = bpfvm_map__new(vm, BPFVM_MAP_TYPE_ARRAY, 4, 8, 1, &big.o);
	CHECK(m != NULL);
	CHECK_EQ_INT(bpfvm_map__update_elem(m, &k, &v, BPFVM_ANY), -EPERM);
	m = bpfvm_map__new(vm, BPFVM_MAP_TYPE_ARRAY, 4, 8, 1, NULL);
	CHECK_EQ_INT(bpfvm_map__update_elem(m, &k, &v, BPFVM_ANY), 0);
	big.newer[0] = 1;
	errno = 0;
	CHECK(bpfvm_map__new(vm, BPFVM_MAP_TYPE_ARRAY, 4, 8, 1, &big.o) == NULL);
	CHECK_EQ_INT(errno, EINVAL);
	CHECK_REFUSED_MSG(bpfvm_map_opts);
	bpfvm__destroy(vm);
}

TEST(test_run_opts)
{
	struct bpfvm *vm = bpfvm__new(NULL);
	BPFVM_OPTS(bpfvm_prog_opts, po, .prog_type = 17 /* BPF_PROG_TYPE_RAW_TRACEPOINT */,
		   .flags = BPFVM_PROG_TRUSTED);
	struct bpfvm_prog *p = bpfvm_prog__new(vm, ret5, 2, &po);
	uint64_t args[2] = { 1, 2 };
	BPFVM_OPTS(bpfvm_test_run_opts, small, .ctx_in = args, .ctx_size_in = sizeof(args),
		   .retval = 77);
	BIGGER(bpfvm_test_run_opts) big = { .o = { .sz = sizeof(big), .ctx_in = args,
						   .ctx_size_in = sizeof(args),
						   .log = fresh_log() } };

	small.sz = OFFSETOFEND(bpfvm_test_run_opts, log);
	CHECK_EQ_INT(bpfvm_prog__test_run(p, &small), 0);
	CHECK_EQ_U64(small.retval, 77);
	small.sz = OFFSETOFEND(bpfvm_test_run_opts, retval);
	CHECK_EQ_INT(bpfvm_prog__test_run(p, &small), 0);
	CHECK_EQ_U64(small.retval, 5);
	CHECK_EQ_INT(bpfvm_prog__test_run(p, &big.o), 0);
	CHECK_EQ_U64(big.o.retval, 5);
	CHECK_EQ_INT(bpfvm_prog__test_run(p, NULL), 0);
	big.newer[1] = 1;
	CHECK_EQ_INT(bpfvm_prog__test_run(p, &big.o), -EINVAL);
	CHECK_REFUSED_MSG(bpfvm_test_run_opts);
	bpfvm__destroy(vm);
}

TEST(trace_opts)
{
	BPFVM_OPTS(bpfvm_trace_opts, small, .mode = BPFVM_EXEC_CHECKED);
	BIGGER(bpfvm_trace_opts) big = { .o = { .sz = sizeof(big), .log = fresh_log() } };
	struct bpfvm_trace *t;

	small.sz = OFFSETOFEND(bpfvm_trace_opts, mode);
	t = bpfvm_trace__new(&small);
	CHECK(t != NULL);
	bpfvm_trace__destroy(t);
	t = bpfvm_trace__new(&big.o);
	CHECK(t != NULL);
	bpfvm_trace__destroy(t);
	t = bpfvm_trace__new(NULL);
	CHECK(t != NULL);
	bpfvm_trace__destroy(t);
	big.newer[0] = 1;
	errno = 0;
	CHECK(bpfvm_trace__new(&big.o) == NULL);
	CHECK_EQ_INT(errno, EINVAL);
	CHECK_REFUSED_MSG(bpfvm_trace_opts);
}

static const char *tiny_obj(void)
{
	return build("opts_obj", "struct event { int pid; char comm[4]; } ev;\n"
				 "SEC(\"xdp\") int pass(void *ctx) { ev.pid = 1; return 2; }\n"
				 "char LICENSE[] SEC(\"license\") = \"GPL\";\n",
		     "-g");
}

TEST(object_open_opts)
{
	const char *path;
	BPFVM_OPTS(bpfvm_object_open_opts, small, .object_name = "small", .vm = NULL);
	BIGGER(bpfvm_object_open_opts) big = { .o = { .sz = sizeof(big), .object_name = "big",
						      .log = fresh_log() } };
	struct bpfvm_object *obj;

	SKIP_IF_NO_CLANG();
	CHECK((path = tiny_obj()) != NULL);
	if (!path)
		return;
	small.sz = OFFSETOFEND(bpfvm_object_open_opts, object_name);
	obj = bpfvm_object__open_file(path, &small);
	CHECK_EQ_STR(obj ? bpfvm_object__name(obj) : "", "small");
	bpfvm_object__destroy(obj);
	small.sz = sizeof(size_t);
	obj = bpfvm_object__open_file(path, &small);
	CHECK_EQ_STR(obj ? bpfvm_object__name(obj) : "", "opts_obj");
	bpfvm_object__destroy(obj);
	obj = bpfvm_object__open_file(path, &big.o);
	CHECK_EQ_STR(obj ? bpfvm_object__name(obj) : "", "big");
	bpfvm_object__destroy(obj);
	obj = bpfvm_object__open_file(path, NULL);
	CHECK_EQ_STR(obj ? bpfvm_object__name(obj) : "", "opts_obj");
	bpfvm_object__destroy(obj);
	big.newer[1] = 1;
	errno = 0;
	CHECK(bpfvm_object__open_file(path, &big.o) == NULL);
	CHECK_EQ_INT(errno, EINVAL);
	CHECK_REFUSED_MSG(bpfvm_object_open_opts);
	fresh_log();
	errno = 0;
	CHECK(bpfvm_object__open_mem("x", 1, &big.o) == NULL);
	CHECK_EQ_INT(errno, EINVAL);
	CHECK_REFUSED_MSG(bpfvm_object_open_opts);
}

static char dumped[256];
static void print(void *ctx, const char *text, size_t len)
{
	size_t have = strlen(dumped);

	(void)ctx;
	if (have + len < sizeof(dumped)) {
		memcpy(dumped + have, text, len);
		dumped[have + len] = '\0';
	}
}

TEST(btf_dump_opts)
{
	struct { int pid; char comm[4]; } ev = { 7, "ab" };
	BPFVM_OPTS(bpfvm_btf_dump_opts, small, .json = true);
	BIGGER(bpfvm_btf_dump_opts) big = { .o = { .sz = sizeof(big), .json = true } };
	struct bpfvm_btf_map_entry e = { .value = &ev, .value_size = sizeof(ev) };
	const struct bpfvm_btf *btf;
	struct bpfvm_object *obj;
	const char *path;
	int id;

	SKIP_IF_NO_CLANG();
	CHECK((path = tiny_obj()) != NULL);
	obj = path ? bpfvm_object__open_file(path, NULL) : NULL;
	btf = obj ? bpfvm_object__btf(obj) : NULL;
	CHECK(btf != NULL);
	if (!btf)
		goto out;
	e.value_type_id = id = bpfvm_btf__find_type(btf, "event");
	CHECK(id > 0);
	/* json not covered: the plain text */
	small.sz = sizeof(size_t);
	dumped[0] = '\0';
	CHECK_EQ_INT(bpfvm_btf__dump_data(btf, id, &ev, sizeof(ev), print, NULL, &small), 0);
	CHECK(dumped[0] == '{' && strchr(dumped, '\n') != NULL);
	dumped[0] = '\0';
	CHECK_EQ_INT(bpfvm_btf__dump_data(btf, id, &ev, sizeof(ev), print, NULL, &big.o), 0);
	CHECK_EQ_STR(dumped, "{\"pid\":7,\"comm\":\"ab\"}");
	dumped[0] = '\0';
	CHECK_EQ_INT(bpfvm_btf__dump_data(btf, id, &ev, sizeof(ev), print, NULL, NULL), 0);
	CHECK(strchr(dumped, '\n') != NULL);
	big.newer[0] = 1;
	CHECK_EQ_INT(bpfvm_btf__dump_data(btf, id, &ev, sizeof(ev), print, NULL, &big.o), -EINVAL);
	CHECK_EQ_INT(bpfvm_btf__dump_map_entry(btf, &e, print, NULL, &big.o), -EINVAL);
	big.newer[0] = 0;
	CHECK_EQ_INT(bpfvm_btf__dump_map_entry(btf, &e, print, NULL, &big.o), 0);
	small.sz = 3;
	CHECK_EQ_INT(bpfvm_btf__dump_map_entry(btf, &e, print, NULL, &small), -EINVAL);
out:
	bpfvm_object__destroy(obj);
}

/* The classic BPF functions (one options struct for all) and the embedded-object selector. */
TEST(cbpf_opts)
{
	/* ld #1 with no return after it: bpf_check_classic refuses it. */
	const struct bpfvm_sock_filter bad[] = { { 0x00, 0, 0, 1 } };
	const struct bpfvm_sock_filter good[] = { { 0x06, 0, 0, 0xffff } };
	BPFVM_OPTS(bpfvm_cbpf_opts, small, .log = fresh_log());
	BIGGER(bpfvm_cbpf_opts) big = { .o = { .sz = sizeof(big), .log = &log_ } };

	/* log not covered: refused without a message */
	small.sz = sizeof(size_t);
	CHECK_EQ_INT(bpfvm_cbpf_check(bad, 1, &small), -EINVAL);
	CHECK_EQ_STR(msg, "");
	CHECK_EQ_INT(bpfvm_cbpf_check(bad, 1, &big.o), -EINVAL);
	CHECK_CONTAINS(msg, "instruction");
	CHECK_EQ_INT(bpfvm_cbpf_check(good, 1, NULL), 0);
	CHECK_EQ_INT(bpfvm_cbpf_check(good, 1, &big.o), 0);
	big.newer[0] = 1;
	fresh_log();
	CHECK_EQ_INT(bpfvm_cbpf_check(good, 1, &big.o), -EINVAL);
	CHECK_REFUSED_MSG(bpfvm_cbpf_opts);
	small.sz = 1;
	CHECK_EQ_INT(bpfvm_cbpf_check(good, 1, &small), -EINVAL);
}

TEST(embedded_select_opts)
{
	static const char not_elf[] = "not an object";
	BIGGER(bpfvm_embedded_select_opts) big = { .o = { .sz = sizeof(big), .log = fresh_log() } };
	size_t off = 1, len = 0;

	/* Not ELF: its own object 0, whatever the options. */
	CHECK_EQ_INT(bpfvm_embedded_object__select(not_elf, sizeof(not_elf), "x", 0, NULL, &off,
						   &len), 0);
	CHECK_EQ_U64(off, 0);
	CHECK_EQ_U64(len, sizeof(not_elf));
	CHECK_EQ_INT(bpfvm_embedded_object__select(not_elf, sizeof(not_elf), "x", 0, &big.o, &off,
						   &len), 0);
	big.newer[1] = 7;
	CHECK_EQ_INT(bpfvm_embedded_object__select(not_elf, sizeof(not_elf), "x", 0, &big.o, &off,
						   &len), -EINVAL);
	CHECK_REFUSED_MSG(bpfvm_embedded_select_opts);
}

TEST_MAIN()
