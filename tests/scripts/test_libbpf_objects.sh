#!/bin/sh
# Every BPF object embedded in Debian's libbpf-tools programs, opened by
# bpfvm (`bpfvm prog show --relocs`) and by libbpf (tests/tools/libbpf_list.c),
# must agree: the same programs (name, section, type, expected attach
# type), the same maps (type, name, flags, key and value sizes, entries),
# and, for the objects the running kernel accepts from libbpf, the same
# linked instruction counts and the same map and sub-program references at
# the same instructions.  Then each object is loaded into bpfvm: it loads,
# or the message says what user space cannot give (kernel functions,
# kernel symbols, attach points, kernel-only map types and helpers), or
# it has a map its tool sizes before load (max_entries 0 in the object),
# which the kernel (libbpf's load of the object as it is) refuses too.
# Then, per program, the kernel's verdict against `bpfvm verify`'s (below).
# Prints a PASS/FAIL line per object and a summary line.
# Environment: BPFVM_LIBBPF_ONLY (a shell pattern: only those objects),
# BPFVM_TEST_KERNEL_DENY (a simulated kernel: tests/kernel/kernel_bpf.h).
BUILD=${BUILD:-build}
BPFVM=${BPFVM:-$BUILD/bpfvm}
CC=${CC:-cc}
status=0

if [ ! -f /usr/include/bpf/libbpf.h ]; then
	echo "SKIP libbpf_objects: libbpf-dev is not installed"
	exit 0
