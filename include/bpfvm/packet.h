/*
 * bpfvm/packet.h - live frames from network interfaces, for running XDP
 * programs on them in user space (bpfvm xdp attach).  A packet source
 * reads every frame each interface receives through AF_PACKET sockets
 * with TPACKET_V3 receive rings (one socket per receive queue, joined in
 * a PACKET_FANOUT_QM group, so that a frame's queue is known), hands them
 * out in batches, and sends frames out of any interface.
 *
 * What AF_PACKET cannot do: take a frame away from the kernel.  Every
 * frame the source reads also goes up the interface's own stack; a drop
 * means "not forwarded by bpfvm".  On an interface with no addresses (a
 * bridge port) that is a drop; see doc/bpfvm.1 (xdp) for the rest.
 */
#ifndef BPFVM_PACKET_H
#define BPFVM_PACKET_H

#include <stddef.h>
#include <stdint.h>

#include <bpfvm/bpfvm.h>

#ifdef __cplusplus
extern "C" {
#endif

struct bpfvm_pkt_source;

struct bpfvm_pkt_source_opts {
	size_t sz;
	uint32_t block_size;     /* bytes a ring block holds; 0: 1 MiB */
	uint32_t block_count;    /* blocks a ring has; 0: 8 */
	struct bpfvm_log *log;   /* why opening failed */
	/*
	 * The frames the interfaces send (copies: AF_PACKET sees them after
	 * the qdisc, on their way to the driver) instead of those they receive.
	 */
	bool egress;
};

struct bpfvm_pkt {
	const uint8_t *data;
	uint32_t len;            /* bytes in data (the frame, or its first block_size bytes) */
	uint32_t wire_len;       /* the frame's length on the wire */
	uint32_t ifindex;        /* where it came in */
	uint32_t rx_queue;       /* its receive queue */
	uint32_t dev;            /* index of the interface among those opened */
	uint8_t pkt_type;        /* PACKET_HOST, _BROADCAST, _MULTICAST, _OTHERHOST, _OUTGOING */
	uint64_t tstamp;         /* when it was seen: ns since the epoch */
};

/*
 * Open ifnames[0..n): -errno with the reason in opts->log (no such
 * interface: -ENODEV; no CAP_NET_RAW: -EPERM).  Interfaces are left as
 * they were: nothing is configured on them.
 */
BPFVM_API int bpfvm_pkt_source__open(const char *const *ifnames, size_t n,
				     const struct bpfvm_pkt_source_opts *opts,
				     struct bpfvm_pkt_source **out);
/*
 * The next batch: up to max frames, waiting up to timeout_ms for the first.
 * Returns how many (0: none in time), or -ENETDOWN when an interface went
 * down or away, -errno otherwise.  Frames stay valid until the next call.
 * A frame whose TCP/UDP checksum was left for the device to compute
 * (TP_STATUS_CSUMNOTREADY) comes with it computed, as a device gives it.
 */
BPFVM_API int bpfvm_pkt_source__next(struct bpfvm_pkt_source *src, struct bpfvm_pkt *pkts,
				     size_t max, int timeout_ms);
/* Send a frame out of interface ifindex (any of this namespace): 0 or -errno. */
BPFVM_API int bpfvm_pkt_source__send(struct bpfvm_pkt_source *src, uint32_t ifindex,
				     const void *data, size_t len);
/* The ifindex of the i-th interface opened; 0 past the end. */
BPFVM_API uint32_t bpfvm_pkt_source__ifindex(const struct bpfvm_pkt_source *src, size_t i);
/* Frames the kernel dropped because a ring was full (PACKET_STATISTICS). */
BPFVM_API uint64_t bpfvm_pkt_source__ring_drops(struct bpfvm_pkt_source *src);
BPFVM_API void bpfvm_pkt_source__destroy(struct bpfvm_pkt_source *src);

#ifdef __cplusplus
}
#endif

#endif
