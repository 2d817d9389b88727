/*
 * detach.c - close() in the tool: as in the kernel, a program attached
 * through a link runs until the link's last descriptor is closed, and one
 * attached with PERF_EVENT_IOC_SET_BPF until its perf event's last is (a
 * perf link holds its perf event, so closing the perf fd alone leaves it
 * attached).  Every descriptor the tool holds to an object is a dup of
 * the library's own (objects.c), so "the last" is: no descriptor in
 * /proc/self/fd but the library's own leads to the same file.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "preload.h"

#define API __attribute__((visibility("default")))

/* Does the process hold a descriptor of o's file besides the library's own? */
static bool still_open(const struct pl_obj *o)
{
	struct stat mine, st;
	struct dirent *e;
	bool found = false;
	DIR *d;

	if (fstat(o->fd, &mine) || !(d = opendir("/proc/self/fd")))
		return true;   /* cannot tell: leave it attached */
	while (!found && (e = readdir(d))) {
		int fd = atoi(e->d_name);

		if (e->d_name[0] == '.' || fd == o->fd || fd == dirfd(d))
			continue;
		found = !fstat(fd, &st) && st.st_ino == mine.st_ino && st.st_dev == mine.st_dev;
	}
	closedir(d);
	return found;
}

static void detach(struct pl_obj *o)
{
	struct pl *s = pl_state();

	o->detached = true;
	if (o->kind == PL_LINK && o->link_perf) {
		/* the perf event's own attachment is the link's */
		o->link_perf->detached = true;
		o->link_perf->attached = NULL;
		if (o->link_perf->attach_idx >= 0 && s->trace)
			bpfvm_trace__detach(s->trace, (size_t)o->link_perf->attach_idx);
	}
	if (o->attach_idx >= 0 && s->trace)
		bpfvm_trace__detach(s->trace, (size_t)o->attach_idx);
	pl_debug("%s %s: last descriptor closed: detached\n", o->kind == PL_LINK ? "link" : "perf event",
		 o->where);
}

void pl_closed(struct pl_obj *o)
{
	struct pl *s = pl_state();

	pthread_mutex_lock(&s->lock);
	if (!o->detached && !still_open(o)) {
		/* a perf event a link holds stays attached until the link goes */
		bool held = false;

		for (size_t i = 0; o->kind == PL_PERF && i < s->nobjs && !held; i++)
			held = s->objs[i]->kind == PL_LINK && s->objs[i]->link_perf == o &&
			       !s->objs[i]->detached;
		if (!held)
			detach(o);
	}
	pthread_mutex_unlock(&s->lock);
}

API int close(int fd)
{
	static int (*fn)(int);
	struct pl_obj *o = NULL;
	int r;

	if (!fn)
		fn = (int (*)(int))dlsym(RTLD_NEXT, "close");
	pl_probe_events_close(fd);   /* tracefs's kprobe_events, written: said, and the tool ends */
	if (pl_state()->vm && !(o = pl_obj_get(fd, PL_LINK)))
		o = pl_obj_get(fd, PL_PERF);
	r = fn(fd);
	if (o && !r)
		pl_closed(o);
	return r;
}
