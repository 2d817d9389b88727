#!/bin/sh
# Unwinding through uretprobe'd frames (src/events/unwind_eh.c: the
# trampoline's FDE; inproc_unwind.c for the agent, ubp_unwind.c for the
# supervisor) on tests/data/uprobe/unwind.cc: C++ exceptions thrown
# through a probed function and caught by its caller, caught inside one
# from a callee, rethrown, caught in the middle of a probed recursion, in
# 4 threads; a thread cancelled inside a probed function, with a
# destructor in its caller; backtrace() inside one.  Under --mode
# supervisor and --mode agent the program prints what it prints untraced
# (what it caught, that the destructor ran, that the backtrace shows the
# caller) and exits 0, and the uretprobes (tests/data/uprobe/unwind.bpf.c)
# count the returns that happened: none of the frames an exception or the
# cancellation unwound, every one of the frames that caught.  The kernel's
# own uretprobes do not survive this (std::terminate, the destructor
# skipped, the backtrace cut at the trampoline: test_kernel_unwind), so
# the counts checked are the right ones, not the kernel's.  Then
# tests/data/uprobe/unwind_bt.c, a C program whose libgcc_s glibc loads
# inside the probed function at its first backtrace(), under the supervisor.
BUILD=${BUILD:-build}
BPFVM=${BPFVM:-$BUILD/bpfvm}
CLANG=${CLANG:-clang-19}
status=0

if ! command -v "$CLANG" >/dev/null 2>&1 || ! command -v g++ >/dev/null 2>&1 ||
   [ ! -f /usr/include/bpf/bpf_helpers.h ]; then
	echo "SKIP uprobe_unwind: $CLANG, g++ or libbpf's headers (libbpf-dev) missing"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
W=$tmp/unwind
bpf() { "$CLANG" -O2 -g -target bpf -D__TARGET_ARCH_x86 -I/usr/include/"$(uname -m)"-linux-gnu \
	-DWORKLOAD="\"$1\"" -c tests/data/uprobe/unwind.bpf.c -o "$2"; }
if ! g++ -O2 -pthread -o "$W" tests/data/uprobe/unwind.cc > "$tmp/build.log" 2>&1 ||
   ! cc -O2 -o "$W.c" tests/data/uprobe/unwind_bt.c >> "$tmp/build.log" 2>&1 ||
   ! bpf "$W" "$tmp/unwind.bpf.o" >> "$tmp/build.log" 2>&1 ||
   ! bpf "$W.c" "$tmp/unwind_c.bpf.o" >> "$tmp/build.log" 2>&1; then
	echo "FAIL uprobe_unwind: the test objects do not build:"
	head -n 5 "$tmp/build.log" | sed 's/^/     ... /'
	exit 1
fi

pass() { echo "PASS uprobe_unwind_$1"; }
fail() { echo "FAIL uprobe_unwind_$1: $2"; status=1; }
# the program's own lines in an output with --dump-maps
program() { grep -E '^(thread|cancelled|backtrace) ' "$1"; }
# rets[0..6] of a --dump-maps output
rets() {
	for k in 0 1 2 3 4 5 6; do
		v=$(sed -n '/^map rets /,/by BTF/p' "$1" |
		    sed -n "s/.*key [0-9a-f]* ($k)  value [0-9a-f]* (\([0-9-]*\))$/\1/p")
		printf '%s ' "${v:-0}"
	done
}

"$W" > "$tmp/plain.out" 2>&1
rc=$?
if [ $rc -ne 0 ] || [ "$(grep -c 'caught 5850$' "$tmp/plain.out")" != 4 ] ||
   ! grep -q "cancelled yes, destructor ran" "$tmp/plain.out" ||
   ! grep -q "backtrace shows the caller" "$tmp/plain.out"; then
	fail untraced "the workload itself: exit $rc, output: $(tr '\n' ';' < "$tmp/plain.out")"
	exit 1
fi
"$W.c" > "$tmp/plain_c.out" 2>&1
cp "$tmp/plain.out" "$tmp/plain_agent.out"
if [ -n "${SANITIZED:-}" ]; then
	# the sanitized agent brings ASan into the program, whose backtrace() interceptor is one
	# frame more: the agent's run is compared with the program run with ASan preloaded
	LD_PRELOAD=$(cc -print-file-name=libasan.so) ASAN_OPTIONS=detect_leaks=0 "$W" \
		> "$tmp/plain_agent.out" 2>&1
fi

# uw_probed 0 (unwound), uw_catcher 200 (4 threads x 50 rounds, each returning 5: 1000 in [6]),
# uw_rethrow 0, uw_nest 400 (depths 3 and 2 of each round; 1 and 0 unwound), uw_block 0
# (cancelled), uw_bt 1
want="0 200 0 400 0 1 1000 "
for mode in supervisor agent; do
	timeout 60 "$BPFVM" trace --mode $mode --dump-maps "$tmp/unwind.bpf.o" -- "$W" \
		> "$tmp/$mode.out" 2> "$tmp/$mode.err"
	rc=$?
	got=$(rets "$tmp/$mode.out")
	ref=$tmp/plain.out
	[ $mode = agent ] && ref=$tmp/plain_agent.out
	if [ $rc -eq 0 ] && [ "$(program "$tmp/$mode.out")" = "$(cat "$ref")" ] &&
	   [ "$got" = "$want" ]; then
		pass $mode
	else
		fail $mode "exit $rc (0); output '$(program "$tmp/$mode.out" | tr '\n' ';')' (untraced: '$(tr '\n' ';' < "$ref")'); returns of uw_probed uw_catcher uw_rethrow uw_nest uw_block uw_bt, catcher's sum: '$got' (want '$want': frames an exception or a cancellation unwound give none)"
		head -n 3 "$tmp/$mode.err" | sed 's/^/     ... /'
	fi
done

# the C program: its libgcc_s comes inside uw_bt; the supervisor registers the FDE at its
# _Unwind_Find_FDE.  (The agent uses only a libgcc_s loaded when it places its probes.)
timeout 60 "$BPFVM" trace --mode supervisor --dump-maps "$tmp/unwind_c.bpf.o" -- "$W.c" \
	> "$tmp/c.out" 2> "$tmp/c.err"
rc=$?
got=$(rets "$tmp/c.out")
if [ $rc -eq 0 ] && [ "$(program "$tmp/c.out")" = "$(cat "$tmp/plain_c.out")" ] &&
   [ "$got" = "0 0 0 0 0 2 0 " ]; then
	pass c_backtrace_loads_libgcc
else
	fail c_backtrace_loads_libgcc "exit $rc (0); output '$(program "$tmp/c.out" | tr '\n' ';')' (untraced: '$(tr '\n' ';' < "$tmp/plain_c.out")'); returns '$got' (uw_bt twice: '0 0 0 0 0 2 0 ')"
	head -n 3 "$tmp/c.err" | sed 's/^/     ... /'
fi
exit $status
