/*
 * test_asm.c - the assembler.  Every row of the opcode table, written out
 * by the disassembler in either syntax, assembles back to the same bytes;
 * so do random valid instructions.  Every conformance case's program
 * assembles (to its "-- raw" bytes where it has them); every malformed
 * negative case fails with FILE:LINE:COL.  Both syntaxes' forms, labels,
 * llvm-objdump's columns and the error messages are checked one by one.
 */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>

#include <bpfvm/bpfvm.h>

#include "isa/opcode.h"
#include "test.h"

/* ---- Helpers ----------------------------------------------------------- */

struct asm_result {
	int err;
	struct bpfvm_insn *insns;
	size_t cnt;
	char log[2048];
};

static struct asm_result assemble(const char *text)
{
	struct asm_result r = { 0 };
	struct bpfvm_log log = { r.log, sizeof(r.log), 0 };
	BPFVM_OPTS(bpfvm_asm_opts, o, .filename = "t.s", .log = &log);

	r.err = bpfvm_asm(text, strlen(text), &r.insns, &r.cnt, &o);
	return r;
}

static uint64_t slot_u64(const struct bpfvm_insn *insn)
{
	uint64_t v;
	memcpy(&v, insn, sizeof(v));
	return v;
}

/* Assemble text to exactly the given slots (as little-endian u64 values). */
#define CHECK_ASM(TEXT, ...)                                                                  \
	do {                                                                                  \
		const uint64_t want_[] = { __VA_ARGS__ };                                     \
		size_t n_ = sizeof(want_) / sizeof(want_[0]);                                 \
		struct asm_result r_ = assemble(TEXT);                                        \
		if (r_.err)                                                                   \
			TEST_FAIL("'%s' does not assemble: %s", TEXT, r_.log);                \
		else if (r_.cnt != n_)                                                        \
			TEST_FAIL("'%s' gives %zu slots, expected %zu", TEXT, r_.cnt, n_);     \
		else                                                                          \
			for (size_t i_ = 0; i_ < n_; i_++)                                    \
				if (slot_u64(&r_.insns[i_]) != want_[i_])                     \
					TEST_FAIL("'%s' slot %zu is %016" PRIx64 ", expected %016" PRIx64, \
						  TEXT, i_, slot_u64(&r_.insns[i_]), want_[i_]); \
		free(r_.insns);                                                               \
	} while (0)

/* Assembling must fail, and the log must start with "t.s:LINE:COL: MSG". */
static void check_error(const char *text, const char *where, const char *msg, const char *file,
			int line)
{
	struct asm_result r = assemble(text);
	char prefix[64];

	snprintf(prefix, sizeof(prefix), "t.s:%s: ", where);
	if (!r.err) {
		printf("FAIL %s: %s:%d: '%s' assembled\n", test_current_name(), file, line, text);
		test_failed_now = 1;
	} else if (strncmp(r.log, prefix, strlen(prefix)) || !strstr(r.log, msg)) {
		printf("FAIL %s: %s:%d: '%s' gives \"%s\", expected \"%s%s\"\n", test_current_name(),
		       file, line, text, r.log, prefix, msg);
		test_failed_now = 1;
	}
	CHECK_EQ_INT(r.err, -EINVAL);
	CHECK(r.insns == NULL);
}
#define CHECK_ERROR(TEXT, WHERE, MSG) check_error(TEXT, WHERE, MSG, __FILE__, __LINE__)

