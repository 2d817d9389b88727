#!/bin/sh
# The conformance suite through the JIT: every case of $SHARED/conformance
# in process (`bpfvm conformance --jit`), then through the plugin the way
# the public runner drives one (`conformance-plugin --jit`).  A PASS or
# FAIL line per case and run; all 313 cases must pass both ways.  Then
# `bpfvm jit --dump` on a division by a constant, which must show a
# multiplication and no division instruction.
BUILD=${BUILD:-build}
SHARED=${SHARED:-../shared}
BPFVM="$BUILD/bpfvm"
out=$(mktemp)
trap 'rm -f "$out" "$out.s"' EXIT

if [ ! -d "$SHARED/conformance" ]; then
	echo "SKIP conformance_jit: no $SHARED/conformance"
	exit 0
fi
"$BPFVM" conformance --jit "$SHARED"/conformance/*.data > "$out"
sed -n 's/^\(PASS\|FAIL\) /\1 jit: /p' "$out"
"$BPFVM" conformance --plugin "$BPFVM conformance-plugin --jit" "$SHARED"/conformance/*.data > "$out"
sed -n 's/^\(PASS\|FAIL\) /\1 jit plugin: /p' "$out"

printf 'mov %%r0, %%r1\ndiv %%r0, 10\nmod32 %%r1, 7\nexit\n' > "$out.s"
if "$BPFVM" jit --dump "$out.s" > "$out" 2>&1 && grep -q 'mul' "$out" && ! grep -Eq '\s(i?div) ' "$out"; then
	echo "PASS jit dump: division by a constant is a multiplication"
else
	echo "FAIL jit dump: division by a constant:"
	sed 's/^/     ... /' "$out" | head -40
fi
