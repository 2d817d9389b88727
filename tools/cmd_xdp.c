/*
 * cmd_xdp.c - `bpfvm xdp attach` and `bpfvm tc attach`: an XDP or tc
 * program of a BPF object on the live frames of network interfaces, in
 * user space (bpfvm/packet.h):
 *
 *   bpfvm xdp attach OBJECT --prog NAME --dev IFACE [--dev IFACE]... [--ports MAP]
 *                    [--set VAR=VALUE]... [--dump-maps] [--count N] [--duration SECS]
 *                    [--json] [--interp|--jit]
 *   bpfvm tc attach OBJECT --prog NAME --dev IFACE [--dev IFACE]... --ingress|--egress
 *                   [the same options but --ports]
 *
 * Frames are read in batches and each runs the program with a real
 * xdp_md (ingress_ifindex, rx_queue_index); the verdict is applied:
 * XDP_DROP and XDP_ABORTED forward nothing, XDP_PASS leaves the frame to
 * the kernel's stack (which has it anyway: AF_PACKET reads a copy),
 * XDP_TX sends it back out of its interface, XDP_REDIRECT out of the
 * device bpf_redirect named or a devmap entry holds (BPF_F_BROADCAST:
 * every entry, but the ingress one with BPF_F_EXCLUDE_INGRESS).  A
 * redirect to a cpumap is a pass (the kernel builds the skb on that CPU
 * for the stack); to an xskmap, bpfvm has no AF_XDP socket to fill (the
 * kernel fills an XSK's rings only from its own XDP redirect) and counts
 * it apart.  The source is not AF_XDP itself because a frame an XSK takes
 * cannot be handed back to the kernel's receive path for XDP_PASS.  --ports MAP fills the devmap MAP with the interfaces
 * (key i: the i-th --dev) before the first frame.  bpf_printk lines are
 * streamed; at the end (Ctrl-C, --count frames, --duration seconds) one
 * line per verdict, and with --dump-maps every map; --json: printk lines
 * as {"type":"printk","text":...}, the counters as one
 * {"type":"counters",...} object, the maps as `bpfvm run --json` prints them.
 *
 * tc --ingress: each received frame runs with a real __sk_buff (ifindex,
 * ingress_ifindex, queue_mapping, pkt_type, protocol, len, tstamp).
 * TC_ACT_SHOT and the other actions that end a frame forward nothing; like
 * XDP_DROP they cannot take the frame from the kernel's stack, which got
 * its own copy (AF_PACKET taps frames, it does not sit in their path): a
 * frame addressed to this host is delivered even so, and what the
 * program drops is only not forwarded by bpfvm.  TC_ACT_REDIRECT sends
 * the frame out of the device bpf_redirect named; with BPF_F_INGRESS
 * (into that device's receive path) there is no way in from user space,
 * and it is counted apart.  tc --egress: the frames the interfaces send,
 * as copies taken after the qdisc released them to the driver; the kernel
 * gives user space no hook before that point, so the program runs and is
 * counted (maps, printk) but no action is applied: the frame is gone.
 */
#include <errno.h>
#include <getopt.h>
#include <linux/bpf.h>
#include <linux/if_packet.h>
#include <linux/pkt_cls.h>
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
	const char *cmd;          /* "xdp" or "tc" */
	bool tc, egress, json;
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
/* tc's actions, TC_ACT_UNSPEC (-1) to TC_ACT_TRAP (8), then others */
#define TC_COUNTS 11

