#!/bin/sh
# Programs that embed BPF objects, as every libbpf skeleton tool does:
# `bpfvm prog show`, `verify`, `disasm` and `run` take the BINARY (and
# --object N of several) and say what they say of the object itself.
#  - a program built here that embeds two clang-built objects as byte
#    arrays (string literals, as `bpftool gen skeleton` writes them);
#  - Debian's libbpf-tools opensnoop and execsnoop (skipped when the
#    package is missing), against the objects extract_bpf_objs pulls out;
#  - bad input: not ELF, an x86-64 program without an object, a truncated
#    embedded object, --object out of range or missing where needed.
name=embedded
. tests/scripts/clang_checks.sh
CC=${CC:-cc}
EXTRACT=$BUILD/tests/extract_bpf_objs

# expect NAME STATUS PATTERN CMD...: CMD exits with STATUS and its stderr
# (or stdout) holds PATTERN (a fixed string).
expect() {
	name=$1 want=$2 pattern=$3
	shift 3
	"$@" > "$tmp/out" 2> "$tmp/err"
	got=$?
	if [ "$got" -ne "$want" ]; then
		fail "$name" "exit status $got, expected $want: $(head -3 "$tmp/err" | tr '\n' ' ')"
	elif [ -n "$pattern" ] && ! grep -qF -- "$pattern" "$tmp/err" "$tmp/out"; then
		fail "$name" "no '$pattern' in: $(head -4 "$tmp/err" "$tmp/out" | tr '\n' ' ')"
	else
		pass "$name"
	fi
}

# same NAME FILE1 FILE2: equal once the lines naming the file are dropped.
same() {
	grep -v -e '^object ' -e 'file format' "$2" > "$tmp/a"
	grep -v -e '^object ' -e 'file format' "$3" > "$tmp/b"
	if [ ! -s "$tmp/a" ]; then
		fail "$1" "no output"
	elif ! cmp -s "$tmp/a" "$tmp/b"; then
		fail "$1" "differs: $(diff "$tmp/a" "$tmp/b" | head -4 | tr '\n' ' ')"
	else
		pass "$1"
	fi
}

# A C string literal of a file's bytes, as a skeleton holds its object.
c_bytes() {
	od -An -v -tx1 "$1" | tr -s ' \n' ' ' | sed -e 's/^ //' -e 's/ $//' -e 's/ /\\x/g' \
		-e 's/^/"\\x/' -e 's/$/"/'
}

cat > "$tmp/one.bpf.c" <<'EOF'
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 1); __type(key, __u32);
	 __type(value, __u64); } hits SEC(".maps");
SEC("xdp") int count_xdp(struct xdp_md *ctx)
{
	__u32 k = 0;
	__u64 *v = bpf_map_lookup_elem(&hits, &k);
	if (v)
		__sync_fetch_and_add(v, 1);
	return XDP_PASS;
}
char LICENSE[] SEC("license") = "GPL";
EOF
cat > "$tmp/two.bpf.c" <<'EOF'
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("tc") int drop_tc(struct __sk_buff *skb) { return skb->len > 100 ? 2 : 0; }
SEC("socket") int keep_socket(struct __sk_buff *skb) { return skb->len; }
char LICENSE[] SEC("license") = "GPL";
EOF
for o in one two; do
	"$CLANG" -O2 -g -target bpf -I/usr/include/x86_64-linux-gnu -c "$tmp/$o.bpf.c" \
		-o "$tmp/$o.bpf.o" || { fail "compile $o" "clang failed"; exit 1; }
done
# As bpftool gen skeleton: the object's bytes in a function of the program.
{
	echo '#include <stdio.h>'
	echo 'static const char *one_bytes(size_t *sz) { static const char d[] = '
	c_bytes "$tmp/one.bpf.o"
	echo '; *sz = sizeof(d) - 1; return d; }'
	echo 'static const char *two_bytes(size_t *sz) { static const char d[] = '
	c_bytes "$tmp/two.bpf.o"
	echo '; *sz = sizeof(d) - 1; return d; }'
	# The bytes escape to libc, as a skeleton's go to libbpf: the compiler keeps them.
	echo 'int main(int argc, char **argv) { size_t a, b; const char *x = one_bytes(&a), *y = two_bytes(&b);'
	echo 'if (argc > 1) { fwrite(x, 1, a, stdout); fwrite(y, 1, b, stdout); } return !argv; }'
} > "$tmp/skel.c"
$CC -O2 -o "$tmp/skel" "$tmp/skel.c" || { fail "compile skel" "cc failed"; exit 1; }
# Only the first, as a one-object tool holds it.
sed -e '/two_bytes/,$d' "$tmp/skel.c" > "$tmp/single.c"
echo 'int main(int argc, char **argv) { size_t a; const char *x = one_bytes(&a); if (argc > 1) fwrite(x, 1, a, stdout); return !argv; }' >> "$tmp/single.c"
$CC -O2 -o "$tmp/single" "$tmp/single.c" || { fail "compile single" "cc failed"; exit 1; }
# A truncated object: its first 400 bytes (the section headers come last).
head -c 400 "$tmp/one.bpf.o" > "$tmp/cut.o"
{
	echo '#include <stdio.h>'
	echo 'static const char d[] = '
	c_bytes "$tmp/cut.o"
	echo '; int main(int argc, char **argv) { if (argc > 1) fwrite(d, 1, sizeof(d), stdout); return !argv; }'
} > "$tmp/cut.c"
$CC -O2 -o "$tmp/cut" "$tmp/cut.c" || { fail "compile cut" "cc failed"; exit 1; }
echo 'int main(void) { return 0; }' > "$tmp/plain.c"
$CC -O2 -o "$tmp/plain" "$tmp/plain.c" || { fail "compile plain" "cc failed"; exit 1; }

