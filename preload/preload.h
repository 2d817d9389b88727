/*
 * preload.h - libbpfvm-preload.so: an unmodified libbpf tool (Debian's
 * libbpf-tools: opensnoop, execsnoop, ...) gets bpfvm instead of the
 * kernel.  `bpfvm exec` starts the tool with this library in LD_PRELOAD;
 * it defines the glibc functions through which the tool reaches the
 * kernel's eBPF (syscall for bpf() and perf_event_open(), ioctl, mmap,
 * epoll_ctl, epoll_wait) and answers them with bpfvm's maps, verifier and
 * programs, through the public API alone (include/bpfvm/).  Everything else
 * passes through to glibc.
 *
 * Every object handed out (map, program, BTF, link, perf event) is a real
 * file descriptor, a memfd, so that close, dup, poll and fcntl in the tool
 * just work; objects are found again by the memfd's inode (dup'ed fds
 * too), and live as long as the process.  Perf event fds and ring buffers
 * each have an eventfd that epoll watches in their place and that the
 * session writes when records arrive.
 *
 * The session (session.c): at the tool's first epoll_wait after it has
 * attached programs, a thread of the library attaches them to bpfvm trace
 * points, starts the --trace command (or seizes the -p pids) under bpfvm's
 * ptrace supervisor, runs the programs at its events and, once everything
 * traced has exited and the tool has read every record, sends the tool
 * SIGINT as a user's Ctrl-C would.
 *
 * A preloaded library has no context argument in the functions it
 * defines: its one state (struct pl) is reached through pl_state().
 */
#ifndef BPFVM_PRELOAD_H
#define BPFVM_PRELOAD_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <bpfvm/bpfvm.h>
#include <bpfvm/maps.h>
#include <bpfvm/trace.h>

/* The environment `bpfvm exec` (tools/cmd_exec.c) hands the tool. */
#define PL_ENV_TRACE "BPFVM_EXEC_TRACE"        /* the --trace command, run by /bin/sh -c */
#define PL_ENV_PIDS "BPFVM_EXEC_PIDS"          /* -p pids, comma separated */
#define PL_ENV_HANDSHAKE "BPFVM_EXEC_HANDSHAKE" /* fd: the library writes "ok\n" when loaded */
#define PL_ENV_DEBUG "BPFVM_DEBUG"
#define PL_ENV_TRACE_PIPE "BPFVM_EXEC_TRACE_PIPE"  /* fd: --trace-pipe FILE, opened for the library */

enum pl_kind { PL_MAP, PL_PROG, PL_BTF, PL_LINK, PL_PERF };

struct pl_obj {
	enum pl_kind kind;
	uint32_t id;
	ino_t ino;
	int fd;                       /* the library's own descriptor: keeps the inode */
	int efd;                      /* eventfd epoll watches (maps: ring buffers; perf) */
	char name[16];
	/* PL_MAP */
	struct bpfvm_map *map;
	uint32_t map_type;            /* the kernel's, as asked (bpfvm's may stand in for it) */
	struct pl_obj **slots;        /* perf event arrays: the perf event in each slot */
	uint32_t btf_id, btf_key_type_id, btf_value_type_id;
	uint64_t map_extra;
	unsigned long seen;            /* ring buffers: the producer position last woken for */
	/* PL_PROG */
	struct bpfvm_prog *prog;
	uint32_t prog_type, expected_attach_type;
	uint32_t *map_ids;
	uint32_t nmap_ids;
	/* PL_PERF */
	uint32_t perf_type;
	uint64_t config;
	int cpu;
	char where[320];              /* "tracepoint/syscalls/sys_enter_openat", "uprobe/PATH:0xOFF" */
	struct pl_obj *attached;      /* the program (PERF_EVENT_IOC_SET_BPF or a link) */
	bool enabled;
	char *ring;                   /* the tool's mapping: perf_event_mmap_page, then data */
	size_t ring_size;             /* of the data */
	uint64_t lost;
	/* PL_LINK */
	struct pl_obj *link_prog, *link_perf;
	/* PL_LINK, PL_PERF: its bpfvm_trace attachment once the session runs (-1: none) */
	long attach_idx;
	bool detached;                /* the tool closed its last descriptor (detach.c) */
	uint32_t attach_type;
	/* PL_BTF */
	uint32_t btf_size;
};

#define PL_MAX_PINS 64

