/*
 * test_ringbuf_libbpf.c - libbpf's own ring buffer consumer
 * (ring_buffer__new / ring_buffer__consume) reads bpfvm's ring buffer.
 * libbpf expects a kernel map fd: it asks the kernel for the map's info,
 * polls it with epoll and mmap()s it (the consumer page at offset 0, the
 * producer page and the data twice at one page).  This test links libbpf
 * statically and wraps exactly those calls for bpfvm's fd; everything
 * libbpf then reads (positions, headers, busy and discard bits, records
 * that wrap) is bpfvm's memory as the kernel would lay it out.
 *
 * Built by the Makefile with -Wl,--wrap=... against libbpf.a; without
 * libbpf.a it is built with NO_LIBBPF and skips.
 */
#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "maps/map.h"
#include "prog_util.h"

#ifdef NO_LIBBPF
int main(void)
{
	printf("SKIP ringbuf_libbpf: libbpf.a is not installed (libbpf-dev)\n");
	return 0;
}
#else
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <sys/epoll.h>

static int rb_fd = -1;
static char *rb_area;
static size_t rb_area_size;
static uint32_t rb_size;

int __real_bpf_obj_get_info_by_fd(int fd, void *info, __u32 *info_len);
void *__real_mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off);
int __real_munmap(void *addr, size_t len);
int __real_epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev);

/* The kernel would describe its map: a ring buffer of rb_size bytes. */
int __wrap_bpf_obj_get_info_by_fd(int fd, void *info, __u32 *info_len)
{
	struct bpf_map_info *mi = info;

	if (fd != rb_fd)
		return __real_bpf_obj_get_info_by_fd(fd, info, info_len);
	memset(mi, 0, *info_len);
	mi->type = BPF_MAP_TYPE_RINGBUF;
	mi->max_entries = rb_size;
	return 0;
}

/* The kernel's mmap of a ring buffer fd gives these views of the same memory. */
void *__wrap_mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	long page = sysconf(_SC_PAGESIZE);

	if (fd != rb_fd)
		return __real_mmap64(addr, len, prot, flags, fd, off);
	if (off == 0 && len == (size_t)page)
		return rb_area;
	if (off == page && len == (size_t)page + 2 * (size_t)rb_size)
		return rb_area + page;
	errno = EINVAL;
	return MAP_FAILED;
}

int __wrap_munmap(void *addr, size_t len)
{
	if ((char *)addr >= rb_area && (char *)addr < rb_area + rb_area_size)
		return 0;   /* bpfvm's, freed with the map */
	return __real_munmap(addr, len);
}

int __wrap_epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	return fd == rb_fd ? 0 : __real_epoll_ctl(epfd, op, fd, ev);
}

struct seen {
	uint64_t bytes;
	int records;
	uint32_t next;      /* the value the next record starts with */
	int bad;
};

static int sample_cb(void *ctx, void *data, size_t size)
{
	struct seen *s = ctx;
	const uint8_t *p = data;

	for (size_t i = 0; i < size; i++)
		s->bad += p[i] != (uint8_t)(s->next + i);
	s->next++;
	s->records++;
	s->bytes += size;
	return 0;
}

TEST(libbpf_reads_bpfvm_ring_buffers)
{
	struct bpfvm *vm = bpfvm__new(NULL);
	uint32_t page = (uint32_t)sysconf(_SC_PAGESIZE);
	struct bpfvm_map *m = pu_map(vm, BPFVM_MAP_TYPE_RINGBUF, 0, 0, page, 0);
	struct seen seen = { 0, 0, 0, 0 };
	struct ring_buffer *rb;
	uint64_t bytes = 0;
	uint32_t value = 0;
	int expected = 0;

	rb_fd = bpfvm_map__ringbuf_fd(m);
	rb_size = page;
	rb_area = bpfvm_map__ringbuf_area(m, &rb_area_size);
	rb = ring_buffer__new(rb_fd, sample_cb, &seen, NULL);
	CHECK(rb != NULL);
	if (!rb) {
		bpfvm__destroy(vm);
		return;
	}
	/* Many rounds of odd-sized records, some discarded, so that records wrap. */
	for (int round = 0; round < 50; round++) {
		for (int i = 0; i < 7; i++) {
			uint32_t size = 1 + (uint32_t)(round * 31 + i * 57) % 400;
			uint8_t *rec = ringbuf_reserve(m, size);
			bool discard = (round + i) % 6 == 5;

			if (!rec)
				break;
			for (uint32_t j = 0; j < size; j++)
				rec[j] = (uint8_t)(value + j);
			ringbuf_commit(rec, 0, discard);
			if (!discard) {
				value++;
				expected++;
				bytes += size;
			}
		}
		CHECK(ring_buffer__consume(rb) >= 0);
	}
	CHECK_EQ_INT(seen.records, expected);
	CHECK_EQ_U64(seen.bytes, bytes);
	CHECK_EQ_INT(seen.bad, 0);
	ring_buffer__free(rb);
	bpfvm__destroy(vm);
}

TEST_MAIN()
#endif
