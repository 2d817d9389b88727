/*
 * test_kernel_cbpf.c - tcpdump's filters in bpfvm, against three oracles:
 *  - tcpdump itself: for a corpus of expressions on a capture this test
 *    writes (IPv4/IPv6, TCP/UDP/ICMP, VLAN, ARP, fragments, many lengths),
 *    bpfvm's accepted count equals `tcpdump -r FILE EXPR | wc -l`;
 *  - libpcap's own classic interpreter (bpf_filter), packet by packet;
 *  - the kernel: the same classic program attached with SO_ATTACH_FILTER
 *    to an AF_PACKET socket on a veth pair in a network namespace of the
 *    test's own (a child process unshares it, so it goes when the child
 *    exits); each packet's verdict (received or not, and the length the
 *    filter truncated it to) equals bpfvm's on the packet as the kernel
 *    received it (a VLAN tag taken out of the frame into the sk_buff).
 * Every conversion runs in the interpreter and the JIT.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpfvm/cbpf.h>

#include "test.h"

#define MAX_PKTS 64
#define SNAP 262144

struct pkt {
	uint8_t b[1600];
	size_t len;
};

static struct pkt pkts[MAX_PKTS];
static size_t npkts;
static char pcap_path[64];

static const uint8_t mac_a[6] = { 0x02, 0, 0, 0, 0, 0x01 }, mac_b[6] = { 0x02, 0, 0, 0, 0, 0x02 };

static uint8_t *eth(struct pkt *p, const uint8_t *dst, uint16_t type, int vlan)
{
	uint8_t *q = p->b;

	memcpy(q, dst, 6);
	memcpy(q + 6, mac_a, 6);
	q += 12;
	if (vlan >= 0) {
		*q++ = 0x81, *q++ = 0x00, *q++ = (uint8_t)(vlan >> 8), *q++ = (uint8_t)vlan;
	}
	*q++ = (uint8_t)(type >> 8), *q++ = (uint8_t)type;
	return q;
}

/* IPv4 + L4 header + payload; frag: the fragment offset field. */
static void ip4(const uint8_t *dst_mac, int vlan, uint32_t src, uint32_t dst, uint8_t proto, uint16_t sport,
		uint16_t dport, size_t payload, uint16_t frag, uint8_t l4_first)
{
	struct pkt *p = &pkts[npkts];
	uint8_t *q = eth(p, dst_mac, 0x0800, vlan), *ip = q;
	size_t l4 = proto == 6 ? 20 : 8, tot = 20 + l4 + payload;

	memset(ip, 0, tot);
	ip[0] = 0x45, ip[2] = (uint8_t)(tot >> 8), ip[3] = (uint8_t)tot;
	ip[4] = (uint8_t)(npkts >> 8), ip[5] = (uint8_t)npkts; /* unique id */
	ip[6] = (uint8_t)(frag >> 8), ip[7] = (uint8_t)frag, ip[8] = 64, ip[9] = proto;
	src = htonl(src), dst = htonl(dst);
	memcpy(ip + 12, &src, 4);
	memcpy(ip + 16, &dst, 4);
	q = ip + 20;
	if (proto == 1 || proto == 58) {
		q[0] = l4_first;
	} else {
		q[0] = (uint8_t)(sport >> 8), q[1] = (uint8_t)sport, q[2] = (uint8_t)(dport >> 8), q[3] = (uint8_t)dport;
		if (proto == 6)
			q[12] = 0x50, q[13] = l4_first; /* data offset 5, flags */
	}
	for (size_t i = 0; i < payload; i++)
		q[l4 + i] = (uint8_t)(i + npkts);
	p->len = (size_t)(q + l4 + payload - p->b);
	npkts++;
}

