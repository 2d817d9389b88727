/*
 * perf.c - perf_event_open() for what libbpf opens: tracepoints (config:
 * tracefs's event id, named back by reading events/<category>/<event>/id),
 * PERF_COUNT_SW_BPF_OUTPUT events for perf buffers, kprobes on system
 * call wrappers (the kprobe PMU); their ioctls (SET_BPF, ENABLE,
 * DISABLE); and the kernel's mmap layouts: a perf buffer's
 * perf_event_mmap_page then data pages (records with perf_event_header,
 * PERF_RECORD_SAMPLE's raw data, PERF_RECORD_LOST), a ring buffer's
 * consumer page, producer page and data mapped twice.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "preload.h"

#define TRACEFS "/sys/kernel/tracing/events"
#define PMU_DIR "/sys/bus/event_source/devices"

static unsigned read_uint(const char *path)
{
	unsigned v = 0;
	FILE *f = fopen(path, "re");

	if (f) {
		if (fscanf(f, "%u", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v;
}

/* category/event of tracefs id, by reading the id files (the common categories first). */
static int tracepoint_name(uint64_t id, char *out, size_t size)
{
	static const char *const first[] = { "syscalls", "raw_syscalls", "sched", "signal", NULL };
	char path[1024];
	DIR *cats, *evs;
	struct dirent *c, *e;

	for (int pass = 0; pass < 2; pass++) {
		if (!(cats = opendir(TRACEFS)))
			return -ENOENT;
		while ((c = readdir(cats))) {
			bool common = false;

			for (int i = 0; first[i]; i++)
				common |= !strcmp(c->d_name, first[i]);
			if (c->d_name[0] == '.' || common != (pass == 0))
				continue;
			snprintf(path, sizeof(path), TRACEFS "/%s", c->d_name);
			if (!(evs = opendir(path)))
				continue;
			while ((e = readdir(evs))) {
				if (e->d_name[0] == '.')
					continue;
				snprintf(path, sizeof(path), TRACEFS "/%s/%s/id", c->d_name, e->d_name);
				if (read_uint(path) == id && id) {
					if (snprintf(out, size, "tracepoint/%.64s/%.80s", c->d_name,
						     e->d_name) < 0)
						out[0] = '\0';
					closedir(evs);
					closedir(cats);
					return 0;
				}
			}
			closedir(evs);
		}
		closedir(cats);
	}
	return -ENOENT;
}

void pl_cannot_serve(const char *kind, const char *what, const char *is)
{
	fprintf(stderr, "bpfvm exec: %s needs %s%s%s, %s\n", program_invocation_short_name, kind,
		*kind ? " " : "", what, is);
	_exit(1);
}

#define KPROBE_IS "a kernel function bpfvm cannot run in user space (it serves kprobes on " \
		  "system call wrappers, __x64_sys_NAME)"

/* The kprobe PMU: config1 the function's name, config bit 0 a return probe. */
static int kprobe_where(const struct perf_event_attr *a, char *out, size_t size)
{
	const char *fn = (const char *)(uintptr_t)a->config1;

	if (!fn || strncmp(fn, "__x64_sys_", 10) || a->config2)
		pl_cannot_serve(a->config & 1 ? "kretprobe" : "kprobe", fn ? fn : "at an address",
				KPROBE_IS);
	snprintf(out, size, "%s/%s", a->config & 1 ? "kretprobe" : "kprobe", fn);
	return 0;
}

/*
 * libbpf's legacy kprobe path, on a kernel without the kprobe PMU: it
 * appends "p:kprobes/NAME FUNC+0xOFF" to tracefs's kprobe_events, then
 * closes it.  The tool writes into a memfd instead; at its close, the
 * function it wanted is said, and the tool stops, as bpfvm exec does not
 * serve this path.  Not ours: -1.
 */
