/*
 * cmd_xdp.c - `bpfvm xdp attach`: an XDP program of a BPF object on the
 * live frames of network interfaces, in user space (bpfvm/packet.h):
 *
 *   bpfvm xdp attach OBJECT --prog NAME --dev IFACE [--dev IFACE]... [--ports MAP]
 *                    [--set VAR=VALUE]... [--dump-maps] [--count N] [--duration SECS]
 *                    [--interp|--jit]
 *
 * Frames are read in batches and each runs the program with a real
 * xdp_md (ingress_ifindex, rx_queue_index); the verdict is applied:
 * XDP_DROP and XDP_ABORTED forward nothing, XDP_PASS leaves the frame to
 * the kernel's stack (which has it anyway: AF_PACKET reads a copy),
 * XDP_TX sends it back out of its interface, XDP_REDIRECT out of the
 * device bpf_redirect named or a devmap entry holds (BPF_F_BROADCAST:
 * every entry, but the ingress one with BPF_F_EXCLUDE_INGRESS).  A
 * redirect to a cpumap is a pass (the kernel builds the skb on that CPU
 * for the stack); to an xskmap, bpfvm has no AF_XDP socket to fill and
 * counts it apart.  --ports MAP fills the devmap MAP with the interfaces
 * (key i: the i-th --dev) before the first frame.  bpf_printk lines are
 * streamed; at the end (Ctrl-C, --count frames, --duration seconds) one
 * line per verdict, and with --dump-maps every map.
 */
#include <errno.h>
#include <getopt.h>
#include <linux/bpf.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpfvm/hooks.h>
#include <bpfvm/maps.h>
#include <bpfvm/object.h>
#include <bpfvm/packet.h>

#include "cli.h"
#include "records.h"

#define MAX_DEVS 16
#define MAX_SETS 64
#define BATCH 64
#define MAX_FRAME 65536
#define POLL_MS 100

struct xdp_args {
	const char *object, *prog, *ports;
	const char *devs[MAX_DEVS];
	int ndevs;
	const char *sets[MAX_SETS];
	int nsets;
	bool dump_maps;
	enum bpfvm_exec mode;
	uint64_t count;
	double duration;
};

enum { C_ABORTED, C_DROP, C_PASS, C_TX, C_REDIRECT, C_INVALID, C_NCOUNT };

struct counters {
	uint64_t verdict[C_NCOUNT];
	uint64_t frames, sent, send_errors, to_cpumap, to_xsk, faults, skipped;
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void on_printk(void *ctx, const char *text, size_t len)
{
	(void)ctx;
	fwrite(text, 1, len, stdout);
	fflush(stdout);
}

static int parse_args(int argc, char **argv, struct xdp_args *a)
{
	static const struct option opts[] = {
		{ "prog", required_argument, NULL, 'p' }, { "dev", required_argument, NULL, 'd' },
		{ "ports", required_argument, NULL, 'P' }, { "set", required_argument, NULL, 's' },
		{ "dump-maps", no_argument, NULL, 'm' }, { "count", required_argument, NULL, 'c' },
		{ "duration", required_argument, NULL, 't' }, { "interp", no_argument, NULL, 'i' },
		{ "jit", no_argument, NULL, 'j' }, { NULL, 0, NULL, 0 },
	};
	char *end;
	int c;

	a->mode = BPFVM_EXEC_JIT;
	if (argc < 2 || strcmp(argv[1], "attach"))
		return cli_usage("xdp");
	optind = 2;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'p': a->prog = optarg; break;
		case 'P': a->ports = optarg; break;
		case 'm': a->dump_maps = true; break;
		case 'i': a->mode = BPFVM_EXEC_UNCHECKED; break;
		case 'j': a->mode = BPFVM_EXEC_JIT; break;
		case 'd':
			if (a->ndevs == MAX_DEVS) {
				fprintf(stderr, "bpfvm xdp: at most %d --dev\n", MAX_DEVS);
				return 1;
			}
			a->devs[a->ndevs++] = optarg;
			break;
		case 's':
			if (a->nsets == MAX_SETS)
				return cli_usage("xdp");
			a->sets[a->nsets++] = optarg;
			break;
		case 'c':
			a->count = strtoull(optarg, &end, 0);
			if (*end || !*optarg || !a->count) {
				fprintf(stderr, "bpfvm xdp: --count '%s': not a positive number\n", optarg);
				return 1;
			}
			break;
		case 't':
			a->duration = strtod(optarg, &end);
			if (*end || !*optarg || !(a->duration > 0)) {
				fprintf(stderr, "bpfvm xdp: --duration '%s': not a positive number of "
						"seconds\n", optarg);
				return 1;
			}
			break;
		default: return cli_usage("xdp");
		}
	}
	if (optind != argc - 1 || !a->ndevs)
		return cli_usage("xdp");
	a->object = argv[optind];
	return 0;
}

