/*
 * test_btf.c - BTF parsing, .BTF.ext parsing and CO-RE resolution, on BTF
 * built here type by type: well-formed data answers queries right,
 * malformed data is refused with a message naming what is wrong, and
 * CO-RE relocations find fields moved, resized, renamed away or nested
 * in anonymous members of the target.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "btf/btf.h"
#include "test.h"

/* ---- a small BTF writer ------------------------------------------------------ */

struct bb {
	uint32_t types[512];
	size_t ntw;            /* words used */
	char strs[1024];
	size_t slen;
	uint32_t next_id;
};

static void bb_init(struct bb *b)
{
	memset(b, 0, sizeof(*b));
	b->slen = 1; /* the empty string */
	b->next_id = 1;
}

static uint32_t bb_str(struct bb *b, const char *s)
{
	uint32_t off = (uint32_t)b->slen;

	if (!*s)
		return 0;
	memcpy(b->strs + b->slen, s, strlen(s) + 1);
	b->slen += strlen(s) + 1;
	return off;
}

static void bb_w(struct bb *b, uint32_t w)
{
	b->types[b->ntw++] = w;
}

static uint32_t bb_type(struct bb *b, const char *name, unsigned kind, unsigned vlen, bool kflag,
			uint32_t size_or_type)
{
	bb_w(b, bb_str(b, name));
	bb_w(b, (uint32_t)kind << 24 | vlen | (uint32_t)kflag << 31);
	bb_w(b, size_or_type);
	return b->next_id++;
}

static uint32_t bb_int(struct bb *b, const char *name, uint32_t size, bool sign)
{
	uint32_t id = bb_type(b, name, BTF_KIND_INT, 0, false, size);

	bb_w(b, (sign ? BTF_INT_SIGNED : 0) << 24 | size * 8);
	return id;
}

static void bb_member(struct bb *b, const char *name, uint32_t type, uint32_t bit_off)
{
	bb_w(b, bb_str(b, name));
	bb_w(b, type);
	bb_w(b, bit_off);
}

static size_t bb_blob(const struct bb *b, uint8_t *out)
{
	struct btf_header h = {
		.magic = BTF_MAGIC, .version = BTF_VERSION, .hdr_len = sizeof(h),
		.type_off = 0, .type_len = (uint32_t)(b->ntw * 4),
		.str_off = (uint32_t)(b->ntw * 4), .str_len = (uint32_t)b->slen,
	};

	memcpy(out, &h, sizeof(h));
	memcpy(out + sizeof(h), b->types, b->ntw * 4);
	memcpy(out + sizeof(h) + b->ntw * 4, b->strs, b->slen);
	return sizeof(h) + b->ntw * 4 + b->slen;
}

static struct btf *bb_parse(const struct bb *b, char *msg, size_t msgsz)
{
	static uint8_t blob[8192];
	struct bpfvm_log log = { msg, msgsz, 0 };
	size_t n = bb_blob(b, blob);

	msg[0] = '\0';
	return btf_parse(blob, n, ".BTF", &log);
}

/* struct task { int pid; int tgid; }  (local view)  */
static void local_types(struct bb *b)
{
	uint32_t i = bb_int(b, "int", 4, true);        /* 1 */
	bb_type(b, "task", BTF_KIND_STRUCT, 2, false, 8); /* 2 */
	bb_member(b, "pid", i, 0);
	bb_member(b, "tgid", i, 32);
}

/* ---- parsing ------------------------------------------------------------------ */

TEST(parse_valid)
{
	struct bb b;
	char msg[256];
	struct btf *btf;

	bb_init(&b);
	local_types(&b);
	bb_type(&b, "task_t", BTF_KIND_TYPEDEF, 0, false, 2);   /* 3 */
	bb_type(&b, "", BTF_KIND_ARRAY, 0, false, 0);           /* 4: task[3] */
	bb_w(&b, 2), bb_w(&b, 1), bb_w(&b, 3);
	btf = bb_parse(&b, msg, sizeof(msg));
	CHECK(btf != NULL);
	if (!btf)
		return;
	CHECK_EQ_INT(btf_type_cnt(btf), 5);
	CHECK_STR(btf_name(btf, btf_type(btf, 2)), "task");
	CHECK_EQ_INT(btf_type_size(btf, 3), 8);
	CHECK_EQ_INT(btf_type_size(btf, 4), 24);
	CHECK_EQ_INT(btf_skip_mods(btf, 3), 2);
	CHECK_EQ_INT(btf_find(btf, "task", BTF_KIND_STRUCT), 2);
	CHECK_EQ_INT(btf_type_align(btf, 4), 4);
	btf_free(btf);
}

