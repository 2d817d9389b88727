/*
 * tracelog.c - a libbpf tool that reads bpf_printk's lines itself, as
 * `bpftool prog tracelog` does, for test_exec_session.sh: loads OBJECT,
 * attaches every program, opens /sys/kernel/tracing/trace_pipe, prints
 * "ready", then every line of it (polled, 100 ms at a time) until SIGINT,
 * and "done".
 */
#include <bpf/libbpf.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "load_attach.h"

static volatile sig_atomic_t stop;

static void on_sigint(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	char *line = NULL;
	size_t cap = 0;
	FILE *tp;

	if (argc != 2)
		return 2;
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGINT, on_sigint);
	if (!(obj = load_attach("tracelog", argv[1])))
		return 1;
	if (!(tp = fopen("/sys/kernel/tracing/trace_pipe", "r"))) {
		perror("tracelog: trace_pipe");
		return 1;
	}
	printf("ready\n");
	while (!stop) {
		struct pollfd p = { .fd = fileno(tp), .events = POLLIN };

		if (poll(&p, 1, 100) == 1 && getline(&line, &cap, tp) > 0)
			fputs(line, stdout);
	}
	printf("done\n");
	free(line);
	fclose(tp);
	bpf_object__close(obj);
	return 0;
}
