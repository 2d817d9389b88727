#!/bin/sh
# Every BPF object embedded in Debian's libbpf-tools programs, opened by
# bpfvm (`bpfvm prog show --relocs`) and by libbpf (tests/tools/libbpf_list.c),
# must agree: the same programs (name, section, type, expected attach
# type), the same maps (type, name, flags, key and value sizes, entries),
# and, for the objects the running kernel accepts from libbpf, the same
# linked instruction counts and the same map and sub-program references at
# the same instructions.  Then each object is loaded into bpfvm: it loads,
# or the message says what user space cannot give (kernel functions,
# kernel symbols, attach points).
# Prints a PASS/FAIL line per object and a summary line.
BUILD=${BUILD:-build}
BPFVM=${BPFVM:-$BUILD/bpfvm}
CC=${CC:-cc}
status=0

if ! dpkg -L libbpf-tools >/dev/null 2>&1; then
	echo "SKIP libbpf_objects: the libbpf-tools package is not installed"
	exit 0
fi
if [ ! -f /usr/include/bpf/libbpf.h ]; then
	echo "SKIP libbpf_objects: libbpf-dev is not installed"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
$CC -O1 -o "$tmp/extract" tests/tools/extract_bpf_objs.c || exit 1
$CC -O1 -o "$tmp/libbpf_list" tests/tools/libbpf_list.c -lbpf || exit 1
mkdir "$tmp/objs"
"$tmp/extract" "$tmp/objs" $(dpkg -L libbpf-tools | grep '^/usr/sbin/.') > /dev/null || exit 1

total=0 opened=0 compared=0 relocated=0 loaded=0 needs_kernel=0 core=0
for obj in "$tmp"/objs/*.o; do
	name=$(basename "$obj" .o)
	total=$((total + 1))
	if ! "$BPFVM" prog show --relocs "$obj" > "$tmp/mine" 2> "$tmp/err"; then
		echo "FAIL $name: bpfvm cannot open it: $(head -1 "$tmp/err")"
		status=1
		continue
	fi
	opened=$((opened + 1))
	"$tmp/libbpf_list" --load "$obj" > "$tmp/lib" 2> /dev/null
	lib_status=$?
	# what both know at open
	grep -E '^(prog|map) |^	key ' "$tmp/mine" | sed -E '/^map /s/  section .*//' > "$tmp/mine.open"
	grep -E '^(prog|map) |^	key ' "$tmp/lib" > "$tmp/lib.open"
	if ! cmp -s "$tmp/mine.open" "$tmp/lib.open"; then
		echo "FAIL $name: programs or maps differ from libbpf's:"
		diff "$tmp/lib.open" "$tmp/mine.open" | head -n 6 | sed 's/^/     ... /'
		status=1
		continue
	fi
	compared=$((compared + 1))
	what="programs and maps agree"
	if [ "$lib_status" -eq 0 ]; then
		# after libbpf's load: instruction counts and references
		awk '/^prog /{ sub(":", "", $2); print "loaded prog " $2 } /^\tinsns /{ print "\tinsns " $2 }
		     /^\treloc /' "$tmp/mine" > "$tmp/mine.load"
		sed -n '/^loaded prog /,$p' "$tmp/lib" > "$tmp/lib.load"
		if ! cmp -s "$tmp/mine.load" "$tmp/lib.load"; then
			echo "FAIL $name: relocated programs differ from libbpf's:"
			diff "$tmp/lib.load" "$tmp/mine.load" | head -n 6 | sed 's/^/     ... /'
			status=1
			continue
		fi
		relocated=$((relocated + 1))
		what="$what, relocations agree"
	fi
	if "$BPFVM" prog load --insns "$obj" > "$tmp/load" 2>&1; then
		loaded=$((loaded + 1))
		what="$what, loads"
		# CO-RE against this kernel's BTF: the instructions libbpf gave the
		# kernel, and ours (a failed relocation's poison call: libbpf's id, ours)
		if [ "$lib_status" -eq 0 ]; then
			"$tmp/libbpf_list" --load-insns "$obj" 2> /dev/null |
				sed -n '/^loaded prog /,$p' | sed 's/ 195896080$/ 511/' > "$tmp/lib.insns"
			grep -v '^loaded [^p]' "$tmp/load" > "$tmp/mine.insns"
			if ! cmp -s "$tmp/lib.insns" "$tmp/mine.insns"; then
				echo "FAIL $name: instructions after CO-RE differ from libbpf's:"
				diff "$tmp/lib.insns" "$tmp/mine.insns" | head -n 6 | sed 's/^/     ... /'
				status=1
				continue
			fi
			core=$((core + 1))
			what="$what, CO-RE agrees"
		fi
	elif grep -qE 'exist only inside the kernel|do not exist in user space|kernel map type bpfvm does not provide|which bpfvm does not provide' "$tmp/load"; then
		needs_kernel=$((needs_kernel + 1))
		what="$what, needs the kernel: $(grep -oE "(kernel function|kernel symbol) '[^']*'|map type [0-9]+|calls [a-z_]+#[0-9]+" "$tmp/load" | head -1)"
	else
		echo "FAIL $name: $what, but does not load: $(grep -v '^$' "$tmp/load" | head -1)"
		status=1
		continue
	fi
	echo "PASS $name: $what"
done
echo "# libbpf-tools objects: $total, opened $opened, agree with libbpf $compared," \
     "relocations compared $relocated, loaded $loaded (instructions equal to libbpf's" \
     "after CO-RE: $core), need the kernel $needs_kernel"
exit $status
