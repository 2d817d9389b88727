/*
 * packet.c - the packet source (bpfvm/packet.h): every frame of a set of
 * interfaces through AF_PACKET sockets with TPACKET_V3 receive rings.
 *
 * One socket per receive queue of an interface, in a PACKET_FANOUT_QM
 * group when there are several, so that socket i sees queue i's frames
 * and a program gets a real rx_queue_index.  A ring's blocks are handed
 * to the kernel again only when every frame in them has been given out
 * and the caller asked for the next batch (the frames stay valid until
 * then).  The sockets ignore the frames this host sends
 * (PACKET_IGNORE_OUTGOING), so what bpfvm transmits is not read back
 * (egress sources keep only those, PACKET_OUTGOING: copies the kernel's
 * transmit path hands to packet taps once the qdisc let them go), and
 * each interface is put in promiscuous mode through a membership of the
 * socket (PACKET_MR_PROMISC), which ends with the socket: nothing is left
 * changed on the interface.  Frames go out through one more raw socket
 * per interface, past the qdisc (PACKET_QDISC_BYPASS), as XDP_TX and
 * redirects do.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpfvm/packet.h>

#include "../util/log.h"
#include "../util/netdev.h"

#define DEFAULT_BLOCK_SIZE (1u << 20)
#define DEFAULT_BLOCKS 8u
#define BLOCK_TIMEOUT_MS 2   /* a block is handed over when full, or after this */
#define MAX_QUEUES 64

struct ring {
	int fd;
	uint8_t *map;
	size_t map_size;
	uint32_t nblocks, block_size;
	uint32_t cur;                 /* the block being read */
	struct tpacket3_hdr *next;    /* its next frame; NULL: not started */
	uint32_t left;                /* frames left in it */
	bool done;                    /* read to the end: give it back on the next call */
	uint32_t ifindex, queue, dev;
	bool egress;                  /* keep the outgoing frames only */
};

struct tx_sock {
	uint32_t ifindex;
	int fd;
};

struct bpfvm_pkt_source {
	struct ring *rings;
	size_t nrings;
	struct pollfd *pfds;
	uint32_t *ifindexes;
	size_t ndev;
	struct tx_sock *tx;
	size_t ntx;
	size_t rr;                    /* the ring a batch starts at: fairness */
};

/* One socket per receive queue; one when sysfs does not say. */
static unsigned rx_queues(const char *ifname)
{
	unsigned n = netdev_rx_queues(ifname);

	return n ? (n > MAX_QUEUES ? MAX_QUEUES : n) : 1;
}

static int fail(struct bpfvm_log *log, const char *ifname, const char *what, int err)
{
	log_printf(log, "%s: %s: %s%s\n", ifname, what, strerror(err),
		   err == EPERM ? " (AF_PACKET needs CAP_NET_RAW)" : "");
	return -err;
}

