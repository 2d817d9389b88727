/*
 * test_kernel_xdp_live.c - `bpfvm xdp attach` as a user-space bridge on
 * real interfaces.  Three network namespaces of the test's own: A
 * (10.77.0.1) and B (10.77.0.2), each joined by a veth pair to a bridge
 * namespace R, whose two ends have no addresses; bpfvm runs
 * examples/xdp_bridge.bpf.c in R on both ends (--ports: the devmap holds
 * them; broadcast redirect to the other), so bpfvm alone carries frames
 * between A and B.  Then, from A: pings to B are answered, UDP and TCP to
 * port 7777 / 8080 arrive, UDP and TCP to port 9999 (the program drops
 * them) do not; after Ctrl-C (SIGINT) bpfvm's XDP_DROP / XDP_REDIRECT
 * counters equal the program's own (the `verdicts` map, --dump-maps) and
 * at least the frames sent to port 9999 were dropped.  Every namespace is
 * removed at the end; every wait is bounded.
 *
 * Before bpfvm starts, a ping must go unanswered (nothing else joins A
 * and B).  Skips (with the reason) without root, ip(8) netns, clang or libbpf's
 * headers.  Environment: BUILD (build), CLANG (clang-19, else clang).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "netns.h"
#include "test.h"

static char ns_a[32], ns_b[32], ns_r[32], obj[256], out[256], bpfvm[256];
static pid_t bridge = -1;

static void cleanup(void)
{
	if (bridge > 0) {
		kill(bridge, SIGKILL);
		waitpid(bridge, NULL, 0);
	}
	sh("ip netns del %s", ns_a);
	sh("ip netns del %s", ns_b);
	sh("ip netns del %s", ns_r);
	unlink(obj);
	unlink(out);
}

/* A and B, each a veth pair to R; R's ends without addresses. */
static const char *setup(void)
{
	static const char *const noip6 = "sh -c 'echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6; "
					 "echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6'";
	const char *ns[3] = { ns_a, ns_b, ns_r };

	for (int i = 0; i < 3; i++)
		if (sh("ip netns add %s", ns[i]) || sh("ip netns exec %s %s", ns[i], noip6))
			return "cannot create network namespaces with ip netns";
	if (sh("ip -n %s link add va type veth peer name ra netns %s", ns_a, ns_r) ||
	    sh("ip -n %s link add vb type veth peer name rb netns %s", ns_b, ns_r))
		return "cannot create veth pairs";
	if (sh("ip -n %s addr add 10.77.0.1/24 dev va", ns_a) ||
	    sh("ip -n %s addr add 10.77.0.2/24 dev vb", ns_b) || sh("ip -n %s link set va up", ns_a) ||
	    sh("ip -n %s link set vb up", ns_b) || sh("ip -n %s link set ra up", ns_r) ||
	    sh("ip -n %s link set rb up", ns_r) || sh("ip -n %s link set lo up", ns_b))
		return "cannot configure the veth pairs";
	return NULL;
}