TEST(parse_refuses_malformed)
{
	static const struct {
		const char *what;
		int corrupt;
		const char *msg;
	} cases[] = {
		{ "bad magic", 0, "bad BTF magic" },
		{ "type cut short", 1, "cut short" },
		{ "dangling type id", 2, "refers to a name or type that does not exist" },
		{ "unknown kind", 3, "unknown kind" },
		{ "string section without NUL", 4, "string section" },
	};

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct bb b;
		uint8_t blob[8192];
		char msg[256] = "";
		struct bpfvm_log log = { msg, sizeof(msg), 0 };
		size_t n;
		struct btf *btf;

		bb_init(&b);
		local_types(&b);
		bb_type(&b, "p", BTF_KIND_PTR, 0, false, 2);
		n = bb_blob(&b, blob);
		switch (cases[c].corrupt) {
		case 0: blob[0] ^= 0xff; break;
		case 1: ((struct btf_header *)blob)->type_len -= 4; n -= 0; break;
		case 2: memcpy(blob + n - b.slen - 4, &(uint32_t){ 77 }, 4); break;
		case 3: blob[sizeof(struct btf_header) + 7] = 0x1f; break;
		case 4: blob[n - 1] = 'x'; break;
		}
		btf = btf_parse(blob, n, ".BTF", &log);
		if (btf)
			TEST_FAIL("%s: parsed", cases[c].what);
		CHECK_CONTAINS(msg, cases[c].msg);
		CHECK_CONTAINS(msg, ".BTF");
		btf_free(btf);
	}
}

TEST(parse_every_truncation)
{
	struct bb b;
	uint8_t blob[8192];
	size_t n;

	bb_init(&b);
	local_types(&b);
	n = bb_blob(&b, blob);
	for (size_t len = 0; len < n; len++) {
		struct btf *btf = btf_parse(blob, len, ".BTF", NULL);

		if (btf && len < n - 1)
			TEST_FAIL("truncated to %zu bytes of %zu: parsed", len, n);
		btf_free(btf);
	}
}

TEST(typedef_cycle_has_no_size)
{
	struct bb b;
	char msg[256];
	struct btf *btf;

	bb_init(&b);
	bb_type(&b, "a", BTF_KIND_TYPEDEF, 0, false, 2);
	bb_type(&b, "b", BTF_KIND_TYPEDEF, 0, false, 1);
	btf = bb_parse(&b, msg, sizeof(msg));
	CHECK(btf != NULL);
	if (btf)
		CHECK(btf_type_size(btf, 1) < 0);
	btf_free(btf);
}

/* ---- CO-RE ------------------------------------------------------------------------ */

/* target: struct task { long pad; int tgid; struct { int pid; }; unsigned flags:3; } */
static struct btf *target_btf(void)
{
	struct bb b;
	char msg[256];
	uint32_t i, l, u, anon;

	bb_init(&b);
	i = bb_int(&b, "int", 4, true);              /* 1 */
	l = bb_int(&b, "long", 8, true);             /* 2 */
	u = bb_int(&b, "unsigned int", 4, false);    /* 3 */
	anon = bb_type(&b, "", BTF_KIND_STRUCT, 1, false, 4); /* 4 */
	bb_member(&b, "pid", i, 0);
	bb_type(&b, "task", BTF_KIND_STRUCT, 4, true, 24);    /* 5 */
	bb_member(&b, "pad", l, 0);
	bb_member(&b, "tgid", i, 64);
	bb_member(&b, "", anon, 96);
	bb_member(&b, "flags", u, 3u << 24 | 128);
	return bb_parse(&b, msg, sizeof(msg));
}

/* local: struct task___old { int pid; int tgid; unsigned flags:3; int gone; } */
static struct btf *local_btf(void)
{
	struct bb b;
	char msg[256];
	uint32_t i, u;

	bb_init(&b);
	i = bb_int(&b, "int", 4, true);              /* 1 */
	u = bb_int(&b, "unsigned int", 4, false);    /* 2 */
	bb_type(&b, "task___old", BTF_KIND_STRUCT, 4, true, 16); /* 3 */
	bb_member(&b, "pid", i, 0);
	bb_member(&b, "tgid", i, 32);
	bb_member(&b, "flags", u, 3u << 24 | 64);
	bb_member(&b, "gone", i, 96);
	return bb_parse(&b, msg, sizeof(msg));
}

