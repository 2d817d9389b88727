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
work=$BUILD/verifier-selftests
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
	# bpfvm's verdicts: "NAME VERDICT REASON", the reason the line after
	verdicts() {
		awk '/^[A-Za-z0-9_]+ \(.*\): skipped: / { next }
		     /^[A-Za-z0-9_]+ \(.*\): not loaded: / {
			if (p) print p, v, "-"
			r = $0; sub(/^[^:]*\): not loaded: /, "", r); print $1, "none", r; p = ""; next
		     }
		     /^[A-Za-z0-9_]+ \(.*\): / {
			if (p) print p, v, "-"
			p = $1; v = "none"
			if ($0 ~ /\): refused$/) v = "reject"
			if ($0 ~ /\): (accepted|verified)/) v = "accept"
			next
		     }
		     p { print p, v, $0; p = "" }
		     END { if (p) print p, v, "-" }' "$1"
	}
	verdicts "$tmp/bv" > "$tmp/bmap"
	objerr=$(grep -v '^$' "$tmp/bv.err" | head -1)
	progs=0 agree=0 needs=0 host=0 differ=""
	while read -r _ prog kverdict kreason; do
		if [ "$kverdict" = "host:" ]; then
			host=$((host + 1))
			echo "SKIP $n/$prog: the host cannot load it (kernel $kver): $kreason"
			continue
		fi
		bline=$(grep -m1 "^$prog " "$tmp/bmap")
		if [ -z "$bline" ] && [ -z "$objerr_alone" ]; then
			# the object as a whole failed, or the program is not loaded
			# unless asked for ('?' sections): the program alone; once per
			# object while that fails with the object's error
			"$BPFVM" verify --prog "$prog" "$obj" > "$tmp/bp" 2> "$tmp/bp.err"
			verdicts "$tmp/bp" > "$tmp/bpmap"
			bline=$(grep -m1 "^$prog " "$tmp/bpmap")
			[ -n "$bline" ] || [ "$(grep -v '^$' "$tmp/bp.err" | head -1)" != "$objerr" ] ||
				objerr_alone=1
		fi
		if [ -n "$bline" ]; then
			b=$(printf '%s\n' "$bline" | cut -d' ' -f2)
			breason=$(printf '%s\n' "$bline" | cut -d' ' -f3-)
		else
			b=none breason=$objerr
		fi
		# needs the kernel: its own verdict says so, or the object's error names it
		# (another program's load error leaves this one without a verdict: counted)
		if printf '%s\n' "$breason" | grep -qE '^cannot verify programs of type|exist only inside the kernel|kernel-only' &&
		   { [ -n "$bline" ] || printf '%s\n' "$breason" | grep -qF "program $prog:"; }; then
			needs=$((needs + 1))
			continue
		fi
		progs=$((progs + 1))
		k=${kverdict%:}
		if [ "$k" = "$b" ] || { [ "$k" = reject ] && [ "$b" = none ]; }; then
			agree=$((agree + 1))
			continue
		fi
		if [ "$k" = reject ]; then
			t_unsafe=$((t_unsafe + 1))
			echo "FAIL $n/$prog: the kernel refuses it ($kreason), bpfvm accepts it"
			status=1
		fi
		differ="$differ $prog(kernel $k: ${kreason:-ok}; bpfvm $b: $breason)"
	done < "$tmp/kv"
	objerr_alone=
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
