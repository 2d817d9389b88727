/*
 * flowcount.h - what flowcount.c (XDP, a BPF hash map) and
 * flowcount_native.c (gcc, a C hash table) share: the flow key, the
 * counters, and how the pseudo flows are derived from the frame.
 *
 * FC_FLOWS positions from FC_FIRST on: at position i the bytes i and i+1
 * give a 6-bit flow number h (so at most 64 distinct flows), the key is a
 * 5-tuple made from h, and byte i+2 is the "packet length" added to bytes.
 * A run counts each derived packet in its flow and returns
 *   found | (sum of h over found lookups & 0xffff) << 16
 * where found is how many lookups met an existing entry.  The table or map
 * persists across runs: the first run inserts the flows, every later run
 * finds them all, so results are compared after one warm-up run.
 */
#ifndef FLOWCOUNT_H
#define FLOWCOUNT_H

#define FC_LEN 1500        /* the frame the runner passes */
#define FC_FIRST 54        /* the TCP payload of the runner's frame */
#define FC_FLOWS 256       /* derived packets a run */
#define FC_MAX_ENTRIES 1024

struct fc_key {
	__u32 saddr;
	__u32 daddr;
	__u16 sport;
	__u16 dport;
	__u8 proto;
	__u8 pad[3];
};

struct fc_value {
	__u64 packets;
	__u64 bytes;
};

/* The flow number at position i of p (p[i], p[i + 1] readable). */
static inline __u32 fc_flow(const __u8 *p, __u32 i)
{
	return ((__u32)p[i] * 31u + (__u32)p[i + 1]) & 63u;
}

static inline void fc_make_key(struct fc_key *k, __u32 h)
{
	k->saddr = 0x0a000100u | h;
	k->daddr = 0x0a000002u;
	k->sport = (__u16)(40000u + h * 7u);
	k->dport = 80;
	k->proto = 6;
	k->pad[0] = k->pad[1] = k->pad[2] = 0;
}

#endif