struct counters {
	uint64_t verdict[TC_COUNTS];
	uint64_t frames, sent, send_errors, to_cpumap, to_xsk, to_ingress, faults, skipped;
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void on_printk(void *ctx, const char *text, size_t len)
{
	const struct xdp_args *a = ctx;
	char line[1024];

	if (!a->json) {
		fwrite(text, 1, len, stdout);
	} else {
		if (len && text[len - 1] == '\n')
			len--;
		snprintf(line, sizeof(line), "%.*s", (int)len, text);
		printf("{\"type\":\"printk\",\"text\":");
		cli_json_str(line);
		printf("}\n");
	}
	fflush(stdout);
}

static int parse_args(int argc, char **argv, struct xdp_args *a)
{
	static const struct option opts[] = {
		{ "prog", required_argument, NULL, 'p' }, { "dev", required_argument, NULL, 'd' },
		{ "ports", required_argument, NULL, 'P' }, { "set", required_argument, NULL, 's' },
		{ "dump-maps", no_argument, NULL, 'm' }, { "count", required_argument, NULL, 'c' },
		{ "duration", required_argument, NULL, 't' }, { "interp", no_argument, NULL, 'i' },
		{ "jit", no_argument, NULL, 'j' }, { "json", no_argument, NULL, 'J' },
		{ "ingress", no_argument, NULL, 'I' }, { "egress", no_argument, NULL, 'E' },
		{ NULL, 0, NULL, 0 },
	};
	bool ingress = false;
	char *end;
	int c;

	a->mode = BPFVM_EXEC_JIT;
	if (argc < 2 || strcmp(argv[1], "attach"))
		return cli_usage(a->cmd);
	optind = 2;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'p': a->prog = optarg; break;
		case 'P': a->ports = optarg; break;
		case 'm': a->dump_maps = true; break;
		case 'i': a->mode = BPFVM_EXEC_UNCHECKED; break;
		case 'j': a->mode = BPFVM_EXEC_JIT; break;
		case 'J': a->json = true; break;
		case 'I': ingress = true; break;
		case 'E': a->egress = true; break;
		case 'd':
			if (a->ndevs == MAX_DEVS) {
				fprintf(stderr, "bpfvm %s: at most %d --dev\n", a->cmd, MAX_DEVS);
				return 1;
			}
			a->devs[a->ndevs++] = optarg;
			break;
		case 's':
			if (a->nsets == MAX_SETS)
				return cli_usage(a->cmd);
			a->sets[a->nsets++] = optarg;
			break;
		case 'c':
			a->count = strtoull(optarg, &end, 0);
			if (*end || !*optarg || !a->count) {
				fprintf(stderr, "bpfvm %s: --count '%s': not a positive number\n", a->cmd,
					optarg);
				return 1;
			}
			break;
		case 't':
			a->duration = strtod(optarg, &end);
			if (*end || !*optarg || !(a->duration > 0)) {
				fprintf(stderr, "bpfvm %s: --duration '%s': not a positive number of "
						"seconds\n", a->cmd, optarg);
				return 1;
			}
			break;
		default: return cli_usage(a->cmd);
		}
	}
	if (optind != argc - 1 || !a->ndevs)
		return cli_usage(a->cmd);
	if (a->tc ? ingress == a->egress || a->ports : ingress || a->egress) {
		fprintf(stderr, "bpfvm %s: %s\n", a->cmd, a->tc ? "give one of --ingress and --egress "
			"(--ports is XDP's)" : "--ingress and --egress are tc's");
		return EXIT_USAGE;
	}
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
	uint32_t type;
	int err;

	if (!obj) {
		fprintf(stderr, "bpfvm %s: %s: %s", a->cmd, a->object, msg[0] ? msg : "cannot open\n");
		return 1;
	}
	*out = obj;
	for (int i = 0; i < a->nsets; i++)
		if (cli_apply_set(obj, a->sets[i], &log, false) < 0)
			return 1;
	if ((err = bpfvm_object__load(obj))) {
		fprintf(stderr, "bpfvm %s: %s: %s", a->cmd, a->object, msg[0] ? msg : strerror(-err));
		return 1;
	}
	if (cli_verify_object_for_run(obj, a->object))
		return 1;
	if (a->prog)
		p = bpfvm_object__find_program_by_name(obj, a->prog);
	else if (!(p = bpfvm_object__next_program(obj, NULL)) ||
		 bpfvm_object__next_program(obj, p)) {
		fprintf(stderr, "bpfvm %s: %s: give the program with --prog NAME\n", a->cmd, a->object);
		return 1;
	}
	if (!p || !bpfvm_obj_prog__prog(p)) {
		fprintf(stderr, "bpfvm %s: %s: no program '%s'\n", a->cmd, a->object, a->prog);
		return 1;
	}
	*prog = bpfvm_obj_prog__prog(p);
	type = bpfvm_obj_prog__type(p);
	if (a->tc ? type != BPF_PROG_TYPE_SCHED_CLS && type != BPF_PROG_TYPE_SCHED_ACT
		  : type != BPF_PROG_TYPE_XDP) {
		fprintf(stderr, "bpfvm %s: %s: '%s' is a %s program, not %s\n", a->cmd, a->object,
			bpfvm_obj_prog__name(p), bpfvm_prog_type_name(type),
			a->tc ? "sched_cls or sched_act" : "xdp");
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

/* A tc action: OK and the like leave the frame to the kernel, which has it; SHOT forwards nothing. */
static void apply_tc(const struct xdp_args *a, struct bpfvm_pkt_source *src, struct counters *c,
		     const struct bpfvm_xdp_result *r)
{
	int32_t act = (int32_t)r->verdict;

	c->verdict[act >= -1 && act <= TC_ACT_TRAP ? act + 1 : TC_COUNTS - 1]++;
	if (act != TC_ACT_REDIRECT || a->egress)
		return;   /* egress: the frame went out already, nothing can be applied */
	if (r->redirect.flags & BPF_F_INGRESS)
		c->to_ingress++;
	else
		send_to(src, c, r->redirect.ifindex, r);
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

static int run_one(const struct xdp_args *a, struct bpfvm_xdp_runner *runner,
		   const struct bpfvm_pkt *p, struct bpfvm_xdp_result *r)
{
	struct bpfvm_skb_info info = { .ifindex = p->ifindex, .queue_mapping = p->rx_queue,
				       .pkt_type = p->pkt_type, .tstamp = p->tstamp };

	if (!a->tc)
		return bpfvm_xdp_runner__run(runner, p->data, p->len, p->ifindex, p->rx_queue, r);
	/* egress: a frame this host sends (its ingress_ifindex is 0, its queue a transmit one) */
	info.ingress_ifindex = a->egress ? 0 : p->ifindex;
	info.pkt_type = a->egress ? PACKET_HOST : p->pkt_type;
	return bpfvm_xdp_runner__run_skb(runner, p->data, p->len, &info, r);
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
			fprintf(stderr, "bpfvm %s: an interface went down or away: detached\n", a->cmd);
			return 1;
		}
		if (n < 0) {
			fprintf(stderr, "bpfvm %s: reading frames: %s\n", a->cmd, strerror(-n));
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
			err = run_one(a, runner, &pkts[i], &r);
			if (err) {
				if (!c->faults++)
					fprintf(stderr, "bpfvm %s: frame %llu: %s%s", a->cmd,
						(unsigned long long)c->frames, strerror(-err),
						msg[0] ? ": " : "\n");
				/* as the kernel: a failed frame is dropped */
				c->verdict[a->tc ? TC_ACT_SHOT + 1 : C_ABORTED]++;
				continue;
			}
			if (a->tc)
				apply_tc(a, src, c, &r);
			else
				apply(src, c, &pkts[i], &r);
		}
	}
	return 0;
}

