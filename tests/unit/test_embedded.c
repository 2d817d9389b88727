/*
 * test_embedded.c - finding BPF objects inside other files
 * (bpfvm_embedded_objects, bpfvm_embedded_object__select) on buffers made
 * here byte by byte: objects at odd offsets among junk, one whose section
 * headers or sections run past the end, headers whose offsets would
 * overflow, more objects than the caller has room for, and the choice by
 * index with its messages.  (tests/scripts/test_embedded.sh runs the
 * command line on real programs.)
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <bpfvm/object.h>

#include "test.h"

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

/* An ELF header at p: machine, type, and shnum section headers at shoff. */
static void header(uint8_t *p, uint16_t machine, uint16_t type, uint64_t shoff, uint16_t shnum)
{
	memset(p, 0, 64);
	memcpy(p, "\177ELF", 4);
	p[4] = 2, p[5] = 1, p[6] = 1;
	put16(p + 16, type);
	put16(p + 18, machine);
	put32(p + 20, 1);
	put64(p + 40, shoff);
	put16(p + 52, 64);
	put16(p + 58, 64);
	put16(p + 60, shnum);
}

/* A BPF object of 64 + 64 * 2 bytes: the header, then a NULL section and one of 16 bytes at 64 + 128. */
static size_t bpf_object(uint8_t *p)
{
	header(p, 247, 1, 64, 2);
	memset(p + 64, 0, 128);
	put32(p + 128 + 4, 1);          /* SHT_PROGBITS */
	put64(p + 128 + 24, 192);       /* sh_offset */
	put64(p + 128 + 32, 16);        /* sh_size */
	memset(p + 192, 0xab, 16);
	return 208;
}

TEST(objects_among_junk)
{
	static uint8_t buf[4096];
	struct bpfvm_embedded_object o[4];

	memset(buf, 0x7f, sizeof(buf));   /* every byte could start a header */
	header(buf, 62, 3, 0, 0);         /* the program's own header: x86-64 */
	CHECK_EQ_U64(bpf_object(buf + 1001), 208);
	CHECK_EQ_U64(bpf_object(buf + 1209), 208);   /* right after the first */
	CHECK_EQ_U64(bpf_object(buf + 3000), 208);
	CHECK_EQ_U64(bpfvm_embedded_objects(buf, sizeof(buf), o, 4), 3);
	CHECK_EQ_U64(o[0].offset, 1001);
	CHECK_EQ_U64(o[1].offset, 1209);
	CHECK_EQ_U64(o[2].offset, 3000);
	for (int i = 0; i < 3; i++) {
		CHECK_EQ_U64(o[i].size, 208);
		CHECK(!o[i].truncated);
	}
	/* room for one: the count still says three */
	memset(o, 0, sizeof(o));
	CHECK_EQ_U64(bpfvm_embedded_objects(buf, sizeof(buf), o, 1), 3);
	CHECK_EQ_U64(o[0].offset, 1001);
	CHECK_EQ_U64(o[1].offset, 0);
	CHECK_EQ_U64(bpfvm_embedded_objects(NULL, 100, o, 4), 0);
	CHECK_EQ_U64(bpfvm_embedded_objects(buf, 63, o, 4), 0);
}

