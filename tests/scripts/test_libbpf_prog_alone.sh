#!/bin/sh
# Every program of every BPF object embedded in Debian's libbpf-tools,
# run alone as a libbpf user loads it with autoload (`bpfvm run --prog
# NAME`: its maps and tail-call targets only), on an empty context of its
# type's size: pt_regs for kprobes, bpf_perf_event_data for perf events,
# twelve arguments for raw tracepoints, the tracepoint's record (its size
# from tracefs) for tracepoints.  Each program must run, or be refused
# with a message naming the kernel-only thing it needs: a kernel-only map
# type or helper, a program type described by kernel BTF, a kernel
# function or symbol, or a field this kernel's BTF lacks (CO-RE); or
# refused for a map its tool sizes before load (max_entries 0 in the
# object, which the kernel refuses as it is too).
# Then `bpfvm run OBJECT` without --prog on an object where some programs
# need the kernel: it runs one that does not and names, on stderr, each
# program it left out and why.  Prints a line per program and the counts.
BUILD=${BUILD:-build}
BPFVM=${BPFVM:-$BUILD/bpfvm}
CC=${CC:-cc}
status=0

name=libbpf_prog_alone; . tests/scripts/libbpf_tools_objs.sh

# An empty context of n bytes.
ctx_of() {
	head -c "$1" /dev/zero > "$tmp/ctx"
}

# A tracepoint's record size: the end of its format's last field.
tp_size() {
	f=/sys/kernel/tracing/events/$1/format
	[ -r "$f" ] || f=/sys/kernel/debug/tracing/events/$1/format
	[ -r "$f" ] || { echo 4096; return; }
	sed -nE 's/.*offset:([0-9]+);[[:space:]]*size:([0-9]+);.*/\1 \2/p' "$f" |
		awk 'BEGIN { m = 8 } { if ($1 + $2 > m) m = $1 + $2 } END { print m }'
}

kernel_need='kernel-only|kernel BTF|kernel function|kernel symbol|not found in /sys/kernel/btf/vmlinux'
total=0 ran=0 needs=0 sized=0
for obj in "$tmp"/objs/*.o; do
	name=$(basename "$obj" .o)
	"$BPFVM" prog show "$obj" > "$tmp/show" 2>&1 || {
		echo "FAIL $name: bpfvm cannot open it: $(head -1 "$tmp/show")"
		status=1
		continue
	}
	# the sanitized build looks for memory errors: the first program of each object will do
	awk -v one="${SANITIZED:+1}" '/^prog / && !(one && n++) { print $3, $5, $7 }' \
		"$tmp/show" > "$tmp/progs"
	while read -r type prog section; do
		total=$((total + 1))
		case "$type" in
		kprobe) ctx_of 168 ;;
		perf_event) ctx_of 184 ;;
		tracepoint) ctx_of "$(tp_size "${section#*/}")" ;;
		*) ctx_of 96 ;;
		esac
		if "$BPFVM" run --prog "$prog" --ctx "$tmp/ctx" "$obj" > "$tmp/out" 2> "$tmp/err" </dev/null &&
		   grep -q '^retval ' "$tmp/out"; then
			ran=$((ran + 1))
			echo "PASS $name/$prog: runs alone ($type, $(head -1 "$tmp/out"))"
		elif grep -qE "$kernel_need" "$tmp/err"; then
			needs=$((needs + 1))
			echo "PASS $name/$prog: needs the kernel: $(grep -oE "map type [0-9]+ \(BPF_MAP_TYPE_[A-Z_]+\)|calls [a-z_]+#[0-9]+|programs of type [0-9]+|(kernel function|kernel symbol) '[^']*'|CO-RE relocation [a-z_]+ failed" "$tmp/err" | head -1)"
		elif grep -qE "uses map '[^']*', which could not be created: .*max_entries > 0" "$tmp/err"; then
			sized=$((sized + 1))
			echo "PASS $name/$prog: its tool sizes $(grep -oE "map '[^']*'" "$tmp/err" | head -1) before load (max_entries 0 in the object: the kernel refuses it as it is too)"
		else
			echo "FAIL $name/$prog: neither runs alone nor names a kernel-only need: $(head -2 "$tmp/err" | tr '\n' ' ')"
			status=1
		fi
	done < "$tmp/progs"
done
echo "# libbpf-tools programs run alone: $total; run $ran, need the kernel $needs, need their tool to size a map $sized"

# softirqs: its tp_btf programs need kernel BTF; the others run, and run says which it left out.
obj="$tmp/objs/softirqs_0.o"
if [ -f "$obj" ]; then
	ctx_of 96
	if "$BPFVM" run --ctx "$tmp/ctx" "$obj" > "$tmp/out" 2> "$tmp/err" &&
	   grep -q '^retval ' "$tmp/out" &&
	   [ "$(grep -c '^bpfvm: .*: left out softirq_[a-z]*_btf (tp_btf/softirq_[a-z]*): .*kernel BTF' "$tmp/err")" -eq 2 ] &&
	   [ "$(grep -c 'left out' "$tmp/err")" -eq 2 ]; then
		echo "PASS softirqs_run_whole: runs a program and names the two left out: $(head -1 "$tmp/err")"
	else
		echo "FAIL softirqs_run_whole: $(head -3 "$tmp/err" | tr '\n' ' ') / $(head -1 "$tmp/out")"
		status=1
	fi
fi
# opensnoop: every program runs, its exit programs' bpf_get_stack included (no task: an empty stack).
obj="$tmp/objs/opensnoop_0.o"
if [ -f "$obj" ]; then
	ctx_of 4096
	if "$BPFVM" run --ctx "$tmp/ctx" "$obj" > "$tmp/out" 2> "$tmp/err" &&
	   grep -q '^retval ' "$tmp/out" && ! grep -q 'left out' "$tmp/err"; then
		echo "PASS opensnoop_run_whole: runs with no program left out"
	else
		echo "FAIL opensnoop_run_whole: $(head -3 "$tmp/err" | tr '\n' ' ') / $(head -1 "$tmp/out")"
		status=1
	fi
fi
exit $status
