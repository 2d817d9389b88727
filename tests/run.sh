#!/bin/bash
# Runs every test: the unit test binaries, the kernel comparison tests, and
# the scripts in tests/scripts/.  Each prints PASS/FAIL/SKIP lines; this adds
# them up and ends with the line "N passed, N failed".
# Environment: BUILD (the build directory), SHARED (../shared), SANITIZED=1
# when the build is the AddressSanitizer/UBSan one, BPFVM_TEST_JOBS (how many
# tests run at once; the number of CPUs unless set).
#
# Tests run side by side: each keeps to its own temporary files, trace
# instance, network namespace and processes, so none sees another's.  A line
# per test is printed as it finishes, the summary at the end.
BUILD=${BUILD:-build}
SHARED=${SHARED:-../shared}
export BUILD SHARED
jobs=${BPFVM_TEST_JOBS:-$(nproc 2>/dev/null || echo 1)}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

label="plain"
if [ -n "$SANITIZED" ]; then
	label="asan+ubsan"
	# The sanitized pass looks for memory errors, not new mismatches: the
	# plain pass compares 200000 random programs with the kernel, this one 20000.
	BPFVM_DIFF_COUNT=${BPFVM_DIFF_COUNT:-20000}
	export BPFVM_DIFF_COUNT
fi
echo "== bpfvm tests ($label build: $BUILD, $jobs at a time)"
t_start=$(date +%s)

# What to run: name, then the command.
names=() cmds=()
for t in "$BUILD"/tests/test_*; do
	[ -x "$t" ] || continue
	names+=("$(basename "$t")"); cmds+=("$t")
done
for t in tests/scripts/test_*.sh; do
	[ -f "$t" ] || continue
	names+=("$(basename "$t" .sh)"); cmds+=("sh $t")
done

# The longest tests start first, so that no long one is left to run alone at
# the end (the order changes only the wall time, not what is run).
first="test_libbpf_objects test_kernel_diff test_verifier_selftests test_libbpf_prog_alone
       test_conformance test_disasm_llvm test_kernel_objects test_kernel_helpers test_trace"
order=()
for n in $first; do
	for i in "${!names[@]}"; do [ "${names[$i]}" = "$n" ] && order+=("$i"); done
done
for i in "${!names[@]}"; do
	case " $(echo $first) " in *" ${names[$i]} "*) ;; *) order+=("$i") ;; esac
done

declare -A job_of started
report() {
	local i=$1 status=$2 name=${names[$1]} f p s
	local log="$out/$i.out"
	p=$(grep -c '^PASS ' "$log")
	f=$(grep -c '^FAIL ' "$log")
	s=$(grep -c '^SKIP ' "$log")
	if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL $name: exited with status $status" >> "$log"
		f=1
	fi
	printf '%-32s %4d passed %3d failed %3d skipped  (%ds)\n' "$name" "$p" "$f" "$s" \
		$(($(date +%s) - started[$i]))
	grep -E '^(FAIL|SKIP) |^     \.\.\. ' "$log" | head -40
}

# Wait for one test to finish and report it.
reap() {
	local pid status
	wait -n -p pid
	status=$?
	report "${job_of[$pid]}" "$status"
	unset "job_of[$pid]"
}

for i in "${order[@]}"; do
	while [ "${#job_of[@]}" -ge "$jobs" ]; do reap; done
	started[$i]=$(date +%s)
	${cmds[$i]} > "$out/$i.out" 2>&1 < /dev/null &
	job_of[$!]=$i
done
while [ "${#job_of[@]}" -gt 0 ]; do reap; done

passed=$(cat "$out"/*.out | grep -c '^PASS ')
failed=$(cat "$out"/*.out | grep -c '^FAIL ')
skipped=$(cat "$out"/*.out | grep -c '^SKIP ')
echo "# $label pass: $(($(date +%s) - t_start)) s"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