TEST(truncated_objects)
{
	static uint8_t buf[1024 + 256];   /* the scans see 1024 of it: the end is cut off */
	struct bpfvm_embedded_object o[2];

	memset(buf, 0, sizeof(buf));
	header(buf, 62, 2, 0, 0);
	/* its section's bytes run 8 past the end of the file */
	bpf_object(buf + 1024 - 200);
	CHECK_EQ_U64(bpfvm_embedded_objects(buf, 1024, o, 2), 1);
	CHECK(o[0].truncated);
	CHECK_EQ_U64(o[0].size, 208);
	/* its section header table starts past the end */
	memset(buf, 0, sizeof(buf));
	header(buf + 100, 247, 1, UINT64_MAX - 10, 3);
	CHECK_EQ_U64(bpfvm_embedded_objects(buf, 1024, o, 2), 1);
	CHECK(o[0].truncated);
	CHECK_EQ_U64(o[0].size, SIZE_MAX);
	/* a section whose offset and size would wrap */
	memset(buf, 0, sizeof(buf));
	bpf_object(buf);
	put64(buf + 128 + 24, UINT64_MAX - 4);
	CHECK_EQ_U64(bpfvm_embedded_objects(buf, 1024, o, 2), 1);
	CHECK(o[0].truncated);
	CHECK_EQ_U64(o[0].size, SIZE_MAX);
	/* not a BPF relocatable object: an executable with EM_BPF, or 32-bit */
	memset(buf, 0, sizeof(buf));
	header(buf + 10, 247, 2, 64, 0);
	header(buf + 200, 247, 1, 64, 0);
	buf[204] = 1;
	CHECK_EQ_U64(bpfvm_embedded_objects(buf, 1024, o, 2), 0);
}

static const char *select_msg(const uint8_t *buf, size_t len, int index, int *err, size_t *off,
			      size_t *size)
{
	static char msg[2048];
	struct bpfvm_log log = { msg, sizeof(msg), 0 };

	msg[0] = '\0';
	*err = bpfvm_embedded_object__select(buf, len, "prog", index, &(struct bpfvm_embedded_select_opts){ .sz = sizeof(struct bpfvm_embedded_select_opts), .log = &log }, off, size);
	return msg;
}

TEST(choosing_one)
{
	static uint8_t buf[2048];
	size_t off = 0, size = 0;
	const char *msg;
	int err;

	memset(buf, 0, sizeof(buf));
	header(buf, 62, 3, 0, 0);
	bpf_object(buf + 300);
	bpf_object(buf + 700);
	msg = select_msg(buf, sizeof(buf), -1, &err, &off, &size);
	CHECK_EQ_INT(err, -ENOTUNIQ);
	CHECK_CONTAINS(msg, "prog is an x86-64 ELF binary with 2 embedded BPF objects; choose one by its index:");
	CHECK_CONTAINS(msg, "  0: 208 bytes at offset 0x12c");
	CHECK_CONTAINS(msg, "  1: 208 bytes at offset 0x2bc");
	msg = select_msg(buf, sizeof(buf), 2, &err, &off, &size);
	CHECK_EQ_INT(err, -ERANGE);
	CHECK_CONTAINS(msg, "prog has no embedded BPF object 2: it holds 2 (index 0 to 1):");
	msg = select_msg(buf, sizeof(buf), 1, &err, &off, &size);
	CHECK_EQ_INT(err, 0);
	CHECK_EQ_U64(off, 700);
	CHECK_EQ_U64(size, 208);
	CHECK_STR(msg, "");
	/* the last one cut short */
	msg = select_msg(buf, 700 + 100, 1, &err, &off, &size);
	CHECK_EQ_INT(err, -EINVAL);
	CHECK_CONTAINS(msg, "prog: the BPF object embedded at offset 0x2bc is truncated");
	/* an AArch64 shared object with none */
	memset(buf, 0, sizeof(buf));
	header(buf, 183, 3, 0, 0);
	msg = select_msg(buf, sizeof(buf), -1, &err, &off, &size);
	CHECK_EQ_INT(err, -ENOENT);
	CHECK_STR(msg, "prog is an AArch64 ELF binary with no embedded BPF object\n");
	/* not ELF, or a BPF object itself: the whole buffer is object 0 */
	memset(buf, 'x', sizeof(buf));
	msg = select_msg(buf, sizeof(buf), 3, &err, &off, &size);
	CHECK(err == 0 && off == 0 && size == sizeof(buf));
	bpf_object(buf);
	msg = select_msg(buf, 208, 0, &err, &off, &size);
	CHECK(err == 0 && off == 0 && size == 208);
	msg = select_msg(buf, 208, 1, &err, &off, &size);
	CHECK_EQ_INT(err, -ERANGE);
	CHECK_CONTAINS(msg, "prog is a BPF object, not a program embedding several");
}

TEST_MAIN()
