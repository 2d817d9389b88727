#!/bin/sh
# The kernel's new-style verifier selftests (tools/testing/selftests/bpf/
# progs/verifier_*.c of Linux 6.12), built with clang, and per program
# the running kernel's verdict (libbpf loads each program alone:
# tests/tools/libbpf_list.c --kernel-verdicts) against `bpfvm verify`'s.
# The running kernel is the oracle, not the files' __success/__failure
# annotations (they are 6.12's expectations).
#
# Per file one line: the programs of types bpfvm verifies, how many
# agree, and those that differ.  Programs bpfvm cannot verify because
# what they need exists only in the kernel (a program type described by
# kernel BTF, a kfunc) are counted apart; a program left without a
# verdict because another program of its object cannot load is counted
# (agreeing only where the kernel refuses it); programs the host cannot load
# for its own reasons (libbpf refuses them first) are SKIPs with the
# reason.  FAIL when bpfvm accepts a program the kernel refuses, and when
# a file agrees on fewer programs than tests/data/verifier_selftests.txt
# records (the level reached; raise it as bpfvm improves).
#
# The sanitized pass (SANITIZED=1) runs the files of the verifier
# features most recently added only, to keep `make test` short.
BUILD=${BUILD:-build}
BPFVM=${BPFVM:-$BUILD/bpfvm}
CC=${CC:-cc}
LEVELS=tests/data/verifier_selftests.txt
kver=$(uname -r)
status=0

clang=$(command -v clang-19 || command -v clang)
for need in "$clang" bpftool; do
	if [ -z "$need" ] || ! command -v "$need" > /dev/null; then
		echo "SKIP verifier_selftests: ${need:-clang} is not installed (scripts/deps.sh)"
		exit 0
	fi
done
if [ ! -f /usr/include/bpf/libbpf.h ] || [ ! -r /sys/kernel/btf/vmlinux ]; then
	echo "SKIP verifier_selftests: needs libbpf-dev and the kernel's BTF (/sys/kernel/btf/vmlinux; kernel $kver)"
	exit 0
fi

# The selftests' sources: /usr/src/linux, else linux-source-6.12's tarball.
# The objects clang builds from them (and vmlinux.h) do not depend on bpfvm's
# build: BPFVM_SELFTEST_OBJS, where the Makefile has both passes keep them, or
# $BUILD/verifier-selftests.
work=${BPFVM_SELFTEST_OBJS:-$BUILD/verifier-selftests}
mkdir -p "$work"
src=/usr/src/linux
if [ ! -d "$src/tools/testing/selftests/bpf/progs" ]; then
	src=$work/linux-source-6.12
	if [ ! -d "$src/tools/testing/selftests/bpf/progs" ]; then
		if [ ! -f /usr/src/linux-source-6.12.tar.xz ]; then
			echo "SKIP verifier_selftests: neither /usr/src/linux nor linux-source-6.12 (scripts/deps.sh) is installed"
			exit 0
		fi
		tar -C "$work" -xJf /usr/src/linux-source-6.12.tar.xz --wildcards \
			'linux-source-6.12/tools/testing/selftests/bpf/*.h' \
			'linux-source-6.12/tools/testing/selftests/bpf/progs/*' \
			'linux-source-6.12/tools/include/uapi/*' || exit 1
	fi
fi
sel=$src/tools/testing/selftests/bpf

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
[ -s "$work/vmlinux.h" ] || bpftool btf dump file /sys/kernel/btf/vmlinux format c > "$work/vmlinux.h" || exit 1
$CC -O1 -o "$tmp/libbpf_list" tests/tools/libbpf_list.c -lbpf || exit 1
. tests/scripts/kernel_cache.sh

files=$(cd "$sel/progs" && ls verifier_*.c | sed 's/\.c$//')
if [ -n "$SANITIZED" ]; then
	files="verifier_bpf_fastcall verifier_sock verifier_sockmap_mutate verifier_map_ret_val
	       verifier_spill_fill verifier_ref_tracking"
fi

t_progs=0 t_agree=0 t_needs=0 t_host=0 t_unsafe=0
for n in $files; do
	obj=$work/$n.o
	if [ ! -s "$obj" ] || [ "$sel/progs/$n.c" -nt "$obj" ]; then
		if ! "$clang" -O2 -g -target bpf -mcpu=v4 -D__TARGET_ARCH_x86 -I"$work" -I"$sel" \
		     -I"$sel/progs" -I"$src/tools/include/uapi" -I/usr/include/$(uname -m)-linux-gnu \
		     -c "$sel/progs/$n.c" -o "$obj" 2> "$tmp/cc"; then
			rm -f "$obj"
			echo "SKIP $n: $(basename "$clang") cannot build it: $(grep -m1 'error:' "$tmp/cc" | sed 's/.*error: //')"
			continue
		fi
	fi
	kernel_ask "$tmp/libbpf_list" --kernel-verdicts "$obj" > "$tmp/kv"
	"$BPFVM" verify "$obj" > "$tmp/bv" 2> "$tmp/bv.err"
	awk -v n="$n" -v obj="$obj" -v tmp="$tmp" -v bpfvm="$BPFVM" -v kver="$kver" \
	    -v bv="$tmp/bv" -v objerr="$(grep -v '^$' "$tmp/bv.err" | head -1)" \
	    -f tests/scripts/selftest_verdicts.awk "$tmp/kv" > "$tmp/joined"
	grep -vE '^(counts|differ)( |$)' "$tmp/joined"
	set -- $(grep '^counts ' "$tmp/joined")
	progs=$2 agree=$3 needs=$4 host=$5
	t_unsafe=$((t_unsafe + $6))
	[ "$6" -eq 0 ] || status=1
	differ=$(sed -n 's/^differ//p' "$tmp/joined")
	t_progs=$((t_progs + progs)) t_agree=$((t_agree + agree))
	t_needs=$((t_needs + needs)) t_host=$((t_host + host))
	want=$(awk -v n="$n" '$1 == n { print $2 }' "$LEVELS" 2> /dev/null)
	line="$n: $agree of $progs agree ($needs need the kernel, $host the host cannot load)"
	if [ -n "$want" ] && [ "$agree" -lt "$want" ]; then
		echo "FAIL $line; $want agreed before:$differ"
		status=1
	else
		echo "PASS $line${differ:+; differ:$differ}"
	fi
done
echo "# verifier selftests: $t_agree of $t_progs programs of types bpfvm verifies agree" \
     "with the kernel ($kver); $t_needs need the kernel, $t_host the host cannot load," \
     "$t_unsafe accepted by bpfvm and refused by the kernel"
exit $status