static void ip6(uint8_t proto, uint16_t sport, uint16_t dport, size_t payload, uint8_t l4_first)
{
	struct pkt *p = &pkts[npkts];
	uint8_t *ip = eth(p, mac_b, 0x86dd, -1), *q;
	size_t l4 = proto == 6 ? 20 : 8;

	memset(ip, 0, 40 + l4 + payload);
	ip[0] = 0x60, ip[3] = (uint8_t)npkts;
	ip[4] = (uint8_t)((l4 + payload) >> 8), ip[5] = (uint8_t)(l4 + payload), ip[6] = proto, ip[7] = 64;
	ip[8] = 0xfd, ip[23] = 1, ip[24] = 0xfd, ip[39] = (uint8_t)(2 + npkts);
	q = ip + 40;
	if (proto == 58) {
		q[0] = l4_first;
	} else {
		q[0] = (uint8_t)(sport >> 8), q[1] = (uint8_t)sport, q[2] = (uint8_t)(dport >> 8), q[3] = (uint8_t)dport;
		if (proto == 6)
			q[12] = 0x50, q[13] = l4_first;
	}
	p->len = 14 + 40 + l4 + payload;
	npkts++;
}

static void arp(void)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct pkt *p = &pkts[npkts];
	uint8_t *q = eth(p, bcast, 0x0806, -1);

	memset(q, 0, 28);
	q[1] = 1, q[2] = 8, q[4] = 6, q[5] = 4, q[7] = 1, q[27] = (uint8_t)npkts;
	p->len = 14 + 28 + 18;
	npkts++;
}

static void make_corpus(void)
{
	static const uint8_t mcast[6] = { 0x01, 0x00, 0x5e, 0, 0, 1 };
	const uint32_t h1 = 0x0a000001, h2 = 0x0a000002, h3 = 0xc0a80105, h4 = 0xac100304;

	npkts = 0;
	ip4(mac_b, -1, h1, h2, 6, 40000, 80, 0, 0, 0x02);     /* SYN to 80 */
	ip4(mac_b, -1, h2, h1, 6, 80, 40000, 300, 0, 0x18);   /* data from 80 */
	ip4(mac_b, -1, h1, h3, 6, 40001, 22, 40, 0, 0x10);
	ip4(mac_b, -1, h3, h4, 6, 1500, 443, 900, 0, 0x18);
	ip4(mac_b, -1, h4, h1, 6, 8080, 1024, 10, 0, 0x11);
	ip4(mac_b, -1, h1, h2, 17, 5353, 53, 30, 0, 0);
	ip4(mac_b, -1, h2, h1, 17, 53, 5353, 200, 0, 0);
	ip4(mac_b, -1, h3, h1, 17, 123, 123, 48, 0, 0);
	ip4(mac_b, -1, h4, h3, 17, 1999, 2001, 1200, 0, 0);
	ip4(mac_b, -1, h1, h2, 1, 0, 0, 56, 0, 8);            /* echo request */
	ip4(mac_b, -1, h2, h1, 1, 0, 0, 56, 0, 0);            /* echo reply */
	ip4(mac_b, -1, h3, h1, 1, 0, 0, 28, 0, 3);            /* unreachable */
	ip4(mac_b, -1, h1, h2, 17, 53, 53, 100, 185, 0);       /* a later fragment */
	ip4(mac_b, -1, h1, h2, 6, 1000, 80, 100, 0x2000, 0x18);/* first fragment, MF */
	ip4(mcast, -1, h1, 0xe0000001, 17, 5000, 5000, 20, 0, 0);
	ip4(mac_b, 10, h1, h2, 6, 40002, 80, 20, 0, 0x02);    /* VLAN 10 */
	ip4(mac_b, 20, h2, h3, 17, 53, 1234, 64, 0, 0);       /* VLAN 20 */
	ip4(mac_b, 10, h3, h4, 1, 0, 0, 16, 0, 8);
	ip6(6, 40000, 80, 0, 0x02);
	ip6(6, 443, 50000, 500, 0x18);
	ip6(17, 5353, 53, 40, 0);
	ip6(58, 0, 0, 32, 128);                                /* ICMPv6 echo */
	ip6(58, 0, 0, 24, 135);                                /* neighbour solicitation */
	arp();
	ip4(mac_b, -1, h4, h2, 6, 1023, 1025, 1400, 0, 0x18);
	ip4(mac_b, -1, h2, h4, 17, 1000, 2000, 0, 0, 0);
}

