#!/bin/sh
# bench_exec.sh - what an unmodified libbpf tool costs under `bpfvm exec`
# (`make bench`): the wall time of a workload of N opens (the workload
# times its own loop: bench/trace/workload openat N) untraced, under
# Debian's opensnoop in the kernel, and under `bpfvm exec --trace WORKLOAD
# -- opensnoop` (its programs on sys_enter/exit_openat, run at the
# supervisor's stops).  Median of RUNS runs each, interleaved.
#
#   bench_exec.sh DIR     (DIR: workload; bpfvm in $BPFVM)
DIR=$1
BPFVM=${BPFVM:-bpfvm}
N=2000
RUNS=3
TOOL=/usr/sbin/opensnoop
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo
echo "== an unmodified libbpf tool: Debian's opensnoop while a workload makes $N opens"
if [ ! -x $TOOL ]; then
	echo "(skipped: $TOOL is not installed: libbpf-tools)"
	exit 0
fi

ns() { sed -n 's/^ns \([0-9]*\)$/\1/p' "$1" | head -n 1; }

untraced() { "$DIR/workload" openat $N > "$tmp/out"; ns "$tmp/out"; }

# opensnoop in the kernel, attached (its header out) before the workload starts
kernel() {
	stdbuf -oL $TOOL -n workload > "$tmp/tool" 2>&1 &
	pid=$!
	n=0
	while [ $n -lt 100 ] && ! grep -q '^PID' "$tmp/tool"; do sleep 0.1; n=$((n + 1)); done
	if grep -q '^PID' "$tmp/tool"; then
		"$DIR/workload" openat $N > "$tmp/out"
		ns "$tmp/out"
	fi
	kill -INT $pid 2> /dev/null
	wait $pid 2> /dev/null
}

bpfvm() {
	# the workload's line in a file of its own: the tool's lines would cut into it
	timeout 120 "$BPFVM" exec --trace "$DIR/workload openat $N > $tmp/ns" -- $TOOL -n workload \
		> "$tmp/out" 2>&1
	ns "$tmp/ns"
}

median() { tr ' ' '\n' | grep . | sort -n | sed -n "$(( (RUNS + 1) / 2 ))p"; }

u= k= v=
for r in $(seq $RUNS); do
	u="$u $(untraced)"
	[ "$(id -u)" = 0 ] && k="$k $(kernel)"
	v="$v $(bpfvm)"
done
u=$(echo "$u" | median) k=$(echo "$k" | median) v=$(echo "$v" | median)
printf "%-44s %10s %10s\n" "per open()" "ns/call" "added"
printf "%-44s %10.0f %10s\n" "untraced" "$((u / N))" ""
if [ -n "$k" ]; then
	printf "%-44s %10.0f %10.0f\n" "opensnoop in the kernel" "$((k / N))" "$(((k - u) / N))"
else
	printf "%-44s %10s   (not root: no bpf())\n" "opensnoop in the kernel" "-"
fi
if [ -n "$v" ]; then
	printf "%-44s %10.0f %10.0f" "bpfvm exec -- opensnoop" "$((v / N))" "$(((v - u) / N))"
	[ -n "$k" ] && [ "$k" -gt "$u" ] && printf "   bpfvm/kernel added %s" "$(((v - u) / (k - u)))"
	echo
else
	echo "FAIL: bpfvm exec -- opensnoop did not run the workload"
fi