int pl_probe_events_open(const char *path, int flags)
{
	const char *base = path ? strrchr(path, '/') : NULL;
	int fd;

	if (!base || strcmp(base, "/kprobe_events") || (flags & O_ACCMODE) == O_RDONLY ||
	    strncmp(path, "/sys/kernel/", 12))
		return -1;
	fd = memfd_create("kprobe_events", MFD_CLOEXEC);
	if (fd >= 0)
		__atomic_store_n(&pl_state()->probe_events_fd, fd + 1, __ATOMIC_RELEASE);
	return fd;
}

void pl_probe_events_close(int fd)
{
	char line[512], func[256];
	ssize_t n;

	if (fd < 0 || __atomic_load_n(&pl_state()->probe_events_fd, __ATOMIC_ACQUIRE) != fd + 1)
		return;
	pl_state()->probe_events_fd = 0;
	n = pread(fd, line, sizeof(line) - 1, 0);
	line[n > 0 ? n : 0] = '\0';
	/* "-:kprobes/NAME" removes one: nothing to say */
	if ((line[0] != 'p' && line[0] != 'r') || sscanf(line, "%*s %255[^+ \n]", func) != 1)
		return;
	if (!strncmp(func, "__x64_sys_", 10)) {
		fprintf(stderr, "bpfvm exec: %s attaches kprobe %s through tracefs's kprobe_events "
				"(this kernel has no kprobe PMU), which bpfvm exec does not serve\n",
			program_invocation_short_name, func);
		_exit(1);
	}
	pl_cannot_serve(line[0] == 'r' ? "kretprobe" : "kprobe", func, KPROBE_IS);
}

/*
 * The uprobe PMU: config1 the binary's path, config2 the probed
 * instruction's file offset, config bit 0 a return probe, bits 32-63 a
 * reference counter's offset (a USDT semaphore, which bpfvm exec does
 * not raise yet: the tool ends, saying so).  The probe lands in every process --trace or -p traces,
 * whatever pid the tool named, as bpfvm_trace__attach_prog places it.
 */
static int uprobe_where(const struct perf_event_attr *a, char *out, size_t size)
{
	const char *path = (const char *)(uintptr_t)a->config1;
	int n;

	if (!path || !*path)
		return -EINVAL;
	n = snprintf(out, size, "%s/%s:0x%llx", a->config & 1 ? "uretprobe" : "uprobe", path,
		     (unsigned long long)a->config2);
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	if (a->config >> 32)
		pl_cannot_serve("", out, "with a reference counter (a USDT semaphore), which bpfvm "
			       "exec does not raise yet");
	return 0;
}

static int perf_where(const struct perf_event_attr *a, char *out, size_t size)
{
	unsigned kprobe = read_uint(PMU_DIR "/kprobe/type");
	unsigned uprobe = read_uint(PMU_DIR "/uprobe/type");

	if (a->type == PERF_TYPE_TRACEPOINT)
		return tracepoint_name(a->config, out, size);
	if (a->type == PERF_TYPE_SOFTWARE && a->config == PERF_COUNT_SW_BPF_OUTPUT) {
		snprintf(out, size, "bpf_output");
		return 0;
	}
	if (kprobe && a->type == kprobe)
		return kprobe_where(a, out, size);
	if (uprobe && a->type == uprobe)
		return uprobe_where(a, out, size);
	pl_debug("perf_event_open: type %u config %llu is not served by bpfvm\n", a->type,
		 (unsigned long long)a->config);
	return -ENOENT;
}

long pl_perf_event_open(void *uattr, int pid, int cpu, int group_fd, unsigned long flags)
{
	struct perf_event_attr *a = uattr;
	struct pl *s = pl_state();
	char where[sizeof(((struct pl_obj *)0)->where)];
	struct pl_obj *o;
	int err;

	(void)group_fd, (void)flags;
	if (!a)
		return -EFAULT;
	if ((err = perf_where(a, where, sizeof(where))))
		return err;
	pthread_mutex_lock(&s->lock);
	o = pl_obj_new(PL_PERF, where);
	pthread_mutex_unlock(&s->lock);
	if (!o)
		return -ENOMEM;
	o->perf_type = a->type;
	o->config = a->config;
	o->cpu = cpu;
	o->enabled = !a->disabled;
	snprintf(o->where, sizeof(o->where), "%s", where);
	pl_debug("perf_event_open %s (pid %d, cpu %d)\n", where, pid, cpu);
	return pl_obj_fd(o);
}

