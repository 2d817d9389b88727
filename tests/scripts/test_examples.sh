#!/bin/sh
# The example BPF programs (examples/*.bpf.c), built with clang and run
# with `bpfvm run` on the inputs in examples/data/: each must do what its
# comment says, checked on the printed return values, trace lines and map
# contents, in the checked interpreter and unchecked (--trusted).
BUILD=${BUILD:-build}
BPFVM=${BPFVM:-$BUILD/bpfvm}
CLANG=${CLANG:-clang-19}
data=examples/data
status=0

if ! command -v "$CLANG" >/dev/null 2>&1 || [ ! -f /usr/include/bpf/bpf_helpers.h ]; then
	echo "SKIP examples: $CLANG or libbpf's headers (libbpf-dev) are missing"
	exit 0
fi
objs=$(mktemp -d)
out=$(mktemp)
trap 'rm -rf "$objs" "$out"' EXIT
if ! sh examples/build.sh "$objs" > "$out" 2>&1; then
	echo "FAIL examples: they do not compile:"
	head -n 5 "$out" | sed 's/^/     ... /'
	exit 1
fi

# expect NAME PATTERN... -- BPFVM-ARGS: every pattern (grep -E) must be in the output
expect() {
	name=$1; shift
	pats=""
	while [ "$1" != "--" ]; do pats="$pats
$1"; shift; done
	shift
	for mode in "" --trusted; do
		"$BPFVM" run $mode "$@" > "$out" 2>&1
		rc=$?
		missing=""
		echo "$pats" | while IFS= read -r p; do
			[ -z "$p" ] && continue
			grep -qE -- "$p" "$out" || echo "$p"
		done > "$out.missing"
		if [ $rc -ne 0 ] || [ -s "$out.missing" ]; then
			echo "FAIL $name${mode:+ ($mode)}: exit $rc, missing: $(tr '\n' '|' < "$out.missing")"
			head -n 5 "$out" | sed 's/^/     ... /'
			status=1
		else
			echo "PASS $name${mode:+ ($mode)}"
		fi
		rm -f "$out.missing"
	done
}

# refuse NAME PATTERN -- BPFVM-ARGS: the run must fail with the pattern in its message
refuse() {
	name=$1 pat=$2; shift 3
	if "$BPFVM" run "$@" > "$out" 2>&1; then
		echo "FAIL $name: ran, expected an error matching '$pat'"
		status=1
	elif grep -qE -- "$pat" "$out"; then
		echo "PASS $name"
	else
		echo "FAIL $name: the message does not match '$pat':"
		head -n 3 "$out" | sed 's/^/     ... /'
		status=1
	fi
}

expect fork_detect_pid13 'bpf_trace_printk: fork detected' 'retval 0x0' -- \
	--ctx $data/fork_pid13.ctx "$objs/fork_detect.bpf.o"
"$BPFVM" run --ctx $data/fork_pid14.ctx "$objs/fork_detect.bpf.o" > "$out" 2>&1
if grep -q 'fork detected' "$out"; then
	echo "FAIL fork_detect_pid14: printed for another pid"; status=1
else
	echo "PASS fork_detect_pid14"
fi
expect clone_count 'key 00000000 \(0\)  value 0500000000000000 \(5\)' -- \
	--repeat 5 --dump-maps "$objs/clone_count.bpf.o"
expect xdp_filter 'packet 0: retval 0x2 \(XDP_PASS\)' 'packet 1: retval 0x1 \(XDP_DROP\)' \
	'packet 2: retval 0x2 \(XDP_PASS\)' 'key 06000000 \(6\) .* sum 2' \
	'key 11000000 \(17\) .* sum 1' -- \
	--pcap $data/three.pcap --dump-maps "$objs/xdp_filter.bpf.o"
expect xdp_filter_json '"packet":1,"retval":1,"verdict":"XDP_DROP"' '"key":"06000000","values":\[[^]]*\],"sum":2' -- \
	--json --pcap $data/three.pcap --dump-maps "$objs/xdp_filter.bpf.o"
expect ringbuf_events 'record 0: [0-9a-f]{8}00000000' 'record 1: [0-9a-f]{8}01000000' \
	'record 2: [0-9a-f]{8}02000000' -- --repeat 3 --dump-maps "$objs/ringbuf_events.bpf.o"
expect tail_calls 'retval 0x3 \(XDP_TX\)' 'key 00000000 \(0\)  value 0100000000000000' \
	'key 01000000 \(1\)  value 0100000000000000' 'key 02000000 \(2\)  value 0100000000000000' -- \
	--prog entry --data $data/tcp80.bin --dump-maps "$objs/tail_calls.bpf.o"
expect rodata_default 'retval 0x2 \(XDP_PASS\)' -- --data $data/tcp80.bin "$objs/rodata_config.bpf.o"
expect rodata_set 'retval 0x1 \(XDP_DROP\)' -- \
	--set min_len=32 --data $data/tcp80.bin "$objs/rodata_config.bpf.o"
expect rodata_set_verdict 'retval 0x3 \(XDP_TX\)' -- \
	--set min_len=32 --set verdict=3 --data $data/tcp80.bin "$objs/rodata_config.bpf.o"
refuse rodata_unknown_var "no such variable" -- --set nosuch=1 --data $data/tcp80.bin \
	"$objs/rodata_config.bpf.o"
refuse xdp_without_packet "needs a packet" -- "$objs/xdp_filter.bpf.o"
refuse pcap_not_pcap "not a pcap file" -- --pcap $data/tcp80.bin "$objs/xdp_filter.bpf.o"
refuse no_such_program "no program named nosuch" -- --prog nosuch --data $data/tcp80.bin \
	"$objs/tail_calls.bpf.o"
# assembly has no license section: --license gives it one, as GPL-only helpers need
printf 'r1 = 0xa6968 ll\n*(u64 *)(r10 - 8) = r1\nr1 = r10\nr1 += -8\nr2 = 8\ncall 6\nr0 = 7\nexit\n' \
	> "$objs/gpl.s"
refuse gpl_helper_without_license "instruction 6: cannot call GPL-restricted function from non-GPL" -- \
	"$objs/gpl.s"
expect gpl_helper_with_license '^0x7$' -- --license GPL "$objs/gpl.s"
expect gpl_helper_dual_license '^0x7$' -- --license "Dual MIT/GPL" --jit "$objs/gpl.s"
refuse license_not_for_objects "license are for bytecode and assembly, not objects" -- \
	--license GPL --data $data/tcp80.bin "$objs/xdp_filter.bpf.o"
# a checked run that faults names the instruction and, from BTF line info, the source line
if "$CLANG" -O2 -g -target bpf -I/usr/include/"$(uname -m)"-linux-gnu \
	-c tests/data/kernel/oob.bpf.c -o "$objs/oob.bpf.o"; then
	refuse fault_names_source_line 'outside the memory.*|at .*oob.bpf.c:[0-9]+:[0-9]+: return data\[200\]' -- \
		--checked --data $data/tcp80.bin "$objs/oob.bpf.o"
	"$BPFVM" run --checked --data $data/tcp80.bin "$objs/oob.bpf.o" 2>&1 | grep -q 'oob.bpf.c:10:.*return data\[200\]' &&
		echo "PASS fault_source_line_text" || { echo "FAIL fault_source_line_text: no source line"; status=1; }
fi
exit $status
