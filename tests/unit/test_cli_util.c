/*
 * test_cli_util.c - the command line's shared utilities (tools/cli_util.c,
 * compiled in here): hex parsing, whole-file reads and writes, and loading
 * a program from raw bytecode or assembly.
 */
#include <stdbool.h>
#include <unistd.h>

#include "../../tools/cli_util.c"
#include "test.h"

/* cli_util.c's users define this; the tests never reach it. */
int cli_usage(const char *name)
{
	(void)name;
	return EXIT_USAGE;
}

static bool hex_is(const char *text, const char *want, size_t want_len)
{
	size_t len = 0, bad = 0;
	uint8_t *got = cli_parse_hex(text, &len, &bad);
	bool ok = got && len == want_len && !memcmp(got, want, len);

	free(got);
	return ok;
}

static size_t hex_bad_at(const char *text)
{
	size_t len = 0, bad = 12345;
	uint8_t *got = cli_parse_hex(text, &len, &bad);

	free(got);
	return got ? (size_t)-1 : bad;
}

TEST(parse_hex)
{
	CHECK(hex_is("aa bb ff", "\xaa\xbb\xff", 3));
	CHECK(hex_is("aabbff", "\xaa\xbb\xff", 3));
	CHECK(hex_is("0xaabb 0x01\n\t02", "\xaa\xbb\x01\x02", 4));
	CHECK(hex_is("  AA\n", "\xaa", 1));
	CHECK(hex_is("", "", 0));
	CHECK_EQ_INT(hex_bad_at("aa bz"), 4);
	CHECK_EQ_INT(hex_bad_at("aab"), 2);
	CHECK_EQ_INT(hex_bad_at("aa,bb"), 2);
	CHECK_EQ_INT(hex_bad_at("0x"), 2);
}

TEST(read_and_write_files)
{
	char path[] = "/tmp/bpfvm-test-cli-XXXXXX";
	int fd = mkstemp(path);
	static uint8_t big[100000];
	uint8_t *back;
	size_t len = 0;

	CHECK(fd >= 0);
	close(fd);
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7);
	CHECK_EQ_INT(cli_write_file(path, big, sizeof(big)), 0);
	back = cli_read_file(path, &len);
	CHECK(back != NULL);
	CHECK_EQ_INT(len, sizeof(big));
	CHECK(back && !memcmp(back, big, sizeof(big)));
	/* One byte past the data is a NUL, so text can be used as a string. */
	CHECK(back && back[len] == 0);
	free(back);
	unlink(path);
	CHECK(cli_read_file("/nonexistent/bpfvm", &len) == NULL);
	CHECK_EQ_INT(cli_write_file("/nonexistent/dir/x", big, 1), -1);
}

TEST(load_program)
{
	char asm_path[] = "/tmp/bpfvm-test-asm-XXXXXX", raw_path[64];
	const char *text = "mov %r0, 7\nexit\n";
	const uint8_t raw[16] = { 0xb7, 0, 0, 0, 7, 0, 0, 0, 0x95 };
	struct bpfvm_insn *insns = NULL;
	size_t cnt = 0;
	int fd = mkstemp(asm_path);

	CHECK(fd >= 0);
	close(fd);
	CHECK_EQ_INT(cli_write_file(asm_path, text, strlen(text)), 0);
	CHECK_EQ_INT(cli_load_program(asm_path, 0, &insns, &cnt), 0);
	CHECK_EQ_INT(cnt, 2);
	CHECK(insns && !memcmp(insns, raw, sizeof(raw)));
	free(insns);
	/* The same bytes as raw: by flag, and by a .bin name. */
	CHECK_EQ_INT(cli_write_file(asm_path, raw, sizeof(raw)), 0);
	CHECK_EQ_INT(cli_load_program(asm_path, 1, &insns, &cnt), 0);
	CHECK_EQ_INT(cnt, 2);
	free(insns);
	snprintf(raw_path, sizeof(raw_path), "%s.bin", asm_path);
	CHECK_EQ_INT(cli_write_file(raw_path, raw, 12), 0);
	CHECK_EQ_INT(cli_load_program(raw_path, 0, &insns, &cnt), -1);   /* not whole slots */
	CHECK_EQ_INT(cli_write_file(asm_path, "bad line\n", 9), 0);
	CHECK_EQ_INT(cli_load_program(asm_path, 0, &insns, &cnt), -1);
	unlink(raw_path);
	unlink(asm_path);
}

TEST(count_options)
{
	uint64_t v = 7;

	CHECK(cli_parse_count("run", "--repeat", "10", UINT32_MAX, NULL, &v) == 0 && v == 10);
	CHECK(cli_parse_count("run", "--repeat", "0x10", UINT32_MAX, NULL, &v) == 0 && v == 16);
	CHECK(cli_parse_count("run", "--repeat", "4294967295", UINT32_MAX, NULL, &v) == 0 &&
	      v == UINT32_MAX);
	/* each refusal prints its reason (checked by tests/scripts/test_cli.sh) */
	CHECK(cli_parse_count("run", "--repeat", "4294967296", UINT32_MAX, NULL, &v) == -1);
	CHECK(cli_parse_count("run", "--repeat", "18446744073709551616", UINT64_MAX, NULL, &v) == -1);
	CHECK(cli_parse_count("run", "--repeat", "0", UINT32_MAX, NULL, &v) == -1);
	CHECK(cli_parse_count("run", "--repeat", "-1", UINT64_MAX, NULL, &v) == -1);
	CHECK(cli_parse_count("run", "--repeat", " -1", UINT64_MAX, NULL, &v) == -1);
	CHECK(cli_parse_count("run", "--repeat", "", UINT64_MAX, NULL, &v) == -1);
	CHECK(cli_parse_count("run", "--repeat", "5x", UINT64_MAX, NULL, &v) == -1);
}

TEST(c_source_is_told)
{
	static const char c_text[] = "/* x */\n#include <linux/bpf.h>\nint x;\n";
	static const char sec_text[] = "int f(void *ctx) SEC(\"xdp\");\n";
	static const char asm_text[] = "r0 = 0 # include\nexit\n";

	CHECK(cli_looks_like_c("prog.bpf.c", (const uint8_t *)"", 0));
	CHECK(cli_looks_like_c("prog.h", (const uint8_t *)"", 0));
	CHECK(cli_looks_like_c("prog.txt", (const uint8_t *)c_text, sizeof(c_text) - 1));
	CHECK(cli_looks_like_c("prog.txt", (const uint8_t *)sec_text, sizeof(sec_text) - 1));
	CHECK(!cli_looks_like_c("prog.s", (const uint8_t *)asm_text, sizeof(asm_text) - 1));
	CHECK(!cli_looks_like_c("prog.s", (const uint8_t *)"#include", 7));   /* cut short */
}

TEST_MAIN()