int pl_perf_ioctl(int fd, unsigned long req, unsigned long arg, int *ret)
{
	struct pl_obj *o, *prog;

	if (req != PERF_EVENT_IOC_SET_BPF && req != PERF_EVENT_IOC_ENABLE &&
	    req != PERF_EVENT_IOC_DISABLE)
		return 0;
	if (!(o = pl_obj_get(fd, PL_PERF)))
		return 0;
	*ret = 0;
	if (req == PERF_EVENT_IOC_SET_BPF) {
		if (!(prog = pl_obj_get((int)arg, PL_PROG)))
			*ret = -EBADF;
		else if (o->attached)
			*ret = -EEXIST;
		else if (pl_state()->started)
			*ret = -EBUSY;
		else
			o->attached = prog;
	} else {
		o->enabled = req == PERF_EVENT_IOC_ENABLE;
	}
	return 1;
}

typedef void *(*mmap_fn)(void *, size_t, int, int, int, off_t);

static void *real_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	static mmap_fn fn;

	if (!fn)
		fn = (mmap_fn)dlsym(RTLD_NEXT, "mmap");
	return fn(addr, len, prot, flags, fd, off);
}

/* Producer page and data at offset page, the data once more after it. */
static void *ringbuf_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), data;
	char *p;

	if ((size_t)off != page || len < page)
		return real_mmap(addr, len, prot, flags, fd, off);
	data = (len - page) / 2;
	p = real_mmap(addr, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | (flags & MAP_FIXED), -1, 0);
	if (p == MAP_FAILED)
		return p;
	if (real_mmap(p, page + data, prot, MAP_SHARED | MAP_FIXED, fd, (off_t)page) == MAP_FAILED ||
	    real_mmap(p + page + data, data, prot, MAP_SHARED | MAP_FIXED, fd, (off_t)(2 * page)) ==
		    MAP_FAILED) {
		munmap(p, len);
		return MAP_FAILED;
	}
	return p;
}

void *pl_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off, int *handled)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	struct pl_obj *o;
	char *p;

	*handled = 0;
	if (fd < 0)
		return real_mmap(addr, len, prot, flags, fd, off);
	if ((o = pl_obj_get(fd, PL_MAP)) && bpfvm_map__type(o->map) == BPFVM_MAP_TYPE_RINGBUF) {
		*handled = 1;
		return ringbuf_mmap(addr, len, prot, flags, fd, off);
	}
	if (!(o = pl_obj_get(fd, PL_PERF)))
		return real_mmap(addr, len, prot, flags, fd, off);
	*handled = 1;
	/* the kernel's: one header page, then a power of two of data pages */
	if (off || len <= page || o->ring || ftruncate(fd, (off_t)len)) {
		errno = EINVAL;
		return MAP_FAILED;
	}
	p = real_mmap(addr, len, prot, flags, fd, 0);
	if (p != MAP_FAILED) {
		struct perf_event_mmap_page *h = (void *)p;

		h->data_offset = page;
		h->data_size = len - page;
		o->ring_size = len - page;
		__atomic_store_n(&o->ring, p, __ATOMIC_RELEASE);
	}
	return p;
}

int pl_perf_array_update(struct pl_obj *m, const void *key, const void *value, uint64_t flags)
{
	uint32_t idx, fd;
	struct pl_obj *perf;

	memcpy(&idx, key, 4);
	memcpy(&fd, value, 4);
	if (flags > 2)
		return -EINVAL;
	if (idx >= bpfvm_map__max_entries(m->map))
		return -E2BIG;
	if (!(perf = pl_obj_get((int)fd, PL_PERF)))
		return -EBADF;
	__atomic_store_n(&m->slots[idx], perf, __ATOMIC_RELEASE);
	return 0;
}

