#!/bin/sh
# The public eBPF conformance suite through bpfvm's interpreter: every case
# in process (checked, then unchecked) and through the plugin protocol the
# public runner speaks; and every malformed case in negative/ must end in a
# clear error message.
BUILD=${BUILD:-build}
SHARED=${SHARED:-../shared}
BPFVM="$BUILD/bpfvm"
dir="$SHARED/conformance"
status=0

if [ ! -d "$dir" ]; then
	echo "SKIP conformance: $dir not found (set SHARED)"
	exit 0
fi

# One PASS/FAIL line per case, tagged with the mode.
suite() {
	mode=$1; shift
	out=$("$BPFVM" conformance "$@" "$dir"/*.data)
	echo "$out" | sed -n "s/^\(PASS\|FAIL\) $(echo "$dir/" | sed 's/[\/&.]/\\&/g')/\1 $mode:/p"
	summary=$(echo "$out" | tail -n 1)
	echo "# $mode: $summary"
	case "$summary" in "313 passed, 0 failed") ;; *) status=1 ;; esac
}
suite checked
suite unchecked --trusted
suite plugin --plugin "$BPFVM conformance-plugin"

# Malformed cases: each must give an error with a message (an expected
# error is reported as "fails as expected: <message>").
for f in "$dir"/negative/*.data; do
	name=negative/$(basename "$f")
	line=$("$BPFVM" conformance "$f" | head -n 1)
	case "$line" in
	"FAIL $f: "?*|"PASS $f: fails as expected: "?*)
		echo "PASS $name: ${line#* $f: }" ;;
	*)
		echo "FAIL $name: no clear error: $line"; status=1 ;;
	esac
done
exit $status
