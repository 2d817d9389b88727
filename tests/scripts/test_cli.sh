#!/bin/sh
# The command line as a new user meets it: --help lists every option, and
# the man page (doc/bpfvm.1) and bash completion (completions/bpfvm) list
# every option --help lists; an option of the wrong form of `run`, a C
# source file, a --repeat too large, a short or empty --ctx each get one
# clear message; no message ends in "(no error)" or "Success"; and
# bpf_printk lines stream out of `run --repeat N` instead of piling up.
BUILD=${BUILD:-build}
BPFVM=${BPFVM:-$BUILD/bpfvm}
CLANG=${CLANG:-clang-19}
MAN=doc/bpfvm.1
COMPLETION=completions/bpfvm
status=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; status=1; }

# check NAME WANT-STATUS PATTERN -- ARGS: exit status and a stderr line matching PATTERN
check() {
	name=$1 want=$2 pat=$3; shift 4
	"$BPFVM" "$@" > "$tmp/out" 2> "$tmp/err"
	rc=$?
	if [ "$rc" -ne "$want" ]; then
		fail "$name" "exit $rc, expected $want: $(head -n 2 "$tmp/err" | tr '\n' '|')"
	elif ! grep -qE -- "$pat" "$tmp/err"; then
		fail "$name" "no message matching '$pat': $(head -n 2 "$tmp/err" | tr '\n' '|')"
	else
		pass "$name"
	fi
}

# ---- --help, the man page and the completion agree --------------------------------

commands=$("$BPFVM" --help | sed -n 's/^  \([a-z][a-z-]*\) .*/\1/p')
[ -n "$commands" ] || fail help_lists_commands "bpfvm --help lists no command"
if command -v groff > /dev/null 2>&1; then
	man_text=$(groff -man -Tutf8 -P-cbou "$MAN" 2> /dev/null | sed 's/‐/-/g; s/−/-/g')
else
	man_text=$(sed 's/\\-/-/g; s/\\f[BIR]//g' "$MAN")
fi
for c in $commands; do
	"$BPFVM" "$c" --help > "$tmp/help" 2>&1 || fail "help_$c" "'bpfvm $c --help' failed"
	# options in the usage lines, and the first word of each option line (not the prose)
	opts=$( (grep -E '^(usage: |       bpfvm )' "$tmp/help"; grep -E '^  -' "$tmp/help" |
		 awk '{ print $1 }') |
	       grep -oE -- '(^|[[ |])--?[a-z][a-z0-9-]*' | sed 's/^[[ |]//' | sort -u)
	missing_man="" missing_comp=""
	for o in $opts; do
		printf '%s\n' "$man_text" | grep -qE -- "(^|[^a-z-])$o([^a-z-]|\$)" ||
			missing_man="$missing_man $o"
		grep -qE -- "(^|[^a-z-])$o([^a-z-]|\$)" "$COMPLETION" || missing_comp="$missing_comp $o"
	done
	printf '%s\n' "$man_text" | grep -qE "^   $c\$" || missing_man="$missing_man (no section '$c')"
	grep -qE "(^|[ \"])$c([ \"]|\$)" "$COMPLETION" || missing_comp="$missing_comp (no command '$c')"
	if [ -n "$missing_man" ]; then fail "man_page_lists_$c" "missing:$missing_man"; else pass "man_page_lists_$c"; fi
	if [ -n "$missing_comp" ]; then fail "completion_lists_$c" "missing:$missing_comp"; else pass "completion_lists_$c"; fi
done