/* A TPACKET_V3 ring on a socket bound to ifindex, for one receive queue. */
static int open_ring(struct ring *r, const char *ifname, uint32_t ifindex, uint32_t nq,
		     uint32_t fanout_id, const struct bpfvm_pkt_source_opts *o, struct bpfvm_log *log)
{
	struct tpacket_req3 req = { 0 };
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
				   .sll_ifindex = (int)ifindex };
	int v3 = TPACKET_V3, one = 1, fanout = (int)(fanout_id | (PACKET_FANOUT_QM << 16));

	r->block_size = o && o->block_size ? o->block_size : DEFAULT_BLOCK_SIZE;
	r->nblocks = o && o->block_count ? o->block_count : DEFAULT_BLOCKS;
	req = (struct tpacket_req3){ .tp_block_size = r->block_size, .tp_block_nr = r->nblocks,
				     .tp_frame_size = 2048,
				     .tp_frame_nr = r->block_size / 2048 * r->nblocks,
				     .tp_retire_blk_tov = BLOCK_TIMEOUT_MS };
	/* protocol 0: nothing arrives before the ring and the binding are set */
	if ((r->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0)) < 0)
		return fail(log, ifname, "AF_PACKET socket", errno);
	if (setsockopt(r->fd, SOL_PACKET, PACKET_VERSION, &v3, sizeof(v3)) ||
	    setsockopt(r->fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)))
		return fail(log, ifname, "TPACKET_V3 receive ring", errno);
	r->map_size = (size_t)r->block_size * r->nblocks;
	r->map = mmap(NULL, r->map_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_LOCKED, r->fd, 0);
	if (r->map == MAP_FAILED)
		r->map = mmap(NULL, r->map_size, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
	if (r->map == MAP_FAILED) {
		r->map = NULL;
		return fail(log, ifname, "mapping the ring", errno);
	}
	r->egress = o && o->egress;
	if (!r->egress)
		setsockopt(r->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
	if (bind(r->fd, (struct sockaddr *)&sll, sizeof(sll)))
		return fail(log, ifname, "binding the socket", errno);
	if (nq > 1 && setsockopt(r->fd, SOL_PACKET, PACKET_FANOUT, &fanout, sizeof(fanout)))
		return fail(log, ifname, "PACKET_FANOUT_QM (a socket per receive queue)", errno);
	r->ifindex = ifindex;
	return 0;
}

static int promisc(int fd, uint32_t ifindex, const char *ifname, struct bpfvm_log *log)
{
	struct packet_mreq mr = { .mr_ifindex = (int)ifindex, .mr_type = PACKET_MR_PROMISC };

	if (setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)))
		return fail(log, ifname, "promiscuous mode (PACKET_MR_PROMISC)", errno);
	return 0;
}

static int open_dev(struct bpfvm_pkt_source *s, const char *ifname, uint32_t dev,
		    const struct bpfvm_pkt_source_opts *o, struct bpfvm_log *log)
{
	uint32_t ifindex = if_nametoindex(ifname), nq;
	struct ring *more;
	int err;

	if (!ifindex) {
		log_printf(log, "%s: no such interface\n", ifname);
		return -ENODEV;
	}
	for (size_t i = 0; i < dev; i++)
		if (s->ifindexes[i] == ifindex) {
			log_printf(log, "%s: given twice\n", ifname);
			return -EINVAL;
		}
	s->ifindexes[dev] = ifindex;
	nq = rx_queues(ifname);
	if (!(more = realloc(s->rings, (s->nrings + nq) * sizeof(*more))))
		return -ENOMEM;
	s->rings = more;
	for (uint32_t q = 0; q < nq; q++) {
		struct ring *r = &s->rings[s->nrings];

		*r = (struct ring){ .fd = -1, .queue = q, .dev = dev };
		s->nrings++;
		err = open_ring(r, ifname, ifindex, nq, ((uint32_t)getpid() + dev) & 0xffff, o, log);
		if (err)
			return err;
	}
	return promisc(s->rings[s->nrings - 1].fd, ifindex, ifname, log);
}

int bpfvm_pkt_source__open(const char *const *ifnames, size_t n,
			   const struct bpfvm_pkt_source_opts *opts, struct bpfvm_pkt_source **out)
{
	struct bpfvm_log *log = opts ? opts->log : NULL;
	struct bpfvm_pkt_source *s;
	int err = 0;

	if (!ifnames || !n || !out)
		return -EINVAL;
	if (!(s = calloc(1, sizeof(*s))) || !(s->ifindexes = calloc(n, sizeof(*s->ifindexes)))) {
		free(s);
		return -ENOMEM;
	}
	s->ndev = n;
	for (size_t i = 0; i < n && !err; i++)
		err = open_dev(s, ifnames[i], (uint32_t)i, opts, log);
	if (!err && !(s->pfds = calloc(s->nrings, sizeof(*s->pfds))))
		err = -ENOMEM;
	for (size_t i = 0; !err && i < s->nrings; i++)
		s->pfds[i] = (struct pollfd){ .fd = s->rings[i].fd, .events = POLLIN | POLLERR };
	if (err) {
		bpfvm_pkt_source__destroy(s);
		return err;
	}
	*out = s;
	return 0;
}