static int write_pcap(const char *path)
{
	pcap_t *dead = pcap_open_dead(DLT_EN10MB, SNAP);
	pcap_dumper_t *d = dead ? pcap_dump_open(dead, path) : NULL;

	if (!d) {
		if (dead)
			pcap_close(dead);
		return -1;
	}
	for (size_t i = 0; i < npkts; i++) {
		struct pcap_pkthdr h = { { (time_t)i, 0 }, (bpf_u_int32)pkts[i].len, (bpf_u_int32)pkts[i].len };
		pcap_dump((u_char *)d, &h, pkts[i].b);
	}
	pcap_dump_close(d);
	pcap_close(dead);
	return 0;
}

static const char *const exprs[] = {
	"tcp", "udp", "icmp", "ip", "ip6", "arp", "tcp port 80", "port 53", "udp port 53",
	"tcp dst port 443", "src port 80", "portrange 1000-2000", "tcp portrange 1-1024",
	"udp portrange 100-200", "host 10.0.0.1", "src host 10.0.0.2", "dst host 192.168.1.5",
	"net 10.0.0.0/8", "src net 172.16.0.0/12", "dst net 192.168.1.0/24", "len > 200", "len <= 100",
	"greater 500", "less 80", "ip[8] = 64", "tcp[13] & 2 != 0", "tcp[tcpflags] & tcp-syn != 0",
	"tcp[tcpflags] & (tcp-push|tcp-ack) = (tcp-push|tcp-ack)", "icmp[icmptype] = icmp-echo",
	"icmp[0] = 3", "vlan", "vlan 10", "vlan and tcp port 80", "vlan 20 and udp", "ip6 and tcp",
	"ip6 and udp port 53", "icmp6", "icmp6 and ip6[40] = 128", "not tcp", "tcp or udp",
	"tcp and not port 22", "(tcp port 80 or udp port 53) and host 10.0.0.1", "ip[6:2] & 0x1fff != 0",
	"ether broadcast", "ether multicast", "ether host 02:00:00:00:00:01", "ip proto 17",
	"tcp dst port 443 and len > 60", "udp and ip[2:2] > 100", "ip multicast", "ip[2:2] - 20 > 100",
	"tcp[2:2] / 2 = 40", "udp[0:2] % 7 = 0", "ip[9] * 3 = 51", "(ip[0] & 0xf) << 2 = 20",
	"ip6 or arp or vlan", "not (ip or ip6)",
};
#define NEXPRS (sizeof(exprs) / sizeof(exprs[0]))

/* The classic program libpcap compiles EXPR into for Ethernet, as tcpdump -r would. */
static int compile(const char *expr, struct bpf_program *bp)
{
	pcap_t *dead = pcap_open_dead(DLT_EN10MB, SNAP);
	int err = pcap_compile(dead, bp, expr, 1, 0);

	if (err)
		TEST_FAIL("%s: pcap_compile: %s", expr, pcap_geterr(dead));
	pcap_close(dead);
	return err;
}

/* A converted program in its own instance; NULL after a FAIL. */
static struct bpfvm_prog *load(struct bpfvm **vm, const struct bpf_program *bp, const char *what)
{
	char msg[512] = "";
	struct bpfvm_log log = { msg, sizeof(msg), 0 };
	const struct bpfvm_sock_filter *f = (const struct bpfvm_sock_filter *)bp->bf_insns;
	struct bpfvm_insn *insns;
	struct bpfvm_prog *prog = NULL;
	size_t n;

	*vm = bpfvm__new(NULL);
	if (!*vm || bpfvm_cbpf__register_fns(*vm) || bpfvm_cbpf_check(f, bp->bf_len, &(struct bpfvm_cbpf_opts){ .sz = sizeof(struct bpfvm_cbpf_opts), .log = &log }) ||
	    bpfvm_cbpf_convert(f, bp->bf_len, NULL, &insns, &n, NULL, &(struct bpfvm_cbpf_opts){ .sz = sizeof(struct bpfvm_cbpf_opts), .log = &log })) {
		TEST_FAIL("%s: %s", what, msg);
		return NULL;
	}
	bpfvm_cbpf_prepare(insns, n);
	BPFVM_OPTS(bpfvm_prog_opts, po, .log = &log, .flags = BPFVM_PROG_TRUSTED);
	prog = bpfvm_prog__new(*vm, insns, n, &po);
	free(insns);
	if (!prog)
		TEST_FAIL("%s: %s", what, msg);
	return prog;
}

