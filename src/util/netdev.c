/*
 * netdev.c - what sysfs says about a network interface (netdev.h).
 */
#include "netdev.h"

#include <dirent.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

unsigned netdev_rx_queues(const char *ifname)
{
	char path[64 + IF_NAMESIZE];
	struct dirent *e;
	unsigned n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/sys/class/net/%s/queues", ifname);
	if (!(d = opendir(path)))
		return 0;
	while ((e = readdir(d)))
		n += !strncmp(e->d_name, "rx-", 3);
	closedir(d);
	return n;
}