TEST(core_field_offsets)
{
	struct btf *local = local_btf(), *target = target_btf();
	struct btf_core_res res;
	char msg[256] = "";
	struct bpfvm_log log = { msg, sizeof(msg), 0 };

	CHECK(local && target);
	if (!local || !target)
		goto out;
	/* tgid moved from 4 to 8 */
	CHECK_EQ_INT(btf_core_resolve(local, 3, "0:1", BTF_CORE_FIELD_BYTE_OFFSET, target, &res, &log), 0);
	CHECK_EQ_U64(res.orig, 4);
	CHECK_EQ_U64(res.value, 8);
	CHECK(!res.poison);
	/* pid is inside an anonymous struct at 12 */
	CHECK_EQ_INT(btf_core_resolve(local, 3, "0:0", BTF_CORE_FIELD_BYTE_OFFSET, target, &res, &log), 0);
	CHECK_EQ_U64(res.value, 12);
	/* gone: absent, exists = 0, offset poisoned */
	CHECK_EQ_INT(btf_core_resolve(local, 3, "0:3", BTF_CORE_FIELD_EXISTS, target, &res, &log), 0);
	CHECK_EQ_U64(res.value, 0);
	CHECK(!res.poison);
	CHECK_EQ_INT(btf_core_resolve(local, 3, "0:3", BTF_CORE_FIELD_BYTE_OFFSET, target, &res, &log), 0);
	CHECK(res.poison);
	CHECK_CONTAINS(res.why, "task___old");
	/* the bitfield: at bit 128 in the target, 3 bits wide */
	CHECK_EQ_INT(btf_core_resolve(local, 3, "0:2", BTF_CORE_FIELD_LSHIFT_U64, target, &res, &log), 0);
	CHECK_EQ_U64(res.value, 64 - 3);
	CHECK_EQ_INT(btf_core_resolve(local, 3, "0:2", BTF_CORE_FIELD_RSHIFT_U64, target, &res, &log), 0);
	CHECK_EQ_U64(res.value, 64 - 3);
	CHECK_EQ_INT(btf_core_resolve(local, 3, "0:2", BTF_CORE_FIELD_BYTE_OFFSET, target, &res, &log), 0);
	CHECK_EQ_U64(res.value, 16);
	CHECK_EQ_INT(btf_core_resolve(local, 3, "0:1", BTF_CORE_FIELD_SIGNED, target, &res, &log), 0);
	CHECK_EQ_U64(res.value, 1);
	/* the type's size, and existence */
	CHECK_EQ_INT(btf_core_resolve(local, 3, "0", BTF_CORE_TYPE_SIZE, target, &res, &log), 0);
	CHECK_EQ_U64(res.orig, 16);
	CHECK_EQ_U64(res.value, 24);
	/* a malformed access string is an error, not a crash */
	CHECK_EQ_INT(btf_core_resolve(local, 3, "0:9", BTF_CORE_FIELD_BYTE_OFFSET, target, &res, &log), -EINVAL);
	CHECK_EQ_INT(btf_core_resolve(local, 3, "x", BTF_CORE_FIELD_BYTE_OFFSET, target, &res, &log), -EINVAL);
	CHECK_CONTAINS(msg, "malformed access");
out:
	btf_free(local);
	btf_free(target);
}

/* ---- .BTF.ext --------------------------------------------------------------------- */

TEST(btf_ext_records_and_malformed)
{
	struct bb b;
	char msg[256];
	struct btf *btf;
	uint32_t ext[64], n = 0, sec;
	struct btf_ext *e;
	struct bpfvm_log log = { msg, sizeof(msg), 0 };

	bb_init(&b);
	local_types(&b);
	sec = bb_str(&b, "xdp");
	bb_str(&b, "0:1");
	btf = bb_parse(&b, msg, sizeof(msg));
	CHECK(btf != NULL);
	if (!btf)
		return;
	/* header: magic, version, flags, hdr_len 32; func 0/0, line 0/28, core 28/28 */
	ext[n++] = BTF_MAGIC | 1u << 16;
	ext[n++] = 32;
	ext[n++] = 0, ext[n++] = 0;
	ext[n++] = 0, ext[n++] = 28;
	ext[n++] = 28, ext[n++] = 28;
	/* line info: rec size 16, one block of one record */
	ext[n++] = 16, ext[n++] = sec, ext[n++] = 1;
	ext[n++] = 16, ext[n++] = sec, ext[n++] = sec, ext[n++] = 7 << 10 | 3;
	/* core: rec size 16, one record: insn 8 bytes -> 1, type 2, "0:1", byte_off */
	ext[n++] = 16, ext[n++] = sec, ext[n++] = 1;
	ext[n++] = 8, ext[n++] = 2, ext[n++] = sec + 4, ext[n++] = 0;
	msg[0] = '\0';
	e = btf_ext_parse(ext, n * 4, btf, &log);
	if (!e)
		TEST_FAIL("not parsed: %s", msg);
	if (e) {
		const struct btf_ext_sec *s = btf_ext_sec(e, "xdp");
		CHECK(s != NULL);
		if (s) {
			CHECK_EQ_INT(s->nline, 1);
			CHECK_EQ_INT(s->line[0].insn, 2);
			CHECK_EQ_INT(s->line[0].line_col >> 10, 7);
			CHECK_EQ_INT(s->ncore, 1);
			CHECK_EQ_INT(s->core[0].insn, 1);
			CHECK_STR(btf_str(btf, s->core[0].file_off), "0:1");
		}
		btf_ext_free(e);
	}
	/* every truncation is refused or parsed, never a crash (ASan watches) */
	for (uint32_t len = 0; len < n * 4; len++)
		btf_ext_free(btf_ext_parse(ext, len, btf, NULL));
	/* a block claiming more records than fit */
	ext[10] = 1000;
	msg[0] = '\0';
	log.len = 0;
	CHECK(btf_ext_parse(ext, n * 4, btf, &log) == NULL);
	CHECK_CONTAINS(msg, "does not fit");
	btf_free(btf);
}

TEST_MAIN()