/* The verdict in both back-ends (which must agree); UINT64_MAX after a FAIL. */
static uint64_t verdict(struct bpfvm_prog *prog, const uint8_t *b, size_t len,
			const struct bpfvm_cbpf_skb_info *info, const char *what)
{
	char msg[512] = "";
	struct bpfvm_log log = { msg, sizeof(msg), 0 };
	uint32_t vi, vj;

	if (bpfvm_cbpf_run_skb(prog, NULL, b, len, info, BPFVM_EXEC_UNCHECKED, &vi, &(struct bpfvm_cbpf_opts){ .sz = sizeof(struct bpfvm_cbpf_opts), .log = &log }) ||
	    bpfvm_cbpf_run_skb(prog, NULL, b, len, info, BPFVM_EXEC_JIT, &vj, &(struct bpfvm_cbpf_opts){ .sz = sizeof(struct bpfvm_cbpf_opts), .log = &log })) {
		TEST_FAIL("%s: run: %s", what, msg);
		return UINT64_MAX;
	}
	if (vi != vj) {
		TEST_FAIL("%s: interpreter %u, JIT %u", what, vi, vj);
		return UINT64_MAX;
	}
	return vi;
}

static long tcpdump_count(const char *expr)
{
	char cmd[512];
	long n = -1;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "timeout 20 tcpdump -nr %s '%s' 2>/dev/null | wc -l", pcap_path, expr);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	if (fscanf(p, "%ld", &n) != 1)
		n = -1;
	pclose(p);
	return n;
}

TEST(tcpdump_expressions)
{
	bool have_tcpdump = system("tcpdump --version >/dev/null 2>&1") == 0;
	size_t total = 0, compared = 0;

	if (!have_tcpdump)
		printf("SKIP tcpdump_counts: tcpdump is not installed (scripts/deps.sh installs it)\n");
	for (size_t e = 0; e < NEXPRS; e++) {
		struct bpf_program bp;
		struct bpfvm *vm = NULL;
		struct bpfvm_prog *prog;
		long accepted = 0, want;

		if (compile(exprs[e], &bp))
			continue;
		prog = load(&vm, &bp, exprs[e]);
		for (size_t i = 0; prog && i < npkts; i++) {
			struct pcap_pkthdr h = { { 0, 0 }, (bpf_u_int32)pkts[i].len, (bpf_u_int32)pkts[i].len };
			uint64_t v = verdict(prog, pkts[i].b, pkts[i].len, NULL, exprs[e]);
			u_int lib = bpf_filter(bp.bf_insns, pkts[i].b, h.len, h.caplen);

			if (v == UINT64_MAX)
				break;
			if (v != lib)
				TEST_FAIL("%s: packet %zu: bpfvm %" PRIu64 ", libpcap's bpf_filter %u", exprs[e], i + 1, v, lib);
			accepted += v != 0;
			total++;
		}
		if (prog && have_tcpdump) {
			want = tcpdump_count(exprs[e]);
			if (want != accepted)
				TEST_FAIL("%s: bpfvm accepts %ld packets, tcpdump %ld", exprs[e], accepted, want);
			compared++;
		}
		pcap_freecode(&bp);
		bpfvm__destroy(vm);
	}
	printf("# %zu expressions, %zu packet verdicts, %zu counts compared with tcpdump\n", NEXPRS, total,
	       compared);
}

/* ---- the kernel: SO_ATTACH_FILTER on a veth pair in a namespace of our own ---------- */

