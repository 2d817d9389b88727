/*
 * bench_xdp_live.c - packets per second through XDP programs on live
 * frames (`make bench`): bpfvm's `xdp attach` (AF_PACKET TPACKET_V3 rings,
 * the JIT) against the kernel's own generic XDP (libbpf's
 * bpf_xdp_attach, XDP_FLAGS_SKB_MODE) on the same veth, with the same
 * object (live/xdp_live.bpf.c: drop, and parse-and-count).
 *
 * The bench makes two network namespaces of its own, G and R, joined by a
 * veth pair (vg, vr; IPv6 off, so only its frames flow), and removes them
 * at the end.  A generator in G sends 64-byte UDP frames out of vg as fast
 * as it can (AF_PACKET, past the qdisc, sendmmsg batches), addressed to
 * another host's MAC, so that R's stack drops them at once whatever the
 * verdict.  Each figure is the frames the program saw in SECS seconds
 * (bpfvm: its counters; the kernel: the program's own counter, read
 * before and after), next to what the generator offered meanwhile.  On
 * veth the kernel runs generic XDP in the sender's context, so its
 * figure is bounded by the generator's CPU; bpfvm reads on the other.
 *
 *   bench_xdp_live DIR     (DIR: xdp_live.bpf.o; BPFVM: the command)
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "netns.h"

#define SECS 2.0
#define WARM_US 300000
#define BATCH 64
#define FRAME 64

static char ns_g[32], ns_r[32];
static const char *dir, *bpfvm;
static volatile uint64_t *offered;   /* frames the generator sent (shared) */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char *setup(void)
{
	const char *ns[2] = { ns_g, ns_r };

	for (int i = 0; i < 2; i++) {
		if (sh("ip netns add %s", ns[i]))
			return "cannot create network namespaces (ip netns)";
		sh("ip netns exec %s sh -c 'echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6; "
		   "echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6'", ns[i]);
	}
	if (sh("ip -n %s link add vg type veth peer name vr netns %s", ns_g, ns_r))
		return "cannot create a veth pair";
	if (sh("ip -n %s link set vg up", ns_g) || sh("ip -n %s link set vr up", ns_r))
		return "cannot set the veth pair up";
	return NULL;
}

static void cleanup(void)
{
	sh("ip netns del %s", ns_g);
	sh("ip netns del %s", ns_r);
}

/* 64 bytes: Ethernet to another host's MAC, IPv4 10.79.0.1 -> 10.79.0.2, UDP to port 4000. */
static void build_frame(uint8_t *f)
{
	static const uint8_t hdr[] = {
		0x02, 0, 0, 0, 0, 0x99, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00,
		0x45, 0, 0, 50, 0, 0, 0x40, 0, 64, 17, 0, 0, 10, 79, 0, 1, 10, 79, 0, 2,
		0x0f, 0xa0, 0x0f, 0xa0, 0, 30, 0, 0,
	};
	uint32_t sum = 0;

	memset(f, 0, FRAME);
	memcpy(f, hdr, sizeof(hdr));
	for (int i = 14; i < 34; i += 2)
		sum += (uint32_t)f[i] << 8 | f[i + 1];
	sum = (sum & 0xffff) + (sum >> 16);
	sum = ~(sum + (sum >> 16)) & 0xffff;
	f[24] = (uint8_t)(sum >> 8);
	f[25] = (uint8_t)sum;
}

/* The generator: in G, frames out of vg until killed. */
static pid_t start_generator(void)
{
	pid_t pid = fork();

	if (pid)
		return pid;
	uint8_t frame[FRAME];
	struct mmsghdr msgs[BATCH];
	struct iovec iov = { frame, FRAME };
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_halen = 6 };
	int one = 1, fd;

	if (netns_enter(ns_g) || (fd = socket(AF_PACKET, SOCK_RAW, 0)) < 0)
		_exit(1);
	sll.sll_ifindex = (int)if_nametoindex("vg");
	setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
	build_frame(frame);
	memset(msgs, 0, sizeof(msgs));
	for (int i = 0; i < BATCH; i++) {
		msgs[i].msg_hdr.msg_iov = &iov;
		msgs[i].msg_hdr.msg_iovlen = 1;
		msgs[i].msg_hdr.msg_name = &sll;
		msgs[i].msg_hdr.msg_namelen = sizeof(sll);
	}
	for (;;) {
		int n = sendmmsg(fd, msgs, BATCH, 0);

		if (n > 0)
			__atomic_fetch_add(offered, (uint64_t)n, __ATOMIC_RELAXED);
	}
}

