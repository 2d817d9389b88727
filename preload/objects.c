/*
 * objects.c - the table of what the tool holds descriptors to.  Each
 * object has a memfd of its own (a ring buffer's or mmapable array's is
 * the map's file, so mmap reaches the same pages); the tool gets dups of
 * it, and any of its descriptors leads back to the object by inode.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "preload.h"

static const char *const kind_names[] = { "map", "prog", "btf", "link", "perf" };

void pl_debug(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	if (!pl_state()->debug)
		return;
	n = snprintf(buf, sizeof(buf), "bpfvm-preload: ");
	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 1)
		n = sizeof(buf) - 1;
	if (write(2, buf, (size_t)n) < 0)
		return;
}

/* A memfd for the object (own_fd >= 0: that file, dup'ed), and an eventfd. */
struct pl_obj *pl_obj_new(enum pl_kind kind, const char *what)
{
	struct pl *s = pl_state();
	struct pl_obj *o, **grown;
	char name[64];
	struct stat st;

	if (s->nobjs == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;

		if (!(grown = realloc(s->objs, cap * sizeof(*grown))))
			return NULL;
		s->objs = grown;
		s->cap = cap;
	}
	if (!(o = calloc(1, sizeof(*o))))
		return NULL;
	snprintf(name, sizeof(name), "bpfvm-%s:%s", kind_names[kind], what ? what : "");
	o->fd = memfd_create(name, MFD_CLOEXEC);
	o->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (o->fd < 0 || o->efd < 0 || fstat(o->fd, &st)) {
		if (o->fd >= 0)
			close(o->fd);
		if (o->efd >= 0)
			close(o->efd);
		free(o);
		return NULL;
	}
	o->kind = kind;
	o->ino = st.st_ino;
	o->id = ++s->next_id;
	o->cpu = -1;
	o->attach_idx = -1;
	s->objs[s->nobjs++] = o;
	return o;
}

struct pl_obj *pl_obj_get(int fd, enum pl_kind kind)
{
	struct pl *s = pl_state();
	struct pl_obj *found = NULL;
	struct stat st;

	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode))
		return NULL;
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < s->nobjs && !found; i++)
		if (s->objs[i]->ino == st.st_ino && s->objs[i]->kind == kind)
			found = s->objs[i];
	pthread_mutex_unlock(&s->lock);
	return found;
}

struct pl_obj *pl_obj_by_id(enum pl_kind kind, uint32_t id)
{
	struct pl *s = pl_state();
	struct pl_obj *found = NULL;

	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < s->nobjs && !found; i++)
		if (s->objs[i]->id == id && s->objs[i]->kind == kind)
			found = s->objs[i];
	pthread_mutex_unlock(&s->lock);
	return found;
}

int pl_obj_fd(const struct pl_obj *o)
{
	/* libbpf wants fds above 2; the kernel gives the lowest free one, as dup does */
	int fd = fcntl(o->fd, F_DUPFD_CLOEXEC, 0);

	return fd < 0 ? -errno : fd;
}

/* o's file becomes a dup of fd (a map's own memfd, which mmap must reach). */
int pl_obj_set_file(struct pl_obj *o, int fd)
{
	int nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	struct stat st;

	if (nfd < 0 || fstat(nfd, &st)) {
		if (nfd >= 0)
			close(nfd);
		return -EMFILE;
	}
	close(o->fd);
	o->fd = nfd;
	o->ino = st.st_ino;
	return 0;
}
