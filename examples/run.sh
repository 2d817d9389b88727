#!/bin/sh
# Runs the bundled example programs in bpfvm and shows what each computes.
# Usage: sh examples/run.sh [path/to/bpfvm]
BPFVM=${1:-build/bpfvm}
dir=$(dirname "$0")/asm
status=0
show() {
	what=$1; shift
	printf '%-58s ' "$what"
	"$BPFVM" run "$@" || status=1
}
echo "bpfvm examples (each verified, then run by the interpreter)"
show "sum of the bytes of 'hello, eBPF!'  (expect 0x3be)" --mem "$dir/hello.bin.mem" "$dir/sum_bytes.s"
show "fib(50)                           (expect 0x2ee333961)" "$dir/fib.s"
show "IPv4 header checksum, valid header (expect 0x0)" --mem "$dir/ipv4_header.mem" "$dir/ipv4_csum.s"
show "bpf-to-bpf call: 1+2+3+4+5 + 100  (expect 0x73)" "$dir/call_sum.s"
echo "fib(50), 100000 runs, unchecked (trusted) mode:"
"$BPFVM" run --trusted --repeat 100000 "$dir/fib.s" || status=1

# BPF objects built with clang from examples/*.bpf.c, run on their program
# type's context (a tracepoint record, packets of a pcap file).
ex=$(dirname "$0")
objs=$(mktemp -d)
trap 'rm -rf "$objs"' EXIT
if sh "$ex/build.sh" "$objs"; then
	echo
	echo "== tracepoint sched_process_fork, child pid 13 (expect 'fork detected'):"
	"$BPFVM" run --ctx "$ex/data/fork_pid13.ctx" "$objs/fork_detect.bpf.o" || status=1
	echo "== clone() counted per uid, 5 calls (expect value 5):"
	"$BPFVM" run --repeat 5 --dump-maps "$objs/clone_count.bpf.o" || status=1
	echo "== XDP: drop TCP to port 8080, count per protocol (expect PASS, DROP, PASS):"
	"$BPFVM" run --pcap "$ex/data/three.pcap" --dump-maps "$objs/xdp_filter.bpf.o" || status=1
	echo "== ring buffer producer, 3 events:"
	"$BPFVM" run --repeat 3 --dump-maps "$objs/ringbuf_events.bpf.o" || status=1
	echo "== tail calls entry -> stage1 -> stage2 (expect XDP_TX):"
	"$BPFVM" run --prog entry --data "$ex/data/tcp80.bin" "$objs/tail_calls.bpf.o" || status=1
	echo "== .rodata configuration: min_len=32 set before load (expect XDP_DROP):"
	"$BPFVM" run --set min_len=32 --data "$ex/data/tcp80.bin" "$objs/rodata_config.bpf.o" || status=1
	echo
	echo "== bpfvm trace: the same kind of objects on real processes (ptrace + seccomp, no kernel eBPF)"
	echo "== opensnoop: cat's openat() calls, pid/tid/ret/flags/comm/filename as ring buffer records:"
	"$BPFVM" trace "$objs/opensnoop.bpf.o" -- cat /etc/hostname > "$objs/open.out" || status=1
	grep "^ringbuf" "$objs/open.out" | tail -n 2 | cut -c1-120
	echo "== execsnoop: sh runs true (expect records naming /bin/sh's and true's files, true's ppid sh's pid):"
	"$BPFVM" trace "$objs/execsnoop.bpf.o" -- sh -c '/bin/true; true' | cut -c1-120 || status=1
	echo "== exit codes from sched_process_exit (expect code 3, then 5):"
	"$BPFVM" trace "$objs/exitcodes.bpf.o" -- sh -c 'sh -c "exit 3"; exit 5'
	[ $? -eq 5 ] || status=1
	echo "== clone() per uid while sh runs two children (expect a count for uid $(id -u)):"
	"$BPFVM" trace --dump-maps "$objs/clone_count.bpf.o" -- sh -c '/bin/true & /bin/true; wait' || status=1
	echo "== unlinks through ksyscall/unlinkat (BPF_KSYSCALL): rm of two missing files (expect both paths):"
	"$BPFVM" trace "$objs/unlink_log.bpf.o" -- rm -f /tmp/bpfvm-demo-a /tmp/bpfvm-demo-b |
		grep bpf_trace_printk || status=1
	echo "== kprobe/do_unlinkat, the path from struct filename (BPF_CORE_READ): rm of a file and a missing one (expect ret 0, then -2):"
	: > /tmp/bpfvm-demo-c
	"$BPFVM" trace "$objs/unlink_kprobe.bpf.o" -- rm -f /tmp/bpfvm-demo-c /tmp/bpfvm-demo-d |
		grep bpf_trace_printk || status=1
	echo "== enforcement: bpf_override_return(-EPERM) on open(\"/etc/passwd\") (expect 'Operation not permitted'):"
	"$BPFVM" trace "$objs/block_passwd.bpf.o" -- cat /etc/passwd 2>&1 | cut -c1-100
	echo "== enforcement: bpf_send_signal(SIGKILL) when it opens /etc/passwd (expect status 137):"
	"$BPFVM" trace "$objs/kill_passwd.bpf.o" -- cat /etc/passwd
	rc=$?
	echo "status $rc"
	[ $rc -eq 137 ] || status=1
	echo "== bashreadline: a uretprobe on /bin/bash's readline(), bash on script(1)'s terminal (expect its 3 lines):"
	printf 'echo one\necho two\nexit\n' | timeout 30 "$BPFVM" trace "$objs/bashreadline.bpf.o" -- \
		script -q -c 'bash --norc --noprofile -i' /dev/null | grep '^ringbuf' || status=1
else
	echo "(the BPF object examples need clang-19 and libbpf-dev)"
fi
exit $status
