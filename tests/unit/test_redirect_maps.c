/*
 * test_redirect_maps.c - the maps XDP programs redirect through (devmap,
 * devmap_hash, cpumap, xskmap) and the redirect helpers: the kernel's
 * creation checks and error codes that test_kernel_maps cannot reach
 * (2^31 buckets, programs on entries, AF_XDP sockets), and what an XDP
 * program's bpf_redirect / bpf_redirect_map leave for the embedder in
 * every execution mode: the verdict, the target and the flags, as the
 * kernel's __bpf_xdp_redirect_map sets them.
 */
#include <errno.h>
#include <linux/bpf.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpfvm/hooks.h>

#include "prog_util.h"

static const enum bpfvm_exec modes[] = { BPFVM_EXEC_CHECKED, BPFVM_EXEC_UNCHECKED,
					 BPFVM_EXEC_JIT };

TEST(devmap_creation_and_entries)
{
	struct bpfvm *vm = bpfvm__new(NULL);
	struct bpfvm_map *m;
	uint32_t key = 0, val[2] = { 1, 0 }, out[2];

	CHECK(!bpfvm_map__new(vm, BPFVM_MAP_TYPE_DEVMAP_HASH, 4, 4, (1u << 31) + 1, NULL));
	CHECK_EQ_INT(errno, EINVAL);
	CHECK(!bpfvm_map__new(vm, BPFVM_MAP_TYPE_DEVMAP, 4, 12, 4, NULL));
	CHECK_EQ_INT(errno, EINVAL);
	m = bpfvm_map__new(vm, BPFVM_MAP_TYPE_DEVMAP, 4, 8, 4, NULL);
	CHECK(m != NULL);
	/* the kernel makes a devmap read-only to programs */
	CHECK(bpfvm_map__flags(m) & BPFVM_F_RDONLY_PROG);
	CHECK_EQ_INT(bpfvm_map__lookup_elem(m, &key, out, 0), -ENOENT);
	CHECK_EQ_INT(bpfvm_map__update_elem(m, &key, val, 0), 0);
	CHECK_EQ_INT(bpfvm_map__lookup_elem(m, &key, out, 0), 0);
	CHECK_EQ_INT(out[0], 1);
	CHECK_EQ_INT(out[1], 0);
	val[1] = 3;   /* a program fd: bpfvm runs none on devmap entries */
	CHECK_EQ_INT(bpfvm_map__update_elem(m, &key, val, 0), -EOPNOTSUPP);
	val[0] = 0;   /* no device with a program: the kernel's -EINVAL */
	CHECK_EQ_INT(bpfvm_map__update_elem(m, &key, val, 0), -EINVAL);
	val[1] = 0;   /* ifindex 0 empties the slot */
	CHECK_EQ_INT(bpfvm_map__update_elem(m, &key, val, 0), 0);
	CHECK_EQ_INT(bpfvm_map__lookup_elem(m, &key, out, 0), -ENOENT);
	bpfvm__destroy(vm);
}

TEST(devmap_hash_order_and_limits)
{
	struct bpfvm *vm = bpfvm__new(NULL);
	struct bpfvm_map *m = bpfvm_map__new(vm, BPFVM_MAP_TYPE_DEVMAP_HASH, 4, 4, 3, NULL);
	uint32_t lo = 1, k, next, keys[] = { 7, 3, 11 };

	CHECK(m != NULL);
	for (int i = 0; i < 3; i++)
		CHECK_EQ_INT(bpfvm_map__update_elem(m, &keys[i], &lo, BPFVM_NOEXIST), 0);
	k = 100;
	CHECK_EQ_INT(bpfvm_map__update_elem(m, &k, &lo, 0), -E2BIG);
	CHECK_EQ_INT(bpfvm_map__update_elem(m, &keys[0], &lo, BPFVM_NOEXIST), -EEXIST);
	/* 4 buckets by the key's low bits, newest first: bucket 3 holds 11, 7, 3 */
	CHECK_EQ_INT(bpfvm_map__get_next_key(m, NULL, &next), 0);
	CHECK_EQ_INT(next, 11);
	CHECK_EQ_INT(bpfvm_map__get_next_key(m, &next, &next), 0);
	CHECK_EQ_INT(next, 3);
	CHECK_EQ_INT(bpfvm_map__get_next_key(m, &next, &next), 0);
	CHECK_EQ_INT(next, 7);
	CHECK_EQ_INT(bpfvm_map__get_next_key(m, &next, &next), -ENOENT);
	CHECK_EQ_INT(bpfvm_map__delete_elem(m, &keys[1]), 0);
	CHECK_EQ_INT(bpfvm_map__delete_elem(m, &keys[1]), -ENOENT);
	bpfvm__destroy(vm);
}

