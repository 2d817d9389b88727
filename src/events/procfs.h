/*
 * procfs.h - what /proc says about a traced thread (procfs.c).
 */
#ifndef BPFVM_EVENTS_PROCFS_H
#define BPFVM_EVENTS_PROCFS_H

#include <stddef.h>
#include <stdint.h>

/* /proc/TID/FILE into buf (NUL-terminated, at most size - 1 bytes): its length, 0 if unreadable. */
size_t ev_proc_read(int32_t tid, const char *file, char *buf, size_t size);
/*
 * The numbers after "Key:" in the text of a status file, read in base
 * (10: ids, 16: signal masks): how many were stored in vals (at most max).
 */
int ev_proc_status_nums(const char *status, const char *key, int base, uint64_t *vals, int max);
/* The first number after "Key:" in /proc/TID/status; 0 where it cannot be read. */
uint64_t ev_proc_status(int32_t tid, const char *key, int base);
/* Field N (1-based, as proc(5) numbers them) of a stat file's text; 0 if missing. */
long ev_proc_stat_field(const char *stat, int field);
/* Field N of /proc/TID/stat; 0 if unreadable. */
long ev_proc_stat(int32_t tid, int field);
/* The processes of process group pgid, newest (highest pid) first: how many (at most max). */
size_t ev_proc_pgrp(int32_t pgid, int32_t *pids, size_t max);

#endif