static struct tpacket_block_desc *block(const struct ring *r, uint32_t i)
{
	return (struct tpacket_block_desc *)(r->map + (size_t)i * r->block_size);
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static uint32_t add_bytes(uint32_t sum, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

/*
 * A frame the sending side left for the device to finish (CHECKSUM_PARTIAL,
 * as veth and loopback do): compute its TCP or UDP checksum over the
 * pseudo-header, as the device would have.
 */
static void fill_checksum(uint8_t *f, uint32_t len)
{
	uint32_t l3 = ETH_HLEN, l4, l4len, sum = 0;
	uint16_t proto = (uint16_t)(f[12] << 8 | f[13]), csum;
	uint8_t ip_proto;
	size_t off;

	if (proto == ETH_P_IP && len >= l3 + 20) {
		l4 = l3 + (f[l3] & 15) * 4u;
		ip_proto = f[l3 + 9];
		l4len = (uint32_t)(f[l3 + 2] << 8 | f[l3 + 3]) - (l4 - l3);
		sum = add_bytes(0, f + l3 + 12, 8);
	} else if (proto == ETH_P_IPV6 && len >= l3 + 40) {
		l4 = l3 + 40;
		ip_proto = f[l3 + 6];   /* no extension headers: those frames are left alone */
		l4len = (uint32_t)(f[l3 + 4] << 8 | f[l3 + 5]);
		sum = add_bytes(0, f + l3 + 8, 32);
	} else {
		return;
	}
	off = ip_proto == IPPROTO_TCP ? 16 : ip_proto == IPPROTO_UDP ? 6 : 0;
	if (!off || l4 + l4len > len || l4len < off + 2)
		return;
	sum += ip_proto + l4len;
	f[l4 + off] = f[l4 + off + 1] = 0;
	csum = (uint16_t)~fold(add_bytes(sum, f + l4, l4len));
	if (ip_proto == IPPROTO_UDP && !csum)
		csum = 0xffff;
	f[l4 + off] = (uint8_t)(csum >> 8);
	f[l4 + off + 1] = (uint8_t)csum;
}

/* Frames of ring r's ready blocks into pkts[n..max); returns the new n. */
static size_t take(struct ring *r, struct bpfvm_pkt *pkts, size_t n, size_t max)
{
	while (n < max) {
		struct tpacket_block_desc *b = block(r, r->cur);
		struct tpacket3_hdr *h;

		if (!r->next) {
			if (!(__atomic_load_n(&b->hdr.bh1.block_status, __ATOMIC_ACQUIRE) &
			      TP_STATUS_USER))
				return n;
			r->next = (struct tpacket3_hdr *)((uint8_t *)b + b->hdr.bh1.offset_to_first_pkt);
			r->left = b->hdr.bh1.num_pkts;
		}
		for (; r->left && n < max; r->left--) {
			const struct sockaddr_ll *sll;

			h = r->next;
			r->next = (struct tpacket3_hdr *)((uint8_t *)h + h->tp_next_offset);
			sll = (const struct sockaddr_ll *)((uint8_t *)h +
							   TPACKET_ALIGN(sizeof(struct tpacket3_hdr)));
			if ((sll->sll_pkttype == PACKET_OUTGOING) != r->egress)
				continue;
			if (h->tp_status & TP_STATUS_CSUMNOTREADY)
				fill_checksum((uint8_t *)h + h->tp_mac, h->tp_snaplen);
			pkts[n++] = (struct bpfvm_pkt){ .data = (uint8_t *)h + h->tp_mac,
							.len = h->tp_snaplen, .wire_len = h->tp_len,
							.ifindex = r->ifindex, .rx_queue = r->queue,
							.dev = r->dev, .pkt_type = sll->sll_pkttype,
							.tstamp = h->tp_sec * 1000000000ull + h->tp_nsec };
		}
		if (r->left)
			return n;
		/* read to the end: the kernel gets it back when the caller is done with it */
		r->done = true;
		return n;
	}
	return n;
}

/* Give back the blocks read to the end in the last batch, and move on. */
static void release(struct bpfvm_pkt_source *s)
{
	for (size_t i = 0; i < s->nrings; i++) {
		struct ring *r = &s->rings[i];

		if (!r->done)
			continue;
		__atomic_store_n(&block(r, r->cur)->hdr.bh1.block_status, TP_STATUS_KERNEL,
				 __ATOMIC_RELEASE);
		r->cur = (r->cur + 1) % r->nblocks;
		r->next = NULL;
		r->done = false;
	}
}

static size_t gather(struct bpfvm_pkt_source *s, struct bpfvm_pkt *pkts, size_t max)
{
	size_t n = 0;

	for (size_t k = 0; k < s->nrings && n < max; k++) {
		struct ring *r = &s->rings[(s->rr + k) % s->nrings];

		if (!r->done)
			n = take(r, pkts, n, max);
	}
	s->rr = (s->rr + 1) % s->nrings;
	return n;
}

int bpfvm_pkt_source__next(struct bpfvm_pkt_source *s, struct bpfvm_pkt *pkts, size_t max,
			   int timeout_ms)
{
	size_t n;

	if (!s || !pkts || !max)
		return -EINVAL;
	release(s);
	if ((n = gather(s, pkts, max)))
		return (int)n;
	if (poll(s->pfds, s->nrings, timeout_ms) < 0)
		return errno == EINTR ? 0 : -errno;
	for (size_t i = 0; i < s->nrings; i++) {
		int err = 0;
		socklen_t len = sizeof(err);

		if (!(s->pfds[i].revents & POLLERR))
			continue;
		getsockopt(s->pfds[i].fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err)
			return err == ENETDOWN || err == ENXIO || err == ENODEV ? -ENETDOWN : -err;
	}
	return (int)gather(s, pkts, max);
}

static int tx_fd(struct bpfvm_pkt_source *s, uint32_t ifindex)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_ifindex = (int)ifindex };
	struct tx_sock *more;
	int fd, one = 1;