static const char *const xdp_names[C_NCOUNT] = { "XDP_ABORTED", "XDP_DROP", "XDP_PASS", "XDP_TX",
						   "XDP_REDIRECT", "invalid" };
static const char *const tc_names[TC_COUNTS] = { "TC_ACT_UNSPEC", "TC_ACT_OK", "TC_ACT_RECLASSIFY",
						 "TC_ACT_SHOT", "TC_ACT_PIPE", "TC_ACT_STOLEN",
						 "TC_ACT_QUEUED", "TC_ACT_REPEAT", "TC_ACT_REDIRECT",
						 "TC_ACT_TRAP", "other" };

static void print_counters(const struct xdp_args *a, const struct counters *c,
			   struct bpfvm_pkt_source *src)
{
	const char *const *names = a->tc ? tc_names : xdp_names;
	int n = a->tc ? TC_COUNTS : C_NCOUNT;
	unsigned long long v[] = { c->sent, c->send_errors, c->to_cpumap, c->to_xsk, c->to_ingress,
				   c->skipped, c->faults, bpfvm_pkt_source__ring_drops(src) };
	static const char *const what[] = { "sent", "send_errors", "to_cpumap", "to_xskmap",
					    "to_ingress", "too_long", "run_errors", "ring_drops" };

	if (a->json) {
		printf("{\"type\":\"counters\",\"frames\":%llu,\"verdicts\":{",
		       (unsigned long long)c->frames);
		for (int i = 0; i < n; i++)
			printf("%s\"%s\":%llu", i ? "," : "", names[i], (unsigned long long)c->verdict[i]);
		printf("}");
		for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
			printf(",\"%s\":%llu", what[i], v[i]);
		printf("}\n");
		return;
	}
	printf("%llu frames\n", (unsigned long long)c->frames);
	for (int i = 0; i < n; i++)
		if (!a->tc || c->verdict[i] || i == TC_ACT_OK + 1 || i == TC_ACT_SHOT + 1)
			printf("%-15s %llu\n", names[i], (unsigned long long)c->verdict[i]);
	printf("sent %llu, send errors %llu, to cpumap %llu, to xskmap (not delivered) %llu, "
	       "to ingress (not delivered) %llu, too long %llu, run errors %llu, ring drops %llu\n",
	       v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]);
}