TEST(cpumap_and_xskmap_checks)
{
	struct bpfvm *vm = bpfvm__new(NULL);
	struct bpfvm_map *c = bpfvm_map__new(vm, BPFVM_MAP_TYPE_CPUMAP, 4, 4, 2, NULL);
	struct bpfvm_map *x = bpfvm_map__new(vm, BPFVM_MAP_TYPE_XSKMAP, 4, 4, 2, NULL);
	uint32_t key = 0, q = 16385, out;
	int fd = socket(AF_INET, SOCK_DGRAM, 0), xfd = socket(44 /* AF_XDP */, SOCK_RAW, 0);

	CHECK(!bpfvm_map__new(vm, BPFVM_MAP_TYPE_CPUMAP, 4, 4, 257, NULL));
	CHECK_EQ_INT(errno, E2BIG);
	CHECK(c && x);
	CHECK_EQ_INT(bpfvm_map__update_elem(c, &key, &q, 0), -EOVERFLOW);
	q = 32;
	CHECK_EQ_INT(bpfvm_map__update_elem(c, &key, &q, 0), 0);
	CHECK_EQ_INT(bpfvm_map__lookup_elem(c, &key, &out, 0), 0);
	CHECK_EQ_INT(out, 32);
	/* xskmap: slots hold AF_XDP sockets, and the syscall never reads them back */
	CHECK_EQ_INT(bpfvm_map__update_elem(x, &key, &(int){ 9999 }, 0), -EBADF);
	CHECK_EQ_INT(bpfvm_map__update_elem(x, &key, &(int){ 0 }, 0) == -ENOTSOCK ||
		     bpfvm_map__update_elem(x, &key, &(int){ 0 }, 0) == -EBADF, 1);
	CHECK_EQ_INT(bpfvm_map__update_elem(x, &key, &fd, 0), -EOPNOTSUPP);
	if (xfd >= 0) {
		CHECK_EQ_INT(bpfvm_map__update_elem(x, &key, &xfd, BPFVM_EXIST), -ENOENT);
		CHECK_EQ_INT(bpfvm_map__update_elem(x, &key, &xfd, 0), 0);
		CHECK_EQ_INT(bpfvm_map__update_elem(x, &key, &xfd, BPFVM_NOEXIST), 0); /* same socket */
		close(xfd);
	}
	CHECK_EQ_INT(bpfvm_map__lookup_elem(x, &key, &out, 0), -EOPNOTSUPP);
	close(fd);
	bpfvm__destroy(vm);
}

/* An XDP program: return bpf_redirect_map(map, key, flags) (or bpf_redirect(key, flags)). */
static struct bpfvm_prog *redirect_prog(struct bpfvm *vm, struct bpfvm_map *map, uint32_t key,
					uint32_t flags, char *msg, size_t msgsz)
{
	struct bpfvm_insn with_map[] = {
		LD_MAP_FD(1, 0), MOV64(2, key), MOV64(3, flags), CALL(BPF_FUNC_redirect_map), EXIT,
	};
	struct bpfvm_insn plain[] = { MOV64(1, key), MOV64(2, flags), CALL(BPF_FUNC_redirect), EXIT };
	struct bpfvm_log log = { msg, msgsz, 0 };
	BPFVM_OPTS(bpfvm_prog_opts, o, .prog_type = BPF_PROG_TYPE_XDP, .maps = &map,
		   .nmaps = map ? 1 : 0, .license = "GPL", .log = &log);
	BPFVM_OPTS(bpfvm_verify_opts, v, .log = &log);
	struct bpfvm_prog *p;

	bpfvm__add_context_helpers(vm);
	p = map ? bpfvm_prog__new(vm, with_map, N(with_map), &o)
		: bpfvm_prog__new(vm, plain, N(plain), &o);
	if (!p || bpfvm_prog__verify(p, &v)) {
		TEST_FAIL("redirect program: %s", msg);
		return NULL;
	}
	return p;
}

static void check_redirect(struct bpfvm *vm, struct bpfvm_map *map, uint32_t key, uint32_t flags,
			   uint64_t verdict, uint32_t ifindex, uint64_t rflags)
{
	char msg[1024] = "";
	struct bpfvm_prog *p = redirect_prog(vm, map, key, flags, msg, sizeof(msg));
	uint8_t pkt[64] = { [12] = 0x08 };

	for (size_t i = 0; p && i < N(modes); i++) {
		struct bpfvm_log log = { msg, sizeof(msg), 0 };
		BPFVM_OPTS(bpfvm_test_run_opts, o, .data_in = pkt, .data_size_in = sizeof(pkt),
			   .mode = modes[i], .log = &log);

		CHECK_EQ_INT(bpfvm_prog__test_run(p, &o), 0);
		CHECK_EQ_U64(o.retval, verdict);
		CHECK_EQ_INT(o.redirect.ifindex, ifindex);
		CHECK_EQ_U64(o.redirect.flags, rflags);
		CHECK(verdict != XDP_REDIRECT || o.redirect.map == map);
		CHECK(verdict != XDP_REDIRECT || o.redirect.key == key);
	}
	bpfvm_prog__destroy(p);
}

