/*
 * procfs.h - what /proc says about a thread (procfs.c).  tid 0: the
 * calling thread.
 */
#ifndef BPFVM_UTIL_PROCFS_H
#define BPFVM_UTIL_PROCFS_H

#include <stddef.h>
#include <stdint.h>

/* The path of /proc/TID/FILE (FILE may hold slashes: "ns/pid", "task/TID/comm"). */
void util_proc_path(int32_t tid, const char *file, char *path, size_t size);
/* /proc/TID/FILE into buf (NUL-terminated, at most size - 1 bytes): its length, 0 if unreadable. */
size_t util_proc_read(int32_t tid, const char *file, char *buf, size_t size);
/*
 * The numbers after "Key:" in the text of a status file, read in base
 * (10: ids, 16: signal masks): how many were stored in vals (at most max).
 */
int util_proc_status_nums(const char *status, const char *key, int base, uint64_t *vals, int max);
/* The first number after "Key:" in /proc/TID/status; 0 where it cannot be read. */
uint64_t util_proc_status(int32_t tid, const char *key, int base);
/* Field N (1-based, as proc(5) numbers them) of a stat file's text; 0 if missing. */
long util_proc_stat_field(const char *stat, int field);
/* Field N of /proc/TID/stat; 0 if unreadable. */
long util_proc_stat(int32_t tid, int field);
/* The processes of process group pgid, newest (highest pid) first: how many (at most max). */
size_t util_proc_pgrp(int32_t pgid, int32_t *pids, size_t max);

#endif
