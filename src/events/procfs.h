/*
 * procfs.h - what /proc says about a traced thread (procfs.c).
 */
#ifndef BPFVM_EVENTS_PROCFS_H
#define BPFVM_EVENTS_PROCFS_H

#include <stdint.h>

/*
 * The number after "Key:" in /proc/TID/status, read in base (10: ids, 16:
 * signal masks); 0 where the file or the line cannot be read.
 */
uint64_t ev_proc_status(int32_t tid, const char *key, int base);
/* Field N (1-based, as proc(5) numbers them) of /proc/TID/stat; 0 if unreadable. */
long ev_proc_stat(int32_t tid, int field);

#endif
