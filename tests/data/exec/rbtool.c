/*
 * rbtool.c - a small libbpf tool, linked with the shared libbpf, for
 * test_exec.sh: loads OBJECT, attaches every program, prints "ready", then
 * each record of its ring buffer "events" (examples/opensnoop.bpf.c's
 * struct open_event) as "open COMM RET FILENAME", until SIGINT.
 */
#include <bpf/libbpf.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "load_attach.h"

struct open_event {
	unsigned pid, tid;
	int ret;
	unsigned flags;
	char comm[16];
	char filename[128];
};

static volatile sig_atomic_t stop;

static void on_sigint(int sig)
{
	(void)sig;
	stop = 1;
}

static int on_record(void *ctx, void *data, size_t size)
{
	const struct open_event *e = data;

	(void)ctx;
	if (size >= sizeof(*e))
		printf("open %s %d %s\n", e->comm, e->ret, e->filename);
	return 0;
}

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	struct bpf_map *events;
	struct ring_buffer *rb = NULL;

	if (argc != 2)
		return 2;
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGINT, on_sigint);
	if (!(obj = load_attach("rbtool", argv[1])))
		return 1;
	events = bpf_object__find_map_by_name(obj, "events");
	if (events && !(rb = ring_buffer__new(bpf_map__fd(events), on_record, NULL, NULL))) {
		fprintf(stderr, "rbtool: no ring buffer\n");
		return 1;
	}
	printf("ready\n");
	while (!stop)
		if (rb ? ring_buffer__poll(rb, 100) < 0 && !stop : (usleep(100000), 0))
			break;
	printf("done\n");
	ring_buffer__free(rb);
	bpf_object__close(obj);
	return 0;
}