/* An instruction that is row op, with every field the row uses set. */
static bool make_insn(enum isa_op op, struct bpfvm_insn insns[2], uint32_t seed)
{
	const struct isa_opinfo *info = &isa_ops[op];
	char why[96];

	/* Try field values, dropping fields until the row accepts them. */
	for (int drop = 0; drop < 16; drop++) {
		memset(insns, 0, 2 * sizeof(*insns));
		insns[0].code = info->code;
		insns[0].dst_reg = (drop & 1) ? 0 : (seed % 10) + 1;
		insns[0].src_reg = (drop & 2) ? 0 : (seed / 10 % 9) + 1;
		insns[0].off = (drop & 4) ? 0 : (int16_t)(seed * 2654435761u >> 16);
		insns[0].imm = (drop & 8) ? 0 : (int32_t)(seed * 40503u + 7);
		insns[1].imm = (int32_t)(seed * 2246822519u);
		if (info->vfield == V_OFF)
			insns[0].off = (int16_t)info->vvalue;
		else if (info->vfield == V_IMM)
			insns[0].imm = info->vvalue;
		else if (info->vfield == V_SRC)
			insns[0].src_reg = (uint8_t)info->vvalue;
		if (isa_decode(insns, 2, 0, why, sizeof(why)) == op)
			return true;
	}
	return false;
}

/*
 * llvm-objdump prints every call as "call IMM": its text does not say
 * whether src is a helper (0), a bpf-to-bpf call (1) or a kfunc (2).
 */
static bool llvm_text_keeps_src(enum isa_op op)
{
	return op != ISA_OP_CALL_LOCAL && op != ISA_OP_CALL_KFUNC;
}

/* Disassemble, assemble, compare; returns true when the bytes come back. */
static bool round_trip(const struct bpfvm_insn insns[2], enum bpfvm_syntax syntax, char *text,
		       size_t size, char *why, size_t whylen)
{
	int slots = bpfvm_disasm_insn(insns, 2, 0, syntax, text, size);
	struct asm_result r;
	bool same;

	if (slots <= 0) {
		snprintf(why, whylen, "does not disassemble: %s", text);
		return false;
	}
	r = assemble(text);
	same = !r.err && r.cnt == (size_t)slots && !memcmp(r.insns, insns, r.cnt * sizeof(*insns));
	if (r.err)
		snprintf(why, whylen, "'%.100s' does not assemble: %.300s", text, r.log);
	else if (!same)
		snprintf(why, whylen, "'%s' assembles to %016" PRIx64, text, slot_u64(&r.insns[0]));
	free(r.insns);
	return same;
}

/* ---- Round trips ------------------------------------------------------- */

TEST(every_row_round_trips_in_both_syntaxes)
{
	int n[2] = { 0, 0 };

	for (int op = 0; op < ISA_OP_COUNT; op++) {
		struct bpfvm_insn insns[2];
		char text[128], why[512];

		if (!make_insn((enum isa_op)op, insns, 1234)) {
			TEST_FAIL("no valid instruction for row %s", isa_ops[op].id);
			continue;
		}
		for (int syntax = 0; syntax < 2; syntax++) {
			if (syntax == BPFVM_SYNTAX_LLVM && !llvm_text_keeps_src((enum isa_op)op)) {
				/* The text is llvm's; it assembles to the helper call. */
				struct bpfvm_insn helper = insns[0];
				bpfvm_disasm_insn(insns, 2, 0, BPFVM_SYNTAX_LLVM, text, sizeof(text));
				helper.src_reg = 0;
				helper.off = 0;
				CHECK_ASM(text, slot_u64(&helper));
				continue;
			}
			if (round_trip(insns, syntax, text, sizeof(text), why, sizeof(why)))
				n[syntax]++;
			else
				TEST_FAIL("row %s (%s): %s", isa_ops[op].id, syntax ? "conformance" : "llvm", why);
		}
	}
	printf("# round trip of every row: %d rows in llvm syntax, %d in conformance syntax (of %d)\n",
	       n[0], n[1], ISA_OP_COUNT);
	CHECK_EQ_INT(n[1], ISA_OP_COUNT);
	CHECK_EQ_INT(n[0], ISA_OP_COUNT - 2);
}