/* Copy len bytes into the ring at head, wrapping. */
static void ring_put(struct pl_obj *o, uint64_t head, const void *src, size_t len)
{
	char *data = o->ring + (size_t)sysconf(_SC_PAGESIZE);
	size_t at = head % o->ring_size, first = o->ring_size - at < len ? o->ring_size - at : len;

	memcpy(data + at, src, first);
	memcpy(data, (const char *)src + first, len - first);
}

static bool ring_room(struct pl_obj *o, uint64_t head, size_t need)
{
	struct perf_event_mmap_page *h = (void *)o->ring;
	uint64_t tail = __atomic_load_n(&h->data_tail, __ATOMIC_ACQUIRE);

	return o->ring_size - (head - tail) >= need;
}

static uint64_t put_lost(struct pl_obj *o, uint64_t head)
{
	struct { struct perf_event_header h; uint64_t id, lost; } rec = {
		{ PERF_RECORD_LOST, 0, sizeof(rec) }, 0, o->lost };

	if (!o->lost || !ring_room(o, head, sizeof(rec)))
		return head;
	ring_put(o, head, &rec, sizeof(rec));
	o->lost = 0;
	return head + sizeof(rec);
}

/* A PERF_RECORD_SAMPLE of PERF_SAMPLE_RAW: header, u32 size, data, zeros up to 8 bytes. */
void pl_perf_output(void *ctx, int cpu, const void *data, size_t size)
{
	struct pl_obj *m = ctx, *o;
	struct perf_event_mmap_page *h;
	struct perf_event_header hdr = { PERF_RECORD_SAMPLE, PERF_RECORD_MISC_KERNEL, 0 };
	static const char zeros[8];
	uint32_t raw = (uint32_t)((size + 4 + 7) / 8 * 8 - 4);
	uint64_t head, one = 1;

	if (cpu < 0 || (uint32_t)cpu >= bpfvm_map__max_entries(m->map) ||
	    !(o = __atomic_load_n(&m->slots[cpu], __ATOMIC_ACQUIRE)) ||
	    !__atomic_load_n(&o->ring, __ATOMIC_ACQUIRE))
		return;
	h = (void *)o->ring;
	head = put_lost(o, h->data_head);
	hdr.size = (uint16_t)(sizeof(hdr) + 4 + raw);
	if (sizeof(hdr) + 4 + raw > 0xffff || !ring_room(o, head, hdr.size)) {
		o->lost++;
		return;
	}
	ring_put(o, head, &hdr, sizeof(hdr));
	ring_put(o, head + sizeof(hdr), &raw, 4);
	ring_put(o, head + sizeof(hdr) + 4, data, size);
	ring_put(o, head + sizeof(hdr) + 4 + size, zeros, raw - size);
	__atomic_store_n(&h->data_head, head + hdr.size, __ATOMIC_RELEASE);
	if (write(o->efd, &one, 8) < 0)
		return;
}

static bool ringbuf_unread(struct pl_obj *o)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), size;
	char *area = bpfvm_map__ringbuf_area(o->map, &size);
	unsigned long cons, prod, seen;
	uint64_t one = 1;

	if (!area)
		return false;
	cons = __atomic_load_n((unsigned long *)area, __ATOMIC_ACQUIRE);
	prod = __atomic_load_n((unsigned long *)(area + page), __ATOMIC_ACQUIRE);
	seen = o->seen;
	if (prod != seen) {
		o->seen = prod;
		if (write(o->efd, &one, 8) < 0)
			return true;
	}
	return cons != prod;
}

bool pl_wake_readers(void)
{
	struct pl *s = pl_state();
	bool unread = false;

	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < s->nobjs; i++) {
		struct pl_obj *o = s->objs[i];

		if (o->kind == PL_MAP && bpfvm_map__type(o->map) == BPFVM_MAP_TYPE_RINGBUF)
			unread |= ringbuf_unread(o);
		if (o->kind == PL_PERF && o->ring) {
			struct perf_event_mmap_page *h = (void *)o->ring;

			unread |= __atomic_load_n(&h->data_tail, __ATOMIC_ACQUIRE) !=
				  __atomic_load_n(&h->data_head, __ATOMIC_ACQUIRE);
		}
	}
	pthread_mutex_unlock(&s->lock);
	return unread;
}
