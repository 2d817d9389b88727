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
echo "bpfvm examples (interpreter, checked mode)"
show "sum of the bytes of 'hello, eBPF!'  (expect 0x3be)" --mem "$dir/hello.bin.mem" "$dir/sum_bytes.s"
show "fib(50)                           (expect 0x2ee333961)" "$dir/fib.s"
show "IPv4 header checksum, valid header (expect 0x0)" --mem "$dir/ipv4_header.mem" "$dir/ipv4_csum.s"
show "bpf-to-bpf call: 1+2+3+4+5 + 100  (expect 0x73)" "$dir/call_sum.s"
echo "fib(50), 100000 runs, unchecked (trusted) mode:"
"$BPFVM" run --trusted --repeat 100000 "$dir/fib.s" || status=1
exit $status