TEST(random_valid_instructions_round_trip)
{
	uint32_t state = 12345;
	int tried = 0, failures = 0;

	for (int i = 0; i < 20000; i++) {
		struct bpfvm_insn insns[2];
		enum isa_op op;
		char text[128], why[512];

		state = state * 1103515245u + 12345u;
		op = (enum isa_op)((state >> 8) % ISA_OP_COUNT);
		if (!make_insn(op, insns, state >> 4))
			continue;
		for (int syntax = 0; syntax < 2; syntax++) {
			if (syntax == BPFVM_SYNTAX_LLVM && !llvm_text_keeps_src(op))
				continue;
			tried++;
			if (!round_trip(insns, syntax, text, sizeof(text), why, sizeof(why)) &&
			    failures++ < 10)
				TEST_FAIL("%s (%s): %s", isa_ops[op].id, syntax ? "conformance" : "llvm", why);
		}
	}
	printf("# %d random instructions round-tripped, %d failed\n", tried, failures);
	CHECK_EQ_INT(failures, 0);
}

/* ---- The conformance suite's cases ------------------------------------- */

struct data_case {
	char *asm_text;
	uint64_t raw[64];
	size_t nraw;
	bool has_asm;
	bool has_raw;
};

/* Split a .data file into its "-- asm" text and "-- raw" slots. */
static void parse_data(char *text, struct data_case *c)
{
	char *section = "", *line, *save = NULL;
	size_t cap = strlen(text) + 1, len = 0;

	c->asm_text = calloc(1, cap);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "-- ", 3)) {
			section = line + 3;
			c->has_asm |= !strcmp(section, "asm");
			c->has_raw |= !strcmp(section, "raw");
		} else if (!strcmp(section, "asm")) {
			len += (size_t)snprintf(c->asm_text + len, cap - len, "%s\n", line);
		} else if (!strcmp(section, "raw") && c->nraw < 64 && strchr(line, 'x')) {
			c->raw[c->nraw++] = strtoull(line, NULL, 16);
		}
	}
}

