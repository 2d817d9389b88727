/*
 * test_btf_dump.c - values printed through BTF (bpfvm/btf.h) as `bpftool
 * map dump` prints them: the types are declared once (SHAPES below), built
 * into an object by clang -target bpf -g for their BTF and compiled here
 * for the values, which have the same layout on both targets.  Every
 * shape is checked whole, in bpftool's plain layout and in JSON: integers
 * of each size at their extremes, char arrays (strings, and arrays that
 * are not strings), nested structs, arrays of structs, enums by name and
 * by number, bitfields, pointers, bools, unions, a data section; then the
 * choice of a record's type by size, and bad input (short data, types
 * without values, BTF whose offsets lie).  Skips without clang-19.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpfvm/btf.h>
#include <bpfvm/object.h>

#include "btf/btf.h"
#include "test.h"

#define STR_(...) #__VA_ARGS__
#define STR(...) STR_(__VA_ARGS__)
#define SHAPES                                                                        \
	enum state { ST_IDLE = 0, ST_RUN = 1, ST_DONE = 7 };                          \
	enum sign { NEG = -2, POS = 2 };                                              \
	struct ints { signed char s8; unsigned char u8; short s16; unsigned short u16; \
		      int s32; unsigned int u32; long long s64; unsigned long long u64; }; \
	struct point { short x; unsigned short y; };                                  \
	typedef char tchar;                                                           \
	struct texts { char name[8]; char full[4]; char odd[4]; char empty[4];        \
		       tchar typed[4]; unsigned char bytes[3]; char c; };            \
	struct shape { struct point at; struct point path[2]; int grid[2][2]; };      \
	struct flags { unsigned int a : 1, b : 3, c : 12; int neg : 4;                \
		       unsigned long long wide : 40; unsigned char last; };          \
	struct misc { enum state st; enum state unknown; enum sign sg; void *p;      \
		      void *null; _Bool yes; _Bool no; __int128 big; };              \
	union either { unsigned int u; unsigned char b[4]; };                         \
	struct event { int pid; char comm[8]; };                                      \
	struct pair_a { int x, y; };                                                  \
	struct pair_b { int u, v; };

SHAPES

static const char shapes_src[] = STR(SHAPES)
	"\nstruct ints v_ints; struct texts v_texts; struct shape v_shape;"
	"struct flags v_flags; struct misc v_misc; union either v_either;"
	"struct event v_event; struct pair_a v_pa; struct pair_b v_pb;"
	"int counter = 5; struct point origin = { -1, 2 };"
	"\nchar LICENSE[] __attribute__((section(\"license\"))) = \"GPL\";\n";

static char tmpdir[64];

static void remove_tmpdir(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd))
		fprintf(stderr, "could not remove %s\n", tmpdir);
}

/* The object with SHAPES' BTF, built once; NULL without clang-19. */
static struct bpfvm_object *shapes(void)
{
	static struct bpfvm_object *obj;
	static bool tried;
	char path[128], cmd[512];
	FILE *f;

	if (tried)
		return obj;
	tried = true;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/bpfvm_btf_dump_XXXXXX");
	if (system("command -v clang-19 >/dev/null 2>&1") || !mkdtemp(tmpdir))
		return NULL;
	atexit(remove_tmpdir);
	snprintf(path, sizeof(path), "%s/shapes.c", tmpdir);
	if (!(f = fopen(path, "w")))
		return NULL;
	fputs(shapes_src, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "clang-19 -O2 -g -target bpf -c %s -o %s/shapes.o", path, tmpdir);
	if (system(cmd))
		return NULL;
	snprintf(path, sizeof(path), "%s/shapes.o", tmpdir);
	obj = bpfvm_object__open_file(path, NULL);
	return obj;
}

#define SKIP_IF_NO_CLANG()                                                             \
	do {                                                                           \
		if (!shapes()) {                                                       \
			printf("SKIP %s: clang-19 missing\n", test_current_name());    \
			return;                                                        \
		}                                                                      \
	} while (0)

struct text {
	char buf[8192];
	size_t len;
};