/* Open, set, load and verify the object; find the program: 0, or 1 with the reason printed. */
static int load(struct bpfvm *vm, const struct xdp_args *a, struct bpfvm_object **out,
		struct bpfvm_prog **prog)
{
	static char msg[65536];
	struct bpfvm_log log = { msg, sizeof(msg), 0 };
	BPFVM_OPTS(bpfvm_object_open_opts, oo, .log = &log, .vm = vm);
	struct bpfvm_object *obj = bpfvm_object__open_file(a->object, &oo);
	struct bpfvm_obj_prog *p = NULL;
	int err;

	if (!obj) {
		fprintf(stderr, "bpfvm xdp: %s: %s", a->object, msg[0] ? msg : "cannot open\n");
		return 1;
	}
	*out = obj;
	for (int i = 0; i < a->nsets; i++)
		if (cli_apply_set(obj, a->sets[i], &log, false) < 0)
			return 1;
	if ((err = bpfvm_object__load(obj))) {
		fprintf(stderr, "bpfvm xdp: %s: %s", a->object, msg[0] ? msg : strerror(-err));
		return 1;
	}
	if (cli_verify_object_for_run(obj, a->object))
		return 1;
	if (a->prog)
		p = bpfvm_object__find_program_by_name(obj, a->prog);
	else if (!(p = bpfvm_object__next_program(obj, NULL)) ||
		 bpfvm_object__next_program(obj, p)) {
		fprintf(stderr, "bpfvm xdp: %s: give the program with --prog NAME\n", a->object);
		return 1;
	}
	if (!p || !bpfvm_obj_prog__prog(p)) {
		fprintf(stderr, "bpfvm xdp: %s: no program '%s'\n", a->object, a->prog);
		return 1;
	}
	*prog = bpfvm_obj_prog__prog(p);
	if (bpfvm_obj_prog__type(p) != BPF_PROG_TYPE_XDP) {
		fprintf(stderr, "bpfvm xdp: %s: '%s' is a %s program, not xdp\n", a->object,
			bpfvm_obj_prog__name(p), bpfvm_prog_type_name(bpfvm_obj_prog__type(p)));
		return 1;
	}
	return 0;
}

/* --ports MAP: key i is the i-th interface. */
static int fill_ports(struct bpfvm_object *obj, const char *name, struct bpfvm_pkt_source *src,
		      int ndevs)
{
	struct bpfvm_map *m = bpfvm_object__find_map_by_name(obj, name);
	uint32_t t = m ? bpfvm_map__type(m) : 0;
	uint32_t val[2] = { 0, 0 };

	if (!m || (t != BPF_MAP_TYPE_DEVMAP && t != BPF_MAP_TYPE_DEVMAP_HASH)) {
		fprintf(stderr, "bpfvm xdp: --ports %s: no devmap of that name\n", name);
		return 1;
	}
	for (uint32_t i = 0; i < (uint32_t)ndevs; i++) {
		int err;

		val[0] = bpfvm_pkt_source__ifindex(src, i);
		if ((err = bpfvm_map__update_elem(m, &i, val, 0))) {
			fprintf(stderr, "bpfvm xdp: --ports %s: key %u: %s\n", name, i, strerror(-err));
			return 1;
		}
	}
	return 0;
}