static char *read_text(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, (size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted names of the .data files in dir; NULL if dir is missing. */
static char **data_files(const char *dir, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;

	*n = 0;
	if (!d)
		return NULL;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (len > 5 && !strcmp(e->d_name + len - 5, ".data")) {
			names = realloc(names, (*n + 1) * sizeof(*names));
			names[(*n)++] = strdup(e->d_name);
		}
	}
	closedir(d);
	qsort(names, *n, sizeof(*names), cmp_str);
	return names;
}

static const char *shared_dir(void)
{
	const char *s = getenv("SHARED");
	return s && *s ? s : "../shared";
}

TEST(every_conformance_case_assembles)
{
	char dir[512], path[1024];
	size_t n, assembled = 0, with_raw = 0;
	char **names;

	snprintf(dir, sizeof(dir), "%s/conformance", shared_dir());
	names = data_files(dir, &n);
	if (!names) {
		printf("# %s not found: set SHARED\n", dir);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct data_case c = { 0 };
		char *text;
		struct asm_result r;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		text = read_text(path);
		parse_data(text, &c);
		r = assemble(c.asm_text);
		if (!c.has_asm)
			;
		else if (r.err)
			TEST_FAIL("%s: %s", names[i], r.log);
		else if (assembled++, c.has_raw) {
			with_raw++;
			if (r.cnt != c.nraw)
				TEST_FAIL("%s: %zu slots, raw has %zu", names[i], r.cnt, c.nraw);
			for (size_t k = 0; k < r.cnt && k < c.nraw; k++)
				if (slot_u64(&r.insns[k]) != c.raw[k])
					TEST_FAIL("%s: slot %zu is %016" PRIx64 ", raw says %016" PRIx64,
						  names[i], k, slot_u64(&r.insns[k]), c.raw[k]);
		}
		free(r.insns);
		free(c.asm_text);
		free(text);
		free(names[i]);
	}
	free(names);
	printf("# %zu conformance cases assembled, %zu compared with their raw section\n", assembled,
	       with_raw);
	CHECK(assembled >= 313);
}

/*
 * The malformed negative cases: every one with an asm section fails to
 * assemble with a position, except the three whose program is well formed
 * (they fail when run, or have no program).
 */
TEST(every_malformed_negative_case_fails_with_a_position)
{
	static const char *const well_formed[] = {
		"error.data", "incorrect_return_value_high_bits.data", "invalid_unknown_directive.data",
	};
	char dir[512], path[1024];
	size_t n, failed = 0;
	char **names;

	snprintf(dir, sizeof(dir), "%s/conformance/negative", shared_dir());
	names = data_files(dir, &n);
	if (!names) {
		printf("# %s not found: set SHARED\n", dir);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct data_case c = { 0 };
		char *text;
		struct asm_result r;
		bool ok = false;
		unsigned line, col;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		text = read_text(path);
		parse_data(text, &c);
		for (size_t k = 0; k < sizeof(well_formed) / sizeof(well_formed[0]); k++)
			ok |= !strcmp(names[i], well_formed[k]);
		r = assemble(c.asm_text);
		if (c.has_asm && !ok) {
			if (!r.err || sscanf(r.log, "t.s:%u:%u: ", &line, &col) != 2)
				TEST_FAIL("%s: expected FILE:LINE:COL: error, got %d \"%s\"", names[i], r.err, r.log);
			else
				failed++;
		} else if (c.has_asm && r.err) {
			TEST_FAIL("%s should assemble: %s", names[i], r.log);
		}
		free(r.insns);
		free(c.asm_text);
		free(text);
		free(names[i]);
	}
	free(names);
	printf("# %zu malformed negative cases rejected with a line and column\n", failed);
	CHECK(failed >= 10);
}

/* ---- The conformance syntax, form by form ------------------------------ */

TEST(conformance_syntax_forms)
{
	CHECK_ASM("mov %r0, 1", 0x00000001000000b7);
	CHECK_ASM("mov32 %r0, -1", 0xffffffff000000b4);
	CHECK_ASM("mov %r1, %r2", 0x00000000000021bf);
	CHECK_ASM("add32 %r0, 0xffffffff", 0xffffffff00000004);
	CHECK_ASM("ldxw %r0, [%r1+4]", 0x0000000000041061);
	CHECK_ASM("ldxh %r0, [%r1]", 0x0000000000001069);
	CHECK_ASM("ldxb %r0, [ %r1 - 0x2 ]", 0x00000000fffe1071);
	CHECK_ASM("stxdw [%r10-8], %r1", 0x00000000fff81a7b);
	CHECK_ASM("stw [%r1+2], 0x11", 0x0000001100020162);
	CHECK_ASM("lock add [%r10-8], %r1", 0x00000000fff81adb);
	CHECK_ASM("lock fetch add32 [%r10-4], %r1", 0x00000001fffc1ac3);
	CHECK_ASM("lock xchg [%r10-8], %r1", 0x000000e1fff81adb);
	CHECK_ASM("lock cmpxchg32 [%r10-8], %r1", 0x000000f1fff81ac3);
	CHECK_ASM("be16 %r0", 0x00000010000000dc);
	CHECK_ASM("le64 %r0", 0x00000040000000d4);
	CHECK_ASM("bswap32 %r0", 0x00000020000000d7);
	CHECK_ASM("swap64 %r3", 0x00000040000003d7);
	CHECK_ASM("neg %r1", 0x0000000000000187);
	CHECK_ASM("neg32 %r1", 0x0000000000000184);
	CHECK_ASM("movsx832 %r0, %r1", 0x00000000000810bc);
	CHECK_ASM("movsx3264 %r0, %r1", 0x00000000002010bf);
	CHECK_ASM("sdiv %r1, %r2", 0x000000000001213f);
	CHECK_ASM("smod32 %r1, 3", 0x0000000300010194);
	CHECK_ASM("ldxsh %r0, [%r10-2]", 0x00000000fffea089);
	CHECK_ASM("jeq %r1, 0x1a8c0, +1", 0x0001a8c000010115);
	CHECK_ASM("jeq %r1, 0x80000000, +1", 0x8000000000010115);
	CHECK_ASM("jsgt32 %r1, %r2, -3", 0x00000000fffd216e);
	CHECK_ASM("ja +2", 0x0000000000020005);
	CHECK_ASM("call 5", 0x0000000500000085);
	CHECK_ASM("call %r2", 0x000000000000028d);
	CHECK_ASM("callx %r2", 0x000000000000028d);
	CHECK_ASM("call kfunc 7", 0x0000000700002085);
	CHECK_ASM("lddw %r0, 0x1122334455667788", 0x5566778800000018, 0x1122334400000000);
	CHECK_ASM("lddw %r1, -1", 0xffffffff00000118, 0xffffffff00000000);
	CHECK_ASM("exit", 0x0000000000000095);
	CHECK_ASM("ldabsw 0x4", 0x0000000400000020);
	CHECK_ASM("ldindb %r1, 0x2", 0x0000000200001050);
	CHECK_ASM("ldacqdw %r0, [%r1+0]", 0x00000100000010db);
	CHECK_ASM("strelw [%r1+8], %r2", 0x00000110000821c3);
	CHECK_ASM("may_goto +3", 0x00000000000300e5);
}

TEST(conformance_syntax_labels_and_comments)
{
	CHECK_ASM("# a comment\n"
		  "  mov %r0, 0   # trailing comment\n"
		  "loop: add %r0, 1\n"
		  "jlt %r0, 10, loop\n"
		  "ja done\n"
		  "done:\n"
		  "exit\n",
		  0x00000000000000b7, 0x0000000100000007, 0x0000000afffe00a5, 0x0000000000000005,
		  0x0000000000000095);
	/* ja32 puts the offset in imm; call local puts the target in imm. */
	CHECK_ASM("ja32 L\nexit\nL: exit", 0x0000000100000006, 0x95, 0x95);
	CHECK_ASM("call local f\nexit\nf:\nexit", 0x0000000100001085, 0x95, 0x95);
	/* "exit" names the first exit unless a label says otherwise. */
	CHECK_ASM("jne %r0, 0, exit\nmov %r0, 1\nexit", 0x0000000000010055, 0x00000001000000b7, 0x95);
	CHECK_ASM("ja exit\nexit:\nexit", 0x0000000000000005, 0x95);
	/* Labels count lddw's two slots. */
	CHECK_ASM("ja L\nlddw %r1, 1\nL: exit", 0x0000000000020005, 0x0000000100000118, 0, 0x95);
	/* An empty program is not an error here (the loader judges it). */
	struct asm_result r = assemble("# nothing\n\n");
	CHECK_EQ_INT(r.err, 0);
	CHECK_EQ_INT(r.cnt, 0);
	CHECK(r.insns != NULL);
	free(r.insns);
}

/* ---- llvm-objdump's syntax ------------------------------------------- */

TEST(llvm_syntax_forms)
{
	CHECK_ASM("r0 = *(u32 *)(r1 + 0x4)", 0x0000000000041061);
	CHECK_ASM("w0 = *(u32 *)(r1 + 0x4)", 0x0000000000041061);
	CHECK_ASM("r0 = *(s16 *)(r10 - 0x2)", 0x00000000fffea089);
	CHECK_ASM("*(u64 *)(r10 - 0x8) = r1", 0x00000000fff81a7b);
	CHECK_ASM("*(u32 *)(r10 - 8) = -5", 0xfffffffbfff80a62);
	CHECK_ASM("if r1 > 0x5 goto +0x3", 0x0000000500030125);
	CHECK_ASM("if w1 s<= w2 goto -3", 0x00000000fffd21de);
	CHECK_ASM("w0 = w1", 0x00000000000010bc);
	CHECK_ASM("r0 = (s8)r1", 0x00000000000810bf);
	CHECK_ASM("r1 = 0x0 ll", 0x0000000000000118, 0);
	CHECK_ASM("r1 = -0x1 ll", 0xffffffff00000118, 0xffffffff00000000);
	CHECK_ASM("ld_pseudo r1, 0x2, 0x5", 0x0000000500002118, 0);
	CHECK_ASM("lock *(u64 *)(r10 - 0x8) += r1", 0x00000000fff81adb);
	CHECK_ASM("lock *(u32 *)(r10 - 0x8) += w1", 0x00000000fff81ac3);
	CHECK_ASM("r1 = atomic_fetch_or((u64 *)(r10 - 0x8), r1)", 0x00000041fff81adb);
	CHECK_ASM("r0 = cmpxchg_64(r10 - 0x8, r0, r1)", 0x000000f1fff81adb);
	CHECK_ASM("w1 = xchg32_32(r10 - 0x8, w1)", 0x000000e1fff81ac3);
	CHECK_ASM("call 0x5", 0x0000000500000085);
	CHECK_ASM("callx r2", 0x000000000000028d);
	CHECK_ASM("exit", 0x95);
	CHECK_ASM("r1 s/= r2", 0x000000000001213f);
	CHECK_ASM("w1 s%= 0x3", 0x0000000300010194);
	CHECK_ASM("r0 = bswap16 r0", 0x00000010000000d7);
	CHECK_ASM("r0 = be16 r0", 0x00000010000000dc);
	CHECK_ASM("r0 = -r0", 0x0000000000000087);
	CHECK_ASM("w1 s>>= w2", 0x00000000000021cc);
	CHECK_ASM("gotol +0x3", 0x0000000300000006);
	CHECK_ASM("may_goto +0x3", 0x00000000000300e5);
	CHECK_ASM("r0 = *(u8 *)skb[0x4]", 0x0000000400000030);
	CHECK_ASM("r0 = *(u16 *)skb[r1]", 0x0000000000001048);
	CHECK_ASM("r0 = load_acquire((u64 *)(r1 + 0x0))", 0x00000100000010db);
	CHECK_ASM("store_release((u8 *)(r1 + 0x8), w2)", 0x00000110000821d3);
}

TEST(llvm_objdump_lines)
{
	/* What llvm-objdump -d prints, headers, columns and labels included. */
	CHECK_ASM("\n"
		  "t.o:\tfile format elf64-bpf\n"
		  "\n"
		  "Disassembly of section xdp:\n"
		  "\n"
		  "0000000000000000 <prog>:\n"
		  "       0:\tb7 00 00 00 01 00 00 00\tr0 = 0x1\n"
		  "       1:\t15 01 01 00 00 00 00 00\tif r1 == 0x0 goto +0x1 <LBB0_2>\n"
		  "       2:\t18 01 00 00 00 00 00 00 00 00 00 00 00 00 00 00\tr1 = 0x0 ll\n"
		  "\n"
		  "0000000000000020 <LBB0_2>:\n"
		  "       4:\t95 00 00 00 00 00 00 00\texit\n"
		  "       5:\t8e 00 00 00 00 00 00 00\t<unknown>\n",
		  0x00000001000000b7, 0x0000000000010115, 0x0000000000000118, 0, 0x95, 0x8e);
	/* The byte column alone, or the index alone. */
	CHECK_ASM("b7 00 00 00 01 00 00 00\tr0 = 0x1", 0x00000001000000b7);
	CHECK_ASM("   7:  r0 = 0x1", 0x00000001000000b7);
	/* Labels for jumps and bpf-to-bpf calls; "//" and ";" comments. */
	CHECK_ASM("goto L // skip\nr0 = 0 ; zero\nL: call f\nexit\nf: exit",
		  0x0000000000010005, 0x00000000000000b7, 0x0000000100001085, 0x95, 0x95);
}

/* ---- Errors ----------------------------------------------------------- */

TEST(errors_name_line_and_column)
{
	CHECK_ERROR("exit\nldxq %r0, %r1", "2:1", "unknown mnemonic 'ldxq'");
	CHECK_ERROR("or %r0, %r11", "1:9", "invalid register '%r11'");
	CHECK_ERROR("or %r0, %r50", "1:9", "invalid register '%r50'");
	CHECK_ERROR("ja NOT_A_LABEL\nexit", "1:4", "unknown label 'NOT_A_LABEL'");
	CHECK_ERROR("ldxb %r0, [%r1+0x10000]", "1:16", "does not fit in 16 bits");
	CHECK_ERROR("mov32 %r0, 2147483648", "1:12", "does not fit in 32 bits");
	CHECK_ERROR("mov32 %r0, 0x100000000", "1:12", "does not fit in 32 bits");
	CHECK_ERROR("lddw %r0", "1:1", "Invalid number of operands for lddw");
	CHECK_ERROR("lock or [%r10-8]", "1:1", "Invalid number of operands for lock");
	CHECK_ERROR("lock", "1:1", "Invalid number of operands for lock");
	CHECK_ERROR("lock sub [%r10-8], %r1", "1:1", "unknown mnemonic 'lock sub'");
	CHECK_ERROR("ldxb %r0, %r1", "1:11", "expected a memory operand");
	CHECK_ERROR("mov %r0, 1, 2", "1:1", "Invalid number of operands for mov");
	CHECK_ERROR("mov %r0, 1, 2, 3, 4, 5", "1:1", "Invalid number of operands for mov: more than 4");
	CHECK_ERROR("L:\nL:\nexit", "2:1", "duplicate label 'L' (first defined on line 1)");
	CHECK_ERROR("jeq %r1, 1, +40000", "1:13", "does not fit in 16 bits");
	CHECK_ERROR("mov %r0, 12abc", "1:10", "expected an immediate");
	/* llvm syntax: what the closest templates expected. */
	CHECK_ERROR("frobnicate r1", "1:1", "unknown instruction 'frobnicate'");
	CHECK_ERROR("r1 += 0x100000000", "1:7", "does not fit in 32 bits");
	CHECK_ERROR("r11 = 1", "1:1", "invalid register 'r11'");
	CHECK_ERROR("r1 = *(u32 *)(r2 + 0x4", "1:23", "expected ')' at the end of the line");
	CHECK_ERROR("if r1 > 5 goto", "1:15", "at the end of the line");
	CHECK_ERROR("w1 += r2", "1:7", "expected");
	CHECK_ERROR("\t\t...", "1:3", "zero bytes");
}

TEST(several_errors_are_reported)
{
	struct asm_result r = assemble("bad1\nexit\nbad2\nja nowhere\n");
	char *second;

	CHECK_EQ_INT(r.err, -EINVAL);
	CHECK(!strncmp(r.log, "t.s:1:1: ", 9));
	second = strstr(r.log, "\nt.s:3:1: ");
	CHECK(second != NULL);
	CHECK_CONTAINS(r.log, "t.s:4:4: unknown label 'nowhere'");
}

TEST(garbage_never_crashes)
{
	uint32_t state = 99;
	char text[257];

	for (int i = 0; i < 5000; i++) {
		struct bpfvm_insn *insns = NULL;
		size_t cnt = 0, len = (size_t)(i % 256);
		char logbuf[128];
		struct bpfvm_log log = { logbuf, sizeof(logbuf), 0 };
		BPFVM_OPTS(bpfvm_asm_opts, o, .filename = "fuzz", .log = &log);
		static const char alphabet[] = "r0w1%[]+-,: \n\t#x0123456789abcdefl*()=<>s&|^!goto if exit lock"
					       "call ja mov ldxw stw lddw local fetch add32 ll skb";

		for (size_t k = 0; k < len; k++) {
			state = state * 1103515245u + 12345u;
			text[k] = (i & 1) ? (char)(state >> 16) : alphabet[(state >> 16) % (sizeof(alphabet) - 1)];
		}
		if (bpfvm_asm(text, len, &insns, &cnt, &o) == 0)
			free(insns);
		CHECK(log.len < sizeof(logbuf) || logbuf[sizeof(logbuf) - 1] == '\0');
	}
	/* NULL options (no log, no file name) are allowed. */
	struct bpfvm_insn *insns = NULL;
	size_t cnt;
	CHECK_EQ_INT(bpfvm_asm("bad", 3, &insns, &cnt, NULL), -EINVAL);
	CHECK_EQ_INT(bpfvm_asm(NULL, 0, &insns, &cnt, NULL), 0);
	free(insns);
}

TEST_MAIN()
