#!/bin/sh
# A probed function's caller sees every register as it left it
# (tests/data/uprobe/regs.c: the general registers but rsp, the arithmetic
# flags, zmm0-31 and k0-7, or ymm0-15 without AVX-512, all of them holding
# values across the call, as -fipa-ra lets a caller of a local function
# do), through a uprobe at the entry (the agent's jmp and trampoline), one
# inside (an int3) and a uretprobe (the return trampoline), whose programs
# call helpers that run libc's vector code (tests/data/uprobe/regs.bpf.c:
# bpf_probe_read_user of 4 KiB, ring buffer output, bpf_snprintf).  Under
# the supervisor, the agent's interpreter and the agent's JIT; every
# program ran at every call.
BUILD=${BUILD:-build}
BPFVM=${BPFVM:-$BUILD/bpfvm}
CLANG=${CLANG:-clang-19}
N=100
status=0

if ! command -v "$CLANG" >/dev/null 2>&1 || [ ! -f /usr/include/bpf/bpf_helpers.h ]; then
	echo "SKIP uprobe_regs: $CLANG or libbpf's headers (libbpf-dev) missing"
	exit 0
fi
if ! grep -qw avx /proc/cpuinfo; then
	echo "SKIP uprobe_regs: this CPU has no AVX"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
W=$tmp/regs
if ! cc -O2 -o "$W" tests/data/uprobe/regs.c > "$tmp/build.log" 2>&1 ||
   ! "$CLANG" -O2 -g -target bpf -I/usr/include/"$(uname -m)"-linux-gnu -DWORKLOAD="\"$W\"" \
	-c tests/data/uprobe/regs.bpf.c -o "$tmp/regs.bpf.o" >> "$tmp/build.log" 2>&1; then
	echo "FAIL uprobe_regs: the test objects do not build:"
	head -n 5 "$tmp/build.log" | sed 's/^/     ... /'
	exit 1
fi

# the hits of program k in --dump-maps output $1
hits() { sed -n "/^map hits /,/by BTF/p" "$1" | sed -n "s/.*key [0-9a-f]* ($2)  value [0-9a-f]* (\([0-9]*\))$/\1/p"; }

for mode in supervisor agent agent_jit; do
	case $mode in
	supervisor) opts="--mode supervisor" ;;
	agent) opts="--mode agent" ;;
	agent_jit) opts="--mode agent --jit" ;;
	esac
	# shellcheck disable=SC2086
	timeout 60 "$BPFVM" trace $opts --dump-maps "$tmp/regs.bpf.o" -- "$W" $N > "$tmp/$mode.out" 2> "$tmp/$mode.err"
	rc=$?
	said=$(grep -a -o -E "regs ok [0-9]+|call [0-9]+: .*" "$tmp/$mode.out" | head -n 1)
	got="$(hits "$tmp/$mode.out" 0) $(hits "$tmp/$mode.out" 1) $(hits "$tmp/$mode.out" 2)"
	if [ $rc -eq 0 ] && [ "$said" = "regs ok $N" ] && [ "$got" = "$N $N $N" ]; then
		echo "PASS uprobe_regs_$mode"
	else
		echo "FAIL uprobe_regs_$mode: rc $rc, the workload said '$said' (want 'regs ok $N'), hits at the entry, inside and the return '$got' (want $N each)"
		head -n 3 "$tmp/$mode.err" | sed 's/^/     ... /'
		status=1
	fi
done
exit $status
