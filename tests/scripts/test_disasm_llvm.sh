#!/bin/sh
# `bpfvm disasm` against `llvm-objdump-19 -d`, compared whole with diff:
#  - objects compiled here from tests/data/disasm/*.c at -mcpu=v1..v4;
#  - every eBPF object embedded in Debian's libbpf-tools programs
#    (extracted by tests/tools/extract_bpf_objs.c);
#  - objects of random instruction encodings, biased to opcodes.def's rows
#    and their selecting fields, with symbols of each kind among them:
#    llvm-objdump's leniency and its gaps must be matched too.  (Encodings
#    LLVM 19 misreads, load-acquire and store-release, are left out: for
#    those we print our own text.)
# Prints a PASS/FAIL line per object and the totals: objects, instruction
# lines compared, mismatching lines.  llvm-objdump lists each group of
# objects in one run (its start costs more than a listing: 0.1 s, 60 objects'
# listings 0.14 s), split into the listing each would have alone.
BUILD=${BUILD:-build}
BPFVM="$BUILD/bpfvm"
CLANG=${CLANG:-clang-19}
OBJDUMP=${OBJDUMP:-llvm-objdump-19}
CC=${CC:-cc}
RANDOM_OBJECTS=${RANDOM_OBJECTS:-40}
status=0
objects=0
insns=0
mismatches=0

for tool in "$CLANG" "$OBJDUMP"; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "SKIP disasm_llvm: $tool not found"
		exit 0
	fi
done
if [ ! -x "$BPFVM" ]; then
	echo "FAIL disasm_llvm: $BPFVM not built"
	exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# listings OBJECT...: llvm-objdump -d's listing of each object into
