#!/bin/sh
# Runs every test: the unit test binaries, the kernel comparison tests, and
# the scripts in tests/scripts/.  Each prints PASS/FAIL/SKIP lines; this adds
# them up and ends with the line "N passed, N failed".
# Environment: BUILD (the build directory), SHARED (../shared), SANITIZED=1
# when the build is the AddressSanitizer/UBSan one.
BUILD=${BUILD:-build}
SHARED=${SHARED:-../shared}
export BUILD SHARED
log=$(mktemp)
trap 'rm -f "$log"' EXIT

label="plain"
if [ -n "$SANITIZED" ]; then
	label="asan+ubsan"
	# The sanitized pass looks for memory errors, not new mismatches: the
	# plain pass compares 200000 random programs with the kernel, this one 20000.
	BPFVM_DIFF_COUNT=${BPFVM_DIFF_COUNT:-20000}
	export BPFVM_DIFF_COUNT
fi
echo "== bpfvm tests ($label build: $BUILD)"

run() {
	name=$1; shift
	start=$(date +%s)
	"$@" > "$log.out" 2>&1
	status=$?
	end=$(date +%s)
	cat "$log.out" >> "$log"
	p=$(grep -c '^PASS ' "$log.out")
	f=$(grep -c '^FAIL ' "$log.out")
	s=$(grep -c '^SKIP ' "$log.out")
	if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL $name: exited with status $status" >> "$log"
		f=1
	fi
	printf '%-32s %4d passed %3d failed %3d skipped  (%ds)\n' "$name" "$p" "$f" "$s" $((end - start))
	grep -E '^(FAIL|SKIP) |^     \.\.\. ' "$log.out" | head -40
	rm -f "$log.out"
}

for t in "$BUILD"/tests/test_*; do
	[ -x "$t" ] || continue
	run "$(basename "$t")" "$t"
done
for t in tests/scripts/test_*.sh; do
	[ -f "$t" ] || continue
	run "$(basename "$t" .sh)" sh "$t"
done

passed=$(grep -c '^PASS ' "$log")
failed=$(grep -c '^FAIL ' "$log")
skipped=$(grep -c '^SKIP ' "$log")
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