fi
name=libbpf_objects; . tests/scripts/libbpf_tools_objs.sh
. tests/scripts/kernel_cache.sh
$CC -O1 -Wall -Wextra -Werror -o "$tmp/libbpf_list" tests/tools/libbpf_list.c -lbpf || exit 1
# BPFVM_LIBBPF_ONLY: a shell pattern of the objects to test ("opensnoop_*"), all by default
for obj in "$tmp"/objs/*.o; do
	case $(basename "$obj" .o) in
	${BPFVM_LIBBPF_ONLY:-*}) ;;
	*) rm -f "$obj" ;;
	esac
done

total=0 opened=0 compared=0 relocated=0 loaded=0 needs_kernel=0 core=0 sized=0
for obj in "$tmp"/objs/*.o; do
	name=$(basename "$obj" .o)
	total=$((total + 1))
	if ! "$BPFVM" prog show --relocs "$obj" > "$tmp/mine" 2> "$tmp/err"; then
		echo "FAIL $name: bpfvm cannot open it: $(head -1 "$tmp/err")"
		status=1
		continue
	fi
	opened=$((opened + 1))
	kernel_ask "$tmp/libbpf_list" --load "$obj" > "$tmp/lib"
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
			kernel_ask "$tmp/libbpf_list" --load-insns "$obj" |
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
	elif grep -qE 'exist only inside the kernel|do not exist in user space|is kernel-only: bpfvm does not provide it|kernel-only, bpfvm does not provide it' "$tmp/load"; then
		needs_kernel=$((needs_kernel + 1))
		what="$what, needs the kernel: $(grep -oE "(kernel function|kernel symbol) '[^']*'|BPF_MAP_TYPE_[A-Z_]+|calls [a-z_]+#[0-9]+" "$tmp/load" | head -1)"
	elif [ "$lib_status" -ne 0 ] && grep -q 'max_entries > 0' "$tmp/load" &&
	     grep -q 'max_entries 0$' "$tmp/lib.open"; then
		sized=$((sized + 1))
		what="$what, its tool sizes a map before load: $(grep -oE "map '[^']*'" "$tmp/load" | head -1) has max_entries 0, and the kernel refuses it as it is too"
	else
		echo "FAIL $name: $what, but does not load: $(grep -v '^$' "$tmp/load" | head -1)"
		status=1
		continue
	fi
	echo "PASS $name: $what"
done
echo "# libbpf-tools objects: $total, opened $opened, agree with libbpf $compared," \
     "relocations compared $relocated, loaded $loaded (instructions equal to libbpf's" \
     "after CO-RE: $core), need the kernel $needs_kernel, need their tool to size a map $sized"
# Per program: the kernel's verdict (libbpf loads it alone, the others'
# autoload off, as a tool picks the programs it attaches) against `bpfvm
# verify`'s.  A program the kernel accepts must verify in bpfvm (and run,
# or say what only the kernel has: a kernel-only helper or map type), or
# be refused for a reason only the kernel can meet (a program type whose
# context and attach points are kernel BTF: fentry, tp_btf, ...).  A
# program the kernel refuses must not verify in bpfvm.  A program the host
# kernel cannot load (a helper, map type or program type it lacks, probed
# alone: tests/kernel/kernel_host.h) is skipped, with its reason.  `bpfvm
# verify` exits non-zero exactly when it refuses a program or cannot load
# the object.
progs=0 k_accept=0 b_runs=0 b_cannot_run=0 b_kernel_only=0 k_reject=0 both_refuse=0 k_cannot=0
for obj in "$tmp"/objs/*.o; do
	name=$(basename "$obj" .o)
	# the kernel's verdicts, and the instructions it processed (below), in one load a program
	if ! kernel_ask "$tmp/libbpf_list" --verdicts-processed "$obj" > "$tmp/kvp"; then
		echo "FAIL $name: libbpf cannot open it for per-program verdicts"
		status=1
		continue
	fi
	grep '^processed ' "$tmp/kvp" > "$tmp/$name.processed"
	"$BPFVM" verify "$obj" > "$tmp/$name.bv" 2> "$tmp/bv.err"
	bstatus=$?
	want=0
	if [ -s "$tmp/bv.err" ] || grep -qE '^[A-Za-z0-9_]+ \(.*\): refused$' "$tmp/$name.bv"; then
		want=1
	fi
	if { [ "$want" -eq 1 ] && [ "$bstatus" -eq 0 ]; } || { [ "$want" -eq 0 ] && [ "$bstatus" -ne 0 ]; }; then
		echo "FAIL $name: bpfvm verify exited with $bstatus, but $([ "$want" -eq 1 ] &&
			echo "refused a program or the object" || echo "accepted every program")"
		status=1
	fi
	# One awk a object joins the kernel's verdict lines with bpfvm's (a
	# program's first "NAME (...): VERDICT" line and the reason after it),
	# prints a line a program, and last the counts to add up.
	awk -v name="$name" -v object_err="$(grep -v '^$' "$tmp/bv.err" | tail -1)" '
	FILENAME == ARGV[1] {
		if (pending != "") {
			breason[pending] = $0
			pending = ""
		}
		if (match($0, /^[A-Za-z0-9_.]+ \(.*\): (accepted|refused|verified)/) && !($1 in bverdict)) {
			s = $0; sub(/^[^:]*\): /, "", s); bverdict[$1] = s; pending = $1
		}
		next
	}
	!/^verdict / { next }
	{
		prog = $2; kverdict = $3; kreason = $0
		sub(/^[^ ]+ +[^ ]+ +[^ ]+ */, "", kreason)
		bv = (prog in bverdict) ? bverdict[prog] : ""; br = breason[prog]
		n["progs"]++
		if (kverdict == "cannot:") {
			n["k_cannot"]++
			print "SKIP " name "/" prog ": the host kernel cannot load it: " kreason
		} else if (kverdict == "accept") {
			n["k_accept"]++
			if (bv == "accepted") {
				n["b_runs"]++
				print "PASS " name "/" prog ": kernel accepts; bpfvm verifies it and can run it"
			} else if (bv ~ /^verified; cannot run in bpfvm: ./) {
				n["b_cannot_run"]++
				print "PASS " name "/" prog ": kernel accepts; bpfvm " bv
			} else if (bv == "refused" && br ~ /^cannot verify programs of type [0-9]+: .*kernel BTF/) {
				n["b_kernel_only"]++
				print "PASS " name "/" prog ": kernel accepts; bpfvm refuses, kernel-only: " br
			} else if (bv == "refused") {
				print "FAIL " name "/" prog ": kernel accepts, bpfvm refuses: " br
				n["fail"]++
			} else {
				print "FAIL " name "/" prog ": kernel accepts, bpfvm gives no verdict: " \
				      (object_err != "" ? object_err : "no output")
				n["fail"]++
			}
		} else {
			n["k_reject"]++
			if (bv == "refused" || bv == "") {
				n["both_refuse"]++
				print "PASS " name "/" prog ": kernel refuses (" kreason "); bpfvm refuses (" \
				      (br != "" ? br : object_err) ")"
			} else {
				print "FAIL " name "/" prog ": kernel refuses (" kreason "), bpfvm: " bv
				n["fail"]++
			}
		}
	}
	END {
		print "counts", n["progs"] + 0, n["k_accept"] + 0, n["b_runs"] + 0, n["b_cannot_run"] + 0,
		      n["b_kernel_only"] + 0, n["k_reject"] + 0, n["both_refuse"] + 0, n["k_cannot"] + 0,
		      n["fail"] + 0
	}' "$tmp/$name.bv" "$tmp/kvp" > "$tmp/joined"
	grep -v '^counts ' "$tmp/joined"
	set -- $(grep '^counts ' "$tmp/joined")
	a=$2 b=$3 c=$4 d=$5 e=$6 f=$7 g=$8 h=$9 fails=${10}
	progs=$((progs + a)) k_accept=$((k_accept + b)) b_runs=$((b_runs + c))
	b_cannot_run=$((b_cannot_run + d)) b_kernel_only=$((b_kernel_only + e))
	k_reject=$((k_reject + f)) both_refuse=$((both_refuse + g)) k_cannot=$((k_cannot + h))
	[ "$fails" -eq 0 ] || status=1