static void collect(void *ctx, const char *s, size_t n)
{
	struct text *t = ctx;

	if (n > sizeof(t->buf) - 1 - t->len)
		n = sizeof(t->buf) - 1 - t->len;
	memcpy(t->buf + t->len, s, n);
	t->len += n;
	t->buf[t->len] = '\0';
}

/* data as the type named name: the text (static), or "error N". */
static const char *dump(const char *name, const void *data, size_t size, bool json)
{
	static struct text t;
	const struct bpfvm_btf *btf = bpfvm_object__btf(shapes());
	int id = bpfvm_btf__find_type(btf, name);
	BPFVM_OPTS(bpfvm_btf_dump_opts, o, .json = json);
	int err;

	t.len = 0;
	t.buf[0] = '\0';
	if (id < 0) {
		snprintf(t.buf, sizeof(t.buf), "no type %s", name);
		return t.buf;
	}
	err = bpfvm_btf__dump_data(btf, (uint32_t)id, data, size, collect, &t, &o);
	if (err)
		snprintf(t.buf, sizeof(t.buf), "error %d", err);
	return t.buf;
}

TEST(ints_of_every_size)
{
	struct ints lo = { -128, 0, -32768, 0, INT32_MIN, 0, INT64_MIN, 0 };
	struct ints hi = { 127, 255, 32767, 65535, INT32_MAX, UINT32_MAX, INT64_MAX, UINT64_MAX };

	SKIP_IF_NO_CLANG();
	CHECK_STR(dump("struct ints", &lo, sizeof(lo), false),
		  "{\n    \"s8\": -128,\n    \"u8\": 0,\n    \"s16\": -32768,\n    \"u16\": 0,\n"
		  "    \"s32\": -2147483648,\n    \"u32\": 0,\n    \"s64\": -9223372036854775808,\n"
		  "    \"u64\": 0\n}");
	CHECK_STR(dump("struct ints", &hi, sizeof(hi), true),
		  "{\"s8\":127,\"u8\":255,\"s16\":32767,\"u16\":65535,\"s32\":2147483647,"
		  "\"u32\":4294967295,\"s64\":9223372036854775807,\"u64\":18446744073709551615}");
}

TEST(char_arrays)
{
	struct texts t = { "bash", { 'a', 'b', 'c', 'd' }, { 'x', 7, 0, 0 }, "", "ok", { 1, 2, 3 }, 'Q' };

	SKIP_IF_NO_CLANG();
	/* a string needs its NUL within the array, and nothing unprintable before it;
	 * a typedef of char is not char (bpftool's rule); a lone char is a number */
	CHECK_STR(dump("struct texts", &t, sizeof(t), true),
		  "{\"name\":\"bash\",\"full\":[97,98,99,100],\"odd\":[120,7,0,0],\"empty\":\"\","
		  "\"typed\":[111,107,0,0],\"bytes\":[1,2,3],\"c\":81}");
	CHECK_STR(dump("struct texts", &t, sizeof(t), false),
		  "{\n    \"name\": \"bash\",\n    \"full\": [97,98,99,100\n    ],\n"
		  "    \"odd\": [120,7,0,0\n    ],\n    \"empty\": \"\",\n"
		  "    \"typed\": [111,107,0,0\n    ],\n    \"bytes\": [1,2,3\n    ],\n    \"c\": 81\n}");
}

TEST(nested_structs_and_arrays_of_them)
{
	struct shape s = { { -3, 4 }, { { 10, 0 }, { 0, 20 } }, { { 1, 2 }, { 3, 4 } } };

	SKIP_IF_NO_CLANG();
	CHECK_STR(dump("struct shape", &s, sizeof(s), false),
		  "{\n    \"at\": {\n        \"x\": -3,\n        \"y\": 4\n    },\n"
		  "    \"path\": [{\n            \"x\": 10,\n            \"y\": 0\n        },{\n"
		  "            \"x\": 0,\n            \"y\": 20\n        }\n    ],\n"
		  "    \"grid\": [[1,2\n        ],[3,4\n        ]\n    ]\n}");
	CHECK_STR(dump("struct shape", &s, sizeof(s), true),
		  "{\"at\":{\"x\":-3,\"y\":4},\"path\":[{\"x\":10,\"y\":0},{\"x\":0,\"y\":20}],"
		  "\"grid\":[[1,2],[3,4]]}");
}