# OBJECT.ref, its standard error into OBJECT.err.  One run lists them all;
# its output is each object's listing, one after the other, each starting
# with an empty line and "OBJECT:<tab>file format": cut there, the pieces
# must make the whole again.  When they do not, or llvm-objdump says
# anything on its standard error, one run per object.
listings() {
	[ $# -gt 0 ] || return 0
	printf '%s\n' "$@" > "$tmp/list"
	if "$OBJDUMP" -d "$@" > "$tmp/all.ref" 2> "$tmp/all.err" && [ ! -s "$tmp/all.err" ] &&
	   awk 'FILENAME == ARGV[1] { path[++n] = $0; next }
		k < n && held && index($0, path[k + 1] ":\tfile format ") == 1 {
			if (out != "") close(out)
			out = path[++k] ".ref"; printf "" > out
		}
		{
			if (held) { if (out == "") exit 1; print "" > out }
			held = $0 == ""
			if (held) next
			if (out == "") exit 1
			print > out
		}
		END { if (held && out != "") print "" > out; exit !(k == n && n > 0) }' "$tmp/list" "$tmp/all.ref" &&
	   cat $(sed 's/$/.ref/' "$tmp/list") | cmp -s - "$tmp/all.ref"; then
		for obj in "$@"; do : > "$obj.err"; done
		return 0
	fi
	for obj in "$@"; do
		"$OBJDUMP" -d "$obj" > "$obj.ref" 2> "$obj.err"
	done
}

# compare NAME OBJECT: the two listings must be identical (OBJECT.ref from listings).
compare() {
	if [ -f "$2.ref" ] && [ ! -s "$2.err" ]; then
		cp "$2.ref" "$tmp/ref"
	else
		# its warnings where it printed them, as it is compared
		"$OBJDUMP" -d "$2" > "$tmp/ref" 2>&1
	fi
	"$BPFVM" disasm "$2" > "$tmp/mine" 2>&1
	n=$(grep -c '^ *[0-9][0-9]*:	' "$tmp/ref")
	objects=$((objects + 1))
	insns=$((insns + n))
	if cmp -s "$tmp/ref" "$tmp/mine"; then
		echo "PASS $1 ($n instructions)"
	else
		bad=$(diff "$tmp/ref" "$tmp/mine" | grep -c '^>')
		mismatches=$((mismatches + bad))
		echo "FAIL $1: $bad lines differ from llvm-objdump; first:"
		diff "$tmp/ref" "$tmp/mine" | head -n 6 | sed 's/^/     ... /'
		status=1
	fi
}

# 1. Objects compiled from our sources, at each ISA version.
built=
for src in tests/data/disasm/*.c; do
	name=$(basename "$src" .c)
	for cpu in v1 v2 v3 v4; do
		obj="$tmp/${name}_$cpu.o"
		if ! "$CLANG" -target bpf -O2 -mcpu=$cpu -c "$src" -o "$obj" 2> "$tmp/cc.err"; then
			echo "FAIL compile $name -mcpu=$cpu: $(head -n 1 "$tmp/cc.err")"
			status=1
			continue
		fi
		built="$built $name:$cpu"
	done
done
# With debug information: more sections, none of them code.
"$CLANG" -target bpf -O2 -g -mcpu=v3 -c tests/data/disasm/control.c -o "$tmp/control_g.o" ||
	rm -f "$tmp/control_g.o"
# shellcheck disable=SC2046
listings $(for b in $built; do echo "$tmp/${b%:*}_${b#*:}.o"; done) $(ls "$tmp/control_g.o" 2> /dev/null)
for b in $built; do
	compare "${b%:*} -mcpu=${b#*:}" "$tmp/${b%:*}_${b#*:}.o"
done
[ -f "$tmp/control_g.o" ] && compare "control -g" "$tmp/control_g.o"

# 2. The objects inside libbpf-tools.
if command -v dpkg >/dev/null 2>&1 && dpkg -L libbpf-tools >/dev/null 2>&1; then
	mkdir "$tmp/tools"
	extract=$BUILD/tests/extract_bpf_objs   # tests/tools/extract_bpf_objs.c, on the library
	[ -x "$extract" ] || { echo "FAIL libbpf-tools: $extract is not built (make $extract)"; status=1; }
	progs=$(dpkg -L libbpf-tools | grep '/sbin/' | while read -r f; do [ -f "$f" ] && echo "$f"; done)
	# shellcheck disable=SC2086
	found=$("$extract" "$tmp/tools" $progs)
	echo "# libbpf-tools: $(echo "$progs" | wc -l) programs, $found eBPF objects"
	before=$objects
	listings "$tmp"/tools/*.o
	for obj in "$tmp"/tools/*.o; do
		[ -f "$obj" ] && compare "libbpf-tools $(basename "$obj")" "$obj"
	done
	[ "$found" -gt 0 ] && [ $((objects - before)) -eq "$found" ] || {
		echo "FAIL libbpf-tools: $found objects found, $((objects - before)) compared"
		status=1
	}
	# The other way: llvm-objdump's listing assembles back to the bytes it
	# shows.  Only a call's src is lost: llvm prints every call as "call N".
	# The listings are those compared above (standard output alone).
	slots=0
	bad=0
	for obj in "$tmp"/tools/*.o; do
		cp "$obj.ref" "$tmp/listing"
		if ! "$BPFVM" asm "$tmp/listing" > "$tmp/back" 2> "$tmp/asm.err"; then
			echo "FAIL reassemble $(basename "$obj"): $(head -n 1 "$tmp/asm.err")"
			status=1
			continue
		fi
		grep '^ *[0-9][0-9]*:	' "$tmp/listing" | cut -f 2 | tr -d ' ' | fold -w 16 > "$tmp/shown"
		slots=$((slots + $(wc -l < "$tmp/shown")))
		bad=$((bad + $(paste "$tmp/shown" "$tmp/back" |
			awk '$1 != $2 && !($1 ~ /^85[0-9a-f]/ && substr($1, 5) == substr($2, 5))' | wc -l)))
	done
	if [ "$bad" -eq 0 ] && [ "$slots" -gt 0 ]; then
		echo "PASS reassemble libbpf-tools listings ($slots slots)"
	else
		echo "FAIL reassemble libbpf-tools listings: $bad of $slots slots differ"
		status=1
	fi
else
	echo "SKIP libbpf-tools: package not installed"
fi

# 3. Random encodings.  awk reads the rows of opcodes.def and writes an
# assembler file of .byte lines, with labels, functions, data symbols and
# stray bytes in between.
gen() {
	awk -v seed="$1" '
	/^OP\(/ {
		gsub(/[(),"]/, " ")
		n++; code[n] = $3 + 0; vf[n] = $4; vv[n] = $5
		if ($3 ~ /^0x/) code[n] = hex($3)
		if ($5 ~ /^0x/) vv[n] = hex($5)
	}
	function hex(s,   i, v) {
		v = 0; s = tolower(substr(s, 3))
		for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
		return v
	}
	function pick(a, b, c, d,   x) { x = int(rand() * 4); return x == 0 ? a : x == 1 ? b : x == 2 ? c : d }
	function byte(v, k) { return int(v / (256 ^ k)) % 256 }
	END {
		srand(seed)
		print "\t.section .text.rand,\"ax\",@progbits"
		for (i = 0; i < 500; i++) {
			x = rand()
			if (x < 0.04) print "lab" i ":"
			else if (x < 0.06) print "\t.type ob" i ",@object\nob" i ":"
			else if (x < 0.07) print "\t.globl fn" i "\n\t.type fn" i ",@function\nfn" i ":"
			if (rand() < 0.1) { printf "\t.byte"; for (k = 0; k < 8; k++) printf "%s%d", k ? "," : " ", rand() < 0.5 ? 0 : int(rand() * 256); print ""; continue }
			r = 1 + int(rand() * n)
			c = code[r]
			dst = pick(0, 1, 11, int(rand() * 16)); src = pick(0, 2, 10, int(rand() * 16))
			off = pick(0, 0, -1, int(rand() * 65536) - 32768)
			imm = pick(0, -1, 16, int(rand() * 4294967296) - 2147483648)
			if (vf[r] == "V_OFF" && rand() < 0.7) off = vv[r]
			if (vf[r] == "V_IMM" && rand() < 0.7) imm = vv[r]
			if (vf[r] == "V_SRC" && rand() < 0.7) src = vv[r]
			if ((c == 195 || c == 203 || c == 211 || c == 219) && (imm == 256 || imm == 272)) imm = 0
			off = (off + 65536) % 65536; imm = (imm + 4294967296) % 4294967296
			printf "\t.byte %d,%d,%d,%d,%d,%d,%d,%d\n", c, src * 16 + dst, byte(off, 0), byte(off, 1), byte(imm, 0), byte(imm, 1), byte(imm, 2), byte(imm, 3)
			if (rand() < 0.01) printf "\t.byte %d\n", int(rand() * 256)
		}
	}' src/isa/opcodes.def
}
i=0
while [ $i -lt "$RANDOM_OBJECTS" ]; do
	gen $i > "$tmp/rand.s"
	"$CLANG" -target bpf -c "$tmp/rand.s" -o "$tmp/rand_$i.o" 2> "$tmp/rand_$i.cc" ||
		rm -f "$tmp/rand_$i.o"
	i=$((i + 1))
done
# shellcheck disable=SC2046
listings $(ls "$tmp"/rand_*.o 2> /dev/null)
i=0
while [ $i -lt "$RANDOM_OBJECTS" ]; do
	if [ -f "$tmp/rand_$i.o" ]; then
		compare "random encodings #$i" "$tmp/rand_$i.o"
	else
		echo "FAIL random encodings #$i: $(head -n 1 "$tmp/rand_$i.cc")"
		status=1
	fi
	i=$((i + 1))
done

echo "# $objects objects, $insns instruction lines compared, $mismatches mismatching lines"
exit $status