static bool output_has(const char *needle)
{
	char buf[65536];
	FILE *f = fopen(out, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

	if (f)
		fclose(f);
	buf[n] = '\0';
	return strstr(buf, needle) != NULL;
}

static int start_bridge(void)
{
	if ((bridge = fork()) < 0)
		return -1;
	if (!bridge) {
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (fd < 0 || netns_enter(ns_r))
			_exit(127);
		dup2(fd, 1);
		dup2(fd, 2);
		execl(bpfvm, bpfvm, "xdp", "attach", obj, "--prog", "xdp_bridge", "--dev", "ra",
		      "--dev", "rb", "--ports", "ports", "--dump-maps", "--duration", "60", NULL);
		_exit(127);
	}
	for (int i = 0; i < 100; i++) {   /* 10 s */
		if (output_has("attached"))
			return 0;
		if (waitpid(bridge, NULL, WNOHANG) == bridge) {
			bridge = -1;
			return -1;
		}
		usleep(100000);
	}
	return -1;
}

static uint16_t icmp_sum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		s += (uint32_t)(b[i] << 8 | b[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return htons((uint16_t)~s);
}

/* One echo request from the current namespace to 10.77.0.2: answered within 2 s? */
static bool ping(int seq)
{
	struct sockaddr_in to = { .sin_family = AF_INET };
	struct icmphdr req = { .type = ICMP_ECHO };
	uint8_t buf[1500];
	int fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
	bool ok = false;

	inet_pton(AF_INET, "10.77.0.2", &to.sin_addr);
	req.un.echo.id = htons((uint16_t)getpid());
	req.un.echo.sequence = htons((uint16_t)seq);
	req.checksum = icmp_sum(&req, sizeof(req));
	if (fd < 0 || sendto(fd, &req, sizeof(req), 0, (struct sockaddr *)&to, sizeof(to)) < 0)
		goto out;
	for (int i = 0; i < 20 && !ok; i++) {
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t n;

		if (poll(&p, 1, 100) <= 0)
			continue;
		n = recv(fd, buf, sizeof(buf), 0);
		if (n >= 28) {
			struct icmphdr *h = (struct icmphdr *)(buf + (buf[0] & 15) * 4);

			ok = h->type == ICMP_ECHOREPLY && h->un.echo.id == req.un.echo.id &&
			     h->un.echo.sequence == req.un.echo.sequence;
		}
	}
out:
	if (fd >= 0)
		close(fd);
	return ok;
}

static int bound(int type, int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), one = 1;

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    (type == SOCK_STREAM && listen(fd, 8))) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Datagrams that arrive on fd within ms. */
static int udp_received(int fd, int ms)
{
	char buf[64];
	int n = 0;

	for (int i = 0; i < ms / 50; i++) {
		struct pollfd p = { fd, POLLIN, 0 };

		if (poll(&p, 1, 50) > 0)
			while (recv(fd, buf, sizeof(buf), 0) >= 0)
				n++;
	}
	return n;
}

static void udp_send(int port, int count)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	inet_pton(AF_INET, "10.77.0.2", &to.sin_addr);
	for (int i = 0; fd >= 0 && i < count; i++)
		sendto(fd, "bpfvm", 5, 0, (struct sockaddr *)&to, sizeof(to));
	if (fd >= 0)
		close(fd);
}

/* A TCP connection to port of 10.77.0.2 within ms? */
static bool tcp_connects(int port, int ms)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), err = -1;
	struct pollfd p = { fd, POLLOUT, 0 };
	socklen_t len = sizeof(err);

	inet_pton(AF_INET, "10.77.0.2", &to.sin_addr);
	if (fd < 0)
		return false;
	if (connect(fd, (struct sockaddr *)&to, sizeof(to)) && errno != EINPROGRESS) {
		close(fd);
		return false;
	}
	if (poll(&p, 1, ms) > 0)
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
	close(fd);
	return err == 0;
}

/* "NAME   N" in bpfvm's counters; -1 when missing. */
static long long counter(const char *name)
{
	char line[512], want[64];
	long long v = -1;
	FILE *f = fopen(out, "r");

	snprintf(want, sizeof(want), "%s %%lld", name);
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, name, strlen(name)) && sscanf(line, want, &v) == 1)
			break;
	if (f)
		fclose(f);
	return v;
}

/* verdicts[key] as --dump-maps prints it ("key 01000000 (1)  value ... (N)"); -1 if missing. */
static long long map_count(unsigned key)
{
	char line[512], want[64], *p;
	long long v = -1;
	FILE *f = fopen(out, "r");
	bool in_map = false;

	snprintf(want, sizeof(want), "key %02x000000 (%u)  value ", key, key);
	while (f && fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "map ", 4))
			in_map = !strncmp(line, "map verdicts ", 13);
		if (in_map && strstr(line, want) && (p = strrchr(line, '(')) &&
		    sscanf(p, "(%lld)", &v) == 1)
			break;
	}
	if (f)
		fclose(f);
	return v;
}

static bool stop_bridge(void)
{
	int status = 0;

	kill(bridge, SIGINT);
	for (int i = 0; i < 100; i++) {   /* 10 s */
		if (waitpid(bridge, &status, WNOHANG) == bridge) {
			bridge = -1;
			return WIFEXITED(status) && WEXITSTATUS(status) == 0;
		}
		usleep(100000);
	}
	return false;
}

