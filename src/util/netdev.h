/*
 * netdev.h - facts about a network interface of this namespace that sysfs
 * gives: its number of receive queues (an XDP context's rx_queue_index
 * is below it).
 */
#ifndef BPFVM_UTIL_NETDEV_H
#define BPFVM_UTIL_NETDEV_H

/* The receive queues of interface ifname, as /sys/class/net lists them; 0 if unknown. */
unsigned netdev_rx_queues(const char *ifname);

#endif
