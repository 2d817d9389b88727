#!/bin/sh
# Classic BPF on the command line: `bpfvm run --filter/--cbpf --pcap` (its
# count against tcpdump -r's on examples/data/three.pcap, in each program
# form tcpdump writes, interpreted and JIT-compiled), `bpfvm disasm --cbpf`,
# `bpfvm seccomp check/dump` on a hand-written policy, and bad input: each
# refusal of the kernel's classic checks named at its instruction, exit 1.
BUILD=${BUILD:-build}
BPFVM=${BPFVM:-$BUILD/bpfvm}
pcap=examples/data/three.pcap
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0

fail() { echo "FAIL $1: $2"; sed 's/^/     ... /' "$tmp/out" | head -n 5; status=1; }

# run_count NAME EXPECTED-LAST-LINE -- ARGS
run_count() {
	name=$1 want=$2; shift 3
	if ! "$BPFVM" run "$@" > "$tmp/out" 2>&1; then fail "$name" "exit status $?"; return; fi
	got=$(tail -n 1 "$tmp/out")
	if [ "$got" = "$want" ]; then echo "PASS $name"; else fail "$name" "last line '$got', expected '$want'"; fi
}

for expr in 'tcp port 80' 'tcp' 'udp' 'ip' 'len > 50' 'not tcp'; do
	if command -v tcpdump >/dev/null 2>&1; then
		n=$(tcpdump -nr "$pcap" "$expr" 2>/dev/null | wc -l)
		tcpdump -r "$pcap" -dd "$expr" > "$tmp/dd" 2>/dev/null
		tcpdump -r "$pcap" -ddd "$expr" > "$tmp/ddd" 2>/dev/null
		run_count "filter '$expr'" "3 packets, $n accepted" -- --filter "$expr" --pcap "$pcap"
		run_count "filter '$expr' jit" "3 packets, $n accepted" -- --filter "$expr" --pcap "$pcap" --jit
		run_count "cbpf -dd '$expr'" "3 packets, $n accepted" -- --cbpf "$tmp/dd" --pcap "$pcap"
		run_count "cbpf -ddd '$expr'" "3 packets, $n accepted" -- --cbpf "$tmp/ddd" --pcap "$pcap"
	else
		echo "SKIP filter '$expr': tcpdump is not installed (scripts/deps.sh installs it)"
	fi
done

# the verdict per packet is the snap length the filter returns
printf '4\n40 0 0 12\n21 0 1 2048\n6 0 0 60\n6 0 0 0\n' > "$tmp/ip60"
"$BPFVM" run --cbpf "$tmp/ip60" --pcap "$pcap" > "$tmp/out" 2>&1
if grep -q '^packet 1 (54 bytes): 60$' "$tmp/out"; then echo "PASS verdict is the snap length"; else fail "verdict is the snap length" "no 'packet 1 (54 bytes): 60'"; fi

# the same program as raw struct sock_filter records
printf '\050\000\000\000\014\000\000\000\025\000\000\001\000\010\000\000\006\000\000\000\074\000\000\000\006\000\000\000\000\000\000\000' > "$tmp/ip60.raw"
"$BPFVM" run --cbpf "$tmp/ip60.raw" --pcap "$pcap" > "$tmp/out.raw" 2>&1
"$BPFVM" run --cbpf "$tmp/ip60" --pcap "$pcap" > "$tmp/out" 2>&1
if cmp -s "$tmp/out" "$tmp/out.raw"; then echo "PASS raw records"; else fail "raw records" "differ from the -ddd form"; fi

"$BPFVM" disasm --cbpf "$tmp/ip60" > "$tmp/out" 2>&1
if grep -q '^(001) jeq      #0x800           jt 2	jf 3$' "$tmp/out" && grep -q 'r0 = be16 r0' "$tmp/out" &&
   grep -q "bpf_skb_load_helper_16" "$tmp/out"; then
	echo "PASS disasm --cbpf"
else
	fail "disasm --cbpf" "tcpdump -d's line, the conversion or the kernel's function name missing"
fi