done
echo "# libbpf-tools programs: $progs; the kernel accepts $k_accept: bpfvm verifies" \
     "$((b_runs + b_cannot_run)) ($b_runs can run, $b_cannot_run need kernel-only helpers or maps)," \
     "refuses $b_kernel_only for kernel BTF program types; the kernel refuses $k_reject," \
     "bpfvm refuses $both_refuse of them; the host kernel cannot load $k_cannot (skipped)"
# Per program both verify: the instructions each verifier processed, from
# its statistics line, must be the same.  Linux 6.18 decides which stack
# slots matter by a static analysis, bpfvm by what the paths walked read:
# ksnoop's two programs are where that differs (README, verifier), and only
# there may the counts differ.
counted=0 same=0
for obj in "$tmp"/objs/*.o; do
	name=$(basename "$obj" .o)
	[ -f "$tmp/$name.bv" ] || continue
	[ -f "$tmp/$name.processed" ] || continue
	awk -v name="$name" '
	FILENAME == ARGV[1] {
		if (want != "") {
			if (match($0, /^processed [0-9]+ insns/)) {
				split($0, w, " "); if (!(want in bcount)) bcount[want] = w[2]
			} else if (!(want in bcount)) {
				bcount[want] = ""
			}
			want = ""
		}
		if (match($0, /^[A-Za-z0-9_.]+ \(.*\): (accepted|verified)/))
			want = $1
		next
	}
	{
		prog = $2; k = $3
		if (!(prog in bcount) || bcount[prog] == "") next
		counted++
		if (bcount[prog] == k) {
			same++; print "PASS " name "/" prog ": " k " instructions processed, as the kernel"
		} else if (name == "ksnoop_0") {
			print "PASS " name "/" prog ": " bcount[prog] " instructions processed, the kernel " k " (stack liveness)"
		} else {
			print "FAIL " name "/" prog ": " bcount[prog] " instructions processed, the kernel " k
			fails++
		}
	}
	END { print "counts", counted + 0, same + 0, fails + 0 }' "$tmp/$name.bv" "$tmp/$name.processed" > "$tmp/joined"
	grep -v '^counts ' "$tmp/joined"
	set -- $(grep '^counts ' "$tmp/joined")
	a=$2 b=$3 fails=$4
	counted=$((counted + a)) same=$((same + b))
	[ "$fails" -eq 0 ] || status=1
done
echo "# instructions processed: the same as the kernel's on $same of $counted programs both verify"
exit $status