static void show_output(void)
{
	char line[512];
	FILE *f = fopen(out, "r");

	while (f && fgets(line, sizeof(line), f))
		printf("#   %s", line);
	if (f)
		fclose(f);
}

TEST(xdp_bridge_passes_and_drops)
{
	int root = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC), u_ok, u_drop, t_ok, t_drop;
	bool pings = true, tcp_ok, tcp_drop;
	long long drops, redirects;

	/* without bpfvm nothing joins A and B */
	netns_enter(ns_a);
	CHECK(!ping(0));
	setns(root, CLONE_NEWNET);
	sh("ip -n %s neigh flush all", ns_a);   /* forget the failed ARP resolution */
	if (start_bridge()) {
		show_output();
		TEST_FAIL("bpfvm xdp attach did not start");
		return;
	}
	netns_enter(ns_b);
	u_ok = bound(SOCK_DGRAM, 7777), u_drop = bound(SOCK_DGRAM, 9999);
	t_ok = bound(SOCK_STREAM, 8080), t_drop = bound(SOCK_STREAM, 9999);
	netns_enter(ns_a);
	for (int i = 1; i <= 3; i++)
		pings &= ping(i);
	udp_send(7777, 5);
	udp_send(9999, 5);
	tcp_ok = tcp_connects(8080, 3000);
	tcp_drop = tcp_connects(9999, 1500);
	CHECK(pings);
	CHECK_EQ_INT(udp_received(u_ok, 1000), 5);
	CHECK_EQ_INT(udp_received(u_drop, 500), 0);
	CHECK(tcp_ok);
	CHECK(!tcp_drop);
	setns(root, CLONE_NEWNET);
	CHECK(stop_bridge());
	drops = counter("XDP_DROP"), redirects = counter("XDP_REDIRECT");
	/* 5 datagrams and at least one SYN to port 9999 */
	CHECK(drops >= 6);
	CHECK(redirects > 0);
	/* the program's printk lines, and its own counts (--dump-maps: verdicts[1], [4]) */
	CHECK(output_has("bpf_trace_printk: drop udp to port 9999"));
	CHECK(output_has("bpf_trace_printk: drop tcp to port 9999"));
	CHECK_EQ_U64(map_count(1), drops);
	CHECK_EQ_U64(map_count(4), redirects);
	if (test_failed_now)
		show_output();
	close(u_ok), close(u_drop), close(t_ok), close(t_drop), close(root);
}

int main(void)
{
	const char *build = getenv("BUILD") ? getenv("BUILD") : "build";
	const char *clang = getenv("CLANG");
	const char *why;
	int rc;

	if (geteuid()) {
		printf("SKIP xdp_bridge_passes_and_drops: needs root (network namespaces)\n");
		return 0;
	}
	if (!clang)
		clang = sh("which clang-19") ? "clang" : "clang-19";
	if (access("/usr/include/bpf/bpf_helpers.h", R_OK) || sh("which %s", clang) ||
	    sh("which ip")) {
		printf("SKIP xdp_bridge_passes_and_drops: needs %s, ip(8) and libbpf's headers\n",
		       clang);
		return 0;
	}
	snprintf(bpfvm, sizeof(bpfvm), "%s/bpfvm", build);
	snprintf(ns_a, sizeof(ns_a), "bpfvmA%d", getpid());
	snprintf(ns_b, sizeof(ns_b), "bpfvmB%d", getpid());
	snprintf(ns_r, sizeof(ns_r), "bpfvmR%d", getpid());
	snprintf(obj, sizeof(obj), "/tmp/bpfvm_xdp_bridge_%d.o", getpid());
	snprintf(out, sizeof(out), "/tmp/bpfvm_xdp_bridge_%d.out", getpid());
	if (sh("%s -O2 -g -target bpf -I/usr/include/$(uname -m)-linux-gnu -c "
	       "examples/xdp_bridge.bpf.c -o %s", clang, obj)) {
		printf("FAIL xdp_bridge_passes_and_drops: examples/xdp_bridge.bpf.c does not compile\n");
		return 1;
	}
	if ((why = setup())) {
		cleanup();
		printf("SKIP xdp_bridge_passes_and_drops: %s\n", why);
		return 0;
	}
	rc = test_main();
	cleanup();
	return rc;
}
