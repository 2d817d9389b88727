/*
 * sender.c - traffic for test_tc_live.sh and bench_xdp_live:
 *   sender udp DST PORT N        N datagrams of 64 bytes to DST:PORT
 *   sender listen PORT MS        datagrams received on PORT until MS pass without one
 *   sender ping DST N MS         N ICMP echo requests, one each MS/N; replies received
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int udp(const char *dst, int port, long n)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	char buf[64] = "bpfvm tc_live";
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0 || inet_pton(AF_INET, dst, &to.sin_addr) != 1)
		return 1;
	for (long i = 0; i < n; i++)
		if (sendto(fd, buf, sizeof(buf), 0, (struct sockaddr *)&to, sizeof(to)) < 0)
			return 1;
	return 0;
}

static int listen_udp(int port, int ms)
{
	struct sockaddr_in me = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	long got = 0;
	char buf[2048];

	if (fd < 0 || bind(fd, (struct sockaddr *)&me, sizeof(me)))
		return 1;
	printf("listening\n");
	fflush(stdout);
	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };

		if (poll(&p, 1, ms) <= 0)
			break;
		if (recv(fd, buf, sizeof(buf), 0) > 0)
			got++;
	}
	printf("%ld\n", got);
	return 0;
}

static uint16_t csum(const void *p, size_t len)
{
	const uint16_t *w = p;
	uint32_t s = 0;

	for (; len > 1; len -= 2)
		s += *w++;
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~(s + (s >> 16));
}

static int ping(const char *dst, int n, int ms)
{
	struct sockaddr_in to = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP), got = 0;
	char buf[2048];

	if (fd < 0 || inet_pton(AF_INET, dst, &to.sin_addr) != 1)
		return 1;
	for (int i = 0; i < n; i++) {
		struct icmphdr h = { .type = ICMP_ECHO, .un.echo.id = htons(0x7a7a),
				     .un.echo.sequence = htons((uint16_t)i) };
		struct pollfd p = { fd, POLLIN, 0 };

		h.checksum = csum(&h, sizeof(h));
		if (sendto(fd, &h, sizeof(h), 0, (struct sockaddr *)&to, sizeof(to)) < 0)
			return 1;
		while (poll(&p, 1, ms / n) > 0) {
			ssize_t len = recv(fd, buf, sizeof(buf), 0);
			struct icmphdr *r = (struct icmphdr *)(buf + (buf[0] & 15) * 4);

			if (len > 0 && r->type == ICMP_ECHOREPLY && r->un.echo.id == htons(0x7a7a))
				got++;
		}
	}
	printf("%d\n", got);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "udp"))
		return udp(argv[2], atoi(argv[3]), atol(argv[4]));
	if (argc == 4 && !strcmp(argv[1], "listen"))
		return listen_udp(atoi(argv[2]), atoi(argv[3]));
	if (argc == 5 && !strcmp(argv[1], "ping"))
		return ping(argv[2], atoi(argv[3]), atoi(argv[4]));
	fprintf(stderr, "usage: see sender.c\n");
	return 2;
}