# 1. The program built here: two objects, each as its own file says.
expect "two objects: prog show needs --object" 1 \
	"$tmp/skel is an x86-64 ELF binary with 2 embedded BPF objects" "$BPFVM" prog show "$tmp/skel"
for w in "  0: " "  1: " "programs count_xdp" "programs drop_tc, keep_socket" "--object N"; do
	grep -qF -- "$w" "$tmp/err" || fail "two objects: listed" "no '$w' in $(tr '\n' ' ' < "$tmp/err")"
done
expect "two objects: --object 2 is out of range" 1 "has no embedded BPF object 2: it holds 2 (index 0 to 1)" \
	"$BPFVM" prog show --object 2 "$tmp/skel"
grep -qF "programs drop_tc, keep_socket" "$tmp/err" || fail "two objects: out of range lists them" "$(cat "$tmp/err")"
# Which index each has: file order is the compiler's and linker's choice.
one=$(sed -n 's/^  \([0-9]\): .*programs count_xdp$/\1/p' "$tmp/err")
two=$(sed -n 's/^  \([0-9]\): .*programs drop_tc, keep_socket$/\1/p' "$tmp/err")
for o in one two; do
	eval i=\$$o
	"$BPFVM" prog show --relocs "$tmp/$o.bpf.o" > "$tmp/want" 2>&1
	"$BPFVM" prog show --relocs --object $i "$tmp/skel" > "$tmp/got" 2>&1
	same "two objects: prog show --object $i" "$tmp/want" "$tmp/got"
	"$BPFVM" verify "$tmp/$o.bpf.o" 2>&1 | sed 's/verification time [0-9]* usec//' > "$tmp/want"
	"$BPFVM" verify --object $i "$tmp/skel" 2>&1 | sed 's/verification time [0-9]* usec//' > "$tmp/got"
	same "two objects: verify --object $i" "$tmp/want" "$tmp/got"
	"$BPFVM" disasm "$tmp/$o.bpf.o" > "$tmp/want" 2>&1
	"$BPFVM" disasm --object $i "$tmp/skel" > "$tmp/got" 2>&1
	same "two objects: disasm --object $i" "$tmp/want" "$tmp/got"
done
for cmd in "verify" "disasm" "run"; do
	expect "two objects: $cmd needs --object" 1 "with 2 embedded BPF objects" "$BPFVM" $cmd "$tmp/skel"
done
printf '\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0' > "$tmp/pkt"
expect "two objects: run --object N" 0 "retval 0x2 (XDP_PASS)" \
	"$BPFVM" run --object "$one" --data "$tmp/pkt" --dump-maps "$tmp/skel"
grep -qF "value 0100000000000000 (1)" "$tmp/out" || fail "two objects: run counted" "$(cat "$tmp/out")"
# A socket filter sees the packet past its Ethernet header: 60 - 14 bytes.
expect "two objects: run --object N --prog keep_socket" 0 "retval 0x2e" \
	"$BPFVM" run --object "$two" --prog keep_socket --data "$tmp/pkt" "$tmp/skel"
expect "one object: taken without --object" 0 "name count_xdp" "$BPFVM" prog show "$tmp/single"
expect "one object: --object 0" 0 "accepted" "$BPFVM" verify --object 0 "$tmp/single"
expect "one object: --object 1" 1 "has no embedded BPF object 1: it holds one (index 0)" \
	"$BPFVM" prog show --object 1 "$tmp/single"
expect "a BPF object is its own object 0" 0 "name count_xdp" "$BPFVM" prog show --object 0 "$tmp/one.bpf.o"
expect "a BPF object has no object 1" 1 "is a BPF object, not a program embedding several" \
	"$BPFVM" prog show --object 1 "$tmp/one.bpf.o"
