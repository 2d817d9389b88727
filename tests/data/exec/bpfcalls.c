/*
 * bpfcalls.c - bpf() calls with their answers printed one a line, run in
 * the kernel and under `bpfvm exec` (tests/scripts/test_exec.sh compares
 * the two): an unknown command, a non-zero tail beyond the kernel's
 * union bpf_attr, a non-zero byte after a command's last field, a log
 * buffer too small, a map's life (create, update, lookup, next key,
 * delete, info by fd), a program load that fails with the kernel's errno,
 * an mmapable array written through its mapping and read with bpf(), a
 * ring buffer mapped as libbpf maps it (consumer page, then the producer
 * page and the data twice); with a bpffs directory as argument, a map
 * pinned there and got again by its path.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static char attr[4096];

static void show(const char *what, long r)
{
	printf("%s: %s\n", what, r < 0 ? strerror(errno) : r > 0 ? "ok" : "0");
}

static long bpf(int cmd, unsigned size)
{
	return syscall(SYS_bpf, cmd, attr, size);
}

static void put32(size_t off, uint32_t v) { memcpy(attr + off, &v, 4); }
static void put64(size_t off, uint64_t v) { memcpy(attr + off, &v, 8); }

static int array_map(void)
{
	memset(attr, 0, sizeof(attr));
	put32(0, 2);      /* BPF_MAP_TYPE_ARRAY */
	put32(4, 4);
	put32(8, 8);
	put32(12, 4);
	strcpy(attr + 28, "calls");
	return (int)bpf(0, 72);
}

static void map_life(int fd)
{
	uint32_t key = 2, next = 0, info[26] = { 0 };
	uint64_t value = 0x1122334455667788ull, got = 0;

	memset(attr, 0, sizeof(attr));
	put32(0, (uint32_t)fd);
	put64(8, (uintptr_t)&key);
	put64(16, (uintptr_t)&value);
	show("update", bpf(2, 32));
	put64(16, (uintptr_t)&got);
	show("lookup", bpf(1, 32));
	printf("value %llx\n", (unsigned long long)got);
	key = 9;
	show("lookup out of range", bpf(1, 32));
	key = 3;
	put64(16, (uintptr_t)&next);
	show("next key of the last", bpf(4, 24));
	show("delete from an array", bpf(3, 32));
	memset(attr, 0, sizeof(attr));
	put32(0, (uint32_t)fd);
	put32(4, sizeof(info));
	put64(8, (uintptr_t)info);
	show("info", bpf(15, 16));
	printf("info type %u key %u value %u max %u flags %u name %.16s\n", info[0], info[2],
	       info[3], info[4], info[5], (char *)&info[6]);
}

static void prog_load(const void *insns, uint32_t cnt, uint32_t log_size, const char *what)
{
	static char log[256];

	memset(attr, 0, sizeof(attr));
	put32(0, 1);      /* BPF_PROG_TYPE_SOCKET_FILTER */
	put32(4, cnt);
	put64(8, (uintptr_t)insns);
	put64(16, (uintptr_t)"GPL");
	put32(24, log_size ? 1 : 0);
	put32(28, log_size);
	put64(32, log_size ? (uintptr_t)log : 0);
	show(what, bpf(5, 128));
}

static int new_map(uint32_t type, uint32_t key, uint32_t value, uint32_t max, uint32_t flags)
{
	memset(attr, 0, sizeof(attr));
	put32(0, type);
	put32(4, key);
	put32(8, value);
	put32(12, max);
	put32(16, flags);
	return (int)bpf(0, 72);
}

static void mapped_array(void)
{
	int fd = new_map(2, 4, 8, 16, 1u << 10);   /* BPF_F_MMAPABLE */
	uint64_t *v, got = 0;
	uint32_t key = 5;

	show("mmapable array", fd);
	v = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	printf("array mapped: %s\n", v == MAP_FAILED ? strerror(errno) : "ok");
	if (v == MAP_FAILED)
		return;
	v[5] = 0xabcdef;
	memset(attr, 0, sizeof(attr));
	put32(0, (uint32_t)fd);
	put64(8, (uintptr_t)&key);
	put64(16, (uintptr_t)&got);
	show("lookup of what the mapping wrote", bpf(1, 32));
	printf("value %llx\n", (unsigned long long)got);
}

static long pin(int cmd, const char *path, int fd)
{
	memset(attr, 0, sizeof(attr));
	put64(0, (uintptr_t)path);
	put32(8, (uint32_t)fd);
	return bpf(cmd, 20);
}

/* BPF_OBJ_PIN, BPF_OBJ_GET: a pinned map found again by its path */
static void pins(int map_fd, const char *dir)
{
	char path[256], other[256];
	uint32_t key = 2;
	uint64_t got = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/pinned", dir);
	snprintf(other, sizeof(other), "%s/none", dir);
	show("pin", pin(6, path, map_fd));
	show("pin again", pin(6, path, map_fd));
	show("pin outside bpffs", pin(6, "/tmp/bpfvm-exec-pin", map_fd));
	show("get a path never pinned", pin(7, other, 0));
	fd = (int)pin(7, path, 0);
	show("get", fd);
	memset(attr, 0, sizeof(attr));
	put32(0, (uint32_t)fd);
	put64(8, (uintptr_t)&key);
	put64(16, (uintptr_t)&got);
	show("lookup through the pinned map", bpf(1, 32));
	printf("value %llx\n", (unsigned long long)got);
	unlink(path);
}

static void mapped_ringbuf(void)
{
	long page = sysconf(_SC_PAGESIZE);
	int fd = new_map(27, 0, 0, (uint32_t)page * 4, 0);
	unsigned long *cons, *prod;

	show("ring buffer", fd);
	cons = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	prod = mmap(NULL, (size_t)page * 9, PROT_READ, MAP_SHARED, fd, page);
	printf("ring buffer mapped: %s %s\n", cons == MAP_FAILED ? strerror(errno) : "ok",
	       prod == MAP_FAILED ? strerror(errno) : "ok");
	if (cons != MAP_FAILED && prod != MAP_FAILED)
		printf("positions %lu %lu\n", *cons, *prod);
}

int main(int argc, char **argv)
{
	/* r0 = 0; exit, and an exit with r0 never written */
	static const uint64_t ok[] = { 0x00000000000000b7ull, 0x0000000000000095ull };
	static const uint64_t bad[] = { 0x0000000000000095ull };
	int fd;

	setvbuf(stdout, NULL, _IOLBF, 0);
	memset(attr, 0, sizeof(attr));
	show("unknown command", bpf(999, 64));
	attr[300] = 1;
	show("non-zero tail", bpf(0, sizeof(attr)));
	fd = array_map();
	show("map create", fd);
	attr[100] = 1;
	show("non-zero byte after map_create's fields", bpf(0, 120));
	if (fd > 0) {
		map_life(fd);
		if (argc > 1)
			pins(fd, argv[1]);
	}
	prog_load(ok, 2, 0, "prog load");
	prog_load(bad, 1, 0, "prog load, r0 not written");
	prog_load(ok, 2, 64, "prog load, log of 64 bytes");
	prog_load(ok, 0, 0, "prog load, no instructions");
	mapped_array();
	mapped_ringbuf();
	return 0;
}
