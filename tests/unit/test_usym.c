/*
 * test_usym.c - uprobe and USDT targets (src/events/usym.c): libbpf's
 * SEC() names parsed with their errors, functions found in a real ELF
 * file (this test binary: .symtab and .dynsym), USDT argument strings
 * encoded as libbpf's struct __bpf_usdt_spec, addresses from
 * /proc/self/maps, and a binary's separate debug file found by build id.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "events/usym.h"
#include "test.h"
#include "util/build_id.h"

__attribute__((noinline, used)) int usym_test_target(int x)
{
	return x * 3 + 1;
}

static int parse(const char *sec, struct usym_target *t, char *why)
{
	return usym_parse(sec, t, why, 256);
}

TEST(parse_libbpf_names)
{
	struct usym_target t;
	char why[256];

	CHECK_EQ_INT(parse("uprobe//bin/bash:readline", &t, why), 0);
	CHECK(t.kind == USYM_UPROBE && !t.ret && !t.raw && !t.offset);
	CHECK_STR(t.binary, "/bin/bash");
	CHECK_STR(t.func, "readline");
	CHECK_EQ_INT(parse("uretprobe.s/libc.so.6:malloc", &t, why), 0);
	CHECK(t.ret && usym_by_name(&t));
	CHECK_STR(t.binary, "libc.so.6");
	CHECK_EQ_INT(parse("uprobe//usr/bin/x:main+0x10", &t, why), 0);
	CHECK(t.offset == 16 && !t.raw);
	CHECK_STR(t.func, "main");
	CHECK_EQ_INT(parse("uprobe//usr/bin/x:0x1234", &t, why), 0);
	CHECK(t.raw && t.offset == 0x1234 && !t.func[0]);
	CHECK_EQ_INT(parse("uprobe//usr/bin/x:malloc@GLIBC_2.2.5", &t, why), 0);
	CHECK_STR(t.func, "malloc@GLIBC_2.2.5");
	CHECK_EQ_INT(parse("uretprobe.multi//usr/bin/x:str*", &t, why), 0);
	CHECK(t.kind == USYM_MULTI && t.ret);
	CHECK_STR(t.func, "str*");
	CHECK_EQ_INT(parse("usdt//usr/lib/libfoo.so:prov:probe_1", &t, why), 0);
	CHECK(t.kind == USYM_USDT);
	CHECK_STR(t.binary, "/usr/lib/libfoo.so");
	CHECK_STR(t.func, "prov");
	CHECK_STR(t.name, "probe_1");
}

TEST(parse_errors_say_what)
{
	struct usym_target t;
	char why[256];

	CHECK_EQ_INT(parse("uprobe//bin/bash", &t, why), -EINVAL);
	CHECK_CONTAINS(why, "missing ':function[+offset]'");
	CHECK_EQ_INT(parse("uretprobe//bin/bash:readline+4", &t, why), -EINVAL);
	CHECK_CONTAINS(why, "uretprobes do not support offset specification");
	CHECK_EQ_INT(parse("usdt//bin/x:onlyprovider", &t, why), -EINVAL);
	CHECK_CONTAINS(why, "PATH:PROVIDER:NAME");
	CHECK_EQ_INT(parse("uprobex//bin/x:f", &t, why), -EINVAL);
	CHECK_CONTAINS(why, "not a uprobe");
}

TEST(resolve_in_own_binary)
{
	struct usym_target t;
	struct usym_site *sites = NULL;
	struct usym_map *maps = NULL;
	char why[512], self[4096], full[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	size_t ns = 0, nm = 0;
	uint64_t addr;

	CHECK(n > 0);
	self[n > 0 ? n : 0] = '\0';
	snprintf(t.binary, sizeof(t.binary), "%s", self);
	CHECK_EQ_INT(usym_parse("uprobe//x:usym_test_target", &t, why, sizeof(why)), 0);
	snprintf(t.binary, sizeof(t.binary), "%s", self);
	CHECK_EQ_INT(usym_resolve(&t, self, &sites, &ns, why, sizeof(why)), 0);
	CHECK_EQ_INT(ns, 1);
	CHECK_EQ_INT(usym_maps(getpid(), &maps, &nm), 0);
	CHECK_EQ_INT(usym_binary(&t, maps, nm, full, sizeof(full)), 0);
	addr = ns ? usym_addr(maps, nm, full, sites[0].file_off, true) : 0;
	CHECK(addr == (uint64_t)(uintptr_t)usym_test_target);
	free(sites);
	CHECK_EQ_INT(usym_parse("uprobe//x:no_such_function_here", &t, why, sizeof(why)), 0);
	CHECK_EQ_INT(usym_resolve(&t, self, &sites, &ns, why, sizeof(why)), -ENOENT);
	CHECK_CONTAINS(why, "function 'no_such_function_here' not found in ");
	CHECK(!sites && !ns);
	CHECK_EQ_INT(usym_resolve(&t, "/nonexistent/bin", &sites, &ns, why, sizeof(why)), -ENOENT);
	CHECK_CONTAINS(why, "/nonexistent/bin: No such file or directory");
	/* a library by its name: the loaded one (libc.so.6 is) */
	CHECK_EQ_INT(usym_parse("uprobe/libc.so.6:malloc", &t, why, sizeof(why)), 0);
	CHECK_EQ_INT(usym_binary(&t, maps, nm, full, sizeof(full)), 0);
	CHECK_CONTAINS(full, "libc.so.6");
	CHECK_EQ_INT(usym_parse("uprobe/libnotloaded.so.9:f", &t, why, sizeof(why)), 0);
	CHECK_EQ_INT(usym_binary(&t, maps, nm, full, sizeof(full)), -ENOENT);
	free(maps);
}

