/*
 * detach.c - closing an attachment's descriptors detaches its program, as
 * in the kernel (tests/scripts/test_exec_session.sh runs it there and
 * under bpfvm exec): detach.bpf.o's four programs count the opens of
 * sesscat; "early"'s link is destroyed before the tool waits, "late"'s
 * (a perf link) and "ioctl"'s (attached with PERF_EVENT_IOC_SET_BPF)
 * once the workload's first sesscat has run (it then creates FIRST),
 * and then FLAG is created, on which the workload runs sesscat again.
 * Prints the four counts at SIGINT (or after 10 s).
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_sigint(int sig)
{
	(void)sig;
	stop = 1;
}

/* The tracepoint's perf event, as libbpf opens one, for the ioctl attach. */
static int tracepoint_fd(void)
{
	struct perf_event_attr attr = { .type = PERF_TYPE_TRACEPOINT, .size = sizeof(attr) };
	char buf[32] = "";
	FILE *f = fopen("/sys/kernel/tracing/events/syscalls/sys_enter_openat/id", "r");

	if (!f || !fgets(buf, sizeof(buf), f))
		return -1;
	fclose(f);
	attr.config = strtoull(buf, NULL, 10);
	return (int)syscall(SYS_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
}

static unsigned long long count(int map, unsigned key)
{
	unsigned long long v = 0;

	bpf_map_lookup_elem(map, &key, &v);
	return v;
}

int main(int argc, char **argv)
{
	struct bpf_link *keep, *early, *late;
	struct bpf_object *obj;
	int map, pfd, waited = 0;

	if (argc != 4)
		return 2;
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGINT, on_sigint);
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj || bpf_object__load(obj) || (pfd = tracepoint_fd()) < 0) {
		fprintf(stderr, "detach: cannot load %s\n", argv[1]);
		return 1;
	}
	keep = bpf_program__attach(bpf_object__find_program_by_name(obj, "keep"));
	early = bpf_program__attach(bpf_object__find_program_by_name(obj, "early"));
	late = bpf_program__attach(bpf_object__find_program_by_name(obj, "late"));
	if (!keep || !early || !late ||
	    ioctl(pfd, PERF_EVENT_IOC_SET_BPF,
		  bpf_program__fd(bpf_object__find_program_by_name(obj, "ioctl"))) ||
	    ioctl(pfd, PERF_EVENT_IOC_ENABLE, 0)) {
		fprintf(stderr, "detach: cannot attach\n");
		return 1;
	}
	map = bpf_map__fd(bpf_object__find_map_by_name(obj, "counts"));
	bpf_link__destroy(early);
	printf("ready\n");
	while (!stop && waited++ < 1000) {
		usleep(10000);
		if (late && access(argv[2], F_OK) == 0) {
			bpf_link__destroy(late);
			ioctl(pfd, PERF_EVENT_IOC_DISABLE, 0);   /* as libbpf detaches without links */
			close(pfd);
			late = NULL;
			close(open(argv[3], O_CREAT | O_WRONLY, 0600));
		}
	}
	printf("keep %llu early %llu late %llu ioctl %llu\n", count(map, 0), count(map, 1),
	       count(map, 2), count(map, 3));
	bpf_link__destroy(keep);
	bpf_object__close(obj);
	return 0;
}