struct pl {
	pthread_mutex_t lock;
	struct bpfvm *vm;
	bool debug;
	struct pl_obj **objs;
	size_t nobjs, cap;
	uint32_t next_id;
	/* BPF_OBJ_PIN's paths, for BPF_OBJ_GET: the session's own, nothing in /sys/fs/bpf */
	struct { char path[256]; struct pl_obj *obj; } pins[PL_MAX_PINS];
	size_t npins;
	/* bpf_printk's lines (trace_pipe.c): a reader of trace_pipe, else this file (stderr) */
	int tp_write;
	int printk_fd;
	/* the session */
	struct attach_server *attach;   /* bpfvm attach's socket (attach_server.c) */
	char *trace_cmd;
	char *pids;
	bool started;
	pthread_t thread;
	struct bpfvm_trace *trace;
	int probe_events_fd;           /* + 1: the tool's tracefs kprobe_events (perf.c) */
};

struct pl *pl_state(void);

/* objects.c */
struct pl_obj *pl_obj_new(enum pl_kind kind, const char *what);   /* locked by the caller */
/* The object behind fd (any dup of it) of kind, or NULL. */
struct pl_obj *pl_obj_get(int fd, enum pl_kind kind);
/* A descriptor for the tool: a dup of o's, O_CLOEXEC as the kernel's. */
int pl_obj_fd(const struct pl_obj *o);
int pl_obj_set_file(struct pl_obj *o, int fd);
struct pl_obj *pl_obj_by_id(enum pl_kind kind, uint32_t id);

/* The real functions (dlsym(RTLD_NEXT)). */
long pl_real_syscall(long nr, long a1, long a2, long a3, long a4, long a5, long a6);
void pl_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* bpf_cmd.c: bpf(cmd, attr, size) as the kernel answers it: >= 0 or -errno. */
long pl_bpf(int cmd, void *attr, unsigned int size);
/* A value that is a descriptor (perf event, program, map): the slot's object. */
long pl_map_update_fd_slot(struct pl_obj *m, const void *key, const void *value, uint64_t flags);
/* bpf_batch.c: the BPF_MAP_*_BATCH commands. */
long pl_map_batch(int cmd, void *attr);
/* bpf_prog.c */
long pl_prog_load(void *attr);
long pl_btf_load(void *attr);
long pl_obj_info(void *attr);

/* perf.c */
long pl_perf_event_open(void *attr, int pid, int cpu, int group_fd, unsigned long flags);
/* 1 when fd is a perf event of the library's (the result in *ret), else 0. */
int pl_perf_ioctl(int fd, unsigned long req, unsigned long arg, int *ret);
/* The library's mapping for fd, or MAP_FAILED with errno; *handled 0 when fd is not ours. */
void *pl_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off, int *handled);
int pl_perf_array_update(struct pl_obj *map, const void *key, const void *value, uint64_t flags);
/* The perf event array's output (bpfvm_map__set_perf_output). */
void pl_perf_output(void *ctx, int cpu, const void *data, size_t size);
/* Say on stderr that the tool needs KIND WHAT (kprobe cap_capable), which IS ..., and end it. */
void pl_cannot_serve(const char *kind, const char *what, const char *is)
	__attribute__((noreturn));
/* tracefs's kprobe_events opened to write (libbpf's legacy kprobes): a memfd, else -1. */
int pl_probe_events_open(const char *path, int flags);
/* At its close: the function it names is said, the tool ends (perf.c). */
void pl_probe_events_close(int fd);
/* Wake every watcher whose buffer holds unread records; true if any does. */
bool pl_wake_readers(void);

/* session.c */
void pl_session_maybe_start(void);

/* trace_pipe.c: one bpf_printk line out; are lines left unread in the tool's trace_pipe? */
void pl_printk_out(const char *text, size_t len);
bool pl_trace_pipe_pending(void);

/* attach_server.c: the session's socket for bpfvm attach, and its requests. */
#define PL_WAKE_SIG (SIGRTMAX - 3)   /* interrupts the session's wait for events */
int pl_attach_listen(void);
void pl_attach_serve(void *ctx);   /* the session's on_wake: trace the pids asked for */
bool pl_attach_wait(int timeout_ms);

/* detach.c: the tool closed fd, which was o's (a link or perf event): detach if it was the last. */
void pl_closed(struct pl_obj *o);

#endif