	for (size_t i = 0; i < s->ntx; i++)
		if (s->tx[i].ifindex == ifindex)
			return s->tx[i].fd;
	if ((fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0)) < 0)
		return -errno;
	setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) ||
	    !(more = realloc(s->tx, (s->ntx + 1) * sizeof(*more)))) {
		int err = errno ? -errno : -ENOMEM;

		close(fd);
		return err;
	}
	s->tx = more;
	s->tx[s->ntx++] = (struct tx_sock){ ifindex, fd };
	return fd;
}

int bpfvm_pkt_source__send(struct bpfvm_pkt_source *s, uint32_t ifindex, const void *data,
			   size_t len)
{
	int fd;

	if (!s || !data || !ifindex)
		return -EINVAL;
	if ((fd = tx_fd(s, ifindex)) < 0)
		return fd;
	for (int tries = 0; tries < 100; tries++) {
		if (send(fd, data, len, 0) >= 0)
			return 0;
		if (errno != ENOBUFS && errno != EAGAIN && errno != EINTR)
			return -errno;
	}
	return -ENOBUFS;
}

uint32_t bpfvm_pkt_source__ifindex(const struct bpfvm_pkt_source *s, size_t i)
{
	return s && i < s->ndev ? s->ifindexes[i] : 0;
}

uint64_t bpfvm_pkt_source__ring_drops(struct bpfvm_pkt_source *s)
{
	uint64_t drops = 0;

	for (size_t i = 0; s && i < s->nrings; i++) {
		struct tpacket_stats_v3 st = { 0 };
		socklen_t len = sizeof(st);

		if (!getsockopt(s->rings[i].fd, SOL_PACKET, PACKET_STATISTICS, &st, &len))
			drops += st.tp_drops;
	}
	return drops;
}

void bpfvm_pkt_source__destroy(struct bpfvm_pkt_source *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nrings; i++) {
		if (s->rings[i].map)
			munmap(s->rings[i].map, s->rings[i].map_size);
		if (s->rings[i].fd >= 0)
			close(s->rings[i].fd);
	}
	for (size_t i = 0; i < s->ntx; i++)
		close(s->tx[i].fd);
	free(s->rings);
	free(s->pfds);
	free(s->ifindexes);
	free(s->tx);
	free(s);
}