static bool copy_file(const char *from, const char *to)
{
	char buf[65536];
	int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ssize_t got = -1;

	while (in >= 0 && out >= 0 && (got = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)got) != got)
			got = -1;
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return got == 0;
}

/*
 * root/.build-id/xx/rest.debug, as -dbgsym packages install it under
 * /usr/lib/debug, is this binary's debug file only when its build id is
 * the binary's.
 */
TEST(debug_file_by_build_id)
{
	char root[] = "/tmp/usym-debug-XXXXXX", self[4096], hex[41], dir[4200], dbg[4300];
	char found[4096];
	uint8_t id[UTIL_BUILD_ID_SIZE];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	int fd;

	CHECK(n > 0 && mkdtemp(root));
	self[n > 0 ? n : 0] = '\0';
	fd = open(self, O_RDONLY);
	CHECK(fd >= 0 && util_elf_build_id(fd, id) == 0);
	if (fd >= 0)
		close(fd);
	for (int i = 0; i < UTIL_BUILD_ID_SIZE; i++)
		snprintf(hex + 2 * i, 3, "%02x", id[i]);
	CHECK_EQ_INT(usym_debug_file(self, root, found, sizeof(found)), -ENOENT);
	snprintf(dir, sizeof(dir), "%s/.build-id", root);
	CHECK(mkdir(dir, 0700) == 0);
	snprintf(dir, sizeof(dir), "%s/.build-id/%.2s", root, hex);
	CHECK(mkdir(dir, 0700) == 0);
	snprintf(dbg, sizeof(dbg), "%s/%s.debug", dir, hex + 2);
	CHECK(copy_file("/bin/true", dbg));      /* another build id: not it */
	CHECK_EQ_INT(usym_debug_file(self, root, found, sizeof(found)), -ENOENT);
	CHECK(copy_file(self, dbg));
	CHECK_EQ_INT(usym_debug_file(self, root, found, sizeof(found)), 0);
	CHECK_STR(found, dbg);
	CHECK_EQ_INT(usym_debug_file("/nonexistent/bin", root, found, sizeof(found)), -ENOENT);
	unlink(dbg);
	rmdir(dir);
	snprintf(dir, sizeof(dir), "%s/.build-id", root);
	rmdir(dir);
	rmdir(root);
}

TEST(usdt_spec_layout)
{
	uint8_t spec[USYM_USDT_SPEC_SIZE];
	char why[256];
	uint64_t v;
	int16_t cnt;

	CHECK_EQ_INT(usym_usdt_spec("-4@%eax 8@-8(%rbp) 2@$5 1@%r12b", 7, spec, why, sizeof(why)), 0);
	memcpy(&cnt, spec + 200, 2);
	CHECK_EQ_INT(cnt, 4);
	memcpy(&v, spec + 192, 8);
	CHECK_EQ_INT(v, 7);
	/* -4@%eax: a register (1), ax at 80 in pt_regs, signed, 32 bits shifted out */
	CHECK(spec[8] == 1 && spec[12] == 80 && spec[13] == 0 && spec[14] == 1 && spec[15] == 32);
	/* 8@-8(%rbp): memory at bp (32) - 8, unsigned, whole */
	memcpy(&v, spec + 16, 8);
	CHECK((int64_t)v == -8 && spec[24] == 2 && spec[28] == 32 && spec[30] == 0 && spec[31] == 0);
	/* 2@$5: the constant 5, 48 bits shifted out */
	memcpy(&v, spec + 32, 8);
	CHECK(v == 5 && spec[40] == 0 && spec[47] == 48);
	/* 1@%r12b: r12 at 24 */
	CHECK(spec[56] == 1 && spec[60] == 24 && spec[63] == 56);
	CHECK_EQ_INT(usym_usdt_spec("4@%xmm0", 0, spec, why, sizeof(why)), -EINVAL);
	CHECK_CONTAINS(why, "USDT argument '4@%xmm0'");
	CHECK_EQ_INT(usym_usdt_spec("8@(%rax,%rbx,2)", 0, spec, why, sizeof(why)), -EINVAL);
	/*
	 * fuzz_usym found it: a size of 150 digits was taken (as -1, by %d),
	 * and a form that matched only partly left its long %n in place, so
	 * the end check read that far past the short rest
	 */
	{
		char arg[200];

		memset(arg, '4', 150);
		snprintf(arg + 150, sizeof(arg) - 150, "@(%%b");
		CHECK_EQ_INT(usym_usdt_spec(arg, 0, spec, why, sizeof(why)), -EINVAL);
		snprintf(arg + 150, sizeof(arg) - 150, "@%%rax");
		CHECK_EQ_INT(usym_usdt_spec(arg, 0, spec, why, sizeof(why)), -EINVAL);
		CHECK_EQ_INT(usym_usdt_spec("4@(%rbp", 0, spec, why, sizeof(why)), -EINVAL);
		CHECK_EQ_INT(usym_usdt_spec("4@-8(%rbp", 0, spec, why, sizeof(why)), -EINVAL);
		CHECK_EQ_INT(usym_usdt_spec("4@$", 0, spec, why, sizeof(why)), -EINVAL);
	}
}

TEST_MAIN()