# bad input: bad_cbpf NAME EXPECTED-MESSAGE DECIMAL-PROGRAM
bad_cbpf() {
	printf '%s\n' "$3" > "$tmp/bad"
	"$BPFVM" run --cbpf "$tmp/bad" --pcap "$pcap" > "$tmp/out" 2>&1
	rc=$?
	if [ $rc -eq 1 ] && grep -qF -- "$2" "$tmp/out"; then echo "PASS refuses $1"; else fail "refuses $1" "exit $rc, expected 1 and '$2'"; fi
}
bad_cbpf "a backward jump" "instruction 1: backward jump" "3
0 0 0 1
5 0 0 4294967295
6 0 0 0"
bad_cbpf "a jump past the end" "instruction 0: jump past the end" "2
21 5 0 1
6 0 0 0"
bad_cbpf "no final return" "instruction 1: the last instruction is not a return" "2
0 0 0 1
135 0 0 0"
bad_cbpf "an unknown opcode" "instruction 0: unknown opcode 0xe0" "2
224 0 0 0
6 0 0 0"
bad_cbpf "M[] never stored" "instruction 2: load from M[1], which is not stored on every path here" "4
21 0 1 0
2 0 0 1
96 0 0 1
22 0 0 0"
bad_cbpf "division by constant zero" "instruction 0: division by zero" "2
52 0 0 0
6 0 0 0"
{ echo 4097; i=0; while [ $i -lt 4097 ]; do echo "6 0 0 0"; i=$((i + 1)); done; } > "$tmp/big"
"$BPFVM" run --cbpf "$tmp/big" --pcap "$pcap" > "$tmp/out" 2>&1
if [ $? -eq 1 ] && grep -q 'at most 4096' "$tmp/out"; then echo "PASS refuses 4097 instructions"; else fail "refuses 4097 instructions" "no refusal"; fi
"$BPFVM" run --filter 'tcp port' --pcap "$pcap" > "$tmp/out" 2>&1
if [ $? -eq 1 ] && grep -q "syntax error" "$tmp/out"; then echo "PASS refuses a bad expression"; else fail "refuses a bad expression" "no libpcap message"; fi

# seccomp: getpid gets EPERM, kill with signal 9 is TRAP, everything else allowed
cat > "$tmp/policy" <<'EOF'
{ 0x20, 0, 0, 0x00000004 },
{ 0x15, 1, 0, 0xc000003e },
{ 0x06, 0, 0, 0x80000000 },
{ 0x20, 0, 0, 0x00000000 },
{ 0x15, 0, 1, 0x00000027 },
{ 0x06, 0, 0, 0x00050001 },
{ 0x15, 0, 3, 0x0000003e },
{ 0x20, 0, 0, 0x00000018 },
{ 0x15, 0, 1, 0x00000009 },
{ 0x06, 0, 0, 0x00030000 },
{ 0x06, 0, 0, 0x7fff0000 },
EOF
check() {
	"$BPFVM" seccomp check "$tmp/policy" --syscall "$1" > "$tmp/out" 2>&1
	if grep -q "^$2 " "$tmp/out"; then echo "PASS seccomp check $1"; else fail "seccomp check $1" "expected $2"; fi
}
check getpid "ERRNO(1)"
check kill,1,9 TRAP
check kill,1,15 ALLOW
check 39 "ERRNO(1)"
check read,0,0x7fffffffffffffff,-1 ALLOW
"$BPFVM" seccomp dump "$tmp/policy" > "$tmp/out" 2>&1
if grep -qE '^ +39  getpid +ERRNO\(1\)$' "$tmp/out" && grep -qE '^ +62  kill +ALLOW  \(depends on the arguments: TRAP ALLOW\)$' "$tmp/out" &&
   [ "$(grep -c ' ALLOW$' "$tmp/out")" -gt 300 ]; then
	echo "PASS seccomp dump"
else
	fail "seccomp dump" "getpid ERRNO(1), kill depending on its arguments, the rest ALLOW"
fi
printf '{ 0x28, 0, 0, 0 },\n{ 0x6, 0, 0, 0 },\n' > "$tmp/bad"
"$BPFVM" seccomp check "$tmp/bad" --syscall read > "$tmp/out" 2>&1
if [ $? -eq 1 ] && grep -q "instruction 0: opcode 0x28 is not allowed in a seccomp filter" "$tmp/out"; then
	echo "PASS seccomp refuses ldh"
else
	fail "seccomp refuses ldh" "no refusal at instruction 0"
fi
"$BPFVM" seccomp check "$tmp/policy" --syscall nosuchcall > "$tmp/out" 2>&1
if [ $? -eq 1 ] && grep -q "unknown x86-64 system call 'nosuchcall'" "$tmp/out"; then echo "PASS seccomp unknown call"; else fail "seccomp unknown call" "no message"; fi
exit $status
