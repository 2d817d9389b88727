#!/bin/sh
# Verifier rules on their own cases, as C programs: every object of
# tests/data/verdicts/*.bpf.c, built with clang, and per program the
# running kernel's verdict (libbpf loads each program alone:
# tests/tools/libbpf_list.c --kernel-verdicts) against `bpfvm verify`'s:
# the same verdict; on a refusal, the kernel's message (the last line of
# its log) among bpfvm's; on acceptance, the same instructions processed.
# A program the host's libbpf cannot load is a SKIP with the reason.
BUILD=${BUILD:-build}
BPFVM=${BPFVM:-$BUILD/bpfvm}
CC=${CC:-cc}
kver=$(uname -r)
status=0

clang=$(command -v clang-19 || command -v clang)
if [ -z "$clang" ] || [ ! -f /usr/include/bpf/libbpf.h ]; then
	echo "SKIP verdict_objects: needs clang and libbpf-dev (scripts/deps.sh)"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
$CC -O1 -o "$tmp/libbpf_list" tests/tools/libbpf_list.c -lbpf || exit 1
. tests/scripts/kernel_cache.sh
for src in tests/data/verdicts/*.bpf.c; do
	n=$(basename "$src" .bpf.c)
	obj=$tmp/$n.o
	if ! "$clang" -O2 -g -target bpf -I/usr/include/$(uname -m)-linux-gnu -c "$src" -o "$obj" 2> "$tmp/cc"; then
		echo "FAIL $n: $(basename "$clang") cannot build it: $(grep -m1 'error:' "$tmp/cc")"
		status=1
		continue
	fi
	if ! kernel_ask "$tmp/libbpf_list" --kernel-verdicts "$obj" > "$tmp/kv"; then
		echo "FAIL $n: libbpf cannot open it"
		status=1
		continue
	fi
	"$BPFVM" verify "$obj" > "$tmp/bv" 2>&1
	while read -r _ prog kverdict kreason; do
		# bpfvm's lines for prog: its verdict line up to the statistics line
		sed -n "/^$prog (.*): /,/^processed /p" "$tmp/bv" > "$tmp/bp"
		bverdict=$(head -1 "$tmp/bp" | sed -E 's/^[^:]*\): //')
		bprocessed=$(sed -nE 's/^processed ([0-9]+) insns.*/\1/p' "$tmp/bp")
		case "$kverdict" in
		host:)
			echo "SKIP $n/$prog: the host cannot load it (kernel $kver): $kreason" ;;
		accept)
			case "$bverdict" in
			accepted|verified*)
				if [ "$bprocessed" = "$kreason" ]; then
					echo "PASS $n/$prog: both accept, $kreason instructions processed"
				else
					echo "FAIL $n/$prog: both accept; bpfvm processed $bprocessed instructions, the kernel $kreason"
					status=1
				fi ;;
			*)
				echo "FAIL $n/$prog: the kernel accepts it, bpfvm: ${bverdict:-no verdict} $(sed -n 2p "$tmp/bp")"
				status=1 ;;
			esac ;;
		*)
			if [ "$bverdict" != refused ]; then
				echo "FAIL $n/$prog: the kernel refuses it ($kreason), bpfvm: ${bverdict:-no verdict}"
				status=1
			elif grep -qxF -- "$kreason" "$tmp/bp"; then
				echo "PASS $n/$prog: both refuse: $kreason"
			else
				echo "FAIL $n/$prog: both refuse, the kernel with '$kreason', bpfvm with '$(sed -n 2p "$tmp/bp")'"
				status=1
			fi ;;
		esac
	done < "$tmp/kv"
done
exit $status