expect "--object takes a number" 2 "--object takes the index of an embedded object" \
	"$BPFVM" prog show --object one "$tmp/skel"

# 2. Bad input: each command says what the file is, exit status 1.
for cmd in "prog show" "verify" "disasm" "run"; do
	expect "no object: $cmd" 1 "$tmp/plain is an x86-64 ELF binary with no embedded BPF object" \
		"$BPFVM" $cmd "$tmp/plain"
	expect "truncated: $cmd" 1 "the BPF object embedded at offset 0x" "$BPFVM" $cmd "$tmp/cut"
	grep -qF "is truncated: its section headers and sections reach" "$tmp/err" ||
		fail "truncated: $cmd says so" "$(cat "$tmp/err")"
done
head -c 3000 /dev/urandom | tr '\177' 'x' > "$tmp/noise"
expect "not ELF: prog show" 1 "not an ELF file" "$BPFVM" prog show "$tmp/noise"
expect "not ELF: prog show --object 1" 1 "not an ELF file" "$BPFVM" prog show --object 1 "$tmp/noise"
expect "extract_bpf_objs skips a truncated object" 0 "is truncated" "$EXTRACT" "$tmp" "$tmp/cut"
grep -qx 0 "$tmp/out" || fail "extract_bpf_objs: truncated written" "$(cat "$tmp/out")"

# 3. Debian's libbpf-tools.
if ! dpkg -L libbpf-tools >/dev/null 2>&1; then
	echo "SKIP embedded libbpf-tools: the libbpf-tools package is not installed (scripts/deps.sh installs it)"
	exit $status
fi
for tool in opensnoop execsnoop; do
	bin=/usr/sbin/$tool
	mkdir -p "$tmp/x_$tool"
	n=$("$EXTRACT" "$tmp/x_$tool" "$bin")
	[ "$n" = 1 ] || { fail "$tool: one object" "extract_bpf_objs found $n"; continue; }
	obj="$tmp/x_$tool/$tool.o"   # named as the tool, as bpfvm names the embedded object
	mv "$tmp/x_$tool/${tool}_0.o" "$obj"
	"$BPFVM" prog show --relocs "$obj" > "$tmp/want" 2>&1
	"$BPFVM" prog show --relocs "$bin" > "$tmp/got" 2>&1
	same "$tool: prog show" "$tmp/want" "$tmp/got"
	"$BPFVM" verify "$obj" 2>&1 | sed 's/verification time [0-9]* usec//' > "$tmp/want"
	"$BPFVM" verify "$bin" 2>&1 | sed 's/verification time [0-9]* usec//' > "$tmp/got"
	same "$tool: verify" "$tmp/want" "$tmp/got"
	"$BPFVM" disasm "$obj" > "$tmp/want" 2>&1
	"$BPFVM" disasm "$bin" > "$tmp/got" 2>&1
	same "$tool: disasm" "$tmp/want" "$tmp/got"
	"$BPFVM" run "$obj" 2>&1 | sed -e "s|$obj|FILE|g" -e 's/duration_ns [0-9]*//' > "$tmp/want"
	"$BPFVM" run "$bin" 2>&1 | sed -e "s|$bin|FILE|g" -e 's/duration_ns [0-9]*//' > "$tmp/got"
	same "$tool: run" "$tmp/want" "$tmp/got"
done
# kill_entry, its first program, reads 32 bytes of sys_enter_kill's record: a
# test run refuses a shorter context, as the kernel's does.
head -c 64 /dev/zero > "$tmp/kill.ctx"
expect "sigsnoop: run" 0 "retval 0x0" "$BPFVM" run --ctx "$tmp/kill.ctx" /usr/sbin/sigsnoop
# A tool with several objects, if Debian ships one.
several=""
for bin in $(dpkg -L libbpf-tools | grep '^/usr/sbin/.'); do
	rm -rf "$tmp/s" && mkdir "$tmp/s"
	n=$("$EXTRACT" "$tmp/s" "$bin" 2>/dev/null)
	[ "${n:-0}" -gt 1 ] && several="$several $bin:$n"
done
if [ -z "$several" ]; then
	echo "SKIP embedded libbpf-tools several: no program of libbpf-tools embeds more than one object (the program built above does)"
fi
for s in $several; do
	bin=${s%%:*} n=${s##*:}
	expect "$(basename "$bin"): needs --object" 1 "with $n embedded BPF objects" "$BPFVM" prog show "$bin"
	i=0
	while [ $i -lt "$n" ]; do
		expect "$(basename "$bin"): --object $i" 0 "" "$BPFVM" prog show --object $i "$bin"
		i=$((i + 1))
	done
done
exit $status