static int attach(const struct xdp_args *a, struct bpfvm_object *obj, struct bpfvm_prog *prog)
{
	static char msg[4096];
	struct bpfvm_log log = { msg, sizeof(msg), 0 };
	BPFVM_OPTS(bpfvm_xdp_runner_opts, ro, .log = &log);
	BPFVM_OPTS(bpfvm_pkt_source_opts, so, .log = &log, .egress = a->egress);
	struct bpfvm_pkt_source *src = NULL;
	struct bpfvm_xdp_runner *runner;
	struct counters c = { 0 };
	struct sigaction sa = { .sa_handler = on_signal };
	int err, rc;

	if ((err = bpfvm_pkt_source__open(a->devs, (size_t)a->ndevs, &so, &src))) {
		fprintf(stderr, "bpfvm %s: %s", a->cmd, msg[0] ? msg : strerror(-err));
		return 1;
	}
	if (a->ports && fill_ports(obj, a->ports, src, a->ndevs)) {
		bpfvm_pkt_source__destroy(src);
		return 1;
	}
	if (!(runner = bpfvm_xdp_runner__new(prog, MAX_FRAME, a->mode, &ro))) {
		fprintf(stderr, "bpfvm %s: %s", a->cmd, msg[0] ? msg : strerror(errno));
		bpfvm_pkt_source__destroy(src);
		return 1;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	fprintf(stderr, "bpfvm %s: attached to", a->cmd);
	for (int i = 0; i < a->ndevs; i++)
		fprintf(stderr, " %s (ifindex %u)", a->devs[i], bpfvm_pkt_source__ifindex(src, i));
	fprintf(stderr, "%s; Ctrl-C stops\n", !a->tc ? "" : a->egress ? " (egress: the program sees "
		"copies of sent frames, no action can be applied)" : " (ingress)");
	rc = run_frames(a, src, runner, &c);
	print_counters(a, &c, src);
	bpfvm_xdp_runner__destroy(runner);
	bpfvm_pkt_source__destroy(src);
	return rc;
}

static int cmd_live(int argc, char **argv, const char *cmd)
{
	struct xdp_args a = { .cmd = cmd, .tc = !strcmp(cmd, "tc") };
	BPFVM_OPTS(bpfvm_opts, vo, .trace = on_printk, .trace_ctx = &a);
	struct bpfvm_object *obj = NULL;
	struct bpfvm_prog *prog = NULL;
	struct bpfvm *vm;
	int rc = parse_args(argc, argv, &a);

	if (rc)
		return rc;
	if (!(vm = bpfvm__new(&vo))) {
		fprintf(stderr, "bpfvm %s: %s\n", cmd, strerror(errno));
		return 1;
	}
	rc = load(vm, &a, &obj, &prog);
	if (!rc)
		rc = attach(&a, obj, prog);
	if (!rc && a.dump_maps) {
		struct records_fmt rf;

		records_fmt_init(&rf, obj, NULL, a.json, cmd);
		obj_dump_maps(obj, &rf);
	}
	bpfvm_object__destroy(obj);
	bpfvm__destroy(vm);
	return rc;
}

int cmd_xdp(int argc, char **argv)
{
	return cmd_live(argc, argv, "xdp");
}

int cmd_tc(int argc, char **argv)
{
	return cmd_live(argc, argv, "tc");
}