static void stop_generator(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static uint64_t counter(int map_fd)
{
	uint32_t k = 0;
	uint64_t v = 0;

	bpf_map_lookup_elem(map_fd, &k, &v);
	return v;
}

/* The kernel's generic XDP: frames per second the program saw, offered per second in *off; -1 with why. */
static double kernel_pps(const char *prog, double *off, char *why, size_t size)
{
	char path[512];
	struct bpf_object *obj;
	struct bpf_program *p;
	int ifindex = (int)if_nametoindex("vr"), err, map_fd;
	uint64_t c0, o0;
	double t0, rate = -1;
	pid_t gen;

	snprintf(path, sizeof(path), "%s/xdp_live.bpf.o", dir);
	obj = bpf_object__open_file(path, NULL);
	if (!obj || (err = bpf_object__load(obj))) {
		snprintf(why, size, "the kernel refuses to load it (bpf() unavailable?)");
		bpf_object__close(obj);
		return -1;
	}
	p = bpf_object__find_program_by_name(obj, prog);
	map_fd = bpf_object__find_map_fd_by_name(obj, "frames");
	err = bpf_xdp_attach(ifindex, bpf_program__fd(p), XDP_FLAGS_SKB_MODE, NULL);
	if (err) {
		snprintf(why, size, "the kernel refuses generic XDP on veth: %s", strerror(-err));
		bpf_object__close(obj);
		return -1;
	}
	gen = start_generator();
	usleep(WARM_US);
	c0 = counter(map_fd);
	o0 = *offered;
	t0 = now_s();
	usleep((useconds_t)(SECS * 1e6));
	rate = (double)(counter(map_fd) - c0) / (now_s() - t0);
	*off = (double)(*offered - o0) / (now_s() - t0);
	stop_generator(gen);
	bpf_xdp_detach(ifindex, XDP_FLAGS_SKB_MODE, NULL);
	bpf_object__close(obj);
	return rate;
}

/* bpfvm xdp attach for SECS seconds: frames per second, offered per second in *off, ring drops. */
static double bpfvm_pps(const char *prog, double *off, uint64_t *drops)
{
	char cmd[1024], line[1024];
	unsigned long long frames = 0, rd = 0;
	double t0, t1;
	uint64_t o0;
	FILE *f;
	pid_t gen = start_generator();

	usleep(WARM_US);
	snprintf(cmd, sizeof(cmd), "%s xdp attach %s/xdp_live.bpf.o --prog %s --dev vr --duration %.1f "
		 "--json 2>/dev/null", bpfvm, dir, prog, SECS);
	o0 = *offered;
	t0 = now_s();
	f = popen(cmd, "r");
	while (f && fgets(line, sizeof(line), f)) {
		char *fr = strstr(line, "\"frames\":"), *d = strstr(line, "\"ring_drops\":");

		if (strstr(line, "\"type\":\"counters\"") && fr && d) {
			frames = strtoull(fr + 9, NULL, 10);
			rd = strtoull(d + 13, NULL, 10);
		}
	}
	t1 = now_s();
	*off = (double)(*offered - o0) / (t1 - t0);
	stop_generator(gen);
	if (!f || pclose(f) || !frames)
		return -1;
	*drops = rd;
	return (double)frames / SECS;
}

int main(int argc, char **argv)
{
	static const char *const progs[2] = { "drop", "parse" };
	const char *err;
	char why[256] = "";

	dir = argc > 1 ? argv[1] : "build/bench/live";
	bpfvm = getenv("BPFVM") ? getenv("BPFVM") : "build/bpfvm";
	printf("\n== live frames: XDP on a veth pair, bpfvm xdp attach (AF_PACKET rings, JIT) "
	       "against the kernel's generic XDP, %.0f s each\n", SECS);
	if (geteuid()) {
		printf("SKIP: needs root (network namespaces, AF_PACKET, XDP)\n");
		return 0;
	}
	offered = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (offered == MAP_FAILED)
		return 1;
	snprintf(ns_g, sizeof(ns_g), "bpfvm_bxg%d", getpid());
	snprintf(ns_r, sizeof(ns_r), "bpfvm_bxr%d", getpid());
	if ((err = setup()) || netns_enter(ns_r)) {
		printf("SKIP: %s\n", err ? err : "cannot enter the namespace");
		cleanup();
		return 0;
	}
	libbpf_set_print(NULL);
	printf("%-22s %14s %14s %14s %14s %12s\n", "program", "kernel pps", "(offered)", "bpfvm pps",
	       "(offered)", "bpfvm/kernel");
	for (int i = 0; i < 2; i++) {
		double koff = 0, boff = 0, k = kernel_pps(progs[i], &koff, why, sizeof(why));
		uint64_t drops = 0;
		double b = bpfvm_pps(progs[i], &boff, &drops);

		printf("%-22s ", i ? "parse and count (PASS)" : "drop (count, DROP)");
		if (k > 0)
			printf("%14.0f %14.0f ", k, koff);
		else
			printf("%14s %14s ", "-", "-");
		if (b > 0)
			printf("%14.0f %14.0f ", b, boff);
		else
			printf("%14s %14s ", "failed", "-");
		if (k > 0 && b > 0)
			printf("%12.2f", b / k);
		if (b > 0 && drops)
			printf("   (bpfvm's rings dropped %llu)", (unsigned long long)drops);
		if (k <= 0)
			printf("   (%s)", why);
		printf("\n");
	}
	cleanup();
	return 0;
}