/* Hand-written programs with ancillary loads and truncation, besides the expressions. */
static const struct bpfvm_sock_filter hand[][8] = {
	{ { 0x30, 0, 0, (uint32_t)(BPFVM_SKF_AD_OFF + BPFVM_SKF_AD_VLAN_TAG_PRESENT) }, { 0x15, 0, 1, 1 },
	  { 0x28, 0, 0, (uint32_t)(BPFVM_SKF_AD_OFF + BPFVM_SKF_AD_VLAN_TAG) }, { 0x54, 0, 0, 0xfff },
	  { 0x04, 0, 0, 30 }, { 0x16, 0, 0, 0 }, { 0x06, 0, 0, 0 } },               /* vlan id + 30 bytes */
	{ { 0x28, 0, 0, (uint32_t)(BPFVM_SKF_AD_OFF + BPFVM_SKF_AD_PROTOCOL) }, { 0x15, 0, 1, 0x86dd },
	  { 0x06, 0, 0, 0xffff }, { 0x80, 0, 0, 0 }, { 0x14, 0, 0, 10 }, { 0x16, 0, 0, 0 } }, /* len - 10 */
	{ { 0x30, 0, 0, (uint32_t)(BPFVM_SKF_AD_OFF + BPFVM_SKF_AD_PKTTYPE) }, { 0x24, 0, 0, 100 },
	  { 0x04, 0, 0, 20 }, { 0x16, 0, 0, 0 } },                                 /* pkttype * 100 + 20 */
	{ { 0x20, 0, 0, (uint32_t)(BPFVM_SKF_AD_OFF + BPFVM_SKF_AD_IFINDEX) }, { 0x07, 0, 0, 0 },
	  { 0x28, 0, 0, (uint32_t)(BPFVM_SKF_AD_OFF + BPFVM_SKF_AD_HATYPE) }, { 0x0c, 0, 0, 0 },
	  { 0x04, 0, 0, 14 }, { 0x16, 0, 0, 0 } },                                 /* ifindex + hatype + 14 */
	{ { 0x20, 0, 0, (uint32_t)(BPFVM_SKF_AD_OFF + BPFVM_SKF_AD_PAY_OFFSET) }, { 0x16, 0, 0, 0 } },
	{ { 0x30, 0, 0, (uint32_t)(BPFVM_SKF_NET_OFF + 9) }, { 0x15, 0, 1, 17 }, { 0x06, 0, 0, 42 },
	  { 0x30, 0, 0, (uint32_t)(BPFVM_SKF_LL_OFF + 0) }, { 0x16, 0, 0, 0 } },    /* net/ll offsets */
	{ { 0x28, 0, 0, 12 }, { 0x02, 0, 0, 5 }, { 0xb1, 0, 0, 14 }, { 0x61, 0, 0, 5 }, { 0x0c, 0, 0, 0 },
	  { 0x87, 0, 0, 0 }, { 0x84, 0, 0, 0 }, { 0x16, 0, 0, 0 } },                /* M[], msh, neg */
};
static const size_t hand_len[] = { 7, 6, 4, 6, 2, 5, 8 };
#define NHAND (sizeof(hand_len) / sizeof(hand_len[0]))

struct kenv {
	int tx, ifindex;
	uint8_t mac[6];
};

static int sh(const char *cmd)
{
	char full[512];

	snprintf(full, sizeof(full), "timeout 10 %s >/dev/null 2>&1", cmd);
	return system(full);
}

static int kenv_setup(struct kenv *k, char *why, size_t size)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	struct ifreq ifr = { 0 };
	FILE *f;

	if (unshare(CLONE_NEWNET)) {
		snprintf(why, size, "unshare(CLONE_NEWNET): %s", strerror(errno));
		return -1;
	}
	if (sh("ip link add cbpf0 type veth peer name cbpf1") || sh("ip link set cbpf0 up") ||
	    sh("ip link set cbpf1 up")) {
		snprintf(why, size, "cannot create a veth pair with ip(8) in a new namespace");
		return -1;
	}
	/* no IPv6 autoconfiguration traffic of its own on the pair */
	f = fopen("/proc/sys/net/ipv6/conf/cbpf1/disable_ipv6", "w");
	if (f)
		fputs("1", f), fclose(f);
	f = fopen("/proc/sys/net/ipv6/conf/cbpf0/disable_ipv6", "w");
	if (f)
		fputs("1", f), fclose(f);
	k->ifindex = (int)if_nametoindex("cbpf1");
	k->tx = socket(AF_PACKET, SOCK_RAW, 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "cbpf1");
	if (k->tx < 0 || ioctl(k->tx, SIOCGIFHWADDR, &ifr)) {
		snprintf(why, size, "no MAC address for cbpf1: %s", strerror(errno));
		return -1;
	}
	memcpy(k->mac, ifr.ifr_hwaddr.sa_data, 6);
	sll.sll_ifindex = (int)if_nametoindex("cbpf0");
	if (k->tx < 0 || bind(k->tx, (struct sockaddr *)&sll, sizeof(sll))) {
		snprintf(why, size, "AF_PACKET socket on cbpf0: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* A receiving socket on cbpf1: with prog (NULL: none), bound after the filter is in place. */
static int rx_socket(const struct kenv *k, const struct bpfvm_sock_filter *f, size_t cnt)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
				   .sll_ifindex = k->ifindex };
	struct sock_fprog fp = { (unsigned short)cnt, (struct sock_filter *)(uintptr_t)f };
	int s = socket(AF_PACKET, SOCK_RAW, 0);

	if (s < 0)
		return -1;
	if ((f && setsockopt(s, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof(fp))) ||
	    bind(s, (struct sockaddr *)&sll, sizeof(sll))) {
		close(s);
		return -1;
	}
	return s;
}