# --help lists every option the parsers take (their getopt tables).
for pair in run:tools/cmd_run.c run:tools/cmd_run_obj.c verify:tools/cmd_verify.c prog:tools/cmd_prog.c; do
	c=${pair%%:*} f=${pair#*:}
	"$BPFVM" "$c" --help > "$tmp/help" 2>&1
	missing=""
	# shellcheck disable=SC2013
	for o in $(grep -oE '\{ "[a-z][a-z-]*", (no|required|optional)_argument' "$f" |
		   sed 's/{ "\([a-z-]*\)".*/\1/'); do
		grep -qE -- "--$o([^a-z-]|\$)" "$tmp/help" || missing="$missing --$o"
	done
	if [ -n "$missing" ]; then fail "help_lists_options_of_$(basename "$f" .c)" "missing:$missing"
	else pass "help_lists_options_of_$(basename "$f" .c)"; fi
done
for o in --data --pcap --ctx --prog --set --dump-maps; do
	"$BPFVM" run --help | grep -qE -- "^  $o" || fail run_help_object_options "no line for $o"
done
pass run_help_object_options

if command -v groff > /dev/null 2>&1; then
	warn=$(groff -man -Tutf8 -ww -z "$MAN" 2>&1)
	if [ -n "$warn" ]; then fail man_page_renders "groff: $(echo "$warn" | head -n 3)"; else pass man_page_renders; fi
else
	echo "SKIP man_page_renders: groff is not installed"
fi
if command -v man > /dev/null 2>&1; then
	warn=$(MANWIDTH=80 man --warnings -l "$MAN" 2>&1 > /dev/null)
	if [ -n "$warn" ]; then fail man_l_renders "man -l: $(echo "$warn" | head -n 3)"; else pass man_l_renders; fi
else
	echo "SKIP man_l_renders: man is not installed"
fi
comp=$(bash -c ". ./$COMPLETION; COMP_WORDS=(bpfvm run --pc); COMP_CWORD=2; _bpfvm; echo \"\${COMPREPLY[*]}\"
		COMP_WORDS=(bpfvm disasm --syntax k); COMP_CWORD=3; _bpfvm; echo \"\${COMPREPLY[*]}\"
		COMP_WORDS=(bpfvm veri); COMP_CWORD=1; _bpfvm; echo \"\${COMPREPLY[*]}\"" 2>&1)
if [ "$comp" = "--pcap
kernel
verify" ]; then pass completion_completes; else fail completion_completes "got: $(echo "$comp" | tr '\n' '|')"; fi

# ---- make install puts them in place ----------------------------------------------

if make -s install DESTDIR="$tmp/inst" PREFIX=/usr BUILD="$BUILD" > "$tmp/inst.log" 2>&1 &&
   cmp -s "$tmp/inst/usr/share/man/man1/bpfvm.1" "$MAN" &&
   cmp -s "$tmp/inst/usr/share/bash-completion/completions/bpfvm" "$COMPLETION"; then
	pass install_man_and_completion
else
	fail install_man_and_completion "$(tail -n 2 "$tmp/inst.log" | tr '\n' '|')"
fi

# ---- messages ---------------------------------------------------------------------

printf 'r0 = 0\nexit\n' > "$tmp/prog.s"
check wrong_form_pcap 2 '^bpfvm run: --pcap needs an ELF object; .*prog.s is bytecode/assembly' -- \
	run --pcap x.pcap "$tmp/prog.s"
check wrong_form_dump_maps 2 '^bpfvm run: --dump-maps needs an ELF object' -- \
	run --dump-maps "$tmp/prog.s"
check repeat_too_large_bytecode 2 'too large: at most 18446744073709551615' -- \
	run --repeat 99999999999999999999 "$tmp/prog.s"
check repeat_not_a_number 2 "takes a positive number, not 'abc'" -- run --repeat abc "$tmp/prog.s"
check repeat_zero 2 "takes a positive number, not '0'" -- run --repeat 0 "$tmp/prog.s"

cat > "$tmp/prog.c" <<'EOF'
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
EOF
cp "$tmp/prog.c" "$tmp/prog.txt"
for cmd in run verify asm disasm "jit --dump"; do
	for f in prog.c prog.txt; do
		name="c_source_$(echo "$cmd" | cut -d' ' -f1)_${f#prog.}"
		# shellcheck disable=SC2086
		"$BPFVM" $cmd "$tmp/$f" > /dev/null 2> "$tmp/err"
		rc=$?
		if [ $rc -ne 1 ] || [ "$(wc -l < "$tmp/err")" -ne 1 ] ||
		   ! grep -q "$f looks like C source: compile it with clang -target bpf -O2 -c" "$tmp/err"; then
			fail "$name" "exit $rc: $(head -n 3 "$tmp/err" | tr '\n' '|')"
		else
			pass "$name"
		fi
	done
done

# Bad files of every kind to every command: no message ends in "(no error)" or "Success".
printf '!<arch>\n' > "$tmp/archive.a"
: > "$tmp/empty"
printf '\177ELF\002\001\001' > "$tmp/trunc.o"
head -c 100 /dev/zero > "$tmp/zeros.bin"
mkdir "$tmp/dir"
found=""
for f in archive.a empty trunc.o zeros.bin dir missing prog.c; do
	for cmd in run verify "prog show" "prog load" disasm "jit --dump" asm; do
		# shellcheck disable=SC2086
		"$BPFVM" $cmd "$tmp/$f" > /dev/null 2> "$tmp/err"
		if grep -qE '\(no error\)|Success$|: Success' "$tmp/err"; then
			found="$found [$cmd $f: $(head -n 1 "$tmp/err")]"
		fi
	done
done
if [ -n "$found" ]; then fail no_message_says_no_error "$found"; else pass no_message_says_no_error; fi

# bpf_printk from bytecode prints its line (it was dropped)
printf 'r1 = 0x216968\n*(u64 *)(r10 - 8) = r1\nr1 = r10\nr1 += -8\nr2 = 4\ncall 6\nr0 = 0\nexit\n' \
	> "$tmp/printk.s"
if "$BPFVM" run --license GPL --repeat 3 "$tmp/printk.s" > "$tmp/out" 2>&1 &&
   [ "$(grep -c 'bpf_trace_printk: hi!$' "$tmp/out")" -eq 3 ]; then
	pass bytecode_printk_lines
else
	fail bytecode_printk_lines "$(head -n 3 "$tmp/out" | tr '\n' '|')"
fi

# ---- objects: --repeat's limit, --ctx, streaming ------------------------------------

if ! command -v "$CLANG" > /dev/null 2>&1 || [ ! -f /usr/include/bpf/bpf_helpers.h ]; then
	echo "SKIP cli_objects: $CLANG or libbpf's headers (libbpf-dev) are missing"
	exit $status
fi
if ! sh examples/build.sh "$tmp" > "$tmp/build.log" 2>&1; then
	fail cli_objects "the examples do not compile: $(head -n 2 "$tmp/build.log" | tr '\n' '|')"
	exit 1
fi
# --prog completes the names of the programs of the object on the line
comp=$(bash -c ". ./$COMPLETION; COMP_WORDS=(\"$BPFVM\" trace --prog o \"$tmp/opensnoop.bpf.o\" -- ls)
		COMP_CWORD=3; _bpfvm; echo \"\${COMPREPLY[*]}\"" 2>&1)
if [ "$comp" = "openat_enter openat_exit" ]; then pass completion_prog_names
else fail completion_prog_names "got: $comp (want openat_enter openat_exit)"; fi
obj=$tmp/fork_detect.bpf.o
ctx=examples/data/fork_pid13.ctx
check repeat_too_large_object 2 'bpfvm run: --repeat 4294967296 is too large: at most 4294967295' -- \
	run --repeat 4294967296 --ctx $ctx "$obj"
check insn_limit_not_a_number_object 2 "--insn-limit takes a positive number, not 'x'" -- \
	run --insn-limit x --ctx $ctx "$obj"
check wrong_form_mem 2 '--mem, --mem-out and --license are for bytecode and assembly' -- \
	run --mem "$tmp/prog.s" "$obj"
: > "$tmp/empty.ctx"
check ctx_empty 1 'the context is empty' -- run --ctx "$tmp/empty.ctx" "$obj"
head -c 8 $ctx > "$tmp/short.ctx"
check ctx_short 1 'context of 8 bytes is shorter than the [0-9]+ bytes the tracepoint program reads' -- \
	run --ctx "$tmp/short.ctx" "$obj"
# xdp_md: data 0, data_end 60, data_meta, ingress_ifindex, rx_queue_index 0, egress_ifindex 1
printf '\0\0\0\0\074\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\001\0\0\0' > "$tmp/md.ctx"
head -c 60 /dev/zero > "$tmp/pkt"
check ctx_xdp_md_refused 1 'xdp_md: egress_ifindex is 1, must be 0' -- \
	run --ctx "$tmp/md.ctx" --data "$tmp/pkt" "$tmp/xdp_filter.bpf.o"

# Runs that each print a line: every line comes out, and the memory does not grow with them
# (200,000 lines kept would take 17 MB; under ASan its quarantine hides that: lines only).
n=200000
[ -n "$SANITIZED" ] && n=20000
/usr/bin/time -f '%M' -o "$tmp/rss1" "$BPFVM" run --repeat 1 --ctx $ctx "$obj" > /dev/null 2>&1
if /usr/bin/time -f '%M' -o "$tmp/rss" "$BPFVM" run --repeat $n --ctx $ctx "$obj" > "$tmp/out" 2> "$tmp/err"; then
	lines=$(grep -c 'bpf_trace_printk: fork detected' "$tmp/out")
	rss1=$(tail -n 1 "$tmp/rss1") rss=$(tail -n 1 "$tmp/rss")
	if [ "$lines" -ne $n ]; then
		fail printk_lines_stream "$lines of $n lines"
	elif [ -z "$SANITIZED" ] && [ "$rss" -gt $((rss1 + 4096)) ]; then
		fail printk_lines_stream "max RSS $rss KB for $n lines, $rss1 KB for one (kept in memory?)"
	else
		pass printk_lines_stream
	fi
else
	fail printk_lines_stream "exit $?: $(head -n 2 "$tmp/err" | tr '\n' '|')"
fi
if "$BPFVM" run --json --repeat 100000 --ctx $ctx "$obj" > "$tmp/out" 2> "$tmp/err"; then
	kept=$(grep -o 'bpf_trace_printk: fork detected' "$tmp/out" | wc -l)
	dropped=$(sed -n 's/.*"trace_dropped":\([0-9]*\).*/\1/p' "$tmp/out")
	if [ -n "$dropped" ] && [ $((kept + dropped)) -eq 100000 ] && [ "$kept" -gt 0 ]; then
		pass printk_json_bounded
	else
		fail printk_json_bounded "kept $kept, dropped '${dropped}'"
	fi
else
	fail printk_json_bounded "exit $?: $(head -n 2 "$tmp/err" | tr '\n' '|')"
fi
exit $status
