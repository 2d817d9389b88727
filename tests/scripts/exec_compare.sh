# exec_compare.sh - what the `bpfvm exec` scripts share: a libbpf tool run
# in the kernel (root, real bpf()) and under `bpfvm exec --trace WORKLOAD`
# on the same workload, its lines compared.  Sourced after setting
#   BUILD, tmp (a directory of the script's), status=0
# with the working directory the repository:
#   . tests/scripts/exec_compare.sh
BPFVM=${BPFVM:-$BUILD/bpfvm}
. tests/scripts/exec_common.sh   # bpfvm_exec, wait_for

pass() { echo "PASS exec_$1"; }
fail() { echo "FAIL exec_$1: $2"; status=1; }
skip() { echo "SKIP exec_$1: $2"; }

# bpf() answers in the kernel here ($tmp/bpfcalls: tests/data/exec/bpfcalls.c, built by the caller)
kernel_bpf() {
	[ "$(id -u)" = 0 ] && "$tmp/bpfcalls" 2> /dev/null | grep -q '^map create: ok'
}

# stop PID TENTHS: SIGINT, then wait (bounded), SIGKILL if it is still there
stop() {
	kill -INT "$1" 2> /dev/null
	n=0
	while [ $n -lt "$2" ] && kill -0 "$1" 2> /dev/null; do
		sleep 0.1
		n=$((n + 1))
	done
	kill -KILL "$1" 2> /dev/null
	wait "$1" 2> /dev/null
}

# in_kernel OUT HEADER WORKLOAD TOOL ARGS...: the tool's lines with the workload run once;
# SETTLE: seconds to let it read its last records (a tool that reads its maps at the end: 0)
in_kernel() {
	out=$1 header=$2 work=$3
	shift 3
	stdbuf -oL "$@" > "$out" 2> "$out.err" &
	pid=$!
	if wait_for "$out" "$header" 150; then
		sh -c "$work"
		sleep "${SETTLE:-1}"   # the tool polls its perf buffer every 100 ms
	fi
	stop $pid 50
}

# compare NAME COMM MASK_SED: the kernel's and bpfvm's lines of COMM, masked
compare() {
	grep -E "(^| )$2 " "$tmp/$1.kernel" | sed "$3" > "$tmp/$1.k"
	grep -E "(^| )$2 " "$tmp/$1.bpfvm" | sed "$3" > "$tmp/$1.v"
	if [ -s "$tmp/$1.k" ] && cmp -s "$tmp/$1.k" "$tmp/$1.v"; then
		pass "$1_same_as_kernel"
	else
		fail "$1_same_as_kernel" "$(wc -l < "$tmp/$1.k") kernel lines, $(wc -l < "$tmp/$1.v") under bpfvm exec (rc $rc):"
		diff "$tmp/$1.k" "$tmp/$1.v" | head -n 6 | sed 's/^/     ... /'
		head -n 3 "$tmp/$1.bpfvm.err" | sed 's/^/     ... /'
	fi
}

# same_as_kernel NAME HEADER WORKLOAD COMM MASK_SED TOOL ARGS...: both runs, compared
same_as_kernel() {
	name=$1 header=$2 work=$3 comm=$4 mask=$5
	shift 5
	if [ ! -x "$1" ]; then
		skip "${name}_same_as_kernel" "$1 is not installed (libbpf-tools)"
		return
	fi
	in_kernel "$tmp/$name.kernel" "$header" "$work" "$@"
	bpfvm_exec --trace "$work" -- "$@" > "$tmp/$name.bpfvm" 2> "$tmp/$name.bpfvm.err"
	rc=$?
	compare "$name" "$comm" "$mask"
}