/* The frame as the kernel's receive path leaves it: a VLAN tag moved into the sk_buff. */
static size_t as_received(const struct kenv *k, const struct pkt *p, uint8_t *out,
			  struct bpfvm_cbpf_skb_info *info)
{
	size_t len = p->len;

	memcpy(out, p->b, len);
	bpfvm_cbpf_skb_info_ether(out, len, info);
	if (len >= 18 && out[12] == 0x81 && out[13] == 0x00) {
		info->vlan_proto = 0x8100;
		info->vlan_tci = (uint16_t)(out[14] << 8 | out[15]);
		memmove(out + 12, out + 16, len - 16);
		len -= 4;
		info->protocol = (uint16_t)(out[12] << 8 | out[13]);
	}
	info->ifindex = k->ifindex;
	info->pkt_type = !memcmp(out, k->mac, 6) ? 0 : (out[0] & 1) ? info->pkt_type : 3;
	return len;
}

/* Sends every packet, then reads what the filtered socket got: -1 dropped, else the length. */
static int kernel_verdicts(const struct kenv *k, const struct bpfvm_sock_filter *f, size_t cnt,
			   long *got, const char *what)
{
	int rx = rx_socket(k, f, cnt), all = rx_socket(k, NULL, 0);
	uint8_t buf[2048];
	size_t seen = 0, next = 0;
	int err = 0;

	if (rx < 0 || all < 0) {
		TEST_FAIL("%s: the kernel refused the filter: %s", what, strerror(errno));
		err = -1;
		goto out;
	}
	for (size_t i = 0; i < npkts; i++) {
		got[i] = -1;
		if (send(k->tx, pkts[i].b, pkts[i].len, 0) != (ssize_t)pkts[i].len) {
			TEST_FAIL("%s: send: %s", what, strerror(errno));
			err = -1;
			goto out;
		}
	}
	/* the unfiltered socket tells when every packet went past */
	while (seen < npkts) {
		struct pollfd pf = { all, POLLIN, 0 };
		if (poll(&pf, 1, 2000) <= 0)
			break;
		if (recv(all, buf, sizeof(buf), 0) > 0)
			seen++;
	}
	usleep(20000);
	for (;;) {
		ssize_t n = recv(rx, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0)
			break;
		/* the packets are unique in their first bytes: match them in order */
		for (; next < npkts; next++) {
			uint8_t frame[2048];
			struct bpfvm_cbpf_skb_info info;
			size_t fl = as_received(k, &pkts[next], frame, &info);
			size_t cmp = (size_t)n < fl ? (size_t)n : fl;

			if (!memcmp(buf, frame, cmp > sizeof(buf) ? sizeof(buf) : cmp))
				break;
		}
		if (next == npkts) {
			TEST_FAIL("%s: the kernel delivered a frame of %zd bytes the test did not send", what, n);
			err = -1;
			break;
		}
		got[next++] = n;
	}
	if (seen < npkts) {
		TEST_FAIL("%s: only %zu of %zu packets went past the unfiltered socket", what, seen, npkts);
		err = -1;
	}
out:
	if (rx >= 0)
		close(rx);
	if (all >= 0)
		close(all);
	return err;
}