TEST(bitfields_in_hex)
{
	struct flags f = { 1, 5, 0xabc, -3, 0xfedcba9876ull, 200 };

	SKIP_IF_NO_CLANG();
	/* bpftool prints a bitfield's bits as they are: -3 in 4 bits is 0xd */
	CHECK_STR(dump("struct flags", &f, sizeof(f), false),
		  "{\n    \"a\": 0x1,\n    \"b\": 0x5,\n    \"c\": 0xabc,\n    \"neg\": 0xd,\n"
		  "    \"wide\": 0xfedcba9876,\n    \"last\": 200\n}");
	CHECK_STR(dump("struct flags", &f, sizeof(f), true),
		  "{\"a\":\"0x1\",\"b\":\"0x5\",\"c\":\"0xabc\",\"neg\":\"0xd\","
		  "\"wide\":\"0xfedcba9876\",\"last\":200}");
}

TEST(enums_pointers_bools_int128)
{
	struct misc m = { ST_DONE, (enum state)42, NEG, (void *)0xffff888012345678ull, NULL, 1, 0,
			  ((__int128)0x1234 << 64) | 0xabcd };

	SKIP_IF_NO_CLANG();
	CHECK_STR(dump("struct misc", &m, sizeof(m), false),
		  "{\n    \"st\": \"ST_DONE\",\n    \"unknown\": 42,\n    \"sg\": \"NEG\",\n"
		  "    \"p\": \"0xffff888012345678\",\n    \"null\": \"0x0\",\n    \"yes\": true,\n"
		  "    \"no\": false,\n    \"big\": 0x1234000000000000abcd\n}");
	CHECK_STR(dump("struct misc", &m, sizeof(m), true),
		  "{\"st\":\"ST_DONE\",\"unknown\":42,\"sg\":\"NEG\",\"p\":\"0xffff888012345678\","
		  "\"null\":\"0x0\",\"yes\":true,\"no\":false,\"big\":\"0x1234000000000000abcd\"}");
}

TEST(unions_show_every_member)
{
	union either e = { .u = 0x64636261 };

	SKIP_IF_NO_CLANG();
	CHECK_STR(dump("union either", &e, sizeof(e), true), "{\"u\":1684234849,\"b\":[97,98,99,100]}");
	CHECK_STR(dump("either", &e, sizeof(e), true), "{\"u\":1684234849,\"b\":[97,98,99,100]}");
}

TEST(data_sections_by_variable)
{
	const struct bpfvm_btf *btf;
	struct text t = { .len = 0 };
	BPFVM_OPTS(bpfvm_btf_dump_opts, o, .json = true);
	uint8_t sec[64] = { 0 };
	uint32_t key = 0;
	size_t i;

	SKIP_IF_NO_CLANG();
	btf = bpfvm_object__btf(shapes());
	for (i = 0; i < bpfvm_object__map_cnt(shapes()); i++)
		if (!strcmp(bpfvm_object__map_desc(shapes(), i)->section, ".data"))
			break;
	CHECK(i < bpfvm_object__map_cnt(shapes()));
	if (i == bpfvm_object__map_cnt(shapes()))
		return;
	/* the loader set the DATASEC's size and offsets as libbpf does */
	CHECK_EQ_U64(bpfvm_btf__type_size(btf, bpfvm_object__map_desc(shapes(), i)->btf_value_type_id),
		     bpfvm_object__map_desc(shapes(), i)->value_size);
	CHECK(bpfvm_object__map(shapes(), i) ||  bpfvm_object__load(shapes()) == 0);
	CHECK(bpfvm_map__lookup_elem(bpfvm_object__map(shapes(), i), &key, sec, 0) == 0);
	CHECK(bpfvm_btf__dump_data(btf, bpfvm_object__map_desc(shapes(), i)->btf_value_type_id, sec,
				   bpfvm_object__map_desc(shapes(), i)->value_size, collect, &t, &o) == 0);
	CHECK_CONTAINS(t.buf, "{\".data\":[");
	CHECK_CONTAINS(t.buf, "{\"counter\":5}");
	CHECK_CONTAINS(t.buf, "{\"origin\":{\"x\":-1,\"y\":2}}");
}