TEST(redirect_helpers_set_the_target)
{
	struct bpfvm *vm = bpfvm__new(NULL);
	struct bpfvm_map *d = bpfvm_map__new(vm, BPFVM_MAP_TYPE_DEVMAP, 4, 4, 4, NULL);
	struct bpfvm_map *c = bpfvm_map__new(vm, BPFVM_MAP_TYPE_CPUMAP, 4, 4, 1, NULL);
	uint32_t key = 2, lo = 1, q = 8;

	CHECK(d && c);
	CHECK_EQ_INT(bpfvm_map__update_elem(d, &key, &lo, 0), 0);
	key = 0;
	CHECK_EQ_INT(bpfvm_map__update_elem(c, &key, &q, 0), 0);
	check_redirect(vm, d, 2, 0, XDP_REDIRECT, 1, 0);
	/* an empty slot: the low two bits of flags are the verdict */
	check_redirect(vm, d, 1, XDP_PASS, XDP_PASS, 0, 0);
	check_redirect(vm, d, 3, 0, XDP_ABORTED, 0, 0);
	/* broadcast needs no entry; the flags are kept, no single device */
	check_redirect(vm, d, 0, BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS, XDP_REDIRECT, 0,
		       BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS);
	/* flags a type does not take: XDP_ABORTED */
	check_redirect(vm, c, 0, BPF_F_BROADCAST, XDP_ABORTED, 0, 0);
	check_redirect(vm, d, 2, 1u << 5, XDP_ABORTED, 0, 0);
	check_redirect(vm, c, 0, 0, XDP_REDIRECT, 0, 0);
	/* bpf_redirect: the ifindex; any flag aborts in XDP */
	check_redirect(vm, NULL, 7, 0, XDP_REDIRECT, 7, 0);
	check_redirect(vm, NULL, 7, BPF_F_INGRESS, XDP_ABORTED, 0, 0);
	bpfvm__destroy(vm);
}

TEST(xdp_runner_runs_frame_after_frame)
{
	struct bpfvm *vm = bpfvm__new(NULL);
	/* r0 = XDP_DROP if xdp_md->ingress_ifindex == 5 && rx_queue_index == 1, else XDP_PASS */
	const struct bpfvm_insn insns[] = {
		LDXW(2, 1, 12), LDXW(3, 1, 16), MOV64(0, XDP_PASS), JNEI(2, 5, 2), JNEI(3, 1, 1),
		MOV64(0, XDP_DROP), EXIT,
	};
	char msg[512] = "";
	struct bpfvm_log log = { msg, sizeof(msg), 0 };
	BPFVM_OPTS(bpfvm_prog_opts, o, .prog_type = BPF_PROG_TYPE_XDP, .license = "GPL", .log = &log);
	BPFVM_OPTS(bpfvm_verify_opts, v, .log = &log);
	struct bpfvm_prog *p = bpfvm_prog__new(vm, insns, N(insns), &o);
	uint8_t frame[60] = { [12] = 0x08 };
	struct bpfvm_xdp_result res;

	CHECK(p && !bpfvm_prog__verify(p, &v));
	for (size_t i = 0; p && i < N(modes); i++) {
		struct bpfvm_xdp_runner *r = bpfvm_xdp_runner__new(p, 1514, modes[i], &(struct bpfvm_xdp_runner_opts){ .sz = sizeof(struct bpfvm_xdp_runner_opts), .log = &log });

		CHECK(r != NULL);
		CHECK_EQ_INT(bpfvm_xdp_runner__run(r, frame, sizeof(frame), 5, 1, &res), 0);
		CHECK_EQ_INT(res.verdict, XDP_DROP);
		CHECK_EQ_INT(res.len, sizeof(frame));
		CHECK_EQ_INT(bpfvm_xdp_runner__run(r, frame, sizeof(frame), 5, 0, &res), 0);
		CHECK_EQ_INT(res.verdict, XDP_PASS);
		CHECK_EQ_INT(bpfvm_xdp_runner__run(r, frame, 1515, 5, 0, &res), -EINVAL);
		CHECK_EQ_INT(bpfvm_xdp_runner__run(r, frame, 10, 5, 0, &res), -EINVAL);
		bpfvm_xdp_runner__destroy(r);
	}
	bpfvm__destroy(vm);
}

TEST_MAIN()