static void send_to(struct bpfvm_pkt_source *src, struct counters *c, uint32_t ifindex,
		    const struct bpfvm_xdp_result *r)
{
	if (bpfvm_pkt_source__send(src, ifindex, r->data, r->len))
		c->send_errors++;
	else
		c->sent++;
}

/* BPF_F_BROADCAST: every device of the devmap, but the ingress one if excluded. */
static void broadcast(struct bpfvm_pkt_source *src, struct counters *c,
		      const struct bpfvm_xdp_result *r, uint32_t ingress)
{
	struct bpfvm_map *m = r->redirect.map;
	uint32_t key, val[2];
	int err, n = 0;

	for (err = bpfvm_map__get_next_key(m, NULL, &key); !err && n++ < 1 << 20;
	     err = bpfvm_map__get_next_key(m, &key, &key)) {
		if (bpfvm_map__lookup_elem(m, &key, val, 0))
			continue;
		if (!(r->redirect.flags & BPF_F_EXCLUDE_INGRESS) || val[0] != ingress)
			send_to(src, c, val[0], r);
	}
}

static void apply(struct bpfvm_pkt_source *src, struct counters *c, const struct bpfvm_pkt *p,
		  const struct bpfvm_xdp_result *r)
{
	const struct bpfvm_redirect *rd = &r->redirect;

	c->verdict[r->verdict < C_INVALID ? r->verdict : C_INVALID]++;
	if (r->verdict == XDP_TX)
		send_to(src, c, p->ifindex, r);
	if (r->verdict != XDP_REDIRECT)
		return;
	if (rd->map_type == BPF_MAP_TYPE_CPUMAP)
		c->to_cpumap++;
	else if (rd->map_type == BPF_MAP_TYPE_XSKMAP)
		c->to_xsk++;
	else if (rd->flags & BPF_F_BROADCAST)
		broadcast(src, c, r, p->ifindex);
	else
		send_to(src, c, rd->ifindex, r);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The loop: 0 when stopped as asked, 1 on an error (printed). */
static int run_frames(const struct xdp_args *a, struct bpfvm_pkt_source *src,
		      struct bpfvm_xdp_runner *runner, struct counters *c)
{
	static char msg[4096];
	struct bpfvm_pkt pkts[BATCH];
	double deadline = a->duration ? now_s() + a->duration : 0;
	int n;

	while (!stop_requested && (!a->count || c->frames < a->count) &&
	       (!deadline || now_s() < deadline)) {
		n = bpfvm_pkt_source__next(src, pkts, BATCH, POLL_MS);
		if (n == -ENETDOWN) {
			fprintf(stderr, "bpfvm xdp: an interface went down or away: detached\n");
			return 1;
		}
		if (n < 0) {
			fprintf(stderr, "bpfvm xdp: reading frames: %s\n", strerror(-n));
			return 1;
		}
		for (int i = 0; i < n && (!a->count || c->frames < a->count); i++) {
			struct bpfvm_xdp_result r;
			int err;

			c->frames++;
			if (pkts[i].len != pkts[i].wire_len) {   /* larger than a ring's frame */
				c->skipped++;
				continue;
			}
			msg[0] = '\0';
			err = bpfvm_xdp_runner__run(runner, pkts[i].data, pkts[i].len, pkts[i].ifindex,
						    pkts[i].rx_queue, &r);
			if (err) {
				if (!c->faults++)
					fprintf(stderr, "bpfvm xdp: frame %llu: %s%s",
						(unsigned long long)c->frames, strerror(-err),
						msg[0] ? ": " : "\n");
				c->verdict[C_ABORTED]++;   /* as the kernel: a failed frame is dropped */
				continue;
			}
			apply(src, c, &pkts[i], &r);
		}
	}
	return 0;
}

static void print_counters(const struct counters *c, struct bpfvm_pkt_source *src)
{
	static const char *const names[C_NCOUNT] = { "XDP_ABORTED", "XDP_DROP", "XDP_PASS",
						      "XDP_TX", "XDP_REDIRECT", "invalid" };

	printf("%llu frames\n", (unsigned long long)c->frames);
	for (int i = 0; i < C_NCOUNT; i++)
		printf("%-12s %llu\n", names[i], (unsigned long long)c->verdict[i]);
	printf("sent %llu, send errors %llu, to cpumap %llu, to xskmap (not delivered) %llu, "
	       "too long %llu, run errors %llu, ring drops %llu\n",
	       (unsigned long long)c->sent, (unsigned long long)c->send_errors,
	       (unsigned long long)c->to_cpumap, (unsigned long long)c->to_xsk,
	       (unsigned long long)c->skipped, (unsigned long long)c->faults,
	       (unsigned long long)bpfvm_pkt_source__ring_drops(src));
}

static int attach(const struct xdp_args *a, struct bpfvm_object *obj, struct bpfvm_prog *prog)
{
	static char msg[4096];
	struct bpfvm_log log = { msg, sizeof(msg), 0 };
	BPFVM_OPTS(bpfvm_xdp_runner_opts, ro, .log = &log);
	BPFVM_OPTS(bpfvm_pkt_source_opts, so, .log = &log);
	struct bpfvm_pkt_source *src = NULL;
	struct bpfvm_xdp_runner *runner;
	struct counters c = { 0 };
	struct sigaction sa = { .sa_handler = on_signal };
	int err, rc;

	if ((err = bpfvm_pkt_source__open(a->devs, (size_t)a->ndevs, &so, &src))) {
		fprintf(stderr, "bpfvm xdp: %s", msg[0] ? msg : strerror(-err));
		return 1;
	}
	if (a->ports && fill_ports(obj, a->ports, src, a->ndevs)) {
		bpfvm_pkt_source__destroy(src);
		return 1;
	}
	if (!(runner = bpfvm_xdp_runner__new(prog, MAX_FRAME, a->mode, &ro))) {
		fprintf(stderr, "bpfvm xdp: %s", msg[0] ? msg : strerror(errno));
		bpfvm_pkt_source__destroy(src);
		return 1;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	fprintf(stderr, "bpfvm xdp: attached to");
	for (int i = 0; i < a->ndevs; i++)
		fprintf(stderr, " %s (ifindex %u)", a->devs[i], bpfvm_pkt_source__ifindex(src, i));
	fprintf(stderr, "; Ctrl-C stops\n");
	rc = run_frames(a, src, runner, &c);
	print_counters(&c, src);
	bpfvm_xdp_runner__destroy(runner);
	bpfvm_pkt_source__destroy(src);
	return rc;
}

int cmd_xdp(int argc, char **argv)
{
	struct xdp_args a = { 0 };
	BPFVM_OPTS(bpfvm_opts, vo, .trace = on_printk);
	struct bpfvm_object *obj = NULL;
	struct bpfvm_prog *prog = NULL;
	struct bpfvm *vm;
	int rc = parse_args(argc, argv, &a);

	if (rc)
		return rc;
	if (!(vm = bpfvm__new(&vo))) {
		fprintf(stderr, "bpfvm xdp: %s\n", strerror(errno));
		return 1;
	}
	rc = load(vm, &a, &obj, &prog);
	if (!rc)
		rc = attach(&a, obj, prog);
	if (!rc && a.dump_maps) {
		struct records_fmt rf;

		records_fmt_init(&rf, obj, NULL, false, "xdp");
		obj_dump_maps(obj, &rf);
	}
	bpfvm_object__destroy(obj);
	bpfvm__destroy(vm);
	return rc;
}