TEST(record_type_by_size)
{
	const struct bpfvm_btf *btf;
	char why[256] = "", name[64];
	int id;

	SKIP_IF_NO_CLANG();
	btf = bpfvm_object__btf(shapes());
	/* struct event (12 bytes) wins over the other 12-byte structs */
	id = bpfvm_btf__record_type(btf, sizeof(struct event), why, sizeof(why));
	CHECK(id > 0);
	bpfvm_btf__type_name(btf, (uint32_t)(id > 0 ? id : 0), name, sizeof(name));
	CHECK_STR(name, "struct event");
	/* the only struct of its size */
	id = bpfvm_btf__record_type(btf, sizeof(struct ints), why, sizeof(why));
	bpfvm_btf__type_name(btf, (uint32_t)(id > 0 ? id : 0), name, sizeof(name));
	CHECK_STR(name, "struct ints");
	/* pair_a and pair_b are both 8 bytes */
	CHECK_EQ_INT(bpfvm_btf__record_type(btf, 8, why, sizeof(why)), -ENOTUNIQ);
	CHECK_CONTAINS(why, "2 structs in the object's BTF are 8 bytes");
	CHECK_CONTAINS(why, "struct pair_a");
	CHECK_CONTAINS(why, "struct pair_b");
	CHECK_EQ_INT(bpfvm_btf__record_type(btf, 3, why, sizeof(why)), -ENOENT);
	CHECK_CONTAINS(why, "no struct in the object's BTF is 3 bytes (struct event is not)");
	CHECK_EQ_INT(bpfvm_btf__record_type(NULL, 3, why, sizeof(why)), -ENOENT);
	CHECK_STR(why, "the object has no BTF");
}

TEST(bad_input_is_refused)
{
	const struct bpfvm_btf *btf;
	struct text t = { .len = 0 };
	struct ints v = { 0 };

	SKIP_IF_NO_CLANG();
	btf = bpfvm_object__btf(shapes());
	CHECK_STR(dump("struct ints", &v, sizeof(v) - 1, false), "error -7");   /* -E2BIG */
	CHECK_STR(dump("struct nosuch", &v, sizeof(v), false), "no type struct nosuch");
	CHECK_EQ_INT(bpfvm_btf__find_type(btf, "union ints"), -ENOENT);
	CHECK_EQ_INT(bpfvm_btf__dump_data(btf, 0, &v, sizeof(v), collect, &t, NULL), -EINVAL);
	CHECK_EQ_INT(bpfvm_btf__dump_data(btf, 1, NULL, 8, collect, &t, NULL), -EINVAL);
	CHECK_EQ_INT(bpfvm_btf__dump_data(NULL, 1, &v, sizeof(v), collect, &t, NULL), -EINVAL);
	CHECK(t.len == 0);
}

/*
 * BTF by hand: int (id 1), and a 4-byte struct (id 2) whose second member
 * claims to lie at bit 1000.  The parser may refuse it; if it does not,
 * printing must not read past the 4 bytes given (ASan watches).
 */
TEST(lying_offsets_stay_inside_the_data)
{
#define INFO(kind, vlen) ((uint32_t)(kind) << 24 | (vlen))
	struct {
		struct btf_header h;
		uint32_t types[13];
		char strs[8];
	} raw = {
		{ BTF_MAGIC, 1, 0, sizeof(struct btf_header), 0, 52, 52, 8 },
		{ 1, INFO(BTF_KIND_INT, 0), 4, 32,
		  3, INFO(BTF_KIND_STRUCT, 2), 4, 5, 1, 0, 5, 1, 1000 },
		"\0i\0s\0m",
	};
#undef INFO
	struct text t = { .len = 0 };
	uint32_t *value = malloc(4);
	struct btf *b = btf_parse(&raw, sizeof(raw), "hand-made", NULL);

	if (!b || !value) {
		printf("SKIP %s: the parser refuses the hand-made BTF\n", test_current_name());
		free(value);
		btf_free(b);
		return;
	}
	*value = 7;
	CHECK_EQ_INT(bpfvm_btf__dump_data((const struct bpfvm_btf *)b, 2, value, 4, collect, &t,
					  NULL), -EINVAL);
	free(value);
	btf_free(b);
}

TEST_MAIN()