static void compare_with_kernel(const struct kenv *k, const struct bpfvm_sock_filter *f, size_t cnt,
				const char *what, size_t *cmp)
{
	struct bpf_program bp = { (u_int)cnt, (struct bpf_insn *)(uintptr_t)f };
	struct bpfvm *vm = NULL;
	struct bpfvm_prog *prog = load(&vm, &bp, what);
	long got[MAX_PKTS];

	if (prog && !kernel_verdicts(k, f, cnt, got, what)) {
		for (size_t i = 0; i < npkts; i++) {
			uint8_t frame[2048];
			struct bpfvm_cbpf_skb_info info;
			size_t fl = as_received(k, &pkts[i], frame, &info);
			uint64_t v = verdict(prog, frame, fl, &info, what);
			long want = v == 0 ? -1 : (long)(v < fl ? v : fl);

			if (v == UINT64_MAX)
				break;
			if (want != got[i])
				TEST_FAIL("%s: packet %zu (%zu bytes): kernel %s%ld, bpfvm %s%ld", what, i + 1, fl,
					  got[i] < 0 ? "drops" : "keeps ", got[i] < 0 ? 0 : got[i],
					  want < 0 ? "drops" : "keeps ", want < 0 ? 0 : want);
			(*cmp)++;
		}
	}
	bpfvm__destroy(vm);
}

/* In the namespace's child: every expression and hand-written program; exit status 0 if all agree. */
static int kernel_child(int out_fd)
{
	struct kenv k;
	char why[256];
	size_t cmp = 0;

	if (kenv_setup(&k, why, sizeof(why))) {
		dprintf(out_fd, "SKIP %s", why);
		return 0;
	}
	for (size_t e = 0; e < NEXPRS; e++) {
		struct bpf_program bp;

		if (compile(exprs[e], &bp))
			continue;
		compare_with_kernel(&k, (const struct bpfvm_sock_filter *)bp.bf_insns, bp.bf_len, exprs[e], &cmp);
		pcap_freecode(&bp);
	}
	for (size_t h = 0; h < NHAND; h++) {
		char name[32];
		snprintf(name, sizeof(name), "hand-written program %zu", h);
		compare_with_kernel(&k, hand[h], hand_len[h], name, &cmp);
	}
	dprintf(out_fd, "# %zu packet verdicts compared with the kernel's", cmp);
	return test_failed_now ? 1 : 0;
}

/* Not a TEST: it prints PASS, FAIL or SKIP itself. */
static void kernel_so_attach_filter(void)
{
	int fds[2];
	pid_t pid;
	char msg[512] = "";
	ssize_t n;
	int status = 0;

	if (pipe(fds)) {
		printf("FAIL kernel_so_attach_filter: pipe: %s\n", strerror(errno));
		return;
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		test_failed_now = 0;
		alarm(120); /* bounded: the child dies, and its namespace with it */
		status = kernel_child(fds[1]);
		fflush(stdout);
		_exit(status);
	}
	close(fds[1]);
	n = read(fds[0], msg, sizeof(msg) - 1);
	close(fds[0]);
	msg[n > 0 ? n : 0] = '\0';
	waitpid(pid, &status, 0);
	if (!strncmp(msg, "SKIP ", 5)) {
		struct utsname u;
		uname(&u);
		printf("SKIP kernel_so_attach_filter: %s (Linux %s)\n", msg + 5, u.release);
		return;
	}
	printf("%s\n", msg);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		printf("FAIL kernel_so_attach_filter: the comparison failed (above) or died (status 0x%x)\n",
		       status);
	else
		printf("PASS kernel_so_attach_filter\n");
}

int main(void)
{
	snprintf(pcap_path, sizeof(pcap_path), "/tmp/bpfvm_cbpf_%d.pcap", (int)getpid());
	make_corpus();
	if (write_pcap(pcap_path)) {
		printf("FAIL setup: cannot write %s\n", pcap_path);
		return 1;
	}
	int rc = test_main();
	unlink(pcap_path);
	test_current = "kernel_so_attach_filter";
	kernel_so_attach_filter();
	return rc;
}
